#!/bin/sh
# setup.sh: install the Debian packages chordlet needs (as root, or through
# sudo when run by a user), then build it. Used by the README's first command.
set -eu
cd "$(dirname "$0")/.."
packages=$(grep -v '^#' scripts/debian-packages | tr '\n' ' ')
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "setup.sh: run as root, or install sudo, to install: $packages" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update
# shellcheck disable=SC2086 # the package list is meant to split into words
$as_root apt-get install -y --no-install-recommends $packages
make -j"$(nproc 2>/dev/null || echo 2)"
