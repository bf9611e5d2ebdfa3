/*
 * kernels.h: the numeric kernels of the networks (the teacher today, the
 * student later): 3x3 convolution, instance normalisation, SELU, frequency
 * max-pooling, one LSTM direction, a linear layer, softmax.
 *
 * Every fast kernel has a plain-loop reference version next to it (`*_ref`,
 * no BLAS, no tricks, double accumulators where it matters); tests/test_kernels.c
 * holds each fast kernel equal to its reference on random inputs of odd sizes.
 *
 * Layout: CNN activations are (C, T, F) row-major: channel, time, frequency.
 * Sequences for the recurrent and linear layers are (T, D) row-major.
 * Kernels never allocate: the caller passes scratch memory whose size a
 * companion `*_scratch_floats()` function gives. They cannot fail (shapes are
 * the caller's contract), so they return nothing.
 *
 * Thread: any (pure functions of their arguments; the BLAS calls are
 * re-entrant). Not real-time safe: OpenBLAS may start its own threads.
 */
#ifndef CHORDLET_KERNELS_H
#define CHORDLET_KERNELS_H

#include <stddef.h>

/* Which vectorised code the fast kernels run on this CPU: "avx2" or "generic"
 * (the build's baseline). CHORDLET_SIMD=generic in the environment forces the
 * baseline; both give bit-identical results. */
const char *kernels_simd_path(void);

/* ---- 3x3 convolution ------------------------------------------------------
 * Cross-correlation (no kernel flip), stride 1, zero padding 1 in time (T is
 * kept) and pad_f (0 or 1) in frequency:
 *   y[o][t][f] = b[o] + sum_{i,a,c} w[o][i][a][c] * x[i][t+a-1][f+c-pad_f]
 * x: c_in planes of T rows; row t of plane i starts at x + (i*T + t) * ldx and
 * its first f_in floats are used (ldx > f_in lets a caller crop without a
 * copy). w: (c_out, c_in, 3, 3). b: (c_out). y: (c_out, T, f_out) dense,
 * f_out = f_in + 2*pad_f - 2.
 * The fast versions can also return per-channel sums of (y - b[o]) and of its
 * square in double (the statistics instance normalisation needs, shifted by
 * the bias so that a large bias does not cancel digits); pass NULL to skip. */
typedef struct conv3x3_shape {
  int c_in, c_out;
  size_t T;
  int f_in, pad_f;
  size_t ldx; /* row stride of x in floats, >= f_in */
} conv3x3_shape;

int conv3x3_f_out(const conv3x3_shape *s);

void conv3x3_ref(const conv3x3_shape *s, const float *x, const float *w, const float *b,
                 float *y);

/* im2col over chunks of frames + one cblas_sgemm per chunk. Best for c_in = 1
 * and for tiny frequency sizes. */
size_t conv3x3_im2col_scratch_floats(const conv3x3_shape *s);
void conv3x3_im2col(const conv3x3_shape *s, const float *x, const float *w, const float *b,
                    float *y, double *sum, double *sumsq, float *scratch);

/* Per-channel instance normalisation and SELU applied to a convolution's input
 * as it is read: x' = selu((x - mean[i]) * mul[i] + add[i]) (see
 * instance_norm_coeffs below). It saves a pass over the previous layer's output. */
typedef struct channel_norm {
  const float *mean, *mul, *add; /* (c_in) each */
} channel_norm;

/* Winograd F(m_t x m_f, 3x3), tile_t and tile_f = 2 or 4 output frames and bins
 * per tile: (m_t + 2)(m_f + 2) multiplies per tile and input channel instead of
 * 9 m_t m_f, done as one cblas_sgemm per transform point and block of tiles.
 * With 2 x 2 the transforms use only 0, +-1 and 1/2 and the result stays within
 * float rounding of the direct sum; each factor 4 multiplies the rounding error
 * by about 4 (2 x 4: 7e-7 of the largest output, 4 x 4: 3e-6; conv3x3_ref is the
 * yardstick in the tests). in_norm (may be NULL) normalises the input on the
 * fly; the zero padding stays zero, as it pads the normalised input. */
size_t conv3x3_winograd_scratch_floats(const conv3x3_shape *s, int tile_t, int tile_f);
void conv3x3_winograd(const conv3x3_shape *s, int tile_t, int tile_f, const float *x,
                      const channel_norm *in_norm, const float *w, const float *b, float *y,
                      double *sum, double *sumsq, float *scratch);

/* ---- instance normalisation, SELU, max-pool -------------------------------
 * Instance normalisation of one channel over all n = T*F positions:
 *   z = (y - mean) / sqrt(var + eps) * scale + bias, var biased. */
#define KERNEL_IN_EPS 1e-5
#define KERNEL_SELU_LAMBDA 1.0507009873554804934193349852946
#define KERNEL_SELU_ALPHA 1.6732632423543772848170429916717

/* Per channel: mean and variance in two double passes, then normalise in place.
 * y: (C, n). */
void instance_norm_ref(float *y, int C, size_t n, const float *scale, const float *bias,
                       double eps);
void selu_ref(float *y, size_t n);
/* out[c][t][f] = max_{m<k} x[c][t][k*f+m]; x: (C, T, F), out: (C, T, F/k), F % k == 0. */
void maxpool_freq_ref(const float *x, int C, size_t T, int F, int k, float *out);

/* The fast path splits instance normalisation in two: the statistics (fused into
 * the convolutions above, or channel_sums() on its own), then
 * instance_norm_coeffs() turns them into per-channel float coefficients
 * z = (y - mean[c]) * mul[c] + add[c] that the fused kernels below apply. */
void channel_sums(const float *y, int C, size_t n, const float *shift, double *sum,
                  double *sumsq);
void instance_norm_coeffs(int C, size_t n, const float *shift, const double *sum,
                          const double *sumsq, const float *scale, const float *bias,
                          double eps, float *mean, float *mul, float *add);
/* In place: y = selu((y - mean[c]) * mul[c] + add[c]); y: (C, n). */
void norm_selu(float *y, int C, size_t n, const float *mean, const float *mul,
               const float *add);
/* out = maxpool_freq(selu(norm(y))) in one pass: the normalisation and SELU are
 * monotonic, so it pools first (max where mul[c] >= 0, min where it is negative)
 * and evaluates SELU on k times fewer values. The result equals pooling
 * afterwards (to the ulp, where the polynomial exp is not exactly monotonic).
 * y: (C, T, F), out: (C, T, F/k). */
void norm_selu_maxpool(const float *y, int C, size_t T, int F, int k, const float *mean,
                       const float *mul, const float *add, float *out);
void selu(float *y, size_t n);
void maxpool_freq(const float *x, int C, size_t T, int F, int k, float *out);

/* exp over an array with a vectorised polynomial (Cephes' expf: within about
 * 2 float ulps of libm; inputs are clamped to [-87.3, 88.3]). */
void exp_array(const float *x, float *y, size_t n);

/* ---- LSTM ------------------------------------------------------------------
 * One direction of an LSTM layer in ONNX's layout: gate row blocks i, o, f, c
 * (H rows each) in W (4H, n_in), R (4H, H), Wb and Rb (4H), both biases added:
 *   g = W x_t + Wb + R h_prev + Rb; i, o, f = sigmoid; c~ = tanh;
 *   c_t = f c_prev + i c~;  h_t = o tanh(c_t);  h and c start at 0.
 * in: (T, n_in) with row stride ldi; h_t is written to out + t*ldo (H floats).
 * reverse != 0 runs t = T-1 down to 0 (its h_t still lands at row t). */
size_t lstm_direction_scratch_floats(size_t T, int H);
void lstm_direction_ref(const float *in, size_t ldi, size_t T, int n_in, int H,
                        const float *W, const float *R, const float *Wb, const float *Rb,
                        int reverse, float *out, size_t ldo, float *scratch);
/* All frames' input projections as one sgemm, then one sgemv per step. */
void lstm_direction(const float *in, size_t ldi, size_t T, int n_in, int H, const float *W,
                    const float *R, const float *Wb, const float *Rb, int reverse, float *out,
                    size_t ldo, float *scratch);

/* ---- linear layer and softmax ----------------------------------------------
 * y (T, n_out) = x (T, n_in) w^T + b, w stored (n_out, n_in). */
void linear_ref(const float *x, size_t T, int n_in, const float *w, const float *b, int n_out,
                float *y);
void linear(const float *x, size_t T, int n_in, const float *w, const float *b, int n_out,
            float *y);

/* In place, each row of z (T, width) is split into n_heads consecutive slices of
 * head_size[h] entries (summing to width), each replaced by its softmax. */
void softmax_heads_ref(float *z, size_t T, int width, const int *head_size, int n_heads);
void softmax_heads(float *z, size_t T, int width, const int *head_size, int n_heads);

#endif
