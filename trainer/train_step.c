/* train_step.c: a step's gradient in slots, summed exactly over threads and
 * ranks (train_step.h). */
#define _POSIX_C_SOURCE 200809L
#include "train_step.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"

enum { MAX_THREADS = 16 };
/* Per slot, in the statistics every rank sees. */
enum { ST_FRAMES, ST_CORRECT, ST_LABELLED, ST_LOSS, ST_FOCAL, ST_KD, ST_MAXABS, ST_N };

typedef struct thread_state {
  student_trainer *trainer;
  float *x, *teacher; /* one window: (frames, n_bins), (frames, K) or NULL */
  int *labels;        /* (frames) */
} thread_state;

struct grad_step {
  const student_config *c;
  size_t n_floats;
  int batch, frames, n_bins, n_classes, n_threads;
  int max_local;          /* slots one rank can hold: ceil(batch / ranks) */
  thread_state th[MAX_THREADS];
  float *slot_grads;      /* (max_local, n_floats) */
  int64_t *sum;           /* (n_floats) */
  double *stats;          /* (batch, ST_N) */
  /* this call */
  const float *params;
  const batch_item *items;
  const loss_options *loss;
  unsigned long long seed;
  int first, n_local;     /* the rank's slots: first .. first + n_local - 1 */
  int exponent;           /* the scale 2^exponent of the integer sums */
};

typedef struct job {
  grad_step *g;
  int k; /* the thread */
} job;

grad_step *grad_step_create(const student_config *c, size_t n_floats, int batch, int frames, int n_bins,
                            int n_classes, bool teacher, int n_threads) {
  grad_step *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  const int ranks = dist_size();
  g->c = c;
  g->n_floats = n_floats;
  g->batch = batch;
  g->frames = frames;
  g->n_bins = n_bins;
  g->n_classes = n_classes;
  g->max_local = (batch + ranks - 1) / ranks;
  g->n_threads = n_threads < 1 ? 1 : n_threads > MAX_THREADS ? MAX_THREADS : n_threads;
  if (g->n_threads > g->max_local) g->n_threads = g->max_local;
  bool bad = false;
  for (int k = 0; k < g->n_threads; k++) {
    thread_state *t = &g->th[k];
    t->trainer = student_trainer_create(c, 1, frames);
    t->x = malloc((size_t)frames * n_bins * sizeof *t->x);
    t->labels = malloc((size_t)frames * sizeof *t->labels);
    t->teacher = teacher ? malloc((size_t)frames * n_classes * sizeof *t->teacher) : NULL;
    bad |= !t->trainer || !t->x || !t->labels || (teacher && !t->teacher);
  }
  g->slot_grads = malloc((size_t)g->max_local * n_floats * sizeof *g->slot_grads);
  g->sum = malloc(n_floats * sizeof *g->sum);
  g->stats = malloc((size_t)batch * ST_N * sizeof *g->stats);
  if (bad || !g->slot_grads || !g->sum || !g->stats) {
    grad_step_free(g);
    return NULL;
  }
  return g;
}

void grad_step_free(grad_step *g) {
  if (!g) return;
  for (int k = 0; k < MAX_THREADS; k++) {
    student_trainer_free(g->th[k].trainer);
    free(g->th[k].x);
    free(g->th[k].labels);
    free(g->th[k].teacher);
  }
  free(g->slot_grads);
  free(g->sum);
  free(g->stats);
  free(g);
}

size_t grad_step_bytes_reduced(const grad_step *g) {
  return g->n_floats * sizeof(int64_t) + (size_t)g->batch * ST_N * sizeof(double);
}

/* Runs `fn` on every thread (the caller's as thread 0). */
static void run_threads(grad_step *g, void *(*fn)(void *)) {
  job jobs[MAX_THREADS];
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int k = 1; k < g->n_threads; k++) {
    jobs[k] = (job){g, k};
    started[k] = pthread_create(&tids[k], NULL, fn, &jobs[k]) == 0;
    if (!started[k]) fn(&jobs[k]);
  }
  jobs[0] = (job){g, 0};
  fn(&jobs[0]);
  for (int k = 1; k < g->n_threads; k++)
    if (started[k]) pthread_join(tids[k], NULL);
}

/* Phase 1: thread k trains the rank's slots k, k + T, ... one window each. */
static void *compute_slots(void *arg) {
  const job *jb = arg;
  grad_step *g = jb->g;
  thread_state *t = &g->th[jb->k];
  const int F = g->frames, K = g->n_classes;
  for (int i = jb->k; i < g->n_local; i += g->n_threads) {
    const int slot = g->first + i;
    const batch_item *item = &g->items[slot];
    float *grads = g->slot_grads + (size_t)i * g->n_floats;
    /* A set loaded without the teacher (KD weight 0 on the labelled windows,
     * beside --kd-train's): its window's teacher rows are zeros, finite and unused. */
    float *teacher = t->teacher;
    if (teacher && !item->set->teacher) {
      memset(teacher, 0, (size_t)F * K * sizeof *teacher);
      teacher = NULL;
    }
    train_window_fill(item->set, &item->window, F, item->target, t->x, t->labels, teacher);
    memset(grads, 0, g->n_floats * sizeof *grads);
    loss_report rep;
    memset(&rep, 0, sizeof rep);
    student_trainer_step(t->trainer, g->params, grads, t->x, t->labels, t->teacher, 1, g->loss, 1,
                         g->seed + (unsigned long long)slot, &rep);
    /* the slot's share of the batch's summed gradient is grads * frames;
     * non-finite entries are zeroed (as clipping always did) */
    double maxabs = 0;
    for (size_t p = 0; p < g->n_floats; p++) {
      if (!isfinite(grads[p])) grads[p] = 0;
      const double v = fabs((double)grads[p] * (double)rep.frames);
      if (v > maxabs) maxabs = v;
    }
    double *st = g->stats + (size_t)slot * ST_N;
    st[ST_FRAMES] = (double)rep.frames;
    st[ST_CORRECT] = (double)rep.correct;
    st[ST_LABELLED] = (double)rep.labelled;
    st[ST_LOSS] = rep.loss;
    st[ST_FOCAL] = rep.focal;
    st[ST_KD] = rep.kd;
    st[ST_MAXABS] = maxabs;
  }
  return NULL;
}

/* Phase 2: thread k sums the rank's slots over its range of parameters, as
 * integers at the batch's scale. */
static void *sum_slots(void *arg) {
  const job *jb = arg;
  grad_step *g = jb->g;
  const size_t lo = g->n_floats * (size_t)jb->k / (size_t)g->n_threads,
               hi = g->n_floats * (size_t)(jb->k + 1) / (size_t)g->n_threads;
  for (size_t p = lo; p < hi; p++) g->sum[p] = 0;
  for (int i = 0; i < g->n_local; i++) {
    const float *grads = g->slot_grads + (size_t)i * g->n_floats;
    const double frames = g->stats[(size_t)(g->first + i) * ST_N + ST_FRAMES];
    for (size_t p = lo; p < hi; p++) g->sum[p] += llrint(ldexp((double)grads[p] * frames, g->exponent));
  }
  return NULL;
}

void grad_step_run(grad_step *g, const float *params, const batch_item *items, int n_items, const loss_options *loss,
                   unsigned long long seed, float *grads, step_totals *out) {
  const int rank = dist_rank(), ranks = dist_size();
  if (n_items > g->batch) n_items = g->batch;
  g->params = params;
  g->items = items;
  g->loss = loss;
  g->seed = seed;
  g->first = (int)((long)n_items * rank / ranks);
  g->n_local = (int)((long)n_items * (rank + 1) / ranks) - g->first;
  memset(g->stats, 0, (size_t)n_items * ST_N * sizeof *g->stats);
  run_threads(g, compute_slots);
  dist_sum_f64(g->stats, (size_t)n_items * ST_N); /* one rank wrote each slot: exact */

  memset(out, 0, sizeof *out);
  double maxabs = 0;
  bool finite = true;
  for (int j = 0; j < n_items; j++) {
    const double *st = g->stats + (size_t)j * ST_N;
    out->frames += (long)st[ST_FRAMES];
    out->correct += (long)st[ST_CORRECT];
    out->labelled += (long)st[ST_LABELLED];
    finite &= isfinite(st[ST_LOSS]) != 0;
    if (st[ST_MAXABS] > maxabs) maxabs = st[ST_MAXABS];
  }
  for (int j = 0; j < n_items && out->frames > 0; j++) { /* slot order: the same sums on every rank */
    const double *st = g->stats + (size_t)j * ST_N, share = st[ST_FRAMES] / (double)out->frames;
    out->loss += share * st[ST_LOSS];
    out->focal += share * st[ST_FOCAL];
    out->kd += share * st[ST_KD];
  }
  out->finite = finite;
  if (!finite || out->frames == 0) { /* every rank sees the same: all skip the reduction */
    memset(grads, 0, g->n_floats * sizeof *grads);
    return;
  }
  /* |slot value| * 2^e <= 2^(62 - bits), so n_items of them sum below 2^62 */
  int bits = 0;
  while ((1L << bits) < n_items) bits++;
  int k = 0;
  if (maxabs > 0) frexp(maxabs, &k); /* maxabs < 2^k */
  g->exponent = maxabs > 0 ? 62 - bits - k : 0;
  run_threads(g, sum_slots);
  dist_sum_i64(g->sum, g->n_floats);
  const double frames = (double)out->frames;
  for (size_t p = 0; p < g->n_floats; p++) grads[p] = (float)(ldexp((double)g->sum[p], -g->exponent) / frames);
}
