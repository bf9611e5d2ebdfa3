#!/bin/sh
# live_jack.sh: `chordlet live` without a sound card, as CI runs it: a JACK
# server on the dummy driver, a client that plays a synthesized progression
# (C Am F G Dm Em F C, 1.49 s each) into it, and `chordlet live --backend jack
# --json` listening. Checked: the header states the latency; every JSON line
# parses, with decided - time = latency - one hop; aligned to the audio (the
# player starts when chordlet connects, so only a small offset is searched),
# the chords shown match the progression on >= 90 % of its 20 ms hops.
# Also: the errors without a server or a sound card, and bad usage.
# Usage: live_jack.sh BUILD_DIR
set -u
BUILD=$1
command -v jackd >/dev/null 2>&1 || { echo "needs jackd (jackd1)"; exit 77; }
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "needs python3-numpy"; exit 77; }
TMP=$(mktemp -d)
SERVER=chordlet-test-$$
export JACK_DEFAULT_SERVER=$SERVER
trap 'kill $jackd_pid $player_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
jackd_pid= player_pid=
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }

# Errors first, while no server runs.
out=$("$BUILD/chordlet" live --backend jack --duration 1 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "cannot connect to a JACK server" && ok "no JACK server: exit 1, '$out'" ||
  bad "no JACK server: exit $rc, '$out'"
out=$("$BUILD/chordlet" live --backend portaudio --device no-such-card --duration 1 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "no input device" && ok "no such card: exit 1, '$out'" ||
  bad "no such card: exit $rc, '$out'"
for args in "--backend alsa" "--channel 3" "--smoothing 99" "--threshold 2" "--duration -1" "--frobnicate"; do
  # shellcheck disable=SC2086
  out=$("$BUILD/chordlet" live $args 2>&1); rc=$?
  [ $rc -eq 2 ] && ok "bad usage ($args): exit 2, '$out'" || bad "bad usage ($args): exit $rc, '$out'"
done

/usr/bin/python3 tests/progression.py "$TMP" 44100

jackd -n "$SERVER" -r -d dummy -r 44100 -p 256 >"$TMP/jackd.log" 2>&1 &
jackd_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  "$BUILD/chordlet" live --backend jack --list-devices >/dev/null 2>&1 && break
  sleep 0.5
done
"$BUILD/tests/jack_play" "$TMP/song.wav" player 2 >"$TMP/player.log" 2>&1 &
player_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  grep -q ready "$TMP/player.log" && break
  sleep 0.5
done
grep -q ready "$TMP/player.log" || { bad "the player did not start: $(cat "$TMP/player.log" "$TMP/jackd.log")"; exit 1; }
"$BUILD/chordlet" live --backend jack --device player:out --json --duration 15 >"$TMP/events.jsonl" 2>"$TMP/header.txt"
rc=$?
[ $rc -eq 0 ] && ok "chordlet live --backend jack --json ran 15 s of audio: exit 0" ||
  bad "chordlet live exited $rc: $(cat "$TMP/header.txt")"
sed 's/^/    /' "$TMP/header.txt"
grep -q "latency 240 ms" "$TMP/header.txt" && ok "the header states the latency" || bad "no latency in the header"

/usr/bin/python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
events = []
bad = 0
for line in open(tmp + "/events.jsonl"):
    try:
        e = json.loads(line)
        events.append(e)
        if abs(e["decided"] - e["time"] - 0.220) > 1e-6:
            bad += 1
    except Exception as ex:
        print("not ok - a line is not JSON: %r (%s)" % (line, ex))
        sys.exit(1)
print("%s - %d events, all JSON; decided - time = 220 ms on all but %d" % ("ok" if bad == 0 else "not ok", len(events), bad))
lab = [l.split() for l in open(tmp + "/song.lab")]
def truth(t):
    for s, e, c in lab:
        if float(s) <= t < float(e):
            return c
    return "N"
def shown(t):
    c = "N"
    for e in events:
        if e["time"] <= t:
            c = e["chord"]
    return c
end = float(lab[-1][1])
best = (0, 0)
for k in range(-100, 101):  # the audio may start up to 1 s before or after chordlet's time 0
    off = k * 0.01
    hops = [0.507 + 0.02 * i for i in range(int((end - 0.507) / 0.02))]
    good = sum(shown(t + off) == truth(t) for t in hops)
    if good > best[0]:
        best = (good, off, len(hops))
good, off, total = best[0], best[1], best[2] if len(best) > 2 else 1
print("chords shown: %s" % " ".join(e["chord"] for e in events))
ok = good >= 0.9 * total
print("%s - the chords shown match the progression on %.1f %% of %d hops (audio offset %+.2f s)"
      % ("ok" if ok else "not ok", 100.0 * good / total, total, off))
sys.exit(0 if ok and bad == 0 else 1)
PY
[ $? -eq 0 ] || failures=$((failures + 1))
echo "# $failures failed"
[ "$failures" -eq 0 ]
