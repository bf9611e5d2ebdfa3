/* align.c: box-average alignment of frame probabilities between frame grids. */
#include "align.h"

#include <math.h>
#include <string.h>

#include "error.h"

chordlet_status align_box_average(const float *src, size_t T_src, size_t C, double src_hop,
                                  const double *centres, size_t T_dst, double width, float *dst,
                                  chordlet_error *err) {
  if (T_src == 0 || C == 0 || !(src_hop > 0) || !(width > 0) || !isfinite(src_hop) || !isfinite(width))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "align: %zu source frames of %zu values, hop %g s, width %g s", T_src, C, src_hop, width);
  for (size_t j = 0; j < T_dst; j++) {
    float *out = dst + j * C;
    double lo = centres[j] - width / 2, hi = centres[j] + width / 2;
    if (!isfinite(lo) || !isfinite(hi))
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "align: target frame %zu is not at a finite time", j);
    /* Source frames k with [k h - h/2, k h + h/2) overlapping [lo, hi). */
    double k_first = ceil(lo / src_hop - 0.5), k_last = floor(hi / src_hop + 0.5);
    if (k_first < 0) k_first = 0;
    if (k_last > (double)(T_src - 1)) k_last = (double)(T_src - 1);
    memset(out, 0, C * sizeof *out);
    double total = 0;
    for (double kd = k_first; kd <= k_last; kd++) {
      size_t k = (size_t)kd;
      double a = fmax(lo, kd * src_hop - src_hop / 2), b = fmin(hi, kd * src_hop + src_hop / 2);
      if (b <= a) continue;
      double weight = (b - a) / src_hop;
      for (size_t c = 0; c < C; c++) out[c] += (float)(weight * src[k * C + c]);
      total += weight;
    }
    if (total > 0) {
      for (size_t c = 0; c < C; c++) out[c] = (float)(out[c] / total);
    } else {
      /* Outside the source's span (e.g. a target frame past the song's end). */
      double nearest = round(centres[j] / src_hop);
      size_t k = nearest <= 0 ? 0 : nearest >= (double)(T_src - 1) ? T_src - 1 : (size_t)nearest;
      memcpy(out, src + k * C, C * sizeof *out);
    }
  }
  return CHORDLET_OK;
}
