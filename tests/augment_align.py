#!/usr/bin/env python3
"""augment_align.py: a detuned variant's targets are the clean song's, time-scaled.

Usage: augment_align.py VARIANT.chordlet SCALED.chordlet PSEUDO.chordlet

  VARIANT  a feature cache of `chordlet-train features --augment detune=...`
           (labels, p170; augment.time_scale in its metadata);
  SCALED   the feature cache of a silent file as long as the variant, beside a
           .lab whose times are the song's .lab times times the scale;
  PSEUDO   the clean song's pseudo-label cache (p170 at the teacher's frames).

Checks that the variant's frame labels equal SCALED's, frame for frame, and
that its p170 is the box average (engine/align.h) of the teacher's frames
placed at the scaled times: frame k centred at k * frame_seconds * scale.
Reads the .chordlet format (engine/modelfile.h) with the standard library.
Exit 0 when both hold.
"""
import struct
import sys


def read_cache(path):
    data = open(path, "rb").read()
    if data[:4] != b"CHLT":
        sys.exit(f"{path}: not a .chordlet file")
    n_meta, n_tensors = struct.unpack_from("<II", data, 12)
    meta_off, table_off, blob_off = struct.unpack_from("<QQQ", data, 24)
    meta, at = {}, meta_off
    for _ in range(n_meta):
        (klen,) = struct.unpack_from("<H", data, at)
        key = data[at + 2:at + 2 + klen].decode()
        at += 2 + klen
        kind, _, count = struct.unpack_from("<BBI", data, at)
        at += 6
        if kind == 1:
            meta[key] = struct.unpack_from("<q", data, at)[0]
            at += 8
        elif kind == 2:
            meta[key] = struct.unpack_from("<d", data, at)[0]
            at += 8
        elif kind == 3:
            meta[key] = data[at:at + count].decode()
            at += count
        else:
            at += 4 * count
    tensors, at = {}, table_off
    for _ in range(n_tensors):
        (nlen,) = struct.unpack_from("<H", data, at)
        name = data[at + 2:at + 2 + nlen].decode()
        at += 2 + nlen
        ndim, _ = struct.unpack_from("<BB", data, at)
        dims = struct.unpack_from(f"<{ndim}I", data, at + 2)
        at += 2 + 4 * ndim
        off, size = struct.unpack_from("<QQ", data, at)
        at += 16
        tensors[name] = (dims, struct.unpack_from(f"<{size // 4}f", data, blob_off + off))
    return meta, tensors


def box_average(src, T_src, C, src_hop, centres, width):
    """engine/align.c's rule: overlap-weighted mean, nearest frame if none."""
    out = []
    for c in centres:
        lo, hi = c - width / 2, c + width / 2
        k0 = max(0, int((lo + src_hop / 2) // src_hop) - 1)
        row, total = [0.0] * C, 0.0
        k = k0
        while k < T_src and k * src_hop - src_hop / 2 < hi:
            w = min(hi, k * src_hop + src_hop / 2) - max(lo, k * src_hop - src_hop / 2)
            if w > 0:
                total += w
                for j in range(C):
                    row[j] += w * src[k * C + j]
            k += 1
        if total > 0:
            row = [v / total for v in row]
        else:
            k = min(T_src - 1, max(0, round(c / src_hop)))
            row = list(src[k * C:(k + 1) * C])
        out.append(row)
    return out


def main():
    vmeta, vt = read_cache(sys.argv[1])
    _, st = read_cache(sys.argv[2])
    pmeta, pt = read_cache(sys.argv[3])
    scale = vmeta["augment.time_scale"]
    hop = vmeta["stream.hop_seconds"]
    failures = 0
    (T,), labels = vt["labels"]
    (Ts,), scaled = st["labels"]
    if T != Ts or labels != scaled:
        diff = [j for j in range(min(T, Ts)) if labels[j] != scaled[j]]
        print(f"labels differ: {T} vs {Ts} frames, {len(diff)} frames differ (first {diff[:5]})")
        failures += 1
    else:
        print(f"labels: {T} frames equal the time-scaled .lab's (scale {scale:.9f})")
    (Tp, C), teacher = pt["p170"]
    expected = box_average(teacher, Tp, C, pmeta["teacher.frame_seconds"] * scale, [j * hop for j in range(T)], hop)
    (_, _), p170 = vt["p170"]
    worst = max(abs(p170[j * C + c] - expected[j][c]) for j in range(T) for c in range(C))
    if worst > 1e-5:
        print(f"p170 is not the teacher's frames at the scaled times: worst difference {worst:.3g}")
        failures += 1
    else:
        print(f"p170: the teacher's frames at the scaled times (worst difference {worst:.2g})")
    sys.exit(1 if failures else 0)


main()
