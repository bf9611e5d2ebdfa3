/* test_live_phases.c: a coarse model in a stream (engine/live.c's phases).
 * The file-mode student (models/offline.chordlet, 60 ms frames) streams as
 * three networks a third of a frame apart, decided on a 20 ms grid, as
 * chordlet transcribe --phases 3 does offline. Checked on the demo
 * (examples/synth0046.flac, 44.1 kHz, against examples/synth0046.lab):
 *  - the stream reports 3 phases, a 20 ms hop and the latency that follows
 *    (front end, one 20 ms hop, lookahead and lag in 60 ms frames); the live
 *    model keeps 1 phase and its 20 ms hop;
 *  - where the audio starts on the model's grid: the demo after 0, 10, 20,
 *    30, 40 and 50 ms of silence, each timeline scored at the 20 ms points
 *    against the reference moved as much. One phase swung by 7 points here
 *    (docs/RESULTS.md 4.6: 81.0-88.3 % at the largest lag); three stay
 *    within 2.5 points of each other and at or above 85 %;
 *  - the stream's timeline against chordlet transcribe --phases 3's
 *    (recognizer.h, whole-file Viterbi) on the same audio: the two agree on
 *    >= 85 % of the points (measured: 90 %; a fixed lag of 1.5 s against the
 *    whole song);
 *  - real time: process() and work() make no allocation, free, lock or I/O
 *    with three networks (interposer; skipped under ASan, which owns
 *    malloc);
 *  - the same events for blocks of 64 and 1024 samples. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "rt_interposer.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "audiofile.h"
#include "chordlet.h"
#include "check.h"
#include "harte.h"
#include "lab.h"
#include "recognizer.h"

#define DEMO "examples/synth0046.flac"
#define DEMO_LAB "examples/synth0046.lab"
#define OFFLINE_MODEL "models/offline.chordlet"
#define LIVE_MODEL "models/default.chordlet"

enum { MAX_EVENTS = 4096, LAG = 25 /* the plugin's largest smoothing, at which it decides file mode */ };
static const double RATE = 44100, GRID = 0.02;

typedef struct timeline {
  double time[MAX_EVENTS];
  int chord[MAX_EVENTS];
  int n;
  long rt_calls; /* allocations, frees, locks and I/O in process() and work() */
} timeline;

static int chord_at(const timeline *t, double when) {
  int c = CHORDLET_CHORD_N;
  for (int e = 0; e < t->n && t->time[e] <= when + 1e-9; e++) c = t->chord[e];
  return c;
}

static int truth_at(const lab_file *lab, double when) {
  for (size_t i = 0; i < lab->n_segments; i++)
    if (lab->segments[i].start <= when && when < lab->segments[i].end) return harte_to_class(&lab->segments[i].chord);
  return -1;
}

/* The share of the 20 ms points inside the reference (moved `shift` s later)
 * where the timeline names its chord. */
static double agreement(const timeline *t, const lab_file *lab, double shift) {
  int good = 0, total = 0;
  for (int k = 0;; k++) {
    const double when = k * GRID;
    if (when - shift >= lab->segments[lab->n_segments - 1].end) break;
    const int truth = truth_at(lab, when - shift);
    if (truth < 0) continue;
    good += chord_at(t, when) == truth;
    total++;
  }
  return total ? 100.0 * good / total : 0.0;
}

/* The audio through a stream in blocks, the worker after each, then enough
 * silence for every decision to come out; each event shown a hop early, as
 * the plugin shows it. */
static void stream_audio(const chordlet_model *m, const float *x, size_t n, size_t block, timeline *t) {
  memset(t, 0, sizeof *t);
  chordlet_stream_options o;
  chordlet_stream_options_default(&o);
  o.max_lookahead_seconds = CHORDLET_MAX_LOOKAHEAD_SECONDS;
  o.smoothing_frames = LAG;
  chordlet_stream *s = NULL;
  chordlet_error err;
  CHECK(chordlet_stream_create(m, RATE, block, &o, &s, &err) == CHORDLET_OK, "stream: %s", err.message);
  if (!s) return;
  const double hop = chordlet_stream_hop(s);
  const size_t total = n + (size_t)((chordlet_stream_latency(s) + 1.0) * RATE);
  static float silence[1024];
  for (size_t done = 0; done < total; done += block) {
    const size_t len = total - done < block ? total - done : block;
    const float *ch[1] = {done + len <= n ? x + done : NULL};
    if (!ch[0] && done < n) { /* the last part of the audio, then silence */
      static float tail[1024];
      memset(tail, 0, sizeof tail);
      memcpy(tail, x + done, (n - done) * sizeof *x);
      ch[0] = tail;
    } else if (!ch[0]) {
      ch[0] = silence;
    }
    count_on();
    chordlet_stream_process(s, ch, 1, len);
    chordlet_stream_work(s);
    t->rt_calls += count_off();
    chordlet_event e;
    while (chordlet_stream_next_event(s, &e) && t->n < MAX_EVENTS) {
      t->time[t->n] = e.time - hop > 0 ? e.time - hop : 0;
      t->chord[t->n++] = e.chord;
    }
  }
  CHECK(chordlet_stream_frames_dropped(s) == 0, "%llu frames dropped", chordlet_stream_frames_dropped(s));
  chordlet_stream_free(s);
}

/* chordlet transcribe --phases 3 on the demo after `pad_seconds` of
 * silence (read at the recognizer's rate), as a timeline. */
static void transcribe_phases(double pad_seconds, timeline *t) {
  memset(t, 0, sizeof *t);
  chordlet_error err;
  recognizer *r = NULL;
  CHECK(recognizer_load(OFFLINE_MODEL, &r, &err) == CHORDLET_OK, "recognizer: %s", err.message);
  if (!r) return;
  audio_buffer a;
  if (audiofile_read(DEMO, recognizer_sample_rate(r), &a, &err) == CHORDLET_OK) {
    const size_t pad = (size_t)lround(pad_seconds * a.sample_rate);
    float *x = calloc(a.n_samples + pad, sizeof *x);
    recognizer_options o;
    memset(&o, 0, sizeof o);
    o.phases = 3;
    transcription tr;
    if (x) memcpy(x + pad, a.samples, a.n_samples * sizeof *x);
    const bool done = x && recognizer_transcribe(r, x, a.n_samples + pad, &o, &tr, &err) == CHORDLET_OK;
    CHECK(done, "transcribe: %s", x ? err.message : "out of memory");
    for (size_t i = 0; done && i < tr.segments.n_segments && t->n < MAX_EVENTS; i++) {
      t->time[t->n] = tr.segments.segments[i].start;
      t->chord[t->n++] = harte_to_class(&tr.segments.segments[i].chord);
    }
    if (done) transcription_free(&tr);
    free(x);
    audio_buffer_free(&a);
  } else {
    CHECK(0, "the demo at the recognizer's rate: %s", err.message);
  }
  recognizer_free(r);
}

int main(void) {
#if UNDER_ASAN
  printf("ASan build: allocation counting is off (ASan owns malloc); the RT checks run in the plain build\n");
#else
  CHECK(interposer_self_check(), "the interposer does not count");
#endif
  chordlet_error err;
  chordlet_model *offline = NULL, *live = NULL;
  if (chordlet_model_load(OFFLINE_MODEL, &offline, &err) || chordlet_model_load(LIVE_MODEL, &live, &err)) {
    fprintf(stderr, "cannot load the shipped models: %s\n", err.message);
    return 1;
  }
  audio_buffer demo;
  lab_file lab;
  if (audiofile_read(DEMO, RATE, &demo, &err) || lab_read(DEMO_LAB, &lab, &err)) {
    fprintf(stderr, "the demo: %s\n", err.message);
    return 1;
  }

  /* What the streams say of themselves. */
  chordlet_stream_options o;
  chordlet_stream_options_default(&o);
  o.max_lookahead_seconds = CHORDLET_MAX_LOOKAHEAD_SECONDS;
  chordlet_stream *s = NULL;
  CHECK(chordlet_stream_create(offline, RATE, 512, &o, &s, &err) == CHORDLET_OK, "%s", err.message);
  if (s) {
    const double want = 0.12 + 0.02 + (64 + 4) * 0.06;
    CHECK(chordlet_stream_phases(s) == 3 && fabs(chordlet_stream_hop(s) - 0.02) < 1e-12 &&
              fabs(chordlet_model_hop_seconds(offline) - 0.06) < 1e-12 && fabs(chordlet_stream_latency(s) - want) < 1e-9,
          "file-mode stream: %d phases, hop %g s, latency %g s (want 3, 0.02, %g)", chordlet_stream_phases(s),
          chordlet_stream_hop(s), chordlet_stream_latency(s), want);
    printf("file-mode stream: %d phases, hop %.0f ms, latency %.0f ms at smoothing 4\n", chordlet_stream_phases(s),
           1e3 * chordlet_stream_hop(s), 1e3 * chordlet_stream_latency(s));
    chordlet_stream_free(s);
    s = NULL;
  }
  CHECK(chordlet_stream_create(live, RATE, 512, NULL, &s, &err) == CHORDLET_OK, "%s", err.message);
  if (s) {
    CHECK(chordlet_stream_phases(s) == 1 && fabs(chordlet_stream_hop(s) - 0.02) < 1e-12 &&
              fabs(chordlet_stream_latency(s) - 0.24) < 1e-9,
          "live stream: %d phases, hop %g s, latency %g s", chordlet_stream_phases(s), chordlet_stream_hop(s),
          chordlet_stream_latency(s));
    chordlet_stream_free(s);
  }
  CHECK(chordlet_stream_phases(NULL) == 0 && chordlet_model_hop_seconds(NULL) == 0.0, "NULL getters");

  /* The demo after leading silence of 0..50 ms. */
  static timeline t, t_big, ref;
  double lo = 100, hi = 0;
  for (int ms = 0; ms <= 50; ms += 10) {
    const size_t pad = (size_t)lround(ms * 1e-3 * RATE);
    float *x = calloc(demo.n_samples + pad, sizeof *x);
    if (!x) return 1;
    memcpy(x + pad, demo.samples, demo.n_samples * sizeof *x);
    stream_audio(offline, x, demo.n_samples + pad, 64, &t);
    const double a = agreement(&t, &lab, ms * 1e-3);
    lo = fmin(lo, a);
    hi = fmax(hi, a);
    printf("the demo after %2d ms of silence: the stream names the exact chord on %.2f %% of the 20 ms points", ms, a);
    if (!UNDER_ASAN) CHECK(t.rt_calls == 0, "%d ms: process() and work() made %ld allocations/frees/locks/I/O", ms, t.rt_calls);
    if (ms == 0 || ms == 40) {
      stream_audio(offline, x, demo.n_samples + pad, 1024, &t_big);
      int same = t_big.n == t.n;
      for (int e = 0; same && e < t.n; e++) same = t.time[e] == t_big.time[e] && t.chord[e] == t_big.chord[e];
      CHECK(same, "%d ms: blocks of 64 and 1024 gave different events (%d, %d)", ms, t.n, t_big.n);
      transcribe_phases(ms * 1e-3, &ref);
      int good = 0, total = 0;
      for (double when = 0; when < (double)(demo.n_samples + pad) / RATE; when += GRID, total++)
        good += chord_at(&t, when) == chord_at(&ref, when);
      printf("; transcribe --phases 3 agrees with it on %.2f %% (%.2f %% against the .lab)", 100.0 * good / total,
             agreement(&ref, &lab, ms * 1e-3));
      CHECK(good >= 0.85 * total, "%d ms: the stream and transcribe --phases 3 agree on %d of %d points", ms, good,
            total);
    }
    printf("\n");
    free(x);
  }
  printf("spread over the starts: %.2f .. %.2f %%\n", lo, hi);
  CHECK(lo >= 85.0 && hi - lo <= 2.5, "the demo's agreement swings between %.2f and %.2f %% with its start", lo, hi);

  lab_free(&lab);
  audio_buffer_free(&demo);
  chordlet_model_free(offline);
  chordlet_model_free(live);
  return check_summary("test_live_phases");
}
