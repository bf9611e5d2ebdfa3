#!/bin/sh
# make-baseline.sh: the supervised baseline of docs/RESULTS.md (`make baseline`):
# the same student, from scratch, on the labelled pool's ground truth only
# (PAPER.md 1.8), with the same budget on the labelled pool as stage 2 of
# `make model`: the same steps (3000) and learning rate (3e-4). Resumable.
# Settings as scripts/make-model.sh (DATA_DIR, RUNS_DIR, MODEL_SEED,
# STAGE1_STEPS, STAGE2_STEPS, MODEL_THREADS, MODEL_ARGS).
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA_DIR:-work/data}
RUNS=${RUNS_DIR:-work/runs}
SEED=${MODEL_SEED:-1}
S2=${STAGE2_STEPS:-3000}
THREADS=${MODEL_THREADS:-$(nproc 2>/dev/null || echo 2)}
ARGS=${MODEL_ARGS:-}
TRAIN=${CHORDLET_TRAIN:-./build/chordlet-train}
export CHORDLET_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
STEPS=$S2
echo "== supervised baseline ($STEPS steps, ground truth only)"
# shellcheck disable=SC2086
$TRAIN supervised --resume --seed "$SEED" --threads "$THREADS" --steps "$STEPS" --valid-every $((STEPS / 6)) $ARGS \
  --out "$RUNS/supervised" --train "$DATA/features/labelled" --valid "$DATA/features/valid"
