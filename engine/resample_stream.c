/* resample_stream.c: audio_resample in pieces, bit for bit (resample_stream.h). */
#define _POSIX_C_SOURCE 200809L
#include "resample_stream.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "error.h"

enum {
  OUT_BLOCK = 1 << 16,  /* room soxr may fill per call, on top of what waits (floats) */
  ZERO_BLOCK = 4096,    /* librosa's padding is handed on in blocks of this */
};

struct resample_stream {
  double in_rate, out_rate;
  soxr_t soxr;         /* NULL: equal rates, samples pass through */
  audio_sink_fn sink;
  void *ctx;
  float *chunk;        /* (chunk_len) python-soxr's input chunk being filled */
  size_t chunk_len, chunk_fill;
  float *out;          /* (out_cap) soxr's output not yet handed on, from index `handed` */
  size_t out_cap, held;
  size_t n_in;         /* input samples seen */
  size_t produced;     /* output samples soxr has made */
  size_t handed;       /* output samples given to the sink */
};

/* librosa's length, ceil(n * (out / in)), and python-soxr's buffer,
 * ceil(n * out / in), as numpy computes them (double; exact for n < 2^53). */
static size_t librosa_length(const resample_stream *r, size_t n) {
  return (size_t)ceil((double)n * (r->out_rate / r->in_rate));
}
static size_t soxr_length(const resample_stream *r, size_t n) {
  return (size_t)ceil((double)n * r->out_rate / r->in_rate);
}

chordlet_status resample_stream_create(double in_rate, double out_rate, audio_sink_fn sink, void *ctx,
                                       resample_stream **out, chordlet_error *err) {
  if (!out || !sink) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "resample: no sink");
  *out = NULL;
  if (!isfinite(in_rate) || !isfinite(out_rate) || in_rate <= 0 || out_rate <= 0)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "resample: sample rates must be finite and positive (got %g -> %g)", in_rate, out_rate);
  resample_stream *r = calloc(1, sizeof *r);
  if (!r) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "resample: out of memory");
  r->in_rate = in_rate;
  r->out_rate = out_rate;
  r->sink = sink;
  r->ctx = ctx;
  if (in_rate == out_rate) {
    *out = r;
    return CHORDLET_OK;
  }
  /* python-soxr's chunk: int(48000 * in_rate / out_rate), at least 1. */
  double chunk_d = floor(48000.0 * in_rate / out_rate);
  r->chunk_len = chunk_d < 1 ? 1 : chunk_d > 1e9 ? (size_t)1e9 : (size_t)chunk_d;
  r->out_cap = 2 * OUT_BLOCK;
  r->chunk = malloc(r->chunk_len * sizeof *r->chunk);
  r->out = malloc(r->out_cap * sizeof *r->out);
  if (!r->chunk || !r->out) {
    resample_stream_free(r);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "resample: out of memory (%zu samples)", r->chunk_len);
  }
  soxr_error_t serr = NULL;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  r->soxr = soxr_create(in_rate, out_rate, 1, &serr, &io, &q, NULL);
  if (!r->soxr || serr) {
    resample_stream_free(r);
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "resample %g -> %g: libsoxr: %s", in_rate, out_rate,
                         serr ? serr : "cannot create the resampler");
  }
  *out = r;
  return CHORDLET_OK;
}

void resample_stream_free(resample_stream *r) {
  if (!r) return;
  if (r->soxr) soxr_delete(r->soxr);
  free(r->chunk);
  free(r->out);
  free(r);
}

/* Hands on the held output below `limit` (an output index), checked finite
 * as audio_resample checks what soxr wrote, and keeps the rest. */
static chordlet_status hand_on(resample_stream *r, size_t limit, chordlet_error *err) {
  if (limit <= r->handed) return CHORDLET_OK;
  size_t n = limit - r->handed;
  if (n > r->held) n = r->held;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(r->out[i]))
      return chordlet_fail(err, CHORDLET_ERR_RANGE,
                           "resample: output sample %zu is not finite (input values too large)", r->handed + i);
  if (n == 0) return CHORDLET_OK;
  chordlet_status st = r->sink(r->ctx, r->out, n, err);
  if (st) return st;
  r->handed += n;
  r->held -= n;
  memmove(r->out, r->out + n, r->held * sizeof *r->out);
  return CHORDLET_OK;
}

/* One soxr_process call as python-soxr makes it (in == NULL: the flush),
 * then calls without input until soxr has nothing more ready. */
static chordlet_status run_soxr(resample_stream *r, const float *in, size_t n, chordlet_error *err) {
  for (int first = 1;; first = 0) {
    if (r->out_cap - r->held < OUT_BLOCK) { /* the held tail grew: make room */
      float *grown = realloc(r->out, (r->out_cap * 2) * sizeof *grown);
      if (!grown) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "resample: out of memory");
      r->out = grown;
      r->out_cap *= 2;
    }
    const size_t room = r->out_cap - r->held;
    size_t done = 0;
    /* After the first call: no new input (a non-NULL pointer with length 0;
     * NULL would ask for a flush, and soxr remembers a flush anyway). */
    const float *feed = first ? in : r->chunk;
    soxr_error_t serr = soxr_process(r->soxr, feed, first ? n : 0, NULL, r->out + r->held, room, &done);
    if (serr)
      return chordlet_fail(err, CHORDLET_ERR_IO, "resample %g -> %g: libsoxr: %s", r->in_rate, r->out_rate, serr);
    r->held += done;
    r->produced += done;
    if (done < room) return CHORDLET_OK;
  }
}

chordlet_status resample_stream_push(resample_stream *r, const float *x, size_t n, chordlet_error *err) {
  if (n > 0 && !x) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "resample: no input");
  if (!r->soxr) {
    r->n_in += n;
    r->handed += n;
    return n ? r->sink(r->ctx, x, n, err) : CHORDLET_OK;
  }
  chordlet_status st = CHORDLET_OK;
  while (n > 0) {
    if (r->chunk_fill == r->chunk_len) { /* more input follows: this chunk is not the last */
      if ((st = run_soxr(r, r->chunk, r->chunk_len, err))) return st;
      r->chunk_fill = 0;
      /* Every index below the length the input seen so far gives is final. */
      const size_t a = librosa_length(r, r->n_in), b = soxr_length(r, r->n_in);
      if ((st = hand_on(r, a < b ? a : b, err))) return st;
    }
    size_t take = r->chunk_len - r->chunk_fill < n ? r->chunk_len - r->chunk_fill : n;
    memcpy(r->chunk + r->chunk_fill, x, take * sizeof *x);
    r->chunk_fill += take;
    r->n_in += take;
    x += take;
    n -= take;
  }
  return CHORDLET_OK;
}

chordlet_status resample_stream_finish(resample_stream *r, size_t *total, chordlet_error *err) {
  chordlet_status st = CHORDLET_OK;
  const size_t want = r->soxr ? librosa_length(r, r->n_in) : r->n_in;
  if (r->soxr) {
    if (r->chunk_fill > 0 && (st = run_soxr(r, r->chunk, r->chunk_fill, err))) return st;
    r->chunk_fill = 0;
    const size_t olen = soxr_length(r, r->n_in);
    if (r->n_in > 0 && (st = run_soxr(r, NULL, 0, err))) return st;
    /* python-soxr keeps olen samples; audio_resample checks those, then
     * librosa cuts or pads to want. */
    const size_t kept = r->produced < olen ? r->produced : olen;
    for (size_t i = r->handed; i < kept; i++)
      if (!isfinite(r->out[i - r->handed]))
        return chordlet_fail(err, CHORDLET_ERR_RANGE,
                             "resample: output sample %zu is not finite (input values too large)", i);
    if ((st = hand_on(r, kept < want ? kept : want, err))) return st;
    static const float zeros[ZERO_BLOCK];
    while (r->handed < want) {
      size_t n = want - r->handed < ZERO_BLOCK ? want - r->handed : ZERO_BLOCK;
      if ((st = r->sink(r->ctx, zeros, n, err))) return st;
      r->handed += n;
    }
  }
  if (total) *total = want;
  return CHORDLET_OK;
}
