#!/bin/sh
# make-data.sh: the training data of `make model` (`make data`). Every stage is
# resumable and deterministic for a seed: kill it at any point and run it again.
#   0. fetch Debian's free recorded music (scripts/fetch-real-music.sh: 48
#      packages of ../shared/data/real/debian-music.tsv, about 7 GB to download,
#      about 35 h of music kept) into DATA_DIR/real: its pool.txt joins stage 1's
#      real music, its check.txt (the real-music check set) is never trained on;
#   1. render the unlabelled, labelled and valid pools of ../shared/data/splits
#      (never the test split) with chordlet-train render, and the labelled pool
#      a second time on the songs' own instruments (audio/labelled-orig, files
#      named ID.o: the files' programs, as the test split and a user's MIDI
#      sound; another seed, so other tempi, levels and effects; docs/RESULTS.md
#      7.15);
#   2. pseudo-label the unlabelled renders and Debian's free recorded music
#      (step 0's pool, and wesnoth-1.16-music and singularity-music where they
#      are installed: they are not in the tsv) with the teacher, and the
#      labelled renders too (stage 2's selective KD distils the teacher on them);
#   3. cache the student's features: unlabelled renders (features/unlabelled)
#      and real music (features/real: stage 1 trains on both, stage 2 takes
#      KD-only windows from it) with aligned pseudo-labels, labelled audio with
#      ground truth and pseudo-labels (features/labelled, features/labelled-orig),
#      valid audio with ground truth.
# Settings (environment): CHORDLET_SHARED (../shared), DATA_DIR (work/data),
# DATA_SEED (1), DATA_FOLDS (teacher folds, 2: the first two folds of the ensemble
# label 65 h in ~25 min on 2 cores, 5 would take ~65), DATA_LIMIT (songs per list, 0 = all),
# DATA_JOBS (the number of cores), DATA_AUGMENT (a --augment spec: degraded variants of
# the unlabelled and labelled pools in features/*-aug; default level@0.5,eq@0.5,noise@0.5,
# lossy@0.5, docs/RESULTS.md 6.5; none: no variants), DATA_VARIANTS (1),
# DATA_REAL (fetch: step 0; none: no fetched music, neither fetched nor used).
# With DATA_LIMIT (a quick subset, tests/data_resume.sh) step 0 fetches nothing
# unless DATA_REAL=fetch is set, and then only pathological (8 MB, the smallest
# download): a quick run must not hang on the network or download 7 GB.
set -eu
cd "$(dirname "$0")/.."
SHARED=$(cd "${CHORDLET_SHARED:-../shared}" && pwd)
DATA=${DATA_DIR:-work/data}
SEED=${DATA_SEED:-1}
FOLDS=${DATA_FOLDS:-2}
LIMIT=${DATA_LIMIT:-0}
JOBS=${DATA_JOBS:-$(nproc 2>/dev/null || echo 2)}
# The augmentation chosen on the validation split (docs/RESULTS.md 6.5): level, EQ
# and band-limiting, noise and lossy coding each narrowed the drop on their
# condition; detune (the tuning estimate does it) and reverb (no gain) did not.
# A quick run (DATA_LIMIT) makes none unless asked; DATA_AUGMENT=none: none.
AUGMENT=${DATA_AUGMENT:-level@0.5,eq@0.5,noise@0.5,lossy@0.5}
[ -z "${DATA_AUGMENT:-}" ] && [ "${DATA_LIMIT:-0}" -gt 0 ] && AUGMENT=none
[ "$AUGMENT" = none ] && AUGMENT=""
VARIANTS=${DATA_VARIANTS:-1}
TRAIN=${CHORDLET_TRAIN:-./build/chordlet-train}
REAL=${DATA_REAL:-}
if [ -z "$REAL" ]; then
  REAL=fetch
  [ "$LIMIT" -gt 0 ] && REAL=none
fi
mkdir -p "$DATA/lists"

case $REAL in
fetch)
  echo "== 0/3 real music (Debian's free music into $DATA/real)"
  only=""
  [ "$LIMIT" -gt 0 ] && only=pathological
  # A failed package (network down, a package gone from the archive) warns and
  # the chain goes on with the packages already fetched; a rerun retries it.
  CHORDLET_SHARED="$SHARED" CHORDLET_TRAIN="$TRAIN" FETCH_PACKAGES="$only" sh scripts/fetch-real-music.sh "$DATA/real" ||
    echo "warning: some real music could not be fetched (above): stage 1 gets the rest; run make data again to retry"
  ;;
none) echo "== 0/3 real music: not fetched (DATA_REAL=none$([ "$LIMIT" -gt 0 ] && echo ", or DATA_LIMIT"))" ;;
*)
  echo "error: DATA_REAL is fetch or none, not '$REAL'" >&2
  exit 2
  ;;
esac

echo "== 1/3 render (seed $SEED, $JOBS jobs)"
for pool in unlabelled labelled valid; do
  for c in pop909cl nottingham synth; do
    list=$SHARED/data/splits/${c}_$pool.txt
    [ -f "$list" ] || continue # synth has no unlabelled pool
    if [ "$LIMIT" -gt 0 ]; then
      head -n "$LIMIT" "$list" >"$DATA/lists/${c}_$pool.txt"
      list=$DATA/lists/${c}_$pool.txt
    fi
    $TRAIN render -q --seed "$SEED" --jobs "$JOBS" --midi-dir "$SHARED/data/midi/$c" --out "$DATA/audio/$pool" "$list"
    if [ "$pool" = labelled ]; then
      $TRAIN render -q --seed $((SEED + 1)) --jobs "$JOBS" --families original --name-suffix .o \
        --midi-dir "$SHARED/data/midi/$c" --out "$DATA/audio/labelled-orig" "$list"
    fi
  done
done

echo "== 2/3 pseudo-labels (teacher, $FOLDS folds)"
: >"$DATA/lists/real.txt"
for dir in /usr/share/games/wesnoth/1.16/data/core/music /usr/share/games/singularity/music; do
  [ -d "$dir" ] && find "$dir" -maxdepth 1 -name '*.ogg' | sort >>"$DATA/lists/real.txt"
done
# step 0's pool (never its check.txt: the check set is not trained on)
[ "$REAL" = fetch ] && [ -f "$DATA/real/pool.txt" ] && cat "$DATA/real/pool.txt" >>"$DATA/lists/real.txt"
[ "$LIMIT" -gt 0 ] && head -n "$LIMIT" "$DATA/lists/real.txt" >"$DATA/lists/real.tmp" && mv "$DATA/lists/real.tmp" "$DATA/lists/real.txt"
[ -s "$DATA/lists/real.txt" ] || echo "warning: no real music (none fetched, wesnoth-1.16-music and singularity-music not installed): stage 1 gets renders only"
real=""
[ -s "$DATA/lists/real.txt" ] && real="$DATA/lists/real.txt"
# shellcheck disable=SC2086 # $real is empty or one path
$TRAIN pseudo-label --folds "$FOLDS" --jobs "$JOBS" --out "$DATA/pseudo" "$DATA"/audio/unlabelled/* $real "$DATA"/audio/labelled/* \
  "$DATA"/audio/labelled-orig/*

echo "== 3/3 student features"
$TRAIN features --folds "$FOLDS" --jobs "$JOBS" --pseudo "$DATA/pseudo" --out "$DATA/features/unlabelled" \
  "$DATA"/audio/unlabelled/*
if [ -n "$real" ]; then
  # shellcheck disable=SC2086
  $TRAIN features --folds "$FOLDS" --jobs "$JOBS" --pseudo "$DATA/pseudo" --out "$DATA/features/real" $real
fi
$TRAIN features --folds "$FOLDS" --jobs "$JOBS" --pseudo "$DATA/pseudo" --out "$DATA/features/labelled" "$DATA"/audio/labelled/*
$TRAIN features --folds "$FOLDS" --jobs "$JOBS" --pseudo "$DATA/pseudo" --out "$DATA/features/labelled-orig" \
  "$DATA"/audio/labelled-orig/*
$TRAIN features --jobs "$JOBS" --out "$DATA/features/valid" "$DATA"/audio/valid/*

# Degraded variants of the training pools (trainer/augment.c), when DATA_AUGMENT
# names a spec: the students then learn to hear chords through detune, level,
# room, band-limiting, noise and lossy coding (docs/RESULTS.md 6). The variants
# of the unlabelled pool keep the teacher's pseudo-labels of the clean audio.
if [ -n "$AUGMENT" ]; then
  echo "== 3b/3 augmented variants ($AUGMENT, $VARIANTS per song, seed $SEED)"
  $TRAIN features --folds "$FOLDS" --jobs "$JOBS" --pseudo "$DATA/pseudo" --augment "$AUGMENT" --variants "$VARIANTS" \
    --seed "$SEED" --out "$DATA/features/unlabelled-aug" "$DATA"/audio/unlabelled/*
  if [ -n "$real" ]; then
    # shellcheck disable=SC2086
    $TRAIN features --folds "$FOLDS" --jobs "$JOBS" --pseudo "$DATA/pseudo" --augment "$AUGMENT" \
      --variants "$VARIANTS" --seed "$SEED" --out "$DATA/features/real-aug" $real
  fi
  $TRAIN features --folds "$FOLDS" --jobs "$JOBS" --pseudo "$DATA/pseudo" --augment "$AUGMENT" --variants "$VARIANTS" \
    --seed "$SEED" --out "$DATA/features/labelled-aug" "$DATA"/audio/labelled/*
fi
echo "== data ready in $DATA"
