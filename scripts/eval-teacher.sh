#!/bin/sh
# eval-teacher.sh: the teacher's accuracy on the fixed test split, the numbers
# in docs/RESULTS.md. Renders every test song of ../shared/data/splits/*_test.txt
# with fluidsynth's command line and the FluidR3_GM soundfont (22050 Hz mono,
# trimmed to the .lab's end, as shared/data/README.md describes), transcribes
# them with models/teacher.chordlet, and scores them with chordlet eval, per
# collection and overall. Work goes to work/ (ignored); renders are reused.
#   usage: scripts/eval-teacher.sh [SHARED_DIR]     (make eval-teacher)
set -eu
cd "$(dirname "$0")/.."
SHARED=$(cd "${1:-${CHORDLET_SHARED:-../shared}}" && pwd)
WORK=work/eval-teacher
JOBS=$(nproc 2>/dev/null || echo 2)
mkdir -p "$WORK"

for c in pop909cl nottingham synth; do
  mkdir -p "$WORK/ref/$c" "$WORK/est/$c"
  while read -r id; do
    cp "$SHARED/data/midi/$c/$id.lab" "$WORK/ref/$c/$id.lab"
    echo "$c $id"
  done <"$SHARED/data/splits/${c}_test.txt"
done >"$WORK/songs.txt"
echo "rendering $(wc -l <"$WORK/songs.txt") test songs with FluidR3_GM ($JOBS at a time)..."
while read -r c id; do echo "$SHARED $c $id $WORK/audio/$c/$id.flac"; done <"$WORK/songs.txt" |
  xargs -P "$JOBS" -L 1 sh scripts/render-song.sh

# Both decoders: the model's Viterbi (the default) and the plain argmax of the
# 170 classes. est/ and est-argmax/ hold their .lab files.
for decoder in viterbi argmax; do
  est=est
  [ "$decoder" = argmax ] && est=est-argmax
  for c in pop909cl nottingham synth; do
    echo "transcribing $c ($decoder)..."
    mkdir -p "$WORK/$est/$c"
    ./build/chordlet transcribe --model models/teacher.chordlet --decoder "$decoder" --skip-existing -q \
      -o "$WORK/$est/$c" "$WORK/audio/$c"
  done
  mkdir -p "$WORK/all/ref" "$WORK/all/$est"
  for c in pop909cl nottingham synth; do
    for f in "$WORK/ref/$c"/*.lab; do
      n=$(basename "$f")
      cp "$f" "$WORK/all/ref/${c}_$n"
      cp "$WORK/$est/$c/$n" "$WORK/all/$est/${c}_$n"
    done
  done
  suffix=""
  [ "$decoder" = argmax ] && suffix=".argmax"
  for c in pop909cl nottingham synth; do
    echo "== $c ($decoder)"
    ./build/chordlet eval "$WORK/ref/$c" "$WORK/$est/$c" | grep -E '^file|TOTAL|avg7'
    ./build/chordlet eval --json "$WORK/ref/$c" "$WORK/$est/$c" >"$WORK/$c$suffix.json"
  done
  echo "== all test songs ($decoder)"
  ./build/chordlet eval "$WORK/all/ref" "$WORK/all/$est" | sed -n '/TOTAL/,$p'
  ./build/chordlet eval --json "$WORK/all/ref" "$WORK/all/$est" >"$WORK/all$suffix.json"
done
