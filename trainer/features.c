/* features.c: `chordlet-train features`: the student's inputs and targets,
 * cached per audio file.
 *
 * For every input it writes DIR/<stem>-<key>.chordlet holding
 *   "features" (T, n_bins): the streaming front end's frames (engine/stream.h,
 *              through the same code as live), frame j centred at j * hop;
 *   "labels"   (T):        the ground-truth class of each frame centre, when a
 *              .lab with the input's stem lies next to it (labelled pool);
 *   "p170"     (T, 170):   the teacher's pseudo-labels moved onto these frames
 *              (engine/align.h, a box average over each frame's hop), when
 *              --pseudo names the pseudo-label caches (unlabelled pool).
 * The key hashes the audio's bytes, the front end's parameters, the format,
 * the .lab's bytes and the pseudo-label settings: any change gives a new
 * cache, an existing one is a finished job (resume). Audio is read at
 * 22050 Hz (libsoxr, as everywhere) whatever its rate. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "align.h"
#include "audiofile.h"
#include "cache_key.h"
#include "commands.h"
#include "inputs.h"
#include "cqt.h"
#include "error.h"
#include "lab.h"
#include "model_keys.h"
#include "modelfile.h"
#include "pseudo_label.h"
#include "stream.h"
#include "vocab.h"
#include "worker_pool.h"

#define PROGRAM "chordlet-train features"
enum { FEATURES_FORMAT = 1, READ_RATE = 22050 };

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet-train features [options] --out DIR AUDIO...\n"
          "\n"
          "Caches the student's input features for every audio file (or folder of them),\n"
          "with its ground-truth frame labels when NAME.lab lies next to NAME.<audio>, and\n"
          "the teacher's pseudo-labels aligned to the frames with --pseudo. Resumable.\n"
          "\n"
          "  --out DIR         where the caches go (created)\n"
          "  --pseudo DIR      pseudo-label caches (chordlet-train pseudo-label --out DIR)\n"
          "  --model FILE      the teacher those were made with (default models/teacher.chordlet)\n"
          "  --folds N         ... and its number of folds (default: the model's)\n"
          "  --jobs N          worker processes (default: the number of cores)\n");
}

typedef struct context {
  input_list inputs;
  const char *out_dir, *pseudo_dir;
  uint64_t model_hash;
  int n_folds;
  cqt_params params;
} context;

/* NAME.lab next to NAME.<ext>, if there is one. */
static bool lab_beside(const char *input, char *out, size_t size) {
  const char *dot = strrchr(input, '.'), *slash = strrchr(input, '/');
  if (!dot || (slash && dot < slash)) return false;
  int k = snprintf(out, size, "%.*s.lab", (int)(dot - input), input);
  struct stat st;
  return k > 0 && (size_t)k < size && stat(out, &st) == 0;
}

static const char *job_name(void *ctx, size_t job) {
  const char *p = ((context *)ctx)->inputs.paths[job], *slash = strrchr(p, '/');
  return slash ? slash + 1 : p;
}

/* Everything that shapes a cache besides the audio's bytes, as text. */
static int settings_text(const context *c, const char *input, char *out, size_t size) {
  char lab[4096];
  uint64_t lab_hash = 0;
  if (lab_beside(input, lab, sizeof lab) && cache_hash_file(lab, &lab_hash)) return -1;
  const cqt_params *p = &c->params;
  int k = snprintf(out, size,
                   "features %d; stream %d %.17g %.17g %.17g %d %d %.17g %.17g %.17g %d %.17g; lab %016llx; "
                   "pseudo %s %016llx %d",
                   FEATURES_FORMAT, p->version, p->hop_seconds, p->delay_seconds, p->fmin_hz, p->n_bins,
                   p->bins_per_octave, p->q, p->min_window_seconds, p->max_window_seconds, p->window, p->log_eps,
                   (unsigned long long)lab_hash, c->pseudo_dir ? "yes" : "no",
                   (unsigned long long)c->model_hash, c->n_folds);
  return (k > 0 && (size_t)k < size) ? 0 : -1;
}

/* The class of each frame centre j * hop: the segment that contains it
 * (PAPER.md 3.6), N where none does. */
static void frame_labels(const lab_file *lab, size_t T, double hop, float *labels) {
  size_t s = 0;
  for (size_t j = 0; j < T; j++) {
    double t = j * hop;
    while (s < lab->n_segments && lab->segments[s].end <= t) s++;
    int cls = VOCAB_N;
    if (s < lab->n_segments && lab->segments[s].start <= t) cls = harte_to_class(&lab->segments[s].chord);
    labels[j] = (float)cls;
  }
}

static chordlet_status aligned_pseudo_labels(const context *c, const char *input, size_t T, float *p170,
                                             chordlet_error *err) {
  char path[4096];
  if (pseudo_label_cache_path(c->pseudo_dir, input, c->model_hash, c->n_folds, path, sizeof path))
    return chordlet_fail(err, CHORDLET_ERR_IO, "cannot read %s", input);
  model_file *m;
  chordlet_status s = model_file_load(path, &m, err);
  if (s == CHORDLET_ERR_IO)
    return chordlet_fail(err, CHORDLET_ERR_IO, "no pseudo-labels for %s in %s (run chordlet-train pseudo-label "
                         "with the same --model and --folds first)", input, c->pseudo_dir);
  if (s) return s;
  const model_tensor *t = model_file_tensor(m, "p170");
  double frame_seconds = 0;
  if (!t || t->ndim != 2 || t->dims[1] != VOCAB_SIZE)
    s = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: no (T, 170) tensor p170", path);
  if (!s) s = model_file_get_f64(m, "teacher.frame_seconds", &frame_seconds, err);
  if (!s) {
    double *centres = malloc(T * sizeof *centres); /* (T) */
    if (!centres) s = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    for (size_t j = 0; !s && j < T; j++) centres[j] = j * c->params.hop_seconds;
    if (!s)
      s = align_box_average(t->data, (size_t)t->dims[0], VOCAB_SIZE, frame_seconds, centres, T,
                            c->params.hop_seconds, p170, err);
    free(centres);
  }
  model_file_free(m);
  return s;
}

static void job_run(void *ctx, size_t job, pool_result *result) {
  context *c = ctx;
  const char *input = c->inputs.paths[job];
  char settings[1024], path[4096], lab_path[4096];
  if (settings_text(c, input, settings, sizeof settings) ||
      cache_path(c->out_dir, input, settings, strlen(settings), path, sizeof path)) {
    snprintf(result->message, sizeof result->message, "cannot read %s (or its .lab)", input);
    result->outcome = POOL_FAILED;
    return;
  }
  struct stat st;
  if (stat(path, &st) == 0) {
    result->outcome = POOL_SKIPPED;
    return;
  }
  chordlet_error err;
  audio_buffer audio = {0};
  float *features = NULL, *labels = NULL, *p170 = NULL;
  size_t T = 0;
  lab_file lab = {0};
  bool has_lab = lab_beside(input, lab_path, sizeof lab_path);
  model_writer *w = NULL;
  chordlet_status s = audiofile_read(input, READ_RATE, &audio, &err);
  if (!s) {
    result->audio_seconds = audio.n_samples / audio.sample_rate;
    s = cqt_features_offline(&c->params, audio.samples, audio.n_samples, audio.sample_rate, &features, &T, &err);
  }
  if (!s && has_lab) {
    s = lab_read(lab_path, &lab, &err);
    labels = s ? NULL : malloc((T ? T : 1) * sizeof *labels); /* (T) */
    if (!s && !labels) s = chordlet_fail(&err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    if (!s) frame_labels(&lab, T, c->params.hop_seconds, labels);
  }
  if (!s && c->pseudo_dir) {
    p170 = malloc((T ? T : 1) * VOCAB_SIZE * sizeof *p170); /* (T, 170) */
    s = p170 ? aligned_pseudo_labels(c, input, T, p170, &err)
             : chordlet_fail(&err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  }
  if (!s && !(w = model_writer_create())) s = chordlet_fail(&err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  if (!s) {
    const char *base = strrchr(input, '/');
    int64_t fdims[2] = {(int64_t)T, c->params.n_bins}, ldims[1] = {(int64_t)T}, pdims[2] = {(int64_t)T, VOCAB_SIZE};
    (void)((s = model_writer_set_str(w, "cache.kind", "student-features", &err)) ||
           (s = model_writer_set_i64(w, "cache.format", FEATURES_FORMAT, &err)) ||
           (s = model_writer_set_str(w, "source.name", base ? base + 1 : input, &err)) ||
           (s = model_writer_set_f64(w, "source.seconds", result->audio_seconds, &err)) ||
           (s = model_writer_set_str(w, "frontend.kind", FRONTEND_STREAM_CQT, &err)) ||
           (s = cqt_params_write(&c->params, w, &err)) ||
           (s = model_writer_add_tensor(w, "features", 2, fdims, features, &err)) ||
           (labels && (s = model_writer_add_tensor(w, "labels", 1, ldims, labels, &err))) ||
           (p170 && (s = model_writer_add_tensor(w, "p170", 2, pdims, p170, &err))) ||
           (s = model_writer_save(w, path, &err)));
  }
  if (s) {
    snprintf(result->message, sizeof result->message, "%s", err.message);
    result->outcome = POOL_FAILED;
  } else {
    result->outcome = POOL_DONE;
  }
  model_writer_free(w);
  lab_free(&lab);
  audio_buffer_free(&audio);
  free(features);
  free(labels);
  free(p170);
}

int cmd_features(int argc, char **argv) {
  context c = {0};
  int status = TRAIN_EXIT_USAGE;
  cqt_params_default(&c.params);
  batch_options o;
  batch_options_init(&o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int r = BATCH_ARG_NOT_MINE;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      status = TRAIN_EXIT_OK;
      goto done;
    } else if (!strcmp(a, "--pseudo") && i + 1 < argc) {
      c.pseudo_dir = argv[++i];
      r = BATCH_ARG_TAKEN;
    } else {
      r = batch_options_arg(argc, argv, &i, &o, PROGRAM);
    }
    if (r == BATCH_ARG_TAKEN) continue;
    if (r == BATCH_ARG_NOT_MINE) {
      fprintf(stderr, PROGRAM ": unknown option '%s' (or it lacks its value)\n\n", a);
      usage(stderr);
    }
    if (r == BATCH_ARG_BAD_INPUT) status = TRAIN_EXIT_FAIL;
    goto done;
  }
  int finished = batch_options_finish(&o, PROGRAM);
  if (finished == -1) usage(stderr);
  if (finished) {
    status = finished == -1 ? TRAIN_EXIT_USAGE : TRAIN_EXIT_FAIL;
    goto done;
  }
  status = TRAIN_EXIT_FAIL;
  const char *model = o.model;
  long jobs = o.jobs;
  c.out_dir = o.out_dir;
  c.n_folds = o.n_folds;
  c.inputs = o.inputs; /* moved: freed through c */
  o.inputs = (input_list){0};
  if (c.pseudo_dir) {
    /* The pseudo-label caches are keyed by the teacher file and its folds. */
    model_file *m;
    chordlet_error err;
    int64_t folds = 0;
    if (model_file_load(model, &m, &err) || model_file_get_i64(m, "teacher.n_folds", &folds, &err)) {
      fprintf(stderr, PROGRAM ": %s\n", err.message);
      goto done;
    }
    model_file_free(m);
    if (c.n_folds == 0 || c.n_folds > folds) c.n_folds = (int)folds;
    if (cache_hash_file(model, &c.model_hash)) {
      fprintf(stderr, PROGRAM ": cannot read %s\n", model);
      goto done;
    }
  }
  pool_summary summary;
  if (worker_pool_run(c.inputs.n, (int)jobs, job_run, job_name, &c, isatty(STDERR_FILENO), PROGRAM, &summary))
    goto done;
  fprintf(stderr, PROGRAM ": %zu cached, %zu already cached, %zu failed; %.1f h of audio in %.0f s\n", summary.done,
          summary.skipped, summary.failed, summary.audio_seconds / 3600, summary.wall_seconds);
  status = summary.failed ? TRAIN_EXIT_FAIL : TRAIN_EXIT_OK;
done:
  batch_options_free(&o);
  inputs_free(&c.inputs);
  return status;
}
