#!/bin/sh
# fetch-real-music.sh: Debian's freely licensed recorded music as a real-music
# pool for stage 1 (`make data`'s first step; issue 15), without installing the
# games that ship it.
#   usage: scripts/fetch-real-music.sh OUT_DIR
# For every package of ../shared/data/real/debian-music.tsv: `apt-get download`
# (no root needed) into OUT_DIR/debs, the listed music folders (and only them)
# out of the .deb with dpkg-deb | tar, folders inside .pk3/.zip archives with
# unzip, then the audio analysed by `chordlet-train real-music` (libsndfile,
# the library chordlet reads audio with): stems of one piece mixed (Frets on
# Fire, plee-the-bear), loops cut to one pass, clips under 30 s dropped. OUT_DIR
# then holds
#   music/PKG/        the kept audio (names unique across packages: the trainer
#                     refuses two caches of one file name) and the package's
#                     copyright file (the licences: keep it with the music)
#   packages/PKG.tsv  the package's manifest rows, written last: its existence
#                     means the package is done, and a rerun skips it
#   manifest.tsv      package, version, licence, path, minutes, sha256 of the
#                     file and of its decoded samples, channels, source path
#   dropped.tsv       every music file left out, with the reason
#   pool.txt          absolute paths of the stage-1 pool (a .txt list as
#                     chordlet-train pseudo-label/features read them)
#   check.txt         the real-music check set: never trained on
# Duplicates (same bytes, same decoded samples, or the same level curve: a
# re-encoding, a mono copy of a stereo file, a channel shipped as its own file)
# are found across all finished packages at the end of every run, so the result
# does not depend on the order packages arrived in; see trainer/real_music.h.
#
# Split, by package (never one package on both sides): CHECK_PACKAGES below, 7
# packages of different games, composers and styles (a varied-genre game score,
# orchestral fantasy, metal with lead guitar, electronic, ambient, arcade pop, an
# adventure game's score): 267 of the tsv's 2171 minutes (12 %).
#
# Resumable and atomic: a download goes to debs/partial/ and is moved into
# debs/ when apt-get has checked it; a package is unpacked and analysed in
# tmp/PKG/ and moved into music/PKG/ whole; packages/PKG.tsv comes last. Kill it
# at any point and run it again. One run at a time per OUT_DIR.
#
# Settings (environment): CHORDLET_SHARED (../shared), CHORDLET_TRAIN (the
# chordlet-train to run: ./build/chordlet-train, built by make), FETCH_TSV (the package
# list), FETCH_PACKAGES (only these packages of it), FETCH_DEBS_DIR (take
# PKG_*.deb from this folder, download nothing: tests, offline machines),
# FETCH_KEEP_DEBS=1 (keep the 7 GB of downloaded .debs; by default a .deb is
# deleted once its package is done), FETCH_CHECK (the check-set packages),
# FETCH_MIN_FREE_GB (20: stop before a package when less is free).
# A package that fails (not in the archive, a broken download) is reported and
# the others go on; the script exits 1 at the end if any failed.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
TRAIN=${CHORDLET_TRAIN:-}
case $TRAIN in /* | "") ;; *) TRAIN=$(pwd)/$TRAIN ;; esac
cd "$(dirname "$0")/.."
[ -n "$TRAIN" ] || TRAIN=$(pwd)/build/chordlet-train
if [ -n "${FETCH_TSV:-}" ]; then
  TSV=$FETCH_TSV
else
  TSV=$(cd "${CHORDLET_SHARED:-../shared}" && pwd)/data/real/debian-music.tsv
fi
[ -f "$TSV" ] || { echo "error: no package list $TSV (set CHORDLET_SHARED or FETCH_TSV)" >&2; exit 2; }
CHECK_PACKAGES=${FETCH_CHECK:-"hedgewars-data flare-game fretsonfire-songs-muldjord starfighter-data hyperrogue-music frozen-bubble-data drascula-music"}
MIN_FREE_KB=$((${FETCH_MIN_FREE_GB:-20} * 1024 * 1024))
[ -x "$TRAIN" ] || { echo "error: no $TRAIN: build chordlet first (make), or set CHORDLET_TRAIN" >&2; exit 2; }
for tool in dpkg-deb tar unzip; do
  command -v $tool >/dev/null || { echo "error: needs $tool (apt-get install dpkg tar unzip)" >&2; exit 2; }
done
if [ -z "${FETCH_DEBS_DIR:-}" ] && ! command -v apt-get >/dev/null; then
  # Not a Debian system: download the .debs named in the tsv by hand from
  # https://packages.debian.org/bookworm/PKG and point FETCH_DEBS_DIR at them.
  echo "error: apt-get is missing (not Debian?): put the packages' .debs in a folder and set FETCH_DEBS_DIR" >&2
  exit 2
fi
mkdir -p "$OUT/debs" "$OUT/music" "$OUT/packages" "$OUT/tmp"
# A package's music locations: the tsv's last column, paths separated by
# spaces, but some folder names hold spaces too; every location starts with /.
locations() { awk -F '\t' -v p="$1" '$1 == p { gsub(/ \//, "\n/", $5); print $5 }' "$TSV"; }
packages=$(awk -F '\t' '$1 != "package" && $1 !~ /^#/ && NF >= 5 { print $1 }' "$TSV")
if [ -n "${FETCH_PACKAGES:-}" ]; then
  for p in $FETCH_PACKAGES; do
    echo "$packages" | grep -qx -- "$p" || { echo "error: $p is not in $TSV" >&2; exit 2; }
  done
  packages=$FETCH_PACKAGES
fi
failed=""
fail() {
  echo "error: $1: $2" >&2
  failed="$failed $1"
  rm -rf "$OUT/tmp/$1"
}

n_all=$(echo "$packages" | wc -w)
k=0
for pkg in $packages; do
  k=$((k + 1))
  [ -f "$OUT/packages/$pkg.tsv" ] && continue
  free=$(df -Pk "$OUT" | awk 'NR == 2 { print $4 }')
  if [ "$free" -lt "$MIN_FREE_KB" ]; then
    echo "error: under ${FETCH_MIN_FREE_GB:-20} GB free on $OUT: stopping before $pkg" >&2
    failed="$failed $pkg(disk)"
    break
  fi
  echo "[$k/$n_all] $pkg"
  # 1. the .deb: a folder of ready ones, the cache, or apt-get download (into a
  # private folder first, so debs/ never holds a half-downloaded file).
  deb=$(find "${FETCH_DEBS_DIR:-$OUT/debs}" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -n 1)
  if [ -z "$deb" ]; then
    if [ -n "${FETCH_DEBS_DIR:-}" ]; then
      fail "$pkg" "no ${pkg}_*.deb in $FETCH_DEBS_DIR"
      continue
    fi
    rm -rf "$OUT/debs/partial" && mkdir -p "$OUT/debs/partial"
    # as root, apt's download sandbox user (_apt) may not write here: keep root
    sandbox=""
    [ "$(id -u)" -eq 0 ] && sandbox="-o APT::Sandbox::User=root"
    # shellcheck disable=SC2086 # $sandbox is empty or two words
    if ! (cd "$OUT/debs/partial" && apt-get download -qq $sandbox "$pkg" >/dev/null); then
      fail "$pkg" "apt-get download failed (not in the archive? run apt-get update)"
      continue
    fi
    deb=$(find "$OUT/debs/partial" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
    mv "$deb" "$OUT/debs/"
    deb=$OUT/debs/$(basename "$deb")
  fi
  version=$(dpkg-deb -f "$deb" Version) || { fail "$pkg" "$deb is not a readable .deb"; continue; }

  # 2. only the music out of the package: tar patterns of the listed folders'
  # direct children (--no-wildcards-match-slash, --no-recursion: a matching
  # subfolder is not unpacked whole; a listed folder's subfolders are listed on
  # their own when they hold music), the archives that hold music, and the
  # copyright file. Far less disk and time than dpkg-deb -x of a 1.4 GB
  # game-data package.
  stage=$OUT/tmp/$pkg
  rm -rf "$stage" && mkdir -p "$stage/root" "$stage/music"
  locations "$pkg" | while IFS= read -r loc; do
    case $loc in
    *!*) echo ".${loc%%!*}" ;;
    *) echo ".$loc/*" ;;
    esac
  done >"$stage/patterns"
  echo "./usr/share/doc/$pkg/copyright" >>"$stage/patterns"
  # tar exits 2 when a pattern matches nothing (a location missing from this
  # version of the package): a warning; any other error fails the package.
  if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$stage/root" --no-recursion --wildcards --no-wildcards-match-slash \
    -T "$stage/patterns" 2>"$stage/tar.err"; then
    if grep -v -e 'Not found in archive' -e 'Exiting with failure status' "$stage/tar.err" | grep -q .; then
      fail "$pkg" "unpacking $deb: $(head -n 3 "$stage/tar.err")"
      continue
    fi
    sed 's/^/warning: /' "$stage/tar.err" | grep -v 'Exiting with failure' >&2 || true
  fi
  # folders inside zip archives (.pk3 is a zip): -W makes * stop at a /, as above
  bad=""
  locations "$pkg" | grep '!' >"$stage/archives" || true
  while IFS= read -r loc; do
    arch=$stage/root${loc%%!*}
    [ -f "$arch" ] || { echo "warning: $pkg: no ${loc%%!*} in the package" >&2; continue; }
    rc=0
    unzip -qq -o -W "$arch" "${loc#*!}/*" -d "$arch.unzipped" || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 11 ] || bad="unzip $arch exited $rc"
    [ "$rc" -ne 11 ] || echo "warning: $pkg: no ${loc#*!}/ in ${loc%%!*}" >&2
  done <"$stage/archives"
  [ -z "$bad" ] || { fail "$pkg" "$bad"; continue; }
  # the archives themselves go at once: 0ad-data's public.zip is 1 GB
  while IFS= read -r loc; do rm -f "$stage/root${loc%%!*}"; done <"$stage/archives"

  # 3. the audio: analysed, renamed, mixed, cut (chordlet-train real-music
  # package), then the package folder moved into place whole, the manifest rows last.
  # one argument per location: split $(locations) at newlines only, no globbing
  set -f
  IFS='
'
  # shellcheck disable=SC2046
  if ! "$TRAIN" real-music package "$pkg" "$version" "$stage/root" "$stage/music" $(locations "$pkg"); then
    unset IFS
    set +f
    fail "$pkg" "analysing its audio failed"
    continue
  fi
  unset IFS
  set +f
  [ -f "$stage/root/usr/share/doc/$pkg/copyright" ] && cp "$stage/root/usr/share/doc/$pkg/copyright" "$stage/music/"
  rm -rf "$OUT/music/$pkg"
  mv "$stage/music" "$OUT/music/$pkg"
  mv "$OUT/music/$pkg/files.tsv" "$OUT/packages/$pkg.tsv"
  rm -rf "$stage"
  [ -n "${FETCH_DEBS_DIR:-}" ] || [ "${FETCH_KEEP_DEBS:-0}" = 1 ] || rm -f "$deb"
  echo "  $pkg $version: $(wc -l <"$OUT/packages/$pkg.tsv") files, $(awk -F '\t' '{ m += $5 } END { printf "%.1f", m }' "$OUT/packages/$pkg.tsv") min"
done
rm -rf "$OUT/debs/partial"

# 4. duplicates across everything finished, the manifest, the split, a summary
"$TRAIN" real-music finish "$OUT" "$TSV" "$CHECK_PACKAGES"
if [ -n "$failed" ]; then
  echo "failed:$failed (run again to retry; finished packages are kept)" >&2
  exit 1
fi
