#!/usr/bin/env python3
"""results-table.py NAME=REPORT.json ...: markdown tables for docs/RESULTS.md from
`chordlet eval --json` reports (scripts/eval-model.sh writes them as
work/eval/NAME-SPLIT/all.json): the seven metrics and avg7 per model, then the
chord recall (root and quality right) per quality. Standard library only."""
import json
import sys

METRICS = ["root", "thirds", "triads", "sevenths", "tetrads", "majmin", "mirex"]


def main(args):
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    rows = []
    for a in args:
        name, _, path = a.partition("=")
        with open(path) as f:
            rows.append((name, json.load(f)))
    print("| model | " + " | ".join(METRICS) + " | avg7 |")
    print("|---" * (len(METRICS) + 2) + "|")
    for name, d in rows:
        s = d["total"]["scores"]
        print("| %s | %s | **%.2f** |" % (name, " | ".join("%.2f" % (100 * s[m]) for m in METRICS),
                                            100 * d["total"]["avg7"]))
    print()
    groups = [g["group"] for g in rows[0][1]["per_quality"]]
    print("| quality (seconds) | " + " | ".join(n for n, _ in rows) + " |")
    print("|---" * (len(rows) + 1) + "|")
    for g in groups:
        cells, secs = [], 0
        for _, d in rows:
            q = {x["group"]: x for x in d["per_quality"]}.get(g)
            # a group with no reference time in one report has no recall there
            cells.append("%.1f" % (100 * q["chord_recall"]) if q and q["chord_recall"] is not None else "-")
            secs = q["seconds"] if q else secs
        print("| %s (%.0f) | %s |" % (g, secs, " | ".join(cells)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
