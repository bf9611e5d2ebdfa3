/* test_tuning.c: the front end's reference-pitch estimator (engine/tuning.h).
 *  - synthetic chords (harmonic tones, 8 partials, random voicings) at
 *    detunes across -50..+49 cents and at 22.05, 44.1 and 48 kHz: the
 *    offline estimate within 1 cent; silence and too little audio give none;
 *  - a real recording (the demo, examples/synth0046.flac) resampled with
 *    libsoxr by known amounts: every estimate minus the one of the original
 *    is the applied detune within 2 cents, and librosa's estimate_tuning
 *    (engine/cqt_tuning.c, tested equal to librosa) agrees within 3 cents;
 *  - the live tracker: a change from +40 to -20 cents is followed within
 *    4 s; the tracker allocates nothing after creation (interposer);
 *  - settings: model-file round trip, defaults for a model without them,
 *    bad values refused; the user's tuning words (chordlet_tuning_parse). */
#define _GNU_SOURCE
#include <stdlib.h>

#include "rt_interposer.h"

#include <math.h>
#include <soxr.h>
#include <stdio.h>
#include <string.h>

#include "audiofile.h"
#include "check.h"
#include "cqt_librosa.h"
#include "model_keys.h"
#include "modelfile.h"
#include "tuning.h"

#ifndef PI
#define PI 3.14159265358979323846
#endif

static unsigned rng = 12345;
static double urand(void) {
  rng = rng * 1103515245u + 12345u;
  return (rng >> 8) / 16777216.0;
}

/* Chords of 4 harmonic tones (8 partials, 1/h amplitudes) every 0.5 s,
 * random roots and voicings, tuned `cents` from A4 = 440 Hz. */
static float *chords(double rate, double seconds, double cents, size_t *n_out) {
  size_t n = (size_t)(seconds * rate);
  float *x = calloc(n, sizeof *x);
  for (double t0 = 0; t0 < seconds; t0 += 0.5) {
    int root = 40 + (int)(urand() * 24);
    const int shape[4] = {0, 4 + (urand() < 0.5 ? -1 : 0), 7, 12};
    for (int v = 0; v < 4; v++) {
      double f0 = 440.0 * pow(2.0, (root + shape[v] - 69) / 12.0 + cents / 1200.0);
      for (int h = 1; h <= 8; h++) {
        double ph = urand() * 2 * PI;
        for (size_t i = (size_t)(t0 * rate); i < n && i < (size_t)((t0 + 0.5) * rate); i++)
          x[i] += (float)(0.05 / h * sin(2 * PI * f0 * h * (double)i / rate + ph));
      }
    }
  }
  *n_out = n;
  return x;
}

static double wrap(double c) { return c - 100.0 * floor((c + 50.0) / 100.0); }

static void test_synthetic(void) {
  tuning_params p;
  tuning_params_default(&p);
  const double rates[] = {22050, 44100, 48000};
  double worst = 0;
  for (int r = 0; r < 3; r++)
    for (double cents = -50; cents < 50; cents += 7) {
      size_t n;
      float *x = chords(rates[r], 6.0, cents, &n);
      int found;
      double est;
      chordlet_error err;
      CHECK(tuning_estimate(&p, x, n, rates[r], &found, &est, &err) == CHORDLET_OK, "%s", err.message);
      CHECK(found, "%g Hz, %g cents: no estimate", rates[r], cents);
      worst = fmax(worst, fabs(wrap(est - cents)));
      CHECK(fabs(wrap(est - cents)) <= 1.0, "%g Hz: %g cents estimated as %.2f", rates[r], cents, est);
      free(x);
    }
  printf("synthetic chords at 22.05/44.1/48 kHz, -50..+49 cents: worst error %.2f cents\n", worst);
  /* Silence, and less audio than one window: no estimate. */
  float *z = calloc(48000, sizeof *z);
  int found = 1;
  double est = 99;
  CHECK(tuning_estimate(&p, z, 48000, 48000, &found, &est, NULL) == CHORDLET_OK && !found && est == 0,
        "silence gave an estimate");
  size_t n;
  float *x = chords(48000, 0.1, 30, &n);
  CHECK(tuning_estimate(&p, x, n, 48000, &found, &est, NULL) == CHORDLET_OK && !found, "0.1 s gave an estimate");
  free(x);
  CHECK(tuning_estimate(&p, NULL, 0, 48000, &found, &est, NULL) == CHORDLET_OK && !found, "no audio");
  chordlet_error err;
  CHECK(tuning_estimate(&p, z, 10, 1000, &found, &est, &err) == CHORDLET_ERR_RANGE, "a rate of 1 kHz");
  free(z);
}

/* The demo played fast or slow by resampling it (a tape's detune). */
static void test_recording(void) {
  const char *path = "examples/synth0046.flac";
  audio_buffer a;
  chordlet_error err;
  if (audiofile_read(path, 22050, &a, &err)) {
    CHECK(0, "%s: %s", path, err.message);
    return;
  }
  tuning_params p;
  tuning_params_default(&p);
  int found;
  double base;
  CHECK(tuning_estimate(&p, a.samples, a.n_samples, 22050, &found, &base, &err) == CHORDLET_OK && found, "demo");
  const double detunes[] = {-45, -30, -15, 15, 30, 45};
  double worst = 0, worst_librosa = 0;
  for (int i = 0; i < 6; i++) {
    const double ratio = pow(2.0, -detunes[i] / 1200.0); /* more samples: played at 22050, lower */
    size_t cap = (size_t)(a.n_samples / ratio) + 64, done = 0;
    float *y = malloc(cap * sizeof *y);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    /* Resampled to 22050 * ratio and read back as 22050 Hz: pitch x 1/ratio. */
    soxr_oneshot(22050, 22050 * ratio, 1, a.samples, a.n_samples, NULL, y, cap, &done, &io, &q, NULL);
    double est, lib;
    CHECK(tuning_estimate(&p, y, done, 22050, &found, &est, &err) == CHORDLET_OK && found, "%s", err.message);
    CHECK(cqt_librosa_estimate_tuning(y, done, 22050, 12, &lib, &err) == CHORDLET_OK, "%s", err.message);
    const double e = fabs(wrap(est - base - detunes[i])), el = fabs(wrap(est - 100.0 * lib));
    worst = fmax(worst, e);
    worst_librosa = fmax(worst_librosa, el);
    CHECK(e <= 2.0, "%+g cents: estimate %.2f, the original %.2f", detunes[i], est, base);
    CHECK(el <= 3.0, "%+g cents: ours %.2f, librosa's %.0f", detunes[i], est, 100.0 * lib);
    free(y);
  }
  printf("the demo (its own tuning %+.2f cents) resampled by -45..+45 cents: worst error %.2f cents; largest "
         "difference from librosa's estimate_tuning %.2f cents\n",
         base, worst, worst_librosa);
  audio_buffer_free(&a);
}

static void test_tracker(void) {
  const double rate = 48000;
  tuning_params p;
  tuning_params_default(&p);
  tuning_tracker *t;
  chordlet_error err;
  CHECK(tuning_tracker_create(&p, rate, p.memory_seconds, &t, &err) == CHORDLET_OK, "%s", err.message);
  size_t na, nb;
  float *a = chords(rate, 10.0, 40.0, &na), *b = chords(rate, 10.0, -20.0, &nb);
  double cents = 0, when_a = -1, when_b = -1;
  long calls = 0;
  for (size_t i = 0; i < na + nb; i += 480) {
    const float *x = i < na ? a + i : b + (i - na);
    count_on();
    tuning_tracker_push(t, x, 480);
    int found = tuning_tracker_estimate(t, &cents, NULL);
    calls += count_off();
    const double now = (double)(i + 480) / rate, want = i < na ? 40.0 : -20.0;
    double *when = i < na ? &when_a : &when_b;
    if (found && fabs(cents - want) <= 3.0) {
      if (*when < 0) *when = now;
    } else {
      *when = -1;
    }
  }
  printf("tracker: +40 cents settled (within 3) after %.2f s; -20 cents %.2f s after the change; %ld "
         "allocations/frees/locks\n",
         when_a, when_b - na / rate, calls);
  CHECK(when_a >= 0 && when_a <= 4.0, "+40 settled at %.2f s", when_a);
  CHECK(when_b >= 0 && when_b - na / rate <= 4.0, "-20 settled %.2f s after the change", when_b - na / rate);
  if (!UNDER_ASAN) CHECK(calls == 0, "%ld allocations/frees/locks in push/estimate", calls);
  tuning_tracker_reset(t);
  CHECK(!tuning_tracker_estimate(t, &cents, NULL), "reset forgets");
  tuning_tracker_free(t);
  free(a);
  free(b);
}

static void test_params(void) {
  tuning_params p, q;
  tuning_params_default(&p);
  chordlet_error err;
  CHECK(tuning_params_check(&p, &err) == CHORDLET_OK, "defaults: %s", err.message);
  tuning_params bad = p;
  bad.hop_seconds = 0;
  CHECK(tuning_params_check(&bad, &err) == CHORDLET_ERR_RANGE && strstr(err.message, "hop"), "hop 0");
  bad = p;
  bad.fmin_hz = NAN;
  CHECK(tuning_params_check(&bad, &err) == CHORDLET_ERR_RANGE && strstr(err.message, "band"), "fmin NaN");
  bad = p;
  bad.version = 2;
  CHECK(tuning_params_check(&bad, &err) == CHORDLET_ERR_RANGE && strstr(err.message, "version"), "version 2");
  /* Round trip through a model file; a file without the keys: defaults. */
  p.memory_seconds = 5.0;
  const char *path = "build/test-logs/tuning-params.chordlet";
  model_writer *w = model_writer_create();
  CHECK(w != NULL, "writer");
  CHECK(tuning_params_write(&p, w, &err) == CHORDLET_OK, "%s", err.message);
  CHECK(model_writer_set_str(w, "model.name", "t", &err) == CHORDLET_OK, "%s", err.message);
  CHECK(model_writer_save(w, path, &err) == CHORDLET_OK, "%s", err.message);
  model_writer_free(w);
  model_file *m = NULL;
  CHECK(model_file_load(path, &m, &err) == CHORDLET_OK, "%s", err.message);
  if (m) {
    CHECK(tuning_params_read(m, &q, &err) == CHORDLET_OK && memcmp(&p, &q, sizeof p) == 0, "round trip: %s",
          err.message);
    model_file_free(m);
  }
  CHECK(model_file_load("models/default.chordlet", &m, &err) == CHORDLET_OK, "%s", err.message);
  if (m) {
    tuning_params d;
    tuning_params_default(&d);
    CHECK(tuning_params_read(m, &q, &err) == CHORDLET_OK && memcmp(&d, &q, sizeof d) == 0,
          "a model without the keys gets the defaults: %s", err.message);
    model_file_free(m);
  }
  /* The user's words. */
  double hz;
  CHECK(chordlet_tuning_parse("auto", &hz, &err) == CHORDLET_OK && hz == 0, "auto");
  CHECK(chordlet_tuning_parse("442.5", &hz, &err) == CHORDLET_OK && hz == 442.5, "442.5");
  CHECK(chordlet_tuning_parse("415", &hz, &err) == CHORDLET_OK && hz == 415, "415");
  CHECK(chordlet_tuning_parse("-30c", &hz, &err) == CHORDLET_OK && fabs(hz - 440 * pow(2, -30 / 1200.0)) < 1e-9,
        "-30c");
  CHECK(chordlet_tuning_parse("+15c", &hz, &err) == CHORDLET_OK && fabs(hz - 440 * pow(2, 15 / 1200.0)) < 1e-9,
        "+15c");
  const char *refused[] = {"399.9", "480.1", "-200c", "abc", "", "440Hz", "c", "nan", "inf", "440 ", NULL};
  for (int i = 0; refused[i]; i++) {
    chordlet_status st = chordlet_tuning_parse(refused[i], &hz, &err);
    CHECK(st != CHORDLET_OK && err.message[0], "'%s' accepted", refused[i]);
  }
  CHECK(chordlet_tuning_parse("399", &hz, &err) == CHORDLET_ERR_RANGE && strstr(err.message, "400..480"),
        "the message names the range: %s", err.message);
}

int main(void) {
#if !UNDER_ASAN
  CHECK(interposer_self_check(), "the interposer does not count");
#endif
  test_synthetic();
  test_recording();
  test_tracker();
  test_params();
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures ? 1 : 0;
}
