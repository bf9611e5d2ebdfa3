/*
 * online_decode.h: the live decoder, a fixed-lag Viterbi smoother.
 *
 * The offline decoder (decode.h) finds the best state path over a whole
 * song, which a live readout cannot wait for. This one runs the same HMM
 * (staying costs nothing, switching costs switch_penalty in natural log, the
 * first frame starts in initial_state) one frame at a time and decides frame
 * t - lag when frame t arrives: the end of the best path to frame t, traced
 * back lag frames. A lag of a few frames removes most of the flicker of a
 * frame-wise argmax at a fixed, known cost in latency (lag hops); with a lag
 * as long as the input it is the offline Viterbi path exactly (tested).
 *
 * Each push costs O(n_states + lag): with a uniform switch cost the best
 * predecessor of every state is itself or the best state overall.
 * Memory: everything at create; push/flush/reset allocate nothing, take no
 * lock and loop a bounded number of times (n_states, lag).
 * Thread: create/free main; the rest on one thread at a time (the worker).
 */
#ifndef CHORDLET_ONLINE_DECODE_H
#define CHORDLET_ONLINE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"

enum { ONLINE_DECODE_MAX_LAG = 1024, ONLINE_DECODE_MAX_STATES = 65535 };

typedef struct online_decoder online_decoder;

/* n_states >= 1, 0 <= lag <= ONLINE_DECODE_MAX_LAG, switch_penalty >= 0,
 * initial_state in 0..n_states-1. */
chordlet_status online_decoder_create(int n_states, int lag, double switch_penalty, int initial_state,
                                      online_decoder **out, chordlet_error *err);
void online_decoder_free(online_decoder *d);

/* Forgets every frame: the next push is frame 0 again. */
CHORDLET_RT void online_decoder_reset(online_decoder *d);

/* probs (n_states): the frame's state probabilities (log-floored like
 * decode.h). Returns 1 and writes the decided state of frame
 * (frames pushed - 1 - lag) and its probability in that frame, or 0 while
 * fewer than lag + 1 frames have been pushed. */
CHORDLET_RT int online_decoder_push(online_decoder *d, const float *probs, int32_t *state, float *prob);

/* After the last push: returns 1 with the next undecided frame's state (the
 * best full path's, as the offline decoder would), 0 when none is left. */
CHORDLET_RT int online_decoder_flush(online_decoder *d, int32_t *state, float *prob);

CHORDLET_RT int online_decoder_lag(const online_decoder *d);

#endif
