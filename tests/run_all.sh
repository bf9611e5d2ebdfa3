#!/bin/sh
# run_all.sh: `make test`. Builds chordlet three ways and runs every test on
# the normal build and on the ASan+UBSan build:
#   build/        gcc, -O2, -Werror      (the product)
#   build/asan/   gcc, ASan+UBSan, every error fatal
#   build/clang/  clang, -Werror         (warnings-clean on both compilers)
#   build/mpi/    gcc, make MPI=1        (chordlet-train only, for tests/mpi_cli.sh)
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
TALLY=$LOGS/tally-main
: >"$TALLY"
jobs=$(nproc 2>/dev/null || echo 2)
started=$(date +%s)

# record NAME STATUS LOG [SECONDS]: STATUS 0 pass, 77 skip (fail in CI), else fail.
# Each result is printed with one printf, so that the two lanes below never
# interleave inside a result; the counts go to the lane's tally file.
record() {
  name=$1 status=$2 log=$3 took=${4:-}
  [ -n "$took" ] && name="$name (${took} s)"
  if [ "$status" -eq 0 ]; then
    echo pass >>"$TALLY"
    printf 'PASS  %s\n' "$name"
  elif [ "$status" -eq 77 ] && [ "${CI:-}" != "true" ]; then
    echo skip >>"$TALLY"
    printf 'SKIP  %s: %s\n' "$name" "$(tail -n 1 "$log")"
  else
    echo fail >>"$TALLY"
    if [ "$status" -eq 77 ]; then
      head="FAIL  $name: a requirement is missing, and CI must have it"
    else
      head="FAIL  $name (exit $status)"
    fi
    printf '%s\n%s\n' "$head" "$(tail -n 25 "$log" | sed 's/^/      /')"
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
# Issue 16: chordlet-train with OpenMPI (make MPI=1), for tests/mpi_cli.sh only
# (which skips, exit 77, without mpirun).
if command -v mpirun >/dev/null 2>&1; then
  run "build mpi" "$LOGS/build-mpi.log" make -j"$jobs" MPI=1 BUILD=build/mpi build/mpi/chordlet-train
fi

have_mir_eval() {
  $PYTHON -c 'import mir_eval' >/dev/null 2>&1
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
# lane VARIANT: every test on one build. The two builds' lanes run side by side
# (2 cores: most tests use one), each with its own tally file. Two slow tests
# of the normal build that need no other test (the Debian packages, the fuzz
# harnesses: each builds or writes only in its own folders) run in the ASan
# lane, to balance the two. Measured on a fresh clone with idle cores (CI, 2026-12-07):
# the gcc lane 462 s of tests, the ASan lane 738 s with these two and the data
# chain's resume (151 s), which therefore went back to the gcc lane.
lane() {
  variant=$1
  tag=$( [ "$variant" = build ] && echo gcc || echo asan )
  TALLY=$LOGS/tally-$tag
  : >"$TALLY"
  if [ ! -x "$variant/chordlet" ]; then
    echo "FAIL  [$tag] no binaries: the build failed"
    echo fail >>"$TALLY"
    return
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
  # transcribe's peak RSS for 10 minutes and 2 hours with both students (issue 17):
  # the normal build only (under ASan RSS is shadow memory); about 90 s of CPU.
  [ "$tag" = gcc ] && run "[$tag] transcribe_memory" "$LOGS/$tag-transcribe_memory.log" sh tests/transcribe_memory.sh "$variant"
  # The allocation-failure sweep of the command (issue 17, tests/failmalloc.h;
  # test_alloc_fail sweeps the library and the plugin): the normal build only,
  # as ASan owns malloc.
  [ "$tag" = gcc ] && run "[$tag] alloc_fail_cli" "$LOGS/$tag-alloc_fail_cli.log" sh tests/alloc_fail_cli.sh "$variant"
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
  # docs/RESULTS.md's analysis scripts on evaluations with known answers (standard library only)
  [ "$tag" = gcc ] && run "[$tag] analysis_scripts" "$LOGS/$tag-analysis_scripts.log" sh tests/analysis_scripts.sh
  # Issue 18: the Debian packages built from a copy of the tree, lintian,
  # installed, used and purged (root only: skips elsewhere; about 1.5 min), and
  # chordlet.lv2 in Ardour 7 (ardour7-lua, Dummy backend; about 25 s).
  [ "$tag" = asan ] && run "[gcc] deb_install" "$LOGS/gcc-deb_install.log" sh tests/deb_install.sh build
  [ "$tag" = gcc ] && run "[$tag] ardour_cli" "$LOGS/$tag-ardour_cli.log" sh tests/ardour_cli.sh "$variant"
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
  # mpirun -np 2: sharded data preparation and training equal to one process,
  # a lost rank (issue 16). Once, on the MPI build of the gcc compiler.
  [ "$tag" = gcc ] && run "[$tag] mpi_cli" "$LOGS/$tag-mpi_cli.log" sh tests/mpi_cli.sh build/mpi
  # make data's real-music fetch on fake .debs (dpkg-deb, unzip, sox; the analysis is
  # chordlet-train real-music, so under the sanitizers too)
  run "[$tag] fetch_music_cli" "$LOGS/$tag-fetch_music_cli.log" sh tests/fetch_music_cli.sh "$variant"
  run "[$tag] eval_bad_input" "$LOGS/$tag-eval_bad_input.log" bash tests/eval_bad_input.sh "$variant/chordlet"
  # The libFuzzer harnesses (fuzz/): regression and corpus inputs replayed, each
  # harness fuzzed for 10 s. Once: the script builds its own clang ASan+UBSan
  # variant (build/fuzz).
  [ "$tag" = asan ] && run "[gcc] fuzz_regress" "$LOGS/gcc-fuzz_regress.log" sh tests/fuzz_regress.sh build/fuzz
  log="$LOGS/$tag-mireval_diff.log"
  if have_mir_eval; then
    run "[$tag] mireval_diff" "$log" $PYTHON tests/mireval_diff.py "$variant/chordlet"
  else
    echo "needs Debian's python3-mir-eval (apt-get install python3-mir-eval)" >"$log"
    record "[$tag] mireval_diff" 77 "$log"
  fi
}

lane build/asan &
asan_lane=$!
lane build
wait "$asan_lane"

count() { cat "$LOGS"/tally-main "$LOGS"/tally-gcc "$LOGS"/tally-asan 2>/dev/null | grep -c "^$1\$"; }
passed=$(count pass)
failed=$(count fail)
skipped=$(count skip)
[ "$skipped" -gt 0 ] && echo "$skipped skipped (see above; CI runs them)"
echo "make test took $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
