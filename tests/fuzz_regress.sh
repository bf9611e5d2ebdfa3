#!/bin/sh
# fuzz_regress.sh BUILD_DIR: the fuzz harnesses in `make test` (issue 17).
# Builds them (clang, ASan + UBSan, libFuzzer) into BUILD_DIR, then for each
# harness of fuzz/:
#   1. replays every input of fuzz/regressions/<target>/ (inputs that once
#      crashed: they must not any more), fuzz/corpus/<target>/ and the
#      generated seeds (scripts/fuzz-seeds.sh), each run once (`harness FILE...`);
#   2. fuzzes for FUZZ_TEST_SECONDS (default 10) from those inputs, in a
#      scratch corpus (the tree is not written to).
# Any sanitizer report, broken property, leak, timeout (10 s) or allocation
# over 2 GB fails the test; the input is kept in BUILD_DIR/fuzz-test/<target>/.
# Exit 77 (skipped) without clang or its libFuzzer.
set -u
cd "$(dirname "$0")/.." || exit 1
build=${1:?usage: fuzz_regress.sh BUILD_DIR}
: "${FUZZ_TEST_SECONDS:=10}"
work=$build/fuzz-test
mkdir -p "$work"

# clang and libFuzzer (libclang_rt.fuzzer, in Debian's clang package)
probe=$work/probe
if ! command -v clang >/dev/null 2>&1 ||
  ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
  clang -fsanitize=fuzzer -x c - -o "$probe" >/dev/null 2>&1; then
  echo "needs clang with libFuzzer (Debian: clang)"
  exit 77
fi
rm -f "$probe"

if ! make -j"$(nproc 2>/dev/null || echo 2)" BUILD="$build" CC=clang FUZZER=1 fuzzers >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log"
  echo "FAIL: the harnesses do not build"
  exit 1
fi
seeds=$work/seeds
rm -rf "$seeds"
sh scripts/fuzz-seeds.sh "$build" "$seeds" >"$work/seeds.log" 2>&1 || { cat "$work/seeds.log"; exit 1; }
export FUZZ_SOUNDFONT="$seeds/tiny.sf2"

failures=0
for src in fuzz/fuzz_*.c; do
  t=${src#fuzz/fuzz_}
  t=${t%.c}
  [ "$t" = util ] && continue
  bin=$build/fuzz/fuzz_$t
  dir=$work/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"

  # 1. every known input, once each
  inputs=$(find fuzz/regressions/"$t" fuzz/corpus/"$t" "$seeds/$t" -type f 2>/dev/null | sort)
  n=$(echo "$inputs" | grep -c .)
  if [ "$n" -gt 0 ]; then
    # shellcheck disable=SC2086 # file names of the repository: no spaces
    if "$bin" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$dir/artifacts/" $inputs >"$dir/replay.log" 2>&1; then
      echo "ok: $t: $n inputs replayed"
    else
      echo "FAIL: $t: an input fails (log: $dir/replay.log)"
      grep -E "ERROR|SUMMARY|Running:|fuzz_$t:" "$dir/replay.log" | tail -n 8
      failures=$((failures + 1))
      continue
    fi
  fi

  # 2. fuzzing, briefly
  set -- "$dir/corpus"
  for extra in fuzz/corpus/$t "$seeds/$t" fuzz/regressions/$t; do
    [ -d "$extra" ] && set -- "$@" "$extra"
  done
  [ -f "fuzz/$t.dict" ] && set -- -dict="fuzz/$t.dict" "$@"
  if "$bin" -max_total_time="$FUZZ_TEST_SECONDS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -close_fd_mask=3 -artifact_prefix="$dir/artifacts/" "$@" >"$dir/fuzz.log" 2>&1; then
    echo "ok: $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log") executions in $FUZZ_TEST_SECONDS s"
  else
    echo "FAIL: $t: fuzzing found a fault; the input is in $dir/artifacts/ (log: $dir/fuzz.log)"
    grep -E "ERROR|SUMMARY|fuzz_$t:" "$dir/fuzz.log" | tail -n 8
    failures=$((failures + 1))
  fi
done

# 3. make fuzz's triage of a timeout (scripts/fuzz-triage.sh): an input a harness
# runs quickly when replayed alone is not a finding; one that fails, or takes
# more CPU than the limit (here 1 s: a fake harness that spins for 2 s of CPU), is.
. scripts/fuzz-triage.sh
tri=$work/triage
rm -rf "$tri"
mkdir -p "$tri"
find fuzz/corpus/harte -type f | head -n 1 | xargs -I{} cp {} "$tri/timeout-quick"
printf '#!/bin/sh\nexit 1\n' >"$tri/fails"
cat >"$tri/spins" <<'EOF'
#!/bin/sh
# a fake harness that spins until it has used 2 s of CPU, however loaded the machine
. scripts/fuzz-triage.sh
while :; do
  i=0
  while [ "$i" -lt 20000 ]; do i=$((i + 1)); done
  times >"$0.t"
  awk -v c="$(times_seconds "$0.t" 1)" 'BEGIN { exit !(c >= 2) }' && exit 0
done
EOF
chmod +x "$tri/fails" "$tri/spins"
if slow_only "$build/fuzz/fuzz_harte" "$tri/timeout-quick" >"$tri/log" && ! slow_only "$tri/fails" "$tri/timeout-quick" &&
  ! slow_only "$tri/spins" "$tri/timeout-quick" 1; then
  echo "ok: triage: a quick input is not reproduced ($(sed 's/.*reproduced: //; s/ replayed.*//' "$tri/log")), a failing or spinning one is a finding"
else
  echo "FAIL: triage (scripts/fuzz-triage.sh): $(cat "$tri/log")"
  failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || { echo "$failures checks failed"; exit 1; }
echo "all harnesses pass"
