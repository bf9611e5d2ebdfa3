#!/bin/sh
# bench_mpi.sh: `make bench`, chordlet-train over MPI ranks (issue 16), on this
# machine, in one run:
#   - training frames/s of the shipped student configuration (batch 16 x 256
#     frames, dropout 0.3, stage 1's focal loss) with 1 rank x 2 threads and
#     with 2 ranks x 1 thread, on the demo song's feature cache, after
#     BENCH_MPI_STEPS steps (default 40; the first logged 10 are warm-up and
#     not counted), and the ratio (issue 16's target: >= 0.90);
#   - the bytes each step hands MPI_Allreduce (what chordlet-train prints),
#     the compute time per step, and from them the step time and efficiency
#     projected for 4, 16 and 64 nodes on 10 and 25 Gbit/s (the model of
#     docs/RESULTS.md: weak scaling, a ring allreduce, no overlap);
#   - pseudo-labelling throughput (the teacher, 5 folds, x real time) on
#     BENCH_MPI_SONGS copies of the demo (default 8) with 1 rank x 2 jobs and
#     2 ranks x 1 job.
# It builds the MPI variant (make MPI=1 BUILD=BUILD/mpi) if needed; without
# OpenMPI it says so and exits 0. Both runs need the machine's two cores to
# themselves: numbers taken beside other work are wrong.
# Usage: bench_mpi.sh [BUILD]   (default build)
set -u
BUILD=${1:-build}
MPI_BUILD=$BUILD/mpi
STEPS=${BENCH_MPI_STEPS:-40}
SONGS=${BENCH_MPI_SONGS:-8}
echo "chordlet bench (MPI ranks, issue 16)"
if ! command -v mpirun >/dev/null 2>&1 || ! pkg-config --exists ompi-c; then
  echo "skipped: needs OpenMPI (apt-get install openmpi-bin libopenmpi-dev)"
  exit 0
fi
make -s MPI=1 BUILD="$MPI_BUILD" "$MPI_BUILD/chordlet-train" >/dev/null || { echo "cannot build $MPI_BUILD"; exit 1; }
TRAIN=$MPI_BUILD/chordlet-train
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
MPIRUN="mpirun --oversubscribe --bind-to none"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/in"
cp examples/synth0046.flac examples/synth0046.lab "$TMP/in/"
"$TRAIN" pseudo-label --out "$TMP/pl" "$TMP/in" 2>/dev/null &&
  "$TRAIN" features --pseudo "$TMP/pl" --out "$TMP/ft" "$TMP/in" 2>/dev/null || { echo "cannot make the feature cache"; exit 1; }

# frames/s over the log rows after the first (warm-up): frames per step x rows / their seconds
RUN="stage1 --steps $STEPS --valid-every 100000 --checkpoint-every 100000 --train $TMP/ft --valid $TMP/ft"
fps() { awk -F, 'NR > 2 { t += 1 / $9; n++ } END { if (n) printf "%.0f", n / t; else print 0 }' "$1/log.csv"; }
# shellcheck disable=SC2086
"$TRAIN" $RUN --threads 2 --out "$TMP/r1" 2>"$TMP/err1" || { cat "$TMP/err1"; exit 1; }
# shellcheck disable=SC2086
$MPIRUN -np 2 "$TRAIN" $RUN --threads 1 --out "$TMP/r2" 2>"$TMP/err2" || { cat "$TMP/err2"; exit 1; }
fps1=$(fps "$TMP/r1")
fps2=$(fps "$TMP/r2")
bytes=$(sed -n 's/.*; \([0-9]*\) bytes reduced per step.*/\1/p' "$TMP/err2" | head -n 1)
floats=$(sed -n 's/.*; \([0-9]*\) parameter floats;.*/\1/p' "$TMP/err2" | head -n 1)
same=no
cmp -s "$TMP/r1/final.chordlet" "$TMP/r2/final.chordlet" && same=yes
echo
echo "training, stage 1, student_config_default(), batch 16 x 256 frames, $STEPS steps ($floats parameter floats):"
echo "| run | frames/s | ms/step |"
echo "|---|---:|---:|"
awk -v a="$fps1" -v b="$fps2" 'BEGIN {
  printf "| 1 rank x 2 threads | %.0f | %.0f |\n", a, 4096000 / a
  printf "| 2 ranks x 1 thread | %.0f | %.0f |\n", b, 4096000 / b
  printf "2 ranks / 1 rank: %.2f (target >= 0.90)\n", b / a }'
echo "the two final models are byte-identical: $same"
echo "bytes handed to MPI_Allreduce per step: $bytes ($floats gradients as 64-bit integers + 16 x 7 doubles of statistics)"

# The projection (docs/RESULTS.md): per node 16 windows (4096 frames) at the
# 1-rank x 2-thread rate; a ring allreduce sends and receives 2 (N-1)/N x
# bytes per node at 80 % of the line rate, with 2 (N-1) latencies of 50 us,
# twice (statistics, then gradients); no overlap with the backward pass.
echo
echo "projection (weak scaling: 16 windows per node and step; ring allreduce, 80 % of line rate, 50 us latency):"
echo "| nodes | link | compute ms | allreduce ms | step ms | efficiency | frames/s (all nodes) |"
echo "|---:|---|---:|---:|---:|---:|---:|"
for n in 4 16 64; do
  for gbit in 10 25; do
    awk -v n="$n" -v g="$gbit" -v fps="$fps1" -v P="$bytes" 'BEGIN {
      c = 4096 / fps; bw = g * 1e9 / 8 * 0.8; lat = 50e-6
      ar = 2 * (n - 1) / n * P / bw + 2 * 2 * (n - 1) * lat
      printf "| %d | %d Gbit/s | %.0f | %.1f | %.0f | %.1f %% | %.0f |\n", n, g, 1e3 * c, 1e3 * ar, 1e3 * (c + ar), 100 * c / (c + ar), n * 4096 / (c + ar) }'
  done
done

# Pseudo-labelling: SONGS copies of the demo (30 s each), the teacher's 5 folds.
mkdir "$TMP/songs"
i=0
while [ $i -lt "$SONGS" ]; do cp examples/synth0046.flac "$TMP/songs/song$i.flac"; i=$((i + 1)); done
rate() { sed -n 's/.*(\([0-9.]*\)x real time).*/\1/p' "$1" | head -n 1; }
"$TRAIN" pseudo-label --jobs 2 --out "$TMP/p1" "$TMP/songs" 2>"$TMP/perr1" || { cat "$TMP/perr1"; exit 1; }
$MPIRUN -np 2 "$TRAIN" pseudo-label --jobs 1 --out "$TMP/p2" "$TMP/songs" 2>"$TMP/perr2" || { cat "$TMP/perr2"; exit 1; }
same=no
diff -r "$TMP/p1" "$TMP/p2" >/dev/null && same=yes
echo
echo "pseudo-labelling, teacher (5 folds), $SONGS x 30 s:"
echo "| run | x real time |"
echo "|---|---:|"
echo "| 1 rank x 2 jobs | $(rate "$TMP/perr1") |"
echo "| 2 ranks x 1 job | $(rate "$TMP/perr2") |"
echo "the caches are byte-identical: $same"
