#!/usr/bin/env python3
"""ardour_chords.py: the audio and the scoring of tests/ardour_cli.sh.

  ardour_chords.py progression RATE OUT.wav OUT.lab
      test_lv2_host's synthesized progression (C Am F G Dm Em F C, piano-like
      tones, the same formula as progression() in tests/test_lv2_host.c) as a
      16-bit WAV, and its chords as a .lab.
  ardour_chords.py preroll ROWS TRACK
      The samples the plugin ran while Ardour freewheeled before the export
      rolled (Ardour's export pre-roll, silence): the cycles with the
      freewheel port at 1 before the first rolling one. The plugin starts a
      new timeline when the port rises, so the library is run on this much
      silence before the audio to hear exactly what the plugin heard.
  ardour_chords.py first_chord ROWS TRACK
      The transport sample of the first rolling cycle whose chord output is
      not N (-1: none).
  ardour_chords.py score ROWS TRACK RATE LAB [STREAM_EVENTS [PREROLL]]
      ROWS: the "ROW" lines of tests/ardour_session.lua's export step (per
      cycle: track, transport sample, samples, chord, confidence, latency ms,
      freewheel port).
      The measure of test_lv2_host: the chord output at the end of the cycle
      that holds each 20 ms point, against the reference chord one declared
      latency earlier, over the points whose shifted time falls inside a
      labelled chord (lead-in and tail of N excluded when the .lab's first/last
      segment is N and EXCLUDE_N=1). Prints one line of key=value:
      agreement (exact 170-class chord), root (root agreement), latency_ms,
      block, hops, freewheel (1: the port was 1 on every rolling cycle);
      SCORE_FROM=S leaves out the points before S seconds; with
      STREAM_EVENTS (pkgconfig_stream's output on PREROLL samples of silence
      and then the same audio: TIME, HARTE, CONFIDENCE per change) also
      library (the Ardour chord output at the end of each cycle against the
      library's chord decided by then: an event is decided, and shown, when
      the input reaches its time + latency - one hop, or up to a hop later,
      when the frame that decides it leaves the front end; within that hop
      either chord counts; same points) and
      library_agreement (the library's own timeline against the .lab).
"""
import math
import os
import struct
import sys
import wave

ROOTS = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "Fb": 4, "E#": 5, "F": 5, "F#": 6,
         "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11, "Cb": 11, "B#": 0}
QUALITIES = ["min", "maj", "dim", "aug", "min6", "maj6", "min7", "minmaj7", "maj7", "7", "dim7", "hdim7",
             "sus2", "sus4"]
N, X = 169, 168


def chord_index(harte):
    """A Harte label as the plugin's 0..169 index (14 x root + quality; the
    vocabulary has no inversions, so a bass is dropped; other qualities are X)."""
    if harte == "N":
        return N
    if harte == "X":
        return X
    harte = harte.split("/")[0]
    root, _, quality = harte.partition(":")
    quality = quality or "maj"
    if root not in ROOTS or quality not in QUALITIES:
        return X
    return 14 * ROOTS[root] + QUALITIES.index(quality)


def root_of(index):
    return index // 14 if index < 168 else -1


def progression(rate, wav_path, lab_path):
    n_chords, chord_s, lead_in = 8, 1.493, 0.507
    roots, minor = [0, 9, 5, 7, 2, 4, 5, 0], [0, 1, 0, 0, 1, 1, 0, 0]
    n = int((lead_in + n_chords * chord_s + 1.0) * rate)
    x = [0.0] * n
    for c in range(n_chords):
        t0 = lead_in + c * chord_s
        i0, i1 = int(t0 * rate), int((t0 + chord_s) * rate)
        notes = [60 + roots[c], 60 + roots[c] + (3 if minor[c] else 4), 60 + roots[c] + 7, 48 + roots[c]]
        for v, midi in enumerate(notes):
            if v < 3 and midi > 67:
                midi -= 12
            f = 440.0 * 2 ** ((midi - 69) / 12.0)
            for i in range(i0, min(i1, n)):
                t = (i - i0) / rate
                env = (1 - math.exp(-t / 0.005)) * math.exp(-t / 1.2)
                if i1 - i < rate * 0.02:
                    env *= (i1 - i) / (rate * 0.02)
                s = sum(math.sin(2 * math.pi * f * k * t) / (k * k) for k in range(1, 7))
                x[i] += 0.12 * env * s
    with wave.open(wav_path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, round(v * 32767)))) for v in x))
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    with open(lab_path, "w") as f:
        f.write(f"0.000000 {lead_in:.6f} N\n")
        for c in range(n_chords):
            a, b = lead_in + c * chord_s, lead_in + (c + 1) * chord_s
            f.write(f"{a:.6f} {b:.6f} {names[roots[c]]}:{'min' if minor[c] else 'maj'}\n")
        f.write(f"{lead_in + n_chords * chord_s:.6f} {n / rate:.6f} N\n")


def read_lab(path):
    segs = []
    for line in open(path):
        parts = line.split()
        if len(parts) >= 3:
            segs.append((float(parts[0]), float(parts[1]), chord_index(parts[2])))
    return segs


def at(segs, t):
    for a, b, c in segs:
        if a <= t < b:
            return c
    return None


def read_rows(rows_path, track):
    """(transport sample, samples, chord, confidence, latency ms, freewheel) per cycle."""
    rows = []
    for line in open(rows_path):
        p = line.split()
        if len(p) == 8 and p[0] == "ROW" and p[1] == track:
            rows.append((int(p[2]), int(p[3]), int(p[4]), float(p[5]), float(p[6]), int(p[7])))
    return rows


def rolling_indices(rows):
    """Cycles whose transport position advances by their length (export's
    pre-roll and the stopped cycles at the end are left out)."""
    return [i for i, r in enumerate(rows) if i + 1 < len(rows) and rows[i + 1][0] == r[0] + r[1]]


def rolling_rows(rows):
    return [rows[i] for i in rolling_indices(rows)]


def preroll(rows_path, track):
    rows = read_rows(rows_path, track)
    rolling = rolling_indices(rows)
    if not rolling:
        print(0)
        return 1
    first = rolling[0]  # (rows of the pre-roll are alike: look them up by place)
    n = 0
    for r in reversed(rows[:first]):
        if r[5] != 1:
            break
        n += r[1]
    print(n)
    return 0


def first_chord(rows_path, track):
    """The transport sample of the first rolling cycle that shows a chord
    (not N), or -1."""
    for pos, n, chord, conf, lat, fw in rolling_rows(read_rows(rows_path, track)):
        if chord != N:
            print(pos)
            return 0
    print(-1)
    return 0


def score(rows_path, track, rate, lab_path, stream_path=None, lead=0):
    rows = read_rows(rows_path, track)
    if not rows:
        print("rows=0")
        return 1
    rolling = rolling_rows(rows)
    segs = read_lab(lab_path)
    exclude_n = os.environ.get("EXCLUDE_N") == "1"
    lo, hi = segs[0][0], segs[-1][1]
    lo = max(lo, float(os.environ.get("SCORE_FROM", "0")))  # seconds: points before are left out
    if exclude_n and segs[0][2] == N:
        lo = segs[0][1]
    if exclude_n and segs[-1][2] == N:
        hi = segs[-1][0]
    latency = rolling[-1][4] / 1e3
    hop = 0.02
    # chord at each 20 ms point: the output at the end of the cycle holding it
    at_hop, end_at_hop = {}, {}
    for pos, n, chord, conf, lat, fw in rolling:
        end = pos + n
        k0 = math.ceil(pos / (hop * rate) - 1e-9)
        k = k0
        while k * hop * rate < end:
            at_hop[k] = chord
            end_at_hop[k] = end
            k += 1
    lib = None
    if stream_path:
        lib = []
        for line in open(stream_path):
            p = line.split("\t")
            if len(p) >= 2:
                # the library heard `lead` samples of silence first: back to the region's time
                lib.append((float(p[0]) - lead / rate, chord_index(p[1].strip())))
    good = good_root = same_lib = lib_good = total = 0
    for k in sorted(at_hop):
        t = k * hop - latency
        if t < lo or t >= hi:
            continue
        ref = at(segs, t)
        if ref is None:
            continue
        total += 1
        good += at_hop[k] == ref
        good_root += root_of(at_hop[k]) == root_of(ref)
        if lib is not None:
            mine = shown = N
            before = None
            for time, c in lib:
                if time <= t:
                    mine = c
                # decided when the input reaches time + latency - hop; the frame
                # that decides it leaves the front end within a hop after that
                decided = round((time + latency - hop) * rate)
                if decided <= end_at_hop[k]:
                    before = shown if decided > end_at_hop[k] - hop * rate else None
                    shown = c
            same_lib += at_hop[k] == shown or at_hop[k] == before
            lib_good += mine == ref
    blocks = sorted({r[1] for r in rolling})
    freewheel = int(all(r[5] == 1 for r in rolling))
    out = f"agreement={good / max(total, 1):.4f} root={good_root / max(total, 1):.4f} latency_ms={latency * 1e3:.0f} " \
          f"block={'/'.join(map(str, blocks))} hops={total} cycles={len(rolling)} freewheel={freewheel}"
    if lib is not None:
        out += f" library={same_lib / max(total, 1):.4f} library_agreement={lib_good / max(total, 1):.4f}"
    print(out)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "progression":
        progression(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "preroll":
        sys.exit(preroll(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "first_chord":
        sys.exit(first_chord(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) in (6, 7, 8) and sys.argv[1] == "score":
        sys.exit(score(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], *sys.argv[6:7],
                       *[int(v) for v in sys.argv[7:8]]))
    else:
        print(__doc__)
        sys.exit(2)
