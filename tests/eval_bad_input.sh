#!/usr/bin/env bash
# eval_bad_input.sh: bad-input tests of `chordlet eval`.
#
# Usage: tests/eval_bad_input.sh CHORDLET_BINARY
#
# Every case writes one malformed .lab file (reference or estimate) next to a
# good counterpart, runs `chordlet eval` on them and requires:
#   - a non-zero exit status that is not a crash (>= 128: killed by a signal)
#     nor a hang (each run is limited to 10 s; 124 = timed out),
#   - the exit status the contract gives: 1 for bad input data, 2 for bad
#     usage (either is accepted where the case is arguably both, e.g. a
#     missing file),
#   - a non-empty stderr containing what the case expects: the file's name,
#     the line (`line 3` or `:3:`-style), and for label errors the label.
# Positive controls make sure the test cannot pass by everything failing.
# Output is TAP-like: `ok - CASE` / `not ok - CASE: WHY`; exit 1 if any failed.

set -u

if [ $# -ne 1 ]; then
  echo "usage: $0 CHORDLET_BINARY" >&2
  exit 2
fi
BIN=$1
if [ ! -x "$BIN" ]; then
  echo "$0: $BIN is not an executable" >&2
  exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eval_bad_input.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/stdout
ERR=$TMP/stderr

n_ok=0
n_fail=0

# Matches the line number 3 however it is written: "line 3", "line: 3",
# "ref.lab:3:", "ref.lab:3 ". Every malformed line below sits on line 3, after
# a comment line, so a count that skips comments (or starts at 0) shows up.
LINE3='re:(line:? ?3([^0-9]|$)|:3([^0-9]|$))'

# ---------------------------------------------------------------- helpers

# run ARGS...: runs chordlet with a time limit; sets $rc, fills $OUT and $ERR.
run() {
  timeout -k 2 10 "$BIN" "$@" >"$OUT" 2>"$ERR" </dev/null
  rc=$?
}

# show_stderr: the first lines of what chordlet wrote on stderr, indented,
# without NULs and cut short (a 100 kB label may be echoed back).
show_stderr() {
  if [ -s "$ERR" ]; then
    head -c 600 "$ERR" | tr -d '\000' | head -n 6 | sed 's/^/#     stderr: /'
  else
    echo "#     stderr: (empty)"
  fi
}

# has PATTERN: whether stderr contains PATTERN. Prefixes: "re:" an extended
# regular expression, "rei:" the same ignoring case, otherwise a fixed string.
has() {
  case $1 in
    re:*) grep -aEq -- "${1#re:}" "$ERR" ;;
    rei:*) grep -aEiq -- "${1#rei:}" "$ERR" ;;
    *) grep -aFq -- "$1" "$ERR" ;;
  esac
}

pass() {
  n_ok=$((n_ok + 1))
  echo "ok - $1"
  [ -s "$ERR" ] && show_stderr | head -n 2
  return 0
}

fail() {
  n_fail=$((n_fail + 1))
  echo "not ok - $1: $2"
  show_stderr
}

# bad CASE CODES EXPECT... -- ARGS...
#   Runs `chordlet ARGS...` and checks it fails with one of CODES (space
#   separated), a non-empty stderr, and every EXPECT pattern in stderr.
bad() {
  local name=$1 codes=$2
  shift 2
  local -a want=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    want+=("$1")
    shift
  done
  shift # the "--"
  run "$@"
  if [ "$rc" -eq 124 ]; then
    fail "$name" "timed out after 10 s (exit 124)"; return
  elif [ "$rc" -ge 128 ]; then
    fail "$name" "crashed: killed by signal $((rc - 128)) (exit $rc)"; return
  elif [ "$rc" -eq 0 ]; then
    fail "$name" "exit status 0, expected failure (exit $codes)"; return
  elif [[ " $codes " != *" $rc "* ]]; then
    fail "$name" "exit status $rc, expected ${codes// / or }"; return
  elif [ ! -s "$ERR" ]; then
    fail "$name" "exit $rc but stderr is empty"; return
  fi
  local missing="" w
  for w in "${want[@]}"; do
    has "$w" || missing+=" '${w}'"
  done
  if [ -n "$missing" ]; then
    fail "$name" "stderr lacks$missing"
  else
    pass "$name"
  fi
}

# lab3 FILE LINE: a lab file whose line 3 is LINE (after a comment and one good
# segment), written byte for byte (LINE may hold escapes for printf %b).
lab3() {
  printf '# chordlet bad-input test\n0.0 1.0 C:maj\n%b\n' "$2" >"$1"
}

# ---------------------------------------------------------------- fixtures

GOOD_REF=$TMP/good_ref.lab
GOOD_EST=$TMP/good_est.lab
printf '# reference\n0.0\t1.0\tC:maj\n1.0\t2.5\tG:7\n2.5\t4.0\tA:min\n' >"$GOOD_REF"
printf '0.0 1.2 C\n1.2 2.5 G:7/3\n2.5 4.0 A:min7\n' >"$GOOD_EST"

# ---------------------------------------------------------------- positive controls

run eval "$GOOD_REF" "$GOOD_EST"
if [ "$rc" -ne 0 ]; then
  fail "positive: valid pair exits 0" "exit status $rc"
elif ! grep -aqi 'root' "$OUT"; then
  fail "positive: valid pair exits 0" "exit 0 but stdout has no score table (no 'root'): $(head -c 300 "$OUT")"
else
  pass "positive: valid pair exits 0 and prints the table"
fi

mkdir -p "$TMP/okref" "$TMP/okest"
cp "$GOOD_REF" "$TMP/okref/song_a.lab"
cp "$GOOD_EST" "$TMP/okest/song_a.lab"
cp "$GOOD_REF" "$TMP/okref/song_b.lab"
cp "$GOOD_REF" "$TMP/okest/song_b.lab"
run eval "$TMP/okref" "$TMP/okest" --json
if [ "$rc" -ne 0 ]; then
  fail "positive: valid directory pair with --json exits 0" "exit status $rc"
elif [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
names = sorted(f["name"] for f in d["files"])
assert len(names) == 2 and all("song_" in n for n in names), names
assert abs(float([f for f in d["files"] if "song_b" in f["name"]][0]["scores"]["root"]) - 1.0) < 1e-12
' "$OUT" 2>"$TMP/pyerr"; then
  fail "positive: valid directory pair with --json exits 0" \
    "stdout is not the expected JSON (2 files, song_b root = 1): $(tail -n 1 "$TMP/pyerr")"
else
  pass "positive: valid directory pair with --json exits 0 and prints JSON for both files"
fi

# The format's allowances: comments, blank lines, tabs and runs of spaces,
# no final newline, and a 2000-character comment (longer than a typical
# 1 kB line buffer, whose tail must not be read as a new line; a 100 kB line
# is a bad-input case below).
LONG_COMMENT=$(head -c 2000 /dev/zero | tr '\0' 'c')
{
  printf '# %s\n' "$LONG_COMMENT"
  printf '\n0.0 \t 1.0\t\tC:maj\n\n# mid comment\n1.0   2.5 G:7\n'
  printf '2.5\t4.0\tA:min'
} >"$TMP/lenient_ref.lab"
run eval "$TMP/lenient_ref.lab" "$GOOD_EST"
if [ "$rc" -ne 0 ]; then
  fail "positive: comments, blank lines, tabs, 2000-char comment, no final newline" "exit status $rc"
else
  pass "positive: comments, blank lines, tabs, 2000-char comment, no final newline"
fi

printf '0.0 1.0 C:maj\r\n1.0 2.5 G:7\r\n2.5 4.0 A:min\r\n' >"$TMP/crlf_ref.lab"
run eval "$TMP/crlf_ref.lab" "$GOOD_EST"
if [ "$rc" -ne 0 ]; then
  fail "positive: CRLF line ends" "exit status $rc"
else
  pass "positive: CRLF line ends"
fi

# Zero-length segments are dropped with a warning, not rejected.
printf '0.0 1.0 C:maj\n1.0 1.0 D:min\n1.0 2.5 G:7\n2.5 4.0 A:min\n' >"$TMP/zero_len_ref.lab"
run eval "$TMP/zero_len_ref.lab" "$GOOD_EST"
if [ "$rc" -ne 0 ]; then
  fail "positive: zero-length segment is dropped with a warning" "exit status $rc"
elif [ ! -s "$ERR" ]; then
  fail "positive: zero-length segment is dropped with a warning" "exit 0 but no warning on stderr"
else
  pass "positive: zero-length segment is dropped with a warning"
fi

# ---------------------------------------------------------------- invalid chord labels

# Each bad label on line 3 of a reference; stderr must name the file, the
# line and the label itself.
i=0
for label in 'H:maj' 'C:maj5' 'C:(1,3' 'c:maj' 'Cmaj' 'C:/5' 'C:min7(*)' \
  'C::maj' 'C:maj/H' 'bG' 'C:(1,3,5))' 'C:maj/' 'Cab' 'C:#7' 'N/3'; do
  i=$((i + 1))
  f=$TMP/label_$i.lab
  lab3 "$f" "1.0 2.0 $label"
  bad "invalid label '$label' in reference" 1 "label_$i.lab" "$LINE3" "$label" \
    -- eval "$f" "$GOOD_EST"
done

# The same in an estimate: the estimate file must be the one named.
lab3 "$TMP/est_label.lab" '1.0 2.0 C:maj5'
bad "invalid label in estimate" 1 "est_label.lab" "$LINE3" "C:maj5" \
  -- eval "$GOOD_REF" "$TMP/est_label.lab"

# A label with a space is a fourth column (mir_eval reads the label "C maj").
lab3 "$TMP/extra_col.lab" '1.0 2.0 C maj'
bad "label with a space / extra column" 1 "extra_col.lab" "$LINE3" -- eval "$TMP/extra_col.lab" "$GOOD_EST"

# ---------------------------------------------------------------- bad times and columns

lab3 "$TMP/nan_start.lab" 'nan 2.0 G'
bad "NaN start time" 1 "nan_start.lab" "$LINE3" -- eval "$TMP/nan_start.lab" "$GOOD_EST"

lab3 "$TMP/nan_end_est.lab" '1.0 NaN G'
bad "NaN end time in estimate" 1 "nan_end_est.lab" "$LINE3" -- eval "$GOOD_REF" "$TMP/nan_end_est.lab"

lab3 "$TMP/inf_end.lab" '1.0 inf G'
bad "inf end time" 1 "inf_end.lab" "$LINE3" -- eval "$TMP/inf_end.lab" "$GOOD_EST"

lab3 "$TMP/infinity_start.lab" 'Infinity 2.0 G'
bad "Infinity start time" 1 "infinity_start.lab" "$LINE3" -- eval "$TMP/infinity_start.lab" "$GOOD_EST"

# Negative time on the first segment (line 3 after two comments), so that it
# is not also an overlap with a previous segment.
printf '# chordlet bad-input test\n# negative start\n-1.0 0.5 C:maj\n0.5 2.0 G\n' >"$TMP/negative.lab"
bad "negative time" 1 "negative.lab" "$LINE3" -- eval "$TMP/negative.lab" "$GOOD_EST"

lab3 "$TMP/reversed.lab" '2.0 1.5 G'
bad "reversed interval (end < start)" 1 "reversed.lab" "$LINE3" -- eval "$TMP/reversed.lab" "$GOOD_EST"

lab3 "$TMP/overlap.lab" '0.5 2.0 G'
bad "overlap with previous segment" 1 "overlap.lab" "$LINE3" -- eval "$TMP/overlap.lab" "$GOOD_EST"

lab3 "$TMP/overlap_est.lab" '0.999 2.0 G'
bad "overlap with previous segment in estimate" 1 "overlap_est.lab" "$LINE3" \
  -- eval "$GOOD_REF" "$TMP/overlap_est.lab"

lab3 "$TMP/no_label.lab" '1.0 2.0'
bad "missing label column" 1 "no_label.lab" "$LINE3" -- eval "$TMP/no_label.lab" "$GOOD_EST"

lab3 "$TMP/one_number.lab" '1.0'
bad "only one number" 1 "one_number.lab" "$LINE3" -- eval "$TMP/one_number.lab" "$GOOD_EST"

lab3 "$TMP/non_numeric.lab" 'abc 2.0 G'
bad "non-numeric time" 1 "non_numeric.lab" "$LINE3" -- eval "$TMP/non_numeric.lab" "$GOOD_EST"

# strtod() stops at the x: a parser that ignores the rest accepts "1.0x".
lab3 "$TMP/trailing_junk.lab" '1.0x 2.0 G'
bad "number with trailing junk (1.0x)" 1 "trailing_junk.lab" "$LINE3" \
  -- eval "$TMP/trailing_junk.lab" "$GOOD_EST"

lab3 "$TMP/huge_time.lab" '1.0 1e12 G'
bad "absurdly large time (1e12)" 1 "huge_time.lab" "$LINE3" -- eval "$TMP/huge_time.lab" "$GOOD_EST"

# A 100 kB line: a 100 000-character invalid label. Only the file and line are
# required in the message (the label may be cut short in it).
LONG_TAIL=$(head -c 100000 /dev/zero | tr '\0' 'x')
lab3 "$TMP/long_line.lab" "1.0 2.0 C:maj$LONG_TAIL"
bad "100 kB line" 1 "long_line.lab" "$LINE3" -- eval "$TMP/long_line.lab" "$GOOD_EST"

# ---------------------------------------------------------------- binary content, empty files

# A NUL inside the label: fgets()+strlen() would see the valid label "C".
lab3 "$TMP/nul_label.lab" '1.0 2.0 C\000:maj'
bad "NUL byte inside a label" 1 "nul_label.lab" -- eval "$TMP/nul_label.lab" "$GOOD_EST"

# Binary garbage: a PNG-like header followed by every byte value.
{
  printf '\211PNG\r\n\032\n\000\000\000\rIHDR'
  # shellcheck disable=SC2059  # the format is the byte, on purpose
  for b in $(seq 0 255); do printf "\\$(printf '%03o' "$b")"; done
} >"$TMP/garbage.lab"
bad "binary garbage" 1 "garbage.lab" -- eval "$TMP/garbage.lab" "$GOOD_EST"

: >"$TMP/empty_ref.lab"
bad "empty reference file" 1 "empty_ref.lab" -- eval "$TMP/empty_ref.lab" "$GOOD_EST"

printf '# only\n# comments\n' >"$TMP/comments_ref.lab"
bad "reference with only comments" 1 "comments_ref.lab" -- eval "$TMP/comments_ref.lab" "$GOOD_EST"

# ---------------------------------------------------------------- files and directories

bad "missing reference file" "1 2" "does_not_exist.lab" \
  -- eval "$TMP/does_not_exist.lab" "$GOOD_EST"

bad "missing estimate file" "1 2" "no_such_est.lab" \
  -- eval "$GOOD_REF" "$TMP/no_such_est.lab"

mkdir -p "$TMP/dir_only"
cp "$GOOD_REF" "$TMP/dir_only/good_ref.lab"
bad "directory vs file" "1 2" 'rei:(dir_only|good_est|director)' \
  -- eval "$TMP/dir_only" "$GOOD_EST"

bad "file vs directory" "1 2" 'rei:(dir_only|good_ref|director)' \
  -- eval "$GOOD_REF" "$TMP/dir_only"

# Directory pair where one reference has no estimate.
mkdir -p "$TMP/dref" "$TMP/dest"
cp "$GOOD_REF" "$TMP/dref/song_a.lab"
cp "$GOOD_REF" "$TMP/dref/song_missing.lab"
cp "$GOOD_EST" "$TMP/dest/song_a.lab"
bad "directory pair, estimate file missing" "1 2" "song_missing.lab" \
  -- eval "$TMP/dref" "$TMP/dest"

# Directory pair where one estimate has a bad label: its name and line.
mkdir -p "$TMP/dref2" "$TMP/dest2"
cp "$GOOD_REF" "$TMP/dref2/song_a.lab"
cp "$GOOD_REF" "$TMP/dref2/song_bad.lab"
cp "$GOOD_EST" "$TMP/dest2/song_a.lab"
lab3 "$TMP/dest2/song_bad.lab" '1.0 2.0 H:maj'
bad "directory pair, bad label in one estimate" 1 "song_bad.lab" "$LINE3" "H:maj" \
  -- eval "$TMP/dref2" "$TMP/dest2"

# ---------------------------------------------------------------- usage

bad "unknown option" 2 "--bogus-option" -- eval "$GOOD_REF" "$GOOD_EST" --bogus-option
bad "missing arguments (none)" 2 -- eval
bad "missing arguments (only REF)" 2 -- eval "$GOOD_REF"
bad "missing arguments (only --json)" 2 -- eval --json
bad "too many arguments" 2 -- eval "$GOOD_REF" "$GOOD_EST" "$GOOD_EST"

# ---------------------------------------------------------------- summary

echo "# $n_ok passed, $n_fail failed"
[ "$n_fail" -eq 0 ]
