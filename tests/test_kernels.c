/* test_kernels.c: every fast kernel of kernels.h equals its plain reference on
 * random inputs of odd sizes (vector tails, partial Winograd tiles, a single
 * frame), on the CPU's vector path and again on the generic one
 * (CHORDLET_SIMD=generic). Scratch and outputs start as NaN, so a kernel that
 * reads scratch it never wrote, or skips an output, fails. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "kernels.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* Uniform in [lo, hi) (xorshift64*). */
static float urand(float lo, float hi) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  uint64_t r = rng_state * 2685821657736338717ull;
  return lo + (hi - lo) * (float)((double)(r >> 11) / 9007199254740992.0);
}

static float *fill_random(size_t n, float lo, float hi) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  if (!p) exit(1);
  for (size_t i = 0; i < n; i++) p[i] = urand(lo, hi);
  return p;
}

static float *nan_buffer(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  if (!p) exit(1);
  for (size_t i = 0; i < n; i++) p[i] = NAN;
  return p;
}

static const char *path;  /* "avx2" or "generic" */
static double worst[16];   /* largest error seen per kind, for the summary */
static const char *worst_name[16];

static void note(int kind, const char *name, double err) {
  worst_name[kind] = name;
  if (err > worst[kind]) worst[kind] = err;
}

/* ---- convolutions ----------------------------------------------------------------------- */

typedef struct conv_case {
  int c_in, c_out;
  size_t T;
  int f_in, pad_f, extra_ld;
} conv_case;

static const conv_case conv_cases[] = {
    {3, 5, 7, 11, 1, 2}, {1, 4, 1, 9, 1, 0},    {6, 3, 2, 7, 0, 1},  {5, 7, 13, 23, 1, 0},
    {2, 3, 5, 3, 0, 0},  {16, 17, 37, 61, 1, 3}, {4, 6, 3, 4, 1, 0}, {9, 8, 11, 18, 0, 0},
    {7, 5, 21, 35, 1, 0},
};

/* The input the reference sees when the kernel normalises on the fly: the same
 * float affine map, then the reference SELU. */
static void normalise_like_ref(float *x, const conv3x3_shape *s, const channel_norm *norm) {
  for (int i = 0; i < s->c_in; i++)
    for (size_t t = 0; t < s->T; t++) {
      float *row = x + ((size_t)i * s->T + t) * s->ldx;
      for (int f = 0; f < s->f_in; f++) row[f] = (row[f] - norm->mean[i]) * norm->mul[i] + norm->add[i];
      selu_ref(row, (size_t)s->f_in);
    }
}

static void check_conv_case(const conv_case *cc, int with_norm) {
  conv3x3_shape s = {cc->c_in, cc->c_out, cc->T, cc->f_in, cc->pad_f, (size_t)(cc->f_in + cc->extra_ld)};
  const int fo = conv3x3_f_out(&s);
  const size_t nx = (size_t)s.c_in * s.T * s.ldx, ny = (size_t)s.c_out * s.T * (size_t)fo;
  float *x = fill_random(nx, -2.0f, 3.0f);
  float *w = fill_random((size_t)s.c_out * s.c_in * 9, -0.5f, 0.5f);
  float *b = fill_random((size_t)s.c_out, -1.0f, 4.0f);
  float *mean = fill_random((size_t)s.c_in, -0.5f, 0.5f), *mul = fill_random((size_t)s.c_in, 0.5f, 2.0f);
  float *add = fill_random((size_t)s.c_in, -0.3f, 0.3f);
  mul[0] = -mul[0]; /* a negative scale too */
  channel_norm norm = {mean, mul, add};

  float *x_ref = malloc(nx * sizeof *x_ref), *ref = nan_buffer(ny), *y = nan_buffer(ny);
  if (!x_ref) exit(1);
  memcpy(x_ref, x, nx * sizeof *x);
  if (with_norm) normalise_like_ref(x_ref, &s, &norm);
  conv3x3_ref(&s, x_ref, w, b, ref);
  const double scale = max_abs(ref, ny) + 1e-30;
  /* the statistics the fast kernels return: sums of y - b and its square */
  double want_sum[32] = {0}, want_sq[32] = {0};
  for (int o = 0; o < s.c_out; o++)
    for (size_t k = 0; k < s.T * (size_t)fo; k++) {
      double d = (double)ref[(size_t)o * s.T * fo + k] - b[o];
      want_sum[o] += d;
      want_sq[o] += d * d;
    }

  const int tiles[5][2] = {{0, 0}, {2, 2}, {2, 4}, {4, 2}, {4, 4}};
  /* Winograd rounding grows with the tile (kernels.h); relative to max |y| */
  const double tol[5] = {1e-6, 2e-6, 5e-6, 5e-6, 3e-5};
  for (int v = 0; v < 5; v++) {
    if (v == 0 && with_norm) continue; /* im2col takes its input as it is */
    size_t nscratch = v ? conv3x3_winograd_scratch_floats(&s, tiles[v][0], tiles[v][1])
                        : conv3x3_im2col_scratch_floats(&s);
    float *scratch = nan_buffer(nscratch);
    double sum[32], sumsq[32];
    for (size_t i = 0; i < ny; i++) y[i] = NAN;
    if (v)
      conv3x3_winograd(&s, tiles[v][0], tiles[v][1], x, with_norm ? &norm : NULL, w, b, y, sum,
                       sumsq, scratch);
    else
      conv3x3_im2col(&s, x, w, b, y, sum, sumsq, scratch);
    double err = max_abs_diff(y, ref, ny) / scale;
    CHECK(err <= tol[v], "[%s] conv %s %dx%d (ci %d co %d T %zu f %d pad %d%s): rel err %g", path,
          v ? "winograd" : "im2col", tiles[v][0], tiles[v][1], s.c_in, s.c_out, s.T, s.f_in, s.pad_f,
          with_norm ? ", normalised input" : "", err);
    static const char *const names[5] = {"conv im2col (rel)", "conv winograd 2x2 (rel)",
                                         "conv winograd 2x4 (rel)", "conv winograd 4x2 (rel)",
                                         "conv winograd 4x4 (rel)"};
    note(v, names[v], err);
    double n = (double)s.T * fo;
    for (int o = 0; o < s.c_out; o++) {
      double es = fabs(sum[o] - want_sum[o]) / (n * scale);
      double eq = fabs(sumsq[o] - want_sq[o]) / (n * scale * scale);
      CHECK(es <= tol[v] && eq <= 4 * tol[v], "[%s] conv statistics, channel %d: %g %g", path, o, es, eq);
    }
    /* without statistics too */
    for (size_t i = 0; i < ny; i++) y[i] = NAN;
    if (v)
      conv3x3_winograd(&s, tiles[v][0], tiles[v][1], x, with_norm ? &norm : NULL, w, b, y, NULL,
                       NULL, scratch);
    else
      conv3x3_im2col(&s, x, w, b, y, NULL, NULL, scratch);
    CHECK(max_abs_diff(y, ref, ny) / scale <= tol[v], "[%s] conv without statistics", path);
    free(scratch);
  }
  free(x), free(w), free(b), free(mean), free(mul), free(add), free(x_ref), free(ref), free(y);
}

/* ---- normalisation, SELU, pooling -------------------------------------------------------- */

static void check_norm(void) {
  enum { C = 3 };
  const size_t T = 7;
  const int F = 111; /* pools of 3 give 37 bins: vector groups and a tail */
  const size_t n = T * F;
  float *y = fill_random(C * n, -1.0f, 1.0f);
  for (size_t i = 0; i < n; i++) y[i] = 1000.0f + 0.3f * y[i]; /* a large mean: cancellation */
  float scale[C] = {1.0f, -0.7f, 2.0f}, bias[C] = {0.0f, 0.3f, -0.2f};
  float shift[C] = {1000.0f, 0.0f, -0.25f};

  float *ref = malloc(C * n * sizeof *ref), *fast = malloc(C * n * sizeof *fast);
  if (!ref || !fast) exit(1);
  memcpy(ref, y, C * n * sizeof *y);
  memcpy(fast, y, C * n * sizeof *y);
  instance_norm_ref(ref, C, n, scale, bias, KERNEL_IN_EPS);
  selu_ref(ref, C * n);

  double sum[C], sumsq[C];
  float mean[C], mul[C], add[C];
  channel_sums(fast, C, n, shift, sum, sumsq);
  instance_norm_coeffs(C, n, shift, sum, sumsq, scale, bias, KERNEL_IN_EPS, mean, mul, add);
  norm_selu(fast, C, n, mean, mul, add);
  /* channel 0 has values near 1000 with a spread of 0.3: float rounding of y
   * itself is 6e-5, i.e. 2e-4 after normalisation */
  double err = max_abs_diff(fast, ref, C * n);
  CHECK(err <= 3e-4, "[%s] channel_sums + norm_selu vs instance_norm_ref + selu_ref: %g", path, err);
  double err12 = max_abs_diff(fast + n, ref + n, 2 * n);
  CHECK(err12 <= 2e-6, "[%s] norm_selu on ordinary channels: %g", path, err12);
  note(5, "norm_selu (abs)", err12);

  for (int k = 2; k <= 4; k++) {
    const int Fk = 37 * k, fo = 37;
    const size_t nk = T * (size_t)Fk;
    float *x = fill_random(C * nk, -3.0f, 3.0f);
    float *xr = malloc(C * nk * sizeof *xr), *pref = nan_buffer(C * T * fo), *pfast = nan_buffer(C * T * fo);
    if (!xr) exit(1);
    memcpy(xr, x, C * nk * sizeof *x);
    instance_norm_ref(xr, C, nk, scale, bias, KERNEL_IN_EPS);
    selu_ref(xr, C * nk);
    maxpool_freq_ref(xr, C, T, Fk, k, pref);
    channel_sums(x, C, nk, NULL, sum, sumsq);
    instance_norm_coeffs(C, nk, NULL, sum, sumsq, scale, bias, KERNEL_IN_EPS, mean, mul, add);
    norm_selu_maxpool(x, C, T, Fk, k, mean, mul, add, pfast);
    double e = max_abs_diff(pfast, pref, C * T * fo);
    CHECK(e <= 2e-6, "[%s] norm_selu_maxpool k=%d (with a negative scale): %g", path, k, e);
    note(6, "norm_selu_maxpool (abs)", e);
    /* plain pooling is exact */
    float *praw = nan_buffer(C * T * fo), *praw_ref = nan_buffer(C * T * fo);
    maxpool_freq(x, C, T, Fk, k, praw);
    maxpool_freq_ref(x, C, T, Fk, k, praw_ref);
    CHECK(max_abs_diff(praw, praw_ref, C * T * fo) == 0, "[%s] maxpool_freq k=%d", path, k);
    free(x), free(xr), free(pref), free(pfast), free(praw), free(praw_ref);
  }

  /* SELU and exp alone */
  const size_t m = 1003;
  float *v = fill_random(m, -12.0f, 6.0f), *vr = malloc(m * sizeof *vr);
  if (!vr) exit(1);
  memcpy(vr, v, m * sizeof *v);
  selu(v, m);
  selu_ref(vr, m);
  double es = 0;
  for (size_t i = 0; i < m; i++) {
    double e = fabs((double)v[i] - vr[i]) / (1.0 + fabs(vr[i]));
    if (!(e <= es)) es = e;
  }
  CHECK(es <= 3e-7, "[%s] selu: %g", path, es);
  note(7, "selu (rel)", es);
  float *ex = malloc(m * sizeof *ex), *ey = nan_buffer(m);
  if (!ex) exit(1);
  for (size_t i = 0; i < m; i++) ex[i] = -87.0f + 175.0f * (float)i / (float)(m - 1);
  exp_array(ex, ey, m);
  double ee = 0;
  for (size_t i = 0; i < m; i++) {
    double want = exp((double)ex[i]), e = fabs(ey[i] - want) / want;
    if (!(e <= ee)) ee = e;
  }
  CHECK(ee <= 3e-7, "[%s] exp_array relative error %g", path, ee);
  note(8, "exp_array (rel)", ee);
  free(y), free(ref), free(fast), free(v), free(vr), free(ex), free(ey);
}

/* ---- LSTM, linear, softmax ------------------------------------------------------------------ */

static void check_lstm(size_t T, int n_in, int H) {
  const size_t ldi = (size_t)n_in + 3, ldo = (size_t)H + 5;
  float *in = fill_random(T * ldi, -1.0f, 1.0f);
  float *W = fill_random((size_t)4 * H * n_in, -0.4f, 0.4f), *R = fill_random((size_t)4 * H * H, -0.4f, 0.4f);
  float *Wb = fill_random((size_t)4 * H, -0.5f, 0.5f), *Rb = fill_random((size_t)4 * H, -0.5f, 0.5f);
  for (int reverse = 0; reverse < 2; reverse++) {
    float *out = nan_buffer(T * ldo), *ref = nan_buffer(T * ldo);
    float *scratch = nan_buffer(lstm_direction_scratch_floats(T, H));
    lstm_direction(in, ldi, T, n_in, H, W, R, Wb, Rb, reverse, out, ldo, scratch);
    lstm_direction_ref(in, ldi, T, n_in, H, W, R, Wb, Rb, reverse, ref, ldo, scratch);
    double e = 0;
    for (size_t t = 0; t < T; t++) {
      double d = max_abs_diff(out + t * ldo, ref + t * ldo, (size_t)H);
      if (!(d <= e)) e = d;
    }
    CHECK(e <= 2e-6, "[%s] lstm T %zu n_in %d H %d reverse %d: %g", path, T, n_in, H, reverse, e);
    note(9, "lstm_direction (abs)", e);
    free(out), free(ref), free(scratch);
  }
  free(in), free(W), free(R), free(Wb), free(Rb);
}

static void check_linear_softmax(void) {
  const size_t T = 5;
  const int n_in = 11, n_out = 23;
  float *x = fill_random(T * n_in, -1.0f, 1.0f), *w = fill_random((size_t)n_out * n_in, -1.0f, 1.0f);
  float *b = fill_random((size_t)n_out, -1.0f, 1.0f);
  float *y = nan_buffer(T * n_out), *ref = nan_buffer(T * n_out);
  linear(x, T, n_in, w, b, n_out, y);
  linear_ref(x, T, n_in, w, b, n_out, ref);
  double e = max_abs_diff(y, ref, T * n_out);
  CHECK(e <= 2e-6, "[%s] linear: %g", path, e);
  note(10, "linear (abs)", e);

  const int heads[5] = {5, 1, 9, 3, 5}; /* sums to 23 */
  for (size_t i = 0; i < T * n_out; i++) ref[i] = y[i] = 8.0f * y[i];
  softmax_heads(y, T, n_out, heads, 5);
  softmax_heads_ref(ref, T, n_out, heads, 5);
  e = max_abs_diff(y, ref, T * n_out);
  CHECK(e <= 5e-7, "[%s] softmax_heads: %g", path, e);
  note(11, "softmax_heads (abs)", e);
  free(x), free(w), free(b), free(y), free(ref);
}

static void run_all(void) {
  path = kernels_simd_path();
  printf("vector path: %s\n", path);
  for (size_t c = 0; c < sizeof conv_cases / sizeof conv_cases[0]; c++) {
    check_conv_case(&conv_cases[c], 0);
    check_conv_case(&conv_cases[c], 1);
  }
  check_norm();
  check_lstm(9, 13, 7);
  check_lstm(1, 5, 3);
  check_lstm(12, 24, 16);
  check_linear_softmax();
}

int main(void) {
  run_all();
  const char *first = path;
  setenv("CHORDLET_SIMD", "generic", 1);
  if (strcmp(first, "generic") != 0) run_all();
  CHECK(strcmp(kernels_simd_path(), "generic") == 0, "CHORDLET_SIMD=generic is obeyed");
  unsetenv("CHORDLET_SIMD");
  for (int k = 0; k < 16; k++)
    if (worst_name[k]) printf("  %-28s max err %.3g\n", worst_name[k], worst[k]);
  return check_summary("test_kernels");
}
