#!/bin/sh
# hostile_cli.sh: hostile command lines (issue 17). Every case runs under a
# time limit and a memory cap, and wants a clear message that names the file
# and the problem, exit 1 (2 for usage), never a crash, a hang, runaway
# memory or a half-written output file:
#   1. audio: a 0-byte file; headers claiming 2^31 frames (WAV, RF64, AU) in
#      a 2 KB file; a 1-sample file; float WAV with NaN / Inf; 8 kHz and
#      384 kHz (valid: transcribed), 500 Hz and 1 MHz (refused), through
#      `chordlet transcribe` with both students and the teacher;
#   2. folders with symbolic-link loops and files nobody can read as audio,
#      through transcribe, `chordlet-train features` / `pseudo-label`, eval;
#   3. a 100 MB .lab and one with 2 000 001 segments for `chordlet eval`;
#   4. output folders that are not writable or are full, /dev/full;
#   5. an hour of silence: time linear in duration, memory measured.
# Peak RSS is each command's own (getrusage of the child, in Python); it is
# checked on the normal build only: under ASan it is mostly shadow memory,
# and the address-space cap (ulimit -v) cannot apply there, so the ASan build
# caps single allocations instead (max_allocation_size_mb).
# Usage: hostile_cli.sh BUILD_DIR   (uses only the repository: models/, no ../shared)
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" && pwd) || exit 1 # the cases run in a scratch folder
CH=$BUILD/chordlet
TRAIN=$BUILD/chordlet-train
PY=/usr/bin/python3
TMP=$(mktemp -d)
MOUNTS=
cleanup() {
  for m in $MOUNTS; do umount "$m" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
note() { echo "# $1"; }

case $BUILD in
*asan*)
  ASAN=1
  CAP_MB=0 # no address-space cap under ASan; its allocator refuses big blocks instead
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:allocator_may_return_null=1:max_allocation_size_mb=2000"
  ;;
*) ASAN=0 CAP_MB=2000 ;;
esac

# measure LIMIT_S CAP_MB CMD...: runs CMD with stdin from /dev/null, stdout
# to $TMP/cmd.out and stderr to $TMP/cmd.err, killed (exit 124) after LIMIT_S, its
# address space capped at CAP_MB (0: none). Sets rc, secs (wall clock),
# rss_mb (peak RSS of the command itself) and user (its user CPU seconds),
# from wait4's rusage.
cat >"$TMP/measure.py" <<'PYEOF'
import os, resource, signal, subprocess, sys, time
result, limit, cap = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def preexec():
    if cap > 0:
        resource.setrlimit(resource.RLIMIT_AS, (cap << 20, cap << 20))
out, err = open(sys.argv[4], "wb"), open(sys.argv[5], "wb")
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[6:], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                     preexec_fn=preexec, start_new_session=True)
timed_out = []
def kill(*_):
    timed_out.append(1)
    os.killpg(p.pid, signal.SIGKILL)
signal.signal(signal.SIGALRM, kill)
signal.setitimer(signal.ITIMER_REAL, limit)
_, status, usage = os.wait4(p.pid, 0)  # retried after the alarm (PEP 475)
signal.setitimer(signal.ITIMER_REAL, 0)
p.returncode = 0  # reaped here: keep Popen from waiting again
secs = time.monotonic() - t0
rc = 124 if timed_out else (128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
open(result, "w").write("%d %.2f %d %.2f\n" % (rc, secs, (usage.ru_maxrss + 1023) // 1024, usage.ru_utime))
PYEOF
measure() {
  limit=$1 cap=$2
  shift 2
  $PY "$TMP/measure.py" "$TMP/result" "$limit" "$cap" "$TMP/cmd.out" "$TMP/cmd.err" "$@"
  read -r rc secs rss_mb user <"$TMP/result"
}

# expect NAME RC NEEDLE RSS_MB CMD...: CMD exits RC within 60 s, its stderr
# holds NEEDLE (a fixed string), and (normal build) its peak RSS stays under
# RSS_MB. The first line that holds NEEDLE is echoed as the case's message.
expect() {
  name=$1 want=$2 needle=$3 max_mb=$4
  shift 4
  measure 60 "$CAP_MB" "$@"
  if [ "$rc" -ne "$want" ]; then
    bad "$name: exit $rc, expected $want (${secs} s)"; sed 's/^/    /' "$TMP/cmd.err" | head -n 8; return 1
  fi
  if ! grep -qF -- "$needle" "$TMP/cmd.err"; then
    bad "$name: stderr lacks '$needle'"; sed 's/^/    /' "$TMP/cmd.err" | head -n 8; return 1
  fi
  if [ "$ASAN" -eq 0 ] && [ "$rss_mb" -gt "$max_mb" ]; then
    bad "$name: peak RSS $rss_mb MB, bound $max_mb MB"; return 1
  fi
  ok "$name (exit $rc, ${secs} s, ${rss_mb} MB): $(grep -F -- "$needle" "$TMP/cmd.err" | head -n 1 | cut -c 1-200)"
}

# The fixtures, written byte by byte: every header field is what the case says.
cd "$TMP" || exit 1
$PY - <<'PYEOF'
import math, struct
def wav(path, rate, samples, fmt="<h", tag=1, bits=16, claim=None):
    data = b"".join(struct.pack(fmt, s) for s in samples)
    size = len(data) if claim is None else claim
    block = bits // 8
    fmt_chunk = b"fmt " + struct.pack("<IHHIIHH", 16, tag, 1, rate, rate * block, block, bits)
    riff = (4 + len(fmt_chunk) + 8 + size) & 0xFFFFFFFF
    open(path, "wb").write(b"RIFF" + struct.pack("<I", riff) + b"WAVE" + fmt_chunk +
                           b"data" + struct.pack("<I", size) + data)
def tone(rate, seconds, hz=220.0):
    return [int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(rate * seconds))]
open("empty.wav", "wb").close()
# 2000 bytes of audio behind headers that claim 2^31 frames
wav("claim-wav.wav", 22050, [128] * 2000, fmt="<B", bits=8, claim=2**31)  # 8-bit mono: 2^31 bytes = 2^31 frames
ds64 = b"ds64" + struct.pack("<IQQQI", 28, 2**32 + 36, 2**32, 2**31, 0)
fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16)
open("claim-rf64.wav", "wb").write(b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + ds64 + fmt +
                                   b"data" + struct.pack("<I", 0xFFFFFFFF) + bytes(2000))
open("claim.au", "wb").write(b".snd" + struct.pack(">IIIII", 24, 2**31, 2, 22050, 1) + bytes(2000))
wav("one.wav", 22050, [1000])
sine = [0.1 * math.sin(i / 10) for i in range(22050)]
wav("nan.wav", 22050, sine[:5000] + [math.nan] + sine[5001:], fmt="<f", tag=3, bits=32)
wav("inf.wav", 22050, sine[:7000] + [math.inf] + sine[7001:], fmt="<f", tag=3, bits=32)
for rate in (8000, 384000):
    wav("r%d.wav" % rate, rate, tone(rate, 5))
wav("r500.wav", 500, tone(500, 5, 100))
wav("r1000000.wav", 1000000, tone(1000000, 0.01))
PYEOF

# ---- 1. Audio files ------------------------------------------------------------
for m in offline default teacher; do
  mkdir -p "o-$m"
  expect "$m: 0-byte file" 1 "empty.wav: empty file (0 bytes)" 150 "$CH" transcribe -q -m $m -o "o-$m" empty.wav
  expect "$m: WAV claiming 2^31 frames in 2 KB" 1 "claim-wav.wav: truncated WAV: its header declares 2147483648 bytes" 150 \
    "$CH" transcribe -q -m $m -o "o-$m" claim-wav.wav
  expect "$m: RF64 claiming 2^31 frames in 2 KB" 1 "claim-rf64.wav: truncated or damaged" 150 \
    "$CH" transcribe -q -m $m -o "o-$m" claim-rf64.wav
  # libsndfile reads an AU data size of 2^31 (negative as its int) as 0 frames
  # and logs nothing: refused as empty.
  expect "$m: AU claiming 2^31 frames in 2 KB" 1 "claim.au: contains no audio" 150 \
    "$CH" transcribe -q -m $m -o "o-$m" claim.au
  expect "$m: float WAV with a NaN" 1 "nan.wav: sample 5000 of channel 1 (0.227 s) is NaN" 150 \
    "$CH" transcribe -q -m $m -o "o-$m" nan.wav
  expect "$m: float WAV with an Inf" 1 "inf.wav: sample 7000 of channel 1 (0.317 s) is infinite" 150 \
    "$CH" transcribe -q -m $m -o "o-$m" inf.wav
  # AUDIO_MIN_RATE..AUDIO_MAX_RATE (engine/audiofile.h) is 1000..768000 Hz:
  # outside it a rate is a broken header, refused; inside it a file is music,
  # resampled to the model's 22050 Hz and transcribed like any other. 8 kHz
  # (telephone) and 384 kHz (studio converters) are real rates: exit 0, the
  # whole 5 s covered, in bounded time and memory.
  for r in 8000 384000; do
    measure 60 "$CAP_MB" "$CH" transcribe -q -m $m -o "o-$m" r$r.wav
    end=$(tail -n 1 "o-$m/r$r.lab" 2>/dev/null | cut -f 2)
    if [ "$rc" -eq 0 ] && [ "$end" = "5.000000" ] && { [ "$ASAN" -eq 1 ] || [ "$rss_mb" -le 300 ]; }; then
      ok "$m: $r Hz file transcribed (${secs} s, ${rss_mb} MB): $(tr '\t\n' ' |' <"o-$m/r$r.lab")"
    else bad "$m: $r Hz file: exit $rc, last end '$end', ${rss_mb} MB"; sed 's/^/    /' "$TMP/cmd.err" | head -n 5; fi
  done
  expect "$m: 500 Hz (below the accepted rates)" 1 "r500.wav: sample rate 500 Hz is outside 1000..768000 Hz" 150 \
    "$CH" transcribe -q -m $m -o "o-$m" r500.wav
  expect "$m: 1 MHz (above the accepted rates)" 1 "r1000000.wav: sample rate 1000000 Hz is outside 1000..768000 Hz" 150 \
    "$CH" transcribe -q -m $m -o "o-$m" r1000000.wav
done
# A single sample is valid audio (45 us). The students have no minimum
# length: one N segment over exactly the file's duration, which chordlet eval
# reads back. The teacher's librosa front end needs more (librosa raises too):
# refused with the file named.
for m in offline default; do
  measure 60 "$CAP_MB" "$CH" transcribe -q -m $m -o "o-$m" one.wav
  if [ "$rc" -eq 0 ] && [ "$(cat "o-$m/one.lab")" = "$(printf '0.000000\t0.000045\tN')" ] &&
     "$CH" eval "o-$m/one.lab" "o-$m/one.lab" >/dev/null; then
    ok "$m: 1-sample file: one N segment of 45 us (exit 0, ${secs} s, ${rss_mb} MB)"
  else bad "$m: 1-sample file: exit $rc"; cat "o-$m/one.lab" "$TMP/cmd.err" 2>/dev/null | sed 's/^/    /'; fi
done
expect "teacher: 1-sample file" 1 "one.wav: input signal length=1 is too short" 150 \
  "$CH" transcribe -q -m teacher -o o-teacher one.wav
# None of the refused files left an output or a temporary file.
left=$(find o-offline o-default o-teacher -type f ! -name r8000.lab ! -name r384000.lab ! -name one.lab)
[ -z "$left" ] && ok "refused audio left no output or temporary file" || bad "refused audio left files: $left"

# The trainer reads audio too: features over all of the refused files at once.
mkdir in-audio
cp empty.wav claim-wav.wav claim-rf64.wav nan.wav inf.wav r500.wav r1000000.wav r8000.wav in-audio/
printf '0\t5\tA:min\n' >in-audio/r8000.lab
if expect "features on the refused audio files" 1 "1 cached, 0 already cached, 7 failed" 300 "$TRAIN" features --jobs 1 --out feat-audio in-audio; then
  missing=
  for f in empty.wav claim-wav.wav claim-rf64.wav nan.wav inf.wav r500.wav r1000000.wav; do
    grep -q "in-audio/$f: " "$TMP/cmd.err" || missing="$missing $f"
  done
  [ -z "$missing" ] && ok "features: each refused file named with its problem" || bad "features: not named:$missing"
fi
ls feat-audio/r8000-*.chordlet >/dev/null 2>&1 && ok "features: the 8 kHz file was cached" || bad "features: no cache for the 8 kHz file"

# ---- 2. Folders with symbolic-link loops and unreadable files ----------------
# CI runs as root, for whom chmod 000 stops no read: what nobody can read as
# audio stands in. A FIFO with no writer (an open would wait forever), a
# folder named x.wav, a dangling link, links that loop (a file to itself, two
# files to each other, a folder link to its own folder), and a link to
# /dev/zero (a read never ends). A chmod 000 file is added when not root.
mkdir in in/dir.wav out
cp r8000.wav in/good.wav
printf '0\t5\tA:min\n' >in/good.lab
cp r8000.wav in/good2.wav
mkfifo in/good2.lab # the .lab beside an audio file: the trainer reads it
mkfifo in/fifo.wav
ln -s loop.wav in/loop.wav
ln -s ping-b.wav in/ping-a.wav
ln -s ping-a.wav in/ping-b.wav
ln -s . in/self.wav
ln -s missing.wav in/dangling.wav
ln -s /dev/zero in/zero.wav
ln -s "$TMP/loopdir" loopdir
unreadable="dir.wav fifo.wav loop.wav ping-a.wav ping-b.wav self.wav dangling.wav zero.wav"
if [ "$(id -u)" -ne 0 ]; then
  cp r8000.wav in/locked.wav && chmod 000 in/locked.wav
  unreadable="$unreadable locked.wav"
else
  note "running as root: chmod 000 stops no read, so no locked-file case (the FIFO, folder, links and device stand in)"
fi
n_bad=$(echo $unreadable | wc -w)
# check_names NAME: every unreadable file is named in stderr
check_names() {
  missing=
  for f in $unreadable; do grep -q "$f" "$TMP/cmd.err" || missing="$missing $f"; done
  [ -z "$missing" ] && ok "$1: each of the $n_bad unreadable files named" || bad "$1: not named:$missing"
}
expect "transcribe a folder of traps" 1 "$n_bad of $((n_bad + 2)) files failed" 300 "$CH" transcribe -q -m offline -o out in &&
  check_names "transcribe a folder of traps"
grep -F "fifo.wav" "$TMP/cmd.err" | head -n 1 | sed 's/^/    /'
grep -F "ping-a.wav" "$TMP/cmd.err" | head -n 1 | sed 's/^/    /'
[ -f out/good.lab ] && [ -f out/good2.lab ] && ok "transcribe: the good files of that folder were written" ||
  bad "transcribe: a trap stopped the good files"
expect "transcribe a folder link that loops" 1 "loopdir': Too many levels of symbolic links" 150 \
  "$CH" transcribe -q -o out loopdir
expect "features on a folder of traps (a FIFO .lab among them)" 1 "good2.lab: a FIFO, socket or device" 300 \
  "$TRAIN" features --jobs 1 --out feat in && check_names "features on a folder of traps"
ls feat/good-*.chordlet >/dev/null 2>&1 && ok "features: the good file was cached" || bad "features: no cache for the good file"
expect "pseudo-label on a folder of traps" 1 "zero.wav: a FIFO, socket or device" 300 \
  "$TRAIN" pseudo-label --model "$REPO/models/teacher.chordlet" --folds 1 --jobs 1 --out pl in && check_names "pseudo-label on a folder of traps"
# eval: the estimate a FIFO, a device, a looping or dangling link, a folder
mkdir ref est
for f in fifo zero loop dangling dir; do printf '0 1 C\n' >"ref/$f.lab"; done
mkfifo est/fifo.lab
ln -s /dev/zero est/zero.lab
ln -s loop.lab est/loop.lab
ln -s missing.lab est/dangling.lab
mkdir est/dir.lab
expect "eval: a FIFO estimate" 1 "est/fifo.lab is a FIFO, socket or device, not a .lab file" 50 "$CH" eval ref/fifo.lab est/fifo.lab
expect "eval: /dev/zero as the estimate" 1 "est/zero.lab is a FIFO, socket or device, not a .lab file" 50 "$CH" eval ref/zero.lab est/zero.lab
expect "eval: a link that loops" 1 "est/loop.lab': Too many levels of symbolic links" 50 "$CH" eval ref/loop.lab est/loop.lab
expect "eval: a dangling link" 1 "est/dangling.lab': No such file or directory" 50 "$CH" eval ref/dangling.lab est/dangling.lab
expect "eval: a folder for a file" 2 "give two files or two folders" 50 "$CH" eval ref/dir.lab est/dir.lab
# Two folders: the estimate of the pair is a FIFO (listed like any .lab).
mkdir ref2 est2
printf '0 1 C\n' >ref2/song.lab
mkfifo est2/song.lab
expect "eval: two folders, the estimate a FIFO" 1 "est2/song.lab is a FIFO, socket or device, not a .lab file" 50 \
  "$CH" eval ref2 est2

# ---- 3. A 100 MB .lab ------------------------------------------------------------
# Valid lines (1.45 million segments): without a size limit eval parsed the
# whole file, 1.8 GB for a pair. LAB_MAX_FILE_BYTES (64 MiB) refuses it from
# its size before reading; LAB_MAX_SEGMENTS (2 million) bounds what a smaller
# file can hold: refused at segment 2 000 001, in about 270 MB. The files are
# real text (a sparse file would not be a .lab), made one at a time.
printf '0 1 C:maj7\n' >small.lab
mkdir in3
cp r8000.wav in3/song.wav
if [ "$(df -Pk . | awk 'NR == 2 { print int($4 / 1024) }')" -lt 300 ]; then
  note "skipped the 100 MB .lab: less than 300 MB free in $TMP"
else
  awk 'BEGIN { for (i = 0; i < 1450000; i++) printf "%030.6f %030.6f C:maj7\n", i * 0.1, i * 0.1 + 0.1 }' >big.lab
  expect "eval: a 100 MB estimate" 1 "big.lab: 100050000 bytes: larger than the 64 MiB a .lab file may have" 50 \
    "$CH" eval small.lab big.lab
  expect "eval: a 100 MB reference" 1 "big.lab: 100050000 bytes: larger than the 64 MiB" 50 "$CH" eval big.lab small.lab
  ln -s "$TMP/big.lab" in3/song.lab
  expect "features: a 100 MB .lab beside the audio" 1 "in3/song.lab: 100050000 bytes: larger than the 64 MiB" 300 \
    "$TRAIN" features --jobs 1 --out feat3 in3
  rm -f big.lab in3/song.lab
  awk 'BEGIN { for (i = 0; i <= 2000000; i++) printf "%.2f %.2f N\n", i * 0.25, i * 0.25 + 0.25 }' >many.lab
  expect "eval: 2 000 001 segments ($(wc -c <many.lab) bytes)" 1 "many.lab:2000001: more than 2000000 segments" 400 \
    "$CH" eval small.lab many.lab
  rm -f many.lab
fi

# ---- 4. Output that cannot be written ----------------------------------------------
: >plainfile
expect "-o names a regular file" 1 "output folder 'plainfile' is not a folder" 150 "$CH" transcribe -q -o plainfile r8000.wav
if [ -d /proc/sys ]; then
  expect "-o /proc/sys (no files can be made there, root or not)" 1 "cannot write /proc/sys/r8000.lab" 150 \
    "$CH" transcribe -q -o /proc/sys r8000.wav
  [ -e /proc/sys/r8000.lab ] && bad "a file appeared in /proc/sys" || true
fi
# A read-only folder: a read-only tmpfs (root), else a chmod 555 folder.
mkdir ro full
if mount -t tmpfs -o ro,size=64k tmpfs ro 2>/dev/null; then
  MOUNTS="$MOUNTS $TMP/ro"
  expect "-o a read-only file system" 1 "Read-only file system" 150 "$CH" transcribe -q -o ro r8000.wav
elif [ "$(id -u)" -ne 0 ]; then
  chmod 555 ro
  expect "-o a folder without write permission" 1 "Permission denied" 150 "$CH" transcribe -q -o ro r8000.wav
else
  note "skipped the read-only folder: mount is not permitted here"
fi
# A full folder: a 64 KB tmpfs filled up. Each write fails at flush or sync:
# the message names the output, and no output or temporary file is left.
if mount -t tmpfs -o size=64k tmpfs full 2>/dev/null; then
  MOUNTS="$MOUNTS $TMP/full"
  dd if=/dev/zero of=full/filler bs=4096 2>/dev/null
  expect "transcribe into a full folder (.lab)" 1 "cannot write full/r8000.lab: No space left on device" 150 \
    "$CH" transcribe -q -o full r8000.wav
  expect "transcribe into a full folder (.json)" 1 "cannot write full/r8000.json: No space left on device" 150 \
    "$CH" transcribe -q -f json -o full r8000.wav
  expect "eval --plot into a full folder" 1 "cannot write full/e.png: No space left on device" 150 "$CH" eval --plot full/e.png in/good.lab in/good.lab
  expect "chordlet-train export into a full folder" 1 "cannot write full/x.chordlet: No space left on device" 150 \
    "$TRAIN" export "$REPO/models/offline.chordlet" full/x.chordlet
  expect "features into a full folder" 1 "No space left on device" 300 "$TRAIN" features --jobs 1 --out full/f in3/song.wav
  [ "$(ls -A full | grep -v -e '^filler$' -e '^f$')" = "" ] && [ -z "$(ls -A full/f 2>/dev/null)" ] &&
    ok "full folder: no output or temporary file left" || { bad "full folder: files left"; ls -lA full full/f; }
else
  note "skipped the full folder: mount is not permitted here"
fi
# /dev/full: as stdout, and as an output path (through a link in our own
# folder, so that a writer that replaced it would replace our link, not the
# system's device node).
expect "eval > /dev/full" 1 "cannot write the results: No space left on device" 50 \
  sh -c 'exec "$1" eval "$2" "$2" >/dev/full' sh "$CH" in/good.lab
expect "info > /dev/full" 1 "cannot write the output: No space left on device" 100 \
  sh -c 'exec "$1" info "$2" >/dev/full' sh "$CH" "$REPO/models/offline.chordlet"
mkdir o-full
ln -s /dev/full o-full/r8000.lab
expect "transcribe onto a link to /dev/full" 1 "cannot write o-full/r8000.lab: it exists and is a device, FIFO or socket" 150 \
  "$CH" transcribe -q -o o-full r8000.wav
ln -s /dev/full full.png
expect "transcribe --plot onto a link to /dev/full" 1 "cannot write full.png: it exists and is a device" 150 \
  "$CH" transcribe -q --plot full.png -o out r8000.wav
ln -s /dev/full full.chordlet
expect "chordlet-train export onto a link to /dev/full" 1 "cannot write full.chordlet: it exists and is a device" 150 \
  "$TRAIN" export "$REPO/models/offline.chordlet" full.chordlet
[ -L o-full/r8000.lab ] && [ -L full.chordlet ] && [ -c /dev/full ] && ok "the links and /dev/full are untouched" ||
  bad "a link to /dev/full was replaced"

# ---- 5. Hours of silence -------------------------------------------------------------
# WAV files of zeros at the students' 22050 Hz (no resampling; sparse files:
# no time or disk to write): 10 and 60 minutes through transcribe's default
# model (the file-mode student). Time must be linear in duration: linear
# gives 6x (a little less: the model loads once in each run), quadratic 36x;
# the test allows 8x. It compares user CPU seconds, which other jobs disturb far less
# than the wall clock or the system time (page faults; measured on a loaded
# 2-core machine: 10 min 0.72-0.94 s user, 0.09-0.49 s system), and on a
# machine busy enough to push the ratio over, measures the pair once more.
# Memory: the students stream the file (recognizer.h: blocks through the
# front end, the network in overlapping windows, the Viterbi tree pruned), so
# the 60-minute peak is the 10-minute peak within 8 MB (measured 57 MB for
# both; before streaming, 117-119 MB and 594-608 MB). Music up to 2 hours
# through both students: tests/transcribe_memory.sh.
if [ "$ASAN" -eq 1 ]; then
  note "skipped hours of silence under ASan: its RSS is shadow memory and its time not the product's (the normal build measures)"
else
  for min in 10 60; do
    n=$((min * 60 * 22050))
    $PY -c "import struct, sys; sys.stdout.buffer.write(b'RIFF' + struct.pack('<I', 36 + 2 * $n) + b'WAVE' + b'fmt ' +
      struct.pack('<IHHIIHH', 16, 1, 1, 22050, 44100, 2, 16) + b'data' + struct.pack('<I', 2 * $n))" >silence$min.wav
    truncate -s $((44 + 2 * n)) silence$min.wav # the samples: a hole of zeros, no disk
  done
  for try in 1 2; do
    for min in 10 60; do
      measure 120 3000 "$CH" transcribe -q -o out silence$min.wav
      eval "rc$min=\$rc cpu$min=\$user rss$min=\$rss_mb"
      note "silence: $min min: exit $rc, $secs s wall, $user s user CPU, peak RSS $rss_mb MB"
    done
    linear=$($PY -c "print(int($cpu60 < 8 * $cpu10))")
    [ "$linear" -eq 1 ] && break
    [ "$try" -eq 1 ] && note "silence: ratio over 8 (a busy machine?): measuring again"
  done
  rm -f silence10.wav silence60.wav
  [ "$rc10" -eq 0 ] && [ "$rc60" -eq 0 ] && [ "$(cat out/silence60.lab)" = "$(printf '0.000000\t3600.000000\tN')" ] &&
    ok "an hour of silence: one N segment of 3600 s" || bad "silence: exit $rc10/$rc60, $(cat out/silence60.lab 2>/dev/null)"
  ratio=$($PY -c "print('%.1f' % ($cpu60 / max($cpu10, 0.01)))")
  if [ "$rc10" -eq 0 ] && [ "$rc60" -eq 0 ]; then # else failed above: nothing to judge
    if [ "$linear" -eq 1 ]; then ok "silence: time is linear (user CPU 60 min: $cpu60 s, 10 min: $cpu10 s, ratio $ratio)"
    else bad "silence: 60 min took $cpu60 s of user CPU, more than 8x the 10 min's $cpu10 s (ratio $ratio)"; fi
    if [ "$rss10" -le 300 ] && [ "$rss60" -le $((rss10 + 8)) ]; then
      ok "silence: peak RSS $rss10 MB (10 min) and $rss60 MB (60 min): under 300 MB, and the hour within 8 MB of the 10 minutes"
    else bad "silence: peak RSS $rss10 MB (10 min, bound 300) and $rss60 MB (60 min, bound $((rss10 + 8)))"; fi
  fi
fi

echo "# $failures failed"
[ "$failures" -eq 0 ]
