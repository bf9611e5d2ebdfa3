#!/bin/sh
# make-demo.sh: renders the demo recording in examples/ from the project's
# shared data (the synth collection, CC0) with fluidsynth and the FluidR3_GM
# soundfont (Debian: fluidsynth, fluid-soundfont-gm, sox). Reproducible: the
# committed files came from this script.
#   usage: scripts/make-demo.sh [SHARED_DIR]
set -eu
cd "$(dirname "$0")/.."
SHARED=${1:-${CHORDLET_SHARED:-../shared}}
SONG=synth0046
SECONDS_KEPT=30
SF2=/usr/share/sounds/sf2/FluidR3_GM.sf2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fluidsynth -ni -q -g 0.6 -r 22050 -F "$TMP/stereo.wav" -T wav -O s16 "$SF2" "$SHARED/data/midi/synth/$SONG.mid"
sox "$TMP/stereo.wav" -c 1 -C 8 "examples/$SONG.flac" trim 0 "$SECONDS_KEPT"
# The labels of the same 30 s: segments cut at the end.
awk -v end="$SECONDS_KEPT" '$1 < end { e = ($2 > end) ? end : $2; printf "%.6f %.6f %s\n", $1, e, $3 }' \
  "$SHARED/data/midi/synth/$SONG.lab" >"examples/$SONG.lab"
ls -l "examples/$SONG.flac" "examples/$SONG.lab"
