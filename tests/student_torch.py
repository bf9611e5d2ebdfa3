#!/usr/bin/python3
"""student_torch.py DIR: an independent PyTorch (float64, autograd) model of
the 2E1D student as engine/student.h defines it, for tests/test_student_grad.c.

The C test writes DIR/config.txt (key value lines), DIR/layout.txt (one line
per tensor: name ndim d0 d1 offset size), DIR/params.f32 (the flat parameter
buffer), DIR/x.f32 (B, T, n_bins), DIR/labels.i32 (B, T) and DIR/teacher.f32
(B, T, n_classes). Modes (config "mode"):
  grad   writes DIR/loss.txt ("loss focal kd"), DIR/grads.f64 (the gradient
         in the flat layout, zero padding) and DIR/logits.f64 (B, T, K);
  adamw  runs `steps` steps of torch.optim.AdamW with
         torch.nn.utils.clip_grad_norm_ on the same batch and writes the loss
         of every step (before its update) to DIR/losses.txt.
Exit status 77 when torch is missing (the C test then skips)."""
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    print("student_torch.py: %s" % e, file=sys.stderr)
    sys.exit(77)

torch.set_default_dtype(torch.float64)


def read_config(path):
    cfg = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                cfg[parts[0]] = parts[1]
    return cfg


def read_layout(path):
    out = []
    with open(path) as f:
        for line in f:
            name, ndim, d0, d1, off, size = line.split()
            ndim, d0, d1, off, size = int(ndim), int(d0), int(d1), int(off), int(size)
            dims = (d0,) if ndim == 1 else (d0, d1)
            out.append((name, dims, off, size))
    return out


def positional_encoding(n, dim):
    """PE[p, i] = sin(p / 10000^(2i/dim)) for even i, cos for odd i (raw index i)."""
    p = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(dim, dtype=torch.float64)[None, :]
    ang = p / torch.pow(torch.tensor(10000.0), 2.0 * i / dim)
    even = (torch.arange(dim) % 2 == 0)[None, :]
    return torch.where(even, torch.sin(ang), torch.cos(ang))


def band_bias(T, context, la, H, B, alibi):
    """(B*H, T, T) additive attention mask: -slope_h |i-j| inside the band
    i - context < j <= i + la, -inf outside (PyTorch orders batch-major)."""
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = (j > i - context) & (j <= i + la)
    dist = (i - j).abs().to(torch.float64)
    heads = []
    for h in range(H):
        slope = 2.0 ** (-8.0 * (h + 1) / H) if alibi else 0.0
        m = -slope * dist
        m = m.masked_fill(~allowed, float("-inf"))
        heads.append(m)
    bias = torch.stack(heads)  # (H, T, T)
    return bias.repeat(B, 1, 1)


class Student:
    def __init__(self, cfg, P):
        self.P = P
        self.d = int(cfg["n_bins"])
        self.K = int(cfg["n_classes"])
        self.G = int(cfg["n_groups"])
        self.Lf, self.Lt, self.Ld = int(cfg["layers_f"]), int(cfg["layers_t"]), int(cfg["layers_d"])
        self.Hf, self.Ht, self.Hd = int(cfg["heads_f"]), int(cfg["heads_t"]), int(cfg["heads_d"])
        self.context = int(cfg["context"])
        self.lookahead = int(cfg["lookahead"])
        self.alibi = int(cfg["alibi"])
        self.pos_scale_f = float(cfg["pos_scale_f"])
        self.mean = float(cfg["norm_mean"])
        self.std = float(cfg["norm_std"])
        if float(cfg["dropout"]) != 0.0:
            raise SystemExit("student_torch.py compares without dropout")

    def ln(self, x, pre):
        return F.layer_norm(x, (x.shape[-1],), self.P[pre + ".g"], self.P[pre + ".b"], eps=1e-5)

    def mha(self, q_in, kv_in, pre, H, mask):
        """q_in (N, L, E), kv_in (N, S, E) batch-first; PyTorch's own MHA."""
        E = q_in.shape[-1]
        q = q_in.transpose(0, 1)
        kv = kv_in.transpose(0, 1)
        out, _ = F.multi_head_attention_forward(
            q, kv, kv, E, H, self.P[pre + ".w_in"], self.P[pre + ".b_in"], None, None, False, 0.0,
            self.P[pre + ".w_out"], self.P[pre + ".b_out"], training=False, need_weights=False,
            attn_mask=mask)
        return out.transpose(0, 1)

    def ff(self, x, pre):
        P = self.P
        u = F.relu(self.ln(F.linear(x, P[pre + ".w1"], P[pre + ".b1"]), pre + ".ln1"))
        r = F.linear(u, P[pre + ".w2"], P[pre + ".b2"])
        return self.ln(x + P[pre + ".alpha"] * r, pre + ".ln2")

    def forward(self, x):
        P = self.P
        B, T, d = x.shape
        G, ef = self.G, d // self.G
        x = (x - self.mean) / self.std
        # frequency encoder: G tokens per frame
        U = x.reshape(B * T, G, ef) + self.pos_scale_f * positional_encoding(G, ef)
        for l in range(self.Lf):
            pre = "f.%d" % l
            U = self.ff(U + P[pre + ".attn_alpha"] * self.mha(U, U, pre + ".attn", self.Hf, None), pre + ".ff")
        yF = self.ln(F.linear(U.reshape(B, T, d), P["f.fc.w"], P["f.fc.b"]), "f.ln")
        # temporal encoder: banded time attention, lookahead only in layer 0
        X = x
        for l in range(self.Lt):
            pre = "t.%d" % l
            mask = band_bias(T, self.context, self.lookahead if l == 0 else 0, self.Ht, B, self.alibi)
            X = self.ff(X + P[pre + ".attn_alpha"] * self.mha(X, X, pre + ".attn", self.Ht, mask), pre + ".ff")
        yT = self.ln(F.linear(X, P["t.fc.w"], P["t.fc.b"]), "t.ln")
        Y = yF + yT
        mask = band_bias(T, self.context, 0, self.Hd, B, self.alibi)
        for l in range(self.Ld):
            pre = "d.%d" % l
            Y = self.ln(Y + P[pre + ".self_alpha"] * self.mha(Y, Y, pre + ".self", self.Hd, mask), "d.ln")
            Y = self.ln(Y + P[pre + ".cross_alpha"] * self.mha(Y, yT, pre + ".cross", self.Hd, mask), "d.ln")
            Y = self.ff(Y, pre + ".ff")
        return F.linear(Y, P["out.w"], P["out.b"])


def loss_fn(z, labels, teacher, cfg):
    """PAPER 1.5 over the frames with label >= 0 and, when KD is on, the
    KD-only frames (label -2: the KD term only): (loss, focal, kd)."""
    K = z.shape[-1]
    zf = z.reshape(-1, K)
    lab = labels.reshape(-1)
    gamma = float(cfg["focal_gamma"])
    alpha = float(cfg["kd_alpha"])
    Tk = float(cfg["kd_temperature"])
    has_teacher = int(cfg["has_teacher"])
    beta = float(cfg.get("kd_only_weight", 0.0)) or alpha  # the KD-only frames' weight
    labelled = lab >= 0
    kd_only = (lab == -2) & bool(has_teacher and beta != 0.0)
    used = labelled | kd_only
    N = int(used.sum())
    zv = zf[labelled]
    yv = lab[labelled]
    logp = F.log_softmax(zv, dim=-1)
    lpy = logp.gather(1, yv[:, None])[:, 0]
    if gamma == 0.0:
        fl = -lpy
    else:
        fl = -((1.0 - lpy.exp()) ** gamma) * lpy
    focal = fl.sum() / N
    kd = torch.zeros(())
    if has_teacher:
        a = teacher.reshape(-1, K)[used]
        q = F.softmax(a / Tk, dim=-1)
        log_s = F.log_softmax(zf[used] / Tk, dim=-1)
        kl = F.kl_div(log_s, q, reduction="none").sum(-1)
        w = torch.ones_like(kl)
        if int(cfg["selective"]):
            lo, hi = float(cfg["conf_lo"]), float(cfg["conf_hi"])
            c = q.max(dim=-1).values
            w = torch.where(c < lo, torch.zeros_like(c),
                            torch.where(c > hi, 1.0 - 0.8 * (c - hi) / (1.0 - hi), torch.ones_like(c)))
            w = w.clamp(0.0, 1.0)
        wkl = w.detach() * kl
        kd = Tk * Tk * wkl.sum() / N
        kd_only_term = Tk * Tk * wkl[kd_only[used]].sum() / N
        loss = alpha * (kd - kd_only_term) + beta * kd_only_term + (1.0 - alpha) * focal
        return loss, focal, kd
    loss = (1.0 - alpha) * focal
    return loss, focal, kd


def main(d):
    cfg = read_config(os.path.join(d, "config.txt"))
    layout = read_layout(os.path.join(d, "layout.txt"))
    flat = np.fromfile(os.path.join(d, "params.f32"), dtype=np.float32).astype(np.float64)
    B, T = int(cfg["B"]), int(cfg["T"])
    nb, K = int(cfg["n_bins"]), int(cfg["n_classes"])
    x = torch.tensor(np.fromfile(os.path.join(d, "x.f32"), dtype=np.float32).astype(np.float64)).reshape(B, T, nb)
    labels = torch.tensor(np.fromfile(os.path.join(d, "labels.i32"), dtype=np.int32).astype(np.int64)).reshape(B, T)
    teacher = torch.tensor(np.fromfile(os.path.join(d, "teacher.f32"), dtype=np.float32).astype(np.float64)).reshape(
        B, T, K)
    P = {}
    plist = []
    for name, dims, off, size in layout:
        t = torch.tensor(flat[off:off + size].reshape(dims), requires_grad=True)
        P[name] = t
        plist.append(t)
    model = Student(cfg, P)
    mode = cfg["mode"]
    if mode == "grad":
        z = model.forward(x)
        loss, focal, kd = loss_fn(z, labels, teacher, cfg)
        loss.backward()
        grads = np.zeros(flat.shape[0], dtype=np.float64)
        for name, dims, off, size in layout:
            g = P[name].grad
            if g is not None:
                grads[off:off + size] = g.detach().numpy().reshape(-1)
        grads.tofile(os.path.join(d, "grads.f64"))
        z.detach().numpy().astype(np.float64).tofile(os.path.join(d, "logits.f64"))
        with open(os.path.join(d, "loss.txt"), "w") as f:
            f.write("%.17g %.17g %.17g\n" % (loss.item(), focal.item(), kd.item()))
    elif mode == "adamw":
        opt = torch.optim.AdamW(plist, lr=float(cfg["lr"]), betas=(float(cfg["beta1"]), float(cfg["beta2"])),
                                eps=float(cfg["eps"]), weight_decay=float(cfg["weight_decay"]))
        losses = []
        for _ in range(int(cfg["steps"])):
            opt.zero_grad()
            loss, _, _ = loss_fn(model.forward(x), labels, teacher, cfg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(plist, float(cfg["clip"]))
            opt.step()
            losses.append(loss.item())
        with open(os.path.join(d, "losses.txt"), "w") as f:
            for v in losses:
                f.write("%.17g\n" % v)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
