/* recognizer_file.c: recognizer_transcribe_file (recognizer.h). The
 * students' path from a file in bounded memory:
 *
 *   [pass 1, --tuning auto] audiofile_stream -> tuning_tracker_push -> estimate
 *   [pass 2] audiofile_stream -> cqt_stream (at the tuning) -> student_blocks
 *            -> softmax -> decode_stream -> runs -> recognizer_segments
 *            (with recognizer_options.phases = K: K front ends and networks,
 *            the k-th after k / K of a hop of silence, merged frame by frame
 *            onto the grid of hop / K before the decoder)
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

/* One pass of the student over the audio (K of them with
 * recognizer_options.phases: pass p hears p * hop / K samples of silence
 * first). Its probabilities wait in a queue until the merge takes them in
 * the fused grid's order; the passes are fed the same blocks, so a queue
 * holds at most about one network window (student_blocks.h). */
typedef struct student_pass student_pass;
typedef struct phase_pass {
  student_pass *owner;
  cqt_stream *cqt;
  student_blocks *net;
  size_t n_frames;   /* front-end frames out so far */
  float *queue;      /* (queue_cap, VOCAB_SIZE) probabilities of frames [taken, taken + queued) */
  size_t queue_head, queued, queue_cap, taken;
} phase_pass;

struct student_pass {
  const recognizer *r;
  const char *path;
  int K;
  phase_pass phase[RECOGNIZER_MAX_PHASES];
  size_t hop, shift, delay, n_bins, n_samples;
  float *frames;     /* (max_frames, n_bins) the front end's output of one block */
  size_t max_frames;
  size_t merged;     /* fused-grid frames given to the decoder */
  float *kept;       /* (kept_cap, n_bins) every frame of the first pass, with keep_features */
  size_t kept_cap;
  int keep;
  decode_stream *decoder;
  pass_progress progress;
  int stage_failed;  /* an error of ours, not the reader's: name the file */
};

/* The fused grid in order, as far as the passes' queues reach: frame m is
 * pass p's frame k (phase_grid_frame); a later pass's frames centred
 * before the audio's start (k = 0 of pass p > 0) are left out. (One pass
 * does not queue: decode_logits hands its frames straight on.) */
static chordlet_status merge(student_pass *p, chordlet_error *err) {
  for (;;) {
    int which;
    size_t k;
    phase_grid_frame(p->merged, p->K, &which, &k);
    phase_pass *ph = &p->phase[which];
    while (ph->taken < k && ph->queued > 0) { /* a later pass's first frame: before the audio's start */
      ph->queue_head++;
      ph->queued--;
      ph->taken++;
    }
    if (ph->taken != k || ph->queued == 0) return CHORDLET_OK; /* not out yet */
    const float *row = ph->queue + ph->queue_head * VOCAB_SIZE;
    chordlet_status st = decode_stream_push(p->decoder, row, row, err);
    if (st) return st;
    ph->queue_head++;
    ph->queued--;
    ph->taken++;
    p->merged++;
  }
}

/* Logits of a pass's frames [first, first + n) -> probabilities -> its queue -> the merge. */
static chordlet_status decode_logits(void *ctx, size_t first, const float *logits, size_t n, chordlet_error *err) {
  (void)first;
  phase_pass *ph = ctx;
  if (ph->owner->K == 1) { /* one pass: each frame straight to the decoder, nothing queued */
    float row[VOCAB_SIZE];
    for (size_t t = 0; t < n; t++) {
      memcpy(row, logits + t * VOCAB_SIZE, sizeof row);
      recognizer_softmax_rows(row, 1, VOCAB_SIZE);
      chordlet_status st = decode_stream_push(ph->owner->decoder, row, row, err);
      if (st) return st;
    }
    ph->taken += n;
    ph->owner->merged += n;
    return CHORDLET_OK;
  }
  if (ph->queue_head > 0 && ph->queue_head + ph->queued + n > ph->queue_cap) { /* slide what waits to the front */
    memmove(ph->queue, ph->queue + ph->queue_head * VOCAB_SIZE, ph->queued * VOCAB_SIZE * sizeof *ph->queue);
    ph->queue_head = 0;
  }
  if (ph->queued + n > ph->queue_cap) {
    size_t cap = ph->queue_cap ? 2 * ph->queue_cap : 1024;
    while (cap < ph->queued + n) cap *= 2;
    float *grown = realloc(ph->queue, cap * VOCAB_SIZE * sizeof *grown);
    if (!grown) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for %zu frames", cap);
    ph->queue = grown;
    ph->queue_cap = cap;
  }
  float *dst = ph->queue + (ph->queue_head + ph->queued) * VOCAB_SIZE;
  memcpy(dst, logits, n * VOCAB_SIZE * sizeof *dst);
  recognizer_softmax_rows(dst, n, VOCAB_SIZE);
  ph->queued += n;
  return merge(ph->owner, err);
}

static chordlet_status keep_frames(student_pass *p, const float *frames, size_t n, chordlet_error *err) {
  const size_t have = p->phase[0].n_frames;
  if (have + n > p->kept_cap) {
    size_t cap = p->kept_cap ? 2 * p->kept_cap : 4096;
    while (cap < have + n) cap *= 2;
    float *grown = realloc(p->kept, cap * p->n_bins * sizeof *grown);
    if (!grown) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory keeping %zu frames", cap);
    p->kept = grown;
    p->kept_cap = cap;
  }
  memcpy(p->kept + have * p->n_bins, frames, n * p->n_bins * sizeof *frames);
  return CHORDLET_OK;
}

/* n samples (x NULL: zeros, the flush or a pass's lead-in) through one
 * pass's front end, block by block; the frames on to its network. */
static chordlet_status front_end(student_pass *p, int which, const float *x, size_t n, chordlet_error *err) {
  phase_pass *ph = &p->phase[which];
  while (n > 0) {
    const size_t m = n < CQT_BLOCK ? n : CQT_BLOCK;
    const size_t got = cqt_stream_process(ph->cqt, x, m, p->frames, p->max_frames);
    chordlet_status st;
    if (got && which == 0 && p->keep && (st = keep_frames(p, p->frames, got, err))) return st;
    if (got && (st = student_blocks_push(ph->net, p->frames, got, err))) return st;
    ph->n_frames += got;
    if (x) x += m;
    n -= m;
  }
  return CHORDLET_OK;
}

static chordlet_status feed_front_end(void *ctx, const float *x, size_t n, chordlet_error *err) {
  student_pass *p = ctx;
  chordlet_status st = CHORDLET_OK;
  for (int which = 0; which < p->K && !st; which++) st = front_end(p, which, x, n, err);
  if (st) {
    p->stage_failed = 1;
    return name_file(st, p->path, err);
  }
  p->n_samples += n;
  advance(&p->progress, n);
  return CHORDLET_OK;
}

static void student_pass_free(student_pass *p) {
  for (int which = 0; which < RECOGNIZER_MAX_PHASES; which++) {
    cqt_stream_free(p->phase[which].cqt);
    student_blocks_free(p->phase[which].net);
    free(p->phase[which].queue);
  }
  decode_stream_free(p->decoder);
  free(p->frames);
  free(p->kept);
}

/* The end of the audio: each pass flushed with zeros until its frame centred
 * on the last hop-grid point inside its audio is out, its network finished,
 * and the fused grid merged to its last point inside the audio. */
static chordlet_status finish_passes(student_pass *p, size_t *T, chordlet_error *err) {
  chordlet_status st = CHORDLET_OK;
  for (int which = 0; which < p->K && !st; which++) {
    const size_t heard = p->n_samples + (size_t)which * p->shift;
    const size_t frames = cqt_offline_frame_count(heard, p->hop);
    if (frames == 0 || frames > (size_t)1 << 28)
      return chordlet_fail(err, CHORDLET_ERR_RANGE, "%zu frames: too short or too long to transcribe", frames);
    st = front_end(p, which, NULL, (frames - 1) * p->hop + p->delay - heard, err);
    if (!st && p->phase[which].n_frames != frames)
      st = chordlet_fail(err, CHORDLET_ERR_RANGE, "internal error: %zu frames instead of %zu",
                         p->phase[which].n_frames, frames);
    if (!st) st = student_blocks_finish(p->phase[which].net, err);
  }
  *T = cqt_offline_frame_count(p->n_samples, p->shift);
  if (!st && p->merged != *T)
    st = chordlet_fail(err, CHORDLET_ERR_RANGE, "internal error: %zu fused frames instead of %zu", p->merged, *T);
  return st;
}

/* The file through the front end at `cents`, the network and the decoder
 * (K passes with recognizer_options.phases); the whole-signal path's checks,
 * in its words. */
static chordlet_status transcribe_student(const recognizer *r, const char *path, const recognizer_options *options,
                                          int K, double cents, double share_before, transcription *out,
                                          chordlet_error *err) {
  student_pass p;
  memset(&p, 0, sizeof p);
  p.r = r;
  p.path = path;
  p.K = K;
  p.keep = options && options->keep_features;
  p.progress = (pass_progress){options, 0, 0, share_before, 1.0 - share_before, -1};
  p.n_bins = (size_t)r->stream.n_bins;
  cqt_plan *plan = NULL;
  chordlet_status st = cqt_plan_create_tuned(&r->stream, r->sample_rate, cents, cents, cents, &plan, err);
  for (int which = 0; which < K && !st; which++) {
    p.phase[which].owner = &p;
    st = cqt_stream_create_shared(plan, &p.phase[which].cqt, err);
    if (!st)
      st = student_blocks_create(&r->student, r->student_params, options ? options->block_frames : 0, decode_logits,
                                 &p.phase[which], &p.phase[which].net, err);
  }
  if (!st) {
    const cqt_layout *L = cqt_plan_layout(plan);
    p.hop = L->hop_samples;
    p.shift = p.hop / (size_t)K;
    p.delay = L->delay_samples;
    p.max_frames = cqt_stream_max_frames_per_block(p.phase[0].cqt, CQT_BLOCK);
    if (p.hop != r->hop_samples)
      st = chordlet_fail(err, CHORDLET_ERR_RANGE, "internal error: hop of %zu samples, the model's %zu", p.hop,
                         r->hop_samples);
    else if (!(p.frames = malloc(p.max_frames * p.n_bins * sizeof *p.frames)))
      st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  }
  if (!st) {
    if (options && options->decoder == RECOGNIZER_ARGMAX) {
      st = decode_stream_argmax(VOCAB_SIZE, &p.decoder, err);
    } else {
      int32_t sum_columns[VOCAB_SIZE]; /* a state's confidence is its own class's probability */
      for (int s = 0; s < VOCAB_SIZE; s++) sum_columns[s] = r->state_class[s];
      const double penalty = options && options->switch_penalty > 0 ? options->switch_penalty : r->switch_penalty;
      st = decode_stream_viterbi(r->state_columns, r->n_states, N_HEADS, VOCAB_SIZE, sum_columns, K * penalty,
                                 &p.decoder, err);
    }
  }
  /* Each later pass hears its share of a hop of silence before the audio. */
  for (int which = 1; which < K && !st; which++) st = front_end(&p, which, NULL, (size_t)which * p.shift, err);
  if (st) {
    student_pass_free(&p);
    cqt_plan_free(plan);
    return name_file(st, path, err);
  }
  st = audiofile_stream(path, r->sample_rate, feed_front_end, &p, &p.progress.declared, NULL, err);
  if (!st) {
    size_t T = 0;
    st = finish_passes(&p, &T, err);
    decode_scored_run *runs = NULL;
    size_t n_runs = 0;
    if (!st) st = decode_stream_finish(p.decoder, &runs, &n_runs, err);
    if (!st) st = recognizer_segments(r, options, runs, n_runs, T, p.n_samples / r->sample_rate, out, err);
    free(runs);
    if (!st && p.keep) {
      out->features = p.kept;
      out->feature_frames = p.phase[0].n_frames;
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
  int K = 1;
  if ((st = recognizer_phases(r, options, &K, err))) return st;
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
  st = transcribe_student(r, path, options, K, cents, share, out, err);
  if (st) {
    transcription_free(out);
    return st;
  }
  out->tuning_cents = cents;
  out->tuning_estimated = found;
  report(options, 1);
  return CHORDLET_OK;
}
