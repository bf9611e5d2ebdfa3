#!/bin/sh
# deb_install.sh BUILD_DIR: the Debian packages (issue 18), built from a copy
# of this working tree, installed, used from outside the source tree, purged.
#  - the tree's files (git ls-files -co --exclude-standard: committed and new,
#    not ignored) are copied to a temporary folder and built there with
#    dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck parallel=N
#    noautodbgsym; gzip instead of xz: the models do not compress and xz
#    spends half a minute on them); the five .debs must come out;
#  - lintian on them: no error (warnings are listed in debian/README.Debian);
#  - apt-get install ./*.deb; each package's version is chordlet's;
#  - from another folder: chordlet transcribe finds its models by name and
#    transcribes the demo; chordlet-train version; lv2ls lists both plugins;
#    a program built with nothing but `pkg-config --cflags --libs chordlet`
#    (tests/pkgconfig_stream.c) streams the demo through chordlet_stream_*
#    and prints chords that agree with the demo's; man chordlet and man
#    chordlet-train render (man -P cat);
#  - apt-get purge: no package left, and no file that dpkg -L listed.
# BUILD_DIR is not used (the packages build their own); it is the argument of
# every test of tests/run_all.sh. Exit 77 (skip) when not root or without
# dpkg-buildpackage; CI runs it as root with the packages installed.
set -u
cd "$(dirname "$0")/.." || exit 1
SRC=$(pwd)
[ "$(id -u)" -eq 0 ] || { echo "needs root (dpkg -i); CI runs it as root"; exit 77; }
for tool in dpkg-buildpackage dh lintian apt-get git lv2ls man pkg-config cc; do
  command -v $tool >/dev/null 2>&1 || { echo "needs $tool (scripts/debian-packages: devscripts, debhelper, lintian)"; exit 77; }
done
PACKAGES="chordlet chordlet-train chordlet-lv2 libchordlet0 libchordlet-dev"
for p in $PACKAGES; do
  if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q installed; then
    echo "not ok - $p is installed already: this test installs and purges it (apt-get purge $p)"; exit 1
  fi
done
TMP=$(mktemp -d)
cleanup() {
  # shellcheck disable=SC2086
  apt-get purge -y $PACKAGES >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
t0=$(date +%s)

# A clean copy of the working tree (uncommitted changes included).
mkdir -p "$TMP/src"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$TMP/src" 2>"$TMP/copy.log" \
  || { bad "copying the tree: $(head -3 "$TMP/copy.log")"; exit 1; }
VERSION=$(sed -n '1s/^chordlet (\([^)]*\)).*/\1/p' "$SRC/debian/changelog")
header=$(awk '$2 ~ /^CHORDLET_VERSION_(MAJOR|MINOR|PATCH)$/ {printf "%s%s", s, $3; s="."}' include/chordlet.h)
[ "$VERSION" = "$header" ] && ok "debian/changelog's version $VERSION is chordlet.h's" \
  || bad "debian/changelog says $VERSION, include/chordlet.h $header"

jobs=$(nproc 2>/dev/null || echo 2)
if (cd "$TMP/src" && DEB_BUILD_OPTIONS="nocheck parallel=$jobs noautodbgsym" DPKG_DEB_COMPRESSOR_TYPE=gzip \
    dpkg-buildpackage -us -uc -b >"$TMP/build.log" 2>&1); then
  ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - t0)) s)"
else
  bad "dpkg-buildpackage failed:"; tail -30 "$TMP/build.log"; exit 1
fi
for p in $PACKAGES; do
  [ -f "$TMP/${p}_${VERSION}_$(dpkg --print-architecture).deb" ] || bad "no $p .deb"
done

lintian --allow-root --tag-display-limit 0 "$TMP"/*.changes >"$TMP/lintian.log" 2>&1
if grep -q '^E:' "$TMP/lintian.log"; then
  bad "lintian errors:"; grep '^E:' "$TMP/lintian.log"
else
  ok "lintian: no error ($(grep -c '^W:' "$TMP/lintian.log") warnings)"
fi
grep '^W:' "$TMP/lintian.log" | sed 's/^/# /'

if apt-get install -y --no-install-recommends "$TMP"/*.deb >"$TMP/install.log" 2>&1; then
  ok "apt-get install ./*.deb"
else
  bad "apt-get install failed:"; tail -20 "$TMP/install.log"; exit 1
fi
for p in $PACKAGES; do
  v=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null)
  [ "$v" = "$VERSION" ] || bad "$p is not installed at $VERSION ($v)"
  dpkg -L "$p" >>"$TMP/files.txt"
done

# As a user: another folder, no CHORDLET_MODELS, the installed commands.
unset CHORDLET_MODELS
mkdir -p "$TMP/user" && cd "$TMP/user" || exit 1
[ "$(command -v chordlet)" = /usr/bin/chordlet ] || bad "chordlet is $(command -v chordlet)"
where=$(chordlet info default 2>&1 | head -n 1)
[ "$where" = /usr/share/chordlet/models/default.chordlet ] && ok "chordlet info default finds $where" \
  || bad "chordlet info default: $where"
if chordlet transcribe -q -o "$TMP/user" "$SRC/examples/synth0046.flac" >"$TMP/tr.log" 2>&1 && [ -s synth0046.lab ]; then
  ok "chordlet transcribe finds its model and transcribes the demo ($(wc -l <synth0046.lab) segments)"
else
  bad "chordlet transcribe: $(cat "$TMP/tr.log")"
fi
v=$(chordlet-train version 2>&1)
[ "$v" = "chordlet-train $VERSION" ] && ok "chordlet-train version: $v" || bad "chordlet-train version: $v"
list=$(lv2ls 2>&1)
for uri in urn:chordlet:mono urn:chordlet:stereo; do
  echo "$list" | grep -qx "$uri" && ok "lv2ls lists $uri" || bad "lv2ls does not list $uri"
done
flags=$(pkg-config --cflags --libs chordlet 2>&1)
# shellcheck disable=SC2046,SC2086 # pkg-config's flags are words
if cc -std=c11 -Wall -Wextra -Werror -o stream "$SRC/tests/pkgconfig_stream.c" $flags $(pkg-config --cflags --libs sndfile) \
  2>"$TMP/cc.log"; then
  ok "built with pkg-config --cflags --libs chordlet: $flags"
else
  bad "the pkg-config build failed: $(cat "$TMP/cc.log")"
fi
ldd ./stream 2>&1 | grep -q -E 'libchordlet.so.0 => (/usr)?/lib/' && ok "it links the installed libchordlet.so.0" \
  || bad "ldd: $(ldd ./stream 2>&1 | grep chordlet)"
if ./stream /usr/share/chordlet/models/default.chordlet "$SRC/examples/synth0046.flac" >stream.txt 2>stream.err; then
  awk -F'\t' 'NR > 1 { printf "%s\t%s\t%s\n", t, $1, c } { t = $1; c = $2 } END { if (NR) printf "%s\t30.0\t%s\n", t, c }' \
    stream.txt >stream.lab
  root=$(chordlet eval --json "$SRC/examples/synth0046.lab" stream.lab 2>&1 | sed -n 's/.*"scores":{"root":\([0-9.]*\).*/\1/p' | head -n 1)
  [ -n "$root" ] && awk -v r="$root" 'BEGIN { exit !(r >= 0.7) }' \
    && ok "it streams the demo: $(cat stream.err), $(wc -l <stream.txt) chord changes, root recall $root (>= 0.7)" \
    || bad "its chords do not match the demo's (root recall '$root')"
else
  bad "the program failed: $(cat stream.err)"
fi
for page in chordlet chordlet-train; do
  text=$(MANWIDTH=80 man -P cat "$page" 2>/dev/null)
  echo "$text" | grep -q "^EXIT STATUS" && [ "$(man -w "$page")" = "/usr/share/man/man1/$page.1.gz" ] \
    && ok "man $page renders ($(echo "$text" | wc -l) lines)" || bad "man $page: $(man -w "$page" 2>&1)"
done
cd "$SRC" || exit 1

# Purge: no package, no file left.
# shellcheck disable=SC2086
apt-get purge -y $PACKAGES >"$TMP/purge.log" 2>&1 || bad "apt-get purge: $(tail -5 "$TMP/purge.log")"
for p in $PACKAGES; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'installed' && bad "$p is still installed"
done
left=$(sort -u "$TMP/files.txt" | while read -r f; do
  [ -e "$f" ] || continue
  [ -d "$f" ] && [ -n "$(dpkg -S "$f" 2>/dev/null)" ] && continue # a folder other packages own (/usr/lib/lv2)
  [ -d "$f" ] && [ "$f" != "${f#/usr/share/doc}" ] && continue
  [ "$f" = /. ] && continue
  case $f in /usr|/usr/bin|/usr/lib|/usr/share|/usr/include|/usr/share/man|/usr/share/man/man1|/usr/lib/*-linux-gnu|/usr/lib/*-linux-gnu/pkgconfig|/usr/share/doc) continue ;; esac
  echo "$f"
done)
[ -z "$left" ] && ok "purged: none of the $(sort -u "$TMP/files.txt" | wc -l) paths the packages installed is left" \
  || bad "left after purge: $left"
[ -z "$(find /usr -name '*chordlet*' 2>/dev/null)" ] && ok "no *chordlet* file under /usr" \
  || bad "under /usr: $(find /usr -name '*chordlet*' | head)"
echo "# $(($(date +%s) - t0)) s"
echo "# $failures failed"
[ "$failures" -eq 0 ]
