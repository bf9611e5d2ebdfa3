#!/bin/sh
# data_resume.sh: `make data` interrupted with kill -9 at several points and run
# again ends with the same files, byte for byte, as an uninterrupted run (a small
# budget: 2 songs per list, 1 teacher fold); then the same for `make model`
# (scripts/make-model.sh with tiny students and budgets on that data: stage 1 on
# renders, real music and degraded variants with KD targets, stage 2 with
# KD-only real-music windows and a weights' average, both students exported).
# Usage: data_resume.sh BUILD_DIR
set -u
BUILD=$1
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" 2>/dev/null && pwd)
[ -f "$SHARED/data/splits/pop909cl_valid.txt" ] || { echo "this test needs ../shared"; exit 77; }
TMP=$(mktemp -d)
trap 'pkill -9 -f "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT
export CHORDLET_SHARED="$SHARED" CHORDLET_TRAIN="$BUILD/chordlet-train" DATA_LIMIT=2 DATA_FOLDS=1 DATA_SEED=7
# augmented variants too (a quick run makes none unless asked): every step of make data is covered
export DATA_AUGMENT=level@0.5,noise@0.5
failures=0
checksums() { (cd "$1" && find . -type f ! -path './lists/*' | sort | xargs sha256sum); }

DATA_DIR="$TMP/clean" sh scripts/make-data.sh >"$TMP/clean.log" 2>&1 || { echo "not ok - clean run"; cat "$TMP/clean.log"; exit 1; }
checksums "$TMP/clean" >"$TMP/clean.sum"
n=$(wc -l <"$TMP/clean.sum")
# the labelled songs again on their own instruments, named ID.o, cached with the rest
if [ -n "$(find "$TMP/clean/audio/labelled-orig" -name '*.o.flac' 2>/dev/null)" ] &&
  [ "$(find "$TMP/clean/audio/labelled-orig" -name '*.o.flac' | wc -l)" -eq "$(find "$TMP/clean/audio/labelled" -name '*.flac' | wc -l)" ] &&
  [ -d "$TMP/clean/features/labelled-orig" ]; then
  echo "ok - make data renders the labelled pool on its own instruments (ID.o) and caches it"
else
  echo "not ok - no labelled-orig pool"; failures=$((failures + 1))
fi
for delay in 1 4 9; do
  DATA_DIR="$TMP/killed$delay" sh scripts/make-data.sh >"$TMP/k.log" 2>&1 &
  pid=$!
  sleep "$delay"
  # kill the script and every worker under it, as a power cut would
  pkill -9 -f "$TMP/killed$delay" 2>/dev/null
  kill -9 "$pid" 2>/dev/null
  pkill -9 -P "$pid" 2>/dev/null
  # a process in uninterruptible I/O dies only when the read returns: wait (10 s at most)
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    pgrep -f "$TMP/killed$delay" >/dev/null 2>&1 || break
    sleep 0.5
  done
  DATA_DIR="$TMP/killed$delay" sh scripts/make-data.sh >"$TMP/k2.log" 2>&1
  rc=$?
  checksums "$TMP/killed$delay" >"$TMP/k.sum"
  if [ "$rc" -eq 0 ] && cmp -s "$TMP/clean.sum" "$TMP/k.sum"; then
    echo "ok - killed after ${delay}s and resumed: all $n files byte-equal to the uninterrupted run"
  else
    echo "not ok - killed after ${delay}s: the resumed run exited $rc; files differ:"
    diff "$TMP/clean.sum" "$TMP/k.sum" | grep -c '^[<>]' | sed 's/^/  lines differing: /'
    diff "$TMP/clean.sum" "$TMP/k.sum" | head
    echo "  the resumed run's log ends:"
    tail -n 15 "$TMP/k2.log" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
  leftovers=$(find "$TMP/killed$delay" -name '*.tmp*' | wc -l)
  [ "$leftovers" -eq 0 ] || { echo "not ok - $leftovers temporary files left"; failures=$((failures + 1)); }
done
# make model: tiny live and file-mode students, every new step switched on.
export DATA_DIR="$TMP/clean" STAGE1_STEPS=8 STAGE2_STEPS=8 OFFLINE_STAGE1_STEPS=8 OFFLINE_STAGE2_STEPS=8 \
  STAGE1_TARGET=kd STAGE2_ALPHA=0.3 MODEL_EMA=0.9 MODEL_THREADS=2 CHORDLET_COMMIT=test \
  MODEL_ARGS="--layers 1/1/1 --heads 2/2/2 --ff-mult 1 --context 8 --frames 32 --batch 4 --checkpoint-every 2" \
  OFFLINE_ARGS="--frame-step 3 --layers 1/1/1 --heads 2/2/2 --ff-mult 1 --context 4 --lookahead 4 --frames 16 --batch 4 --checkpoint-every 2"
models_of() { (cd "$1" && sha256sum default.chordlet offline.chordlet); }
# Every run trains in the same folders ($TMP/r, $TMP/m), moved aside afterwards:
# a model names the stage-1 model it started from, path included.
RUNS_DIR="$TMP/r" MODEL_OUT="$TMP/m" sh scripts/make-model.sh >"$TMP/m.log" 2>&1 ||
  { echo "not ok - make model (clean run)"; tail -n 20 "$TMP/m.log"; exit 1; }
mv "$TMP/r" "$TMP/runs-clean" && mv "$TMP/m" "$TMP/models-clean"
# (real music: wesnoth-1.16-music and singularity-music, installed by scripts/debian-packages)
{ [ ! -d "$TMP/clean/features/real" ] || "$BUILD/chordlet" info "$TMP/models-clean/default.chordlet" | grep -q "KD-only: "; } &&
  "$BUILD/chordlet" info "$TMP/models-clean/offline.chordlet" | grep -q "alpha=1 " &&
  echo "ok - make model: both students, stage 2 with KD-only real-music windows, stage 1 on KD targets" ||
  { echo "not ok - make model's students do not name the new steps"; failures=$((failures + 1)); }
models_of "$TMP/models-clean" >"$TMP/models-clean.sum"
for delay in 2 5; do
  RUNS_DIR="$TMP/r" MODEL_OUT="$TMP/m" sh scripts/make-model.sh >"$TMP/m.log" 2>&1 &
  pid=$!
  sleep "$delay"
  pkill -9 -f "$TMP/r/" 2>/dev/null
  kill -9 "$pid" 2>/dev/null
  pkill -9 -P "$pid" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pgrep -f "$TMP/r/" >/dev/null 2>&1 || break
    sleep 0.5
  done
  RUNS_DIR="$TMP/r" MODEL_OUT="$TMP/m" sh scripts/make-model.sh >"$TMP/m2.log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] && models_of "$TMP/m" | cmp -s - "$TMP/models-clean.sum"; then
    echo "ok - make model killed after ${delay}s and resumed: both students byte-equal to the uninterrupted run"
  else
    echo "not ok - make model killed after ${delay}s: the resumed run exited $rc, or its students differ"
    tail -n 15 "$TMP/m2.log" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
  rm -rf "$TMP/r" "$TMP/m"
done
echo "# $failures failed"
[ "$failures" -eq 0 ]
