#!/bin/sh
# model_cli.sh: the teacher importer and model loading, through the commands.
#   1. chordlet-train import-teacher gives exactly models/teacher.chordlet (the
#      committed file is current, and the import is deterministic);
#   2. damaged teacher folders are refused with a clear message;
#   3. damaged model files (truncated, bit-flipped, wrong magic, wrong version,
#      a tensor of the wrong shape) are refused by `chordlet info` and
#      `chordlet transcribe` with a clear message and exit 1, never a crash.
# Usage: model_cli.sh BUILD_DIR   (needs CHORDLET_SHARED; exit 77 without it)
set -u
BUILD=$1
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" 2>/dev/null && pwd)
TEACHER=$SHARED/models/teacher
[ -f "$TEACHER/manifest.json" ] || { echo "this test needs ../shared (looked in $TEACHER)"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }

# expect_fail NAME NEEDLE COMMAND...: exit 1 or 2 (not a signal), stderr has NEEDLE
expect_fail() {
  name=$1 needle=$2
  shift 2
  timeout 60 "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  if [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ]; then
    bad "$name: exit $rc"; sed 's/^/    /' "$TMP/err"; return
  fi
  if ! grep -q -- "$needle" "$TMP/err"; then
    bad "$name: stderr lacks '$needle'"; sed 's/^/    /' "$TMP/err"; return
  fi
  ok "$name: $(head -c 160 "$TMP/err" | head -n 1)"
}

# 1. Deterministic import equal to the committed model.
if "$BUILD/chordlet-train" import-teacher "$TEACHER" "$TMP/teacher.chordlet" >"$TMP/out" 2>&1 &&
   cmp -s "$TMP/teacher.chordlet" models/teacher.chordlet; then
  ok "import-teacher reproduces models/teacher.chordlet byte for byte"
else
  bad "import-teacher differs from models/teacher.chordlet (re-import and commit it if the format changed)"
  cat "$TMP/out"
fi
"$BUILD/chordlet" info "$TMP/teacher.chordlet" >"$TMP/info" 2>&1 && grep -q "jiang2019-cnn-blstm" "$TMP/info" &&
  grep -q "teacher.n_folds *5" "$TMP/info" && ok "chordlet info reads it" || bad "chordlet info"

# 2. Damaged teacher folders.
mkdir "$TMP/src"
for f in "$TEACHER"/*; do ln -s "$f" "$TMP/src/"; done
rm "$TMP/src/fold2.f32"
head -c 1000000 "$TEACHER/fold2.f32" >"$TMP/src/fold2.f32"
expect_fail "import: truncated fold blob" "fold2.f32 has 1000000 bytes" \
  "$BUILD/chordlet-train" import-teacher "$TMP/src" "$TMP/x.chordlet"
rm "$TMP/src/manifest.json"
echo '{"folds": [' >"$TMP/src/manifest.json"
expect_fail "import: malformed manifest" "not valid JSON" "$BUILD/chordlet-train" import-teacher "$TMP/src" "$TMP/x.chordlet"
expect_fail "import: missing folder" "cannot open" "$BUILD/chordlet-train" import-teacher "$TMP/nope" "$TMP/x.chordlet"
[ -e "$TMP/x.chordlet" ] && bad "a failed import left an output file" || ok "a failed import leaves no output file"

# 3. Damaged model files.
M=models/teacher.chordlet
SIZE=$(wc -c <"$M")
head -c $((SIZE - 1000)) "$M" >"$TMP/truncated.chordlet"
expect_fail "model: truncated" "truncated" "$BUILD/chordlet" info "$TMP/truncated.chordlet"
cp "$M" "$TMP/flipped.chordlet"
printf '\377' | dd of="$TMP/flipped.chordlet" bs=1 seek=$((SIZE / 2)) conv=notrunc 2>/dev/null
expect_fail "model: bit flip" "checksum mismatch" "$BUILD/chordlet" info "$TMP/flipped.chordlet"
cp "$M" "$TMP/magic.chordlet"
printf 'XXXX' | dd of="$TMP/magic.chordlet" bs=1 seek=0 conv=notrunc 2>/dev/null
expect_fail "model: wrong magic" "no CHLT magic" "$BUILD/chordlet" info "$TMP/magic.chordlet"
cp "$M" "$TMP/version.chordlet"
printf '\011' | dd of="$TMP/version.chordlet" bs=1 seek=4 conv=notrunc 2>/dev/null
expect_fail "model: newer version" "made by a newer chordlet" "$BUILD/chordlet" info "$TMP/version.chordlet"
printf 'not a model' >"$TMP/text.chordlet"
expect_fail "model: a text file" "too short" "$BUILD/chordlet" info "$TMP/text.chordlet"
expect_fail "model: missing" "no model" "$BUILD/chordlet" info "$TMP/missing.chordlet"

# Two tensors pointing at the same bytes (a small file could describe far more
# parameters than it holds): refused by the loader.
python3 tests/model_craft.py overlap models/default.chordlet "$TMP/overlap.chordlet"
expect_fail "model: tensors sharing bytes" "share bytes" "$BUILD/chordlet" info "$TMP/overlap.chordlet"

# A 2 KB model whose metadata claims a 2 GB student and holds no tensor: every
# loader refuses it for the missing tensors before allocating what it claims.
# Memory is capped at 1 GB (ulimit -v; under ASan, whose shadow memory needs
# the address space, its own allocation cap), so a loader that allocated
# first would fail with "out of memory" instead.
python3 tests/model_craft.py huge-claim models/default.chordlet "$TMP/huge.chordlet"
case $BUILD in
*asan*) set -- env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:allocator_may_return_null=1:max_allocation_size_mb=1000" ;;
*) set -- sh -c 'ulimit -v 1000000 && exec "$@"' capped ;;
esac
expect_fail "model claiming 2 GB, no tensors: transcribe" "tensor 'f.0.attn.w_in' is missing" \
  "$@" "$BUILD/chordlet" transcribe -q --model "$TMP/huge.chordlet" -o "$TMP" examples/synth0046.flac
expect_fail "model claiming 2 GB, no tensors: live" "tensor 'f.0.attn.w_in' is missing" \
  "$@" "$BUILD/chordlet" live --backend file --device examples/synth0046.flac --model "$TMP/huge.chordlet" --duration 1
expect_fail "model claiming 2 GB, no tensors: export" "tensor 'f.0.attn.w_in' is missing" \
  "$@" "$BUILD/chordlet-train" export "$TMP/huge.chordlet" "$TMP/huge-out.chordlet"

echo "# $failures failed"
[ "$failures" -eq 0 ]
