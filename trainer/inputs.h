/* inputs.h: the audio a trainer command works on, from its arguments: audio
 * files, folders (their audio files, sorted) and .txt lists of audio paths
 * (one a line, '#' comments). */
#ifndef CHORDLET_TRAINER_INPUTS_H
#define CHORDLET_TRAINER_INPUTS_H

#include <stddef.h>

enum { INPUTS_MAX = 1000000 };

typedef struct input_list {
  char **paths; /* (n) */
  size_t n, cap;
} input_list;

/* Appends what `input` names; prints why and returns -1 when it cannot be
 * read (messages start with `program`). */
int inputs_collect(const char *input, input_list *list, const char *program);
void inputs_free(input_list *list);

#endif
