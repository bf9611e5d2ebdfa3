/* check.h: the few macros our C tests use. A test program prints one line per
 * failed check and exits 1 if any failed; 77 means "skipped" (a missing
 * ../shared outside CI; run_all.sh turns it into a failure when CI is set). */
#ifndef CHORDLET_TESTS_CHECK_H
#define CHORDLET_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond, ...)                                              \
  do {                                                                \
    check_count++;                                                    \
    if (!(cond)) {                                                    \
      check_failures++;                                               \
      if (check_failures <= 30) {                                     \
        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__);                                 \
        fputc('\n', stderr);                                          \
      }                                                               \
    }                                                                 \
  } while (0)

#define CHECK_NEAR(a, b, tol, what)                                         \
  CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s: got %.17g, expected %.17g (tolerance %g)", \
        (what), (double)(a), (double)(b), (double)(tol))

/* The ../shared folder (CHORDLET_SHARED, set by make test). Exits 77 when
 * it is missing, so the runner can report the test as needing it. */
static inline const char *shared_dir(void) {
  const char *dir = getenv("CHORDLET_SHARED");
  if (!dir || !*dir) dir = "../shared";
  char probe[4096];
  snprintf(probe, sizeof probe, "%s/data/mir_eval/README.md", dir);
  FILE *f = fopen(probe, "r");
  if (!f) {
    fprintf(stderr, "this test needs ../shared (looked for %s)\n", probe);
    exit(77);
  }
  fclose(f);
  return dir;
}

/* The largest |a[i] - b[i]|; a NaN on either side counts as the worst. */
static inline double max_abs_diff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

/* The largest |a[i]|. */
static inline double max_abs(const float *a, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(a[i]) > m) m = fabs(a[i]);
  return m;
}

static inline int check_summary(const char *name) {
  printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
  return check_failures ? 1 : 0;
}

#endif
