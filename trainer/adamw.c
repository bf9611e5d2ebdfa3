/* adamw.c: AdamW and gradient clipping over flat buffers (adamw.h). */
#include <math.h>

#include "adamw.h"

void adamw_step(float *params, const float *grads, float *m, float *v, size_t n, long t,
                const adamw_options *o) {
  const double bc1 = 1.0 - pow((double)o->beta1, (double)t);
  const double bc2 = 1.0 - pow((double)o->beta2, (double)t);
  const float decay = (float)(1.0 - (double)o->lr * (double)o->weight_decay);
  const float step = (float)((double)o->lr / bc1);
  const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
  const float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  for (size_t i = 0; i < n; i++) {
    const float g = grads[i];
    float p = params[i] * decay;
    const float mi = b1 * m[i] + c1 * g;
    const float vi = b2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    p -= step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    params[i] = p;
  }
}

double clip_grad_norm(float *grads, size_t n, double max_norm) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(grads[i])) grads[i] = 0.0f;
    sum += (double)grads[i] * (double)grads[i];
  }
  const double norm = sqrt(sum);
  if (max_norm > 0) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
      const float s = (float)coef;
      for (size_t i = 0; i < n; i++) grads[i] *= s;
    }
  }
  return norm;
}
