/* quantile.c: see quantile.h. */
#include "quantile.h"

#include <math.h>

/* The k-th smallest of v (n), leaving every smaller value before k and every
 * larger one after it. Three-way partitions keep runs of equal values (a
 * silent stretch's -70 dB floor) linear. */
#define DEFINE_SELECT(NAME, T)                                      \
  static T NAME(T *v, size_t n, size_t k) {                         \
    size_t lo = 0, hi = n;                                          \
    while (hi - lo > 1) {                                           \
      T a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1];        \
      T pivot = a < b ? (b < c ? b : (a < c ? c : a))               \
                      : (a < c ? a : (b < c ? c : b));              \
      size_t lt = lo, i = lo, gt = hi;                              \
      while (i < gt) {                                              \
        T x = v[i];                                                 \
        if (x < pivot) {                                            \
          v[i++] = v[lt];                                           \
          v[lt++] = x;                                              \
        } else if (x > pivot) {                                     \
          v[i] = v[--gt];                                           \
          v[gt] = x;                                                \
        } else {                                                    \
          i++;                                                      \
        }                                                           \
      }                                                             \
      if (k < lt)                                                   \
        hi = lt;                                                    \
      else if (k >= gt)                                             \
        lo = gt;                                                    \
      else                                                          \
        return pivot;                                               \
    }                                                               \
    return v[k];                                                    \
  }
DEFINE_SELECT(select_f, float)
DEFINE_SELECT(select_d, double)

static int any_nan_f(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (isnan(v[i])) return 1;
  return 0;
}

static int any_nan_d(const double *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (isnan(v[i])) return 1;
  return 0;
}

/* After select(v, n, k): the (k+1)-th smallest is the least of what follows. */
static float next_f(const float *v, size_t n, size_t k) {
  float m = v[k + 1];
  for (size_t i = k + 2; i < n; i++)
    if (v[i] < m) m = v[i];
  return m;
}

double np_percentile_f(float *v, size_t n, double q) {
  if (n == 0 || any_nan_f(v, n)) return NAN;
  const double vi = (double)(n - 1) * q;
  if (vi >= (double)(n - 1)) return select_f(v, n, n - 1);
  const size_t k = (size_t)floor(vi);
  const float a = select_f(v, n, k), b = next_f(v, n, k);
  const double gamma = vi - (double)k;
  const float diff = b - a; /* NumPy subtracts the float32 neighbours in float32 */
  return gamma >= 0.5 ? (double)b - (double)diff * (1 - gamma) : (double)a + (double)diff * gamma;
}

float np_median_f(float *v, size_t n) {
  if (n == 0 || any_nan_f(v, n)) return NAN;
  const size_t h = n / 2;
  const float upper = select_f(v, n, h);
  if (n % 2) return upper;
  float lower = v[0]; /* the largest of the lower half */
  for (size_t i = 1; i < h; i++)
    if (v[i] > lower) lower = v[i];
  const float sum = lower + upper;
  return (float)((double)sum / 2);
}

double np_median_d(double *v, size_t n) {
  if (n == 0 || any_nan_d(v, n)) return NAN;
  const size_t h = n / 2;
  const double upper = select_d(v, n, h);
  if (n % 2) return upper;
  double lower = v[0];
  for (size_t i = 1; i < h; i++)
    if (v[i] > lower) lower = v[i];
  return (lower + upper) / 2;
}
