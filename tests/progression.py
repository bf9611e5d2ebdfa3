"""progression.py OUT_DIR [RATE]: writes OUT_DIR/song.wav (16-bit mono) and
OUT_DIR/song.lab, the synthesized progression the live tests play: C Am F G
Dm Em F C, 1.493 s each after a 0.507 s lead-in (so the changes fall off the
20 ms hop grid by a different fraction each time), piano-like tones (six
decaying harmonics, the root an octave below), as tests/test_live.c makes it
in C. Run with /usr/bin/python3 (numpy)."""
import sys
import wave

import numpy as np

out = sys.argv[1]
rate = int(sys.argv[2]) if len(sys.argv) > 2 else 44100
lead, dur = 0.507, 1.493
roots, minor = [0, 9, 5, 7, 2, 4, 5, 0], [0, 1, 0, 0, 1, 1, 0, 0]
n = int((lead + len(roots) * dur + 1.0) * rate)
x = np.zeros(n)
for c, (r, m) in enumerate(zip(roots, minor)):
    t0 = lead + c * dur
    i0, i1 = int(t0 * rate), int((t0 + dur) * rate)
    t = np.arange(i1 - i0) / rate
    env = (1 - np.exp(-t / 0.005)) * np.exp(-t / 1.2) * np.minimum(1, (i1 - i0 - np.arange(i1 - i0)) / (0.02 * rate))
    for k, midi in enumerate([60 + r, 60 + r + (3 if m else 4), 60 + r + 7, 48 + r]):
        if k < 3 and midi > 67:
            midi -= 12
        f = 440 * 2 ** ((midi - 69) / 12)
        x[i0:i1] += 0.12 * env * sum(np.sin(2 * np.pi * f * h * t) / h ** 2 for h in range(1, 7))
with wave.open(out + "/song.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
with open(out + "/song.lab", "w") as f:
    f.write("0 %.6f N\n" % lead)
    for c, (r, m) in enumerate(zip(roots, minor)):
        f.write("%.6f %.6f %s\n" % (lead + c * dur, lead + (c + 1) * dur, names[r] + (":min" if m else "")))
