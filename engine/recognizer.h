/*
 * recognizer.h: offline chord recognition with a model file: audio in,
 * chord segments out. It reads the model's architecture from its metadata
 * and runs the matching front end, network and decoder:
 *
 *   2e1d (the students): the streaming CQT (stream.h) at the music's tuning
 *     (tuning.h: estimated from the whole file, or given) -> the network ->
 *     Viterbi over the 170 classes.
 *   jiang2019-cnn-blstm (the teacher): librosa hybrid CQT (tuning estimated
 *     as librosa does, or given)
 *     -> every fold's CNN+BLSTM -> mean of the head probabilities
 *     -> Viterbi over the model's chord list (TEACHER.md 5), or the argmax
 *        of the 170-class probabilities.
 *
 * Thread: main/worker. A recognizer is read-only after loading; several
 * threads may transcribe with one recognizer at once.
 */
#ifndef CHORDLET_RECOGNIZER_H
#define CHORDLET_RECOGNIZER_H

#include <stddef.h>

#include "chordlet.h"
#include "lab.h"
#include "phase_grid.h"

typedef enum recognizer_decoder {
  RECOGNIZER_VITERBI = 0, /* the model's HMM decoder: smooth, the default */
  RECOGNIZER_ARGMAX,      /* the most probable vocabulary class per frame */
} recognizer_decoder;

/* Called with the fraction done (0..1) as the work proceeds. */
typedef void (*recognizer_progress)(void *ctx, double fraction);

typedef struct recognizer_options {
  recognizer_decoder decoder;
  recognizer_progress progress; /* may be NULL */
  void *progress_ctx;
  double switch_penalty;         /* > 0: the Viterbi switch penalty instead of the model's */
  int keep_features;             /* hand the front end's features back in the transcription */
  double tuning_hz;              /* the music's A4 in Hz (400..480), or 0: estimate it (the default) */
  size_t block_frames;           /* recognizer_transcribe_file, students: frames per network pass
                                    (0: STUDENT_BLOCK_FRAMES); memory and time only, never the result */
  int phases;                    /* students: 0 or 1, frames on the model's own grid (hop); K in
                                    2..RECOGNIZER_MAX_PHASES, dividing the hop's samples: K passes, pass
                                    p over the audio delayed by p/K of a hop, their frames interleaved
                                    on a grid K times finer (frame m: pass (-m mod K)'s frame
                                    (m + p) / K) and decoded there with K times the switch penalty, so
                                    that a change is not rounded to the model's hop and the result does
                                    not depend on where the audio falls on its grid; K times the front
                                    end's and the network's work. The teacher refuses K > 1. */
  int advance_given;             /* 1: change_advance instead of the model's (MK_DECODER_ADVANCE) */
  double change_advance;         /* seconds, |x| <= RECOGNIZER_MAX_ADVANCE: every chord change
                                    written this much earlier (not the first start, not the end) */
} recognizer_options;

enum { RECOGNIZER_MAX_PHASES = PHASE_GRID_MAX };
#define RECOGNIZER_MAX_ADVANCE 0.5

/* What a transcription found, beyond the segments. */
typedef struct transcription {
  lab_file segments;   /* chords with times in seconds */
  float *confidence;   /* (n_segments) mean probability of the segment's chord class */
  size_t n_frames;
  double tuning_cents; /* the front end's tuning, cents from A4 = 440 Hz */
  int tuning_estimated; /* 1: estimated from the audio; 0: given (or nothing to estimate from: 440) */
  float *features;     /* (feature_frames, n_bins) what the network heard (the first pass's, with
                          phases), with keep_features; else NULL */
  int n_bins;
  size_t feature_frames;
  double feature_seconds; /* per feature row: the model's hop */
  double frame_seconds;   /* per decoded frame: the hop, or hop / phases */
  double duration_seconds; /* of the audio at recognizer_sample_rate(): where the last segment ends */
} transcription;

typedef struct recognizer recognizer;

chordlet_status recognizer_load(const char *path, recognizer **out, chordlet_error *err);
void recognizer_free(recognizer *r);

/* The sample rate audio must have (callers resample with audiofile_read). */
double recognizer_sample_rate(const recognizer *r);
/* Seconds per output frame. */
double recognizer_frame_seconds(const recognizer *r);
const char *recognizer_name(const recognizer *r);
/* The teacher's folds as bound from the model (NULL for other architectures). */
struct teacher_fold_weights;
const struct teacher_fold_weights *recognizer_teacher_folds(const recognizer *r, int *n_folds);

/* options->phases checked against the model: *K = 1 (no options, 0 or 1) or
 * the number of passes. Errors: a teacher, more than RECOGNIZER_MAX_PHASES,
 * or a number that does not divide the model's hop into whole samples. */
chordlet_status recognizer_phases(const recognizer *r, const recognizer_options *options, int *K,
                                  chordlet_error *err);
/* audio (n) mono at recognizer_sample_rate(). */
chordlet_status recognizer_transcribe(const recognizer *r, const float *audio, size_t n,
                                      const recognizer_options *options, transcription *out,
                                      chordlet_error *err);
void transcription_free(transcription *t);

/* The same from an audio file (audiofile.h reads it), with the same result
 * bit for bit. The students stream: the file is decoded in blocks (twice
 * when the tuning is estimated: a first pass feeds the estimator), through
 * the streaming CQT, the network in overlapping windows (student_blocks.h)
 * and the Viterbi decoder frame by frame (decode_stream.h), so memory is
 * set by the model and the block size, not by the file's length (peak RSS
 * of chordlet transcribe: 57 MB with the file-mode student, 71 MB with the
 * live one, for 10 minutes and for 2 hours); only keep_features (--plot)
 * holds every frame's features (0.6 KB each). The teacher needs the whole song at once
 * (its CNN's instance normalisation and its bidirectional LSTM see every
 * frame): it reads the whole file and holds the song's features and
 * activations, about 100 MB per minute of audio (1.0 GB measured for 10
 * minutes), so its memory is bounded only by AUDIO_MAX_SECONDS; use a
 * student for long recordings. Errors name the file. Thread: main/worker. */
chordlet_status recognizer_transcribe_file(const recognizer *r, const char *path, const recognizer_options *options,
                                           transcription *out, chordlet_error *err);

/* The teacher's 170-class probabilities of every frame (its own frame rate,
 * recognizer_frame_seconds()), from the mean of its first n_folds folds (all
 * when n_folds <= 0): what stage 1 distils from (TEACHER.md 6). *p170 is
 * malloc'ed (T, 170); *tuning receives the front end's estimate. */
chordlet_status recognizer_teacher_p170(const recognizer *r, const float *audio, size_t n, int n_folds,
                                        float **p170, size_t *T, double *tuning, chordlet_error *err);

#endif
