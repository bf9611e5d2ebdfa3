/*
 * train_checkpoint.h: a training run's state on disk, so that a killed run
 * (kill -9, a full disk, a reboot) resumes exactly where its last checkpoint
 * left it.
 *
 * RUN/checkpoint.chordlet is a model file (modelfile.h: CRC-checked) holding
 * the student's configuration and parameters (student_write: a checkpoint
 * loads wherever a model does), the optimiser's moments "adam.m" and
 * "adam.v" (flat, the parameter layout), the weights' moving average "ema"
 * when the run keeps one, the step, the best validation score
 * and its step, and the run's options as one string (a resumed run must be
 * given the same ones). It is written to a temporary file, flushed and
 * renamed over the old one: the rename is the completion marker, so a reader
 * sees the old checkpoint or the new one, never half of one.
 *
 * Thread: main.
 */
#ifndef CHORDLET_TRAINER_TRAIN_CHECKPOINT_H
#define CHORDLET_TRAINER_TRAIN_CHECKPOINT_H

#include <stddef.h>

#include "chordlet.h"
#include "student.h"

typedef struct train_state {
  student_config config;
  float *params, *adam_m, *adam_v; /* (n_floats) each */
  float *ema;                      /* (n_floats) the weights' exponential moving average, or NULL (no --ema) */
  size_t n_floats;
  long step;                       /* optimiser steps done */
  double best_score;               /* best validation accuracy so far (-1: none) */
  long best_step;
  char options[2048];              /* the run's options, to check on resume */
} train_state;

/* Allocates the three buffers for c (zeroed); ema stays NULL. */
chordlet_status train_state_alloc(train_state *s, const student_config *c, chordlet_error *err);
/* Allocates s->ema as a copy of s->params (a run that averages its weights). */
chordlet_status train_state_alloc_ema(train_state *s, chordlet_error *err);
void train_state_free(train_state *s);

chordlet_status train_checkpoint_save(const train_state *s, const char *path, chordlet_error *err);
/* Loads a checkpoint into s (allocating it). */
chordlet_status train_checkpoint_load(train_state *s, const char *path, chordlet_error *err);

#endif
