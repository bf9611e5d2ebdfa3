/* student_train.h: the 2E1D student's training math (forward with stored
 * activations, the stage-1/stage-2 losses, backward), llm.c's shape: one flat
 * parameter buffer in engine/student.h's layout (student_layout), a gradient
 * buffer of the same layout that the backward pass ADDS into, and activations
 * allocated once per trainer for `batch` windows of `frames` frames.
 *
 * The forward math is student.h's (the same as student_forward), run on a
 * batch of independent windows: each window's frame 0 has no earlier context
 * and its last frame no later one. Dropout (training only, inverted, rate
 * cfg.dropout rounded to a multiple of 1/65536, kept units scaled by
 * 1/(1 - that rate)) sits where student.h lists it; its masks are drawn from
 * the step's seed (the same seed and b give the same masks) and stored for
 * the backward pass.
 *
 * Memory: about 114 KB per frame of batch * frames for the default config
 * (468 MB for 16 windows of 256 frames; 426 MB with dropout 0), linear in
 * batch * frames; student_trainer_bytes() tells.
 *
 * Losses (../shared/docs/PAPER.md 1.5), over the N frames whose label is >= 0:
 *   focal  = (1/N) sum_t -(1 - p_y)^gamma log p_y     (gamma 0: cross-entropy;
 *            the modulating factor is differentiated)
 *   KD     = T^2 (1/N) sum_t w_t KL(softmax(a_t/T) || softmax(z_t/T))
 *   w_t    = 1, or with `selective`: c = max softmax(a_t/T); 0 if c < conf_lo,
 *            1 if conf_lo <= c <= conf_hi, 1 - 0.8 (c - conf_hi)/(1 - conf_hi)
 *            above, clipped to [0, 1]; a constant (no gradient to the teacher)
 *   L      = kd_alpha KD + (1 - kd_alpha) focal
 * Frames with label -1 count nowhere (not in N, not in either term).
 *
 * Matrix products are cblas_sgemm. The trainer does not change OpenBLAS's
 * thread count: a caller that runs one trainer per thread should set
 * OPENBLAS_NUM_THREADS=1 (or openblas_set_num_threads(1)) first.
 *
 * Thread: a trainer is used by one thread at a time; distinct trainers are
 * independent (the parameter buffer is only read).
 */
#ifndef CHORDLET_TRAINER_STUDENT_TRAIN_H
#define CHORDLET_TRAINER_STUDENT_TRAIN_H

#include <stddef.h>

#include "student.h"

typedef struct loss_options {
  float focal_gamma;      /* 2 (0 = cross-entropy) */
  float kd_alpha;         /* weight of the KD term: L = a*KD + (1-a)*focal; 0 = no KD (teacher may be NULL) */
  float kd_temperature;   /* T = 3 */
  int selective;          /* 1: PAPER 1.5 selective weights; 0: w_t = 1 */
  float conf_lo, conf_hi; /* 0.1, 0.9 */
  float kd_only_weight;   /* the KD term's weight on KD-only frames; 0: kd_alpha (one weight for all) */
} loss_options;

/* A frame that carries the teacher's distribution and no ground truth (stage
 * 2's real-music windows): it takes the KD term only, weighted by
 * kd_only_weight (or kd_alpha when that is 0), and counts in N only when that
 * weight is above 0 and a teacher is given; otherwise it is ignored. */
enum { STUDENT_LABEL_KD_ONLY = -2 };

typedef struct loss_report {
  double loss, focal, kd; /* L and its two terms (kd includes T^2; 0 when kd_alpha is 0) */
  long frames, correct;   /* N (labelled and KD-only frames), and labelled frames whose argmax equals the label */
  long labelled;          /* the frames of N with a label (correct counts among them) */
  double kd_weight_sum;   /* sum of w_t over the N frames (0 without KD) */
} loss_report;

typedef struct student_trainer student_trainer;

/* NULL on failure (invalid config, sizes or memory); allocates all
 * activations for `batch` windows of `frames` frames (frames >= 1). */
student_trainer *student_trainer_create(const student_config *c, int batch, int frames);
void student_trainer_free(student_trainer *t);

/* Bytes the trainer allocated (activations, masks, scratch). */
size_t student_trainer_bytes(const student_trainer *t);

/* x (B, T, n_bins) raw features; labels (B, T) class index, -1 = frame
 * ignored, or STUDENT_LABEL_KD_ONLY; teacher_logits (B, T, n_classes) or NULL (needed when
 * o->kd_alpha != 0). b (1..batch) windows are used. train = 1: dropout on,
 * masks drawn from seed (deterministic); 0: off. Runs the forward pass, the
 * loss and, if grads != NULL, the backward pass, ADDING into grads (the
 * layout's padding is never touched). Returns the loss (0 when no frame is
 * labelled; NaN on bad arguments) and fills *report (may be NULL). */
double student_trainer_step(student_trainer *t, const float *params, float *grads, const float *x,
                            const int *labels, const float *teacher_logits, int b,
                            const loss_options *o, int train, unsigned long long seed,
                            loss_report *report);

/* The logits (b, T, n_classes) of the last step. */
const float *student_trainer_logits(const student_trainer *t);

#endif
