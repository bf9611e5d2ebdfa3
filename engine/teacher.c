/* teacher.c: the chord teacher's forward pass (TEACHER.md sections 2, 3 and 6). */
#include "teacher.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"

const int teacher_head_size[TEACHER_N_HEADS] = {73, 13, 4, 4, 3, 3};
const int teacher_head_offset[TEACHER_N_HEADS] = {0, 73, 86, 90, 94, 97};

/* ---- the layers ---------------------------------------------------------------- */

typedef struct conv_layer {
  int c_in, c_out;
  int f_in;     /* frequency bins in */
  int pad_f;    /* frequency padding: 1, but 0 in conv4a/4b (7 -> 5 -> 3) */
  int pool;     /* frequency max-pool after the layer (1 = none) */
  int tile_t, tile_f; /* Winograd tile (frames x bins); 0: im2col */
} conv_layer;

/* Winograd F(2x2, 3x3) wherever it pays: it keeps the result within float
 * rounding of the direct sum. Larger tiles are faster still (measured on the
 * 517-frame input: 2x4 about 5%, 4x4 about 10%) but multiply the rounding
 * error by 4 and 20 (kernels.h). conv1a has one input channel and conv4a/4b
 * five or three bins: im2col there. */
static const conv_layer layers[TEACHER_N_CONV] = {
    {1, 16, 252, 1, 1, 0, 0}, {16, 16, 252, 1, 1, 2, 2}, {16, 16, 252, 1, 3, 2, 2},
    {16, 32, 84, 1, 1, 2, 2}, {32, 32, 84, 1, 1, 2, 2},  {32, 32, 84, 1, 3, 2, 2},
    {32, 64, 28, 1, 1, 2, 2}, {64, 64, 28, 1, 4, 2, 2},  {64, 80, 7, 0, 1, 0, 0},
    {80, 80, 5, 0, 1, 0, 0},
};
enum { MAX_CHANNELS = 80, MAX_PLANE = 16 * 252 /* largest C x F of any activation */ };

/* ---- tensors ----------------------------------------------------------------------- */

typedef struct tensor_desc {
  const char *name;
  int ndim;
  int shape[4];
} tensor_desc;

#define CONV_TENSORS(l, ci, co)                                                       \
  {"cnn.conv" l ".weight", 4, {co, ci, 3, 3}}, {"cnn.conv" l ".bias", 1, {co, 0, 0, 0}}, \
      {"cnn.norm" l ".scale", 1, {co, 0, 0, 0}}, {"cnn.norm" l ".bias", 1, {co, 0, 0, 0}}
#define LSTM_TENSORS(d)                                                                \
  {"lstm." d ".W", 2, {384, 240, 0, 0}}, {"lstm." d ".R", 2, {384, 96, 0, 0}},          \
      {"lstm." d ".Wb", 1, {384, 0, 0, 0}}, {"lstm." d ".Rb", 1, {384, 0, 0, 0}}

/* TEACHER.md section 8: the order of the tensors in a fold blob. */
static const tensor_desc tensors[TEACHER_N_TENSORS] = {
    CONV_TENSORS("1a", 1, 16),  CONV_TENSORS("1b", 16, 16), CONV_TENSORS("1c", 16, 16),
    CONV_TENSORS("2a", 16, 32), CONV_TENSORS("2b", 32, 32), CONV_TENSORS("2c", 32, 32),
    CONV_TENSORS("3a", 32, 64), CONV_TENSORS("3b", 64, 64), CONV_TENSORS("4a", 64, 80),
    CONV_TENSORS("4b", 80, 80), LSTM_TENSORS("fwd"),        LSTM_TENSORS("bwd"),
    {"fc.weight", 2, {100, 192, 0, 0}}, {"fc.bias", 1, {100, 0, 0, 0}},
};

static size_t tensor_floats(const tensor_desc *t) {
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
  return n;
}

int teacher_tensor_info(int k, const char **name, int *ndim, int shape[4], size_t *offset) {
  if (k < 0 || k >= TEACHER_N_TENSORS) return 0;
  size_t off = 0;
  for (int j = 0; j < k; j++) off += tensor_floats(&tensors[j]);
  if (name) *name = tensors[k].name;
  if (ndim) *ndim = tensors[k].ndim;
  if (shape) memcpy(shape, tensors[k].shape, sizeof tensors[k].shape);
  if (offset) *offset = off;
  return 1;
}

/* The slot of tensor k in the struct, in the blob order above. */
static const float **weight_slot(teacher_fold_weights *w, int k) {
  if (k < 4 * TEACHER_N_CONV) {
    int l = k / 4;
    switch (k % 4) {
    case 0: return &w->conv_weight[l];
    case 1: return &w->conv_bias[l];
    case 2: return &w->norm_scale[l];
    default: return &w->norm_bias[l];
    }
  }
  if (k < 4 * TEACHER_N_CONV + 8) {
    int j = k - 4 * TEACHER_N_CONV, d = j / 4;
    switch (j % 4) {
    case 0: return &w->lstm_W[d];
    case 1: return &w->lstm_R[d];
    case 2: return &w->lstm_Wb[d];
    default: return &w->lstm_Rb[d];
    }
  }
  return k == TEACHER_N_TENSORS - 2 ? &w->fc_weight : &w->fc_bias;
}

static void shape_text(const tensor_desc *t, char *out, size_t size) {
  size_t len = 0;
  out[0] = 0;
  for (int d = 0; d < t->ndim && len < size; d++)
    len += (size_t)snprintf(out + len, size - len, "%s%d", d ? ", " : "[", t->shape[d]);
  if (len < size) snprintf(out + len, size - len, "]");
}

chordlet_status teacher_fold_bind(teacher_fold_weights *w, teacher_tensor_lookup lookup,
                                  void *ctx, chordlet_error *err) {
  if (!w || !lookup)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "teacher: no weights or lookup");
  teacher_fold_weights bound;
  memset(&bound, 0, sizeof bound);
  for (int k = 0; k < TEACHER_N_TENSORS; k++) {
    const tensor_desc *t = &tensors[k];
    chordlet_error sub = {CHORDLET_OK, ""};
    const float *data = lookup(ctx, t->name, t->ndim, t->shape, &sub);
    if (!data) {
      char shape[64];
      shape_text(t, shape, sizeof shape);
      return chordlet_fail(err, sub.code ? sub.code : CHORDLET_ERR_PARSE,
                           "teacher weights: tensor %s %s: %s", t->name, shape,
                           sub.message[0] ? sub.message : "missing or of another shape");
    }
    *weight_slot(&bound, k) = data;
  }
  *w = bound;
  return CHORDLET_OK;
}

/* ---- workspace --------------------------------------------------------------------- */

typedef struct teacher_ws {
  float *act_a;        /* (MAX_PLANE * T) CNN activations (C, T, F), ping */
  float *act_b;        /* (MAX_PLANE * T) pong; after the CNN, the LSTM's scratch */
  float *cnn_out;      /* (T, 240) */
  float *lstm_out;     /* (T, 192) */
  float *conv_scratch; /* (conv_scratch_floats(T)) im2col / Winograd buffers */
  float *fold_probs;   /* (T, 100) one fold's output inside an ensemble, or NULL */
} teacher_ws;

static size_t conv_scratch_floats(size_t T) {
  size_t most = 0;
  for (int l = 0; l < TEACHER_N_CONV; l++) {
    const conv_layer *L = &layers[l];
    conv3x3_shape s = {L->c_in, L->c_out, T, L->f_in, L->pad_f, (size_t)L->f_in};
    size_t n = L->tile_t ? conv3x3_winograd_scratch_floats(&s, L->tile_t, L->tile_f)
                         : conv3x3_im2col_scratch_floats(&s);
    if (n > most) most = n;
  }
  return most;
}

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; } /* 64-byte boundaries */

/* One allocation carved into the named buffers; the caller frees ws->act_a. */
static chordlet_status ws_alloc(teacher_ws *ws, size_t T, int with_fold_probs,
                                chordlet_error *err) {
  /* About 8,700 floats per frame plus a fixed scratch: refuse before any size
   * product could wrap (only possible with a 32-bit size_t). */
  if (T > SIZE_MAX / sizeof(float) / 16384)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY,
                         "teacher: %zu frames need more memory than this machine can address", T);
  const size_t plane = align16((size_t)MAX_PLANE * T);
  const size_t parts[5] = {plane, plane, align16(T * TEACHER_CNN_OUT),
                           align16(T * TEACHER_LSTM_OUT), align16(conv_scratch_floats(T))};
  size_t total = with_fold_probs ? align16(T * TEACHER_OUT) : 0;
  for (int k = 0; k < 5; k++) total += parts[k];
  float *base = malloc(total * sizeof *base);
  if (!base)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY,
                         "teacher: out of memory (%zu frames need %.1f MB of activations)", T,
                         (double)total * sizeof(float) / 1e6);
  float *p = base;
  ws->act_a = p, p += parts[0];
  ws->act_b = p, p += parts[1];
  ws->cnn_out = p, p += parts[2];
  ws->lstm_out = p, p += parts[3];
  ws->conv_scratch = p, p += parts[4];
  ws->fold_probs = with_fold_probs ? p : NULL;
  return CHORDLET_OK;
}

/* ---- the forward pass --------------------------------------------------------------- */

static chordlet_status check_call(const teacher_fold_weights *w, int n_folds, const float *x,
                                  size_t T, const float *probs, chordlet_error *err) {
  if (!w || !x || !probs)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "teacher: weights, input and output must not be NULL");
  if (T == 0)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "teacher: the input has no frames");
  if (T > TEACHER_MAX_FRAMES)
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "teacher: %zu frames is more than 24 hours of audio (at most %zu)", T,
                         TEACHER_MAX_FRAMES);
  for (int f = 0; f < n_folds; f++) {
    teacher_fold_weights copy = w[f];
    for (int k = 0; k < TEACHER_N_TENSORS; k++)
      if (!*weight_slot(&copy, k))
        return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                             "teacher: fold %d is not bound (%s is NULL)", f, tensors[k].name);
  }
  /* One NaN would spread to every frame through the normalisation statistics. */
  for (size_t t = 0; t < T; t++)
    for (int b = TEACHER_BIN_OFFSET; b < TEACHER_BIN_OFFSET + TEACHER_BINS_USED; b++)
      if (!isfinite(x[t * TEACHER_IN_BINS + b]))
        return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                             "teacher: feature %d of frame %zu is not a finite number", b, t);
  return CHORDLET_OK;
}

static void copy_out(float *dst, const float *src, size_t n) {
  if (dst) memcpy(dst, src, n * sizeof *dst);
}

/* The end of the network, shared by both paths: in (80, T, 3), normalised
 * -> cnn_out (T, 240), index channel*3 + bin (TEACHER.md 2.5) -> BLSTM -> linear
 * -> softmaxes. scratch: a free (T, 384) + (96) buffer for the LSTM. */
static void fold_tail(const teacher_fold_weights *w, const float *in, int f, size_t T,
                      float *probs, teacher_trace *trace, const teacher_ws *ws, float *scratch,
                      int use_ref) {
  const int c_last = layers[TEACHER_N_CONV - 1].c_out;
  for (int c = 0; c < c_last; c++)
    for (size_t t = 0; t < T; t++)
      for (int b = 0; b < f; b++)
        ws->cnn_out[t * TEACHER_CNN_OUT + (size_t)c * f + b] = in[((size_t)c * T + t) * f + b];
  if (trace) copy_out(trace->cnn_out, ws->cnn_out, T * TEACHER_CNN_OUT);

  for (int d = 0; d < 2; d++) {
    float *h = ws->lstm_out + (size_t)d * TEACHER_HIDDEN; /* (T, 96) inside (T, 192) */
    if (use_ref)
      lstm_direction_ref(ws->cnn_out, TEACHER_CNN_OUT, T, TEACHER_CNN_OUT, TEACHER_HIDDEN,
                         w->lstm_W[d], w->lstm_R[d], w->lstm_Wb[d], w->lstm_Rb[d], d, h,
                         TEACHER_LSTM_OUT, scratch);
    else
      lstm_direction(ws->cnn_out, TEACHER_CNN_OUT, T, TEACHER_CNN_OUT, TEACHER_HIDDEN,
                     w->lstm_W[d], w->lstm_R[d], w->lstm_Wb[d], w->lstm_Rb[d], d, h,
                     TEACHER_LSTM_OUT, scratch);
  }
  if (trace) copy_out(trace->lstm_out, ws->lstm_out, T * TEACHER_LSTM_OUT);

  if (use_ref)
    linear_ref(ws->lstm_out, T, TEACHER_LSTM_OUT, w->fc_weight, w->fc_bias, TEACHER_OUT, probs);
  else
    linear(ws->lstm_out, T, TEACHER_LSTM_OUT, w->fc_weight, w->fc_bias, TEACHER_OUT, probs);
  if (trace) copy_out(trace->logits, probs, T * TEACHER_OUT);
  if (use_ref)
    softmax_heads_ref(probs, T, TEACHER_OUT, teacher_head_size, TEACHER_N_HEADS);
  else
    softmax_heads(probs, T, TEACHER_OUT, teacher_head_size, TEACHER_N_HEADS);
}

static void trace_pool(teacher_trace *trace, int l, const float *pooled, size_t n) {
  if (!trace) return;
  if (l == 2) copy_out(trace->pool1, pooled, n);
  if (l == 5) copy_out(trace->pool2, pooled, n);
  if (l == 7) copy_out(trace->pool3, pooled, n);
}

/* The plain path, layer by layer as TEACHER.md section 2 writes it. */
static void fold_forward_ref(const teacher_fold_weights *w, const float *x, size_t T,
                             float *probs, teacher_trace *trace, const teacher_ws *ws) {
  const float *in = x + TEACHER_BIN_OFFSET; /* (1, T, 252) inside the (T, 288) rows */
  size_t ldx = TEACHER_IN_BINS;
  float *out = ws->act_a, *other = ws->act_b;
  int f = TEACHER_BINS_USED;
  for (int l = 0; l < TEACHER_N_CONV; l++) {
    const conv_layer *L = &layers[l];
    const conv3x3_shape s = {L->c_in, L->c_out, T, f, L->pad_f, ldx};
    const int fo = conv3x3_f_out(&s);
    const size_t n = T * (size_t)fo;
    conv3x3_ref(&s, in, w->conv_weight[l], w->conv_bias[l], out);
    if (l == 0 && trace) copy_out(trace->conv1a, out, (size_t)L->c_out * n);
    instance_norm_ref(out, L->c_out, n, w->norm_scale[l], w->norm_bias[l], KERNEL_IN_EPS);
    selu_ref(out, (size_t)L->c_out * n);
    if (l == 0 && trace) copy_out(trace->block1a, out, (size_t)L->c_out * n);
    if (L->pool > 1) {
      maxpool_freq_ref(out, L->c_out, T, fo, L->pool, other); /* other held this layer's input */
      f = fo / L->pool;
      trace_pool(trace, l, other, (size_t)L->c_out * T * (size_t)f);
      in = other;
    } else {
      f = fo;
      in = out;
      out = other;
      other = (float *)in;
    }
    ldx = (size_t)f;
  }
  fold_tail(w, in, f, T, probs, trace, ws, in == ws->act_a ? ws->act_b : ws->act_a, 1);
}

/* The fast path. Each conv layer leaves its raw output plus the normalisation
 * coefficients; a Winograd consumer normalises (and applies SELU) as it reads,
 * a pool normalises the pooled values, anything else normalises in place. */
static void fold_forward_fast(const teacher_fold_weights *w, const float *x, size_t T,
                              float *probs, teacher_trace *trace, const teacher_ws *ws) {
  const float *in = x + TEACHER_BIN_OFFSET; /* (1, T, 252) inside the (T, 288) rows */
  size_t ldx = TEACHER_IN_BINS;
  float *out = ws->act_a, *other = ws->act_b;
  int f = TEACHER_BINS_USED;
  float mean[2][MAX_CHANNELS], mul[2][MAX_CHANNELS], add[2][MAX_CHANNELS];
  channel_norm pending = {NULL, NULL, NULL}; /* what `in` still needs, if anything */
  int has_pending = 0;
  for (int l = 0; l < TEACHER_N_CONV; l++) {
    const conv_layer *L = &layers[l];
    const conv3x3_shape s = {L->c_in, L->c_out, T, f, L->pad_f, ldx};
    const int fo = conv3x3_f_out(&s);
    const size_t n = T * (size_t)fo;
    double sum[MAX_CHANNELS], sumsq[MAX_CHANNELS];
    if (L->tile_t)
      conv3x3_winograd(&s, L->tile_t, L->tile_f, in, has_pending ? &pending : NULL,
                       w->conv_weight[l], w->conv_bias[l], out, sum, sumsq, ws->conv_scratch);
    else
      conv3x3_im2col(&s, in, w->conv_weight[l], w->conv_bias[l], out, sum, sumsq,
                     ws->conv_scratch);
    /* Coefficient sets alternate: the pending set of the input is still in use
     * by this layer's consumer-side fusion until the next conv has run. */
    float *m = mean[l & 1], *k = mul[l & 1], *a = add[l & 1];
    instance_norm_coeffs(L->c_out, n, w->conv_bias[l], sum, sumsq, w->norm_scale[l],
                         w->norm_bias[l], KERNEL_IN_EPS, m, k, a);
    if (l == 0 && trace) {
      copy_out(trace->conv1a, out, (size_t)L->c_out * n);
      if (trace->block1a) {
        copy_out(trace->block1a, out, (size_t)L->c_out * n);
        norm_selu(trace->block1a, L->c_out, n, m, k, a);
      }
    }
    if (L->pool > 1) {
      norm_selu_maxpool(out, L->c_out, T, fo, L->pool, m, k, a, other);
      f = fo / L->pool;
      trace_pool(trace, l, other, (size_t)L->c_out * T * (size_t)f);
      in = other;
      has_pending = 0;
    } else {
      const int next_fuses = l + 1 < TEACHER_N_CONV && layers[l + 1].tile_t;
      if (next_fuses) {
        pending = (channel_norm){m, k, a};
        has_pending = 1;
      } else {
        norm_selu(out, L->c_out, n, m, k, a);
        has_pending = 0;
      }
      f = fo;
      in = out;
      out = other;
      other = (float *)in;
    }
    ldx = (size_t)f;
  }
  fold_tail(w, in, f, T, probs, trace, ws, in == ws->act_a ? ws->act_b : ws->act_a, 0);
}

static chordlet_status forward_one(const teacher_fold_weights *w, const float *x, size_t T,
                                   float *probs, teacher_trace *trace, int use_ref,
                                   chordlet_error *err) {
  chordlet_status st = check_call(w, 1, x, T, probs, err);
  if (st != CHORDLET_OK) return st;
  teacher_ws ws;
  if ((st = ws_alloc(&ws, T, 0, err)) != CHORDLET_OK) return st;
  if (use_ref)
    fold_forward_ref(w, x, T, probs, trace, &ws);
  else
    fold_forward_fast(w, x, T, probs, trace, &ws);
  free(ws.act_a);
  return CHORDLET_OK;
}

chordlet_status teacher_forward_fold(const teacher_fold_weights *w, const float *x, size_t T,
                                     float *probs, teacher_trace *trace, chordlet_error *err) {
  return forward_one(w, x, T, probs, trace, 0, err);
}

chordlet_status teacher_forward_fold_ref(const teacher_fold_weights *w, const float *x,
                                         size_t T, float *probs, teacher_trace *trace,
                                         chordlet_error *err) {
  return forward_one(w, x, T, probs, trace, 1, err);
}

chordlet_status teacher_forward(const teacher_fold_weights *folds, int n_folds, const float *x,
                                size_t T, float *probs, chordlet_error *err) {
  return teacher_forward_progress(folds, n_folds, x, T, probs, NULL, NULL, err);
}

chordlet_status teacher_forward_progress(const teacher_fold_weights *folds, int n_folds,
                                         const float *x, size_t T, float *probs,
                                         teacher_progress progress, void *progress_ctx,
                                         chordlet_error *err) {
  if (n_folds < 1)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "teacher: an ensemble needs at least one fold (got %d)", n_folds);
  chordlet_status st = check_call(folds, n_folds, x, T, probs, err);
  if (st != CHORDLET_OK) return st;
  teacher_ws ws;
  if ((st = ws_alloc(&ws, T, 1, err)) != CHORDLET_OK) return st;
  const size_t n = T * TEACHER_OUT;
  for (int k = 0; k < n_folds; k++) {
    fold_forward_fast(&folds[k], x, T, k ? ws.fold_probs : probs, NULL, &ws);
    if (k)
      for (size_t i = 0; i < n; i++) probs[i] += ws.fold_probs[i];
    if (progress) progress(progress_ctx, k + 1, n_folds);
  }
  /* The mean of the probabilities, not of the logits (TEACHER.md 3.1). */
  const float inv = 1.0f / (float)n_folds;
  if (n_folds > 1)
    for (size_t i = 0; i < n; i++) probs[i] *= inv;
  free(ws.act_a);
  return CHORDLET_OK;
}

/* ---- 170 classes ------------------------------------------------------------------- */

/* map170.json "quality_of"[triad type][seventh][thirteenth] -> quality (vocab.h order:
 * min maj dim aug min6 maj6 min7 minmaj7 maj7 7 dim7 hdim7 sus2 sus4). Triad types:
 * maj min sus4 sus2 dim aug; sevenths: none, 7, b7, bb7; thirteenths: none, 13, b13. */
static const unsigned char quality_of[6][4][3] = {
    {{1, 5, 1}, {8, 8, 8}, {9, 9, 9}, {5, 5, 5}},         /* maj */
    {{0, 4, 0}, {7, 7, 7}, {6, 6, 6}, {4, 4, 4}},         /* min */
    {{13, 13, 13}, {13, 13, 13}, {13, 13, 13}, {13, 13, 13}}, /* sus4 */
    {{12, 12, 12}, {12, 12, 12}, {12, 12, 12}, {12, 12, 12}}, /* sus2 */
    {{2, 10, 2}, {2, 2, 2}, {11, 11, 11}, {10, 10, 10}},  /* dim */
    {{3, 3, 3}, {3, 3, 3}, {3, 3, 3}, {3, 3, 3}},         /* aug */
};

void teacher_heads_to_p170(const float *probs, size_t T, float *p170) {
  for (size_t t = 0; t < T; t++) {
    const float *triad = probs + t * TEACHER_OUT;  /* (73) */
    const float *seventh = triad + 86;             /* (4) */
    const float *thirteenth = triad + 97;          /* (3) */
    double acc[TEACHER_P170] = {0};
    for (int a = 0; a < 6; a++)
      for (int s = 0; s < 4; s++)
        for (int u = 0; u < 3; u++) {
          const double ext = (double)seventh[s] * thirteenth[u];
          const int q = quality_of[a][s][u];
          for (int r = 0; r < 12; r++) acc[r * 14 + q] += triad[1 + 12 * a + r] * ext;
        }
    acc[169] = triad[0]; /* N; X (168) stays 0: the teacher has no "unknown" */
    for (int c = 0; c < TEACHER_P170; c++) p170[t * TEACHER_P170 + c] = (float)acc[c];
  }
}
