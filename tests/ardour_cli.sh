#!/bin/sh
# ardour_cli.sh BUILD_DIR: chordlet.lv2 in a real DAW (issue 18). Ardour 7's
# headless Lua session tool (ardour7-lua, "None (Dummy)" backend: no display,
# no sound card) runs tests/ardour_session.lua in three steps, each a fresh
# Ardour process on the same session:
#  1. create: a 44.1 kHz session with three mono tracks, "demo",
#     "progression" and "filemode", each with urn:chordlet:mono loaded through
#     an LV2 preset (Ardour's own preset path: lilv state restore) that sets
#     the model path (a copy of a shipped model, outside the bundle: the live
#     one, threshold 0.05 and smoothing 6; on filemode the file-mode one,
#     models/offline.chordlet, threshold 0.05 and smoothing 12, which file
#     mode does not use: it decides at the largest), and a probe
#     after it (tests/ardour_probe.lua, a Lua DSP
#     processor that records the plugin's chord, confidence and latency
#     outputs and its freewheel port every cycle); a take is recorded on both
#     tracks (Dummy backend, 50x speed); saved and closed.
#     Ardour 7.3's Lua cannot import a file (Editor:do_import is the GUI's;
#     Session:import_files came later), so the audio goes in as a take: this
#     script writes the demo (examples/synth0046.flac, resampled to 44.1 kHz;
#     on demo and filemode) and test_lv2_host's synthesized progression into
#     the takes' files, the
#     same length and format Ardour recorded, while the session is closed.
#  2. export: reopened (the plugin instantiated on a session load, its state
#     restored before run()); the regions and the preset's parameters are
#     checked, the regions' fade-ins switched off; the plugins' latencies as
#     Ardour sees them are printed; the session is exported
#     (SimpleExport, WAV: Ardour freewheels, faster than real time, and sets
#     the plugin's lv2:freeWheeling port; it also runs LV2 workers at once
#     then); the probes' rows are printed; the demo's plugin gets new
#     parameter values (threshold 0.1, smoothing 3); saved, closed.
#  3. reopen: the new values are back; the plugin's saved LV2 state names the
#     model copy (Ardour keeps a copy in the session's plugins/ folder).
# Checked (tests/ardour_chords.py): the freewheel port is 1 on every cycle of
# the export; on the progression, the chord output agrees with the truth one
# declared latency earlier on >= 85 % of the 20 ms points (test_lv2_host's
# measure; it asks 90 % of its own host); on the demo, the same measure
# against examples/synth0046.lab is within 5 points of what the library
# itself gets (tests/pkgconfig_stream.c, through libchordlet.a, with the same
# smoothing and threshold, on what the plugin heard: Ardour's export pre-roll
# of silence, which the plugin's pass starts with, then the audio), its root
# agreement is >= 0.7, and Ardour's chord output at the end of each cycle
# equals the chord the library had decided by then on >= 99.5 % of the points
# (measured: all of them; before the freewheel port, 81-85 %, varying from run
# to run: the stream carried what it heard before the export, its tuning
# tracker included, and the plugin's threshold held a change the library
# shows at its next confident frame). The live model names the exact chord
# of this demo, rich in rare chords, about 78-79 % of the time in any host
# (the one shipped before 2026-12-07: 56-61 %).
# The file-mode track: Ardour sees the plugin's reported latency (4-6 s; 0 on
# the live tracks), its readout latency output is 0 (the plugin delays the
# audio as much, and Ardour compensates), and its chord output agrees with
# synth0046.lab on >= 85 % of the points of the whole demo (measured: 85.9 %;
# see below for the exports where Ardour skips the start). The latency
# output is the stream's with smoothing 6; no error from the plugin in
# Ardour's log.
# The notify port's events and the MIDI output are not read: Ardour's Lua has
# no access to a plugin's atom ports, and on an audio track with strict I/O a
# plugin's MIDI output is dropped (test_lv2_host checks both in a lilv host).
# Exit 77 (skip) without ardour7-lua or sox.
set -u
BUILD_ARG=$1
cd "$(dirname "$0")/.." || exit 1
SRC=$(pwd)
case $BUILD_ARG in /*) BUILD=$BUILD_ARG ;; *) BUILD=$SRC/$BUILD_ARG ;; esac
for tool in ardour7-lua sox soxi python3 cc pkg-config; do
  command -v $tool >/dev/null 2>&1 || { echo "needs $tool (scripts/debian-packages: ardour, sox)"; exit 77; }
done
BUNDLE=$BUILD/lv2/chordlet.lv2
[ -f "$BUNDLE/chordlet.so" ] || { echo "not ok - no plugin bundle in $BUNDLE"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
RATE=44100
SESSION=$TMP/chords
MODEL=$TMP/models/chosen.chordlet
FILEMODE_MODEL=$TMP/models/filemode.chordlet
mkdir -p "$TMP/models" "$TMP/home/.config/ardour7/scripts" "$TMP/presets/chordlet-test.lv2"
cp "$SRC/models/default.chordlet" "$MODEL"
cp "$SRC/models/offline.chordlet" "$FILEMODE_MODEL"
cp "$SRC/tests/ardour_probe.lua" "$TMP/home/.config/ardour7/scripts/"
# The preset: what a user's saved preset holds (control values and the state).
cat >"$TMP/presets/chordlet-test.lv2/manifest.ttl" <<TTL
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<urn:chordlet:test-preset> a pset:Preset ; lv2:appliesTo <urn:chordlet:mono> ; rdfs:seeAlso <preset.ttl> .
<urn:chordlet:test-preset-filemode> a pset:Preset ; lv2:appliesTo <urn:chordlet:mono> ; rdfs:seeAlso <preset.ttl> .
TTL
cat >"$TMP/presets/chordlet-test.lv2/preset.ttl" <<TTL
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .
<urn:chordlet:test-preset> a pset:Preset ; lv2:appliesTo <urn:chordlet:mono> ; rdfs:label "chordlet test" ;
  lv2:port [ lv2:symbol "threshold" ; pset:value 0.05 ] , [ lv2:symbol "smoothing" ; pset:value 6.0 ] ;
  state:state [ <urn:chordlet#model> <file://$MODEL> ] .
<urn:chordlet:test-preset-filemode> a pset:Preset ; lv2:appliesTo <urn:chordlet:mono> ; rdfs:label "chordlet file-mode" ;
  lv2:port [ lv2:symbol "threshold" ; pset:value 0.05 ] , [ lv2:symbol "smoothing" ; pset:value 12.0 ] ;
  state:state [ <urn:chordlet#model> <file://$FILEMODE_MODEL> ] .
TTL
# Ardour finds LV2 plugins through LV2_PATH (lilv); its user folders in HOME.
export LV2_PATH="$BUNDLE/..:$TMP/presets" HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config"
ardour() { # STEP [ARGS]: one ardour7-lua process; its output in $TMP/STEP.out
  # Line-buffered: ardour7-lua 7.3 aborts in about half of the export steps
  # inside close_session ("double free or corruption"), with the old plugin as
  # with this one, after the session was saved. A step counts when it printed
  # SAVED (its session is on disk, and the next step loads and checks it) and
  # no FAIL; the abort is reported. The plugin's own cleanup is checked under
  # ASan in test_lv2_host and under valgrind in ui_jalv.
  # It also aborts, rarely, before the save (once in an export in some forty
  # runs): a step that died on a signal before SAVED, with no FAIL, runs once
  # more, said so; a second death fails the test.
  for try in 1 2; do
    timeout 300 stdbuf -oL ardour7-lua "$SRC/tests/ardour_session.lua" "$@" >"$TMP/$1.out" 2>&1
    status=$?
    [ $status -gt 128 ] && [ $status -ne 137 ] && [ $try -eq 1 ] && ! grep -q "^SAVED $1" "$TMP/$1.out" &&
      ! grep -q '^FAIL' "$TMP/$1.out" || break
    echo "# ardour7-lua $1: died on signal $((status - 128)) before the save; once more"
    grep -v '^ROW' "$TMP/$1.out" | tail -5 | sed 's/^/#   /'
    [ "$1" = create ] && rm -rf "$2" # a half-made session would refuse the new one
  done
  [ $status -ne 0 ] && grep -q "^SAVED $1" "$TMP/$1.out" && echo "# ardour7-lua $1: exit $status after the session was saved (Ardour's teardown)"
  if ! grep -q "^SAVED $1" "$TMP/$1.out" || grep -q '^FAIL' "$TMP/$1.out"; then
    bad "ardour7-lua $1 (exit $status):"; grep -v '^ROW' "$TMP/$1.out" | tail -20
    exit 1
  fi
  if grep -i 'chordlet:' "$TMP/$1.out" | grep -q -i -E 'error|cannot|refus'; then
    bad "the plugin logged an error in step $1: $(grep -i 'chordlet:' "$TMP/$1.out" | head -3)"
  fi
}
t0=$(date +%s)

# The audio: the demo at the session's rate (also the file-mode track's), and the progression.
sox "$SRC/examples/synth0046.flac" -r $RATE -e floating-point -b 32 -c 1 "$TMP/demo.wav" || { bad "sox"; exit 1; }
cp "$TMP/demo.wav" "$TMP/filemode.wav"
python3 "$SRC/tests/ardour_chords.py" progression $RATE "$TMP/progression.wav" "$TMP/progression.lab"
seconds=$(soxi -D "$TMP/demo.wav" | awk '{ printf "%d", $1 + 1.5 }')

# 1. create, and 2. export: a function, for the one retry below.
create_and_export() {
  ardour create "$SESSION" "$seconds"
  grep -q '^PLUGIN chordlet (mono)' "$TMP/create.out" && ok "Ardour inserts urn:chordlet:mono on a mono track" \
    || bad "no chordlet plugin: $(head -5 "$TMP/create.out")"
  for tr in demo progression filemode; do
    smoothing=6
    [ $tr = filemode ] && smoothing=12
    grep -q "^PRESET $tr threshold=0.050 smoothing=$smoothing" "$TMP/create.out" && ok "the LV2 preset set $tr's threshold and smoothing" \
      || bad "the preset did not apply on $tr: $(grep "^PRESET $tr" "$TMP/create.out")"
    take=$(find "$SESSION/interchange" -name "Take1_$tr-*.wav" | head -n 1)
    [ -n "$take" ] || { bad "no take recorded on $tr"; cat "$TMP/create.out"; exit 1; }
    len=$(soxi -s "$take")
    # The take's own format (mono 32-bit float WAV), the audio padded with
    # silence or cut to the take's length.
    sox "$TMP/$tr.wav" -r $RATE -e floating-point -b 32 -c 1 "$TMP/take.wav" pad 0 60 trim 0 "${len}s" \
      && mv "$TMP/take.wav" "$take" && [ "$(soxi -s "$take")" = "$len" ] \
      && ok "$tr's audio is in its take ($len samples)" || bad "could not write $tr's take"
  done
  rm -f "$SESSION"/peaks/*

  # 2. export
  ardour export "$SESSION"
}
create_and_export
# Ardour 7.3 now and then starts the export without feeding the file-mode
# track its first seconds (below); a session where that happened keeps
# doing it, so a fresh one is made once.
# skipped_start: Ardour did not feed the last export's file-mode track its
# first seconds (its first chord, in $first, came after 3 s or never).
skipped_start() {
  first=$(python3 "$SRC/tests/ardour_chords.py" first_chord "$TMP/export.out" filemode)
  [ "${first:--1}" -lt 0 ] || [ "$first" -gt $((3 * RATE)) ]
}
if skipped_start; then
  echo "# Ardour did not feed the file-mode track its first seconds (first chord at sample $first): a new session, once"
  rm -rf "$SESSION"
  create_and_export
fi
out=$TMP/export.out
for tr in demo progression filemode; do
  smoothing=6
  [ $tr = filemode ] && smoothing=12
  grep -q "^RESTORED $tr threshold=0.050 smoothing=$smoothing" "$out" && ok "reopened: $tr's threshold and smoothing restored" \
    || bad "reopened: $tr's parameters: $(grep "^RESTORED $tr" "$out")"
  grep -q "^REGION $tr 0 [1-9]" "$out" && ok "reopened: $tr's region: $(grep "^REGION $tr" "$out")" || bad "no region on $tr"
done
exported=$(find "$SESSION/export" -name '*.wav' | head -n 1)
[ -n "$exported" ] && [ "$(soxi -s "$exported" 2>/dev/null)" -gt $((RATE * 30)) ] \
  && ok "exported $(basename "$exported") ($(soxi -d "$exported"))" || bad "no export: $(grep -v ^ROW "$out" | tail -5)"

# The library on what the demo's plugin heard in the export (Ardour's pre-roll
# of silence, then the demo), set as the plugin was (smoothing 6, threshold
# 0.05): pkgconfig_stream through libchordlet.a.
preroll=$(python3 "$SRC/tests/ardour_chords.py" preroll "$out" demo)
[ "${preroll:-0}" -gt 0 ] && ok "the export's pre-roll: $preroll samples with the freewheel port at 1" \
  || bad "no freewheeling cycles before the export rolled ('$preroll')"
sox "$TMP/demo.wav" "$TMP/demo-preroll.wav" pad "${preroll:-0}s" 0 || bad "sox pad"
# shellcheck disable=SC2046 # pkg-config's flags are words
cc -std=c11 -I"$SRC/include" -o "$TMP/stream" "$SRC/tests/pkgconfig_stream.c" "$BUILD/libchordlet.a" \
  $(pkg-config --cflags --libs fftw3f sndfile soxr openblas zlib) -lm 2>"$TMP/cc.log" || bad "cc: $(cat "$TMP/cc.log")"
"$TMP/stream" "$MODEL" "$TMP/demo-preroll.wav" 6 0.05 >"$TMP/stream.txt" 2>"$TMP/stream.err" || bad "stream: $(cat "$TMP/stream.err")"
lib_latency=$(sed -n 's/.*latency \([0-9]*\) ms.*/\1/p' "$TMP/stream.err")

prog=$(python3 "$SRC/tests/ardour_chords.py" score "$out" progression $RATE "$TMP/progression.lab" 2>&1)
demo=$(python3 "$SRC/tests/ardour_chords.py" score "$out" demo $RATE "$SRC/examples/synth0046.lab" "$TMP/stream.txt" "${preroll:-0}" 2>&1)
echo "# progression: $prog"
echo "# demo: $demo"
val() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
a=$(val agreement "$prog")
[ -n "$a" ] && awk -v a="$a" 'BEGIN { exit !(a >= 0.85) }' \
  && ok "progression: the chord output agrees with the truth one declared latency earlier on $a of the time (>= 0.85)" \
  || bad "progression: agreement '$a' < 0.85 ($prog)"
d=$(val agreement "$demo") lib=$(val library "$demo") libref=$(val library_agreement "$demo") lat=$(val latency_ms "$demo")
root=$(val root "$demo")
[ "$(val freewheel "$demo")" = 1 ] && [ "$(val freewheel "$prog")" = 1 ] \
  && ok "Ardour set the plugin's freewheel port on every cycle of the export" \
  || bad "the freewheel port was not 1 throughout the export (demo '$(val freewheel "$demo")', progression '$(val freewheel "$prog")')"
[ -n "$lib" ] && awk -v a="$lib" 'BEGIN { exit !(a >= 0.995) }' \
  && ok "demo: Ardour's chord output equals the library's decisions on $lib of the time (>= 0.995)" \
  || bad "demo: Ardour's chords against the library's: '$lib' < 0.995 ($demo)"
[ -n "$d" ] && [ -n "$libref" ] && awk -v a="$d" -v b="$libref" -v r="$root" 'BEGIN { exit !(a >= b - 0.05 && r >= 0.7) }' \
  && ok "demo: agreement with synth0046.lab $d (the library's $libref; Ardour within 5 points), root $root (>= 0.7)" \
  || bad "demo: agreement with synth0046.lab '$d', the library's '$libref', root '$root'"
[ -n "$lat" ] && [ "$lat" = "$lib_latency" ] && [ "$(val latency_ms "$prog")" = "$lat" ] \
  && ok "the latency output is $lat ms, the stream's at smoothing 6" \
  || bad "latency output '$lat' ms, the stream's at smoothing 6: '$lib_latency' ms"

# The file-mode track: the demo through models/offline.chordlet, whose
# readout comes seconds late; the plugin delays its audio as much and reports
# it (lv2:reportsLatency), and Ardour's latency compensation plays the track
# that much earlier. Its readout latency output is then 0: the chord output at
# each point is compared with the demo's .lab at that very point, over the
# whole demo: issue 18's bar, 85 % (measured: 85.9 %; the model runs in three
# phases on a 20 ms grid, so where Ardour's pre-roll puts the demo on the
# model's 60 ms grid no longer moves this, docs/RESULTS.md 4.6).
# Ardour 7.3 now and then (1 export in 15 here, more on a busy machine)
# starts the export without feeding the file-mode track its first 5.5 s: the
# plugin, logging what it heard, got the demo's first sample at the first
# rolling cycle instead of 5.48 s before, while Ardour counted the latency in
# its pre-roll and read the track ahead from then on (a retry from the same
# session missed it as well). The test then makes a new session once (above);
# should Ardour skip the start there too, only the points from 8 s on (the
# latency, then the model's 3.84 s of context) can be scored, against 80 %
# (measured 81.8 %), and the test says so.
fed=1
if skipped_start; then
  fed=0
  echo "# Ardour did not feed the file-mode track its first seconds, twice (first chord at sample $first)"
fi
fm_all=$(python3 "$SRC/tests/ardour_chords.py" score "$out" filemode $RATE "$SRC/examples/synth0046.lab" 2>&1)
echo "# filemode (whole demo): $fm_all"
fm8=$(SCORE_FROM=8 python3 "$SRC/tests/ardour_chords.py" score "$out" filemode $RATE "$SRC/examples/synth0046.lab" 2>&1)
echo "# filemode (from 8 s): $fm8"
fm_latency=$(sed -n 's/^LATENCY filemode \([0-9]*\)$/\1/p' "$out")
[ -n "$fm_latency" ] && awk -v l="$fm_latency" -v r=$RATE 'BEGIN { exit !(l / r > 3.84 && l / r < 6) }' \
  && [ "$(sed -n 's/^LATENCY demo \([0-9]*\)$/\1/p' "$out")" = 0 ] \
  && ok "Ardour sees the file-mode plugin's latency, $fm_latency samples ($(awk -v l="$fm_latency" -v r=$RATE 'BEGIN { printf "%.3f", l / r }') s), and none on the live one" \
  || bad "plugin latencies in Ardour: $(grep '^LATENCY' "$out" | tr '\n' ' ')"
[ "$(val latency_ms "$fm_all")" = 0 ] && [ "$(val freewheel "$fm_all")" = 1 ] \
  && ok "file mode: the readout latency output is 0 ms (the audio is delayed as much), freewheeling throughout" \
  || bad "file mode: readout latency output '$(val latency_ms "$fm_all")' ms, freewheel '$(val freewheel "$fm_all")'"
if [ $fed = 1 ]; then
  a=$(val agreement "$fm_all")
  [ -n "$a" ] && awk -v a="$a" 'BEGIN { exit !(a >= 0.85) }' \
    && ok "file mode: in Ardour the chord output agrees with synth0046.lab on $a of the whole demo (>= 0.85), root $(val root "$fm_all")" \
    || bad "file mode: agreement with synth0046.lab '$a' < 0.85 over the whole demo ($fm_all)"
else
  a=$(val agreement "$fm8")
  [ -n "$a" ] && awk -v a="$a" 'BEGIN { exit !(a >= 0.80) }' \
    && ok "file mode, Ardour having skipped the start twice: the chord output agrees with synth0046.lab on $a from 8 s on (>= 0.80)" \
    || bad "file mode: agreement with synth0046.lab '$a' < 0.80 from 8 s on ($fm8)"
fi

# 3. reopen: the values set before the last save, and the model path.
ardour reopen "$SESSION"
grep -q '^REOPENED demo threshold=0.100 smoothing=3' "$TMP/reopen.out" \
  && ok "reopened: the demo's new values (threshold 0.1, smoothing 3)" \
  || bad "reopened: $(grep '^REOPENED demo' "$TMP/reopen.out")"
grep -q '^REOPENED progression threshold=0.050 smoothing=6' "$TMP/reopen.out" \
  && ok "reopened: the progression's values unchanged" || bad "reopened: $(grep '^REOPENED progression' "$TMP/reopen.out")"
grep -q '^REOPENED filemode threshold=0.050 smoothing=12' "$TMP/reopen.out" \
  && ok "reopened: the file-mode track's values unchanged" || bad "reopened: $(grep '^REOPENED filemode' "$TMP/reopen.out")"
# The state the plugins saved last (after two reopens, restores and a run):
# the model is the chosen copy, which Ardour keeps in the session.
n_states=0 n_filemode=0
for state in $(find "$SESSION/plugins" -name state.ttl | sort); do
  n_states=$((n_states + 1))
  if grep -q 'urn:chordlet#model> <filemode.chordlet>' "$state"; then
    n_filemode=$((n_filemode + 1))
  else
    grep -q 'urn:chordlet#model> <chosen.chordlet>' "$state" \
      || bad "$state names neither chosen.chordlet nor filemode.chordlet: $(grep chordlet#model "$state")"
  fi
done
[ "$n_states" -ge 3 ] && [ "$n_filemode" -ge 1 ] && [ "$n_filemode" -lt "$n_states" ] \
  && ok "the plugins' saved LV2 state ($n_states files) names the chosen models ($n_filemode the file-mode one)" \
  || bad "saved plugin state: $n_states files, $n_filemode with the file-mode model"
cmp -s "$(find "$SESSION/plugins" -name chosen.chordlet | head -n 1)" "$MODEL" \
  && ok "Ardour keeps the model in the session: $(find "$SESSION/plugins" -name chosen.chordlet | head -n 1 | sed "s|$SESSION/||")" \
  || bad "no copy of the model in the session's plugins/"

echo "# $(($(date +%s) - t0)) s"
echo "# $failures failed"
[ "$failures" -eq 0 ]
