#!/bin/sh
# real-check.sh: agreement with the teacher on the real-music check set (issue 15).
#   usage: scripts/real-check.sh NAME=MODEL...
# No annotated real recordings may be used, so on real music we can only ask
# how closely a student follows its teacher, who learnt from 1,217 real songs.
# The check set is make data's DATA_DIR/real/check.txt: 7 of Debian's music
# packages (101 files, 4.2 h) that no training run ever sees.
#   - the reference is the teacher (all 5 folds, its own Viterbi decoder), as
#     `chordlet transcribe --model teacher` gives it;
#   - each NAME=MODEL is transcribed as a user would (its own decoder, the
#     tuning estimate) and scored against that reference with `chordlet eval`
#     (mir_eval's seven metrics: here agreement, not accuracy);
#   - the ceiling: two single folds of the teacher (fold 0 against fold 1,
#     chordlet-train import-teacher --fold), equally valid teachers, agree
#     only so far; a student cannot be expected to agree more.
# Transcriptions are kept in work/real-check/NAME-<model sha256, 12>/ and
# reused (--skip-existing): rerunning after an interruption or with another
# model only computes what is missing. Prints one row per comparison.
# Settings: DATA_DIR (work/data), CHORDLET_SHARED (../shared), REAL_CHECK_JOBS (cores).
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/real-check.sh NAME=MODEL..." >&2; exit 2; }
DATA=${DATA_DIR:-work/data}
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" && pwd)
JOBS=${REAL_CHECK_JOBS:-$(nproc 2>/dev/null || echo 2)}
LIST=$DATA/real/check.txt
OUT=work/real-check
CHORDLET=./build/chordlet
[ -s "$LIST" ] || { echo "real-check.sh: $LIST is missing: run make data (it fetches the check set)" >&2; exit 1; }
mkdir -p "$OUT/models"

# transcribe MODEL NAME: its labels of every check file in OUT/NAME-<sha>/; prints that folder.
transcribe() {
  sum=$(sha256sum "$1" | cut -c1-12)
  dir=$OUT/$2-$sum
  mkdir -p "$dir"
  # four files per process, JOBS processes; files already done are skipped
  tr '\n' '\0' <"$LIST" | xargs -0 -n 4 -P "$JOBS" "$CHORDLET" transcribe -q --skip-existing --model "$1" -o "$dir" >&2
  echo "$dir"
}

# The teacher's single folds: the ceiling of agreement.
for k in 0 1; do
  [ -s "$OUT/models/teacher-fold$k.chordlet" ] ||
    ./build/chordlet-train import-teacher --fold $k "$SHARED/models/teacher" "$OUT/models/teacher-fold$k.chordlet" >/dev/null
done

echo "transcribing the check set ($(wc -l <"$LIST") files) with the teacher (5 folds)" >&2
REF=$(transcribe models/teacher.chordlet teacher)

# table_row NAME JSON: one table row from a chordlet eval --json report.
table_row() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
t = json.load(open(sys.argv[2]))["total"]
keys = ["root", "thirds", "triads", "sevenths", "tetrads", "majmin", "mirex"]
print("| %s | %s | **%.2f** |" % (sys.argv[1], " | ".join("%.2f" % (100 * t["scores"][k]) for k in keys), 100 * t["avg7"]))
EOF
}

# row NAME DIR: the agreement of DIR's labels with the teacher's.
row() {
  "$CHORDLET" eval --json "$REF" "$2" >"$2.json"
  table_row "$1" "$2.json"
}

echo "| against the teacher (5 folds) | root | thirds | triads | sevenths | tetrads | majmin | mirex | avg7 |"
echo "|---|---|---|---|---|---|---|---|---|"
F0=$(transcribe "$OUT/models/teacher-fold0.chordlet" teacher-fold0)
F1=$(transcribe "$OUT/models/teacher-fold1.chordlet" teacher-fold1)
# fold 1 against fold 0 (not against the ensemble, which contains both)
"$CHORDLET" eval --json "$F0" "$F1" >"$F1.vs-fold0.json"
table_row "teacher fold 1 against fold 0 (the ceiling)" "$F1.vs-fold0.json"
row "teacher fold 0" "$F0"
for arg in "$@"; do
  name=${arg%%=*}
  model=${arg#*=}
  [ -f "$model" ] || model=models/$model.chordlet
  [ -f "$model" ] || { echo "real-check.sh: no model $model" >&2; exit 1; }
  row "$name" "$(transcribe "$model" "$name")"
done
