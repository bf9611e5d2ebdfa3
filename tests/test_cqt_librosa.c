/* test_cqt_librosa.c: the C hybrid CQT and tuning estimate against librosa
 * 0.10's own outputs in shared/reference/cqt/ (see shared/docs/CQT.md 14, 17):
 * for every signal, the estimated tuning exactly, the hybrid CQT at that
 * tuning and at tuning 0 within max|C - ref| <= 1e-5 * max|ref| (silence
 * exactly 0), and T = 1 + floor(n / 512); then bad input. Prints the errors
 * per signal and the speed on the music excerpt. */
#define _POSIX_C_SOURCE 200809L
#include <sndfile.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cqt_librosa.h"

#define CQT_PI 3.141592653589793
#define TOL_REL 1e-5     /* index.json: tolerances.magnitude.bit_close */
#define TOL_LOG_BTC 5e-3 /* index.json: tolerances.log_btc.bit_close */
#define BTC_FMIN_C1 32.70319566257483 /* librosa.note_to_hz('C1') */
#define N_SIGNALS 18 /* index.json lists 18 signals; fewer means a damaged index */
#define MAX_SIGNALS 64

typedef struct signal_ref {
  char name[96];
  double tuning; /* index.json "estimated_tuning" */
} signal_ref;

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

/* The "estimated_tuning": {"name": value, ...} block of index.json: a flat
 * object of numbers, so a small hand reader suffices. Returns the count. */
static int read_tunings(const char *index, signal_ref *out, int max) {
  const char *p = strstr(index, "\"estimated_tuning\"");
  if (!p || !(p = strchr(p, '{'))) return -1;
  const char *end = strchr(p, '}');
  if (!end) return -1;
  int n = 0;
  for (p++; p < end && n < max;) {
    const char *q = strchr(p, '"');
    if (!q || q >= end) break;
    const char *r = strchr(q + 1, '"');
    if (!r || r >= end || (size_t)(r - q - 1) >= sizeof out[n].name) return -1;
    memcpy(out[n].name, q + 1, (size_t)(r - q - 1));
    out[n].name[r - q - 1] = '\0';
    const char *colon = strchr(r, ':');
    if (!colon || colon >= end) return -1;
    char *num_end;
    out[n].tuning = strtod(colon + 1, &num_end);
    if (num_end == colon + 1) return -1;
    n++;
    p = num_end;
  }
  return n;
}

static float *read_f32(const char *path, size_t *n) {
  size_t bytes;
  char *b = read_all(path, &bytes);
  if (!b) return NULL;
  *n = bytes / sizeof(float);
  return (float *)b; /* little-endian float32, as on every target we build for */
}

/* librosa.load(path, sr=None): float32, int16 / 32768, which is libsndfile's
 * default float normalisation. */
static float *read_wav(const char *path, size_t *n, int *sr) {
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f) return NULL;
  float *y = NULL;
  if (info.channels == 1 && info.frames > 0) {
    y = malloc((size_t)info.frames * sizeof *y);
    if (y && sf_readf_float(f, y, info.frames) != info.frames) {
      free(y);
      y = NULL;
    }
  }
  sf_close(f);
  *n = (size_t)info.frames;
  *sr = info.samplerate;
  return y;
}

static int file_exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Compares C (T, K) with the reference file; returns max|d| / max|ref|. With
 * log_tol > 0 also checks |d log(|C| + 1e-6)| <= log_tol on bins above 1e-3
 * of the peak (BTC's features). */
static double compare(const char *what, const float *C, size_t T, int K, const char *ref_path,
                      double log_tol) {
  size_t n_ref;
  float *ref = read_f32(ref_path, &n_ref);
  CHECK(ref != NULL, "%s: cannot read %s", what, ref_path);
  if (!ref) return INFINITY;
  CHECK(n_ref == T * (size_t)K, "%s: %zu frames, the reference has %zu", what, T, n_ref / K);
  double peak = 0, worst = 0, worst_log = 0;
  size_t worst_i = 0;
  if (n_ref == T * (size_t)K) {
    for (size_t i = 0; i < n_ref; i++) peak = fmax(peak, fabs(ref[i]));
    for (size_t i = 0; i < n_ref; i++) {
      double d = fabs((double)C[i] - (double)ref[i]);
      if (d > worst || (d != d)) {
        worst = d;
        worst_i = i;
      }
      if (ref[i] > 1e-3 * peak)
        worst_log = fmax(worst_log, fabs(log((double)C[i] + 1e-6) - log((double)ref[i] + 1e-6)));
    }
  }
  free(ref);
  if (peak == 0) { /* silence: exact zeros */
    CHECK(worst == 0, "%s: silence must give exact zeros, got %g at frame %zu bin %zu", what, worst,
          worst_i / K, worst_i % K);
    return worst;
  }
  double rel = worst / peak;
  CHECK(rel <= TOL_REL, "%s: max|C - ref| / max|ref| = %.3g at frame %zu bin %zu (tolerance %g)", what,
        rel, worst_i / K, worst_i % K, TOL_REL);
  if (log_tol > 0)
    CHECK(worst_log <= log_tol, "%s: max |d log(|C| + 1e-6)| = %.3g (tolerance %g)", what, worst_log,
          log_tol);
  return rel;
}

static void test_signal(const char *dir, const signal_ref *s, double worst[3]) {
  char path[1024];
  size_t n = 0;
  float *y;
  int sr = 22050;
  /* 44.1 kHz files: the stored soxr_hq resampled input, so the CQT is tested
   * apart from the resampler. */
  snprintf(path, sizeof path, "%s/reference/cqt/%.95s.y22050.f32", dir, s->name);
  if (file_exists(path)) {
    y = read_f32(path, &n);
  } else {
    snprintf(path, sizeof path, "%s/reference/cqt/%.95s.wav", dir, s->name);
    y = read_wav(path, &n, &sr);
  }
  CHECK(y != NULL && sr == 22050, "%s: cannot read %s at 22050 Hz", s->name, path);
  if (!y || sr != 22050) {
    free(y);
    return;
  }

  chordlet_error err = {0};
  double tuning = 99;
  CHECK(cqt_librosa_estimate_tuning(y, n, 22050.0, 36, &tuning, &err) == CHORDLET_OK, "%s: %s",
        s->name, err.message);
  CHECK(fabs(tuning - s->tuning) <= 1e-9, "%s: estimated tuning %.17g, librosa %.17g", s->name, tuning,
        s->tuning);

  cqt_librosa_config cfg;
  cqt_librosa_teacher_config(&cfg);
  float *C = NULL;
  size_t T = 0;
  double used = 99;
  double rel_h = NAN, rel_0 = NAN;
  CHECK(cqt_librosa_hybrid(y, n, &cfg, &C, &T, &used, &err) == CHORDLET_OK, "%s: %s", s->name,
        err.message);
  if (C) {
    CHECK(T == 1 + n / 512, "%s: %zu frames, expected 1 + floor(%zu / 512)", s->name, T, n);
    CHECK(used == tuning, "%s: hybrid used tuning %.17g, estimate_tuning gave %.17g", s->name, used,
          tuning);
    snprintf(path, sizeof path, "%s/reference/cqt/%.95s.hybrid.f32", dir, s->name);
    rel_h = compare(s->name, C, T, 288, path, 0);
    free(C);
    C = NULL;
  }

  cfg.estimate_tuning = false;
  cfg.tuning = 0.0;
  CHECK(cqt_librosa_hybrid(y, n, &cfg, &C, &T, &used, &err) == CHORDLET_OK, "%s t0: %s", s->name,
        err.message);
  if (C) {
    CHECK(T == 1 + n / 512, "%s t0: %zu frames", s->name, T);
    CHECK(used == 0.0, "%s t0: tuning used %g", s->name, used);
    /* When the estimate is exactly 0 the reference stores one file for both. */
    snprintf(path, sizeof path, "%s/reference/cqt/%.95s.hybrid_t0.f32", dir, s->name);
    if (!file_exists(path)) {
      CHECK(s->tuning == 0.0, "%s: no hybrid_t0 reference although the tuning is %g", s->name, s->tuning);
      snprintf(path, sizeof path, "%s/reference/cqt/%.95s.hybrid.f32", dir, s->name);
    }
    char what[160];
    snprintf(what, sizeof what, "%.95s t0", s->name);
    rel_0 = compare(what, C, T, 288, path, 0);
    free(C);
  }

  /* BTC's front end, the plain CQT: librosa.cqt(y, sr=22050, hop_length=2048,
   * n_bins=144, bins_per_octave=24), fmin C1, tuning 0. */
  double rel_b = NAN;
  cqt_librosa_config btc = {22050.0, 2048, BTC_FMIN_C1, 144, 24, false, 0.0};
  CHECK(cqt_librosa_cqt(y, n, &btc, &C, &T, NULL, &err) == CHORDLET_OK, "%s btc: %s", s->name,
        err.message);
  if (C) {
    CHECK(T == 1 + n / 2048, "%s btc: %zu frames", s->name, T);
    char what[160];
    snprintf(what, sizeof what, "%.95s btc", s->name);
    snprintf(path, sizeof path, "%s/reference/cqt/%.95s.btc.f32", dir, s->name);
    rel_b = compare(what, C, T, 144, path, TOL_LOG_BTC);
    free(C);
  }
  printf("%-24s n=%-7zu tuning %+.2f (librosa %+.2f)  hybrid %.2e  hybrid_t0 %.2e  btc %.2e\n",
         s->name, n, tuning, s->tuning, rel_h, rel_0, rel_b);
  if (rel_h > worst[0]) worst[0] = rel_h;
  if (rel_0 > worst[1]) worst[1] = rel_0;
  if (rel_b > worst[2]) worst[2] = rel_b;
  free(y);
}

static void expect_error(const char *what, chordlet_status st, const chordlet_error *err,
                         const char *needle) {
  CHECK(st != CHORDLET_OK, "%s: must be rejected", what);
  CHECK(strstr(err->message, needle) != NULL, "%s: message should contain '%s': %s", what, needle,
        err->message);
}

/* The shared helpers: scipy's periodic Hann, centred zero-padded frames, and
 * numpy's complex64 magnitude. */
static void test_helpers(void) {
  enum { N = 16 };
  double w[N];
  cqt_librosa_hann(w, N);
  for (int j = 0; j < N; j++)
    CHECK_NEAR(w[j], 0.5 - 0.5 * cos(2 * CQT_PI * j / N), 1e-15, "periodic Hann");
  CHECK(w[0] == 0.0, "Hann starts at exactly 0: %g", w[0]);
  double one;
  cqt_librosa_hann(&one, 1);
  CHECK(one == 1.0, "a one-sample window is [1]");

  float x[10], fr[8];
  for (int i = 0; i < 10; i++) x[i] = (float)(i + 1);
  cqt_librosa_frame(x, 10, 0, 4, 8, NULL, fr); /* samples -4..3 */
  CHECK(fr[0] == 0 && fr[3] == 0 && fr[4] == 1 && fr[7] == 4, "frame 0: zeros, then x[0..3]");
  cqt_librosa_frame(x, 10, 3, 4, 8, NULL, fr); /* samples 8..15 */
  CHECK(fr[0] == 9 && fr[1] == 10 && fr[2] == 0 && fr[7] == 0, "frame 3: x[8..9], then zeros");
  double ones[8] = {1, 1, 1, 1, 2, 2, 2, 2};
  cqt_librosa_frame(x, 10, 1, 4, 8, ones, fr); /* samples 0..7, times the window */
  CHECK(fr[0] == 1 && fr[4] == 10 && fr[7] == 16, "windowed frame");

  float a = cqt_librosa_abs_c64(3.0f, -4.0f);
  CHECK(a == 5.0f, "|3 - 4i| = %.9g", a);
  CHECK(cqt_librosa_abs_c64(0.0f, -0.0f) == 0.0f, "|0| = 0");
  for (int i = 1; i < 1000; i++) {
    float re = (float)sin(i * 0.37) * 100.0f, im = (float)cos(i * 1.1) * 3.0f;
    float h = (float)hypot(re, im), m = cqt_librosa_abs_c64(re, im);
    CHECK(fabsf(m - h) <= 2 * nextafterf(h, INFINITY) - 2 * h, "|z| within an ulp of hypot: %g %g", m, h);
  }
}

static void test_bad_input(void) {
  cqt_librosa_config cfg;
  cqt_librosa_teacher_config(&cfg);
  CHECK(cfg.sample_rate == 22050 && cfg.hop_length == 512 && cfg.n_bins == 288 &&
            cfg.bins_per_octave == 36 && cfg.estimate_tuning && cfg.fmin == CQT_LIBROSA_F_SHARP_0,
        "teacher config");
  enum { N = 4096 };
  float *y = calloc(N, sizeof *y); /* (N) */
  for (int i = 0; i < N; i++) y[i] = (float)(0.5 * sin(2 * CQT_PI * 440.0 * i / 22050.0));
  chordlet_error err = {0};
  float *C = (float *)&err; /* must be reset to NULL on error */
  size_t T = 7;
  double tun;

  y[100] = NAN;
  expect_error("NaN sample", cqt_librosa_hybrid(y, N, &cfg, &C, &T, NULL, &err), &err, "NaN");
  CHECK(C == NULL && T == 0, "outputs cleared on error");
  expect_error("NaN sample (tuning)", cqt_librosa_estimate_tuning(y, N, 22050, 36, &tun, &err), &err,
               "sample 100");
  y[100] = INFINITY;
  expect_error("infinite sample", cqt_librosa_hybrid(y, N, &cfg, &C, &T, NULL, &err), &err, "infinite");
  y[100] = 0.0f;

  /* librosa: estimate_tuning of nothing is 0; hybrid_cqt raises because the
   * early downsampling by 2 needs at least 2 samples. */
  CHECK(cqt_librosa_estimate_tuning(NULL, 0, 22050, 36, &tun, &err) == CHORDLET_OK && tun == 0.0,
        "empty signal: tuning 0 (%s)", err.message);
  expect_error("n = 0", cqt_librosa_hybrid(y, 0, &cfg, &C, &T, NULL, &err), &err, "too short");
  expect_error("n = 1", cqt_librosa_hybrid(y, 1, &cfg, &C, &T, NULL, &err), &err, "too short");
  CHECK(cqt_librosa_hybrid(y, 2, &cfg, &C, &T, NULL, &err) == CHORDLET_OK && T == 1, "n = 2: one frame (%s)",
        err.message);
  free(C);
  /* Short signals: T = 1 + floor(n / 512) at every length around a hop. */
  for (size_t n = 511; n <= 1025; n += 257) {
    C = NULL;
    CHECK(cqt_librosa_hybrid(y, n, &cfg, &C, &T, NULL, &err) == CHORDLET_OK && T == 1 + n / 512,
          "n = %zu: %zu frames (%s)", n, T, err.message);
    if (C) {
      int finite = 1;
      for (size_t i = 0; i < T * 288; i++) finite &= isfinite(C[i]) && C[i] >= 0;
      CHECK(finite, "n = %zu: finite non-negative output", n);
    }
    free(C);
  }

  cqt_librosa_config bad = cfg;
  bad.hop_length = 0;
  expect_error("hop 0", cqt_librosa_hybrid(y, N, &bad, &C, &T, NULL, &err), &err, "hop_length");
  bad = cfg;
  bad.n_bins = 0;
  expect_error("no bins", cqt_librosa_hybrid(y, N, &bad, &C, &T, NULL, &err), &err, "n_bins");
  bad = cfg;
  bad.fmin = -1;
  expect_error("negative fmin", cqt_librosa_hybrid(y, N, &bad, &C, &T, NULL, &err), &err, "fmin");
  bad = cfg;
  bad.sample_rate = NAN;
  expect_error("NaN rate", cqt_librosa_hybrid(y, N, &bad, &C, &T, NULL, &err), &err, "sample rate");
  bad = cfg;
  bad.estimate_tuning = false;
  bad.tuning = INFINITY;
  expect_error("infinite tuning", cqt_librosa_hybrid(y, N, &bad, &C, &T, NULL, &err), &err, "tuning");
  bad = cfg;
  bad.n_bins = 360; /* 10 octaves from F#0 reach past 11025 Hz */
  expect_error("above Nyquist", cqt_librosa_hybrid(y, N, &bad, &C, &T, NULL, &err), &err, "Nyquist");
  expect_error("bad bins_per_octave", cqt_librosa_estimate_tuning(y, N, 22050, 0, &tun, &err), &err,
               "bins_per_octave");
  free(y);
}

int main(void) {
  const char *dir = shared_dir();
  char path[1024];
  snprintf(path, sizeof path, "%s/reference/cqt/index.json", dir);
  char *index = read_all(path, NULL);
  CHECK(index != NULL, "cannot read %s", path);
  signal_ref sigs[MAX_SIGNALS];
  int n_sigs = index ? read_tunings(index, sigs, MAX_SIGNALS) : -1;
  free(index);
  CHECK(n_sigs == N_SIGNALS, "index.json: %d estimated tunings, expected %d", n_sigs, N_SIGNALS);

  double worst[3] = {0, 0, 0};
  for (int i = 0; i < n_sigs; i++) test_signal(dir, &sigs[i], worst);
  printf("worst max|C - ref| / max|ref|: hybrid %.2e, hybrid_t0 %.2e, btc %.2e (tolerance %g)\n",
         worst[0], worst[1], worst[2], TOL_REL);

  /* Speed on the music excerpt, tuning estimated (what the teacher runs). */
  snprintf(path, sizeof path, "%s/reference/cqt/music_22k.wav", dir);
  size_t n;
  int sr;
  float *y = read_wav(path, &n, &sr);
  CHECK(y != NULL, "cannot read %s", path);
  if (y) {
    cqt_librosa_config cfg;
    cqt_librosa_teacher_config(&cfg);
    float *C = NULL;
    size_t T;
    chordlet_error err;
    double best = INFINITY;
    for (int rep = 0; rep < 3; rep++) {
      double t0 = now();
      chordlet_status st = cqt_librosa_hybrid(y, n, &cfg, &C, &T, NULL, &err);
      double dt = now() - t0;
      CHECK(st == CHORDLET_OK, "%s", err.message);
      free(C);
      if (dt < best) best = dt;
    }
    printf("speed: music_22k (%.1f s) in %.4f s = %.0fx real time\n", n / 22050.0, best,
           n / 22050.0 / best);
    free(y);
  }

  test_helpers();
  test_bad_input();
  return check_summary("test_cqt_librosa");
}
