/* test_augment.c: audio-domain augmentation (trainer/augment.h): the spec's
 * grammar, seeded draws (same seed, song and variant: the same samples; any
 * of them changed: others), and each kind measured against what it claims:
 * detune's pitch and time scale, level's exact gain, noise's SNR, the EQ's
 * band limits, reverb's RT60, and finite, unclipped output for loud input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "check.h"

#define EXPECT(cond) CHECK(cond, "%s", "")
static const double RATE = 22050, TWO_PI = 6.28318530717958647692;

static float *sine(size_t n, double hz, double amp) {
  float *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = (float)(amp * sin(TWO_PI * hz * (double)i / RATE));
  return x;
}

static double rms_of(const float *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return n ? sqrt(s / (double)n) : 0;
}

static int all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return 0;
  return 1;
}

/* Applies d to in (n); the output or NULL (the failure reported). */
static float *run(const augment_draw *d, const float *in, size_t n, size_t *out_n, double *gain) {
  float *y = NULL;
  chordlet_error err = {0};
  chordlet_status st = augment_apply(d, in, n, RATE, &y, out_n, gain, &err);
  CHECK(st == CHORDLET_OK, "augment_apply: %s", err.message);
  return st ? NULL : y;
}

static void test_spec(void) {
  augment_spec s;
  chordlet_error err;
  char text[AUG_SPEC_TEXT_MAX];
  EXPECT(augment_spec_parse("detune", &s, &err) == CHORDLET_OK);
  EXPECT(!augment_spec_text(&s, text, sizeof text) && !strcmp(text, "detune=-50:50@1"));
  EXPECT(augment_spec_parse("detune=30,level=-40:0,reverb=0.3:0.9,eq=100:300:3000:8000@0.25,noise=20,lossy=0.1:0.4@0.5",
                            &s, &err) == CHORDLET_OK);
  EXPECT(!augment_spec_text(&s, text, sizeof text));
  CHECK(!strcmp(text, "detune=-30:30@1,reverb=0.3:0.9:0.2:0.7@1,eq=100:300:3000:8000@0.25,noise=20:20@1,"
                      "level=-40:0@1,lossy=0.1:0.4@0.5"),
        "canonical text %s", text);
  /* all: every kind not named, at 0.5 (or all@P); named kinds keep theirs */
  EXPECT(augment_spec_parse("level=-30:-10@1,all", &s, &err) == CHORDLET_OK);
  EXPECT(s.kinds[AUG_LEVEL].probability == 1 && s.kinds[AUG_LEVEL].values[0] == -30);
  EXPECT(s.kinds[AUG_NOISE].on && s.kinds[AUG_NOISE].probability == AUG_ALL_PROBABILITY);
  EXPECT(augment_spec_parse("all@0.2", &s, &err) == CHORDLET_OK && s.kinds[AUG_DETUNE].probability == 0.2);
  /* equal specs, equal text; another value, another key */
  char a[AUG_SPEC_TEXT_MAX], b[AUG_SPEC_TEXT_MAX];
  augment_spec s2;
  EXPECT(!augment_spec_parse("detune=50", &s, &err) && !augment_spec_parse("detune=-50:50@1", &s2, &err));
  EXPECT(!augment_spec_key_text(&s, a, sizeof a) && !augment_spec_key_text(&s2, b, sizeof b) && !strcmp(a, b));
  EXPECT(!augment_spec_parse("detune=49.5", &s2, &err) && !augment_spec_key_text(&s2, b, sizeof b) && strcmp(a, b));

  const char *bad[] = {"",          "detune,",        "tremolo",      "detune=",      "detune=x",
                       "detune=-5", "detune=200",     "detune=10:5",  "level=3",      "level=-40:0:1",
                       "reverb=1",  "reverb=0.2:9",   "eq=100:200",   "eq=5:300:3000:8000",
                       "noise=20@2", "noise@x",       "all=3",        "all,all",      "detune,detune",
                       "lossy=0:2", "noise=10:30:1:2", "detune @1",   "noise@0.5=10"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err.message[0] = '\0';
    chordlet_status st = augment_spec_parse(bad[i], &s, &err);
    CHECK(st == CHORDLET_ERR_INVALID_ARGUMENT && err.message[0], "'%s' accepted", bad[i]);
    EXPECT(!augment_spec_any(&s));
  }
}

static int same_draw(const augment_draw *a, const augment_draw *b) { return !memcmp(a, b, sizeof *a); }

static void test_determinism(void) {
  augment_spec all, one;
  chordlet_error err;
  EXPECT(!augment_spec_parse(augment_lossy_available() ? "all@1" : "all@1,lossy@0", &all, &err));
  EXPECT(!augment_spec_parse("detune", &one, &err));
  augment_draw d1, d2, d3, d4, d5;
  augment_draw_variant(&all, 7, "song.flac", 1, &d1);
  augment_draw_variant(&all, 7, "song.flac", 1, &d2);
  augment_draw_variant(&all, 7, "song.flac", 2, &d3);
  augment_draw_variant(&all, 8, "song.flac", 1, &d4);
  augment_draw_variant(&all, 7, "other.flac", 1, &d5);
  EXPECT(same_draw(&d1, &d2));
  EXPECT(d1.detune_cents != d3.detune_cents && d1.detune_cents != d4.detune_cents &&
         d1.detune_cents != d5.detune_cents);
  EXPECT(d1.applied == ((1u << AUG_N_KINDS) - 1) - (augment_lossy_available() ? 0 : 1u << AUG_LOSSY));
  /* a kind's draws do not depend on the others: an ablation sees the same detune */
  augment_draw o;
  augment_draw_variant(&one, 7, "song.flac", 1, &o);
  EXPECT(o.applied == 1u << AUG_DETUNE && o.detune_cents == d1.detune_cents);
  for (int v = 1; v <= 50; v++) { /* within the range, rounded to 0.01 */
    augment_draw_variant(&one, 3, "x", v, &o);
    EXPECT(o.detune_cents >= -50 && o.detune_cents <= 50 && fabs(o.detune_cents * 100 - round(o.detune_cents * 100)) < 1e-6);
  }

  const size_t n = (size_t)(2.0 * RATE);
  float *x = sine(n, 330, 0.4);
  for (size_t i = 0; i < n; i++) x[i] += (float)(0.2 * sin(TWO_PI * 1234.5 * (double)i / RATE));
  size_t n1, n2, n3;
  float *y1 = run(&d1, x, n, &n1, NULL), *y2 = run(&d2, x, n, &n2, NULL), *y3 = run(&d3, x, n, &n3, NULL);
  EXPECT(y1 && y2 && n1 == n2 && !memcmp(y1, y2, n1 * sizeof *y1));
  EXPECT(y1 && y3 && (n1 != n3 || memcmp(y1, y3, n1 * sizeof *y1)));
  free(y1);
  free(y2);
  free(y3);
  free(x);
}

/* The frequency of a clean sine from its rising zero crossings (interpolated)
 * between samples a and b. */
static double zero_crossing_hz(const float *x, size_t a, size_t b) {
  double first = -1, last = -1;
  int count = 0;
  for (size_t i = a; i + 1 < b; i++)
    if (x[i] < 0 && x[i + 1] >= 0) {
      double t = (double)i + x[i] / (double)(x[i] - x[i + 1]);
      if (first < 0) first = t;
      else count++;
      last = t;
    }
  return count ? count * RATE / (last - first) : 0;
}

static void test_detune(void) {
  const size_t n = (size_t)(3.0 * RATE);
  float *x = sine(n, 440, 0.5);
  augment_draw d = {.applied = 1u << AUG_DETUNE, .detune_cents = 50};
  size_t m;
  double gain;
  float *y = run(&d, x, n, &m, &gain);
  const double scale = pow(2, -50.0 / 1200), hz = zero_crossing_hz(y, m / 6, m - m / 6);
  printf("detune +50 c: 440 Hz -> %.4f Hz (expected %.4f), %zu -> %zu samples (x %.6f)\n", hz, 440 / scale, n, m,
         scale);
  CHECK_NEAR(hz, 452.893, 0.5, "+50 cents of 440 Hz");
  CHECK_NEAR(augment_time_scale(&d), scale, 1e-15, "time scale");
  CHECK_NEAR((double)m, n * scale, 1.0, "length");
  EXPECT(gain == 1);
  free(y);
  /* -50 cents the other way */
  d.detune_cents = -50;
  y = run(&d, x, n, &m, NULL);
  CHECK_NEAR(zero_crossing_hz(y, m / 6, m - m / 6), 440 * pow(2, -50.0 / 1200), 0.5, "-50 cents");
  CHECK_NEAR((double)m, n / scale, 1.0, "length at -50 c");
  free(y);
  free(x);

  /* time moves with the scale: a click at 1.5 s lands at 1.5 * scale s */
  float *click = calloc(n, sizeof *click);
  const size_t at = (size_t)(1.5 * RATE);
  for (int i = -20; i <= 20; i++) click[at + i] = (float)(0.5 * (1 + cos(TWO_PI * i / 42.0)) / 2);
  d.detune_cents = 37.5;
  y = run(&d, click, n, &m, NULL);
  size_t best = 0;
  for (size_t i = 0; i < m; i++)
    if (fabsf(y[i]) > fabsf(y[best])) best = i;
  printf("detune +37.5 c: a click at sample %zu lands at %zu (expected %.2f)\n", at, best, at * augment_time_scale(&d));
  CHECK_NEAR((double)best, at * augment_time_scale(&d), 1.0, "the click's time");
  free(y);
  free(click);
}

static void test_level(void) {
  const size_t n = 22050;
  float *x = sine(n, 250, 0.5);
  double in_peak = 0;
  for (size_t i = 0; i < n; i++) in_peak = fmax(in_peak, fabs(x[i]));
  const double levels[] = {-40, -12.5, 0};
  for (int k = 0; k < 3; k++) {
    augment_draw d = {.applied = 1u << AUG_LEVEL, .level_dbfs = levels[k]};
    size_t m;
    float *y = run(&d, x, n, &m, NULL);
    const float g = (float)(pow(10, levels[k] / 20) / in_peak);
    double worst = 0, peak = 0;
    for (size_t i = 0; i < m; i++) {
      worst = fmax(worst, fabs((double)y[i] - (double)(x[i] * g)));
      peak = fmax(peak, fabs(y[i]));
    }
    EXPECT(m == n && worst == 0);
    CHECK_NEAR(20 * log10(peak), levels[k], 1e-4, "peak dBFS");
    free(y);
  }
  free(x);
}

static void test_noise(void) {
  const size_t n = (size_t)(2.0 * RATE);
  float *x = sine(n, 196, 0.3);
  const double snrs[] = {10, 19.37, 30};
  for (int colour = 0; colour < 3; colour++)
    for (int k = 0; k < 3; k++) {
      augment_draw d = {.applied = 1u << AUG_NOISE, .noise_colour = (augment_noise_colour)colour,
                        .noise_snr_db = snrs[k], .noise_seed = 99 + (uint64_t)k};
      size_t m;
      double g;
      float *y = run(&d, x, n, &m, &g);
      double noise = 0;
      for (size_t i = 0; i < m; i++) {
        double e = y[i] / g - x[i];
        noise += e * e;
      }
      double snr = 20 * log10(rms_of(x, n) / sqrt(noise / (double)n));
      CHECK(m == n && fabs(snr - snrs[k]) < 0.5, "colour %d: SNR %.3f dB, drawn %.2f", colour, snr, snrs[k]);
      free(y);
    }
  /* silence gets no noise (no signal, no SNR) */
  float *z = calloc(1000, sizeof *z);
  augment_draw d = {.applied = 1u << AUG_NOISE, .noise_snr_db = 10, .noise_seed = 1};
  size_t m;
  float *y = run(&d, z, 1000, &m, NULL);
  EXPECT(y && rms_of(y, m) == 0);
  free(y);
  free(z);
  free(x);
}

/* The gain (dB) of the EQ d on a sine, over its second half. */
static double eq_gain_db(const augment_draw *d, double hz) {
  const size_t n = (size_t)(1.0 * RATE);
  float *x = sine(n, hz, 0.25);
  size_t m;
  float *y = run(d, x, n, &m, NULL);
  double g = y ? 20 * log10(rms_of(y + n / 2, n / 2) / rms_of(x + n / 2, n / 2)) : 0;
  free(x);
  free(y);
  return g;
}

static void test_eq(void) {
  /* the telephone extreme: 400 Hz to 2.5 kHz, nothing else */
  augment_draw d = {.applied = 1u << AUG_EQ, .eq_highpass_hz = 400, .eq_lowpass_hz = 2500};
  double low = eq_gain_db(&d, 100), mid = eq_gain_db(&d, 1000), high = eq_gain_db(&d, 10000);
  printf("eq 400-2500 Hz: 100 Hz %.1f dB, 1 kHz %.2f dB, 10 kHz %.1f dB\n", low, mid, high);
  EXPECT(low < -40 && high < -40 && fabs(mid) < 0.5);
  /* the widest band leaves the middle alone and still cuts its outside */
  d.eq_highpass_hz = 50;
  d.eq_lowpass_hz = 10000;
  EXPECT(eq_gain_db(&d, 12.5) < -40 && fabs(eq_gain_db(&d, 1000)) < 0.1);
  /* tilt and peaks move the middle by their gains, no more */
  d.eq_tilt_db = 6;
  d.eq_n_peaks = 1;
  d.eq_peak_hz[0] = 1000;
  d.eq_peak_db[0] = 9;
  d.eq_peak_q[0] = 1;
  CHECK_NEAR(eq_gain_db(&d, 1000), 9, 0.5, "a 9 dB peak at its centre (the tilt pivots there)");
  /* drawn EQs: cutoffs in their ranges, and every output finite */
  augment_spec s;
  chordlet_error err;
  EXPECT(!augment_spec_parse("eq", &s, &err));
  for (int v = 1; v <= 20; v++) {
    augment_draw_variant(&s, 5, "song", v, &d);
    EXPECT(d.eq_highpass_hz >= 50 && d.eq_highpass_hz <= 400 && d.eq_lowpass_hz >= 2500 && d.eq_lowpass_hz <= 10000);
    EXPECT(d.eq_n_peaks >= 1 && d.eq_n_peaks <= AUG_MAX_PEAKS);
  }
}

/* RT60 from the impulse response's decay: a straight line through the energy
 * of 10 ms windows (dB) from 60 ms to 60 % of the drawn RT60. */
static double measured_rt60(const float *y, size_t n, double rt60) {
  const size_t w = (size_t)(0.01 * RATE);
  double st = 0, se = 0, stt = 0, ste = 0;
  int k = 0;
  for (size_t a = (size_t)(0.06 * RATE); a + w < (size_t)(0.6 * rt60 * RATE) && a + w <= n; a += w, k++) {
    double e = 0;
    for (size_t i = a; i < a + w; i++) e += (double)y[i] * y[i];
    double t = (double)a / RATE, db = 10 * log10(e + 1e-30);
    st += t, se += db, stt += t * t, ste += t * db;
  }
  double slope = (k * ste - st * se) / (k * stt - st * st); /* dB per second */
  return -60 / slope;
}

static void test_reverb(void) {
  const size_t n = (size_t)(2.5 * RATE);
  float *impulse = calloc(n, sizeof *impulse);
  impulse[0] = 0.5f;
  const double rt60s[] = {0.3, 0.8, 1.2};
  for (int k = 0; k < 3; k++) {
    augment_draw d = {.applied = 1u << AUG_REVERB, .reverb_rt60 = rt60s[k], .reverb_wet = 1, .reverb_seed = 11 + k};
    size_t m;
    float *y = run(&d, impulse, n, &m, NULL);
    double est = measured_rt60(y, m, rt60s[k]), total = 0, after = 0;
    for (size_t i = 0; i < m; i++) {
      total += (double)y[i] * y[i];
      if (i > (size_t)((rt60s[k] + 0.01) * RATE)) after += (double)y[i] * y[i];
    }
    printf("reverb: RT60 %.2f s measured %.3f s; energy after it %.2g of the total\n", rt60s[k], est, after / total);
    CHECK(m == n && fabs(est / rt60s[k] - 1) < 0.15, "RT60 %.2f measured %.3f", rt60s[k], est);
    EXPECT(after < 1e-6 * total);
    free(y);
  }
  free(impulse);
  /* the level does not jump: a song-like signal keeps its RMS */
  float *x = sine(n, 220, 0.3);
  augment_draw d = {.applied = 1u << AUG_REVERB, .reverb_rt60 = 0.7, .reverb_wet = 0.5, .reverb_seed = 3};
  size_t m;
  float *y = run(&d, x, n, &m, NULL);
  CHECK_NEAR(rms_of(y, m) / rms_of(x, n), 1, 1e-3, "RMS kept");
  free(y);
  free(x);
}

static void test_lossy(void) {
  if (!augment_lossy_available()) {
    printf("lossy: this libsndfile has no Vorbis encoder (skipped)\n");
    return;
  }
  const size_t n = (size_t)(2.0 * RATE) + 123;
  float *x = sine(n, 440, 0.3);
  for (size_t i = 0; i < n; i++) x[i] += (float)(0.1 * sin(TWO_PI * 3100 * (double)i / RATE));
  augment_draw d = {.applied = 1u << AUG_LOSSY, .lossy_quality = 0.1};
  size_t m;
  float *y = run(&d, x, n, &m, NULL);
  double e = 0;
  for (size_t i = 0; y && i < m; i++) e += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
  double snr = 10 * log10(rms_of(x, n) * rms_of(x, n) * (double)n / e);
  printf("lossy: Vorbis q 0.1 keeps %zu of %zu samples, SNR %.1f dB\n", m, n, snr);
  EXPECT(y && m == n && snr > 10 && snr < 80 && all_finite(y, m));
  free(y);
  free(x);
  /* a song's length at once: libvorbis's analysis of one write lives on the
   * stack, so 100 s (8.8 MB of samples) overflowed it before writes were cut */
  const size_t long_n = (size_t)(100 * RATE);
  x = sine(long_n, 440, 0.3);
  y = run(&d, x, long_n, &m, NULL);
  EXPECT(y && m == long_n && all_finite(y, m));
  free(y);
  free(x);
}

/* Loud input (a full-scale square wave) through every kind, many draws:
 * finite, nothing beyond +-1; silence and tiny buffers too. */
static void test_loud_and_edges(void) {
  const size_t n = (size_t)(1.5 * RATE);
  float *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = (i / 50) % 2 ? 1.0f : -1.0f;
  augment_spec s;
  chordlet_error err;
  const char *specs[] = {"detune@1,reverb@1,eq@1,noise=-10:10@1", "all@1", "all@0.5"};
  for (int k = 0; k < 3; k++) {
    EXPECT(!augment_spec_parse(specs[k], &s, &err));
    if (!augment_lossy_available()) s.kinds[AUG_LOSSY].on = false;
    for (int v = 1; v <= 4; v++) {
      augment_draw d;
      augment_draw_variant(&s, 42, "loud", v, &d);
      size_t m;
      double gain;
      float *y = run(&d, x, n, &m, &gain);
      double peak = 0;
      for (size_t i = 0; y && i < m; i++) peak = fmax(peak, fabs(y[i]));
      CHECK(y && all_finite(y, m) && peak <= 1 && gain > 0 && gain <= 1, "%s variant %d: peak %g", specs[k], v, peak);
      free(y);
    }
  }
  float zero[64] = {0};
  EXPECT(!augment_spec_parse("all@1", &s, &err));
  if (!augment_lossy_available()) s.kinds[AUG_LOSSY].on = false;
  augment_draw d;
  augment_draw_variant(&s, 1, "silence", 1, &d);
  const size_t sizes[] = {0, 1, 64};
  for (int k = 0; k < 3; k++) {
    size_t m;
    float *y = run(&d, zero, sizes[k], &m, NULL);
    EXPECT(y && all_finite(y, m) && rms_of(y, m) == 0);
    free(y);
  }
  free(x);
}

int main(void) {
  test_spec();
  test_determinism();
  test_detune();
  test_level();
  test_noise();
  test_eq();
  test_reverb();
  test_lossy();
  test_loud_and_edges();
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures ? 1 : 0;
}
