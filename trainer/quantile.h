/*
 * quantile.h: np.percentile (the default 'linear' method) and np.median, with
 * NumPy's exact arithmetic, for the real-music survey's distances: its
 * thresholds were measured with NumPy, and its decisions must not move.
 *
 * Order statistics by selection (three-way quickselect, O(n) on average and
 * on runs of equal values), so the input is reordered. Inputs must be
 * finite (a NaN gives NaN, as in NumPy) and n >= 1.
 *
 * Thread: any.
 */
#ifndef CHORDLET_TRAINER_QUANTILE_H
#define CHORDLET_TRAINER_QUANTILE_H

#include <stddef.h>

/* np.percentile(v, 100 q) of float32 values: the order statistics at floor
 * and ceil of (n - 1) q interpolated in double from their float difference,
 * from the nearer side (NumPy's _lerp). A double, as NumPy returns. */
double np_percentile_f(float *v, size_t n, double q);
/* np.median of float32 values: a float (the mean of the middle two, in float). */
float np_median_f(float *v, size_t n);
/* np.median of doubles. */
double np_median_d(double *v, size_t n);

#endif
