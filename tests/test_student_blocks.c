/* test_student_blocks.c: student_forward over overlapping windows
 * (student_blocks.h) equals one student_forward over the whole sequence bit
 * for bit: the live and file-mode students' shapes and a small one, random
 * weights with every branch alive, sequences cut into pieces of awkward
 * sizes, blocks from the smallest (256 frames: many windows, each mostly
 * margin) to one window for everything; the sink sees every frame once, in
 * order. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "student.h"
#include "student_blocks.h"

static uint64_t rng_state = 88172645463325252ull;
static double uniform(double lo, double hi) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

/* student_init, then the residual branches (alphas, zero at init) and
 * norms brought to life, as test_student.c does. */
static float *random_params(const student_config *c, unsigned long long seed) {
  student_param L[STUDENT_MAX_PARAMS];
  size_t n_f = 0;
  int n = student_layout(c, L, &n_f);
  float *p = malloc(n_f * sizeof *p);
  student_init(c, p, seed);
  for (int i = 0; i < n; i++)
    for (size_t k = 0; k < L[i].size; k++) {
      float *t = p + L[i].offset;
      if (ends_with(L[i].name, "alpha")) t[k] = (float)uniform(0.5, 1.5);
      else if (ends_with(L[i].name, ".g")) t[k] = (float)uniform(0.7, 1.3);
      else if (ends_with(L[i].name, ".b_in") || ends_with(L[i].name, ".b_out")) t[k] = (float)uniform(-0.1, 0.1);
    }
  return p;
}

typedef struct collected {
  float *logits; /* (T, n_classes) */
  size_t n_classes, next;
  int out_of_order;
} collected;

static chordlet_status collect(void *ctx, size_t first, const float *logits, size_t n, chordlet_error *err) {
  (void)err;
  collected *c = ctx;
  if (first != c->next) c->out_of_order = 1;
  memcpy(c->logits + first * c->n_classes, logits, n * c->n_classes * sizeof *logits);
  c->next = first + n;
  return CHORDLET_OK;
}

static void compare(const char *name, const student_config *c, int T, const size_t *blocks, int n_blocks) {
  const size_t K = (size_t)c->n_bins, C = (size_t)c->n_classes;
  float *params = random_params(c, 7);
  float *x = malloc((size_t)T * K * sizeof *x), *whole = malloc((size_t)T * C * sizeof *whole);
  for (int t = 0; t < T; t++)
    for (size_t k = 0; k < K; k++) x[t * K + k] = (float)(2.0 * sin(0.05 * t + 0.7 * k) + uniform(-1.5, 1.5));
  chordlet_error err;
  CHECK(student_forward(c, params, x, T, whole, &err) == CHORDLET_OK, "%s", err.message);
  collected got = {malloc((size_t)T * C * sizeof(float)), C, 0, 0};
  for (int b = 0; b < n_blocks; b++) {
    memset(got.logits, 0xff, (size_t)T * C * sizeof(float)); /* NaN everywhere */
    got.next = 0;
    got.out_of_order = 0;
    student_blocks *sb;
    CHECK(student_blocks_create(c, params, blocks[b], collect, &got, &sb, &err) == CHORDLET_OK, "%s", err.message);
    /* Pieces of 1, 7, 100, 333 frames, round and round. */
    static const size_t pieces[] = {1, 7, 100, 333};
    size_t at = 0;
    for (int k = 0; at < (size_t)T; k++) {
      size_t n = pieces[k % 4] < (size_t)T - at ? pieces[k % 4] : (size_t)T - at;
      CHECK(student_blocks_push(sb, x + at * K, n, &err) == CHORDLET_OK, "%s", err.message);
      at += n;
    }
    CHECK(student_blocks_finish(sb, &err) == CHORDLET_OK, "%s", err.message);
    student_blocks_free(sb);
    CHECK(got.next == (size_t)T && !got.out_of_order, "%s, block %zu: %zu frames out", name, blocks[b], got.next);
    size_t first_diff = (size_t)T;
    for (size_t t = 0; t < (size_t)T && first_diff == (size_t)T; t++)
      if (memcmp(got.logits + t * C, whole + t * C, C * sizeof(float)) != 0) first_diff = t;
    CHECK(first_diff == (size_t)T, "%s, block %zu: frame %zu differs from the whole sequence's", name, blocks[b],
          first_diff);
    printf("# %s (margin %zu frames), %d frames, block %zu: %s\n", name, student_blocks_margin(c), T, blocks[b],
           first_diff == (size_t)T ? "bit-identical" : "DIFFERS");
  }
  free(got.logits);
  free(params);
  free(x);
  free(whole);
}

int main(void) {
  /* The live student's shape: context 128, lookahead 1, layers 3/4/3. */
  student_config live = student_config_default();
  const size_t live_blocks[] = {256, 0};
  compare("live shape", &live, 1800, live_blocks, 2);

  /* The file-mode student's shape: context 64, lookahead 64, layers 2/2/2, FF x2. */
  student_config file = student_config_default();
  file.context = 64;
  file.lookahead = 64;
  file.layers_f = file.layers_t = file.layers_d = 2;
  file.ff_mult = 2;
  const size_t file_blocks[] = {256, 512, 0};
  compare("file-mode shape", &file, 2000, file_blocks, 3);

  /* Small: context 5, lookahead 3, no ALiBi; a sequence shorter than a block. */
  student_config small = student_config_default();
  small.n_bins = 24;
  small.layers_f = 1;
  small.layers_t = 2;
  small.layers_d = 2;
  small.heads_f = 2;
  small.heads_t = 2;
  small.heads_d = 3;
  small.ff_mult = 2;
  small.context = 5;
  small.lookahead = 3;
  small.alibi = 0;
  const size_t small_blocks[] = {256, 0};
  compare("small", &small, 1500, small_blocks, 2);
  compare("small, short", &small, 200, small_blocks, 2);
  return check_summary("test_student_blocks");
}
