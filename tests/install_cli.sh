#!/bin/sh
# install_cli.sh BUILD_DIR: `make install` into a temporary root, used from
# outside the source tree as a user and a library user would, then
# `make uninstall` (issue 18). Usage: install_cli.sh BUILD_DIR (e.g. build)
#  - make install DESTDIR=ROOT PREFIX=/usr: the commands, the man pages, the
#    models, the header, the static library, the shared library as
#    libchordlet.so.VERSION with its soname link (libchordlet.so.MAJOR) and
#    dev link (libchordlet.so), chordlet.pc, the LV2 bundle;
#  - the shared library's soname, and its exports: exactly the functions
#    chordlet.h declares (the engine's internals stay hidden);
#  - the installed chordlet finds its shipped models by name (no
#    CHORDLET_MODELS, run from another folder) and transcribes the demo;
#  - man finds and renders chordlet(1) and chordlet-train(1) from the root's
#    MANPATH; lv2ls lists both plugins from the root's LV2_PATH;
#  - a C program (tests/pkgconfig_stream.c) built with nothing but
#    `pkg-config --cflags --libs chordlet` (PKG_CONFIG_SYSROOT_DIR = ROOT)
#    streams the demo through chordlet_stream_* and prints its chords, which
#    agree with the demo's true chords; built again with libchordlet.a and
#    the .pc's Requires.private and Libs.private (they are complete), it
#    prints the same;
#  - a multiarch LIBDIR puts the library and chordlet.pc there, and the .pc
#    says so;
#  - make uninstall leaves no file behind.
set -u
BUILD_ARG=$1
cd "$(dirname "$0")/.." || exit 1
SRC=$(pwd)
case $BUILD_ARG in /*) BUILD=$BUILD_ARG ;; *) BUILD=$SRC/$BUILD_ARG ;; esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROOT=$TMP/root
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
# `make install` with this build's folder; its `all` is already up to date.
mk() { make -C "$SRC" -s --no-print-directory BUILD="$BUILD_ARG" "$@"; }
for tool in make pkg-config cc readelf nm; do
  command -v $tool >/dev/null 2>&1 || { echo "needs $tool (scripts/debian-packages)"; exit 77; }
done
[ -x "$BUILD/chordlet" ] || { bad "no chordlet in $BUILD"; exit 1; }
VERSION=$("$BUILD/chordlet" version | cut -d' ' -f2)
MAJOR=${VERSION%%.*}
DEMO=$SRC/examples/synth0046.flac
unset CHORDLET_MODELS

if mk install DESTDIR="$ROOT" PREFIX=/usr >"$TMP/install.log" 2>&1; then
  ok "make install DESTDIR=ROOT PREFIX=/usr"
else
  bad "make install failed:"; tail -20 "$TMP/install.log"; exit 1
fi

# The files, each where a distribution expects it.
for f in bin/chordlet bin/chordlet-train include/chordlet.h lib/libchordlet.a lib/libchordlet.so.$VERSION \
  lib/pkgconfig/chordlet.pc share/man/man1/chordlet.1 share/man/man1/chordlet-train.1 \
  share/chordlet/models/offline.chordlet share/chordlet/models/default.chordlet \
  share/chordlet/models/teacher.chordlet share/chordlet/models/teacher.LICENSE share/chordlet/models/README.md \
  lib/lv2/chordlet.lv2/manifest.ttl lib/lv2/chordlet.lv2/chordlet.ttl lib/lv2/chordlet.lv2/chordlet.so \
  lib/lv2/chordlet.lv2/chordlet_ui.so lib/lv2/chordlet.lv2/default.chordlet; do
  if [ -f "$ROOT/usr/$f" ] && [ ! -L "$ROOT/usr/$f" ]; then ok "/usr/$f"; else bad "/usr/$f is not installed"; fi
done
for f in bin/chordlet bin/chordlet-train lib/lv2/chordlet.lv2/chordlet.so; do
  [ -x "$ROOT/usr/$f" ] || bad "/usr/$f is not executable"
done
link() { # LINK TARGET
  if [ -L "$ROOT/usr/lib/$1" ] && [ "$(readlink "$ROOT/usr/lib/$1")" = "$2" ]; then ok "/usr/lib/$1 -> $2"
  else bad "/usr/lib/$1 is not a link to $2"; fi
}
link "libchordlet.so.$MAJOR" "libchordlet.so.$VERSION"
link libchordlet.so "libchordlet.so.$MAJOR"
soname=$(readelf -d "$ROOT/usr/lib/libchordlet.so.$VERSION" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libchordlet.so.$MAJOR" ] && ok "soname $soname" || bad "soname '$soname', not libchordlet.so.$MAJOR"
# The exports against the header's declarations (comments stripped by cpp).
cc -E -P "$ROOT/usr/include/chordlet.h" | grep -o '\bchordlet_[a-z0-9_]*[[:space:]]*(' | tr -d ' (' | sort -u >"$TMP/declared"
nm -D --defined-only "$ROOT/usr/lib/libchordlet.so.$VERSION" | awk '{print $NF}' | sort -u >"$TMP/exported"
if [ -s "$TMP/declared" ] && cmp -s "$TMP/declared" "$TMP/exported"; then
  ok "exports the $(wc -l <"$TMP/declared") functions chordlet.h declares, nothing else"
else
  bad "exports differ from chordlet.h's functions (< declared, > exported):"
  diff "$TMP/declared" "$TMP/exported" | head -20
fi

# The installed commands, from another folder: models found by name.
cd "$TMP" || exit 1
for m in offline default teacher; do
  where=$("$ROOT/usr/bin/chordlet" info "$m" 2>&1 | head -n 1)
  [ "$where" = "$ROOT/usr/share/chordlet/models/$m.chordlet" ] && ok "chordlet info $m finds $where" \
    || bad "chordlet info $m: $where"
done
mkdir -p "$TMP/out"
if "$ROOT/usr/bin/chordlet" transcribe -o "$TMP/out" "$DEMO" >"$TMP/transcribe.log" 2>&1 \
  && [ -s "$TMP/out/synth0046.lab" ]; then
  ok "installed chordlet transcribes the demo: $(cat "$TMP/transcribe.log")"
else
  bad "installed chordlet transcribe failed: $(cat "$TMP/transcribe.log")"
fi
v=$("$ROOT/usr/bin/chordlet-train" version 2>&1)
[ "$v" = "chordlet-train $VERSION" ] && ok "chordlet-train version: $v" || bad "chordlet-train version: $v"

# man, as a user types it.
if command -v man >/dev/null 2>&1; then
  for page in chordlet chordlet-train; do
    where=$(MANPATH="$ROOT/usr/share/man" man -w "$page" 2>&1)
    text=$(MANPATH="$ROOT/usr/share/man" MANWIDTH=80 man -P cat "$page" 2>/dev/null)
    if [ "$where" = "$ROOT/usr/share/man/man1/$page.1" ] && echo "$text" | grep -q "^EXIT STATUS"; then
      ok "man $page renders ($(echo "$text" | wc -l) lines)"
    else
      bad "man $page: $where"
    fi
  done
elif [ "${CI:-}" = true ]; then
  bad "man is not installed (scripts/debian-packages: man-db)"
else
  echo "# man is not installed: man chordlet not checked"
fi

# The LV2 bundle where hosts look.
if command -v lv2ls >/dev/null 2>&1; then
  list=$(LV2_PATH="$ROOT/usr/lib/lv2" lv2ls 2>&1)
  for uri in urn:chordlet:mono urn:chordlet:stereo; do
    echo "$list" | grep -qx "$uri" && ok "lv2ls lists the installed $uri" || bad "lv2ls does not list $uri: $list"
  done
fi

# A library user's program: pkg-config only (the source tree's include/ is not
# on the command line), the demo streamed, its chords scored.
pc() { PKG_CONFIG_PATH="$ROOT/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$ROOT" pkg-config "$@"; }
modversion=$(pc --modversion chordlet 2>&1)
[ "$modversion" = "$VERSION" ] && ok "pkg-config --modversion chordlet: $modversion" \
  || bad "pkg-config --modversion chordlet: $modversion"
flags=$(pc --cflags --libs chordlet 2>&1)
case " $flags " in
  *" -I$ROOT/usr/include "*" -L$ROOT/usr/lib -lchordlet "*) ok "pkg-config --cflags --libs chordlet: $flags" ;;
  *) bad "pkg-config --cflags --libs chordlet: $flags" ;;
esac
CWARN="-std=c11 -Wall -Wextra -Werror"
# shellcheck disable=SC2046,SC2086 # pkg-config's flags are words
if cc $CWARN -o "$TMP/stream" "$SRC/tests/pkgconfig_stream.c" $flags $(pkg-config --cflags --libs sndfile) \
  2>"$TMP/cc.log"; then
  ok "built with pkg-config's flags"
else
  bad "the pkg-config build failed: $(cat "$TMP/cc.log")"
fi
readelf -d "$TMP/stream" 2>/dev/null | grep -q "NEEDED.*\[libchordlet.so.$MAJOR\]" \
  && ok "it needs libchordlet.so.$MAJOR (the soname)" || bad "it does not need libchordlet.so.$MAJOR"
LD_LIBRARY_PATH="$ROOT/usr/lib" ldd "$TMP/stream" 2>&1 | grep -q "libchordlet.so.$MAJOR => $ROOT/usr/lib/" \
  && ok "ldd resolves it in ROOT" || bad "ldd does not resolve libchordlet in ROOT"
MODEL=$ROOT/usr/share/chordlet/models/default.chordlet
if LD_LIBRARY_PATH="$ROOT/usr/lib" "$TMP/stream" "$MODEL" "$DEMO" >"$TMP/stream.txt" 2>"$TMP/stream.err"; then
  ok "it streams the demo: $(cat "$TMP/stream.err"), $(wc -l <"$TMP/stream.txt") chord changes"
else
  bad "the program failed: $(cat "$TMP/stream.err")"
fi
# Its events as a .lab (each chord until the next; the demo is 30 s), scored
# by chordlet eval: the events' times are in audio time, latency removed.
awk -F'\t' 'NR > 1 { printf "%s\t%s\t%s\n", t, $1, c } { t = $1; c = $2 } END { if (NR) printf "%s\t30.0\t%s\n", t, c }' \
  "$TMP/stream.txt" >"$TMP/stream.lab"
root=$("$ROOT/usr/bin/chordlet" eval --json "$SRC/examples/synth0046.lab" "$TMP/stream.lab" 2>&1 \
  | sed -n 's/.*"scores":{"root":\([0-9.]*\).*/\1/p' | head -n 1)
if [ -n "$root" ] && awk -v r="$root" 'BEGIN { exit !(r >= 0.7) }'; then
  ok "its chords: root recall $root against the demo's (>= 0.7)"
else
  bad "its chords do not match the demo's (root recall '$root'): $(head -5 "$TMP/stream.txt")"
fi
# libchordlet.a with what chordlet.pc says a static link needs: the
# Requires.private modules (linked as shared libraries: a fully static link
# would need their own static closures, e.g. libsndfile's -lmp3lame, which
# Debian's -dev packages do not all provide) and Libs.private. The whole
# archive is linked: a program that uses only the stream would pull in only
# some objects, and a missing requirement of the others would go unseen.
requires=$(pc --print-requires-private chordlet 2>&1 | tr '\n' ' ')
private=$(sed -n 's/^Libs.private: *//p' "$ROOT/usr/lib/pkgconfig/chordlet.pc")
# shellcheck disable=SC2086
static_libs="-L$ROOT/usr/lib -Wl,--whole-archive -l:libchordlet.a -Wl,--no-whole-archive $(pkg-config --libs $requires 2>&1) $private"
# shellcheck disable=SC2046,SC2086
if cc $CWARN -o "$TMP/stream_static" "$SRC/tests/pkgconfig_stream.c" $(pc --cflags chordlet) $static_libs \
  $(pkg-config --cflags --libs sndfile) 2>"$TMP/cc.log"; then
  ok "built with libchordlet.a and chordlet.pc's private requirements (${requires}$private)"
  if readelf -d "$TMP/stream_static" | grep -q libchordlet; then bad "the static build needs libchordlet.so"
  elif "$TMP/stream_static" "$MODEL" "$DEMO" 2>/dev/null | cmp -s - "$TMP/stream.txt"; then
    ok "the static build prints the same chords"
  else
    bad "the static build prints other chords"
  fi
else
  bad "the static build failed ($static_libs): $(cat "$TMP/cc.log")"
fi

# A multiarch library folder, as a distribution's packaging passes it.
triplet=$(cc -print-multiarch 2>/dev/null)
[ -n "$triplet" ] || triplet=x86_64-linux-gnu
ROOT2=$TMP/root2
if mk install DESTDIR="$ROOT2" PREFIX=/usr LIBDIR="/usr/lib/$triplet" >"$TMP/install2.log" 2>&1 \
  && [ -f "$ROOT2/usr/lib/$triplet/libchordlet.so.$VERSION" ] && [ -f "$ROOT2/usr/lib/$triplet/pkgconfig/chordlet.pc" ]; then
  libdir=$(PKG_CONFIG_PATH="$ROOT2/usr/lib/$triplet/pkgconfig" pkg-config --variable=libdir chordlet)
  [ "$libdir" = "/usr/lib/$triplet" ] && ok "LIBDIR=/usr/lib/$triplet: the library and chordlet.pc there, libdir=$libdir" \
    || bad "LIBDIR=/usr/lib/$triplet: chordlet.pc says libdir=$libdir"
else
  bad "make install LIBDIR=/usr/lib/$triplet: $(tail -5 "$TMP/install2.log")"
fi

# make uninstall (with the same variables) removes every file.
cd "$SRC" || exit 1
mk uninstall DESTDIR="$ROOT" PREFIX=/usr >"$TMP/uninstall.log" 2>&1 || bad "make uninstall failed: $(cat "$TMP/uninstall.log")"
mk uninstall DESTDIR="$ROOT2" PREFIX=/usr LIBDIR="/usr/lib/$triplet" >>"$TMP/uninstall.log" 2>&1 \
  || bad "make uninstall (multiarch) failed: $(cat "$TMP/uninstall.log")"
left=$(find "$ROOT" "$ROOT2" ! -type d)
[ -z "$left" ] && ok "make uninstall leaves no file behind" || bad "make uninstall left: $left"
# The build folder's chordlet.pc follows the last make's PREFIX: put it back.
mk "$BUILD_ARG/chordlet.pc" >/dev/null 2>&1

echo "# $failures failed"
[ "$failures" -eq 0 ]
