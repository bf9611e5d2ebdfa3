#!/bin/sh
# lv2_cli.sh: chordlet.lv2's Turtle against the LV2 schemas, and what LV2's
# own tools make of the bundle. Usage: lv2_cli.sh BUILD_DIR
#  - lv2_validate (lv2-dev; sord_validate from sordi with every LV2 schema):
#    0 errors; a copy with a broken port (a non-numeric lv2:index) is caught;
#  - lv2ls lists both plugins; lv2info shows the required features (urid:map,
#    worker:schedule), hardRTCapable, the worker and state interfaces, every
#    port by symbol.
set -u
BUILD=$1
BUNDLE=$BUILD/lv2/chordlet.lv2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
for tool in lv2_validate sord_validate lv2ls lv2info; do
  command -v $tool >/dev/null 2>&1 || { echo "needs $tool (lv2-dev, sordi, lilv-utils)"; exit 77; }
done
[ -f "$BUNDLE/chordlet.so" ] || { bad "no bundle at $BUNDLE"; exit 1; }

out=$(lv2_validate "$BUNDLE"/*.ttl 2>&1)
if echo "$out" | grep -q "Found 0 errors"; then
  ok "lv2_validate: $(echo "$out" | grep Found)"
else
  bad "lv2_validate:"
  echo "$out" | grep -A3 "error" | head -30
fi
mkdir -p "$TMP/broken.lv2"
cp "$BUNDLE"/*.ttl "$TMP/broken.lv2/"
sed -i '0,/lv2:index 0 ;/s//lv2:index "zero" ;/' "$TMP/broken.lv2/chordlet.ttl"
out=$(lv2_validate "$TMP/broken.lv2"/*.ttl 2>&1)
n=$(echo "$out" | sed -n 's/^Found \([0-9]*\) errors.*/\1/p')
if [ -n "$n" ] && [ "$n" -gt 0 ]; then ok "a broken port is caught ($n errors)"; else bad "a broken port passed: $out"; fi

mkdir -p "$TMP/path"
ln -s "$(cd "$BUNDLE" && pwd)" "$TMP/path/chordlet.lv2"
list=$(LV2_PATH="$TMP/path" lv2ls 2>&1)
for uri in urn:chordlet:mono urn:chordlet:stereo; do
  echo "$list" | grep -qx "$uri" && ok "lv2ls lists $uri" || bad "lv2ls does not list $uri: $list"
done
info=$(LV2_PATH="$TMP/path" lv2info urn:chordlet:mono 2>&1)
for want in "urid#map" "worker#schedule" "hardRTCapable" "worker#interface" "state#interface" \
  "Symbol: *in$" "Symbol: *out$" "Symbol: *control$" "Symbol: *notify$" "Symbol: *midi_out$" \
  "Symbol: *threshold$" "Symbol: *smoothing$" "Symbol: *chord$" "Symbol: *root$" "Symbol: *quality$" \
  "Symbol: *bass$" "Symbol: *confidence$" "Symbol: *latency$"; do
  echo "$info" | grep -q "$want" && ok "lv2info: $want" || bad "lv2info lacks $want"
done
info=$(LV2_PATH="$TMP/path" lv2info urn:chordlet:stereo 2>&1)
for want in "Symbol: *in_l$" "Symbol: *in_r$" "Symbol: *out_l$" "Symbol: *out_r$"; do
  echo "$info" | grep -q "$want" && ok "lv2info (stereo): $want" || bad "lv2info (stereo) lacks $want"
done
echo "# $failures failed"
[ "$failures" -eq 0 ]
