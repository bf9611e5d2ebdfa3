/* cqt_librosa.c: librosa 0.10's hybrid_cqt (CQT.md sections 3-10 and 12):
 * the filter kernels, the pseudo-CQT for the top bins, the octave-by-octave
 * full CQT for the others, and their stacking. Rounding follows librosa where
 * it matters (atoms and kernels stored as complex64, float32 signals and
 * products); FFTs are FFTW single precision, which lands within ~1e-6 of the
 * peak of librosa's double-precision FFTs. */
#define _POSIX_C_SOURCE 200809L
#include "cqt_librosa.h"

#include <fftw3.h>
#include <math.h>
#include <soxr.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#ifdef __clang__
/* Round every product and sum as written, as numpy does (see cqt_tuning.c). */
#pragma STDC FP_CONTRACT OFF
#endif

#define SPARSITY 0.01             /* librosa's sparsity: the cut keeps 99% of each row's L1 */
#define HANN_ENBW 1.50018310546875 /* librosa.filters.WINDOW_BANDWIDTHS['hann'] */
#define PICK_MAX 64                /* largest values taken one by one before sorting a row */

void cqt_librosa_teacher_config(cqt_librosa_config *cfg) {
  cfg->sample_rate = 22050.0;
  cfg->hop_length = 512;
  cfg->fmin = CQT_LIBROSA_F_SHARP_0;
  cfg->n_bins = 288;
  cfg->bins_per_octave = 36;
  cfg->estimate_tuning = true;
  cfg->tuning = 0.0;
}

/* ---------------------------------------------------------------- helpers */

void cqt_librosa_hann(double *w, int n) {
  if (n <= 1) { /* scipy's _len_guards: a window of one sample is [1] */
    if (n == 1) w[0] = 1.0;
    return;
  }
  /* general_cosine(n + 1, [0.5, 0.5]) truncated: fac = linspace(-pi, pi, n + 1). */
  double step = (CQT_LIBROSA_PI - -CQT_LIBROSA_PI) / (double)n;
  for (int j = 0; j < n; j++) {
    double fac = (double)j * step + -CQT_LIBROSA_PI;
    w[j] = 0.5 + 0.5 * cos(fac);
  }
}

void cqt_librosa_frame(const float *x, size_t nx, size_t t, size_t hop, int n_fft, const double *w,
                       float *out) {
  /* Frame t starts at t*hop - n_fft/2 in signal coordinates. */
  long long start = (long long)(t * hop) - n_fft / 2;
  long long lo = start < 0 ? -start : 0; /* first m inside the signal */
  long long hi = (long long)nx - start;  /* one past the last m inside */
  if (hi > n_fft) hi = n_fft;
  if (lo > n_fft) lo = n_fft;
  if (hi < lo) hi = lo;
  memset(out, 0, (size_t)lo * sizeof *out);
  if (w) {
    for (long long m = lo; m < hi; m++) out[m] = (float)(w[m] * (double)x[start + m]);
  } else if (hi > lo) {
    memcpy(out + lo, x + start + lo, (size_t)(hi - lo) * sizeof *out);
  }
  memset(out + hi, 0, (size_t)(n_fft - hi) * sizeof *out);
}

chordlet_status cqt_librosa_check_finite(const float *y, size_t n, chordlet_error *err) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(y[i]))
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                           "audio sample %zu is %s: the signal must be finite everywhere", i,
                           isnan(y[i]) ? "NaN" : "infinite");
  return CHORDLET_OK;
}

/* numpy's pairwise summation of doubles (np.sum over a contiguous axis):
 * librosa's L1 norms, so atoms and sparsity cuts see the same sums. */
double numpy_pairwise_sum(const double *a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; i++) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = a[j];
    size_t i;
    for (i = 8; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; j++) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

static int cmp_double_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* 2^ceil(log2(x)), as librosa computes a padded FFT length. */
static double ceilpow2(double x) { return pow(2.0, ceil(log2(x))); }

/* librosa.filters._relative_bandwidth: alpha from the local spacing of the
 * (ascending) frequencies; a single bin gets the equal-temperament value. */
static void relative_bandwidth(const double *f /* (n) */, int n, int bins_per_octave,
                               double *alpha /* (n) */) {
  if (n == 1) { /* __et_relative_bw */
    double r = pow(2.0, 1.0 / bins_per_octave);
    alpha[0] = (r * r - 1.0) / (r * r + 1.0);
    return;
  }
  for (int i = 0; i < n; i++) {
    double bpo;
    if (i == 0) bpo = 1.0 / (log2(f[1]) - log2(f[0]));
    else if (i == n - 1) bpo = 1.0 / (log2(f[n - 1]) - log2(f[n - 2]));
    else bpo = 2.0 / (log2(f[i + 1]) - log2(f[i - 1]));
    double p = pow(2.0, 2.0 / bpo);
    alpha[i] = (p - 1.0) / (p + 1.0);
  }
}

/* librosa.filters.wavelet_lengths with gamma 0: L = (Q * sr) / f, Q = 1/alpha. */
static double wavelet_length(double f, double alpha, double sr) { return (1.0 / alpha) * sr / f; }

/* ---------------------------------------------------------------- kernels */

/* One block of sparse FFT-domain filters (one octave, or the pseudo-CQT),
 * CSR by row. */
typedef struct cqt_kernel {
  int n_rows;
  int n_fft;      /* FFT length the kernel multiplies (its half spectrum) */
  int *row_start; /* (n_rows + 1) offsets into idx/re/im */
  int *idx;       /* (nnz) FFT bin k, ascending within a row */
  float *re;      /* (nnz) kept coefficients, complex64 real part (or magnitude) */
  float *im;      /* (nnz) imaginary part (0 for a magnitude kernel) */
} cqt_kernel;

static void kernel_free(cqt_kernel *k) {
  free(k->row_start);
  free(k->idx);
  free(k->re);
  free(k->im);
  memset(k, 0, sizeof *k);
}

/*
 * librosa's __vqt_filter_fft for n bins (frequencies f, bandwidths alpha) at
 * rate sr (CQT.md sections 5 and 6): complex64 atoms centred in a buffer of
 * 2^ceil(log2 max L), times L / n_fft, FFT of length n_fft, half spectrum,
 * rows sparsified by cumulative L1 magnitude. min_fft > 0 raises n_fft to at
 * least min_fft (the pseudo-CQT's 2 hops). The kept values are multiplied by
 * gain in complex64, or replaced by their magnitudes when magnitude is set.
 */
static chordlet_status build_kernel(const double *f /* (n) */, const double *alpha /* (n) */, int n,
                                    double sr, int min_fft, double gain, int magnitude,
                                    cqt_kernel *kern, chordlet_error *err) {
  memset(kern, 0, sizeof *kern);
  double max_len = 0;
  for (int i = 0; i < n; i++) max_len = fmax(max_len, wavelet_length(f[i], alpha[i], sr));
  double pad_d = ceilpow2(max_len);
  if (!(pad_d <= CQT_LIBROSA_MAX_FFT))
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "CQT filters of %.0f samples are longer than the limit of %d: raise fmin "
                         "or lower the hop's odd factor",
                         max_len, CQT_LIBROSA_MAX_FFT);
  int n_pad = (int)pad_d; /* the buffer the atoms are centred in */
  int n_fft = n_pad < min_fft ? min_fft : n_pad;
  int n_half = n_fft / 2 + 1;
  kern->n_rows = n;
  kern->n_fft = n_fft;

  chordlet_status st = CHORDLET_OK;
  fftwf_complex *buf = fftwf_malloc((size_t)n_fft * sizeof *buf);  /* (n_fft) atom */
  fftwf_complex *spec = fftwf_malloc((size_t)n_fft * sizeof *spec); /* (n_fft) its FFT */
  double *win = malloc((size_t)n_pad * sizeof *win);      /* (N_b <= n_pad) Hann of one atom */
  double *atom = malloc(2 * (size_t)n_pad * sizeof *atom); /* (N_b, re/im) one atom in double */
  double *absv = malloc((size_t)n_pad * sizeof *absv);     /* (N_b) |atom| */
  double *mag = malloc((size_t)n_half * sizeof *mag);      /* (n_half) |FFT| of one row */
  double *sorted = malloc((size_t)n_half * sizeof *sorted); /* (n_half) mag, picked from the top */
  size_t cap = (size_t)n * 32;                              /* nnz capacity; grows */
  kern->row_start = malloc(((size_t)n + 1) * sizeof *kern->row_start);
  kern->idx = malloc(cap * sizeof *kern->idx);
  kern->re = malloc(cap * sizeof *kern->re);
  kern->im = malloc(cap * sizeof *kern->im);
  fftwf_plan plan = NULL;
  if (!buf || !spec || !win || !atom || !absv || !mag || !sorted || !kern->row_start || !kern->idx ||
      !kern->re || !kern->im) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT kernel: out of memory");
    goto done;
  }
  plan = fftwf_plan_dft_1d(n_fft, buf, spec, FFTW_FORWARD, FFTW_ESTIMATE);
  if (!plan) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT kernel: FFTW planning failed");
    goto done;
  }
  float gain_f = (float)gain; /* numpy casts the float64 scalar to the complex64 array's type */
  size_t nnz = 0;
  for (int r = 0; r < n; r++) {
    kern->row_start[r] = (int)nnz;
    double L = wavelet_length(f[r], alpha[r], sr);
    /* np.arange(-L // 2, L // 2): integer taps floor(-L/2) .. floor(L/2) - 1. */
    double t0 = floor(-L / 2.0), t1 = floor(L / 2.0);
    int n_taps = (int)(t1 - t0);
    if (n_taps < 1 || n_taps > n_pad) { /* cannot happen for L >= 1: librosa's pad_center bound */
      st = chordlet_fail(err, CHORDLET_ERR_RANGE, "CQT kernel: a filter of %.3f samples", L);
      goto done;
    }
    cqt_librosa_hann(win, n_taps);
    for (int j = 0; j < n_taps; j++) {
      double tau = t0 + j;
      double phi = tau * 2.0 * CQT_LIBROSA_PI * f[r] / sr; /* left to right, as numpy */
      atom[2 * j] = cos(phi) * win[j];
      atom[2 * j + 1] = sin(phi) * win[j];
    }
    /* util.normalize(norm=1): divide by the pairwise sum of |atom|, which numpy
     * does as a multiplication by the reciprocal (complex / real division). */
    for (int j = 0; j < n_taps; j++) absv[j] = cqt_librosa_abs_c128(atom[2 * j], atom[2 * j + 1]);
    double l1 = numpy_pairwise_sum(absv, (size_t)n_taps);
    double inv = 1.0 / l1;
    /* Centre in n_pad (lpad = (n_pad - N_b) // 2), round to complex64, then
     * multiply by L / n_fft in double and round again; the rest of the
     * n_fft buffer stays zero (numpy's fft(n=n_fft) zero-extends). */
    double scale = L / (double)n_fft;
    int lpad = (n_pad - n_taps) / 2;
    memset(buf, 0, (size_t)n_fft * sizeof *buf);
    for (int j = 0; j < n_taps; j++) {
      /* volatile: gcc 12's -O2 vectorizer drops this float round trip
       * (double -> float -> double), which moves kernels by an ulp. */
      volatile float re = (float)(atom[2 * j] * inv), im = (float)(atom[2 * j + 1] * inv);
      buf[lpad + j][0] = (float)((double)re * scale);
      buf[lpad + j][1] = (float)((double)im * scale);
    }
    fftwf_execute(plan);

    /* util.sparsify_rows: with |F| sorted ascending and accumulated as a
     * fraction of its sum, the first index whose running sum reaches the
     * quantile gives the threshold; every coefficient at or above it is kept.
     * The same threshold, found from the top: take the largest values one by
     * one; the first whose removal leaves under 1% of the sum below it is the
     * threshold. A row has 7 to 17 kept values among 257 or 513, so this beats
     * a sort; its rounding differs from numpy's cumsum by ~1e-16, far below
     * what the float FFT already moves. */
    for (int k = 0; k < n_half; k++) mag[k] = cqt_librosa_abs_c128((double)spec[k][0], (double)spec[k][1]);
    double norm = numpy_pairwise_sum(mag, (size_t)n_half);
    memcpy(sorted, mag, (size_t)n_half * sizeof *sorted); /* picked entries become -1 */
    double top = 0, thr = -1.0;                           /* -1: keep all (numpy's argmin of all-False) */
    int found = 0, picked;
    for (picked = 0; picked < n_half && picked < PICK_MAX && !found; picked++) {
      int best = 0;
      for (int k = 1; k < n_half; k++)
        if (sorted[k] > sorted[best]) best = k;
      double d = sorted[best];
      sorted[best] = -1.0;
      if ((norm - (top + d)) / norm < SPARSITY) {
        thr = d;
        found = 1;
      }
      top += d;
    }
    if (!found && picked < n_half) { /* a spread-out row (very short filters): sort instead */
      memcpy(sorted, mag, (size_t)n_half * sizeof *sorted);
      qsort(sorted, (size_t)n_half, sizeof *sorted, cmp_double_desc);
      top = 0;
      for (int j = 0; j < n_half; j++) {
        if ((norm - (top + sorted[j])) / norm < SPARSITY) {
          thr = sorted[j];
          break;
        }
        top += sorted[j];
      }
    }
    for (int k = 0; k < n_half; k++) {
      if (!(mag[k] >= thr)) continue;
      if (nnz == cap) {
        cap *= 2;
        int *ni = realloc(kern->idx, cap * sizeof *ni);
        if (ni) kern->idx = ni;
        float *nr = realloc(kern->re, cap * sizeof *nr);
        if (nr) kern->re = nr;
        float *nim = realloc(kern->im, cap * sizeof *nim);
        if (nim) kern->im = nim;
        if (!ni || !nr || !nim) {
          st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT kernel: out of memory");
          goto done;
        }
      }
      kern->idx[nnz] = k;
      if (magnitude) {
        kern->re[nnz] = cqt_librosa_abs_c64(spec[k][0], spec[k][1]);
        kern->im[nnz] = 0.0f;
      } else {
        kern->re[nnz] = spec[k][0] * gain_f;
        kern->im[nnz] = spec[k][1] * gain_f;
      }
      nnz++;
    }
  }
  kern->row_start[n] = (int)nnz;

done:
  if (plan) fftwf_destroy_plan(plan);
  fftwf_free(buf);
  fftwf_free(spec);
  free(win);
  free(atom);
  free(absv);
  free(mag);
  free(sorted);
  if (st) kernel_free(kern);
  return st;
}

/* ------------------------------------------------------------- decimation */

/*
 * librosa.resample(x, orig_sr=factor, target_sr=1, res_type='soxr_hq',
 * scale=True): libsoxr HQ in float32, the whole signal fed at once and
 * flushed, ceil(n / factor) samples kept (zero-filled if soxr gave fewer, as
 * librosa's fix_length does), then divided by float32(sqrt(1 / factor)).
 */
static chordlet_status decimate(const float *x /* (n) */, size_t n, unsigned factor,
                                float **out /* (ceil(n / factor)) */, size_t *n_out,
                                chordlet_error *err) {
  size_t olen = n / factor + (n % factor != 0);
  *out = NULL;
  *n_out = 0;
  float *y = malloc((olen ? olen : 1) * sizeof *y);
  if (!y) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT decimation: out of memory");
  soxr_error_t e = NULL;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  soxr_runtime_spec_t rt = soxr_runtime_spec(1); /* one thread: we own no pool */
  soxr_t s = soxr_create((double)factor, 1.0, 1, &e, &io, &q, &rt);
  if (!s || e) {
    free(y);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "libsoxr: cannot create a resampler: %s",
                         e ? e : "unknown error");
  }
  size_t done = 0, od = 0;
  if (n > 0) e = soxr_process(s, x, n, NULL, y, olen, &od);
  done = od;
  while (!e && done < olen) { /* flush: the filter's tail */
    od = 0;
    e = soxr_process(s, NULL, 0, NULL, y + done, olen - done, &od);
    if (od == 0) break;
    done += od;
  }
  soxr_delete(s);
  if (e) {
    free(y);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "libsoxr: %s", e);
  }
  for (size_t i = done; i < olen; i++) y[i] = 0.0f;
  float div = (float)sqrt(1.0 / factor);
  for (size_t i = 0; i < olen; i++) y[i] /= div;
  *out = y;
  *n_out = olen;
  return CHORDLET_OK;
}

/* --------------------------------------------------------------- responses */

/*
 * One octave of the full CQT (CQT.md section 7): centred rectangular frames of
 * x at hop, real FFT, kernel rows times the half spectrum without conjugation
 * (complex64 sums, in index order as scipy's sparse product), divided by
 * sqrt(L_b(sr0)) and taken as magnitudes into out[t][bin0 + r] for t < T.
 */
static chordlet_status octave_response(const float *x /* (nx) */, size_t nx, size_t hop,
                                       const cqt_kernel *kern, const double *inv_sqrt_len /* (rows) */,
                                       float *out /* (T, n_bins) */, size_t T, int n_bins, int bin0,
                                       chordlet_error *err) {
  int n_fft = kern->n_fft, n_half = n_fft / 2 + 1;
  float *frame = fftwf_malloc((size_t)n_fft * sizeof *frame);          /* (n_fft) */
  fftwf_complex *spec = fftwf_malloc((size_t)n_half * sizeof *spec);  /* (n_half) */
  fftwf_plan plan = NULL;
  chordlet_status st = CHORDLET_OK;
  if (!frame || !spec) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT: out of memory");
    goto done;
  }
  plan = fftwf_plan_dft_r2c_1d(n_fft, frame, spec, FFTW_ESTIMATE);
  if (!plan) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT: FFTW planning failed");
    goto done;
  }
  for (size_t t = 0; t < T; t++) {
    cqt_librosa_frame(x, nx, t, hop, n_fft, NULL, frame);
    fftwf_execute(plan);
    float *row = out + t * (size_t)n_bins + bin0;
    for (int r = 0; r < kern->n_rows; r++) {
      float zr = 0.0f, zi = 0.0f;
      for (int j = kern->row_start[r]; j < kern->row_start[r + 1]; j++) {
        float kr = kern->re[j], ki = kern->im[j];
        float xr = spec[kern->idx[j]][0], xi = spec[kern->idx[j]][1];
        zr += kr * xr - ki * xi;
        zi += kr * xi + ki * xr;
      }
      /* V /= sqrt(L): complex64 over float64, which numpy computes in
       * complex128 as a product with the reciprocal, then rounds. */
      float vr = (float)((double)zr * inv_sqrt_len[r]);
      float vi = (float)((double)zi * inv_sqrt_len[r]);
      row[r] = cqt_librosa_abs_c64(vr, vi);
    }
  }
done:
  if (plan) fftwf_destroy_plan(plan);
  fftwf_free(frame);
  fftwf_free(spec);
  return st;
}

/*
 * librosa.pseudo_cqt's response (CQT.md section 9, step 4): periodic-Hann
 * STFT of y, float32 magnitudes, times the kernel magnitudes (float32 sums),
 * divided by sqrt(n_fft), into out[t][bin0 + r].
 */
static chordlet_status pseudo_response(const float *y /* (n) */, size_t n, size_t hop,
                                       const cqt_kernel *kern, float *out /* (T, n_bins) */,
                                       size_t T, int n_bins, int bin0, chordlet_error *err) {
  int n_fft = kern->n_fft, n_half = n_fft / 2 + 1;
  float *frame = fftwf_malloc((size_t)n_fft * sizeof *frame);         /* (n_fft) */
  fftwf_complex *spec = fftwf_malloc((size_t)n_half * sizeof *spec); /* (n_half) */
  float *absx = malloc((size_t)n_half * sizeof *absx);               /* (n_half) |STFT| */
  double *win = malloc((size_t)n_fft * sizeof *win);                 /* (n_fft) */
  fftwf_plan plan = NULL;
  chordlet_status st = CHORDLET_OK;
  if (!frame || !spec || !absx || !win) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "pseudo-CQT: out of memory");
    goto done;
  }
  plan = fftwf_plan_dft_r2c_1d(n_fft, frame, spec, FFTW_ESTIMATE);
  if (!plan) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "pseudo-CQT: FFTW planning failed");
    goto done;
  }
  cqt_librosa_hann(win, n_fft);
  float div = (float)sqrt((double)n_fft);
  for (size_t t = 0; t < T; t++) {
    cqt_librosa_frame(y, n, t, hop, n_fft, win, frame);
    fftwf_execute(plan);
    for (int k = 0; k < n_half; k++) absx[k] = cqt_librosa_abs_c64(spec[k][0], spec[k][1]);
    float *row = out + t * (size_t)n_bins + bin0;
    for (int r = 0; r < kern->n_rows; r++) {
      float acc = 0.0f;
      for (int j = kern->row_start[r]; j < kern->row_start[r + 1]; j++)
        acc += kern->re[j] * absx[kern->idx[j]];
      row[r] = acc / div;
    }
  }
done:
  if (plan) fftwf_destroy_plan(plan);
  fftwf_free(frame);
  fftwf_free(spec);
  free(absx);
  free(win);
  return st;
}

/* ---------------------------------------------------------------- full CQT */

/* Number of times 2 divides h (h > 0). */
static int two_factors(int h) {
  int c = 0;
  while (h % 2 == 0) {
    h /= 2;
    c++;
  }
  return c;
}

/* What librosa.cqt(y, sr, hop, fmin=fmin_t, n_bins=K, bins_per_octave=B,
 * tuning=0) derives before touching the signal (CQT.md section 8, steps 1-3). */
typedef struct full_plan {
  int K, B, n_oct, n_f, early; /* bins, per octave, octaves, bins per octave block, early count */
  double *freqs;               /* (K) bin frequencies, interval_frequencies' products */
  double *alpha;               /* (K) relative bandwidths */
} full_plan;

static void full_plan_free(full_plan *p) {
  free(p->freqs);
  free(p->alpha);
  memset(p, 0, sizeof *p);
}

static chordlet_status full_plan_make(double sr, int hop, double fmin_t, int K, int B, full_plan *p,
                                      chordlet_error *err) {
  memset(p, 0, sizeof *p);
  p->K = K;
  p->B = B;
  p->n_oct = (K + B - 1) / B;
  p->n_f = K < B ? K : B;
  p->freqs = calloc((size_t)K, sizeof *p->freqs);
  p->alpha = malloc((size_t)K * sizeof *p->alpha);
  if (!p->freqs || !p->alpha) {
    full_plan_free(p);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT: out of memory");
  }
  /* interval_frequencies(intervals='equal'): (2^o * 2^(j/B)) * fmin. */
  for (int b = 0; b < K; b++)
    p->freqs[b] = (pow(2.0, (double)(b / B)) * pow(2.0, (double)(b % B) / B)) * fmin_t;
  relative_bandwidth(p->freqs, K, B, p->alpha);
  /* The highest frequency the filters reach decides the early downsampling. */
  double f_cut = 0;
  for (int b = 0; b < K; b++) {
    double Q = 1.0 / p->alpha[b];
    f_cut = fmax(f_cut, p->freqs[b] * (1.0 + 0.5 * HANN_ENBW / Q));
  }
  double nyq = sr / 2.0;
  if (f_cut > nyq) {
    full_plan_free(p);
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "CQT: filters reaching %.1f Hz would exceed the Nyquist frequency %.1f Hz; "
                         "use fewer bins or a lower fmin",
                         f_cut, nyq);
  }
  int c1 = (int)ceil(log2(nyq / f_cut)) - 2;
  if (c1 < 0) c1 = 0;
  int c2 = two_factors(hop) - p->n_oct + 1;
  if (c2 < 0) c2 = 0;
  p->early = c1 < c2 ? c1 : c2;
  return CHORDLET_OK;
}

/* Frames the full CQT yields for n input samples: the fewest over its octaves. */
static size_t full_frames(const full_plan *p, size_t n, int hop) {
  size_t nx = n, h = (size_t)hop, best = SIZE_MAX;
  for (int k = 0; k < p->early; k++) nx = nx / 2 + nx % 2;
  h >>= p->early;
  for (int i = 0; i < p->n_oct; i++) {
    size_t T = 1 + nx / h;
    if (T < best) best = T;
    if (h % 2 == 0) {
      h /= 2;
      nx = nx / 2 + nx % 2;
    }
  }
  return best;
}

/* librosa.cqt's magnitudes (CQT.md section 8, steps 3-6) into
 * out[t][0..K-1] for t < T: early downsampling, then one octave at a time
 * from the top, halving the rate between octaves while the hop allows. */
static chordlet_status full_cqt(const float *y /* (n) */, size_t n, double sr, int hop,
                                const full_plan *p, float *out /* (T, n_bins_out) */, size_t T,
                                int n_bins_out, chordlet_error *err) {
  chordlet_status st = CHORDLET_OK;
  float *x = NULL; /* (nx) the current octave's signal, owned unless it is y */
  size_t nx = n;
  double s = sr;
  size_t h = (size_t)hop;
  const float *cur = y;
  double *inv_sqrt_len = malloc((size_t)p->n_f * sizeof *inv_sqrt_len); /* (bins of an octave) */
  if (!inv_sqrt_len) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT: out of memory");
  if (p->early > 0) {
    unsigned factor = 1u << p->early;
    if (n < factor) {
      free(inv_sqrt_len);
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                           "input signal length=%zu is too short for the %d-octave CQT's early "
                           "downsampling by %u (librosa raises here too)",
                           n, p->n_oct, factor);
    }
    st = decimate(y, n, factor, &x, &nx, err);
    if (st) {
      free(inv_sqrt_len);
      return st;
    }
    cur = x;
    s = sr / factor;
    h >>= p->early;
  }
  double sr0 = s; /* the rate the final 1/sqrt(L) scaling uses */
  for (int i = 0; i < p->n_oct && !st; i++) {
    int hi = p->K - p->n_f * i;     /* one past the octave's top bin */
    int lo = hi - p->n_f;
    if (lo < 0) lo = 0;
    cqt_kernel kern;
    st = build_kernel(p->freqs + lo, p->alpha + lo, hi - lo, s, 0, sqrt(sr0 / s), 0, &kern, err);
    if (st) break;
    for (int b = lo; b < hi; b++)
      inv_sqrt_len[b - lo] = 1.0 / sqrt(wavelet_length(p->freqs[b], p->alpha[b], sr0));
    st = octave_response(cur, nx, h, &kern, inv_sqrt_len, out, T, n_bins_out, lo, err);
    kernel_free(&kern);
    if (st) break;
    /* Halve the rate for the next octave while the hop stays whole (librosa
     * also decimates after the last octave; that result is unused). */
    if (i + 1 < p->n_oct && h % 2 == 0) {
      float *next;
      size_t n_next;
      st = decimate(cur, nx, 2, &next, &n_next, err);
      if (st) break;
      free(x);
      x = next;
      cur = x;
      nx = n_next;
      h /= 2;
      s /= 2.0;
    }
  }
  free(x);
  free(inv_sqrt_len);
  return st;
}

/* -------------------------------------------------------------- hybrid_cqt */

static chordlet_status check_config(const cqt_librosa_config *cfg, chordlet_error *err) {
  if (!cfg) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "hybrid CQT: no config");
  if (!(isfinite(cfg->sample_rate) && cfg->sample_rate > 0))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "hybrid CQT: sample rate %g is not a positive number", cfg->sample_rate);
  if (cfg->hop_length <= 0 || cfg->hop_length > CQT_LIBROSA_MAX_FFT / 2)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "hybrid CQT: hop_length %d is not in 1..%d",
                         cfg->hop_length, CQT_LIBROSA_MAX_FFT / 2);
  if (!(isfinite(cfg->fmin) && cfg->fmin > 0))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "hybrid CQT: fmin %g is not a positive number",
                         cfg->fmin);
  if (cfg->n_bins <= 0 || cfg->n_bins > CQT_LIBROSA_MAX_BINS)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "hybrid CQT: n_bins %d is not in 1..%d",
                         cfg->n_bins, CQT_LIBROSA_MAX_BINS);
  if (cfg->bins_per_octave <= 0 || cfg->bins_per_octave > CQT_LIBROSA_MAX_BINS)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "hybrid CQT: bins_per_octave %d is not in 1..%d", cfg->bins_per_octave,
                         CQT_LIBROSA_MAX_BINS);
  if (!cfg->estimate_tuning && !isfinite(cfg->tuning))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "hybrid CQT: tuning is not finite");
  return CHORDLET_OK;
}

chordlet_status cqt_librosa_hybrid(const float *y, size_t n, const cqt_librosa_config *cfg,
                                   float **out, size_t *n_frames, double *tuning_used,
                                   chordlet_error *err) {
  if (!out || !n_frames)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "hybrid CQT: no output");
  *out = NULL;
  *n_frames = 0;
  chordlet_status st = check_config(cfg, err);
  if (st) return st;
  if (n > 0 && !y) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "hybrid CQT: no samples");
  st = cqt_librosa_check_finite(y, n, err);
  if (st) return st;

  double sr = cfg->sample_rate;
  int hop = cfg->hop_length, K = cfg->n_bins, B = cfg->bins_per_octave;
  double tuning = cfg->tuning;
  if (cfg->estimate_tuning) {
    st = cqt_librosa_estimate_tuning(y, n, sr, B, &tuning, err);
    if (st) return st;
  }
  if (tuning_used) *tuning_used = tuning;
  double fmin_t = cfg->fmin * pow(2.0, tuning / B);

  /* hybrid_cqt's own bin list, bandwidths and lengths at sr; a bin goes to
   * the pseudo-CQT when its filter, padded to a power of 2, is shorter than
   * 2 hops. Those are the top bins, as lengths fall with frequency. */
  double *freqs = calloc((size_t)K, sizeof *freqs); /* (K) */
  double *alpha = malloc((size_t)K * sizeof *alpha); /* (K) */
  double *fp = NULL, *ap = NULL;                     /* (n_pseudo) the pseudo part's own */
  float *C = NULL;                                   /* (T, K) the result */
  full_plan fpl = {0};
  if (!freqs || !alpha) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "hybrid CQT: out of memory");
    goto done;
  }
  for (int b = 0; b < K; b++) freqs[b] = fmin_t * pow(2.0, (double)b / B);
  relative_bandwidth(freqs, K, B, alpha);
  int n_pseudo = 0;
  for (int b = 0; b < K; b++)
    n_pseudo += ceilpow2(wavelet_length(freqs[b], alpha[b], sr)) < 2.0 * hop;
  int n_full = K - n_pseudo;

  if (n_pseudo > 0) {
    /* pseudo_cqt(fmin = the lowest pseudo bin's frequency, tuning 0): its own
     * frequency list, bandwidths and lengths at sr. */
    fp = malloc((size_t)n_pseudo * sizeof *fp);
    ap = malloc((size_t)n_pseudo * sizeof *ap);
    if (!fp || !ap) {
      st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "hybrid CQT: out of memory");
      goto done;
    }
    double fmin_p = freqs[n_full];
    for (int j = 0; j < n_pseudo; j++) fp[j] = fmin_p * pow(2.0, (double)j / B);
    relative_bandwidth(fp, n_pseudo, B, ap);
    /* librosa checks only the full part against the Nyquist frequency and
     * would build aliased pseudo-CQT filters; we refuse those too. */
    double f_cut = 0;
    for (int j = 0; j < n_pseudo; j++) f_cut = fmax(f_cut, fp[j] * (1.0 + 0.5 * HANN_ENBW * ap[j]));
    if (f_cut > sr / 2.0) {
      st = chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "hybrid CQT: filters reaching %.1f Hz would exceed the Nyquist frequency "
                         "%.1f Hz; use fewer bins or a lower fmin",
                         f_cut, sr / 2.0);
      goto done;
    }
  }

  size_t T = SIZE_MAX;
  if (n_full > 0) {
    st = full_plan_make(sr, hop, fmin_t, n_full, B, &fpl, err);
    if (st) goto done;
    T = full_frames(&fpl, n, hop);
  }
  if (n_pseudo > 0) {
    size_t Tp = 1 + n / (size_t)hop;
    if (Tp < T) T = Tp;
  }
  if (T > SIZE_MAX / sizeof(float) / (size_t)K) {
    st = chordlet_fail(err, CHORDLET_ERR_RANGE, "hybrid CQT: %zu frames are too many", T);
    goto done;
  }
  C = malloc(T * (size_t)K * sizeof *C);
  if (!C) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "hybrid CQT: out of memory for %zu frames", T);
    goto done;
  }

  if (n_full > 0) {
    st = full_cqt(y, n, sr, hop, &fpl, C, T, K, err);
    if (st) goto done;
  }
  if (n_pseudo > 0) {
    /* Its FFT is at least 2 hops long: 2^(1 + ceil(log2 hop)). */
    int min_fft = (int)pow(2.0, 1.0 + ceil(log2((double)hop)));
    cqt_kernel kern;
    st = build_kernel(fp, ap, n_pseudo, sr, min_fft, 1.0, 1, &kern, err);
    if (st) goto done;
    st = pseudo_response(y, n, (size_t)hop, &kern, C, T, K, n_full, err);
    kernel_free(&kern);
    if (st) goto done;
  }
  *out = C;
  *n_frames = T;
  C = NULL;

done:
  full_plan_free(&fpl);
  free(freqs);
  free(alpha);
  free(fp);
  free(ap);
  free(C);
  return st;
}

chordlet_status cqt_librosa_cqt(const float *y, size_t n, const cqt_librosa_config *cfg, float **out,
                                size_t *n_frames, double *tuning_used, chordlet_error *err) {
  if (!out || !n_frames) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "CQT: no output");
  *out = NULL;
  *n_frames = 0;
  chordlet_status st = check_config(cfg, err);
  if (st) return st;
  if (n > 0 && !y) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "CQT: no samples");
  st = cqt_librosa_check_finite(y, n, err);
  if (st) return st;
  double tuning = cfg->tuning;
  if (cfg->estimate_tuning) {
    st = cqt_librosa_estimate_tuning(y, n, cfg->sample_rate, cfg->bins_per_octave, &tuning, err);
    if (st) return st;
  }
  if (tuning_used) *tuning_used = tuning;
  full_plan p;
  st = full_plan_make(cfg->sample_rate, cfg->hop_length,
                      cfg->fmin * pow(2.0, tuning / cfg->bins_per_octave), cfg->n_bins,
                      cfg->bins_per_octave, &p, err);
  if (st) return st;
  size_t T = full_frames(&p, n, cfg->hop_length);
  float *C = NULL; /* (T, n_bins) */
  if (T > SIZE_MAX / sizeof(float) / (size_t)cfg->n_bins) {
    st = chordlet_fail(err, CHORDLET_ERR_RANGE, "CQT: %zu frames are too many", T);
  } else if (!(C = malloc(T * (size_t)cfg->n_bins * sizeof *C))) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "CQT: out of memory for %zu frames", T);
  } else {
    st = full_cqt(y, n, cfg->sample_rate, cfg->hop_length, &p, C, T, cfg->n_bins, err);
  }
  full_plan_free(&p);
  if (st) {
    free(C);
    return st;
  }
  *out = C;
  *n_frames = T;
  return CHORDLET_OK;
}
