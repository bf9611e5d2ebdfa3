/* test_stream_rt.c: the streaming front end allocates nothing and locks
 * nothing once created. This binary replaces malloc, calloc, realloc, free,
 * posix_memalign, aligned_alloc, memalign, valloc and pthread_mutex_lock with
 * versions that count their calls and forward to glibc (__libc_malloc & co.,
 * and the real pthread_mutex_lock found with dlsym). Being defined in the
 * executable, they replace the allocator for every library in the process
 * (FFTW's fftwf_malloc included: glibc supports replacing malloc this way).
 * Then a 20 s synthetic song runs through streams at 44.1, 48 and 96 kHz in
 * blocks of 1, 64, 128, 1024 and of varying sizes (1..4000), with counting on
 * around every process() and reset() call: every count must be 0. Counting is
 * first shown to work (a malloc and a lock made on purpose are seen), so a
 * broken interposer cannot pass silently. The frames of every block pattern
 * must also be bit-identical.
 *
 * AddressSanitizer replaces malloc itself, so in the ASan build (make SAN=1)
 * the replacements are left out and only the functional part runs; it says
 * so and passes. The counting runs in the normal gcc and clang builds. No
 * special link flags are needed (glibc >= 2.34: dlsym is in libc). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "stream.h"

#include "rt_interposer.h"

/* ------------------------------------------------------------ the song */

/* 20 s: a chord every 2 s (bass, root, third, fifth, 4 harmonics each), a
 * little noise, then half a second of silence and half a second of denormal
 * samples. Partials by rotating phasors (exact every 1024 samples). */
static float *song(double rate, size_t *n_out) {
  size_t n = (size_t)(20.0 * rate), seg = (size_t)(2.0 * rate);
  float *x = calloc(n, sizeof *x);
  static const int roots[] = {48, 53, 55, 48, 45, 50, 55, 48, 52, 57};
  static const int third[] = {4, 3, 4, 4, 3, 3, 4, 4, 3, 3};
  for (size_t c = 0; c < 10; c++) {
    int notes[4] = {roots[c] - 12, roots[c], roots[c] + third[c], roots[c] + 7};
    for (int k = 0; k < 4; k++)
      for (int h = 1; h <= 4; h++) {
        double w = 2 * PI * 440.0 * pow(2.0, (notes[k] - 69) / 12.0) * h / rate, cr = 0, ci = 0;
        double dr = cos(w), di = sin(w);
        for (size_t i = c * seg; i < (c + 1) * seg && i < n; i++) {
          if ((i - c * seg) % 1024 == 0) {
            cr = cos(w * (double)i);
            ci = sin(w * (double)i);
          }
          x[i] += (float)(0.05 / h * ci);
          double t = cr * dr - ci * di;
          ci = cr * di + ci * dr;
          cr = t;
        }
      }
  }
  uint64_t r = 7;
  for (size_t i = 0; i < n; i++) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] += (float)(0.01 * ((double)(r >> 11) / 9007199254740992.0 - 0.5));
    double t = (double)i / rate;
    if (t >= 12.0 && t < 13.0) x[i] = t < 12.5 ? 0.0f : 1e-41f; /* silence, then denormals */
  }
  *n_out = n;
  return x;
}

/* Runs the song through a new stream in blocks from sizes (0-terminated,
 * cycled), counting allocator and lock calls inside process() and reset().
 * Returns the frames (allocated here, outside the counting). */
static float *run(const float *x, size_t n, double rate, const size_t *sizes, const char *name, size_t *T,
                  long *calls) {
  cqt_params p;
  cqt_params_default(&p);
  cqt_stream *s;
  chordlet_error err = {0};
  *calls = 0;
  *T = 0;
  if (cqt_stream_create(&p, rate, &s, &err) != CHORDLET_OK) {
    CHECK(0, "create at %g Hz: %s", rate, err.message);
    return NULL;
  }
  const size_t K = (size_t)p.n_bins, H = cqt_stream_hop_samples(s);
  const size_t want = cqt_offline_frame_count(n, H);
  float *F = malloc((want + 8) * K * sizeof *F);
  size_t got = 0, i = 0, k = 0;
  /* A reset at the start (from a clean state, so the frames are unchanged)
   * is counted like process(). */
  count_on();
  cqt_stream_reset(s);
  *calls += count_off();
  while (i < n) {
    size_t b = sizes[k] < n - i ? sizes[k] : n - i;
    k = sizes[k + 1] ? k + 1 : 0;
    count_on();
    got += cqt_stream_process(s, x + i, b, F + got * K, want + 8 - got);
    (void)cqt_stream_frames_emitted(s);
    (void)cqt_stream_delay_seconds(s);
    *calls += count_off();
    i += b;
  }
  count_on();
  got += cqt_stream_process(s, NULL, (want - 1) * H + cqt_stream_delay_samples(s) - n, F + got * K,
                            want + 8 - got);
  *calls += count_off();
  CHECK(got == want, "%g Hz, %s: %zu frames instead of %zu", rate, name, got, want);
  CHECK(cqt_stream_frames_dropped(s) == 0, "dropped frames");
  cqt_stream_free(s);
  *T = got;
  return F;
}

int main(void) {
#if !UNDER_ASAN
  CHECK(interposer_self_check(), "interposer: %ld allocations, %ld frees, %ld locks seen, expected 1 each",
        n_alloc, n_free, n_lock);
  /* Creating a stream allocates (and FFTW's planner allocates through
   * fftwf_malloc): counted here, which shows libraries' calls are seen too. */
  cqt_params p;
  cqt_params_default(&p);
  cqt_stream *s0 = NULL;
  count_on();
  cqt_stream_create(&p, 48000, &s0, NULL);
  long create_calls = count_off();
  cqt_stream_free(s0);
  CHECK(create_calls > 10, "creating a stream made only %ld allocator calls: is the interposer working?",
        create_calls);
  printf("interposer works: creating a stream made %ld allocator calls\n", create_calls);
#else
  printf("AddressSanitizer build: allocation counting is left out here (ASan owns malloc); it runs in the "
         "normal gcc and clang builds. Functional part only.\n");
#endif

  static const size_t b1[] = {1, 0}, b64[] = {64, 0}, b128[] = {128, 0}, b1024[] = {1024, 0};
  size_t varying[101];
  uint64_t r = 99;
  for (int i = 0; i < 100; i++) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    varying[i] = 1 + (size_t)((r >> 33) % (i % 4 ? 300 : 4000));
  }
  varying[100] = 0;
  struct {
    const char *name;
    const size_t *sizes;
  } pat[] = {{"blocks of 1", b1},
             {"blocks of 64", b64},
             {"blocks of 128", b128},
             {"blocks of 1024", b1024},
             {"varying blocks 1..4000", varying}};
  cqt_params defaults;
  cqt_params_default(&defaults);
  const size_t K = (size_t)defaults.n_bins;
  /* Under ASan (functional only, and slower) one rate is enough. */
  static const double rates[] = {48000, 44100, 96000};
  const int n_rates = UNDER_ASAN ? 1 : 3;
  for (int ri = 0; ri < n_rates; ri++) {
    size_t n, T0 = 0;
    float *x = song(rates[ri], &n);
    float *first = NULL;
    for (int k = 0; k < 5; k++) {
      size_t T;
      long calls;
      float *F = run(x, n, rates[ri], pat[k].sizes, pat[k].name, &T, &calls);
#if !UNDER_ASAN
      CHECK(calls == 0, "%g Hz, %s: %ld allocator or lock calls inside process()/reset()", rates[ri],
            pat[k].name, calls);
      printf("%6g Hz, %-22s: %zu frames, %ld allocations/frees/locks in process() and reset()\n", rates[ri],
             pat[k].name, T, calls);
#else
      (void)calls;
#endif
      if (!first) {
        first = F;
        T0 = T;
      } else {
        CHECK(F && T == T0 && memcmp(F, first, T * K * sizeof *F) == 0,
              "%g Hz, %s: frames differ from blocks of 1", rates[ri], pat[k].name);
        free(F);
      }
    }
    free(first);
    free(x);
  }
  return check_summary("test_stream_rt");
}
