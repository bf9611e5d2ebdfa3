#!/bin/sh
# render_cli.sh: `chordlet-train render` end to end (fluidsynth, both Debian GM soundfonts).
#   1. alignment: a block-chord MIDI written here (a chord every 0.5 s) in 3 variants, tempo
#      jitter on: every label boundary has its onset within one student frame (46 ms) and
#      nothing between boundaries rivals them; the .lab is the source's divided by the tempo
#      factor, the audio as long as the scaled .lab. A real song (pop909cl/267) with each
#      soundfont: boundaries sit on onsets in every third of the song, and the unscaled
#      labels fail the same check (so it can see a wrong scaling);
#   2. determinism and resume: 3 songs x 2 variants rendered on 2 workers; the same command
#      on 1 worker, killed with SIGKILL mid-run (workers must die with it), then re-run on 2
#      workers: the outputs are byte-identical to the uninterrupted run, finished songs were
#      skipped, temporary files left by the kill are gone (and nothing else was touched);
#      another seed gives other audio, and a changed option re-renders;
#   3. bad input: corrupt and truncated MIDI, a .lab past the MIDI's end, a missing .lab,
#      unknown/non-/truncated/reserved soundfonts, a full disk (tmpfs, or a file-size limit),
#      a folder another render holds, bad usage: a clear message, exit 1 (2 for usage),
#      other songs still rendered, nothing half-written, no temporary file left.
# Usage: render_cli.sh BUILD_DIR   (needs CHORDLET_SHARED, sox, numpy, the soundfonts; exit 77 without)
set -u
BUILD=$1
TRAIN=$BUILD/chordlet-train
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" 2>/dev/null && pwd)
MIDI=$SHARED/data/midi/pop909cl
SF2=/usr/share/sounds/sf2
PY=/usr/bin/python3
[ -f "$MIDI/267.mid" ] || { echo "this test needs ../shared (looked in $MIDI)"; exit 77; }
[ -f "$SF2/FluidR3_GM.sf2" ] && [ -f "$SF2/TimGM6mb.sf2" ] ||
  { echo "this test needs fluid-soundfont-gm and timgm6mb-soundfont"; exit 77; }
command -v sox >/dev/null && $PY -c 'import numpy' 2>/dev/null ||
  { echo "this test needs sox and python3-numpy"; exit 77; }
TMP=$(mktemp -d)
MOUNTED=
cleanup() {
  [ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # so that a timeout still unmounts and cleans up
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
check() { $PY "$HERE/render_check.py" "$@"; }
temps() { find "$1" -name '*.tmp.*' | grep -c -v 'notes\.tmp\.txt'; }
render() { timeout 120 "$TRAIN" render "$@"; }

# 1. Alignment. -------------------------------------------------------------------------
mkdir -p "$TMP/syn" "$TMP/bad"
check make-midi "$TMP/syn/chords" 16
if render -q --families piano --variants 3 --seed 1 --out "$TMP/out1" "$TMP/syn/chords.mid" 2>"$TMP/err"; then
  for v in chords chords.v1 chords.v2; do
    if check synthetic "$TMP/out1/syn/$v.flac" "$TMP/out1/syn/$v.lab" "$TMP/syn/chords.lab" "$TMP/out1/syn/$v.json"
    then ok "block chords ($v): onsets at the scaled label times within one frame"
    else bad "block chords ($v): onsets off the labels"; fi
  done
  $PY - "$TMP/out1/syn" <<'PYEOF' && ok "tempo jitter on: factors reach 3 % from 1, both soundfonts drawn" || bad "jitter not exercised"
import json, sys
s = [json.load(open("%s/%s.json" % (sys.argv[1], v)))["settings"] for v in ("chords", "chords.v1", "chords.v2")]
f = [x["render"]["tempo_factor"] for x in s]
assert max(abs(x - 1) for x in f) >= 0.03, f
assert {x["soundfont"]["name"] for x in s} == {"FluidR3_GM.sf2", "TimGM6mb.sf2"}, s
PYEOF
else
  bad "rendering the block-chord song failed"; cat "$TMP/err"
fi
for seed in 4 7; do
  if render -q --families piano --seed $seed --out "$TMP/real$seed" "$MIDI/267.mid" 2>"$TMP/err" &&
     check real "$TMP/real$seed/pop909cl/267.flac" "$TMP/real$seed/pop909cl/267.lab" "$MIDI/267.lab" \
       "$TMP/real$seed/pop909cl/267.json"; then
    ok "pop909cl/267 (seed $seed, $(grep -o '"[A-Za-z0-9_]*\.sf2"' "$TMP/real$seed/pop909cl/267.json")): label boundaries on the audio's onsets"
  else
    bad "pop909cl/267 (seed $seed) is not aligned"; cat "$TMP/err"
  fi
done

# 2. Determinism and resume. -------------------------------------------------------------
printf '267\n555\n# a comment\n\n120\n' >"$TMP/pop909cl_three.txt"
LIST=$TMP/pop909cl_three.txt
render -q --jobs 2 --out "$TMP/A" --midi-dir "$MIDI" --variants 2 "$LIST" || bad "the uninterrupted run failed"
"$TRAIN" render --jobs 1 --out "$TMP/B" --midi-dir "$MIDI" --variants 2 "$LIST" 2>"$TMP/berr" &  # $! is the render

pid=$!
n=0
while [ "$(find "$TMP/B" -name '*.json' | grep -c .)" -lt 1 ] && [ $n -lt 600 ]; do
  sleep 0.05
  n=$((n + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
done_at_kill=$(find "$TMP/B" -name '*.json' | grep -c .)
sleep 0.5
# A process whose arguments name $TMP/B (the [B] keeps grep from finding itself; no ps needed).
if grep -l -a -- "$TMP/[B]" /proc/[0-9]*/cmdline >/dev/null 2>&1; then bad "workers outlived the killed render"
else ok "kill -9 after $done_at_kill of 6 renders: no worker left running"; fi
: >"$TMP/B/pop909cl/555.v1.flac.tmp.AbC123"   # what a kill between write and rename leaves
: >"$TMP/B/pop909cl/notes.tmp.txt"            # not ours: must stay
if render --jobs 2 --out "$TMP/B" --midi-dir "$MIDI" --variants 2 "$LIST" 2>"$TMP/err"; then
  sed 's/^/    /' "$TMP/err"
  rendered=$(sed -n 's/.*: \([0-9]*\) rendered, \([0-9]*\) already done.*/\1 \2/p' "$TMP/err")
  set -- $rendered
  if [ "${1:-0}" -ge 1 ] && [ "${2:-0}" -ge 1 ] && [ $(($1 + $2)) -eq 6 ]; then
    ok "the re-run rendered what was missing ($1) and skipped what was done ($2)"
  else
    bad "the re-run did not resume: $rendered"
  fi
  grep -q "removed .* temporary files" "$TMP/err" && [ "$(temps "$TMP/B")" -eq 0 ] &&
    [ -f "$TMP/B/pop909cl/notes.tmp.txt" ] && ok "temporary files of the killed run removed, nothing else" ||
    bad "temporary files: $(find "$TMP/B" -name '*.tmp.*')"
  rm "$TMP/B/pop909cl/notes.tmp.txt"
  if diff -r "$TMP/A" "$TMP/B" >/dev/null; then
    ok "killed + resumed on 1 then 2 workers = uninterrupted on 2 workers, byte for byte ($(ls "$TMP/A/pop909cl" | wc -l) files)"
  else
    bad "resumed outputs differ from the uninterrupted run"; diff -r "$TMP/A" "$TMP/B" | head -5
  fi
else
  bad "the re-run failed"; cat "$TMP/err"
fi
render -q --seed 9 --out "$TMP/C" --midi-dir "$MIDI" "$TMP/pop909cl_three.txt" &&
  ! cmp -s "$TMP/A/pop909cl/267.flac" "$TMP/C/pop909cl/267.flac" && ok "another seed, other audio" ||
  bad "the seed changes nothing"
render --seed 9 --out "$TMP/A" --midi-dir "$MIDI" "$TMP/pop909cl_three.txt" 2>"$TMP/err" &&
  grep -q "3 rendered, 0 already done" "$TMP/err" && cmp -s "$TMP/A/pop909cl/267.flac" "$TMP/C/pop909cl/267.flac" &&
  ok "changed settings re-render over old outputs" || { bad "changed settings were skipped"; cat "$TMP/err"; }
# --name-suffix: the same draws (they follow the song's id and the seed), another name,
# beside the plain render in one folder
render -q --seed 9 --name-suffix .o --out "$TMP/C" --midi-dir "$MIDI" "$TMP/pop909cl_three.txt" &&
  cmp -s "$TMP/C/pop909cl/267.flac" "$TMP/C/pop909cl/267.o.flac" && cmp -s "$TMP/C/pop909cl/267.lab" "$TMP/C/pop909cl/267.o.lab" &&
  [ "$(ls "$TMP/C/pop909cl" | grep -c '\.o\.flac$')" -eq 3 ] && [ "$(ls "$TMP/C/pop909cl" | grep -c '\.flac$')" -eq 6 ] &&
  ok "--name-suffix .o: ID.o.flac/.lab/.json beside ID.*, the same audio and labels" ||
  { bad "--name-suffix"; ls "$TMP/C/pop909cl"; }

# 3. Bad input. -------------------------------------------------------------------------
# expect CODE NEEDLE ARGS...: exit CODE and a message containing NEEDLE.
expect() {
  code=$1 needle=$2
  shift 2
  render "$@" >"$TMP/o" 2>"$TMP/e"
  rc=$?
  if [ "$rc" -ne "$code" ]; then bad "$needle: exit $rc, expected $code"; sed 's/^/    /' "$TMP/e"; return 1; fi
  grep -q -- "$needle" "$TMP/e" && ok "exit $code: $(grep -- "$needle" "$TMP/e" | head -n 1 | cut -c1-170)" ||
    { bad "stderr lacks '$needle'"; sed 's/^/    /' "$TMP/e"; return 1; }
}
head -c 3000 /dev/urandom >"$TMP/bad/garbage.mid"
cp "$TMP/syn/chords.lab" "$TMP/bad/garbage.lab"
head -c 2000 "$MIDI/267.mid" >"$TMP/bad/cut.mid"
cp "$MIDI/267.lab" "$TMP/bad/cut.lab"
cp "$TMP/syn/chords.mid" "$TMP/bad/long.mid"
{ cat "$TMP/syn/chords.lab"; echo "8.000000 9.500000 N"; } >"$TMP/bad/long.lab"
cp "$TMP/syn/chords.mid" "$TMP/bad/nolab.mid"
cp "$TMP/syn/chords.mid" "$TMP/bad/short.mid"
head -n 8 "$TMP/syn/chords.lab" >"$TMP/bad/short.lab"
expect 2 "--name-suffix takes 1..15" -q --name-suffix ../x --out "$TMP/o1" "$TMP/bad/garbage.mid"
expect 1 "not a MIDI file" -q --out "$TMP/o1" "$TMP/bad/garbage.mid"
expect 1 "truncated file" -q --out "$TMP/o1" "$TMP/bad/cut.mid"
expect 1 "past the end of" -q --out "$TMP/o1" "$TMP/bad/long.mid"
expect 1 "cannot read .*nolab.lab" -q --out "$TMP/o1" "$TMP/bad/nolab.mid"
[ -z "$(ls -A "$TMP/o1/bad")" ] && ok "failed songs leave no output" || bad "failed songs left: $(ls "$TMP/o1/bad")"
expect 1 "1 failed" --out "$TMP/o2" "$TMP/bad/garbage.mid" "$TMP/syn/chords.mid" &&
  [ -f "$TMP/o2/syn/chords.json" ] && ok "the good song of that batch was rendered"
if render -q --out "$TMP/o3" "$TMP/bad/short.mid" && check labels "$TMP/o3/bad/short.flac" "$TMP/o3/bad/short.lab" \
    "$TMP/bad/short.lab" "$TMP/o3/bad/short.json" >/dev/null; then
  ok "a .lab ending before the MIDI: the audio is cut at the .lab's end (scaled)"
else bad "a short .lab"; fi
expect 1 "unknown soundfont" -q --soundfont "$TMP/none.sf2" --out "$TMP/o4" "$TMP/syn/chords.mid" &&
  [ ! -e "$TMP/o4" ] && ok "nothing created for an unknown soundfont"
expect 1 "not a SoundFont" -q --soundfont "$TMP/syn/chords.lab" --out "$TMP/o4" "$TMP/syn/chords.mid"
head -c 100000 "$SF2/TimGM6mb.sf2" >"$TMP/cut.sf2"
expect 1 "is truncated" -q --soundfont "$TMP/cut.sf2" --out "$TMP/o4" "$TMP/syn/chords.mid"
cp "$SF2/TimGM6mb.sf2" "$TMP/MuseScore_General.sf2"
expect 1 "reserved for evaluation" -q --soundfont "$TMP/MuseScore_General.sf2" --out "$TMP/o4" "$TMP/syn/chords.mid"
# A full disk: a 1 MiB tmpfs where we may mount one, else a 512 KiB file-size limit. The block
# chords (~200 KB of FLAC) fit; pop909cl/267 (~2 MB) does not.
mkdir -p "$TMP/full"
if mount -t tmpfs -o size=1m tmpfs "$TMP/full" 2>/dev/null; then
  MOUNTED=$TMP/full
  how="a 1 MiB tmpfs"
  expect 1 "No space left on device" -q --out "$TMP/full/o" "$MIDI/267.mid" "$TMP/syn/chords.mid"
else
  how="a file-size limit"
  ( trap '' XFSZ; ulimit -f 1024; exec "$TRAIN" render -q --out "$TMP/full/o" "$MIDI/267.mid" "$TMP/syn/chords.mid" ) \
    2>"$TMP/e"
  [ $? -eq 1 ] && grep -q "File too large" "$TMP/e" && ok "exit 1: $(head -n 1 "$TMP/e")" || { bad "file-size limit"; cat "$TMP/e"; }
fi
if [ -z "$(ls -A "$TMP/full/o/pop909cl")" ] && [ "$(temps "$TMP/full")" -eq 0 ] && [ -f "$TMP/full/o/syn/chords.json" ]; then
  ok "full disk ($how): nothing half-written, no temporary file, the song that fits is complete"
else
  bad "full disk left: $(find "$TMP/full/o" -type f)"
fi
mkdir -p "$TMP/held"
flock "$TMP/held" sleep 3 &
flock_pid=$!
sleep 0.3
expect 1 "another render is still writing into this folder" -q --lock-wait 1 --out "$TMP/held" "$TMP/syn/chords.mid"
kill $flock_pid 2>/dev/null
wait $flock_pid 2>/dev/null
# a render that was just killed may hold the lock a moment longer: wait for it
flock "$TMP/held" sleep 1.5 &
flock_pid=$!
sleep 0.3
expect 0 "waiting for another render" -q --out "$TMP/held" "$TMP/syn/chords.mid"
wait $flock_pid 2>/dev/null
expect 2 "--out DIR is required" "$TMP/syn/chords.mid"
expect 2 "unknown option" --out "$TMP/o5" --colour red "$TMP/syn/chords.mid"
expect 2 "tempo-jitter takes" --tempo-jitter 2 --out "$TMP/o5" "$TMP/syn/chords.mid"
expect 2 "families takes" --families piano,kazoo --out "$TMP/o5" "$TMP/syn/chords.mid"
expect 2 "neither a song list" --out "$TMP/o5" "$TMP/syn/chords.lab"
expect 1 "cannot read song list" --out "$TMP/o5" "$TMP/pop909cl_none.txt"
printf '267\n../etc/passwd\n' >"$TMP/pop909cl_evil.txt"
expect 1 "is not a song id" --out "$TMP/o5" --midi-dir "$MIDI" "$TMP/pop909cl_evil.txt"
"$TRAIN" render --help | grep -q -- "--soundfont PATH" && ok "--help documents the options" || bad "--help"
wait

echo "# $failures failed"
[ "$failures" -eq 0 ]
