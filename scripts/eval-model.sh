#!/bin/sh
# eval-model.sh: a model's accuracy on a fixed split, through `chordlet
# transcribe` and `chordlet eval` (mir_eval's metrics, per-quality recall).
#   usage: scripts/eval-model.sh MODEL NAME [test|valid|valid-std] [DECODER]
# test:      the test split rendered with FluidR3_GM (the renders and references
#            of make eval-teacher, work/eval-teacher; rendered here if missing);
# valid:     the validation pool of make data (work/data/audio/valid: each song
#            rendered as the training pools are, its instruments drawn from five
#            families, its tempo, effects and level varied);
# valid-std: the validation songs rendered as the test split is (render-song.sh:
#            FluidR3_GM, the files' own instruments; work/eval-valid-std,
#            rendered here if missing). The test protocol on songs that may be
#            tuned on: pop909cl's piano arrangements played on the piano.
# Estimates and the JSON reports go to work/eval/NAME-SPLIT[-SOUNDFONT][-DECODER]/;
# the table of all songs is printed. Only the valid splits may be used for tuning.
# EVAL_TRANSCRIBE_ARGS: extra chordlet transcribe options (e.g. "--tuning 440"); give
# such a run its own NAME.
# EVAL_SOUNDFONT: test and valid-std rendered with another soundfont (.sf2 or
# .sf3) instead of FluidR3_GM, into work/eval-teacher-SOUNDFONT or
# work/eval-valid-std-SOUNDFONT (SOUNDFONT: the file's name without its
# extension): the same songs on instruments the training renders never used.
set -eu
cd "$(dirname "$0")/.."
MODEL=$1
NAME=$2
SPLIT=${3:-test}
DECODER=${4:-viterbi}
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" && pwd)
JOBS=$(nproc 2>/dev/null || echo 2)
OUT=work/eval/$NAME-$SPLIT
SOUNDFONT=${EVAL_SOUNDFONT:-}
SF_TAG=""
if [ -n "$SOUNDFONT" ]; then
  [ -f "$SOUNDFONT" ] || { echo "eval-model.sh: EVAL_SOUNDFONT: no such file: $SOUNDFONT" >&2; exit 2; }
  [ "$SPLIT" != valid ] || { echo "eval-model.sh: EVAL_SOUNDFONT is for the test and valid-std splits" >&2; exit 2; }
  SF_TAG=-$(basename "$SOUNDFONT" | sed 's/\.[^.]*$//')
  OUT=$OUT$SF_TAG
fi
[ "$DECODER" = viterbi ] || OUT=$OUT-$DECODER
mkdir -p "$OUT/all/ref" "$OUT/all/est"

# render_split SPLIT FOLDER: the split's songs rendered by render-song.sh into
# FOLDER/audio, their references into FOLDER/ref, unless all are there.
render_split() {
  n=$(cat "$SHARED"/data/splits/*_"$1".txt | wc -l)
  if [ ! -f "$2/songs.txt" ] || [ "$(find "$2/audio" -name '*.flac' 2>/dev/null | wc -l)" -lt "$n" ]; then
    mkdir -p "$2"
    for c in pop909cl nottingham synth; do
      mkdir -p "$2/ref/$c"
      while read -r id; do
        cp "$SHARED/data/midi/$c/$id.lab" "$2/ref/$c/$id.lab"
        echo "$c $id"
      done <"$SHARED/data/splits/${c}_$1.txt"
    done >"$2/songs.txt"
    while read -r c id; do echo "$SHARED $c $id $2/audio/$c/$id.flac"; done <"$2/songs.txt" |
      SF2=${SOUNDFONT:-/usr/share/sounds/sf2/FluidR3_GM.sf2} xargs -P "$JOBS" -L 1 sh scripts/render-song.sh
  fi
}

case $SPLIT in
test | valid-std)
  REF=work/eval-teacher
  [ "$SPLIT" = valid-std ] && REF=work/eval-valid-std
  REF=$REF$SF_TAG
  render_split "${SPLIT%-std}" "$REF"
  AUDIO=$REF/audio
  REFS=$REF/ref
  ;;
valid)
  AUDIO=work/data/audio/valid
  REFS=work/data/audio/valid
  ;;
*)
  echo "eval-model.sh: split must be test, valid or valid-std" >&2
  exit 2
  ;;
esac

for c in pop909cl nottingham synth; do
  mkdir -p "$OUT/est/$c"
  # shellcheck disable=SC2086 # EVAL_TRANSCRIBE_ARGS: a list of options
  ./build/chordlet transcribe --model "$MODEL" --decoder "$DECODER" ${EVAL_TRANSCRIBE_ARGS:-} --skip-existing -q \
    -o "$OUT/est/$c" "$AUDIO/$c"
  for f in "$OUT/est/$c"/*.lab; do
    n=$(basename "$f")
    cp "$REFS/$c/$n" "$OUT/all/ref/${c}_$n"
    cp "$f" "$OUT/all/est/${c}_$n"
  done
  ./build/chordlet eval --json "$OUT/all/ref" "$OUT/all/est" >/dev/null # validates the pairs early
  mkdir -p "$OUT/ref/$c"
  for f in "$OUT/est/$c"/*.lab; do cp "$REFS/$c/$(basename "$f")" "$OUT/ref/$c/"; done
  ./build/chordlet eval --json "$OUT/ref/$c" "$OUT/est/$c" >"$OUT/$c.json"
  echo "== $c"
  ./build/chordlet eval "$OUT/ref/$c" "$OUT/est/$c" | grep -E 'TOTAL|avg7'
done
./build/chordlet eval --json "$OUT/all/ref" "$OUT/all/est" >"$OUT/all.json"
echo "== all ($MODEL, $SPLIT split, $DECODER)"
./build/chordlet eval "$OUT/all/ref" "$OUT/all/est" | sed -n '/TOTAL/,$p'
