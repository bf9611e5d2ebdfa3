/* bench_stream.c: `make bench`, the live front end: per-block cost of
 * cqt_stream_process at 48 kHz for blocks of 64 to 1024 samples (median, p99,
 * max in microseconds and as a share of the block's time budget), against a
 * baseline run in the same process: the same audio through the offline path
 * in one call, divided evenly over the blocks (the cost with no real-time
 * constraint, the floor a smooth stream can reach). Input: 30 s of a chord
 * with a little noise. One run per block size, plus the minimum over RUNS runs
 * of each block, which filters out other processes preempting this one. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_util.h"
#include "stream.h"

enum { RUNS = 5 };
static const double pi = 3.14159265358979323846;
static const double rate = 48000, seconds = 30;

int main(void) {
  cqt_params p;
  cqt_params_default(&p);
  const size_t n = (size_t)(seconds * rate);
  float *x = malloc(n * sizeof *x); /* (n) A minor over a bass A, plus noise */
  unsigned long long seed = 1;
  for (size_t i = 0; i < n; i++) {
    double t = i / rate;
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    double noise = (double)(seed >> 11) / 9007199254740992.0 - 0.5;
    x[i] = (float)(0.2 * sin(2 * pi * 110 * t) + 0.1 * sin(2 * pi * 261.6 * t) +
                   0.1 * sin(2 * pi * 329.6 * t) + 0.02 * noise);
  }
  chordlet_error err;
  float *frames;
  size_t T;
  double offline = 1e9;
  for (int r = 0; r < RUNS; r++) {
    double t0 = bench_now();
    if (cqt_features_offline(&p, x, n, rate, &frames, &T, &err)) {
      fprintf(stderr, "bench: %s\n", err.message);
      return 1;
    }
    double t = bench_now() - t0;
    if (t < offline) offline = t;
    free(frames);
  }
  printf("chordlet bench (live front end): %.0f s at %.0f Hz, %zu bins, hop %.0f ms, delay %.0f ms\n", seconds, rate,
         (size_t)p.n_bins, p.hop_seconds * 1e3, p.delay_seconds * 1e3);
  printf("offline (one call): %.1f ms = %.0fx real time\n\n", offline * 1e3, seconds / offline);
  printf("| block | budget us | median us | p99 us | max us | max/median | max %% of budget | min-of-%d max us | baseline us/block | median/baseline |\n", RUNS);
  printf("|---|---|---|---|---|---|---|---|---|---|\n");
  const int blocks[] = {64, 128, 256, 512, 1024};
  for (int k = 0; k < 5; k++) {
    size_t bs = (size_t)blocks[k], nb = n / bs;
    double *one = malloc(nb * sizeof *one), *best = malloc(nb * sizeof *best);
    for (size_t b = 0; b < nb; b++) best[b] = 1e9;
    for (int r = 0; r < RUNS; r++) {
      cqt_stream *s;
      if (cqt_stream_create(&p, rate, &s, &err)) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 1;
      }
      size_t cap = cqt_stream_max_frames_per_block(s, bs);
      float *out = malloc(cap * (size_t)p.n_bins * sizeof *out);
      for (size_t b = 0; b < nb; b++) {
        double t0 = bench_now();
        cqt_stream_process(s, x + b * bs, bs, out, cap);
        double t = bench_now() - t0;
        if (r == 0) one[b] = t;
        if (t < best[b]) best[b] = t;
      }
      cqt_stream_free(s);
      free(out);
    }
    qsort(one, nb, sizeof *one, bench_cmp_double);
    qsort(best, nb, sizeof *best, bench_cmp_double);
    double budget = bs / rate, base = offline / nb;
    printf("| %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.2f %% | %.1f | %.1f | %.2f |\n", blocks[k], budget * 1e6,
           one[nb / 2] * 1e6, one[nb * 99 / 100] * 1e6, one[nb - 1] * 1e6, one[nb - 1] / one[nb / 2],
           100 * one[nb - 1] / budget, best[nb - 1] * 1e6, base * 1e6, one[nb / 2] / base);
    free(one);
    free(best);
  }
  free(x);
  return 0;
}
