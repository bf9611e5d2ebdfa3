# shellcheck shell=sh
# fuzz-triage.sh: sourced by scripts/fuzz.sh (and tests/fuzz_regress.sh).
# libFuzzer's -timeout counts wall-clock time, so a harness starved of the CPU
# (make fuzz at low priority beside a training run: a few inputs a second) can
# time out on an input that is merely slow. slow_only tells the two apart by
# the CPU time the input takes when replayed alone.

# times_seconds FILE LINE: user + system seconds on LINE of a saved `times`
# output (1: the shell itself, 2: its finished children; "0m1.230000s 0m0.100000s").
times_seconds() {
  awk -v l="$2" 'NR == l { for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } }
    END { printf "%.2f\n", t }' "$1"
}

# cpu_of T0 T1: CPU seconds this shell's children used between two `times`.
cpu_of() {
  awk -v a="$(times_seconds "$1" 2)" -v b="$(times_seconds "$2" 2)" 'BEGIN { printf "%.2f\n", b - a }'
}

# slow_only HARNESS INPUT [LIMIT]: the input, replayed alone (without
# libFuzzer's wall-clock alarm, within 20 minutes), finishes cleanly in under
# LIMIT (default 10, make fuzz's -timeout) seconds of CPU: it timed out because
# the harness was starved, not because it hangs.
slow_only() {
  times >"$2.t0" # in this shell, not a subshell: its children's times
  timeout 1200 "$1" -rss_limit_mb=2048 -timeout=0 "$2" >"$2.replay.log" 2>&1
  status=$?
  times >"$2.t1"
  cpu=$(cpu_of "$2.t0" "$2.t1")
  rm -f "$2.t0" "$2.t1"
  [ "$status" -eq 0 ] && awk -v c="$cpu" -v l="${3:-10}" 'BEGIN { exit !(c < l) }' || return 1
  echo "  $(basename "$2"): not reproduced: $cpu s of CPU replayed alone (the harness was starved); kept in the corpus"
}
