#!/bin/sh
# analysis_scripts.sh: the evaluation-analysis scripts of docs/RESULTS.md on
# made-up evaluations whose answers are known.
#   1. boundary-offsets.py: an estimate whose every chord change is 60 ms late
#      puts 100 % in the +25..+75 band with a mean of +60 ms; one that misses a
#      change counts it under "none"; exact changes give 0 ms;
#   2. root-errors.py: a model that holds each chord 0.2 s into the next is
#      wrong only within 0.5 s of a change and names the previous chord, and a
#      model that is right everywhere is never the wrong one; errors of 10 ms
#      after each change count for what they last (timed exactly, not sampled).
# Usage: analysis_scripts.sh   (python3, standard library)
set -u
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
PYTHON=${PYTHON:-python3}

# model DIR SHIFT DROP: the reference (C G Am F, 2 s each, twice) and an
# estimate whose changes come SHIFT s late; DROP=1 merges the second chord into the first
model() {
  mkdir -p "$1/ref/pop" "$1/est/pop"
  awk -v s="$2" -v drop="$3" 'BEGIN {
    split("C:maj G:maj A:min F:maj C:maj G:maj A:min F:maj", c, " ");
    for (i = 1; i <= 8; i++) printf "%.3f\t%.3f\t%s\n", 2 * (i - 1), 2 * i, c[i] > ARGV[1];
    for (i = 1; i <= 8; i++) {
      a = (i == 1) ? 0 : 2 * (i - 1) + s; b = (i == 8) ? 16 : 2 * i + s; l = c[i];
      if (drop && i == 2) continue;
      if (drop && i == 1) b = 4 + s;
      printf "%.3f\t%.3f\t%s\n", a, b, l > ARGV[2];
    }
  }' "$1/ref/pop/song.lab" "$1/est/pop/song.lab"
}
model "$TMP/exact" 0 0
model "$TMP/late" 0.06 0
model "$TMP/missed" 0 1
model "$TMP/lagging" 0.2 0
model "$TMP/slightly" 0.01 0

# expect WHAT OUTPUT LINE...: ok if OUTPUT has every LINE (a grep pattern), else
# not ok with the output shown.
expect() {
  what=$1 out=$2
  shift 2
  for line in "$@"; do
    echo "$out" | grep -q "$line" || { bad "$what"; echo "$out"; return; }
  done
  ok "$what"
}

expect "boundary-offsets: exact 0 ms, 60 ms late in its band, a missed change under none" \
  "$($PYTHON scripts/boundary-offsets.py pop "$TMP/exact" "$TMP/late" "$TMP/missed" 2>&1)" \
  '^| exact | 7 | 0.0 % | 0.0 % | 0.0 % | 0.0 % | 100.0 % | 0.0 % .* | 0.0 % | +0.0 / +0.0 ms |$' \
  '^| late | 7 | 0.0 % | 0.0 % | 0.0 % | 0.0 % | 0.0 % | 100.0 % .* | +60.0 / +60.0 ms |$' \
  '^| missed | 7 | .* | 14.3 % | +0.0 / +0.0 ms |$'

# 7 changes x 0.2 s late = 1.4 s wrong of 16 s, all of it saying the previous chord
expect "root-errors: a model 0.2 s late errs within 0.5 s of changes, naming the previous chord" \
  "$($PYTHON scripts/root-errors.py pop "$TMP/exact" "$TMP/lagging" 2>&1)" \
  '^| exact | lagging: previous chord | 8.75 % | 0.00 % | 0.00 % | 8.75 % |$' \
  '^| exact | lagging: other | 0.00 % | 0.00 % | 0.00 % | 0.00 % |$' \
  '^| lagging | exact: previous chord | 0.00 % | 0.00 % | 0.00 % | 0.00 % |$'

# 7 changes x 10 ms = 0.07 s of 16 s: 0.4375 %
expect "root-errors: 10 ms late after each change counts 0.44 % of the time" \
  "$($PYTHON scripts/root-errors.py pop "$TMP/exact" "$TMP/slightly" 2>&1)" \
  '^| exact | slightly: previous chord | 0.44 % | 0.00 % | 0.00 % | 0.44 % |$'

$PYTHON scripts/boundary-offsets.py pop "$TMP/nowhere" >/dev/null 2>&1
[ $? -eq 1 ] && ok "boundary-offsets: an empty evaluation exits 1" || bad "empty evaluation"
echo "# $failures failed"
[ "$failures" -eq 0 ]
