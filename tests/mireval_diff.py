#!/usr/bin/python3
"""Randomized differential test: `chordlet eval` against mir_eval.chord.evaluate.

Usage:
    /usr/bin/python3 tests/mireval_diff.py CHORDLET_BINARY [--pairs N] [--seed S] [--keep DIR]

Needs mir_eval (Debian: python3-mir-eval 0.7) and numpy. Use /usr/bin/python3,
not a pyenv interpreter that lacks them.

What it does:
  1. Generates N seeded random (reference, estimate) pairs of .lab files into
     REF/ and EST/ folders with matching names. Times are written with repr(),
     so Python and C parse the same doubles.
  2. Scores every pair with mir_eval (loading the written files with
     mir_eval.io.load_labeled_intervals, so the parsing path is the real one).
  3. Runs `CHORDLET_BINARY eval REF EST --json` once over both folders and
     compares all 15 metrics of every file within 1e-6 (absolute).

Pairs on which mir_eval raises are "undefined in mir_eval" and are excluded
from the comparison. Nearly all of them are the documented divergence: mir_eval
0.7 raises when its adjust_intervals() leaves a zero-length estimate segment
(an estimate segment ending exactly at the reference's start or starting
exactly at its end, or an estimate wholly before the reference), when that
empty segment survives the merging of equal neighbours. chordlet scores such
pairs as mir_eval would with that one check lifted (engine/metrics.h). Those
pairs are scored with `evaluate_allowing_empty` (mir_eval's own evaluate()
with only that check lifted) and must agree too; --ignore-divergence reports
their differences without failing.

Exit status: 0 when every pair compared with mir_eval agrees; 1 on any
mismatch, when fewer than 1000 pairs could be compared, or when the binary
fails.
"""

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

try:
    import numpy  # noqa: F401  (mir_eval needs it; fail early with a clear message)
    import mir_eval
    import mir_eval.chord
    import mir_eval.io
    import mir_eval.util
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write("mireval_diff.py: cannot import mir_eval/numpy (%s); "
                     "run it with /usr/bin/python3 and python3-mir-eval installed\n" % exc)
    sys.exit(1)

METRICS = ["root", "thirds", "thirds_inv", "triads", "triads_inv", "tetrads",
           "tetrads_inv", "sevenths", "sevenths_inv", "majmin", "majmin_inv",
           "mirex", "underseg", "overseg", "seg"]
TOL = 1e-6
MIN_COMPARED = 1000

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL_TSV = os.path.join(os.environ.get("CHORDLET_SHARED") or os.path.join(HERE, "..", "..", "shared"),
                         "data", "mir_eval", "label_encode.tsv")

# --------------------------------------------------------------------------
# Chord labels
# --------------------------------------------------------------------------

NATURALS = "CDEFGAB"
PC_OF_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# Enharmonic oddities mir_eval accepts: the grammar allows any number of b or #.
ODD_ROOTS = ["Cb", "E#", "B#", "Fb", "Gbb", "A##", "Dbb", "F##", "Ebb", "B##"]

# Quality shorthands that mir_eval's regex accepts AND that it can encode
# (aug7 and maj11 pass the regex but are missing from QUALITIES: mir_eval
# raises on them, so they would only produce "undefined" pairs).
QUALITIES = ["maj", "min", "dim", "aug", "1", "5", "sus2", "sus4", "maj6", "min6",
             "7", "maj7", "min7", "dim7", "hdim7", "minmaj7", "9", "maj9", "min9",
             "11", "min11", "13", "maj13", "min13"]
COMMON_QUALITIES = ["maj", "min", "7", "maj7", "min7"]

# Scale degrees for interval lists: includes ones above the octave (dropped by
# the metrics' encoding but wrapped by the segmentation merge, which uses
# reduce_extended_chords=True), double accidentals and b1/#1.
DEGREES = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
           "b2", "b3", "#4", "b5", "#5", "b6", "bb7", "b7", "b9", "#9", "#11",
           "b13", "#13", "b1", "#1", "##5", "bb3", "b4"]
BASSES = ["3", "5", "b7", "7", "b3", "2", "4", "6", "9", "b1", "#4", "b5", "bb7",
          "11", "13", "#5", "b6", "1", "10", "#9", "b9", "##1", "12"]

# Hand-picked labels hitting corners of mir_eval's encode(). They are written
# with root C and transposed at random. Notes on the less obvious ones:
#  - `(*3,3)`: mir_eval sums +1/-1 over a *set*, so order does not matter and
#    the third survives; `(*3,b4)`: b4 is the same semitone as 3.
#  - `(*1)`: the omission clears the root bit, the default bass 1 sets it again.
#  - `13/13`, `9/9`, `/10`: bass degrees above the octave wrap (mod 12).
SPECIAL_LABELS = [
    "C:maj(9)", "C:7(*5)", "C:min7(b9,11)", "C:(1,3)", "C:(b3,5)", "C:maj(*3)",
    "C:maj(*3,3)", "C:maj(*3,b4)", "C:maj(*1)", "C:maj(*1)/3", "C:(*1)", "C:(1)",
    "C:1", "C:5", "C:5/5", "C:1/b3", "C:maj/b1", "C:7/b7", "C/3", "C:maj/5",
    "C:min/b3", "C:min/3", "C:sus2/2", "C:dim/b5", "C:hdim7/b7", "C:minmaj7/7",
    "C:maj6/6", "C:min6(9)", "C:13/13", "C:9/9", "C:maj(#13)", "C:maj/#13",
    "C:maj/10", "C:(3,5,b7)", "C:(b3,b5,bb7)", "C:aug/#5", "C:dim7/bb7",
    "C:min(*b3)", "C:min(*b3,3)", "C:maj(*5)/5", "C:sus4(b7)", "C:maj(b7)",
    "C:maj(4)", "C:(2,5)", "C:maj7(*7)", "C:7(#9)", "C:7(b9)", "C:min11/11",
    "C:maj13(*11)", "C:min9/9", "C:11(*3)", "C:(b1)", "C:maj(##5)", "C:(8,12)",
    "C:maj/##1", "C:maj", "C:min", "C", "C:7", "C:maj7", "C:min7",
]


def load_tsv_labels():
    """Column 1 of label_encode.tsv (872 labels valid for mir_eval), if present."""
    try:
        with open(LABEL_TSV, encoding="utf-8") as f:
            rows = f.read().splitlines()
    except OSError:
        return []
    labels = [r.split("\t")[0] for r in rows[1:] if r.strip()]
    # Keep only labels mir_eval can encode (the file says all are; be robust).
    ok = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lab in labels:
            try:
                mir_eval.chord.encode(lab)
                mir_eval.chord.encode(lab, reduce_extended_chords=True)
                ok.append(lab)
            except Exception:
                pass
    return ok


def spellings_by_pc():
    """All root spellings (letter + up to two b or two #), grouped by pitch class."""
    out = {pc: [] for pc in range(12)}
    for letter in NATURALS:
        for acc in ["", "b", "bb", "#", "##"]:
            pc = (PC_OF_LETTER[letter] + (acc.count("#") - acc.count("b"))) % 12
            out[pc].append(letter + acc)
    return out


SPELLINGS = spellings_by_pc()
ROOT_RE = re.compile(r"^([A-G](?:b+|#+)?)(.*)$")  # b+ before #+: "F##" -> ("F##", "")


def root_pc(root):
    return (PC_OF_LETTER[root[0]] + root.count("#") - root.count("b")) % 12


class LabelGen:
    def __init__(self, rng, tsv_labels):
        self.rng = rng
        self.tsv = tsv_labels

    def root(self):
        r = self.rng.random()
        if r < 0.08:
            return self.rng.choice(ODD_ROOTS)
        letter = self.rng.choice(NATURALS)
        return letter + self.rng.choice(["", "", "", "b", "#"])

    def degrees(self):
        k = self.rng.choice([1, 1, 1, 2, 2, 3])
        degs = []
        for _ in range(k):
            d = self.rng.choice(DEGREES)
            if self.rng.random() < 0.25:
                d = "*" + d
            degs.append(d)
        return "(" + ",".join(degs) + ")"

    def built(self, root=None):
        """A label assembled from the grammar's parts."""
        rng = self.rng
        root = root or self.root()
        r = rng.random()
        if r < 0.12:
            body = root                                     # bare root: G
        elif r < 0.17:
            body = root + ":maj"                            # G:maj
        elif r < 0.72:
            q = rng.choice(COMMON_QUALITIES) if rng.random() < 0.5 else rng.choice(QUALITIES)
            body = root + ":" + q
        elif r < 0.90:
            body = root + ":" + rng.choice(QUALITIES) + self.degrees()
        else:
            body = root + ":" + self.degrees()              # interval list only
        if rng.random() < 0.2:
            body += "/" + rng.choice(BASSES)
        return body

    def special(self):
        lab = self.rng.choice(SPECIAL_LABELS)
        if self.rng.random() < 0.6:
            lab = self.root() + lab[1:]
        return lab

    def label(self):
        r = self.rng.random()
        if r < 0.07:
            return "N"
        if r < 0.10:
            return "X"
        if r < 0.25 and self.tsv:
            return self.rng.choice(self.tsv)
        if r < 0.37:
            return self.special()
        return self.built()

    def respell(self, label):
        """Same chord, another enharmonic spelling of the root (Db <-> C#, B# <-> C)."""
        m = ROOT_RE.match(label)
        if not m:
            return label
        return self.rng.choice(SPELLINGS[root_pc(m.group(1))]) + m.group(2)

    def mutate(self, label):
        """An estimate label related to a reference label, so that the scores are
        not all zero: often equal, often sharing the root, bass or quality."""
        rng = self.rng
        r = rng.random()
        m = ROOT_RE.match(label)
        if r < 0.42 or (m is None and r < 0.7):
            return label
        if m is None or r >= 0.95:
            return self.label()
        root, rest = m.group(1), m.group(2)
        if r < 0.52:
            return self.respell(label)
        if r < 0.64:
            return self.built(root)                    # same root, other quality
        if r < 0.72:                                   # toggle/alter the inversion
            if "/" in rest:
                return root + rest.split("/")[0]
            return label + "/" + rng.choice(BASSES)
        if r < 0.78:                                   # add an extension
            if "(" in rest or "/" in rest:
                return label
            if rest == "":
                rest = ":maj"
            return root + rest + self.degrees()
        if r < 0.84:                                   # transpose by a semitone
            pc = (root_pc(root) + rng.choice([-1, 1])) % 12
            return rng.choice(SPELLINGS[pc]) + rest
        if r < 0.89:
            return "N"
        if r < 0.92:
            return "X"
        return self.special()


# --------------------------------------------------------------------------
# Time lines
# --------------------------------------------------------------------------

def tidy(times, style):
    """Round boundary times like a real .lab file would, keep them strictly increasing."""
    out = []
    for t in times:
        if style == "round3":
            t = round(t, 3)
        elif style == "round6":
            t = round(t, 6)
        if not out or t > out[-1]:
            out.append(t)
    return out


def gen_reference(rng, lg):
    """Returns (segments, info): segments = [(start, end, label)], strictly
    positive durations, non-overlapping, possibly with gaps."""
    r = rng.random()
    if r < 0.10:
        n = 1
    elif r < 0.70:
        n = rng.randint(2, 10)
    elif r < 0.92:
        n = rng.randint(10, 40)
    else:
        n = rng.randint(100, 300)
    style = rng.choice(["round3", "round3", "round6", "full", "full"])
    t = 0.0 if rng.random() < 0.6 else rng.uniform(0.0, 5.0)
    gap_p = 0.0 if rng.random() < 0.6 else rng.uniform(0.1, 0.4)
    tiny_p = 0.0 if rng.random() < 0.85 else 0.15
    times = []   # list of (start, end)
    for _ in range(n):
        if tiny_p and rng.random() < tiny_p:
            dur = 10 ** rng.uniform(-6, -2)
        else:
            dur = rng.expovariate(1 / 2.0) + 0.01
        times.append((t, t + dur))
        t += dur
        if gap_p and rng.random() < gap_p:
            t += rng.expovariate(1 / 1.0) + 0.005
    # Round, and drop any segment that rounding made empty or overlapping.
    segs = []
    prev_end = -1.0
    for s, e in times:
        if style == "round3":
            s, e = round(s, 3), round(e, 3)
        elif style == "round6":
            s, e = round(s, 6), round(e, 6)
        if e > s and s >= prev_end:
            segs.append([s, e])
            prev_end = e
    if not segs:
        segs = [[0.0, 1.0]]
    labels = []
    for i in range(len(segs)):
        if labels and rng.random() < 0.25:
            # Repeat the previous chord (same or respelled) so that mir_eval's
            # merge_chord_intervals (segmentation metrics) has work to do,
            # including across gaps.
            lab = labels[-1] if rng.random() < 0.6 else lg.respell(labels[-1])
        else:
            lab = lg.label()
        labels.append(lab)
    return [(s, e, l) for (s, e), l in zip(segs, labels)], {"gaps": gap_p > 0, "n": len(segs)}


def label_at(ref, t):
    """Reference label sounding at time t (nearest segment if t is in a gap/outside)."""
    best, dist = ref[0][2], float("inf")
    for s, e, lab in ref:
        if s <= t < e:
            return lab
        d = min(abs(t - s), abs(t - e))
        if d < dist:
            best, dist = lab, d
    return best


def segments_from_boundaries(rng, bounds, labeler, gap_p):
    """Consecutive boundaries -> segments; a fraction is deleted to leave gaps."""
    segs = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if segs and gap_p and rng.random() < gap_p and b != bounds[-1]:
            continue  # leave [a, b] as a gap (never the last one: keep the end)
        segs.append((a, b, labeler(a, b)))
    return segs


def gen_estimate(rng, lg, ref):
    """Returns (segments, mode)."""
    r0, r1 = ref[0][0], ref[-1][1]
    span = r1 - r0
    ref_bounds = sorted(set([s for s, _, _ in ref] + [e for _, e, _ in ref]))
    gap_p = 0.0 if rng.random() < 0.7 else rng.uniform(0.1, 0.3)

    def related(a, b):
        return lg.mutate(label_at(ref, (a + b) / 2))

    def edge(t, inside_end):
        """Where the estimate starts/ends relative to the reference's edge t."""
        r = rng.random()
        if r < 0.55:
            return t                                   # exactly on the edge
        if r < 0.62:
            return t + rng.choice([-1e-9, 1e-9])       # a hair away
        d = rng.uniform(0.01, 0.3) * max(span, 0.5)
        return t + d if (r < 0.81) == inside_end else t - d

    r = rng.random()
    if r < 0.42:
        mode = "derived"
        # Start from the reference's own boundaries: some kept exactly, some
        # nudged by 1e-9, some dropped, some new ones added.
        lo, hi = max(edge(r0, False), 0.0), edge(r1, True)
        if hi <= lo:
            hi = lo + 1.0
        pts = []
        for b in ref_bounds:
            # An estimate boundary exactly at the reference's start/end while
            # the estimate extends past it is the case mir_eval cannot score
            # (zero-length segment after adjust_intervals): keep it rarely.
            if (b == r0 and lo < r0) or (b == r1 and hi > r1):
                if rng.random() < 0.85:
                    continue
            x = rng.random()
            if x < 0.25:
                continue
            if x < 0.35:
                b += rng.choice([-1e-9, 1e-9])
            pts.append(b)
        for _ in range(rng.randint(0, max(1, len(ref_bounds) // 3))):
            pts.append(rng.uniform(lo, hi))
        bounds = tidy(sorted(set([lo, hi] + [p for p in pts if lo < p < hi])), "full")
        segs = segments_from_boundaries(rng, bounds, related, gap_p)
    elif r < 0.50:
        mode = "exact"
        # Same boundaries (and gaps) as the reference, labels mutated.
        segs = [(s, e, lg.mutate(l)) for s, e, l in ref]
    elif r < 0.70:
        mode = "independent"
        lo, hi = max(edge(r0, False), 0.0), edge(r1, True)
        if hi <= lo:
            hi = lo + 1.0
        n = rng.randint(1, max(2, min(60, len(ref) * 2)))
        style = rng.choice(["round3", "full"])
        bounds = tidy(sorted([lo, hi] + [rng.uniform(lo, hi) for _ in range(n - 1)]), style)
        if len(bounds) < 2:
            bounds = [lo, hi]
        pool = [l for _, _, l in ref]
        lab = (lambda a, b: lg.mutate(rng.choice(pool))) if rng.random() < 0.6 \
            else (lambda a, b: lg.label())
        segs = segments_from_boundaries(rng, bounds, lab, gap_p)
    elif r < 0.78:
        mode = "edges"
        # Segments touching the reference's edges exactly, next to gaps and
        # equal chords. mir_eval's adjust_intervals turns a segment ending at
        # the reference's start, or starting at its end, into a zero-length
        # one; merge_chord_intervals may join it to an equal chord next to it,
        # across a gap (mir_eval is defined) or not (mir_eval raises: the
        # documented divergence).
        head = r0 > 0 and rng.random() < 0.7
        tail = rng.random() < 0.7
        g1 = span * rng.uniform(0.05, 0.3) if rng.random() < 0.5 else 0.0
        g2 = span * rng.uniform(0.05, 0.3) if rng.random() < 0.5 else 0.0
        lo_in, hi_in = r0 + g1, r1 - g2
        pts = [b for b in ref_bounds if lo_in < b < hi_in and rng.random() < 0.6]
        bounds = tidy(sorted(set([lo_in, hi_in] + pts)), "full")
        segs = [(a, b, related(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]
        if head:
            lab = segs[0][2] if rng.random() < 0.5 else lg.label()
            segs.insert(0, (max(0.0, r0 - rng.uniform(0.01, 2.0)), r0, lab))
        if tail:
            lab = segs[-1][2] if rng.random() < 0.5 else lg.label()
            segs.append((r1, r1 + rng.uniform(0.01, 2.0), lab))
    elif r < 0.86:
        mode = "single"
        lo, hi = max(edge(r0, False), 0.0), edge(r1, True)
        if hi <= lo:
            hi = lo + 1.0
        segs = [(lo, hi, lg.mutate(rng.choice(ref)[2]) if rng.random() < 0.7 else lg.label())]
    elif r < 0.92:
        mode = "outside_after"
        # Entirely after the reference; sometimes starting exactly at its end.
        lo = r1 if rng.random() < 0.2 else r1 + rng.uniform(0.001, 5.0)
        n = rng.randint(1, 4)
        bounds = [lo]
        for _ in range(n):
            bounds.append(bounds[-1] + rng.uniform(0.1, 3.0))
        segs = [(a, b, lg.label()) for a, b in zip(bounds[:-1], bounds[1:])]
    else:
        mode = "outside_before"
        # Entirely before the reference (needs r0 > 0); sometimes ending exactly at its start.
        if r0 <= 0.05:
            segs = [(r0, r1, lg.label())]
            mode = "single"
        else:
            hi = r0 if rng.random() < 0.3 else r0 * rng.uniform(0.2, 0.99)
            bounds = tidy(sorted([0.0, hi] + [rng.uniform(0.0, hi) for _ in range(rng.randint(0, 3))]), "full")
            if len(bounds) < 2:
                bounds = [0.0, hi]
            segs = [(a, b, lg.label()) for a, b in zip(bounds[:-1], bounds[1:])]
    segs = [s for s in segs if s[1] > s[0]]
    if not segs:
        segs = [(r0, r1, lg.label())]
        mode = "single"
    return segs, mode


def write_lab(path, segs, rng):
    """Writes a .lab file with some format variety both parsers must accept:
    tab or space separators, full-line '#' comments, CRLF, no final newline."""
    sep = rng.choice(["\t", "\t", " ", "  ", " \t"])
    nl = "\r\n" if rng.random() < 0.03 else "\n"
    lines = []
    if rng.random() < 0.15:
        lines.append("# generated by mireval_diff.py")
    for i, (s, e, lab) in enumerate(segs):
        if i and rng.random() < 0.02:
            lines.append("#comment between segments")
        lines.append("%s%s%s%s%s" % (repr(float(s)), sep, repr(float(e)), sep, lab))
    text = nl.join(lines)
    if rng.random() < 0.95:
        text += nl
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


# --------------------------------------------------------------------------
# Expected scores
# --------------------------------------------------------------------------

def _validate_intervals_allowing_empty(intervals):
    """mir_eval.util.validate_intervals, except that zero-length intervals pass
    (reversed ones still fail)."""
    if intervals.ndim != 2 or intervals.shape[1] != 2:
        raise ValueError("Intervals should be n-by-2 numpy ndarray")
    if (intervals < 0).any():
        raise ValueError("Negative interval times found")
    if (intervals[:, 1] < intervals[:, 0]).any():
        raise ValueError("Interval durations must not be negative")


def evaluate_allowing_empty(ref_iv, ref_lab, est_iv, est_lab):
    """mir_eval.chord.evaluate with its one raising check on zero-length
    intervals lifted (in directional_hamming_distance, the only place it bites
    for files with positive durations). An empty segment then weighs nothing in
    the directional Hamming sum and adds only boundaries the reference already
    has (its start and end), so this agrees with mir_eval wherever mir_eval is
    defined and is continuous at the edges (an estimate boundary at the
    reference's end scores like one a hair before it). It differs from simply
    deleting the empty segments in three places: an empty segment still bridges
    a gap when merge_chord_intervals joins it to an equal chord before it, still
    labels a gap after it (merge_labeled_intervals' "last segment that started"
    rule), and still marks the estimate's span (the underseg denominator)."""
    chord_util = mir_eval.chord.util   # the module object chord.py calls through
    saved = chord_util.validate_intervals
    chord_util.validate_intervals = _validate_intervals_allowing_empty
    try:
        return mir_eval.chord.evaluate(ref_iv, list(ref_lab), est_iv, list(est_lab))
    finally:
        chord_util.validate_intervals = saved


def expected_scores(ref_path, est_path):
    """Returns (kind, scores, error): kind is 'strict' (mir_eval's own result),
    'divergence' (mir_eval raised on an empty adjusted segment; scores from
    evaluate_allowing_empty) or 'undefined'."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_iv, ref_lab = mir_eval.io.load_labeled_intervals(ref_path)
        est_iv, est_lab = mir_eval.io.load_labeled_intervals(est_path)
        try:
            s = mir_eval.chord.evaluate(ref_iv, list(ref_lab), est_iv, list(est_lab))
            return "strict", {k: float(v) for k, v in s.items()}, None
        except Exception as exc:  # mir_eval gives no score for this pair
            err = "%s: %s" % (type(exc).__name__, exc)
        if "strictly positive" in err:
            try:
                s = evaluate_allowing_empty(ref_iv, ref_lab, est_iv, est_lab)
                return "divergence", {k: float(v) for k, v in s.items()}, err
            except Exception:
                pass
        return "undefined", None, err


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def as_float(v):
    if v is None:          # JSON has no NaN; chordlet may write null for it
        return float("nan")
    return float(v)


def show_file(path, max_lines=40):
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        lines = f.read().splitlines()
    out = ["      " + l for l in lines[:max_lines]]
    if len(lines) > max_lines:
        out.append("      ... (%d more lines)" % (len(lines) - max_lines))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", help="path to the chordlet executable")
    ap.add_argument("--pairs", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", metavar="DIR", help="write the pairs here and keep them")
    ap.add_argument("--ignore-divergence", dest="check_divergence", action="store_false",
                    help="only report (do not fail on) pairs undefined in mir_eval (empty "
                         "adjusted estimate segments) that disagree with evaluate_allowing_empty")
    args = ap.parse_args()

    t_start = time.time()
    rng = random.Random(args.seed)
    tsv = load_tsv_labels()
    lg = LabelGen(rng, tsv)

    if args.keep:
        root = os.path.abspath(args.keep)
        for sub in ("REF", "EST"):
            d = os.path.join(root, sub)
            if os.path.isdir(d):
                shutil.rmtree(d)
        cleanup = None
    else:
        root = tempfile.mkdtemp(prefix="mireval_diff_")
        cleanup = root
    ref_dir, est_dir = os.path.join(root, "REF"), os.path.join(root, "EST")
    os.makedirs(ref_dir)
    os.makedirs(est_dir)

    try:
        return run(args, rng, lg, tsv, ref_dir, est_dir, t_start)
    finally:
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


def run(args, rng, lg, tsv, ref_dir, est_dir, t_start):
    names, modes, expect = [], {}, {}
    undefined_reasons = {}
    for i in range(args.pairs):
        name = "pair%04d.lab" % i
        ref, _ = gen_reference(rng, lg)
        est, mode = gen_estimate(rng, lg, ref)
        rp, ep = os.path.join(ref_dir, name), os.path.join(est_dir, name)
        write_lab(rp, ref, rng)
        write_lab(ep, est, rng)
        kind, scores, err = expected_scores(rp, ep)
        names.append(name)
        modes[name] = mode
        expect[name] = (kind, scores, err)
        if kind != "strict":
            key = err.split(":")[0] + ": " + err.split(":", 1)[1].strip()[:70]
            undefined_reasons[key] = undefined_reasons.get(key, 0) + 1
    t_gen = time.time() - t_start

    # One chordlet run over both folders.
    cmd = [args.binary, "eval", ref_dir, est_dir, "--json"]
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print("FAIL: could not run %s: %s" % (" ".join(cmd), exc))
        return 1
    t_run = time.time() - t0
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        print("FAIL: `%s` exited with %d" % (" ".join(cmd), proc.returncode))
        print("stderr:\n" + stderr[:4000])
        return 1
    try:
        doc = json.loads(proc.stdout.decode("utf-8"))  # json also reads NaN/Infinity tokens
    except ValueError as exc:
        print("FAIL: chordlet's --json output is not valid JSON: %s" % exc)
        print("stdout starts with:\n" + proc.stdout[:2000].decode("utf-8", "replace"))
        return 1
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        print("FAIL: JSON has no \"files\" list (keys: %s)" %
              (list(doc) if isinstance(doc, dict) else type(doc).__name__))
        return 1
    for key in ("total", "per_quality"):
        if key not in doc:
            print("WARNING: JSON lacks \"%s\"" % key)

    got = {}
    for entry in doc["files"]:
        nm = str(entry.get("name", ""))
        got[nm] = entry
        got.setdefault(nm[:-4] if nm.endswith(".lab") else nm + ".lab", entry)

    failures = []            # (name, kind, [(metric, expected, got)], note)
    max_diff = {m: 0.0 for m in METRICS}
    max_diff_div = {m: 0.0 for m in METRICS}
    n_strict = n_div = n_undef = 0
    n_partial = 0            # compared pairs with some score strictly in (0, 1)
    for name in names:
        kind, exp, err = expect[name]
        if kind == "undefined":
            n_undef += 1
            continue
        if kind == "strict":
            n_strict += 1
        else:
            n_div += 1
        entry = got.get(name)
        if entry is None:
            failures.append((name, kind, [], "no entry for this file in chordlet's JSON"))
            continue
        sc = entry.get("scores")
        if not isinstance(sc, dict):
            failures.append((name, kind, [], "entry has no \"scores\" object"))
            continue
        bad = []
        for m in METRICS:
            e = exp[m]
            if m not in sc:
                bad.append((m, e, "missing"))
                continue
            try:
                g = as_float(sc[m])
            except (TypeError, ValueError):
                bad.append((m, e, repr(sc[m])))
                continue
            if math.isnan(e) or math.isnan(g):
                if not (math.isnan(e) and math.isnan(g)):
                    bad.append((m, e, g))
                continue
            d = abs(e - g)
            table = max_diff if kind == "strict" else max_diff_div
            table[m] = max(table[m], d)
            if d > TOL:
                bad.append((m, e, g))
        if kind == "strict" and any(0.0 < exp[m] < 1.0 for m in METRICS if not math.isnan(exp[m])):
            n_partial += 1
        if bad:
            failures.append((name, kind, bad, ""))

    # ---- summary ----
    mode_counts = {}
    for m in modes.values():
        mode_counts[m] = mode_counts.get(m, 0) + 1
    print("mireval_diff: seed %d, mir_eval %s, %d labels from label_encode.tsv%s"
          % (args.seed, mir_eval.__version__, len(tsv), "" if tsv else " (file not found)"))
    print("pairs generated:             %d  (estimate kinds: %s)" % (
        len(names), ", ".join("%s %d" % kv for kv in sorted(mode_counts.items()))))
    print("compared with mir_eval:      %d  (%d with some score strictly between 0 and 1)"
          % (n_strict, n_partial))
    print("undefined in mir_eval:       %d  (excluded; %d of them are the documented "
          "divergence, compared with evaluate_allowing_empty%s)"
          % (n_div + n_undef, n_div, "" if args.check_divergence else " for information"))
    for reason, cnt in sorted(undefined_reasons.items(), key=lambda kv: -kv[1]):
        print("    %4d x %s" % (cnt, reason))
    print("max |chordlet - expected| per metric (mir_eval pairs | divergence pairs):")
    for m in METRICS:
        print("    %-13s %-9.3g | %.3g" % (m, max_diff[m], max_diff_div[m]))
    print("time: generate+mir_eval %.1f s, chordlet %.2f s" % (t_gen, t_run))

    def show(fails, limit, what):
        for name, kind, bad, note in fails[:limit]:
            print("\n  %s [estimate kind: %s]%s" % (name, modes[name], (": " + note) if note else ""))
            for m, e, g in bad:
                print("    %-13s %s %-22r chordlet %r" % (m, what, e, g))
            for side, d in (("REF", ref_dir), ("EST", est_dir)):
                path = os.path.join(d, name)
                print("    %s %s:\n%s" % (side, path, show_file(path)))
        if len(fails) > limit:
            print("\n  ... and %d more: %s" % (len(fails) - limit,
                                              " ".join(f[0] for f in fails[limit:limit + 40])))

    strict_fails = [f for f in failures if f[1] == "strict"]
    div_fails = [f for f in failures if f[1] == "divergence"]
    status = 0
    if strict_fails:
        status = 1
        print("\nFAIL: %d of %d pairs disagree with mir_eval (tolerance %g)"
              % (len(strict_fails), n_strict, TOL))
        show(strict_fails, 5, "mir_eval")
    if div_fails:
        if args.check_divergence:
            status = 1
            print("\nFAIL: %d of %d pairs undefined in mir_eval disagree with "
                  "evaluate_allowing_empty" % (len(div_fails), n_div))
        else:
            print("\nNOTE (not a failure because of --ignore-divergence): %d of %d pairs "
                  "undefined in mir_eval disagree with evaluate_allowing_empty"
                  % (len(div_fails), n_div))
        show(div_fails, 5 if args.check_divergence else 2, "expected")
    if failures and not args.keep:
        print("\n  (the files above are deleted on exit: rerun with --keep DIR to keep them)")
    if n_strict < MIN_COMPARED:
        status = 1
        print("FAIL: only %d pairs compared with mir_eval, need at least %d "
              "(raise --pairs)" % (n_strict, MIN_COMPARED))
    if status == 0:
        print("PASS: all %d pairs compared with mir_eval agree within %g" % (n_strict, TOL))
    return status

if __name__ == "__main__":
    sys.exit(main())
