#!/bin/sh
# make-baseline.sh: the supervised baseline of docs/RESULTS.md (`make baseline`):
# the same student, from scratch, on the labelled pool's ground truth only
# (PAPER.md 1.8), with the same budget on the labelled pool as stage 2 of
# `make model`: the same steps (6000), learning rate (3e-4) and weight average
# (MODEL_EMA, 0.999). Resumable.
# For each student make model ships (MODEL_WHICH, "live offline"): the live
# one's baseline in RUNS/supervised, the file-mode one's (its shape and 60 ms
# frames, OFFLINE_ARGS; its stage-2 budget, OFFLINE_STAGE2_STEPS) in
# RUNS/offline-supervised.
# It trains on the labelled pool and its degraded variants, as stage 2 does.
# Settings as scripts/make-model.sh (DATA_DIR, RUNS_DIR, MODEL_SEED, MODEL_EMA,
# STAGE2_STEPS, MODEL_THREADS, MODEL_ARGS, MODEL_WHICH, OFFLINE_ARGS,
# OFFLINE_STAGE2_STEPS).
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA_DIR:-work/data}
RUNS=${RUNS_DIR:-work/runs}
SEED=${MODEL_SEED:-1}
S2=${STAGE2_STEPS:-6000}
THREADS=${MODEL_THREADS:-$(nproc 2>/dev/null || echo 2)}
ARGS=${MODEL_ARGS:-}
TRAIN=${CHORDLET_TRAIN:-./build/chordlet-train}
export CHORDLET_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
WHICH=${MODEL_WHICH:-live offline}
EMA=${MODEL_EMA:-0.999}
. scripts/offline-student.sh
# The same labelled material as stage 2: the degraded variants too, when make data made them.
AUG2=""
[ -d "$DATA/features/labelled-aug" ] && AUG2="--train $DATA/features/labelled-aug"
EMA_ARGS=""
[ "$EMA" != 0 ] && EMA_ARGS="--ema $EMA"
case " $WHICH " in *" live "*)
  echo "== live: supervised baseline ($S2 steps, ground truth only)"
  # shellcheck disable=SC2086
  $TRAIN supervised --resume --seed "$SEED" --threads "$THREADS" --steps "$S2" --valid-every $((S2 / 6)) $ARGS \
    $EMA_ARGS --out "$RUNS/supervised" --train "$DATA/features/labelled" $AUG2 --valid "$DATA/features/valid"
  ;;
esac
case " $WHICH " in *" offline "*)
  echo "== offline: supervised baseline ($O_S2 steps, ground truth only, $O_ARGS)"
  # shellcheck disable=SC2086
  $TRAIN supervised --resume --seed "$SEED" --threads "$THREADS" --steps "$O_S2" --lr 3e-4 --valid-every $((O_S2 / 5)) \
    $O_ARGS $EMA_ARGS --out "$RUNS/offline-supervised" --train "$DATA/features/labelled" $AUG2 --valid "$DATA/features/valid"
  ;;
esac
