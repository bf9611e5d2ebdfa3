#!/bin/sh
# render-song.sh SHARED COLLECTION ID OUT.flac: one song of the shared MIDI
# collections rendered as shared/data/README.md describes (fluidsynth, FluidR3_GM,
# gain 0.6, 22050 Hz, mono, trimmed to the end of its .lab). Atomic; skips a
# file that exists.
set -eu
SHARED=$1 COLLECTION=$2 ID=$3 OUT=$4
SF2=${SF2:-/usr/share/sounds/sf2/FluidR3_GM.sf2}
[ -f "$OUT" ] && exit 0
mkdir -p "$(dirname "$OUT")"
end=$(tail -n 1 "$SHARED/data/midi/$COLLECTION/$ID.lab" | awk '{print $2}')
tmp="$OUT.tmp.$$"
fluidsynth -ni -q -g 0.6 -r 22050 -F "$tmp.wav" -T wav -O s16 "$SF2" "$SHARED/data/midi/$COLLECTION/$ID.mid"
sox "$tmp.wav" -c 1 -t flac "$tmp.flac" trim 0 "$end"
rm -f "$tmp.wav"
mv "$tmp.flac" "$OUT"
