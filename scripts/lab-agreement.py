#!/usr/bin/env python3
"""lab-agreement.py REF.lab EST.lab [SHIFT]: the share of the 20 ms points
inside REF's segments where EST names the same 170-class chord (a Harte label
reduced as the plugin reduces it: tests/ardour_chords.py's chord_index), as a
percentage. With SHIFT seconds, REF's times are moved that much later first
(the audio was given that much leading silence). test_lv2_host's measure
without the readout's latency: for timelines from `chordlet transcribe`."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from ardour_chords import at, read_lab  # noqa: E402


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    shift = float(sys.argv[3]) if len(sys.argv) == 4 else 0.0
    ref = [(a + shift, b + shift, c) for a, b, c in read_lab(sys.argv[1])]
    est = read_lab(sys.argv[2])
    if not ref:
        sys.exit(f"lab-agreement.py: {sys.argv[1]} has no segments")
    good = total = 0
    step = 0
    while True:
        t = step * 0.02
        step += 1
        if t >= ref[-1][1]:
            break
        r = at(ref, t)
        if r is None:
            continue
        total += 1
        good += at(est, t) == r
    print(f"{100.0 * good / max(total, 1):.1f}")


if __name__ == "__main__":
    main()
