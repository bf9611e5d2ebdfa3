/*
 * student.c: the 2E1D student's two forward passes (student.h).
 *
 *  - student_forward: a whole file at once. Every projection is one
 *    cblas_sgemm per block of CHUNK rows counted from frame 0 (project_rows:
 *    a frame's bits then do not depend on the sequence's length, which
 *    student_blocks.h relies on; the row-wise parts use CHUNK rows of
 *    scratch, which does not grow with T). Time attention is banded and runs in
 *    blocks of QB queries against the keys their band reaches (two sgemms
 *    per block and head: Q K^T and P V), so time and memory grow linearly
 *    with T: about 5 (T, d) buffers plus a fixed scratch; a 30-minute file
 *    (90,000 frames) needs about 260 MB with the default config.
 *  - student_stream: one frame at a time for the live worker, with the keys
 *    and values of every time attention cached in rings (about 3 MB with the
 *    default config). Plain C (4-float vector types in the two inner
 *    kernels, loops elsewhere), no BLAS (OpenBLAS may start threads and take
 *    locks), nothing allocated after creation: about 0.3 ms per frame for
 *    the default config on one x86-64 core at -O2.
 *
 * Both passes share every row-wise piece (normalisation, LayerNorm, softmax,
 * the frequency encoder's attention over one frame's G tokens, the
 * feed-forward block's elementwise parts, the bias and masking of a score),
 * so they differ only in the summation order of the dot products: the stream
 * equals the forward pass to about 1e-6 of the logits (tests/test_student.c).
 *
 * Why the stream can be exact: only the first temporal layer's
 * self-attention looks ahead (lookahead frames). Its queries, keys and values
 * depend on the input alone, so they are computed when a frame is pushed;
 * once frame i + lookahead is in, frame i has every key it will ever see and
 * goes through the rest of the network, where every attention is causal and
 * reads keys and values that earlier frames left in the rings. Flush runs the
 * remaining frames with the keys that exist, which is exactly how
 * student_forward treats the last frames of a file.
 */
#include "student.h"

#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* GCC's ISO C mode contracts nothing already */
#endif

enum {
  CHUNK = STUDENT_FORWARD_ROWS, /* rows per projection block in student_forward */
  QB = 64,                      /* queries per attention block in student_forward (divides CHUNK) */
};

#define LN_EPS 1e-5

/* ---- the weights: pointers into the caller's flat buffer ------------------------- */

typedef struct mha_w {
  const float *w_in, *b_in;   /* (3w, w), (3w): W_q | W_k | W_v */
  const float *w_out, *b_out; /* (w, w), (w) */
} mha_w;

typedef struct ff_w {
  const float *w1, *b1, *ln1_g, *ln1_b; /* (h, w), (h) x 3 */
  const float *w2, *b2, *ln2_g, *ln2_b; /* (w, h), (w) x 3 */
  const float *alpha;                   /* (1) */
} ff_w;

typedef struct enc_w {
  mha_w attn;
  const float *alpha; /* (1) attn_alpha */
  ff_w ff;
} enc_w;

typedef struct dec_w {
  mha_w self, cross;
  const float *self_alpha, *cross_alpha; /* (1) each */
  ff_w ff;
} dec_w;

typedef struct fc_ln_w {
  const float *w, *b, *ln_g, *ln_b; /* (d, d), (d), (d), (d) */
} fc_ln_w;

typedef struct net {
  student_config c;
  int d;      /* width = n_bins */
  int G, ef;  /* frequency tokens per frame and their width */
  int hf, ht; /* FF hidden widths: ff_mult * ef, ff_mult * d */
  enc_w f[STUDENT_MAX_LAYERS], t[STUDENT_MAX_LAYERS];
  fc_ln_w f_out, t_out;
  dec_w dl[STUDENT_MAX_LAYERS];
  const float *d_ln_g, *d_ln_b; /* (d) the decoder's shared LayerNorm */
  const float *out_w, *out_b;   /* (n_classes, d), (n_classes) */
} net;

static const float *tensor(const float *params, const student_param *L, int n, int *missing,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static const float *tensor(const float *params, const student_param *L, int n, int *missing,
                           const char *fmt, ...) {
  char name[64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  size_t off = student_param_offset(L, n, name);
  if (off == (size_t)-1) {
    (*missing)++;
    return NULL;
  }
  return params + off;
}

static void bind_mha(mha_w *m, const float *p, const student_param *L, int n, int *miss, const char *pre) {
  m->w_in = tensor(p, L, n, miss, "%s.w_in", pre);
  m->b_in = tensor(p, L, n, miss, "%s.b_in", pre);
  m->w_out = tensor(p, L, n, miss, "%s.w_out", pre);
  m->b_out = tensor(p, L, n, miss, "%s.b_out", pre);
}

static void bind_ff(ff_w *f, const float *p, const student_param *L, int n, int *miss, const char *pre) {
  f->w1 = tensor(p, L, n, miss, "%s.w1", pre);
  f->b1 = tensor(p, L, n, miss, "%s.b1", pre);
  f->ln1_g = tensor(p, L, n, miss, "%s.ln1.g", pre);
  f->ln1_b = tensor(p, L, n, miss, "%s.ln1.b", pre);
  f->w2 = tensor(p, L, n, miss, "%s.w2", pre);
  f->b2 = tensor(p, L, n, miss, "%s.b2", pre);
  f->ln2_g = tensor(p, L, n, miss, "%s.ln2.g", pre);
  f->ln2_b = tensor(p, L, n, miss, "%s.ln2.b", pre);
  f->alpha = tensor(p, L, n, miss, "%s.alpha", pre);
}

static void bind_encoder(enc_w *e, fc_ln_w *out, int layers, char tag, const float *p, const student_param *L,
                         int n, int *miss) {
  char pre[40];
  for (int l = 0; l < layers; l++) {
    snprintf(pre, sizeof pre, "%c.%d.attn", tag, l);
    bind_mha(&e[l].attn, p, L, n, miss, pre);
    e[l].alpha = tensor(p, L, n, miss, "%c.%d.attn_alpha", tag, l);
    snprintf(pre, sizeof pre, "%c.%d.ff", tag, l);
    bind_ff(&e[l].ff, p, L, n, miss, pre);
  }
  out->w = tensor(p, L, n, miss, "%c.fc.w", tag);
  out->b = tensor(p, L, n, miss, "%c.fc.b", tag);
  out->ln_g = tensor(p, L, n, miss, "%c.ln.g", tag);
  out->ln_b = tensor(p, L, n, miss, "%c.ln.b", tag);
}

/* Checks the arguments and the config and points m at the tensors. Thread: any. */
static chordlet_status bind_net(net *m, const student_config *c, const float *params, chordlet_error *err) {
  if (!c || !params) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "student: no config or parameters");
  chordlet_status st = student_config_check(c, err);
  if (st != CHORDLET_OK) return st;
  student_param *L = malloc(STUDENT_MAX_PARAMS * sizeof *L);
  if (!L) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "student: out of memory");
  memset(m, 0, sizeof *m);
  m->c = *c;
  m->d = c->n_bins;
  m->G = c->n_groups;
  m->ef = c->n_bins / c->n_groups;
  m->hf = c->ff_mult * m->ef;
  m->ht = c->ff_mult * m->d;
  int n = student_layout(c, L, NULL), miss = 0;
  if (n > STUDENT_MAX_PARAMS) n = STUDENT_MAX_PARAMS, miss = 1;
  bind_encoder(m->f, &m->f_out, c->layers_f, 'f', params, L, n, &miss);
  bind_encoder(m->t, &m->t_out, c->layers_t, 't', params, L, n, &miss);
  char pre[40];
  for (int l = 0; l < c->layers_d; l++) {
    snprintf(pre, sizeof pre, "d.%d.self", l);
    bind_mha(&m->dl[l].self, params, L, n, &miss, pre);
    m->dl[l].self_alpha = tensor(params, L, n, &miss, "d.%d.self_alpha", l);
    snprintf(pre, sizeof pre, "d.%d.cross", l);
    bind_mha(&m->dl[l].cross, params, L, n, &miss, pre);
    m->dl[l].cross_alpha = tensor(params, L, n, &miss, "d.%d.cross_alpha", l);
    snprintf(pre, sizeof pre, "d.%d.ff", l);
    bind_ff(&m->dl[l].ff, params, L, n, &miss, pre);
  }
  m->d_ln_g = tensor(params, L, n, &miss, "d.ln.g");
  m->d_ln_b = tensor(params, L, n, &miss, "d.ln.b");
  m->out_w = tensor(params, L, n, &miss, "out.w");
  m->out_b = tensor(params, L, n, &miss, "out.b");
  free(L);
  if (miss) /* student_layout and this file disagree: a bug, not bad input */
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: %d tensors of the layout are missing", miss);
  return CHORDLET_OK;
}

/* ---- row kernels shared by both passes ----------------------------------------------
 * dot and axpy use GCC/Clang vector types of 4 floats (SSE2 on x86-64, NEON
 * on arm64; no intrinsics), which both compilers turn into the same packed
 * code at -O2; plain loops vectorise under GCC but not under Clang 14 (it
 * builds each vector from scalar loads). The rest are plain loops.
 * Thread: any; no allocation. */

typedef float v4 __attribute__((vector_size(16)));

/* Unaligned load and store through memcpy: no alignment or aliasing UB. */
static inline v4 v4_load(const float *p) {
  v4 v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void v4_store(float *p, v4 v) { memcpy(p, &v, sizeof v); }

/* Four independent accumulators of 4 lanes (the adds' latency, not their
 * throughput, bounds a single chain). */
static inline float dot(const float *restrict a, const float *restrict b, int n) {
  v4 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    s0 += v4_load(a + k) * v4_load(b + k);
    s1 += v4_load(a + k + 4) * v4_load(b + k + 4);
    s2 += v4_load(a + k + 8) * v4_load(b + k + 8);
    s3 += v4_load(a + k + 12) * v4_load(b + k + 12);
  }
  for (; k + 4 <= n; k += 4) s0 += v4_load(a + k) * v4_load(b + k);
  const v4 t = (s0 + s2) + (s1 + s3);
  float s = (t[0] + t[2]) + (t[1] + t[3]);
  for (; k < n; k++) s += a[k] * b[k];
  return s;
}

/* y += a x */
static inline void axpy(float *restrict y, float a, const float *restrict x, int n) {
  const v4 av = (v4){0} + a;
  int k = 0;
  for (; k + 4 <= n; k += 4) v4_store(y + k, v4_load(y + k) + av * v4_load(x + k));
  for (; k < n; k++) y[k] += a * x[k];
}

/* y (n, n_out) = x (n, n_in) W^T + b, W (n_out, n_in); ldx, ldy row strides.
 * blas: one cblas_sgemm (student_forward); else one dot product per output
 * (the stream). Both add the bias after the sum. */
static void project(const float *x, int ldx, int n, int n_in, const float *W, const float *b, int n_out, float *y,
                   int ldy, int blas) {
  if (blas) {
    for (int r = 0; r < n; r++) memcpy(y + (size_t)r * ldy, b, (size_t)n_out * sizeof *y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n_out, n_in, 1.0f, x, ldx, W, n_in, 1.0f, y, ldy);
    return;
  }
  for (int r = 0; r < n; r++) {
    const float *xr = x + (size_t)r * ldx;
    float *yr = y + (size_t)r * ldy;
    for (int o = 0; o < n_out; o++) yr[o] = dot(W + (size_t)o * n_in, xr, n_in) + b[o];
  }
}

/* PyTorch's LayerNorm in place (biased variance, eps 1e-5): mean and
 * variance in two passes with double accumulators (8 lanes, vectorised). */
static void layer_norm(float *restrict x, int n, const float *restrict g, const float *restrict b) {
  double acc[8] = {0};
  int k = 0;
  for (; k + 8 <= n; k += 8)
    for (int u = 0; u < 8; u++) acc[u] += x[k + u];
  double s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; k < n; k++) s += x[k];
  const double mean = s / n;
  for (int u = 0; u < 8; u++) acc[u] = 0;
  for (k = 0; k + 8 <= n; k += 8)
    for (int u = 0; u < 8; u++) {
      double t = x[k + u] - mean;
      acc[u] += t * t;
    }
  double v = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; k < n; k++) v += (x[k] - mean) * (x[k] - mean);
  const double inv = 1.0 / sqrt(v / n + LN_EPS);
  for (k = 0; k < n; k++) x[k] = (float)((x[k] - mean) * inv * g[k] + b[k]);
}

/* x = LN(x + alpha r) */
static void residual_ln(float *restrict x, const float *restrict r, float alpha, int n, const float *g,
                        const float *b) {
  axpy(x, alpha, r, n);
  layer_norm(x, n, g, b);
}

/* In place over s (n >= 1): softmax. exp by kernels.h's vectorised
 * polynomial (within about 2 ulps of expf). Probabilities below 1e-30 are
 * set to 0, so that weighting the values cannot make denormals (slow on x86
 * and the stream does not set flush-to-zero); nothing a sum holding the
 * largest term, 1 before normalisation, can tell. */
static void softmax(float *s, int n) {
  float m = s[0];
  for (int k = 1; k < n; k++) m = s[k] > m ? s[k] : m;
  for (int k = 0; k < n; k++) s[k] -= m;
  exp_array(s, s, (size_t)n);
  float acc[8] = {0};
  int k = 0;
  for (; k + 8 <= n; k += 8)
    for (int u = 0; u < 8; u++) acc[u] += s[k + u];
  float sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; k < n; k++) sum += s[k];
  const float inv = 1.0f / sum;
  for (k = 0; k < n; k++) {
    const float p = s[k] * inv;
    s[k] = p < 1e-30f ? 0.0f : p;
  }
}

static float attn_scale(int e) { return (float)(1.0 / sqrt((double)e)); }

/* ALiBi slope of head h of H: 2^(-8 (h + 1) / H). */
static float alibi_slope(int h, int H) { return (float)pow(2.0, -8.0 * (h + 1) / H); }

/* The biased score of query i against key j: scaled dot product minus the
 * ALiBi distance penalty (slope 0: none). */
static inline float biased(float scaled, float slope, int64_t i, int64_t j) {
  return slope != 0.0f ? scaled - slope * (float)(i >= j ? i - j : j - i) : scaled;
}

/* (x - mean) / std */
static void normalise(const float *restrict x, int n, float mean, float std, float *restrict y) {
  for (int k = 0; k < n; k++) y[k] = (x[k] - mean) / std;
}

/* The frequency encoder's PE (PAPER 2.2.2), times pos_scale_f: pe (G, ef),
 * angle(g, i) = g / 10000^(2i / ef), sin for even i, cos for odd. */
static void freq_pe(const net *m, float *pe) {
  for (int g = 0; g < m->G; g++)
    for (int i = 0; i < m->ef; i++) {
      double a = g / pow(10000.0, 2.0 * i / m->ef);
      pe[g * m->ef + i] = (float)(m->c.pos_scale_f * (i % 2 ? cos(a) : sin(a)));
    }
}

/* Scratch for the row-wise parts, for n rows (frames). */
typedef struct rows_scratch {
  float *u;   /* (n, d) frequency tokens (n G, ef) */
  float *qkv; /* (n, 3d) */
  float *a;   /* (n, d) attention output before w_out */
  float *o;   /* (n, d) a projection's output */
  float *h;   /* (n, ff_mult d) FF hidden */
  float *tok; /* (G) scores over one frame's tokens */
  float *pe;  /* (d) the frequency PE, scaled */
} rows_scratch;

/* x (n, w) = FF(x) in place; h (n, hidden) and r (n, w) are scratch. */
static void feed_forward(const ff_w *f, float *x, int n, int w, int hidden, float *h, float *r, int blas) {
  project(x, w, n, w, f->w1, f->b1, hidden, h, hidden, blas);
  for (int k = 0; k < n; k++) {
    float *hk = h + (size_t)k * hidden;
    layer_norm(hk, hidden, f->ln1_g, f->ln1_b);
    for (int j = 0; j < hidden; j++) hk[j] = hk[j] > 0.0f ? hk[j] : 0.0f;
  }
  project(h, hidden, n, hidden, f->w2, f->b2, w, r, w, blas);
  const float alpha = *f->alpha;
  for (int k = 0; k < n; k++) residual_ln(x + (size_t)k * w, r + (size_t)k * w, alpha, w, f->ln2_g, f->ln2_b);
}

/* Attention among the G tokens of one frame: qkv (G, 3 ef) -> out (G, ef). */
static void token_attention(const net *m, const float *qkv, float *tok, float *out) {
  const int G = m->G, ef = m->ef, H = m->c.heads_f, e = ef / H;
  const float scale = attn_scale(e);
  for (int hd = 0; hd < H; hd++)
    for (int g = 0; g < G; g++) {
      const float *q = qkv + (size_t)g * 3 * ef + hd * e;
      for (int k = 0; k < G; k++) tok[k] = dot(q, qkv + (size_t)k * 3 * ef + ef + hd * e, e) * scale;
      softmax(tok, G);
      float *o = out + (size_t)g * ef + hd * e;
      memset(o, 0, (size_t)e * sizeof *o);
      for (int k = 0; k < G; k++) axpy(o, tok[k], qkv + (size_t)k * 3 * ef + 2 * ef + hd * e, e);
    }
}

/* yF (n, d) of n normalised frames xn (n, d). */
static void freq_encoder(const net *m, const float *xn, int n, float *yF, const rows_scratch *s, int blas) {
  const int d = m->d, ef = m->ef, rows = n * m->G; /* tokens */
  float *U = s->u;
  for (int t = 0; t < n; t++)
    for (int k = 0; k < d; k++) U[(size_t)t * d + k] = xn[(size_t)t * d + k] + s->pe[k];
  for (int l = 0; l < m->c.layers_f; l++) {
    const enc_w *L = &m->f[l];
    project(U, ef, rows, ef, L->attn.w_in, L->attn.b_in, 3 * ef, s->qkv, 3 * ef, blas);
    for (int t = 0; t < n; t++) token_attention(m, s->qkv + (size_t)t * 3 * d, s->tok, s->a + (size_t)t * d);
    project(s->a, ef, rows, ef, L->attn.w_out, L->attn.b_out, ef, s->o, ef, blas);
    const float alpha = *L->alpha;
    for (int t = 0; t < n; t++) axpy(U + (size_t)t * d, alpha, s->o + (size_t)t * d, d);
    feed_forward(&L->ff, U, rows, ef, m->hf, s->h, s->o, blas);
  }
  project(U, d, n, d, m->f_out.w, m->f_out.b, d, yF, d, blas);
  for (int t = 0; t < n; t++) layer_norm(yF + (size_t)t * d, d, m->f_out.ln_g, m->f_out.ln_b);
}

/* ---- the full-window forward pass ---------------------------------------------------- */

/* Banded time attention for the queries [r0, r1) (ALiBi per m->c.alibi):
 * qkv (T, 3d) holds q | k | v of every frame; query i sees keys
 * max(0, i - context + 1) <= j <= min(T - 1, i + la). Writes rows
 * (r1 - r0, d) of out. S: (QB, min(T, QB + context - 1 + la)). */
static void band_attention(const net *m, const float *qkv, int T, int heads, int la, int r0, int r1, float *S,
                           float *out) {
  const int d = m->d, ld = 3 * d, e = d / heads, ctx = m->c.context;
  const float scale = attn_scale(e);
  for (int q0 = r0; q0 < r1; q0 += QB) {
    const int q1 = q0 + QB < r1 ? q0 + QB : r1, nq = q1 - q0;
    const int k0 = q0 - ctx + 1 > 0 ? q0 - ctx + 1 : 0;
    const int k1 = (int64_t)q1 - 1 + la < T - 1 ? q1 - 1 + la : T - 1;
    const int nk = k1 - k0 + 1;
    for (int hd = 0; hd < heads; hd++) {
      const float slope = m->c.alibi ? alibi_slope(hd, heads) : 0.0f;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, e, scale, qkv + (size_t)q0 * ld + hd * e, ld,
                  qkv + (size_t)k0 * ld + d + hd * e, ld, 0.0f, S, nk);
      for (int r = 0; r < nq; r++) {
        const int i = q0 + r;
        const int lo = i - ctx + 1 > k0 ? i - ctx + 1 : k0;
        const int hi = (int64_t)i + la < k1 ? i + la : k1;
        float *row = S + (size_t)r * nk;
        for (int j = lo; j <= hi; j++) row[j - k0] = biased(row[j - k0], slope, i, j);
        softmax(row + (lo - k0), hi - lo + 1);
        for (int j = k0; j < lo; j++) row[j - k0] = 0.0f;
        for (int j = hi + 1; j <= k1; j++) row[j - k0] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, e, nk, 1.0f, S, nk,
                  qkv + (size_t)k0 * ld + 2 * d + hd * e, ld, 0.0f, out + (size_t)(q0 - r0) * d + hd * e, d);
    }
  }
}

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

/* project over T rows, one cblas_sgemm per CHUNK rows counted from row 0.
 * Not one call over all T: OpenBLAS's result for a row depends on the
 * call's row count and the row's place in it (its kernels' edge cases
 * round differently), so a call over all T rows would make a frame's bits
 * depend on the file's length. In blocks of CHUNK, a window of frames that
 * starts on a multiple of CHUNK makes exactly the calls the whole sequence
 * makes for them (student_blocks.h). */
static void project_rows(const float *x, int ldx, int T, int n_in, const float *W, const float *b, int n_out,
                         float *y, int ldy) {
  for (int r0 = 0; r0 < T; r0 += CHUNK) {
    const int nr = T - r0 < CHUNK ? T - r0 : CHUNK;
    project(x + (size_t)r0 * ldx, ldx, nr, n_in, W, b, n_out, y + (size_t)r0 * ldy, ldy, 1);
  }
}

/* Thread: any (pure; allocates its scratch, frees it before returning;
 * cblas_sgemm may use OpenBLAS's threads). */
chordlet_status student_forward(const student_config *c, const float *params, const float *x, int T,
                                float *logits, chordlet_error *err) {
  if (!x || !logits)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "student: input and output must not be NULL");
  if (T < 1) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "student: %d frames: need at least 1", T);
  net m;
  chordlet_status st = bind_net(&m, c, params, err);
  if (st != CHORDLET_OK) return st;
  const int d = m.d, la = c->lookahead;
  const size_t Tz = (size_t)T, R = (size_t)(T < CHUNK ? T : CHUNK);
  const size_t span = (size_t)QB + (size_t)c->context - 1 + (size_t)la;
  const size_t s_cols = span < Tz ? span : Tz;
  /* (T, d) x 2 + (T, 3d) + row scratch (R rows) + the score block. */
  if (Tz > SIZE_MAX / sizeof(float) / 4 / (5 * (size_t)d) || s_cols > SIZE_MAX / sizeof(float) / 4 / QB)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "student: %d frames are more than this machine can address",
                         T);
  const size_t sizes[10] = {align16(Tz * d),     align16(Tz * d),     align16(Tz * 3 * d),
                            align16(R * d),      align16(R * 3 * d),  align16(R * d),
                            align16(R * d),      align16(R * m.ht),   align16((size_t)m.G) + align16((size_t)d),
                            align16(QB * s_cols)};
  size_t total = 0;
  for (int k = 0; k < 10; k++) total += sizes[k];
  float *base = malloc(total * sizeof *base);
  if (!base)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "student: out of memory (%d frames need %.1f MB of scratch)",
                         T, (double)total * sizeof(float) / 1e6);
  float *p = base;
  float *X = p; /* (T, d) normalised input, the temporal encoder's state, then yT */
  p += sizes[0];
  float *Y = p; /* (T, d) yF, then the decoder's state */
  p += sizes[1];
  float *QKV = p; /* (T, 3d) one time attention's q | k | v */
  p += sizes[2];
  rows_scratch s;
  s.u = p, p += sizes[3];
  s.qkv = p, p += sizes[4];
  s.a = p, p += sizes[5];
  s.o = p, p += sizes[6];
  s.h = p, p += sizes[7];
  s.tok = p, s.pe = p + align16((size_t)m.G), p += sizes[8];
  float *S = p; /* (QB, s_cols) */
  freq_pe(&m, s.pe);

  for (size_t t = 0; t < Tz; t++) normalise(x + t * d, d, c->norm_mean, c->norm_std, X + t * d);

  /* Frequency encoder, CHUNK frames at a time, into Y. */
  for (int r0 = 0; r0 < T; r0 += CHUNK) {
    const int nr = T - r0 < CHUNK ? T - r0 : CHUNK;
    freq_encoder(&m, X + (size_t)r0 * d, nr, Y + (size_t)r0 * d, &s, 1);
  }

  /* Temporal encoder. Keys and values for all T frames, then per block of
   * rows: attention, w_out, the residual and FF (row-wise, so X's rows may
   * change once their q, k, v are in QKV). */
  for (int l = 0; l < c->layers_t; l++) {
    const enc_w *L = &m.t[l];
    project_rows(X, d, T, d, L->attn.w_in, L->attn.b_in, 3 * d, QKV, 3 * d);
    const float alpha = *L->alpha;
    for (int r0 = 0; r0 < T; r0 += CHUNK) {
      const int nr = T - r0 < CHUNK ? T - r0 : CHUNK;
      float *Xr = X + (size_t)r0 * d;
      band_attention(&m, QKV, T, c->heads_t, l == 0 ? la : 0, r0, r0 + nr, S, s.a);
      project(s.a, d, nr, d, L->attn.w_out, L->attn.b_out, d, s.o, d, 1);
      for (int k = 0; k < nr; k++) axpy(Xr + (size_t)k * d, alpha, s.o + (size_t)k * d, d);
      feed_forward(&L->ff, Xr, nr, d, m.ht, s.h, s.o, 1);
    }
  }
  /* yT = LN(X t.fc^T + b) in place of X; Y = yF + yT. */
  for (int r0 = 0; r0 < T; r0 += CHUNK) {
    const int nr = T - r0 < CHUNK ? T - r0 : CHUNK;
    float *Xr = X + (size_t)r0 * d;
    project(Xr, d, nr, d, m.t_out.w, m.t_out.b, d, s.o, d, 1);
    for (int k = 0; k < nr; k++) layer_norm(s.o + (size_t)k * d, d, m.t_out.ln_g, m.t_out.ln_b);
    memcpy(Xr, s.o, (size_t)nr * d * sizeof *Xr);
  }
  const float *yT = X;
  for (size_t k = 0; k < Tz * d; k++) Y[k] += yT[k];

  /* Decoder. */
  for (int l = 0; l < c->layers_d; l++) {
    const dec_w *L = &m.dl[l];
    project_rows(Y, d, T, d, L->self.w_in, L->self.b_in, 3 * d, QKV, 3 * d);
    float alpha = *L->self_alpha;
    for (int r0 = 0; r0 < T; r0 += CHUNK) {
      const int nr = T - r0 < CHUNK ? T - r0 : CHUNK;
      band_attention(&m, QKV, T, c->heads_d, 0, r0, r0 + nr, S, s.a);
      project(s.a, d, nr, d, L->self.w_out, L->self.b_out, d, s.o, d, 1);
      for (int k = 0; k < nr; k++)
        residual_ln(Y + (size_t)(r0 + k) * d, s.o + (size_t)k * d, alpha, d, m.d_ln_g, m.d_ln_b);
    }
    /* Cross-attention: queries from Y, keys and values from yT. */
    project_rows(Y, d, T, d, L->cross.w_in, L->cross.b_in, d, QKV, 3 * d);
    project_rows(yT, d, T, d, L->cross.w_in + (size_t)d * d, L->cross.b_in + d, 2 * d, QKV + d, 3 * d);
    alpha = *L->cross_alpha;
    for (int r0 = 0; r0 < T; r0 += CHUNK) {
      const int nr = T - r0 < CHUNK ? T - r0 : CHUNK;
      float *Yr = Y + (size_t)r0 * d;
      band_attention(&m, QKV, T, c->heads_d, 0, r0, r0 + nr, S, s.a);
      project(s.a, d, nr, d, L->cross.w_out, L->cross.b_out, d, s.o, d, 1);
      for (int k = 0; k < nr; k++)
        residual_ln(Yr + (size_t)k * d, s.o + (size_t)k * d, alpha, d, m.d_ln_g, m.d_ln_b);
      feed_forward(&L->ff, Yr, nr, d, m.ht, s.h, s.o, 1);
    }
  }
  project_rows(Y, d, T, d, m.out_w, m.out_b, c->n_classes, logits, c->n_classes);
  free(base);
  return CHORDLET_OK;
}

/* ---- the stream ------------------------------------------------------------------------- */

/* The keys and values of one time attention, transposed and mirrored: of
 * frame j, in slot j % cap, component k of the key is at kt[k * 2cap + slot]
 * and again at [k * 2cap + slot + cap], so that any cap consecutive frames
 * are contiguous in every row; likewise the value in vt. A query's scores are
 * then axpys along contiguous keys, and its output dot products along
 * contiguous values. */
typedef struct kv_ring {
  float *kt, *vt; /* (d, 2 cap) each */
  int cap;        /* context (causal), context + lookahead (first temporal layer) */
} kv_ring;

static void ring_put(const kv_ring *r, int d, int64_t j, const float *restrict k, const float *restrict v) {
  const size_t slot = (size_t)(j % r->cap), w = 2 * (size_t)r->cap;
  for (int c = 0; c < d; c++) {
    r->kt[c * w + slot] = r->kt[c * w + slot + r->cap] = k[c];
    r->vt[c * w + slot] = r->vt[c * w + slot + r->cap] = v[c];
  }
}

/*
 * The stream keeps a pointer to the caller's parameters (no copy): they must
 * stay alive and unchanged while the stream exists (change them, then reset,
 * to run other weights). It copies the config.
 */
struct student_stream {
  net m;
  int cap0;      /* slots of the first temporal layer's rings: context + lookahead */
  float *x_ring; /* (cap0, d) normalised inputs, frame j in slot j % cap0 */
  float *q_ring; /* (cap0, d) the first temporal layer's queries, same slots */
  kv_ring t_ring[STUDENT_MAX_LAYERS];     /* temporal layers (0: cap0 slots, from the pushes) */
  kv_ring self_ring[STUDENT_MAX_LAYERS];  /* decoder self-attention */
  kv_ring cross_ring[STUDENT_MAX_LAYERS]; /* decoder cross-attention (keys from yT) */
  rows_scratch rs;  /* one frame's row scratch */
  float *X, *q, *yF, *yT, *Y; /* (d) each; q: a causal layer's query */
  float *scores;    /* (cap0) one head's scores */
  int64_t pushed;   /* frames pushed since creation or reset */
  int64_t done;     /* frames whose logits have been returned */
  float *block;     /* the one allocation behind every buffer */
};

/* Attention of query frame i (q (d)) over the frames jlo..jhi of ring r
 * (jhi - jlo < r->cap): out (d). */
static void ring_attention(const net *m, int heads, const float *q, const kv_ring *r, int64_t i, int64_t jlo,
                           int64_t jhi, float *scores, float *out) {
  const int d = m->d, e = d / heads, n = (int)(jhi - jlo + 1);
  const float scale = attn_scale(e);
  const size_t w = 2 * (size_t)r->cap, c0 = (size_t)(jlo % r->cap);
  for (int hd = 0; hd < heads; hd++) {
    const float slope = m->c.alibi ? alibi_slope(hd, heads) : 0.0f;
    memset(scores, 0, (size_t)n * sizeof *scores);
    for (int k = hd * e; k < (hd + 1) * e; k++) axpy(scores, q[k], r->kt + k * w + c0, n);
    for (int j = 0; j < n; j++) scores[j] = biased(scores[j] * scale, slope, i, jlo + j);
    softmax(scores, n);
    for (int k = hd * e; k < (hd + 1) * e; k++) out[k] = dot(scores, r->vt + k * w + c0, n);
  }
}

/* Frame i through the network, with frames up to `last` pushed (the first
 * temporal layer's keys end at min(i + lookahead, last)). */
static void stream_frame(student_stream *s, int64_t i, int64_t last, float *logits) {
  const net *m = &s->m;
  const student_config *c = &m->c;
  const int d = m->d;
  const rows_scratch *rs = &s->rs;
  float *kv = rs->qkv; /* (2d) a new frame's key and value */
  const float *xi = s->x_ring + (size_t)(i % s->cap0) * d;
  const int64_t jlo = i - c->context + 1 > 0 ? i - c->context + 1 : 0;

  freq_encoder(m, xi, 1, s->yF, rs, 0);

  memcpy(s->X, xi, (size_t)d * sizeof *s->X);
  for (int l = 0; l < c->layers_t; l++) {
    const enc_w *L = &m->t[l];
    if (l == 0) { /* queries, keys and values computed by push */
      const int64_t jhi = i + c->lookahead < last ? i + c->lookahead : last;
      ring_attention(m, c->heads_t, s->q_ring + (size_t)(i % s->cap0) * d, &s->t_ring[0], i, jlo, jhi, s->scores,
                     rs->a);
    } else {
      project(s->X, d, 1, d, L->attn.w_in, L->attn.b_in, d, s->q, d, 0);
      project(s->X, d, 1, d, L->attn.w_in + (size_t)d * d, L->attn.b_in + d, 2 * d, kv, 2 * d, 0);
      ring_put(&s->t_ring[l], d, i, kv, kv + d);
      ring_attention(m, c->heads_t, s->q, &s->t_ring[l], i, jlo, i, s->scores, rs->a);
    }
    project(rs->a, d, 1, d, L->attn.w_out, L->attn.b_out, d, rs->o, d, 0);
    axpy(s->X, *L->alpha, rs->o, d);
    feed_forward(&L->ff, s->X, 1, d, m->ht, rs->h, rs->o, 0);
  }
  project(s->X, d, 1, d, m->t_out.w, m->t_out.b, d, s->yT, d, 0);
  layer_norm(s->yT, d, m->t_out.ln_g, m->t_out.ln_b);
  for (int k = 0; k < d; k++) s->Y[k] = s->yF[k] + s->yT[k];

  for (int l = 0; l < c->layers_d; l++) {
    const dec_w *L = &m->dl[l];
    project(s->Y, d, 1, d, L->self.w_in, L->self.b_in, d, s->q, d, 0);
    project(s->Y, d, 1, d, L->self.w_in + (size_t)d * d, L->self.b_in + d, 2 * d, kv, 2 * d, 0);
    ring_put(&s->self_ring[l], d, i, kv, kv + d);
    ring_attention(m, c->heads_d, s->q, &s->self_ring[l], i, jlo, i, s->scores, rs->a);
    project(rs->a, d, 1, d, L->self.w_out, L->self.b_out, d, rs->o, d, 0);
    residual_ln(s->Y, rs->o, *L->self_alpha, d, m->d_ln_g, m->d_ln_b);

    project(s->Y, d, 1, d, L->cross.w_in, L->cross.b_in, d, s->q, d, 0);
    project(s->yT, d, 1, d, L->cross.w_in + (size_t)d * d, L->cross.b_in + d, 2 * d, kv, 2 * d, 0);
    ring_put(&s->cross_ring[l], d, i, kv, kv + d);
    ring_attention(m, c->heads_d, s->q, &s->cross_ring[l], i, jlo, i, s->scores, rs->a);
    project(rs->a, d, 1, d, L->cross.w_out, L->cross.b_out, d, rs->o, d, 0);
    residual_ln(s->Y, rs->o, *L->cross_alpha, d, m->d_ln_g, m->d_ln_b);
    feed_forward(&L->ff, s->Y, 1, d, m->ht, rs->h, rs->o, 0);
  }
  project(s->Y, d, 1, d, m->out_w, m->out_b, c->n_classes, logits, c->n_classes, 0);
}

/* Thread: any (allocates; one block for every ring and scratch buffer). */
chordlet_status student_stream_create(const student_config *c, const float *params, student_stream **out,
                                      chordlet_error *err) {
  if (!out) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "student: no stream to create");
  *out = NULL;
  student_stream *s = calloc(1, sizeof *s);
  if (!s) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "student: out of memory");
  chordlet_status st = bind_net(&s->m, c, params, err);
  if (st != CHORDLET_OK) {
    free(s);
    return st;
  }
  const size_t d = (size_t)s->m.d, ctx = (size_t)c->context;
  s->cap0 = c->context + c->lookahead;
  const size_t cap0 = (size_t)s->cap0;
  const int n_causal = c->layers_t - 1 + 2 * c->layers_d;
  const size_t ring = align16(d * 2 * ctx), ring0 = align16(d * 2 * cap0);
  const size_t total = 2 * align16(cap0 * d) + 2 * ring0 + 2 * (size_t)n_causal * ring +
                       /* rs: u, qkv, a, o, h, tok, pe */
                       align16(d) + align16(3 * d) + 2 * align16(d) + align16((size_t)s->m.ht) +
                       align16((size_t)s->m.G) + align16(d) +
                       /* X, q, yF, yT, Y, scores */
                       5 * align16(d) + align16(cap0);
  s->block = calloc(total, sizeof(float));
  if (!s->block) {
    free(s);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "student: out of memory (stream of %.1f MB)",
                         (double)total * sizeof(float) / 1e6);
  }
  float *p = s->block;
  s->x_ring = p, p += align16(cap0 * d);
  s->q_ring = p, p += align16(cap0 * d);
  s->t_ring[0] = (kv_ring){p, p + ring0, s->cap0};
  p += 2 * ring0;
  for (int l = 1; l < c->layers_t; l++) {
    s->t_ring[l] = (kv_ring){p, p + ring, c->context};
    p += 2 * ring;
  }
  for (int l = 0; l < c->layers_d; l++) {
    s->self_ring[l] = (kv_ring){p, p + ring, c->context};
    p += 2 * ring;
    s->cross_ring[l] = (kv_ring){p, p + ring, c->context};
    p += 2 * ring;
  }
  s->rs.u = p, p += align16(d);
  s->rs.qkv = p, p += align16(3 * d);
  s->rs.a = p, p += align16(d);
  s->rs.o = p, p += align16(d);
  s->rs.h = p, p += align16((size_t)s->m.ht);
  s->rs.tok = p, p += align16((size_t)s->m.G);
  s->rs.pe = p, p += align16(d);
  s->X = p, p += align16(d);
  s->q = p, p += align16(d);
  s->yF = p, p += align16(d);
  s->yT = p, p += align16(d);
  s->Y = p, p += align16(d);
  s->scores = p;
  freq_pe(&s->m, s->rs.pe);
  *out = s;
  return CHORDLET_OK;
}

/* NULL is fine. Thread: the one that created it, or any once the worker is done with it. */
void student_stream_free(student_stream *s) {
  if (!s) return;
  free(s->block);
  free(s);
}

/* Thread: the stream's worker. Constant time: the rings are not cleared
 * (a slot is always written before it is read). */
void student_stream_reset(student_stream *s) {
  s->pushed = 0;
  s->done = 0;
}

/* Thread: the stream's worker; no allocation, lock or I/O. */
int student_stream_push(student_stream *s, const float *frame, float *logits) {
  const net *m = &s->m;
  const int d = m->d;
  const int64_t n = s->pushed;
  const size_t slot = (size_t)(n % s->cap0);
  float *xn = s->x_ring + slot * d, *kv = s->rs.qkv;
  normalise(frame, d, m->c.norm_mean, m->c.norm_std, xn);
  /* The first temporal layer's query, key and value of frame n. */
  const mha_w *a = &m->t[0].attn;
  project(xn, d, 1, d, a->w_in, a->b_in, d, s->q_ring + slot * d, d, 0);
  project(xn, d, 1, d, a->w_in + (size_t)d * d, a->b_in + d, 2 * d, kv, 2 * d, 0);
  ring_put(&s->t_ring[0], d, n, kv, kv + d);
  s->pushed = n + 1;
  /* Frame n - lookahead now has all its keys. Pushing on after a flush
   * (without a reset) continues the sequence: `done` is then ahead, the
   * flushed frames keep the future they were computed with, and output
   * resumes `lookahead` pushes later with frame `done`. */
  if (n - m->c.lookahead < s->done) return 0;
  stream_frame(s, s->done, n, logits);
  s->done++;
  return 1;
}

/* Thread: the stream's worker; no allocation, lock or I/O. */
int student_stream_flush(student_stream *s, float *logits) {
  if (s->done >= s->pushed) return 0;
  stream_frame(s, s->done, s->pushed - 1, logits);
  s->done++;
  return 1;
}

int student_stream_lookahead(const student_stream *s) { return s->m.c.lookahead; }
