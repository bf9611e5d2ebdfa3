#!/bin/sh
# transcribe_memory.sh: `chordlet transcribe` with a student runs in memory
# set by the model and the block size, not by the file's length (issue 17):
# 10 minutes and 2 hours of music through both students (the file-mode
# `offline`, transcribe's default, and the live `default`), each run's peak
# RSS under 300 MB, and the 2-hour peak at most GROWTH_MB above the
# 10-minute one. The output must be the music's chords over the whole file.
#
# The music: four triads (C, Am, F, G) of 2 s each, sines at 8 kHz in 8-bit
# samples (no dither), repeated: FLAC of 1.7 MB for 10 minutes and 20 MB for
# 2 hours, written in about a second (a 2-hour 22.05 kHz 16-bit WAV would be
# 317 MB), and resampled to 22050 Hz as it streams. Deleted at the end.
# Peak RSS is the command's own (wait4's ru_maxrss). The normal build only:
# under ASan RSS is mostly shadow memory.
# Usage: transcribe_memory.sh BUILD_DIR   (needs sox; exit 77 without it)
set -u
BUILD=$(cd "$1" && pwd) || exit 1
CH=$BUILD/chordlet
PY=/usr/bin/python3
LIMIT_MB=300
GROWTH_MB=16
command -v sox >/dev/null 2>&1 || { echo "this test needs sox"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' HUP INT TERM
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
cd "$TMP" || exit 1

i=0
for chord in "C4 E4 G4" "A3 C4 E4" "F3 A3 C4" "G3 B3 D4"; do
  set -- $chord
  sox -D -r 8000 -c 3 -n -b 8 -c 1 c$i.wav synth 2 sine $1 sine $2 sine $3 remix - vol 0.9 || exit 1
  i=$((i + 1))
done
sox -D c0.wav c1.wav c2.wav c3.wav pattern.wav # 8 s
sox -D pattern.wav -C 8 m10.flac repeat 74     # 75 x 8 s = 600 s
sox -D pattern.wav -C 8 m120.flac repeat 899   # 900 x 8 s = 7200 s
echo "# inputs: $(wc -c <m10.flac) and $(wc -c <m120.flac) bytes of FLAC"

# measure CMD...: sets rc, secs (wall clock), rss_mb (the command's peak RSS) and user (its CPU seconds).
measure() {
  $PY - "$@" >result <<'PYEOF'
import os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open("err", "wb"))
_, status, usage = os.wait4(p.pid, 0)
p.returncode = 0
rc = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
print("%d %.1f %d %.1f" % (rc, time.monotonic() - t0, (usage.ru_maxrss + 1023) // 1024, usage.ru_utime))
PYEOF
  read -r rc secs rss_mb user <result
}

for m in offline default; do
  mkdir -p "o-$m"
  for len in 10 120; do
    measure "$CH" transcribe -q -m $m -o "o-$m" m$len.flac
    eval "rc_$len=\$rc rss_$len=\$rss_mb"
    echo "# $m, $len min: exit $rc, $secs s wall, $user s user CPU, peak RSS $rss_mb MB"
    [ "$rc" -eq 0 ] || sed 's/^/    /' err | head -n 5
  done
  # C, Am, F, G every 2 s after a first N frame: 3600 chords in 2 hours.
  if [ "$rc_120" -eq 0 ] && $PY - "o-$m/m120.lab" <<'PYEOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
chords = [r[2] for r in rows if r[2] != "N"]
assert rows[-1][1] == "7200.000000", rows[-1]
assert len(chords) == 3600 and chords[:4] == ["C", "A:min", "F", "G"] and chords[-4:] == chords[:4], (len(chords), chords[:8])
PYEOF
  then ok "$m: 2 hours transcribed: C, Am, F, G every 2 s to 7200 s"
  else bad "$m: the 2-hour transcription (exit $rc_120)"; head -n 5 "o-$m/m120.lab" 2>/dev/null | sed 's/^/    /'; fi
  if [ "$rc_10" -eq 0 ] && [ "$rc_120" -eq 0 ] && [ "$rss_10" -lt "$LIMIT_MB" ] && [ "$rss_120" -lt "$LIMIT_MB" ] &&
     [ "$rss_120" -le $((rss_10 + GROWTH_MB)) ]; then
    ok "$m: peak RSS $rss_10 MB (10 min) and $rss_120 MB (2 h): under $LIMIT_MB MB, growth $((rss_120 - rss_10)) MB <= $GROWTH_MB MB"
  else
    bad "$m: peak RSS $rss_10 MB (10 min) and $rss_120 MB (2 h): want both under $LIMIT_MB MB and growth <= $GROWTH_MB MB"
  fi
done

echo "# $failures failed"
[ "$failures" -eq 0 ]
