/* decode_stream.c: Viterbi and argmax one frame at a time, with the
 * back-pointer tree pruned as paths merge (decode_stream.h). */
#include "decode_stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "error.h"

enum { KIND_VITERBI, KIND_ARGMAX };
enum { NONE = -1 };

/* The path of some state up to frame `last`: its final run [first, last]
 * in `state` (confidence sum `sum`) after the path `parent` (NONE: the run
 * starts at frame 0). refs: the states and nodes that point here. */
typedef struct node {
  size_t first, last;
  double sum;
  int32_t state, parent, refs;
} node;

struct decode_stream {
  int kind;
  size_t n_states, n_terms, n_columns, t;
  int32_t *state_columns; /* (n_states, n_terms) */
  int32_t *sum_columns;   /* (n_states) or NULL */
  double penalty;
  /* Viterbi: per state */
  double *delta, *next; /* (S) scores up to frames t - 1 and t */
  double *run_sum;      /* (S) confidence sum of the current run */
  size_t *run_first;    /* (S) frame the current run began */
  int32_t *head;        /* (S) node of the path before the current run, or NONE */
  /* the node pool: a free list through `parent` */
  node *nodes;
  int32_t n_nodes, cap_nodes, free_list;
  size_t live, peak;
  /* argmax: the current run */
  decode_scored_run run;
  decode_scored_run *runs; /* (cap_runs) finished runs */
  size_t n_runs, cap_runs;
};

static chordlet_status oom(chordlet_error *err) {
  return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "decoder: out of memory");
}

chordlet_status decode_stream_viterbi(const int32_t *state_columns, size_t n_states, size_t n_terms,
                                      size_t n_columns, const int32_t *sum_columns, double switch_penalty,
                                      decode_stream **out, chordlet_error *err) {
  *out = NULL;
  chordlet_status st = decode_check_states(n_columns, state_columns, n_states, n_terms, err);
  if (st) return st;
  decode_stream *d = calloc(1, sizeof *d);
  if (!d) return oom(err);
  d->kind = KIND_VITERBI;
  d->n_states = n_states;
  d->n_terms = n_terms;
  d->n_columns = n_columns;
  d->penalty = switch_penalty;
  d->free_list = NONE;
  d->state_columns = malloc(n_states * n_terms * sizeof *d->state_columns);
  d->sum_columns = sum_columns ? malloc(n_states * sizeof *d->sum_columns) : NULL;
  d->delta = malloc(n_states * sizeof *d->delta);
  d->next = malloc(n_states * sizeof *d->next);
  d->run_sum = malloc(n_states * sizeof *d->run_sum);
  d->run_first = malloc(n_states * sizeof *d->run_first);
  d->head = malloc(n_states * sizeof *d->head);
  if (!d->state_columns || (sum_columns && !d->sum_columns) || !d->delta || !d->next || !d->run_sum ||
      !d->run_first || !d->head) {
    decode_stream_free(d);
    return oom(err);
  }
  memcpy(d->state_columns, state_columns, n_states * n_terms * sizeof *state_columns);
  if (sum_columns) memcpy(d->sum_columns, sum_columns, n_states * sizeof *sum_columns);
  *out = d;
  return CHORDLET_OK;
}

chordlet_status decode_stream_argmax(size_t n_columns, decode_stream **out, chordlet_error *err) {
  *out = NULL;
  if (n_columns == 0 || n_columns > INT32_MAX)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "decoder: %zu columns", n_columns);
  decode_stream *d = calloc(1, sizeof *d);
  if (!d) return oom(err);
  d->kind = KIND_ARGMAX;
  d->n_columns = n_columns;
  *out = d;
  return CHORDLET_OK;
}

void decode_stream_free(decode_stream *d) {
  if (!d) return;
  free(d->state_columns);
  free(d->sum_columns);
  free(d->delta);
  free(d->next);
  free(d->run_sum);
  free(d->run_first);
  free(d->head);
  free(d->nodes);
  free(d->runs);
  free(d);
}

size_t decode_stream_frames(const decode_stream *d) { return d->t; }
size_t decode_stream_peak_nodes(const decode_stream *d) { return d->peak; }

/* ---- the node pool ---------------------------------------------------------------- */

static int32_t node_new(decode_stream *d, chordlet_error *err) {
  int32_t k = d->free_list;
  if (k != NONE) {
    d->free_list = d->nodes[k].parent;
  } else {
    if (d->n_nodes == d->cap_nodes) {
      int32_t cap = d->cap_nodes ? 2 * d->cap_nodes : 256;
      node *grown = d->cap_nodes > INT32_MAX / 2 ? NULL : realloc(d->nodes, (size_t)cap * sizeof *grown);
      if (!grown) {
        oom(err);
        return NONE;
      }
      d->nodes = grown;
      d->cap_nodes = cap;
    }
    k = d->n_nodes++;
  }
  if (++d->live > d->peak) d->peak = d->live;
  return k;
}

/* Drops one reference to k; a node nobody references goes back to the pool
 * and drops its own reference to its parent, and so on up the chain. */
static void node_release(decode_stream *d, int32_t k) {
  while (k != NONE && --d->nodes[k].refs == 0) {
    int32_t parent = d->nodes[k].parent;
    d->nodes[k].parent = d->free_list;
    d->free_list = k;
    d->live--;
    k = parent;
  }
}

/* ---- frames -------------------------------------------------------------------------- */

static double confidence(const decode_stream *d, const float *conf, size_t s) {
  return d->sum_columns && conf ? (double)conf[d->sum_columns[s]] : 0.0;
}

/* decode_viterbi's step for frame t, with its arithmetic and tie rules;
 * only the back-pointers are kept as the tree. */
static chordlet_status viterbi_push(decode_stream *d, const float *p, const float *conf, chordlet_error *err) {
  const size_t S = d->n_states, t = d->t;
  size_t best = 0;
  int32_t jump_node = NONE;
  if (t > 0) {
    for (size_t s = 1; s < S; s++)
      if (d->delta[s] > d->delta[best]) best = s;
    /* The path every state that jumps now takes: best's up to frame t - 1.
     * Made before any state moves; given back below if nothing jumps. */
    if ((jump_node = node_new(d, err)) == NONE) return CHORDLET_ERR_NO_MEMORY;
    node *n = &d->nodes[jump_node];
    *n = (node){d->run_first[best], t - 1, d->run_sum[best], (int32_t)best, d->head[best], 1};
    if (n->parent != NONE) d->nodes[n->parent].refs++;
  }
  for (size_t s = 0; s < S; s++) {
    double obs = 0;
    for (size_t k = 0; k < d->n_terms; k++) {
      int32_t col = d->state_columns[s * d->n_terms + k];
      if (col >= 0) obs += decode_log_floor(p[col]);
    }
    if (t == 0) {
      /* The original decoder starts every song in N (state 0). */
      d->next[s] = s == 0 ? obs : -INFINITY;
      d->run_first[s] = 0;
      d->run_sum[s] = 0.0 + confidence(d, conf, s);
      d->head[s] = NONE;
      continue;
    }
    double stay = d->delta[s], jump = d->delta[best] - d->penalty;
    int stays;
    if (stay > jump) {
      d->next[s] = obs + stay;
      stays = 1;
    } else {
      d->next[s] = obs + jump;
      stays = s == best; /* a jump from itself: the same path */
    }
    if (stays) {
      d->run_sum[s] += confidence(d, conf, s);
    } else {
      int32_t old = d->head[s];
      d->head[s] = jump_node;
      d->nodes[jump_node].refs++;
      node_release(d, old);
      d->run_first[s] = t;
      d->run_sum[s] = 0.0 + confidence(d, conf, s);
    }
  }
  node_release(d, jump_node); /* the creation's own reference */
  double *swap = d->delta;
  d->delta = d->next;
  d->next = swap;
  return CHORDLET_OK;
}

static chordlet_status argmax_push(decode_stream *d, const float *p, const float *conf, chordlet_error *err) {
  size_t best = 0;
  for (size_t c = 1; c < d->n_columns; c++)
    if (p[c] > p[best]) best = c;
  const double c = conf ? (double)conf[best] : 0.0;
  if (d->t > 0 && d->run.state == (int32_t)best) {
    d->run.last = d->t;
    d->run.sum += c;
    return CHORDLET_OK;
  }
  if (d->t > 0) {
    if (d->n_runs == d->cap_runs) {
      size_t cap = d->cap_runs ? 2 * d->cap_runs : 256;
      decode_scored_run *grown = realloc(d->runs, cap * sizeof *grown);
      if (!grown) return oom(err);
      d->runs = grown;
      d->cap_runs = cap;
    }
    d->runs[d->n_runs++] = d->run;
  }
  d->run = (decode_scored_run){d->t, d->t, (int32_t)best, 0.0 + c};
  return CHORDLET_OK;
}

chordlet_status decode_stream_push(decode_stream *d, const float *probs, const float *conf, chordlet_error *err) {
  chordlet_status st = d->kind == KIND_VITERBI ? viterbi_push(d, probs, conf, err) : argmax_push(d, probs, conf, err);
  if (!st) d->t++;
  return st;
}

chordlet_status decode_stream_finish(decode_stream *d, decode_scored_run **runs, size_t *n_runs,
                                     chordlet_error *err) {
  *runs = NULL;
  *n_runs = 0;
  if (d->t == 0) return CHORDLET_OK;
  if (d->kind == KIND_ARGMAX) {
    decode_scored_run *all = realloc(d->runs, (d->n_runs + 1) * sizeof *all);
    if (!all) return oom(err);
    all[d->n_runs] = d->run;
    *runs = all;
    *n_runs = d->n_runs + 1;
    d->runs = NULL;
    d->n_runs = d->cap_runs = 0;
    return CHORDLET_OK;
  }
  size_t s = 0;
  for (size_t k = 1; k < d->n_states; k++)
    if (d->delta[k] > d->delta[s]) s = k;
  size_t n = 1;
  for (int32_t k = d->head[s]; k != NONE; k = d->nodes[k].parent) n++;
  decode_scored_run *all = malloc(n * sizeof *all);
  if (!all) return oom(err);
  size_t i = n - 1;
  all[i] = (decode_scored_run){d->run_first[s], d->t - 1, (int32_t)s, d->run_sum[s]};
  for (int32_t k = d->head[s]; k != NONE; k = d->nodes[k].parent) {
    const node *x = &d->nodes[k];
    all[--i] = (decode_scored_run){x->first, x->last, x->state, x->sum};
  }
  *runs = all;
  *n_runs = n;
  return CHORDLET_OK;
}
