/* test_stream.c: the student's streaming front end (engine/cqt.h,
 * engine/stream.h), on synthesised signals only (no ../shared):
 *  - parameters: defaults valid, every bad field refused by name, model-file
 *    round trip and refusal of a different version;
 *  - the embedded 2:1 decimator equals libsoxr HQ measured now;
 *  - each group's FFT-domain kernels equal the direct window-times-carrier
 *    sums at the inner rate; the whole stream equals the direct definition
 *    (cqt_reference_frame) at 16 to 96 kHz;
 *  - block-size independence: 1, 17, 64, 256, 1024, varying sizes and the
 *    whole file give bit-identical frames (the requirement is 1e-5 relative);
 *  - sines at bin centres peak in their bin with |C| = amplitude at 22.05,
 *    44.1, 48 and 96 kHz;
 *  - an impulse at t0 peaks, in every bin, in the frame emitted within half a
 *    hop of t0 + delay (emission times measured sample by sample);
 *  - the same music synthesised at 16 to 96 kHz gives the same features;
 *  - reset, shared plans, silence, denormal/NaN/huge input, MXCSR restored,
 *    bad arguments, too small an output buffer. */
#define _POSIX_C_SOURCE 200809L
#include <soxr.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "cqt.h"
#include "model_keys.h"
#include "modelfile.h"
#include "stream.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define PI 3.141592653589793

/* ---------------------------------------------------------------- signals */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double urand(void) { /* [0, 1) */
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* A sinusoid from t_on to t_off seconds with 20 ms raised-cosine ramps, a
 * function of continuous time, so that the same partial can be sampled at any
 * rate. Added into x (n samples at rate). */
static void add_partial(float *x, size_t n, double rate, double freq, double amp, double phase, double t_on,
                        double t_off) {
  const double ramp = 0.02;
  long long i0 = (long long)ceil(t_on * rate), i1 = (long long)floor(t_off * rate);
  if (i0 < 0) i0 = 0;
  if (i1 >= (long long)n) i1 = (long long)n - 1;
  double cr = 0, ci = 0, dr = cos(2 * PI * freq / rate), di = sin(2 * PI * freq / rate);
  for (long long i = i0; i <= i1; i++) {
    double t = (double)i / rate;
    if ((i - i0) % 512 == 0) { /* exact phasor now and then; rotation between */
      cr = cos(2 * PI * freq * t + phase);
      ci = sin(2 * PI * freq * t + phase);
    }
    double g = 1.0;
    if (t - t_on < ramp) g = 0.5 - 0.5 * cos(PI * (t - t_on) / ramp);
    if (t_off - t < ramp) g = 0.5 - 0.5 * cos(PI * (t_off - t) / ramp);
    x[i] += (float)(amp * g * ci);
    double r = cr * dr - ci * di;
    ci = cr * di + ci * dr;
    cr = r;
  }
}

static double midi_hz(double m) { return 440.0 * pow(2.0, (m - 69.0) / 12.0); }

/* Three chords with bass, harmonics up to 7 kHz, and 30 partials of "noise"
 * at fixed random frequencies (50 Hz .. 7 kHz): the same continuous-time
 * signal at every rate. */
static float *music(double rate, double seconds, size_t *n_out) {
  size_t n = (size_t)(seconds * rate);
  float *x = calloc(n, sizeof *x);
  static const int chords[3][4] = {{48, 64, 67, 72}, {45, 60, 64, 69}, {41, 65, 69, 72}};
  double seg = seconds / 3.0;
  for (int c = 0; c < 3; c++) {
    double on = c * seg, off = (c + 1) * seg;
    for (int v = 0; v < 4; v++) {
      double f0 = midi_hz(chords[c][v] - (v == 0 ? 12 : 0));
      for (int h = 1; h <= 8 && f0 * h < 7000.0; h++)
        add_partial(x, n, rate, f0 * h, (v == 0 ? 0.12 : 0.06) / h, 0.3 * v + h, on, off);
    }
  }
  uint64_t saved = rng_state;
  rng_state = 42;
  for (int k = 0; k < 30; k++) {
    double f = 50.0 * pow(140.0, urand());
    add_partial(x, n, rate, f, 0.004, 2 * PI * urand(), 0.0, seconds);
  }
  rng_state = saved;
  *n_out = n;
  return x;
}

/* ---------------------------------------------------------------- helpers */

static float *offline(const cqt_params *p, const float *x, size_t n, double rate, size_t *T) {
  float *F = NULL;
  chordlet_error err = {0};
  chordlet_status st = cqt_features_offline(p, x, n, rate, &F, T, &err);
  CHECK(st == CHORDLET_OK, "offline at %g Hz: %s", rate, err.message);
  return F;
}

/* The live stream in blocks (sizes[i] cycling; 0 means one block for all),
 * flushed like the offline function. Returns frames; *T their count. */
static float *live(const cqt_params *p, const float *x, size_t n, double rate, const size_t *sizes,
                   int n_sizes, size_t *T) {
  cqt_stream *s;
  chordlet_error err = {0};
  *T = 0;
  if (cqt_stream_create(p, rate, &s, &err) != CHORDLET_OK) {
    CHECK(0, "create at %g Hz: %s", rate, err.message);
    return NULL;
  }
  size_t H = cqt_stream_hop_samples(s), want = cqt_offline_frame_count(n, H), K = (size_t)p->n_bins;
  float *F = calloc((want + 2) * K, sizeof *F);
  size_t got = 0, i = 0;
  for (int k = 0; i < n; k = (k + 1) % n_sizes) {
    size_t b = sizes[k] ? sizes[k] : n;
    if (b > n - i) b = n - i;
    size_t room = cqt_stream_max_frames_per_block(s, b);
    CHECK(got + room <= want + 2, "room");
    got += cqt_stream_process(s, x + i, b, F + got * K, room);
    i += b;
  }
  size_t flush = (want - 1) * H + cqt_stream_delay_samples(s) - n;
  got += cqt_stream_process(s, NULL, flush, F + got * K, want + 2 - got);
  CHECK(got == want, "%zu frames instead of %zu", got, want);
  CHECK(cqt_stream_frames_dropped(s) == 0, "dropped frames");
  CHECK(cqt_stream_schedule_faults(s) == 0, "a unit ran before its data existed");
  cqt_stream_free(s);
  *T = got;
  return F;
}

static double peak_of(const float *F, size_t count, double eps) {
  double m = 0;
  for (size_t i = 0; i < count; i++) m = fmax(m, exp(F[i]) - eps);
  return m;
}

/* ---------------------------------------------------------------- tests */

static void expect_bad_params(const char *what, void (*edit)(cqt_params *), const char *needle) {
  cqt_params p;
  cqt_params_default(&p);
  edit(&p);
  chordlet_error err = {0};
  CHECK(cqt_params_check(&p, &err) != CHORDLET_OK, "%s: must be refused", what);
  CHECK(strstr(err.message, needle) != NULL, "%s: message should mention '%s': %s", what, needle,
        err.message);
  cqt_stream *s = NULL;
  CHECK(cqt_stream_create(&p, 48000, &s, &err) != CHORDLET_OK && s == NULL, "%s: stream refused", what);
}

static void bad_version(cqt_params *p) { p->version = 2; }
static void bad_hop(cqt_params *p) { p->hop_seconds = 0; }
static void bad_hop_nan(cqt_params *p) { p->hop_seconds = NAN; }
static void bad_delay_grid(cqt_params *p) { p->delay_seconds = 0.13; }
static void bad_delay_short(cqt_params *p) { p->delay_seconds = 0.1; }
static void bad_fmin(cqt_params *p) { p->fmin_hz = 0; }
static void bad_bins(cqt_params *p) { p->n_bins = 0; }
static void bad_bins_many(cqt_params *p) { p->n_bins = 5000; }
static void bad_bpo(cqt_params *p) { p->bins_per_octave = 0; }
static void bad_q(cqt_params *p) { p->q = NAN; }
static void bad_min_window(cqt_params *p) { p->min_window_seconds = 0.3; }
static void bad_window(cqt_params *p) { p->window = 2; }
static void bad_eps(cqt_params *p) { p->log_eps = 0; }
static void bad_top(cqt_params *p) { p->n_bins = 300; }

static void test_params(void) {
  cqt_params p;
  cqt_params_default(&p);
  chordlet_error err = {0};
  CHECK(cqt_params_check(&p, &err) == CHORDLET_OK, "defaults: %s", err.message);
  CHECK(p.n_bins == 144 && p.bins_per_octave == 24 && p.hop_seconds == 0.02 && p.delay_seconds == 0.12,
        "defaults changed: update the header's numbers");
  CHECK_NEAR(cqt_bin_frequency(&p, 0), 32.703195662574829, 1e-12, "C1");
  CHECK_NEAR(cqt_bin_frequency(&p, 143), 2033.42, 0.01, "top bin");
  CHECK_NEAR(cqt_bin_window_seconds(&p, 0), 0.22, 1e-15, "bass window capped");
  CHECK_NEAR(cqt_bin_window_seconds(&p, 80), p.q / cqt_bin_frequency(&p, 80), 1e-15, "constant-Q window");
  CHECK_NEAR(cqt_bin_window_seconds(&p, 143), 0.04, 1e-15, "top window floored");
  CHECK_NEAR(p.q, 34.634307, 1e-6, "librosa's Q for 24 bins per octave");
  CHECK(cqt_bin_window_seconds(&p, 54) == 0.22 && cqt_bin_window_seconds(&p, 55) < 0.22,
        "cap ends at bin 55");
  CHECK(cqt_bin_window_seconds(&p, 114) == 0.04 && cqt_bin_window_seconds(&p, 113) > 0.04,
        "floor starts at bin 114 (A5)");
  printf("bandwidth (half power): C1 %.2f Hz, C3 %.2f Hz, A4 %.2f Hz, top %.2f Hz\n",
         cqt_bin_bandwidth_hz(&p, 0), cqt_bin_bandwidth_hz(&p, 48), cqt_bin_bandwidth_hz(&p, 90),
         cqt_bin_bandwidth_hz(&p, 143));

  expect_bad_params("version", bad_version, "version");
  expect_bad_params("hop 0", bad_hop, "hop");
  expect_bad_params("hop NaN", bad_hop_nan, "hop");
  expect_bad_params("delay off the grid", bad_delay_grid, "whole number of hops");
  expect_bad_params("delay too short for the windows", bad_delay_short, "max window");
  expect_bad_params("fmin", bad_fmin, "fmin");
  expect_bad_params("no bins", bad_bins, "n_bins");
  expect_bad_params("too many bins", bad_bins_many, "n_bins");
  expect_bad_params("bins per octave", bad_bpo, "bins per octave");
  expect_bad_params("q NaN", bad_q, "q ");
  expect_bad_params("min window", bad_min_window, "min window");
  expect_bad_params("window", bad_window, "window");
  expect_bad_params("log eps", bad_eps, "log eps");
  expect_bad_params("top bin", bad_top, "top bin");
  CHECK(cqt_params_check(NULL, &err) != CHORDLET_OK, "NULL params");

  /* Model file round trip. */
  model_writer *w = model_writer_create();
  CHECK(cqt_params_write(&p, w, &err) == CHORDLET_OK, "write: %s", err.message);
  uint8_t *bytes;
  size_t nbytes;
  CHECK(model_writer_serialize(w, &bytes, &nbytes, &err) == CHORDLET_OK, "serialize: %s", err.message);
  model_file *m = NULL;
  CHECK(model_file_parse(bytes, nbytes, "stream.chordlet", &m, &err) == CHORDLET_OK, "parse: %s",
        err.message);
  cqt_params back;
  memset(&back, 0, sizeof back);
  CHECK(m && cqt_params_read(m, &back, &err) == CHORDLET_OK, "read: %s", err.message);
  CHECK(cqt_params_equal(&p, &back), "round trip changed the parameters");
  model_file_free(m);
  free(bytes);
  /* Another version, another window, a key of the wrong type: refused. */
  struct {
    const char *what, *needle;
    int kind;
  } bad[] = {
      {"version 2", "version", 0}, {"window hamming", "hamming", 1}, {"hop as a string", MK_STREAM_HOP, 2}};
  for (int i = 0; i < 3; i++) {
    model_writer *w2 = model_writer_create();
    cqt_params_write(&p, w2, NULL);
    if (bad[i].kind == 0) model_writer_set_i64(w2, MK_STREAM_VERSION, 2, NULL);
    if (bad[i].kind == 1) model_writer_set_str(w2, MK_STREAM_WINDOW, "hamming", NULL);
    if (bad[i].kind == 2) model_writer_set_str(w2, MK_STREAM_HOP, "0.02", NULL);
    model_writer_serialize(w2, &bytes, &nbytes, NULL);
    m = NULL;
    model_file_parse(bytes, nbytes, "bad.chordlet", &m, NULL);
    chordlet_error e2 = {0};
    CHECK(m && cqt_params_read(m, &back, &e2) != CHORDLET_OK, "%s: must be refused", bad[i].what);
    CHECK(strstr(e2.message, bad[i].needle) != NULL, "%s: message should mention '%s': %s", bad[i].what,
          bad[i].needle, e2.message);
    model_file_free(m);
    free(bytes);
    model_writer_free(w2);
  }
  /* Without the stream keys at all. */
  model_writer *w3 = model_writer_create();
  model_writer_set_str(w3, MK_ARCHITECTURE, "x", NULL);
  model_writer_serialize(w3, &bytes, &nbytes, NULL);
  m = NULL;
  model_file_parse(bytes, nbytes, "empty.chordlet", &m, NULL);
  CHECK(m && cqt_params_read(m, &back, &err) != CHORDLET_OK && strstr(err.message, "stream."),
        "a model without stream keys: %s", err.message);
  model_file_free(m);
  free(bytes);
  model_writer_free(w3);
  model_writer_free(w);
}

/* libsoxr's HQ 2:1 impulse response, measured now, against the embedded taps. */
static void test_decimator_taps(void) {
  const float *h = cqt_decimator_taps();
  double sum = h[0];
  for (int i = 1; i <= CQT_DECIM_HALF; i++) sum += 2.0 * h[i];
  CHECK_NEAR(sum, 1.0, 1e-7, "taps sum to 1");
  enum { LEN = 4096 };
  float *in = calloc(LEN, sizeof *in), *out = calloc(LEN / 2, sizeof *out);
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  double worst = 0, worst_tail = 0;
  for (int odd = 0; odd < 2; odd++) {
    memset(in, 0, LEN * sizeof *in);
    in[LEN / 2 + odd] = 1.0f;
    size_t done = 0;
    soxr_error_t e = soxr_oneshot(2.0, 1.0, 1, in, LEN, NULL, out, LEN / 2, &done, &io, &q, NULL);
    CHECK(!e && done == LEN / 2, "soxr_oneshot: %s", e ? e : "short output");
    for (int m = 0; m < LEN / 2; m++) {
      int tap = 2 * m - (LEN / 2 + odd); /* y[m] = h[2m - P] */
      int a = tap < 0 ? -tap : tap;
      if (a <= CQT_DECIM_HALF)
        worst = fmax(worst, fabs((double)out[m] - h[a]));
      else
        worst_tail = fmax(worst_tail, fabs(out[m]));
    }
  }
  printf("decimator vs libsoxr HQ 2:1 measured now: max |dh| %.2g, taps beyond 191 below %.2g\n", worst,
         worst_tail);
  CHECK(worst <= 1e-7, "embedded taps differ from libsoxr by %g", worst);
  CHECK(worst_tail <= 1e-7, "libsoxr has taps beyond 191 of %g", worst_tail);
  free(in);
  free(out);
}

/* Each group's FFT + kernel products against the direct sums at r0. */
static void test_kernels(double rate) {
  cqt_params p;
  cqt_params_default(&p);
  cqt_plan *plan;
  chordlet_error err = {0};
  if (cqt_plan_create(&p, rate, &plan, &err) != CHORDLET_OK) {
    CHECK(0, "plan: %s", err.message);
    return;
  }
  const cqt_layout *L = cqt_plan_layout(plan);
  enum { MAXN = 1 << 16 };
  float *frame = calloc(MAXN, sizeof *frame), *part = cqt_buffer_alloc((size_t)L->max_part);
  float *spectra[8], *spec = cqt_buffer_alloc(MAXN);
  for (int i = 0; i < 8; i++) spectra[i] = cqt_buffer_alloc((size_t)L->max_part + 2);
  float mag[CQT_MAX_BINS];
  double worst = 0;
  for (int g = 0; g < L->n_groups; g++) {
    const cqt_group *G = &L->groups[g];
    const int P = G->n_parts, part_len = G->n_fft / P;
    CHECK(G->n_fft <= MAXN && P <= 8 && G->n_fft % P == 0 && G->n_spectrum <= part_len / 2 + 1,
          "group %d layout", g);
    /* A tone on the group's middle bin plus white noise; its spectrum from
     * the parts, as a stream computes it. */
    double f0 = cqt_bin_frequency(&p, G->first_bin + G->n_bins / 2);
    for (int i = 0; i < G->n_fft; i++)
      frame[i] = (float)(0.5 * sin(2 * PI * f0 * i / L->inner_rate) + 0.1 * (urand() - 0.5));
    for (int q = 0; q < P; q++) {
      for (int i = 0; i < part_len; i++) part[i] = frame[q + i * P];
      cqt_plan_fft(plan, g, part, spectra[q]);
    }
    const float *X = spectra[0];
    if (P > 1) {
      cqt_plan_combine(plan, g, (const float *const *)spectra, spec);
      X = spec;
    }
    cqt_plan_bins(plan, NULL, g, G->first_bin, G->n_bins, X, mag);
    const int centre = G->n_fft - 1 - G->frame_end;
    double peak = 0, d = 0;
    for (int b = G->first_bin; b < G->first_bin + G->n_bins; b++) {
      double T = cqt_bin_window_seconds(&p, b), M = T * L->inner_rate,
             w = 2 * PI * cqt_bin_frequency(&p, b) / L->inner_rate;
      int J = (int)ceil(0.5 * M - 1e-9) - 1;
      double S = 0, re = 0, im = 0;
      for (int j = -J; j <= J; j++) {
        double wj = 0.5 + 0.5 * cos(2 * PI * j / M);
        S += wj;
        re += wj * cos(w * j) * frame[centre + j];
        im -= wj * sin(w * j) * frame[centre + j];
      }
      double ref = 2 / S * sqrt(re * re + im * im);
      peak = fmax(peak, ref);
      d = fmax(d, fabs(ref - mag[b - G->first_bin]));
    }
    worst = fmax(worst, d / peak);
  }
  printf("kernels at %g Hz (inner %g Hz, %zu coefficients, FFT parts", rate, L->inner_rate,
         L->kernel_entries);
  for (int g = 0; g < L->n_groups; g++)
    printf(" %dx%d", L->groups[g].n_parts, L->groups[g].n_fft / L->groups[g].n_parts);
  printf("): max |dC| %.2g of the peak\n", worst);
  CHECK(worst <= 5e-6, "kernels at %g Hz: %g of the peak", rate, worst);
  free(frame);
  cqt_buffer_free(part);
  cqt_buffer_free(spec);
  for (int i = 0; i < 8; i++) cqt_buffer_free(spectra[i]);
  cqt_plan_free(plan);
}

/* The file-mode front end of `chordlet-train features --max-window 1.06`:
 * q / f at every bin (1.06 s at C1), so bass semitones are resolved, and the
 * 600 ms of delay that such a window needs. */
static void long_window_params(cqt_params *p) {
  cqt_params_default(p);
  p->max_window_seconds = 1.06;
  p->delay_seconds = 0.6;
}

/* The whole stream against the direct definition at the host rate. */
static void test_reference(double rate, bool long_windows) {
  cqt_params p;
  if (long_windows)
    long_window_params(&p);
  else
    cqt_params_default(&p);
  size_t n, T;
  float *x = music(rate, 1.5, &n);
  float *F = offline(&p, x, n, rate, &T);
  if (!F) return;
  const size_t K = (size_t)p.n_bins, H = (size_t)llround(p.hop_seconds * rate);
  double mag[CQT_MAX_BINS], worst = 0, worst_log = 0;
  for (size_t j = 3; j < T; j += 9) {
    chordlet_error err = {0};
    CHECK(cqt_reference_frame(&p, rate, x, n, (long long)(j * H), mag, &err) == CHORDLET_OK, "%s",
          err.message);
    double peak = 0;
    for (size_t b = 0; b < K; b++) peak = fmax(peak, mag[b]);
    for (size_t b = 0; b < K; b++) {
      double got = exp(F[j * K + b]) - p.log_eps;
      worst = fmax(worst, fabs(got - mag[b]) / peak);
      worst_log = fmax(worst_log, fabs(F[j * K + b] - log(mag[b] + p.log_eps)));
    }
  }
  printf("stream vs definition at %6g Hz%s: max |d|C|| %.2g of the frame peak, max |dF| %.2g\n", rate,
         long_windows ? " (1.06 s windows)" : "", worst, worst_log);
  CHECK(worst <= 1e-5, "%g Hz: %g of the peak from the definition", rate, worst);
  CHECK(worst_log <= 1e-2, "%g Hz: features %g from the definition", rate, worst_log);
  free(F);
  free(x);
}

/* What the long windows are for: a C2 (65.4 Hz) sine, the bin a semitone
 * above it (C#2) against the C2 bin, at the default 220 ms and at 1.06 s.
 * The 220 ms window's main lobe (6.5 Hz at half power) spans 1.7 semitones
 * there, so C#2 is nearly as loud as C2; 1.06 s puts it far down. */
static double semitone_leak_db(const cqt_params *p) {
  const double rate = 22050, f = 32.703195662574829 * 2.0;
  size_t n = (size_t)(3.0 * rate), T;
  float *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2.0 * PI * f * (double)i / rate));
  float *F = offline(p, x, n, rate, &T);
  free(x);
  if (!F) return NAN;
  const size_t K = (size_t)p->n_bins, j = T / 2;
  const int c2 = 24, cs2 = 26; /* 24 bins per octave from C1 */
  double db = 20.0 / log(10.0) * ((double)F[j * K + cs2] - (double)F[j * K + c2]);
  free(F);
  return db;
}

static void test_bass_resolution(void) {
  cqt_params def, wide;
  cqt_params_default(&def);
  long_window_params(&wide);
  double d = semitone_leak_db(&def), w = semitone_leak_db(&wide);
  printf("C2 sine, C#2 bin against C2: %.1f dB at 220 ms windows, %.1f dB at 1.06 s\n", d, w);
  CHECK(d > -12.0, "220 ms windows should not resolve C2 from C#2: %.1f dB", d);
  CHECK(w < -30.0, "1.06 s windows should resolve C2 from C#2: %.1f dB", w);
}

static void test_block_sizes(double rate) {
  cqt_params p;
  cqt_params_default(&p);
  size_t n, T0;
  float *x = music(rate, 2.0, &n);
  float *ref = offline(&p, x, n, rate, &T0);
  static const size_t one[] = {1}, b17[] = {17}, b64[] = {64}, b256[] = {256}, b1024[] = {1024},
                      whole[] = {0};
  size_t varying[64];
  for (int i = 0; i < 64; i++) varying[i] = 1 + (size_t)(urand() * (i % 3 ? 300 : 5000));
  struct {
    const char *name;
    const size_t *sizes;
    int n;
  } pat[] = {{"1", one, 1},
             {"17", b17, 1},
             {"64", b64, 1},
             {"256", b256, 1},
             {"1024", b1024, 1},
             {"whole", whole, 1},
             {"varying 1..5000", varying, 64}};
  for (size_t k = 0; ref && k < sizeof pat / sizeof pat[0]; k++) {
    size_t T;
    float *F = live(&p, x, n, rate, pat[k].sizes, pat[k].n, &T);
    if (!F) continue;
    double worst = 0;
    for (size_t i = 0; T == T0 && i < T * (size_t)p.n_bins; i++) {
      double a = exp(ref[i]), b = exp(F[i]);
      worst = fmax(worst, fabs(a - b) / fmax(a, b));
    }
    CHECK(T == T0 && memcmp(F, ref, T * (size_t)p.n_bins * sizeof *F) == 0,
          "%g Hz, blocks of %s: frames differ from the whole file (max relative %g)", rate, pat[k].name,
          worst);
    free(F);
  }
  printf("block sizes 1, 17, 64, 256, 1024, varying, whole at %g Hz: %zu frames, bit-identical\n", rate, T0);
  free(ref);
  free(x);
}

/* Sines at bin centres: peak bin and level. */
static void test_sines(double rate) {
  cqt_params p;
  cqt_params_default(&p);
  static const int bins[] = {0,  1,  7,  23, 24,  40,  47,  54,  55,  66, 71,
                             72, 83, 95, 96, 113, 114, 119, 120, 131, 143};
  enum { NB = sizeof bins / sizeof bins[0] };
  const double seg = 0.4, amp = 0.5;
  size_t n = (size_t)(NB * seg * rate), T;
  float *x = calloc(n, sizeof *x);
  for (int i = 0; i < NB; i++)
    add_partial(x, n, rate, cqt_bin_frequency(&p, bins[i]), amp, 0.7 * i, i * seg, (i + 1) * seg);
  float *F = offline(&p, x, n, rate, &T);
  const size_t K = (size_t)p.n_bins;
  int wrong = 0;
  double worst_level = 0;
  for (int i = 0; F && i < NB; i++) {
    /* Frames whose longest window lies inside the tone's flat part. */
    size_t j0 = (size_t)ceil((i * seg + 0.02 + 0.11) / p.hop_seconds),
           j1 = (size_t)floor(((i + 1) * seg - 0.02 - 0.11) / p.hop_seconds);
    for (size_t j = j0; j <= j1 && j < T; j++) {
      const float *row = F + j * K;
      size_t best = 0;
      for (size_t b = 1; b < K; b++)
        if (row[b] > row[best]) best = b;
      if ((int)best != bins[i]) {
        if (wrong++ < 5)
          CHECK(0, "%g Hz: sine at bin %d peaks in bin %zu (frame %zu)", rate, bins[i], best, j);
      }
      worst_level = fmax(worst_level, fabs((exp(row[bins[i]]) - p.log_eps) / amp - 1.0));
    }
  }
  printf("sines at %6g Hz: %d bins, all peak in their bin, |C| / amplitude within %.2g of 1\n", rate, (int)NB,
         worst_level);
  CHECK(wrong == 0, "%g Hz: %d frames peak in another bin", rate, wrong);
  CHECK(worst_level <= 1e-3, "%g Hz: level %g off", rate, worst_level);
  free(F);
  free(x);
}

/* An impulse at t0: each bin's largest response is in the frame emitted
 * nearest to t0 + delay. Fed one sample at a time, recording the input count
 * at which each frame comes out. */
static void test_impulse(double rate) {
  cqt_params p;
  cqt_params_default(&p);
  cqt_stream *s;
  chordlet_error err = {0};
  if (cqt_stream_create(&p, rate, &s, &err) != CHORDLET_OK) {
    CHECK(0, "%s", err.message);
    return;
  }
  const size_t H = cqt_stream_hop_samples(s), D = cqt_stream_delay_samples(s), K = (size_t)p.n_bins;
  CHECK(D == (size_t)llround(0.12 * rate) && H == (size_t)llround(0.02 * rate), "hop and delay in samples");
  /* Impulses 0.5 s apart, at offsets from the hop grid of 0, +1/4, -1/3 and
   * +0.45 of a hop. */
  static const double offsets[] = {0.0, 0.25, -1.0 / 3.0, 0.45};
  const size_t spacing = (size_t)(0.5 * rate), n = 5 * spacing;
  float *x = calloc(n, sizeof *x);
  size_t t0[4];
  for (int i = 0; i < 4; i++) {
    t0[i] = (size_t)llround((double)(i + 1) * spacing + offsets[i] * (double)H);
    x[t0[i]] = 1.0f;
  }
  size_t max_frames = n / H + 8;
  float *F = calloc(max_frames * K, sizeof *F);
  size_t *when = calloc(max_frames, sizeof *when), got = 0;
  for (size_t i = 0; i < n; i++) {
    size_t k = cqt_stream_process(s, x + i, 1, F + got * K, max_frames - got);
    for (size_t m = 0; m < k; m++) when[got + m] = i + 1; /* input count at emission */
    got += k;
  }
  for (size_t j = 0; j < got; j++)
    CHECK(when[j] == j * H + D, "frame %zu out at %zu, not at j*hop + delay", j, when[j]);
  CHECK(cqt_stream_schedule_faults(s) == 0, "%g Hz: a unit ran before its data existed", rate);
  double worst = 0;
  for (int i = 0; i < 4; i++) {
    for (size_t b = 0; b < K; b++) {
      size_t lo = (t0[i] + D) / H - 6, hi = lo + 12, best = lo;
      for (size_t j = lo; j <= hi && j < got; j++)
        if (F[j * K + b] > F[best * K + b]) best = j;
      double dt = ((double)when[best] - (double)(t0[i] + D)) / rate;
      worst = fmax(worst, fabs(dt));
      CHECK(fabs(dt) <= 0.5 * p.hop_seconds + 1.0 / rate,
            "%g Hz, impulse %d, bin %zu: peak frame out %.1f ms after t0 + delay", rate, i, b, 1e3 * dt);
    }
  }
  printf("impulse at %6g Hz: every bin peaks in the frame out within %.1f ms of t0 + %.0f ms (hop %.0f ms)\n",
         rate, 1e3 * worst, 1e3 * cqt_stream_delay_seconds(s), 1e3 * p.hop_seconds);
  free(when);
  free(F);
  free(x);
  cqt_stream_free(s);
}

/* The same music at several rates: features against those at 48 kHz. */
static void test_rates(void) {
  cqt_params p;
  cqt_params_default(&p);
  static const double rates[] = {16000, 22050, 32000, 44100, 88200, 96000, 192000};
  size_t n, T0;
  float *x = music(48000, 1.5, &n);
  float *ref = offline(&p, x, n, 48000, &T0);
  free(x);
  const size_t K = (size_t)p.n_bins;
  double peak = ref ? peak_of(ref, T0 * K, p.log_eps) : 1;
  for (size_t r = 0; ref && r < sizeof rates / sizeof rates[0]; r++) {
    size_t T;
    x = music(rates[r], 1.5, &n);
    static const size_t whole[] = {0};
    float *F = live(&p, x, n, rates[r], whole, 1, &T); /* = offline, and checks the schedule */
    free(x);
    if (!F) continue;
    CHECK(T == T0, "%g Hz: %zu frames, %zu at 48 kHz", rates[r], T, T0);
    double worst = 0, worst_log = 0, sum_log = 0;
    for (size_t i = 0; T == T0 && i < T * K; i++) {
      double a = exp(ref[i]) - p.log_eps, b = exp(F[i]) - p.log_eps, d = fabs((double)F[i] - ref[i]);
      worst = fmax(worst, fabs(a - b) / peak);
      sum_log += d;
      if (fmax(a, b) >= 1e-3 * peak) worst_log = fmax(worst_log, d);
    }
    printf(
        "rate independence %6g Hz vs 48 kHz: max |d|C|| %.2g of the peak; |dF| max %.2g (bins above -60 dB), "
        "mean %.2g\n",
        rates[r], worst, worst_log, sum_log / (double)(T * K));
    CHECK(worst <= 1e-5, "%g Hz: |C| differs by %g of the peak from 48 kHz", rates[r], worst);
    CHECK(worst_log <= 2e-3, "%g Hz: features differ by %g from 48 kHz", rates[r], worst_log);
    free(F);
  }
  free(ref);
}

static void test_reset_and_shared(void) {
  cqt_params p;
  cqt_params_default(&p);
  const double rate = 44100;
  size_t n, Ta, Tb, T;
  float *a = music(rate, 1.0, &n);
  float *b = calloc(n, sizeof *b);
  for (size_t i = 0; i < n; i++) b[i] = (float)(0.3 * (urand() - 0.5));
  float *Fb = offline(&p, b, n, rate, &Tb);
  cqt_stream *s;
  chordlet_error err = {0};
  if (!Fb || cqt_stream_create(&p, rate, &s, &err) != CHORDLET_OK) {
    CHECK(0, "setup: %s", err.message);
    return;
  }
  const size_t K = (size_t)p.n_bins, H = cqt_stream_hop_samples(s);
  Ta = cqt_offline_frame_count(n, H);
  float *F = calloc((Ta + 2) * K, sizeof *F);
  /* Part of a, then reset, then b: equal to b alone. */
  cqt_stream_process(s, a, n / 2 + 123, F, Ta + 2);
  CHECK(cqt_stream_frames_emitted(s) > 0, "frames before the reset");
  cqt_stream_reset(s);
  CHECK(cqt_stream_frames_emitted(s) == 0 && cqt_stream_frames_dropped(s) == 0, "reset clears the counts");
  T = cqt_stream_process(s, b, n, F, Ta + 2);
  T += cqt_stream_process(s, NULL, (Tb - 1) * H + cqt_stream_delay_samples(s) - n, F + T * K, Ta + 2 - T);
  CHECK(T == Tb && memcmp(F, Fb, T * K * sizeof *F) == 0, "after reset: not the frames of a fresh stream");
  /* Streams sharing one plan (any thread may create them): same frames. */
  cqt_plan *plan;
  CHECK(cqt_plan_create(&p, rate, &plan, &err) == CHORDLET_OK, "plan: %s", err.message);
  float *G = NULL;
  CHECK(cqt_features_offline_plan(plan, b, n, &G, &T, &err) == CHORDLET_OK && T == Tb &&
            memcmp(G, Fb, T * K * sizeof *G) == 0,
        "offline on a shared plan differs: %s", err.message);
  free(G);
  cqt_stream *s2;
  CHECK(cqt_stream_create_shared(plan, &s2, &err) == CHORDLET_OK, "shared: %s", err.message);
  CHECK(cqt_stream_plan(s2) == plan && cqt_params_equal(cqt_stream_params(s2), &p), "shared plan");
  cqt_stream_free(s2);
  cqt_plan_free(plan);
  printf("reset and shared plans: identical frames\n");
  cqt_stream_free(s);
  free(F);
  free(Fb);
  free(a);
  free(b);
}

static void test_edges(void) {
  cqt_params p;
  cqt_params_default(&p);
  const double rate = 48000;
  const size_t K = (size_t)p.n_bins;
  chordlet_error err = {0};
  cqt_stream *s = NULL;
  /* Rates. */
  static const double bad_rates[] = {0, -48000, 7999, 1e7, 11025, 132300};
  for (size_t i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++) {
    CHECK(cqt_stream_create(&p, bad_rates[i], &s, &err) != CHORDLET_OK && s == NULL,
          "rate %g must be refused", bad_rates[i]);
  }
  CHECK(cqt_stream_create(&p, 11025, &s, &err) != CHORDLET_OK && strstr(err.message, "220.5"),
        "11025 Hz: the message should give the hop in samples: %s", err.message);
  CHECK(cqt_stream_create(&p, NAN, &s, &err) != CHORDLET_OK, "NaN rate");
  CHECK(cqt_stream_create(NULL, rate, &s, &err) != CHORDLET_OK, "NULL params");
  CHECK(cqt_stream_create(&p, rate, NULL, &err) != CHORDLET_OK, "NULL out");
  CHECK(cqt_stream_create_shared(NULL, &s, &err) != CHORDLET_OK, "NULL plan");
  CHECK(cqt_stream_process(NULL, NULL, 100, NULL, 0) == 0, "NULL stream");
  cqt_stream_free(NULL);
  cqt_plan_free(NULL);

  /* Delay and hop figures. */
  CHECK(cqt_stream_create(&p, rate, &s, &err) == CHORDLET_OK, "create: %s", err.message);
  if (!s) return;
  CHECK(cqt_stream_delay_seconds(s) == 0.12 && cqt_stream_delay_samples(s) == 5760, "delay");
  CHECK_NEAR(cqt_stream_latency_seconds(s), 0.14, 1e-12, "latency = delay + hop");
  CHECK(cqt_stream_latency_seconds(s) <= 0.150, "latency within the 150 ms budget");
  CHECK(cqt_stream_hop_samples(s) == 960 && cqt_stream_n_bins(s) == 144 && cqt_stream_sample_rate(s) == rate,
        "hop");
  CHECK(cqt_stream_max_frames_per_block(s, 0) == 0 && cqt_stream_max_frames_per_block(s, 1) == 1 &&
            cqt_stream_max_frames_per_block(s, 960) == 1 && cqt_stream_max_frames_per_block(s, 961) == 2,
        "max frames per block");

  /* Silence: exactly ln(eps) in every bin; the first frame after the delay. */
  float *F = calloc(64 * K + 1, sizeof *F);
  size_t got = cqt_stream_process(s, NULL, 5759, F, 64);
  CHECK(got == 0, "no frame before the delay");
  got = cqt_stream_process(s, NULL, 1, F, 64);
  CHECK(got == 1, "frame 0 at the delay");
  got += cqt_stream_process(s, NULL, 9600, F + got * K, 63);
  for (size_t i = 0; i < got * K; i++) CHECK(F[i] == logf(1e-5f), "silence gives %g", F[i]);

  /* Too little room: frames are dropped and counted, nothing written past. */
  F[2 * K] = 12345.0f;
  got = cqt_stream_process(s, NULL, 5 * 960, F, 2);
  CHECK(got == 2 && cqt_stream_frames_dropped(s) == 3 && F[2 * K] == 12345.0f,
        "overflow: %zu frames, %llu dropped", got, (unsigned long long)cqt_stream_frames_dropped(s));
  CHECK(cqt_stream_process(s, NULL, 960, NULL, 0) == 0 && cqt_stream_frames_dropped(s) == 4,
        "no output buffer");
  CHECK(cqt_stream_process(s, NULL, 0, F, 64) == 0, "n = 0");

  /* Garbage input: NaN, infinities, huge and denormal values leave finite
   * frames, and the stream recovers once they have left the windows. The
   * caller's MXCSR comes back unchanged. */
  cqt_stream_reset(s);
  size_t n = (size_t)(1.0 * rate);
  float *x = calloc(n, sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = 1e-40f; /* denormal */
  x[100] = NAN;
  x[200] = INFINITY;
  x[300] = -INFINITY;
  x[400] = 3e38f;
#if defined(__SSE__)
  unsigned int csr = _mm_getcsr() & ~0x8040u;
  _mm_setcsr(csr);
#endif
  got = cqt_stream_process(s, x, n, F, 64);
#if defined(__SSE__)
  CHECK(_mm_getcsr() == csr, "MXCSR not restored: %#x, was %#x", _mm_getcsr(), csr);
  _mm_setcsr(csr | 0x8040u);
  cqt_stream_process(s, x, 1, F + got * K, 64 - got);
  CHECK(_mm_getcsr() == (csr | 0x8040u), "MXCSR with FTZ/DAZ set not restored");
  _mm_setcsr(csr);
#endif
  for (size_t i = 0; i < got * K; i++) CHECK(isfinite(F[i]), "non-finite feature %g", F[i]);
  CHECK(got > 20 && F[(got - 1) * K] == logf(1e-5f),
        "denormals read as silence once the clamped spike is gone");
  free(x);

  /* Offline: NaN refused, empty input gives one frame of silence. */
  float bad[3] = {0, NAN, 0};
  float *G = (float *)1;
  size_t T = 7;
  CHECK(cqt_features_offline(&p, bad, 3, rate, &G, &T, &err) != CHORDLET_OK && G == NULL && T == 0 &&
            strstr(err.message, "NaN"),
        "offline NaN: %s", err.message);
  CHECK(cqt_features_offline(&p, NULL, 0, rate, &G, &T, &err) == CHORDLET_OK && T == 1 && G[0] == logf(1e-5f),
        "offline empty: %s", err.message);
  free(G);
  CHECK(cqt_features_offline(&p, NULL, 10, rate, &G, &T, &err) != CHORDLET_OK, "offline NULL audio");
  CHECK(cqt_features_offline(&p, bad, 1, 1234.5, &G, &T, &err) != CHORDLET_OK, "offline bad rate");
  free(F);
  cqt_stream_free(s);
  printf("edges: bad rates and arguments refused, silence exact, overflow counted, garbage input cleaned\n");
}

/* ------------------------------------------------------------------ tuning */

static float *offline_tuned(const cqt_params *p, double cents, const float *x, size_t n, double rate, size_t *T) {
  float *F = NULL;
  chordlet_error err = {0};
  chordlet_status st = cqt_features_offline_tuned(p, cents, x, n, rate, &F, T, &err);
  CHECK(st == CHORDLET_OK, "offline at %g Hz, %g cents: %s", rate, cents, err.message);
  return F;
}

/* A plan sized for every user tuning (400..480 Hz) keeps the untuned plan's
 * groups and FFTs, and its frames at 0 cents are the untuned ones, bit for
 * bit; tuned frames follow the definition at the tuned frequencies; a stream
 * moved to another tuning mid-way gives, frame by frame, exactly the frames
 * of one tuning or the other, switching at one frame boundary. */
static void test_tuning(double rate) {
  cqt_params p;
  cqt_params_default(&p);
  chordlet_error err = {0};
  cqt_plan *plain, *wide;
  if (cqt_plan_create(&p, rate, &plain, &err) ||
      cqt_plan_create_tuned(&p, rate, 0.0, -166.0, 151.0, &wide, &err)) {
    CHECK(0, "plans at %g Hz: %s", rate, err.message);
    return;
  }
  const cqt_layout *A = cqt_plan_layout(plain), *B = cqt_plan_layout(wide);
  CHECK(A->n_groups == B->n_groups, "groups");
  for (int g = 0; g < A->n_groups && g < B->n_groups; g++)
    CHECK(A->groups[g].n_fft == B->groups[g].n_fft && A->groups[g].n_parts == B->groups[g].n_parts &&
              A->groups[g].first_bin == B->groups[g].first_bin && A->groups[g].n_spectrum <= B->groups[g].n_spectrum,
          "%g Hz group %d: the wide plan changed the FFTs", rate, g);
  size_t n, T0, T1, T;
  float *x = music(rate, 2.0, &n);
  float *F0 = offline(&p, x, n, rate, &T0), *F40 = offline_tuned(&p, 40.0, x, n, rate, &T1);
  float *Fw = NULL;
  CHECK(cqt_features_offline_plan(wide, x, n, &Fw, &T, &err) == CHORDLET_OK && T == T0 &&
            memcmp(Fw, F0, T * (size_t)p.n_bins * sizeof *Fw) == 0,
        "%g Hz: the wide plan at 0 cents is not the untuned front end", rate);
  free(Fw);
  /* +40 cents against the definition. */
  const size_t K = (size_t)p.n_bins, H = (size_t)llround(p.hop_seconds * rate);
  double mag[CQT_MAX_BINS], worst = 0;
  for (size_t j = 5; j < T1; j += 17) {
    CHECK(cqt_reference_frame_tuned(&p, 40.0, rate, x, n, (long long)(j * H), mag, &err) == CHORDLET_OK, "%s",
          err.message);
    double peak = 0;
    for (size_t b = 0; b < K; b++) peak = fmax(peak, mag[b]);
    for (size_t b = 0; b < K; b++) worst = fmax(worst, fabs(exp(F40[j * K + b]) - p.log_eps - mag[b]) / peak);
  }
  CHECK(worst <= 1e-5, "%g Hz, +40 cents: %g of the peak from the definition", rate, worst);
  /* A new spare set is the plan's own (a copy of it), and so is one rebuilt
   * at the plan's tuning: a stream on either from its first frame gives the
   * untuned frames bit for bit. */
  for (int rebuilt = 0; rebuilt < 2; rebuilt++) {
    cqt_kernels *fresh = NULL;
    cqt_stream *s0 = NULL;
    float *G = calloc((T0 + 2) * K, sizeof *G);
    CHECK(G && cqt_kernels_create(wide, &fresh, &err) == CHORDLET_OK && cqt_kernels_cents(fresh) == 0.0 &&
              (!rebuilt || cqt_kernels_build(wide, fresh, 0.0) == CHORDLET_OK) &&
              cqt_stream_create_shared(wide, &s0, &err) == CHORDLET_OK,
          "a fresh spare set: %s", err.message);
    if (G && fresh && s0) {
      cqt_stream_request_kernels(s0, fresh);
      size_t got0 = cqt_stream_process(s0, x, n, G, T0 + 2);
      got0 += cqt_stream_process(s0, NULL, (T0 - 1) * H + cqt_stream_delay_samples(s0) - n, G + got0 * K, T0 + 2 - got0);
      CHECK(got0 == T0 && cqt_stream_kernels_in_use(s0) == fresh && memcmp(G, F0, T0 * K * sizeof *G) == 0,
            "%g Hz: a %s spare set does not give the plan's frames", rate, rebuilt ? "rebuilt" : "new");
    }
    cqt_stream_free(s0);
    cqt_kernels_free(fresh);
    free(G);
  }
  /* Out of range: refused, the set untouched. */
  cqt_kernels *spare;
  CHECK(cqt_kernels_create(wide, &spare, &err) == CHORDLET_OK, "spare: %s", err.message);
  CHECK(cqt_kernels_build(wide, spare, 160.0) == CHORDLET_ERR_RANGE && cqt_kernels_cents(spare) == 0.0,
        "a tuning outside the plan's range");
  CHECK(cqt_kernels_build(wide, spare, 40.0) == CHORDLET_OK && cqt_kernels_cents(spare) == 40.0, "build");
  /* The hand-over, in blocks of 100 samples: the request lands after a third. */
  cqt_stream *s;
  CHECK(cqt_stream_create_shared(wide, &s, &err) == CHORDLET_OK, "stream: %s", err.message);
  float *F = calloc((T0 + 2) * K, sizeof *F);
  size_t got = 0, i = 0;
  bool requested = false;
  while (i < n) {
    size_t b = n - i < 100 ? n - i : 100;
    if (!requested && i >= n / 3) {
      CHECK(cqt_stream_kernels_in_use(s) == cqt_stream_kernels_requested(s), "nothing pending");
      cqt_stream_request_kernels(s, spare);
      requested = true;
    }
    got += cqt_stream_process(s, x + i, b, F + got * K, T0 + 2 - got);
    i += b;
  }
  got += cqt_stream_process(s, NULL, (T0 - 1) * H + cqt_stream_delay_samples(s) - n, F + got * K, T0 + 2 - got);
  CHECK(got == T0, "frames");
  CHECK(cqt_stream_kernels_in_use(s) == spare && cqt_stream_tuning_cents(s) == 40.0, "adopted");
  size_t switch_at = T0;
  for (size_t j = 0; j < T0; j++) {
    bool is0 = memcmp(F + j * K, F0 + j * K, K * sizeof *F) == 0, is40 = memcmp(F + j * K, F40 + j * K, K * sizeof *F) == 0;
    if (switch_at == T0 && !is0) switch_at = j;
    CHECK(j < switch_at ? is0 : is40, "%g Hz frame %zu is neither all untuned nor all +40 cents (switch at %zu)",
          rate, j, switch_at);
  }
  /* The request came at input n/3: the first frame started after it. */
  size_t expect = (n / 3 + 99) / 100 * 100; /* the block where it was made */
  CHECK(switch_at > 0 && switch_at < T0 && switch_at * H + cqt_stream_delay_samples(s) >= expect,
        "switched at frame %zu", switch_at);
  printf("tuning at %6g Hz: +40 cents %.2g of the peak from the definition; switch at frame %zu of %zu\n", rate,
         worst, switch_at, T0);
  cqt_stream_free(s);
  cqt_kernels_free(spare);
  free(F);
  free(F0);
  free(F40);
  free(x);
  cqt_plan_free(plain);
  cqt_plan_free(wide);
}

int main(void) {
  test_params();
  test_decimator_taps();
  test_kernels(22050);
  test_kernels(48000);
  static const double rates[] = {8000, 16000, 22050, 32000, 44100, 48000, 96000};
  for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) test_reference(rates[i], false);
  test_reference(22050, true);
  test_reference(48000, true);
  test_bass_resolution();
  test_block_sizes(22050);
  test_block_sizes(44100);
  static const double four[] = {22050, 44100, 48000, 96000};
  for (int i = 0; i < 4; i++) test_sines(four[i]);
  for (int i = 0; i < 4; i++) test_impulse(four[i]);
  test_rates();
  test_reset_and_shared();
  test_edges();
  test_tuning(22050);
  test_tuning(44100);
  test_tuning(48000);
  test_tuning(96000);
  return check_summary("test_stream");
}
