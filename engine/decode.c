/* decode.c: Viterbi and argmax decoding of frame probabilities into runs. */
#include "decode.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"

chordlet_status decode_check_states(size_t n_columns, const int32_t *state_columns, size_t n_states, size_t n_terms,
                                    chordlet_error *err) {
  if (n_states == 0 || n_states > UINT16_MAX || n_terms == 0 || n_terms > DECODE_MAX_TERMS)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "decoder: %zu states of %zu terms", n_states, n_terms);
  for (size_t s = 0; s < n_states * n_terms; s++)
    if (state_columns[s] < -1 || state_columns[s] >= (int32_t)n_columns)
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "decoder: state %zu uses column %d of %zu",
                           s / n_terms, state_columns[s], n_columns);
  return CHORDLET_OK;
}

chordlet_status decode_viterbi(const float *probs, size_t T, size_t n_columns, const int32_t *state_columns,
                               size_t n_states, size_t n_terms, double switch_penalty, int32_t *path,
                               chordlet_error *err) {
  if (T == 0) return CHORDLET_OK;
  chordlet_status st = decode_check_states(n_columns, state_columns, n_states, n_terms, err);
  if (st) return st;
  if (T > SIZE_MAX / n_states / sizeof(uint16_t))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "decoder: %zu frames is too long", T);
  double *delta = malloc(n_states * sizeof *delta);      /* (S) scores up to frame t-1 */
  double *next = malloc(n_states * sizeof *next);        /* (S) scores up to frame t */
  uint16_t *back = malloc(T * n_states * sizeof *back);  /* (T, S) best predecessor */
  if (!delta || !next || !back) {
    free(delta);
    free(next);
    free(back);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "decoder: out of memory for %zu frames", T);
  }
  for (size_t t = 0; t < T; t++) {
    const float *p = probs + t * n_columns;
    size_t best = 0;
    if (t > 0)
      for (size_t s = 1; s < n_states; s++)
        if (delta[s] > delta[best]) best = s;
    for (size_t s = 0; s < n_states; s++) {
      double obs = 0;
      for (size_t k = 0; k < n_terms; k++) {
        int32_t col = state_columns[s * n_terms + k];
        if (col >= 0) obs += decode_log_floor(p[col]);
      }
      if (t == 0) {
        /* The original decoder starts every song in N (state 0). */
        next[s] = s == 0 ? obs : -INFINITY;
        back[s] = (uint16_t)s;
        continue;
      }
      double stay = delta[s], jump = delta[best] - switch_penalty;
      if (stay > jump) {
        next[s] = obs + stay;
        back[t * n_states + s] = (uint16_t)s;
      } else {
        next[s] = obs + jump;
        back[t * n_states + s] = (uint16_t)best;
      }
    }
    double *swap = delta;
    delta = next;
    next = swap;
  }
  size_t s = 0;
  for (size_t k = 1; k < n_states; k++)
    if (delta[k] > delta[s]) s = k;
  for (size_t t = T; t-- > 0;) {
    path[t] = (int32_t)s;
    s = back[t * n_states + s];
  }
  free(delta);
  free(next);
  free(back);
  return CHORDLET_OK;
}

void decode_argmax(const float *probs, size_t T, size_t n_columns, int32_t *path) {
  for (size_t t = 0; t < T; t++) {
    const float *p = probs + t * n_columns;
    size_t best = 0;
    for (size_t c = 1; c < n_columns; c++)
      if (p[c] > p[best]) best = c;
    path[t] = (int32_t)best;
  }
}

size_t decode_runs(const int32_t *path, size_t T, decode_run *runs) {
  size_t n = 0;
  for (size_t t = 0; t < T; t++) {
    if (n > 0 && runs[n - 1].state == path[t]) {
      runs[n - 1].last = t;
    } else {
      runs[n++] = (decode_run){t, t, path[t]};
    }
  }
  return n;
}
