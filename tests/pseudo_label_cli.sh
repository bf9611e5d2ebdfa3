#!/bin/sh
# pseudo_label_cli.sh: `chordlet-train pseudo-label`, the teacher over unlabelled audio.
#   1. caches appear, one per input, with p170 (T, 170) at the teacher's frame rate;
#   2. the hard labels (--labs) equal `chordlet transcribe --decoder argmax`;
#   3. a re-run skips every cached file; another setting (--folds) gives new keys;
#   4. bad input fails cleanly: no cache for it, the others still done.
# Usage: pseudo_label_cli.sh BUILD_DIR   (needs CHORDLET_SHARED; exit 77 without it)
set -u
BUILD=$1
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" 2>/dev/null && pwd)
REF=$SHARED/models/teacher/reference
[ -f "$REF/music.wav" ] || { echo "this test needs ../shared (looked in $REF)"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
mkdir "$TMP/in"
cp "$REF/music.wav" "$TMP/in/music.wav"
cp examples/synth0046.flac "$TMP/in/demo.flac"

if "$BUILD/chordlet-train" pseudo-label --labs --jobs 2 --out "$TMP/out" "$TMP/in" 2>"$TMP/err" &&
   [ "$(ls "$TMP/out"/*.chordlet | wc -l)" -eq 2 ]; then ok "two inputs, two caches: $(tail -n 1 "$TMP/err")"
else bad "pseudo-label run"; cat "$TMP/err"; fi
cache=$(ls "$TMP/out"/music-*.chordlet)
"$BUILD/chordlet" info --tensors "$cache" >"$TMP/info"
grep -q "p170 *517x170" "$TMP/info" && grep -q "cache.kind *teacher-p170" "$TMP/info" &&
  grep -q "teacher.n_folds *5" "$TMP/info" && ok "music: p170 517x170 from 5 folds" || { bad "cache content"; cat "$TMP/info"; }

"$BUILD/chordlet" transcribe --model teacher -q --decoder argmax -o "$TMP" "$TMP/in/music.wav"
cmp -s "$TMP/music.lab" "$TMP/out/music.lab" && ok "hard labels equal transcribe --decoder argmax" ||
  { bad "hard labels differ from transcribe --decoder argmax"; diff "$TMP/music.lab" "$TMP/out/music.lab" | head; }

"$BUILD/chordlet-train" pseudo-label --labs --out "$TMP/out" "$TMP/in" 2>"$TMP/err"
grep -q "0 labelled, 2 already cached" "$TMP/err" && ok "a re-run skips the cached files" || { bad "resume"; cat "$TMP/err"; }
"$BUILD/chordlet-train" pseudo-label --folds 1 --out "$TMP/out" "$TMP/in/music.wav" 2>"$TMP/err"
[ "$(ls "$TMP/out"/music-*.chordlet | wc -l)" -eq 2 ] && ok "--folds 1 gives a new key, the old cache stays" || bad "keys"

head -c 5000 /dev/urandom >"$TMP/in/broken.wav"
"$BUILD/chordlet-train" pseudo-label --out "$TMP/out" "$TMP/in" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "broken.wav" "$TMP/err" && ! ls "$TMP/out" | grep -q broken &&
  ls "$TMP/out" | grep -qv '\.tmp\.' && ok "a broken file: exit 1, named, no cache, no temp file" ||
  { bad "broken input (exit $rc)"; cat "$TMP/err"; ls "$TMP/out"; }
"$BUILD/chordlet-train" pseudo-label --out "$TMP/out" --model "$TMP/none.chordlet" "$TMP/in/music.wav" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "cannot open model" "$TMP/err" && ok "missing model" || { bad "missing model"; cat "$TMP/err"; }
"$BUILD/chordlet-train" pseudo-label "$TMP/in/music.wav" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--out DIR is required" "$TMP/err" && ok "no --out: usage" || bad "no --out"

echo "# $failures failed"
[ "$failures" -eq 0 ]
