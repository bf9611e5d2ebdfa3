/* student_blocks.c: student_forward over overlapping windows, exact
 * (student_blocks.h). */
#include "student_blocks.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct student_blocks {
  student_config c;
  const float *params;
  student_logits_fn sink;
  void *ctx;
  size_t d, n_classes;
  size_t margin, block, ahead; /* frames a window reaches before and after its block */
  float *frames;    /* (cap, d): frames [first, first + n) of the sequence */
  float *logits;    /* (cap, n_classes) the last window's */
  size_t cap, first, n;
  size_t next_out;  /* the first frame whose logits have not gone out */
};

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

size_t student_blocks_margin(const student_config *c) {
  return (size_t)(c->layers_t + c->layers_d) * (size_t)(c->context - 1);
}

chordlet_status student_blocks_create(const student_config *c, const float *params, size_t block,
                                      student_logits_fn sink, void *ctx, student_blocks **out,
                                      chordlet_error *err) {
  *out = NULL;
  if (!c || !params || !sink)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "student: no config, parameters or sink");
  chordlet_status st = student_config_check(c, err);
  if (st) return st;
  student_blocks *b = calloc(1, sizeof *b);
  if (!b) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "student: out of memory");
  b->c = *c;
  b->params = params;
  b->sink = sink;
  b->ctx = ctx;
  b->d = (size_t)c->n_bins;
  b->n_classes = (size_t)c->n_classes;
  b->margin = round_up(student_blocks_margin(c), STUDENT_FORWARD_ROWS);
  b->block = round_up(block ? block : STUDENT_BLOCK_FRAMES, STUDENT_FORWARD_ROWS);
  /* The look-ahead frames' keys must be the whole sequence's bits too, so
   * they are computed in the same full block of rows as there. */
  b->ahead = round_up((size_t)c->lookahead, STUDENT_FORWARD_ROWS);
  b->cap = b->margin + b->block + b->ahead;
  b->frames = malloc(b->cap * b->d * sizeof *b->frames);
  b->logits = malloc(b->cap * b->n_classes * sizeof *b->logits);
  if (!b->frames || !b->logits) {
    student_blocks_free(b);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "student: out of memory for windows of %zu frames",
                         b->cap);
  }
  *out = b;
  return CHORDLET_OK;
}

void student_blocks_free(student_blocks *b) {
  if (!b) return;
  free(b->frames);
  free(b->logits);
  free(b);
}

/* The window of every frame held, [first, first + n); its logits from
 * next_out up to `upto` go out. Then the frames no later window reaches
 * (before upto - margin) are dropped. */
static chordlet_status run_window(student_blocks *b, size_t upto, chordlet_error *err) {
  if (b->n > INT32_MAX) return chordlet_fail(err, CHORDLET_ERR_RANGE, "student: a window of %zu frames", b->n);
  chordlet_status st = student_forward(&b->c, b->params, b->frames, (int)b->n, b->logits, err);
  if (st) return st;
  const size_t skip = b->next_out - b->first;
  if ((st = b->sink(b->ctx, b->next_out, b->logits + skip * b->n_classes, upto - b->next_out, err))) return st;
  b->next_out = upto;
  const size_t keep_from = upto > b->margin ? upto - b->margin : 0; /* a multiple of STUDENT_FORWARD_ROWS */
  const size_t drop = keep_from - b->first;
  memmove(b->frames, b->frames + drop * b->d, (b->n - drop) * b->d * sizeof *b->frames);
  b->first = keep_from;
  b->n -= drop;
  return CHORDLET_OK;
}

chordlet_status student_blocks_push(student_blocks *b, const float *frames, size_t n, chordlet_error *err) {
  while (n > 0) {
    /* The window for frames [next_out, next_out + block) reaches `ahead` further. */
    const size_t end = b->next_out + b->block + b->ahead;
    size_t take = end - (b->first + b->n);
    if (take > n) take = n;
    memcpy(b->frames + b->n * b->d, frames, take * b->d * sizeof *frames);
    b->n += take;
    frames += take * b->d;
    n -= take;
    if (b->first + b->n == end) {
      chordlet_status st = run_window(b, b->next_out + b->block, err);
      if (st) return st;
    }
  }
  return CHORDLET_OK;
}

chordlet_status student_blocks_finish(student_blocks *b, chordlet_error *err) {
  const size_t total = b->first + b->n;
  if (total <= b->next_out) return CHORDLET_OK;
  return run_window(b, total, err);
}
