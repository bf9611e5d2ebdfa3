#!/bin/sh
# fuzz-seeds.sh BUILD OUT: the fuzz seeds that are made, not committed
# (fuzz/corpus/ holds the small text and MIDI ones):
#   OUT/model/  a tiny live student, a tiny file-mode student, a teacher's
#               metadata, written by BUILD/fuzz/make_seeds with the engine's writer;
#   OUT/audio/  20 ms of a chord in each container libsndfile reads and sox
#               writes (WAV int and float, AIFF, AIFC, AU, FLAC, Ogg Vorbis, W64,
#               CAF, VOC, NIST, 8SVX, MAT4/5, PAF, IRCAM, HTK, WVE, AVR, XI);
#   OUT/tiny.sf2 the 7 KB soundfont of the MIDI harness's renders
#               (fuzz/tiny_soundfont.py; pass it as FUZZ_SOUNDFONT).
# Used by scripts/fuzz.sh and tests/fuzz_regress.sh. Without sox, no audio
# seeds (the harness still runs, from nothing).
set -eu
build=$1
out=$2
mkdir -p "$out/model" "$out/audio"
"$build/fuzz/make_seeds" "$out"
python3 fuzz/tiny_soundfont.py "$out/tiny.sf2"
command -v sox >/dev/null 2>&1 || { echo "fuzz-seeds: no sox: no audio seeds" >&2; exit 0; }
chord="synth 0.02 sine 261.6 sine 329.6 sine 392 remix -"
# name: sox output options
while IFS=: read -r name opts; do
  [ -n "$name" ] || continue
  # shellcheck disable=SC2086 # opts are words
  sox -n $opts "$out/audio/$name" $chord 2>/dev/null || echo "fuzz-seeds: sox cannot write $name" >&2
done <<'LIST'
s16.wav:-r 8000 -c 1 -b 16
f32-stereo.wav:-r 22050 -c 2 -e floating-point -b 32
u8.wav:-r 11025 -c 1 -b 8 -e unsigned-integer
ulaw.wav:-r 8000 -c 1 -e u-law
s24.aiff:-r 48000 -c 1 -b 24
f32.aifc:-r 16000 -c 1 -e floating-point -b 32
s16.au:-r 8000 -c 1 -b 16
s16.flac:-r 22050 -c 1 -b 16
q0.ogg:-r 22050 -c 1 -C 0
s16.w64:-r 8000 -c 2 -b 16
s16.caf:-r 8000 -c 1 -b 16
u8.voc:-r 8000 -c 1 -b 8
s16.sph:-r 8000 -c 1 -b 16
s8.8svx:-r 8000 -c 1 -b 8
s16.mat4:-r 8000 -c 1 -b 16
f64.mat5:-r 8000 -c 1 -e floating-point -b 64
s16.paf:-r 8000 -c 1 -b 16
s16.sf:-r 8000 -c 1 -b 16
s16.htk:-r 8000 -c 1 -b 16
s16.wve:-r 8000 -c 1 -b 8 -e a-law
s16.avr:-r 8000 -c 1 -b 16
s16.xi:-r 8000 -c 1 -b 16
LIST
