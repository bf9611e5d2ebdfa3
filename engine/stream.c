/* stream.c: the streaming driver (stream.h): input cleaning, the 2:1
 * decimator chain on mirrored rings, the inner-rate ring, the units of work
 * run at their phases of the hop, and frame emission. */
#define _POSIX_C_SOURCE 200809L
#include "stream.h"

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "denormals.h"
#include "error.h"

enum {
  MAX_STAGES = 8,   /* 768 kHz needs 5 */
  MAX_PARTS = 8,    /* cqt.c splits an FFT into at most 8 */
  STAGE_CAP = 1024, /* samples a decimator's ring holds: 384 taps + CHUNK + margin */
  CHUNK = 256,      /* host samples pushed through the chain at a time */
};

#define INPUT_LIMIT 1e6f   /* larger samples are clamped */
#define INPUT_FLOOR 1e-30f /* smaller ones read as 0 */

/* A mirrored ring: sample i is stored at [i % cap] and [i % cap + cap], so
 * any cap consecutive samples are contiguous in memory. Indices are
 * "internal": they start after `pad` zeros that stand for the silence before
 * the stream began. */
typedef struct ring {
  float *buf;       /* (2 * cap) */
  size_t cap;       /* a power of two */
  uint64_t written; /* internal index of the next sample */
} ring;

static inline void ring_put(ring *r, float v) {
  size_t i = (size_t)(r->written & (r->cap - 1));
  r->buf[i] = v;
  r->buf[i + r->cap] = v;
  r->written++;
}

static inline const float *ring_at(const ring *r, uint64_t index) {
  return r->buf + (size_t)(index & (r->cap - 1));
}

typedef struct stage {
  ring in;           /* this stage's input, pad CQT_DECIM_HALF zeros */
  uint64_t produced; /* outputs made; output n reads internal [2n, 2n + 382] */
} stage;

struct cqt_stream {
  const cqt_plan *plan;
  cqt_plan *owned_plan; /* NULL for a shared plan */
  const cqt_layout *L;
  int n_stages;
  stage stages[MAX_STAGES];
  ring inner;       /* the signal at r0; internal index = r0 index + inner_pad */
  size_t inner_pad; /* zeros before r0 index 0: reaches back to frame 0's earliest sample */
  float *frame;     /* (max_part) FFTW-aligned: one part of a group's frame */
  float
      *part_spectrum[CQT_MAX_GROUPS][MAX_PARTS]; /* (n_fft/n_parts/2+1, 2) FFTW-aligned, kept across units */
  float *spectrum[CQT_MAX_GROUPS]; /* (n_spectrum, 2): the group's X; its only part's when n_parts == 1 */
  float *mag;                      /* (n_bins) |C| of the frame being assembled */
  float log_eps;
  uint64_t count;       /* host samples consumed */
  uint64_t frame_index; /* j of the frame being assembled */
  int next_unit;        /* its next unit; n_units means emission */
  uint64_t next_event;  /* input count of that */
  uint64_t emitted, dropped;
  uint64_t schedule_faults; /* a unit found its data missing (never, by construction; tested) */
  void *block;              /* one allocation: rings and mag */
  /* Kernels: the audio thread computes every frame with one set, `active`,
   * adopted from `requested` when a frame starts and published in `in_use`
   * (cqt_stream_request_kernels). */
  const cqt_kernels *active;
  _Atomic(const cqt_kernels *) requested;
  _Atomic(const cqt_kernels *) in_use;
};

/* Denormals: fpu_enter()/fpu_leave() of denormals.h around process(). */

/* ------------------------------------------------------------- creation */

static size_t pow2_at_least(size_t x) {
  size_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

static uint64_t event_count(const cqt_stream *s, int phase) {
  return s->frame_index * s->L->hop_samples + s->L->delay_samples - s->L->hop_samples + (uint64_t)phase;
}

/* A frame starts: from here to its emission every unit uses one set. */
static void adopt_kernels(cqt_stream *s) {
  s->active = atomic_load_explicit(&s->requested, memory_order_acquire);
  atomic_store_explicit(&s->in_use, s->active, memory_order_release);
}

static void set_next_event(cqt_stream *s) {
  const cqt_layout *L = s->L;
  int phase = s->next_unit < L->n_units ? L->units[s->next_unit].phase : (int)L->hop_samples;
  s->next_event = event_count(s, phase);
}

CHORDLET_RT void cqt_stream_reset(cqt_stream *s) {
  if (!s) return;
  for (int i = 0; i < s->n_stages; i++) {
    stage *st = &s->stages[i];
    memset(st->in.buf, 0, sizeof(float) * 2 * st->in.cap);
    st->in.written = CQT_DECIM_HALF;
    st->produced = 0;
  }
  memset(s->inner.buf, 0, sizeof(float) * 2 * s->inner.cap);
  s->inner.written = s->inner_pad;
  memset(s->mag, 0, sizeof(float) * (size_t)s->L->params.n_bins);
  s->count = 0;
  s->frame_index = 0;
  s->next_unit = 0;
  s->emitted = s->dropped = s->schedule_faults = 0;
  adopt_kernels(s);
  set_next_event(s);
}

chordlet_status cqt_stream_create_shared(const cqt_plan *plan, cqt_stream **out, chordlet_error *err) {
  if (!out) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no place for the stream");
  *out = NULL;
  if (!plan) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no plan");
  const cqt_layout *L = cqt_plan_layout(plan);
  if (L->n_stages > MAX_STAGES)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%d decimation stages: at most %d", L->n_stages,
                         (int)MAX_STAGES);
  cqt_stream *s = calloc(1, sizeof *s);
  if (!s) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  s->plan = plan;
  s->L = L;
  s->n_stages = L->n_stages;
  s->log_eps = (float)L->params.log_eps;
  size_t pad = 0;
  for (int g = 0; g < L->n_groups; g++) {
    size_t need = (size_t)(L->groups[g].n_fft - L->groups[g].frame_end - 1);
    if (need > pad) pad = need;
  }
  s->inner_pad = pad;
  s->inner.cap = pow2_at_least(L->inner_history + 1);
  const size_t n_bins = (size_t)L->params.n_bins;
  size_t floats = 2 * s->inner.cap + (size_t)s->n_stages * 2 * STAGE_CAP + n_bins;
  s->block = calloc(floats, sizeof(float));
  s->frame = cqt_buffer_alloc((size_t)L->max_part);
  bool ok = s->block && s->frame;
  for (int g = 0; ok && g < L->n_groups; g++) {
    const cqt_group *G = &L->groups[g];
    if (G->n_parts > MAX_PARTS) ok = false;
    for (int part = 0; ok && part < G->n_parts; part++)
      ok =
          (s->part_spectrum[g][part] = cqt_buffer_alloc(2 * (size_t)(G->n_fft / G->n_parts / 2 + 1))) != NULL;
    if (ok && G->n_parts > 1) ok = (s->spectrum[g] = cqt_buffer_alloc(2 * (size_t)G->n_spectrum)) != NULL;
    if (ok && G->n_parts == 1) s->spectrum[g] = s->part_spectrum[g][0];
  }
  if (!ok) {
    cqt_stream_free(s);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory (stream buffers)");
  }
  float *p = s->block;
  s->inner.buf = p; /* (2 * inner.cap) */
  p += 2 * s->inner.cap;
  for (int i = 0; i < s->n_stages; i++) {
    s->stages[i].in.buf = p; /* (2 * STAGE_CAP) */
    s->stages[i].in.cap = STAGE_CAP;
    p += 2 * STAGE_CAP;
  }
  s->mag = p; /* (n_bins) */
  atomic_init(&s->requested, cqt_plan_kernels(plan));
  atomic_init(&s->in_use, cqt_plan_kernels(plan));
  cqt_stream_reset(s);
  *out = s;
  return CHORDLET_OK;
}

chordlet_status cqt_stream_create(const cqt_params *p, double sample_rate, cqt_stream **out,
                                  chordlet_error *err) {
  return cqt_stream_create_tuned(p, sample_rate, 0.0, 0.0, 0.0, out, err);
}

chordlet_status cqt_stream_create_tuned(const cqt_params *p, double sample_rate, double cents, double min_cents,
                                        double max_cents, cqt_stream **out, chordlet_error *err) {
  if (!out) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no place for the stream");
  *out = NULL;
  cqt_plan *plan;
  chordlet_status st = cqt_plan_create_tuned(p, sample_rate, cents, min_cents, max_cents, &plan, err);
  if (st) return st;
  if ((st = cqt_stream_create_shared(plan, out, err))) {
    cqt_plan_free(plan);
    return st;
  }
  (*out)->owned_plan = plan;
  return CHORDLET_OK;
}

void cqt_stream_free(cqt_stream *s) {
  if (!s) return;
  for (int g = 0; g < CQT_MAX_GROUPS; g++) {
    if (s->spectrum[g] != s->part_spectrum[g][0]) cqt_buffer_free(s->spectrum[g]);
    for (int part = 0; part < MAX_PARTS; part++) cqt_buffer_free(s->part_spectrum[g][part]);
  }
  cqt_buffer_free(s->frame);
  free(s->block);
  cqt_plan_free(s->owned_plan);
  free(s);
}

/* ------------------------------------------------------------- real time */

static inline float clean(float v) {
  float a = fabsf(v);
  if (a >= INPUT_FLOOR && a <= INPUT_LIMIT) return v;
  if (a < INPUT_FLOOR) return 0.0f;
  return isfinite(v) ? copysignf(INPUT_LIMIT, v) : 0.0f; /* NaN, infinities: 0 */
}

/* Runs every decimator output that its input now allows, stage by stage. */
static void run_decimators(cqt_stream *s) {
  for (int i = 0; i < s->n_stages; i++) {
    stage *st = &s->stages[i];
    ring *next = i + 1 < s->n_stages ? &s->stages[i + 1].in : &s->inner;
    while (2 * st->produced + 2 * CQT_DECIM_HALF < st->in.written) {
      ring_put(next, cqt_decimate(s->plan, ring_at(&st->in, 2 * st->produced)));
      st->produced++;
    }
  }
}

/* n host samples (in == NULL: zeros) into the chain, CHUNK at a time so the
 * decimators' rings never overflow. */
static void feed(cqt_stream *s, const float *in, size_t n) {
  ring *first = s->n_stages ? &s->stages[0].in : &s->inner;
  while (n > 0) {
    size_t c = n < CHUNK ? n : CHUNK;
    if (in) {
      for (size_t i = 0; i < c; i++) ring_put(first, clean(in[i]));
      in += c;
    } else {
      for (size_t i = 0; i < c; i++) ring_put(first, 0.0f);
    }
    run_decimators(s);
    s->count += c;
    n -= c;
  }
}

static void run_unit(cqt_stream *s, const cqt_unit *u) {
  const int g = u->group;
  const cqt_group *G = &s->L->groups[g];
  if (u->n_parts > 0) {
    /* Frame j of the group: r0 samples [c + frame_end + 1 - n_fft, c + frame_end]. */
    uint64_t start =
        s->frame_index * s->L->hop_inner + s->inner_pad + (uint64_t)G->frame_end + 1 - (uint64_t)G->n_fft;
    uint64_t end = start + (uint64_t)G->n_fft;
    if (end > s->inner.written || start + s->inner.cap < s->inner.written) s->schedule_faults++;
    const float *x = ring_at(&s->inner, start); /* (n_fft), contiguous in the mirrored ring */
    const int P = G->n_parts, M = G->n_fft / P;
    for (int part = u->first_part; part < u->first_part + u->n_parts; part++) {
      for (int i = 0; i < M; i++) s->frame[i] = x[part + i * P];
      cqt_plan_fft(s->plan, g, s->frame, s->part_spectrum[g][part]);
    }
  }
  if (u->combine) cqt_plan_combine(s->plan, g, (const float *const *)s->part_spectrum[g], s->spectrum[g]);
  if (u->n_bins > 0)
    cqt_plan_bins(s->plan, s->active, g, u->first_bin, u->n_bins, s->spectrum[g], s->mag + u->first_bin);
}

static void emit(cqt_stream *s, float *out, size_t max_frames, size_t *written) {
  if (*written < max_frames && out) {
    const int K = s->L->params.n_bins;
    float *row = out + *written * (size_t)K; /* (n_bins) */
    for (int b = 0; b < K; b++) row[b] = logf(s->mag[b] + s->log_eps);
    (*written)++;
    s->emitted++;
  } else {
    s->dropped++;
  }
}

/* Everything due at the current input count. */
static void run_events(cqt_stream *s, float *out, size_t max_frames, size_t *written) {
  const cqt_layout *L = s->L;
  for (;;) {
    if (s->next_unit < L->n_units) {
      const cqt_unit *u = &L->units[s->next_unit];
      if (event_count(s, u->phase) != s->count) break;
      run_unit(s, u);
      s->next_unit++;
    } else {
      if (event_count(s, (int)L->hop_samples) != s->count) break;
      emit(s, out, max_frames, written);
      s->frame_index++;
      s->next_unit = 0;
      adopt_kernels(s);
    }
  }
  set_next_event(s);
}

CHORDLET_RT size_t cqt_stream_process(cqt_stream *s, const float *in, size_t n, float *frames_out,
                                      size_t max_frames) {
  if (!s) return 0;
  fpu_state fpu = fpu_enter();
  size_t written = 0;
  while (n > 0) {
    uint64_t room = s->next_event - s->count; /* > 0 */
    size_t take = (uint64_t)n < room ? n : (size_t)room;
    feed(s, in, take);
    if (in) in += take;
    n -= take;
    if (s->count == s->next_event) run_events(s, frames_out, max_frames, &written);
  }
  fpu_leave(fpu);
  return written;
}

CHORDLET_RT uint64_t cqt_stream_frames_emitted(const cqt_stream *s) { return s->emitted; }
CHORDLET_RT uint64_t cqt_stream_frames_dropped(const cqt_stream *s) { return s->dropped; }

CHORDLET_RT uint64_t cqt_stream_schedule_faults(const cqt_stream *s) { return s->schedule_faults; }

CHORDLET_RT int cqt_stream_n_bins(const cqt_stream *s) { return s->L->params.n_bins; }
CHORDLET_RT double cqt_stream_sample_rate(const cqt_stream *s) { return s->L->sample_rate; }
CHORDLET_RT size_t cqt_stream_hop_samples(const cqt_stream *s) { return s->L->hop_samples; }
CHORDLET_RT double cqt_stream_hop_seconds(const cqt_stream *s) { return s->L->params.hop_seconds; }
CHORDLET_RT double cqt_stream_delay_seconds(const cqt_stream *s) { return s->L->params.delay_seconds; }
CHORDLET_RT size_t cqt_stream_delay_samples(const cqt_stream *s) { return s->L->delay_samples; }
CHORDLET_RT double cqt_stream_latency_seconds(const cqt_stream *s) {
  return s->L->params.delay_seconds + s->L->params.hop_seconds;
}
CHORDLET_RT size_t cqt_stream_max_frames_per_block(const cqt_stream *s, size_t block) {
  return block == 0 ? 0 : (block - 1) / s->L->hop_samples + 1;
}
const cqt_params *cqt_stream_params(const cqt_stream *s) { return &s->L->params; }

CHORDLET_RT void cqt_stream_request_kernels(cqt_stream *s, const cqt_kernels *set) {
  atomic_store_explicit(&s->requested, set ? set : cqt_plan_kernels(s->plan), memory_order_release);
}
CHORDLET_RT const cqt_kernels *cqt_stream_kernels_requested(const cqt_stream *s) {
  return atomic_load_explicit(&s->requested, memory_order_acquire);
}
CHORDLET_RT const cqt_kernels *cqt_stream_kernels_in_use(const cqt_stream *s) {
  return atomic_load_explicit(&s->in_use, memory_order_acquire);
}
CHORDLET_RT double cqt_stream_tuning_cents(const cqt_stream *s) { return cqt_kernels_cents(s->active); }
const cqt_plan *cqt_stream_plan(const cqt_stream *s) { return s->plan; }

/* ------------------------------------------------------------- offline */

size_t cqt_offline_frame_count(size_t n, size_t hop_samples) { return n / hop_samples + 1; }

chordlet_status cqt_features_offline_plan(const cqt_plan *plan, const float *audio, size_t n, float **frames,
                                          size_t *n_frames, chordlet_error *err) {
  if (!frames || !n_frames)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no place for the frames");
  *frames = NULL;
  *n_frames = 0;
  if (!plan) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no plan");
  if (n > 0 && !audio) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no audio");
  for (size_t i = 0; i < n; i++)
    if (!isfinite(audio[i]))
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                           "audio sample %zu is %s: the signal must be finite everywhere", i,
                           isnan(audio[i]) ? "NaN" : "infinite");
  const cqt_layout *L = cqt_plan_layout(plan);
  const size_t K = (size_t)L->params.n_bins, T = cqt_offline_frame_count(n, L->hop_samples);
  if (T > SIZE_MAX / sizeof(float) / K)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%zu frames do not fit in memory", T);
  cqt_stream *s;
  chordlet_status st = cqt_stream_create_shared(plan, &s, err);
  if (st) return st;
  float *out = malloc(sizeof(float) * T * K); /* (T, n_bins) */
  if (!out) {
    cqt_stream_free(s);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory (%zu frames)", T);
  }
  size_t got = cqt_stream_process(s, audio, n, out, T);
  /* The last frame, centred at (T - 1) * hop, is out at input count
   * (T - 1) * hop + delay; zeros stand for the audio after the end. */
  size_t flush = (T - 1) * L->hop_samples + L->delay_samples - n;
  got += cqt_stream_process(s, NULL, flush, out + got * K, T - got);
  cqt_stream_free(s);
  if (got != T) {
    free(out);
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "internal error: %zu frames instead of %zu", got, T);
  }
  *frames = out;
  *n_frames = T;
  return CHORDLET_OK;
}

chordlet_status cqt_features_offline(const cqt_params *p, const float *audio, size_t n, double sample_rate,
                                     float **frames, size_t *n_frames, chordlet_error *err) {
  return cqt_features_offline_tuned(p, 0.0, audio, n, sample_rate, frames, n_frames, err);
}

chordlet_status cqt_features_offline_tuned(const cqt_params *p, double cents, const float *audio, size_t n,
                                           double sample_rate, float **frames, size_t *n_frames,
                                           chordlet_error *err) {
  if (frames) *frames = NULL;
  if (n_frames) *n_frames = 0;
  cqt_plan *plan;
  chordlet_status st = cqt_plan_create_tuned(p, sample_rate, cents, cents, cents, &plan, err);
  if (st) return st;
  st = cqt_features_offline_plan(plan, audio, n, frames, n_frames, err);
  cqt_plan_free(plan);
  return st;
}
