/* recognizer_file.c: recognizer_transcribe_file (recognizer.h). The
 * students' path from a file in bounded memory:
 *
 *   [pass 1, --tuning auto] audiofile_stream -> tuning_tracker_push -> estimate
 *   [pass 2] audiofile_stream -> cqt_stream (at the tuning) -> student_blocks
 *            -> softmax -> decode_stream -> runs -> recognizer_segments
 *
 * Each stage is the whole-signal path's own code fed in pieces, and each is
 * exact in pieces (resample_stream.h, stream.h, tuning.h's tracker,
 * student_blocks.h, decode_stream.h), so the result equals
 * audiofile_read + recognizer_transcribe bit for bit (tests/test_recognizer_file.c).
 * The teacher reads the whole file: its network needs the whole song. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiofile.h"
#include "error.h"
#include "recognizer.h"
#include "recognizer_private.h"
#include "stream.h"
#include "student_blocks.h"
#include "vocab.h"

enum { CQT_BLOCK = 4096 }; /* samples fed to the front end at a time */

static void report(const recognizer_options *o, double fraction) {
  if (o && o->progress) o->progress(o->progress_ctx, fraction);
}

/* A pipeline stage failed: name the file, as the caller did for the
 * whole-signal path's errors (the reader's own errors name it already). */
static chordlet_status name_file(chordlet_status st, const char *path, chordlet_error *err) {
  if (st == CHORDLET_OK) return st;
  chordlet_error inner = *err;
  return chordlet_fail(err, st, "%s: %s", path, inner.message);
}

/* ---- progress over a pass ---------------------------------------------------------- */

typedef struct pass_progress {
  const recognizer_options *options;
  size_t declared, done; /* samples the header announces (0: unknown), and seen */
  double from, span;     /* this pass's share of the whole */
  int last;              /* the last per-mille reported */
} pass_progress;

static void advance(pass_progress *p, size_t n) {
  p->done += n;
  if (!p->declared) return;
  double f = (double)p->done / (double)p->declared;
  int permille = (int)(1000 * (f < 1 ? f : 1));
  if (permille == p->last) return;
  p->last = permille;
  report(p->options, p->from + p->span * permille / 1000.0);
}

/* ---- pass 1: the tuning ---------------------------------------------------------------- */

typedef struct tuning_pass {
  tuning_tracker *tracker;
  pass_progress progress;
} tuning_pass;

static chordlet_status feed_tracker(void *ctx, const float *x, size_t n, chordlet_error *err) {
  (void)err;
  tuning_pass *p = ctx;
  tuning_tracker_push(p->tracker, x, n);
  advance(&p->progress, n);
  return CHORDLET_OK;
}

/* tuning_estimate's result for the whole file, read in pieces. */
static chordlet_status estimate_tuning(const recognizer *r, const char *path, const recognizer_options *options,
                                       double share, int *found, double *cents, chordlet_error *err) {
  tuning_pass p = {NULL, {options, 0, 0, 0.0, share, -1}};
  chordlet_status st = tuning_tracker_create(&r->tuning, r->sample_rate, 0.0, &p.tracker, err);
  if (st) return name_file(st, path, err);
  st = audiofile_stream(path, r->sample_rate, feed_tracker, &p, &p.progress.declared, NULL, err);
  if (!st) *found = tuning_tracker_estimate(p.tracker, cents, NULL);
  tuning_tracker_free(p.tracker);
  return st;
}

/* ---- pass 2: front end, network, decoder ----------------------------------------------- */

typedef struct student_pass {
  const recognizer *r;
  const char *path;
  cqt_stream *cqt;
  size_t hop, delay, n_bins, n_samples;
  float *frames;     /* (max_frames, n_bins) the front end's output of one block */
  size_t max_frames, n_frames;
  float *kept;       /* (kept_cap, n_bins) every frame, with keep_features */
  size_t kept_cap;
  int keep;
  student_blocks *net;
  decode_stream *decoder;
  pass_progress progress;
  int stage_failed;  /* an error of ours, not the reader's: name the file */
} student_pass;

/* Logits of frames [first, first + n) -> probabilities -> the decoder. */
static chordlet_status decode_logits(void *ctx, size_t first, const float *logits, size_t n, chordlet_error *err) {
  (void)first;
  student_pass *p = ctx;
  float row[VOCAB_SIZE];
  for (size_t t = 0; t < n; t++) {
    memcpy(row, logits + t * VOCAB_SIZE, sizeof row);
    recognizer_softmax_rows(row, 1, VOCAB_SIZE);
    chordlet_status st = decode_stream_push(p->decoder, row, row, err);
    if (st) return st;
  }
  return CHORDLET_OK;
}

static chordlet_status keep_frames(student_pass *p, const float *frames, size_t n, chordlet_error *err) {
  if (p->n_frames + n > p->kept_cap) {
    size_t cap = p->kept_cap ? 2 * p->kept_cap : 4096;
    while (cap < p->n_frames + n) cap *= 2;
    float *grown = realloc(p->kept, cap * p->n_bins * sizeof *grown);
    if (!grown) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory keeping %zu frames", cap);
    p->kept = grown;
    p->kept_cap = cap;
  }
  memcpy(p->kept + p->n_frames * p->n_bins, frames, n * p->n_bins * sizeof *frames);
  return CHORDLET_OK;
}

/* n samples (x NULL: zeros, the flush) through the front end, block by
 * block; the frames on to the network. */
static chordlet_status front_end(student_pass *p, const float *x, size_t n, chordlet_error *err) {
  while (n > 0) {
    const size_t m = n < CQT_BLOCK ? n : CQT_BLOCK;
    const size_t got = cqt_stream_process(p->cqt, x, m, p->frames, p->max_frames);
    chordlet_status st;
    if (got && p->keep && (st = keep_frames(p, p->frames, got, err))) return st;
    if (got && (st = student_blocks_push(p->net, p->frames, got, err))) return st;
    p->n_frames += got;
    if (x) x += m;
    n -= m;
  }
  return CHORDLET_OK;
}

static chordlet_status feed_front_end(void *ctx, const float *x, size_t n, chordlet_error *err) {
  student_pass *p = ctx;
  chordlet_status st = front_end(p, x, n, err);
  if (st) {
    p->stage_failed = 1;
    return name_file(st, p->path, err);
  }
  p->n_samples += n;
  advance(&p->progress, n);
  return CHORDLET_OK;
}

static void student_pass_free(student_pass *p) {
  cqt_stream_free(p->cqt);
  student_blocks_free(p->net);
  decode_stream_free(p->decoder);
  free(p->frames);
  free(p->kept);
}

/* The file through the front end at `cents`, the network and the decoder;
 * the whole-signal path's checks, in its words. */
static chordlet_status transcribe_student(const recognizer *r, const char *path, const recognizer_options *options,
                                          double cents, double share_before, transcription *out,
                                          chordlet_error *err) {
  student_pass p;
  memset(&p, 0, sizeof p);
  p.r = r;
  p.path = path;
  p.keep = options && options->keep_features;
  p.progress = (pass_progress){options, 0, 0, share_before, 1.0 - share_before, -1};
  p.n_bins = (size_t)r->stream.n_bins;
  cqt_plan *plan = NULL;
  chordlet_status st = cqt_plan_create_tuned(&r->stream, r->sample_rate, cents, cents, cents, &plan, err);
  if (!st) st = cqt_stream_create_shared(plan, &p.cqt, err);
  if (!st) {
    const cqt_layout *L = cqt_plan_layout(plan);
    p.hop = L->hop_samples;
    p.delay = L->delay_samples;
    p.max_frames = cqt_stream_max_frames_per_block(p.cqt, CQT_BLOCK);
    if (!(p.frames = malloc(p.max_frames * p.n_bins * sizeof *p.frames)))
      st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  }
  if (!st)
    st = student_blocks_create(&r->student, r->student_params, options ? options->block_frames : 0, decode_logits, &p,
                               &p.net, err);
  if (!st) {
    if (options && options->decoder == RECOGNIZER_ARGMAX) {
      st = decode_stream_argmax(VOCAB_SIZE, &p.decoder, err);
    } else {
      int32_t sum_columns[VOCAB_SIZE]; /* a state's confidence is its own class's probability */
      for (int s = 0; s < VOCAB_SIZE; s++) sum_columns[s] = r->state_class[s];
      st = decode_stream_viterbi(r->state_columns, r->n_states, N_HEADS, VOCAB_SIZE, sum_columns,
                                 options && options->switch_penalty > 0 ? options->switch_penalty : r->switch_penalty,
                                 &p.decoder, err);
    }
  }
  if (st) {
    student_pass_free(&p);
    cqt_plan_free(plan);
    return name_file(st, path, err);
  }
  st = audiofile_stream(path, r->sample_rate, feed_front_end, &p, &p.progress.declared, NULL, err);
  if (!st) {
    /* The frames of the whole signal: the last one centred on the last hop
     * inside the audio, out once zeros stand for what follows the end. */
    const size_t T = cqt_offline_frame_count(p.n_samples, p.hop);
    if (T == 0 || T > (size_t)1 << 28)
      st = chordlet_fail(err, CHORDLET_ERR_RANGE, "%zu frames: too short or too long to transcribe", T);
    if (!st) st = front_end(&p, NULL, (T - 1) * p.hop + p.delay - p.n_samples, err);
    if (!st && p.n_frames != T)
      st = chordlet_fail(err, CHORDLET_ERR_RANGE, "internal error: %zu frames instead of %zu", p.n_frames, T);
    if (!st) st = student_blocks_finish(p.net, err);
    decode_scored_run *runs = NULL;
    size_t n_runs = 0;
    if (!st) st = decode_stream_finish(p.decoder, &runs, &n_runs, err);
    if (!st) st = recognizer_segments(r, options, runs, n_runs, T, p.n_samples / r->sample_rate, out, err);
    free(runs);
    if (!st && p.keep) {
      out->features = p.kept;
      out->n_bins = r->stream.n_bins;
      p.kept = NULL;
    }
    if (st) st = name_file(st, path, err);
  }
  student_pass_free(&p);
  cqt_plan_free(plan);
  return st;
}

chordlet_status recognizer_transcribe_file(const recognizer *r, const char *path, const recognizer_options *options,
                                           transcription *out, chordlet_error *err) {
  memset(out, 0, sizeof *out);
  chordlet_status st;
  if (!r->is_student) {
    /* The teacher: the whole song in memory (recognizer.h). */
    audio_buffer audio;
    if ((st = audiofile_read(path, r->sample_rate, &audio, err))) return st;
    st = name_file(recognizer_transcribe(r, audio.samples, audio.n_samples, options, out, err), path, err);
    audio_buffer_free(&audio);
    return st;
  }
  report(options, 0);
  const double given_hz = options ? options->tuning_hz : 0.0;
  if (given_hz != 0.0 && !(given_hz >= CHORDLET_TUNING_MIN_HZ && given_hz <= CHORDLET_TUNING_MAX_HZ))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: A4 = %g Hz: the reference must lie within %g..%g Hz", path,
                         given_hz, (double)CHORDLET_TUNING_MIN_HZ, (double)CHORDLET_TUNING_MAX_HZ);
  /* The music's tuning first (a first reading of the file: decoding is a
   * small part of the work), then the front end built there. */
  int found = 0;
  double cents = 0.0, share = 0.0;
  if (given_hz != 0.0) {
    cents = tuning_hz_to_cents(given_hz);
  } else {
    share = 0.1;
    if ((st = estimate_tuning(r, path, options, share, &found, &cents, err))) return st;
  }
  st = transcribe_student(r, path, options, cents, share, out, err);
  if (st) {
    transcription_free(out);
    return st;
  }
  out->tuning_cents = cents;
  out->tuning_estimated = found;
  report(options, 1);
  return CHORDLET_OK;
}
