#!/usr/bin/env python3
"""grid-ceiling.py REF_DIR OUT_DIR HOP: what a frame grid alone costs.

Samples every reference .lab of REF_DIR at frame centres k * HOP seconds and
writes it back as segments [(k - 1/2) HOP, (k + 1/2) HOP) (the student's frame
convention, engine/recognizer.c) into OUT_DIR: a perfect model on that grid.
`chordlet eval REF_DIR OUT_DIR` then gives the ceiling of the grid
(docs/RESULTS.md 3.7: 20 ms against 60 ms frames). Standard library only."""
import os
import sys

from labfile import read_lab


def on_grid(segs, hop):
    end = segs[-1][1]
    out, i, k = [], 0, 0
    while k * hop < end:
        t = k * hop
        while i < len(segs) - 1 and segs[i][1] <= t:
            i += 1
        label = segs[i][2]
        a, b = max(0.0, (k - 0.5) * hop), min(end, (k + 0.5) * hop)
        if out and out[-1][2] == label:
            out[-1][1] = b
        else:
            out.append([a, b, label])
        k += 1
    return out


def main(args):
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst, hop = args[0], args[1], float(args[2])
    if not hop > 0:
        print("grid-ceiling.py: HOP must be positive", file=sys.stderr)
        return 2
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        if not name.endswith(".lab"):
            continue
        segs = read_lab(os.path.join(src, name))
        if not segs:
            continue
        tmp = os.path.join(dst, name + ".tmp")
        with open(tmp, "w") as o:
            for a, b, label in on_grid(segs, hop):
                o.write("%.6f\t%.6f\t%s\n" % (a, b, label))
        os.replace(tmp, os.path.join(dst, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
