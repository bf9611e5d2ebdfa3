/* music_loop.c: see music_loop.h. */
#include "music_loop.h"

#include <math.h>
#include <stdlib.h>

#include "level_curve.h"
#include "music_compare.h"
#include "quantile.h"

/* env[i + p] for a fractional p, by linear interpolation in float, as NumPy
 * computes (1 - f) * env[i:] + f * env[i + 1:] on a float32 array: the
 * weights rounded to float, each product and the sum rounded to float
 * (separate statements: no fused multiply-add). Length n - ceil(p). */
static void shifted(const float *env, size_t n, double p, float *out) {
  const size_t i = (size_t)floor(p), m = n - (size_t)ceil(p);
  const double f = p - floor(p);
  if (f == 0) {
    for (size_t t = 0; t < m; t++) out[t] = env[i + t];
    return;
  }
  const float w0 = (float)(1 - f), w1 = (float)f;
  for (size_t t = 0; t < m; t++) {
    float a = w0 * env[i + t];
    float b = w1 * env[i + 1 + t];
    out[t] = a + b;
  }
}

/* |env[t] - shifted[t]| into diff (m values); returns how many sound. */
static size_t loop_diff(const float *env, size_t n, double p, float *b, float *diff, size_t *m_out) {
  const size_t m = n - (size_t)ceil(p);
  shifted(env, n, p, b);
  size_t live = 0;
  for (size_t t = 0; t < m; t++) {
    const float a = env[t];
    diff[t] = fabsf(a - b[t]);
    live += (a > b[t] ? a : b[t]) > MUSIC_SILENT_DB;
  }
  *m_out = m;
  return live;
}

/* The level-curve distance of env with itself p windows later (p may be
 * fractional): the 80th percentile of the difference over the windows where
 * either sounds; INFINITY when under half of the overlap sounds. scratch: 2n
 * floats. */
static double distance_with(const float *env, size_t n, double p, float *scratch) {
  float *b = scratch, *diff = scratch + n;
  size_t m;
  const size_t live = loop_diff(env, n, p, b, diff, &m);
  if (live < m / 2) return INFINITY;
  size_t k = 0; /* the sounding windows' differences, packed */
  for (size_t t = 0; t < m; t++)
    if ((env[t] > b[t] ? env[t] : b[t]) > MUSIC_SILENT_DB) diff[k++] = diff[t];
  return np_percentile_f(diff, k, 0.8);
}

/* The first window from which a 2 s run (20 windows) of the curve matches
 * itself one period later within LOOP_DB on average: where the looped part
 * starts. 0 when none does (NumPy's argmax of an all-false array). */
static long loop_start(const float *env, size_t n, double period, float *scratch) {
  float *b = scratch, *diff = scratch + n;
  size_t m;
  loop_diff(env, n, period, b, diff, &m);
  for (size_t t = 0; t + 20 <= m; t++) {
    double run = 0; /* np.convolve with ones(20) / 20 */
    for (size_t j = 0; j < 20; j++) run += diff[t + j] * 0.05;
    if (run <= LOOP_DB) return (long)t;
  }
  return 0;
}

bool music_find_loop(const float *env, size_t n, music_loop *loop) {
  const long first = (long)(LOOP_MIN_PERIOD_S / LEVEL_HOP_S), last = (long)(n / 2);
  if (last < first) return false;
  const size_t n_lags = (size_t)(last - first + 1);
  double *ds = malloc(2 * n_lags * sizeof *ds);
  float *scratch = malloc((2 * n + 1) * sizeof *scratch);
  if (!ds || !scratch) {
    free(ds);
    free(scratch);
    return false;
  }
  double *finite = ds + n_lags;
  size_t n_finite = 0;
  for (size_t k = 0; k < n_lags; k++) {
    ds[k] = distance_with(env, n, (double)(first + (long)k), scratch);
    if (isfinite(ds[k])) finite[n_finite++] = ds[k];
  }
  /* a steady curve is close to itself at every lag: compare with the median */
  const double median = n_finite ? np_median_d(finite, n_finite) : NAN;
  const long per_second = (long)(1 / LEVEL_HOP_S);
  long tried = -1;
  bool found = false;
  for (long k0 = 0; k0 < (long)n_lags && !found; k0++) {
    if (!(ds[k0] <= LOOP_GATE_DB) || k0 <= tried) continue;
    /* candidates from the shortest lag up, one a second: the best lag of the
     * next second, then refined by quarter windows */
    tried = k0 + per_second;
    long k = k0;
    for (long j = k0 + 1; j <= tried && j < (long)n_lags; j++)
      if (ds[j] < ds[k]) k = j;
    const long p = first + k;
    double best = INFINITY, period = 0;
    bool any = false;
    for (int q = -3; q <= 3; q++) {
      const double cand = (double)p + 0.25 * q;
      if (!(cand < (double)last)) continue;
      const double d = distance_with(env, n, cand, scratch);
      if (!any || d < best) best = d, period = cand, any = true;
    }
    if (any && best <= LOOP_DB && best <= LOOP_CONTRAST * median) {
      loop->period = period;
      loop->distance = best;
      loop->start = loop_start(env, n, period, scratch);
      found = true;
    }
  }
  free(ds);
  free(scratch);
  return found;
}

/* sum of x[i] y[i] in double (products of floats are exact in double); four
 * partial sums for speed, a fixed order for reproducibility */
static double dot(const float *x, const float *y, size_t n) {
  double s[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; j++) s[j] += (double)x[i + j] * y[i + j];
  for (; i < n; i++) s[0] += (double)x[i] * y[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

double music_loop_correlation(const float *x, size_t n, double rate, double period_s, double start_s,
                              double *period_out) {
  *period_out = period_s;
  /* Python's int(): truncation (all positive) */
  const double s0d = start_s * rate, Ld = 5 * rate, wd = 0.15 * rate, p0d = period_s * rate;
  if (!(s0d >= 0 && p0d >= 0) || s0d + p0d + wd + Ld > (double)n + 4) return 0.0;
  const size_t s0 = (size_t)s0d, L = (size_t)Ld, w = (size_t)wd, p0 = (size_t)p0d;
  if (s0 + p0 + w + L > n || p0 <= w) return 0.0;
  /* the lag where 5 s from the start match best, within w of p0 */
  size_t best = 0;
  double best_c = -INFINITY;
  for (size_t k = 0; k <= 2 * w; k++) {
    const double c = dot(x + s0 + p0 - w + k, x + s0, L);
    if (c > best_c) best_c = c, best = k;
  }
  const size_t lag = p0 - w + best, m = n - lag - s0;
  const float *a = x + s0, *b = x + s0 + lag;
  const double den = sqrt(dot(a, a, m) * dot(b, b, m));
  *period_out = (double)lag / rate;
  return den > 0 ? dot(a, b, m) / den : 0.0;
}
