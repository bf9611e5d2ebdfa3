/* train_checkpoint.c: a training run's state on disk (train_checkpoint.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "modelfile.h"
#include "train_checkpoint.h"

#define KEY_STEP "checkpoint.step"
#define KEY_BEST "checkpoint.best_score"
#define KEY_BEST_STEP "checkpoint.best_step"
#define KEY_OPTIONS "checkpoint.options"
#define KEY_KIND "checkpoint.kind"

chordlet_status train_state_alloc(train_state *s, const student_config *c, chordlet_error *err) {
  memset(s, 0, sizeof *s);
  s->config = *c;
  student_layout(c, NULL, &s->n_floats);
  s->params = calloc(s->n_floats, sizeof *s->params);
  s->adam_m = calloc(s->n_floats, sizeof *s->adam_m);
  s->adam_v = calloc(s->n_floats, sizeof *s->adam_v);
  s->best_score = -1;
  s->best_step = -1;
  if (!s->params || !s->adam_m || !s->adam_v) {
    train_state_free(s);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for the training state");
  }
  return CHORDLET_OK;
}

chordlet_status train_state_alloc_ema(train_state *s, chordlet_error *err) {
  free(s->ema);
  if (!(s->ema = malloc(s->n_floats * sizeof *s->ema)))
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for the weights' average");
  memcpy(s->ema, s->params, s->n_floats * sizeof *s->ema);
  return CHORDLET_OK;
}

void train_state_free(train_state *s) {
  free(s->params);
  free(s->adam_m);
  free(s->adam_v);
  free(s->ema);
  s->params = s->adam_m = s->adam_v = s->ema = NULL;
}

chordlet_status train_checkpoint_save(const train_state *s, const char *path, chordlet_error *err) {
  model_writer *w = model_writer_create();
  if (!w) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  const int64_t dims[1] = {(int64_t)s->n_floats};
  chordlet_status st;
  (void)((st = student_write(w, &s->config, s->params, err)) ||
         (st = model_writer_set_str(w, KEY_KIND, "training-checkpoint", err)) ||
         (st = model_writer_set_i64(w, KEY_STEP, s->step, err)) ||
         (st = model_writer_set_f64(w, KEY_BEST, s->best_score, err)) ||
         (st = model_writer_set_i64(w, KEY_BEST_STEP, s->best_step, err)) ||
         (st = model_writer_set_str(w, KEY_OPTIONS, s->options, err)) ||
         (st = model_writer_add_tensor(w, "adam.m", 1, dims, s->adam_m, err)) ||
         (st = model_writer_add_tensor(w, "adam.v", 1, dims, s->adam_v, err)) ||
         (s->ema && (st = model_writer_add_tensor(w, "ema", 1, dims, s->ema, err))) ||
         (st = model_writer_save(w, path, err)));
  model_writer_free(w);
  return st;
}

chordlet_status train_checkpoint_load(train_state *s, const char *path, chordlet_error *err) {
  model_file *m = NULL;
  chordlet_status st = model_file_load(path, &m, err);
  if (st) return st;
  student_config c;
  const char *kind = NULL, *options = NULL;
  int64_t step = 0, best_step = 0;
  double best = 0;
  const float *am = NULL, *av = NULL;
  memset(s, 0, sizeof *s);
  if ((st = model_file_get_str(m, KEY_KIND, &kind, err)) || (st = student_config_read(m, &c, err)) ||
      (st = model_file_get_i64(m, KEY_STEP, &step, err)) || (st = model_file_get_f64(m, KEY_BEST, &best, err)) ||
      (st = model_file_get_i64(m, KEY_BEST_STEP, &best_step, err)) ||
      (st = model_file_get_str(m, KEY_OPTIONS, &options, err)))
    goto done;
  if (strcmp(kind, "training-checkpoint") || step < 0) {
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s is not a training checkpoint", path);
    goto done;
  }
  if ((st = student_check_params(m, &c, err)) || (st = train_state_alloc(s, &c, err))) goto done;
  const int dims[1] = {(int)s->n_floats};
  if ((st = student_read_params(m, &c, s->params, err)) ||
      (st = model_file_expect_tensor(m, "adam.m", 1, dims, &am, err)) ||
      (st = model_file_expect_tensor(m, "adam.v", 1, dims, &av, err)))
    goto done;
  memcpy(s->adam_m, am, s->n_floats * sizeof *am);
  memcpy(s->adam_v, av, s->n_floats * sizeof *av);
  if (model_file_tensor(m, "ema")) { /* a run with --ema */
    const float *ema = NULL;
    if ((st = model_file_expect_tensor(m, "ema", 1, dims, &ema, err)) || (st = train_state_alloc_ema(s, err)))
      goto done;
    memcpy(s->ema, ema, s->n_floats * sizeof *ema);
  }
  s->step = (long)step;
  s->best_score = best;
  s->best_step = (long)best_step;
  snprintf(s->options, sizeof s->options, "%s", options);
done:
  if (st) train_state_free(s);
  model_file_free(m);
  return st;
}
