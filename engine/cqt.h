/*
 * cqt.h: the student's constant-Q front end, the transform itself (the
 * streaming driver that feeds it is stream.h). One definition for live, offline
 * and training: every feature frame the student ever sees comes from here.
 *
 * ---------------------------------------------------------------- definition
 *
 * Bin b (b = 0..n_bins-1) has the centre frequency f_b = fmin * 2^(b / bpo)
 * and a Hann window of length
 *
 *     T_b = clamp(q / f_b, min_window, max_window)      (seconds)
 *
 * Frame j describes the audio around time t_j = j * hop (seconds from the
 * first sample). At a sample rate r its value is
 *
 *     C_b(j) = (2 / S_b) * sum_{|k| < T_b r / 2} w_b(k) exp(-2 pi i f_b k / r) x[t_j r + k]
 *     w_b(k) = cos^2(pi k / (T_b r)),   S_b = sum_k w_b(k)
 *
 * with x = 0 before the first sample, and the feature is
 *
 *     F_b(j) = ln(|C_b(j)| + log_eps).
 *
 * Every window is centred on t_j, whatever its length, so all bins of a frame
 * describe the same instant (an impulse peaks in the same frame in every bin).
 * The 2/S_b normalisation makes |C| the amplitude of a sinusoid at the bin's
 * centre frequency (a full-scale sine gives |C| = 1, F = 0), at any window
 * length and any sample rate: the definition is a sampled continuous-time
 * filter bank, so the features do not depend on the rate (tested at 22.05 to
 * 96 kHz). cqt_reference_frame() computes exactly this, directly, in double.
 *
 * ------------------------------------------------------ the default, and why
 *
 * cqt_params_default() (version 1):
 *
 *  - hop 20 ms: 441 / 882 / 960 / 1764 / 1920 samples at 22.05 / 44.1 / 48 /
 *    88.2 / 96 kHz, an integer at every common rate, so frames fall at the
 *    same instants whatever the rate, without resampling to a fixed rate
 *    (only exact 2:1 decimation, below).
 *    Framing costs at most one hop of latency; 50 frames/s is ample for chord
 *    changes (the shortest windows below are 2 hops).
 *
 *  - delay 120 ms (6 hops): frame j is finished, and handed out, when the
 *    input reaches t_j + 120 ms. An event at time t0 peaks in the frame
 *    emitted nearest to t0 + 120 ms (within half a hop); the worst case from a
 *    change to the first frame centred at or after it is 120 + 20 = 140 ms
 *    (cqt_stream_latency_seconds), under the 150 ms budget. Windows are
 *    symmetric, so the peak, the centroid and the half-way point of a step
 *    all sit at the window centre: the delay is the honest group delay, not
 *    the peak of a skewed window whose weight lies further back.
 *
 *  - 144 bins, 24 per octave, from C1 = 32.70 Hz to 2033 Hz: the paper's grid
 *    (PAPER.md 3.1), so the student keeps its 144-wide input. 24 per octave
 *    (2 per semitone) keeps a bin on every note whatever the tuning; 36 would
 *    add bins without adding resolution at the bottom, where the windows,
 *    not the bin spacing, limit it.
 *
 *  - q = 34.634 (librosa 0.10's Q for 24 bins per octave) where it fits:
 *    from 157 Hz to 866 Hz (bins 55..113) windows are q / f_b, 216 ms down
 *    to 40.5 ms, a half-power bandwidth of 1.4406 / T = 0.0416 f = 0.72
 *    semitone.
 *
 *  - max_window 220 ms below 157 Hz (bins 0..54). The delay budget sets it:
 *    a window centred 120 ms back may reach 120 ms back minus the look-ahead
 *    of the 2:1 decimators (at most 191 input samples at 22.05 kHz = 8.7 ms,
 *    see below): 2 * (120 - 8.66) = 222.7 ms, rounded down to 220. The
 *    half-power bandwidth is 1.4406 / 0.22 = 6.55 Hz: 3.5 semitones at C1,
 *    1.7 at C2, 0.87 at C3; semitones are resolved (bandwidth under one
 *    semitone) from 113 Hz (A2) up. Bass fundamentals from E1 to A2 are
 *    blurred over 1 to 3 semitones, but their 2nd to 4th harmonics, which
 *    the network also sees, are resolved. (CQT.md 16: the paper's 1.06 s
 *    filter at C1 would cost 530 ms of delay on its own.)
 *
 *  - min_window 40 ms from 880 Hz (A5, bins 114..143), two hops: Hann windows
 *    overlapping by half sum to a constant, so every instant of the audio
 *    counts equally in every bin. With q / f_b alone the top bins' windows
 *    (17 ms at 2 kHz) would be shorter than the hop and skip audio between
 *    frames. Bandwidth 36 Hz: 0.71 semitone at 880 Hz, 0.31 at 2 kHz.
 *
 *  - log_eps 1e-5 (-100 dB below a full-scale sine): at least 22 dB above the
 *    noise of 16-bit audio in every bin (|C| of 16-bit quantisation noise is
 *    2e-7 to 7e-7 here), so 16-bit, 24-bit and float renders of the same
 *    music give the same features in quiet passages. Digital silence gives
 *    ln(1e-5) = -11.51.
 *
 * ----------------------------------------------------------- implementation
 *
 * A cqt_plan holds everything for one host sample rate r:
 *
 *  - Decimation. The host signal is halved m times, until the inner rate
 *    r0 = r / 2^m lies in [22050, 44100) (m = 0 below 44.1 kHz), with the FIR
 *    that libsoxr's HQ 2:1 resampler is (CQT.md 15.2): 383 symmetric taps,
 *    measured from libsoxr 0.1.3 and embedded here (symmetrised, sum 1; the
 *    tests measure libsoxr again and compare), so the features do not change
 *    with the installed libsoxr. Passband flat to 0.914 of the output Nyquist
 *    frequency (>= 10 kHz), 20-bit stopband. Each stage looks 191 input
 *    samples ahead: the chain's look-ahead, 191 (1/r0 - 1/r) s, is under
 *    8.66 ms at every rate, which the delay budget above includes. Linear
 *    phase, so no bin is shifted in time.
 *  - Groups. Bins are grouped by octave from the top (octaves whose longest
 *    windows need the same FFT size are merged); a group's frame is N_g
 *    samples at r0, ending at the last sample its windows touch, and its
 *    spectrum is computed with FFTW single precision. A large frame is cut
 *    into P = 2, 4 or 8 interleaved parts, each its own real FFT of N_g / P
 *    (a polyphase split), and only the low part of the spectrum the kernels
 *    read is assembled from them: no single FFT is large, so no unit of work
 *    is. FFT sizes are 2^a 3^b 5^c with 3^b 5^c <= 2^a (sizes FFTW_ESTIMATE
 *    plans do fast). At r0 = 24 kHz: bins 0..71 in 4 x 1536, 72..95 in
 *    2 x 1600, 96..119 in 1600, 120..143 in 960; at 22.05 kHz: 4 x 1280,
 *    2 x 1536, 1536, 960.
 *  - Kernels. Each bin's window-times-carrier, in the frequency domain of its
 *    group's FFT, computed in closed form (Dirichlet kernels) in double and
 *    cut to the contiguous range of coefficients above 1e-6 of the largest
 *    (CQT_KERNEL_THRESHOLD): C_b = sum_k (p_k Re X_k + q_k Im X_k)
 *    + i (r_k Re X_k + t_k Im X_k), which is exact for a real signal (no
 *    negative-frequency approximation) apart from the cut.
 *  - Units. A hop's work is cut into units of about 1/12 of it (a few FFT
 *    parts, a combination, the products of some bins; about 3 us each on a
 *    2020s x86-64 core), and each unit gets its own phase in the hop: the
 *    streaming driver runs it when the input count reaches that phase, so
 *    the work is spread over the hop rather than done in the block that
 *    completes a frame (constant-q-cpp does all octaves at once: a worst
 *    block 60x its median; here the worst block is at most 2x the median
 *    from blocks of 64 samples up at 48 kHz, 3.4x at 96 kHz). A unit never
 *    runs before the samples it reads exist: units of the lowest group,
 *    whose frame ends last, share the end of the hop, from the moment the
 *    decimators have produced its last sample.
 *
 *
 * ------------------------------------------------------------------ tuning
 *
 * Music is rarely at exactly A4 = 440 Hz. A plan can be built at a tuning of
 * c cents (A4 = 440 * 2^(c / 1200) Hz): bin b's centre frequency becomes
 * f_b * 2^(c / 1200) while its window keeps the untuned length T_b, so the
 * only thing that moves is the carrier of each kernel (the groups, FFTs and
 * units stay the same, and c = 0 is bit-identical to an untuned plan). A
 * note played c cents sharp then lands in the bin the network knows.
 * A plan holds the kernels of its own tuning and knows the range
 * [min, max] it was sized for: cqt_kernels_create gives a spare set of the
 * same shape, and cqt_kernels_build fills it for any tuning in the range
 * without allocating (the live front end follows the music's tuning: the
 * worker builds a set, the audio thread adopts it between frames;
 * stream.h). A plan with a range gives each bin room for its whole kernel
 * search range (about twice the coefficients the threshold keeps: ~600 KB a
 * set instead of ~300) and its group's spectrum the reach of the highest
 * tuning, so no tuning's kernel is ever cut: a set built for c equals the
 * kernels of a plan made at c, bit for bit (tests/test_stream.c).
 *
 * Differences from the definition: the decimators remove content above
 * 0.914 * r0 / 2 >= 10 kHz (whose response in any bin is below 1e-7), the
 * kernel cut (about 1e-6 of a bin's peak response), float rounding.
 * Measured against cqt_reference_frame on music (tests/test_stream.c):
 * within 1.2e-6 of the frame's peak |C| at 16 to 96 kHz; the same music at
 * 16 to 192 kHz gives features within 1.2e-6 of the peak of those at 48 kHz
 * (|dF| <= 6e-4 on bins above -60 dB).
 *
 * Thread classes: cqt_params_* and cqt_bin_* are pure (any thread).
 * cqt_plan_create and cqt_plan_free call FFTW's planner, which is not
 * thread-safe: main thread, never at the same time as other FFTW planning in
 * the process. A finished plan is read-only and may be shared by any number
 * of streams on any threads (stream.h); cqt_plan_fft, cqt_plan_combine and
 * cqt_plan_bins are real-time safe and only write to the caller's buffers.
 */
#ifndef CHORDLET_CQT_H
#define CHORDLET_CQT_H

#include <stdbool.h>
#include <stddef.h>

#include "chordlet.h"
#include "modelfile.h"

/* The version of the feature definition: bumped whenever a change anywhere
 * in cqt.c or stream.c changes the features (taps, kernel cut, normalisation,
 * grouping rules that change rounding are all part of it). A model records it
 * and is refused by an engine that computes another version. */
#define CQT_PARAMS_VERSION 1

enum {
  CQT_WINDOW_HANN = 1, /* the only window so far */
  CQT_MAX_BINS = 1024,
  CQT_MAX_GROUPS = 32,
  CQT_MAX_UNITS = 128,
  CQT_DECIM_HALF = 191,         /* taps each side of the 2:1 decimator's centre */
  CQT_DECIM_TAPS = 2 * 191 + 1, /* 383 */
  CQT_DECIM_TAPS_PADDED = 384,  /* the dot product runs over 384 (the last tap is 0) */
  CQT_INNER_RATE_MIN = 22050,   /* the inner rate r0 lies in [22050, 44100) after decimation */
};

/* Plans accept tunings within +-this many cents of A4 = 440 Hz (users are
 * held to 400..480 Hz, -165..+151 cents: chordlet.h). */
#define CQT_TUNING_LIMIT_CENTS 200.0

/* Minimum and maximum host sample rates accepted (Hz). */
#define CQT_RATE_MIN 8000.0
#define CQT_RATE_MAX 768000.0

/* Kernel coefficients below this fraction of a bin's largest are cut. */
#define CQT_KERNEL_THRESHOLD 1e-6

/* The decimators' worst look-ahead, 191 samples at 22.05 kHz (seconds): the
 * part of the delay that windows cannot use. */
#define CQT_DECIM_LOOKAHEAD_MAX (191.0 / 22050.0)

/* The front end's parameters: rate-independent, what a model file records. */
typedef struct cqt_params {
  int version;               /* CQT_PARAMS_VERSION */
  double hop_seconds;        /* 0.02: frame j is centred at j * hop */
  double delay_seconds;      /* 0.12: frame j is emitted when the input reaches j * hop + delay */
  double fmin_hz;            /* 32.703195662574829 (C1): bin 0 */
  int n_bins;                /* 144 */
  int bins_per_octave;       /* 24 */
  double q;                  /* 34.634307...: T_b = q / f_b before clamping */
  double min_window_seconds; /* 0.04 */
  double max_window_seconds; /* 0.22 */
  int window;                /* CQT_WINDOW_HANN */
  double log_eps;            /* 1e-5: F = ln(|C| + log_eps) */
} cqt_params;

/* The defaults above. Thread: any. */
void cqt_params_default(cqt_params *p);

/* Checks every field (finite, in range, consistent: max_window / 2 +
 * CQT_DECIM_LOOKAHEAD_MAX <= delay, delay a whole number of hops, the top
 * bin's response below 10 kHz). The message names the field. Thread: any. */
chordlet_status cqt_params_check(const cqt_params *p, chordlet_error *err);

/* Whether two parameter sets define the same features (every field equal).
 * Thread: any. */
bool cqt_params_equal(const cqt_params *a, const cqt_params *b);

/* Writes the parameters as MK_STREAM_* metadata (model_keys.h); reads them
 * back, checking that they are all there, of the right types and valid, and
 * that the version is the one this engine computes. Thread: main/worker. */
chordlet_status cqt_params_write(const cqt_params *p, model_writer *w, chordlet_error *err);
chordlet_status cqt_params_read(const model_file *m, cqt_params *p, chordlet_error *err);

/* Bin geometry, from the parameters alone. Thread: any. */
double cqt_bin_frequency(const cqt_params *p, int bin);      /* Hz */
double cqt_bin_window_seconds(const cqt_params *p, int bin); /* T_b */
/* Half-power (-3 dB) bandwidth of bin b's filter in Hz: 1.4406 / T_b. */
double cqt_bin_bandwidth_hz(const cqt_params *p, int bin);

/* The 2:1 decimator's taps h[0..191] (one side; h[-n] = h[n]):
 * y[m] = sum_{n=-191}^{191} h[n] x[2m - n]. Thread: any. */
const float *cqt_decimator_taps(void);

/* ------------------------------------------------------------------- plans */

/* One group of bins sharing a frame, at the inner rate r0. The frame of
 * frame j covers r0 samples [c + frame_end - n_fft + 1, c + frame_end],
 * c = j * hop_inner; bin windows reach at most frame_end samples past the
 * centre. Its spectrum X (FFTW's sign) is computed as n_parts interleaved
 * real FFTs of n_fft / n_parts samples (part p holds frame samples p, p + P,
 * ...), X[k] = sum_p exp(-2 pi i p k / n_fft) Y_p[k], needed only for
 * k < n_spectrum <= n_fft / (2 n_parts) + 1, where the kernels are. */
typedef struct cqt_group {
  int first_bin, n_bins;
  int n_fft;       /* frame length N */
  int n_parts;     /* P: 1, 2, 4 or 8 */
  int n_spectrum;  /* spectrum entries the kernels read */
  int frame_end;   /* samples after the centre in the frame (the longest half window) */
  int ready_phase; /* earliest phase in the hop (host samples, 1..hop) at which its data exists */
} cqt_group;

/* A unit of work of a hop: FFTs of parts [first_part, first_part + n_parts)
 * of a group, then (combine) the group's spectrum from its parts, then the
 * products for bins [first_bin, first_bin + n_bins). Run at input count
 * (j * hop + delay - hop + phase) for frame j. */
typedef struct cqt_unit {
  int group;
  int first_part, n_parts;
  bool combine;
  int first_bin, n_bins;
  int phase; /* host samples, 1..hop_samples; units are sorted by phase */
} cqt_unit;

/* Everything about the transform at one host rate. */
typedef struct cqt_layout {
  cqt_params params;
  double sample_rate;       /* host rate r */
  int n_stages;             /* 2:1 decimations, m */
  double inner_rate;        /* r0 = r / 2^m */
  size_t hop_samples;       /* hop at r */
  size_t delay_samples;     /* delay at r */
  size_t hop_inner;         /* hop at r0 */
  size_t lookahead_samples; /* host samples the decimator chain looks ahead: 191 (2^m - 1) */
  int n_groups;
  cqt_group groups[CQT_MAX_GROUPS]; /* from the lowest bins up */
  int n_units;
  cqt_unit units[CQT_MAX_UNITS];
  int max_part;          /* largest n_fft / n_parts */
  size_t inner_history;  /* r0 samples a stream must keep (its ring's minimum) */
  size_t kernel_entries; /* room for kernel coefficients in a set (cost per frame: 4 multiply-adds each) */
  double tuning_cents;   /* the plan's own kernels' tuning (cents from A4 = 440 Hz) */
  double tuning_min_cents, tuning_max_cents; /* the range any set of this plan can be built for */
} cqt_layout;

typedef struct cqt_plan cqt_plan;
/* The kernels of one tuning: a plan's own, or a spare set (below). */
typedef struct cqt_kernels cqt_kernels;

/* Builds the plan for a host sample rate: decimation, groups, kernels, FFTW
 * plans (FFTW_ESTIMATE, so the same input gives the same output in every
 * process and every run), units. Errors name what is wrong: invalid
 * parameters; a rate outside [CQT_RATE_MIN, CQT_RATE_MAX] or at which the hop
 * or the delay is not a whole number of samples (at r and at r0; e.g.
 * 11025 Hz, where 20 ms is 220.5 samples); a top bin too close to the
 * Nyquist frequency of a rate below 22.05 kHz.
 * Thread: main (FFTW planner; see the top of this file). */
chordlet_status cqt_plan_create(const cqt_params *p, double sample_rate, cqt_plan **out, chordlet_error *err);
void cqt_plan_free(cqt_plan *plan); /* NULL is fine. Thread: main (FFTW). */

/* A plan whose kernels are at `cents` and sized so that spare sets can be
 * built for any tuning in [min_cents, max_cents] (within
 * +-CQT_TUNING_LIMIT_CENTS). cqt_plan_create is (0, 0, 0). Thread: main. */
chordlet_status cqt_plan_create_tuned(const cqt_params *p, double sample_rate, double cents, double min_cents,
                                      double max_cents, cqt_plan **out, chordlet_error *err);

/* The plan's own kernels (read-only, live as long as the plan). Thread: any. */
const cqt_kernels *cqt_plan_kernels(const cqt_plan *plan);

/* A spare kernel set of the plan's shape, built at the plan's tuning; free
 * it before the plan. Thread: main or worker (allocates about 300 KB). */
chordlet_status cqt_kernels_create(const cqt_plan *plan, cqt_kernels **out, chordlet_error *err);
void cqt_kernels_free(cqt_kernels *set); /* NULL is fine */

/* Rebuilds a set in place for a tuning in the plan's range (otherwise
 * CHORDLET_ERR_RANGE and the set is untouched): no allocation, no lock, no
 * I/O; about 5 ms of trigonometry, so a worker's job, not the audio
 * thread's. Nobody may read the set meanwhile (stream.h's hand-over).
 * Thread: worker. */
CHORDLET_RT chordlet_status cqt_kernels_build(const cqt_plan *plan, cqt_kernels *set, double cents);

/* The tuning a set was built for. Thread: any (not while it is rebuilt). */
CHORDLET_RT double cqt_kernels_cents(const cqt_kernels *set);

/* The layout (read-only, lives as long as the plan). Thread: any. */
const cqt_layout *cqt_plan_layout(const cqt_plan *plan);

/* The FFT of one part of a group's frame: part_frame (n_fft / n_parts
 * floats: frame samples part, part + P, ..., gathered by the caller) into
 * part_spectrum (n_fft / n_parts / 2 + 1 interleaved re, im). Both must come
 * from cqt_buffer_alloc (FFTW's alignment); part_frame is not modified.
 * Thread: any, on the caller's buffers. */
CHORDLET_RT void cqt_plan_fft(const cqt_plan *plan, int group, const float *part_frame,
                              float *part_spectrum /* (n_fft/n_parts/2+1, 2) */);

/* The group's spectrum X[k], k < n_spectrum, from its parts' spectra
 * (n_parts > 1; with one part, its spectrum is X). Thread: any. */
CHORDLET_RT void cqt_plan_combine(const cqt_plan *plan, int group, const float *const *part_spectra,
                                  float *spectrum /* (n_spectrum, 2) */);

/* |C_b| for bins [first_bin, first_bin + n_bins) of the group, from its
 * frame's spectrum, into mag[0 .. n_bins-1], with a kernel set of the plan
 * (NULL: the plan's own). Thread: any. */
CHORDLET_RT void cqt_plan_bins(const cqt_plan *plan, const cqt_kernels *set, int group, int first_bin, int n_bins,
                               const float *spectrum /* (>= n_spectrum, 2) */, float *mag /* (n_bins) */);

/* One output of the 2:1 decimator: sum_{n=-191}^{191} h[n] x[191 - n], where
 * x points at the 383 input samples centred on the output's position (x[191]
 * is x[2m]). Thread: any. */
CHORDLET_RT float cqt_decimate(const cqt_plan *plan, const float *x /* (CQT_DECIM_TAPS) */);

/* Buffers with FFTW's alignment (fftwf_malloc), for cqt_plan_fft; freed with
 * cqt_buffer_free. Thread: any. */
float *cqt_buffer_alloc(size_t n_floats);
void cqt_buffer_free(float *buffer);

/* ------------------------------------------------------------- reference */

/*
 * The definition computed directly, in double, at the signal's own rate, with
 * no decimation, FFT or kernel cut: |C_b| of the frame centred on sample
 * `centre` (may be negative or past the end: samples outside [0, n) are 0)
 * into mag[b], for all n_bins. For tests: it costs sum_b T_b * rate
 * multiply-adds (about 0.4 M at 22.05 kHz).
 * Errors: invalid parameters or rate. Thread: any.
 */
chordlet_status cqt_reference_frame(const cqt_params *p, double sample_rate, const float *x /* (n) */,
                                    size_t n, long long centre, double *mag /* (n_bins) */,
                                    chordlet_error *err);
/* The same at a tuning (cents from A4 = 440 Hz; windows untuned, above). */
chordlet_status cqt_reference_frame_tuned(const cqt_params *p, double cents, double sample_rate,
                                          const float *x /* (n) */, size_t n, long long centre,
                                          double *mag /* (n_bins) */, chordlet_error *err);

#endif
