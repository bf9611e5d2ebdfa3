/* tuning.c: the reference-pitch estimator of the student's front end
 * (tuning.h): spectral peaks, their deviation from the tempered grid, a
 * circular histogram, its mode. */
#define _POSIX_C_SOURCE 200809L
#include "tuning.h"

#include <fftw3.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model_keys.h"

#define PI 3.14159265358979323846
#define PEAK_THRESHOLD 0.1 /* peaks within 20 dB of the frame's largest (piptrack's 0.1) */
#define SMOOTH_HALF 3      /* the mode is found on the histogram smoothed over +-3 cents */
#define REFINE_HALF 8      /* ... and refined by the mean of the votes within +-8 cents */

void tuning_params_default(tuning_params *p) {
  memset(p, 0, sizeof *p);
  p->version = TUNING_PARAMS_VERSION;
  p->window_seconds = 0.186;
  p->hop_seconds = 0.186;
  p->fmin_hz = 150.0;
  p->fmax_hz = 2000.0;
  p->memory_seconds = 3.0;
  p->min_peaks = 40.0;
  p->step_cents = 2.0;
}

chordlet_status tuning_params_check(const tuning_params *p, chordlet_error *err) {
  if (!p) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no tuning settings");
  if (p->version != TUNING_PARAMS_VERSION)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "tuning estimator version %d: this engine has version %d",
                         p->version, TUNING_PARAMS_VERSION);
  if (!(p->window_seconds >= 0.02 && p->window_seconds <= 2.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "tuning window %g s: must be 0.02..2 s", p->window_seconds);
  if (!(p->hop_seconds >= 0.005 && p->hop_seconds <= p->window_seconds))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "tuning hop %g s: must be 5 ms..the window (%g s)",
                         p->hop_seconds, p->window_seconds);
  if (!(p->fmin_hz >= 20.0 && p->fmin_hz < p->fmax_hz && p->fmax_hz <= 8000.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "tuning band %g..%g Hz: must lie within 20..8000 Hz",
                         p->fmin_hz, p->fmax_hz);
  if (!(p->memory_seconds >= 0.1 && p->memory_seconds <= 600.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "tuning memory %g s: must be 0.1..600 s", p->memory_seconds);
  if (!(p->min_peaks >= 1.0 && p->min_peaks <= 1e6))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "tuning min_peaks %g: must be 1..1e6", p->min_peaks);
  if (!(p->step_cents >= 0.0 && p->step_cents <= 50.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "tuning step %g cents: must be 0..50", p->step_cents);
  return CHORDLET_OK;
}

chordlet_status tuning_params_write(const tuning_params *p, model_writer *w, chordlet_error *err) {
  chordlet_status st = tuning_params_check(p, err);
  if (st) return st;
  if ((st = model_writer_set_i64(w, MK_TUNING_VERSION, p->version, err)) ||
      (st = model_writer_set_f64(w, MK_TUNING_WINDOW, p->window_seconds, err)) ||
      (st = model_writer_set_f64(w, MK_TUNING_HOP, p->hop_seconds, err)) ||
      (st = model_writer_set_f64(w, MK_TUNING_FMIN, p->fmin_hz, err)) ||
      (st = model_writer_set_f64(w, MK_TUNING_FMAX, p->fmax_hz, err)) ||
      (st = model_writer_set_f64(w, MK_TUNING_MEMORY, p->memory_seconds, err)) ||
      (st = model_writer_set_f64(w, MK_TUNING_MIN_PEAKS, p->min_peaks, err)) ||
      (st = model_writer_set_f64(w, MK_TUNING_STEP, p->step_cents, err)))
    return st;
  return CHORDLET_OK;
}

bool tuning_params_present(const model_file *m) { return model_file_has(m, MK_TUNING_VERSION); }

chordlet_status tuning_params_read(const model_file *m, tuning_params *p, chordlet_error *err) {
  tuning_params r;
  tuning_params_default(&r);
  if (tuning_params_present(m)) {
    int64_t version;
    chordlet_status st;
    if ((st = model_file_get_i64(m, MK_TUNING_VERSION, &version, err)) ||
        (st = model_file_get_f64(m, MK_TUNING_WINDOW, &r.window_seconds, err)) ||
        (st = model_file_get_f64(m, MK_TUNING_HOP, &r.hop_seconds, err)) ||
        (st = model_file_get_f64(m, MK_TUNING_FMIN, &r.fmin_hz, err)) ||
        (st = model_file_get_f64(m, MK_TUNING_FMAX, &r.fmax_hz, err)) ||
        (st = model_file_get_f64(m, MK_TUNING_MEMORY, &r.memory_seconds, err)) ||
        (st = model_file_get_f64(m, MK_TUNING_MIN_PEAKS, &r.min_peaks, err)) ||
        (st = model_file_get_f64(m, MK_TUNING_STEP, &r.step_cents, err)))
      return st;
    r.version = version >= -1000 && version <= 1000 ? (int)version : -1;
  }
  chordlet_status st = tuning_params_check(&r, err);
  if (st) return st;
  *p = r;
  return CHORDLET_OK;
}

double tuning_hz_to_cents(double a4_hz) { return 1200.0 * log2(a4_hz / 440.0); }
double tuning_cents_to_hz(double cents) { return 440.0 * pow(2.0, cents / 1200.0); }

/* ------------------------------------------------------------------ tracker */

struct tuning_tracker {
  tuning_params params;
  double rate;
  int win, hop, n_fft, k_lo, k_hi; /* peaks are looked for in bins k_lo..k_hi */
  double decay;                    /* per analysed frame; 1 keeps every vote */
  float *window;                   /* (win) Hann */
  float *ring;                     /* (win) the last win samples, ring[pos] the oldest */
  int pos;
  size_t filled;                   /* samples seen, up to win */
  int since;                       /* samples since the last analysis */
  float *in;                       /* (n_fft) FFTW-aligned */
  fftwf_complex *out;              /* (n_fft / 2 + 1) */
  float *power;                    /* (n_fft / 2 + 1) |X|^2 of the last frame */
  fftwf_plan plan;
  double hist[TUNING_SLOTS];       /* slot i: deviations around i - 50 cents */
};

/* The smallest power of two >= x. FFTW runs those without allocating in
 * its execute (sizes with other factors may use buffered plans that
 * allocate per call: measured at 16875, tests/test_live.c), and fast. */
static int pow2_size(int x) {
  int n = 1;
  while (n < x) n <<= 1;
  return n;
}

chordlet_status tuning_tracker_create(const tuning_params *p, double sample_rate, double memory_seconds,
                                      tuning_tracker **out, chordlet_error *err) {
  if (!out) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no place for the tracker");
  *out = NULL;
  chordlet_status st = tuning_params_check(p, err);
  if (st) return st;
  if (!(sample_rate >= 8000.0 && sample_rate <= 768000.0))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "sample rate %g Hz: must be 8000..768000 Hz", sample_rate);
  if (!(2.0 * p->fmax_hz < sample_rate))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "sample rate %g Hz is too low for peaks up to %g Hz",
                         sample_rate, p->fmax_hz);
  tuning_tracker *t = calloc(1, sizeof *t);
  if (!t) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  t->params = *p;
  t->rate = sample_rate;
  t->win = (int)lround(p->window_seconds * sample_rate);
  t->hop = (int)lround(p->hop_seconds * sample_rate);
  if (t->hop < 1) t->hop = 1;
  /* Zero-padded to at least twice the window: the parabola then sits on a
   * finer grid. */
  t->n_fft = pow2_size(2 * t->win);
  t->decay = memory_seconds > 0 ? exp(-p->hop_seconds / memory_seconds) : 1.0;
  t->k_lo = (int)ceil(p->fmin_hz * t->n_fft / sample_rate);
  t->k_hi = (int)floor(p->fmax_hz * t->n_fft / sample_rate);
  if (t->k_lo < 1) t->k_lo = 1;
  if (t->k_hi > t->n_fft / 2 - 1) t->k_hi = t->n_fft / 2 - 1;
  t->window = malloc(sizeof(float) * (size_t)t->win);
  t->ring = calloc((size_t)t->win, sizeof(float));
  t->power = malloc(sizeof(float) * (size_t)(t->n_fft / 2 + 1));
  t->in = fftwf_malloc(sizeof(float) * (size_t)t->n_fft);
  t->out = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(t->n_fft / 2 + 1));
  if (!t->window || !t->ring || !t->power || !t->in || !t->out) {
    tuning_tracker_free(t);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory (tuning tracker)");
  }
  t->plan = fftwf_plan_dft_r2c_1d(t->n_fft, t->in, t->out, FFTW_ESTIMATE);
  if (!t->plan) {
    tuning_tracker_free(t);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "FFTW could not plan a transform of %d", t->n_fft);
  }
  for (int i = 0; i < t->win; i++) t->window[i] = (float)(0.5 - 0.5 * cos(2.0 * PI * (i + 0.5) / t->win));
  memset(t->in, 0, sizeof(float) * (size_t)t->n_fft);
  /* Touch the output too: a live tracker's first frame faults no page. */
  memset(t->out, 0, sizeof(fftwf_complex) * (size_t)(t->n_fft / 2 + 1));
  memset(t->power, 0, sizeof(float) * (size_t)(t->n_fft / 2 + 1));
  *out = t;
  return CHORDLET_OK;
}

void tuning_tracker_free(tuning_tracker *t) {
  if (!t) return;
  if (t->plan) fftwf_destroy_plan(t->plan);
  fftwf_free(t->in);
  fftwf_free(t->out);
  free(t->window);
  free(t->ring);
  free(t->power);
  free(t);
}

CHORDLET_RT void tuning_tracker_gap(tuning_tracker *t) {
  if (!t) return;
  t->filled = 0;
  t->since = 0;
}

CHORDLET_RT void tuning_tracker_reset(tuning_tracker *t) {
  if (!t) return;
  memset(t->ring, 0, sizeof(float) * (size_t)t->win);
  memset(t->hist, 0, sizeof t->hist);
  t->pos = 0;
  t->filled = 0;
  t->since = 0;
}

/* One vote for a deviation of c cents (any real), split between the two
 * nearest slots of the circular histogram. */
static void vote(tuning_tracker *t, double c) {
  double u = c + 50.0;
  u -= 100.0 * floor(u / 100.0); /* [0, 100) */
  int i = (int)floor(u);
  double f = u - i;
  t->hist[i % TUNING_SLOTS] += 1.0 - f;
  t->hist[(i + 1) % TUNING_SLOTS] += f;
}

static void analyse(tuning_tracker *t) {
  const int W = t->win;
  for (int i = 0; i < W; i++) t->in[i] = t->ring[(t->pos + i) % W] * t->window[i];
  /* in[W..n_fft) stays zero. */
  fftwf_execute(t->plan);
  float top = 0.0f;
  for (int k = t->k_lo - 1; k <= t->k_hi + 1; k++) {
    float re = t->out[k][0], im = t->out[k][1], m2 = re * re + im * im;
    t->power[k] = m2; /* logs only at the peaks */
    if (k >= t->k_lo && k <= t->k_hi && m2 > top) top = m2;
  }
  for (int i = 0; i < TUNING_SLOTS; i++) t->hist[i] *= t->decay;
  if (!(top > 1e-20f)) return; /* silence: no peaks */
  const float floor_power = (float)(PEAK_THRESHOLD * PEAK_THRESHOLD) * top;
  for (int k = t->k_lo; k <= t->k_hi; k++) {
    const float b = t->power[k];
    if (b < floor_power || b <= t->power[k - 1] || b < t->power[k + 1]) continue;
    /* Parabola through the log magnitudes (half the log power). */
    double la = 0.5 * log((double)t->power[k - 1] + 1e-30), lb = 0.5 * log((double)b),
           lc = 0.5 * log((double)t->power[k + 1] + 1e-30);
    double den = la - 2.0 * lb + lc, delta = den < 0 ? 0.5 * (la - lc) / den : 0.0;
    if (delta > 0.5) delta = 0.5;
    if (delta < -0.5) delta = -0.5;
    double f = (k + delta) * t->rate / t->n_fft;
    vote(t, 1200.0 * log2(f / 440.0));
  }
}

CHORDLET_RT void tuning_tracker_push(tuning_tracker *t, const float *x, size_t n) {
  if (!t || !x) return;
  const int W = t->win;
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    if (!isfinite(v)) v = 0.0f;
    t->ring[t->pos] = v;
    t->pos = t->pos + 1 == W ? 0 : t->pos + 1;
    if (t->filled < (size_t)W) t->filled++;
    if (++t->since >= t->hop && t->filled == (size_t)W) {
      t->since = 0;
      analyse(t);
    }
  }
}

CHORDLET_RT int tuning_tracker_estimate(const tuning_tracker *t, double *cents, double *votes) {
  double total = 0.0;
  for (int i = 0; i < TUNING_SLOTS; i++) total += t->hist[i];
  if (votes) *votes = total;
  *cents = 0.0;
  if (!(total >= t->params.min_peaks)) return 0;
  int best = 0;
  double best_score = -1.0;
  for (int i = 0; i < TUNING_SLOTS; i++) {
    double s = 0.0;
    for (int k = -SMOOTH_HALF; k <= SMOOTH_HALF; k++)
      s += (SMOOTH_HALF + 1 - abs(k)) * t->hist[(i + k + TUNING_SLOTS) % TUNING_SLOTS];
    if (s > best_score) {
      best_score = s;
      best = i;
    }
  }
  double sum = 0.0, weight = 0.0;
  for (int k = -REFINE_HALF; k <= REFINE_HALF; k++) {
    double h = t->hist[(best + k + TUNING_SLOTS) % TUNING_SLOTS];
    sum += h * k;
    weight += h;
  }
  double c = best - 50 + (weight > 0 ? sum / weight : 0.0);
  c -= 100.0 * floor((c + 50.0) / 100.0); /* [-50, 50) */
  *cents = c;
  return 1;
}

chordlet_status tuning_estimate(const tuning_params *p, const float *x, size_t n, double sample_rate, int *found,
                                double *cents, chordlet_error *err) {
  if (!found || !cents) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no place for the estimate");
  *found = 0;
  *cents = 0.0;
  if (n > 0 && !x) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no audio");
  tuning_tracker *t;
  chordlet_status st = tuning_tracker_create(p, sample_rate, 0.0, &t, err);
  if (st) return st;
  tuning_tracker_push(t, x, n);
  *found = tuning_tracker_estimate(t, cents, NULL);
  tuning_tracker_free(t);
  return CHORDLET_OK;
}

/* ----------------------------------------------------------- user's words */

chordlet_status chordlet_tuning_parse(const char *text, double *a4_hz, chordlet_error *err) {
  if (!a4_hz) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no place for the tuning");
  *a4_hz = 0.0;
  if (!text || !*text)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "empty tuning: give auto, an A4 in Hz (440, 442.5) or cents (-30c)");
  if (strcmp(text, "auto") == 0) return CHORDLET_OK;
  char *end = NULL;
  double v = strtod(text, &end);
  bool cents = end && (*end == 'c' || *end == 'C') && end[1] == '\0';
  if (end == text || !isfinite(v) || (!cents && *end != '\0') || (cents && end == text))
    return chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "tuning '%.40s': give auto, an A4 in Hz (440, 442.5) or cents from 440 Hz (-30c, +15c)",
                         text);
  double hz = cents ? tuning_cents_to_hz(v) : v;
  if (!(hz >= CHORDLET_TUNING_MIN_HZ && hz <= CHORDLET_TUNING_MAX_HZ))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "tuning '%.40s' is A4 = %.1f Hz: it must lie within %g..%g Hz (%+.0f..%+.0f cents)",
                         text, hz, (double)CHORDLET_TUNING_MIN_HZ, (double)CHORDLET_TUNING_MAX_HZ,
                         tuning_hz_to_cents(CHORDLET_TUNING_MIN_HZ), tuning_hz_to_cents(CHORDLET_TUNING_MAX_HZ));
  *a4_hz = hz;
  return CHORDLET_OK;
}
