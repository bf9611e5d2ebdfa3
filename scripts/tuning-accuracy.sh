#!/bin/sh
# tuning-accuracy.sh: the error of the students' offline tuning estimate
# (engine/tuning.h, what chordlet transcribe uses) on the test split's pop909cl
# songs (docs/RESULTS.md 5; issue 14). Every render of make eval-teacher
# (work/eval-teacher/audio/pop909cl, rendered by scripts/eval-model.sh if
# missing) is detuned by -45, -30, -15, +15 and +30 cents, resampled as make
# robustness does it (scripts/robustness.sh --degrade), and transcribed with
# `-f json`, which reports the tuning. A render's own tuning is not exactly 0:
# soundfont samples are tuned by ear to within a few cents. So the error of a
# detuned copy is its estimate minus the original's minus the detune (the
# estimator's consistency, what moving the front end depends on); the
# originals' own estimates are listed too.
#   usage: scripts/tuning-accuracy.sh        (TUNING_JOBS: processes, default nproc)
# Output: work/tuning-accuracy/errors.tsv (song, detune, estimate, original, error)
# and a summary: mean and largest absolute error per detune and overall, and
# how many are within 3 cents.
set -eu
cd "$(dirname "$0")/.."
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" && pwd)
JOBS=${TUNING_JOBS:-$(nproc 2>/dev/null || echo 2)}
SRC=work/eval-teacher
WORK=work/tuning-accuracy
DETUNES="-45 -30 -15 +15 +30"
mkdir -p "$WORK/audio" "$WORK/est"
[ -d "$SRC/audio/pop909cl" ] && [ "$(find "$SRC/audio/pop909cl" -name '*.flac' | wc -l)" -ge 89 ] || {
  echo "tuning-accuracy.sh: no test renders; make them with scripts/eval-model.sh (or make eval-teacher)" >&2
  exit 1
}

# The detuned copies, made once (deterministic).
for d in $DETUNES; do
  while read -r id; do
    out="$WORK/audio/d${d}_$id.flac"
    [ -f "$out" ] || echo "detune${d}c $SRC/audio/pop909cl/$id.flac $SRC/ref/pop909cl/$id.lab $out $WORK/audio/d${d}_$id.lab"
  done <"$SHARED/data/splits/pop909cl_test.txt"
done >"$WORK/degrade.txt"
[ -s "$WORK/degrade.txt" ] && xargs -P "$JOBS" -L 1 sh scripts/robustness.sh --degrade <"$WORK/degrade.txt"

# Estimates: the JSON of the file-mode student (its tuning, not its chords).
while read -r id; do echo "$SRC/audio/pop909cl/$id.flac"; done <"$SHARED/data/splits/pop909cl_test.txt" >"$WORK/files.txt"
for d in $DETUNES; do
  while read -r id; do echo "$WORK/audio/d${d}_$id.flac"; done <"$SHARED/data/splits/pop909cl_test.txt"
done >>"$WORK/files.txt"
xargs -P "$JOBS" -n 20 ./build/chordlet transcribe -q -f json --skip-existing -o "$WORK/est" <"$WORK/files.txt"

cents() { sed -n 's/.*"tuning":{"a4_hz":[^,]*,"cents":\([^,]*\),.*/\1/p' "$WORK/est/$1.json"; }
while read -r id; do
  base=$(cents "$id")
  for d in $DETUNES; do
    printf '%s\t%s\t%s\t%s\n' "$id" "$d" "$(cents "d${d}_$id")" "$base"
  done
done <"$SHARED/data/splits/pop909cl_test.txt" |
  awk -F '\t' 'BEGIN { OFS = "\t" } {
    e = $3 - $4 - $2; k = (e + 50) / 100; f = int(k); if (k < f) f--; e -= 100 * f  # wrapped to [-50, 50)
    print $1, $2, $3, $4, e }' >"$WORK/errors.tsv"
awk -F '\t' '
  { a = $5 < 0 ? -$5 : $5; n[$2]++; s[$2] += a; if (a > m[$2]) m[$2] = a; N++; S += a; if (a > M) M = a; if (a <= 3) ok++
    b = $4 < 0 ? -$4 : $4; if (!($1 in seen)) { seen[$1] = 1; nb++; sb += b; if (b > mb) mb = b } }
  END {
    printf "| detune (cents) | songs | mean |error| | largest |error| |\n|---|---|---|---|\n"
    for (d in n) printf "| %s | %d | %.2f | %.2f |\n", d, n[d], s[d] / n[d], m[d]
    printf "| all | %d | %.2f | %.2f |\n", N, S / N, M
    printf "\n%d of %d estimates within 3 cents; the originals own tuning: mean |%.2f|, largest |%.2f| cents\n", ok, N, sb / nb, mb
  }' "$WORK/errors.tsv" | tee "$WORK/summary.md"
