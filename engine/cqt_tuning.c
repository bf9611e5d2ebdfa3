/* cqt_tuning.c: librosa 0.10's estimate_tuning (piptrack + pitch_tuning),
 * CQT.md section 11, with librosa's float32 rounding points: the tuning is a
 * histogram argmax, so one value computed in double instead of float32 can
 * land in the neighbouring 0.01-bin slot and move every hybrid bin ~0.8%. */
#define _POSIX_C_SOURCE 200809L
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqt_librosa.h"
#include "error.h"

#ifdef __clang__
/* Keep every product and sum rounded as written: the histogram edges and the
 * parabolic stencil must round exactly as numpy/numba do. (gcc does not
 * contract in ISO C mode, and rejects this pragma.) */
#pragma STDC FP_CONTRACT OFF
#endif

/* librosa.estimate_tuning's defaults and piptrack's. */
enum { TUNE_N_FFT = 2048, TUNE_HOP = TUNE_N_FFT / 4, TUNE_N_BINS = TUNE_N_FFT / 2 + 1 };
#define PIP_FMIN 150.0
#define PIP_FMAX 4000.0
#define PIP_THRESHOLD 0.1
#define TUNE_RESOLUTION_SLOTS 100 /* int(ceil(1 / 0.01)) */

/* Unit roundoff of float32: FFTW's error bound below is counted in it. */
#define EPS_F32 (1.0 / 16777216.0)

/* One piptrack peak: pitch (Hz) and interpolated magnitude, float32 as in librosa. */
typedef struct tune_peak {
  float pitch;
  float mag;
} tune_peak;

typedef struct peak_list {
  tune_peak *p; /* (n) */
  size_t n, cap;
} peak_list;

static int push_peak(peak_list *l, float pitch, float mag) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4096;
    tune_peak *p = realloc(l->p, cap * sizeof *p);
    if (!p) return -1;
    l->p = p;
    l->cap = cap;
  }
  l->p[l->n].pitch = pitch;
  l->p[l->n].mag = mag;
  l->n++;
  return 0;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* np.median of float32 values (n >= 1): the middle one, or the float32 mean of
 * the two middle ones (their float32 sum halved). */
static float median_f32(float *v /* (n), reordered */, size_t n) {
  qsort(v, n, sizeof *v, cmp_float);
  if (n % 2) return v[n / 2];
  float s = v[n / 2 - 1] + v[n / 2];
  return s / 2.0f;
}

/* librosa.core.pitch._parabolic_interpolation's stencil terms at inner bin k
 * (numba): a and b formed in double from float32 sums and differences. */
static void parabola(const float *S, int k, double *a, double *b) {
  float sum = S[k + 1] + S[k - 1];
  float diff = S[k + 1] - S[k - 1];
  *a = (double)sum - 2.0 * (double)S[k];
  *b = (double)diff / 2.0;
}

/* The shift, stored as float32; 0 when it would leave the bin. */
static float parabolic_shift(double a, double b) {
  if (fabs(b) >= fabs(a)) return 0.0f;
  return (float)(-b / a);
}

/*
 * One frame's magnitude spectrum, computed with FFTW in float, and the means
 * to replace single bins by librosa's own values.
 *
 * Why: librosa's STFT is a double FFT rounded to complex64; FFTW's float FFT
 * differs from it by up to delta. Continuous outputs do not care, but
 * piptrack's decisions do when two compared magnitudes lie within delta:
 * above/below the 0.1 * max threshold, local maximum or not, and the parabola
 * through a nearly flat peak. One click in digital silence makes an exactly
 * flat spectrum, where every such decision is decided by rounding alone: with
 * FFTW's rounding, shared/reference/cqt/impulse_train_22k's estimate moves
 * from -0.43 to +0.29. So every bin that takes part in a decision closer than
 * delta is recomputed by a direct DFT in double over the frame's non-zero
 * samples and rounded as numpy rounds (exact[k] then marks it). Music needs a
 * handful of such bins per frame at most; a flat spectrum needs them all.
 */
typedef struct tune_frame {
  float *S;              /* (n_bins) |STFT|, float32: FFTW's, or librosa's where exact[k];
                            defined on [k_lo - 1, k_hi + 1] and the max's candidates */
  unsigned char *exact;  /* (n_bins) */
  const double *q;       /* (n_bins) FFTW's |X|^2 in double, to find the max's candidates */
  float smax;            /* max of FFTW's S over all bins */
  double delta;          /* bound on |S[k] - librosa's S[k]| where !exact[k] */
  const float *y;        /* (n) the signal */
  size_t n;
  long long start;       /* the frame's first sample (may be negative) */
  const double *win;     /* (n_fft) periodic Hann */
  const double *cs;      /* (n_fft, 2) cos and sin of 2 pi j / n_fft */
  int *nz_pos;           /* (n_fft) positions of the frame's non-zero samples */
  double *nz_val;        /* (n_fft) their windowed values, in double as librosa forms them */
  int n_nz;              /* -1 until the list is made for this frame */
} tune_frame;

static void make_exact(tune_frame *f, int k) {
  if (f->exact[k]) return;
  if (f->n_nz < 0) {
    f->n_nz = 0;
    for (int m = 0; m < TUNE_N_FFT; m++) {
      long long i = f->start + m;
      if (i < 0 || i >= (long long)f->n || f->y[i] == 0.0f) continue;
      f->nz_pos[f->n_nz] = m;
      f->nz_val[f->n_nz++] = f->win[m] * (double)f->y[i];
    }
  }
  /* X[k] = sum_m v[m] exp(-2 pi i k m / n_fft); k*m mod n_fft indexes the
   * table exactly (n_fft is a power of 2). */
  double re = 0.0, im = 0.0;
  for (int i = 0; i < f->n_nz; i++) {
    int j = (int)(((unsigned)k * (unsigned)f->nz_pos[i]) & (TUNE_N_FFT - 1));
    re += f->nz_val[i] * f->cs[2 * j];
    im -= f->nz_val[i] * f->cs[2 * j + 1];
  }
  f->S[k] = cqt_librosa_abs_c64((float)re, (float)im);
  f->exact[k] = 1;
}

/* piptrack on one frame (CQT.md section 11): appends every peak between k_lo
 * and k_hi (inclusive, the fmin <= f < fmax mask), making exact first the
 * bins of every decision FFTW's rounding could turn. */
static int piptrack_frame(tune_frame *f, int k_lo, int k_hi, double sr, peak_list *peaks) {
  const int nb = TUNE_N_BINS;
  float *S = f->S;
  const double d = f->delta;
  int lo = k_lo > 0 ? k_lo - 1 : 0, hi = k_hi < nb - 1 ? k_hi + 1 : nb - 1;
  /* ref = threshold * max(S): numpy rounds the Python float to float32 first.
   * FFTW's max is off by at most d, so ref by at most 0.1 d plus its own
   * rounding (under 0.05 d): a bin more than 1.2 d from it is on the same
   * side of librosa's ref. Only when some bin is closer is the max needed
   * exactly: every bin that could be it, then the close bins. */
  float ref = (float)PIP_THRESHOLD * f->smax;
  int close = 0;
  for (int k = lo; k <= hi && !close; k++) close = fabs((double)S[k] - ref) <= 1.2 * d;
  if (close) {
    double c = (double)f->smax - 3 * d; /* candidates, with a margin for the magnitudes' rounding */
    double cq = c > 0 ? c * c : 0.0;
    float smax = 0.0f;
    for (int k = 0; k < nb; k++)
      if (f->q[k] >= cq) {
        make_exact(f, k);
        if (S[k] > smax) smax = S[k];
      }
    ref = (float)PIP_THRESHOLD * smax;
    for (int k = lo; k <= hi; k++)
      if (fabs((double)S[k] - ref) <= d) make_exact(f, k);
  }
  /* Above/below ref is now certain for every bin; then neighbours above it
   * whose order is uncertain. */
  for (int k = k_lo; k <= k_hi; k++) {
    if (!(S[k] > ref)) continue;
    for (int j = k - 1; j <= k + 1; j += 2) {
      if (j < 0 || j >= nb || !(S[j] > ref) || (f->exact[k] && f->exact[j])) continue;
      if (fabs((double)S[k] - S[j]) <= 2 * d) {
        make_exact(f, k);
        make_exact(f, j);
      }
    }
  }
#define THR(k) (S[k] > ref ? S[k] : 0.0f)
  for (int k = k_lo; k <= k_hi; k++) {
    float c = THR(k);
    int is_max;
    if (k == 0) is_max = 0;
    else if (k == nb - 1) is_max = c > THR(k - 1);
    else is_max = c > THR(k - 1) && c >= THR(k + 1);
    if (!is_max) continue;
    /* volatile: the float32 rounding of the shift must survive into the
     * double pitch product (gcc 12's vectorizer can fold such round trips). */
    volatile float shift = 0.0f;
    float avg;
    if (k == 0) {
      avg = S[1] - S[0];
    } else if (k == nb - 1) {
      avg = S[k] - S[k - 1];
    } else {
      double a, b;
      parabola(S, k, &a, &b);
      /* A parabola through a nearly flat top (or a shift near +-1) turns
       * with the rounding: take the three magnitudes exactly. a and b are off
       * by at most 4 d and d; the factor leaves room for their effect on the
       * pitch, which lands in a 0.01-wide histogram slot. */
      if (!(f->exact[k - 1] && f->exact[k] && f->exact[k + 1]) &&
          (fabs(a) <= 4096 * d || fabs(fabs(b) - fabs(a)) <= 8 * d)) {
        make_exact(f, k - 1);
        make_exact(f, k);
        make_exact(f, k + 1);
        parabola(S, k, &a, &b);
      }
      shift = parabolic_shift(a, b);
      avg = (S[k + 1] - S[k - 1]) / 2.0f; /* np.gradient, float32 */
    }
    float dskew = 0.5f * avg * shift;
    float mag = S[k] + dskew;
    /* (int64 index + float32 shift) promotes to float64 in numpy. */
    float pitch = (float)(((double)k + (double)shift) * sr / (double)TUNE_N_FFT);
    if (push_peak(peaks, pitch, mag)) return -1;
  }
#undef THR
  return 0;
}

/* librosa.pitch_tuning on float32 pitches: residuals in float32, numpy's
 * histogram over linspace(-0.5, 0.5, 101), left edge of the first fullest bin. */
static double pitch_tuning(const float *freqs /* (n) */, size_t n, int bins_per_octave) {
  double edges[TUNE_RESOLUTION_SLOTS + 1];
  /* numpy.linspace: i * step + start, the last edge set to stop exactly. */
  double step = 1.0 / TUNE_RESOLUTION_SLOTS;
  for (int i = 0; i < TUNE_RESOLUTION_SLOTS; i++) edges[i] = (double)i * step + -0.5;
  edges[TUNE_RESOLUTION_SLOTS] = 0.5;

  size_t counts[TUNE_RESOLUTION_SLOTS] = {0};
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(freqs[i] > 0.0f)) continue;
    used++;
    /* hz_to_octs: log2(f / 27.5) in float32; * bins_per_octave in float32. */
    float octs = log2f(freqs[i] / 27.5f);
    float x = (float)bins_per_octave * octs;
    float r = fmodf(x, 1.0f); /* np.mod, float32 */
    if (r != 0.0f && (r < 0.0f) != (1.0f < 0.0f)) r += 1.0f;
    if (r >= 0.5f) r -= 1.0f;
    /* Compared in double against the double edges, as np.searchsorted does:
     * bins are [lo, hi), the last one closed. */
    double rd = r;
    if (rd < edges[0] || rd > edges[TUNE_RESOLUTION_SLOTS]) continue;
    int lo = 0, hi = TUNE_RESOLUTION_SLOTS; /* find the last edge <= rd */
    while (hi - lo > 1) {
      int mid = (lo + hi) / 2;
      if (edges[mid] <= rd) lo = mid;
      else hi = mid;
    }
    counts[lo]++;
  }
  if (used == 0) return 0.0; /* librosa warns and returns 0 */
  int best = 0;
  for (int i = 1; i < TUNE_RESOLUTION_SLOTS; i++)
    if (counts[i] > counts[best]) best = i;
  return edges[best];
}

chordlet_status cqt_librosa_estimate_tuning(const float *y, size_t n, double sample_rate,
                                            int bins_per_octave, double *tuning,
                                            chordlet_error *err) {
  if (!tuning) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "estimate_tuning: no output");
  *tuning = 0.0;
  if (!(isfinite(sample_rate) && sample_rate > 0))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "estimate_tuning: sample rate %g is not a positive number", sample_rate);
  if (bins_per_octave <= 0)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "estimate_tuning: bins_per_octave %d is not positive", bins_per_octave);
  if (n > 0 && !y) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "estimate_tuning: no samples");
  chordlet_status st = cqt_librosa_check_finite(y, n, err);
  if (st) return st;

  /* piptrack's feasible range: fmin <= k * sr / n_fft < min(fmax, sr / 2),
   * with the FFT frequencies as numpy.fft.rfftfreq computes them. */
  double fmax = fmin(PIP_FMAX, sample_rate / 2.0);
  double bin_hz = 1.0 / ((double)TUNE_N_FFT * (1.0 / sample_rate));
  int k_lo = TUNE_N_BINS, k_hi = -1;
  for (int k = 0; k < TUNE_N_BINS; k++) {
    double f = (double)k * bin_hz;
    if (PIP_FMIN <= f && f < fmax) {
      if (k < k_lo) k_lo = k;
      k_hi = k;
    }
  }

  peak_list peaks = {0};
  double *win = malloc(TUNE_N_FFT * sizeof *win);    /* (n_fft) periodic Hann */
  double *cs = malloc(2 * TUNE_N_FFT * sizeof *cs);  /* (n_fft, 2) cos, sin of 2 pi j / n_fft */
  double *q = malloc(TUNE_N_BINS * sizeof *q);       /* (n_fft/2+1) FFTW's |X|^2 */
  int *nz_pos = malloc(TUNE_N_FFT * sizeof *nz_pos); /* (n_fft) */
  double *nz_val = malloc(TUNE_N_FFT * sizeof *nz_val); /* (n_fft) */
  float *S = malloc(TUNE_N_BINS * sizeof *S);        /* (n_fft/2+1) one frame's |STFT| */
  unsigned char *exact = malloc(TUNE_N_BINS);        /* (n_fft/2+1) */
  float *frame = fftwf_malloc(TUNE_N_FFT * sizeof *frame);         /* (n_fft) */
  fftwf_complex *spec = fftwf_malloc(TUNE_N_BINS * sizeof *spec); /* (n_fft/2+1) */
  fftwf_plan plan = NULL;
  if (!win || !cs || !q || !nz_pos || !nz_val || !S || !exact || !frame || !spec) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "estimate_tuning: out of memory");
    goto done;
  }
  plan = fftwf_plan_dft_r2c_1d(TUNE_N_FFT, frame, spec, FFTW_ESTIMATE);
  if (!plan) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "estimate_tuning: FFTW planning failed");
    goto done;
  }
  cqt_librosa_hann(win, TUNE_N_FFT);
  for (int j = 0; j < TUNE_N_FFT; j++) {
    double phi = 2.0 * CQT_LIBROSA_PI * j / TUNE_N_FFT;
    cs[2 * j] = cos(phi);
    cs[2 * j + 1] = sin(phi);
  }

  if (k_hi >= k_lo) {
    tune_frame f = {.S = S, .exact = exact, .q = q, .y = y, .n = n, .win = win, .cs = cs,
                    .nz_pos = nz_pos, .nz_val = nz_val};
    int lo = k_lo > 0 ? k_lo - 1 : 0, hi = k_hi < TUNE_N_BINS - 1 ? k_hi + 1 : TUNE_N_BINS - 1;
    size_t n_frames = 1 + n / TUNE_HOP;
    for (size_t t = 0; t < n_frames; t++) {
      /* Centred frame, zeros outside the signal; librosa multiplies the
       * float32 samples by the float64 window in double. */
      long long start = (long long)(t * TUNE_HOP) - TUNE_N_FFT / 2;
      double sumsq = 0.0;
      for (int m = 0; m < TUNE_N_FFT; m++) {
        long long i = start + m;
        frame[m] = (i < 0 || i >= (long long)n) ? 0.0f : (float)(win[m] * (double)y[i]);
        sumsq += (double)frame[m] * frame[m];
      }
      if (sumsq == 0.0) continue; /* an all-zero frame has no peaks */
      fftwf_execute(plan);
      /* Magnitudes where piptrack looks, and the max over all bins: found
       * from |X|^2, then the magnitude of the few bins that could hold it. */
      double qmax = 0.0;
      for (int k = 0; k < TUNE_N_BINS; k++) {
        q[k] = (double)spec[k][0] * spec[k][0] + (double)spec[k][1] * spec[k][1];
        if (q[k] > qmax) qmax = q[k];
      }
      for (int k = lo; k <= hi; k++) S[k] = cqt_librosa_abs_c64(spec[k][0], spec[k][1]);
      float smax = 0.0f;
      double cq = qmax * (1.0 - 1e-5); /* far wider than the magnitudes' rounding */
      for (int k = 0; k < TUNE_N_BINS; k++)
        if (q[k] >= cq) {
          S[k] = cqt_librosa_abs_c64(spec[k][0], spec[k][1]);
          if (S[k] > smax) smax = S[k];
        }
      memset(exact, 0, TUNE_N_BINS);
      f.start = start;
      f.n_nz = -1;
      f.smax = smax;
      /* FFTW's float error, measured at most 1.8 eps sqrt(n_fft) |frame|_2
       * per bin (r2c, 2048): bounded with a factor 9 to spare, plus the
       * input's rounding to float and the two magnitudes' own rounding. */
      f.delta = 16.0 * EPS_F32 * sqrt((double)TUNE_N_FFT * sumsq) + 4.0 * EPS_F32 * smax;
      if (piptrack_frame(&f, k_lo, k_hi, sample_rate, &peaks)) {
        st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "estimate_tuning: out of memory");
        goto done;
      }
    }
  }

  if (peaks.n > 0) {
    /* Keep the peaks whose magnitude reaches the median magnitude of all peaks
     * (every peak has pitch > 0: k >= 1 and |shift| < 1). */
    float *mags = malloc(peaks.n * sizeof *mags);   /* (n_peaks) */
    float *freqs = malloc(peaks.n * sizeof *freqs); /* (n_kept) */
    if (!mags || !freqs) {
      free(mags);
      free(freqs);
      st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "estimate_tuning: out of memory");
      goto done;
    }
    size_t n_pos = 0;
    for (size_t i = 0; i < peaks.n; i++)
      if (peaks.p[i].pitch > 0.0f) mags[n_pos++] = peaks.p[i].mag;
    float threshold = n_pos ? median_f32(mags, n_pos) : 0.0f;
    size_t n_kept = 0;
    for (size_t i = 0; i < peaks.n; i++)
      if (peaks.p[i].pitch > 0.0f && peaks.p[i].mag >= threshold) freqs[n_kept++] = peaks.p[i].pitch;
    *tuning = pitch_tuning(freqs, n_kept, bins_per_octave);
    free(mags);
    free(freqs);
  }

done:
  if (plan) fftwf_destroy_plan(plan);
  fftwf_free(frame);
  fftwf_free(spec);
  free(win);
  free(cs);
  free(q);
  free(nz_pos);
  free(nz_val);
  free(S);
  free(exact);
  free(peaks.p);
  return st;
}
