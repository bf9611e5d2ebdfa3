#!/bin/sh
# ablations.sh: the design questions of docs/RESULTS.md, answered on the
# VALIDATION split (never the test split), each run resumable (`make ablations`):
#   real      stage 1 on renders + Debian's recorded music (the make model pool)
#             against renders only, same steps;
#   stage1-target  the file-mode student's stage 1 (its shape) on renders + real
#             music, from the teacher's hard labels (focal loss, make model's
#             default until now), from its full distribution (KL at T =
#             KD_T1, 3: PAPER.md 1.5's KD term alone) and from both (0.5 each:
#             the paper's optional stage-1 KD), same steps (ABLATION_STEPS1);
#   alpha-real  the file-mode student's stage 2 from ALPHA_REAL_INIT (a stage-1
#             model: the stage1-target winner) with KD weight 0 (no teacher),
#             and each of ALPHAS above 0 with the real music's KD-only windows
#             (--kd-train, KD_SHARE of each batch, 0.25), on the labelled pool
#             and its degraded variants (make model's stage 2);
#   folds     the same, from the teacher's 2 folds (make data's) against all 5,
#             on every FOLDS_EVERY-th (8) file of the unlabelled renders and the
#             real pool, with FOLDS_TARGET's targets (hard: make model's);
#   alpha     stage 2 with KD weight 0, 0.3 and 0.6 from the same stage-1 model
#             (PAPER.md 1.6, the paper's Figure 5 question);
#   shift     stage 2 (alpha 0.3) with pitch-shift augmentation -5..+6
#             semitones in the feature domain against none;
#   augment   training-audio augmentation, each kind alone and all together,
#             scored under make robustness's conditions on the validation split
#             (details at the case below; AUG_KINDS, AUG_STEPS, AUG_INIT);
#   alpha-offline  the file-mode student's stage 2 (its shape, frame step and
#             budget: scripts/offline-student.sh) with KD weight 0, 0.3 and
#             0.6 from make model's file-mode stage 1; alpha 0 is make model's
#             own run (RUNS/offline-stage2, resumed: the same options).
# Each run's best validation frame accuracy is printed; `scripts/eval-model.sh
# RUN/best.chordlet NAME valid` gives mir_eval's metrics for any of them.
# Settings: ABLATION_STEPS1 (stage-1 steps, 1000), ABLATION_STEPS2 (stage-2
# steps, 3000: make model's), ABLATION_LR2 (stage-2 peak learning rate, 3e-4:
# make model's), ALPHAS ("0 0.3 0.6"), ABLATIONS ("real alpha shift"),
# DATA_DIR, RUNS_DIR. Run folders are named by their steps, so runs of
# another budget never collide.
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA_DIR:-work/data}
RUNS=${RUNS_DIR:-work/runs}
OUT=work/ablation
S1=${ABLATION_STEPS1:-1000}
S2=${ABLATION_STEPS2:-3000}
LR2=${ABLATION_LR2:-3e-4}
ALPHAS=${ALPHAS:-0 0.3 0.6}
WHICH=${ABLATIONS:-real alpha shift}
TRAIN=${CHORDLET_TRAIN:-./build/chordlet-train}
. scripts/offline-student.sh
mkdir -p "$OUT"
VALID="--valid $DATA/features/valid"
best() { # the best validation accuracy of a run (the weights or their average, --ema)
  awk -F, 'NR > 1 && $10 > b { b = $10 } NR > 1 && NF >= 11 && $11 > b { b = $11 } END { printf "%.4f", b }' "$1/log.csv"
}
KD_T1=${KD_T1:-3}

for w in $WHICH; do
  case $w in
  real)
    # make data caches the renders (features/unlabelled) and the recordings (features/real) apart.
    # shellcheck disable=SC2086
    $TRAIN stage1 -q --resume --steps "$S1" --valid-every $((S1 / 5)) --out "$OUT/s1-$S1-with-real" \
      --train "$DATA/features/unlabelled" --train "$DATA/features/real" $VALID
    # shellcheck disable=SC2086
    $TRAIN stage1 -q --resume --steps "$S1" --valid-every $((S1 / 5)) --out "$OUT/s1-$S1-renders-only" \
      --train "$DATA/features/unlabelled" $VALID
    echo "stage 1, $S1 steps: with recordings $(best "$OUT/s1-$S1-with-real"), renders only $(best "$OUT/s1-$S1-renders-only")"
    ;;
  stage1-target)
    for target in hard kd both; do
      opts=$(stage1_target_args "$target" "$KD_T1")
      out="$OUT/offline-s1-$S1-$target"
      [ "$target" = hard ] || out="$out-T$KD_T1"
      # shellcheck disable=SC2086
      $TRAIN stage1 -q --resume --steps "$S1" --valid-every $((S1 / 5)) $O_ARGS $opts --out "$out" \
        --train "$DATA/features/unlabelled" --train "$DATA/features/real" $VALID
      echo "file-mode stage 1, $S1 steps, $target targets: $(best "$out")"
    done
    ;;
  folds)
    # A subset, so that the 5-fold teacher (2.5x the 2-fold's time) labels it in minutes.
    FOLDS_EVERY=${FOLDS_EVERY:-8}
    FOLDS_TARGET=${FOLDS_TARGET:-hard}
    { find "$DATA"/audio/unlabelled -name '*.flac' | sort; cat "$DATA/real/pool.txt"; } |
      awk -v n="$FOLDS_EVERY" 'NR % n == 1' >"$OUT/folds-subset.txt"
    opts=$(stage1_target_args "$FOLDS_TARGET" "$KD_T1")
    for f in 2 5; do
      pseudo=$DATA/pseudo # make data's 2-fold labels
      if [ "$f" != 2 ]; then
        pseudo=$OUT/folds-pseudo$f
        $TRAIN pseudo-label --folds "$f" --out "$pseudo" "$OUT/folds-subset.txt" >&2
      fi
      $TRAIN features --folds "$f" --pseudo "$pseudo" --out "$OUT/folds-features$f" "$OUT/folds-subset.txt" >&2
      out="$OUT/offline-s1-$S1-folds$f-$FOLDS_TARGET"
      # shellcheck disable=SC2086
      $TRAIN stage1 -q --resume --steps "$S1" --valid-every $((S1 / 5)) $O_ARGS $opts --out "$out" \
        --train "$OUT/folds-features$f" $VALID
      echo "file-mode stage 1, $S1 steps, $FOLDS_TARGET targets of $f folds ($(wc -l <"$OUT/folds-subset.txt") files): $(best "$out")"
    done
    ;;
  alpha)
    for a in $ALPHAS; do
      # shellcheck disable=SC2086
      $TRAIN stage2 -q --resume --steps "$S2" --lr "$LR2" --valid-every $((S2 / 5)) --alpha "$a" \
        --init "$RUNS/stage1/best.chordlet" --out "$OUT/s2-$S2-alpha$a" --train "$DATA/features/labelled" $VALID
      echo "stage 2, $S2 steps, lr $LR2, alpha $a: $(best "$OUT/s2-$S2-alpha$a")"
    done
    ;;
  shift)
    # shellcheck disable=SC2086
    $TRAIN stage2 -q --resume --steps "$S2" --lr "$LR2" --valid-every $((S2 / 5)) --shift -5:6 \
      --init "$RUNS/stage1/best.chordlet" --out "$OUT/s2-$S2-shift" --train "$DATA/features/labelled" $VALID
    echo "stage 2, $S2 steps, lr $LR2, alpha 0.3, pitch shift -5..6: $(best "$OUT/s2-$S2-shift") (none: see alpha 0.3)"
    ;;
  alpha-real)
    init=${ALPHA_REAL_INIT:-$OUT/offline-s1-$S1-kd-T$KD_T1/best.chordlet}
    aug2=""
    [ -d "$DATA/features/labelled-aug" ] && aug2="--train $DATA/features/labelled-aug"
    for a in $ALPHAS; do
      kd=""
      [ "$a" = 0 ] || kd="--kd-train $DATA/features/real --kd-share ${KD_SHARE:-0.25}"
      out="$OUT/offline-s2-$O_S2-alpha$a-real"
      # shellcheck disable=SC2086
      $TRAIN stage2 -q --resume --steps "$O_S2" --lr "$LR2" --valid-every $((O_S2 / 5)) --alpha "$a" $O_ARGS $kd \
        --init "$init" --out "$out" --train "$DATA/features/labelled" $aug2 $VALID
      echo "file-mode stage 2 from $init, $O_S2 steps, alpha $a${kd:+ with real-music KD windows}: $(best "$out")"
    done
    ;;
  alpha-offline)
    for a in $ALPHAS; do
      out="$OUT/offline-s2-$O_S2-alpha$a"
      [ "$a" = 0 ] && out="$RUNS/offline-stage2"
      # shellcheck disable=SC2086
      $TRAIN stage2 -q --resume --steps "$O_S2" --lr "$LR2" --valid-every $((O_S2 / 5)) --alpha "$a" $O_ARGS \
        --init "$RUNS/offline-stage1/best.chordlet" --out "$out" --train "$DATA/features/labelled" $VALID
      echo "file-mode stage 2, $O_S2 steps, lr $LR2, alpha $a: $(best "$out")"
    done
    ;;
  augment)
    # Each kind of training-audio augmentation (trainer/augment.c) alone, and all
    # of them (each at 0.5): the file-mode student fine-tuned from AUG_INIT (the
    # shipped one) for AUG_STEPS at lr 1e-4, KD weight 0, on the labelled pool
    # plus one degraded variant of every third labelled song, against the same
    # fine-tuning on the labelled pool alone (control). Each is scored by make
    # robustness on the validation split's 45 pop909cl songs (ROBUSTNESS_SPLIT=valid):
    # the control and `all` under every condition, each kind on clean audio and the
    # conditions it is meant for. Tables: work/ablation/augment-*.md.
    AUG_KINDS=${AUG_KINDS:-detune level reverb eq noise lossy all}
    AUG_STEPS=${AUG_STEPS:-600}
    AUG_INIT=${AUG_INIT:-models/offline.chordlet}
    find "$DATA"/audio/labelled -name '*.flac' | sort | awk 'NR % 3 == 1' >"$OUT/aug-third.txt"
    aug_run() { # NAME TRAIN...: a fine-tuning run, echoes its best model
      name=$1
      shift
      # shellcheck disable=SC2086
      $TRAIN stage2 -q --resume --steps "$AUG_STEPS" --lr 1e-4 --valid-every "$AUG_STEPS" --alpha 0 $O_ARGS \
        --init "$AUG_INIT" --out "$OUT/aug-$name" "$@" $VALID >&2
    }
    aug_run control --train "$DATA/features/labelled"
    models="control=$OUT/aug-control/best.chordlet"
    for k in $AUG_KINDS; do
      $TRAIN features --augment "$k" --variants 1 --seed 1 --out "$DATA/features/aug-$k" "$OUT/aug-third.txt"
      aug_run "$k" --train "$DATA/features/labelled" --train "$DATA/features/aug-$k"
    done
    robust() { # TABLE MODELS CONDITIONS
      ROBUSTNESS_SPLIT=valid ROBUSTNESS_MODELS="$2" ROBUSTNESS_CONDITIONS="$3" sh scripts/robustness.sh >/dev/null
      cp work/robustness-valid/table.md "$OUT/augment-$1.md"
      cat "$OUT/augment-$1.md"
    }
    all_models=$models
    case " $AUG_KINDS " in *" all "*) all_models="$models all=$OUT/aug-all/best.chordlet" ;; esac
    robust every "$all_models" "detune-50c detune-30c detune-15c detune+15c detune+30c detune+45c gain-30dB reverb band300-3400 pink20dB vorbis64k"
    for k in $AUG_KINDS; do
      case $k in
        detune) conds="detune-50c detune-30c detune-15c detune+15c detune+30c detune+45c" ;;
        level) conds=gain-30dB ;;
        reverb) conds=reverb ;;
        eq) conds=band300-3400 ;;
        noise) conds=pink20dB ;;
        lossy) conds=vorbis64k ;;
        *) continue ;;
      esac
      robust "$k" "$models $k=$OUT/aug-$k/best.chordlet" "$conds"
    done
    ;;
  *)
    echo "ablations.sh: unknown ablation '$w'" >&2
    exit 2
    ;;
  esac
done
