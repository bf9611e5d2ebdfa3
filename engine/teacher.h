/*
 * teacher.h: the forward pass of the pre-trained chord teacher, the 5-fold
 * CNN + BLSTM ensemble of Jiang et al. 2019 (../shared/docs/TEACHER.md), and its
 * mapping to the 170-class vocabulary (TEACHER.md section 6).
 *
 * One fold (TEACHER.md section 2): crop bins 18..269 of the (T, 288) linear
 * hybrid-CQT magnitudes; ten 3x3 convolutions, each followed by instance
 * normalisation over the whole sequence and SELU, with frequency max-pools of
 * 3, 3, 4 after conv1c, conv2c, conv3b (252 -> 84 -> 28 -> 7 bins) and no
 * frequency padding in conv4a, conv4b (7 -> 5 -> 3); flatten per frame to
 * (T, 240) (index channel*3 + bin); one bidirectional LSTM, 96 per direction
 * (ONNX gate order i, o, f, c); a linear layer 192 -> 100; six softmaxes over
 * the head slices triad 0..72, bass 73..85, seventh 86..89, ninth 90..93,
 * eleventh 94..96, thirteenth 97..99.
 *
 * The whole sequence is one batch: instance normalisation and the backward LSTM
 * see every frame, so a song must be run at once (not streamable) and chunks of
 * a song give different results.
 *
 * Speed: convolutions conv1b..conv3b run as Winograd F(2x2,3x3) over
 * cblas_sgemm, conv1a and conv4a/b as im2col + cblas_sgemm; the LSTM input
 * projection is one sgemm per direction. Memory: about 34 KB per frame
 * (260 MB for a 3-minute song), allocated once per call.
 *
 * Thread: any thread that may allocate and block for seconds (worker or main).
 * Functions are pure apart from their outputs; several threads may run
 * forward passes at once on the same weights.
 */
#ifndef CHORDLET_TEACHER_H
#define CHORDLET_TEACHER_H

#include <stddef.h>

#include "chordlet.h"

enum {
  TEACHER_IN_BINS = 288,   /* input features per frame */
  TEACHER_BIN_OFFSET = 18, /* the network uses bins 18..269 ... */
  TEACHER_BINS_USED = 252, /* ... 252 of them */
  TEACHER_OUT = 100,       /* the six heads, concatenated */
  TEACHER_N_CONV = 10,
  TEACHER_HIDDEN = 96,     /* LSTM units per direction */
  TEACHER_CNN_OUT = 240,   /* 80 channels x 3 bins */
  TEACHER_LSTM_OUT = 192,  /* forward h, backward h */
  TEACHER_P170 = 170,      /* the 170-class vocabulary (vocab.h) */
  TEACHER_N_HEADS = 6,
};

/* The longest input accepted: 24 hours of frames at 22050 / 512 Hz. Longer is
 * surely a mistake (and would need over 120 GB). */
#define TEACHER_MAX_FRAMES ((size_t)24 * 3600 * 22050 / 512 + 1)

/* Head slices of the (T, 100) outputs, in order: triad 73, bass 13, seventh 4,
 * ninth 4, eleventh 3, thirteenth 3. */
extern const int teacher_head_size[TEACHER_N_HEADS];
extern const int teacher_head_offset[TEACHER_N_HEADS];

typedef struct teacher_fold_weights {       /* pointers into memory owned elsewhere (a loaded model file) */
  const float *conv_weight[TEACHER_N_CONV]; /* (out, in, 3, 3) */
  const float *conv_bias[TEACHER_N_CONV];   /* (out) */
  const float *norm_scale[TEACHER_N_CONV];  /* (out) */
  const float *norm_bias[TEACHER_N_CONV];   /* (out) */
  const float *lstm_W[2], *lstm_R[2], *lstm_Wb[2], *lstm_Rb[2]; /* [0] fwd, [1] bwd: (384,240) (384,96) (384) (384) */
  const float *fc_weight, *fc_bias;         /* (100,192) (100) */
} teacher_fold_weights;

/* Looks a tensor up by name (as in manifest.json: "cnn.conv1a.weight",
 * "cnn.norm1a.scale", "lstm.fwd.W", "fc.bias", ...) and checks that it has the
 * shape the network needs (ndim dimensions, shape[0..ndim-1]). Returns the
 * data (float32, row-major), or NULL when the tensor is missing or its shape
 * differs, optionally after writing the reason into err (never NULL). */
typedef const float *(*teacher_tensor_lookup)(void *ctx, const char *name, int ndim,
                                               const int *shape, chordlet_error *err);

/* Binds all 50 tensors of one fold through lookup. On failure the error names
 * the tensor and its expected shape, followed by the lookup's own message.
 * Thread: any. */
chordlet_status teacher_fold_bind(teacher_fold_weights *w, teacher_tensor_lookup lookup,
                                  void *ctx, chordlet_error *err);

/* The fixed tensor order of a fold blob (TEACHER.md section 8): 50 tensors
 * packed back to back, 466,948 floats = 1,867,792 bytes. teacher_tensor_info
 * gives the name, shape (up to 4 dims) and float offset of tensor k (0..49);
 * it returns 0 for k out of range. A loader can use it to bind a raw blob
 * without a manifest. Thread: any. */
enum { TEACHER_N_TENSORS = 50, TEACHER_FOLD_FLOATS = 466948 };
int teacher_tensor_info(int k, const char **name, int *ndim, int shape[4], size_t *offset);

/* Optional intermediates of one fold, for tests (any pointer may be NULL; each
 * must hold T times the per-frame size):
 *   conv1a  (16, T, 252) conv1a output before normalisation
 *   block1a (16, T, 252) after conv1a + instance norm + SELU
 *   pool1   (16, T, 84)  pool2 (32, T, 28)  pool3 (64, T, 7): after each max-pool
 *   cnn_out (T, 240)     lstm_out (T, 192)  logits (T, 100) before the softmaxes */
typedef struct teacher_trace {
  float *conv1a, *block1a, *pool1, *pool2, *pool3, *cnn_out, *lstm_out, *logits;
} teacher_trace;

/* One fold: x (T, 288) linear CQT magnitudes -> probs (T, 100), six softmax
 * heads. trace may be NULL. Errors: T == 0 or T > TEACHER_MAX_FRAMES, a NaN or
 * infinite feature in the used bins (it would poison every frame through the
 * normalisation), out of memory. Thread: worker. */
chordlet_status teacher_forward_fold(const teacher_fold_weights *w, const float *x, size_t T,
                                     float *probs, teacher_trace *trace, chordlet_error *err);

/* The ensemble: the mean of the folds' probabilities (TEACHER.md 3.1), one
 * allocation for all folds. Thread: worker. */
chordlet_status teacher_forward(const teacher_fold_weights *folds, int n_folds, const float *x,
                                size_t T, float *probs, chordlet_error *err);

/* teacher_forward, calling progress(ctx, folds_done, n_folds) after each fold
 * (progress may be NULL). Thread: worker. */
typedef void (*teacher_progress)(void *ctx, int folds_done, int n_folds);
chordlet_status teacher_forward_progress(const teacher_fold_weights *folds, int n_folds,
                                         const float *x, size_t T, float *probs,
                                         teacher_progress progress, void *progress_ctx,
                                         chordlet_error *err);

/* The same forward pass as teacher_forward_fold with the plain reference
 * kernels (kernels.h *_ref: direct loops, double accumulators, no BLAS, no
 * Winograd). About 40 times slower; for tests. Thread: worker. */
chordlet_status teacher_forward_fold_ref(const teacher_fold_weights *w, const float *x,
                                         size_t T, float *probs, teacher_trace *trace,
                                         chordlet_error *err);

/* Heads (T, 100) -> 170-class probabilities (T, 170) by TEACHER.md section 6:
 * p170[r*14 + q] = sum over (triad type a, seventh s, thirteenth u) with
 * M[a][s][u] == q of triad[1 + 12a + r] * seventh[s] * thirteenth[u];
 * p170[169] (N) = triad[0]; p170[168] (X) = 0. M is map170.json's quality_of.
 * The bass, ninth and eleventh heads are summed out. Thread: any. */
CHORDLET_RT void teacher_heads_to_p170(const float *probs, size_t T, float *p170);

#endif
