#!/usr/bin/python3
"""torch_student.py: the PyTorch baseline of bench/bench_trainer.c: the 2E1D
student of engine/student.h in PyTorch float32 (the model of
tests/student_torch.py, float32, with dropout), trained as chordlet-train
stage 2 trains it: focal loss (gamma 2) + selective KD (alpha 0.3, T 3,
conf 0.1..0.9) against random teacher logits, clip_grad_norm_(1.0) and
torch.optim.AdamW(lr=3e-4, weight_decay=1e-5).

Dropout (F.dropout, training mode, --dropout) sits where student.h puts it:
inside every FF after the ReLU and after w2, before f.fc and t.fc, on the
decoder's attention outputs, and before out.w. Band attention uses a dense
(B*H, T, T) additive mask (ALiBi inside the band, -inf outside), built once
before timing: the standard PyTorch way.

Input: random features in [-11.5, 2] (the range of ln(|C| + 1e-5)), random
labels, random teacher logits peaked on one class. One warm-up step, then
--steps timed steps (forward, loss, backward, clip, AdamW, zero_grad).
stdout: `frames_per_second <median over the steps>`, `ms_per_step <median>`
`torch_version <version>` and `cpu_per_wall <CPU seconds per wall second over
the timed steps>`;
details on stderr. Exit status 77 with `skipped <reason>` on stdout when
torch is missing."""
import argparse
import math
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    print("skipped %s" % e)
    sys.exit(77)

# student_config_default() (engine/student_params.c)
CFG = dict(n_bins=144, n_classes=170, n_groups=2, layers_f=3, layers_t=4, layers_d=3, heads_f=2, heads_t=4,
           heads_d=4, ff_mult=4, context=128, lookahead=1, alibi=1, pos_scale_f=0.01, norm_mean=0.0, norm_std=1.0)
LOSS = dict(focal_gamma=2.0, kd_alpha=0.3, kd_temperature=3.0, selective=1, conf_lo=0.1, conf_hi=0.9)


def positional_encoding(n, dim):
    """PE[p, i] = sin(p / 10000^(2i/dim)) for even i, cos for odd i (raw index i)."""
    p = torch.arange(n, dtype=torch.float32)[:, None]
    i = torch.arange(dim, dtype=torch.float32)[None, :]
    ang = p / torch.pow(torch.tensor(10000.0), 2.0 * i / dim)
    even = (torch.arange(dim) % 2 == 0)[None, :]
    return torch.where(even, torch.sin(ang), torch.cos(ang))


def band_bias(T, context, la, H, B, alibi):
    """(B*H, T, T) additive mask: -slope_h |i-j| inside i - context < j <= i + la, -inf outside."""
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = (j > i - context) & (j <= i + la)
    dist = (i - j).abs().to(torch.float32)
    heads = []
    for h in range(H):
        slope = 2.0 ** (-8.0 * (h + 1) / H) if alibi else 0.0
        heads.append((-slope * dist).masked_fill(~allowed, float("-inf")))
    return torch.stack(heads).repeat(B, 1, 1).contiguous()


def make_params(c, seed):
    """nn.Parameter tensors by name, the layout of student.h, PyTorch-style init
    (ReZero alphas 0, as student_init)."""
    g = torch.Generator().manual_seed(seed)
    P = {}

    def uniform(shape, bound):
        return (torch.rand(shape, generator=g) * 2 - 1) * bound

    def add(name, t):
        P[name] = torch.nn.Parameter(t.float().contiguous())

    def attn(pre, w):
        add(pre + ".w_in", uniform((3 * w, w), math.sqrt(6.0 / (w + 3 * w))))
        add(pre + ".b_in", torch.zeros(3 * w))
        add(pre + ".w_out", uniform((w, w), 1.0 / math.sqrt(w)))
        add(pre + ".b_out", torch.zeros(w))

    def ff(pre, w):
        h = c["ff_mult"] * w
        add(pre + ".w1", uniform((h, w), 1.0 / math.sqrt(w)))
        add(pre + ".b1", uniform((h,), 1.0 / math.sqrt(w)))
        add(pre + ".ln1.g", torch.ones(h))
        add(pre + ".ln1.b", torch.zeros(h))
        add(pre + ".w2", uniform((w, h), 1.0 / math.sqrt(h)))
        add(pre + ".b2", uniform((w,), 1.0 / math.sqrt(h)))
        add(pre + ".ln2.g", torch.ones(w))
        add(pre + ".ln2.b", torch.zeros(w))
        add(pre + ".alpha", torch.zeros(1))

    def head(pre, d):
        add(pre + ".fc.w", uniform((d, d), 1.0 / math.sqrt(d)))
        add(pre + ".fc.b", uniform((d,), 1.0 / math.sqrt(d)))
        add(pre + ".ln.g", torch.ones(d))
        add(pre + ".ln.b", torch.zeros(d))

    d, K = c["n_bins"], c["n_classes"]
    ef = d // c["n_groups"]
    for l in range(c["layers_f"]):
        attn("f.%d.attn" % l, ef)
        add("f.%d.attn_alpha" % l, torch.zeros(1))
        ff("f.%d.ff" % l, ef)
    head("f", d)
    for l in range(c["layers_t"]):
        attn("t.%d.attn" % l, d)
        add("t.%d.attn_alpha" % l, torch.zeros(1))
        ff("t.%d.ff" % l, d)
    head("t", d)
    for l in range(c["layers_d"]):
        attn("d.%d.self" % l, d)
        add("d.%d.self_alpha" % l, torch.zeros(1))
        attn("d.%d.cross" % l, d)
        add("d.%d.cross_alpha" % l, torch.zeros(1))
        ff("d.%d.ff" % l, d)
    add("d.ln.g", torch.ones(d))
    add("d.ln.b", torch.zeros(d))
    add("out.w", uniform((K, d), 1.0 / math.sqrt(d)))
    add("out.b", uniform((K,), 1.0 / math.sqrt(d)))
    return P


class Student:
    def __init__(self, c, P, p_drop, B, T):
        self.c, self.P, self.p = c, P, p_drop
        self.d, self.G = c["n_bins"], c["n_groups"]
        self.pe = c["pos_scale_f"] * positional_encoding(self.G, self.d // self.G)
        # the band masks, built once (they depend only on B, T and the config)
        self.mask_t0 = band_bias(T, c["context"], c["lookahead"], c["heads_t"], B, c["alibi"])
        self.mask_t = band_bias(T, c["context"], 0, c["heads_t"], B, c["alibi"])
        self.mask_d = band_bias(T, c["context"], 0, c["heads_d"], B, c["alibi"])

    def drop(self, x):
        return F.dropout(x, self.p, training=True) if self.p > 0 else x

    def ln(self, x, pre):
        return F.layer_norm(x, (x.shape[-1],), self.P[pre + ".g"], self.P[pre + ".b"], eps=1e-5)

    def mha(self, q_in, kv_in, pre, H, mask):
        """q_in (N, L, E), kv_in (N, S, E) batch-first; PyTorch's own MHA."""
        E = q_in.shape[-1]
        q = q_in.transpose(0, 1)
        kv = kv_in.transpose(0, 1)
        out, _ = F.multi_head_attention_forward(
            q, kv, kv, E, H, self.P[pre + ".w_in"], self.P[pre + ".b_in"], None, None, False, 0.0,
            self.P[pre + ".w_out"], self.P[pre + ".b_out"], training=True, need_weights=False, attn_mask=mask)
        return out.transpose(0, 1)

    def ff(self, x, pre):
        P = self.P
        u = self.drop(F.relu(self.ln(F.linear(x, P[pre + ".w1"], P[pre + ".b1"]), pre + ".ln1")))
        r = self.drop(F.linear(u, P[pre + ".w2"], P[pre + ".b2"]))
        return self.ln(x + P[pre + ".alpha"] * r, pre + ".ln2")

    def head(self, x, pre):
        return self.ln(F.linear(self.drop(x), self.P[pre + ".fc.w"], self.P[pre + ".fc.b"]), pre + ".ln")

    def forward(self, x):
        P, c = self.P, self.c
        B, T, d = x.shape
        G, ef = self.G, d // self.G
        x = (x - c["norm_mean"]) / c["norm_std"]
        U = x.reshape(B * T, G, ef) + self.pe
        for l in range(c["layers_f"]):
            pre = "f.%d" % l
            U = self.ff(U + P[pre + ".attn_alpha"] * self.mha(U, U, pre + ".attn", c["heads_f"], None), pre + ".ff")
        yF = self.head(U.reshape(B, T, d), "f")
        X = x
        for l in range(c["layers_t"]):
            pre = "t.%d" % l
            mask = self.mask_t0 if l == 0 else self.mask_t
            X = self.ff(X + P[pre + ".attn_alpha"] * self.mha(X, X, pre + ".attn", c["heads_t"], mask), pre + ".ff")
        yT = self.head(X, "t")
        Y = yF + yT
        for l in range(c["layers_d"]):
            pre = "d.%d" % l
            Y = self.ln(Y + P[pre + ".self_alpha"] * self.drop(self.mha(Y, Y, pre + ".self", c["heads_d"], self.mask_d)),
                        "d.ln")
            Y = self.ln(Y + P[pre + ".cross_alpha"] * self.drop(self.mha(Y, yT, pre + ".cross", c["heads_d"],
                                                                          self.mask_d)), "d.ln")
            Y = self.ff(Y, pre + ".ff")
        return F.linear(self.drop(Y), P["out.w"], P["out.b"])


def loss_fn(z, labels, teacher, o):
    """PAPER 1.5 over the frames with label >= 0 (tests/student_torch.py's loss_fn)."""
    K = z.shape[-1]
    zf = z.reshape(-1, K)
    lab = labels.reshape(-1)
    valid = lab >= 0
    N = int(valid.sum())
    zv, yv = zf[valid], lab[valid]
    gamma, alpha, Tk = o["focal_gamma"], o["kd_alpha"], o["kd_temperature"]
    logp = F.log_softmax(zv, dim=-1)
    lpy = logp.gather(1, yv[:, None])[:, 0]
    fl = -lpy if gamma == 0.0 else -((1.0 - lpy.exp()) ** gamma) * lpy
    focal = fl.sum() / N
    kd = torch.zeros(())
    if alpha > 0:
        a = teacher.reshape(-1, K)[valid]
        q = F.softmax(a / Tk, dim=-1)
        log_s = F.log_softmax(zv / Tk, dim=-1)
        kl = F.kl_div(log_s, q, reduction="none").sum(-1)
        w = torch.ones_like(kl)
        if o["selective"]:
            lo, hi = o["conf_lo"], o["conf_hi"]
            cmax = q.max(dim=-1).values
            w = torch.where(cmax < lo, torch.zeros_like(cmax),
                            torch.where(cmax > hi, 1.0 - 0.8 * (cmax - hi) / (1.0 - hi), torch.ones_like(cmax)))
            w = w.clamp(0.0, 1.0)
        kd = Tk * Tk * (w.detach() * kl).sum() / N
    return alpha * kd + (1.0 - alpha) * focal


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--frames", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    B, T, d, K = a.batch, a.frames, CFG["n_bins"], CFG["n_classes"]
    P = make_params(CFG, a.seed)
    plist = list(P.values())
    model = Student(CFG, P, a.dropout, B, T)
    x = torch.rand(B, T, d) * 13.5 - 11.5
    labels = torch.randint(0, K, (B, T))
    teacher = torch.randn(B, T, K) * 2.0
    teacher.scatter_(2, torch.randint(0, K, (B, T, 1)), 15.0)
    opt = torch.optim.AdamW(plist, lr=3e-4, weight_decay=1e-5)

    def step():
        loss = loss_fn(model.forward(x), labels, teacher, LOSS)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(plist, 1.0)
        opt.step()
        opt.zero_grad()
        return loss.item()

    t0 = time.perf_counter()
    step()
    print("torch_student.py: torch %s, %d threads, dropout %g, warm-up step %.0f ms" %
          (torch.__version__, torch.get_num_threads(), a.dropout, (time.perf_counter() - t0) * 1e3), file=sys.stderr)
    times = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for k in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
        print("torch_student.py: step %d: %.0f ms, loss %.4f" % (k + 1, times[-1] * 1e3, loss), file=sys.stderr)
    cores = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    times.sort()
    med = times[len(times) // 2]
    print("torch_version %s" % torch.__version__)
    print("cpu_per_wall %.3f" % cores)
    print("frames_per_second %.1f" % (B * T / med))
    print("ms_per_step %.2f" % (med * 1e3))


if __name__ == "__main__":
    main()
