/*
 * student.h: the 2E1D student (../shared/docs/PAPER.md 2.2) as chordlet runs
 * it: configuration, the layout of its parameters in one flat float buffer
 * (llm.c's shape: the trainer keeps gradients and optimiser state in buffers
 * of the same layout), the full-window forward pass and incremental
 * (streaming) inference with cached keys and values.
 *
 * What differs from the paper, and why (docs/ARCHITECTURE.md, "Student"):
 *  - Time attention is banded: query frame i sees key frames j with
 *    i - context < j <= i + lookahead_of_that_attention. The first
 *    temporal-encoder layer's self-attention has lookahead cfg.lookahead;
 *    every other time attention (the other temporal layers, the decoder's
 *    self- and cross-attention) is causal (lookahead 0). So the whole network
 *    sees cfg.lookahead future frames, which is the model's latency on top of
 *    the front end's delay, and a live stream can cache keys and values.
 *  - Absolute positional encodings over time (0.02 PE, pi_D PE) would change
 *    every key at every hop of a sliding window, so they cannot be cached;
 *    time attention instead adds a fixed relative bias (ALiBi):
 *    score(i, j) = q_i.k_j / sqrt(e) - slope_h * |i - j|, with
 *    slope_h = 2^(-8 (h + 1) / H) for head h of H (cfg.alibi = 1; 0 = no bias).
 *  - The frequency encoder keeps the paper's 0.01 PE over its G tokens.
 *  - The decoder's unused linear layer (PAPER 2.2.3 step 4) is not stored.
 *
 * Forward pass of T frames x (T, n_bins) (row-major, one row per frame):
 *   x = (x - norm_mean) / norm_std
 *   Frequency encoder (per frame): U (T*G, e_f) = x reshaped, e_f = n_bins / G;
 *     U[t,g,:] += pos_scale_f * PE(G, e_f)[g,:];
 *     per layer l: U = FF_l(U + f.l.attn_alpha * MHA_l(U, U))  (attention over
 *     the G tokens of one frame, no mask, no bias);
 *     yF = LN(f.ln)( reshape(U) (T, n_bins) @ f.fc.w^T + f.fc.b ).
 *   Temporal encoder: X = x; per layer l: X = FF_l(X + t.l.attn_alpha *
 *     MHA_band(X, X)); yT = LN(t.ln)( X @ t.fc.w^T + t.fc.b ).
 *   Y = yF + yT.
 *   Decoder, per layer l (one LayerNorm d.ln shared by all layers/sub-layers):
 *     Y = LN(d.ln)( Y + d.l.self_alpha  * MHA_band(Y, Y) )
 *     Y = LN(d.ln)( Y + d.l.cross_alpha * MHA_band(Y, yT) )   queries from Y
 *     Y = FF_l(Y)
 *   logits z = Y @ out.w^T + out.b   (T, n_classes).
 * with FF(x) = LN(ff.ln2)( x + ff.alpha * ( ReLU(LN(ff.ln1)(x @ ff.w1^T + ff.b1))
 * @ ff.w2^T + ff.b2 ) ), hidden width ff_mult * width; LayerNorm as PyTorch's
 * (biased variance, eps 1e-5); MHA as PyTorch's nn.MultiheadAttention
 * (attn.w_in rows 0..w-1 = W_q, w..2w-1 = W_k, 2w..3w-1 = W_v; head r uses
 * components [r e, (r+1) e), e = width / heads; scores scaled by 1/sqrt(e);
 * out = concat(heads) @ attn.w_out^T + attn.b_out). Dropout (training only,
 * rate cfg.dropout, inverted) sits where PAPER 2.2.3 puts it: inside FF after
 * the ReLU and after w2, before f.fc and t.fc, on the decoder's attention
 * outputs, and before out.w.
 *
 * Thread: the config and layout functions and student_forward are pure (any
 * thread; student_forward allocates its scratch). A student_stream is used
 * by one thread at a time and allocates nothing after creation (the live
 * worker; not the audio thread).
 */
#ifndef CHORDLET_STUDENT_H
#define CHORDLET_STUDENT_H

#include <stddef.h>

#include "chordlet.h"
#include "modelfile.h"

#define STUDENT_MAX_LAYERS 8
#define STUDENT_MAX_PARAMS 512 /* named tensors in the layout */

typedef struct student_config {
  int n_bins;      /* input features per frame = model width d (144) */
  int n_classes;   /* 170 */
  int n_groups;    /* G: frequency-encoder tokens per frame (2: 72 bins each) */
  int layers_f, layers_t, layers_d; /* encoder/decoder depths (<= STUDENT_MAX_LAYERS) */
  int heads_f, heads_t, heads_d;    /* heads (must divide the width) */
  int ff_mult;     /* FF hidden width = ff_mult * width (paper: 4) */
  int context;     /* frames each time attention reaches back, itself included */
  int lookahead;   /* future frames the first temporal layer's self-attention sees */
  int alibi;       /* 1: relative bias -slope_h |i - j| on time attention */
  float pos_scale_f; /* frequency-encoder PE scale (paper: 0.01) */
  float dropout;     /* training only (paper: 0.3) */
  float norm_mean, norm_std; /* input normalisation */
} student_config;

/* chordlet's default live student: G 2, layers 3/4/3, heads 2/4/4 (PAPER
 * configuration (c)), ff_mult 4, context 128 frames, lookahead 1, alibi,
 * pos_scale_f 0.01, dropout 0.3, mean 0, std 1. */
student_config student_config_default(void);

/* Checks every field (positive sizes, divisibility, limits); a message names
 * the bad one. */
chordlet_status student_config_check(const student_config *c, chordlet_error *err);

/* One named tensor of the flat parameter buffer. */
typedef struct student_param {
  char name[48];  /* e.g. "t.2.ff.w1" */
  int ndim;       /* 1 or 2 */
  int dims[2];    /* (out, in) for matrices, PyTorch storage order */
  size_t offset;  /* in floats from the start of the buffer, a multiple of 16 */
  size_t size;    /* floats */
  int is_matrix;  /* 1: weight matrix (Linear-style init); 0: vector/scalar */
} student_param;

/*
 * The layout, in this order (w = width, h = ff_mult * w):
 *   per frequency layer l (w = e_f):  f.l.attn.w_in (3w, w), f.l.attn.b_in (3w),
 *     f.l.attn.w_out (w, w), f.l.attn.b_out (w), f.l.attn_alpha (1),
 *     f.l.ff.w1 (h, w), f.l.ff.b1 (h), f.l.ff.ln1.g (h), f.l.ff.ln1.b (h),
 *     f.l.ff.w2 (w, h), f.l.ff.b2 (w), f.l.ff.ln2.g (w), f.l.ff.ln2.b (w),
 *     f.l.ff.alpha (1);
 *   f.fc.w (d, d), f.fc.b (d), f.ln.g (d), f.ln.b (d);
 *   per temporal layer l: t.l.* as above with w = d;
 *   t.fc.w, t.fc.b, t.ln.g, t.ln.b;
 *   per decoder layer l: d.l.self.w_in, d.l.self.b_in, d.l.self.w_out,
 *     d.l.self.b_out, d.l.self_alpha, d.l.cross.w_in, d.l.cross.b_in,
 *     d.l.cross.w_out, d.l.cross.b_out, d.l.cross_alpha, d.l.ff.* (as above);
 *   d.ln.g, d.ln.b;
 *   out.w (n_classes, d), out.b (n_classes).
 * Every tensor starts on a 16-float (64-byte) boundary. Returns the number of
 * tensors (<= STUDENT_MAX_PARAMS) and the buffer's total floats in *n_floats.
 */
int student_layout(const student_config *c, student_param *params, size_t *n_floats);

/* The offset of a tensor by name, or (size_t)-1 if the layout has none. */
size_t student_param_offset(const student_param *params, int n, const char *name);

/* PyTorch's default initialisation (PAPER 2.1) from a seed: Linear weights
 * and biases U(-1/sqrt(in), 1/sqrt(in)); attention w_in Xavier-uniform with
 * zero b_in, w_out Linear-default with zero b_out; LayerNorm g 1, b 0; ReZero
 * alphas 0. Padding between tensors is zero. Deterministic for a seed. */
void student_init(const student_config *c, float *params, unsigned long long seed);

/* A student can run live when its lookahead costs at most
 * STUDENT_LIVE_MAX_LOOKAHEAD_S of delay at its hop (the front end's 140 ms
 * come on top; the live budget is 300 ms). File-mode models (a long
 * lookahead, e.g. models/offline.chordlet's 3.84 s) are for transcribe, and
 * for streams that accept their latency (chordlet_stream_options). */
#define STUDENT_LIVE_MAX_LOOKAHEAD_S CHORDLET_LIVE_LOOKAHEAD_SECONDS
int student_is_streamable(const student_config *c, double hop_seconds);

/* The model file: config keys (MK_STUDENT_* in model_keys.h) and one tensor
 * per layout entry. Write adds to a model writer; read checks every shape. */
chordlet_status student_config_read(const model_file *m, student_config *c, chordlet_error *err);
chordlet_status student_write(model_writer *w, const student_config *c, const float *params,
                              chordlet_error *err);
/* Copies the tensors into params (student_layout's n_floats). */
chordlet_status student_read_params(const model_file *m, const student_config *c, float *params,
                                    chordlet_error *err);

/* Checks that m holds every tensor of c's layout with its shape, before
 * anything is allocated for it: a file whose metadata claims a huge student
 * is refused for what it lacks, not after allocating what it claims. */
chordlet_status student_check_params(const model_file *m, const student_config *c, chordlet_error *err);

/*
 * Full-window forward pass (inference: no dropout) of T consecutive frames
 * x (T, n_bins) raw features (normalised inside), logits out (T, n_classes).
 * Frame 0 is treated as the first frame the network has seen (no earlier
 * context), frame T-1 as the last (no later frames for the lookahead).
 * Uses cblas_sgemm. Allocates scratch (returns CHORDLET_ERR_NO_MEMORY on failure).
 */
chordlet_status student_forward(const student_config *c, const float *params, const float *x,
                                int T, float *logits, chordlet_error *err);

/* student_forward works in blocks of this many rows (frames), counted from
 * frame 0: a window of frames that starts at a multiple of it makes the
 * same BLAS calls on the same rows as the whole sequence does, which is
 * what student_blocks.h builds on. */
#define STUDENT_FORWARD_ROWS 256

/*
 * Incremental inference: push frames one at a time; after pushing frame n the
 * stream returns the logits of frame n - lookahead (none for the first
 * `lookahead` pushes); flush returns the last `lookahead` frames' logits as
 * if the input had ended. The result equals student_forward over all frames
 * pushed since creation/reset (within float rounding; tested 1e-5).
 * Keys/values of the last `context` frames are kept per time attention.
 * No allocation, lock or I/O after create.
 */
typedef struct student_stream student_stream;
chordlet_status student_stream_create(const student_config *c, const float *params,
                                      student_stream **out, chordlet_error *err);
void student_stream_free(student_stream *s);
void student_stream_reset(student_stream *s);
/* frame: (n_bins) raw features. Returns 1 and writes logits (n_classes) when
 * a frame's output is ready, else 0. */
int student_stream_push(student_stream *s, const float *frame, float *logits);
/* After the last push: call repeatedly; returns 1 with the next pending
 * frame's logits, 0 when none is left. */
int student_stream_flush(student_stream *s, float *logits);
/* The model's own delay in frames (= lookahead). */
int student_stream_lookahead(const student_stream *s);

#endif
