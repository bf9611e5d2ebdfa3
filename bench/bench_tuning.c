/* bench_tuning.c: `make bench`, what following the music's tuning costs
 * (issue 14), each against a baseline in the same run:
 *  a. offline: tuning_estimate over the demo at 22050 Hz (what chordlet
 *     transcribe adds), in x real time, against the student's front end
 *     (cqt_features_offline) over the same audio;
 *  b. live: the tracker's work per 20 ms of 48 kHz audio on the worker
 *     (median, p99, max over 30 s), against the front end's work per hop;
 *  c. moving the front end: rebuilding a kernel set in place
 *     (cqt_kernels_build, on the worker), against making a whole plan at that
 *     tuning (what a design without spare sets would do). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "audiofile.h"
#include "bench_util.h"
#include "stream.h"
#include "tuning.h"

enum { RUNS = 5 };

static void die(const char *what, const chordlet_error *err) {
  fprintf(stderr, "bench_tuning: %s: %s\n", what, err->message);
  exit(1);
}

int main(void) {
  chordlet_error err;
  audio_buffer a, b;
  if (audiofile_read("examples/synth0046.flac", 22050, &a, &err)) die("demo", &err);
  if (audiofile_read("examples/synth0046.flac", 48000, &b, &err)) die("demo at 48 kHz", &err);
  tuning_params tp;
  tuning_params_default(&tp);
  cqt_params cp;
  cqt_params_default(&cp);
  const double seconds = a.n_samples / 22050.0;

  /* a. offline */
  double t_est = 1e9, t_fe = 1e9, cents = 0;
  for (int r = 0; r < RUNS; r++) {
    int found;
    double t0 = bench_now();
    if (tuning_estimate(&tp, a.samples, a.n_samples, 22050, &found, &cents, &err)) die("estimate", &err);
    double t1 = bench_now();
    float *F;
    size_t T;
    if (cqt_features_offline_tuned(&cp, cents, a.samples, a.n_samples, 22050, &F, &T, &err)) die("front end", &err);
    double t2 = bench_now();
    free(F);
    t_est = fmin(t_est, t1 - t0);
    t_fe = fmin(t_fe, t2 - t1);
  }
  printf("## tuning (issue 14), best of %d runs\n\n", RUNS);
  printf("| what | measured | baseline in the same run | ratio |\n|---|---|---|---|\n");
  printf("| offline estimate, %.0f s demo at 22050 Hz (%+.2f cents) | %.1f ms = %.0fx real time | the student's "
         "front end on it: %.1f ms = %.0fx | %.2f of the front end's time |\n",
         seconds, cents, 1e3 * t_est, seconds / t_est, 1e3 * t_fe, seconds / t_fe, t_est / t_fe);

  /* b. live tracker per 20 ms at 48 kHz, against the front end per hop */
  tuning_tracker *tr;
  cqt_stream *s;
  if (tuning_tracker_create(&tp, 48000, tp.memory_seconds, &tr, &err)) die("tracker", &err);
  if (cqt_stream_create(&cp, 48000, &s, &err)) die("stream", &err);
  const size_t hop = 960, hops = b.n_samples / hop;
  double *tt = malloc(hops * sizeof *tt), *tf = malloc(hops * sizeof *tf);
  float frames[144 * 4];
  for (size_t h = 0; h < hops; h++) {
    double t0 = bench_now();
    tuning_tracker_push(tr, b.samples + h * hop, hop);
    double t1 = bench_now();
    cqt_stream_process(s, b.samples + h * hop, hop, frames, 4);
    double t2 = bench_now();
    tt[h] = t1 - t0;
    tf[h] = t2 - t1;
  }
  qsort(tt, hops, sizeof *tt, bench_cmp_double);
  qsort(tf, hops, sizeof *tf, bench_cmp_double);
  double live_cents;
  tuning_tracker_estimate(tr, &live_cents, NULL);
  printf("| live tracker per 20 ms hop at 48 kHz (worker) | median %.1f us, p99 %.1f us, max %.1f us | the front end "
         "per hop (audio thread): median %.1f us, p99 %.1f, max %.1f | (the tracker analyses every 186 ms: see the "
         "mean) |\n",
         1e6 * tt[hops / 2], 1e6 * tt[hops * 99 / 100], 1e6 * tt[hops - 1], 1e6 * tf[hops / 2],
         1e6 * tf[hops * 99 / 100], 1e6 * tf[hops - 1]);
  double sum_t = 0, sum_f = 0;
  for (size_t h = 0; h < hops; h++) sum_t += tt[h], sum_f += tf[h];
  printf("| live tracker, mean per hop | %.1f us (%.2f %% of the hop) | the front end: %.1f us | %.2f |\n",
         1e6 * sum_t / hops, 100 * sum_t / hops / 0.02, 1e6 * sum_f / hops, sum_t / sum_f);
  free(tt);
  free(tf);
  tuning_tracker_free(tr);

  /* c. moving the front end */
  cqt_kernels *set;
  if (cqt_kernels_create(cqt_stream_plan(s), &set, &err)) die("kernels", &err);
  cqt_stream_free(s);
  if (cqt_stream_create_tuned(&cp, 48000, 0, -166, 151, &s, &err)) die("stream", &err);
  cqt_kernels_free(set);
  if (cqt_kernels_create(cqt_stream_plan(s), &set, &err)) die("kernels", &err);
  double build = 1e9, plan = 1e9;
  for (int r = 0; r < 10; r++) {
    const double c = -45.0 + 10.0 * r;
    double t0 = bench_now();
    if (cqt_kernels_build(cqt_stream_plan(s), set, c)) die("build", &err);
    double t1 = bench_now();
    cqt_plan *pl;
    if (cqt_plan_create_tuned(&cp, 48000, c, c, c, &pl, &err)) die("plan", &err);
    double t2 = bench_now();
    cqt_plan_free(pl);
    build = fmin(build, t1 - t0);
    plan = fmin(plan, t2 - t1);
  }
  printf("| moving the live front end: a kernel set rebuilt in place (worker) | %.2f ms | a new plan at that tuning: "
         "%.2f ms | %.2f |\n",
         1e3 * build, 1e3 * plan, build / plan);
  cqt_kernels_free(set);
  cqt_stream_free(s);
  audio_buffer_free(&a);
  audio_buffer_free(&b);
  return 0;
}
