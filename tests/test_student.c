/* test_student.c: the 2E1D student (engine/student.h, student.c,
 * student_params.c), on random weights and inputs only (no ../shared):
 *  - the layout of the default config (PAPER configuration (c)): 167 tensors,
 *    2,269,561 parameters, every tensor on a 16-float boundary;
 *  - student_config_check refuses bad configs with a message naming the field;
 *    the forward pass and the stream refuse bad arguments;
 *  - an independent, slow, obviously-correct reference written here (double
 *    precision, full T x T score matrices with an explicit band mask, the
 *    formulas of student.h read literally) against student_forward, which
 *    catches what student_forward and the stream might get wrong together;
 *  - the stream (push one frame at a time, then flush) against
 *    student_forward for the default config and small ones, lookahead 0, 1,
 *    2 and 3, context 1 and 5, with and without ALiBi, without a frequency
 *    encoder, T longer than the rings and T shorter than the lookahead, and a
 *    second sequence after a reset in mid-sequence;
 *  - the model file: write, serialise, parse, read gives the same config and
 *    bit-identical parameters; a tensor of another shape or a missing one is
 *    refused by name;
 *  - push, flush and reset allocate nothing and lock nothing (malloc & co.
 *    and pthread_mutex_lock interposed as in test_stream_rt.c; left out
 *    under AddressSanitizer, which owns malloc).
 * Random weights: student_init, then every ReZero alpha set to U(0.5, 1.5)
 * (they start at 0, which would leave every attention and FF branch dead),
 * LayerNorm gains and biases and the attention biases perturbed.
 * Prints the largest differences and the stream's time per push. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "model_keys.h"
#include "modelfile.h"
#include "student.h"

#include "rt_interposer.h"

/* ------------------------------------------------------------ random data */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double urand(void) { /* [0, 1) */
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}
static double uniform(double a, double b) { return a + (b - a) * urand(); }
static double nrand(void) { /* about N(0, 1): Irwin-Hall of 12 */
  double s = 0;
  for (int k = 0; k < 12; k++) s += urand();
  return s - 6.0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

/* student_init, then the branches brought to life (see the file comment). */
static float *random_params(const student_config *c, unsigned long long seed, size_t *n_floats) {
  student_param L[STUDENT_MAX_PARAMS];
  size_t n_f = 0;
  int n = student_layout(c, L, &n_f);
  float *p = malloc(n_f * sizeof *p);
  if (!p) return NULL;
  student_init(c, p, seed);
  rng_state = seed * 2654435761ULL + 12345;
  for (int i = 0; i < n; i++) {
    float *t = p + L[i].offset;
    for (size_t k = 0; k < L[i].size; k++) {
      if (ends_with(L[i].name, "alpha"))
        t[k] = (float)uniform(0.5, 1.5);
      else if (ends_with(L[i].name, ".g"))
        t[k] = (float)uniform(0.7, 1.3);
      else if (ends_with(L[i].name, "ln.b") || ends_with(L[i].name, "ln1.b") || ends_with(L[i].name, "ln2.b"))
        t[k] = (float)uniform(-0.2, 0.2);
      else if (ends_with(L[i].name, ".b_in") || ends_with(L[i].name, ".b_out"))
        t[k] = (float)uniform(-0.1, 0.1);
    }
  }
  if (n_floats) *n_floats = n_f;
  return p;
}

/* (T, n_bins): a slowly changing profile plus noise, magnitude about 1 to 5
 * around the config's norm_mean. */
static float *random_input(const student_config *c, int T, unsigned long long seed) {
  const int K = c->n_bins;
  float *x = malloc((size_t)T * K * sizeof *x);
  if (!x) return NULL;
  rng_state = seed * 0x2545F4914F6CDD1DULL + 99;
  for (int t = 0; t < T; t++)
    for (int k = 0; k < K; k++) {
      double v = 2.0 * sin(0.13 * t + 0.7 * k) + 1.5 * nrand();
      x[(size_t)t * K + k] = (float)(c->norm_mean + c->norm_std * v);
    }
  return x;
}

/* ------------------------------------------------------------ configs */

/* n_bins 24, G 2, layers 1/2/2, heads 2/2/3, ff_mult 2, context 5. */
static student_config small_config(int lookahead, int alibi) {
  student_config c = student_config_default();
  c.n_bins = 24;
  c.n_classes = 11;
  c.n_groups = 2;
  c.layers_f = 1;
  c.layers_t = 2;
  c.layers_d = 2;
  c.heads_f = 2;
  c.heads_t = 2;
  c.heads_d = 3;
  c.ff_mult = 2;
  c.context = 5;
  c.lookahead = lookahead;
  c.alibi = alibi;
  c.pos_scale_f = 0.5f; /* large enough that a PE bug shows */
  c.norm_mean = 1.0f;
  c.norm_std = 2.0f;
  return c;
}

/* No frequency encoder layers, G 3, context 1 (a frame sees only itself in
 * the causal attentions), odd widths per head. */
static student_config odd_config(void) {
  student_config c = student_config_default();
  c.n_bins = 30;
  c.n_classes = 7;
  c.n_groups = 3;
  c.layers_f = 0;
  c.layers_t = 3;
  c.layers_d = 1;
  c.heads_f = 2;
  c.heads_t = 3;
  c.heads_d = 5;
  c.ff_mult = 1;
  c.context = 1;
  c.lookahead = 2;
  c.alibi = 0;
  c.pos_scale_f = 0.3f;
  return c;
}

/* ------------------------------------------------------------ the naive reference */

/* Everything in double, whole (T, width) matrices, the formulas of student.h. */

static const float *P(const float *params, const student_param *L, int n, const char *fmt, int l) {
  char name[64];
  snprintf(name, sizeof name, fmt, l);
  size_t off = student_param_offset(L, n, name);
  if (off == (size_t)-1) {
    fprintf(stderr, "no tensor %s\n", name);
    exit(1);
  }
  return params + off;
}

/* y (n, out) = x (n, in) W^T + b */
static void n_linear(const double *x, int n, int in, const float *W, const float *b, int out, double *y) {
  for (int r = 0; r < n; r++)
    for (int o = 0; o < out; o++) {
      double s = b[o];
      for (int k = 0; k < in; k++) s += (double)W[(size_t)o * in + k] * x[(size_t)r * in + k];
      y[(size_t)r * out + o] = s;
    }
}

static void n_layer_norm(double *x, int n, int w, const float *g, const float *b) {
  for (int r = 0; r < n; r++) {
    double *v = x + (size_t)r * w, mean = 0, var = 0;
    for (int k = 0; k < w; k++) mean += v[k];
    mean /= w;
    for (int k = 0; k < w; k++) var += (v[k] - mean) * (v[k] - mean);
    var /= w;
    for (int k = 0; k < w; k++) v[k] = (v[k] - mean) / sqrt(var + 1e-5) * g[k] + b[k];
  }
}

/* out (T, w) = MHA(Q_in, KV_in) with the band mask i - ctx < j <= i + la and
 * ALiBi if alibi. The score matrix is (T, T) with -inf outside the band. */
static void n_mha(const double *qin, const double *kvin, int T, int w, int H, const float *w_in, const float *b_in,
                  const float *w_out, const float *b_out, int ctx, int la, int alibi, double *out) {
  const int e = w / H;
  double *Q = malloc(sizeof(double) * T * w), *K = malloc(sizeof(double) * T * w),
         *V = malloc(sizeof(double) * T * w), *O = malloc(sizeof(double) * T * w),
         *S = malloc(sizeof(double) * T * T);
  n_linear(qin, T, w, w_in, b_in, w, Q);
  n_linear(kvin, T, w, w_in + (size_t)w * w, b_in + w, w, K);
  n_linear(kvin, T, w, w_in + (size_t)2 * w * w, b_in + 2 * w, w, V);
  for (int h = 0; h < H; h++) {
    const double slope = alibi ? pow(2.0, -8.0 * (h + 1) / H) : 0.0;
    for (int i = 0; i < T; i++) {
      double mx = -INFINITY;
      for (int j = 0; j < T; j++) {
        int allowed = j > i - ctx && j <= i + la;
        double s = -INFINITY;
        if (allowed) {
          s = 0;
          for (int k = 0; k < e; k++) s += Q[(size_t)i * w + h * e + k] * K[(size_t)j * w + h * e + k];
          s = s / sqrt((double)e) - slope * fabs((double)(i - j));
        }
        S[(size_t)i * T + j] = s;
        if (s > mx) mx = s;
      }
      double sum = 0;
      for (int j = 0; j < T; j++) {
        double p = exp(S[(size_t)i * T + j] - mx); /* exp(-inf) = 0 */
        S[(size_t)i * T + j] = p;
        sum += p;
      }
      for (int k = 0; k < e; k++) {
        double o = 0;
        for (int j = 0; j < T; j++) o += S[(size_t)i * T + j] / sum * V[(size_t)j * w + h * e + k];
        O[(size_t)i * w + h * e + k] = o;
      }
    }
  }
  n_linear(O, T, w, w_out, b_out, w, out);
  free(Q), free(K), free(V), free(O), free(S);
}

/* x (n, w) = FF(x); prefix "t.%d.ff" etc. */
static void n_ff(double *x, int n, int w, int ff_mult, const float *params, const student_param *L, int nl,
                 const char *prefix, int l) {
  char f[64];
  const int hid = ff_mult * w;
  double *h = malloc(sizeof(double) * n * hid), *r = malloc(sizeof(double) * n * w);
#define FFP(suffix) (snprintf(f, sizeof f, "%s%s", prefix, suffix), P(params, L, nl, f, l))
  n_linear(x, n, w, FFP(".w1"), FFP(".b1"), hid, h);
  n_layer_norm(h, n, hid, FFP(".ln1.g"), FFP(".ln1.b"));
  for (size_t k = 0; k < (size_t)n * hid; k++) h[k] = h[k] > 0 ? h[k] : 0;
  n_linear(h, n, hid, FFP(".w2"), FFP(".b2"), w, r);
  const double alpha = *FFP(".alpha");
  for (size_t k = 0; k < (size_t)n * w; k++) x[k] += alpha * r[k];
  n_layer_norm(x, n, w, FFP(".ln2.g"), FFP(".ln2.b"));
#undef FFP
  free(h), free(r);
}

static void naive_forward(const student_config *c, const float *params, const float *x, int T, double *logits) {
  student_param L[STUDENT_MAX_PARAMS];
  const int nl = student_layout(c, L, NULL);
  const int d = c->n_bins, G = c->n_groups, ef = d / G;
  double *xn = malloc(sizeof(double) * T * d), *yF = malloc(sizeof(double) * T * d),
         *X = malloc(sizeof(double) * T * d), *yT = malloc(sizeof(double) * T * d),
         *Y = malloc(sizeof(double) * T * d), *A = malloc(sizeof(double) * T * d),
         *U = malloc(sizeof(double) * d), *UA = malloc(sizeof(double) * d);
  for (size_t k = 0; k < (size_t)T * d; k++) xn[k] = ((double)x[k] - c->norm_mean) / c->norm_std;
  /* frequency encoder, one frame at a time: G tokens, full attention */
  for (int t = 0; t < T; t++) {
    for (int g = 0; g < G; g++)
      for (int i = 0; i < ef; i++) {
        double angle = g / pow(10000.0, 2.0 * i / ef);
        U[g * ef + i] = xn[(size_t)t * d + g * ef + i] + c->pos_scale_f * (i % 2 == 0 ? sin(angle) : cos(angle));
      }
    for (int l = 0; l < c->layers_f; l++) {
      n_mha(U, U, G, ef, c->heads_f, P(params, L, nl, "f.%d.attn.w_in", l), P(params, L, nl, "f.%d.attn.b_in", l),
            P(params, L, nl, "f.%d.attn.w_out", l), P(params, L, nl, "f.%d.attn.b_out", l), G + 1, G, 0, UA);
      const double alpha = *P(params, L, nl, "f.%d.attn_alpha", l);
      for (int k = 0; k < d; k++) U[k] += alpha * UA[k];
      n_ff(U, G, ef, c->ff_mult, params, L, nl, "f.%d.ff", l);
    }
    n_linear(U, 1, d, P(params, L, nl, "f.fc.w", 0), P(params, L, nl, "f.fc.b", 0), d, yF + (size_t)t * d);
  }
  n_layer_norm(yF, T, d, P(params, L, nl, "f.ln.g", 0), P(params, L, nl, "f.ln.b", 0));
  /* temporal encoder */
  memcpy(X, xn, sizeof(double) * T * d);
  for (int l = 0; l < c->layers_t; l++) {
    n_mha(X, X, T, d, c->heads_t, P(params, L, nl, "t.%d.attn.w_in", l), P(params, L, nl, "t.%d.attn.b_in", l),
          P(params, L, nl, "t.%d.attn.w_out", l), P(params, L, nl, "t.%d.attn.b_out", l), c->context,
          l == 0 ? c->lookahead : 0, c->alibi, A);
    const double alpha = *P(params, L, nl, "t.%d.attn_alpha", l);
    for (size_t k = 0; k < (size_t)T * d; k++) X[k] += alpha * A[k];
    n_ff(X, T, d, c->ff_mult, params, L, nl, "t.%d.ff", l);
  }
  n_linear(X, T, d, P(params, L, nl, "t.fc.w", 0), P(params, L, nl, "t.fc.b", 0), d, yT);
  n_layer_norm(yT, T, d, P(params, L, nl, "t.ln.g", 0), P(params, L, nl, "t.ln.b", 0));
  for (size_t k = 0; k < (size_t)T * d; k++) Y[k] = yF[k] + yT[k];
  /* decoder */
  const float *lng = P(params, L, nl, "d.ln.g", 0), *lnb = P(params, L, nl, "d.ln.b", 0);
  for (int l = 0; l < c->layers_d; l++) {
    n_mha(Y, Y, T, d, c->heads_d, P(params, L, nl, "d.%d.self.w_in", l), P(params, L, nl, "d.%d.self.b_in", l),
          P(params, L, nl, "d.%d.self.w_out", l), P(params, L, nl, "d.%d.self.b_out", l), c->context, 0, c->alibi,
          A);
    double alpha = *P(params, L, nl, "d.%d.self_alpha", l);
    for (size_t k = 0; k < (size_t)T * d; k++) Y[k] += alpha * A[k];
    n_layer_norm(Y, T, d, lng, lnb);
    n_mha(Y, yT, T, d, c->heads_d, P(params, L, nl, "d.%d.cross.w_in", l), P(params, L, nl, "d.%d.cross.b_in", l),
          P(params, L, nl, "d.%d.cross.w_out", l), P(params, L, nl, "d.%d.cross.b_out", l), c->context, 0,
          c->alibi, A);
    alpha = *P(params, L, nl, "d.%d.cross_alpha", l);
    for (size_t k = 0; k < (size_t)T * d; k++) Y[k] += alpha * A[k];
    n_layer_norm(Y, T, d, lng, lnb);
    n_ff(Y, T, d, c->ff_mult, params, L, nl, "d.%d.ff", l);
  }
  n_linear(Y, T, d, P(params, L, nl, "out.w", 0), P(params, L, nl, "out.b", 0), c->n_classes, logits);
  free(xn), free(yF), free(X), free(yT), free(Y), free(A), free(U), free(UA);
}

/* ------------------------------------------------------------ comparisons */

static double worst_stream = 0, worst_naive = 0; /* relative to max(1, max |logit|) */

static void check_naive(const student_config *c, const float *params, int T, unsigned long long seed,
                        const char *what) {
  float *x = random_input(c, T, seed);
  float *z = malloc(sizeof(float) * T * c->n_classes);
  double *ref = malloc(sizeof(double) * T * c->n_classes);
  chordlet_error err = {0};
  chordlet_status st = student_forward(c, params, x, T, z, &err);
  CHECK(st == CHORDLET_OK, "%s: student_forward: %s", what, err.message);
  naive_forward(c, params, x, T, ref);
  double diff = 0, big = 0;
  for (size_t k = 0; k < (size_t)T * c->n_classes; k++) {
    double dk = fabs(z[k] - ref[k]);
    if (!(dk <= diff)) diff = dk;
    if (fabs(ref[k]) > big) big = fabs(ref[k]);
  }
  const double scale = big > 1 ? big : 1;
  CHECK(diff <= 1e-4 * scale, "%s: student_forward differs from the naive reference by %g (max |logit| %g)", what,
        diff, big);
  if (diff / scale > worst_naive) worst_naive = diff / scale;
  printf("forward vs naive double reference, %-34s T %4d: max |diff| %.2e (max |logit| %.2f)\n", what, T, diff,
         big);
  free(x), free(z), free(ref);
}

/* Pushes x (T frames) into s, then flushes; writes the logits in order to z
 * and checks when each call returns a frame. Returns the frames returned. */
static int run_stream(student_stream *s, const student_config *c, const float *x, int T, float *z,
                      const char *what) {
  const int la = c->lookahead, K = c->n_classes;
  int got = 0, order_ok = 1;
  for (int n = 0; n < T; n++) {
    int r = student_stream_push(s, x + (size_t)n * c->n_bins, z + (size_t)got * K);
    if (r != (n >= la)) order_ok = 0;
    got += r;
  }
  while (got < T + 1 && student_stream_flush(s, z + (size_t)got * K)) got++;
  CHECK(order_ok, "%s: push returned a frame at the wrong time", what);
  CHECK(got == T, "%s: %d frames out of %d pushed", what, got, T);
  CHECK(student_stream_flush(s, z) == 0, "%s: flush after the end returned a frame", what);
  return got;
}

static void compare_stream(const float *z, const float *ref, size_t n, const char *what, int T) {
  double diff = max_abs_diff(z, ref, n), big = max_abs(ref, n), scale = big > 1 ? big : 1;
  CHECK(diff <= 1e-5 * scale, "%s, T %d: stream differs from student_forward by %g (max |logit| %g)", what, T, diff,
        big);
  if (diff / scale > worst_stream) worst_stream = diff / scale;
  printf("stream vs student_forward, %-44s T %4d: max |diff| %.2e (max |logit| %.2f)\n", what, T, diff, big);
}

static void check_stream(const student_config *c, const float *params, int T, unsigned long long seed,
                         const char *what) {
  const size_t K = (size_t)c->n_classes;
  float *x = random_input(c, T, seed);
  float *ref = malloc(sizeof(float) * T * K), *z = malloc(sizeof(float) * (T + 1) * K);
  chordlet_error err = {0};
  CHECK(student_forward(c, params, x, T, ref, &err) == CHORDLET_OK, "%s: student_forward: %s", what, err.message);
  student_stream *s = NULL;
  CHECK(student_stream_create(c, params, &s, &err) == CHORDLET_OK, "%s: stream: %s", what, err.message);
  if (s) {
    CHECK(student_stream_lookahead(s) == c->lookahead, "%s: lookahead %d", what, student_stream_lookahead(s));
    if (run_stream(s, c, x, T, z, what) == T) compare_stream(z, ref, (size_t)T * K, what, T);
    student_stream_free(s);
  }
  free(x), free(ref), free(z);
}

/* A sequence pushed part way (some frames still pending), a reset, then a
 * second sequence: equal to a fresh forward pass over the second. */
static void check_reset(const student_config *c, const float *params, const char *what) {
  const int T1 = 23, T2 = 37;
  const size_t K = (size_t)c->n_classes;
  float *x1 = random_input(c, T1, 5), *x2 = random_input(c, T2, 6);
  float *ref = malloc(sizeof(float) * T2 * K), *z = malloc(sizeof(float) * (T2 + 1) * K);
  chordlet_error err = {0};
  CHECK(student_forward(c, params, x2, T2, ref, &err) == CHORDLET_OK, "%s", err.message);
  student_stream *s = NULL;
  CHECK(student_stream_create(c, params, &s, &err) == CHORDLET_OK, "%s", err.message);
  if (s) {
    for (int n = 0; n < T1; n++) student_stream_push(s, x1 + (size_t)n * c->n_bins, z);
    student_stream_reset(s);
    if (run_stream(s, c, x2, T2, z, what) == T2) compare_stream(z, ref, (size_t)T2 * K, what, T2);
    /* and once more after a complete sequence and its flush */
    student_stream_reset(s);
    if (run_stream(s, c, x2, T2, z, what) == T2) compare_stream(z, ref, (size_t)T2 * K, what, T2);
    student_stream_free(s);
  }
  free(x1), free(x2), free(ref), free(z);
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The default config, T frames: push/flush/reset counted by the interposer
 * (0 allowed), timed, and compared with student_forward. */
static void check_default_rt(const float *params, int T) {
  student_config c = student_config_default();
  const size_t K = (size_t)c.n_classes;
  float *x = random_input(&c, T, 77);
  float *ref = malloc(sizeof(float) * T * K), *z = malloc(sizeof(float) * (T + 1) * K);
  chordlet_error err = {0};
  CHECK(student_forward(&c, params, x, T, ref, &err) == CHORDLET_OK, "%s", err.message);
  student_stream *s = NULL;
  CHECK(student_stream_create(&c, params, &s, &err) == CHORDLET_OK, "%s", err.message);
  if (!s) return;
  long calls = 0;
  int got = 0, n_times = 0;
  double *times = malloc(sizeof(double) * 2 * T); /* pushes with a full context */
  for (int pass = 0; pass < 2; pass++) { /* the second pass after a reset */
    got = 0;
    count_on();
    student_stream_reset(s);
    calls += count_off();
    for (int n = 0; n < T; n++) {
      double t0 = now();
      count_on();
      got += student_stream_push(s, x + (size_t)n * c.n_bins, z + (size_t)got * K);
      calls += count_off();
      double dt = now() - t0;
      if (n >= c.context) times[n_times++] = dt;
    }
    for (;;) {
      count_on();
      int r = student_stream_flush(s, z + (size_t)got * K);
      calls += count_off();
      if (!r) break;
      got++;
    }
  }
  student_stream_free(s);
#if !UNDER_ASAN
  CHECK(calls == 0, "the stream made %ld allocator or lock calls in push/flush/reset", calls);
  printf("default config: %ld allocations/frees/locks in %d pushes, their flushes and resets\n", calls, 2 * T);
#else
  (void)calls;
#endif
  CHECK(got == T, "%d frames out of %d", got, T);
  if (got == T) compare_stream(z, ref, (size_t)T * K, "default config (lookahead 1, context 128)", T);
  if (n_times > 0) {
    qsort(times, (size_t)n_times, sizeof *times, compare_double);
    printf("default config, %d pushes with a full context: median %.1f us, fastest %.1f us, slowest %.1f us "
           "(this build, this machine's load; not a check)\n",
           n_times, 1e6 * times[n_times / 2], 1e6 * times[0], 1e6 * times[n_times - 1]);
  }
  free(times), free(x), free(ref), free(z);
}

/* ------------------------------------------------------------ model file */

static void add_meta(model_writer *w, const student_config *c) {
  const int32_t layers[3] = {c->layers_f, c->layers_t, c->layers_d};
  const int32_t heads[3] = {c->heads_f, c->heads_t, c->heads_d};
  model_writer_set_str(w, MK_ARCHITECTURE, ARCH_STUDENT_2E1D, NULL);
  model_writer_set_i64(w, MK_STUDENT_N_BINS, c->n_bins, NULL);
  model_writer_set_i64(w, MK_STUDENT_N_CLASSES, c->n_classes, NULL);
  model_writer_set_i64(w, MK_STUDENT_N_GROUPS, c->n_groups, NULL);
  model_writer_set_i32_array(w, MK_STUDENT_LAYERS, layers, 3, NULL);
  model_writer_set_i32_array(w, MK_STUDENT_HEADS, heads, 3, NULL);
  model_writer_set_i64(w, MK_STUDENT_FF_MULT, c->ff_mult, NULL);
  model_writer_set_i64(w, MK_STUDENT_CONTEXT, c->context, NULL);
  model_writer_set_i64(w, MK_STUDENT_LOOKAHEAD, c->lookahead, NULL);
  model_writer_set_i64(w, MK_STUDENT_ALIBI, c->alibi, NULL);
  model_writer_set_f64(w, MK_STUDENT_POS_SCALE_F, c->pos_scale_f, NULL);
  model_writer_set_f64(w, MK_STUDENT_DROPOUT, c->dropout, NULL);
  model_writer_set_f64(w, MK_STUDENT_NORM_MEAN, c->norm_mean, NULL);
  model_writer_set_f64(w, MK_STUDENT_NORM_STD, c->norm_std, NULL);
}

static model_file *parse_writer(model_writer *w, const char *name) {
  uint8_t *bytes = NULL;
  size_t n = 0;
  model_file *m = NULL;
  chordlet_error err = {0};
  CHECK(model_writer_serialize(w, &bytes, &n, &err) == CHORDLET_OK, "serialise: %s", err.message);
  if (bytes) CHECK(model_file_parse(bytes, n, name, &m, &err) == CHORDLET_OK, "parse: %s", err.message);
  free(bytes);
  return m;
}

/* A hand-made file of c's tensors, except `bad` (of another shape with the
 * same number of floats: a matrix flattened, a vector made a (1, n) matrix;
 * or left out when drop). read_params must refuse it, naming the tensor. */
static void check_bad_file(const student_config *c, const float *params, const char *bad, int drop) {
  student_param L[STUDENT_MAX_PARAMS];
  size_t n_floats = 0;
  const int n = student_layout(c, L, &n_floats);
  model_writer *w = model_writer_create();
  add_meta(w, c);
  int found = 0;
  for (int i = 0; i < n; i++) {
    int64_t dims[2] = {L[i].dims[0], L[i].dims[1]};
    int ndim = L[i].ndim;
    if (!strcmp(L[i].name, bad)) {
      found = 1;
      if (drop) continue;
      if (ndim == 2)
        ndim = 1, dims[0] = (int64_t)L[i].size;
      else
        ndim = 2, dims[0] = 1, dims[1] = (int64_t)L[i].size;
    }
    model_writer_add_tensor(w, L[i].name, ndim, dims, params + L[i].offset, NULL);
  }
  CHECK(found, "no tensor %s in the layout", bad);
  model_file *m = parse_writer(w, "bad.chordlet");
  model_writer_free(w);
  if (!m) return;
  student_config c2;
  chordlet_error err = {0};
  CHECK(student_config_read(m, &c2, &err) == CHORDLET_OK, "config of the bad file: %s", err.message);
  float *p2 = malloc(n_floats * sizeof *p2);
  err.message[0] = 0;
  chordlet_status st = student_read_params(m, &c2, p2, &err);
  CHECK(st != CHORDLET_OK, "a file with %s %s was accepted", bad, drop ? "missing" : "of another shape");
  CHECK(strstr(err.message, bad) != NULL, "the message does not name %s: %s", bad, err.message);
  printf("%s %s: \"%s\"\n", bad, drop ? "missing" : "of another shape", err.message);
  free(p2);
  model_file_free(m);
}

static void check_model_file(const student_config *c, const float *params) {
  student_param L[STUDENT_MAX_PARAMS];
  size_t n_floats = 0;
  student_layout(c, L, &n_floats);
  model_writer *w = model_writer_create();
  chordlet_error err = {0};
  CHECK(student_write(w, c, params, &err) == CHORDLET_OK, "student_write: %s", err.message);
  model_file *m = parse_writer(w, "student.chordlet");
  model_writer_free(w);
  if (!m) return;
  student_config c2;
  CHECK(student_config_read(m, &c2, &err) == CHORDLET_OK, "student_config_read: %s", err.message);
  CHECK(c2.n_bins == c->n_bins && c2.n_classes == c->n_classes && c2.n_groups == c->n_groups &&
            c2.layers_f == c->layers_f && c2.layers_t == c->layers_t && c2.layers_d == c->layers_d &&
            c2.heads_f == c->heads_f && c2.heads_t == c->heads_t && c2.heads_d == c->heads_d &&
            c2.ff_mult == c->ff_mult && c2.context == c->context && c2.lookahead == c->lookahead &&
            c2.alibi == c->alibi && c2.pos_scale_f == c->pos_scale_f && c2.dropout == c->dropout &&
            c2.norm_mean == c->norm_mean && c2.norm_std == c->norm_std,
        "the config read back differs");
  float *p2 = malloc(n_floats * sizeof *p2);
  CHECK(student_read_params(m, &c2, p2, &err) == CHORDLET_OK, "student_read_params: %s", err.message);
  CHECK(memcmp(p2, params, n_floats * sizeof *p2) == 0, "the parameters read back are not bit-identical");
  free(p2);
  model_file_free(m);
  /* a file whose config is refused says which file and why */
  student_config bad = *c;
  bad.heads_t = 7;
  w = model_writer_create();
  add_meta(w, &bad);
  m = parse_writer(w, "badheads.chordlet");
  model_writer_free(w);
  if (m) {
    err.message[0] = 0;
    CHECK(student_config_read(m, &c2, &err) != CHORDLET_OK, "temporal heads 7 were accepted");
    CHECK(strstr(err.message, "badheads.chordlet: student: temporal encoder heads 7") == err.message,
          "the message does not say the file and the field once: %s", err.message);
    printf("a file with temporal heads 7: \"%s\"\n", err.message);
    model_file_free(m);
  }
  check_bad_file(c, params, "t.1.ff.w1", 0);
  check_bad_file(c, params, "d.0.cross.b_out", 1);
  check_bad_file(c, params, "out.b", 0);
}

/* ------------------------------------------------------------ main */

static void check_layout(void) {
  student_config c = student_config_default();
  student_param L[STUDENT_MAX_PARAMS];
  size_t n_floats = 0, total = 0;
  int n = student_layout(&c, L, &n_floats), aligned = 1;
  for (int i = 0; i < n; i++) {
    total += L[i].size;
    if (L[i].offset % 16) aligned = 0;
  }
  CHECK(n == 167, "the default layout has %d tensors, not 167", n);
  CHECK(total == 2269561, "the default layout has %zu parameters, not 2,269,561", total);
  CHECK(aligned, "a tensor is not on a 16-float boundary");
  CHECK(n_floats >= total && n_floats < total + 16 * (size_t)n, "n_floats %zu for %zu parameters", n_floats,
        total);
  printf("default layout: %d tensors, %zu parameters, %zu floats with padding\n", n, total, n_floats);
}

static void check_config_refused(student_config c, const char *word, const char *what) {
  chordlet_error err = {0};
  chordlet_status st = student_config_check(&c, &err);
  CHECK(st != CHORDLET_OK, "%s was accepted", what);
  CHECK(strstr(err.message, word) != NULL, "%s: the message does not say \"%s\": %s", what, word, err.message);
  /* and the passes refuse it too */
  float dummy[16] = {0}, out[16];
  err.message[0] = 0;
  CHECK(student_forward(&c, dummy, dummy, 1, out, &err) != CHORDLET_OK, "%s: student_forward ran", what);
  student_stream *s = NULL;
  CHECK(student_stream_create(&c, dummy, &s, &err) != CHORDLET_OK && s == NULL, "%s: a stream was created", what);
}

static void check_configs(void) {
  student_config c = student_config_default();
  chordlet_error err = {0};
  CHECK(student_config_check(&c, &err) == CHORDLET_OK, "the default config is refused: %s", err.message);
  c = student_config_default(), c.heads_t = 5;
  check_config_refused(c, "heads", "temporal heads 5 (width 144)");
  c = student_config_default(), c.heads_f = 5;
  check_config_refused(c, "heads", "frequency heads 5 (width 72)");
  c = student_config_default(), c.dropout = 1.0f;
  check_config_refused(c, "dropout", "dropout 1.0");
  c = student_config_default(), c.n_groups = 5;
  check_config_refused(c, "n_groups", "n_groups 5 (144 bins)");
  c = student_config_default(), c.context = 0;
  check_config_refused(c, "context", "context 0");
  c = student_config_default(), c.lookahead = -1;
  check_config_refused(c, "lookahead", "lookahead -1");
  c = student_config_default(), c.layers_t = 0;
  check_config_refused(c, "layers", "no temporal layers");
  c = student_config_default(), c.layers_d = STUDENT_MAX_LAYERS + 1;
  check_config_refused(c, "layers", "9 decoder layers");

  /* bad arguments */
  c = small_config(1, 1);
  float *params = random_params(&c, 1, NULL);
  float x[24] = {0}, z[16];
  err.message[0] = 0;
  CHECK(student_forward(&c, params, x, 0, z, &err) == CHORDLET_ERR_INVALID_ARGUMENT && err.message[0],
        "T = 0 was accepted");
  CHECK(student_forward(&c, params, NULL, 1, z, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "x NULL was accepted");
  CHECK(student_forward(&c, params, x, 1, NULL, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "logits NULL was accepted");
  CHECK(student_forward(&c, NULL, x, 1, z, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "params NULL was accepted");
  CHECK(student_forward(NULL, params, x, 1, z, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "config NULL was accepted");
  student_stream *s = NULL;
  CHECK(student_stream_create(&c, NULL, &s, &err) == CHORDLET_ERR_INVALID_ARGUMENT && !s,
        "a stream without parameters was created");
  CHECK(student_stream_create(&c, params, NULL, &err) == CHORDLET_ERR_INVALID_ARGUMENT,
        "a stream without an out pointer was created");
  student_stream_free(NULL);
  free(params);
}

int main(void) {
#if !UNDER_ASAN
  CHECK(interposer_self_check(), "interposer: %ld allocations, %ld frees, %ld locks seen", n_alloc, n_free,
        n_lock);
#else
  printf("AddressSanitizer build: allocation counting is left out here (ASan owns malloc); it runs in the "
         "normal gcc and clang builds.\n");
#endif

  check_layout();
  check_configs();

  /* The naive reference against student_forward. */
  for (int la = 0; la <= 3; la++) {
    if (la == 2) continue;
    student_config c = small_config(la, 1);
    float *params = random_params(&c, 10 + la, NULL);
    char what[64];
    snprintf(what, sizeof what, "small, lookahead %d", la);
    check_naive(&c, params, 40, 100 + la, what);
    check_naive(&c, params, 3, 200 + la, what);
    free(params);
  }
  {
    student_config c = small_config(2, 0);
    float *params = random_params(&c, 20, NULL);
    check_naive(&c, params, 40, 300, "small, lookahead 2, no ALiBi");
    free(params);
    c = odd_config();
    params = random_params(&c, 21, NULL);
    check_naive(&c, params, 17, 301, "no freq. layers, G 3, context 1");
    free(params);
    c = student_config_default();
    c.lookahead = 3;
    params = random_params(&c, 22, NULL);
    check_naive(&c, params, UNDER_ASAN ? 140 : 150, 302, "default, lookahead 3");
    free(params);
  }

  /* The stream against student_forward. */
  for (int la = 0; la <= 3; la++) {
    for (int alibi = 0; alibi <= 1; alibi++) {
      student_config c = small_config(la, alibi);
      float *params = random_params(&c, 30 + la, NULL);
      char what[64];
      snprintf(what, sizeof what, "small, lookahead %d%s", la, alibi ? "" : ", no ALiBi");
      static const int Ts[] = {40, 1, 2, 3, 4, 5, 6, 7};
      for (size_t k = 0; k < sizeof Ts / sizeof Ts[0]; k++) check_stream(&c, params, Ts[k], 400 + k, what);
      if (alibi) check_reset(&c, params, "after a reset");
      free(params);
    }
  }
  {
    student_config c = odd_config();
    float *params = random_params(&c, 40, NULL);
    check_stream(&c, params, 25, 500, "no freq. layers, G 3, context 1, la 2");
    check_stream(&c, params, 1, 501, "no freq. layers, G 3, context 1, la 2");
    free(params);
    c = student_config_default();
    c.lookahead = 0;
    params = random_params(&c, 41, NULL);
    check_stream(&c, params, 140, 502, "default, lookahead 0");
    free(params);
    c = student_config_default();
    c.lookahead = 5;
    c.alibi = 0;
    params = random_params(&c, 42, NULL);
    check_stream(&c, params, 3, 503, "default, lookahead 5, no ALiBi");
    check_stream(&c, params, 140, 504, "default, lookahead 5, no ALiBi");
    free(params);
  }
  {
    student_config c = student_config_default();
    float *params = random_params(&c, 50, NULL);
    check_default_rt(params, UNDER_ASAN ? 160 : 300);
    check_model_file(&c, params);
    free(params);
    c = odd_config();
    params = random_params(&c, 51, NULL);
    check_model_file(&c, params);
    free(params);
  }

  printf("worst relative differences: stream vs forward %.2e, forward vs naive %.2e\n", worst_stream, worst_naive);
  return check_summary("test_student");
}
