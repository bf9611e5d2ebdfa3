/* online_decode.c: fixed-lag Viterbi (see online_decode.h). */
#include "online_decode.h"

#include <math.h>
#include <stdlib.h>

#include "decode.h"
#include "error.h"

struct online_decoder {
  int n_states, lag, initial_state;
  double switch_penalty;
  int ring;              /* lag + 1: frames of history kept */
  double *delta;         /* (n_states) best log score of a path ending in each state at the newest frame */
  double *next;          /* (n_states) scratch for the next frame's scores */
  uint16_t *back;        /* (ring, n_states) best predecessor, by frame mod ring */
  float *probs;          /* (ring, n_states) the frames' probabilities, by frame mod ring */
  int32_t *tail;         /* (ring) flush: the best path's last frames */
  uint64_t pushed;       /* frames pushed since create/reset */
  uint64_t decided;      /* frames handed out (push or flush) */
  int tail_ready;        /* flush has traced the tail */
};

static double log_floor(float p) { return log(p > DECODE_LOG_FLOOR ? (double)p : DECODE_LOG_FLOOR); }

chordlet_status online_decoder_create(int n_states, int lag, double switch_penalty, int initial_state,
                                      online_decoder **out, chordlet_error *err) {
  *out = NULL;
  if (n_states < 1 || n_states > ONLINE_DECODE_MAX_STATES || lag < 0 || lag > ONLINE_DECODE_MAX_LAG ||
      !(switch_penalty >= 0 && switch_penalty < 1e6) || initial_state < 0 || initial_state >= n_states)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "online decoder: %d states, lag %d (0..%d), switch penalty %g, initial state %d", n_states,
                         lag, ONLINE_DECODE_MAX_LAG, switch_penalty, initial_state);
  online_decoder *d = calloc(1, sizeof *d);
  if (!d) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "online decoder: out of memory");
  d->n_states = n_states;
  d->lag = lag;
  d->initial_state = initial_state;
  d->switch_penalty = switch_penalty;
  d->ring = lag + 1;
  size_t S = (size_t)n_states, R = (size_t)d->ring;
  d->delta = malloc(S * sizeof *d->delta);
  d->next = malloc(S * sizeof *d->next);
  d->back = malloc(R * S * sizeof *d->back);
  d->probs = malloc(R * S * sizeof *d->probs);
  d->tail = malloc(R * sizeof *d->tail);
  if (!d->delta || !d->next || !d->back || !d->probs || !d->tail) {
    online_decoder_free(d);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "online decoder: out of memory");
  }
  online_decoder_reset(d);
  *out = d;
  return CHORDLET_OK;
}

void online_decoder_free(online_decoder *d) {
  if (!d) return;
  free(d->delta);
  free(d->next);
  free(d->back);
  free(d->probs);
  free(d->tail);
  free(d);
}

void online_decoder_reset(online_decoder *d) {
  d->pushed = d->decided = 0;
  d->tail_ready = 0;
}

int online_decoder_lag(const online_decoder *d) { return d->lag; }

static int best_state(const double *delta, int n) {
  int best = 0;
  for (int s = 1; s < n; s++)
    if (delta[s] > delta[best]) best = s;
  return best;
}

/* The state at frame `target` on the best path into state `state` at the
 * newest frame (pushed - 1), following back-pointers. */
static int32_t trace(const online_decoder *d, int32_t state, uint64_t target) {
  for (uint64_t t = d->pushed - 1; t > target; t--)
    state = d->back[(size_t)(t % (uint64_t)d->ring) * (size_t)d->n_states + (size_t)state];
  return state;
}

int online_decoder_push(online_decoder *d, const float *probs, int32_t *state, float *prob) {
  const int S = d->n_states;
  const uint64_t t = d->pushed;
  const size_t row = (size_t)(t % (uint64_t)d->ring) * (size_t)S;
  uint16_t *back = d->back + row;
  for (int s = 0; s < S; s++) d->probs[row + (size_t)s] = probs[s];
  if (t == 0) {
    for (int s = 0; s < S; s++) {
      d->next[s] = s == d->initial_state ? log_floor(probs[s]) : -INFINITY;
      back[s] = (uint16_t)s;
    }
  } else {
    int best = best_state(d->delta, S);
    double jump = d->delta[best] - d->switch_penalty;
    for (int s = 0; s < S; s++) {
      double stay = d->delta[s];
      if (stay > jump) {
        d->next[s] = log_floor(probs[s]) + stay;
        back[s] = (uint16_t)s;
      } else {
        d->next[s] = log_floor(probs[s]) + jump;
        back[s] = (uint16_t)best;
      }
    }
  }
  /* Keep the scores near 0: only their differences matter, and a long
   * session would otherwise lose precision to an ever-growing sum. */
  double top = d->next[best_state(d->next, S)];
  for (int s = 0; s < S; s++) d->delta[s] = d->next[s] - top;
  d->pushed = t + 1;
  d->tail_ready = 0;
  if (t < (uint64_t)d->lag) return 0;
  uint64_t target = t - (uint64_t)d->lag;
  int32_t s = trace(d, (int32_t)best_state(d->delta, S), target);
  *state = s;
  *prob = d->probs[(size_t)(target % (uint64_t)d->ring) * (size_t)S + (size_t)s];
  d->decided = target + 1;
  return 1;
}

int online_decoder_flush(online_decoder *d, int32_t *state, float *prob) {
  if (d->decided >= d->pushed) return 0;
  const int S = d->n_states;
  if (!d->tail_ready) {
    /* The best full path's last frames, newest first along the pointers. */
    int32_t s = (int32_t)best_state(d->delta, S);
    for (uint64_t t = d->pushed - 1;; t--) {
      d->tail[t % (uint64_t)d->ring] = s;
      if (t == d->decided) break;
      s = d->back[(size_t)(t % (uint64_t)d->ring) * (size_t)S + (size_t)s];
    }
    d->tail_ready = 1;
  }
  uint64_t t = d->decided++;
  *state = d->tail[t % (uint64_t)d->ring];
  *prob = d->probs[(size_t)(t % (uint64_t)d->ring) * (size_t)S + (size_t)*state];
  return 1;
}
