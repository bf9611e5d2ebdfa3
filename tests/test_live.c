/* test_live.c: the public streaming recogniser (chordlet.h, engine/live.c)
 * and its online smoother (engine/online_decode.c), with the shipped live
 * model (models/default.chordlet):
 *  - the fixed-lag smoother equals the offline Viterbi (decode.c) when its lag
 *    covers the input, and agrees with it on most frames at a short lag;
 *  - a synthesized progression (C Am F G Dm Em F C, 1.49 s each, piano-like tones)
 *    at 44.1 and 48 kHz: the chords on display match it on >= 90 % of the
 *    frames, the same events for block sizes 1, 64, 128, 1024 and varying
 *    blocks, and with the worker on its own thread;
 *  - latency: each change is decided at time + latency, the declared
 *    latency, within one hop; the event's `decided` is the input processed;
 *  - real time: zero allocations, frees and mutex locks in process() (and in
 *    work()) over the whole song, for every block size (interposer);
 *  - reset, silence, DC, clipping, NaN and infinite input; bad arguments and
 *    a model that cannot stream, each refused with a message. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "rt_interposer.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chordlet.h"
#include "check.h"
#include "decode.h"
#include "online_decode.h"

static const char *MODEL = "models/default.chordlet";

static double tuning_cents(double a4_hz) { return 1200.0 * log2(a4_hz / 440.0); }

/* ------------------------------------------------------- the smoother */

static void test_smoother(void) {
  enum { T = 400, S = 12 };
  float *probs = malloc(sizeof(float) * T * S);
  int32_t *offline = malloc(sizeof(int32_t) * T), *online = malloc(sizeof(int32_t) * T);
  int32_t columns[S];
  for (int s = 0; s < S; s++) columns[s] = s;
  srand(5);
  /* Noisy frames around a slowly changing true state. */
  int truth = 0;
  for (int t = 0; t < T; t++) {
    if (t % 37 == 0) truth = rand() % S;
    double sum = 0;
    for (int s = 0; s < S; s++) sum += probs[t * S + s] = (float)(rand() / (double)RAND_MAX + (s == truth ? 0.8 : 0));
    for (int s = 0; s < S; s++) probs[t * S + s] /= (float)sum;
  }
  chordlet_error err;
  const double penalty = 3.0;
  CHECK(decode_viterbi(probs, T, S, columns, S, 1, penalty, offline, &err) == CHORDLET_OK, "viterbi");

  /* A lag that covers the input: nothing is decided early, flush gives the
   * offline path exactly. */
  online_decoder *d = NULL;
  CHECK(online_decoder_create(S, T, penalty, 0, &d, &err) == CHORDLET_OK, "%s", err.message);
  int32_t st;
  float p;
  int early = 0;
  for (int t = 0; t < T; t++) early += online_decoder_push(d, probs + t * S, &st, &p);
  CHECK(early == 0, "%d decisions before the lag was reached", early);
  int n = 0, differ = 0;
  while (online_decoder_flush(d, &st, &p)) {
    if (n < T && st != offline[n]) differ++;
    if (n < T) CHECK(p == probs[n * S + st], "frame %d: the probability handed out is not the frame's", n);
    n++;
  }
  CHECK(n == T && differ == 0, "full lag: %d frames flushed, %d differ from the offline path", n, differ);
  online_decoder_free(d);

  /* Lags 0, 4, 16: decisions frame by frame, then a flush of the last lag. */
  const int lags[] = {0, 4, 16};
  for (int li = 0; li < 3; li++) {
    CHECK(online_decoder_create(S, lags[li], penalty, 0, &d, &err) == CHORDLET_OK, "%s", err.message);
    for (int rep = 0; rep < 2; rep++) { /* the second time after a reset: the same */
      n = 0;
      for (int t = 0; t < T; t++)
        if (online_decoder_push(d, probs + t * S, &st, &p)) online[n++] = st;
      CHECK(n == T - lags[li], "lag %d: %d decisions from %d frames", lags[li], n, T);
      while (online_decoder_flush(d, &st, &p) && n < T) online[n++] = st;
      CHECK(n == T, "lag %d: %d decisions after the flush", lags[li], n);
      differ = 0;
      for (int t = 0; t < T; t++) differ += online[t] != offline[t];
      printf("smoother lag %2d: %d of %d frames differ from the offline Viterbi path\n", lags[li], differ, T);
      CHECK(lags[li] == 0 || differ <= T / 20, "lag %d: %d of %d frames differ", lags[li], differ, T);
      online_decoder_reset(d);
    }
    online_decoder_free(d);
  }
  CHECK(online_decoder_create(S, -1, penalty, 0, &d, &err) != CHORDLET_OK, "a negative lag was accepted");
  CHECK(online_decoder_create(S, 4, penalty, S, &d, &err) != CHORDLET_OK, "an initial state out of range");
  free(probs);
  free(offline);
  free(online);
}

/* ---------------------------------------------------- a chord progression */

typedef struct segment {
  double start, end;
  int chord; /* vocabulary class */
} segment;

enum { N_CHORDS = 8 };
/* off the 20 ms hop grid, by a different fraction of a hop at every change */
static const double CHORD_SECONDS = 1.493, LEAD_IN = 0.507;
/* C, A:min, F, G:7, D:min, E:min, F:maj7... as (root, quality, notes above the root) */
static const struct {
  int root, quality;
  int notes[4], n_notes;
} PROGRESSION[N_CHORDS] = {
    {0, 1, {0, 4, 7}, 3},    /* C */
    {9, 0, {0, 3, 7}, 3},    /* A:min */
    {5, 1, {0, 4, 7}, 3},    /* F */
    {7, 1, {0, 4, 7}, 3},    /* G */
    {2, 0, {0, 3, 7}, 3},    /* D:min */
    {4, 0, {0, 3, 7}, 3},    /* E:min */
    {5, 1, {0, 4, 7}, 3},    /* F */
    {0, 1, {0, 4, 7}, 3},    /* C */
};

/* Piano-like tones: the bass an octave below, the chord in octave 4, each
 * note with 6 decaying harmonics and a plucked envelope. Returns the samples
 * and fills the segments (lead-in and tail in N). */
static float *progression_tuned(double rate, int repeats, double cents_a, double cents_b, size_t *n_out,
                                segment *seg, int *n_seg);

static float *progression(double rate, size_t *n_out, segment *seg, int *n_seg) {
  return progression_tuned(rate, 1, 0.0, 0.0, n_out, seg, n_seg);
}

/* The progression `repeats` times, its first half tuned cents_a from A4 =
 * 440 Hz and its second half cents_b (as a band retuning between songs). */
static float *progression_tuned(double rate, int repeats, double cents_a, double cents_b, size_t *n_out,
                                segment *seg, int *n_seg) {
  const int n_chords = N_CHORDS * repeats;
  const double total = LEAD_IN + n_chords * CHORD_SECONDS + 1.0;
  size_t n = (size_t)(total * rate);
  float *x = calloc(n, sizeof *x);
  int k = 0;
  seg[k++] = (segment){0, LEAD_IN, 169};
  for (int cc = 0; cc < n_chords; cc++) {
    const int c = cc % N_CHORDS;
    const double cents = cc < n_chords / 2 ? cents_a : cents_b;
    double t0 = LEAD_IN + cc * CHORD_SECONDS;
    seg[k++] = (segment){t0, t0 + CHORD_SECONDS, 14 * PROGRESSION[c].root + PROGRESSION[c].quality};
    size_t i0 = (size_t)(t0 * rate), i1 = (size_t)((t0 + CHORD_SECONDS) * rate);
    for (int v = 0; v <= PROGRESSION[c].n_notes; v++) {
      /* v == n_notes: the bass, the root an octave below the chord */
      int midi = v < PROGRESSION[c].n_notes ? 60 + PROGRESSION[c].root + PROGRESSION[c].notes[v]
                                             : 48 + PROGRESSION[c].root;
      if (v < PROGRESSION[c].n_notes && midi > 67) midi -= 12;
      double f = 440.0 * pow(2.0, (midi - 69) / 12.0 + cents / 1200.0);
      for (size_t i = i0; i < i1 && i < n; i++) {
        double t = (double)(i - i0) / rate;
        double env = (1 - exp(-t / 0.005)) * exp(-t / 1.2) * (i1 - i < rate * 0.02 ? (double)(i1 - i) / (rate * 0.02) : 1);
        double s = 0;
        for (int h = 1; h <= 6; h++) s += sin(2 * PI * f * h * t) / (h * h);
        x[i] += (float)(0.12 * env * s);
      }
    }
  }
  seg[k++] = (segment){LEAD_IN + n_chords * CHORD_SECONDS, total, 169};
  *n_seg = k;
  *n_out = n;
  return x;
}

static int truth_at(const segment *seg, int n_seg, double t) {
  for (int k = 0; k < n_seg; k++)
    if (t >= seg[k].start && t < seg[k].end) return seg[k].chord;
  return 169;
}

typedef struct run_result {
  chordlet_event events[256];
  double seen_at[256]; /* input processed when the event was read */
  double tuning_hz[2048]; /* chordlet_stream_tuning after each 0.1 s of input (tuning tests) */
  int n_tuning;
  int n_events;
  long rt_calls; /* allocations + frees + locks in process() */
  long work_calls;
  double agreement;
} run_result;

/* Fraction of hop frames from `from` to `to` where the chord on display
 * (the last event at or before the frame) is the truth. */
static double agreement_between(const run_result *r, const segment *seg, int n_seg, double hop, double from,
                                double to) {
  int good = 0, total = 0;
  for (double t = from; t < to; t += hop) {
    int shown = 169;
    for (int e = 0; e < r->n_events; e++)
      if (r->events[e].time <= t + 1e-9) shown = r->events[e].chord;
    good += shown == truth_at(seg, n_seg, t);
    total++;
  }
  return total ? (double)good / total : 0;
}

/* ... over the whole progression (from LEAD_IN). */
static double agreement(const run_result *r, const segment *seg, int n_seg, double hop) {
  return agreement_between(r, seg, n_seg, hop, LEAD_IN, LEAD_IN + N_CHORDS * CHORD_SECONDS);
}

/* Block sizes: > 0 fixed, 0 varying (1..1500, seeded). The worker runs after
 * every block, on this thread; process() and work() are counted by the
 * interposer. */
static void run_blocks(const chordlet_model *m, double rate, const float *x, size_t n, long block, run_result *r) {
  chordlet_error err;
  chordlet_stream *s = NULL;
  memset(r, 0, sizeof *r);
  CHECK(chordlet_stream_create(m, rate, 1024, NULL, &s, &err) == CHORDLET_OK, "%s", err.message);
  if (!s) return;
  unsigned seed = 11;
  size_t done = 0;
  while (done < n) {
    size_t len = block > 0 ? (size_t)block : 1 + (seed = seed * 1103515245u + 12345u) % 1500u;
    if (len > n - done) len = n - done;
    const float *ch[1] = {x + done};
    count_on();
    chordlet_stream_process(s, ch, 1, len);
    r->rt_calls += count_off();
    count_on();
    chordlet_stream_work(s);
    r->work_calls += count_off();
    /* the front end's A4 after every 0.1 s of input (the tuning tests) */
    const size_t every = (size_t)(0.1 * rate);
    if ((done + len) / every > done / every && r->n_tuning < 2048)
      r->tuning_hz[r->n_tuning++] = chordlet_stream_tuning(s, NULL);
    done += len;
    chordlet_event e;
    while (chordlet_stream_next_event(s, &e) && r->n_events < 256) {
      r->seen_at[r->n_events] = (double)done / rate;
      r->events[r->n_events++] = e;
    }
  }
  CHECK(chordlet_stream_frames_dropped(s) == 0 && chordlet_stream_events_dropped(s) == 0, "dropped frames/events");
  chordlet_stream_free(s);
}

static int same_events(const run_result *a, const run_result *b) {
  if (a->n_events != b->n_events) return 0;
  for (int e = 0; e < a->n_events; e++)
    if (a->events[e].frame != b->events[e].frame || a->events[e].chord != b->events[e].chord ||
        a->events[e].confidence != b->events[e].confidence)
      return 0;
  return 1;
}

/* The whole song through an existing stream in blocks of 512, the worker
 * after each block, every event kept (at most 256). */
static void feed_song(chordlet_stream *s, const float *x, size_t n, run_result *r) {
  r->n_events = 0;
  for (size_t done = 0; done < n; done += 512) {
    size_t len = n - done < 512 ? n - done : 512;
    const float *ch[1] = {x + done};
    chordlet_stream_process(s, ch, 1, len);
    chordlet_stream_work(s);
    chordlet_event e;
    while (chordlet_stream_next_event(s, &e))
      if (r->n_events < 256) r->events[r->n_events++] = e;
  }
}

/* The worker on its own thread, as in chordlet live. */
typedef struct worker_ctx {
  chordlet_stream *s;
  atomic_int stop;
} worker_ctx;

static void *worker_main(void *arg) {
  worker_ctx *w = arg;
  struct timespec nap = {0, 200000};
  for (;;) {
    int stop = atomic_load(&w->stop);
    int ran = chordlet_stream_work(w->s);
    if (stop && ran == 0 && chordlet_stream_pending(w->s) == 0) break;
    if (ran == 0) nanosleep(&nap, NULL);
  }
  return NULL;
}

static void run_threaded(const chordlet_model *m, double rate, const float *x, size_t n, run_result *r) {
  chordlet_error err;
  worker_ctx w = {0};
  memset(r, 0, sizeof *r);
  CHECK(chordlet_stream_create(m, rate, 256, NULL, &w.s, &err) == CHORDLET_OK, "%s", err.message);
  if (!w.s) return;
  atomic_init(&w.stop, 0);
  pthread_t th;
  pthread_create(&th, NULL, worker_main, &w);
  for (size_t done = 0; done < n; done += 256) {
    size_t len = n - done < 256 ? n - done : 256;
    const float *ch[1] = {x + done};
    chordlet_stream_process(w.s, ch, 1, len);
    chordlet_event e;
    while (chordlet_stream_next_event(w.s, &e) && r->n_events < 256) r->events[r->n_events++] = e;
    /* about 4x real time: the worker keeps up, the ring is exercised */
    nanosleep(&(struct timespec){0, (long)(256 / rate / 4 * 1e9)}, NULL);
  }
  atomic_store(&w.stop, 1);
  pthread_join(th, NULL);
  chordlet_event e;
  while (chordlet_stream_next_event(w.s, &e) && r->n_events < 256) r->events[r->n_events++] = e;
  CHECK(chordlet_stream_frames_dropped(w.s) == 0, "the threaded worker dropped %llu frames",
        chordlet_stream_frames_dropped(w.s));
  chordlet_stream_free(w.s);
}

static void test_progression(const chordlet_model *m, double rate) {
  segment seg[N_CHORDS + 2];
  int n_seg;
  size_t n;
  float *x = progression(rate, &n, seg, &n_seg);
  const long blocks[] = {64, 1, 128, 1024, 0};
  run_result *ref = calloc(1, sizeof *ref), *r = calloc(1, sizeof *r);
  chordlet_error err;
  chordlet_stream *probe = NULL;
  CHECK(chordlet_stream_create(m, rate, 64, NULL, &probe, &err) == CHORDLET_OK, "%s", err.message);
  const double hop = chordlet_stream_hop(probe), latency = chordlet_stream_latency(probe);
  chordlet_stream_free(probe);
  for (int b = 0; b < 5; b++) {
    run_result *cur = b == 0 ? ref : r;
    run_blocks(m, rate, x, n, blocks[b], cur);
    double acc = agreement(cur, seg, n_seg, hop);
    printf("%.0f Hz, blocks of %s%ld: %d events, %.1f %% of frames right, process() made %ld allocations/frees/locks, "
           "work() %ld\n",
           rate, blocks[b] ? "" : "varying 1..1500 (", blocks[b], cur->n_events, 100 * acc, cur->rt_calls,
           cur->work_calls);
    if (!UNDER_ASAN) {
      CHECK(cur->rt_calls == 0, "%.0f Hz, block %ld: %ld allocations/frees/locks in process()", rate, blocks[b],
            cur->rt_calls);
      CHECK(cur->work_calls == 0, "%.0f Hz, block %ld: %ld allocations/frees/locks in work()", rate, blocks[b],
            cur->work_calls);
    }
    if (b == 0) {
      CHECK(acc >= 0.90, "%.0f Hz: the chords on display match %.1f %% of the frames (need 90 %%)", rate, 100 * acc);
      for (int e = 0; e < cur->n_events; e++)
        printf("  %7.3f s  %-8s  p %.2f  decided at %.3f s\n", cur->events[e].time, cur->events[e].name,
               (double)cur->events[e].confidence, cur->events[e].decided);
    } else {
      CHECK(same_events(ref, cur), "%.0f Hz: blocks of %ld give other events than blocks of 64", rate, blocks[b]);
    }
  }

  /* Latency: for every true change, the first event naming the new chord.
   * Its `decided` is the input that was processed (to the block), and
   * decided - change is the declared latency within one hop (the change falls
   * between two hops; the network may take a frame to be sure). */
  int measured = 0;
  double delays[N_CHORDS];
  for (int k = 1; k + 1 < n_seg; k++) {
    for (int e = 0; e < ref->n_events; e++) {
      if (ref->events[e].chord != seg[k].chord || ref->events[e].time < seg[k].start - 2 * hop) continue;
      CHECK(fabs(ref->events[e].decided - ref->seen_at[e]) <= 64 / rate + 1e-9,
            "event %d: decided %.4f s, read after %.4f s of input", e, ref->events[e].decided, ref->seen_at[e]);
      CHECK(fabs(ref->events[e].decided - ref->events[e].time - (latency - hop)) < 1e-9,
            "event %d: decided %.4f s for a chord at %.4f s", e, ref->events[e].decided, ref->events[e].time);
      if (measured < N_CHORDS) delays[measured++] = ref->events[e].decided - seg[k].start;
      break;
    }
  }
  /* the median: a chord the network takes longer to be sure of (C -> A:min
   * shares two notes, and C's decay lingers) is its delay, not the pipeline's */
  for (int i = 1; i < measured; i++)
    for (int j = i; j > 0 && delays[j] < delays[j - 1]; j--) {
      double t = delays[j];
      delays[j] = delays[j - 1];
      delays[j - 1] = t;
    }
  double median = measured ? (measured % 2 ? delays[measured / 2]
                                           : 0.5 * (delays[measured / 2 - 1] + delays[measured / 2]))
                           : 0;
  printf("%.0f Hz: declared latency %.1f ms; measured over %d changes: median %.1f ms, fastest %.1f, slowest %.1f "
         "(hop %.0f ms)\n",
         rate, 1e3 * latency, measured, 1e3 * median, measured ? 1e3 * delays[0] : 0,
         measured ? 1e3 * delays[measured - 1] : 0, 1e3 * hop);
  CHECK(measured >= N_CHORDS - 1, "only %d of %d changes were found", measured, N_CHORDS);
  CHECK(fabs(median - latency) <= hop + 1e-9, "median measured latency %.1f ms vs declared %.1f ms", 1e3 * median,
        1e3 * latency);
  CHECK(latency <= 0.300, "declared latency %.0f ms is over 300 ms", 1e3 * latency);

  /* The worker on its own thread gives the same events. */
  run_threaded(m, rate, x, n, r);
  CHECK(same_events(ref, r), "%.0f Hz: the threaded worker gave %d events, the synchronous one %d", rate, r->n_events,
        ref->n_events);
  free(ref);
  free(r);
  free(x);
}

/* ------------------------------------------------------------------ tuning */

/* The first time (s) from which the front end stays within tol cents of
 * `cents`, looking at samples [from, to) of the trace; -1 if never. */
static double settled_at(const run_result *r, int from, int to, double cents, double tol) {
  int first = -1;
  for (int i = from; i < to && i < r->n_tuning; i++) {
    double c = 1200.0 * log2(r->tuning_hz[i] / 440.0);
    if (fabs(c - cents) <= tol) {
      if (first < 0) first = i;
    } else {
      first = -1;
    }
  }
  return first < 0 ? -1 : 0.1 * (first + 1);
}

static void test_tuning(const chordlet_model *m) {
  const double rate = 48000;
  segment seg[2 * N_CHORDS + 2];
  int n_seg;
  size_t n;
  run_result *r = calloc(1, sizeof *r);
  chordlet_error err;
  chordlet_stream *probe = NULL;
  CHECK(chordlet_stream_create(m, rate, 64, NULL, &probe, &err) == CHORDLET_OK, "%s", err.message);
  const double hop = chordlet_stream_hop(probe), latency = chordlet_stream_latency(probe);
  double hz = chordlet_stream_tuning(probe, NULL);
  CHECK(hz == 440.0, "a new stream starts at 440 Hz, not %g", hz);
  CHECK(chordlet_stream_set_tuning(probe, 399.0) == CHORDLET_ERR_RANGE &&
            chordlet_stream_set_tuning(probe, 481.0) == CHORDLET_ERR_RANGE &&
            chordlet_stream_set_tuning(probe, NAN) == CHORDLET_ERR_RANGE && chordlet_stream_set_tuning(probe, 415) == 0,
        "set_tuning's range");
  chordlet_stream_free(probe);

  /* +40 cents: the estimate within 5 cents within 5 s, the chords right. */
  float *x = progression_tuned(rate, 1, 40.0, 40.0, &n, seg, &n_seg);
  run_blocks(m, rate, x, n, 64, r);
  double t40 = settled_at(r, 0, r->n_tuning, 40.0, 5.0);
  double acc = agreement(r, seg, n_seg, hop);
  printf("+40 cents: the front end within 5 cents of it from %.1f s (A4 %.2f Hz at the end); %.1f %% of frames "
         "right; process() %ld, work() %ld allocations/frees/locks\n",
         t40, r->tuning_hz[r->n_tuning - 1], 100 * acc, r->rt_calls, r->work_calls);
  CHECK(t40 >= 0 && t40 <= 5.0, "+40 cents: the estimate settles at %.1f s (need <= 5 s)", t40);
  CHECK(acc >= 0.90, "+40 cents: %.1f %% of frames right (need 90 %%)", 100 * acc);
  if (!UNDER_ASAN) CHECK(r->rt_calls == 0 && r->work_calls == 0, "allocations/locks with the tuning tracker");
  free(x);

  /* The progression twice, +40 cents then -20: the estimate follows. */
  x = progression_tuned(rate, 2, 40.0, -20.0, &n, seg, &n_seg);
  run_blocks(m, rate, x, n, 64, r);
  const double half = LEAD_IN + N_CHORDS * CHORD_SECONDS;
  const int at_half = (int)(half / 0.1);
  double before = settled_at(r, 0, at_half, 40.0, 5.0), after = settled_at(r, at_half, r->n_tuning, -20.0, 5.0);
  double acc_after = agreement_between(r, seg, n_seg, hop, half + 5.0, 2 * half - LEAD_IN);
  printf("+40 then -20 cents at %.1f s: within 5 cents of +40 from %.1f s, of -20 from %.1f s (%.1f s after the "
         "change); %.1f %% of frames right from 5 s after it; latency declared %.0f ms\n",
         half, before, after, after - half, 100 * acc_after, 1e3 * latency);
  CHECK(before >= 0 && before <= 5.0, "+40: settles at %.1f s", before);
  CHECK(after >= 0 && after - half <= 5.0, "-20 after the change: settles %.1f s after it", after - half);
  CHECK(acc_after >= 0.90, "after the change: %.1f %% of frames right", 100 * acc_after);
  if (!UNDER_ASAN) CHECK(r->rt_calls == 0 && r->work_calls == 0, "allocations/locks with the tuning tracker");
  free(x);

  /* A fixed A4 of 415 Hz (baroque pitch): music there is named as at 440. */
  x = progression_tuned(rate, 1, tuning_cents(415.0), tuning_cents(415.0), &n, seg, &n_seg);
  chordlet_stream_options o;
  chordlet_stream_options_default(&o);
  o.tuning_hz = 415.0;
  chordlet_stream *s = NULL;
  CHECK(chordlet_stream_create(m, rate, 64, &o, &s, &err) == CHORDLET_OK, "%s", err.message);
  memset(r, 0, sizeof *r);
  if (s) {
    feed_song(s, x, n, r);
    CHECK(fabs(chordlet_stream_tuning(s, NULL) - 415.0) < 1e-9, "fixed at 415 Hz: %g", chordlet_stream_tuning(s, NULL));
    acc = agreement(r, seg, n_seg, hop);
    printf("fixed A4 = 415 Hz on music at 415 Hz: %.1f %% of frames right\n", 100 * acc);
    CHECK(acc >= 0.90, "at 415 Hz: %.1f %% of frames right", 100 * acc);
    chordlet_stream_free(s);
  }
  o.tuning_hz = 500;
  CHECK(chordlet_stream_create(m, rate, 64, &o, &s, &err) == CHORDLET_ERR_RANGE && strstr(err.message, "400"),
        "A4 = 500 Hz refused: %s", err.message);
  free(x);
  free(r);
}

/* --------------------------------------------- reset, bad input, bad use */

static void test_robustness(const chordlet_model *m) {
  const double rate = 48000;
  segment seg[N_CHORDS + 2];
  int n_seg;
  size_t n;
  float *x = progression(rate, &n, seg, &n_seg);
  chordlet_error err;
  chordlet_stream *s = NULL;
  CHECK(chordlet_stream_create(m, rate, 512, NULL, &s, &err) == CHORDLET_OK, "%s", err.message);
  if (!s) return;

  /* Half the song, a reset (events not read yet), then the whole song: the
   * events after it start from time 0 again and equal a fresh stream's, bit
   * for bit (confidence and tuning too: the tuning tracker and the front
   * end's kernels start over as well, so what came before cannot matter). */
  run_result *fresh = calloc(1, sizeof *fresh);
  run_blocks(m, rate, x, n, 512, fresh);
  for (size_t done = 0; done < n / 2; done += 512) {
    const float *ch[1] = {x + done};
    chordlet_stream_process(s, ch, 1, 512);
    chordlet_stream_work(s);
  }
  count_on();
  chordlet_stream_reset(s);
  long reset_calls = count_off();
  if (!UNDER_ASAN) CHECK(reset_calls == 0, "reset() made %ld allocations/frees/locks", reset_calls);
  run_result *after = calloc(1, sizeof *after);
  feed_song(s, x, n, after);
  int same = after->n_events == fresh->n_events, n_after = after->n_events;
  for (int k = 0; same && k < n_after; k++)
    same = after->events[k].frame == fresh->events[k].frame && after->events[k].chord == fresh->events[k].chord &&
           after->events[k].confidence == fresh->events[k].confidence &&
           after->events[k].tuning_hz == fresh->events[k].tuning_hz;
  CHECK(same && n_after == fresh->n_events, "after reset: %d events, a fresh stream %d (same: %d)", n_after,
        fresh->n_events, same);

  /* Hostile input: NaN, infinities, clipping at +-10, DC, silence. Nothing
   * crashes, every event is a real chord with a finite confidence, silence
   * ends in N, and the song afterwards is still recognised. */
  const size_t block = 480;
  float *junk = malloc(block * sizeof *junk);
  int bad_events = 0, shown = -1;
  for (int kind = 0; kind < 5; kind++) {
    for (int rep = 0; rep < (kind == 4 ? 300 : 100); rep++) { /* 1 s of each, 3 s of silence */
      for (size_t i = 0; i < block; i++) {
        switch (kind) {
        case 0: junk[i] = (i % 3) ? NAN : 0.5f; break;
        case 1: junk[i] = (i % 2) ? INFINITY : -INFINITY; break;
        case 2: junk[i] = x[(size_t)(rep * block + i + n / 3) % n] * 80.0f; break; /* clipped later */
        case 3: junk[i] = 0.7f; break;
        default: junk[i] = 0; break;
        }
        if (kind == 2) junk[i] = junk[i] > 10 ? 10 : junk[i] < -10 ? -10 : junk[i];
      }
      const float *ch[1] = {junk};
      chordlet_stream_process(s, ch, 1, block);
      chordlet_stream_work(s);
      chordlet_event e;
      while (chordlet_stream_next_event(s, &e)) {
        bad_events += !(e.chord >= 0 && e.chord < 170) || !isfinite(e.confidence) || e.confidence < 0 ||
                      e.confidence > 1.0001f;
        shown = e.chord;
      }
    }
  }
  CHECK(bad_events == 0, "%d events with a bad chord or confidence after NaN/Inf/clipped/DC input", bad_events);
  CHECK(shown == 169, "3 s of silence after the junk show chord %d, not N", shown);
  chordlet_stream_reset(s);
  feed_song(s, x, n, after);
  double acc = agreement(after, seg, n_seg, chordlet_stream_hop(s));
  CHECK(acc >= 0.90, "after hostile input and a reset, only %.1f %% right", 100 * acc);

  /* Stereo: the same signal in both channels is the mono signal; a missing
   * channel pointer is silence, not a crash. */
  chordlet_stream_reset(s);
  const float *two[2] = {x, NULL};
  chordlet_stream_process(s, two, 2, 4096);
  chordlet_stream_process(s, NULL, 0, 4096);
  chordlet_stream_work(s);
  chordlet_stream_free(s);

  /* Bad arguments. */
  chordlet_stream_options o;
  chordlet_stream_options_default(&o);
  CHECK(chordlet_stream_create(m, 1000, 512, NULL, &s, &err) == CHORDLET_ERR_RANGE && s == NULL &&
            strstr(err.message, "sample rate"),
        "a 1 kHz stream: %s", err.message);
  CHECK(chordlet_stream_create(m, 48000, 0, NULL, &s, &err) == CHORDLET_ERR_RANGE, "a block of 0 frames");
  o.smoothing_frames = 51;
  CHECK(chordlet_stream_create(m, 48000, 512, &o, &s, &err) == CHORDLET_ERR_RANGE && strstr(err.message, "smoothing"),
        "smoothing 51: %s", err.message);
  o.smoothing_frames = 4;
  o.min_confidence = NAN;
  CHECK(chordlet_stream_create(m, 48000, 512, &o, &s, &err) == CHORDLET_ERR_RANGE, "a NaN confidence threshold");
  CHECK(chordlet_stream_create(NULL, 48000, 512, NULL, &s, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "no model");
  chordlet_stream_process(NULL, NULL, 0, 10); /* NULL streams are ignored */
  CHECK(chordlet_stream_work(NULL) == 0, "work(NULL)");
  free(junk);
  free(fresh);
  free(after);
  free(x);
}

static void test_model_errors(void) {
  chordlet_error err;
  chordlet_model *m = NULL;
  CHECK(chordlet_model_load("no/such/model.chordlet", &m, &err) != CHORDLET_OK && m == NULL &&
            strstr(err.message, "no/such/model.chordlet"),
        "a missing file: %s", err.message);
  /* The teacher (the importer's file, made by make; missing: skipped) cannot stream. */
  if (chordlet_model_load("models/teacher.chordlet", &m, &err) != CHORDLET_ERR_IO)
    CHECK(m == NULL && strstr(err.message, "cannot run live"), "the teacher: %s", err.message);
  FILE *f = fopen("build/test-logs/live-truncated.chordlet", "wb");
  FILE *src = fopen(MODEL, "rb");
  if (f && src) {
    char buf[65536];
    size_t got = fread(buf, 1, sizeof buf, src);
    fwrite(buf, 1, got / 2, f);
  }
  if (f) fclose(f);
  if (src) fclose(src);
  CHECK(chordlet_model_load("build/test-logs/live-truncated.chordlet", &m, &err) != CHORDLET_OK && m == NULL,
        "a truncated model was accepted");
  printf("truncated model: %s\n", err.message);
  chordlet_model_free(NULL);
}

/* The file-mode student (models/offline.chordlet, 3.84 s of lookahead)
 * loads; a stream takes it only when the caller accepts that latency. */
static void test_lookahead_bound(const chordlet_model *live) {
  chordlet_error err;
  chordlet_model *m = NULL;
  CHECK(chordlet_model_load("models/offline.chordlet", &m, &err) == CHORDLET_OK, "the file-mode model: %s",
        err.message);
  if (!m) return;
  const double ahead = chordlet_model_lookahead_seconds(m);
  CHECK(fabs(ahead - 3.84) < 1e-6, "the file-mode model looks %g s ahead, not 3.84", ahead);
  CHECK(chordlet_model_lookahead_seconds(live) <= CHORDLET_LIVE_LOOKAHEAD_SECONDS &&
            chordlet_model_lookahead_seconds(NULL) == 0.0,
        "the live model looks %g s ahead", chordlet_model_lookahead_seconds(live));
  chordlet_stream *s = NULL;
  CHECK(chordlet_stream_create(m, 48000, 512, NULL, &s, &err) == CHORDLET_ERR_RANGE && s == NULL &&
            strstr(err.message, "file-mode") && strstr(err.message, "3.84 s"),
        "default options took a file-mode model: %s", err.message);
  printf("file-mode model, default options: %s\n", err.message);
  chordlet_stream_options o;
  chordlet_stream_options_default(&o);
  CHECK(o.max_lookahead_seconds == CHORDLET_LIVE_LOOKAHEAD_SECONDS, "default lookahead bound %g",
        o.max_lookahead_seconds);
  const double bad[] = {-1.0, CHORDLET_MAX_LOOKAHEAD_SECONDS + 1, NAN};
  for (int i = 0; i < 3; i++) {
    o.max_lookahead_seconds = bad[i];
    CHECK(chordlet_stream_create(live, 48000, 512, &o, &s, &err) == CHORDLET_ERR_RANGE && s == NULL,
          "a lookahead bound of %g s was accepted", bad[i]);
  }
  o.max_lookahead_seconds = 3.83;
  CHECK(chordlet_stream_create(m, 48000, 512, &o, &s, &err) == CHORDLET_ERR_RANGE && s == NULL,
        "a bound of 3.83 s took a model that looks 3.84 s ahead");
  o.max_lookahead_seconds = CHORDLET_MAX_LOOKAHEAD_SECONDS;
  CHECK(chordlet_stream_create(m, 48000, 512, &o, &s, &err) == CHORDLET_OK && s != NULL,
        "a bound of %g s refused the file-mode model: %s", o.max_lookahead_seconds, err.message);
  if (s) {
    const double latency = chordlet_stream_latency(s);
    printf("file-mode model streaming: hop %.0f ms, latency %.0f ms\n", 1e3 * chordlet_stream_hop(s), 1e3 * latency);
    CHECK(latency > ahead && latency < ahead + 1.0, "file-mode stream latency %g s", latency);
  }
  chordlet_stream_free(s);
  chordlet_model_free(m);
}

int main(void) {
#if !UNDER_ASAN
  CHECK(interposer_self_check(), "the interposer does not count");
#else
  printf("ASan build: allocation counting is off (ASan owns malloc); the RT checks run in the plain build\n");
#endif
  test_smoother();
  chordlet_error err;
  chordlet_model *m = NULL;
  if (chordlet_model_load(MODEL, &m, &err) != CHORDLET_OK) {
    fprintf(stderr, "cannot load %s: %s\n", MODEL, err.message);
    return 1;
  }
  printf("model %s\n", chordlet_model_name(m));
  test_progression(m, 44100);
  test_progression(m, 48000);
  test_robustness(m);
  test_tuning(m);
  test_model_errors();
  test_lookahead_bound(m);
  chordlet_model_free(m);
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures ? 1 : 0;
}
