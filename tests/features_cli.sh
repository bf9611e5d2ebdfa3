#!/bin/sh
# features_cli.sh: `chordlet-train features`, the student's cached inputs and targets.
#   1. the demo (30 s, its .lab beside it) gives features (1501, 144), labels (1501)
#      and, with --pseudo, p170 (1501, 170);
#   2. a re-run skips it; a changed .lab gives a new cache;
#   3. missing pseudo-labels and broken audio fail clearly;
#   4. --augment: K distinct variant caches (<stem>.a<k>-<key>), a re-run is a
#      no-op, another spec or seed makes new ones, bad specs exit 2, and a
#      detuned variant's labels and pseudo-labels are the clean song's at
#      time-scaled times (tests/augment_align.py);
#   5. --max-window: the front end's window and delay recorded in the cache, a
#      new cache beside the default one, out-of-range values exit 2.
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

# ---- a longer front-end window (file-mode models) ----
rm -f "$TMP/in/broken.ogg"
if "$BUILD/chordlet-train" features --max-window 1.06 --out "$TMP/ft" "$TMP/in" 2>"$TMP/err"; then
  has() { "$BUILD/chordlet" info "$1" | awk -v k="$2" -v v="$3" '$1 == k && $2 == v { f = 1 } END { exit !f }'; }
  long=$(for f in "$TMP"/ft/synth0046-*.chordlet; do has "$f" stream.max_window_seconds 1.06 && echo "$f"; done)
  [ -n "$long" ] && has "$long" stream.delay_seconds 0.6 &&
    [ "$(ls "$TMP"/ft/*.chordlet | wc -l)" -eq 3 ] && grep -q "1 cached, 0 already cached" "$TMP/err" &&
    ok "--max-window 1.06: a cache of its own, 0.6 s of delay recorded" || { bad "--max-window cache"; ls "$TMP/ft"; cat "$TMP/err"; }
else
  bad "features --max-window run"; cat "$TMP/err"
fi
for w in 0.01 2.5 nan 1s ""; do
  "$BUILD/chordlet-train" features --max-window "$w" --out "$TMP/nothing" "$TMP/in" 2>"$TMP/err"
  code=$?
  [ $code -eq 2 ] && grep -q "max-window takes seconds" "$TMP/err" && [ ! -e "$TMP/nothing" ] ||
    { bad "--max-window '$w': exit $code"; cat "$TMP/err"; }
done

# ---- augmented variants (trainer/augment.h) ----
info() { "$BUILD/chordlet" info "$1"; }
meta() { info "$1" | awk -v k="$2" '$1 == k { sub(/^ *[^ ]+ +/, ""); print }'; }
features() { "$BUILD/chordlet-train" features --folds 1 --pseudo "$TMP/pl" "$@" "$TMP/in" 2>"$TMP/err"; }
rm -f "$TMP/in/broken.ogg"
if features --augment all --variants 3 --seed 5 --out "$TMP/aug"; then
  names=$(for f in "$TMP"/aug/*.chordlet; do meta "$f" source.name; done | sort | tr '\n' ' ')
  [ "$(ls "$TMP"/aug/synth0046.a[123]-*.chordlet | wc -l)" -eq 3 ] &&
    [ "$names" = "synth0046.a1.flac synth0046.a2.flac synth0046.a3.flac " ] &&
    [ "$(for f in "$TMP"/aug/*.chordlet; do meta "$f" augment.description; done | sort -u | wc -l)" -eq 3 ] &&
    "$BUILD/chordlet-train" stats "$TMP/aug" | grep -q "^augmented variants: 3 of 3 songs" &&
    ok "--augment all --variants 3: three caches, three songs, three draws (stats counts them)" ||
    { bad "variant caches"; ls "$TMP/aug"; echo "$names"; }
else
  bad "features --augment run"; cat "$TMP/err"
fi
features --augment all --variants 3 --seed 5 --out "$TMP/aug"
grep -q "0 cached, 3 already cached" "$TMP/err" && ok "a re-run of the variants is a no-op" || { bad "variants resume"; cat "$TMP/err"; }
features --augment all@0.4 --variants 3 --seed 5 --out "$TMP/aug"
features --augment all --variants 3 --seed 6 --out "$TMP/aug"
[ "$(ls "$TMP"/aug/*.chordlet | wc -l)" -eq 9 ] && ok "another spec or seed: new caches beside the old" ||
  { bad "spec/seed change"; ls "$TMP/aug"; }
# the loader refuses two caches of one song, so variants of two specs in one folder fail loudly
"$BUILD/chordlet-train" stats "$TMP/aug" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "two feature caches of 'synth0046.a1.flac'" "$TMP/err" &&
  ok "two specs' variants in one folder are refused by the loader" || { bad "mixed variants"; cat "$TMP/err"; }
for spec in "" tremolo detune=200 level=-40:5 "noise=20@2" "all=1" "detune,detune" "eq=100:200"; do
  "$BUILD/chordlet-train" features --augment "$spec" --out "$TMP/nothing" "$TMP/in" 2>"$TMP/err"
  code=$?
  [ $code -eq 2 ] && grep -q "features: --augment: " "$TMP/err" || { bad "--augment '$spec': exit $code"; cat "$TMP/err"; }
done
"$BUILD/chordlet-train" features --variants 2 --out "$TMP/nothing" "$TMP/in" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "needs --augment" "$TMP/err" && [ ! -e "$TMP/nothing" ] &&
  ok "bad specs and --variants alone: exit 2 with a message, nothing written" || { bad "--variants alone"; cat "$TMP/err"; }

# A detune of +80 cents shortens the song by 2^(-80/1200): its frame labels
# must be those of the .lab with every time scaled so, and its p170 the
# teacher's frames at scaled times.
if features --augment detune=80:80 --out "$TMP/det"; then
  det=$(ls "$TMP"/det/synth0046.a1-*.chordlet)
  scale=$(meta "$det" augment.time_scale)
  frames=$("$BUILD/chordlet" info --tensors "$det" | awk '$1 == "labels" { print $2 }')
  mkdir "$TMP/scaled" # a file as long as the variant (its frame count), beside the scaled .lab
  awk -v s="$scale" '{ printf "%.12f\t%.12f\t%s\n", $1 * s, $2 * s, $3 }' "$TMP/in/synth0046.lab" >"$TMP/scaled/silent.lab"
  python3 -c 'import sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)
w.writeframes(bytes(2 * int(sys.argv[2]))); w.close()' "$TMP/scaled/silent.wav" "$(((frames - 1) * 441))"
  "$BUILD/chordlet-train" features --out "$TMP/scaledft" "$TMP/scaled" 2>"$TMP/err"
  python3 tests/augment_align.py "$det" "$TMP"/scaledft/silent-*.chordlet "$TMP"/pl/synth0046-*.chordlet >"$TMP/align" 2>&1 &&
    [ "$frames" -lt 1501 ] && ok "detuned variant: $(tr '\n' ';' <"$TMP/align")" || { bad "detuned targets"; cat "$TMP/align" "$TMP/err"; }
else
  bad "features --augment detune run"; cat "$TMP/err"
fi
echo "# $failures failed"
[ "$failures" -eq 0 ]
