/* adamw.h: the optimiser of the student's training (../shared/docs/PAPER.md
 * section 4) over one flat float buffer, and global gradient clipping
 * (PAPER 1.5). Both act on the whole buffer, padding included: the padding
 * between tensors holds zero parameters and zero gradients, which an AdamW
 * step leaves at zero.
 *
 * AdamW as torch.optim.AdamW (decoupled weight decay on every parameter,
 * no parameter groups):
 *   theta <- theta - lr * lambda * theta
 *   m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2
 *   theta <- theta - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *
 * Thread: any (pure functions of their arguments). */
#ifndef CHORDLET_TRAINER_ADAMW_H
#define CHORDLET_TRAINER_ADAMW_H

#include <stddef.h>

typedef struct adamw_options {
  float lr, beta1, beta2, eps, weight_decay;
} adamw_options;

/* One step t = 1, 2, ... over n floats; m, v have the same layout and are zero
 * before the first step. */
void adamw_step(float *params, const float *grads, float *m, float *v, size_t n, long t,
                const adamw_options *o);

/* Zeroes non-finite entries, then scales so that the global L2 norm is at most
 * max_norm (if max_norm > 0; as torch.nn.utils.clip_grad_norm_: factor
 * max_norm / (norm + 1e-6) when below 1). Returns the norm before clipping
 * (after zeroing). */
double clip_grad_norm(float *grads, size_t n, double max_norm);

#endif
