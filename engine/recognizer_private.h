/*
 * recognizer_private.h: what recognizer.c (loading, the whole-signal path)
 * and recognizer_file.c (the students' path from a file, streamed) share
 * inside the engine. Not installed; not part of the library's API.
 */
#ifndef CHORDLET_RECOGNIZER_PRIVATE_H
#define CHORDLET_RECOGNIZER_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "cqt.h"
#include "cqt_librosa.h"
#include "decode_stream.h"
#include "harte.h"
#include "modelfile.h"
#include "phase_grid.h"
#include "recognizer.h"
#include "student.h"
#include "teacher.h"
#include "tuning.h"

enum { MAX_FOLDS = 16, N_HEADS = 6 };

struct recognizer {
  model_file *model;
  char *name;
  int is_student;
  double sample_rate, frame_seconds;
  cqt_librosa_config frontend; /* the teacher's */
  /* the student */
  cqt_params stream;
  size_t hop_samples; /* the front end's hop at sample_rate */
  tuning_params tuning;
  student_config student;
  float *student_params; /* (student_layout's n_floats) */
  int n_folds;
  teacher_fold_weights folds[MAX_FOLDS];
  /* the decoder */
  double switch_penalty;
  double change_advance; /* seconds (MK_DECODER_ADVANCE; 0 when the model has none) */
  size_t n_states;
  int32_t *state_columns;   /* (n_states, N_HEADS) probability column per head, -1 unused */
  harte_chord *state_chord; /* (n_states) */
  int32_t *state_class;     /* (n_states) 170-class index, for confidences */
};

/* The segments, confidences and frame facts of a transcription from the
 * decoder's runs (each with the sum of its chord's 170-class probability
 * over its frames): frame k is [k, k + 1) hops for the teacher and centred
 * on k hops for the students; the last segment ends with the audio
 * (duration seconds); segments clipped to nothing are left out. */
chordlet_status recognizer_segments(const recognizer *r, const recognizer_options *options,
                                    const decode_scored_run *runs, size_t n_runs, size_t n_frames,
                                    double duration, transcription *out, chordlet_error *err);

/* Logits to probabilities in place, row by row: x (T, n). */
void recognizer_softmax_rows(float *x, size_t T, size_t n);

#endif
