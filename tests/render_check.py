"""render_check.py: checks on one output of `chordlet-train render` (used by render_cli.sh).

    render_check.py synthetic|real|labels FLAC LAB SOURCE_LAB SIDECAR
    render_check.py make-midi STEM N_CHORDS     (writes STEM.mid and STEM.lab)

Every mode checks the labels and the length: the rendered .lab is the source .lab with every
time divided by the sidecar's tempo factor (to the 6 decimals written), labels unchanged, and
the FLAC (mono, the sidecar's rate) holds round(end / factor * rate) samples.

synthetic: a file of block chords, one per label. Every label boundary's strongest onset (the
    peak of spectral flux within 100 ms) lies within one student frame (46 ms) of it, and the
    weakest of those onsets is at least twice the strongest flux anywhere between boundaries.
real: a real song, where notes also start between chord changes. Per third of the song, the lag
    that best lines the label boundaries up with the onset strength lies within half a frame of
    0, clearly above the typical lag (so the labels sit on onsets and do not drift); and at least
    90 % of boundaries have a strong onset (above the 90th percentile) within one frame. As a
    control, the source labels (not divided by the factor) must fail this when the factor is
    at least 3 % from 1: the check can see a wrong scaling.
labels: only the common checks.
make-midi: a test song of block chords (4 notes, piano), one every 0.5 s at 100 BPM (480 ticks
    per beat, tempo in its own track as in format-1 files), each released 25 ms before the next,
    and its .lab (one chord per segment, from 0 to the End of Track).
Exit 0 when all hold; otherwise prints why and exits 1.
"""
import json
import subprocess
import sys

import numpy as np

FRAME = 1024 / 22050  # one student frame, 46 ms


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def read_lab(path):
    rows = [line.split() for line in open(path) if line.strip() and not line.startswith("#")]
    return [(float(r[0]), float(r[1]), r[2]) for r in rows]


def read_audio(path):
    info = subprocess.run(["soxi", "-c", path], check=True, capture_output=True, text=True).stdout.strip()
    if info != "1":
        fail("%s has %s channels, expected 1" % (path, info))
    raw = subprocess.run(["sox", path, "-t", "f32", "-"], check=True, capture_output=True).stdout
    rate = int(subprocess.run(["soxi", "-r", path], check=True, capture_output=True, text=True).stdout)
    return np.frombuffer(raw, dtype="<f4"), rate


def onset_strength(x, rate, n=512, hop=32):
    """Spectral flux (rectified increase of log magnitude), frame times at the window centres."""
    window = np.hanning(n).astype(np.float32)
    n_frames = 1 + (len(x) - n) // hop
    idx = np.arange(n)[None, :] + hop * np.arange(n_frames)[:, None]
    mag = np.log1p(1000 * np.abs(np.fft.rfft(x[idx] * window, axis=1)))
    flux = np.maximum(mag[1:] - mag[:-1], 0).sum(axis=1)
    times = (np.arange(1, n_frames) * hop + n / 2) / rate
    return times, flux


def common(flac, lab, source_lab, sidecar):
    side = json.load(open(sidecar))
    factor = side["settings"]["render"]["tempo_factor"]
    rate = side["settings"]["render"]["sample_rate"]
    got, src = read_lab(lab), read_lab(source_lab)
    if len(got) != len(src):
        fail("%d segments, the source has %d" % (len(got), len(src)))
    for (a, b, l), (sa, sb, sl) in zip(got, src):
        if l != sl or abs(a - sa / factor) > 1.5e-6 or abs(b - sb / factor) > 1.5e-6:
            fail("segment %s %s %s is not the source's %s %s %s / %s" % (a, b, l, sa, sb, sl, factor))
    x, file_rate = read_audio(flac)
    want = round(src[-1][1] / factor * rate)
    if file_rate != rate or abs(len(x) - want) > 1:
        fail("%d samples at %d Hz, expected %d at %d" % (len(x), file_rate, want, rate))
    peak_db = 20 * np.log10(np.max(np.abs(x)))
    if abs(peak_db - side["settings"]["render"]["peak_dbfs"]) > 0.1:
        fail("peak %.2f dBFS, the sidecar says %.2f" % (peak_db, side["settings"]["render"]["peak_dbfs"]))
    return x, rate, got, factor


def boundaries(lab):
    return np.array([seg[0] for seg in lab[1:]])


def check_synthetic(x, rate, lab):
    t, d = onset_strength(x, rate)
    b = boundaries(lab)
    worst, weakest = 0.0, np.inf
    for x0 in b:
        near = (t > x0 - 0.1) & (t < x0 + 0.1)
        off = t[near][np.argmax(d[near])] - x0
        worst = max(worst, abs(off))
        weakest = min(weakest, d[near].max())
    edges = np.concatenate([[0], b, [t[-1]]])
    between = max(d[(t > a + 0.1) & (t < c - 0.1)].max() for a, c in zip(edges[:-1], edges[1:]))
    print("    %d boundaries: onsets within %.1f ms; weakest onset %.1f, strongest flux between %.1f"
          % (len(b), 1000 * worst, weakest, between))
    if worst > FRAME:
        fail("an onset lies %.1f ms from its label boundary (more than one frame, %.1f ms)" % (1000 * worst, 1000 * FRAME))
    if weakest < 2 * between:
        fail("onsets between label boundaries (%.1f) rival those at them (%.1f)" % (between, weakest))


def lag_scan(t, d, b):
    lags = np.arange(-0.3, 0.3001, 0.005)
    scores = []
    for lag in lags:
        idx = np.searchsorted(t, b + lag)
        idx = idx[(idx > 3) & (idx < len(t) - 3)]
        scores.append(np.mean(np.max(np.stack([d[idx + k] for k in range(-3, 4)]), axis=0)))
    scores = np.array(scores)
    return lags[np.argmax(scores)], scores.max() / np.median(scores)


def real_ok(t, d, b, verbose):
    b = b[(b > t[0] + FRAME) & (b < t[-1] - FRAME)]
    strong = np.percentile(d, 90)
    share = np.mean([d[(t > x0 - FRAME) & (t < x0 + FRAME)].max() > strong for x0 in b])
    ok = share >= 0.9
    n = len(b)
    parts = []
    for k in range(3):
        lag, contrast = lag_scan(t, d, b[k * n // 3:(k + 1) * n // 3])
        parts.append("lag %+.0f ms x%.1f" % (1000 * lag, contrast))
        ok = ok and abs(lag) <= FRAME / 2 and contrast >= 2.5
    if verbose:
        print("    %d boundaries, %.0f %% on a strong onset; per third: %s" % (n, 100 * share, ", ".join(parts)))
    return ok


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def make_midi(stem, n_chords):
    division, us_per_beat = 480, 600000  # 100 BPM
    ticks = 400  # 0.5 s
    roots = [(0, "C"), (5, "F"), (7, "G"), (9, "A:min"), (2, "D:min"), (4, "E:min"), (11, "B"), (3, "D#")]
    events = []
    for i in range(n_chords):
        root, name = roots[i % len(roots)]
        third = 3 if name.endswith(":min") else 4
        for key in (48 + root, 48 + root + third, 55 + root, 60 + root):
            events.append((i * ticks, 1, bytes([0x90, key, 96])))
            events.append(((i + 1) * ticks - 20, 0, bytes([0x80, key, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track, last = vlq(0) + bytes([0xC0, 0]), 0
    for tick, _, message in events:
        track += vlq(tick - last) + message
        last = tick
    end = n_chords * ticks
    track += vlq(end - last) + b"\xff\x2f\x00"
    tempo = vlq(0) + b"\xff\x51\x03" + us_per_beat.to_bytes(3, "big") + vlq(end) + b"\xff\x2f\x00"
    data = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + (2).to_bytes(2, "big") + division.to_bytes(2, "big")
    for t in (tempo, track):
        data += b"MTrk" + len(t).to_bytes(4, "big") + t
    open(stem + ".mid", "wb").write(data)
    seconds = ticks * us_per_beat / 1e6 / division
    with open(stem + ".lab", "w") as f:
        for i in range(n_chords):
            f.write("%.6f %.6f %s\n" % (i * seconds, (i + 1) * seconds, roots[i % len(roots)][1]))


def main():
    if sys.argv[1] == "make-midi":
        make_midi(sys.argv[2], int(sys.argv[3]))
        return
    mode, flac, lab, source_lab, sidecar = sys.argv[1:6]
    x, rate, got, factor = common(flac, lab, source_lab, sidecar)
    print("    tempo factor %.4f, %d segments, %d samples" % (factor, len(got), len(x)))
    if mode == "synthetic":
        check_synthetic(x, rate, got)
    elif mode == "real":
        t, d = onset_strength(x, rate)
        d = d / np.percentile(d, 99)
        if not real_ok(t, d, boundaries(got), True):
            fail("the label boundaries do not sit on the audio's onsets")
        if abs(factor - 1) >= 0.03:
            if real_ok(t, d, boundaries(read_lab(source_lab)), False):
                fail("control: the unscaled labels pass too, so this check cannot see a wrong scaling")
            print("    control: the unscaled source labels fail the check, as they must")
    elif mode != "labels":
        fail("unknown mode " + mode)


main()
