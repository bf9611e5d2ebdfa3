/* test_decode_stream.c: the frame-by-frame decoders (decode_stream.h) give
 * decode_viterbi's and decode_argmax's paths exactly, with each run's
 * confidence sum equal to a loop over the run, on random probabilities
 * (smooth ones, and coarse ones full of ties), with several penalties
 * (0 included), 1 to 6 terms per state; and the Viterbi tree stays small
 * on a long input while decode_viterbi would hold a back-pointer per frame
 * and state. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "decode_stream.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Probabilities (T, C): a slowly changing favourite column plus noise;
 * coarse: values on a grid of 4 levels, so that scores tie often. */
static void make_probs(float *p, size_t T, size_t C, int coarse) {
  size_t fav = 0;
  for (size_t t = 0; t < T; t++) {
    if (uniform() < 0.02) fav = (size_t)(uniform() * C);
    double sum = 0;
    for (size_t c = 0; c < C; c++) {
      double v = uniform() + (c == fav ? 3.0 : 0.0);
      if (coarse) v = floor(v * 1.5) + 1;
      p[t * C + c] = (float)v;
      sum += v;
    }
    for (size_t c = 0; c < C; c++) p[t * C + c] = (float)(p[t * C + c] / sum);
  }
}

/* The runs of path with sums of conf's column col_of(state), as recognizer.c sums them. */
static size_t expected_runs(const int32_t *path, size_t T, const float *conf, size_t C, const int32_t *sum_columns,
                            decode_scored_run *out) {
  decode_run *runs = malloc(T * sizeof *runs);
  size_t n = decode_runs(path, T, runs);
  for (size_t i = 0; i < n; i++) {
    int32_t col = sum_columns ? sum_columns[runs[i].state] : runs[i].state;
    double sum = 0;
    for (size_t t = runs[i].first; t <= runs[i].last; t++) sum += conf[t * C + col];
    out[i] = (decode_scored_run){runs[i].first, runs[i].last, runs[i].state, sum};
  }
  free(runs);
  return n;
}

static int same_runs(const decode_scored_run *a, size_t na, const decode_scored_run *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (a[i].first != b[i].first || a[i].last != b[i].last || a[i].state != b[i].state ||
        memcmp(&a[i].sum, &b[i].sum, sizeof a[i].sum) != 0)
      return 0;
  return 1;
}

static void compare(size_t T, size_t C, size_t S, size_t terms, double penalty, int coarse) {
  float *p = malloc(T * C * sizeof *p), *conf = malloc(T * C * sizeof *conf);
  int32_t *columns = malloc(S * terms * sizeof *columns), *sum_columns = malloc(S * sizeof *sum_columns);
  int32_t *path = malloc(T * sizeof *path);
  decode_scored_run *want = malloc(T * sizeof *want), *got = NULL;
  make_probs(p, T, C, coarse);
  make_probs(conf, T, C, 0);
  for (size_t s = 0; s < S; s++) {
    for (size_t k = 0; k < terms; k++)
      columns[s * terms + k] = k > 0 && uniform() < 0.3 ? -1 : (int32_t)((s + k * 7) % C);
    sum_columns[s] = (int32_t)(s % C);
  }
  chordlet_error err;
  CHECK(decode_viterbi(p, T, C, columns, S, terms, penalty, path, &err) == CHORDLET_OK, "%s", err.message);
  size_t n_want = expected_runs(path, T, conf, C, sum_columns, want), n_got = 0;
  decode_stream *d = NULL;
  CHECK(decode_stream_viterbi(columns, S, terms, C, sum_columns, penalty, &d, &err) == CHORDLET_OK, "%s", err.message);
  for (size_t t = 0; d && t < T; t++) CHECK(decode_stream_push(d, p + t * C, conf + t * C, &err) == CHORDLET_OK, "push");
  CHECK(d && decode_stream_finish(d, &got, &n_got, &err) == CHORDLET_OK, "finish");
  CHECK(same_runs(want, n_want, got, n_got),
        "viterbi T %zu, %zu states of %zu terms, penalty %g%s: %zu runs, expected %zu", T, S, terms, penalty,
        coarse ? ", ties" : "", n_got, n_want);
  decode_stream_free(d);
  free(got);
  got = NULL;

  decode_argmax(p, T, C, path);
  n_want = expected_runs(path, T, conf, C, NULL, want);
  CHECK(decode_stream_argmax(C, &d, &err) == CHORDLET_OK, "%s", err.message);
  for (size_t t = 0; t < T; t++) decode_stream_push(d, p + t * C, conf + t * C, &err);
  CHECK(decode_stream_finish(d, &got, &n_got, &err) == CHORDLET_OK && same_runs(want, n_want, got, n_got),
        "argmax T %zu%s: %zu runs, expected %zu", T, coarse ? ", ties" : "", n_got, n_want);
  decode_stream_free(d);
  free(got);
  free(p);
  free(conf);
  free(columns);
  free(sum_columns);
  free(path);
  free(want);
}

int main(void) {
  const double penalties[] = {0.0, 0.5, 3.0, 30.0};
  for (int coarse = 0; coarse < 2; coarse++)
    for (size_t i = 0; i < sizeof penalties / sizeof *penalties; i++) {
      compare(1, 5, 3, 1, penalties[i], coarse);
      compare(2, 5, 3, 1, penalties[i], coarse);
      compare(700, 12, 12, 1, penalties[i], coarse);
      compare(500, 100, 40, 6, penalties[i], coarse);
      compare(3000, 170, 170, 1, penalties[i], coarse);
    }

  /* A long input (an hour of the live student's 20 ms frames): the tree
   * holds the final path's runs and the branches still open, not frames. */
  const size_t T = 180000, C = 170;
  float *p = malloc(C * sizeof *p);
  int32_t columns[170];
  for (int s = 0; s < 170; s++) columns[s] = s;
  decode_stream *d;
  chordlet_error err;
  CHECK(decode_stream_viterbi(columns, C, 1, C, columns, 30.0, &d, &err) == CHORDLET_OK, "%s", err.message);
  size_t fav = 0;
  for (size_t t = 0; t < T; t++) {
    if (t % 100 == 0) fav = (size_t)(uniform() * C); /* a chord every 2 s */
    for (size_t c = 0; c < C; c++) p[c] = (float)((uniform() + (c == fav ? 20.0 : 0.0)) / (C * 0.5 + 20.0));
    decode_stream_push(d, p, p, &err);
  }
  decode_scored_run *runs;
  size_t n_runs;
  CHECK(decode_stream_finish(d, &runs, &n_runs, &err) == CHORDLET_OK, "%s", err.message);
  const size_t peak = decode_stream_peak_nodes(d);
  printf("# %zu frames: %zu runs, at most %zu tree nodes held (decode_viterbi: %zu back-pointers)\n", T, n_runs, peak,
         T * C);
  CHECK(n_runs >= 1700 && n_runs <= 1900, "%zu runs for 1800 chords", n_runs);
  CHECK(peak <= n_runs + 2 * C, "%zu nodes held for %zu runs", peak, n_runs);
  free(runs);
  decode_stream_free(d);
  free(p);
  return check_summary("test_decode_stream");
}
