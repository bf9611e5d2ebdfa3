/* cqt.c: the student's constant-Q transform (cqt.h): parameters, bin
 * geometry, the embedded 2:1 decimator, per-rate plans (groups, kernels in
 * closed form, FFTW plans, the units of a hop's work), the real-time pieces
 * (group FFT, kernel products, one decimator output), and the direct
 * reference that defines the features. */
#define _POSIX_C_SOURCE 200809L
#include "cqt.h"

#include <fftw3.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model_keys.h"

#define PI 3.141592653589793

/* Four floats, for the products and the decimator (GCC/clang vector
 * extension: SSE on x86-64, NEON on arm64, plain code elsewhere). */
typedef float cqt_v4 __attribute__((vector_size(16)));

/* libsoxr 0.1.3's HQ 2:1 decimator (soxr_quality_spec(SOXR_HQ, 0), float32),
 * measured from its impulse response (shared/reference/cqt/
 * soxr_hq_2to1_fir.json): h[0..191], h[-n] = h[n], averaged over the two
 * sides and scaled to sum 1 in double before rounding to float. Taps beyond
 * 191 are below 2e-8 and left out, as soxr's own output shows. */
static const float DECIM_TAPS[CQT_DECIM_HALF + 1] = {
    0.478435963,     0.317527145,     0.0214839373,    -0.103764758,    -0.0212447718,   0.0597964749,
    0.0208504647,    -0.0401278585,   -0.0203073677,   0.0286084544,    0.0196241718,    -0.0208452474,
    -0.0188117214,   0.015157152,     0.0178827681,    -0.0107657937,   -0.0168517139,   0.00726319989,
    0.0157342758,    -0.00441558147,  -0.0145471757,   0.00207924261,   0.0133077819,    -0.000160309981,
    -0.0120337494,   -0.00140617276,  0.0107426802,    0.0026677968,    -0.00945178047,  -0.00366150914,
    0.00817752723,   0.00441763364,   -0.00693537947,  -0.00496234698,  0.00573952915,   0.00531919394,
    -0.00460265297,  -0.00551001541,  0.00353575195,   0.00555549469,   -0.00254800543,  -0.00547543308,
    0.00164668437,   0.00528888777,   -0.000837121624, -0.00501415972,  0.000122693731,  0.00466874987,
    0.000495101034,  -0.00426924555,  -0.00101657654,  0.00383120007,   0.0014437153,    -0.00336902146,
    -0.00178002403,  0.00289584114,   0.00203034794,   -0.00242341403,  -0.0022006603,   0.0019620629,
    0.00229786243,   -0.00152060378,  -0.00232955022,  0.00110634323,   0.00230379822,   -0.000725096615,
    -0.00222896272,  0.000381181453,  0.00211342773,   -7.75582812e-05, -0.00196546572,  -0.000184149409,
    0.00179305067,   0.000403505197,  -0.00160369219,  -0.000581134576, 0.00140434154,   0.000718597264,
    -0.00120126619,  -0.000818230154, 0.000999997486,  0.000883005676,  -0.00080527697,  -0.000916354707,
    0.000621031504,  0.000922053878,  -0.000450374442, -0.000904062181, 0.000295639591,  0.00086640229,
    -0.000158410519, -0.000813042163, 3.95781644e-05,  0.000747796788,  6.05800597e-05,  -0.000674257521,
    -0.000142354154, 0.000595676072,  0.000206460711,  -0.00051500753,  -0.00025403389,  0.000434779999,
    0.000286478346,  -0.00035712414,  -0.000305406778, 0.000283778441,  0.000312582852,  -0.000216064713,
    -0.000309805939, 0.000154948677,  0.000298889761,  -0.000101026875, -0.00028159027,  5.45905787e-05,
    0.000259563647,  -1.56574388e-05, -0.000234321575, -1.5988775e-05,  0.000207220553,  4.07536863e-05,
    -0.000179436145, -5.91836651e-05, 0.000151955246,  7.19267409e-05,  -0.000125584542, -7.96986424e-05,
    0.000100939331,  8.32425212e-05,  -7.84659351e-05, -8.33129816e-05, 5.84588634e-05,  8.06035096e-05,
    -4.10660141e-05, -7.58110182e-05, 2.63242891e-05,  6.95375638e-05,  -1.41678793e-05, -6.23234737e-05,
    4.45055275e-06,  5.4639273e-05,   3.02698686e-06,  -4.68636244e-05, -8.50442302e-06, 3.93076989e-05,
    1.22474557e-05,  -3.21980915e-05, -1.45214008e-05, 2.57054417e-05,  1.55989401e-05,  -1.99330898e-05,
    -1.57329396e-05, 1.49287152e-05,  1.51566237e-05,  -1.07061078e-05, -1.40798284e-05, 7.2376879e-06,
    1.26759651e-05,  -4.47316825e-06, -1.11004147e-05, 2.34768231e-06,  9.47185981e-06,  -7.66915946e-07,
    -7.87806948e-06, -3.35498584e-07, 6.38768233e-06,  1.0503378e-06,   -5.04644822e-06, -1.45935508e-06,
    3.87776936e-06,  1.6344909e-06,   -2.8896668e-06,  -1.64360074e-06, 2.08015763e-06,  1.53761289e-06,
    -1.4360337e-06,  -1.35960113e-06, 9.4641473e-07,   1.1536016e-06,   -5.80463222e-07, -9.35326909e-07,
    3.24326379e-07,  7.26959911e-07,  -1.52980249e-07, -5.45138846e-07, 4.44532482e-08,  3.88164153e-07,
    1.14476464e-08,  -2.62511548e-07, -3.50344216e-08, 1.67479158e-07,  4.15386268e-08,  -1.00458408e-07,
};

const float *cqt_decimator_taps(void) { return DECIM_TAPS; }

/* ------------------------------------------------------------- parameters */

void cqt_params_default(cqt_params *p) {
  const double b = pow(2.0, 2.0 / 24.0);
  memset(p, 0, sizeof *p);
  p->version = CQT_PARAMS_VERSION;
  p->hop_seconds = 0.02;
  p->delay_seconds = 0.12;
  p->fmin_hz = 32.703195662574829; /* C1, A4 = 440 Hz */
  p->n_bins = 144;
  p->bins_per_octave = 24;
  p->q = (b + 1.0) / (b - 1.0); /* librosa 0.10: 1 / alpha, alpha = (2^(2/B) - 1) / (2^(2/B) + 1) */
  p->min_window_seconds = 0.04;
  p->max_window_seconds = 0.22;
  p->window = CQT_WINDOW_HANN;
  p->log_eps = 1e-5;
}

double cqt_bin_frequency(const cqt_params *p, int bin) {
  return p->fmin_hz * pow(2.0, (double)bin / (double)p->bins_per_octave);
}

double cqt_bin_window_seconds(const cqt_params *p, int bin) {
  double t = p->q / cqt_bin_frequency(p, bin);
  if (t < p->min_window_seconds) t = p->min_window_seconds;
  if (t > p->max_window_seconds) t = p->max_window_seconds;
  return t;
}

double cqt_bin_bandwidth_hz(const cqt_params *p, int bin) { return 1.4406 / cqt_bin_window_seconds(p, bin); }

/* The highest frequency a bin's main lobe reaches (its centre plus 2 / T). */
static double top_reach_hz(const cqt_params *p) {
  int top = p->n_bins - 1;
  return cqt_bin_frequency(p, top) + 2.0 / cqt_bin_window_seconds(p, top);
}

static bool whole_multiple(double x, double unit) {
  double k = x / unit;
  return fabs(k - nearbyint(k)) <= 1e-9 * fmax(1.0, fabs(k));
}

chordlet_status cqt_params_check(const cqt_params *p, chordlet_error *err) {
  if (!p) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no front-end parameters");
  if (p->version != CQT_PARAMS_VERSION)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "front-end version %d: this engine computes version %d",
                         p->version, CQT_PARAMS_VERSION);
  if (!(p->hop_seconds >= 0.001 && p->hop_seconds <= 1.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "hop %g s: must be between 1 ms and 1 s", p->hop_seconds);
  if (!(p->delay_seconds >= p->hop_seconds && p->delay_seconds <= 10.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "delay %g s: must be between one hop (%g s) and 10 s",
                         p->delay_seconds, p->hop_seconds);
  if (!whole_multiple(p->delay_seconds, p->hop_seconds))
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "delay %g s is not a whole number of hops (%g s): frames would not be "
                         "centred on the hop grid",
                         p->delay_seconds, p->hop_seconds);
  if (!(p->fmin_hz >= 1.0 && p->fmin_hz <= 20000.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "fmin %g Hz: must be between 1 Hz and 20 kHz", p->fmin_hz);
  if (p->bins_per_octave < 1 || p->bins_per_octave > 96)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "bins per octave %d: must be 1..96", p->bins_per_octave);
  if (p->n_bins < 1 || p->n_bins > CQT_MAX_BINS)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "n_bins %d: must be 1..%d", p->n_bins, (int)CQT_MAX_BINS);
  if (!(p->q >= 0.5 && p->q <= 1000.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "q %g: must be between 0.5 and 1000", p->q);
  if (!(p->min_window_seconds >= 0.002 && p->min_window_seconds <= p->max_window_seconds))
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "min window %g s: must be at least 2 ms and at most the max window (%g s)",
                         p->min_window_seconds, p->max_window_seconds);
  double longest = 2.0 * (p->delay_seconds - CQT_DECIM_LOOKAHEAD_MAX);
  if (!(p->max_window_seconds <= longest + 1e-12))
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "max window %g s does not fit the delay %g s: a window centred %g s back "
                         "may be at most 2 * (%g - %.5f) = %.5f s long (the decimators look %.2f ms "
                         "ahead)",
                         p->max_window_seconds, p->delay_seconds, p->delay_seconds, p->delay_seconds,
                         CQT_DECIM_LOOKAHEAD_MAX, longest, 1e3 * CQT_DECIM_LOOKAHEAD_MAX);
  if (p->window != CQT_WINDOW_HANN)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "window %d: only Hann (%d) is defined", p->window,
                         (int)CQT_WINDOW_HANN);
  if (!(p->log_eps > 0.0 && p->log_eps <= 1.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "log eps %g: must be in (0, 1]", p->log_eps);
  double reach = top_reach_hz(p), limit = 0.45 * CQT_INNER_RATE_MIN;
  if (!(reach <= limit))
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "the top bin (%.1f Hz, main lobe to %.1f Hz) reaches past %.1f Hz, the "
                         "decimators' passband",
                         cqt_bin_frequency(p, p->n_bins - 1), reach, limit);
  return CHORDLET_OK;
}

bool cqt_params_equal(const cqt_params *a, const cqt_params *b) {
  return a->version == b->version && a->hop_seconds == b->hop_seconds &&
         a->delay_seconds == b->delay_seconds && a->fmin_hz == b->fmin_hz && a->n_bins == b->n_bins &&
         a->bins_per_octave == b->bins_per_octave && a->q == b->q &&
         a->min_window_seconds == b->min_window_seconds && a->max_window_seconds == b->max_window_seconds &&
         a->window == b->window && a->log_eps == b->log_eps;
}

chordlet_status cqt_params_write(const cqt_params *p, model_writer *w, chordlet_error *err) {
  chordlet_status st = cqt_params_check(p, err);
  if (st) return st;
  if ((st = model_writer_set_i64(w, MK_STREAM_VERSION, p->version, err)) ||
      (st = model_writer_set_f64(w, MK_STREAM_HOP, p->hop_seconds, err)) ||
      (st = model_writer_set_f64(w, MK_STREAM_DELAY, p->delay_seconds, err)) ||
      (st = model_writer_set_f64(w, MK_STREAM_FMIN, p->fmin_hz, err)) ||
      (st = model_writer_set_i64(w, MK_STREAM_N_BINS, p->n_bins, err)) ||
      (st = model_writer_set_i64(w, MK_STREAM_BINS_PER_OCTAVE, p->bins_per_octave, err)) ||
      (st = model_writer_set_f64(w, MK_STREAM_Q, p->q, err)) ||
      (st = model_writer_set_f64(w, MK_STREAM_MIN_WINDOW, p->min_window_seconds, err)) ||
      (st = model_writer_set_f64(w, MK_STREAM_MAX_WINDOW, p->max_window_seconds, err)) ||
      (st = model_writer_set_str(w, MK_STREAM_WINDOW, "hann", err)) ||
      (st = model_writer_set_f64(w, MK_STREAM_LOG_EPS, p->log_eps, err)))
    return st;
  return CHORDLET_OK;
}

static chordlet_status get_int(const model_file *m, const char *key, int *out, chordlet_error *err) {
  int64_t v;
  chordlet_status st = model_file_get_i64(m, key, &v, err);
  if (st) return st;
  if (v < -1000000 || v > 1000000)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: %lld is out of range", key, (long long)v);
  *out = (int)v;
  return CHORDLET_OK;
}

chordlet_status cqt_params_read(const model_file *m, cqt_params *p, chordlet_error *err) {
  cqt_params r;
  memset(&r, 0, sizeof r);
  const char *window;
  chordlet_status st;
  if ((st = get_int(m, MK_STREAM_VERSION, &r.version, err)) ||
      (st = model_file_get_f64(m, MK_STREAM_HOP, &r.hop_seconds, err)) ||
      (st = model_file_get_f64(m, MK_STREAM_DELAY, &r.delay_seconds, err)) ||
      (st = model_file_get_f64(m, MK_STREAM_FMIN, &r.fmin_hz, err)) ||
      (st = get_int(m, MK_STREAM_N_BINS, &r.n_bins, err)) ||
      (st = get_int(m, MK_STREAM_BINS_PER_OCTAVE, &r.bins_per_octave, err)) ||
      (st = model_file_get_f64(m, MK_STREAM_Q, &r.q, err)) ||
      (st = model_file_get_f64(m, MK_STREAM_MIN_WINDOW, &r.min_window_seconds, err)) ||
      (st = model_file_get_f64(m, MK_STREAM_MAX_WINDOW, &r.max_window_seconds, err)) ||
      (st = model_file_get_str(m, MK_STREAM_WINDOW, &window, err)) ||
      (st = model_file_get_f64(m, MK_STREAM_LOG_EPS, &r.log_eps, err)))
    return st;
  if (strcmp(window, "hann") != 0)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: '%s' (this engine knows 'hann')", MK_STREAM_WINDOW,
                         window);
  r.window = CQT_WINDOW_HANN;
  if ((st = cqt_params_check(&r, err))) return st;
  *p = r;
  return CHORDLET_OK;
}

/* ------------------------------------------------------------------ plans */

/* One tuning's kernels (cqt.h): where each bin's coefficients start in the
 * spectrum, how many there are, and the coefficients, in slots of the plan's
 * per-bin capacity (bin_offset, bin_cap), so every set of a plan has the same
 * shape and any tuning in the plan's range can be built into it in place. */
struct cqt_kernels {
  double cents;
  int *k0;      /* (n_bins) first spectrum index of each bin's kernel */
  int *nk;      /* (n_bins) its number of coefficients, <= the plan's bin_cap */
  cqt_v4 *coef; /* (kernel_capacity) [p, q, r, t]: C = sum p Re X + q Im X + i (r Re X + t Im X) */
  double *a, *b; /* (max_fft / 2 + 1) scratch of cqt_kernels_build: no allocation there */
  void *block;   /* one allocation for all of the above but coef */
};

struct cqt_plan {
  cqt_layout layout;
  float *decim;       /* (CQT_DECIM_TAPS_PADDED) the full symmetric FIR, last tap 0 */
  int *bin_cap;       /* (n_bins) room for each bin's coefficients in every kernel set */
  size_t *bin_offset; /* (n_bins) where they start in a set's coef */
  size_t kernel_capacity;
  int max_fft;
  cqt_kernels *base;  /* the kernels at layout.tuning_cents (what cqt_plan_bins uses without a set) */
  float *twiddle[CQT_MAX_GROUPS]; /* (n_parts, n_spectrum, 2): exp(-2 pi i p k / n_fft), groups with n_parts >
                                     1 */
  fftwf_plan fft[CQT_MAX_GROUPS]; /* real FFT of n_fft / n_parts */
};

/* Taps strictly inside the window, |k| < T r / 2: k = -J..J. */
static int half_taps(double window_seconds, double rate) {
  int j = (int)ceil(0.5 * window_seconds * rate - 1e-9) - 1;
  return j < 0 ? 0 : j;
}

/* The smallest n >= x of the form 2^a 3^b 5^c with 3^b 5^c <= 2^a: sizes
 * that FFTW_ESTIMATE plans run fast (4860 = 4 * 1215 takes 12 us, 5120 takes
 * 8 us, 960 takes 1.1 us against 2.0 for 900). */
static int good_fft_size(int x) {
  for (int n = x < 2 ? 2 : x;; n++) {
    int two = 1, r = n;
    while (r % 2 == 0) {
      r /= 2;
      two *= 2;
    }
    int odd = r;
    while (r % 3 == 0) r /= 3;
    while (r % 5 == 0) r /= 5;
    if (r == 1 && two >= 2 && odd <= two) return n;
  }
}

/* sum_{k=-J}^{J} cos(theta k) = sin((J + 1/2) theta) / sin(theta / 2). */
static double dirichlet(double theta, int J) {
  double t = remainder(theta, 2.0 * PI);
  double s = sin(0.5 * t);
  if (fabs(s) < 1e-13) return 2.0 * J + 1.0;
  return sin((J + 0.5) * t) / s;
}

/* sum_{k=-J}^{J} w(k) cos(theta k) for the Hann taps w(k) = 1/2 + 1/2 cos(2 pi k / M). */
static double hann_sum(double theta, int J, double M) {
  double d = 2.0 * PI / M;
  return 0.5 * dirichlet(theta, J) + 0.25 * (dirichlet(theta - d, J) + dirichlet(theta + d, J));
}

/* Cost estimates (ns on a 2020s x86-64 core) that size the units of work;
 * only how the work is cut and spread depends on them, never a result. */
static double fft_cost(int n) { return 0.12 * n * log2((double)n) + 0.5 * n; /* + the gather */ }
static double bin_cost(int entries) { return 0.5 * entries + 20.0; }
static double combine_cost(int parts, int entries) { return 2.0 * parts * entries; }
#define PIECE_MAX_NS 3000.0 /* FFTs costlier than this are split into parts */
#define UNITS_PER_HOP 12    /* the work of a hop is cut into about this many units */

/* Bin b's centre frequency at a tuning (cents from A4 = 440 Hz). Its window
 * stays that of the untuned bin (cqt.h, "tuning"). */
static double tuned_frequency(const cqt_params *p, int bin, double cents) {
  return cqt_bin_frequency(p, bin) * pow(2.0, cents / 1200.0);
}

/* Whether a group's kernels, wherever kernel_range may put them at any
 * tuning up to max_cents, stay in k <= n_fft / (2 parts): the part of the
 * spectrum the parts' FFTs give. */
static bool parts_fit(const cqt_params *p, int first, int n, int n_fft, int parts, double r0, double max_cents) {
  for (int bin = first; bin < first + n; bin++) {
    double f = tuned_frequency(p, bin, max_cents), T = cqt_bin_window_seconds(p, bin);
    long long reach = (long long)ceil(f * n_fft / r0) + (long long)ceil(120.0 * n_fft / (T * r0)) + 2;
    if (reach > n_fft / (2 * parts)) return false;
  }
  return true;
}

/* The search range of kernel_range: half its width in FFT bins. */
static int kernel_span(const cqt_layout *L, const cqt_group *G, int bin) {
  const double M = cqt_bin_window_seconds(&L->params, bin) * L->inner_rate;
  return (int)ceil(120.0 * G->n_fft / M) + 2;
}

/* Bin b's kernel at a tuning, in its group's frame: the half-spectrum
 * values a[k], b[k] of its atom over the search range, and the contiguous
 * range [*k0, *k1] of coefficients above CQT_KERNEL_THRESHOLD of the largest.
 * a and b hold max_fft / 2 + 1 doubles. No allocation. */
static void kernel_range(const cqt_plan *pl, const cqt_group *G, int bin, double cents, double *a, double *b,
                         int *k0_out, int *k1_out) {
  const cqt_layout *L = &pl->layout;
  const cqt_params *p = &L->params;
  const double r0 = L->inner_rate;
  const int N = G->n_fft, half = N / 2;
  const double f = tuned_frequency(p, bin, cents), T = cqt_bin_window_seconds(p, bin);
  const double M = T * r0, omega = 2.0 * PI * f / r0;
  const int J = half_taps(T, r0);
  const double kb = f * N / r0;
  /* Coefficients of the Hann spectrum fall below 1e-6 of the peak within
   * about 70 window-bins (1 / T); search 120 of them, in FFT bins. */
  const int span = kernel_span(L, G, bin);
  int lo = (int)floor(kb) - span, hi = (int)ceil(kb) + span;
  if (lo < 0) lo = 0;
  if (hi > half) hi = half;
  double peak = 0.0;
  for (int k = lo; k <= hi; k++) {
    double phi = 2.0 * PI * k / N;
    a[k] = hann_sum(phi - omega, J, M);
    b[k] = hann_sum(phi + omega, J, M);
    double m = fabs(a[k]) + fabs(b[k]);
    if (m > peak) peak = m;
  }
  int k0 = hi, k1 = lo;
  for (int k = lo; k <= hi; k++)
    if (fabs(a[k]) + fabs(b[k]) >= CQT_KERNEL_THRESHOLD * peak) {
      if (k < k0) k0 = k;
      k1 = k;
    }
  *k0_out = k0;
  *k1_out = k1;
}

/* Per-bin room and each group's spectrum length. A plan of one tuning gets
 * exactly what its kernels need. A plan with a range gets bounds that hold
 * for every tuning in it: the whole search range of kernel_range (2 span + 2
 * coefficients, about twice what the threshold keeps) and the search range's
 * top at the highest tuning, so that no tuning's kernel is ever cut and a
 * set built for c equals the kernels of a plan made at c, bit for bit. */
static void size_kernels(cqt_plan *pl, double *a, double *b) {
  cqt_layout *L = &pl->layout;
  const bool single = L->tuning_min_cents == L->tuning_max_cents;
  size_t total = 0;
  for (int g = 0; g < L->n_groups; g++) {
    cqt_group *G = &L->groups[g];
    const int half = G->n_fft / 2;
    int top = 0;
    for (int bin = G->first_bin; bin < G->first_bin + G->n_bins; bin++) {
      int cap, reach;
      if (single) {
        int k0, k1;
        kernel_range(pl, G, bin, L->tuning_cents, a, b, &k0, &k1);
        cap = k1 - k0 + 1;
        reach = k1 + 1;
      } else {
        const int span = kernel_span(L, G, bin);
        const double kb = tuned_frequency(&L->params, bin, L->tuning_max_cents) * G->n_fft / L->inner_rate;
        cap = 2 * span + 2;
        reach = (int)ceil(kb) + span + 1;
        if (reach > half + 1) reach = half + 1;
      }
      if (reach > top) top = reach;
      pl->bin_cap[bin] = cap;
      pl->bin_offset[bin] = total;
      total += (size_t)cap;
    }
    G->n_spectrum = top;
  }
  pl->kernel_capacity = total;
  L->kernel_entries = total;
}

CHORDLET_RT chordlet_status cqt_kernels_build(const cqt_plan *pl, cqt_kernels *set, double cents) {
  const cqt_layout *L = &pl->layout;
  if (!(cents >= L->tuning_min_cents - 1e-9 && cents <= L->tuning_max_cents + 1e-9)) return CHORDLET_ERR_RANGE;
  const double r0 = L->inner_rate;
  double *a = set->a, *b = set->b;
  for (int g = 0; g < L->n_groups; g++) {
    const cqt_group *G = &L->groups[g];
    const int N = G->n_fft, half = N / 2;
    const int centre = N - 1 - G->frame_end; /* frame index of the window centres */
    for (int bin = G->first_bin; bin < G->first_bin + G->n_bins; bin++) {
      int k0, k1;
      kernel_range(pl, G, bin, cents, a, b, &k0, &k1);
      /* size_kernels made room for every tuning of the range; a plan of
       * one tuning is only ever built at that tuning. */
      if (k1 > G->n_spectrum - 1) k1 = G->n_spectrum - 1;
      if (k1 - k0 + 1 > pl->bin_cap[bin]) k1 = k0 + pl->bin_cap[bin] - 1;
      set->k0[bin] = k0;
      set->nk[bin] = k1 - k0 + 1;
      const double T = cqt_bin_window_seconds(&L->params, bin), M = T * r0;
      const int J = half_taps(T, r0);
      /* S = sum of the window taps; the atom is (2 / S) w(k) exp(-i omega k). */
      const double S = hann_sum(0.0, J, M), scale = 2.0 / S;
      cqt_v4 *c = set->coef + pl->bin_offset[bin];
      for (int k = k0; k <= k1; k++) {
        /* The atom sits at frame index centre + j: its spectrum carries
         * exp(-i phi centre), phi = 2 pi k / N (reduced exactly). */
        double ph = 2.0 * PI * (double)(((int64_t)k * centre) % N) / N;
        double cr = cos(ph), si = sin(ph);
        double w = (k == 0 || (k == half && N % 2 == 0)) ? 1.0 / N : 2.0 / N;
        double s = 0.5 * (a[k] + b[k]), d = 0.5 * (a[k] - b[k]);
        /* U = s e^{-i ph}, V = i d e^{-i ph}; C = sum w (Re U* X + i Re V* X). */
        c[k - k0] = (cqt_v4){(float)(scale * w * s * cr), (float)(-scale * w * s * si),
                             (float)(scale * w * d * si), (float)(scale * w * d * cr)};
      }
    }
  }
  set->cents = cents;
  return CHORDLET_OK;
}

chordlet_status cqt_kernels_create(const cqt_plan *pl, cqt_kernels **out, chordlet_error *err) {
  if (!out) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no place for the kernels");
  *out = NULL;
  const size_t K = (size_t)pl->layout.params.n_bins, scratch = (size_t)(pl->max_fft / 2 + 1);
  cqt_kernels *set = calloc(1, sizeof *set);
  if (!set) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory (kernels)");
  set->block = calloc(2 * K * sizeof(int) + 2 * scratch * sizeof(double) + sizeof(double), 1);
  set->coef = aligned_alloc(16, sizeof(cqt_v4) * (pl->kernel_capacity ? pl->kernel_capacity : 1));
  if (!set->block || !set->coef) {
    cqt_kernels_free(set);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory (kernels)");
  }
  /* Doubles first (alignment), then the two int arrays. */
  set->a = set->block;
  set->b = set->a + scratch;
  set->k0 = (int *)(set->b + scratch);
  set->nk = set->k0 + K;
  if (pl->base) {
    /* The plan's own set is built at the plan's tuning: a spare starts as
     * its copy, the same numbers without 5 ms of trigonometry (a live
     * stream makes two spares when it is created: a plugin's instantiate). */
    memcpy(set->coef, pl->base->coef, sizeof(cqt_v4) * pl->kernel_capacity);
    memcpy(set->k0, pl->base->k0, K * sizeof(int));
    memcpy(set->nk, pl->base->nk, K * sizeof(int));
    set->cents = pl->base->cents;
  } else {
    memset(set->coef, 0, sizeof(cqt_v4) * pl->kernel_capacity);
    cqt_kernels_build(pl, set, pl->layout.tuning_cents);
  }
  *out = set;
  return CHORDLET_OK;
}

void cqt_kernels_free(cqt_kernels *set) {
  if (!set) return;
  free(set->coef);
  free(set->block);
  free(set);
}

CHORDLET_RT double cqt_kernels_cents(const cqt_kernels *set) { return set->cents; }

const cqt_kernels *cqt_plan_kernels(const cqt_plan *pl) { return pl->base; }

/* Cuts a hop's work into units and gives each a phase in the hop. The
 * pieces of a group, in order: its parts' FFTs, then its bins (the first bin
 * piece also combines the parts). Consecutive pieces of a group are packed
 * into units of at most `target` (about 1/UNITS_PER_HOP of the hop's work).
 * Top groups come first, their data being ready early; the lowest group,
 * complete last, goes at the end. False if the units do not fit the layout. */
static bool schedule_units(cqt_plan *pl) {
  cqt_layout *L = &pl->layout;
  double total = 0.0, biggest = 0.0;
  for (int g = 0; g < L->n_groups; g++) {
    const cqt_group *G = &L->groups[g];
    double part = fft_cost(G->n_fft / G->n_parts);
    total += G->n_parts * part + (G->n_parts > 1 ? combine_cost(G->n_parts, G->n_spectrum) : 0.0);
    biggest = fmax(biggest, part);
    for (int bin = G->first_bin; bin < G->first_bin + G->n_bins; bin++) {
      total += bin_cost(pl->base->nk[bin]);
      biggest = fmax(biggest, bin_cost(pl->base->nk[bin]));
    }
  }
  const double target = fmax(total / UNITS_PER_HOP, biggest);
  int n = 0;
  double cost_of[CQT_MAX_UNITS];
  double done = 0.0;
  for (int g = L->n_groups - 1; g >= 0; g--) {
    const cqt_group *G = &L->groups[g];
    const double part = fft_cost(G->n_fft / G->n_parts);
    int next_part = 0, bin = G->first_bin;
    const int end = G->first_bin + G->n_bins;
    bool combined = G->n_parts == 1;
    while (next_part < G->n_parts || bin < end) {
      cqt_unit u = {.group = g, .first_part = next_part, .first_bin = bin};
      double cost = 0.0;
      while (next_part < G->n_parts && (u.n_parts == 0 || cost + part <= target)) {
        cost += part;
        u.n_parts++;
        next_part++;
      }
      if (next_part == G->n_parts) {
        if (!combined) {
          double c = combine_cost(G->n_parts, G->n_spectrum);
          if (cost == 0.0 || cost + c <= target) {
            cost += c;
            u.combine = true;
            combined = true;
          }
        }
        while (combined && bin < end && (cost == 0.0 || cost + bin_cost(pl->base->nk[bin]) <= target)) {
          cost += bin_cost(pl->base->nk[bin]);
          u.n_bins++;
          bin++;
        }
      }
      if (n == CQT_MAX_UNITS) return false; /* about 12 + 2 per group: not with CQT_MAX_GROUPS */
      cost_of[n] = cost;
      done += cost;
      L->units[n++] = u;
    }
  }
  L->n_units = n;
  /* Phases: the units of groups whose data exists from the start of the hop
   * ("early") share [1, split), those of the lowest group ("late", complete
   * only at its ready phase) share [split, hop], each in proportion to its
   * work; split is where the early work would end if the whole hop were
   * shared in proportion, or the late group's ready phase if later. */
  const long hop = (long)L->hop_samples;
  long late_ready = 1;
  for (int g = 0; g < L->n_groups; g++)
    if (L->groups[g].ready_phase > late_ready) late_ready = L->groups[g].ready_phase;
  double early = 0.0, late = 0.0;
  for (int i = 0; i < n; i++) {
    if (L->groups[L->units[i].group].ready_phase < late_ready)
      early += cost_of[i];
    else
      late += cost_of[i];
  }
  double split = fmax((double)late_ready, done > 0 ? (double)hop * early / done : 1.0);
  if (split > (double)hop) split = (double)hop;
  double seen_early = 0.0, seen_late = 0.0;
  long prev = 1;
  for (int i = 0; i < n; i++) {
    const cqt_group *G = &L->groups[L->units[i].group];
    double at;
    if (G->ready_phase < late_ready) {
      at = 1.0 + (split - 1.0) * (seen_early + 0.5 * cost_of[i]) / (early > 0 ? early : 1.0);
      seen_early += cost_of[i];
    } else {
      at = split + ((double)hop - split) * (seen_late + 0.5 * cost_of[i]) / (late > 0 ? late : 1.0);
      seen_late += cost_of[i];
    }
    long ph = (long)ceil(at);
    if (ph < G->ready_phase) ph = G->ready_phase;
    if (ph < prev) ph = prev;
    if (ph > hop) ph = hop;
    L->units[i].phase = (int)ph;
    prev = ph;
  }
  return true;
}

chordlet_status cqt_plan_create(const cqt_params *p, double sample_rate, cqt_plan **out,
                                chordlet_error *err) {
  return cqt_plan_create_tuned(p, sample_rate, 0.0, 0.0, 0.0, out, err);
}

chordlet_status cqt_plan_create_tuned(const cqt_params *p, double sample_rate, double cents, double min_cents,
                                      double max_cents, cqt_plan **out, chordlet_error *err) {
  if (!out) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no place for the plan");
  *out = NULL;
  chordlet_status st = cqt_params_check(p, err);
  if (st) return st;
  if (!(sample_rate >= CQT_RATE_MIN && sample_rate <= CQT_RATE_MAX))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "sample rate %g Hz: must be between %g and %g Hz",
                         sample_rate, CQT_RATE_MIN, CQT_RATE_MAX);
  if (!(min_cents >= -CQT_TUNING_LIMIT_CENTS && max_cents <= CQT_TUNING_LIMIT_CENTS && min_cents <= cents &&
        cents <= max_cents))
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "tuning %g cents in [%g, %g]: the range must hold it and lie within +-%g cents", cents,
                         min_cents, max_cents, CQT_TUNING_LIMIT_CENTS);
  cqt_plan *pl = calloc(1, sizeof *pl);
  if (!pl) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  cqt_layout *L = &pl->layout;
  L->params = *p;
  L->sample_rate = sample_rate;
  L->tuning_cents = cents;
  L->tuning_min_cents = min_cents;
  L->tuning_max_cents = max_cents;
  int m = 0;
  while (sample_rate / (double)(1 << (m + 1)) >= CQT_INNER_RATE_MIN) m++;
  const long long f = 1LL << m;
  L->n_stages = m;
  L->inner_rate = sample_rate / (double)f;
  double hop = p->hop_seconds * sample_rate, delay = p->delay_seconds * sample_rate;
  if (!whole_multiple(hop, 1.0) || !whole_multiple(delay, 1.0) || (long long)nearbyint(hop) % f ||
      (long long)nearbyint(delay) % f) {
    st = chordlet_fail(err, CHORDLET_ERR_RANGE,
                       "sample rate %g Hz: the hop (%g s) is %g samples and the delay (%g s) %g "
                       "samples, %g and %g at the inner rate %g Hz; all must be whole numbers",
                       sample_rate, p->hop_seconds, hop, p->delay_seconds, delay, hop / (double)f,
                       delay / (double)f, L->inner_rate);
    goto fail;
  }
  L->hop_samples = (size_t)nearbyint(hop);
  L->delay_samples = (size_t)nearbyint(delay);
  L->hop_inner = L->hop_samples / (size_t)f;
  L->lookahead_samples = (size_t)(CQT_DECIM_HALF * (f - 1));
  const double top_reach = top_reach_hz(p) * pow(2.0, (max_cents > 0 ? max_cents : 0) / 1200.0);
  if (top_reach > 0.45 * L->inner_rate) {
    st = chordlet_fail(err, CHORDLET_ERR_RANGE,
                       "sample rate %g Hz is too low for a top bin at %.1f Hz (its main lobe "
                       "reaches %.1f Hz)",
                       sample_rate, tuned_frequency(p, p->n_bins - 1, max_cents), top_reach);
    goto fail;
  }

  /* Groups: octaves from the top, then merged from the bottom while they
   * need the same FFT size (the capped low octaves). */
  const int K = p->n_bins, B = p->bins_per_octave;
  const double r0 = L->inner_rate;
  int n_oct = (K + B - 1) / B;
  if (n_oct > CQT_MAX_GROUPS) {
    st = chordlet_fail(err, CHORDLET_ERR_RANGE, "%d octaves: at most %d", n_oct, (int)CQT_MAX_GROUPS);
    goto fail;
  }
  int ng = 0;
  for (int o = n_oct - 1; o >= 0; o--) { /* o = 0 is the top octave */
    int hi = K - B * o, lo = hi - B < 0 ? 0 : hi - B;
    int J = 0;
    for (int bin = lo; bin < hi; bin++) {
      int j = half_taps(cqt_bin_window_seconds(p, bin), r0);
      if (j > J) J = j;
    }
    int N = good_fft_size(2 * J + 1);
    if (ng > 0 && L->groups[ng - 1].n_fft == N) {
      L->groups[ng - 1].n_bins += hi - lo;
      continue;
    }
    L->groups[ng++] =
        (cqt_group){.first_bin = lo, .n_bins = hi - lo, .n_fft = N, .n_parts = 1, .frame_end = J};
  }
  L->n_groups = ng;
  L->max_part = 0;
  for (int g = 0; g < ng; g++) {
    cqt_group *G = &L->groups[g];
    /* A large FFT becomes 2, 4 or 8 interleaved ones (frame N = P * M, each
     * M a fast size), as long as the kernels stay where the parts reach. */
    const int need = 2 * G->frame_end + 1;
    for (int parts = 2; parts <= 8 && fft_cost(G->n_fft / G->n_parts) > PIECE_MAX_NS; parts *= 2) {
      int M = good_fft_size((need + parts - 1) / parts);
      if (!parts_fit(p, G->first_bin, G->n_bins, parts * M, parts, r0, L->tuning_max_cents)) break;
      G->n_parts = parts;
      G->n_fft = parts * M;
    }
    if (G->n_fft / G->n_parts > L->max_part) L->max_part = G->n_fft / G->n_parts;
    /* Frame j's last sample for this group is r0 index j * hop_inner +
     * frame_end; the chain has produced it once the input count reaches
     * j * hop + f * frame_end + lookahead + 1. A unit at phase ph runs at
     * count j * hop + delay - hop + ph. */
    long long ready = f * G->frame_end + (long long)L->lookahead_samples + 1 - (long long)L->delay_samples +
                      (long long)L->hop_samples;
    if (ready < 1) ready = 1;
    if (ready > (long long)L->hop_samples) {
      st = chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "sample rate %g Hz: windows of %g s centred %g s back need %lld more "
                         "samples than the delay allows",
                         sample_rate, cqt_bin_window_seconds(p, G->first_bin), p->delay_seconds,
                         ready - (long long)L->hop_samples);
      goto fail;
    }
    G->ready_phase = (int)ready;
  }

  pl->bin_cap = malloc(sizeof *pl->bin_cap * (size_t)K);
  pl->bin_offset = malloc(sizeof *pl->bin_offset * (size_t)K);
  pl->decim = aligned_alloc(16, sizeof(float) * CQT_DECIM_TAPS_PADDED);
  pl->max_fft = 0;
  for (int g = 0; g < ng; g++)
    if (L->groups[g].n_fft > pl->max_fft) pl->max_fft = L->groups[g].n_fft;
  double *scratch = malloc(sizeof(double) * 2 * (size_t)(pl->max_fft / 2 + 1));
  if (!pl->bin_cap || !pl->bin_offset || !pl->decim || !scratch) {
    free(scratch);
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    goto fail;
  }
  for (int n = -CQT_DECIM_HALF; n <= CQT_DECIM_HALF; n++)
    pl->decim[CQT_DECIM_HALF + n] = DECIM_TAPS[n < 0 ? -n : n];
  pl->decim[CQT_DECIM_TAPS] = 0.0f;
  size_kernels(pl, scratch, scratch + pl->max_fft / 2 + 1);
  free(scratch);
  if ((st = cqt_kernels_create(pl, &pl->base, err))) goto fail;
  for (int g = 0; g < ng; g++) {
    cqt_group *G = &L->groups[g];
    const int top = G->n_spectrum;
    if (G->n_parts == 1) continue;
    pl->twiddle[g] = malloc(sizeof(float) * 2 * (size_t)(G->n_parts * top));
    if (!pl->twiddle[g]) {
      st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
      goto fail;
    }
    for (int part = 0; part < G->n_parts; part++)
      for (int k = 0; k < top; k++) {
        double ph = 2.0 * PI * (double)(((int64_t)part * k) % G->n_fft) / G->n_fft;
        pl->twiddle[g][2 * (part * top + k)] = (float)cos(ph);
        pl->twiddle[g][2 * (part * top + k) + 1] = (float)-sin(ph);
      }
  }
  if (!schedule_units(pl)) {
    st = chordlet_fail(err, CHORDLET_ERR_RANGE, "the work of a hop needs more than %d units",
                       (int)CQT_MAX_UNITS);
    goto fail;
  }

  /* How far back a stream must keep r0 samples: at unit u of frame j, the
   * chain has produced j * hop_inner + floor((delay - hop + phase -
   * lookahead - 1) / f) + 1 samples, and the unit reads back to its frame's
   * first sample, j * hop_inner + frame_end + 1 - n_fft. */
  size_t hist = 0;
  for (int u = 0; u < L->n_units; u++) {
    const cqt_group *G = &L->groups[L->units[u].group];
    long long made = ((long long)L->delay_samples - (long long)L->hop_samples + L->units[u].phase -
                      (long long)L->lookahead_samples - 1) /
                         f +
                     1;
    long long span = made - (G->frame_end + 1 - G->n_fft);
    if (span > (long long)hist) hist = (size_t)span;
  }
  L->inner_history = hist;

  /* FFTW plans on scratch arrays of FFTW's alignment; streams run them on
   * their own arrays of the same alignment (new-array execute). */
  float *in = fftwf_malloc(sizeof(float) * (size_t)L->max_part);
  fftwf_complex *spec = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(L->max_part / 2 + 1));
  if (!in || !spec) {
    fftwf_free(in);
    fftwf_free(spec);
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory (FFT buffers)");
    goto fail;
  }
  for (int g = 0; g < ng; g++) {
    const int n = L->groups[g].n_fft / L->groups[g].n_parts;
    pl->fft[g] = fftwf_plan_dft_r2c_1d(n, in, spec, FFTW_ESTIMATE);
    if (!pl->fft[g]) {
      fftwf_free(in);
      fftwf_free(spec);
      st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "FFTW could not plan a transform of %d", n);
      goto fail;
    }
  }
  fftwf_free(in);
  fftwf_free(spec);
  *out = pl;
  return CHORDLET_OK;
fail:
  cqt_plan_free(pl);
  return st;
}

void cqt_plan_free(cqt_plan *pl) {
  if (!pl) return;
  for (int g = 0; g < CQT_MAX_GROUPS; g++) {
    if (pl->fft[g]) fftwf_destroy_plan(pl->fft[g]);
    free(pl->twiddle[g]);
  }
  free(pl->decim);
  free(pl->bin_cap);
  free(pl->bin_offset);
  cqt_kernels_free(pl->base);
  free(pl);
}

const cqt_layout *cqt_plan_layout(const cqt_plan *pl) { return &pl->layout; }

float *cqt_buffer_alloc(size_t n_floats) {
  float *b = fftwf_malloc(sizeof(float) * (n_floats ? n_floats : 1));
  if (b) memset(b, 0, sizeof(float) * (n_floats ? n_floats : 1));
  return b;
}

void cqt_buffer_free(float *buffer) { fftwf_free(buffer); }

/* ------------------------------------------------------------- real time */

CHORDLET_RT void cqt_plan_fft(const cqt_plan *pl, int group, const float *part_frame, float *part_spectrum) {
  /* r2c out of place keeps its input (FFTW's default for r2c). */
  fftwf_execute_dft_r2c(pl->fft[group], (float *)part_frame, (fftwf_complex *)part_spectrum);
}

CHORDLET_RT void cqt_plan_combine(const cqt_plan *pl, int group, const float *const *part_spectra,
                                  float *spectrum) {
  const cqt_group *G = &pl->layout.groups[group];
  const int P = G->n_parts, top = G->n_spectrum;
  const float *tw = pl->twiddle[group]; /* (P, top, 2) */
  memcpy(spectrum, part_spectra[0], sizeof(float) * 2 * (size_t)top);
  for (int part = 1; part < P; part++) {
    const float *y = part_spectra[part], *w = tw + 2 * (size_t)part * top;
    for (int k = 0; k < top; k++) {
      float yr = y[2 * k], yi = y[2 * k + 1], wr = w[2 * k], wi = w[2 * k + 1];
      spectrum[2 * k] += wr * yr - wi * yi;
      spectrum[2 * k + 1] += wr * yi + wi * yr;
    }
  }
}

CHORDLET_RT void cqt_plan_bins(const cqt_plan *pl, const cqt_kernels *set, int group, int first_bin, int n_bins,
                               const float *spectrum, float *mag) {
  (void)group;
  if (!set) set = pl->base;
  for (int i = 0; i < n_bins; i++) {
    const int bin = first_bin + i, nk = set->nk[bin];
    const cqt_v4 *c = set->coef + pl->bin_offset[bin];
    const float *x = spectrum + 2 * (size_t)set->k0[bin];
    cqt_v4 acc0 = {0, 0, 0, 0}, acc1 = {0, 0, 0, 0};
    int k = 0;
    for (; k + 1 < nk; k += 2) {
      cqt_v4 x0 = {x[2 * k], x[2 * k + 1], x[2 * k], x[2 * k + 1]};
      cqt_v4 x1 = {x[2 * k + 2], x[2 * k + 3], x[2 * k + 2], x[2 * k + 3]};
      acc0 += c[k] * x0;
      acc1 += c[k + 1] * x1;
    }
    if (k < nk) {
      cqt_v4 x0 = {x[2 * k], x[2 * k + 1], x[2 * k], x[2 * k + 1]};
      acc0 += c[k] * x0;
    }
    acc0 += acc1;
    double re = (double)acc0[0] + acc0[1], im = (double)acc0[2] + acc0[3];
    mag[i] = (float)sqrt(re * re + im * im);
  }
}

CHORDLET_RT float cqt_decimate(const cqt_plan *pl, const float *x) {
  const float *h = pl->decim;
  cqt_v4 a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
  for (int i = 0; i < CQT_DECIM_TAPS_PADDED; i += 16) {
    cqt_v4 x0, x1, x2, x3, h0, h1, h2, h3;
    memcpy(&x0, x + i, sizeof x0);
    memcpy(&x1, x + i + 4, sizeof x1);
    memcpy(&x2, x + i + 8, sizeof x2);
    memcpy(&x3, x + i + 12, sizeof x3);
    memcpy(&h0, h + i, sizeof h0);
    memcpy(&h1, h + i + 4, sizeof h1);
    memcpy(&h2, h + i + 8, sizeof h2);
    memcpy(&h3, h + i + 12, sizeof h3);
    a0 += h0 * x0;
    a1 += h1 * x1;
    a2 += h2 * x2;
    a3 += h3 * x3;
  }
  a0 = (a0 + a1) + (a2 + a3);
  return (a0[0] + a0[1]) + (a0[2] + a0[3]);
}

/* ------------------------------------------------------------- reference */

chordlet_status cqt_reference_frame(const cqt_params *p, double sample_rate, const float *x, size_t n,
                                    long long centre, double *mag, chordlet_error *err) {
  return cqt_reference_frame_tuned(p, 0.0, sample_rate, x, n, centre, mag, err);
}

chordlet_status cqt_reference_frame_tuned(const cqt_params *p, double cents, double sample_rate, const float *x,
                                          size_t n, long long centre, double *mag, chordlet_error *err) {
  chordlet_status st = cqt_params_check(p, err);
  if (st) return st;
  if (!(sample_rate >= CQT_RATE_MIN && sample_rate <= CQT_RATE_MAX))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "sample rate %g Hz: must be between %g and %g Hz",
                         sample_rate, CQT_RATE_MIN, CQT_RATE_MAX);
  for (int bin = 0; bin < p->n_bins; bin++) {
    const double f = tuned_frequency(p, bin, cents), T = cqt_bin_window_seconds(p, bin);
    const double M = T * sample_rate, omega = 2.0 * PI * f / sample_rate, wstep = 2.0 * PI / M;
    const int J = half_taps(T, sample_rate);
    /* exp(-i omega k) and cos(2 pi k / M) by rotation, restarted from exact
     * values every 256 taps (drift stays near 1e-14). */
    double S = 0.0, re = 0.0, im = 0.0, cr = 0.0, ci = 0.0, wr = 0.0, wi = 0.0;
    const double dr = cos(omega), di = -sin(omega), er = cos(wstep), ei = sin(wstep);
    for (int k = -J; k <= J; k++) {
      if ((k + J) % 256 == 0) {
        cr = cos(omega * k);
        ci = -sin(omega * k);
        wr = cos(wstep * k);
        wi = sin(wstep * k);
      }
      double w = 0.5 + 0.5 * wr;
      S += w;
      long long i = centre + k;
      if (i >= 0 && i < (long long)n) {
        re += w * cr * x[i];
        im += w * ci * x[i];
      }
      double t = cr * dr - ci * di;
      ci = cr * di + ci * dr;
      cr = t;
      t = wr * er - wi * ei;
      wi = wr * ei + wi * er;
      wr = t;
    }
    mag[bin] = 2.0 / S * sqrt(re * re + im * im);
  }
  return CHORDLET_OK;
}
