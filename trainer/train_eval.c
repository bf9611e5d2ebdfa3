/* train_eval.c: validation frame accuracy (train_eval.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "train_eval.h"

enum { EVAL_MAX_THREADS = 16 };

typedef struct eval_worker {
  const student_config *c;
  const float *params;
  const train_set *set;
  int first, step; /* songs first, first + step, ... */
  long frames, correct;
  chordlet_status status;
  chordlet_error err;
} eval_worker;

static void *eval_run(void *arg) {
  eval_worker *w = arg;
  const int B = w->set->n_bins, K = w->c->n_classes;
  for (int k = w->first; k < w->set->n_songs && !w->status; k += w->step) {
    const train_song *song = &w->set->songs[k];
    const int T = song->n_frames;
    float *x = malloc((size_t)T * B * sizeof *x), *logits = malloc((size_t)T * K * sizeof *logits);
    if (!x || !logits) {
      w->status = chordlet_fail(&w->err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    } else {
      for (size_t i = 0; i < (size_t)T * B; i++) x[i] = half_to_float(w->set->features[song->offset * B + i]);
      w->status = student_forward(w->c, w->params, x, T, logits, &w->err);
      for (int t = 0; t < T && !w->status; t++) {
        const int label = w->set->labels[song->offset + t];
        if (label < 0) continue;
        const float *z = logits + (size_t)t * K;
        int best = 0;
        for (int j = 1; j < K; j++)
          if (z[j] > z[best]) best = j;
        w->frames++;
        w->correct += best == label;
      }
    }
    free(x);
    free(logits);
  }
  return NULL;
}

chordlet_status train_eval_frame_counts(const student_config *c, const float *params, const train_set *set,
                                        int n_threads, int shard, int n_shards, long *frames_out, long *correct_out,
                                        chordlet_error *err) {
  if (n_threads < 1) n_threads = 1;
  if (n_threads > EVAL_MAX_THREADS) n_threads = EVAL_MAX_THREADS;
  eval_worker w[EVAL_MAX_THREADS];
  pthread_t tid[EVAL_MAX_THREADS];
  int started[EVAL_MAX_THREADS] = {0};
  for (int k = 0; k < n_threads; k++) {
    memset(&w[k], 0, sizeof w[k]);
    /* shard s of S takes songs s, s + S, ...; its thread k every n_threads-th of those */
    w[k] = (eval_worker){.c = c, .params = params, .set = set, .first = shard + k * n_shards,
                         .step = n_threads * n_shards};
    if (k > 0) started[k] = pthread_create(&tid[k], NULL, eval_run, &w[k]) == 0;
    if (k > 0 && !started[k]) eval_run(&w[k]);
  }
  eval_run(&w[0]);
  long frames = 0, correct = 0;
  chordlet_status st = CHORDLET_OK;
  for (int k = 0; k < n_threads; k++) {
    if (k > 0 && started[k]) pthread_join(tid[k], NULL);
    if (w[k].status && !st) st = chordlet_fail(err, w[k].status, "%s", w[k].err.message);
    frames += w[k].frames;
    correct += w[k].correct;
  }
  *frames_out = frames;
  *correct_out = correct;
  return st;
}

chordlet_status train_eval_frame_accuracy(const student_config *c, const float *params, const train_set *set,
                                          int n_threads, double *accuracy, chordlet_error *err) {
  long frames = 0, correct = 0;
  chordlet_status st = train_eval_frame_counts(c, params, set, n_threads, 0, 1, &frames, &correct, err);
  *accuracy = frames ? (double)correct / (double)frames : 0.0;
  return st;
}
