/* pseudo_label.c: `chordlet-train pseudo-label`: the teacher over a pool of
 * unlabelled audio (stage 1's targets, PAPER.md 1.3).
 *
 * For every audio file it writes one cache file, DIR/<stem>-<key>.chordlet
 * (the model-file container: checked, CRC'd, written atomically), holding the
 * teacher's 170-class probabilities at its own frame rate ("p170", (T, 170);
 * the hard label of a frame is its argmax) and where they came from. The key
 * is a 64-bit XXH3 hash of the audio file's bytes, the teacher model file's
 * bytes, the number of folds and this format's version: a changed input or
 * setting gives a new key, so a stale cache is never read, and a re-run skips
 * every file whose cache exists (resume after an interruption; each cache
 * appears whole or not at all). Alignment to the student's frames happens
 * when the student's features are cached (engine/align.h): the expensive
 * teacher run does not depend on the student's front end. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audiofile.h"
#include "cache_key.h"
#include "commands.h"
#include "inputs.h"
#include "decode.h"
#include "error.h"
#include "lab.h"
#include "modelfile.h"
#include "pseudo_label.h"
#include "recognizer.h"
#include "vocab.h"
#include "dist.h"
#include "worker_pool.h"

#define PROGRAM "chordlet-train pseudo-label"
enum { CACHE_FORMAT = 1 };

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet-train pseudo-label [options] --out DIR INPUT...\n"
          "\n"
          "Runs the teacher over unlabelled audio and caches its 170-class probabilities,\n"
          "one DIR/<name>-<key>.chordlet per input (resumable: existing caches are kept).\n"
          "INPUT is an audio file, a folder of audio files, or a .txt list of audio paths.\n"
          "\n"
          "  --out DIR       where the caches go (created)\n"
          "  --model FILE    the teacher (default models/teacher.chordlet)\n"
          "  --folds N       use the first N folds (default: all)\n"
          "  --jobs N        worker processes (default: the number of cores)\n"
          "  --labs          also write the hard labels (the argmax of every frame) as\n"
          "                  DIR/<name>.lab, to score the pseudo-labels with chordlet eval\n");
}

typedef struct context {
  input_list jobs;
  const char *out_dir;
  recognizer *teacher;
  int n_folds;
  bool write_labs;
  uint64_t model_hash;
} context;

static const char *job_name(void *ctx, size_t job) {
  const char *path = ((context *)ctx)->jobs.paths[job];
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The hard labels as runs of argmax classes, written to DIR/<stem>.lab. */
static chordlet_status write_hard_labels(const context *c, const char *input, const float *p170, size_t T,
                                         double duration, chordlet_error *err) {
  int32_t *path = malloc((T ? T : 1) * sizeof *path); /* (T) */
  decode_run *runs = malloc((T ? T : 1) * sizeof *runs);
  lab_file lab = {0};
  chordlet_status s = (!path || !runs) ? chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory") : CHORDLET_OK;
  const double frame = recognizer_frame_seconds(c->teacher);
  if (!s) {
    decode_argmax(p170, T, VOCAB_SIZE, path);
    size_t n = decode_runs(path, T, runs);
    for (size_t i = 0; !s && i < n; i++) {
      double start = runs[i].first * frame, end = (runs[i].last + 1) * frame;
      if (end > duration) end = duration;
      if (end <= start) continue;
      char name[VOCAB_NAME_MAX];
      harte_chord chord;
      vocab_class_name(runs[i].state, name, sizeof name);
      harte_parse(name, &chord, NULL);
      s = lab_append(&lab, start, end, &chord, err);
    }
  }
  if (!s) {
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    char out[4096];
    int k = snprintf(out, sizeof out, "%s/%.*s.lab", c->out_dir, stem, base);
    s = (k > 0 && (size_t)k < sizeof out) ? lab_write(out, &lab, err)
                                          : chordlet_fail(err, CHORDLET_ERR_RANGE, "path too long");
  }
  lab_free(&lab);
  free(path);
  free(runs);
  return s;
}

/* The pseudo-labels of an input: its bytes, the teacher's bytes, the folds
 * and this format. The features command finds them by the same key. */
int pseudo_label_cache_path(const char *dir, const char *input, uint64_t model_hash, int n_folds, char *out,
                            size_t size) {
  struct {
    uint64_t model_hash;
    int32_t format, n_folds;
  } settings = {model_hash, CACHE_FORMAT, n_folds};
  return cache_path(dir, input, &settings, sizeof settings, out, size);
}

static void job_run(void *ctx, size_t job, pool_result *result) {
  context *c = ctx;
  const char *input = c->jobs.paths[job];
  char path[4096];
  if (pseudo_label_cache_path(c->out_dir, input, c->model_hash, c->n_folds, path, sizeof path)) {
    const char *why = cache_unreadable_reason(input);
    snprintf(result->message, sizeof result->message, "cannot read %s%s%s", input, why ? ": " : "", why ? why : "");
    result->outcome = POOL_FAILED;
    return;
  }
  struct stat st;
  if (stat(path, &st) == 0) {
    result->outcome = POOL_SKIPPED;
    return;
  }
  audio_buffer audio;
  chordlet_error err;
  float *p170 = NULL;
  size_t T = 0;
  double tuning = 0;
  chordlet_status s = audiofile_read(input, recognizer_sample_rate(c->teacher), &audio, &err);
  if (!s) {
    s = recognizer_teacher_p170(c->teacher, audio.samples, audio.n_samples, c->n_folds, &p170, &T, &tuning, &err);
    result->audio_seconds = audio.n_samples / audio.sample_rate;
    audio_buffer_free(&audio);
  }
  model_writer *w = s ? NULL : model_writer_create();
  if (!s && !w) s = CHORDLET_ERR_NO_MEMORY, snprintf(err.message, sizeof err.message, "out of memory");
  if (!s) {
    int64_t dims[2] = {(int64_t)T, VOCAB_SIZE};
    const char *base = strrchr(input, '/');
    (void)((s = model_writer_set_str(w, "cache.kind", "teacher-p170", &err)) ||
           (s = model_writer_set_i64(w, "cache.format", CACHE_FORMAT, &err)) ||
           (s = model_writer_set_str(w, "source.name", base ? base + 1 : input, &err)) ||
           (s = model_writer_set_f64(w, "source.seconds", result->audio_seconds, &err)) ||
           (s = model_writer_set_str(w, "teacher.name", recognizer_name(c->teacher), &err)) ||
           (s = model_writer_set_i64(w, "teacher.n_folds", c->n_folds, &err)) ||
           (s = model_writer_set_f64(w, "teacher.frame_seconds", recognizer_frame_seconds(c->teacher), &err)) ||
           (s = model_writer_set_f64(w, "frontend.tuning", tuning, &err)) ||
           (s = model_writer_add_tensor(w, "p170", 2, dims, p170, &err)));
  }
  /* The .lab first, the cache last: the cache's existence means the job is
   * complete (a re-run skips it), so it must not appear before its .lab. */
  if (!s && c->write_labs) s = write_hard_labels(c, input, p170, T, result->audio_seconds, &err);
  if (!s) s = model_writer_save(w, path, &err);
  model_writer_free(w);
  free(p170);
  if (s) {
    snprintf(result->message, sizeof result->message, "%s", err.message);
    result->outcome = POOL_FAILED;
  } else {
    result->outcome = POOL_DONE;
  }
}

int cmd_pseudo_label(int argc, char **argv) {
  context c = {0};
  int status = TRAIN_EXIT_USAGE;
  batch_options o;
  batch_options_init(&o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int r = BATCH_ARG_NOT_MINE;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      status = TRAIN_EXIT_OK;
      goto done;
    } else if (!strcmp(a, "--labs")) {
      c.write_labs = true;
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
  c.jobs = o.inputs; /* moved: freed through c */
  o.inputs = (input_list){0};
  chordlet_error err;
  if (recognizer_load(model, &c.teacher, &err)) {
    fprintf(stderr, PROGRAM ": %s\n", err.message);
    goto done;
  }
  int available = 0;
  recognizer_teacher_folds(c.teacher, &available);
  if (available == 0) {
    fprintf(stderr, PROGRAM ": %s is not a teacher model\n", model);
    goto done;
  }
  if (c.n_folds == 0 || c.n_folds > available) c.n_folds = available;
  if (cache_hash_file(model, &c.model_hash)) {
    fprintf(stderr, PROGRAM ": cannot read %s\n", model);
    goto done;
  }
  /* The workers are processes: one OpenBLAS thread each. */
  openblas_set_num_threads(1);
  pool_summary summary;
  if (worker_pool_run(c.jobs.n, (int)jobs, job_run, job_name, &c, isatty(STDERR_FILENO), PROGRAM, &summary))
    goto done;
  if (dist_is_root()) /* the whole job's summary, once */
    fprintf(stderr, PROGRAM ": %zu labelled, %zu already cached, %zu failed; %.1f h of audio in %.0f s (%.0fx real time)\n",
            summary.done, summary.skipped, summary.failed, summary.audio_seconds / 3600, summary.wall_seconds,
            summary.wall_seconds > 0 ? summary.audio_seconds / summary.wall_seconds : 0);
  status = summary.failed ? TRAIN_EXIT_FAIL : TRAIN_EXIT_OK;
done:
  batch_options_free(&o);
  recognizer_free(c.teacher);
  inputs_free(&c.jobs);
  return status;
}
