/*
 * export.c: `chordlet-train export IN OUT`: a student model (a run's
 * best.chordlet or final.chordlet) as the model file
 * chordlet ships: every metadata key and the student's tensors copied
 * (nothing else: no optimiser state, no checkpoint keys), and chosen keys set (the
 * decoder's switch penalty and change advance, the name, the description). The output is
 * checked by loading it back as the student (student_config_read and
 * student_read_params), then written atomically.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_keys.h"
#include "modelfile.h"
#include "recognizer.h"
#include "student.h"
#include "tuning.h"

#define PROGRAM "chordlet-train export"

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet-train export [options] IN.chordlet OUT.chordlet\n"
          "\n"
          "Copies a student model (a run's best.chordlet or final.chordlet) into the\n"
          "model file chordlet ships, setting:\n"
          "  --switch-penalty X   the Viterbi decoder's cost of a chord change\n"
          "  --change-advance S   write a file's chord changes S seconds earlier than the\n"
          "                       frames place them (-0.5..0.5): the network's lateness,\n"
          "                       measured on the validation split (chordlet transcribe\n"
          "                       --change-advance)\n"
          "  --name NAME          model.name\n"
          "  --description TEXT   model.description\n"
          "  --init-provenance M  also record the data and stages of the model M the run\n"
          "                       started from (stage 2: its stage-1 model) as\n"
          "                       train.init_data and train.init_stages\n");
}

static int dropped(const char *key) { return !strncmp(key, "checkpoint.", 11); }

int cmd_export(int argc, char **argv) {
  const char *in = NULL, *out = NULL, *name = NULL, *description = NULL, *init = NULL;
  double penalty = -1, advance = 0;
  int advance_given = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return TRAIN_EXIT_OK;
    } else if (!strcmp(a, "--switch-penalty") && i + 1 < argc) {
      char *end = NULL;
      penalty = strtod(argv[++i], &end);
      if (!end || *end || !(penalty >= 0 && penalty < 1e6)) {
        fprintf(stderr, "%s: --switch-penalty wants a number >= 0\n", PROGRAM);
        return TRAIN_EXIT_USAGE;
      }
    } else if (!strcmp(a, "--change-advance") && i + 1 < argc) {
      char *end = NULL;
      advance = strtod(argv[++i], &end);
      if (!end || *end || !(fabs(advance) <= RECOGNIZER_MAX_ADVANCE)) {
        fprintf(stderr, "%s: --change-advance wants seconds from -%g to %g\n", PROGRAM, RECOGNIZER_MAX_ADVANCE,
                RECOGNIZER_MAX_ADVANCE);
        return TRAIN_EXIT_USAGE;
      }
      advance_given = 1;
    } else if (!strcmp(a, "--name") && i + 1 < argc) {
      name = argv[++i];
    } else if (!strcmp(a, "--init-provenance") && i + 1 < argc) {
      init = argv[++i];
    } else if (!strcmp(a, "--description") && i + 1 < argc) {
      description = argv[++i];
    } else if (a[0] == '-') {
      fprintf(stderr, "%s: unknown option '%s' (or it lacks its value)\n\n", PROGRAM, a);
      usage(stderr);
      return TRAIN_EXIT_USAGE;
    } else if (!in) {
      in = a;
    } else if (!out) {
      out = a;
    } else {
      usage(stderr);
      return TRAIN_EXIT_USAGE;
    }
  }
  if (!in || !out) {
    usage(stderr);
    return TRAIN_EXIT_USAGE;
  }
  chordlet_error err = {0};
  model_file *m = NULL;
  model_writer *w = NULL;
  float *params = NULL;
  student_config c;
  size_t n_floats = 0;
  chordlet_status st = model_file_load(in, &m, &err);
  if (!st) st = student_config_read(m, &c, &err);
  if (!st) st = student_check_params(m, &c, &err); /* before allocating what it claims */
  if (!st) {
    student_layout(&c, NULL, &n_floats);
    params = malloc(n_floats * sizeof *params);
    st = params ? student_read_params(m, &c, params, &err) : CHORDLET_ERR_NO_MEMORY;
  }
  const char *kind = NULL, *have_name = NULL;
  if (!st && model_file_get_str(m, MK_FRONTEND_KIND, &kind, NULL) != CHORDLET_OK) {
    snprintf(err.message, sizeof err.message,
             "%s has no front-end settings (a training checkpoint?): export a run's best.chordlet or final.chordlet",
             in);
    st = CHORDLET_ERR_PARSE;
  }
  if (!st && !name && model_file_get_str(m, MK_NAME, &have_name, NULL) != CHORDLET_OK) name = "student";
  if (!st && !(w = model_writer_create())) st = CHORDLET_ERR_NO_MEMORY;
  for (size_t i = 0; !st && i < model_file_n_meta(m); i++) {
    const model_meta *k = model_file_meta_at(m, i);
    if (dropped(k->key)) continue;
    if (init && (!strcmp(k->key, MK_TRAIN_INIT_DATA) || !strcmp(k->key, MK_TRAIN_INIT_STAGES))) continue;
    if (penalty >= 0 && !strcmp(k->key, MK_DECODER_PENALTY)) continue;
    if (advance_given && !strcmp(k->key, MK_DECODER_ADVANCE)) continue;
    if (name && !strcmp(k->key, MK_NAME)) continue;
    if (description && !strcmp(k->key, MK_DESCRIPTION)) continue;
    switch (k->type) {
    case MODEL_META_I64: st = model_writer_set_i64(w, k->key, k->i64, &err); break;
    case MODEL_META_F64: st = model_writer_set_f64(w, k->key, k->f64, &err); break;
    case MODEL_META_STR: st = model_writer_set_str(w, k->key, k->str, &err); break;
    case MODEL_META_I32_ARRAY: st = model_writer_set_i32_array(w, k->key, k->i32, k->count, &err); break;
    }
  }
  if (!st && init) { /* the run's starting point: its own data and stages */
    model_file *im = NULL;
    const char *data = NULL, *stages = NULL;
    st = model_file_load(init, &im, &err);
    if (!st) st = model_file_get_str(im, MK_TRAIN_DATA, &data, &err);
    if (!st) st = model_file_get_str(im, MK_TRAIN_STAGES, &stages, &err);
    if (!st) st = model_writer_set_str(w, MK_TRAIN_INIT_DATA, data, &err);
    if (!st) st = model_writer_set_str(w, MK_TRAIN_INIT_STAGES, stages, &err);
    model_file_free(im);
  }
  if (!st && penalty >= 0) st = model_writer_set_f64(w, MK_DECODER_PENALTY, penalty, &err);
  if (!st && advance_given) st = model_writer_set_f64(w, MK_DECODER_ADVANCE, advance, &err);
  /* A model made before the tuning estimator existed runs with its defaults
   * (tuning_params_read): the export writes them down, so every exported
   * student states the estimator it runs with. */
  if (!st && !tuning_params_present(m)) {
    tuning_params tp;
    if (!(st = tuning_params_read(m, &tp, &err))) st = tuning_params_write(&tp, w, &err);
  }
  if (!st && name) st = model_writer_set_str(w, MK_NAME, name, &err);
  if (!st && description) st = model_writer_set_str(w, MK_DESCRIPTION, description, &err);
  /* The student's tensors only. */
  student_param layout[STUDENT_MAX_PARAMS];
  int n = student_layout(&c, layout, NULL);
  for (int i = 0; !st && i < n; i++) {
    const int64_t dims[2] = {layout[i].dims[0], layout[i].dims[1]};
    st = model_writer_add_tensor(w, layout[i].name, layout[i].ndim, dims, params + layout[i].offset, &err);
  }
  if (!st) st = model_writer_save(w, out, &err);
  if (st == CHORDLET_ERR_NO_MEMORY && !err.message[0]) snprintf(err.message, sizeof err.message, "out of memory");
  if (st) fprintf(stderr, "%s: %s\n", PROGRAM, err.message);
  model_writer_free(w);
  model_file_free(m);
  free(params);
  return st ? TRAIN_EXIT_FAIL : TRAIN_EXIT_OK;
}
