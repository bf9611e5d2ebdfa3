/*
 * decode_stream.h: decode.h's decoders fed one frame at a time, in memory
 * that does not grow with the number of frames.
 *
 *  - Viterbi: the same HMM, the same arithmetic and the same tie rules as
 *    decode_viterbi, so the same path. decode_viterbi keeps a back-pointer
 *    per frame and state ((T, S) of them: 170 states x 50 frames/s is 61 MB
 *    an hour in uint16); this keeps the back-pointer tree itself, which
 *    is small. In this HMM a state either stays (its path goes on in the
 *    same state) or jumps from the frame's best state (every jumper at
 *    frame t shares one predecessor path: best's at t - 1). So a path is a
 *    chain of runs: each state holds its current run (where it began, the
 *    sum of its confidence column) and a reference to the node describing
 *    the path before the run; at most one node is made per frame (for the
 *    frame's best state, if anything jumps from it), and nodes no state's
 *    path passes through any more are freed at once (reference counts:
 *    the survivor-path merging of on-line Viterbi decoding). What stays is
 *    the runs of the final path that are already certain (the output: one
 *    node per chord) plus the branches still competing, which in this HMM
 *    merge within seconds (a state more than the switch penalty behind the
 *    best jumps, dropping its branch). Worst case (a branch that never
 *    merges) one node per frame: 40 bytes, still far below decode_viterbi.
 *  - argmax: the most probable column of every frame, in runs.
 *
 * Each run also carries the sum of one "confidence" column over its frames
 * (a 170-class probability: recognizer.c's segment confidence), summed in
 * double in frame order from 0, as a loop over the run would sum it.
 *
 * Thread: one thread at a time per decoder (allocates as it goes).
 */
#ifndef CHORDLET_DECODE_STREAM_H
#define CHORDLET_DECODE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"

/* A run of frames [first, last] in one state, with the sum of its state's
 * confidence column over them. */
typedef struct decode_scored_run {
  size_t first, last;
  int32_t state;
  double sum;
} decode_scored_run;

typedef struct decode_stream decode_stream;

/* Viterbi over state_columns (n_states, n_terms) as decode_viterbi takes
 * them (copied). sum_columns (n_states, copied; NULL: no sums) names the
 * column of the confidence row that each state's runs sum. Errors as
 * decode_viterbi's for bad states or columns; out of memory. */
chordlet_status decode_stream_viterbi(const int32_t *state_columns, size_t n_states, size_t n_terms,
                                      size_t n_columns, const int32_t *sum_columns, double switch_penalty,
                                      decode_stream **out, chordlet_error *err);

/* argmax over n_columns (the first on ties); a run's state is its column,
 * and it sums that column of the confidence row. */
chordlet_status decode_stream_argmax(size_t n_columns, decode_stream **out, chordlet_error *err);

void decode_stream_free(decode_stream *d); /* NULL is fine */

/* The next frame: probs (n_columns); conf (the confidence row, indexed by
 * sum_columns or the argmax column; may be NULL when nothing is summed). */
chordlet_status decode_stream_push(decode_stream *d, const float *probs, const float *conf, chordlet_error *err);

/* After the last frame: the runs of the whole path in time order, newly
 * allocated (*runs, free(); NULL when no frame was pushed). The decoder is
 * spent afterwards (free it). */
chordlet_status decode_stream_finish(decode_stream *d, decode_scored_run **runs, size_t *n_runs,
                                     chordlet_error *err);

/* Frames pushed, and the most tree nodes held at once (Viterbi; the memory
 * the tests bound). */
size_t decode_stream_frames(const decode_stream *d);
size_t decode_stream_peak_nodes(const decode_stream *d);

#endif
