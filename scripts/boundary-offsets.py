#!/usr/bin/env python3
"""boundary-offsets.py COLLECTION EVAL_DIR...: where a model puts its chord changes
against the reference's. EVAL_DIR is what scripts/eval-model.sh leaves
(work/eval/NAME-SPLIT, with ref/COLLECTION/*.lab and est/COLLECTION/*.lab).

For every chord change of the reference (the start of every segment but the
first) it takes the nearest change of the estimate and prints, per model, the
share of reference changes whose nearest estimated change lies in each band of
signed offsets (negative: the estimate changes early), the share with none
within 600 ms, and the mean and median offset of those within 300 ms. A model
that changes chords late shows a positive mean and more weight right of 0.
Standard library only."""
import bisect
import glob
import os
import statistics
import sys

from labfile import read_lab

EDGES = [-0.6, -0.3, -0.15, -0.075, -0.025, 0.025, 0.075, 0.15, 0.3, 0.6]


def changes(segments):
    """The times where the chord changes: starts of segments whose label differs
    from the one before (N counts as a label)."""
    return [s[0] for prev, s in zip(segments, segments[1:]) if s[2] != prev[2]]


def offsets(eval_dir, collection):
    near, missing = [], 0
    for ref in sorted(glob.glob(os.path.join(eval_dir, "ref", collection, "*.lab"))):
        est = os.path.join(eval_dir, "est", collection, os.path.basename(ref))
        estimated = changes(read_lab(est))
        for t in changes(read_lab(ref)):
            i = bisect.bisect_left(estimated, t)
            candidates = [estimated[k] - t for k in (i - 1, i) if 0 <= k < len(estimated)]
            d = min(candidates, key=abs) if candidates else None
            if d is None or abs(d) >= EDGES[-1]:
                missing += 1
            else:
                near.append(d)
    return near, missing


def main(args):
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    collection = args[0]
    bands = ["%+d..%+d" % (1000 * a, 1000 * b) for a, b in zip(EDGES, EDGES[1:])]
    print("| model (%s) | changes | %s | none within 600 ms | mean / median within 300 ms |" % (
        collection, " | ".join(bands + [])))
    print("|---" * (len(bands) + 4) + "|")
    for eval_dir in args[1:]:
        near, missing = offsets(eval_dir, collection)
        total = len(near) + missing
        if total == 0:
            print("boundary-offsets: no reference changes under %s" % eval_dir, file=sys.stderr)
            return 1
        counts = [sum(1 for d in near if a <= d < b) for a, b in zip(EDGES, EDGES[1:])]
        close = [d for d in near if abs(d) < 0.3]
        print("| %s | %d | %s | %.1f %% | %+.1f / %+.1f ms |" % (
            os.path.basename(eval_dir.rstrip("/")), total,
            " | ".join("%.1f %%" % (100.0 * c / total) for c in counts), 100.0 * missing / total,
            1000 * statistics.mean(close), 1000 * statistics.median(close)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
