# offline-student.sh: the file-mode student's shape and budget, and stage 1's
# target options, in one place
# (sourced by make-model.sh, make-baseline.sh and ablations.sh):
# 60 ms frames (--frame-step 3 of the 20 ms caches), 64 frames (3.84 s) of
# context and of lookahead, layers 2/2/2, FF 2x (docs/RESULTS.md 3.7).
# Settings (environment): OFFLINE_ARGS, OFFLINE_STAGE1_STEPS, OFFLINE_STAGE2_STEPS,
# OFFLINE_PENALTY (the Viterbi switch penalty, chosen on the validation split),
# OFFLINE_ADVANCE (seconds each chord change is written earlier: the network's
# lateness, measured there; docs/RESULTS.md 7.19).
O_ARGS=${OFFLINE_ARGS:---frame-step 3 --layers 2/2/2 --heads 2/4/4 --ff-mult 2 --context 64 --lookahead 64}
# The budget of the shipped file-mode student (docs/RESULTS.md 7.6, 7.8): 8000
# steps of stage 1, 6000 of stage 2 (2000 each before; stage 1 stops rising
# after about 5000 steps, stage 2 after about 4800).
O_S1=${OFFLINE_STAGE1_STEPS:-8000}
O_S2=${OFFLINE_STAGE2_STEPS:-6000}
O_PENALTY=${OFFLINE_PENALTY:-8}
O_ADVANCE=${OFFLINE_ADVANCE:-0.02}

# stage1_target_args TARGET T: stage 1's options for the teacher's hard labels
# (hard), its full distribution at temperature T (kd) or half each (both)
# (docs/RESULTS.md 7.3); prints them, or fails on another TARGET.
stage1_target_args() {
  case $1 in
  hard) echo "" ;;
  kd) echo "--alpha 1 --no-selective --temperature $2" ;;
  both) echo "--alpha 0.5 --no-selective --temperature $2" ;;
  *) return 1 ;;
  esac
}
