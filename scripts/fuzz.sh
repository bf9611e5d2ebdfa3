#!/bin/sh
# fuzz.sh: `make fuzz`. Builds the libFuzzer harnesses of fuzz/ with clang
# (ASan + UBSan, coverage) into FUZZ_BUILD, runs each, keeps a ledger of every
# run and prints two tables: this run's (target, executions, executions per
# second, coverage, crashes) and the ledger's totals per target.
#
#   FUZZ_SECONDS   seconds per harness (default 180)
#   FUZZ_GOAL      instead: run each harness, in sessions of at most
#                  FUZZ_SECONDS (default 600 then), until the ledger counts
#                  this many executions of it in all (e.g. 10000000). An
#                  interrupted `make fuzz` loses at most the session it was in;
#                  run it again and it goes on.
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
# input. libFuzzer's timeout counts wall-clock time, so a harness starved of
# the CPU (make fuzz at low priority beside a training run) can time out on an
# input that is merely slow: a timeout is replayed alone first, and counts only
# if the replay fails or takes 10 s of CPU (else it is reported as not
# reproduced and stays in the working corpus; scripts/fuzz-triage.sh). Logs:
# FUZZ_WORK/<target>/log. The ledger, FUZZ_WORK/ledger.tsv, has a line per
# finished session: UTC time, commit, target, executions, seconds,
# crashes. Exit status 1 if any harness crashed, 2 if the build failed.
set -u
cd "$(dirname "$0")/.." || exit 2
: "${FUZZ_GOAL:=0}"
if [ "$FUZZ_GOAL" -gt 0 ]; then : "${FUZZ_SECONDS:=600}"; else : "${FUZZ_SECONDS:=180}"; fi
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

. scripts/fuzz-triage.sh # slow_only: is a timeout only a starved harness?

# final_stat NAME LOG: a number from libFuzzer's -print_final_stats lines.
final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

ledger=$FUZZ_WORK/ledger.tsv
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# ledger_execs TARGET: the executions the ledger counts for TARGET.
ledger_execs() {
  [ -f "$ledger" ] || { echo 0; return; }
  awk -F '\t' -v t="$1" '$3 == t { n += $4 } END { printf "%.0f\n", n }' "$ledger"
}

failed=0
table="| target | execs | exec/s | cov (edges) | ft (features) | crashes |
|---|---:|---:|---:|---:|---:|"
for t in $FUZZ_TARGETS; do
  bin=$FUZZ_BUILD/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "no harness $bin" >&2; failed=1; continue; }
  dir=$FUZZ_WORK/$t
  mkdir -p "$dir/corpus" "$dir/artifacts"
  set -- "$dir/corpus"
  for extra in fuzz/corpus/$t "$seeds/$t" fuzz/regressions/$t; do
    [ -d "$extra" ] && set -- "$@" "$extra"
  done
  [ -f "fuzz/$t.dict" ] && set -- -dict="fuzz/$t.dict" "$@"
  execs_run=0 seconds_run=0 crashes=0
  while :; do
    runs_opt=""
    if [ "$FUZZ_GOAL" -gt 0 ]; then
      have=$(ledger_execs "$t")
      [ "$have" -ge "$FUZZ_GOAL" ] && { echo "$t: $have executions in the ledger: goal met"; break; }
      left=$((FUZZ_GOAL - have))
      echo "fuzzing $t for at most $FUZZ_SECONDS s ($have of $FUZZ_GOAL executions so far)"
      runs_opt="-runs=$left"
    else
      echo "fuzzing $t for $FUZZ_SECONDS s"
    fi
    rm -f "$dir/artifacts"/*
    started=$(date +%s)
    # -close_fd_mask=3: the code's own messages (one per refused input) would
    # flood the log; libFuzzer's and the sanitizers' reports still reach it.
    "$bin" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -close_fd_mask=3 -artifact_prefix="$dir/artifacts/" $runs_opt "$@" >"$dir/log" 2>&1
    found=0
    for a in "$dir/artifacts"/crash-* "$dir/artifacts"/leak-* "$dir/artifacts"/timeout-* "$dir/artifacts"/oom-*; do
      [ -f "$a" ] || continue
      case $(basename "$a") in
      timeout-*) slow_only "$bin" "$a" && cp "$a" "$dir/corpus/" && continue ;;
      esac
      found=$((found + 1))
      mkdir -p "fuzz/regressions/$t"
      cp "$a" "fuzz/regressions/$t/"
      echo "  $t: $(basename "$a") -> fuzz/regressions/$t/ (see $dir/log)"
    done
    execs=$(final_stat number_of_executed_units "$dir/log")
    seconds=$(($(date +%s) - started))
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$t" "${execs:-0}" \
      "$seconds" "$found" >>"$ledger"
    execs_run=$((execs_run + ${execs:-0}))
    seconds_run=$((seconds_run + seconds))
    crashes=$((crashes + found))
    # A fault stops this harness: the fix comes first. So does a run that
    # printed no statistics (killed).
    [ "$found" -gt 0 ] || [ -z "$execs" ] || [ "$FUZZ_GOAL" -eq 0 ] && break
  done
  [ "$crashes" -gt 0 ] && failed=1
  # cov: and ft: of libFuzzer's last status line ("#N DONE cov: C ft: F ...").
  last=$(grep -E '^#[0-9]+.* cov: ' "$dir/log" | tail -n 1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  rate=$([ "$seconds_run" -gt 0 ] && echo $((execs_run / seconds_run)) || echo "?")
  table="$table
| $t | $execs_run | $rate | ${cov:-?} | ${ft:-?} | $crashes |"
done
echo
if [ "$FUZZ_GOAL" -gt 0 ]; then
  echo "make fuzz: until $FUZZ_GOAL executions per harness, sessions of at most $FUZZ_SECONDS s, $(date -u +%Y-%m-%d), clang $(clang -dumpversion)"
else
  echo "make fuzz: $FUZZ_SECONDS s per harness, $(date -u +%Y-%m-%d), clang $(clang -dumpversion)"
fi
echo "$table"
echo
echo "the ledger ($ledger), every run so far:"
echo "| target | sessions | execs | hours | crashes found | from | to |"
echo "|---|---:|---:|---:|---:|---|---|"
awk -F '\t' '{ n[$3]++; e[$3] += $4; s[$3] += $5; c[$3] += $6; if (!($3 in from)) from[$3] = substr($1, 1, 10); to[$3] = substr($1, 1, 10) }
  END { for (t in n) printf "| %s | %d | %.0f | %.2f | %d | %s | %s |\n", t, n[t], e[t], s[t] / 3600, c[t], from[t], to[t] }' "$ledger" | sort
exit "$failed"
