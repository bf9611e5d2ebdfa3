/*
 * decode.h: from per-frame probabilities to chord segments.
 *
 * Two decoders, both ending in runs of equal states:
 *  - decode_viterbi(): the HMM of Jiang et al. (TEACHER.md 5): each state
 *    scores a frame by the sum of the logs of a few probability columns (the
 *    heads it uses; one column for a plain class), staying costs nothing,
 *    switching costs `switch_penalty` (natural log), frame 0 is forced to
 *    state 0 (N). Ties resolve to the lower state index, as the original.
 *  - decode_argmax(): the most probable class of each frame, no smoothing.
 *
 * Thread: any (pure; decode_viterbi allocates its back-pointers).
 */
#ifndef CHORDLET_DECODE_H
#define CHORDLET_DECODE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"

enum { DECODE_MAX_TERMS = 8 };
#define DECODE_LOG_FLOOR 1e-12 /* log(p) of a probability that underflowed */

/* A state's score term: log(p), floored (decode_viterbi and decode_stream.h). */
static inline double decode_log_floor(float p) { return log(p > DECODE_LOG_FLOOR ? (double)p : DECODE_LOG_FLOOR); }

/* A run of frames [first, last] in one state. */
typedef struct decode_run {
  size_t first, last;
  int32_t state;
} decode_run;

/* The state table's checks shared by decode_viterbi and decode_stream_create:
 * 1..UINT16_MAX states of 1..DECODE_MAX_TERMS terms, each a column below
 * n_columns or -1. */
chordlet_status decode_check_states(size_t n_columns, const int32_t *state_columns, size_t n_states, size_t n_terms,
                                    chordlet_error *err);

/* probs (T, n_columns); state_columns (n_states, n_terms): the probability
 * columns each state sums the logs of, -1 for an unused term. Writes the best
 * state of every frame into path (T). */
chordlet_status decode_viterbi(const float *probs, size_t T, size_t n_columns, const int32_t *state_columns,
                               size_t n_states, size_t n_terms, double switch_penalty, int32_t *path,
                               chordlet_error *err);

/* path[t] = argmax_c probs[t][c] (the first on ties). probs (T, n_columns). */
void decode_argmax(const float *probs, size_t T, size_t n_columns, int32_t *path);

/* Runs of equal states in path (T) into runs (room for T); returns their count. */
size_t decode_runs(const int32_t *path, size_t T, decode_run *runs);

#endif
