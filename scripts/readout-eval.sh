#!/bin/sh
# readout-eval.sh: the accuracy of the live readout, what a musician sees.
#   usage: scripts/readout-eval.sh NAME=MODEL...
# `chordlet eval` on `chordlet transcribe`'s output scores a live model with
# the whole-song Viterbi decoder, which sees every frame before it decides.
# The live readout (chordlet live, the plugin, chordlet_stream_*) decides each
# frame a few hops later (its smoothing lag) and never revises. This streams
# each song through chordlet_stream_* in blocks of 256 samples, as an audio
# callback does (tests/pkgconfig_stream.c, built here against
# build/libchordlet.a), turns the chord changes into a .lab at the times they
# refer to (so the latency itself costs nothing: a change counts from where the
# readout places it), and scores it with `chordlet eval` (avg7).
# Songs: make robustness's 30 pop909cl test songs (every third line of
# pop909cl_test.txt, rendered as make eval-teacher renders them; run
# make robustness or make eval-teacher first).
# Settings: READOUT_SMOOTHING (the stream's lag in the model's frames,
# default 4 as chordlet live's), READOUT_THRESHOLD (default 0),
# READOUT_LOOKAHEAD (seconds of lookahead the stream accepts: 30 admits a
# file-mode model, as the plugin streams one; default the library's live
# bound), READOUT_JOBS (cores),
# CHORDLET_SHARED (../shared). Work in work/readout/; prints one row per model.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/readout-eval.sh NAME=MODEL..." >&2; exit 2; }
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" && pwd)
SMOOTHING=${READOUT_SMOOTHING:-4}
THRESHOLD=${READOUT_THRESHOLD:-0}
LOOKAHEAD=${READOUT_LOOKAHEAD:-0.1}
JOBS=${READOUT_JOBS:-$(nproc 2>/dev/null || echo 2)}
AUDIO=work/eval-teacher/audio/pop909cl
REF=work/eval-teacher/ref/pop909cl
WORK=work/readout
die() { echo "readout-eval.sh: $*" >&2; exit 1; }
case $SMOOTHING in '' | *[!0-9]*) die "READOUT_SMOOTHING must be 0..25" ;; esac
case $LOOKAHEAD in '' | *[!0-9.]*) die "READOUT_LOOKAHEAD must be seconds, 0..30" ;; esac
[ "$SMOOTHING" -le 25 ] || die "READOUT_SMOOTHING must be 0..25"
[ -f build/libchordlet.a ] && [ -x build/chordlet ] || die "build/ is missing (make)"
mkdir -p "$WORK"
awk 'NR % 3 == 1' "$SHARED/data/splits/pop909cl_test.txt" >"$WORK/songs.txt"
while read -r id; do
  [ -f "$AUDIO/$id.flac" ] && [ -f "$REF/$id.lab" ] || die "$AUDIO/$id.flac or $REF/$id.lab is missing (make robustness)"
done <"$WORK/songs.txt"
# shellcheck disable=SC2046 # pkg-config's flags are words
cc -std=c11 -O2 -Iinclude -o "$WORK/stream" tests/pkgconfig_stream.c build/libchordlet.a \
  $(pkg-config --cflags --libs fftw3f sndfile soxr openblas zlib) -lm || die "cannot build the streaming program"
export OPENBLAS_NUM_THREADS=1 # one song per process, JOBS processes

for arg in "$@"; do
  name=${arg%%=*}
  model=${arg#*=}
  [ "$name" != "$arg" ] && [ -f "$model" ] || die "'$arg': give NAME=MODEL with a model file"
  case $name in '' | *[!A-Za-z0-9_.-]*) die "model name '$name': letters, digits, . _ - only" ;; esac
  dir=$WORK/$name-s$SMOOTHING-t$THRESHOLD
  rm -rf "$dir"
  mkdir -p "$dir/est" "$dir/ref"
  # One song: the chord changes (TIME<TAB>HARTE<TAB>CONFIDENCE) as segments up to
  # the next change or the end of the audio (a change the stream's last flush
  # places after the end is dropped).
  export MODEL_FILE="$model" DIR="$dir" SMOOTHING THRESHOLD LOOKAHEAD AUDIO
  # shellcheck disable=SC2016 # the inner shell expands its own variables
  xargs -P "$JOBS" -I{} sh -c '
    end=$(soxi -D "$AUDIO/{}.flac")
    "'"$WORK"'/stream" "$MODEL_FILE" "$AUDIO/{}.flac" "$SMOOTHING" "$THRESHOLD" "$LOOKAHEAD" 2>"$DIR/{}.err" |
      awk -F "\t" -v end="$end" "\$1 >= end { next }
        { if (n) printf \"%.3f\t%.3f\t%s\n\", t, \$1, c; t = \$1; c = \$2; n++ }
        END { if (n) printf \"%.3f\t%.3f\t%s\n\", t, end, c }" >"$DIR/est/{}.lab.tmp" &&
      mv "$DIR/est/{}.lab.tmp" "$DIR/est/{}.lab"' <"$WORK/songs.txt" || die "streaming failed ($name)"
  while read -r id; do
    [ -s "$dir/est/$id.lab" ] || die "$name: no chords from $AUDIO/$id.flac: $(cat "$dir/$id.err")"
    cp "$REF/$id.lab" "$dir/ref/"
  done <"$WORK/songs.txt"
  ./build/chordlet eval --json "$dir/ref" "$dir/est" >"$dir/score.json" || die "chordlet eval failed ($name)"
  python3 - "$name" "$dir/score.json" "$SMOOTHING" "$THRESHOLD" <<'EOF'
import json, sys
t = json.load(open(sys.argv[2]))["total"]
keys = ["root", "thirds", "triads", "sevenths", "tetrads", "majmin", "mirex"]
print("| %s (smoothing %s, threshold %s) | %s | **%.2f** |" % (
    sys.argv[1], sys.argv[3], sys.argv[4], " | ".join("%.2f" % (100 * t["scores"][k]) for k in keys), 100 * t["avg7"]))
EOF
done
