#!/bin/sh
# fuzz.sh: `make fuzz`. Builds the libFuzzer harnesses of fuzz/ with clang
# (ASan + UBSan, coverage) into FUZZ_BUILD, runs each for FUZZ_SECONDS and
# prints a table: target, executions, executions per second, coverage (edges
# and features from libFuzzer's final stats), crashes.
#
#   FUZZ_SECONDS   seconds per harness (default 180)
#   FUZZ_TARGETS   which harnesses (default all: the names of fuzz/fuzz_*.c)
#   FUZZ_BUILD     the build folder (default build/fuzz)
#   FUZZ_WORK      the working folder (default work/fuzz, ignored by git)
#
# Each harness starts from its working corpus (FUZZ_WORK/<target>/corpus,
# where new inputs are kept between runs), the committed seeds
# (fuzz/corpus/<target>/), the generated ones (scripts/fuzz-seeds.sh) and the
# regression inputs (fuzz/regressions/<target>/), with its dictionary
# (fuzz/<target>.dict) where there is one. A crash, leak, timeout (over 10 s)
# or out-of-memory (over 2 GB) input is copied into fuzz/regressions/<target>/,
# which `make test` replays (tests/fuzz_regress.sh): fix the fault, keep the
# input. Logs: FUZZ_WORK/<target>/log. Exit status 1 if any harness crashed,
# 2 if the build failed.
set -u
cd "$(dirname "$0")/.." || exit 2
: "${FUZZ_SECONDS:=180}"
: "${FUZZ_BUILD:=build/fuzz}"
: "${FUZZ_WORK:=work/fuzz}"
: "${FUZZ_TARGETS:=$(for f in fuzz/fuzz_*.c; do n=${f#fuzz/fuzz_}; n=${n%.c}; [ "$n" = util ] || printf '%s ' "$n"; done)}"

if ! command -v clang >/dev/null 2>&1; then
  echo "make fuzz needs clang and its libFuzzer (Debian: clang, see scripts/debian-packages)" >&2
  exit 2
fi
mkdir -p "$FUZZ_WORK"
echo "building the harnesses in $FUZZ_BUILD (log: $FUZZ_WORK/build.log)"
if ! make -j"$(nproc 2>/dev/null || echo 2)" BUILD="$FUZZ_BUILD" CC=clang FUZZER=1 fuzzers >"$FUZZ_WORK/build.log" 2>&1; then
  tail -n 30 "$FUZZ_WORK/build.log" >&2
  exit 2
fi
seeds=$FUZZ_WORK/seeds
sh scripts/fuzz-seeds.sh "$FUZZ_BUILD" "$seeds" || exit 2
export FUZZ_SOUNDFONT="$seeds/tiny.sf2"

# The longest input worth trying, per harness (bytes).
max_len() {
  case $1 in
  harte) echo 300 ;;
  model) echo 65536 ;;
  audio) echo 16384 ;;
  midi | render_sidecar) echo 4096 ;;
  lv2) echo 2048 ;;
  *) echo 8192 ;;
  esac
}

# final_stat NAME LOG: a number from libFuzzer's -print_final_stats lines.
final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

failed=0
table="| target | execs | exec/s | cov (edges) | ft (features) | crashes |
|---|---:|---:|---:|---:|---:|"
for t in $FUZZ_TARGETS; do
  bin=$FUZZ_BUILD/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "no harness $bin" >&2; failed=1; continue; }
  dir=$FUZZ_WORK/$t
  mkdir -p "$dir/corpus" "$dir/artifacts"
  rm -f "$dir/artifacts"/*
  set -- "$dir/corpus"
  for extra in fuzz/corpus/$t "$seeds/$t" fuzz/regressions/$t; do
    [ -d "$extra" ] && set -- "$@" "$extra"
  done
  [ -f "fuzz/$t.dict" ] && set -- -dict="fuzz/$t.dict" "$@"
  echo "fuzzing $t for $FUZZ_SECONDS s"
  # -close_fd_mask=3: the code's own messages (one per refused input) would
  # flood the log; libFuzzer's and the sanitizers' reports still reach it.
  "$bin" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -close_fd_mask=3 -artifact_prefix="$dir/artifacts/" "$@" >"$dir/log" 2>&1
  crashes=0
  for a in "$dir/artifacts"/crash-* "$dir/artifacts"/leak-* "$dir/artifacts"/timeout-* "$dir/artifacts"/oom-*; do
    [ -f "$a" ] || continue
    crashes=$((crashes + 1))
    mkdir -p "fuzz/regressions/$t"
    cp "$a" "fuzz/regressions/$t/"
    echo "  $t: $(basename "$a") -> fuzz/regressions/$t/ (see $dir/log)"
  done
  [ "$crashes" -gt 0 ] && failed=1
  # cov: and ft: of libFuzzer's last status line ("#N DONE cov: C ft: F ...").
  last=$(grep -E '^#[0-9]+.* cov: ' "$dir/log" | tail -n 1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  table="$table
| $t | $(final_stat number_of_executed_units "$dir/log") | $(final_stat average_exec_per_sec "$dir/log") | ${cov:-?} | ${ft:-?} | $crashes |"
done
echo
echo "make fuzz: $FUZZ_SECONDS s per harness, $(date -u +%Y-%m-%d), clang $(clang -dumpversion)"
echo "$table"
exit "$failed"
