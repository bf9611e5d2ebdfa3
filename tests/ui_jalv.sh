#!/bin/sh
# ui_jalv.sh: chordlet.lv2's UI, as a user sees it, without a screen (Xvfb).
#  1. jalv.gtk3 (Debian's jalv) runs the plugin as a JACK client (jackd on the
#     dummy driver) and opens its UI; a player feeds a chord progression
#     (C Am F G Dm Em F C). After 9 s a screenshot (xwd) is taken and kept as
#     build/test-logs/ui-jalv.png. Checked: the UI's own log of what it drew
#     (CHORDLET_UI_LOG) names a chord of the progression with >= 4 chords of
#     history; on the screenshot, the UI's panel is found by its background
#     colour and holds large light text (the chord), the confidence bar and
#     coloured history blocks.
#  2. The UI opened, fed, resized and closed 50 times under valgrind: no
#     invalid access, no leak (fontconfig's process-wide caches suppressed;
#     the unsuppressed loss must be the same after 5 cycles as after 50).
# Usage: ui_jalv.sh BUILD_DIR
set -u
BUILD=$1
for tool in Xvfb jalv.gtk3 jackd xwd valgrind; do
  command -v $tool >/dev/null 2>&1 || { echo "needs $tool (xvfb, jalv, jackd1, x11-apps, valgrind)"; exit 77; }
done
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "needs python3-numpy"; exit 77; }
TMP=$(mktemp -d)
LOGS=build/test-logs
mkdir -p "$LOGS"
DISP=:$((200 + $$ % 500))
SERVER=chordlet-ui-$$
export JACK_DEFAULT_SERVER=$SERVER
xvfb_pid= jackd_pid= jalv_pid= player_pid=
trap 'kill $player_pid $jalv_pid 2>/dev/null; sleep 0.5; kill $jackd_pid $xvfb_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
BUNDLE=$(cd "$BUILD/lv2/chordlet.lv2" && pwd)

Xvfb "$DISP" -screen 0 1024x768x24 -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
xvfb_pid=$!
export DISPLAY=$DISP
for _ in 1 2 3 4 5 6 7 8 9 10; do xwd -root -silent >/dev/null 2>&1 && break; sleep 0.5; done

# --- 2. open/close under valgrind -------------------------------------------
for n in 5 50; do
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3 \
    --suppressions=tests/valgrind-fontconfig.supp "$BUILD/tests/ui_cycle" "$BUNDLE" $n >"$TMP/vg$n.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] && ok "the UI opened and closed $n times under valgrind: no leak, no invalid access" ||
    { bad "valgrind, $n cycles: exit $rc"; tail -30 "$TMP/vg$n.log"; }
  valgrind --leak-check=full "$BUILD/tests/ui_cycle" "$BUNDLE" $n 2>&1 | sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' >"$TMP/lost$n"
done
[ "$(cat "$TMP/lost5")" = "$(cat "$TMP/lost50")" ] &&
  ok "unsuppressed loss after 5 and 50 cycles is the same ($(cat "$TMP/lost5") bytes: process-wide caches, not per open)" ||
  bad "loss grows with cycles: $(cat "$TMP/lost5") bytes after 5, $(cat "$TMP/lost50") after 50"

# --- 1. jalv.gtk3 with audio -------------------------------------------------
/usr/bin/python3 tests/progression.py "$TMP" 44100
jackd -n "$SERVER" -r -d dummy -r 44100 -p 256 >"$TMP/jackd.log" 2>&1 &
jackd_pid=$!
sleep 1.5
mkdir -p "$TMP/lv2"
ln -s "$BUNDLE" "$TMP/lv2/chordlet.lv2"
LV2_PATH="$TMP/lv2" CHORDLET_UI_LOG="$TMP/ui.log" jalv.gtk3 -n chordlet urn:chordlet:mono >"$TMP/jalv.log" 2>&1 &
jalv_pid=$!
"$BUILD/tests/jack_play" "$TMP/song.wav" player 1 chordlet:in >"$TMP/player.log" 2>&1 &
player_pid=$!
sleep 10
xwd -root -silent >"$TMP/shot.xwd" 2>/dev/null || bad "xwd failed"
if [ -s "$TMP/ui.log" ]; then
  last=$(tail -n 1 "$TMP/ui.log")
  echo "# the UI's last redraw: $last"
  label=$(echo "$last" | sed -n 's/.*label=\([^ ]*\) .*/\1/p')
  history=$(echo "$last" | sed -n 's/.*history=\([0-9]*\) .*/\1/p')
  case " C Am F G Dm Em " in
  *" $label "*) ok "the UI drew '$label', a chord of the progression" ;;
  *) bad "the UI drew '$label', not a chord of the progression" ;;
  esac
  [ "${history:-0}" -ge 4 ] && ok "its history holds $history chords" || bad "history of ${history:-0} chords"
else
  bad "the UI never drew (no $TMP/ui.log); jalv said: $(tail -5 "$TMP/jalv.log")"
fi

/usr/bin/python3 - "$TMP/shot.xwd" "$LOGS/ui-jalv.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
h = struct.unpack(">25I", data[:100])
header_size, depth, width, height = h[0], h[3], h[4], h[5]
byte_order, bpp, bpl, ncolors = h[7], h[11], h[12], h[19]
rmask, gmask, bmask = h[14], h[15], h[16]
off = header_size + 12 * ncolors
fails = 0
def check(cond, msg):
    global fails
    print(("ok - " if cond else "not ok - ") + msg)
    fails += 0 if cond else 1
check(bpp in (24, 32), "screenshot %dx%d, %d bits per pixel" % (width, height, bpp))
if bpp not in (24, 32):
    sys.exit(1)
step = bpp // 8
order = "little" if byte_order == 0 else "big"
def shift(mask):
    s = 0
    while not (mask >> s) & 1:
        s += 1
    return s
rs, gs, bs = shift(rmask), shift(gmask), shift(bmask)
rows = []
for y in range(height):
    line = data[off + y * bpl: off + y * bpl + step * width]
    px = [int.from_bytes(line[i:i + step], order) for i in range(0, step * width, step)]
    rows.append([((p & rmask) >> rs, (p & gmask) >> gs, (p & bmask) >> bs) for p in px])
# the PNG artifact
raw = b"".join(b"\0" + bytes(c for p in r for c in p) for r in rows)
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
open(sys.argv[2], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
# the UI's panel: its background colour (0.10, 0.11, 0.13) = (26, 28, 33)
def is_bg(p):
    return abs(p[0] - 26) <= 2 and abs(p[1] - 28) <= 2 and abs(p[2] - 33) <= 2
bg = [(x, y) for y in range(height) for x in range(width) if is_bg(rows[y][x])]
check(len(bg) > 50000, "the UI's panel is on screen (%d background pixels)" % len(bg))
if not bg:
    sys.exit(1)
x0, x1 = min(p[0] for p in bg), max(p[0] for p in bg)
y0, y1 = min(p[1] for p in bg), max(p[1] for p in bg)
W, H = x1 - x0 + 1, y1 - y0 + 1
check(W >= 400 and H >= 250, "panel at (%d,%d), %dx%d" % (x0, y0, W, H))
light = sum(1 for y in range(y0, y0 + int(0.45 * H)) for x in range(x0, x1 + 1) if min(rows[y][x]) > 200)
check(light > 1500, "large light text in the upper panel: the chord (%d pixels)" % light)
bar_y = y0 + int(0.62 * H + 0.02 * H)
# the filled part of the bar: coloured (green when sure, red when not), unlike the grey track
bar = sum(1 for x in range(x0, x1 + 1) if max(rows[bar_y][x]) - min(rows[bar_y][x]) > 40)
check(bar > 10, "the confidence bar is drawn (%d bar pixels)" % bar)
hy = y0 + int(0.82 * H)
colours = {rows[hy][x] for x in range(x0, x1 + 1) if max(rows[hy][x]) - min(rows[hy][x]) > 60}
check(len(colours) >= 3, "the history shows %d chord colours" % len(colours))
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] || failures=$((failures + 1))
echo "# screenshot: $LOGS/ui-jalv.png"
echo "# $failures failed"
[ "$failures" -eq 0 ]
