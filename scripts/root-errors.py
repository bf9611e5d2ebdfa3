#!/usr/bin/env python3
"""root-errors.py COLLECTION EVAL_DIR_A EVAL_DIR_B: where two models disagree on
the root, and how far from a chord change. EVAL_DIRs are what
scripts/eval-model.sh leaves (work/eval/NAME-SPLIT) for the same songs.

Over every reference segment with a root (N and X left out), it measures the
time where one model names the reference's root and the other does not, as a
share of all that time, split by what the wrong model says (the previous
reference chord's root, the next one's, or another) and by the distance to the
nearest reference chord change (under 0.5 s, 0.5-1.5 s, further). The times
are exact: each segment is cut where either estimate changes and where the
distance bands begin, so an error of a few milliseconds counts for what it
lasts (a fixed grid of points would miss errors shorter than its spacing, and
favour a model whose lateness falls between them). A model whose extra errors
sit within 0.5 s of the changes and name the previous chord is late at
changes, not deaf to the chords.
Standard library only."""
import bisect
import glob
import os
import sys

from labfile import read_lab

BANDS = (0.5, 1.5)  # seconds from the nearest reference change
NOTES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def root(label):
    """Pitch class of a Harte label's root, None for N and X."""
    if label in ("N", "X"):
        return None
    name = label.split(":")[0].split("/")[0]
    pc = NOTES[name[0]]
    for accidental in name[1:]:
        pc += 1 if accidental == "#" else -1 if accidental == "b" else 0
    return pc % 12


def root_at(rows, ends, t):
    i = bisect.bisect_right(ends, t)
    return root(rows[i][2]) if i < len(rows) and rows[i][0] <= t else None


def cuts(start, end, ests):
    """The times in (start, end) where an estimate changes or a distance band
    of the segment [start, end] begins, in order, with start and end."""
    times = {start, end}
    for d in BANDS:
        times.update((start + d, end - d))
    for rows in ests:
        for row in rows:
            times.update((row[0], row[1]))
    return sorted(t for t in times if start <= t <= end)


def main(args):
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    collection, dir_a, dir_b = args
    names = [os.path.basename(d.rstrip("/")) for d in (dir_a, dir_b)]
    counts, total = {}, 0.0
    for ref_path in sorted(glob.glob(os.path.join(dir_a, "ref", collection, "*.lab"))):
        song = os.path.basename(ref_path)
        ref = read_lab(ref_path)
        ests = [read_lab(os.path.join(d, "est", collection, song)) for d in (dir_a, dir_b)]
        est_ends = [[r[1] for r in e] for e in ests]
        for i, (start, end, label) in enumerate(ref):
            r = root(label)
            if r is None or end <= start:
                continue
            prev_root = root(ref[i - 1][2]) if i > 0 else None
            next_root = root(ref[i + 1][2]) if i + 1 < len(ref) else None
            total += end - start
            edges = cuts(start, end, ests)
            for a, b in zip(edges, edges[1:]):
                if b <= a:
                    continue
                t = (a + b) / 2  # every piece is one state: judge it at its middle
                got = [root_at(e, ends, t) for e, ends in zip(ests, est_ends)]
                for me, other in ((0, 1), (1, 0)):
                    if got[me] == r and got[other] != r:
                        said = got[other]
                        kind = ("previous chord" if said is not None and said == prev_root else
                                "next chord" if said is not None and said == next_root else "other")
                        gap = min(t - start, end - t)
                        where = "< 0.5 s" if gap < BANDS[0] else "0.5-1.5 s" if gap < BANDS[1] else ">= 1.5 s"
                        key = (me, kind, where)
                        counts[key] = counts.get(key, 0.0) + (b - a)
    if total == 0:
        print("root-errors: no reference segments with a root under %s" % dir_a, file=sys.stderr)
        return 1
    print("%.1f s of %s with a root, timed exactly" % (total, collection))
    print("| right: | wrong, saying | < 0.5 s from a change | 0.5-1.5 s | >= 1.5 s | all |")
    print("|---|---|---|---|---|---|")
    for me in (0, 1):
        for kind in ("previous chord", "next chord", "other"):
            row = [counts.get((me, kind, w), 0) for w in ("< 0.5 s", "0.5-1.5 s", ">= 1.5 s")]
            print("| %s | %s: %s | %s | %.2f %% |" % (
                names[me], names[1 - me], kind, " | ".join("%.2f %%" % (100.0 * c / total) for c in row),
                100.0 * sum(row) / total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
