/*
 * train_data.h: the student's training material in memory. Loads the
 * feature caches of `chordlet-train features` (features, ground-truth labels,
 * the teacher's aligned 170-class probabilities), keeps them compact (features
 * and teacher log-probabilities as IEEE half floats: 35 h of audio at 50
 * frames/s is 6.3 M frames, 1.8 GB of features in half instead of 3.6 GB),
 * cuts songs into training windows and assembles them into batches, with
 * optional pitch-shift augmentation in the feature domain.
 *
 * Pitch shift (PAPER.md 3.7): s semitones moves every CQT bin up 2 s bins (24
 * bins per octave); bins that enter from outside the range get the silence
 * floor ln(log_eps); classes move as 14 ((root + s) mod 12) + quality, X and N
 * unchanged; the teacher's distribution is permuted the same way.
 *
 * Thread: load and free on the main thread; window/batch assembly reads only
 * (any number of threads at once).
 */
#ifndef CHORDLET_TRAINER_TRAIN_DATA_H
#define CHORDLET_TRAINER_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"
#include "cqt.h"

typedef struct train_song {
  char *name;    /* the audio file's name */
  size_t offset; /* first frame in the set's arrays */
  int n_frames;
  char *augment; /* an augmented variant's applied kinds ("detune,noise", "none"), NULL if clean */
} train_song;

typedef struct train_set {
  int n_bins, n_classes;
  cqt_params frontend;  /* the caches' front end (all equal) */
  int n_songs;
  train_song *songs;    /* (n_songs) */
  size_t n_frames;
  uint16_t *features;   /* (n_frames, n_bins) half */
  int16_t *labels;      /* (n_frames) ground truth, -1 where none */
  int16_t *pseudo;      /* (n_frames) the teacher's argmax, -1 where none */
  uint16_t *teacher;    /* (n_frames, n_classes) half log-probabilities, or NULL */
  int has_labels, has_teacher; /* every song has them */
  double seconds;
} train_set;

/* What a window's labels are: the ground truth, the teacher's argmax, or
 * STUDENT_LABEL_KD_ONLY on every frame with the teacher's distribution
 * (stage 2's real-music windows: the KD term only). */
typedef enum train_target { TARGET_GROUND_TRUTH, TARGET_PSEUDO, TARGET_KD_ONLY } train_target;

/*
 * Loads every cache in `paths` (files, folders of *.chordlet caches
 * (sorted), or .txt lists of cache files). With max_hours > 0 only songs up to that many hours are taken, in
 * an order shuffled by seed (so a budget takes a fair sample of the pools).
 * keep_teacher: keep the teacher's probabilities (stage 2's KD needs them;
 * the argmax is kept regardless). A cache that is corrupt, of another front
 * end or shape, or inconsistent with the others fails with a message.
 */
chordlet_status train_set_load(train_set *s, const char *const *paths, int n_paths, double max_hours,
                               unsigned long long seed, int keep_teacher, chordlet_error *err);
void train_set_free(train_set *s);

/* Whether features made by the two front ends are the same numbers: bins,
 * range, hop, windows and log floor (the delay only says when a frame is
 * ready). Training, validation, KD-only caches and an --init model must all
 * agree, or the network would be scored or started on another input. */
bool train_frontend_same(const cqt_params *a, const cqt_params *b);

/*
 * Keeps every `step`-th frame of each song (frames 0, step, 2 step, ...) and
 * multiplies the front end's hop by `step`: the result is exactly the cache a
 * front end with that hop would have made, because frame j of the streaming
 * CQT depends only on its centre j * hop (cqt.h), and labels and teacher
 * probabilities are taken at frame centres too. A file-mode model with a
 * longer hop is trained from the 20 ms caches this way. The delay must stay a
 * whole number of the new hops (cqt_params_check); otherwise, or for
 * step < 1, it fails and leaves the set unchanged.
 */
chordlet_status train_set_decimate(train_set *s, int step, chordlet_error *err);

/*
 * The same at every phase: each song of T frames becomes `step` songs (as
 * many as have a frame), phase p keeping frames p, p + step, ... and named
 * "NAME@p"; no frame is lost, none copied, the arrays keep their size. A
 * model with a longer hop then learns the music at every offset of its frame
 * grid, not only where the caches' frame 0 put it (the 60 ms file-mode
 * student trained on phase 0 alone lost 7 points on the demo moved by 40 ms:
 * docs/RESULTS.md 4.6). step 1 changes nothing; errors as above, the set
 * unchanged (out of memory too).
 */
chordlet_status train_set_decimate_all_phases(train_set *s, int step, chordlet_error *err);

/* A window: song, first frame, pitch shift in semitones. */
typedef struct train_window {
  int song, start, shift;
} train_window;

/* Windows of `frames` frames every `stride` frames of each song (the tail
 * after the last full window is dropped; a song shorter than `frames` but at
 * least frames / 4 long gives one padded window). Returns a malloc'ed array
 * (caller frees) and its length in *n; NULL if out of memory. */
train_window *train_windows(const train_set *s, int frames, int stride, size_t *n);

/* Fisher-Yates with a seeded generator; shift drawn uniformly from
 * [shift_lo, shift_hi] per window (0, 0: no augmentation). */
void train_windows_shuffle(train_window *w, size_t n, unsigned long long seed, int shift_lo, int shift_hi);

/* Writes one window: x (frames, n_bins) float features, labels (frames) the
 * target class or -1 (padding, or no label), teacher (frames, n_classes)
 * log-probabilities when teacher != NULL (needs has_teacher; padding 0). */
void train_window_fill(const train_set *s, const train_window *w, int frames, train_target target,
                       float *x, int *labels, float *teacher);

/* The class c moved by s semitones (X, N and -1 unchanged). */
int class_shift(int c, int s);

/* IEEE half <-> float (round to nearest even; overflow to inf). */
uint16_t half_from_float(float f);
float half_to_float(uint16_t h);

#endif
