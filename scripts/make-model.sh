#!/bin/sh
# make-model.sh: the shipped students (`make model`): the live one,
# models/default.chordlet, and the file-mode one, models/offline.chordlet.
#   1. stage 1: the 2E1D student from scratch on the teacher's pseudo-labels of
#      the unlabelled pool (renders + Debian's recorded music), focal loss,
#      8000 steps;
#   2. stage 2: from stage 1's best checkpoint, 6000 steps at a peak learning
#      rate of 3e-4 (the supervised baseline's budget): the labelled pool's
#      ground truth with KD weight STAGE2_ALPHA 0 (docs/RESULTS.md 3.4: on the
#      renders the teacher is wrong where the labelled pool has the rare
#      qualities, and selective KD does not switch it off often enough), and a
#      quarter of every batch from Debian's real music with the teacher's
#      distribution alone, weight STAGE2_KD_WEIGHT 0.5 (7.8: the students keep
#      following the teacher on real music, +5 points of agreement, for 0.1
#      avg7 on the renders); a moving average of the weights (MODEL_EMA 0.999)
#      in both stages;
#   3. export: stage 2's best model (validation frame accuracy) with its
#      provenance (data, stages, commit), the Viterbi switch penalty chosen
#      on the validation split (STUDENT_PENALTY) and the change advance measured
#      there (STUDENT_ADVANCE: how late the network names a new chord,
#      docs/RESULTS.md 7.19) -> models/default.chordlet.
# The file-mode student (models/offline.chordlet, `chordlet transcribe`'s
# default) goes through the same three steps with its own shape
# (OFFLINE_ARGS): 60 ms frames (--frame-step 3: every third frame of the same
# caches), 64 frames (3.84 s) of context and of lookahead, layers 2/2/2 with
# FF width 2x: about a quarter of the live network's work per second of
# audio, so that a file transcribes at over 500x real time on one core.
# Every stage resumes (kill it and run it again). `make data` must have run.
# Stage 1 trains on the renders and Debian's real music (features/unlabelled,
# features/real) and their degraded variants (*-aug) when make data made them,
# against STAGE1_TARGET: hard (the teacher's argmax, focal loss), kd (its full
# distribution, KL at KD_T1) or both (half each). Stage 2 with a KD weight
# above 0 also takes STAGE2_KD_SHARE of every batch from the real music, with
# the KD term only (--kd-train); STAGE2_KD_WEIGHT > 0 weights those windows apart
# from the labelled ones (--kd-weight: with STAGE2_ALPHA=0, ground truth alone on
# the renders and KD alone on the real music, docs/RESULTS.md 7.4). MODEL_EMA > 0 keeps a moving average of the
# weights in both stages (best.chordlet is the better of the two).
# Settings (environment): DATA_DIR (work/data), RUNS_DIR (work/runs),
# MODEL_OUT (models: where the students are written), STAGE1_TARGET (hard: docs/RESULTS.md 7.3),
# KD_T1 (1; 3 loses 4.8 points of frame accuracy),
# STAGE2_KD_SHARE (0.25), STAGE2_KD_WEIGHT (0.5; 0: STAGE2_ALPHA's), MODEL_EMA (0.999),
# MODEL_SEED (1), STAGE1_STEPS, STAGE2_STEPS, STAGE2_LR, STAGE2_ALPHA, STUDENT_PENALTY, STUDENT_ADVANCE
# (0.01 s), STAGE1_HOURS (the unlabelled
# hours sampled), MODEL_THREADS (cores), MODEL_ARGS (extra options for the
# live stages, e.g. "--layers 2/3/2"), MODEL_WHICH ("live offline": which students),
# OFFLINE_ARGS, OFFLINE_STAGE1_STEPS, OFFLINE_STAGE2_STEPS, OFFLINE_PENALTY, OFFLINE_ADVANCE.
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA_DIR:-work/data}
RUNS=${RUNS_DIR:-work/runs}
SEED=${MODEL_SEED:-1}
S1=${STAGE1_STEPS:-8000}
S2=${STAGE2_STEPS:-6000}
LR2=${STAGE2_LR:-3e-4}
ALPHA2=${STAGE2_ALPHA:-0}
H1=${STAGE1_HOURS:-0}
# Tuned on the validation split (docs/RESULTS.md 3.3): 3 -> 82.51, 8 -> 82.92,
# 20 -> 83.15 avg7 for the stage-2 student of 2000 + 1000 steps.
PENALTY=${STUDENT_PENALTY:-20}
# The live student names a new chord about 10 ms late (docs/RESULTS.md 7.19).
ADVANCE=${STUDENT_ADVANCE:-0.01}
THREADS=${MODEL_THREADS:-$(nproc 2>/dev/null || echo 2)}
ARGS=${MODEL_ARGS:-}
TRAIN=${CHORDLET_TRAIN:-./build/chordlet-train}
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || COMMIT="$COMMIT+changes"
export CHORDLET_COMMIT="$COMMIT"
WHICH=${MODEL_WHICH:-live offline}
OUT_DIR=${MODEL_OUT:-models}
TARGET1=${STAGE1_TARGET:-hard}
T1=${KD_T1:-1}
KD_SHARE2=${STAGE2_KD_SHARE:-0.25}
KD_WEIGHT2=${STAGE2_KD_WEIGHT:-0.5}
EMA=${MODEL_EMA:-0.999}
. scripts/offline-student.sh
TARGET1_ARGS=$(stage1_target_args "$TARGET1" "$T1") ||
  { echo "make-model.sh: STAGE1_TARGET is hard, kd or both, not '$TARGET1'" >&2; exit 2; }
EMA_ARGS=""
[ "$EMA" != 0 ] && EMA_ARGS="--ema $EMA"
mkdir -p "$OUT_DIR"
for d in "$DATA/features/unlabelled" "$DATA/features/labelled" "$DATA/features/valid"; do
  [ -d "$d" ] || { echo "make-model.sh: $d is missing: run make data first" >&2; exit 1; }
done

# Stage 1's material: the renders, the real music (make data caches it apart),
# and the degraded variants of both (make data with DATA_AUGMENT).
POOL1="--train $DATA/features/unlabelled"
for d in real unlabelled-aug real-aug; do
  [ -d "$DATA/features/$d" ] && POOL1="$POOL1 --train $DATA/features/$d"
done
AUG2=""
[ -d "$DATA/features/labelled-aug" ] && AUG2="--train $DATA/features/labelled-aug"
# Stage 2's KD-only windows of real music (with a KD weight above 0).
KD2=""
if { [ "$ALPHA2" != 0 ] || [ "$KD_WEIGHT2" != 0 ]; } && [ -d "$DATA/features/real" ]; then
  KD2="--kd-train $DATA/features/real --kd-share $KD_SHARE2"
  if [ "$KD_WEIGHT2" != 0 ]; then KD2="$KD2 --kd-weight $KD_WEIGHT2"; fi
fi

# What stage 2 learnt from, for the models' descriptions.
if [ -n "$KD2" ] && [ "$ALPHA2" = 0 ]; then
  STAGE2_TEXT="stage 2 (ground truth on the labelled renders; the teacher alone on real music, $KD_SHARE2 of each batch, weight $KD_WEIGHT2)"
elif [ -n "$KD2" ]; then
  STAGE2_TEXT="stage 2 (ground truth, selective KD weight $ALPHA2; the teacher alone on real music, $KD_SHARE2 of each batch)"
else
  STAGE2_TEXT="stage 2 (ground truth, KD weight $ALPHA2)"
fi

# student KIND PREFIX STEPS1 STEPS2 PENALTY ADVANCE OUT DESCRIPTION ARGS...: stage 1
# in RUNS/PREFIXstage1, stage 2 in RUNS/PREFIXstage2, exported to OUT.
student() {
  kind=$1 prefix=$2 s1=$3 s2=$4 penalty=$5 advance=$6 out=$7 description=$8
  shift 8
  echo "== $kind 1/3 stage 1 ($s1 steps, the teacher's $TARGET1 targets) $*"
  # shellcheck disable=SC2086 # POOL1, AUG2, KD2, *_ARGS: lists of options
  $TRAIN stage1 --resume --seed "$SEED" --threads "$THREADS" --steps "$s1" --valid-every $((s1 / 5)) --hours "$H1" \
    $TARGET1_ARGS $EMA_ARGS "$@" --out "$RUNS/${prefix}stage1" $POOL1 --valid "$DATA/features/valid"

  echo "== $kind 2/3 stage 2 ($s2 steps, ground truth, KD weight $ALPHA2${KD2:+, real-music KD windows})"
  # shellcheck disable=SC2086
  $TRAIN stage2 --resume --seed "$SEED" --threads "$THREADS" --steps "$s2" --lr "$LR2" --alpha "$ALPHA2" \
    --valid-every $((s2 / 5)) $EMA_ARGS "$@" --init "$RUNS/${prefix}stage1/best.chordlet" --out "$RUNS/${prefix}stage2" \
    --train "$DATA/features/labelled" $AUG2 $KD2 --valid "$DATA/features/valid"

  echo "== $kind 3/3 export"
  $TRAIN export --switch-penalty "$penalty" --change-advance "$advance" --name "$(basename "$out" .chordlet)" \
    --init-provenance "$RUNS/${prefix}stage1/best.chordlet" --description "$description" \
    "$RUNS/${prefix}stage2/best.chordlet" "$out"
  "$(dirname "$TRAIN")/chordlet" info "$out" | head -20
}

case " $WHICH " in *" live "*)
  # shellcheck disable=SC2086 # ARGS is a list of options
  student live "" "$S1" "$S2" "$PENALTY" "$ADVANCE" "$OUT_DIR/default.chordlet" \
    "chordlet's live student: 2E1D, lookahead 1 frame (20 ms), stage 1 (teacher's pseudo-labels) + $STAGE2_TEXT" \
    $ARGS
  ;;
esac
case " $WHICH " in *" offline "*)
  # shellcheck disable=SC2086 # O_ARGS is a list of options
  student offline offline- "$O_S1" "$O_S2" "$O_PENALTY" "$O_ADVANCE" "$OUT_DIR/offline.chordlet" \
    "chordlet's file-mode student: 2E1D, 60 ms frames, 3.84 s of context and of lookahead, stage 1 (teacher's pseudo-labels) + $STAGE2_TEXT" \
    $O_ARGS
  ;;
esac
