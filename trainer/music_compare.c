/* music_compare.c: see music_compare.h. */
#include "music_compare.h"

#include <math.h>
#include <stdlib.h>

#include "quantile.h"

double music_distance(const float *a, size_t na, const float *b, size_t nb) {
  const size_t n = na < nb ? na : nb;
  size_t live = 0;
  for (size_t i = 0; i < n; i++) live += (a[i] > b[i] ? a[i] : b[i]) > MUSIC_SILENT_DB;
  if (live < (n / 4 > 20 ? n / 4 : 20)) return INFINITY;
  float *d = malloc(2 * live * sizeof *d);
  if (!d) return INFINITY; /* out of memory: no match claimed */
  float *sorted = d + live;
  for (size_t i = 0, k = 0; i < n; i++)
    if ((a[i] > b[i] ? a[i] : b[i]) > MUSIC_SILENT_DB) d[k] = sorted[k] = a[i] - b[i], k++;
  const float median = np_median_f(sorted, live); /* a level offset, removed */
  for (size_t k = 0; k < live; k++) d[k] = fabsf(d[k] - median);
  const double p80 = np_percentile_f(d, live, 0.8);
  free(d);
  return p80;
}

/* row r of p from window off on (an empty curve past its end) */
static double row_distance(const music_print *a, int ra, const music_print *b, int rb, int off) {
  const float *x = a->env + (size_t)ra * a->n, *y = b->env + (size_t)rb * b->n;
  size_t nx = a->n, ny = b->n;
  size_t skip = (size_t)(off >= 0 ? off : -off);
  if (off >= 0) {
    skip = skip < nx ? skip : nx;
    x += skip, nx -= skip;
  } else {
    skip = skip < ny ? skip : ny;
    y += skip, ny -= skip;
  }
  return music_distance(x, nx, y, ny);
}

double music_best_distance(const music_print *a, const music_print *b, const int *offsets, int n_offsets) {
  /* a mono file against each channel of a stereo one (and its mix) */
  const int rows_a = a->rows > 1 && b->rows == 1 ? a->rows : 1;
  const int rows_b = b->rows > 1 && a->rows == 1 ? b->rows : 1;
  double best = INFINITY;
  for (int ra = 0; ra < rows_a; ra++)
    for (int rb = 0; rb < rows_b; rb++)
      for (int k = 0; k < n_offsets; k++) {
        double d = row_distance(a, ra, b, rb, offsets[k]);
        if (d < best) best = d;
      }
  return best;
}

double music_aligned_distance(const music_print *a, const music_print *b) {
  int offsets[2 * MUSIC_ALIGN_WINDOWS + 1];
  for (int k = 0; k < 2 * MUSIC_ALIGN_WINDOWS + 1; k++) offsets[k] = k - MUSIC_ALIGN_WINDOWS;
  return music_best_distance(a, b, offsets, 2 * MUSIC_ALIGN_WINDOWS + 1);
}

bool music_same_audio(const music_print *a, const music_print *b, double *distance) {
  const double d = music_aligned_distance(a, b);
  *distance = d;
  if (d > MUSIC_SAME_DB) return false;
  static const int misaligned[6] = {-200, -100, -50, 50, 100, 200}; /* 5, 10, 20 s */
  double ref[6];
  for (int k = 0; k < 6; k++) ref[k] = music_best_distance(a, b, &misaligned[k], 1);
  return d <= MUSIC_SAME_CONTRAST * np_median_d(ref, 6);
}
