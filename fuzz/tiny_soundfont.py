#!/usr/bin/env python3
"""tiny_soundfont.py OUT.sf2: a SoundFont 2 of 1 KB for the MIDI harness (fuzz/fuzz_midi.c).

Loading Debian's smallest General MIDI soundfont (TimGM6mb, 6 MB) costs
fluidsynth about 50 ms, and the renderer loads it for every song: too slow
for a fuzzer. This one holds a single looped 8 kHz sine and maps it to all
128 programs of bank 0 and to a drum kit (bank 128), so every note the
renderer sends sounds. Written with the SF2 2.01 layout: RIFF sfbk with the
INFO, sdta (16-bit samples) and pdta (presets, instruments, sample headers,
each list ended by its terminal record) lists.
"""
import math
import struct
import sys


def chunk(tag, body):
    pad = b"\0" if len(body) % 2 else b""
    return tag + struct.pack("<I", len(body)) + body + pad


def lst(kind, *chunks):
    return chunk(b"LIST", kind + b"".join(chunks))


def zstr(s):
    """A text chunk's body: NUL-terminated, padded to an even size."""
    b = s.encode() + b"\0"
    return b + b"\0" * (len(b) % 2)


def name(s):
    return s.encode().ljust(20, b"\0")[:20]


N = 256  # sample frames; 46 zero frames follow, as the format asks
samples = [int(12000 * math.sin(2 * math.pi * 8 * i / N)) for i in range(N)] + [0] * 46
presets = [(p, 0) for p in range(128)] + [(0, 128)]  # (program, bank)

phdr = b"".join(name("sine %d" % i) + struct.pack("<HHHIII", p, b, i, 0, 0, 0) for i, (p, b) in enumerate(presets))
phdr += name("EOP") + struct.pack("<HHHIII", 0, 0, len(presets), 0, 0, 0)
pbag = b"".join(struct.pack("<HH", i, 0) for i in range(len(presets) + 1))
pmod = b"\0" * 10
pgen = struct.pack("<HH", 41, 0) * len(presets) + struct.pack("<HH", 0, 0)  # 41: instrument 0
inst = name("sine") + struct.pack("<H", 0) + name("EOI") + struct.pack("<H", 1)
ibag = struct.pack("<HH", 0, 0) + struct.pack("<HH", 2, 0)
imod = b"\0" * 10
igen = struct.pack("<HH", 54, 1) + struct.pack("<HH", 53, 0) + struct.pack("<HH", 0, 0)  # loop, sample 0
shdr = name("sine") + struct.pack("<IIIIIBbHH", 0, N, 8, N - 8, 8000, 60, 0, 0, 1)
shdr += name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0)

info = lst(b"INFO", chunk(b"ifil", struct.pack("<HH", 2, 1)), chunk(b"isng", zstr("EMU8000")),
           chunk(b"INAM", zstr("chordlet fuzz sine")))
sdta = lst(b"sdta", chunk(b"smpl", struct.pack("<%dh" % len(samples), *samples)))
pdta = lst(b"pdta", chunk(b"phdr", phdr), chunk(b"pbag", pbag), chunk(b"pmod", pmod), chunk(b"pgen", pgen),
           chunk(b"inst", inst), chunk(b"ibag", ibag), chunk(b"imod", imod), chunk(b"igen", igen),
           chunk(b"shdr", shdr))
with open(sys.argv[1], "wb") as f:
    f.write(chunk(b"RIFF", b"sfbk" + info + sdta + pdta))
