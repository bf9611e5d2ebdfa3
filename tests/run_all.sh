#!/bin/sh
# run_all.sh: `make test`. Builds chordlet three ways and runs every test on
# the normal build and on the ASan+UBSan build:
#   build/        gcc, -O2, -Werror      (the product)
#   build/asan/   gcc, ASan+UBSan, every error fatal
#   build/clang/  clang, -Werror         (warnings-clean on both compilers)
# Tests that need ../shared (CHORDLET_SHARED) or Debian's python3-mir-eval say
# so; they are skipped on a developer machine that lacks them and FAIL in CI
# (CI=true), where everything must be present.
# The last line is always "N passed, N failed"; the exit status is 1 on any failure.

set -u
cd "$(dirname "$0")/.." || exit 1
: "${CHORDLET_SHARED:=$(cd .. && pwd)/shared}"
export CHORDLET_SHARED
PYTHON=/usr/bin/python3
LOGS=build/test-logs
mkdir -p "$LOGS"
passed=0
failed=0
skipped=0
jobs=$(nproc 2>/dev/null || echo 2)
started=$(date +%s)

# record NAME STATUS LOG [SECONDS]: STATUS 0 pass, 77 skip (fail in CI), else fail.
record() {
  name=$1 status=$2 log=$3 took=${4:-}
  [ -n "$took" ] && name="$name (${took} s)"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "PASS  $name"
  elif [ "$status" -eq 77 ] && [ "${CI:-}" != "true" ]; then
    skipped=$((skipped + 1))
    echo "SKIP  $name: $(tail -n 1 "$log")"
  else
    failed=$((failed + 1))
    [ "$status" -eq 77 ] && echo "FAIL  $name: a requirement is missing, and CI must have it" \
                         || echo "FAIL  $name (exit $status)"
    tail -n 25 "$log" | sed 's/^/      /'
  fi
}

# run NAME LOGFILE COMMAND...: run with a generous timeout so a hang fails.
run() {
  name=$1 log=$2
  shift 2
  t0=$(date +%s)
  timeout 600 "$@" >"$log" 2>&1
  status=$?
  record "$name" $status "$log" $(($(date +%s) - t0))
}

build() {
  name=$1
  shift
  run "build $name" "$LOGS/build-$name.log" make -j"$jobs" "$@" tests
}

build gcc BUILD=build
build asan BUILD=build/asan SAN=1
if command -v clang >/dev/null 2>&1; then
  build clang BUILD=build/clang CC=clang
else
  echo "clang is not installed" >"$LOGS/build-clang.log"
  record "build clang" 77 "$LOGS/build-clang.log"
fi

have_mir_eval() {
  $PYTHON -c 'import mir_eval' >/dev/null 2>&1
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
for variant in build build/asan; do
  tag=$( [ "$variant" = build ] && echo gcc || echo asan )
  if [ ! -x "$variant/chordlet" ]; then
    echo "FAIL  [$tag] no binaries: the build failed"
    failed=$((failed + 1))
    continue
  fi
  for t in "$variant"/tests/test_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    run "[$tag] $n" "$LOGS/$tag-$n.log" "$t"
  done
  run "[$tag] model_cli" "$LOGS/$tag-model_cli.log" sh tests/model_cli.sh "$variant"
  run "[$tag] transcribe_cli" "$LOGS/$tag-transcribe_cli.log" sh tests/transcribe_cli.sh "$variant"
  # Hostile command lines (issue 17): both builds, as the readers and writers
  # they reach are memory-safety code; the hour of silence (time and RSS) runs
  # on the normal build only.
  run "[$tag] hostile_cli" "$LOGS/$tag-hostile_cli.log" sh tests/hostile_cli.sh "$variant"
  run "[$tag] render_cli" "$LOGS/$tag-render_cli.log" sh tests/render_cli.sh "$variant"
  run "[$tag] pseudo_label_cli" "$LOGS/$tag-pseudo_label_cli.log" sh tests/pseudo_label_cli.sh "$variant"
  run "[$tag] features_cli" "$LOGS/$tag-features_cli.log" sh tests/features_cli.sh "$variant"
  run "[$tag] train_cli" "$LOGS/$tag-train_cli.log" sh tests/train_cli.sh "$variant"
  run "[$tag] lv2_cli" "$LOGS/$tag-lv2_cli.log" sh tests/lv2_cli.sh "$variant"
  # Issue 18: the man pages against every command's --help, and make install
  # into a temporary root (files, soname, exports, man, lv2ls, a pkg-config
  # user's program, make uninstall). Once: they test text and the install
  # layout, not memory safety.
  [ "$tag" = gcc ] && run "[$tag] man_drift" "$LOGS/$tag-man_drift.log" $PYTHON tests/man_drift.py "$variant"
  [ "$tag" = gcc ] && run "[$tag] install_cli" "$LOGS/$tag-install_cli.log" sh tests/install_cli.sh "$variant"
  # Real-time runs (a JACK server, a terminal): on the normal build; the same
  # code runs under the sanitizers in test_live and test_lv2_host.
  [ "$tag" = gcc ] && run "[$tag] live_jack" "$LOGS/$tag-live_jack.log" sh tests/live_jack.sh "$variant"
  [ "$tag" = gcc ] && run "[$tag] live_view_tmux" "$LOGS/$tag-live_view_tmux.log" sh tests/live_view_tmux.sh "$variant"
  # The UI: jalv on Xvfb, and valgrind (which cannot run under ASan)
  [ "$tag" = gcc ] && run "[$tag] ui_jalv" "$LOGS/$tag-ui_jalv.log" sh tests/ui_jalv.sh "$variant"
  run "[$tag] plot_cli" "$LOGS/$tag-plot_cli.log" sh tests/plot_cli.sh "$variant"
  # make robustness's degradations (sox, oggenc: no chordlet code): once.
  [ "$tag" = gcc ] && run "[$tag] robustness_cli" "$LOGS/$tag-robustness_cli.log" sh tests/robustness_cli.sh "$variant"
  # The whole data chain killed and resumed: once, on the normal build (it is slow
  # and exercises scripts, not memory safety).
  [ "$tag" = gcc ] && run "[$tag] data_resume" "$LOGS/$tag-data_resume.log" sh tests/data_resume.sh "$variant"
  # make data's real-music fetch on fake .debs (dpkg-deb, unzip, sox; the analysis is
  # chordlet-train real-music, so under the sanitizers too)
  run "[$tag] fetch_music_cli" "$LOGS/$tag-fetch_music_cli.log" sh tests/fetch_music_cli.sh "$variant"
  run "[$tag] eval_bad_input" "$LOGS/$tag-eval_bad_input.log" bash tests/eval_bad_input.sh "$variant/chordlet"
  # The libFuzzer harnesses (fuzz/): regression and corpus inputs replayed, each
  # harness fuzzed for 10 s. Once: the script builds its own clang ASan+UBSan
  # variant (build/fuzz).
  [ "$tag" = gcc ] && run "[$tag] fuzz_regress" "$LOGS/$tag-fuzz_regress.log" sh tests/fuzz_regress.sh build/fuzz
  log="$LOGS/$tag-mireval_diff.log"
  if have_mir_eval; then
    run "[$tag] mireval_diff" "$log" $PYTHON tests/mireval_diff.py "$variant/chordlet"
  else
    echo "needs Debian's python3-mir-eval (apt-get install python3-mir-eval)" >"$log"
    record "[$tag] mireval_diff" 77 "$log"
  fi
done

[ "$skipped" -gt 0 ] && echo "$skipped skipped (see above; CI runs them)"
echo "make test took $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
