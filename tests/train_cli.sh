#!/bin/sh
# train_cli.sh: the student's training runs on a tiny model and the demo song.
#   1. stage1 runs, writes checkpoint, best, final, log.csv;
#   2. a run killed with -9 after a checkpoint and resumed ends byte-equal to an
#      uninterrupted run (final model, best model, log), in stage 1 and in
#      stage 2 with selective KD;
#   3. stage2 (selective KD) from stage 1's model and the supervised baseline run;
#   4. the student transcribes a file (chordlet transcribe --model) and its model
#      file names its data, stages and commit (chordlet info); export sets the
#      decoder's penalty and keeps the provenance;
#   5. a file-mode student (--frame-step 3: 60 ms frames, a long lookahead):
#      its file says hop 60 ms and not streamable, it transcribes, stage 2
#      continues it only at the same frame step, chordlet live refuses it;
#   6. stage 2 with KD-only windows of unlabelled audio (--kd-train: real music)
#      and a moving average of the weights (--ema): both change the result,
#      ema.chordlet is written, the log has the average's validation, and a
#      run killed with -9 resumes byte-equal to an uninterrupted one;
#   7. misuse fails clearly: a second run into the same folder, a resume with
#      other options, a corrupt checkpoint, two caches of one song, stage2
#      without --init, caches or an --init of another front end.
# Usage: train_cli.sh BUILD_DIR   (needs CHORDLET_SHARED for the teacher; exit 77 without it)
set -u
BUILD=$1
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" 2>/dev/null && pwd)
[ -f "$SHARED/models/teacher/manifest.json" ] || { echo "this test needs ../shared"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
TRAIN="$BUILD/chordlet-train"
mkdir "$TMP/in"
cp examples/synth0046.flac examples/synth0046.lab "$TMP/in/"
"$TRAIN" pseudo-label --folds 1 --out "$TMP/pl" "$TMP/in" 2>/dev/null
"$TRAIN" features --folds 1 --pseudo "$TMP/pl" --out "$TMP/ft" "$TMP/in" 2>/dev/null ||
  { bad "feature cache"; exit 1; }

# A tiny student: fast, but every layer kind is there.
TINY="--layers 1/1/1 --heads 2/2/2 --ff-mult 1 --context 8 --lookahead 1 --frames 32 --batch 4 --threads 2 -q"
train() { # train STAGE RUN [options]
  stage=$1 run=$2
  shift 2
  # shellcheck disable=SC2086
  "$TRAIN" "$stage" $TINY --out "$run" --train "$TMP/ft" --valid "$TMP/ft" "$@"
}

if train stage1 "$TMP/a" --steps 24 --checkpoint-every 4 --valid-every 8 2>"$TMP/err" &&
  [ -s "$TMP/a/checkpoint.chordlet" ] && [ -s "$TMP/a/best.chordlet" ] && [ -s "$TMP/a/final.chordlet" ] &&
  [ "$(wc -l <"$TMP/a/log.csv")" -ge 4 ]; then
  ok "stage1: checkpoint, best, final and log"
else
  bad "stage1 run"
  cat "$TMP/err"
fi

same_run() { # same_run A B: equal final and best models, equal logs but for frames/s
  cmp -s "$1/final.chordlet" "$2/final.chordlet" && cmp -s "$1/best.chordlet" "$2/best.chordlet" &&
    [ "$(cut -d, -f1-8,10- "$1/log.csv")" = "$(cut -d, -f1-8,10- "$2/log.csv")" ]
}

# Killed (SIGKILL, as kill -9) right after step 6, between the checkpoints of
# steps 4 and 8 (CHORDLET_TEST_KILL_AT_STEP makes the trainer kill itself
# there, so the test is not a race), then resumed.
CHORDLET_TEST_KILL_AT_STEP=6 train stage1 "$TMP/b" --steps 24 --checkpoint-every 4 --valid-every 8 2>/dev/null
status=$?
[ $status -eq 137 ] && [ -s "$TMP/b/checkpoint.chordlet" ] && [ ! -e "$TMP/b/final.chordlet" ] &&
  ok "killed at step 6: exit 137, a checkpoint, no final model" || bad "kill at step 6 (exit $status)"
train stage1 "$TMP/b" --steps 24 --checkpoint-every 4 --valid-every 8 --resume 2>"$TMP/err" ||
  { bad "resume"; cat "$TMP/err"; }
if same_run "$TMP/a" "$TMP/b"; then
  ok "killed and resumed: byte-equal to the uninterrupted run (models; the log but for frames/s)"
else
  bad "resumed run differs"
  diff "$TMP/a/log.csv" "$TMP/b/log.csv" | head -20
fi

train stage2 "$TMP/c" --init "$TMP/a/best.chordlet" --steps 6 --valid-every 3 2>"$TMP/err" &&
  awk -F, 'NR > 1 && $6 > 0 { found = 1 } END { exit !found }' "$TMP/c/log.csv" &&
  ok "stage2 from stage 1 with selective KD (KD term in the log)" || { bad "stage2"; cat "$TMP/err" "$TMP/c/log.csv"; }
# The same for stage 2 (selective KD, from stage 1's model): killed between
# checkpoints, resumed, byte-equal to an uninterrupted run.
S2="--init $TMP/a/best.chordlet --steps 12 --checkpoint-every 4 --valid-every 4"
# shellcheck disable=SC2086
train stage2 "$TMP/c2" $S2 2>/dev/null
# shellcheck disable=SC2086
CHORDLET_TEST_KILL_AT_STEP=6 train stage2 "$TMP/c3" $S2 2>/dev/null
status=$?
# shellcheck disable=SC2086
train stage2 "$TMP/c3" $S2 --resume 2>"$TMP/err" || { bad "stage2 resume"; cat "$TMP/err"; }
if [ $status -eq 137 ] && [ -s "$TMP/c2/final.chordlet" ] && same_run "$TMP/c2" "$TMP/c3"; then
  ok "stage2 killed at step 6 (exit 137) and resumed: byte-equal to the uninterrupted run"
else
  bad "stage2 kill/resume (exit $status)"
  diff "$TMP/c2/log.csv" "$TMP/c3/log.csv" | head -20
fi
# Stage 2 with real-music windows that carry KD only, and a weights' average.
# The unlabelled song: the demo under another name, with no .lab beside it.
mkdir "$TMP/realin"
cp examples/synth0046.flac "$TMP/realin/tune.flac"
"$TRAIN" pseudo-label --folds 1 --out "$TMP/pl" "$TMP/realin" 2>/dev/null
"$TRAIN" features --folds 1 --pseudo "$TMP/pl" --out "$TMP/ftreal" "$TMP/realin" 2>/dev/null || bad "real-music cache"
S2K="--init $TMP/a/best.chordlet --steps 12 --checkpoint-every 4 --valid-every 4 --kd-train $TMP/ftreal --kd-share 0.5 --ema 0.9"
# shellcheck disable=SC2086
if train stage2 "$TMP/k1" $S2K 2>"$TMP/err" && [ -s "$TMP/k1/ema.chordlet" ] &&
  awk -F, 'NR == 1 { ok = $11 == "valid_ema_accuracy" } NR > 1 && $10 >= 0 && $11 < 0 { ok = 0 } END { exit !ok }' "$TMP/k1/log.csv" &&
  "$BUILD/chordlet" info "$TMP/k1/best.chordlet" | grep -q "KD-only: 1 songs" &&
  ! cmp -s "$TMP/k1/final.chordlet" "$TMP/c2/final.chordlet" && ! cmp -s "$TMP/k1/final.chordlet" "$TMP/k1/ema.chordlet"; then
  ok "stage2 with KD-only real-music windows and --ema: ema.chordlet, the average validated, named in the model"
else
  bad "stage2 --kd-train --ema"
  cat "$TMP/err" "$TMP/k1/log.csv"
fi
# shellcheck disable=SC2086
CHORDLET_TEST_KILL_AT_STEP=7 train stage2 "$TMP/k2" $S2K 2>/dev/null
status=$?
# shellcheck disable=SC2086
train stage2 "$TMP/k2" $S2K --resume 2>"$TMP/err" || { bad "stage2 --kd-train resume"; cat "$TMP/err"; }
if [ $status -eq 137 ] && same_run "$TMP/k1" "$TMP/k2" && cmp -s "$TMP/k1/ema.chordlet" "$TMP/k2/ema.chordlet"; then
  ok "stage2 --kd-train --ema killed at step 7 and resumed: byte-equal, the average too"
else
  bad "stage2 --kd-train --ema kill/resume (exit $status)"
  diff "$TMP/k1/log.csv" "$TMP/k2/log.csv" | head -20
fi
# Ground truth alone on the labelled windows (--alpha 0), KD alone on the real
# music's (--kd-weight): the labelled caches' teacher is not even loaded.
S2W="--init $TMP/a/best.chordlet --steps 6 --valid-every 6 --alpha 0"
# shellcheck disable=SC2086
if train stage2 "$TMP/w0" $S2W 2>"$TMP/err" && train stage2 "$TMP/w1" $S2W --kd-train "$TMP/ftreal" --kd-weight 0.5 2>>"$TMP/err" &&
  awk -F, 'NR > 1 && $6 > 0 { found = 1 } END { exit !found }' "$TMP/w1/log.csv" &&
  ! cmp -s "$TMP/w0/final.chordlet" "$TMP/w1/final.chordlet"; then
  ok "stage2 --alpha 0 --kd-weight 0.5: KD on the real music's windows only"
else
  bad "stage2 --kd-weight"
  cat "$TMP/err"
fi
# shellcheck disable=SC2086
train stage2 "$TMP/k3" --init "$TMP/a/best.chordlet" --steps 3 --alpha 0 --kd-train "$TMP/ftreal" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "alpha" "$TMP/err" && ok "--kd-train without a KD weight: usage error" ||
  { bad "--kd-train with alpha 0"; cat "$TMP/err"; }
train stage1 "$TMP/k4" --steps 3 --kd-train "$TMP/ftreal" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "stage 2" "$TMP/err" && ok "--kd-train in stage 1: usage error" ||
  { bad "--kd-train in stage 1"; cat "$TMP/err"; }
# --reach: stage 2 fine-tunes stage 1's model to another context and lookahead
# (ALiBi: no parameter depends on them); the model carries the new reach, and
# the resume check knows it.
ctx0=$("$BUILD/chordlet" info "$TMP/a/best.chordlet" | awk '$1 == "student.context" { print $2 }')
train stage2 "$TMP/r1" --init "$TMP/a/best.chordlet" --steps 2 --valid-every 2 --reach 7/5 2>"$TMP/err" &&
  [ "$("$BUILD/chordlet" info "$TMP/r1/best.chordlet" | awk '$1 == "student.context" || $1 == "student.lookahead" { printf "%s ", $2 }')" = "7 5 " ] &&
  [ "$ctx0" != 7 ] && ok "stage2 --reach 7/5: the model's context and lookahead are 7 and 5 (stage 1's context: $ctx0)" ||
  { bad "stage2 --reach"; cat "$TMP/err"; }
train stage2 "$TMP/r1" --init "$TMP/a/best.chordlet" --steps 2 --valid-every 2 --resume 2>"$TMP/err"
[ $? -ne 0 ] && grep -q -i "option" "$TMP/err" && ok "resuming a --reach run without it: refused (other options)" ||
  { bad "resume without --reach"; cat "$TMP/err"; }
train stage1 "$TMP/r2" --steps 2 --reach 7/5 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "stage 2" "$TMP/err" && ok "--reach in stage 1: usage error" || { bad "--reach in stage 1"; cat "$TMP/err"; }
train supervised "$TMP/d" --steps 6 --valid-every 3 2>"$TMP/err" && [ -s "$TMP/d/best.chordlet" ] &&
  ok "supervised baseline" || { bad "supervised"; cat "$TMP/err"; }

mkdir "$TMP/out"
if "$BUILD/chordlet" transcribe -q --model "$TMP/a/best.chordlet" -o "$TMP/out" "$TMP/in/synth0046.flac" 2>"$TMP/err" &&
  [ -s "$TMP/out/synth0046.lab" ] && "$BUILD/chordlet" eval "$TMP/in/synth0046.lab" "$TMP/out/synth0046.lab" >/dev/null; then
  ok "the student transcribes a file"
else
  bad "student transcription"
  cat "$TMP/err"
fi
"$BUILD/chordlet" info "$TMP/c/best.chordlet" >"$TMP/info" 2>&1
grep -q "train.data" "$TMP/info" && grep -q "train.stages *stage2" "$TMP/info" && grep -q "train.commit" "$TMP/info" &&
  grep -q "student.lookahead *1" "$TMP/info" && ok "chordlet info names data, stages, commit" ||
  { bad "model provenance"; cat "$TMP/info"; }

"$TRAIN" export --switch-penalty 4.5 --name live --init-provenance "$TMP/a/best.chordlet" "$TMP/c/best.chordlet" \
  "$TMP/exported.chordlet" 2>"$TMP/err" && 
  "$BUILD/chordlet" info "$TMP/exported.chordlet" >"$TMP/info" && grep -q "decoder.switch_penalty *4.5" "$TMP/info" &&
  grep -q "model.name *live" "$TMP/info" && grep -q "train.stages *stage2" "$TMP/info" &&
  grep -q "train.init_stages *stage1" "$TMP/info" && grep -q "train.init_data *stage1" "$TMP/info" &&
  ! grep -q "checkpoint\." "$TMP/info" &&
  "$BUILD/chordlet" transcribe -q --switch-penalty 2 --model "$TMP/exported.chordlet" -o "$TMP/out" "$TMP/in/synth0046.flac" &&
  ok "export: penalty and name set, provenance kept; it transcribes" || { bad "export"; cat "$TMP/err" "$TMP/info"; }
# The estimator's settings: a trained model states them (stream.tuning.*).
grep -q "stream.tuning.memory_seconds *3$" "$TMP/info" && grep -q "stream.tuning.version *1$" "$TMP/info" &&
  ok "the exported model states its tuning estimator" || bad "no stream.tuning keys in the exported model"
"$TRAIN" export "$TMP/c/checkpoint.chordlet" "$TMP/x.chordlet" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "no front-end settings" "$TMP/err" && [ ! -e "$TMP/x.chordlet" ] &&
  ok "export of a checkpoint: clear error, nothing written" || { bad "export of a checkpoint"; cat "$TMP/err"; }

# A file-mode student: every third cache frame (60 ms), 6 frames (360 ms) of lookahead.
if train stage1 "$TMP/f" --frame-step 3 --lookahead 6 --steps 6 --valid-every 3 2>"$TMP/err" &&
  "$BUILD/chordlet" info "$TMP/f/best.chordlet" >"$TMP/info" && grep -q "stream.hop_seconds *0.05999999999" "$TMP/info" &&
  grep -q "model.streamable *0$" "$TMP/info" && grep -q "frame_step=3" "$TMP/info" &&
  "$BUILD/chordlet" transcribe -q --model "$TMP/f/best.chordlet" -o "$TMP/out" "$TMP/in/synth0046.flac" 2>>"$TMP/err" &&
  "$BUILD/chordlet" eval "$TMP/in/synth0046.lab" "$TMP/out/synth0046.lab" >/dev/null; then
  ok "file mode (--frame-step 3): 60 ms hop in the model file, not streamable, it transcribes"
else
  bad "file-mode student"
  cat "$TMP/err" "$TMP/info"
fi
# Every phase of the 60 ms grid (--all-phases): three songs for each, the
# settings in the model's provenance, and a run that resumes only with them.
if train stage1 "$TMP/fa" --frame-step 3 --all-phases --lookahead 6 --steps 3 --valid-every 3 2>"$TMP/err" &&
  "$BUILD/chordlet" info "$TMP/fa/best.chordlet" >"$TMP/info" && grep -q "frame_step=3 all_phases" "$TMP/info"; then
  ok "--all-phases: trains on every phase of the 60 ms grid, recorded in the provenance"
else
  bad "--all-phases"
  cat "$TMP/err" "$TMP/info"
fi
train stage2 "$TMP/g" --init "$TMP/f/best.chordlet" --steps 3 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "frame-step" "$TMP/err" && [ ! -e "$TMP/g/final.chordlet" ] &&
  ok "stage 2 at another frame step than --init's: refused" || { bad "stage 2 frame-step mismatch"; cat "$TMP/err"; }
train stage2 "$TMP/h" --init "$TMP/f/best.chordlet" --frame-step 3 --steps 3 --valid-every 3 2>"$TMP/err" &&
  "$BUILD/chordlet" info "$TMP/h/final.chordlet" | grep -q "stream.hop_seconds *0.05999999999" &&
  ok "stage 2 continues the file-mode student at its frame step" || { bad "file-mode stage 2"; cat "$TMP/err"; }
"$BUILD/chordlet" live --backend file --device "$TMP/in/synth0046.flac" --model "$TMP/f/best.chordlet" \
  --duration 1 >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "file-mode" "$TMP/err" && grep -q "transcribe" "$TMP/err" &&
  ok "chordlet live refuses a file-mode model and says what to use it with" || { bad "live with a file-mode model"; cat "$TMP/err"; }
train stage1 "$TMP/f2" --frame-step 4 --steps 3 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "whole number of hops" "$TMP/err" &&
  ok "--frame-step 4 (80 ms, the 120 ms delay is not whole hops): clear error" || { bad "frame-step 4"; cat "$TMP/err"; }

train stage1 "$TMP/a" --steps 24 --checkpoint-every 4 --valid-every 8 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "already holds a run" "$TMP/err" && ok "a second run into the same folder is refused" ||
  { bad "reuse of a run folder"; cat "$TMP/err"; }
train stage1 "$TMP/a" --steps 30 --resume 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "other options" "$TMP/err" && ok "resume with other options is refused" ||
  { bad "resume with other options"; cat "$TMP/err"; }
head -c 5000 "$TMP/b/checkpoint.chordlet" >"$TMP/b/cut" && mv "$TMP/b/cut" "$TMP/b/checkpoint.chordlet"
train stage1 "$TMP/b" --steps 24 --checkpoint-every 4 --valid-every 8 --resume 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "checkpoint.chordlet" "$TMP/err" && ok "a truncated checkpoint: clear error" ||
  { bad "truncated checkpoint"; cat "$TMP/err"; }
mkdir "$TMP/ftdup"
for f in "$TMP"/ft/*.chordlet; do cp "$f" "$TMP/ftdup/"; cp "$f" "$TMP/ftdup/synth0046-0000000000000000.chordlet"; done
# shellcheck disable=SC2086
"$TRAIN" stage1 $TINY --steps 3 --out "$TMP/dup" --train "$TMP/ftdup" --valid "$TMP/ft" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "two feature caches of 'synth0046.flac'" "$TMP/err" && grep -q "stale" "$TMP/err" &&
  ok "a folder with two caches of one song (a stale one): clear error" || { bad "duplicate caches"; cat "$TMP/err"; }
train stage2 "$TMP/e" --steps 5 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "init" "$TMP/err" && ok "stage2 without --init: usage error" || { bad "stage2 without init"; cat "$TMP/err"; }
# Caches of another front end (features --max-window 1.06: longer bass windows)
# must not be mixed with the default's: not as validation, not under an --init
# trained on the default's, and not as KD-only windows.
"$TRAIN" features --folds 1 --pseudo "$TMP/pl" --max-window 1.06 --out "$TMP/ftlong" "$TMP/in" 2>/dev/null
# shellcheck disable=SC2086
"$TRAIN" supervised $TINY --steps 3 --out "$TMP/mixv" --train "$TMP/ft" --valid "$TMP/ftlong" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "the --valid caches were made with another front end" "$TMP/err" && [ ! -e "$TMP/mixv/final.chordlet" ] ||
  { bad "validation on another front end"; cat "$TMP/err"; }
# shellcheck disable=SC2086
"$TRAIN" stage2 $TINY --steps 3 --init "$TMP/a/final.chordlet" --out "$TMP/mixi" --train "$TMP/ftlong" --valid "$TMP/ftlong" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "init was trained on another front end" "$TMP/err" ||
  { bad "--init of another front end"; cat "$TMP/err"; }
# shellcheck disable=SC2086
"$TRAIN" stage2 $TINY --batch 4 --steps 3 --init "$TMP/a/final.chordlet" --out "$TMP/mixk" --train "$TMP/ft" --valid "$TMP/ft" \
  --kd-train "$TMP/ftlong" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "kd-train caches were made with another front end" "$TMP/err" &&
  ok "caches of another front end refused as validation, under an --init and as KD-only windows" ||
  { bad "--kd-train of another front end"; cat "$TMP/err"; }
echo "# $failures failed"
[ "$failures" -eq 0 ]
