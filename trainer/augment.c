/* augment.c: degrading training audio (augment.h). */
#define _POSIX_C_SOURCE 200809L
#include "augment.h"

#include <fftw3.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiofile.h"
#include "error.h"
#include "model_keys.h"
#include "rng.h"

static const double PI = 3.14159265358979323846;

/* ---- the spec ---- */

/* Each kind's values: lo/hi pairs; `arities` the value counts a spec may give
 * (bit k: k numbers), bounds per pair. */
typedef struct kind_info {
  const char *name, *what;
  unsigned arities;
  int n_values; /* the full form */
  double defaults[AUG_MAX_VALUES];
  double min[2], max[2];
} kind_info;

static const kind_info KINDS[AUG_N_KINDS] = {
    [AUG_DETUNE] = {"detune", "cents", 1u << 1 | 1u << 2, 2, {-50, 50}, {-100}, {100}},
    [AUG_REVERB] = {"reverb", "RT60 seconds (and wet ratio)", 1u << 2 | 1u << 4, 4, {0.2, 1.2, 0.2, 0.7},
                    {0.05, 0}, {3, 1}},
    [AUG_EQ] = {"eq", "high-pass and low-pass cutoffs, Hz", 1u << 4, 4, {50, 400, 2500, 10000}, {20, 1000},
                {1000, 10500}},
    [AUG_NOISE] = {"noise", "SNR dB", 1u << 1 | 1u << 2, 2, {10, 30}, {-10}, {80}},
    [AUG_LEVEL] = {"level", "peak dBFS", 1u << 1 | 1u << 2, 2, {-40, 0}, {-80}, {0}},
    [AUG_LOSSY] = {"lossy", "Vorbis quality", 1u << 1 | 1u << 2, 2, {0, 0.5}, {0}, {1}},
};

const char *augment_kind_name(augment_kind kind) {
  return kind >= 0 && kind < AUG_N_KINDS ? KINDS[kind].name : "?";
}

static int kind_by_name(const char *s, size_t len) {
  for (int k = 0; k < AUG_N_KINDS; k++)
    if (strlen(KINDS[k].name) == len && !strncmp(KINDS[k].name, s, len)) return k;
  return -1;
}

/* A number filling exactly [s, s + len). */
static int parse_number(const char *s, size_t len, double *out) {
  char buf[64];
  if (len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end;
  double v = strtod(buf, &end);
  if (end != buf + len || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

/* Fills k's values from "a:b:..." (len bytes at s). */
static chordlet_status parse_values(int k, const char *s, size_t len, const char *item, augment_kind_spec *ks,
                                    chordlet_error *err) {
  const kind_info *ki = &KINDS[k];
  double v[AUG_MAX_VALUES + 1];
  int n = 0;
  for (size_t at = 0; at <= len;) {
    const char *colon = memchr(s + at, ':', len - at);
    size_t piece = colon ? (size_t)(colon - (s + at)) : len - at;
    if (n == AUG_MAX_VALUES + 1 || parse_number(s + at, piece, &v[n]))
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': %s takes numbers separated by ':' (%s)",
                           item, ki->name, ki->what);
    n++;
    at += piece + 1;
  }
  if (n > AUG_MAX_VALUES || !(ki->arities & (1u << n)))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': %s takes %s", item, ki->name,
                         k == AUG_DETUNE   ? "M (for -M:M) or LO:HI cents"
                         : k == AUG_REVERB ? "LO:HI (RT60 s) or LO:HI:WETLO:WETHI"
                         : k == AUG_EQ     ? "HPLO:HPHI:LPLO:LPHI (Hz)"
                                           : "one value or LO:HI");
  if (n == 1) {
    if (k == AUG_DETUNE && v[0] < 0)
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': detune=M takes M >= 0 (or LO:HI)", item);
    ks->values[0] = k == AUG_DETUNE ? -v[0] : v[0];
    ks->values[1] = v[0];
  } else {
    for (int i = 0; i < n; i++) ks->values[i] = v[i];
  }
  for (int pair = 0; pair < ki->n_values / 2; pair++) {
    double lo = ks->values[2 * pair], hi = ks->values[2 * pair + 1];
    if (lo > hi)
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': a range must run from low to high (%g > %g)",
                           item, lo, hi);
    if (lo < ki->min[pair] || hi > ki->max[pair])
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': %s must lie in %g..%g", item,
                           k == AUG_REVERB && pair ? "the wet ratio"
                           : k == AUG_EQ           ? (pair ? "the low-pass cutoff" : "the high-pass cutoff")
                                                   : ki->what,
                           ki->min[pair], ki->max[pair]);
  }
  return CHORDLET_OK;
}

/* One ITEM of the spec (len bytes at s; `item` is it as a string). */
static chordlet_status parse_item(const char *item, augment_spec *spec, bool named[AUG_N_KINDS], bool *all_seen,
                                  double *all_probability, chordlet_error *err) {
  const size_t len = strlen(item);
  const char *at = strrchr(item, '@'), *eq = strchr(item, '=');
  size_t name_end = eq ? (size_t)(eq - item) : at ? (size_t)(at - item) : len;
  if (at && eq && at < eq)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': the probability @P comes last", item);
  double p = -1;
  if (at && (parse_number(at + 1, len - (size_t)(at + 1 - item), &p) || p < 0 || p > 1))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': @P takes a probability 0..1", item);
  if (name_end == 3 && !strncmp(item, "all", 3)) {
    if (eq) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': all takes no values (only @P)", item);
    if (*all_seen) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'all' given twice");
    *all_seen = true;
    *all_probability = p >= 0 ? p : AUG_ALL_PROBABILITY;
    return CHORDLET_OK;
  }
  int k = kind_by_name(item, name_end);
  if (k < 0)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "'%s': unknown kind (known: detune, reverb, eq, noise, level, lossy, all)", item);
  if (named[k]) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': %s given twice", item, KINDS[k].name);
  named[k] = true;
  augment_kind_spec *ks = &spec->kinds[k];
  ks->on = true;
  ks->probability = p >= 0 ? p : 1.0;
  memcpy(ks->values, KINDS[k].defaults, sizeof ks->values);
  if (!eq) return CHORDLET_OK;
  size_t values_end = at ? (size_t)(at - item) : len;
  return parse_values(k, eq + 1, values_end - (size_t)(eq + 1 - item), item, ks, err);
}

chordlet_status augment_spec_parse(const char *text, augment_spec *spec, chordlet_error *err) {
  memset(spec, 0, sizeof *spec);
  if (!text || !*text) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "an empty augmentation spec");
  bool named[AUG_N_KINDS] = {false}, all_seen = false;
  double all_probability = 0;
  chordlet_status st = CHORDLET_OK;
  for (const char *p = text; !st;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char item[128];
    if (len == 0) st = chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%s': an empty item", text);
    else if (len >= sizeof item) st = chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "'%.40s...': too long", p);
    if (st) break;
    memcpy(item, p, len);
    item[len] = '\0';
    st = parse_item(item, spec, named, &all_seen, &all_probability, err);
    if (!comma) break;
    p = comma + 1;
  }
  for (int k = 0; !st && all_seen && k < AUG_N_KINDS; k++)
    if (!named[k]) {
      spec->kinds[k].on = true;
      spec->kinds[k].probability = all_probability;
      memcpy(spec->kinds[k].values, KINDS[k].defaults, sizeof spec->kinds[k].values);
    }
  if (st) memset(spec, 0, sizeof *spec);
  return st;
}

bool augment_spec_any(const augment_spec *spec) {
  for (int k = 0; k < AUG_N_KINDS; k++)
    if (spec->kinds[k].on) return true;
  return false;
}

static int spec_format(const augment_spec *spec, const char *number, char *out, size_t size) {
  size_t at = 0;
  out[0] = '\0';
  for (int k = 0; k < AUG_N_KINDS; k++) {
    const augment_kind_spec *ks = &spec->kinds[k];
    if (!ks->on) continue;
    char piece[256], num[48];
    int n = snprintf(piece, sizeof piece, "%s%s=", at ? "," : "", KINDS[k].name);
    for (int i = 0; i < KINDS[k].n_values && n > 0 && (size_t)n < sizeof piece; i++) {
      snprintf(num, sizeof num, number, ks->values[i]);
      n += snprintf(piece + n, sizeof piece - (size_t)n, "%s%s", i ? ":" : "", num);
    }
    if (n > 0 && (size_t)n < sizeof piece) {
      snprintf(num, sizeof num, number, ks->probability);
      n += snprintf(piece + n, sizeof piece - (size_t)n, "@%s", num);
    }
    if (n <= 0 || (size_t)n >= sizeof piece || at + (size_t)n >= size) return -1;
    memcpy(out + at, piece, (size_t)n + 1);
    at += (size_t)n;
  }
  return 0;
}

int augment_spec_text(const augment_spec *spec, char *out, size_t size) { return spec_format(spec, "%.15g", out, size); }
int augment_spec_key_text(const augment_spec *spec, char *out, size_t size) { return spec_format(spec, "%a", out, size); }

/* ---- draws ---- */

/* The drawn values are rounded; the rounded value is the one used. */
static double round_to(double x, double step) { return floor(x / step + 0.5) * step; }

/* Each kind's own stream: one kind's settings never move another's draws.
 * The salt "chordlet-augment-1" and the order of the draws below are part of
 * the caches' format: change either and every variant changes (bump it). */
static rng kind_rng(uint64_t seed, int variant, augment_kind kind, const char *name) {
  char text[96];
  snprintf(text, sizeof text, "chordlet-augment-1|%llu|%d|%s|", (unsigned long long)seed, variant, KINDS[kind].name);
  return (rng){rng_hash(rng_hash(RNG_HASH_START, text), name)};
}

static double draw_in(rng *r, const double *range, double step) {
  return round_to(rng_range(r, range[0], range[1]), step);
}

void augment_draw_variant(const augment_spec *spec, uint64_t seed, const char *name, int variant,
                          augment_draw *d) {
  memset(d, 0, sizeof *d);
  for (int k = 0; k < AUG_N_KINDS; k++) {
    const augment_kind_spec *ks = &spec->kinds[k];
    rng r = kind_rng(seed, variant, (augment_kind)k, name);
    /* drawn even when the kind is off, so the stream's use never depends on it */
    bool applied = rng_uniform(&r) < ks->probability;
    if (ks->on && applied) d->applied |= 1u << k;
    const double *v = ks->on ? ks->values : KINDS[k].defaults;
    switch ((augment_kind)k) {
    case AUG_DETUNE:
      d->detune_cents = draw_in(&r, v, 0.01);
      break;
    case AUG_REVERB:
      d->reverb_rt60 = draw_in(&r, v, 0.001);
      d->reverb_wet = draw_in(&r, v + 2, 0.001);
      d->reverb_seed = rng_next(&r);
      break;
    case AUG_EQ:
      d->eq_highpass_hz = draw_in(&r, v, 0.1);
      d->eq_lowpass_hz = draw_in(&r, v + 2, 0.1);
      d->eq_tilt_db = round_to(rng_range(&r, -6, 6), 0.01);
      d->eq_n_peaks = 1 + rng_below(&r, AUG_MAX_PEAKS);
      for (int i = 0; i < AUG_MAX_PEAKS; i++) {
        d->eq_peak_hz[i] = round_to(exp(rng_range(&r, log(100.0), log(5000.0))), 0.1);
        d->eq_peak_db[i] = round_to(rng_range(&r, -9, 9), 0.01);
        d->eq_peak_q[i] = round_to(rng_range(&r, 0.5, 2), 0.01);
      }
      break;
    case AUG_NOISE:
      d->noise_colour = (augment_noise_colour)rng_below(&r, 3);
      d->noise_snr_db = draw_in(&r, v, 0.01);
      d->noise_seed = rng_next(&r);
      break;
    case AUG_LEVEL:
      d->level_dbfs = draw_in(&r, v, 0.01);
      break;
    case AUG_LOSSY:
      d->lossy_quality = draw_in(&r, v, 0.001);
      break;
    case AUG_N_KINDS:
      break;
    }
  }
}

double augment_time_scale(const augment_draw *d) {
  return (d->applied & (1u << AUG_DETUNE)) ? pow(2.0, -d->detune_cents / 1200.0) : 1.0;
}

/* ---- detune ---- */

/* A tape at 2^(c/1200) times its speed: the samples are taken as recorded at
 * rate * 2^(c/1200) and resampled back to rate. */
static chordlet_status apply_detune(double cents, double rate, float **x, size_t *n, chordlet_error *err) {
  float *y;
  size_t ny;
  chordlet_status st = audio_resample(*x, *n, rate * pow(2.0, cents / 1200.0), rate, &y, &ny, err);
  if (st) return st;
  free(*x);
  *x = y;
  *n = ny;
  return CHORDLET_OK;
}

/* ---- reverb ---- */

static double rms(const float *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return n ? sqrt(s / (double)n) : 0;
}

/* The room: (1 - wet) at 0 (the direct path) plus wet times a reverberant
 * part of unit energy: reflections and a noise tail under one envelope that
 * falls 60 dB in RT60. (len) samples, len = RT60 in samples. */
static float *room_response(const augment_draw *d, double rate, size_t *len) {
  size_t L = (size_t)ceil(d->reverb_rt60 * rate);
  if (L < 64) L = 64;
  double *h = calloc(L, sizeof *h);
  float *out = malloc(L * sizeof *out);
  if (!h || !out) {
    free(h);
    free(out);
    return NULL;
  }
  rng r = {d->reverb_seed};
  const double decay = 3.0 * log(10.0) / (d->reverb_rt60 * rate); /* amplitude: e^(-decay i), -60 dB at RT60 */
  size_t onset = (size_t)(rng_range(&r, 0.005, 0.02) * rate);
  for (size_t i = onset; i < L; i++) h[i] = (2.0 * rng_uniform(&r) - 1.0) * exp(-decay * (double)i);
  /* early reflections stand out of the tail's start (several times its envelope) */
  int n_reflections = 3 + rng_below(&r, 4);
  for (int k = 0; k < n_reflections; k++) {
    size_t at = (size_t)(rng_range(&r, 0.002, 0.05) * rate);
    double amp = rng_range(&r, 1.5, 5.0) * (rng_uniform(&r) < 0.5 ? -1 : 1);
    if (at > 0 && at < L) h[at] += amp * exp(-decay * (double)at);
  }
  double energy = 0;
  for (size_t i = 0; i < L; i++) energy += h[i] * h[i];
  double g = energy > 0 ? d->reverb_wet / sqrt(energy) : 0;
  for (size_t i = 0; i < L; i++) out[i] = (float)(g * h[i]);
  out[0] += (float)(1.0 - d->reverb_wet);
  free(h);
  *len = L;
  return out;
}

/* y = x * h (the first n samples), by overlap-add with FFTW. */
static chordlet_status convolve(const float *x, size_t n, const float *h, size_t L, float *y, chordlet_error *err) {
  size_t N = 4096;
  while (N < 2 * L) N *= 2;
  const size_t B = N - L + 1, C = N / 2 + 1;
  float *buf = fftwf_alloc_real(N);
  fftwf_complex *X = fftwf_alloc_complex(C), *H = fftwf_alloc_complex(C);
  fftwf_plan fwd = NULL, inv = NULL;
  if (buf && X && H) {
    fwd = fftwf_plan_dft_r2c_1d((int)N, buf, X, FFTW_ESTIMATE);
    inv = fftwf_plan_dft_c2r_1d((int)N, X, buf, FFTW_ESTIMATE);
  }
  chordlet_status st = CHORDLET_OK;
  if (!fwd || !inv) st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "reverb: out of memory (FFT of %zu)", N);
  if (!st) {
    memset(buf, 0, N * sizeof *buf);
    memcpy(buf, h, L * sizeof *h);
    fftwf_execute(fwd);
    memcpy(H, X, C * sizeof *X);
    memset(y, 0, n * sizeof *y);
    const float scale = 1.0f / (float)N;
    for (size_t b = 0; b < n; b += B) {
      size_t m = n - b < B ? n - b : B;
      memset(buf, 0, N * sizeof *buf);
      memcpy(buf, x + b, m * sizeof *x);
      fftwf_execute(fwd);
      for (size_t k = 0; k < C; k++) {
        float re = X[k][0] * H[k][0] - X[k][1] * H[k][1], im = X[k][0] * H[k][1] + X[k][1] * H[k][0];
        X[k][0] = re * scale;
        X[k][1] = im * scale;
      }
      fftwf_execute(inv);
      for (size_t i = 0; i < N && b + i < n; i++) y[b + i] += buf[i];
    }
  }
  if (fwd) fftwf_destroy_plan(fwd);
  if (inv) fftwf_destroy_plan(inv);
  fftwf_free(buf);
  fftwf_free(X);
  fftwf_free(H);
  return st;
}

static chordlet_status apply_reverb(const augment_draw *d, double rate, float *x, size_t n, chordlet_error *err) {
  size_t L = 0;
  float *h = room_response(d, rate, &L);
  float *y = malloc((n ? n : 1) * sizeof *y);
  chordlet_status st = h && y ? convolve(x, n, h, L, y, err)
                              : chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "reverb: out of memory");
  if (!st) {
    /* back to the input's RMS: the room must not change the level */
    double before = rms(x, n), after = rms(y, n);
    float g = after > 0 ? (float)(before / after) : 1.0f;
    for (size_t i = 0; i < n; i++) x[i] = g * y[i];
  }
  free(h);
  free(y);
  return st;
}

/* ---- eq ---- */

/* RBJ's audio-EQ-cookbook biquads, run in double (a 50 Hz high-pass at
 * 22050 Hz has poles too near 1 for float state). */
typedef struct biquad {
  double b0, b1, b2, a1, a2, z1, z2;
} biquad;

typedef enum biquad_type { BQ_LOWPASS, BQ_HIGHPASS, BQ_PEAK, BQ_LOWSHELF, BQ_HIGHSHELF } biquad_type;

static biquad biquad_make(biquad_type type, double f, double q, double db, double rate) {
  const double w0 = 2 * PI * f / rate, c = cos(w0), s = sin(w0), A = pow(10.0, db / 40.0);
  const double alpha = s / (2 * q), sa = 2 * sqrt(A) * (s / 2 * sqrt(2.0)); /* shelves: slope 1 */
  double b0, b1, b2, a0, a1, a2;
  switch (type) {
  case BQ_LOWPASS:
    b0 = b2 = (1 - c) / 2, b1 = 1 - c, a0 = 1 + alpha, a1 = -2 * c, a2 = 1 - alpha;
    break;
  case BQ_HIGHPASS:
    b0 = b2 = (1 + c) / 2, b1 = -(1 + c), a0 = 1 + alpha, a1 = -2 * c, a2 = 1 - alpha;
    break;
  case BQ_PEAK:
    b0 = 1 + alpha * A, b1 = -2 * c, b2 = 1 - alpha * A, a0 = 1 + alpha / A, a1 = -2 * c, a2 = 1 - alpha / A;
    break;
  case BQ_LOWSHELF:
    b0 = A * ((A + 1) - (A - 1) * c + sa), b1 = 2 * A * ((A - 1) - (A + 1) * c), b2 = A * ((A + 1) - (A - 1) * c - sa);
    a0 = (A + 1) + (A - 1) * c + sa, a1 = -2 * ((A - 1) + (A + 1) * c), a2 = (A + 1) + (A - 1) * c - sa;
    break;
  default: /* BQ_HIGHSHELF */
    b0 = A * ((A + 1) + (A - 1) * c + sa), b1 = -2 * A * ((A - 1) + (A + 1) * c), b2 = A * ((A + 1) + (A - 1) * c - sa);
    a0 = (A + 1) - (A - 1) * c + sa, a1 = 2 * ((A - 1) - (A + 1) * c), a2 = (A + 1) - (A - 1) * c - sa;
    break;
  }
  return (biquad){b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0, 0, 0};
}

static void apply_eq(const augment_draw *d, double rate, float *x, size_t n) {
  /* 4th-order Butterworth = two biquads with these Qs */
  const double q1 = 1 / (2 * cos(PI / 8)), q2 = 1 / (2 * cos(3 * PI / 8));
  const double lowpass = fmin(d->eq_lowpass_hz, 0.45 * rate);
  biquad bq[6 + AUG_MAX_PEAKS];
  int nb = 0;
  bq[nb++] = biquad_make(BQ_HIGHPASS, d->eq_highpass_hz, q1, 0, rate);
  bq[nb++] = biquad_make(BQ_HIGHPASS, d->eq_highpass_hz, q2, 0, rate);
  bq[nb++] = biquad_make(BQ_LOWPASS, lowpass, q1, 0, rate);
  bq[nb++] = biquad_make(BQ_LOWPASS, lowpass, q2, 0, rate);
  if (d->eq_tilt_db != 0) { /* a tilt pivoting at 1 kHz */
    bq[nb++] = biquad_make(BQ_LOWSHELF, 1000, 0, -d->eq_tilt_db / 2, rate);
    bq[nb++] = biquad_make(BQ_HIGHSHELF, 1000, 0, d->eq_tilt_db / 2, rate);
  }
  for (int i = 0; i < d->eq_n_peaks && i < AUG_MAX_PEAKS; i++)
    if (d->eq_peak_hz[i] < 0.45 * rate)
      bq[nb++] = biquad_make(BQ_PEAK, d->eq_peak_hz[i], d->eq_peak_q[i], d->eq_peak_db[i], rate);
  for (size_t i = 0; i < n; i++) {
    double v = x[i];
    for (int k = 0; k < nb; k++) { /* transposed direct form II */
      biquad *b = &bq[k];
      double y = b->b0 * v + b->z1;
      b->z1 = b->b1 * v - b->a1 * y + b->z2;
      b->z2 = b->b2 * v - b->a2 * y;
      v = y;
    }
    x[i] = (float)v;
  }
}

/* ---- noise ---- */

static double gaussian(rng *r) { /* Box-Muller; u1 in (0, 1] */
  double u1 = ((double)(rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0), u2 = rng_uniform(r);
  return sqrt(-2 * log(u1)) * cos(2 * PI * u2);
}

static chordlet_status apply_noise(const augment_draw *d, float *x, size_t n, chordlet_error *err) {
  const double signal = rms(x, n);
  if (signal == 0) return CHORDLET_OK; /* no signal, no SNR: silence stays silent */
  double *w = malloc(n * sizeof *w);
  if (!w) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "noise: out of memory");
  rng r = {d->noise_seed};
  double b[7] = {0}, mean = 0;
  for (size_t i = 0; i < n; i++) {
    double g = gaussian(&r), v = g;
    if (d->noise_colour == AUG_NOISE_PINK) { /* Paul Kellet's refined pink filter: -3 dB/octave */
      b[0] = 0.99886 * b[0] + g * 0.0555179;
      b[1] = 0.99332 * b[1] + g * 0.0750759;
      b[2] = 0.96900 * b[2] + g * 0.1538520;
      b[3] = 0.86650 * b[3] + g * 0.3104856;
      b[4] = 0.55000 * b[4] + g * 0.5329522;
      b[5] = -0.7616 * b[5] - g * 0.0168980;
      v = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + g * 0.5362;
      b[6] = g * 0.115926;
    } else if (d->noise_colour == AUG_NOISE_BROWN) { /* -6 dB/octave above ~17 Hz (leaky so it cannot drift) */
      b[0] = 0.995 * b[0] + g;
      v = b[0];
    }
    w[i] = v;
    mean += v;
  }
  mean /= (double)n;
  double energy = 0;
  for (size_t i = 0; i < n; i++) {
    w[i] -= mean;
    energy += w[i] * w[i];
  }
  const double noise = sqrt(energy / (double)n);
  const double g = noise > 0 ? signal / (noise * pow(10.0, d->noise_snr_db / 20.0)) : 0;
  for (size_t i = 0; i < n; i++) x[i] = (float)(x[i] + g * w[i]);
  free(w);
  return CHORDLET_OK;
}

/* ---- level ---- */

static double peak(const float *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs((double)x[i]) > m) m = fabs((double)x[i]);
  return m;
}

static void apply_level(double dbfs, float *x, size_t n) {
  double p = peak(x, n);
  if (p == 0) return;
  float g = (float)(pow(10.0, dbfs / 20.0) / p);
  for (size_t i = 0; i < n; i++) x[i] *= g;
}

/* ---- lossy: Ogg Vorbis through libsndfile, in memory ---- */

typedef struct memory_file {
  unsigned char *data;
  sf_count_t size, cap, pos;
} memory_file;

static sf_count_t mf_length(void *user) { return ((memory_file *)user)->size; }
static sf_count_t mf_tell(void *user) { return ((memory_file *)user)->pos; }

static sf_count_t mf_seek(sf_count_t offset, int whence, void *user) {
  memory_file *f = user;
  sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? f->pos + offset : f->size + offset;
  if (to < 0) return -1;
  f->pos = to;
  return to;
}

static sf_count_t mf_read(void *ptr, sf_count_t count, void *user) {
  memory_file *f = user;
  sf_count_t left = f->size > f->pos ? f->size - f->pos : 0, k = count < left ? count : left;
  if (k > 0) memcpy(ptr, f->data + f->pos, (size_t)k);
  f->pos += k;
  return k;
}

static sf_count_t mf_write(const void *ptr, sf_count_t count, void *user) {
  memory_file *f = user;
  if (f->pos + count > f->cap) {
    sf_count_t cap = f->cap ? f->cap : 1 << 16;
    while (cap < f->pos + count) cap *= 2;
    unsigned char *d = realloc(f->data, (size_t)cap);
    if (!d) return 0;
    memset(d + f->size, 0, (size_t)(cap - f->size));
    f->data = d;
    f->cap = cap;
  }
  memcpy(f->data + f->pos, ptr, (size_t)count);
  f->pos += count;
  if (f->pos > f->size) f->size = f->pos;
  return count;
}

enum { LOSSY_BLOCK = 4096 }; /* frames per write to the encoder */

static SF_INFO vorbis_info(double rate) {
  return (SF_INFO){.samplerate = (int)lround(rate), .channels = 1, .format = SF_FORMAT_OGG | SF_FORMAT_VORBIS};
}

bool augment_lossy_available(void) {
  SF_INFO info = vorbis_info(22050);
  return sf_format_check(&info) != 0;
}

/* x (n) through a Vorbis encoder at `quality` and back; the decoded length is
 * cut or zero-padded to n (Ogg keeps the exact length: this only guards). */
static chordlet_status apply_lossy(double quality, double rate, float *x, size_t n, chordlet_error *err) {
  if (n == 0) return CHORDLET_OK;
  if (!augment_lossy_available())
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "lossy: this libsndfile cannot write Ogg Vorbis (built without libvorbis)");
  SF_VIRTUAL_IO io = {mf_length, mf_seek, mf_read, mf_write, mf_tell};
  memory_file mf = {0};
  SF_INFO info = vorbis_info(rate);
  chordlet_status st = CHORDLET_OK;
  SNDFILE *f = sf_open_virtual(&io, SFM_WRITE, &info, &mf);
  if (!f) return chordlet_fail(err, CHORDLET_ERR_IO, "lossy: cannot start the Vorbis encoder: %s", sf_strerror(NULL));
  double q = quality;
  if (!sf_command(f, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof q))
    st = chordlet_fail(err, CHORDLET_ERR_IO, "lossy: libsndfile refused Vorbis quality %g", quality);
  /* in blocks: libvorbis puts a whole write's worth of analysis on the stack
   * (a 3-minute song at once overflows it) */
  for (size_t at = 0; !st && at < n; at += LOSSY_BLOCK) {
    sf_count_t k = (sf_count_t)(n - at < LOSSY_BLOCK ? n - at : LOSSY_BLOCK);
    if (sf_writef_float(f, x + at, k) != k)
      st = chordlet_fail(err, CHORDLET_ERR_IO, "lossy: Vorbis encoding failed: %s", sf_strerror(f));
  }
  if (sf_close(f) && !st) st = chordlet_fail(err, CHORDLET_ERR_IO, "lossy: Vorbis encoding failed at the end");
  if (!st) {
    mf.pos = 0;
    SF_INFO rinfo = {0};
    SNDFILE *g = sf_open_virtual(&io, SFM_READ, &rinfo, &mf);
    if (!g || rinfo.channels != 1) {
      st = chordlet_fail(err, CHORDLET_ERR_IO, "lossy: cannot decode the Vorbis stream: %s", sf_strerror(g));
    } else {
      sf_count_t got = sf_readf_float(g, x, (sf_count_t)n);
      if (got < 0) got = 0;
      memset(x + got, 0, (n - (size_t)got) * sizeof *x);
    }
    if (g) sf_close(g);
  }
  free(mf.data);
  return st;
}

/* ---- the chain ---- */

/* No sample beyond +-1, no NaN or infinity. */
static chordlet_status guard(float *x, size_t n, double *peak_gain, chordlet_error *err) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return chordlet_fail(err, CHORDLET_ERR_RANGE, "augmentation produced a non-finite sample at %zu", i);
  double p = peak(x, n);
  if (p <= 1) return CHORDLET_OK;
  const float g = (float)(1.0 / p);
  for (size_t i = 0; i < n; i++) {
    x[i] *= g;
    if (x[i] > 1) x[i] = 1; /* the float product may round a hair above 1 */
    if (x[i] < -1) x[i] = -1;
  }
  if (peak_gain) *peak_gain = g;
  return CHORDLET_OK;
}

chordlet_status augment_apply(const augment_draw *d, const float *in, size_t n, double rate, float **out,
                              size_t *out_n, double *peak_gain, chordlet_error *err) {
  *out = NULL;
  *out_n = 0;
  if (peak_gain) *peak_gain = 1;
  if (!isfinite(rate) || rate < 8000 || rate > 768000)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "augment: sample rate %g Hz", rate);
  if (!in && n) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "augment: NULL input");
  float *x = malloc((n ? n : 1) * sizeof *x);
  if (!x) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "augment: out of memory (%zu samples)", n);
  if (n) memcpy(x, in, n * sizeof *x);
  size_t m = n;
  const unsigned a = d->applied;
  chordlet_status st = CHORDLET_OK;
  if (a & (1u << AUG_DETUNE)) st = apply_detune(d->detune_cents, rate, &x, &m, err);
  if (!st && (a & (1u << AUG_REVERB))) st = apply_reverb(d, rate, x, m, err);
  if (!st && (a & (1u << AUG_EQ))) apply_eq(d, rate, x, m);
  if (!st && (a & (1u << AUG_NOISE))) st = apply_noise(d, x, m, err);
  if (!st && (a & (1u << AUG_LEVEL))) apply_level(d->level_dbfs, x, m);
  if (!st && (a & (1u << AUG_LOSSY))) st = apply_lossy(d->lossy_quality, rate, x, m, err);
  if (!st) st = guard(x, m, peak_gain, err);
  if (st) {
    free(x);
    return st;
  }
  *out = x;
  *out_n = m;
  return CHORDLET_OK;
}

/* ---- description and metadata ---- */

static const char *const COLOURS[] = {"white", "pink", "brown"};

void augment_describe(const augment_draw *d, char *out, size_t size) {
  size_t at = 0;
  out[0] = '\0';
  for (int k = 0; k < AUG_N_KINDS; k++) {
    if (!(d->applied & (1u << k))) continue;
    char piece[256];
    int n = 0;
    switch ((augment_kind)k) {
    case AUG_DETUNE:
      n = snprintf(piece, sizeof piece, "detune %+.2f c", d->detune_cents);
      break;
    case AUG_REVERB:
      n = snprintf(piece, sizeof piece, "reverb RT60 %.3f s wet %.3f", d->reverb_rt60, d->reverb_wet);
      break;
    case AUG_EQ:
      n = snprintf(piece, sizeof piece, "eq HP %.1f Hz LP %.1f Hz tilt %+.2f dB", d->eq_highpass_hz,
                   d->eq_lowpass_hz, d->eq_tilt_db);
      for (int i = 0; i < d->eq_n_peaks && n > 0 && (size_t)n < sizeof piece; i++)
        n += snprintf(piece + n, sizeof piece - (size_t)n, ", peak %.1f Hz %+.2f dB Q %.2f", d->eq_peak_hz[i],
                      d->eq_peak_db[i], d->eq_peak_q[i]);
      break;
    case AUG_NOISE:
      n = snprintf(piece, sizeof piece, "noise %s SNR %.2f dB", COLOURS[d->noise_colour % 3], d->noise_snr_db);
      break;
    case AUG_LEVEL:
      n = snprintf(piece, sizeof piece, "level %.2f dBFS", d->level_dbfs);
      break;
    case AUG_LOSSY:
      n = snprintf(piece, sizeof piece, "lossy Vorbis q %.3f", d->lossy_quality);
      break;
    case AUG_N_KINDS:
      break;
    }
    if (n <= 0) continue;
    int w = snprintf(out + at, size - at, "%s%s", at ? "; " : "", piece);
    if (w < 0 || (size_t)w >= size - at) break;
    at += (size_t)w;
  }
  if (!at) snprintf(out, size, "none");
}

chordlet_status augment_write_metadata(const augment_draw *d, const augment_spec *spec, uint64_t seed, int variant,
                                       double peak_gain, model_writer *w, chordlet_error *err) {
  char spec_text[AUG_SPEC_TEXT_MAX], seed_text[24], applied[128] = "", description[AUG_DESCRIPTION_MAX];
  if (augment_spec_text(spec, spec_text, sizeof spec_text))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "augment: the spec's text is too long");
  snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
  for (int k = 0; k < AUG_N_KINDS; k++)
    if (d->applied & (1u << k)) {
      size_t at = strlen(applied);
      snprintf(applied + at, sizeof applied - at, "%s%s", at ? "," : "", KINDS[k].name);
    }
  if (!applied[0]) snprintf(applied, sizeof applied, "none");
  augment_describe(d, description, sizeof description);
  const unsigned a = d->applied;
  chordlet_status st;
  (void)((st = model_writer_set_str(w, MK_AUGMENT_SPEC, spec_text, err)) ||
         (st = model_writer_set_str(w, MK_AUGMENT_SEED, seed_text, err)) ||
         (st = model_writer_set_i64(w, MK_AUGMENT_VARIANT, variant, err)) ||
         (st = model_writer_set_str(w, MK_AUGMENT_APPLIED, applied, err)) ||
         (st = model_writer_set_str(w, MK_AUGMENT_DESCRIPTION, description, err)) ||
         (st = model_writer_set_f64(w, MK_AUGMENT_TIME_SCALE, augment_time_scale(d), err)) ||
         (st = model_writer_set_f64(w, MK_AUGMENT_PEAK_GAIN, peak_gain, err)) ||
         ((a & (1u << AUG_DETUNE)) && (st = model_writer_set_f64(w, MK_AUGMENT_DETUNE_CENTS, d->detune_cents, err))) ||
         ((a & (1u << AUG_REVERB)) && ((st = model_writer_set_f64(w, MK_AUGMENT_REVERB_RT60, d->reverb_rt60, err)) ||
                                       (st = model_writer_set_f64(w, MK_AUGMENT_REVERB_WET, d->reverb_wet, err)))) ||
         ((a & (1u << AUG_EQ)) && ((st = model_writer_set_f64(w, MK_AUGMENT_EQ_HIGHPASS, d->eq_highpass_hz, err)) ||
                                   (st = model_writer_set_f64(w, MK_AUGMENT_EQ_LOWPASS, d->eq_lowpass_hz, err)) ||
                                   (st = model_writer_set_f64(w, MK_AUGMENT_EQ_TILT, d->eq_tilt_db, err)))) ||
         ((a & (1u << AUG_NOISE)) &&
          ((st = model_writer_set_str(w, MK_AUGMENT_NOISE_COLOUR, COLOURS[d->noise_colour % 3], err)) ||
           (st = model_writer_set_f64(w, MK_AUGMENT_NOISE_SNR, d->noise_snr_db, err)))) ||
         ((a & (1u << AUG_LEVEL)) && (st = model_writer_set_f64(w, MK_AUGMENT_LEVEL, d->level_dbfs, err))) ||
         ((a & (1u << AUG_LOSSY)) && (st = model_writer_set_f64(w, MK_AUGMENT_LOSSY_QUALITY, d->lossy_quality, err))));
  return st;
}
