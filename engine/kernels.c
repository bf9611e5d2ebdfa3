/* kernels.c: network kernels, each fast version next to its plain reference.
 *
 * The fast versions use cblas for the products and GCC/Clang vector extensions
 * for the elementwise work, which dominates once the convolutions go through
 * Winograd. The vectorised part of this file (below "PART 2") is compiled
 * twice, by including this file into itself: once with 4-float vectors for the
 * build's baseline (SSE2 on x86-64, or whatever the target has) and, on x86,
 * once more with 8-float vectors and AVX2 enabled on each of its functions.
 * The public entry points pick the variant from the CPU (SIMD_CALL). Both
 * variants do the same IEEE operations in the same order with no fused
 * multiply-adds, so they give bit-identical results.
 *
 * PART 1 holds what is not vectorised: the plain references, the BLAS glue,
 * the Winograd plan, and the dispatching entry points. */
#ifndef KERNELS_SIMD_PASS /* ================= PART 1 ================= */

#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* GCC's ISO C mode contracts nothing already */
#endif

static inline size_t round_up8(size_t n) { return (n + 7) & ~(size_t)7; }

static const float selu_lambda = (float)KERNEL_SELU_LAMBDA;
static const float selu_lambda_alpha = (float)(KERNEL_SELU_LAMBDA * KERNEL_SELU_ALPHA);

/* ---- plain references ---------------------------------------------------------- */

void selu_ref(float *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double v = y[i];
    y[i] = (float)(v > 0 ? KERNEL_SELU_LAMBDA * v : KERNEL_SELU_LAMBDA * KERNEL_SELU_ALPHA * expm1(v));
  }
}

void maxpool_freq_ref(const float *x, int C, size_t T, int F, int k, float *out) {
  const int fo = F / k;
  for (size_t row = 0; row < (size_t)C * T; row++)
    for (int f = 0; f < fo; f++) {
      float m = x[row * F + (size_t)f * k];
      for (int j = 1; j < k; j++) {
        float v = x[row * F + (size_t)f * k + j];
        if (v > m) m = v;
      }
      out[row * fo + f] = m;
    }
}

void instance_norm_ref(float *y, int C, size_t n, const float *scale, const float *bias,
                       double eps) {
  for (int c = 0; c < C; c++) {
    float *p = y + (size_t)c * n;
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) mean += p[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) var += (p[i] - mean) * (p[i] - mean);
    var /= (double)n;
    double inv = 1.0 / sqrt(var + eps);
    for (size_t i = 0; i < n; i++) p[i] = (float)((p[i] - mean) * inv * scale[c] + bias[c]);
  }
}

int conv3x3_f_out(const conv3x3_shape *s) { return s->f_in + 2 * s->pad_f - 2; }

void conv3x3_ref(const conv3x3_shape *s, const float *x, const float *w, const float *b,
                 float *y) {
  const int fo = conv3x3_f_out(s);
  const size_t T = s->T;
  for (int o = 0; o < s->c_out; o++)
    for (size_t t = 0; t < T; t++)
      for (int f = 0; f < fo; f++) {
        double acc = b[o];
        for (int i = 0; i < s->c_in; i++)
          for (int a = 0; a < 3; a++) {
            long ti = (long)t + a - 1;
            if (ti < 0 || ti >= (long)T) continue;
            for (int c = 0; c < 3; c++) {
              int fi = f + c - s->pad_f;
              if (fi < 0 || fi >= s->f_in) continue;
              acc += (double)w[((size_t)o * s->c_in + i) * 9 + a * 3 + c] *
                     x[((size_t)i * T + (size_t)ti) * s->ldx + fi];
            }
          }
        y[((size_t)o * T + t) * fo + f] = (float)acc;
      }
}

static double sigmoid_d(double v) { return 1.0 / (1.0 + exp(-v)); }

size_t lstm_direction_scratch_floats(size_t T, int H) { return T * 4 * (size_t)H + (size_t)H; }

void lstm_direction_ref(const float *in, size_t ldi, size_t T, int n_in, int H,
                        const float *W, const float *R, const float *Wb, const float *Rb,
                        int reverse, float *out, size_t ldo, float *scratch) {
  float *g = scratch;      /* (4H) pre-activations of one step */
  float *cell = g + 4 * H; /* (H) */
  for (int j = 0; j < H; j++) cell[j] = 0;
  const float *h_prev = NULL;
  for (size_t step = 0; step < T; step++) {
    size_t t = reverse ? T - 1 - step : step;
    const float *xt = in + t * ldi;
    for (int r = 0; r < 4 * H; r++) {
      double acc = (double)Wb[r] + Rb[r];
      for (int k = 0; k < n_in; k++) acc += (double)W[(size_t)r * n_in + k] * xt[k];
      if (h_prev)
        for (int k = 0; k < H; k++) acc += (double)R[(size_t)r * H + k] * h_prev[k];
      g[r] = (float)acc;
    }
    float *h = out + t * ldo;
    for (int j = 0; j < H; j++) {
      double ig = sigmoid_d(g[j]), og = sigmoid_d(g[H + j]), fg = sigmoid_d(g[2 * H + j]);
      double cc = tanh(g[3 * H + j]);
      double c = fg * cell[j] + ig * cc;
      cell[j] = (float)c;
      h[j] = (float)(og * tanh(c));
    }
    h_prev = h;
  }
}

void linear_ref(const float *x, size_t T, int n_in, const float *w, const float *b, int n_out,
                float *y) {
  for (size_t t = 0; t < T; t++)
    for (int o = 0; o < n_out; o++) {
      double acc = b[o];
      for (int k = 0; k < n_in; k++) acc += (double)w[(size_t)o * n_in + k] * x[t * n_in + k];
      y[t * n_out + o] = (float)acc;
    }
}

void softmax_heads_ref(float *z, size_t T, int width, const int *head_size, int n_heads) {
  for (size_t t = 0; t < T; t++) {
    float *row = z + t * width;
    for (int h = 0, off = 0; h < n_heads; off += head_size[h], h++) {
      double m = row[off], sum = 0;
      for (int k = 1; k < head_size[h]; k++)
        if (row[off + k] > m) m = row[off + k];
      for (int k = 0; k < head_size[h]; k++) sum += exp(row[off + k] - m);
      for (int k = 0; k < head_size[h]; k++) row[off + k] = (float)(exp(row[off + k] - m) / sum);
    }
  }
}

/* ---- the Winograd plan ------------------------------------------------------------
 * Winograd minimal filtering (Lavin & Gray 2016) F(m, 3) along each axis, with
 * m = 2 or 4 output frames (time) and m = 2 or 4 output bins (frequency) per
 * tile; n = m + 2 inputs per axis. In 1D, for the cross-correlation
 * y[j] = sum_k g[k] d[j+k]:
 *   m = 2: B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *          G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *          A^T = [1 1 1 0; 0 1 -1 -1]
 *   m = 4: B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *                 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *          G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 *                 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *          A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * and in 2D Y = A_t^T [ (G_t g G_f^T) .* (B_t^T d B_f) ] A_f for an n_t x n_f
 * input patch d. Output tile (tt, ff) covers frames m_t tt .. m_t tt + m_t - 1
 * and bins m_f ff .. m_f ff + m_f - 1; its patch starts at frame m_t tt - 1 and
 * padded column m_f ff (input bin m_f ff - pad_f). Each of the n_t n_f transform
 * points xi = k n_f + l gives a product U[xi] (c_out, c_in) x V[xi] (c_in, tiles),
 * done by cblas_sgemm over a block of tile rows small enough for V and M to
 * stay in L2.
 *
 * F(2, 3) multiplies 4 values per output and input channel in 2D instead of 9
 * and stays within float rounding of the direct sum; F(4, 3) needs 2.25 but its
 * larger transform coefficients cost about 20 times the rounding error
 * (3e-6 of the largest output instead of 2e-7).
 *
 * Input rows are stored de-interleaved by m_f (phase q holds padded columns
 * m_f j + q), so that the frequency transform of neighbouring tiles is plain
 * vector arithmetic on contiguous floats. */
#ifndef WINO_BLOCK_FLOATS
#define WINO_BLOCK_FLOATS (64 * 1024) /* V and M of one block: 256 KB */
#endif
enum { WINO_MIN_TILES = 64 }; /* smaller products waste the sgemm calls */

typedef struct wino_plan {
  int ci, co, fin, pf, fo;
  size_t T;
  int mt, mf;       /* outputs per tile along time and frequency (2 or 4) */
  int nt, nf, npts; /* inputs per tile along each axis (m + 2), transform points */
  int ntf;          /* tiles along frequency, ceil(fo / mf) */
  int ntf8;         /* ntf rounded up to 8: the vector loops run this far */
  size_t ntt;       /* tile rows along time, ceil(T / mt) */
  size_t rows;      /* tile rows per block */
  size_t ldv;       /* row stride of V and M: rows * ntf plus slack for the vector tails */
  size_t hq;        /* length of one de-interleaved phase of a row, a multiple of 8 */
  int slots;        /* frames kept per input channel (a power of 2 >= nt) */
  size_t u_off, v_off, m_off, ring_off, pad_off, d_off, ytmp_off, total;
} wino_plan;

static wino_plan wino_make_plan(const conv3x3_shape *s, int tile_t, int tile_f) {
  wino_plan p;
  p.ci = s->c_in;
  p.co = s->c_out;
  p.fin = s->f_in;
  p.pf = s->pad_f;
  p.fo = conv3x3_f_out(s);
  p.T = s->T;
  p.mt = tile_t == 4 ? 4 : 2;
  p.mf = tile_f == 4 ? 4 : 2;
  p.nt = p.mt + 2;
  p.nf = p.mf + 2;
  p.npts = p.nt * p.nf;
  p.slots = p.mt == 2 ? 4 : 8;
  p.ntf = (p.fo + p.mf - 1) / p.mf;
  p.ntf8 = (int)round_up8((size_t)p.ntf);
  p.ntt = (p.T + (size_t)p.mt - 1) / (size_t)p.mt;
  p.rows = (size_t)WINO_BLOCK_FLOATS / ((size_t)p.npts * (size_t)(p.ci + p.co)) / (size_t)p.ntf;
  size_t min_rows = (WINO_MIN_TILES + (size_t)p.ntf - 1) / (size_t)p.ntf;
  if (p.rows < min_rows) p.rows = min_rows;
  if (p.rows > p.ntt) p.rows = p.ntt;
  p.ldv = p.rows * (size_t)p.ntf + 8;
  /* A padded row (pad_f zeros, f_in values, zeros) fills mf phases of hq, and
   * the frequency transform reads phase entries up to ntf8 + 1. */
  p.hq = round_up8((size_t)(p.fin + 2 * p.pf + p.mf) / (size_t)p.mf + 1);
  if (p.hq < (size_t)p.ntf8 + 8) p.hq = (size_t)p.ntf8 + 8;
  const size_t row = (size_t)p.mf * p.hq; /* one de-interleaved frame */
  size_t off = 0;
  p.u_off = off;
  off += round_up8((size_t)p.npts * p.co * p.ci);
  p.v_off = off;
  off += (size_t)p.npts * p.ci * p.ldv;
  p.m_off = off;
  off += (size_t)p.npts * p.co * p.ldv;
  p.ring_off = off;
  off += (size_t)p.ci * (size_t)p.slots * row;
  p.pad_off = off;
  off += row + 8;
  p.d_off = off;
  off += (size_t)p.nt * row;
  p.ytmp_off = off;
  off += (size_t)(p.mt * p.mf) * (size_t)p.ntf8;
  p.total = off;
  return p;
}

size_t conv3x3_winograd_scratch_floats(const conv3x3_shape *s, int tile_t, int tile_f) {
  return wino_make_plan(s, tile_t, tile_f).total;
}

/* G of F(m, 3) applied to 3 values: n = m + 2 results. */
static void wino_g(int m, const double g[3], double *u) {
  if (m == 2) {
    u[0] = g[0];
    u[1] = 0.5 * (g[0] + g[1] + g[2]);
    u[2] = 0.5 * (g[0] - g[1] + g[2]);
    u[3] = g[2];
  } else {
    u[0] = g[0] / 4;
    u[1] = -(g[0] + g[1] + g[2]) / 6;
    u[2] = -(g[0] - g[1] + g[2]) / 6;
    u[3] = g[0] / 24 + g[1] / 12 + g[2] / 6;
    u[4] = g[0] / 24 - g[1] / 12 + g[2] / 6;
    u[5] = g[2];
  }
}

/* U[k nf + l][o][i] = (G_t g G_f^T)[k][l], in double then rounded once. */
static void wino_weights(const wino_plan *p, const float *w, float *U) {
  for (int o = 0; o < p->co; o++)
    for (int i = 0; i < p->ci; i++) {
      const float *g = w + ((size_t)o * p->ci + i) * 9; /* (3 time, 3 freq) */
      double gt[6][3];                                  /* G_t g: (nt, 3) */
      for (int c = 0; c < 3; c++) {
        double col[3] = {g[c], g[3 + c], g[6 + c]}, u[6];
        wino_g(p->mt, col, u);
        for (int k = 0; k < p->nt; k++) gt[k][c] = u[k];
      }
      for (int k = 0; k < p->nt; k++) {
        double u[6];
        wino_g(p->mf, gt[k], u);
        for (int l = 0; l < p->nf; l++)
          U[((size_t)(k * p->nf + l) * p->co + o) * p->ci + i] = (float)u[l];
      }
    }
}

/* ---- the vectorised bodies, twice ------------------------------------------------- */

#define KERNELS_SIMD_PASS 4
#include "kernels.c"
#undef KERNELS_SIMD_PASS
#if defined(__x86_64__) || defined(__i386__)
#define KERNELS_SIMD_AVX2 1
#define KERNELS_SIMD_PASS 8
#include "kernels.c"
#undef KERNELS_SIMD_PASS
#endif

/* SIMD_CALL(name, (args)) runs name_avx2 where the CPU has AVX2, else
 * name_generic; SIMD_PICK does the same with the choice made once before a
 * loop. CHORDLET_SIMD=generic in the environment forces the baseline (the
 * tests check both). */
#ifdef KERNELS_SIMD_AVX2
static int use_avx2(void) {
  const char *force = getenv("CHORDLET_SIMD");
  if (force && strcmp(force, "generic") == 0) return 0;
  return __builtin_cpu_supports("avx2");
}
#define SIMD_PICK(avx2, name, args) ((avx2) ? name##_avx2 args : name##_generic args)
#else
static int use_avx2(void) { return 0; }
#define SIMD_PICK(avx2, name, args) ((void)(avx2), name##_generic args)
#endif
#define SIMD_CALL(name, args) SIMD_PICK(use_avx2(), name, args)

const char *kernels_simd_path(void) { return use_avx2() ? "avx2" : "generic"; }

/* ---- entry points -------------------------------------------------------------------- */

void exp_array(const float *x, float *y, size_t n) { SIMD_CALL(exp_array, (x, y, n)); }

void selu(float *y, size_t n) { SIMD_CALL(selu, (y, n)); }

void maxpool_freq(const float *x, int C, size_t T, int F, int k, float *out) {
  SIMD_CALL(maxpool_freq, (x, C, T, F, k, out));
}

void channel_sums(const float *y, int C, size_t n, const float *shift, double *sum,
                  double *sumsq) {
  SIMD_CALL(channel_sums, (y, C, n, shift, sum, sumsq));
}

void instance_norm_coeffs(int C, size_t n, const float *shift, const double *sum,
                          const double *sumsq, const float *scale, const float *bias,
                          double eps, float *mean, float *mul, float *add) {
  for (int c = 0; c < C; c++) {
    double m = sum[c] / (double)n;             /* mean of y - shift */
    double var = sumsq[c] / (double)n - m * m; /* the shift keeps this from cancelling */
    if (var < 0) var = 0;
    mean[c] = (float)((shift ? shift[c] : 0.0) + m);
    mul[c] = (float)(scale[c] / sqrt(var + eps));
    add[c] = bias[c];
  }
}

void norm_selu(float *y, int C, size_t n, const float *mean, const float *mul,
               const float *add) {
  SIMD_CALL(norm_selu, (y, C, n, mean, mul, add));
}

void norm_selu_maxpool(const float *y, int C, size_t T, int F, int k, const float *mean,
                       const float *mul, const float *add, float *out) {
  SIMD_CALL(norm_selu_maxpool, (y, C, T, F, k, mean, mul, add, out));
}

/* The im2col buffer holds this many floats at most (K rows x chunk columns);
 * about 512 KB, so it stays in L2 while sgemm packs it. */
enum { IM2COL_TARGET_FLOATS = 1 << 17 };

static size_t im2col_chunk_frames(const conv3x3_shape *s) {
  size_t per_frame = (size_t)9 * s->c_in * (size_t)conv3x3_f_out(s);
  size_t chunk = IM2COL_TARGET_FLOATS / (per_frame ? per_frame : 1);
  if (chunk < 1) chunk = 1;
  if (chunk > s->T) chunk = s->T;
  return chunk;
}

size_t conv3x3_im2col_scratch_floats(const conv3x3_shape *s) {
  return (size_t)9 * s->c_in * im2col_chunk_frames(s) * (size_t)conv3x3_f_out(s);
}

void conv3x3_im2col(const conv3x3_shape *s, const float *x, const float *w, const float *b,
                    float *y, double *sum, double *sumsq, float *scratch) {
  const int ci = s->c_in, co = s->c_out, fin = s->f_in, pf = s->pad_f;
  const int fo = conv3x3_f_out(s);
  const size_t T = s->T, chunk = im2col_chunk_frames(s);
  const int K = 9 * ci, avx2 = use_avx2();
  if (sum)
    for (int o = 0; o < co; o++) sum[o] = sumsq[o] = 0;
  for (size_t t0 = 0; t0 < T; t0 += chunk) {
    const size_t tc = T - t0 < chunk ? T - t0 : chunk;
    const size_t N = tc * (size_t)fo;
    float *col = scratch; /* (K, N): row (i, a, c), column (frame, f) */
    for (int i = 0; i < ci; i++)
      for (int a = 0; a < 3; a++)
        for (int c = 0; c < 3; c++) {
          float *row = col + (size_t)(i * 9 + a * 3 + c) * N;
          /* output f reads input f + c - pf: the valid outputs are [lo, hi) */
          int lo = pf - c > 0 ? pf - c : 0;
          int hi = fin + pf - c < fo ? fin + pf - c : fo;
          if (hi < lo) hi = lo;
          for (size_t tt = 0; tt < tc; tt++) {
            float *dst = row + tt * fo;
            long t = (long)(t0 + tt) + a - 1;
            if (t < 0 || t >= (long)T) {
              memset(dst, 0, (size_t)fo * sizeof *dst);
              continue;
            }
            const float *src = x + ((size_t)i * T + (size_t)t) * s->ldx;
            for (int f = 0; f < lo; f++) dst[f] = 0;
            if (hi > lo) memcpy(dst + lo, src + lo + c - pf, (size_t)(hi - lo) * sizeof *dst);
            for (int f = hi; f < fo; f++) dst[f] = 0;
          }
        }
    float *yc = y + t0 * fo; /* (co, tc, fo) inside (co, T, fo) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, (int)N, K, 1.0f, w, K, col,
                (int)N, 0.0f, yc, (int)(T * fo));
    SIMD_PICK(avx2, bias_and_sums, (yc, co, N, T * fo, b, sum, sumsq));
  }
}

void conv3x3_winograd(const conv3x3_shape *s, int tile_t, int tile_f, const float *x,
                      const channel_norm *in_norm, const float *w, const float *b, float *y,
                      double *sum, double *sumsq, float *scratch) {
  const wino_plan p = wino_make_plan(s, tile_t, tile_f);
  const int avx2 = use_avx2();
  float *U = scratch + p.u_off;        /* (npts, co, ci) transformed weights */
  float *V = scratch + p.v_off;        /* (npts, ci, ldv) transformed inputs of one block */
  float *M = scratch + p.m_off;        /* (npts, co, ldv) their products */
  float *rings = scratch + p.ring_off; /* (ci, slots, mf, hq) each channel's last frames */
  float *padded = scratch + p.pad_off; /* (mf hq + 8) one padded input frame */
  float *d = scratch + p.d_off;        /* (nt, mf, hq) nt frames after B_t^T */
  float *ytmp = scratch + p.ytmp_off;  /* (mt mf, ntf8) one tile row of outputs */
  /* The vector tails read (never use) V and M columns that no sgemm writes:
   * zero them once so that every float read is defined. */
  memset(V, 0, (p.ring_off - p.v_off) * sizeof *V);
  wino_weights(&p, w, U);
  if (sum)
    for (int o = 0; o < p.co; o++) sum[o] = sumsq[o] = 0;
  for (size_t tt0 = 0; tt0 < p.ntt; tt0 += p.rows) {
    const size_t tt1 = tt0 + p.rows < p.ntt ? tt0 + p.rows : p.ntt;
    const int n_tiles = (int)((tt1 - tt0) * (size_t)p.ntf);
    SIMD_PICK(avx2, wino_inputs, (&p, s, x, in_norm, tt0, tt1, V, rings, padded, d));
    for (int xi = 0; xi < p.npts; xi++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p.co, n_tiles, p.ci, 1.0f,
                  U + (size_t)xi * p.co * p.ci, p.ci, V + (size_t)xi * p.ci * p.ldv,
                  (int)p.ldv, 0.0f, M + (size_t)xi * p.co * p.ldv, (int)p.ldv);
    SIMD_PICK(avx2, wino_outputs, (&p, M, tt0, tt1, b, y, sum, sumsq, ytmp));
  }
}

void lstm_direction(const float *in, size_t ldi, size_t T, int n_in, int H, const float *W,
                    const float *R, const float *Wb, const float *Rb, int reverse, float *out,
                    size_t ldo, float *scratch) {
  const int G4 = 4 * H;
  float *gates = scratch;                 /* (T, 4H) input projection, then pre-activations */
  float *cell = scratch + T * (size_t)G4; /* (H) */
  for (size_t t = 0; t < T; t++)
    for (int r = 0; r < G4; r++) gates[t * G4 + r] = Wb[r] + Rb[r];
  /* The input side does not depend on the recurrence: all frames in one product. */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, G4, n_in, 1.0f, in, (int)ldi, W,
              n_in, 1.0f, gates, G4);
  SIMD_CALL(lstm_steps, (gates, T, H, R, reverse, out, ldo, cell));
}

void linear(const float *x, size_t T, int n_in, const float *w, const float *b, int n_out,
            float *y) {
  for (size_t t = 0; t < T; t++) memcpy(y + t * n_out, b, (size_t)n_out * sizeof *y);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, n_out, n_in, 1.0f, x, n_in, w,
              n_in, 1.0f, y, n_out);
}

void softmax_heads(float *z, size_t T, int width, const int *head_size, int n_heads) {
  SIMD_CALL(softmax_heads, (z, T, width, head_size, n_heads));
}

#else /* ================= PART 2: vectorised bodies, VW = KERNELS_SIMD_PASS floats ================= */

#define VW KERNELS_SIMD_PASS
#if VW == 4
#define SIMD(name) name##_generic
#define SIMD_FN static
#else
#define SIMD(name) name##_avx2
#define SIMD_FN __attribute__((target("avx2"))) static
#endif
/* Helpers are always inlined, so they take the instruction set of their caller. */
#define VINLINE SIMD_FN inline __attribute__((always_inline))

#define vf SIMD(vf)
#define vi SIMD(vi)
#define vd SIMD(vd)
typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));
typedef double vd __attribute__((vector_size(VW * 4))); /* VW/2 doubles */

/* Unaligned loads and stores through memcpy: no alignment or aliasing UB,
 * compiled to one unaligned move. */
VINLINE vf SIMD(load)(const float *p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}
VINLINE void SIMD(store)(float *p, vf v) { memcpy(p, &v, sizeof v); }
VINLINE vf SIMD(splat)(float a) { return (vf){0} + a; }
/* The first k (< VW) floats; the other lanes are 0. */
VINLINE vf SIMD(load_part)(const float *p, size_t k) {
  float tmp[VW] = {0};
  memcpy(tmp, p, k * sizeof *p);
  return SIMD(load)(tmp);
}
VINLINE void SIMD(store_part)(float *p, vf v, size_t k) {
  float tmp[VW];
  SIMD(store)(tmp, v);
  memcpy(p, tmp, k * sizeof *p);
}
VINLINE vf SIMD(select)(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }
VINLINE vf SIMD(max)(vf a, vf b) { return SIMD(select)(a > b, a, b); }
VINLINE vf SIMD(min)(vf a, vf b) { return SIMD(select)(a < b, a, b); }
#define LOAD SIMD(load)
#define STORE SIMD(store)
#define SPLAT SIMD(splat)

/* Cephes' expf: exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln 2 / 2,
 * exp(r) by a degree-7 polynomial (about 1e-7 relative). The clamp keeps 2^n a
 * normal float: below -87.3 the result is about 1e-38 instead of 0, which no
 * caller can tell apart. */
VINLINE vf SIMD(vexp)(vf x) {
  x = SIMD(min)(SIMD(max)(x, SPLAT(-87.3f)), SPLAT(88.3f));
  /* Adding 1.5 * 2^23 rounds x/ln2 to the nearest integer in the low mantissa
   * bits, which also gives n as an integer without a conversion. */
  const vf magic = SPLAT(12582912.0f);
  vf t = x * SPLAT(1.44269504088896341f) + magic;
  vf n = t - magic;
  vi ni = (vi)t - (vi)magic;
  /* ln 2 split in two (Cody-Waite) so that n * 0.693359375 is exact. */
  vf r = x - n * SPLAT(0.693359375f);
  r = r - n * SPLAT(-2.12194440e-4f);
  vf p = SPLAT(1.9875691500e-4f);
  p = p * r + SPLAT(1.3981999507e-3f);
  p = p * r + SPLAT(8.3334519073e-3f);
  p = p * r + SPLAT(4.1665795894e-2f);
  p = p * r + SPLAT(1.6666665459e-1f);
  p = p * r + SPLAT(5.0000001201e-1f);
  p = p * r * r + r + SPLAT(1.0f);
  vi e = (ni + 127) << 23;
  return p * (vf)e;
}

VINLINE vf SIMD(vsigmoid)(vf x) { return SPLAT(1.0f) / (SPLAT(1.0f) + SIMD(vexp)(-x)); }
/* tanh x = 2 sigmoid(2x) - 1: absolute error about 1e-7 (relative error grows
 * near 0, where the value itself is tiny), which is what an LSTM state needs. */
VINLINE vf SIMD(vtanh)(vf x) {
  return SPLAT(2.0f) / (SPLAT(1.0f) + SIMD(vexp)(SPLAT(-2.0f) * x)) - SPLAT(1.0f);
}

VINLINE vf SIMD(vselu)(vf z) {
  const vf zero = SPLAT(0.0f);
  vf neg = SPLAT(selu_lambda_alpha) * (SIMD(vexp)(SIMD(min)(z, zero)) - SPLAT(1.0f));
  return SIMD(select)(z > zero, SPLAT(selu_lambda) * z, neg);
}

VINLINE vf SIMD(vnorm_selu)(vf y, vf mean, vf mul, vf add) {
  return SIMD(vselu)((y - mean) * mul + add);
}

/* *s += v and *q += v * v, in double. */
VINLINE void SIMD(acc_sq)(vf v, vd *s, vd *q) {
#if VW == 4
  vd lo = __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1), vd);
  vd hi = __builtin_convertvector(__builtin_shufflevector(v, v, 2, 3), vd);
#else
  vd lo = __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3), vd);
  vd hi = __builtin_convertvector(__builtin_shufflevector(v, v, 4, 5, 6, 7), vd);
#endif
  *s += lo + hi;
  *q += lo * lo + hi * hi;
}

VINLINE double SIMD(vd_sum)(vd v) {
  double s = 0;
  for (int i = 0; i < VW / 2; i++) s += v[i];
  return s;
}

/* ---- elementwise ---- */

SIMD_FN void SIMD(exp_array)(const float *x, float *y, size_t n) {
  size_t i = 0;
  for (; i + VW <= n; i += VW) STORE(y + i, SIMD(vexp)(LOAD(x + i)));
  if (i < n) SIMD(store_part)(y + i, SIMD(vexp)(SIMD(load_part)(x + i, n - i)), n - i);
}

SIMD_FN void SIMD(selu)(float *y, size_t n) {
  size_t i = 0;
  for (; i + VW <= n; i += VW) STORE(y + i, SIMD(vselu)(LOAD(y + i)));
  if (i < n) SIMD(store_part)(y + i, SIMD(vselu)(SIMD(load_part)(y + i, n - i)), n - i);
}

/* Adds the sums of y - shift and of its square over a run of n floats. */
VINLINE void SIMD(sums_add)(const float *y, size_t n, float shift, double *sum, double *sumsq) {
  vd s = {0}, q = {0};
  const vf sh = SPLAT(shift);
  size_t i = 0;
  for (; i + VW <= n; i += VW) SIMD(acc_sq)(LOAD(y + i) - sh, &s, &q);
  double ss = SIMD(vd_sum)(s), qq = SIMD(vd_sum)(q);
  for (; i < n; i++) {
    double d = (double)(y[i] - shift);
    ss += d;
    qq += d * d;
  }
  *sum += ss;
  *sumsq += qq;
}

SIMD_FN void SIMD(channel_sums)(const float *y, int C, size_t n, const float *shift,
                                double *sum, double *sumsq) {
  for (int c = 0; c < C; c++) {
    sum[c] = sumsq[c] = 0;
    SIMD(sums_add)(y + (size_t)c * n, n, shift ? shift[c] : 0.0f, &sum[c], &sumsq[c]);
  }
}

/* Adds the bias to C runs of n outputs (stride ld) and accumulates the
 * statistics of the values before the bias. */
SIMD_FN void SIMD(bias_and_sums)(float *y, int C, size_t n, size_t ld, const float *bias,
                                 double *sum, double *sumsq) {
  for (int c = 0; c < C; c++) {
    float *p = y + (size_t)c * ld;
    if (sum) SIMD(sums_add)(p, n, 0.0f, &sum[c], &sumsq[c]);
    const vf b = SPLAT(bias[c]);
    size_t i = 0;
    for (; i + VW <= n; i += VW) STORE(p + i, LOAD(p + i) + b);
    for (; i < n; i++) p[i] += bias[c];
  }
}

SIMD_FN void SIMD(norm_selu)(float *y, int C, size_t n, const float *mean, const float *mul,
                             const float *add) {
  for (int c = 0; c < C; c++) {
    float *p = y + (size_t)c * n;
    const vf m = SPLAT(mean[c]), s = SPLAT(mul[c]), a = SPLAT(add[c]);
    size_t i = 0;
    for (; i + VW <= n; i += VW) STORE(p + i, SIMD(vnorm_selu)(LOAD(p + i), m, s, a));
    if (i < n)
      SIMD(store_part)(p + i, SIMD(vnorm_selu)(SIMD(load_part)(p + i, n - i), m, s, a), n - i);
  }
}

/* VW outputs of a pool of 3 or 4 from 3 VW or 4 VW consecutive floats: the
 * strided picks are shuffles, then the elementwise max (or min). */
VINLINE vf SIMD(pool)(const float *w, int k, int take_max) {
  vf g[4];
#if VW == 4
  if (k == 3) {
    vf a = LOAD(w), b = LOAD(w + 4), c = LOAD(w + 8);
    g[0] = __builtin_shufflevector(__builtin_shufflevector(a, b, 0, 3, 6, 0), c, 0, 1, 2, 5);
    g[1] = __builtin_shufflevector(__builtin_shufflevector(a, b, 1, 4, 7, 0), c, 0, 1, 2, 6);
    g[2] = __builtin_shufflevector(__builtin_shufflevector(a, b, 2, 5, 0, 0), c, 0, 1, 4, 7);
  } else {
    vf a = LOAD(w), b = LOAD(w + 4), c = LOAD(w + 8), d = LOAD(w + 12);
    g[0] = __builtin_shufflevector(__builtin_shufflevector(a, b, 0, 4, 0, 0),
                                   __builtin_shufflevector(c, d, 0, 4, 0, 0), 0, 1, 4, 5);
    g[1] = __builtin_shufflevector(__builtin_shufflevector(a, b, 1, 5, 0, 0),
                                   __builtin_shufflevector(c, d, 1, 5, 0, 0), 0, 1, 4, 5);
    g[2] = __builtin_shufflevector(__builtin_shufflevector(a, b, 2, 6, 0, 0),
                                   __builtin_shufflevector(c, d, 2, 6, 0, 0), 0, 1, 4, 5);
    g[3] = __builtin_shufflevector(__builtin_shufflevector(a, b, 3, 7, 0, 0),
                                   __builtin_shufflevector(c, d, 3, 7, 0, 0), 0, 1, 4, 5);
  }
#else
  if (k == 3) {
    vf a = LOAD(w), b = LOAD(w + 8), c = LOAD(w + 16);
    vf t0 = __builtin_shufflevector(a, b, 0, 3, 6, 9, 12, 15, 0, 0);
    vf t1 = __builtin_shufflevector(a, b, 1, 4, 7, 10, 13, 0, 0, 0);
    vf t2 = __builtin_shufflevector(a, b, 2, 5, 8, 11, 14, 0, 0, 0);
    g[0] = __builtin_shufflevector(t0, c, 0, 1, 2, 3, 4, 5, 10, 13);
    g[1] = __builtin_shufflevector(t1, c, 0, 1, 2, 3, 4, 8, 11, 14);
    g[2] = __builtin_shufflevector(t2, c, 0, 1, 2, 3, 4, 9, 12, 15);
  } else {
    vf a = LOAD(w), b = LOAD(w + 8), c = LOAD(w + 16), d = LOAD(w + 24);
    for (int m = 0; m < 4; m++) {
      vf ab, cd;
      switch (m) { /* shuffle indices must be constants */
      case 0:
        ab = __builtin_shufflevector(a, b, 0, 4, 8, 12, 0, 0, 0, 0);
        cd = __builtin_shufflevector(c, d, 0, 4, 8, 12, 0, 0, 0, 0);
        break;
      case 1:
        ab = __builtin_shufflevector(a, b, 1, 5, 9, 13, 0, 0, 0, 0);
        cd = __builtin_shufflevector(c, d, 1, 5, 9, 13, 0, 0, 0, 0);
        break;
      case 2:
        ab = __builtin_shufflevector(a, b, 2, 6, 10, 14, 0, 0, 0, 0);
        cd = __builtin_shufflevector(c, d, 2, 6, 10, 14, 0, 0, 0, 0);
        break;
      default:
        ab = __builtin_shufflevector(a, b, 3, 7, 11, 15, 0, 0, 0, 0);
        cd = __builtin_shufflevector(c, d, 3, 7, 11, 15, 0, 0, 0, 0);
        break;
      }
      g[m] = __builtin_shufflevector(ab, cd, 0, 1, 2, 3, 8, 9, 10, 11);
    }
  }
#endif
  /* The same comparisons in the same order as the scalar loop, so ties and
   * signed zeros come out the same. */
  vf best = g[0];
  for (int j = 1; j < k; j++)
    best = take_max ? SIMD(select)(g[j] > best, g[j], best) : SIMD(select)(g[j] < best, g[j], best);
  return best;
}

/* One row of a max (or min) pool; out may not alias row. */
VINLINE void SIMD(pool_row)(const float *row, int fo, int k, int take_max, float *out) {
  int f = 0;
  if (k == 3 || k == 4)
    for (; f + VW <= fo; f += VW) STORE(out + f, SIMD(pool)(row + (size_t)f * k, k, take_max));
  for (; f < fo; f++) {
    const float *w = row + (size_t)f * k;
    float best = w[0];
    for (int j = 1; j < k; j++)
      if (take_max ? w[j] > best : w[j] < best) best = w[j];
    out[f] = best;
  }
}

SIMD_FN void SIMD(maxpool_freq)(const float *x, int C, size_t T, int F, int k, float *out) {
  const int fo = F / k;
  for (size_t row = 0; row < (size_t)C * T; row++)
    SIMD(pool_row)(x + row * F, fo, k, 1, out + row * fo);
}

SIMD_FN void SIMD(norm_selu_maxpool)(const float *y, int C, size_t T, int F, int k,
                                     const float *mean, const float *mul, const float *add,
                                     float *out) {
  const int fo = F / k;
  for (int c = 0; c < C; c++) {
    const vf m = SPLAT(mean[c]), s = SPLAT(mul[c]), a = SPLAT(add[c]);
    const int take_max = mul[c] >= 0; /* a negative scale reverses the order */
    for (size_t t = 0; t < T; t++) {
      const float *row = y + ((size_t)c * T + t) * F; /* (F) */
      float *o = out + ((size_t)c * T + t) * fo;      /* (fo) */
      SIMD(pool_row)(row, fo, k, take_max, o);
      int f = 0;
      for (; f + VW <= fo; f += VW) STORE(o + f, SIMD(vnorm_selu)(LOAD(o + f), m, s, a));
      if (f < fo)
        SIMD(store_part)(o + f, SIMD(vnorm_selu)(SIMD(load_part)(o + f, (size_t)(fo - f)), m, s, a),
                         (size_t)(fo - f));
    }
  }
}

/* ---- Winograd transforms ---- */

/* B^T of F(m, 3) on n = m + 2 vectors (see the plan above). */
VINLINE void SIMD(wino_bt)(int m, const vf *d, vf *u) {
  if (m == 2) {
    u[0] = d[0] - d[2];
    u[1] = d[1] + d[2];
    u[2] = d[2] - d[1];
    u[3] = d[1] - d[3];
  } else {
    const vf four = SPLAT(4.0f), five = SPLAT(5.0f), two = SPLAT(2.0f);
    vf t1 = d[4] - four * d[2], t2 = d[3] - four * d[1];
    vf t3 = d[4] - d[2], t4 = two * (d[3] - d[1]);
    u[0] = four * d[0] - five * d[2] + d[4];
    u[1] = t1 + t2;
    u[2] = t1 - t2;
    u[3] = t3 + t4;
    u[4] = t3 - t4;
    u[5] = four * d[1] - five * d[3] + d[5];
  }
}

/* A^T of F(m, 3): n = m + 2 vectors to m. */
VINLINE void SIMD(wino_at)(int m, const vf *v, vf *y) {
  if (m == 2) {
    y[0] = v[0] + v[1] + v[2];
    y[1] = v[1] - v[2] - v[3];
  } else {
    vf a = v[1] + v[2], b = v[1] - v[2], c = v[3] + v[4], e = v[3] - v[4];
    y[0] = v[0] + a + c;
    y[1] = b + SPLAT(2.0f) * e;
    y[2] = a + SPLAT(4.0f) * c;
    y[3] = b + SPLAT(8.0f) * e + v[5];
  }
}

/* Frame t of input channel i into slot: normalised (when norm is given),
 * zero-padded, de-interleaved into mf phases of hq floats. */
VINLINE void SIMD(wino_fill_row)(const wino_plan *p, const conv3x3_shape *s, const float *x,
                                 const channel_norm *norm, int i, long t, float *slot,
                                 float *padded, const int mf) {
  const size_t hq = p->hq, width = (size_t)mf * hq;
  if (t < 0 || t >= (long)p->T) {
    memset(slot, 0, width * sizeof *slot);
    return;
  }
  const float *src = x + ((size_t)i * p->T + (size_t)t) * s->ldx; /* (fin) */
  const size_t fin = (size_t)p->fin, pf = (size_t)p->pf;
  /* padded (width): pf zeros, the row, zeros */
  for (size_t c = 0; c < pf; c++) padded[c] = 0;
  float *row = padded + pf;
  if (norm) {
    const vf m = SPLAT(norm->mean[i]), k = SPLAT(norm->mul[i]), a = SPLAT(norm->add[i]);
    size_t f = 0;
    for (; f + VW <= fin; f += VW) STORE(row + f, SIMD(vnorm_selu)(LOAD(src + f), m, k, a));
    if (f < fin)
      SIMD(store_part)(row + f, SIMD(vnorm_selu)(SIMD(load_part)(src + f, fin - f), m, k, a),
                       fin - f);
  } else {
    memcpy(row, src, fin * sizeof *row);
  }
  for (size_t c = pf + fin; c < width; c++) padded[c] = 0;
  if (mf == 2) {
    for (size_t j = 0; j < hq; j += VW) {
      vf lo = LOAD(padded + 2 * j), hi = LOAD(padded + 2 * j + VW);
#if VW == 4
      STORE(slot + j, __builtin_shufflevector(lo, hi, 0, 2, 4, 6));
      STORE(slot + hq + j, __builtin_shufflevector(lo, hi, 1, 3, 5, 7));
#else
      STORE(slot + j, __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14));
      STORE(slot + hq + j, __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15));
#endif
    }
  } else {
    for (size_t j = 0; j < hq; j += VW) {
      const float *w = padded + 4 * j;
      vf a = LOAD(w), b = LOAD(w + VW), c = LOAD(w + 2 * VW), e = LOAD(w + 3 * VW);
      /* a 4 x VW transpose: phase q takes every fourth float from q on */
#if VW == 4
      vf ab_lo = __builtin_shufflevector(a, b, 0, 4, 1, 5), ab_hi = __builtin_shufflevector(a, b, 2, 6, 3, 7);
      vf ce_lo = __builtin_shufflevector(c, e, 0, 4, 1, 5), ce_hi = __builtin_shufflevector(c, e, 2, 6, 3, 7);
      /* ab_lo = a0 b0 a1 b1, ab_hi = a2 b2 a3 b3 (same for c, e) */
      vf x0 = __builtin_shufflevector(ab_lo, ce_lo, 0, 1, 4, 5); /* a0 b0 c0 e0 */
      vf x1 = __builtin_shufflevector(ab_lo, ce_lo, 2, 3, 6, 7);
      vf x2 = __builtin_shufflevector(ab_hi, ce_hi, 0, 1, 4, 5);
      vf x3 = __builtin_shufflevector(ab_hi, ce_hi, 2, 3, 6, 7);
#else
      vf x0 = __builtin_shufflevector(__builtin_shufflevector(a, b, 0, 4, 8, 12, 0, 0, 0, 0),
                                      __builtin_shufflevector(c, e, 0, 4, 8, 12, 0, 0, 0, 0),
                                      0, 1, 2, 3, 8, 9, 10, 11);
      vf x1 = __builtin_shufflevector(__builtin_shufflevector(a, b, 1, 5, 9, 13, 0, 0, 0, 0),
                                      __builtin_shufflevector(c, e, 1, 5, 9, 13, 0, 0, 0, 0),
                                      0, 1, 2, 3, 8, 9, 10, 11);
      vf x2 = __builtin_shufflevector(__builtin_shufflevector(a, b, 2, 6, 10, 14, 0, 0, 0, 0),
                                      __builtin_shufflevector(c, e, 2, 6, 10, 14, 0, 0, 0, 0),
                                      0, 1, 2, 3, 8, 9, 10, 11);
      vf x3 = __builtin_shufflevector(__builtin_shufflevector(a, b, 3, 7, 11, 15, 0, 0, 0, 0),
                                      __builtin_shufflevector(c, e, 3, 7, 11, 15, 0, 0, 0, 0),
                                      0, 1, 2, 3, 8, 9, 10, 11);
#endif
      STORE(slot + j, x0);
      STORE(slot + hq + j, x1);
      STORE(slot + 2 * hq + j, x2);
      STORE(slot + 3 * hq + j, x3);
    }
  }
}

/* V of all input channels for tile rows [tt0, tt1). Frame t lives in slot
 * (t + 1) mod slots of its channel's ring; consecutive tile rows share two
 * frames, and the ring carries them over from the previous block, so every
 * input frame is read (and normalised) once. */
VINLINE void SIMD(wino_inputs_m)(const wino_plan *p, const conv3x3_shape *s, const float *x,
                                  const channel_norm *norm, size_t tt0, size_t tt1, float *V,
                                  float *rings, float *padded, float *d, const int mt,
                                  const int mf) {
  const size_t hq = p->hq, row = (size_t)mf * hq;
  const long mask = p->slots - 1;
  const int nt = mt + 2, nf = mf + 2;
  for (int i = 0; i < p->ci; i++) {
    float *ring = rings + (size_t)i * (size_t)p->slots * row; /* (slots, mf, hq) */
    if (tt0 == 0)
      for (long t = -1; t <= 0; t++)
        SIMD(wino_fill_row)(p, s, x, norm, i, t, ring + (size_t)((t + 1) & mask) * row, padded, mf);
    for (size_t tt = tt0; tt < tt1; tt++) {
      const long t_first = (long)mt * (long)tt - 1;
      for (long t = t_first + 2; t < t_first + nt; t++)
        SIMD(wino_fill_row)(p, s, x, norm, i, t, ring + (size_t)((t + 1) & mask) * row, padded, mf);
      const float *r[6];
      #pragma GCC unroll 6
      for (int k = 0; k < nt; k++) r[k] = ring + (size_t)((t_first + k + 1) & mask) * row;
      for (size_t j = 0; j < row; j += VW) { /* B_t^T along time */
        vf a[6], u[6];
        #pragma GCC unroll 6
        for (int k = 0; k < nt; k++) a[k] = LOAD(r[k] + j);
        SIMD(wino_bt)(mt, a, u);
        #pragma GCC unroll 6
        for (int k = 0; k < nt; k++) STORE(d + (size_t)k * row + j, u[k]);
      }
      const size_t p0 = (tt - tt0) * (size_t)p->ntf;
      for (int k = 0; k < nt; k++) {
        const float *ph = d + (size_t)k * row; /* phase q at ph + q hq */
        float *v = V + ((size_t)(k * nf) * p->ci + i) * p->ldv + p0; /* point (k, l) at v + l pstride */
        const size_t pstride = (size_t)p->ci * p->ldv;
        for (int ff = 0; ff < p->ntf8; ff += VW) { /* B_f^T along frequency */
          vf c[6], u[6];
          #pragma GCC unroll 6
          for (int j = 0; j < nf; j++) c[j] = LOAD(ph + (size_t)(j % mf) * hq + (size_t)(ff + j / mf));
          SIMD(wino_bt)(mf, c, u);
          #pragma GCC unroll 6
          for (int l = 0; l < nf; l++) STORE(v + (size_t)l * pstride + (size_t)ff, u[l]);
        }
      }
    }
  }
}

/* One copy per tile shape, so that the tile sizes are constants the compiler
 * unrolls with. */
SIMD_FN void SIMD(wino_inputs)(const wino_plan *p, const conv3x3_shape *s, const float *x,
                               const channel_norm *norm, size_t tt0, size_t tt1, float *V,
                               float *rings, float *padded, float *d) {
  if (p->mt == 2 && p->mf == 2)
    SIMD(wino_inputs_m)(p, s, x, norm, tt0, tt1, V, rings, padded, d, 2, 2);
  else if (p->mt == 2)
    SIMD(wino_inputs_m)(p, s, x, norm, tt0, tt1, V, rings, padded, d, 2, 4);
  else if (p->mf == 2)
    SIMD(wino_inputs_m)(p, s, x, norm, tt0, tt1, V, rings, padded, d, 4, 2);
  else
    SIMD(wino_inputs_m)(p, s, x, norm, tt0, tt1, V, rings, padded, d, 4, 4);
}

/* Y of all output channels for tile rows [tt0, tt1): A_t^T M A_f, the bias, and
 * the statistics of the values before the bias. */
VINLINE void SIMD(wino_outputs_m)(const wino_plan *p, const float *M, size_t tt0, size_t tt1,
                                  const float *bias, float *y, double *sum, double *sumsq,
                                  float *ytmp, const int mt, const int mf) {
  const int ntf = p->ntf, ntf8 = p->ntf8, fo = p->fo;
  const int nt = mt + 2, nf = mf + 2;
  const size_t mstride = (size_t)p->co * p->ldv; /* between transform points */
  for (int o = 0; o < p->co; o++) {
    vd s = {0}, q = {0};
    const vf bv = SPLAT(bias[o]);
    const float *m0 = M + (size_t)o * p->ldv;
    for (size_t tt = tt0; tt < tt1; tt++) {
      const size_t p0 = (tt - tt0) * (size_t)ntf;
      for (int ff = 0; ff < ntf8; ff += VW) {
        const float *mp = m0 + p0 + (size_t)ff;
        vf st[4][6]; /* A_t^T along time: (mt, nf) */
        #pragma GCC unroll 6
        for (int l = 0; l < nf; l++) {
          vf a[6], r[4];
          #pragma GCC unroll 6
          for (int k = 0; k < nt; k++) a[k] = LOAD(mp + (size_t)(k * nf + l) * mstride);
          SIMD(wino_at)(mt, a, r);
          #pragma GCC unroll 6
          for (int k = 0; k < mt; k++) st[k][l] = r[k];
        }
        #pragma GCC unroll 6
        for (int k = 0; k < mt; k++) { /* A_f^T along frequency */
          vf r[4];
          SIMD(wino_at)(mf, st[k], r);
          #pragma GCC unroll 6
          for (int c = 0; c < mf; c++) STORE(ytmp + (size_t)(k * mf + c) * ntf8 + ff, r[c]);
        }
      }
      /* Positions outside the output (vector slack, the last partial tile,
       * frames past T) must not count. */
      const int rows_valid = (size_t)mt * tt + (size_t)mt <= p->T ? mt : (int)(p->T - (size_t)mt * tt);
      for (int k = 0; k < mt; k++)
        for (int c = 0; c < mf; c++) {
          float *yk = ytmp + (size_t)(k * mf + c) * ntf8;
          int valid = k < rows_valid ? (fo - c + mf - 1) / mf : 0; /* tiles with bin mf ff + c < fo */
          for (int ff = valid; ff < ntf8; ff++) yk[ff] = 0;
        }
      if (sum)
        for (int kc = 0; kc < mt * mf; kc++)
          for (int ff = 0; ff < ntf8; ff += VW) SIMD(acc_sq)(LOAD(ytmp + (size_t)kc * ntf8 + ff), &s, &q);
      /* Interleave the mf phases back into the output rows. */
      for (int k = 0; k < rows_valid; k++) {
        const float *yk = ytmp + (size_t)(k * mf) * ntf8; /* phase c at yk + c ntf8 */
        float *out = y + ((size_t)o * p->T + (size_t)mt * tt + (size_t)k) * fo; /* (fo) */
        int ff = 0;
        if (mf == 2) {
          for (; 2 * ff + 2 * VW <= fo; ff += VW) {
            vf e = LOAD(yk + ff) + bv, od = LOAD(yk + ntf8 + ff) + bv;
#if VW == 4
            STORE(out + 2 * ff, __builtin_shufflevector(e, od, 0, 4, 1, 5));
            STORE(out + 2 * ff + VW, __builtin_shufflevector(e, od, 2, 6, 3, 7));
#else
            STORE(out + 2 * ff, __builtin_shufflevector(e, od, 0, 8, 1, 9, 2, 10, 3, 11));
            STORE(out + 2 * ff + VW, __builtin_shufflevector(e, od, 4, 12, 5, 13, 6, 14, 7, 15));
#endif
          }
        } else {
          for (; 4 * ff + 4 * VW <= fo; ff += VW) {
            vf a = LOAD(yk + ff) + bv, b = LOAD(yk + ntf8 + ff) + bv;
            vf c = LOAD(yk + 2 * (size_t)ntf8 + ff) + bv, e = LOAD(yk + 3 * (size_t)ntf8 + ff) + bv;
#if VW == 4
            vf ab_lo = __builtin_shufflevector(a, b, 0, 4, 1, 5), ab_hi = __builtin_shufflevector(a, b, 2, 6, 3, 7);
            vf ce_lo = __builtin_shufflevector(c, e, 0, 4, 1, 5), ce_hi = __builtin_shufflevector(c, e, 2, 6, 3, 7);
            STORE(out + 4 * ff, __builtin_shufflevector(ab_lo, ce_lo, 0, 1, 4, 5));
            STORE(out + 4 * ff + 4, __builtin_shufflevector(ab_lo, ce_lo, 2, 3, 6, 7));
            STORE(out + 4 * ff + 8, __builtin_shufflevector(ab_hi, ce_hi, 0, 1, 4, 5));
            STORE(out + 4 * ff + 12, __builtin_shufflevector(ab_hi, ce_hi, 2, 3, 6, 7));
#else
            vf ab_lo = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
            vf ab_hi = __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
            vf ce_lo = __builtin_shufflevector(c, e, 0, 8, 1, 9, 2, 10, 3, 11);
            vf ce_hi = __builtin_shufflevector(c, e, 4, 12, 5, 13, 6, 14, 7, 15);
            STORE(out + 4 * ff, __builtin_shufflevector(ab_lo, ce_lo, 0, 1, 8, 9, 2, 3, 10, 11));
            STORE(out + 4 * ff + 8, __builtin_shufflevector(ab_lo, ce_lo, 4, 5, 12, 13, 6, 7, 14, 15));
            STORE(out + 4 * ff + 16, __builtin_shufflevector(ab_hi, ce_hi, 0, 1, 8, 9, 2, 3, 10, 11));
            STORE(out + 4 * ff + 24, __builtin_shufflevector(ab_hi, ce_hi, 4, 5, 12, 13, 6, 7, 14, 15));
#endif
          }
        }
        for (int f = mf * ff; f < fo; f++) out[f] = yk[(size_t)(f % mf) * ntf8 + (size_t)(f / mf)] + bias[o];
      }
    }
    if (sum) {
      sum[o] += SIMD(vd_sum)(s);
      sumsq[o] += SIMD(vd_sum)(q);
    }
  }
}

SIMD_FN void SIMD(wino_outputs)(const wino_plan *p, const float *M, size_t tt0, size_t tt1,
                                const float *bias, float *y, double *sum, double *sumsq,
                                float *ytmp) {
  if (p->mt == 2 && p->mf == 2)
    SIMD(wino_outputs_m)(p, M, tt0, tt1, bias, y, sum, sumsq, ytmp, 2, 2);
  else if (p->mt == 2)
    SIMD(wino_outputs_m)(p, M, tt0, tt1, bias, y, sum, sumsq, ytmp, 2, 4);
  else if (p->mf == 2)
    SIMD(wino_outputs_m)(p, M, tt0, tt1, bias, y, sum, sumsq, ytmp, 4, 2);
  else
    SIMD(wino_outputs_m)(p, M, tt0, tt1, bias, y, sum, sumsq, ytmp, 4, 4);
}

/* ---- LSTM recurrence ---- */

/* Units j .. j+k-1 (k <= VW) of one step. */
VINLINE void SIMD(lstm_cell)(const float *g, int H, int j, size_t k, float *cell, float *h) {
  vf ig = SIMD(vsigmoid)(SIMD(load_part)(g + j, k));
  vf og = SIMD(vsigmoid)(SIMD(load_part)(g + H + j, k));
  vf fg = SIMD(vsigmoid)(SIMD(load_part)(g + 2 * H + j, k));
  vf cc = SIMD(vtanh)(SIMD(load_part)(g + 3 * H + j, k));
  vf c = fg * SIMD(load_part)(cell + j, k) + ig * cc;
  SIMD(store_part)(cell + j, c, k);
  SIMD(store_part)(h + j, og * SIMD(vtanh)(c), k);
}

/* The recurrence: gates holds W x_t + Wb + Rb for every frame. */
SIMD_FN void SIMD(lstm_steps)(float *gates, size_t T, int H, const float *R, int reverse,
                              float *out, size_t ldo, float *cell) {
  const int G4 = 4 * H;
  for (int j = 0; j < H; j++) cell[j] = 0;
  const float *h_prev = NULL;
  for (size_t step = 0; step < T; step++) {
    size_t t = reverse ? T - 1 - step : step;
    float *g = gates + t * G4;
    if (h_prev) cblas_sgemv(CblasRowMajor, CblasNoTrans, G4, H, 1.0f, R, H, h_prev, 1, 1.0f, g, 1);
    float *h = out + t * ldo;
    int j = 0;
    for (; j + VW <= H; j += VW) SIMD(lstm_cell)(g, H, j, VW, cell, h);
    if (j < H) SIMD(lstm_cell)(g, H, j, (size_t)(H - j), cell, h);
    h_prev = h;
  }
}

/* ---- softmax ---- */

SIMD_FN void SIMD(softmax_heads)(float *z, size_t T, int width, const int *head_size,
                                 int n_heads) {
  for (size_t t = 0; t < T; t++) {
    float *row = z + t * width;
    for (int h = 0, off = 0; h < n_heads; off += head_size[h], h++) {
      float *v = row + off;
      const int n = head_size[h];
      float m = v[0];
      for (int k = 1; k < n; k++)
        if (v[k] > m) m = v[k];
      for (int k = 0; k < n; k++) v[k] -= m;
      SIMD(exp_array)(v, v, (size_t)n);
      float sum = 0;
      for (int k = 0; k < n; k++) sum += v[k];
      const float inv = 1.0f / sum;
      for (int k = 0; k < n; k++) v[k] *= inv;
    }
  }
}

#undef LOAD
#undef STORE
#undef SPLAT
#undef vf
#undef vi
#undef vd
#undef VINLINE
#undef SIMD_FN
#undef SIMD
#undef VW

#endif /* PART 2 */
