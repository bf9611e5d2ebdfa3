/*
 * live.c: the public streaming recogniser of chordlet.h (chordlet_model_*,
 * chordlet_stream_*): the streaming CQT on the audio thread, the student and
 * the fixed-lag smoother on a worker, two lock-free rings between them.
 *
 *   process() ── frame ring ──► work(): student_stream_push ──► softmax
 *   (audio)     (frames + index,        ──► online_decoder_push ──► changes
 *                generation)                  ── event ring ──► next_event()
 *
 * A model whose hop is coarser than the live grid (the file-mode student's
 * 60 ms) runs in K phases (stream_phases): the front end makes frames on a
 * grid K times finer, and fine frame m goes to network (K - m mod K) mod K,
 * so each of the K networks hears the model's own hop, a K-th of it apart,
 * and their outputs, which come out in the fine grid's order, are decoded
 * there at K times the switch penalty. It is chordlet transcribe --phases K
 * on a stream: where a change falls on the model's grid no longer decides
 * whether a short chord is heard (docs/RESULTS.md 4.6).
 *
 * Reset from the audio thread cannot touch the worker's state (it may be
 * mid-inference), so it bumps a generation counter: frames carry the
 * generation they were made in, the worker restarts its network and smoother
 * on the first frame of a new generation, and the reader drops events of an
 * old one. A gap in frame indices (the ring overflowed) restarts them too:
 * the network's cached keys would otherwise join audio that is not adjacent.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chordlet.h"
#include "cqt.h"
#include "denormals.h"
#include "error.h"
#include "model_keys.h"
#include "modelfile.h"
#include "online_decode.h"
#include "phase_grid.h"
#include "spsc.h"
#include "stream.h"
#include "student.h"
#include "tuning.h"
#include "vocab.h"

enum {
  FRAME_RING = 256, /* frames the worker may fall behind: 5.12 s at 20 ms hops */
  TAP_SLOT = 256,   /* samples a slot of the tuning tracker's audio ring holds */
  EVENT_RING = 256, /* chord changes the reader may fall behind */
  MAX_SMOOTHING = 50,
};

/* The grid a coarser model's phases decode on: the live students' hop. */
#define PHASE_GRID_SECONDS 0.02

/* In auto mode the front end follows the estimate (in [-50, 50) cents, a
 * semitone's worth) to the representative nearest its current tuning, as
 * long as that stays within +-AUTO_LIMIT_CENTS: music at +49 cents whose
 * estimate wobbles to -50 keeps its front end at +50 rather than jumping a
 * semitone (which would rename every chord). */
#define AUTO_LIMIT_CENTS 60.0

struct chordlet_model {
  char *name;
  cqt_params front_end;
  tuning_params tuning;
  student_config net;
  float *params;         /* (student_layout's n_floats) */
  double switch_penalty; /* the decoder's, tuned offline */
};

/* ------------------------------------------------------------------ models */

chordlet_status chordlet_model_load(const char *path, chordlet_model **out, chordlet_error *err) {
  if (!out || !path) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no model path");
  *out = NULL;
  model_file *m = NULL;
  chordlet_model *model = calloc(1, sizeof *model);
  if (!model) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  const char *arch = NULL, *name = NULL, *kind = NULL;
  chordlet_status st = model_file_load(path, &m, err);
  if (!st) st = model_file_get_str(m, MK_ARCHITECTURE, &arch, err);
  if (!st) st = model_file_get_str(m, MK_NAME, &name, err);
  if (!st && strcmp(arch, ARCH_STUDENT_2E1D) != 0)
    st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                       "%s: a '%s' model cannot run live (only a streaming student, architecture '%s', can); "
                       "use it offline with chordlet transcribe",
                       path, arch, ARCH_STUDENT_2E1D);
  if (!st) st = student_config_read(m, &model->net, err);
  if (!st) st = cqt_params_read(m, &model->front_end, err);
  if (!st) st = tuning_params_read(m, &model->tuning, err);
  if (!st && (model->front_end.n_bins != model->net.n_bins || model->net.n_classes != VOCAB_SIZE))
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: the front end's %d bins or the %d classes do not fit the student",
                       path, model->front_end.n_bins, model->net.n_classes);
  if (!st) st = model_file_get_str(m, MK_DECODER_KIND, &kind, err);
  if (!st) st = model_file_get_f64(m, MK_DECODER_PENALTY, &model->switch_penalty, err);
  if (!st && (strcmp(kind, "viterbi") != 0 || !(model->switch_penalty >= 0 && model->switch_penalty < 1e6)))
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: decoder '%s' with penalty %g is not one chordlet runs", path,
                       kind, model->switch_penalty);
  if (!st) st = student_check_params(m, &model->net, err); /* before allocating what it claims */
  if (!st) {
    size_t n_floats = 0;
    student_layout(&model->net, NULL, &n_floats);
    model->params = malloc(n_floats * sizeof *model->params);
    model->name = strdup(name);
    if (!model->params || !model->name) st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  }
  if (!st) st = student_read_params(m, &model->net, model->params, err);
  model_file_free(m);
  if (st) {
    chordlet_model_free(model);
    return st;
  }
  *out = model;
  return CHORDLET_OK;
}

void chordlet_model_free(chordlet_model *model) {
  if (!model) return;
  free(model->params);
  free(model->name);
  free(model);
}

const char *chordlet_model_name(const chordlet_model *model) { return model ? model->name : ""; }

double chordlet_model_hop_seconds(const chordlet_model *model) { return model ? model->front_end.hop_seconds : 0.0; }

double chordlet_model_lookahead_seconds(const chordlet_model *model) {
  return model ? model->net.lookahead * model->front_end.hop_seconds : 0.0;
}

/* ----------------------------------------------------------------- streams */

typedef struct frame_header {
  uint64_t index;      /* hop index since creation/reset */
  uint32_t generation; /* resets before it */
  float tuning_cents;  /* the front end's tuning when the frame left it */
} frame_header; /* followed by n_bins floats */

/* Audio for the tuning tracker, audio thread -> worker: full slots of
 * TAP_SLOT samples (the audio thread fills the slot at the write position
 * across calls and commits it when full), each saying whether audio was
 * lost before it. */
typedef struct tap_slot {
  uint32_t gap_before; /* 1: the ring was full and audio before this slot was dropped */
  uint32_t generation; /* resets before its first sample */
  float x[TAP_SLOT];
} tap_slot;

typedef struct event_slot {
  chordlet_event event;
  uint32_t generation;
} event_slot;

struct chordlet_stream {
  const chordlet_model *model;
  chordlet_stream_options options;
  double sample_rate, hop_seconds, delay_seconds; /* hop: the fine grid's, the model's / phases */
  int n_bins, lookahead; /* lookahead: each network's, in the model's frames */
  int phases;            /* K networks a K-th of the model's hop apart (1: the model's own grid) */
  size_t max_block;

  /* audio thread */
  cqt_stream *cqt;
  float *mono;        /* (max_block) the mixdown */
  float *frames;      /* (max_frames, n_bins) frames one block completes */
  size_t max_frames;  /* cqt_stream_max_frames_per_block(max_block) */
  uint64_t next_index;
  size_t tap_fill;  /* samples in the tap slot being filled */
  uint32_t tap_gap; /* audio was dropped since the last committed slot */

  /* worker thread */
  student_stream *net[PHASE_GRID_MAX]; /* phase p's network */
  online_decoder *smoother;        /* on the fine grid */
  float *probs;          /* (170) */
  uint32_t generation_seen;
  uint64_t expected_index; /* the index the next frame should have */
  uint64_t base_index;     /* the index of the networks' fine frame 0 */
  int on_display;          /* the chord last reported, -1 before the first */

  /* worker thread: the tuning (tuning.h, stream.h's hand-over) */
  tuning_tracker *tracker;
  cqt_kernels *spare[2]; /* sets the worker builds; the plan's own is the first in use */
  double front_cents;    /* the tuning last handed to the front end */
  double start_cents;    /* the plan's own set's: where a new or reset stream starts */
  uint32_t tap_generation; /* the generation of the audio the tracker has heard */

  /* between them */
  spsc_ring frame_ring, event_ring, tap_ring;
  size_t tap_slots;
  void *frame_storage, *event_storage, *tap_storage;
  _Atomic uint32_t generation;
  _Atomic unsigned long long frames_dropped, events_dropped;
  _Atomic double tuning_request_hz; /* 0: follow the music; else a fixed A4 (any thread writes) */
  _Atomic float min_confidence;     /* options.min_confidence, movable while running (any thread writes) */
  _Atomic double tuning_now_cents;  /* the front end's tuning, published by the audio thread */
};

void chordlet_stream_options_default(chordlet_stream_options *o) {
  o->smoothing_frames = 4;
  o->switch_penalty = 0;
  o->min_confidence = 0;
  o->tuning_hz = 0;
  o->max_lookahead_seconds = CHORDLET_LIVE_LOOKAHEAD_SECONDS;
}

static bool tuning_hz_valid(double hz) {
  return hz == 0.0 || (hz >= CHORDLET_TUNING_MIN_HZ && hz <= CHORDLET_TUNING_MAX_HZ);
}

/* Slots for about 1.5 s of audio at the rate (a power of two): the worker
 * runs every few blocks; a slower one makes the tracker skip audio. */
static size_t tap_capacity(double rate) {
  size_t want = (size_t)(1.5 * rate / TAP_SLOT) + 1, cap = 16;
  while (cap < want) cap <<= 1;
  return cap;
}

static size_t frame_slot_bytes(int n_bins) {
  size_t bytes = sizeof(frame_header) + (size_t)n_bins * sizeof(float);
  return (bytes + 63) & ~(size_t)63; /* whole cache lines */
}

/* The front end on the finest grid the model's hop allows: K = hop / 20 ms
 * phases, at most PHASE_GRID_MAX (1 for a live model), fewer where the rate
 * cannot put the finer hop on whole samples (cqt_plan_create's check). */
static chordlet_status front_end_create(chordlet_stream *s, const cqt_params *model_front, double sample_rate,
                                        chordlet_error *err) {
  const double min_cents = tuning_hz_to_cents(CHORDLET_TUNING_MIN_HZ) - 0.5,
               max_cents = tuning_hz_to_cents(CHORDLET_TUNING_MAX_HZ) + 0.5;
  int K = (int)floor(model_front->hop_seconds / PHASE_GRID_SECONDS + 1e-9);
  K = K < 1 ? 1 : K > PHASE_GRID_MAX ? PHASE_GRID_MAX : K;
  for (;; K--) {
    cqt_params fine = *model_front;
    fine.hop_seconds = model_front->hop_seconds / K;
    /* One plan sized for every tuning a user may set. */
    chordlet_status st = cqt_stream_create_tuned(&fine, sample_rate, s->front_cents, min_cents, max_cents, &s->cqt, err);
    if (st != CHORDLET_ERR_RANGE || K == 1) {
      s->phases = K;
      return st;
    }
  }
}

chordlet_status chordlet_stream_create(const chordlet_model *model, double sample_rate, size_t max_block,
                                       const chordlet_stream_options *options, chordlet_stream **out,
                                       chordlet_error *err) {
  if (!out) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no stream to create");
  *out = NULL;
  if (!model) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no model");
  if (!(sample_rate >= 8000 && sample_rate <= 384000))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "sample rate %g Hz is outside 8000..384000", sample_rate);
  if (max_block < 1 || max_block > (1u << 20))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "maximum block of %zu frames is outside 1..1048576", max_block);
  chordlet_stream_options o;
  chordlet_stream_options_default(&o);
  if (options) o = *options;
  if (o.smoothing_frames < 0 || o.smoothing_frames > MAX_SMOOTHING)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "smoothing of %d frames is outside 0..%d", o.smoothing_frames,
                         MAX_SMOOTHING);
  if (!(o.switch_penalty < 1e6) || !(o.min_confidence >= 0 && o.min_confidence <= 1))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "switch penalty %g or minimum confidence %g is out of range",
                         o.switch_penalty, (double)o.min_confidence);
  if (!tuning_hz_valid(o.tuning_hz))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "A4 = %g Hz: the reference must lie within %g..%g Hz (or 0: follow the music)",
                         o.tuning_hz, (double)CHORDLET_TUNING_MIN_HZ, (double)CHORDLET_TUNING_MAX_HZ);
  if (!(o.max_lookahead_seconds >= 0 && o.max_lookahead_seconds <= CHORDLET_MAX_LOOKAHEAD_SECONDS))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "a lookahead of %g s is outside 0..%g s", o.max_lookahead_seconds,
                         CHORDLET_MAX_LOOKAHEAD_SECONDS);
  const double ahead = chordlet_model_lookahead_seconds(model);
  if (ahead > o.max_lookahead_seconds + 1e-9)
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "model '%s' is a file-mode student: it looks %d frames = %.2f s ahead, and this stream "
                         "allows %.2f s (live models look at most %.2f s ahead); use it offline with chordlet "
                         "transcribe, or where that latency is compensated",
                         model->name, model->net.lookahead, ahead, o.max_lookahead_seconds,
                         CHORDLET_LIVE_LOOKAHEAD_SECONDS);

  chordlet_stream *s = calloc(1, sizeof *s);
  if (!s) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  s->model = model;
  s->options = o;
  s->sample_rate = sample_rate;
  s->max_block = max_block;
  s->n_bins = model->front_end.n_bins;
  s->on_display = -1;
  /* The front end starts at the fixed tuning, or at A440 until the music
   * says otherwise. */
  s->front_cents = o.tuning_hz > 0 ? tuning_hz_to_cents(o.tuning_hz) : 0.0;
  s->start_cents = s->front_cents;
  chordlet_status st = front_end_create(s, &model->front_end, sample_rate, err);
  for (int i = 0; !st && i < 2; i++) st = cqt_kernels_create(cqt_stream_plan(s->cqt), &s->spare[i], err);
  if (!st) st = tuning_tracker_create(&model->tuning, sample_rate, model->tuning.memory_seconds, &s->tracker, err);
  for (int p = 0; !st && p < s->phases; p++) st = student_stream_create(&model->net, model->params, &s->net[p], err);
  /* On the fine grid: the lag in the model's frames, and the penalty
   * scaled as chordlet transcribe --phases scales it (K frames per frame). */
  if (!st)
    st = online_decoder_create(VOCAB_SIZE, s->phases * o.smoothing_frames,
                               s->phases * (o.switch_penalty > 0 ? o.switch_penalty : model->switch_penalty), VOCAB_N,
                               &s->smoother, err);
  if (!st) {
    s->hop_seconds = cqt_stream_hop_seconds(s->cqt);
    s->delay_seconds = cqt_stream_delay_seconds(s->cqt);
    s->lookahead = student_stream_lookahead(s->net[0]);
    s->max_frames = cqt_stream_max_frames_per_block(s->cqt, max_block);
    s->mono = malloc(max_block * sizeof *s->mono);
    s->frames = malloc(s->max_frames * (size_t)s->n_bins * sizeof *s->frames);
    s->probs = malloc(VOCAB_SIZE * sizeof *s->probs);
    s->frame_storage = aligned_alloc(64, FRAME_RING * frame_slot_bytes(s->n_bins));
    s->event_storage = aligned_alloc(64, EVENT_RING * sizeof(event_slot));
    s->tap_slots = tap_capacity(sample_rate);
    s->tap_storage = aligned_alloc(64, s->tap_slots * sizeof(tap_slot));
    if (!s->mono || !s->frames || !s->probs || !s->frame_storage || !s->event_storage || !s->tap_storage ||
        spsc_init(&s->frame_ring, s->frame_storage, FRAME_RING, frame_slot_bytes(s->n_bins)) ||
        spsc_init(&s->event_ring, s->event_storage, EVENT_RING, sizeof(event_slot)) ||
        spsc_init(&s->tap_ring, s->tap_storage, s->tap_slots, sizeof(tap_slot)))
      st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for a stream");
  }
  if (st) {
    chordlet_stream_free(s);
    return st;
  }
  /* Touch every page now, so the audio thread's first writes fault nothing. */
  memset(s->mono, 0, max_block * sizeof *s->mono);
  memset(s->frames, 0, s->max_frames * (size_t)s->n_bins * sizeof *s->frames);
  memset(s->frame_storage, 0, FRAME_RING * frame_slot_bytes(s->n_bins));
  memset(s->event_storage, 0, EVENT_RING * sizeof(event_slot));
  memset(s->tap_storage, 0, s->tap_slots * sizeof(tap_slot));
  atomic_init(&s->generation, 0);
  atomic_init(&s->tuning_request_hz, o.tuning_hz);
  atomic_init(&s->min_confidence, o.min_confidence);
  atomic_init(&s->tuning_now_cents, s->front_cents);
  atomic_init(&s->frames_dropped, 0);
  atomic_init(&s->events_dropped, 0);
  *out = s;
  return CHORDLET_OK;
}

void chordlet_stream_free(chordlet_stream *s) {
  if (!s) return;
  cqt_kernels_free(s->spare[0]); /* the sets before their plan (the stream's) */
  cqt_kernels_free(s->spare[1]);
  cqt_stream_free(s->cqt);
  tuning_tracker_free(s->tracker);
  free(s->tap_storage);
  for (int p = 0; p < PHASE_GRID_MAX; p++) student_stream_free(s->net[p]);
  online_decoder_free(s->smoother);
  free(s->mono);
  free(s->frames);
  free(s->probs);
  free(s->frame_storage);
  free(s->event_storage);
  free(s);
}

/* ------------------------------------------------------------ audio thread */

static void push_frames(chordlet_stream *s, size_t n_frames) {
  const uint32_t generation = atomic_load_explicit(&s->generation, memory_order_relaxed);
  const float tuning = (float)cqt_stream_tuning_cents(s->cqt);
  for (size_t k = 0; k < n_frames; k++) {
    unsigned char *slot = spsc_write_slot(&s->frame_ring);
    const uint64_t index = s->next_index++;
    if (!slot) {
      atomic_fetch_add_explicit(&s->frames_dropped, 1, memory_order_relaxed);
      continue;
    }
    frame_header h = {.index = index, .generation = generation, .tuning_cents = tuning};
    memcpy(slot, &h, sizeof h);
    memcpy(slot + sizeof h, s->frames + k * (size_t)s->n_bins, (size_t)s->n_bins * sizeof(float));
    spsc_write_commit(&s->frame_ring);
  }
}

/* The mixdown, in slots, to the worker's tuning tracker; silence (no
 * channels) is not sent. A full ring drops the block: the tracker only
 * counts peaks, so a gap costs it nothing but votes. */
static void tap_audio(chordlet_stream *s, const float *mono, size_t n) {
  if (!mono) return;
  while (n > 0) {
    tap_slot *slot = spsc_write_slot(&s->tap_ring);
    if (!slot) { /* full: drop, and tell the tracker not to join across the gap */
      s->tap_fill = 0;
      s->tap_gap = 1;
      return;
    }
    if (s->tap_fill == 0) {
      slot->gap_before = s->tap_gap;
      slot->generation = atomic_load_explicit(&s->generation, memory_order_relaxed);
    }
    const size_t k = n < TAP_SLOT - s->tap_fill ? n : TAP_SLOT - s->tap_fill;
    memcpy(slot->x + s->tap_fill, mono, k * sizeof *mono);
    s->tap_fill += k;
    if (s->tap_fill == TAP_SLOT) {
      spsc_write_commit(&s->tap_ring);
      s->tap_fill = 0;
      s->tap_gap = 0;
    }
    mono += k;
    n -= k;
  }
}

void chordlet_stream_process(chordlet_stream *s, const float *const *channels, int n_channels, size_t n) {
  if (!s || n == 0) return;
  size_t done = 0;
  while (done < n) {
    const size_t len = n - done < s->max_block ? n - done : s->max_block;
    const float *mono = NULL; /* NULL: silence (no channels) */
    if (channels && n_channels == 1 && channels[0]) {
      mono = channels[0] + done;
    } else if (channels && n_channels > 1) {
      /* The mean of the channels: a stereo mix keeps its level. A missing
       * channel pointer counts as silence. */
      const float scale = 1.0f / (float)n_channels;
      memset(s->mono, 0, len * sizeof *s->mono);
      for (int c = 0; c < n_channels; c++) {
        if (!channels[c]) continue;
        const float *in = channels[c] + done;
        for (size_t i = 0; i < len; i++) s->mono[i] += in[i] * scale;
      }
      mono = s->mono;
    }
    /* NaN/Inf in a channel make the mean NaN: the CQT stream reads it as 0
     * (and so does the tuning tracker). */
    tap_audio(s, mono, len);
    size_t got = cqt_stream_process(s->cqt, mono, len, s->frames, s->max_frames);
    push_frames(s, got);
    atomic_store_explicit(&s->tuning_now_cents, cqt_stream_tuning_cents(s->cqt), memory_order_relaxed);
    done += len;
  }
}

/* A reset stream is a new one: the front end back on the plan's own kernels
 * (the tuning it was created with), which cqt_stream_reset adopts at once;
 * the tuning tracker forgets too (the worker, on the first tap slot of the
 * new generation). Otherwise what it heard before, or when, would change
 * what follows: a freewheeling host's export would depend on how long the
 * plugin ran before it. Requesting the plan's own set is safe against the
 * worker's hand-over: that set is never rebuilt. */
void chordlet_stream_reset(chordlet_stream *s) {
  if (!s) return;
  cqt_stream_request_kernels(s->cqt, NULL);
  cqt_stream_reset(s->cqt);
  s->next_index = 0;
  s->tap_fill = 0; /* the slot being filled is dropped */
  s->tap_gap = 0;
  atomic_fetch_add_explicit(&s->generation, 1, memory_order_release);
  atomic_store_explicit(&s->tuning_now_cents, cqt_stream_tuning_cents(s->cqt), memory_order_relaxed);
}

/* ---------------------------------------------------------- worker thread */

static void restart_network(chordlet_stream *s, uint64_t first_index) {
  for (int p = 0; p < s->phases; p++) student_stream_reset(s->net[p]);
  online_decoder_reset(s->smoother);
  s->base_index = first_index;
}

static void softmax(const float *logits, float *p, int n) {
  float top = logits[0];
  for (int c = 1; c < n; c++)
    if (logits[c] > top) top = logits[c];
  double sum = 0;
  for (int c = 0; c < n; c++) sum += p[c] = expf(logits[c] - top);
  const float inv = (float)(1.0 / sum);
  for (int c = 0; c < n; c++) p[c] *= inv;
}

static void emit(chordlet_stream *s, uint64_t frame, int chord, float confidence, uint64_t newest_index,
                 float tuning_cents) {
  if (chord == s->on_display) return;
  /* Hold the last chord; the next frame that decides this chord with
   * enough confidence shows it. */
  if (s->on_display >= 0 && confidence < atomic_load_explicit(&s->min_confidence, memory_order_relaxed)) return;
  s->on_display = chord;
  event_slot *slot = spsc_write_slot(&s->event_ring);
  if (!slot) {
    atomic_fetch_add_explicit(&s->events_dropped, 1, memory_order_relaxed);
    return;
  }
  chordlet_event *e = &slot->event;
  memset(e, 0, sizeof *e);
  e->frame = frame;
  e->time = (double)frame * s->hop_seconds;
  /* The newest frame in was emitted by the CQT when the input reached its
   * centre plus the front end's delay. */
  e->decided = (double)newest_index * s->hop_seconds + s->delay_seconds;
  e->chord = chord;
  e->root = vocab_class_root(chord);
  e->quality = vocab_class_quality(chord);
  e->confidence = confidence;
  e->tuning_hz = tuning_cents_to_hz(tuning_cents);
  vocab_class_name(chord, e->name, sizeof e->name);
  vocab_class_friendly(chord, e->label, sizeof e->label);
  slot->generation = s->generation_seen;
  spsc_write_commit(&s->event_ring);
}

/* The tracker hears what came since the last call; then the front end is
 * moved if the wanted tuning (fixed, or the estimate) differs enough from
 * the one it has. The move follows stream.h's hand-over: a set is rebuilt
 * only when no switch is pending and it is not the one in use. */
static void follow_tuning(chordlet_stream *s) {
  for (size_t k = 0; k < s->tap_slots; k++) {
    const tap_slot *slot = spsc_read_slot(&s->tap_ring);
    if (!slot) break;
    if (slot->generation != s->tap_generation) {
      /* Audio after a reset: start as a new stream does. The front end is
       * asked for the plan's own set again, in case a move this worker asked
       * for before it saw the reset landed after it. */
      s->tap_generation = slot->generation;
      tuning_tracker_reset(s->tracker);
      cqt_stream_request_kernels(s->cqt, NULL);
      s->front_cents = s->start_cents;
    } else if (slot->gap_before) {
      tuning_tracker_gap(s->tracker);
    }
    tuning_tracker_push(s->tracker, slot->x, TAP_SLOT);
    spsc_read_commit(&s->tap_ring);
  }
  const double fixed_hz = atomic_load_explicit(&s->tuning_request_hz, memory_order_relaxed);
  double target;
  if (fixed_hz > 0) {
    target = tuning_hz_to_cents(fixed_hz);
    if (target == s->front_cents) return;
  } else {
    double estimate;
    if (!tuning_tracker_estimate(s->tracker, &estimate, NULL)) return;
    target = estimate + 100.0 * nearbyint((s->front_cents - estimate) / 100.0);
    if (fabs(target) > AUTO_LIMIT_CENTS) target = estimate;
    if (fabs(target - s->front_cents) < s->model->tuning.step_cents) return;
  }
  const cqt_kernels *in_use = cqt_stream_kernels_in_use(s->cqt);
  if (in_use != cqt_stream_kernels_requested(s->cqt)) return; /* the last move has not landed yet */
  cqt_kernels *set = s->spare[0] != in_use ? s->spare[0] : s->spare[1];
  if (cqt_kernels_build(cqt_stream_plan(s->cqt), set, target)) return; /* outside the plan: never, by the checks */
  cqt_stream_request_kernels(s->cqt, set);
  s->front_cents = target;
}

int chordlet_stream_work(chordlet_stream *s) {
  if (!s) return 0;
  fpu_state fpu = fpu_enter();
  follow_tuning(s);
  int ran = 0;
  float logits[VOCAB_SIZE];
  for (int k = 0; k < FRAME_RING; k++) {
    const unsigned char *slot = spsc_read_slot(&s->frame_ring);
    if (!slot) break;
    frame_header h;
    memcpy(&h, slot, sizeof h);
    if (h.generation != s->generation_seen) {
      /* A reset on the audio thread: a new timeline from index 0. */
      s->generation_seen = h.generation;
      s->on_display = -1;
      restart_network(s, h.index);
    } else if (h.index != s->expected_index) {
      restart_network(s, h.index); /* frames were dropped: do not join across the gap */
    }
    s->expected_index = h.index + 1;
    const float *features = (const float *)(slot + sizeof h);
    /* Fine frame m is phase p's (phase_grid.h). Every network lags its own
     * frames by the lookahead, so what comes out is fine frame
     * m - K * lookahead, in the fine grid's order. */
    int phase;
    size_t own_frame;
    phase_grid_frame((size_t)(h.index - s->base_index), s->phases, &phase, &own_frame);
    int ready = student_stream_push(s->net[phase], features, logits);
    spsc_read_commit(&s->frame_ring);
    ran++;
    if (!ready) continue;
    softmax(logits, s->probs, VOCAB_SIZE);
    int32_t state;
    float p;
    if (online_decoder_push(s->smoother, s->probs, &state, &p)) {
      /* The network's output lags its input by the lookahead, the smoother's
       * decision lags the network's output by its lag (fine frames). */
      const uint64_t decided =
          h.index - (uint64_t)s->phases * (uint64_t)(s->lookahead + s->options.smoothing_frames);
      emit(s, decided, state, p, h.index, h.tuning_cents);
    }
  }
  fpu_leave(fpu);
  return ran;
}

/* ------------------------------------------------------------------ reader */

int chordlet_stream_next_event(chordlet_stream *s, chordlet_event *event) {
  if (!s || !event) return 0;
  const uint32_t generation = atomic_load_explicit(&s->generation, memory_order_acquire);
  for (int k = 0; k < EVENT_RING; k++) {
    const event_slot *slot = spsc_read_slot(&s->event_ring);
    if (!slot) return 0;
    const int current = slot->generation == generation;
    if (current) *event = slot->event;
    spsc_read_commit(&s->event_ring);
    if (current) return 1; /* else: from before a reset, skip it */
  }
  return 0;
}

int chordlet_stream_pending(chordlet_stream *s) { return s ? (int)spsc_count(&s->frame_ring) : 0; }

double chordlet_stream_latency(const chordlet_stream *s) {
  /* The first frame centred at or after a change is up to one hop later; it
   * is out of the front end after its delay, its logits after the lookahead,
   * its decision after the smoother's lag. */
  return s->delay_seconds + (double)(1 + s->phases * (s->lookahead + s->options.smoothing_frames)) * s->hop_seconds;
}

unsigned long chordlet_stream_latency_samples(const chordlet_stream *s) {
  return (unsigned long)lround(chordlet_stream_latency(s) * s->sample_rate);
}

double chordlet_stream_hop(const chordlet_stream *s) { return s->hop_seconds; }

int chordlet_stream_phases(const chordlet_stream *s) { return s ? s->phases : 0; }

unsigned long long chordlet_stream_frames_dropped(chordlet_stream *s) {
  return atomic_load_explicit(&s->frames_dropped, memory_order_relaxed);
}

chordlet_status chordlet_stream_set_tuning(chordlet_stream *s, double a4_hz) {
  if (!s || !tuning_hz_valid(a4_hz)) return CHORDLET_ERR_RANGE;
  atomic_store_explicit(&s->tuning_request_hz, a4_hz, memory_order_relaxed);
  return CHORDLET_OK;
}

chordlet_status chordlet_stream_set_min_confidence(chordlet_stream *s, float min_confidence) {
  if (!s || !(min_confidence >= 0.0f && min_confidence <= 1.0f)) return CHORDLET_ERR_RANGE;
  atomic_store_explicit(&s->min_confidence, min_confidence, memory_order_relaxed);
  return CHORDLET_OK;
}

double chordlet_stream_tuning(chordlet_stream *s, int *automatic) {
  if (automatic) *automatic = atomic_load_explicit(&s->tuning_request_hz, memory_order_relaxed) == 0.0;
  return tuning_cents_to_hz(atomic_load_explicit(&s->tuning_now_cents, memory_order_relaxed));
}

unsigned long long chordlet_stream_events_dropped(chordlet_stream *s) {
  return atomic_load_explicit(&s->events_dropped, memory_order_relaxed);
}
