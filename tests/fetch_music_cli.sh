#!/bin/sh
# fetch_music_cli.sh: scripts/fetch-real-music.sh (make data's real music) on
# three tiny fake .debs built here with dpkg-deb, so nothing is downloaded
# (FETCH_DEBS_DIR, FETCH_TSV). The packages hold sox-made "music" (segments of
# tones at changing levels, so no two pieces share a level curve):
#   fake-a: a piece, a loop played twice, a steady drone and a piece whose level
#           curve repeats over new notes (no loops), a FLAC piece, a stereo piece shipped as two mono
#           files (left, right), a stereo piece and a mono copy of it, a 10 s
#           jingle, a text file and an empty one named as audio (unreadable),
#           a DEP-5 copyright file (music/* CC-BY-SA-3.0, the rest GPL),
#           a listed subfolder and an unlisted one; two Frets on Fire stems (song.ogg, guitar.ogg)
#   fake-b: a folder inside a .pk3 (zip; another folder of it must not be
#           read), a byte-copy of fake-a's piece, its FLAC piece at another
#           compression level (same samples), a plain-text copyright file
#   fake-c: one piece: the check set (FETCH_CHECK)
# and the tsv names fake-missing, which has no .deb. Checks: the manifest (files,
# licences, minutes), dropped.tsv's reasons, the package-wise split, the error on
# the missing package, a rerun doing nothing, and kill -9 mid-run then a rerun
# ending with the same manifest, drops and lists as an uninterrupted run.
# Usage: fetch_music_cli.sh BUILD_DIR (its chordlet-train does the audio analysis)
set -u
BUILD_DIR=$(cd "${1:-build}" && pwd) || exit 1
[ -x "$BUILD_DIR/chordlet-train" ] || { echo "no $BUILD_DIR/chordlet-train (build first)"; exit 1; }
export CHORDLET_TRAIN="$BUILD_DIR/chordlet-train"
for tool in sox dpkg-deb unzip setsid; do
  command -v $tool >/dev/null || { echo "this test needs $tool"; exit 77; }
done
# python3 only writes the fake .pk3 (a zip) here; make data itself needs no Python
command -v /usr/bin/python3 >/dev/null || { echo "this test needs python3"; exit 77; }
TMP=$(mktemp -d)
# sox dithers with a clock-seeded generator unless told to repeat itself; the
# loop detector's start (0.0-0.2 s) then moved from run to run.
export SOX_OPTS="-R"
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }

# seg OUT SEED SECONDS [WAVE [PITCH]]: a "piece": 1-2 s tones at levels from -3 to
# -27 dB drawn from SEED (awk's rand), 22.05 kHz mono; PITCH multiplies every pitch.
seg() {
  awk -v seed="$2" -v total="$3" -v pitch="${5:-1}" 'BEGIN { srand(seed); t = 0
    while (t < total) { d = 1 + int(rand() * 3) * 0.5; if (t + d > total) d = total - t
      printf "%.2f %d %d\n", d, pitch * 110 * 2 ^ (int(rand() * 24) / 12), -3 - int(rand() * 9) * 3; t += d } }' |
    { n=0; while read -r d f g; do
        n=$((n + 1))
        sox -n -r 22050 -c 1 "$1.$n.wav" synth "$d" "${4:-sine}" "$f" gain "$g" fade t 0.02 "$d" 0.02
      done
      # shellcheck disable=SC2046
      sox $(ls "$1".*.wav | sort -t. -k2 -n) "$1"
      rm -f "$1".*.wav; }
}
mkdir -p "$TMP/src" "$TMP/debs"
S=$TMP/src
seg "$S/piece.wav" 1 40
seg "$S/half.wav" 2 35 && sox "$S/half.wav" "$S/half.wav" "$S/loop.wav"
seg "$S/left.wav" 3 36 && seg "$S/right.wav" 3 36 square && sox -M "$S/left.wav" "$S/right.wav" "$S/wide.wav"
seg "$S/st-l.wav" 4 38 && seg "$S/st-r.wav" 4 38 triangle && sox -M "$S/st-l.wav" "$S/st-r.wav" "$S/stereo.wav"
seg "$S/jingle.wav" 5 10
seg "$S/zipped.wav" 6 33
seg "$S/check.wav" 7 31
seg "$S/piece2.wav" 10 32
seg "$S/sub.wav" 11 30.5
# a piece whose level curve repeats but whose notes do not: no loop
seg "$S/verse1.wav" 12 35 && seg "$S/verse2.wav" 12 35 sine 1.5 && sox "$S/verse1.wav" "$S/verse2.wav" "$S/verses.wav"
seg "$S/song.wav" 8 34 && seg "$S/guitar.wav" 9 34

# pkg NAME: the control file of a fake package in $TMP/pkg/NAME
pkg() {
  mkdir -p "$TMP/pkg/$1/DEBIAN" "$TMP/pkg/$1/usr/share/doc/$1"
  printf 'Package: %s\nVersion: 1.0-1\nArchitecture: all\nMaintainer: test <t@example.org>\nDescription: fake music\n' \
    "$1" >"$TMP/pkg/$1/DEBIAN/control"
}
pkg fake-a
A=$TMP/pkg/fake-a/usr/share/games/fakea
mkdir -p "$A/music/extra" "$A/music/sub" "$A/songs/one"
sox "$S/sub.wav" "$A/music/sub/sub.ogg"
sox "$S/piece.wav" "$A/music/piece.ogg"
sox "$S/loop.wav" "$A/music/loop.ogg"
sox "$S/wide.wav" "$A/music/wide_left.ogg" remix 1 && sox "$S/wide.wav" "$A/music/wide_right.ogg" remix 2
sox "$S/stereo.wav" "$A/music/stereo.ogg" && sox "$S/stereo.wav" "$A/music/stereo_mono.ogg" remix 1,2
sox "$S/jingle.wav" "$A/music/jingle.ogg"
cp "$A/music/jingle.ogg" "$A/music/extra/not-listed.ogg"
echo "not audio" >"$A/music/readme.txt"
# bad audio under audio names: recorded as unreadable, the package goes on
echo "text, not Vorbis" >"$A/music/broken.ogg" && : >"$A/music/empty.mp3"
sox -n -r 22050 -c 1 "$A/music/drone.ogg" synth 45 pinknoise gain -10
sox "$S/piece2.wav" -C 0 "$A/music/piece2.flac"
sox "$S/verses.wav" "$A/music/verses.ogg"
sox "$S/song.wav" "$A/songs/one/song.ogg" && sox "$S/guitar.wav" "$A/songs/one/guitar.ogg"
cat >"$TMP/pkg/fake-a/usr/share/doc/fake-a/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fakea

Files: *
Copyright: 2020 Someone
License: GPL-2+

Files: data/music/*
Copyright: 2020 A Composer
License: CC-BY-SA-3.0

License: GPL-2+
 text

License: CC-BY-SA-3.0
 text
EOF
pkg fake-b
B=$TMP/pkg/fake-b/usr/share/games/fakeb
mkdir -p "$B" "$TMP/zip/music" "$TMP/zip/sound"
sox "$S/zipped.wav" "$TMP/zip/music/zipped.ogg"
sox "$S/piece.wav" "$TMP/zip/sound/not-music.ogg"
# a .pk3 is a zip: written by python's zipfile (no zip package needed)
(cd "$TMP/zip" && /usr/bin/python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    [z.write(f) for f in sys.argv[2:]]' "$B/data.pk3" music/zipped.ogg sound/not-music.ogg)
mkdir -p "$B/tunes" && cp "$A/music/piece.ogg" "$B/tunes/same-bytes.ogg"
sox "$S/piece2.wav" -C 8 "$B/tunes/same-samples.flac"
printf 'The music is licensed under the Creative Commons Attribution 3.0 licence.\nThe code is under\nthe GNU General Public License, version 2 or (at your option)\nany later version.\n' \
  >"$TMP/pkg/fake-b/usr/share/doc/fake-b/copyright"
pkg fake-c
mkdir -p "$TMP/pkg/fake-c/usr/share/fakec"
sox "$S/check.wav" "$TMP/pkg/fake-c/usr/share/fakec/check.flac"
echo "License: CC0-1.0" >"$TMP/pkg/fake-c/usr/share/doc/fake-c/copyright"
for p in fake-a fake-b fake-c; do
  dpkg-deb --root-owner-group -Zgzip -z1 --build "$TMP/pkg/$p" "$TMP/debs/${p}_1.0-1_all.deb" >/dev/null ||
    { echo "dpkg-deb --build failed"; exit 1; }
done
TSV=$TMP/music.tsv
{
  printf 'package\tmusic_files\tminutes\tformats\tmusic_locations\n'
  printf 'fake-a\t8\t5\togg\t/usr/share/games/fakea/music /usr/share/games/fakea/music/sub /usr/share/games/fakea/songs/one\n'
  printf 'fake-missing\t1\t1\togg\t/usr/share/nothing\n'
  printf 'fake-b\t2\t1\togg\t/usr/share/games/fakeb/data.pk3!music /usr/share/games/fakeb/tunes\n'
  printf 'fake-c\t1\t1\tflac\t/usr/share/fakec\n'
} >"$TSV"
export FETCH_TSV="$TSV" FETCH_DEBS_DIR="$TMP/debs" FETCH_CHECK=fake-c FETCH_MIN_FREE_GB=0

# 1. a full run: the missing package fails clearly, the others are done
sh scripts/fetch-real-music.sh "$TMP/out" >"$TMP/log" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "error: fake-missing: no fake-missing_\*.deb" "$TMP/log" && grep -q "failed: fake-missing" "$TMP/log" &&
  ok "a missing package: exit 1 and its name, the others done" || { bad "missing package (exit $rc)"; cat "$TMP/log"; }
M=$TMP/out/manifest.tsv
D=$TMP/out/dropped.tsv
kept=$(cut -f 9 "$M" | tail -n +2 | sort | tr '\n' ' ')
want="usr/share/fakec/check.flac usr/share/games/fakea/music/drone.ogg usr/share/games/fakea/music/loop.ogg usr/share/games/fakea/music/piece.ogg usr/share/games/fakea/music/piece2.flac usr/share/games/fakea/music/stereo.ogg usr/share/games/fakea/music/sub/sub.ogg usr/share/games/fakea/music/verses.ogg usr/share/games/fakea/music/wide_left.ogg usr/share/games/fakea/songs/one/{song.ogg,guitar.ogg} usr/share/games/fakeb/data.pk3!music/zipped.ogg "
[ "$kept" = "$want" ] && ok "manifest: the 11 expected files (a steady drone and a repeated level curve over new notes are no loops)" || { bad "manifest files"; echo "  got:  $kept"; echo "  want: $want"; }
reason() { awk -F '\t' -v s="$1" '$2 ~ s { print $3 }' "$D"; }
[ "$(reason 'music/loop.ogg$')" = loop ] && grep -Eq "repeats itself every 3(4.9|5.0)[0-9] s from 0.[0-2] s .*samples correlate 0.9[5-9]" "$D" && ok "the loop played twice: cut to its first 35 s" ||
  { bad "loop"; cat "$D"; }
grep -q "music/verses.ogg	" "$TMP/out/music/fake-a/near-loops.tsv" &&
  ok "the repeated level curve over new notes: kept whole, listed in near-loops.tsv" || bad "near loop"
loop_min=$(awk -F '\t' '$9 ~ /loop.ogg/ { print $5 }' "$M")
loop_kept=$(sed -n 's/.*music\/loop.ogg.*kept the first \([0-9.]*\) s.*/\1/p' "$D")
awk -v m="$loop_min" -v s="$loop_kept" 'BEGIN { d = m - s / 60; exit !(m >= 0.575 && m <= 0.595 && d < 0.006 && d > -0.006) }' &&
  ok "the loop's minutes are the kept intro and one pass's ($loop_min for $loop_kept s)" || bad "loop minutes $loop_min (kept $loop_kept s)"
[ "$(reason 'same-bytes.ogg$')" = duplicate-file ] && ok "a byte-copy in another package: duplicate-file" || { bad "duplicate"; cat "$D"; }
[ "$(reason 'same-samples.flac$')" = duplicate-audio ] && ok "other bytes, the same samples (FLAC -C 8 and -C 0): duplicate-audio" || { bad "duplicate audio"; cat "$D"; }
[ "$(reason 'wide_right.ogg$')" = channel-copy ] && ok "a channel shipped as its own mono file: channel-copy" || { bad "channel split"; cat "$D"; }
[ "$(reason 'stereo_mono.ogg$')" = channel-copy ] && ok "a mono copy of a stereo file: channel-copy (the stereo one kept)" || { bad "mono copy"; cat "$D"; }
[ "$(reason 'jingle.ogg$')" = short ] && ok "a 10 s jingle: short" || { bad "short"; cat "$D"; }
[ "$(reason 'broken.ogg$')" = unreadable ] && [ "$(reason 'empty.mp3$')" = unreadable ] &&
  grep -q "music/broken.ogg	unreadable	libsndfile: " "$D" && grep -q "broken.ogg: unreadable (libsndfile: " "$TMP/log" &&
  ok "a text file and an empty file named as audio: unreadable, with libsndfile's reason, said on stderr" ||
  { bad "unreadable files"; cat "$D"; }
[ "$(reason 'guitar.ogg$')" = stem ] && [ "$(reason 'song.ogg$')" = stem ] && ok "Frets on Fire stems: mixed into one file" || { bad "stems"; cat "$D"; }
grep -q -e not-listed -e not-music -e readme "$M" "$D" && bad "a file outside the listed folders was read" || ok "only the listed folders are read"
grep -q -i -e "not found" -e warning "$TMP/log" && { bad "a warning on a listed subfolder of a listed folder"; cat "$TMP/log"; } || ok "a listed folder and its listed subfolder: both read, no warning"
lic() { awk -F '\t' -v s="$1" '$9 ~ s { print $3 }' "$M"; }
[ "$(lic 'piece.ogg')" = CC-BY-SA-3.0 ] && [ "$(lic 'songs/one')" = GPL-2+ ] && [ "$(lic 'check.flac')" = "free-form: CC0" ] &&
  [ "$(lic zipped.ogg)" = "free-form: CC-BY-3.0; GPL-2+" ] && [ -f "$TMP/out/music/fake-a/copyright" ] &&
  ok "licences: DEP-5 paragraphs per file, else the licences a free-form file names; the copyright file kept" ||
  { bad "licences"; cut -f 1,3,9 "$M"; }
piece_min=$(awk -F '\t' '$9 ~ /piece.ogg/ { print $5 }' "$M")
[ "$piece_min" = 0.67 ] && ok "minutes measured (40 s: 0.67)" || bad "piece minutes $piece_min"
pool_ok=1
for f in $(cat "$TMP/out/pool.txt" "$TMP/out/check.txt"); do
  case $f in /*) [ -f "$f" ] || pool_ok=0 ;; *) pool_ok=0 ;; esac
done
[ "$pool_ok" = 1 ] && [ "$(wc -l <"$TMP/out/pool.txt")" -eq 10 ] && [ "$(wc -l <"$TMP/out/check.txt")" -eq 1 ] &&
  grep -q "/music/fake-c/" "$TMP/out/check.txt" && ! grep -q "/music/fake-c/" "$TMP/out/pool.txt" &&
  ok "split by package: 10 pool files, fake-c's 1 in check.txt only; absolute paths that exist" ||
  { bad "split"; cat "$TMP/out/pool.txt" "$TMP/out/check.txt"; }
[ "$(find "$TMP/out" -name '*.tmp*' -o -name 'partial' | wc -l)" -eq 0 ] && [ -z "$(ls "$TMP/out/tmp")" ] &&
  ok "no temporary files left" || bad "temporary files left"

# 2. a rerun (without the missing package) does nothing and changes nothing
cp "$M" "$TMP/m1" && cp "$D" "$TMP/d1"
FETCH_PACKAGES="fake-a fake-b fake-c" sh scripts/fetch-real-music.sh "$TMP/out" >"$TMP/log2" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ! grep -q '^\[' "$TMP/log2" && cmp -s "$M" "$TMP/m1" && cmp -s "$D" "$TMP/d1" &&
  ok "a rerun skips the finished packages and ends the same" || { bad "rerun (exit $rc)"; cat "$TMP/log2"; }

# 3. kill -9 part-way (the script and its children), rerun: same result
export FETCH_PACKAGES="fake-a fake-b fake-c"
sh scripts/fetch-real-music.sh "$TMP/clean" >/dev/null 2>&1
for delay in 0.3 0.9 1.6; do
  setsid sh scripts/fetch-real-music.sh "$TMP/k$delay" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 -- -"$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  sh scripts/fetch-real-music.sh "$TMP/k$delay" >"$TMP/klog" 2>&1
  rc=$?
  same=1
  for f in manifest.tsv dropped.tsv pool.txt check.txt; do
    sed "s#$TMP/k$delay#OUT#" "$TMP/k$delay/$f" >"$TMP/a" && sed "s#$TMP/clean#OUT#" "$TMP/clean/$f" >"$TMP/b"
    cmp -s "$TMP/a" "$TMP/b" || same=0
  done
  [ "$rc" -eq 0 ] && [ "$same" = 1 ] && [ -z "$(ls "$TMP/k$delay/tmp")" ] &&
    [ "$(find "$TMP/k$delay" -name '*.tmp.*' | wc -l)" -eq 0 ] &&
    ok "killed after ${delay}s and rerun: manifest, drops and lists as an uninterrupted run's" ||
    { bad "kill after ${delay}s (exit $rc)"; cat "$TMP/klog"; diff "$TMP/a" "$TMP/b" | head; }
done
echo "# $failures failed"
[ "$failures" -eq 0 ]
