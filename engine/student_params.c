/*
 * student_params.c: the 2E1D student's configuration, the layout of its flat
 * parameter buffer, its initialisation and its model-file I/O (student.h).
 * The forward passes live in student.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "model_keys.h"
#include "student.h"

student_config student_config_default(void) {
  student_config c;
  memset(&c, 0, sizeof c);
  c.n_bins = 144;
  c.n_classes = 170;
  c.n_groups = 2;
  c.layers_f = 3;
  c.layers_t = 4;
  c.layers_d = 3;
  c.heads_f = 2;
  c.heads_t = 4;
  c.heads_d = 4;
  c.ff_mult = 4;
  c.context = 128;
  c.lookahead = 1;
  c.alibi = 1;
  c.pos_scale_f = 0.01f;
  c.dropout = 0.3f;
  c.norm_mean = 0.0f;
  c.norm_std = 1.0f;
  return c;
}

int student_is_streamable(const student_config *c, double hop_seconds) {
  return c->lookahead * hop_seconds <= STUDENT_LIVE_MAX_LOOKAHEAD_S + 1e-9;
}

chordlet_status student_config_check(const student_config *c, chordlet_error *err) {
  if (c->n_bins < 1 || c->n_bins > 4096)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: n_bins %d is not in 1..4096", c->n_bins);
  if (c->n_classes < 2 || c->n_classes > 4096)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: n_classes %d is not in 2..4096", c->n_classes);
  if (c->n_groups < 1 || c->n_bins % c->n_groups)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: n_groups %d does not divide n_bins %d",
                         c->n_groups, c->n_bins);
  const int layers[3] = {c->layers_f, c->layers_t, c->layers_d};
  const int heads[3] = {c->heads_f, c->heads_t, c->heads_d};
  const int width[3] = {c->n_bins / c->n_groups, c->n_bins, c->n_bins};
  const char *part[3] = {"frequency encoder", "temporal encoder", "decoder"};
  for (int i = 0; i < 3; i++) {
    if (layers[i] < (i == 0 ? 0 : 1) || layers[i] > STUDENT_MAX_LAYERS)
      return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: %s layers %d is not in %d..%d", part[i],
                           layers[i], i == 0 ? 0 : 1, STUDENT_MAX_LAYERS);
    if (heads[i] < 1 || width[i] % heads[i])
      return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: %s heads %d do not divide its width %d",
                           part[i], heads[i], width[i]);
  }
  if (c->ff_mult < 1 || c->ff_mult > 16)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: ff_mult %d is not in 1..16", c->ff_mult);
  if (c->context < 1 || c->context > 100000)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: context %d is not in 1..100000 frames", c->context);
  if (c->lookahead < 0 || c->lookahead > 100000)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: lookahead %d is not in 0..100000 frames",
                         c->lookahead);
  if (c->alibi != 0 && c->alibi != 1)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: alibi must be 0 or 1, not %d", c->alibi);
  if (!isfinite(c->pos_scale_f) || fabsf(c->pos_scale_f) > 10.0f)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: pos_scale_f %g is not a sane scale",
                         (double)c->pos_scale_f);
  if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: dropout %g is not in [0, 1)", (double)c->dropout);
  if (!isfinite(c->norm_mean) || !(c->norm_std > 0.0f) || !isfinite(c->norm_std))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: input normalisation (mean %g, std %g) is invalid",
                         (double)c->norm_mean, (double)c->norm_std);
  return CHORDLET_OK;
}

/* ---- layout ---- */

typedef struct layout_builder {
  student_param *params; /* may be NULL: count only */
  int n;
  size_t offset;
} layout_builder;

static void add(layout_builder *b, int is_matrix, int d0, int d1, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add(layout_builder *b, int is_matrix, int d0, int d1, const char *fmt, ...) {
  size_t size = (size_t)d0 * (size_t)(d1 > 0 ? d1 : 1);
  if (b->params && b->n < STUDENT_MAX_PARAMS) {
    student_param *p = &b->params[b->n];
    memset(p, 0, sizeof *p);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->name, sizeof p->name, fmt, ap);
    va_end(ap);
    p->ndim = d1 > 0 ? 2 : 1;
    p->dims[0] = d0;
    p->dims[1] = d1 > 0 ? d1 : 0;
    p->offset = b->offset;
    p->size = size;
    p->is_matrix = is_matrix;
  }
  b->n++;
  b->offset += (size + 15) & ~(size_t)15;
}

static void add_mha(layout_builder *b, const char *prefix, int w) {
  add(b, 1, 3 * w, w, "%s.w_in", prefix);
  add(b, 0, 3 * w, 0, "%s.b_in", prefix);
  add(b, 1, w, w, "%s.w_out", prefix);
  add(b, 0, w, 0, "%s.b_out", prefix);
}

static void add_ff(layout_builder *b, const char *prefix, int w, int h) {
  add(b, 1, h, w, "%s.w1", prefix);
  add(b, 0, h, 0, "%s.b1", prefix);
  add(b, 0, h, 0, "%s.ln1.g", prefix);
  add(b, 0, h, 0, "%s.ln1.b", prefix);
  add(b, 1, w, h, "%s.w2", prefix);
  add(b, 0, w, 0, "%s.b2", prefix);
  add(b, 0, w, 0, "%s.ln2.g", prefix);
  add(b, 0, w, 0, "%s.ln2.b", prefix);
  add(b, 0, 1, 0, "%s.alpha", prefix);
}

static void add_encoder(layout_builder *b, char tag, int layers, int w, int h, int d) {
  char prefix[40];
  for (int l = 0; l < layers; l++) {
    snprintf(prefix, sizeof prefix, "%c.%d.attn", tag, l);
    add_mha(b, prefix, w);
    add(b, 0, 1, 0, "%c.%d.attn_alpha", tag, l);
    snprintf(prefix, sizeof prefix, "%c.%d.ff", tag, l);
    add_ff(b, prefix, w, h);
  }
  add(b, 1, d, d, "%c.fc.w", tag);
  add(b, 0, d, 0, "%c.fc.b", tag);
  add(b, 0, d, 0, "%c.ln.g", tag);
  add(b, 0, d, 0, "%c.ln.b", tag);
}

int student_layout(const student_config *c, student_param *params, size_t *n_floats) {
  layout_builder b = {params, 0, 0};
  const int d = c->n_bins, ef = c->n_bins / (c->n_groups > 0 ? c->n_groups : 1);
  add_encoder(&b, 'f', c->layers_f, ef, c->ff_mult * ef, d);
  add_encoder(&b, 't', c->layers_t, d, c->ff_mult * d, d);
  char prefix[40];
  for (int l = 0; l < c->layers_d; l++) {
    snprintf(prefix, sizeof prefix, "d.%d.self", l);
    add_mha(&b, prefix, d);
    add(&b, 0, 1, 0, "d.%d.self_alpha", l);
    snprintf(prefix, sizeof prefix, "d.%d.cross", l);
    add_mha(&b, prefix, d);
    add(&b, 0, 1, 0, "d.%d.cross_alpha", l);
    snprintf(prefix, sizeof prefix, "d.%d.ff", l);
    add_ff(&b, prefix, d, c->ff_mult * d);
  }
  add(&b, 0, d, 0, "d.ln.g");
  add(&b, 0, d, 0, "d.ln.b");
  add(&b, 1, c->n_classes, d, "out.w");
  add(&b, 0, c->n_classes, 0, "out.b");
  if (n_floats) *n_floats = b.offset;
  return b.n;
}

size_t student_param_offset(const student_param *params, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(params[i].name, name)) return params[i].offset;
  return (size_t)-1;
}

/* ---- initialisation ---- */

typedef struct init_rng {
  uint64_t state;
} init_rng;

static double init_uniform(init_rng *r) { /* splitmix64, 53 bits in [0, 1) */
  uint64_t z = (r->state += 0x9E3779B97F4A7C15u);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  z ^= z >> 31;
  return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static void fill_uniform(float *x, size_t n, double bound, init_rng *r) {
  for (size_t i = 0; i < n; i++) x[i] = (float)((2.0 * init_uniform(r) - 1.0) * bound);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

void student_init(const student_config *c, float *params, unsigned long long seed) {
  student_param layout[STUDENT_MAX_PARAMS];
  size_t n_floats = 0;
  int n = student_layout(c, layout, &n_floats);
  memset(params, 0, n_floats * sizeof *params);
  init_rng r = {seed * 0x2545F4914F6CDD1Du + 0x1234567u};
  for (int i = 0; i < n; i++) {
    const student_param *p = &layout[i];
    float *x = params + p->offset;
    if (ends_with(p->name, ".w_in")) { /* Xavier-uniform over (3w, w) */
      fill_uniform(x, p->size, sqrt(6.0 / (p->dims[0] + p->dims[1])), &r);
    } else if (ends_with(p->name, ".b_in") || ends_with(p->name, ".b_out") || ends_with(p->name, "alpha")) {
      /* zero: PyTorch's MHA biases, ReZero scalars */
    } else if (ends_with(p->name, ".g")) {
      for (size_t k = 0; k < p->size; k++) x[k] = 1.0f;
    } else if (p->is_matrix) { /* Linear weight, incl. w_out: U(+-1/sqrt(in)) */
      fill_uniform(x, p->size, 1.0 / sqrt((double)p->dims[1]), &r);
    } else if (ends_with(p->name, ".b") && (i > 0 && layout[i - 1].is_matrix)) {
      /* Linear bias right after its weight: U(+-1/sqrt(in)) */
      fill_uniform(x, p->size, 1.0 / sqrt((double)layout[i - 1].dims[1]), &r);
    } else if (ends_with(p->name, ".b1") || ends_with(p->name, ".b2")) {
      fill_uniform(x, p->size, 1.0 / sqrt((double)layout[i - 1].dims[1]), &r);
    }
    /* LayerNorm biases (.ln*.b after a .g) stay 0 */
  }
}

/* ---- model file ---- */

chordlet_status student_write(model_writer *w, const student_config *c, const float *params,
                              chordlet_error *err) {
  chordlet_status st = student_config_check(c, err);
  if (st != CHORDLET_OK) return st;
  const int32_t layers[3] = {c->layers_f, c->layers_t, c->layers_d};
  const int32_t heads[3] = {c->heads_f, c->heads_t, c->heads_d};
#define TRY(call)              \
  do {                         \
    st = (call);               \
    if (st != CHORDLET_OK) return st; \
  } while (0)
  TRY(model_writer_set_str(w, MK_ARCHITECTURE, ARCH_STUDENT_2E1D, err));
  TRY(model_writer_set_i64(w, MK_STUDENT_N_BINS, c->n_bins, err));
  TRY(model_writer_set_i64(w, MK_STUDENT_N_CLASSES, c->n_classes, err));
  TRY(model_writer_set_i64(w, MK_STUDENT_N_GROUPS, c->n_groups, err));
  TRY(model_writer_set_i32_array(w, MK_STUDENT_LAYERS, layers, 3, err));
  TRY(model_writer_set_i32_array(w, MK_STUDENT_HEADS, heads, 3, err));
  TRY(model_writer_set_i64(w, MK_STUDENT_FF_MULT, c->ff_mult, err));
  TRY(model_writer_set_i64(w, MK_STUDENT_CONTEXT, c->context, err));
  TRY(model_writer_set_i64(w, MK_STUDENT_LOOKAHEAD, c->lookahead, err));
  TRY(model_writer_set_i64(w, MK_STUDENT_ALIBI, c->alibi, err));
  TRY(model_writer_set_f64(w, MK_STUDENT_POS_SCALE_F, c->pos_scale_f, err));
  TRY(model_writer_set_f64(w, MK_STUDENT_DROPOUT, c->dropout, err));
  TRY(model_writer_set_f64(w, MK_STUDENT_NORM_MEAN, c->norm_mean, err));
  TRY(model_writer_set_f64(w, MK_STUDENT_NORM_STD, c->norm_std, err));
  student_param layout[STUDENT_MAX_PARAMS];
  int n = student_layout(c, layout, NULL);
  for (int i = 0; i < n; i++) {
    const int64_t dims[2] = {layout[i].dims[0], layout[i].dims[1]};
    TRY(model_writer_add_tensor(w, layout[i].name, layout[i].ndim, dims, params + layout[i].offset, err));
  }
#undef TRY
  return CHORDLET_OK;
}

static chordlet_status get_int(const model_file *m, const char *key, int *out, chordlet_error *err) {
  int64_t v = 0;
  chordlet_status st = model_file_get_i64(m, key, &v, err);
  if (st != CHORDLET_OK) return st;
  if (v < -1000000 || v > 1000000)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: %s = %lld is absurd", model_file_name(m), key, (long long)v);
  *out = (int)v;
  return CHORDLET_OK;
}

static chordlet_status get_float(const model_file *m, const char *key, float *out, chordlet_error *err) {
  double v = 0;
  chordlet_status st = model_file_get_f64(m, key, &v, err);
  if (st != CHORDLET_OK) return st;
  *out = (float)v;
  return CHORDLET_OK;
}

static chordlet_status get_triple(const model_file *m, const char *key, int out[3], chordlet_error *err) {
  const int32_t *v = NULL;
  size_t count = 0;
  chordlet_status st = model_file_get_i32_array(m, key, &v, &count, err);
  if (st != CHORDLET_OK) return st;
  if (count != 3)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: %s has %zu values, not 3", model_file_name(m), key, count);
  for (int i = 0; i < 3; i++) out[i] = v[i];
  return CHORDLET_OK;
}

chordlet_status student_config_read(const model_file *m, student_config *c, chordlet_error *err) {
  const char *arch = NULL;
  chordlet_status st = model_file_get_str(m, MK_ARCHITECTURE, &arch, err);
  if (st != CHORDLET_OK) return st;
  if (strcmp(arch, ARCH_STUDENT_2E1D))
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: architecture \"%s\" is not the 2E1D student",
                         model_file_name(m), arch);
  memset(c, 0, sizeof *c);
  int layers[3], heads[3];
#define TRY(call)              \
  do {                         \
    st = (call);               \
    if (st != CHORDLET_OK) return st; \
  } while (0)
  TRY(get_int(m, MK_STUDENT_N_BINS, &c->n_bins, err));
  TRY(get_int(m, MK_STUDENT_N_CLASSES, &c->n_classes, err));
  TRY(get_int(m, MK_STUDENT_N_GROUPS, &c->n_groups, err));
  TRY(get_triple(m, MK_STUDENT_LAYERS, layers, err));
  TRY(get_triple(m, MK_STUDENT_HEADS, heads, err));
  TRY(get_int(m, MK_STUDENT_FF_MULT, &c->ff_mult, err));
  TRY(get_int(m, MK_STUDENT_CONTEXT, &c->context, err));
  TRY(get_int(m, MK_STUDENT_LOOKAHEAD, &c->lookahead, err));
  TRY(get_int(m, MK_STUDENT_ALIBI, &c->alibi, err));
  TRY(get_float(m, MK_STUDENT_POS_SCALE_F, &c->pos_scale_f, err));
  TRY(get_float(m, MK_STUDENT_DROPOUT, &c->dropout, err));
  TRY(get_float(m, MK_STUDENT_NORM_MEAN, &c->norm_mean, err));
  TRY(get_float(m, MK_STUDENT_NORM_STD, &c->norm_std, err));
#undef TRY
  c->layers_f = layers[0];
  c->layers_t = layers[1];
  c->layers_d = layers[2];
  c->heads_f = heads[0];
  c->heads_t = heads[1];
  c->heads_d = heads[2];
  /* Checked into a local error: formatting err->message into itself would
   * overlap source and destination. */
  chordlet_error why = {CHORDLET_OK, ""};
  st = student_config_check(c, &why);
  if (st != CHORDLET_OK) return chordlet_fail(err, st, "%s: %s", model_file_name(m), why.message);
  return CHORDLET_OK;
}

chordlet_status student_check_params(const model_file *m, const student_config *c, chordlet_error *err) {
  student_param layout[STUDENT_MAX_PARAMS];
  size_t n_floats = 0;
  int n = student_layout(c, layout, &n_floats);
  if (n > STUDENT_MAX_PARAMS)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: the student has too many tensors (%d)", model_file_name(m), n);
  for (int i = 0; i < n; i++) {
    const float *data = NULL;
    chordlet_status st = model_file_expect_tensor(m, layout[i].name, layout[i].ndim, layout[i].dims, &data, err);
    if (st != CHORDLET_OK) return st;
  }
  return CHORDLET_OK;
}

chordlet_status student_read_params(const model_file *m, const student_config *c, float *params,
                                    chordlet_error *err) {
  student_param layout[STUDENT_MAX_PARAMS];
  size_t n_floats = 0;
  int n = student_layout(c, layout, &n_floats);
  if (n > STUDENT_MAX_PARAMS)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: the student has too many tensors (%d)", model_file_name(m), n);
  memset(params, 0, n_floats * sizeof *params);
  for (int i = 0; i < n; i++) {
    const float *data = NULL;
    chordlet_status st = model_file_expect_tensor(m, layout[i].name, layout[i].ndim, layout[i].dims, &data, err);
    if (st != CHORDLET_OK) return st;
    for (size_t k = 0; k < layout[i].size; k++) {
      if (!isfinite(data[k]))
        return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: tensor %s holds a non-finite value at %zu",
                             model_file_name(m), layout[i].name, k);
    }
    memcpy(params + layout[i].offset, data, layout[i].size * sizeof *params);
  }
  return CHORDLET_OK;
}
