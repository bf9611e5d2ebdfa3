#!/bin/sh
# plot_cli.sh: the pictures. `chordlet transcribe --plot` (PNG and SVG, the
# live student and the teacher) and `chordlet eval --plot` (one pair, and a
# folder of pairs) on the demo recording. Checked: the files are PNG (magic,
# IHDR size as the design says: 40 px a second + margins, the strip and the
# CQT rows) or SVG (well-formed XML, an <svg> root of the same size); the PNG
# is a picture, not a blank (many distinct colours; red error marks in the
# eval picture where the demo's transcription is wrong); bad --plot values
# are refused (exit 2) and an unwritable place fails cleanly (exit 1, no
# temporary file). The pictures are kept in build/test-logs/ as artifacts.
# Usage: plot_cli.sh BUILD_DIR
set -u
BUILD=$1
CH=$BUILD/chordlet
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
LOGS=build/test-logs
mkdir -p "$LOGS"
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
SONG=examples/synth0046.flac

"$CH" transcribe -q -o "$TMP" --plot "$TMP/student.png" "$SONG" || bad "transcribe --plot png failed"
"$CH" transcribe -q -o "$TMP" --plot "$TMP/student.svg" --spelling harte "$SONG" || bad "transcribe --plot svg failed"
"$CH" transcribe -q -o "$TMP" --model teacher --plot png "$SONG" || bad "transcribe --plot png (teacher) failed"
"$CH" eval --plot "$TMP/eval.png" examples/synth0046.lab "$TMP/synth0046.lab" >/dev/null || bad "eval --plot failed"
mkdir -p "$TMP/ref" "$TMP/est" "$TMP/pics"
cp examples/synth0046.lab "$TMP/ref/a.lab"
cp examples/synth0046.lab "$TMP/ref/b.lab"
cp "$TMP/synth0046.lab" "$TMP/est/a.lab"
cp examples/synth0046.lab "$TMP/est/b.lab"
"$CH" eval --plot "$TMP/pics" "$TMP/ref" "$TMP/est" >/dev/null || bad "eval --plot FOLDER failed"
for f in student.png student.svg synth0046.png eval.png; do cp "$TMP/$f" "$LOGS/plot-$f" 2>/dev/null; done

/usr/bin/python3 - "$TMP" <<'PY'
import struct, sys, zlib
import xml.etree.ElementTree as ET
tmp = sys.argv[1]
fails = 0
def check(cond, msg):
    global fails
    print(("ok - " if cond else "not ok - ") + msg)
    fails += 0 if cond else 1
def png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    bpp = {2: 3, 6: 4}[ctype]
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):  # undo the PNG row filters
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line)); prev = line
    pixels = [tuple(r[x * bpp:x * bpp + 3]) for r in rows for x in range(w)]
    return w, h, pixels
# 30 s at 40 px/s + 90 px of margins; strip 34 + CQT 2 px per bin (144 student, 288 teacher)
for name, want_h in (("student.png", 40 + 34 + 10 + 288 + 30), ("synth0046.png", 40 + 34 + 10 + 576 + 30)):
    r = png(tmp + "/" + name)
    check(r is not None, name + " is a PNG")
    if r:
        w, h, px = r
        check(w == 1290 and h == want_h, "%s is %dx%d (expected 1290x%d)" % (name, w, h, want_h))
        colours = len(set(px))
        check(colours > 200, "%s has %d distinct colours (a picture, not a blank)" % (name, colours))
r = png(tmp + "/eval.png")
check(r is not None, "eval.png is a PNG")
if r:
    w, h, px = r
    red = sum(1 for p in px if p[0] > 200 and p[1] < 60 and p[2] < 60)
    check(w == 1290 and red > 1000, "eval.png %dx%d marks errors in red (%d red pixels)" % (w, h, red))
for name in ("pics/a.png", "pics/b.png"):
    r = png(tmp + "/" + name)
    check(r is not None, "eval --plot FOLDER wrote " + name)
    if r and name.endswith("b.png"):
        red = sum(1 for p in r[2] if p[0] > 200 and p[1] < 60 and p[2] < 60)
        check(red == 0, "b.png (the reference against itself) has no red (%d)" % red)
try:
    root = ET.parse(tmp + "/student.svg").getroot()
    check(root.tag.endswith("svg") and root.get("width", "").startswith("1290"),
          "student.svg is well-formed SVG, width %s" % root.get("width"))
except Exception as e:
    check(False, "student.svg does not parse: %s" % e)
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] || failures=$((failures + 1))

out=$("$CH" transcribe -q -o "$TMP" --plot "$TMP/x.jpg" "$SONG" 2>&1); rc=$?
[ $rc -eq 2 ] && ok "--plot x.jpg refused: $out" || bad "--plot x.jpg: exit $rc: $out"
out=$("$CH" transcribe -q -o "$TMP" --plot "$TMP/one.png" "$SONG" "$SONG" 2>&1); rc=$?
[ $rc -eq 2 ] && ok "one picture for two inputs refused: $out" || bad "two inputs, one picture: exit $rc: $out"
out=$("$CH" transcribe -q -o "$TMP" --plot "$TMP/missing/dir.png" "$SONG" 2>&1); rc=$?
[ $rc -eq 1 ] && ok "unwritable picture: exit 1: $out" || bad "unwritable picture: exit $rc: $out"
out=$("$CH" eval --plot "$TMP/e.gif" examples/synth0046.lab "$TMP/synth0046.lab" 2>&1); rc=$?
[ $rc -eq 2 ] && ok "eval --plot e.gif refused" || bad "eval --plot e.gif: exit $rc: $out"
n=$(find "$TMP" -name '*.tmp.*' | wc -l)
[ "$n" -eq 0 ] && ok "no temporary files left" || bad "$n temporary files left"
echo "# $failures failed"
[ "$failures" -eq 0 ]
