/*
 * tuning.h: where the music's A4 lies, for the student's front end.
 *
 * Real instruments and recordings are rarely at exactly A4 = 440 Hz (bands
 * tune to each other, orchestras to 442, old recordings run fast). The
 * student's front end has two bins per semitone, so music 40 cents sharp
 * lands between the bins the network knows. This estimates the offset, in
 * cents in [-50, 50): the deviation of the music's notes from the
 * equal-tempered grid of A4 = 440 Hz, modulo a semitone (a song a whole
 * semitone sharp is simply in another key). cqt.h then builds the front end
 * at that tuning.
 *
 * Method. Short-time spectra (Hann window of window_seconds, zero-padded to
 * twice its length) every hop_seconds; in each, the local maxima between
 * fmin and fmax within 20 dB of the spectrum's largest (librosa's piptrack
 * threshold); each peak's frequency by a parabola through the log
 * magnitudes of its bin and the two neighbours; its deviation from the
 * nearest semitone of A4 = 440 Hz goes into a circular histogram of
 * 1-cent slots (split linearly between the two nearest slots), one vote a
 * peak. The estimate is the histogram's mode (smoothed over +-3 cents), refined
 * by the mean of the votes within +-8 cents of it. The mode, not the mean,
 * because the 5th and 7th harmonics of every note lie 14 and 31 cents flat
 * of the tempered grid; fundamentals, octaves and fifths (the 3rd harmonic,
 * 2 cents sharp) outvote them.
 *
 * Offline (tuning_estimate), every frame of the file counts equally. Live
 * (a tuning_tracker fed as audio arrives), the histogram forgets: each
 * frame multiplies it by exp(-hop / memory_seconds), so the estimate follows
 * the last few seconds (a tuning that changes moves the mode after about
 * 0.7 x memory). An estimate needs at least min_peaks votes (in the
 * forgetting histogram: of recent audio); before that, or in silence,
 * there is none.
 *
 * The settings are part of a model (model file keys stream.tuning.*,
 * tuning_params_write/read), like the front end's: a model trained on
 * features at estimated tunings is run with the same estimator.
 *
 * Threads: tuning_params_* pure; create/free main (FFTW planning);
 * tuning_tracker_push/estimate/reset: one thread at a time, real-time safe
 * (no allocation, lock or I/O; FFTW's execute on the tracker's own arrays),
 * about 60 us of work per hop at 48 kHz: the worker's job in chordlet's
 * live path, not the audio thread's.
 */
#ifndef CHORDLET_TUNING_H
#define CHORDLET_TUNING_H

#include <stdbool.h>
#include <stddef.h>

#include "chordlet.h"
#include "modelfile.h"

#define TUNING_PARAMS_VERSION 1

/* The slots of the histogram: one per cent of the semitone. */
enum { TUNING_SLOTS = 100 };

typedef struct tuning_params {
  int version;           /* TUNING_PARAMS_VERSION */
  double window_seconds; /* 0.186: a spectrum's Hann window (5.4 Hz bins, 2.7 Hz with the padding) */
  double hop_seconds;    /* 0.186: the window (overlap adds cost, not accuracy: measured) */
  double fmin_hz;        /* 150: lower partials crowd within a main lobe */
  double fmax_hz;        /* 2000: higher ones are stretched (piano inharmonicity) */
  double memory_seconds; /* 3: the live histogram's time constant */
  double min_peaks;      /* 40 votes before an estimate counts */
  double step_cents;     /* 2: live, the front end moves when the estimate is further than this */
} tuning_params;

/* The defaults above. Thread: any. */
void tuning_params_default(tuning_params *p);
/* Every field finite and in range; the message names the field. Thread: any. */
chordlet_status tuning_params_check(const tuning_params *p, chordlet_error *err);
/* Model file keys stream.tuning.*. Reading a model without them gives the
 * defaults (models made before the estimator existed); with them, all must
 * be there, valid, and of this version. Thread: main/worker. */
chordlet_status tuning_params_write(const tuning_params *p, model_writer *w, chordlet_error *err);
chordlet_status tuning_params_read(const model_file *m, tuning_params *p, chordlet_error *err);
/* Whether a model file states its estimator (stream.tuning.*). Thread: any. */
bool tuning_params_present(const model_file *m);

typedef struct tuning_tracker tuning_tracker;

/* A tracker at a sample rate (8 kHz..768 kHz); memory_seconds <= 0 keeps
 * every vote (offline). Thread: main (FFTW planning). */
chordlet_status tuning_tracker_create(const tuning_params *p, double sample_rate, double memory_seconds,
                                      tuning_tracker **out, chordlet_error *err);
void tuning_tracker_free(tuning_tracker *t); /* NULL is fine. Thread: main. */

/* Consumes n samples (non-finite ones read as 0), analysing every hop that
 * completes. Thread: one at a time; real-time safe. */
CHORDLET_RT void tuning_tracker_push(tuning_tracker *t, const float *x, size_t n);

/* The estimate: 1 and *cents in [-50, 50) when there are min_peaks votes,
 * else 0 (*cents = 0). *votes (may be NULL) receives the histogram's
 * weight. Thread: the pushing thread; real-time safe. */
CHORDLET_RT int tuning_tracker_estimate(const tuning_tracker *t, double *cents, double *votes);

/* The next samples do not follow the last ones (audio was lost): start a
 * new window, keep the votes. Thread: the pushing thread; real-time safe. */
CHORDLET_RT void tuning_tracker_gap(tuning_tracker *t);

/* Forget everything. Thread: the pushing thread; real-time safe. */
CHORDLET_RT void tuning_tracker_reset(tuning_tracker *t);

/* The estimate of a whole signal (mono, any rate the tracker accepts): 1 and
 * *cents, or 0 and *cents = 0 when it has too few peaks (silence, drums).
 * Errors: bad settings or rate, out of memory. Thread: main. */
chordlet_status tuning_estimate(const tuning_params *p, const float *x, size_t n, double sample_rate,
                                int *found, double *cents, chordlet_error *err);

/* Cents from A4 = 440 Hz and back. Thread: any. */
CHORDLET_RT double tuning_hz_to_cents(double a4_hz);
CHORDLET_RT double tuning_cents_to_hz(double cents);

#endif
