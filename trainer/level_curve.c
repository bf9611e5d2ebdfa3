/* level_curve.c: see level_curve.h. */
#include "level_curve.h"

#include "cqt_librosa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audiofile.h"

/* NumPy's pairwise summation in float32 (the double one is the engine's,
 * cqt_librosa.h: under 8 values a plain loop; up to 128, eight interleaved
 * partial sums combined as a tree, then the tail; above, both halves). */
float numpy_pairwise_sum_f(const float *a, size_t n) {
  if (n < 8) {
    float res = 0.f;
    for (size_t i = 0; i < n; i++) res += a[i];
    return res;
  }
  if (n <= 128) {
    float r[8];
    memcpy(r, a, sizeof r);
    size_t i;
    for (i = 8; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; j++) r[j] += a[i + j];
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum_f(a, n2) + numpy_pairwise_sum_f(a + n2, n - n2);
}

static size_t block_frames(double rate) {
  /* Python's round() rounds half to even, as nearbyint does by default */
  double b = nearbyint(rate * LEVEL_BLOCK_S);
  return b < 1 ? 1 : (size_t)b;
}

double level_curve_hop(double rate) { return 2.0 * (double)block_frames(rate) / rate; }

int level_curve_init(level_curve *lc, double rate, int channels) {
  memset(lc, 0, sizeof *lc);
  if (channels < 1 || channels > AUDIO_MAX_CHANNELS || !(rate > 0)) return -1;
  lc->channels = channels;
  lc->rows = channels == 2 ? 3 : 1;
  lc->block = block_frames(rate);
  lc->rest = malloc(lc->block * (size_t)channels * sizeof *lc->rest);
  lc->scratch = malloc((lc->block > (size_t)channels ? lc->block : (size_t)channels) * sizeof *lc->scratch);
  if (!lc->rest || !lc->scratch) {
    level_curve_free(lc);
    return -1;
  }
  return 0;
}

void level_curve_free(level_curve *lc) {
  for (int r = 0; r < 3; r++) free(lc->energy[r]);
  free(lc->rest);
  free(lc->scratch);
  memset(lc, 0, sizeof *lc);
}

static int grow(level_curve *lc) {
  size_t cap = lc->cap ? 2 * lc->cap : 1024;
  for (int r = 0; r < lc->rows; r++) {
    double *p = realloc(lc->energy[r], cap * sizeof *p);
    if (!p) return -1;
    lc->energy[r] = p;
  }
  lc->cap = cap;
  return 0;
}

/* One whole block (interleaved frames): the mean square of the mix (each
 * frame's channel mean, in double) and of each stereo channel, each summed
 * as NumPy's mean() sums a row. */
static int add_block(level_curve *lc, const float *x) {
  if (lc->n_blocks == lc->cap && grow(lc)) return -1;
  const size_t b = lc->block, ch = (size_t)lc->channels;
  double frame[AUDIO_MAX_CHANNELS];
  for (size_t t = 0; t < b; t++) {
    for (size_t c = 0; c < ch; c++) frame[c] = x[t * ch + c];
    double mix = numpy_pairwise_sum(frame, ch) / (double)ch;
    lc->scratch[t] = mix * mix;
  }
  lc->energy[0][lc->n_blocks] = numpy_pairwise_sum(lc->scratch, b) / (double)b;
  if (lc->rows == 3)
    for (int c = 0; c < 2; c++) {
      for (size_t t = 0; t < b; t++) {
        double v = x[t * 2 + (size_t)c];
        lc->scratch[t] = v * v;
      }
      lc->energy[1 + c][lc->n_blocks] = numpy_pairwise_sum(lc->scratch, b) / (double)b;
    }
  lc->n_blocks++;
  return 0;
}

int level_curve_feed(level_curve *lc, const float *frames, size_t n) {
  const size_t ch = (size_t)lc->channels, b = lc->block;
  if (lc->n_rest) { /* complete the pending block first */
    size_t k = b - lc->n_rest < n ? b - lc->n_rest : n;
    memcpy(lc->rest + lc->n_rest * ch, frames, k * ch * sizeof *frames);
    lc->n_rest += k;
    frames += k * ch;
    n -= k;
    if (lc->n_rest < b) return 0;
    if (add_block(lc, lc->rest)) return -1;
    lc->n_rest = 0;
  }
  for (; n >= b; frames += b * ch, n -= b)
    if (add_block(lc, frames)) return -1;
  memcpy(lc->rest, frames, n * ch * sizeof *frames);
  lc->n_rest = n;
  return 0;
}

int level_curve_finish(level_curve *lc, float **env, size_t *n) {
  /* windows of 4 blocks stepping by 2; a trailing partial block is dropped */
  const size_t nb = lc->n_blocks, windows = nb >= 4 ? (nb - 4) / 2 + 1 : 0;
  *env = malloc((windows ? windows : 1) * (size_t)lc->rows * sizeof **env);
  *n = 0;
  if (!*env) return -1;
  for (int r = 0; r < lc->rows; r++) {
    const double *e = lc->energy[r];
    for (size_t k = 0; k < windows; k++) {
      double w = (e[2 * k] + e[2 * k + 1] + e[2 * k + 2] + e[2 * k + 3]) / 4;
      double db = 10 * log10(w + 1e-12);
      (*env)[(size_t)r * windows + k] = (float)(db < LEVEL_FLOOR_DB ? LEVEL_FLOOR_DB : db);
    }
  }
  *n = windows;
  return 0;
}
