/* student_train.c: forward with stored activations, losses and backward of
 * the 2E1D student (student_train.h; the math is engine/student.h's).
 *
 * Shapes: n = b * T rows (frames of the batch, window-major); the frequency
 * encoder works on n * G token rows of width e_f = d / G, which is the same
 * memory as (n, d). w is a block's width, hid = ff_mult * w its FF hidden
 * width, e = w / heads a head's width. All matrices are row-major.
 *
 * What is stored per block (for the backward pass):
 *   encoder layer: qkv (n, 3w), att (n, w) heads concatenated, ao (n, w) the
 *     MHA output, h (n, w) = in + alpha * ao, then the FF's activations;
 *   FF: xh1 (n, hid) LN1's normalised input and rs1 (n) its 1/std, m1 the
 *     dropout mask after the ReLU, s (n, w) = Drop(u w2^T + b2), m2, xh2 and
 *     rs2 (LN2), out (n, w). The hidden activation u = Drop(ReLU(LN1(.))) is
 *     recomputed from xh1 in the backward pass (saves n * hid floats per FF);
 *   decoder layer: per attention qkv, att, ao (after its dropout) and mask,
 *     LN_D's xh and rs and its output; then the FF;
 *   heads (fc after dropout, then LN): the dropped input, mask, xh, rs, y.
 * Time attention's probabilities are not stored: the backward pass
 * recomputes them block by block (one extra q k^T product).
 */
#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "rng.h"
#include "student_train.h"

enum { QB = 64 }; /* query rows per block of banded time attention */
#define LN_EPS 1e-5f

/* ---- parameter offsets (floats into the flat buffer) ---- */

typedef struct mha_off {
  size_t w_in, b_in, w_out, b_out;
} mha_off;
typedef struct ff_off {
  size_t w1, b1, g1, c1, w2, b2, g2, c2, alpha; /* g/c: LayerNorm gain/bias */
} ff_off;
typedef struct enc_off {
  mha_off attn;
  size_t alpha;
  ff_off ff;
} enc_off;
typedef struct dec_off {
  mha_off self, cross;
  size_t self_alpha, cross_alpha;
  ff_off ff;
} dec_off;
typedef struct head_off {
  size_t w, b, g, c; /* fc (d, d), fc bias, LN gain, LN bias */
} head_off;

/* ---- stored activations ---- */

typedef struct ff_act {
  float *xh1, *rs1;  /* (n, hid), (n) */
  unsigned char *m1; /* (n, hid) keep mask, NULL when the config has no dropout */
  float *s;          /* (n, w) Drop(u w2^T + b2) */
  unsigned char *m2; /* (n, w) */
  float *xh2, *rs2;  /* (n, w), (n) */
  float *out;        /* (n, w) */
} ff_act;

typedef struct enc_act {
  float *qkv; /* (n, 3w) q | k | v */
  float *att; /* (n, w) heads concatenated, before w_out */
  float *ao;  /* (n, w) MHA output */
  float *h;   /* (n, w) in + alpha ao: the FF's input */
  ff_act ff;
} enc_act;

typedef struct dec_act {
  float *qkv1, *att1, *ao1; /* self-attention: (n, 3d), (n, d), (n, d) Drop(MHA) */
  unsigned char *m1;        /* (n, d) */
  float *xh1, *rs1, *y1;    /* LN_D: (n, d), (n), (n, d) */
  float *qkv2, *att2, *ao2; /* cross-attention, q from y1, k and v from yT */
  unsigned char *m2;
  float *xh2, *rs2, *y2;
  ff_act ff;
} dec_act;

typedef struct head_act {
  float *in_d;       /* (n, d) Drop(in) (used when dropout is on) */
  unsigned char *m;  /* (n, d) */
  const float *src;  /* what fc saw this step: in_d or the input itself */
  float *xh, *rs, *y; /* (n, d), (n), (n, d) */
} head_act;

typedef struct band {
  int T, context, la, alibi;
} band;

typedef struct drop_state {
  int on;
  uint32_t thresh; /* keep iff a 16-bit uniform >= thresh */
  float scale;     /* 65536 / (65536 - thresh) */
  rng r;
} drop_state;

struct student_trainer {
  student_config c;
  int batch, T;
  int d, G, ef, K, hid, hid_f;
  student_param layout[STUDENT_MAX_PARAMS];
  int n_tensors;
  size_t n_params;
  int bad; /* a tensor was missing from the layout */
  /* parameters */
  enc_off fo[STUDENT_MAX_LAYERS], to[STUDENT_MAX_LAYERS];
  dec_off dof[STUDENT_MAX_LAYERS];
  head_off fho, tho;
  size_t dln_g, dln_c, out_w, out_b;
  /* activations */
  float *xn; /* (n, d) normalised input = the temporal encoder's input */
  float *u0; /* (n G, e_f) xn + PE: the frequency encoder's input */
  enc_act fa[STUDENT_MAX_LAYERS], ta[STUDENT_MAX_LAYERS];
  head_act fh, th; /* fh.y = yF, th.y = yT */
  float *y0;       /* (n, d) yF + yT */
  dec_act da[STUDENT_MAX_LAYERS];
  float *yo_d;       /* (n, d) Drop(decoder output) */
  unsigned char *mo; /* (n, d) */
  const float *osrc; /* what out.w saw this step */
  float *logits, *dlogits; /* (n, K) */
  /* scratch */
  float *hidA, *hidB;   /* (n, hid) */
  float *wA, *wB, *wC;  /* (n, d) */
  float *dqkv;          /* (n, 3d) */
  float *gx0, *gx1;     /* (n, d) gradients flowing between blocks */
  float *gyT;           /* (n, d) gradient of yT */
  float *attS, *attD;   /* (QB, T) */
  float *fP;            /* (2 G) frequency attention row */
  float *pe;            /* (G, e_f) pos_scale_f * PE */
  double *lp, *lq;      /* (K) loss rows */
  /* memory */
  float *arena;
  unsigned char *marena;
  size_t bytes;
  /* last step */
  int b_last;
};

/* ---- allocation plan ---- */

typedef struct arena {
  float *base;
  size_t used;
  unsigned char *mbase;
  size_t mused;
  int masks; /* the config has dropout: allocate masks */
} arena;

static float *take(arena *a, size_t n) {
  float *p = a->base ? a->base + a->used : NULL;
  a->used += (n + 15) & ~(size_t)15;
  return p;
}

static unsigned char *take_mask(arena *a, size_t n) {
  if (!a->masks) return NULL;
  unsigned char *p = a->mbase ? a->mbase + a->mused : NULL;
  a->mused += (n + 63) & ~(size_t)63;
  return p;
}

static void plan_ff(arena *a, ff_act *f, size_t n, int w, int hid) {
  f->xh1 = take(a, n * hid);
  f->rs1 = take(a, n);
  f->m1 = take_mask(a, n * hid);
  f->s = take(a, n * w);
  f->m2 = take_mask(a, n * w);
  f->xh2 = take(a, n * w);
  f->rs2 = take(a, n);
  f->out = take(a, n * w);
}

static void plan_enc(arena *a, enc_act *e, size_t n, int w, int hid) {
  e->qkv = take(a, n * 3 * w);
  e->att = take(a, n * w);
  e->ao = take(a, n * w);
  e->h = take(a, n * w);
  plan_ff(a, &e->ff, n, w, hid);
}

static void plan_head(arena *a, head_act *h, size_t n, int d) {
  h->in_d = a->masks ? take(a, n * d) : NULL;
  h->m = take_mask(a, n * d);
  h->xh = take(a, n * d);
  h->rs = take(a, n);
  h->y = take(a, n * d);
}

static void plan_dec(arena *a, dec_act *e, size_t n, int d, int hid) {
  e->qkv1 = take(a, n * 3 * d);
  e->att1 = take(a, n * d);
  e->ao1 = take(a, n * d);
  e->m1 = take_mask(a, n * d);
  e->xh1 = take(a, n * d);
  e->rs1 = take(a, n);
  e->y1 = take(a, n * d);
  e->qkv2 = take(a, n * 3 * d);
  e->att2 = take(a, n * d);
  e->ao2 = take(a, n * d);
  e->m2 = take_mask(a, n * d);
  e->xh2 = take(a, n * d);
  e->rs2 = take(a, n);
  e->y2 = take(a, n * d);
  plan_ff(a, &e->ff, n, d, hid);
}

static void plan(student_trainer *t, arena *a) {
  const size_t n = (size_t)t->batch * (size_t)t->T;
  const int d = t->d, G = t->G;
  t->xn = take(a, n * d);
  t->u0 = take(a, n * d);
  for (int l = 0; l < t->c.layers_f; l++) plan_enc(a, &t->fa[l], n * G, t->ef, t->hid_f);
  plan_head(a, &t->fh, n, d);
  for (int l = 0; l < t->c.layers_t; l++) plan_enc(a, &t->ta[l], n, d, t->hid);
  plan_head(a, &t->th, n, d);
  t->y0 = take(a, n * d);
  for (int l = 0; l < t->c.layers_d; l++) plan_dec(a, &t->da[l], n, d, t->hid);
  t->yo_d = a->masks ? take(a, n * d) : NULL;
  t->mo = take_mask(a, n * d);
  t->logits = take(a, n * t->K);
  t->dlogits = take(a, n * t->K);
  /* the frequency encoder's (nG, hid_f) is the same size as (n, hid) */
  t->hidA = take(a, n * t->hid);
  t->hidB = take(a, n * t->hid);
  t->wA = take(a, n * d);
  t->wB = take(a, n * d);
  t->wC = take(a, n * d);
  t->dqkv = take(a, n * 3 * d);
  t->gx0 = take(a, n * d);
  t->gx1 = take(a, n * d);
  t->gyT = take(a, n * d);
  t->attS = take(a, (size_t)QB * t->T);
  t->attD = take(a, (size_t)QB * t->T);
  t->fP = take(a, 2 * (size_t)G);
  t->pe = take(a, (size_t)G * t->ef);
  /* two double arrays of K, as floats */
  float *lp = take(a, 2 * (size_t)t->K), *lq = take(a, 2 * (size_t)t->K);
  t->lp = (double *)(void *)lp;
  t->lq = (double *)(void *)lq;
}

/* ---- parameter lookup ---- */

static size_t find(student_trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t find(student_trainer *t, const char *fmt, ...) {
  char name[64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  size_t off = student_param_offset(t->layout, t->n_tensors, name);
  if (off == (size_t)-1) {
    t->bad = 1;
    return 0;
  }
  return off;
}

static void find_mha(student_trainer *t, mha_off *m, const char *prefix) {
  m->w_in = find(t, "%s.w_in", prefix);
  m->b_in = find(t, "%s.b_in", prefix);
  m->w_out = find(t, "%s.w_out", prefix);
  m->b_out = find(t, "%s.b_out", prefix);
}

static void find_ff(student_trainer *t, ff_off *f, const char *prefix) {
  f->w1 = find(t, "%s.w1", prefix);
  f->b1 = find(t, "%s.b1", prefix);
  f->g1 = find(t, "%s.ln1.g", prefix);
  f->c1 = find(t, "%s.ln1.b", prefix);
  f->w2 = find(t, "%s.w2", prefix);
  f->b2 = find(t, "%s.b2", prefix);
  f->g2 = find(t, "%s.ln2.g", prefix);
  f->c2 = find(t, "%s.ln2.b", prefix);
  f->alpha = find(t, "%s.alpha", prefix);
}

static void find_encoder(student_trainer *t, char tag, int layers, enc_off *e, head_off *h) {
  char prefix[40];
  for (int l = 0; l < layers; l++) {
    snprintf(prefix, sizeof prefix, "%c.%d.attn", tag, l);
    find_mha(t, &e[l].attn, prefix);
    e[l].alpha = find(t, "%c.%d.attn_alpha", tag, l);
    snprintf(prefix, sizeof prefix, "%c.%d.ff", tag, l);
    find_ff(t, &e[l].ff, prefix);
  }
  h->w = find(t, "%c.fc.w", tag);
  h->b = find(t, "%c.fc.b", tag);
  h->g = find(t, "%c.ln.g", tag);
  h->c = find(t, "%c.ln.b", tag);
}

static void find_all(student_trainer *t) {
  find_encoder(t, 'f', t->c.layers_f, t->fo, &t->fho);
  find_encoder(t, 't', t->c.layers_t, t->to, &t->tho);
  char prefix[40];
  for (int l = 0; l < t->c.layers_d; l++) {
    snprintf(prefix, sizeof prefix, "d.%d.self", l);
    find_mha(t, &t->dof[l].self, prefix);
    t->dof[l].self_alpha = find(t, "d.%d.self_alpha", l);
    snprintf(prefix, sizeof prefix, "d.%d.cross", l);
    find_mha(t, &t->dof[l].cross, prefix);
    t->dof[l].cross_alpha = find(t, "d.%d.cross_alpha", l);
    snprintf(prefix, sizeof prefix, "d.%d.ff", l);
    find_ff(t, &t->dof[l].ff, prefix);
  }
  t->dln_g = find(t, "d.ln.g");
  t->dln_c = find(t, "d.ln.b");
  t->out_w = find(t, "out.w");
  t->out_b = find(t, "out.b");
}

/* ---- create / free ---- */

student_trainer *student_trainer_create(const student_config *c, int batch, int frames) {
  if (!c || batch < 1 || frames < 1 || student_config_check(c, NULL) != CHORDLET_OK) return NULL;
  if ((double)batch * frames * c->n_bins * (3.0 + c->ff_mult) > 2e9) return NULL; /* int sgemm sizes */
  student_trainer *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->c = *c;
  t->batch = batch;
  t->T = frames;
  t->d = c->n_bins;
  t->G = c->n_groups;
  t->ef = c->n_bins / c->n_groups;
  t->K = c->n_classes;
  t->hid = c->ff_mult * c->n_bins;
  t->hid_f = c->ff_mult * t->ef;
  t->n_tensors = student_layout(c, t->layout, &t->n_params);
  if (t->n_tensors > STUDENT_MAX_PARAMS) {
    free(t);
    return NULL;
  }
  find_all(t);
  if (t->bad) {
    free(t);
    return NULL;
  }
  arena a = {NULL, 0, NULL, 0, c->dropout > 0.0f};
  plan(t, &a);
  t->arena = malloc(a.used * sizeof(float));
  t->marena = a.mused ? malloc(a.mused) : NULL;
  if (!t->arena || (a.mused && !t->marena)) {
    student_trainer_free(t);
    return NULL;
  }
  t->bytes = a.used * sizeof(float) + a.mused + sizeof *t;
  arena b = {t->arena, 0, t->marena, 0, a.masks};
  plan(t, &b);
  /* PE over the group index: PE[g, i] = sin(g / 10000^(2i/e_f)) (even i), cos (odd i) */
  for (int g = 0; g < t->G; g++)
    for (int i = 0; i < t->ef; i++) {
      double ang = g / pow(10000.0, 2.0 * i / t->ef);
      t->pe[(size_t)g * t->ef + i] = (float)(c->pos_scale_f * (i % 2 == 0 ? sin(ang) : cos(ang)));
    }
  return t;
}

void student_trainer_free(student_trainer *t) {
  if (!t) return;
  free(t->arena);
  free(t->marena);
  free(t);
}

size_t student_trainer_bytes(const student_trainer *t) { return t ? t->bytes : 0; }

const float *student_trainer_logits(const student_trainer *t) { return t ? t->logits : NULL; }

/* ---- small kernels ---- */

/* Vector helpers: VW = 4 floats with GCC/Clang vector extensions (one SSE
 * register on the baseline ISA), so the element-wise loops below run
 * vectorised at -O2 on both compilers. Loads and stores go through memcpy
 * (unaligned, no aliasing UB); every loop has a scalar tail. */
enum { VW = 4 };
typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));
typedef unsigned char vb __attribute__((vector_size(VW)));
#define VINL static inline __attribute__((always_inline))

VINL vf vld(const float *p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}
VINL void vst(float *p, vf v) { memcpy(p, &v, sizeof v); }
VINL vf splat(float a) { return (vf){0} + a; }
/* VW mask bytes (0 or 1) as floats */
VINL vf ldm(const unsigned char *m) {
  vb b;
  memcpy(&b, m, sizeof b);
  return __builtin_convertvector(b, vf);
}
VINL float hsum(vf v) { return (v[0] + v[2]) + (v[1] + v[3]); }
VINL vf vsel(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }

/* y = x + a z (y may alias x or z) */
static void vaxpy(float *y, const float *x, float a, const float *z, size_t n) {
  size_t i = 0;
  const vf va = splat(a);
  for (; i + VW <= n; i += VW) vst(y + i, vld(x + i) + va * vld(z + i));
  for (; i < n; i++) y[i] = x[i] + a * z[i];
}

/* y = a x (y may alias x) */
static void vscale(float *y, float a, const float *x, size_t n) {
  size_t i = 0;
  const vf va = splat(a);
  for (; i + VW <= n; i += VW) vst(y + i, va * vld(x + i));
  for (; i < n; i++) y[i] = a * x[i];
}

/* y += x */
static void vadd(float *y, const float *x, size_t n) {
  size_t i = 0;
  for (; i + VW <= n; i += VW) vst(y + i, vld(y + i) + vld(x + i));
  for (; i < n; i++) y[i] += x[i];
}

/* y = x * m * s, m bytes 0/1 (y may alias x) */
static void vmask(float *y, const float *x, const unsigned char *m, float s, size_t n) {
  size_t i = 0;
  const vf vs = splat(s);
  for (; i + VW <= n; i += VW) vst(y + i, vld(x + i) * (ldm(m + i) * vs));
  for (; i < n; i++) y[i] = x[i] * ((float)m[i] * s);
}

/* y = max(x, 0) in place */
static void vrelu(float *y, size_t n) {
  size_t i = 0;
  const vf z = splat(0.0f);
  for (; i + VW <= n; i += VW) {
    const vf v = vld(y + i);
    vst(y + i, vsel(v > z, v, z));
  }
  for (; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* sum a[i] b[i] in float (short rows) */
static float vdotf(const float *a, const float *b, size_t n) {
  size_t i = 0;
  vf acc = splat(0.0f);
  for (; i + VW <= n; i += VW) acc += vld(a + i) * vld(b + i);
  float s = hsum(acc);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

/* sum a[i] b[i] over a whole tensor: float partial sums of 512, added in double */
static double dot_sum(const float *a, const float *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i += 512) s += vdotf(a + i, b + i, n - i < 512 ? n - i : 512);
  return s;
}

/* y (n, out) (row stride ldy) = x (n, in) (stride ldx) @ w^T + b; w (out, in). */
static void lin_fwd(float *y, int ldy, const float *x, int ldx, const float *w, const float *b, size_t n,
                    int in, int out) {
  for (size_t r = 0; r < n; r++) memcpy(y + r * ldy, b, (size_t)out * sizeof *y);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, out, in, 1.0f, x, ldx, w, in, 1.0f, y, ldy);
}

/* dw (out, in) += dy^T (out, n) @ x (n, in); db (out) += column sums of dy. */
static void lin_bwd_w(float *dw, float *db, const float *dy, int ldy, const float *x, int ldx, size_t n,
                      int in, int out) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, (int)n, 1.0f, dy, ldy, x, ldx, 1.0f, dw, in);
  for (size_t r = 0; r < n; r++) vadd(db, dy + r * ldy, (size_t)out);
}

/* dx (n, in) = beta dx + dy (n, out) @ w (out, in). */
static void lin_bwd_x(float *dx, int ldx, const float *dy, int ldy, const float *w, size_t n, int in, int out,
                      float beta) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, in, out, 1.0f, dy, ldy, w, in, beta, dx, ldx);
}

/* Per row of x (n, w): xh = (x - mean) rs, rs = 1/sqrt(var + eps) (biased var);
 * y = g xh + c. y may alias x (not xh). */
static void ln_fwd(const float *x, float *xh, float *rs, float *y, const float *g, const float *c, size_t n,
                   int w) {
  for (size_t r = 0; r < n; r++) {
    const float *xr = x + r * w;
    float *hr = xh + r * w, *yr = y + r * w;
    int i = 0;
    vf acc = splat(0.0f);
    for (; i + VW <= w; i += VW) acc += vld(xr + i);
    float mean = hsum(acc);
    for (; i < w; i++) mean += xr[i];
    mean /= (float)w;
    const vf vm = splat(mean);
    acc = splat(0.0f);
    for (i = 0; i + VW <= w; i += VW) {
      const vf v = vld(xr + i) - vm;
      acc += v * v;
    }
    float var = hsum(acc);
    for (; i < w; i++) {
      const float v = xr[i] - mean;
      var += v * v;
    }
    var /= (float)w;
    const float s = 1.0f / sqrtf(var + LN_EPS);
    rs[r] = s;
    const vf vs = splat(s);
    for (i = 0; i + VW <= w; i += VW) {
      const vf h = (vld(xr + i) - vm) * vs;
      vst(hr + i, h);
      vst(yr + i, vld(g + i) * h + vld(c + i));
    }
    for (; i < w; i++) {
      const float h = (xr[i] - mean) * s;
      hr[i] = h;
      yr[i] = g[i] * h + c[i];
    }
  }
}

/* LayerNorm backward: dx (n, w) from dy; dg += sum dy xh, dc += sum dy. dx may alias dy. */
static void ln_bwd(float *dx, const float *dy, const float *xh, const float *rs, const float *g, float *dg,
                   float *dc, size_t n, int w) {
  for (size_t r = 0; r < n; r++) {
    const float *dyr = dy + r * w, *hr = xh + r * w;
    float *dxr = dx + r * w;
    vf a1 = splat(0.0f), a2 = splat(0.0f);
    int i = 0;
    for (; i + VW <= w; i += VW) {
      const vf d = vld(dyr + i), h = vld(hr + i), dn = d * vld(g + i);
      a1 += dn;
      a2 += dn * h;
      vst(dg + i, vld(dg + i) + d * h);
      vst(dc + i, vld(dc + i) + d);
    }
    float m1 = hsum(a1), m2 = hsum(a2);
    for (; i < w; i++) {
      const float dn = dyr[i] * g[i];
      m1 += dn;
      m2 += dn * hr[i];
      dg[i] += dyr[i] * hr[i];
      dc[i] += dyr[i];
    }
    m1 /= (float)w;
    m2 /= (float)w;
    const float s = rs[r];
    const vf vm1 = splat(m1), vm2 = splat(m2), vs = splat(s);
    for (i = 0; i + VW <= w; i += VW) vst(dxr + i, (vld(dyr + i) * vld(g + i) - vm1 - vld(hr + i) * vm2) * vs);
    for (; i < w; i++) dxr[i] = (dyr[i] * g[i] - m1 - hr[i] * m2) * s;
  }
}

/* u = max(g xh + c, 0) per row of (n, w) (the FF's ReLU input recomputed) */
static void affine_relu(float *u, const float *xh, const float *g, const float *c, size_t n, int w) {
  const vf z = splat(0.0f);
  for (size_t r = 0; r < n; r++) {
    const float *hr = xh + r * w;
    float *ur = u + r * w;
    int i = 0;
    for (; i + VW <= w; i += VW) {
      const vf v = vld(g + i) * vld(hr + i) + vld(c + i);
      vst(ur + i, vsel(v > z, v, z));
    }
    for (; i < w; i++) {
      const float v = g[i] * hr[i] + c[i];
      ur[i] = v > 0.0f ? v : 0.0f;
    }
  }
}

/* d = 0 where g xh + c <= 0 (ReLU backward, the input recomputed) */
static void relu_grad(float *d, const float *xh, const float *g, const float *c, size_t n, int w) {
  const vf z = splat(0.0f);
  for (size_t r = 0; r < n; r++) {
    const float *hr = xh + r * w;
    float *dr = d + r * w;
    int i = 0;
    for (; i + VW <= w; i += VW) {
      const vf v = vld(g + i) * vld(hr + i) + vld(c + i);
      vst(dr + i, vsel(v > z, vld(dr + i), z));
    }
    for (; i < w; i++) dr[i] = g[i] * hr[i] + c[i] > 0.0f ? dr[i] : 0.0f;
  }
}

/* ---- dropout ----
 * Masks from 16-bit uniforms (four per splitmix64 draw): the rate is p
 * rounded to a multiple of 1/65536 and kept units are scaled by the exact
 * 1 / (1 - that rate), so E[Drop(x)] = x. */

static void drop_init(drop_state *ds, int on, float p, unsigned long long seed) {
  ds->on = on && p > 0.0f;
  double th = floor((double)p * 65536.0 + 0.5);
  if (th > 65535.0) th = 65535.0;
  ds->thresh = (uint32_t)th;
  ds->scale = (float)(65536.0 / (65536.0 - th));
  ds->r.state = (uint64_t)seed * 0xD1B54A32D192ED03u + 0x8CB92BA72F3D8DD7u;
}

/* y = x * mask * scale with a fresh mask (stored in m); y may alias x. */
static void drop_fwd(drop_state *ds, unsigned char *m, float *y, const float *x, size_t n) {
  const uint32_t th = ds->thresh;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint64_t z = rng_next(&ds->r);
    m[i] = (uint32_t)(z & 0xFFFF) >= th;
    m[i + 1] = (uint32_t)((z >> 16) & 0xFFFF) >= th;
    m[i + 2] = (uint32_t)((z >> 32) & 0xFFFF) >= th;
    m[i + 3] = (uint32_t)(z >> 48) >= th;
  }
  if (i < n) {
    uint64_t z = rng_next(&ds->r);
    for (; i < n; i++, z >>= 16) m[i] = (uint32_t)(z & 0xFFFF) >= th;
  }
  vmask(y, x, m, ds->scale, n);
}

/* d = d * mask * scale, in place. */
static void drop_bwd(const drop_state *ds, const unsigned char *m, float *d, size_t n) {
  vmask(d, d, m, ds->scale, n);
}

/* ---- attention ---- */

static float alibi_slope(int alibi, int r, int H) { return alibi ? (float)exp2(-8.0 * (r + 1) / H) : 0.0f; }

/* The block of queries [i0, i0 + *nq) and the keys [*j0, *j0 + *nk) it can see. */
static void band_block(const band *bd, int i0, int *nq, int *j0, int *nk) {
  int i1 = i0 + QB < bd->T ? i0 + QB : bd->T;
  int lo = i0 - bd->context + 1, hi = i1 - 1 + bd->la;
  if (lo < 0) lo = 0;
  if (hi > bd->T - 1) hi = bd->T - 1;
  *nq = i1 - i0;
  *j0 = lo;
  *nk = hi - lo + 1;
}

/* S (nq, nk) holds q.k/sqrt(e) of queries i0.. and keys j0..; replaces each row
 * by the softmax of score - slope |i - j| over the row's band (0 outside). */
static void band_probs(float *S, int nq, int nk, int i0, int j0, const band *bd, float slope) {
  const vf ramp = {0, 1, 2, 3}, vsl = splat(slope);
  for (int qi = 0; qi < nq; qi++) {
    const int i = i0 + qi;
    float *s = S + (size_t)qi * nk;
    int lo = i - bd->context + 1 - j0, hi = i + bd->la - j0;
    if (lo < 0) lo = 0;
    if (hi > nk - 1) hi = nk - 1;
    const int len = hi - lo + 1;
    float *sr = s + lo;
    /* key lo + j is at distance |lo + j0 + j - i| */
    const float base = (float)(lo + j0 - i);
    int j = 0;
    vf vmx = splat(-INFINITY);
    for (; j + VW <= len; j += VW) {
      vf dist = splat(base + (float)j) + ramp;
      dist = vsel(dist < 0, -dist, dist);
      const vf v = vld(sr + j) - vsl * dist;
      vst(sr + j, v);
      vmx = vsel(v > vmx, v, vmx);
    }
    float mx = -INFINITY;
    for (int k = 0; k < VW; k++) mx = vmx[k] > mx ? vmx[k] : mx;
    for (; j < len; j++) {
      const float v = sr[j] - slope * fabsf(base + (float)j);
      sr[j] = v;
      if (v > mx) mx = v;
    }
    const vf vm = splat(mx);
    for (j = 0; j + VW <= len; j += VW) vst(sr + j, vld(sr + j) - vm);
    for (; j < len; j++) sr[j] -= mx;
    exp_array(sr, sr, (size_t)len);
    vf acc = splat(0.0f);
    for (j = 0; j + VW <= len; j += VW) acc += vld(sr + j);
    float sum = hsum(acc);
    for (; j < len; j++) sum += sr[j];
    vscale(sr, 1.0f / sum, sr, (size_t)len);
    if (lo > 0) memset(s, 0, (size_t)lo * sizeof *s);
    if (hi < nk - 1) memset(s + hi + 1, 0, (size_t)(nk - 1 - hi) * sizeof *s);
  }
}

/* Banded time attention over nwin windows of bd->T frames: qkv (nwin T, 3w)
 * q | k | v, att (nwin T, w) heads concatenated. S: (QB, T) scratch. */
static void time_attn_fwd(const float *qkv, float *att, int nwin, int w, int H, const band *bd, float *S) {
  const int e = w / H, ld = 3 * w, T = bd->T;
  const float scale = 1.0f / sqrtf((float)e);
  for (int b = 0; b < nwin; b++)
    for (int r = 0; r < H; r++) {
      const float slope = alibi_slope(bd->alibi, r, H);
      for (int i0 = 0; i0 < T; i0 += QB) {
        int nq, j0, nk;
        band_block(bd, i0, &nq, &j0, &nk);
        const float *q = qkv + ((size_t)b * T + i0) * ld + (size_t)r * e;
        const float *k = qkv + ((size_t)b * T + j0) * ld + w + (size_t)r * e;
        const float *v = k + w;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, e, scale, q, ld, k, ld, 0.0f, S, nk);
        band_probs(S, nq, nk, i0, j0, bd, slope);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, e, nk, 1.0f, S, nk, v, ld, 0.0f,
                    att + ((size_t)b * T + i0) * w + (size_t)r * e, w);
      }
    }
}

/* Backward of time_attn_fwd: dqkv (nwin T, 3w) += gradients of q, k, v from
 * datt (nwin T, w). Recomputes the probabilities. S, D: (QB, T) scratch. */
static void time_attn_bwd(const float *qkv, const float *datt, float *dqkv, int nwin, int w, int H,
                          const band *bd, float *S, float *D) {
  const int e = w / H, ld = 3 * w, T = bd->T;
  const float scale = 1.0f / sqrtf((float)e);
  for (int b = 0; b < nwin; b++)
    for (int r = 0; r < H; r++) {
      const float slope = alibi_slope(bd->alibi, r, H);
      for (int i0 = 0; i0 < T; i0 += QB) {
        int nq, j0, nk;
        band_block(bd, i0, &nq, &j0, &nk);
        const size_t qo = ((size_t)b * T + i0) * ld + (size_t)r * e;
        const size_t ko = ((size_t)b * T + j0) * ld + w + (size_t)r * e;
        const float *q = qkv + qo, *k = qkv + ko, *v = k + w;
        float *dq = dqkv + qo, *dk = dqkv + ko, *dv = dk + w;
        const float *dO = datt + ((size_t)b * T + i0) * w + (size_t)r * e;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, e, scale, q, ld, k, ld, 0.0f, S, nk);
        band_probs(S, nq, nk, i0, j0, bd, slope);
        /* dP (nq, nk) = dO (nq, e) @ v^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, e, 1.0f, dO, w, v, ld, 0.0f, D, nk);
        /* dv (nk, e) += P^T @ dO */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, e, nq, 1.0f, S, nk, dO, w, 1.0f, dv, ld);
        /* dS = P (dP - rowsum(P dP)) / sqrt(e) */
        for (int qi = 0; qi < nq; qi++) {
          const float *p = S + (size_t)qi * nk;
          float *dp = D + (size_t)qi * nk;
          const float dotp = vdotf(p, dp, (size_t)nk);
          const vf vd = splat(dotp), vs = splat(scale);
          int j = 0;
          for (; j + VW <= nk; j += VW) vst(dp + j, vld(p + j) * (vld(dp + j) - vd) * vs);
          for (; j < nk; j++) dp[j] = p[j] * (dp[j] - dotp) * scale;
        }
        /* dq (nq, e) += dS @ k; dk (nk, e) += dS^T @ q */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, e, nk, 1.0f, D, nk, k, ld, 1.0f, dq, ld);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, e, nq, 1.0f, D, nk, q, ld, 1.0f, dk, ld);
      }
    }
}

/* Attention over the G tokens of each frame (no mask, no bias): qkv
 * (nframes G, 3w), att (nframes G, w). P: (2 G) scratch. */
static void freq_attn_fwd(const float *qkv, float *att, size_t nframes, int G, int w, int H, float *P) {
  const int e = w / H, ld = 3 * w;
  const float scale = 1.0f / sqrtf((float)e);
  for (size_t f = 0; f < nframes; f++) {
    const float *base = qkv + f * G * ld;
    for (int r = 0; r < H; r++)
      for (int g = 0; g < G; g++) {
        const float *q = base + (size_t)g * ld + r * e;
        float mx = -INFINITY;
        for (int g2 = 0; g2 < G; g2++) {
          const float *k = base + (size_t)g2 * ld + w + r * e;
          float s = 0.0f;
          for (int i = 0; i < e; i++) s += q[i] * k[i];
          P[g2] = s * scale;
          if (P[g2] > mx) mx = P[g2];
        }
        float sum = 0.0f;
        for (int g2 = 0; g2 < G; g2++) sum += (P[g2] = expf(P[g2] - mx));
        float *o = att + (f * G + g) * w + r * e;
        for (int i = 0; i < e; i++) o[i] = 0.0f;
        for (int g2 = 0; g2 < G; g2++) {
          const float p = P[g2] / sum;
          const float *v = base + (size_t)g2 * ld + 2 * w + r * e;
          for (int i = 0; i < e; i++) o[i] += p * v[i];
        }
      }
  }
}

static void freq_attn_bwd(const float *qkv, const float *datt, float *dqkv, size_t nframes, int G, int w, int H,
                          float *P) {
  const int e = w / H, ld = 3 * w;
  const float scale = 1.0f / sqrtf((float)e);
  float *dP = P + G;
  for (size_t f = 0; f < nframes; f++) {
    const float *base = qkv + f * G * ld;
    float *dbase = dqkv + f * G * ld;
    for (int r = 0; r < H; r++)
      for (int g = 0; g < G; g++) {
        const float *q = base + (size_t)g * ld + r * e;
        const float *dO = datt + (f * G + g) * w + r * e;
        float mx = -INFINITY;
        for (int g2 = 0; g2 < G; g2++) {
          const float *k = base + (size_t)g2 * ld + w + r * e;
          float s = 0.0f;
          for (int i = 0; i < e; i++) s += q[i] * k[i];
          P[g2] = s * scale;
          if (P[g2] > mx) mx = P[g2];
        }
        float sum = 0.0f;
        for (int g2 = 0; g2 < G; g2++) sum += (P[g2] = expf(P[g2] - mx));
        float dotp = 0.0f;
        for (int g2 = 0; g2 < G; g2++) {
          P[g2] /= sum;
          const float *v = base + (size_t)g2 * ld + 2 * w + r * e;
          float *dv = dbase + (size_t)g2 * ld + 2 * w + r * e;
          float s = 0.0f;
          for (int i = 0; i < e; i++) {
            s += dO[i] * v[i];
            dv[i] += P[g2] * dO[i];
          }
          dP[g2] = s;
          dotp += P[g2] * s;
        }
        float *dq = dbase + (size_t)g * ld + r * e;
        for (int g2 = 0; g2 < G; g2++) {
          const float ds = P[g2] * (dP[g2] - dotp) * scale;
          const float *k = base + (size_t)g2 * ld + w + r * e;
          float *dk = dbase + (size_t)g2 * ld + w + r * e;
          for (int i = 0; i < e; i++) {
            dq[i] += ds * k[i];
            dk[i] += ds * q[i];
          }
        }
      }
  }
}

/* ---- blocks: forward ---- */

/* FF(x) = LN2(x + alpha Drop(Drop(ReLU(LN1(x w1^T + b1))) w2^T + b2)); x (n, w). */
static void ff_fwd(student_trainer *t, const float *P, const ff_off *p, ff_act *a, const float *x, size_t n,
                   int w, int hid, drop_state *ds) {
  float *u = t->hidA; /* (n, hid) */
  lin_fwd(u, hid, x, w, P + p->w1, P + p->b1, n, w, hid);
  ln_fwd(u, a->xh1, a->rs1, u, P + p->g1, P + p->c1, n, hid);
  const size_t nh = n * hid;
  vrelu(u, nh);
  if (ds->on) drop_fwd(ds, a->m1, u, u, nh);
  lin_fwd(a->s, w, u, hid, P + p->w2, P + p->b2, n, hid, w);
  if (ds->on) drop_fwd(ds, a->m2, a->s, a->s, n * w);
  const float alpha = P[p->alpha];
  vaxpy(a->out, x, alpha, a->s, n * w);
  ln_fwd(a->out, a->xh2, a->rs2, a->out, P + p->g2, P + p->c2, n, w);
}

/* Encoder layer: x <- FF(x + alpha MHA(x, x)); in (n, w). Time attention
 * (is_time: nwin windows, band bd) or over the G tokens of each frame. */
static void enc_fwd(student_trainer *t, const float *P, const enc_off *p, enc_act *a, const float *in, size_t n,
                    int w, int hid, int H, int is_time, const band *bd, int nwin, drop_state *ds) {
  lin_fwd(a->qkv, 3 * w, in, w, P + p->attn.w_in, P + p->attn.b_in, n, w, 3 * w);
  if (is_time)
    time_attn_fwd(a->qkv, a->att, nwin, w, H, bd, t->attS);
  else
    freq_attn_fwd(a->qkv, a->att, n / t->G, t->G, w, H, t->fP);
  lin_fwd(a->ao, w, a->att, w, P + p->attn.w_out, P + p->attn.b_out, n, w, w);
  const float alpha = P[p->alpha];
  vaxpy(a->h, in, alpha, a->ao, n * w);
  ff_fwd(t, P, &p->ff, &a->ff, a->h, n, w, hid, ds);
}

/* Head: y = LN(Drop(in) fc.w^T + fc.b); in (n, d). */
static void head_fwd(const float *P, const head_off *p, head_act *a, const float *in, size_t n, int d,
                     drop_state *ds) {
  a->src = in;
  if (ds->on) {
    drop_fwd(ds, a->m, a->in_d, in, n * d);
    a->src = a->in_d;
  }
  lin_fwd(a->y, d, a->src, d, P + p->w, P + p->b, n, d, d);
  ln_fwd(a->y, a->xh, a->rs, a->y, P + p->g, P + p->c, n, d);
}

/* Decoder layer: Y <- LN_D(Y + a1 Drop(MHA(Y, Y))); Y <- LN_D(Y + a2 Drop(MHA(Y, yT))); Y <- FF(Y). */
static void dec_fwd(student_trainer *t, const float *P, const dec_off *p, dec_act *a, const float *in,
                    const float *yT, size_t n, const band *bd, int nwin, drop_state *ds) {
  const int d = t->d, H = t->c.heads_d;
  const float *g = P + t->dln_g, *c = P + t->dln_c;
  /* self-attention */
  lin_fwd(a->qkv1, 3 * d, in, d, P + p->self.w_in, P + p->self.b_in, n, d, 3 * d);
  time_attn_fwd(a->qkv1, a->att1, nwin, d, H, bd, t->attS);
  lin_fwd(a->ao1, d, a->att1, d, P + p->self.w_out, P + p->self.b_out, n, d, d);
  if (ds->on) drop_fwd(ds, a->m1, a->ao1, a->ao1, n * d);
  const float a1 = P[p->self_alpha];
  vaxpy(a->y1, in, a1, a->ao1, n * d);
  ln_fwd(a->y1, a->xh1, a->rs1, a->y1, g, c, n, d);
  /* cross-attention: q from y1 (rows 0..d-1 of w_in), k and v from yT */
  lin_fwd(a->qkv2, 3 * d, a->y1, d, P + p->cross.w_in, P + p->cross.b_in, n, d, d);
  lin_fwd(a->qkv2 + d, 3 * d, yT, d, P + p->cross.w_in + (size_t)d * d, P + p->cross.b_in + d, n, d, 2 * d);
  time_attn_fwd(a->qkv2, a->att2, nwin, d, H, bd, t->attS);
  lin_fwd(a->ao2, d, a->att2, d, P + p->cross.w_out, P + p->cross.b_out, n, d, d);
  if (ds->on) drop_fwd(ds, a->m2, a->ao2, a->ao2, n * d);
  const float a2 = P[p->cross_alpha];
  vaxpy(a->y2, a->y1, a2, a->ao2, n * d);
  ln_fwd(a->y2, a->xh2, a->rs2, a->y2, g, c, n, d);
  ff_fwd(t, P, &p->ff, &a->ff, a->y2, n, d, t->hid, ds);
}

/* ---- blocks: backward (all parameter gradients are added into Gr) ---- */

/* dout (n, w): gradient of FF's output; writes dx (n, w), the gradient of its
 * input x. Scratch: wA, hidA, hidB. */
static void ff_bwd(student_trainer *t, const float *P, float *Gr, const ff_off *p, const ff_act *a,
                   const float *x, const float *dout, float *dx, size_t n, int w, int hid, const drop_state *ds) {
  float *dpre = t->wA; /* (n, w) gradient of x + alpha s */
  ln_bwd(dpre, dout, a->xh2, a->rs2, P + p->g2, Gr + p->g2, Gr + p->c2, n, w);
  const float alpha = P[p->alpha];
  Gr[p->alpha] += (float)dot_sum(dpre, a->s, n * w);
  memcpy(dx, dpre, n * w * sizeof *dx);
  /* ds0: gradient of u w2^T + b2 */
  if (ds->on)
    vmask(dpre, dpre, a->m2, alpha * ds->scale, n * w);
  else
    vscale(dpre, alpha, dpre, n * w);
  /* recompute u = Drop(ReLU(g1 xh1 + c1)) (n, hid) into hidA */
  float *u = t->hidA, *du = t->hidB;
  const float *g1 = P + p->g1, *c1 = P + p->c1;
  affine_relu(u, a->xh1, g1, c1, n, hid);
  if (ds->on) vmask(u, u, a->m1, ds->scale, n * hid);
  lin_bwd_w(Gr + p->w2, Gr + p->b2, dpre, w, u, hid, n, hid, w);
  lin_bwd_x(du, hid, dpre, w, P + p->w2, n, hid, w, 0.0f);
  /* through the dropout and the ReLU */
  if (ds->on) drop_bwd(ds, a->m1, du, n * hid);
  relu_grad(du, a->xh1, g1, c1, n, hid);
  ln_bwd(du, du, a->xh1, a->rs1, g1, Gr + p->g1, Gr + p->c1, n, hid);
  lin_bwd_w(Gr + p->w1, Gr + p->b1, du, hid, x, w, n, w, hid);
  lin_bwd_x(dx, w, du, hid, P + p->w1, n, w, hid, 1.0f);
}

/* dout: gradient of the layer's output; din (may be NULL: not needed)
 * receives the gradient of its input `in`. Scratch: wA, wB, wC, dqkv, hid*. */
static void enc_bwd(student_trainer *t, const float *P, float *Gr, const enc_off *p, const enc_act *a,
                    const float *in, const float *dout, float *din, size_t n, int w, int hid, int H, int is_time,
                    const band *bd, int nwin, const drop_state *ds) {
  float *dh = t->wB;
  ff_bwd(t, P, Gr, &p->ff, &a->ff, a->h, dout, dh, n, w, hid, ds);
  const float alpha = P[p->alpha];
  Gr[p->alpha] += (float)dot_sum(dh, a->ao, n * w);
  if (din) memcpy(din, dh, n * w * sizeof *din);
  float *dao = t->wC;
  vscale(dao, alpha, dh, n * w);
  lin_bwd_w(Gr + p->attn.w_out, Gr + p->attn.b_out, dao, w, a->att, w, n, w, w);
  float *datt = t->wA;
  lin_bwd_x(datt, w, dao, w, P + p->attn.w_out, n, w, w, 0.0f);
  memset(t->dqkv, 0, n * 3 * w * sizeof *t->dqkv);
  if (is_time)
    time_attn_bwd(a->qkv, datt, t->dqkv, nwin, w, H, bd, t->attS, t->attD);
  else
    freq_attn_bwd(a->qkv, datt, t->dqkv, n / t->G, t->G, w, H, t->fP);
  lin_bwd_w(Gr + p->attn.w_in, Gr + p->attn.b_in, t->dqkv, 3 * w, in, w, n, w, 3 * w);
  if (din) lin_bwd_x(din, w, t->dqkv, 3 * w, P + p->attn.w_in, n, w, 3 * w, 1.0f);
}

/* dy: gradient of the head's output; din (may be NULL) that of its input. */
static void head_bwd(student_trainer *t, const float *P, float *Gr, const head_off *p, const head_act *a,
                     const float *dy, float *din, size_t n, int d, const drop_state *ds) {
  float *dl = t->wA;
  ln_bwd(dl, dy, a->xh, a->rs, P + p->g, Gr + p->g, Gr + p->c, n, d);
  lin_bwd_w(Gr + p->w, Gr + p->b, dl, d, a->src, d, n, d, d);
  if (din) {
    lin_bwd_x(din, d, dl, d, P + p->w, n, d, d, 0.0f);
    if (ds->on) drop_bwd(ds, a->m, din, n * d);
  }
}

/* dout: gradient of the decoder layer's output; din receives that of `in`;
 * dyT accumulates the cross-attention's gradient of yT. */
static void dec_bwd(student_trainer *t, const float *P, float *Gr, const dec_off *p, const dec_act *a,
                    const float *in, const float *yT, float *dyT, const float *dout, float *din, size_t n,
                    const band *bd, int nwin, const drop_state *ds) {
  const int d = t->d, H = t->c.heads_d;
  const float *g = P + t->dln_g;
  float *dg = Gr + t->dln_g, *dc = Gr + t->dln_c;
  float *dy2 = t->wB;
  ff_bwd(t, P, Gr, &p->ff, &a->ff, a->y2, dout, dy2, n, d, t->hid, ds);
  /* cross-attention sub-layer */
  float *ds2 = t->wA;
  ln_bwd(ds2, dy2, a->xh2, a->rs2, g, dg, dc, n, d);
  float *dy1 = din;
  memcpy(dy1, ds2, n * d * sizeof *dy1);
  const float a2 = P[p->cross_alpha];
  Gr[p->cross_alpha] += (float)dot_sum(ds2, a->ao2, n * d);
  float *dao = t->wC;
  if (ds->on)
    vmask(dao, ds2, a->m2, a2 * ds->scale, n * d);
  else
    vscale(dao, a2, ds2, n * d);
  lin_bwd_w(Gr + p->cross.w_out, Gr + p->cross.b_out, dao, d, a->att2, d, n, d, d);
  float *datt = t->wA;
  lin_bwd_x(datt, d, dao, d, P + p->cross.w_out, n, d, d, 0.0f);
  memset(t->dqkv, 0, n * 3 * d * sizeof *t->dqkv);
  time_attn_bwd(a->qkv2, datt, t->dqkv, nwin, d, H, bd, t->attS, t->attD);
  lin_bwd_w(Gr + p->cross.w_in, Gr + p->cross.b_in, t->dqkv, 3 * d, a->y1, d, n, d, d);
  lin_bwd_x(dy1, d, t->dqkv, 3 * d, P + p->cross.w_in, n, d, d, 1.0f);
  lin_bwd_w(Gr + p->cross.w_in + (size_t)d * d, Gr + p->cross.b_in + d, t->dqkv + d, 3 * d, yT, d, n, d, 2 * d);
  lin_bwd_x(dyT, d, t->dqkv + d, 3 * d, P + p->cross.w_in + (size_t)d * d, n, d, 2 * d, 1.0f);
  /* self-attention sub-layer */
  float *ds1 = t->wA;
  ln_bwd(ds1, dy1, a->xh1, a->rs1, g, dg, dc, n, d);
  memcpy(din, ds1, n * d * sizeof *din);
  const float a1 = P[p->self_alpha];
  Gr[p->self_alpha] += (float)dot_sum(ds1, a->ao1, n * d);
  if (ds->on)
    vmask(dao, ds1, a->m1, a1 * ds->scale, n * d);
  else
    vscale(dao, a1, ds1, n * d);
  lin_bwd_w(Gr + p->self.w_out, Gr + p->self.b_out, dao, d, a->att1, d, n, d, d);
  datt = t->wB;
  lin_bwd_x(datt, d, dao, d, P + p->self.w_out, n, d, d, 0.0f);
  memset(t->dqkv, 0, n * 3 * d * sizeof *t->dqkv);
  time_attn_bwd(a->qkv1, datt, t->dqkv, nwin, d, H, bd, t->attS, t->attD);
  lin_bwd_w(Gr + p->self.w_in, Gr + p->self.b_in, t->dqkv, 3 * d, in, d, n, d, 3 * d);
  lin_bwd_x(din, d, t->dqkv, 3 * d, P + p->self.w_in, n, d, 3 * d, 1.0f);
}

/* ---- loss ---- */

/* The focal loss FL(z, y) of one frame (PAPER 1.5); writes
 * dz_k = scale * dFL/dz_k (scratch p: K doubles). */
static double focal_term(const float *z, float *dz, int K, int y, double zmax, double gamma, double scale,
                         double *p) {
  double sum = 0;
  for (int k = 0; k < K; k++) sum += (p[k] = exp((double)z[k] - zmax));
  const double inv = 1.0 / sum;
  double one_m = 0; /* 1 - p_y as the sum of the others (accurate when p_y -> 1) */
  for (int k = 0; k < K; k++) {
    p[k] *= inv;
    if (k != y) one_m += p[k];
  }
  const double logp_y = (double)z[y] - zmax - log(sum), p_y = p[y];
  double fl, coef; /* FL, and dFL/dz_k = coef (1[k = y] - p_k) */
  if (gamma == 0) {
    fl = -logp_y;
    coef = -1.0;
  } else {
    const double mod = pow(one_m, gamma);
    fl = -mod * logp_y;
    coef = one_m > 0 ? gamma * p_y * pow(one_m, gamma - 1.0) * logp_y - mod : 0.0;
  }
  const double wf = scale * coef;
  for (int k = 0; k < K; k++) dz[k] = (float)(wf * ((k == y) - p[k]));
  return fl;
}

/* Fills t->dlogits (n, K) with dL/dz and returns L (PAPER 1.5: over the labelled frames and, with KD,
 * the KD-only ones; N counts both). */
static double loss(student_trainer *t, size_t n, const int *labels, const float *teacher, const loss_options *o,
                   loss_report *rep) {
  const int K = t->K;
  const double beta = o->kd_only_weight > 0 ? o->kd_only_weight : o->kd_alpha; /* KD-only frames' weight */
  const int with_kd = teacher != NULL && beta != 0;
  long N = 0, labelled = 0, correct = 0;
  for (size_t r = 0; r < n; r++) {
    labelled += labels[r] >= 0;
    N += labels[r] >= 0 || (with_kd && labels[r] == STUDENT_LABEL_KD_ONLY);
  }
  memset(t->dlogits, 0, n * K * sizeof *t->dlogits);
  loss_report rp;
  memset(&rp, 0, sizeof rp);
  if (N == 0) {
    if (rep) *rep = rp;
    return 0.0;
  }
  const double invN = 1.0 / (double)N, alpha = o->kd_alpha, gamma = o->focal_gamma;
  const double Tk = o->kd_temperature > 0 ? o->kd_temperature : 1.0;
  const int keep_kd = teacher != NULL; /* the KD term is reported whenever a teacher is given */
  double fsum = 0, kdsum = 0, kdsum_only = 0, wsum = 0;
  double *p = t->lp, *q = t->lq;
  for (size_t r = 0; r < n; r++) {
    const int y = labels[r];
    const int kd_only = y == STUDENT_LABEL_KD_ONLY && with_kd;
    if (y < 0 && !kd_only) continue;
    const float *z = t->logits + r * K;
    float *dz = t->dlogits + r * K;
    int am = 0;
    for (int k = 1; k < K; k++)
      if (z[k] > z[am]) am = k;
    const double zmax = z[am];
    if (!kd_only) { /* a labelled frame: the focal term and the accuracy */
      correct += am == y;
      fsum += focal_term(z, dz, K, y, zmax, gamma, (1.0 - alpha) * invN, p);
    }
    if (!keep_kd) continue;
    /* q = softmax(a / T), s = softmax(z / T) (p reused for s) */
    const float *at = teacher + r * K;
    double amax = at[0];
    for (int k = 1; k < K; k++)
      if (at[k] > amax) amax = at[k];
    double qs = 0, ss = 0;
    for (int k = 0; k < K; k++) {
      qs += (q[k] = exp(((double)at[k] - amax) / Tk));
      ss += (p[k] = exp(((double)z[k] - zmax) / Tk));
    }
    const double lqs = log(qs), lss = log(ss);
    double kl = 0, c = 0;
    for (int k = 0; k < K; k++) {
      q[k] /= qs;
      p[k] /= ss;
      if (q[k] > 0) kl += q[k] * ((((double)at[k] - amax) / Tk - lqs) - (((double)z[k] - zmax) / Tk - lss));
      if (q[k] > c) c = q[k];
    }
    double wt = 1.0;
    if (o->selective) {
      if (c < o->conf_lo)
        wt = 0.0;
      else if (c > o->conf_hi)
        wt = 1.0 - 0.8 * (c - o->conf_hi) / (1.0 - o->conf_hi);
      if (wt < 0) wt = 0;
      if (wt > 1) wt = 1;
    }
    kdsum += wt * kl;
    if (kd_only) kdsum_only += wt * kl;
    wsum += wt;
    const double weight = kd_only ? beta : alpha;
    if (weight != 0 && wt != 0) {
      const double gk = weight * Tk * invN * wt;
      for (int k = 0; k < K; k++) dz[k] += (float)(gk * (p[k] - q[k]));
    }
  }
  rp.focal = fsum * invN;
  rp.kd = keep_kd ? Tk * Tk * kdsum * invN : 0.0;
  rp.kd_weight_sum = keep_kd ? wsum : 0.0;
  /* alpha on the labelled frames' KD, beta on the KD-only frames' */
  rp.loss = alpha * rp.kd + (beta - alpha) * (keep_kd ? Tk * Tk * kdsum_only * invN : 0.0) + (1.0 - alpha) * rp.focal;
  rp.frames = N;
  rp.labelled = labelled;
  rp.correct = correct;
  if (rep) *rep = rp;
  return rp.loss;
}

/* ---- the step ---- */

double student_trainer_step(student_trainer *t, const float *params, float *grads, const float *x,
                            const int *labels, const float *teacher_logits, int b, const loss_options *o,
                            int train, unsigned long long seed, loss_report *report) {
  if (report) memset(report, 0, sizeof *report);
  if (!t || !params || !x || !labels || !o || b < 1 || b > t->batch) return NAN;
  if (o->kd_alpha != 0 && !teacher_logits) return NAN;
  const int T = t->T, d = t->d, G = t->G, ef = t->ef, K = t->K;
  const size_t n = (size_t)b * T;
  for (size_t r = 0; r < n; r++)
    if (labels[r] >= K) return NAN;
  const float *P = params;
  t->b_last = b;
  drop_state ds;
  drop_init(&ds, train && t->c.dropout > 0.0f, t->c.dropout, seed);
  const band bd0 = {T, t->c.context, t->c.lookahead, t->c.alibi};
  const band bdc = {T, t->c.context, 0, t->c.alibi};

  /* input: xn (n, d) = (x - mean) / std; u0 (n G, e_f) = xn + PE over the group */
  const float mean = t->c.norm_mean, sd = t->c.norm_std;
  for (size_t i = 0; i < n * d; i++) t->xn[i] = (x[i] - mean) / sd;
  for (size_t r = 0; r < n * G; r++) {
    const float *src = t->xn + r * ef, *pe = t->pe + (r % G) * ef;
    float *dst = t->u0 + r * ef;
    for (int i = 0; i < ef; i++) dst[i] = src[i] + pe[i];
  }
  /* frequency encoder (n G token rows) */
  const float *cur = t->u0;
  for (int l = 0; l < t->c.layers_f; l++) {
    enc_fwd(t, P, &t->fo[l], &t->fa[l], cur, n * G, ef, t->hid_f, t->c.heads_f, 0, NULL, b, &ds);
    cur = t->fa[l].ff.out;
  }
  head_fwd(P, &t->fho, &t->fh, cur, n, d, &ds);
  /* temporal encoder */
  cur = t->xn;
  for (int l = 0; l < t->c.layers_t; l++) {
    enc_fwd(t, P, &t->to[l], &t->ta[l], cur, n, d, t->hid, t->c.heads_t, 1, l == 0 ? &bd0 : &bdc, b, &ds);
    cur = t->ta[l].ff.out;
  }
  head_fwd(P, &t->tho, &t->th, cur, n, d, &ds);
  const float *yT = t->th.y;
  vaxpy(t->y0, t->fh.y, 1.0f, yT, n * d);
  /* decoder */
  cur = t->y0;
  for (int l = 0; l < t->c.layers_d; l++) {
    dec_fwd(t, P, &t->dof[l], &t->da[l], cur, yT, n, &bdc, b, &ds);
    cur = t->da[l].ff.out;
  }
  t->osrc = cur;
  if (ds.on) {
    drop_fwd(&ds, t->mo, t->yo_d, cur, n * d);
    t->osrc = t->yo_d;
  }
  lin_fwd(t->logits, K, t->osrc, d, P + t->out_w, P + t->out_b, n, d, K);

  loss_report rep;
  const double L = loss(t, n, labels, teacher_logits, o, &rep);
  if (report) *report = rep;
  if (!grads || rep.frames == 0) return L;

  /* ---- backward ---- */
  float *Gr = grads;
  float *g = t->gx0, *g2 = t->gx1, *tmp;
  lin_bwd_w(Gr + t->out_w, Gr + t->out_b, t->dlogits, K, t->osrc, d, n, d, K);
  lin_bwd_x(g, d, t->dlogits, K, P + t->out_w, n, d, K, 0.0f);
  if (ds.on) drop_bwd(&ds, t->mo, g, n * d);
  memset(t->gyT, 0, n * d * sizeof *t->gyT);
  for (int l = t->c.layers_d - 1; l >= 0; l--) {
    const float *in = l ? t->da[l - 1].ff.out : t->y0;
    dec_bwd(t, P, Gr, &t->dof[l], &t->da[l], in, yT, t->gyT, g, g2, n, &bdc, b, &ds);
    tmp = g, g = g2, g2 = tmp;
  }
  /* g = dY0 = dyF; yT gets it too (the fusion sum) */
  vadd(t->gyT, g, n * d);
  /* frequency branch */
  head_bwd(t, P, Gr, &t->fho, &t->fh, g, t->c.layers_f > 0 ? g2 : NULL, n, d, &ds);
  tmp = g, g = g2, g2 = tmp;
  for (int l = t->c.layers_f - 1; l >= 0; l--) {
    const float *in = l ? t->fa[l - 1].ff.out : t->u0;
    enc_bwd(t, P, Gr, &t->fo[l], &t->fa[l], in, g, l ? g2 : NULL, n * G, ef, t->hid_f, t->c.heads_f, 0, NULL, b,
            &ds);
    tmp = g, g = g2, g2 = tmp;
  }
  /* temporal branch */
  g = t->gx0, g2 = t->gx1;
  head_bwd(t, P, Gr, &t->tho, &t->th, t->gyT, g, n, d, &ds);
  for (int l = t->c.layers_t - 1; l >= 0; l--) {
    const float *in = l ? t->ta[l - 1].ff.out : t->xn;
    enc_bwd(t, P, Gr, &t->to[l], &t->ta[l], in, g, l ? g2 : NULL, n, d, t->hid, t->c.heads_t, 1,
            l == 0 ? &bd0 : &bdc, b, &ds);
    tmp = g, g = g2, g2 = tmp;
  }
  return L;
}
