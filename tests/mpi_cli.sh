#!/bin/sh
# mpi_cli.sh: chordlet-train over MPI ranks (issue 16), on a build made with
# `make MPI=1`, with tiny data (segments of the demo song, a tiny student):
#   1. the build is MPI's: under mpirun a command that cannot share its work
#      (stats) refuses; the plain build's single-process behaviour is what
#      every other test checks;
#   2. sharded data preparation: pseudo-label, features (2 augmented variants)
#      and render (2 songs x 2 variants) on 2 ranks write byte-identical
#      folders to 1-process runs; the summary line is printed once (rank 0),
#      and the inputs are shared out (failures on inputs 0 and 1 are reported
#      by ranks 0 and 1);
#   3. training: stage1 for 50 steps on 2 ranks x 1 thread ends bit-identical
#      (largest parameter difference 0: the checkpoint, best and final model
#      files are equal bytes; the loss curve in log.csv too) to 1 rank x 2
#      threads and 1 rank x 1 thread; stage2 (--kd-train, --ema) and
#      supervised likewise on 2 ranks;
#   4. failure: rank 1 (then rank 0) killed with SIGKILL mid-run: mpirun exits
#      non-zero within 30 s, no rank is left, the last checkpoint survives,
#      and --resume on 1 rank (2 threads) and on 2 ranks ends byte-equal to
#      the uninterrupted run; a rank killed from outside (kill -9) stops the
#      job within 30 s; a stuck rank (SIGSTOP) is found by the watchdog
#      (CHORDLET_RANK_TIMEOUT) and the job stops with a message.
# Usage: mpi_cli.sh MPI_BUILD_DIR   (exit 77 without mpirun or ../shared)
set -u
BUILD=$1
TRAIN=$BUILD/chordlet-train
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" 2>/dev/null && pwd)
command -v mpirun >/dev/null 2>&1 || { echo "this test needs OpenMPI (apt-get install openmpi-bin libopenmpi-dev)"; exit 77; }
[ -f "$SHARED/models/teacher/manifest.json" ] || { echo "this test needs ../shared"; exit 77; }
command -v sox >/dev/null 2>&1 || { echo "this test needs sox"; exit 77; }
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || { echo "this test needs fluid-soundfont-gm"; exit 77; }
[ -x "$TRAIN" ] || { echo "no chordlet-train in $BUILD (make MPI=1 BUILD=$BUILD)"; exit 1; }
# As root (CI, containers) OpenMPI wants these; --oversubscribe: 2 ranks on any machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset CHORDLET_TEST_KILL_AT_STEP CHORDLET_TEST_KILL_RANK CHORDLET_RANK_TIMEOUT
MPIRUN="timeout 120 mpirun --oversubscribe"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
t0=$(date +%s)

# 1. The build.
$MPIRUN -np 2 "$TRAIN" stats "$TMP" >"$TMP/out" 2>&1
status=$?
[ $status -eq 2 ] && grep -q "runs on one process" "$TMP/out" &&
  ok "MPI build: under mpirun, stats (not shared out) refuses" || { bad "MPI build check (exit $status)"; cat "$TMP/out"; }

# 2. Data preparation. Five 4 s segments of the demo; the teacher on 1 fold.
mkdir "$TMP/in" "$TMP/lab"
for i in 0 1 2 3 4; do sox examples/synth0046.flac "$TMP/in/seg$i.flac" trim $((i * 4)) 4; done
cp examples/synth0046.flac examples/synth0046.lab "$TMP/lab/"
same_dirs() { diff -r "$1" "$2" >"$TMP/diff" 2>&1 && [ -n "$(ls "$1")" ]; }
"$TRAIN" pseudo-label --folds 1 --jobs 1 --out "$TMP/pl1" "$TMP/in" 2>"$TMP/err1"
$MPIRUN -np 2 "$TRAIN" pseudo-label --folds 1 --jobs 1 --out "$TMP/pl2" "$TMP/in" 2>"$TMP/err2"
status=$?
if [ $status -eq 0 ] && same_dirs "$TMP/pl1" "$TMP/pl2" && [ "$(grep -c "5 labelled" "$TMP/err2")" -eq 1 ]; then
  ok "pseudo-label on 2 ranks: byte-identical caches, one summary for the whole job"
else
  bad "pseudo-label on 2 ranks (exit $status)"
  cat "$TMP/err2" "$TMP/diff"
fi
AUG="--folds 1 --jobs 1 --variants 2 --augment detune,noise --seed 3"
# shellcheck disable=SC2086
"$TRAIN" features $AUG --pseudo "$TMP/pl1" --out "$TMP/ft1" "$TMP/in" 2>"$TMP/err1"
# shellcheck disable=SC2086
$MPIRUN -np 2 "$TRAIN" features $AUG --pseudo "$TMP/pl2" --out "$TMP/ft2" "$TMP/in" 2>"$TMP/err2"
status=$?
if [ $status -eq 0 ] && same_dirs "$TMP/ft1" "$TMP/ft2" && [ "$(ls "$TMP/ft2" | wc -l)" -eq 10 ] &&
  [ "$(grep -c "10 cached" "$TMP/err2")" -eq 1 ]; then
  ok "features (2 augmented variants) on 2 ranks: byte-identical caches, one summary"
else
  bad "features on 2 ranks (exit $status)"
  cat "$TMP/err2" "$TMP/diff"
fi
# Inputs are shared out round robin: input 0 is rank 0's, input 1 rank 1's,
# input 2 (the whole demo, 5 folds) rank 0's again: rank 1 finishes its share
# long before rank 0, whose progress must still count it.
mkdir "$TMP/broken"
printf 'not audio' >"$TMP/broken/a.flac"
printf 'not audio either' >"$TMP/broken/b.flac"
timeout 60 mpirun --oversubscribe --tag-output -np 2 "$TRAIN" pseudo-label --jobs 1 --out "$TMP/plb" \
  "$TMP/broken/a.flac" "$TMP/broken/b.flac" examples/synth0046.flac >"$TMP/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -q '\[[0-9]*,0\]<stderr>:.*a\.flac' "$TMP/out" && grep -q '\[[0-9]*,1\]<stderr>:.*b\.flac' "$TMP/out" &&
  [ "$(grep -c "1 labelled, 0 already cached, 2 failed" "$TMP/out")" -eq 1 ]; then
  ok "the inputs are shared out over ranks (failures reported by their rank; one summary; exit 1)"
else
  bad "sharing out of inputs (exit $status)"
  cat "$TMP/out"
fi
# Two tiny songs (block chords, 4 s and 3 s) rendered in 2 variants.
/usr/bin/python3 - "$TMP/midi" <<'EOF'
import os, sys
def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.insert(0, 0x80 | (n & 0x7F))
        n >>= 7
    return bytes(out)
os.makedirs(sys.argv[1])
for name, chords in (("one", [(0, "C"), (5, "F"), (7, "G"), (0, "C")]), ("two", [(9, "A:min"), (2, "D:min"), (7, "G")])):
    # 120 BPM, 960 ticks a beat: a chord every 1920 ticks (a second)
    track, last, events = vlq(0) + bytes([0xC0, 0]), 0, []
    for i, (root, _) in enumerate(chords):
        for key in (48 + root, 52 + root, 55 + root):
            events += [(i * 1920, 1, bytes([0x90, key, 96])), ((i + 1) * 1920 - 20, 0, bytes([0x80, key, 0]))]
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track += vlq(tick - last) + message
        last = tick
    track += vlq(len(chords) * 1920 - last) + b"\xff\x2f\x00"
    data = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + (960).to_bytes(2, "big")
    open("%s/%s.mid" % (sys.argv[1], name), "wb").write(data + b"MTrk" + len(track).to_bytes(4, "big") + track)
    with open("%s/%s.lab" % (sys.argv[1], name), "w") as f:  # a chord a second
        f.writelines("%d.000000 %d.000000 %s\n" % (i, i + 1, c) for i, (_, c) in enumerate(chords))
EOF
REN="--families piano --variants 2 --seed 1 --jobs 1"
# shellcheck disable=SC2086
timeout 120 "$TRAIN" render -q $REN --out "$TMP/ren1" "$TMP/midi/one.mid" "$TMP/midi/two.mid" 2>"$TMP/err1"
# shellcheck disable=SC2086
$MPIRUN -np 2 "$TRAIN" render $REN --out "$TMP/ren2" "$TMP/midi/one.mid" "$TMP/midi/two.mid" 2>"$TMP/err2"
status=$?
if [ $status -eq 0 ] && same_dirs "$TMP/ren1" "$TMP/ren2" && [ "$(find "$TMP/ren2" -name '*.flac' | wc -l)" -eq 4 ] &&
  [ "$(grep -c "4 rendered" "$TMP/err2")" -eq 1 ]; then
  ok "render (2 songs x 2 variants) on 2 ranks: byte-identical audio, labels and sidecars, one summary"
else
  bad "render on 2 ranks (exit $status)"
  cat "$TMP/err1" "$TMP/err2" "$TMP/diff"
fi

# 3. Training: the demo song's features (labels and pseudo-labels), a tiny student.
"$TRAIN" pseudo-label --folds 1 --out "$TMP/plt" "$TMP/lab" 2>/dev/null &&
  "$TRAIN" features --folds 1 --pseudo "$TMP/plt" --out "$TMP/ftt" "$TMP/lab" 2>/dev/null || bad "training caches"
TINY="--layers 1/1/1 --heads 2/2/2 --ff-mult 1 --context 8 --lookahead 1 --frames 32 --batch 4 -q"
S1="--steps 50 --checkpoint-every 10 --valid-every 10"
train() { # train RANKS THREADS STAGE RUN [options]
  ranks=$1 threads=$2 stage=$3 run=$4
  shift 4
  if [ "$ranks" -eq 1 ]; then
    # shellcheck disable=SC2086
    timeout 120 "$TRAIN" "$stage" $TINY --threads "$threads" --out "$run" --train "$TMP/ftt" --valid "$TMP/ftt" "$@"
  else
    # shellcheck disable=SC2086
    $MPIRUN -np "$ranks" "$TRAIN" "$stage" $TINY --threads "$threads" --out "$run" --train "$TMP/ftt" --valid "$TMP/ftt" "$@"
  fi
}
same_run() { # byte-equal models and checkpoint; equal logs but for frames/s
  cmp -s "$1/final.chordlet" "$2/final.chordlet" && cmp -s "$1/best.chordlet" "$2/best.chordlet" &&
    cmp -s "$1/checkpoint.chordlet" "$2/checkpoint.chordlet" &&
    [ "$(cut -d, -f1-8,10- "$1/log.csv")" = "$(cut -d, -f1-8,10- "$2/log.csv")" ] && [ -s "$1/final.chordlet" ]
}
# shellcheck disable=SC2086
train 1 2 stage1 "$TMP/a12" $S1 2>"$TMP/err" || { bad "stage1, 1 rank"; cat "$TMP/err"; }
# shellcheck disable=SC2086
train 2 1 stage1 "$TMP/a21" $S1 2>"$TMP/err" || { bad "stage1, 2 ranks"; cat "$TMP/err"; }
# shellcheck disable=SC2086
train 1 1 stage1 "$TMP/a11" $S1 2>"$TMP/err" || { bad "stage1, 1 rank 1 thread"; cat "$TMP/err"; }
if same_run "$TMP/a12" "$TMP/a21" && same_run "$TMP/a12" "$TMP/a11" && [ "$(wc -l <"$TMP/a21/log.csv")" -ge 6 ]; then
  ok "stage1, 50 steps: 2 ranks x 1 thread = 1 rank x 2 threads = 1 x 1, bit for bit (models, checkpoint, loss curve)"
else
  bad "stage1 differs between 1 and 2 ranks"
  diff "$TMP/a12/log.csv" "$TMP/a21/log.csv" | head -10
fi
S2="--init $TMP/a12/best.chordlet --steps 12 --checkpoint-every 4 --valid-every 4 --kd-train $TMP/ftt --kd-share 0.5 --ema 0.9"
# shellcheck disable=SC2086
train 1 2 stage2 "$TMP/b12" $S2 2>"$TMP/err" && train 2 1 stage2 "$TMP/b21" $S2 2>>"$TMP/err" &&
  same_run "$TMP/b12" "$TMP/b21" && cmp -s "$TMP/b12/ema.chordlet" "$TMP/b21/ema.chordlet" &&
  ok "stage2 (selective KD, --kd-train, --ema) on 2 ranks: bit-identical to 1 rank" || { bad "stage2 on 2 ranks"; cat "$TMP/err"; }
train 1 2 supervised "$TMP/c12" --steps 10 --valid-every 5 2>"$TMP/err" &&
  train 2 1 supervised "$TMP/c21" --steps 10 --valid-every 5 2>>"$TMP/err" && same_run "$TMP/c12" "$TMP/c21" &&
  ok "supervised on 2 ranks: bit-identical to 1 rank" || { bad "supervised on 2 ranks"; cat "$TMP/err"; }

# 4. Failure. A rank kills itself with SIGKILL after step 25 (between the
# checkpoints of steps 20 and 30; no race), then the run is resumed.
killed_run() { # killed_run RANK RUN: exit status in $status, seconds in $took
  start=$(date +%s)
  # shellcheck disable=SC2086
  CHORDLET_TEST_KILL_AT_STEP=25 CHORDLET_TEST_KILL_RANK=$1 train 2 1 stage1 "$2" $S1 >"$TMP/killout" 2>&1
  status=$?
  took=$(($(date +%s) - start))
}
left_behind() { pgrep -f "^$TRAIN stage1 .*$1" >/dev/null; }
killed_run 1 "$TMP/k1"
if [ $status -ne 0 ] && [ $status -ne 124 ] && [ "$took" -lt 30 ] && ! left_behind "$TMP/k1" &&
  [ -s "$TMP/k1/checkpoint.chordlet" ] && [ ! -e "$TMP/k1/final.chordlet" ] && grep -q "rank 1" "$TMP/killout"; then
  ok "rank 1 killed (SIGKILL) at step 25: the job stops in $took s, exit $status, a checkpoint, no final model"
else
  bad "rank 1 killed: exit $status after $took s"
  cat "$TMP/killout"
fi
# shellcheck disable=SC2086
train 1 2 stage1 "$TMP/k1" $S1 --resume 2>"$TMP/err" || { bad "resume on 1 rank"; cat "$TMP/err"; }
same_run "$TMP/a12" "$TMP/k1" && ok "resumed on 1 rank x 2 threads: byte-equal to the uninterrupted run" ||
  { bad "1-rank resume differs"; diff "$TMP/a12/log.csv" "$TMP/k1/log.csv" | head; }
killed_run 0 "$TMP/k0"
if [ $status -ne 0 ] && [ $status -ne 124 ] && [ "$took" -lt 30 ] && ! left_behind "$TMP/k0"; then
  ok "rank 0 killed at step 25: the job stops in $took s, exit $status"
else
  bad "rank 0 killed: exit $status after $took s"
  cat "$TMP/killout"
fi
# shellcheck disable=SC2086
train 2 1 stage1 "$TMP/k0" $S1 --resume 2>"$TMP/err" || { bad "resume on 2 ranks"; cat "$TMP/err"; }
same_run "$TMP/a12" "$TMP/k0" && ok "resumed on 2 ranks: byte-equal to the uninterrupted run" ||
  { bad "2-rank resume differs"; diff "$TMP/a12/log.csv" "$TMP/k0/log.csv" | head; }

# A rank killed from outside, and a rank stuck: a long run, stopped once it
# has written a checkpoint. mid_run SIGNAL RUN TIMEOUT: $status, $took, $pid.
mid_run() {
  CHORDLET_RANK_TIMEOUT=$3 train 2 1 stage1 "$2" --steps 100000 --checkpoint-every 20 --valid-every 100000 \
    >"$TMP/midout" 2>&1 &
  job=$!
  n=0
  while [ ! -s "$2/checkpoint.chordlet" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
  pid=$(pgrep -f "^$TRAIN stage1 .*$2" | tail -n 1)
  start=$(date +%s)
  [ -n "$pid" ] && kill "-$1" "$pid"
  wait $job
  status=$?
  took=$(($(date +%s) - start))
  [ "$1" = STOP ] && [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null
}
mid_run KILL "$TMP/x" 600
if [ -n "$pid" ] && [ $status -ne 0 ] && [ $status -ne 124 ] && [ "$took" -lt 30 ] && ! left_behind "$TMP/x" &&
  [ -s "$TMP/x/checkpoint.chordlet" ]; then
  ok "kill -9 of a rank from outside: the job stops in $took s (exit $status), the checkpoint is kept"
else
  bad "kill -9 from outside: exit $status after $took s (pid '$pid')"
  cat "$TMP/midout"
fi
mid_run STOP "$TMP/y" 5
if [ -n "$pid" ] && [ $status -ne 0 ] && [ $status -ne 124 ] && [ "$took" -lt 30 ] &&
  grep -q "waited 5 s for the other ranks" "$TMP/midout"; then
  ok "a stuck rank (SIGSTOP): the watchdog stops the job in $took s with a message (exit $status)"
else
  bad "stuck rank: exit $status after $took s"
  cat "$TMP/midout"
fi
sleep 1
left_behind "$TMP/" && { bad "ranks left running"; pkill -KILL -f "^$TRAIN stage1 .*$TMP/"; }

echo "# $failures failed ($(($(date +%s) - t0)) s)"
[ "$failures" -eq 0 ]
