/*
 * cqt_librosa.h: librosa 0.10's hybrid_cqt and estimate_tuning in C, the
 * teacher's front end (shared/docs/TEACHER.md section 1, CQT.md sections 3-14).
 *
 * cqt_librosa_hybrid() returns
 *     np.abs(librosa.hybrid_cqt(y, sr, hop_length, fmin, n_bins,
 *                               bins_per_octave, tuning)).T
 * for a float32 mono signal y, within 1e-5 of the peak of librosa's own
 * output (the 18 references in shared/reference/cqt/ are matched within 5e-7
 * of their peak, at the estimated tuning and at 0: librosa's FFTs run in
 * double, ours in FFTW single precision). The pieces, as librosa does them:
 *  - tuning: estimated from y (cqt_librosa_estimate_tuning) or given;
 *  - the top bins, whose filters are shorter than 2 hops, come from a
 *    "pseudo-CQT": one Hann STFT at the input rate, its magnitudes times the
 *    magnitudes of the filters' spectra;
 *  - the other bins come from a full CQT: complex filters applied by FFT one
 *    octave at a time, from the top down, halving the sample rate with libsoxr
 *    (HQ) between octaves, after an early downsampling;
 *  - frames are centred on input sample t*hop with zeros outside the signal,
 *    T = 1 + floor(n / hop) for the teacher's settings.
 *
 * Thread: main/worker. The functions allocate and create FFTW plans (with
 * FFTW_ESTIMATE, so results do not depend on timing). FFTW's planner is not
 * thread-safe: do not run these functions at the same time as other code that
 * creates or destroys FFTW plans (these functions included) on another thread.
 */
#ifndef CHORDLET_CQT_LIBROSA_H
#define CHORDLET_CQT_LIBROSA_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "chordlet.h"

typedef struct cqt_librosa_config {
  double sample_rate;   /* Hz of y; the teacher uses 22050 */
  int hop_length;       /* samples between frames; 512 */
  double fmin;          /* Hz of bin 0 before tuning; librosa.note_to_hz('F#0') */
  int n_bins;           /* 288 */
  int bins_per_octave;  /* 36 */
  bool estimate_tuning; /* librosa's tuning=None: estimate it from y */
  double tuning;        /* used when !estimate_tuning, in fractions of a bin */
} cqt_librosa_config;

/* np.pi (M_PI is not ISO C). */
#define CQT_LIBROSA_PI 3.141592653589793

/* librosa.note_to_hz('F#0'), A4 = 440 Hz. */
#define CQT_LIBROSA_F_SHARP_0 23.124651419477154

/* Limits that keep a config within what one call can compute in memory. */
enum {
  CQT_LIBROSA_MAX_BINS = 4096,
  CQT_LIBROSA_MAX_FFT = 1 << 22, /* longest per-octave FFT (samples) */
};

/* Fills cfg with the teacher's settings: 22050 Hz, hop 512, fmin F#0, 288 bins,
 * 36 bins per octave, tuning estimated. Thread: any. */
void cqt_librosa_teacher_config(cqt_librosa_config *cfg);

/*
 * librosa.estimate_tuning(y=y, sr=sample_rate, bins_per_octave=bins_per_octave)
 * (n_fft 2048, hop 512, piptrack between 150 Hz and 4 kHz, resolution 0.01):
 * the tuning offset in fractions of a bin, a multiple of 0.01 in [-0.5, 0.49],
 * exactly the double librosa returns (e.g. 0.030000000000000027; equal on
 * all 18 references, impulse trains included, because every peak-picking
 * decision that FFTW's float rounding could turn is redone in double, see
 * cqt_tuning.c). No peaks (silence, or only tones below 150 Hz) gives 0.
 * n == 0 is allowed (y may then be NULL) and gives 0, as in librosa.
 * Errors: NaN or infinite samples, sample_rate or bins_per_octave not positive.
 */
chordlet_status cqt_librosa_estimate_tuning(const float *y, size_t n, double sample_rate,
                                            int bins_per_octave, double *tuning,
                                            chordlet_error *err);

/*
 * np.abs(librosa.hybrid_cqt(y, ...)).T for y (n samples, mono, at
 * cfg->sample_rate). On success *out is a newly allocated array of
 * *n_frames x cfg->n_bins float32 magnitudes, row-major (frame, bin), bin 0 the
 * lowest frequency; the caller frees it with free(). *tuning_used (may be NULL)
 * receives the tuning applied, estimated or given. On error *out is NULL and
 * *n_frames 0.
 * Errors, as librosa raises them: NaN or infinite samples; a signal shorter
 * than the early downsampling factor (2 samples for the teacher's settings:
 * librosa's "Input signal length=... is too short"); filters reaching above
 * the Nyquist frequency; a config value that is not positive or not finite.
 */
chordlet_status cqt_librosa_hybrid(const float *y, size_t n, const cqt_librosa_config *cfg,
                                   float **out, size_t *n_frames, double *tuning_used,
                                   chordlet_error *err);

/*
 * np.abs(librosa.cqt(y, sr, hop_length, fmin, n_bins, bins_per_octave,
 * tuning)).T: the full CQT alone, which hybrid_cqt uses for its lower bins
 * (BTC's front end is this with hop 2048, fmin C1, 144 bins, 24 per octave,
 * tuning 0, then log(|C| + 1e-6)). Output, errors and T as for
 * cqt_librosa_hybrid; T = min over octaves of 1 + floor(n_i / hop_i), which
 * is 1 + floor(n / hop) for these settings.
 */
chordlet_status cqt_librosa_cqt(const float *y, size_t n, const cqt_librosa_config *cfg, float **out,
                                size_t *n_frames, double *tuning_used, chordlet_error *err);

/* Helpers shared by cqt_librosa.c and cqt_tuning.c (and tested on their own). */

/* numpy's pairwise summation of doubles (np.sum over a contiguous axis):
 * under 8 values a plain loop; up to 128, eight interleaved partial sums
 * combined as a tree, then the tail; above, both halves (the first a multiple
 * of 8). The trainer's music survey sums its level curves the same way. */
double numpy_pairwise_sum(const double *a, size_t n);

/* scipy.signal.get_window('hann', n, fftbins=True), computed the way scipy
 * computes it (0.5 + 0.5 cos(linspace(-pi, pi, n + 1))), into w (n). */
void cqt_librosa_hann(double *w /* (n) */, int n);

/* Frame t of a centred STFT with zero ('constant') padding: out[m] =
 * x[t*hop - n_fft/2 + m] for m = 0..n_fft-1, 0 outside [0, nx). When w is not
 * NULL each sample is multiplied by w[m] in double and rounded to float, as
 * librosa's float64 window times float32 frame is. */
void cqt_librosa_frame(const float *x /* (nx) */, size_t nx, size_t t, size_t hop, int n_fft,
                       const double *w /* (n_fft) or NULL */, float *out /* (n_fft) */);

/* |re + i im| of a complex64 as numpy 1.24 computes np.abs on an x86-64 CPU
 * with AVX512F: larger * sqrt(fma(r, r, 1)) with r = smaller / larger, in
 * float32. It differs from hypotf() by one ulp in a third of the cases. The
 * references were evidently made on such a CPU: an impulse train's flat
 * spectrum has near-equal neighbours, one ulp decides which bins are peaks,
 * and with hypotf the estimated tuning of impulse_train_22k becomes +0.42
 * instead of -0.43 (its histogram is a 35/35/34 near-tie), that of
 * impulse_train_44k +0.18 instead of +0.42. */
static inline float cqt_librosa_abs_c64(float re, float im) {
  float a = fabsf(re), b = fabsf(im);
  float larger = a > b ? a : b, smaller = a > b ? b : a;
  if (larger == 0.0f) return smaller;
  float r = smaller / larger;
  return sqrtf(fmaf(r, r, 1.0f)) * larger;
}

/* The same for a complex128 (librosa's atom and kernel-spectrum norms). */
static inline double cqt_librosa_abs_c128(double re, double im) {
  double a = fabs(re), b = fabs(im);
  double larger = a > b ? a : b, smaller = a > b ? b : a;
  if (larger == 0.0) return smaller;
  double r = smaller / larger;
  return sqrt(fma(r, r, 1.0)) * larger;
}

/* Checks that all samples are finite; the message names the first bad one. */
chordlet_status cqt_librosa_check_finite(const float *y /* (n) */, size_t n, chordlet_error *err);

#endif
