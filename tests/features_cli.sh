#!/bin/sh
# features_cli.sh: `chordlet-train features`, the student's cached inputs and targets.
#   1. the demo (30 s, its .lab beside it) gives features (1501, 144), labels (1501)
#      and, with --pseudo, p170 (1501, 170);
#   2. a re-run skips it; a changed .lab gives a new cache;
#   3. missing pseudo-labels and broken audio fail clearly.
# Usage: features_cli.sh BUILD_DIR   (needs CHORDLET_SHARED for the teacher; exit 77 without it)
set -u
BUILD=$1
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" 2>/dev/null && pwd)
[ -f "$SHARED/models/teacher/manifest.json" ] || { echo "this test needs ../shared"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
mkdir "$TMP/in"
cp examples/synth0046.flac examples/synth0046.lab "$TMP/in/"

"$BUILD/chordlet-train" pseudo-label --folds 1 --out "$TMP/pl" "$TMP/in" 2>/dev/null
if "$BUILD/chordlet-train" features --folds 1 --pseudo "$TMP/pl" --out "$TMP/ft" "$TMP/in" 2>"$TMP/err"; then
  "$BUILD/chordlet" info --tensors "$TMP"/ft/synth0046-*.chordlet >"$TMP/info"
  grep -q "features *1501x144" "$TMP/info" && grep -q "labels *1501$" "$TMP/info" &&
    grep -q "p170 *1501x170" "$TMP/info" && grep -q "frontend.kind *chordlet-stream-cqt" "$TMP/info" &&
    grep -q "stream.delay_seconds *0.12" "$TMP/info" && ok "features, labels and aligned pseudo-labels of 1501 frames" ||
    { bad "cache content"; cat "$TMP/info"; }
else
  bad "features run"; cat "$TMP/err"
fi
"$BUILD/chordlet-train" features --folds 1 --pseudo "$TMP/pl" --out "$TMP/ft" "$TMP/in" 2>"$TMP/err"
grep -q "0 cached, 1 already cached" "$TMP/err" && ok "a re-run skips it" || { bad "resume"; cat "$TMP/err"; }
sed -i '1s/N$/X/' "$TMP/in/synth0046.lab"
"$BUILD/chordlet-train" features --folds 1 --pseudo "$TMP/pl" --out "$TMP/ft" "$TMP/in" 2>/dev/null
[ "$(ls "$TMP"/ft/*.chordlet | wc -l)" -eq 2 ] && ok "a changed .lab gives a new cache" || bad "lab change"

"$BUILD/chordlet-train" features --pseudo "$TMP/nowhere" --out "$TMP/ft2" "$TMP/in" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "no pseudo-labels for" "$TMP/err" && ok "missing pseudo-labels: clear error" ||
  { bad "missing pseudo-labels"; cat "$TMP/err"; }
head -c 4000 /dev/urandom >"$TMP/in/broken.ogg"
"$BUILD/chordlet-train" features --out "$TMP/ft3" "$TMP/in" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "broken.ogg" "$TMP/err" && [ "$(ls "$TMP/ft3" | wc -l)" -eq 1 ] &&
  ok "broken audio: exit 1, named, the good file still cached" || { bad "broken audio"; cat "$TMP/err"; ls "$TMP/ft3"; }
echo "# $failures failed"
[ "$failures" -eq 0 ]
