/* inputs.h: the audio a trainer command works on, from its arguments: audio
 * files, folders (their audio files, sorted) and .txt lists of audio paths
 * (one a line, '#' comments; a NUL byte or a line over INPUTS_MAX_LINE
 * bytes makes it no list). */
#ifndef CHORDLET_TRAINER_INPUTS_H
#define CHORDLET_TRAINER_INPUTS_H

#include <stddef.h>

enum { INPUTS_MAX = 1000000, INPUTS_MAX_LINE = 4096 /* a list's line: a path and its line end */ };

typedef struct input_list {
  char **paths; /* (n) */
  size_t n, cap;
} input_list;

/* Appends what `input` names; prints why and returns -1 when it cannot be
 * read (messages start with `program`). */
int inputs_collect(const char *input, input_list *list, const char *program);
void inputs_free(input_list *list);

/* The options every batch command over audio shares (pseudo-label, features):
 * --out DIR, --model FILE, --folds N, --jobs N, and the inputs themselves. */
typedef struct batch_options {
  const char *out_dir;
  const char *model; /* default models/teacher.chordlet */
  int n_folds;       /* 0: the model's */
  long jobs;         /* default: the number of cores */
  input_list inputs;
} batch_options;

enum { BATCH_ARG_TAKEN = 1, BATCH_ARG_NOT_MINE = 0, BATCH_ARG_BAD_VALUE = -1, BATCH_ARG_BAD_INPUT = -2 };

void batch_options_init(batch_options *o);
/* Looks at argv[*i] (and its value, advancing *i): BATCH_ARG_TAKEN, NOT_MINE
 * (an option the command must handle or refuse), BAD_VALUE or BAD_INPUT (the
 * reason printed, prefixed with program). */
int batch_options_arg(int argc, char **argv, int *i, batch_options *o, const char *program);
/* After the arguments: --out and at least one input given (else -1: the
 * caller prints its usage), and the output folder created (else -2, printed). */
int batch_options_finish(batch_options *o, const char *program);
void batch_options_free(batch_options *o);

#endif
