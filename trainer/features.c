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
 * 22050 Hz (libsoxr, as everywhere) whatever its rate.
 *
 * With --augment SPEC, it writes K degraded variants of every input instead
 * (augment.h: detune, reverb, eq, noise, level, lossy), each a song of its own
 * for the training loader: DIR/<stem>.a<k>-<key>.chordlet, source.name
 * "<stem>.a<k>.<ext>", the drawn settings in augment.* metadata. Their key
 * also hashes the spec, the seed and k. A detuned variant runs
 * 2^(-cents/1200) times as long: the .lab's times and the teacher's frames
 * (from the clean audio's pseudo-labels) are scaled by that factor. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "align.h"
#include "audiofile.h"
#include "augment.h"
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
#include "tuning.h"
#include "vocab.h"
#include "dist.h"
#include "worker_pool.h"

#define PROGRAM "chordlet-train features"
/* Format 2: frames at the audio's estimated tuning (engine/tuning.h), as
 * the students hear music; format 1 caches were at 440 Hz. */
enum { FEATURES_FORMAT = 2, READ_RATE = 22050 };

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
          "  --jobs N          worker processes (default: the number of cores)\n"
          "  --max-window S    the front end's longest window in seconds (default 0.22, the live\n"
          "                    models'; at most 2). Semitones are resolved from 113 Hz up at\n"
          "                    0.22, from 1.4406 / (0.0595 S) Hz at S (1.06: every bin at q / f).\n"
          "                    The delay grows with it: the least multiple of 120 ms (whole\n"
          "                    frames at 20, 40, 60 and 120 ms) that holds half a window and the\n"
          "                    decimators' look-ahead. For file-mode models, whose lookahead\n"
          "                    hides the delay.\n"
          "  --tuning T        the front end's reference pitch: auto (default: estimated from\n"
          "                    each file, as chordlet transcribe does), or a fixed A4 (440, -30c)\n"
          "  --augment SPEC    write K degraded variants of every input instead of its\n"
          "                    clean cache. SPEC: a comma list of KIND[=RANGE][@P]:\n"
          "                      detune  cents: M (-M..M) or LO:HI   default 50\n"
          "                      reverb  RT60 s LO:HI[:WETLO:WETHI]  0.2:1.2:0.2:0.7\n"
          "                      eq      high-pass, low-pass LO:HI Hz 50:400:2500:10000\n"
          "                      noise   SNR dB                      10:30\n"
          "                      level   peak dBFS                   -40:0\n"
          "                      lossy   Ogg Vorbis quality 0..1     0:0.5\n"
          "                    @P: the chance a variant gets the kind (default 1); `all`\n"
          "                    turns on every kind not named, at 0.5 (all@P: at P).\n"
          "                    Examples: all; detune=50; all,level=-30:0@1\n"
          "  --variants K      variants per input with --augment (default 1)\n"
          "  --seed N          the seed of the augmentation draws (default 0)\n");
}

typedef struct context {
  input_list inputs;
  const char *out_dir, *pseudo_dir;
  uint64_t model_hash;
  int n_folds;
  cqt_params params;
  tuning_params tuning;
  double tuning_hz; /* 0: estimate each file's tuning */
  /* --augment: variants 1..n_variants of every input (job = input * n_variants
   * + variant - 1); n_variants 0 makes the clean caches */
  augment_spec augment;
  int n_variants;
  uint64_t seed;
  char job_label[512]; /* job_name's answer (the parent's, one at a time) */
} context;

/* NAME.lab next to NAME.<ext>, if there is one. */
static bool lab_beside(const char *input, char *out, size_t size) {
  const char *dot = strrchr(input, '.'), *slash = strrchr(input, '/');
  if (!dot || (slash && dot < slash)) return false;
  int k = snprintf(out, size, "%.*s.lab", (int)(dot - input), input);
  struct stat st;
  return k > 0 && (size_t)k < size && stat(out, &st) == 0;
}

static size_t job_input(const context *c, size_t job) { return c->n_variants ? job / (size_t)c->n_variants : job; }
/* 1..K, or 0 for the clean cache */
static int job_variant(const context *c, size_t job) {
  return c->n_variants ? (int)(job % (size_t)c->n_variants) + 1 : 0;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static const char *job_name(void *ctx, size_t job) {
  context *c = ctx;
  const char *base = base_name(c->inputs.paths[job_input(c, job)]);
  if (!c->n_variants) return base;
  snprintf(c->job_label, sizeof c->job_label, "%s a%d", base, job_variant(c, job));
  return c->job_label;
}

/* Everything that shapes a cache besides the audio's bytes, as text. */
static int settings_text(const context *c, const char *input, char *out, size_t size) {
  char lab[4096];
  uint64_t lab_hash = 0;
  if (lab_beside(input, lab, sizeof lab) && cache_hash_file(lab, &lab_hash)) return -1;
  const cqt_params *p = &c->params;
  int k = snprintf(out, size,
                   "features %d; stream %d %.17g %.17g %.17g %d %d %.17g %.17g %.17g %d %.17g; lab %016llx; "
                   "pseudo %s %016llx %d; tuning %.17g %d %.17g %.17g %.17g %.17g %.17g",
                   FEATURES_FORMAT, p->version, p->hop_seconds, p->delay_seconds, p->fmin_hz, p->n_bins,
                   p->bins_per_octave, p->q, p->min_window_seconds, p->max_window_seconds, p->window, p->log_eps,
                   (unsigned long long)lab_hash, c->pseudo_dir ? "yes" : "no",
                   (unsigned long long)c->model_hash, c->n_folds, c->tuning_hz, c->tuning.version,
                   c->tuning.window_seconds, c->tuning.hop_seconds, c->tuning.fmin_hz, c->tuning.fmax_hz,
                   c->tuning.min_peaks);
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

/* time_scale: the audio's duration over the clean input's (a detuned variant's). */
static chordlet_status aligned_pseudo_labels(const context *c, const char *input, double time_scale, size_t T,
                                             float *p170, chordlet_error *err) {
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
      s = align_box_average(t->data, (size_t)t->dims[0], VOCAB_SIZE, frame_seconds * time_scale, centres, T,
                            c->params.hop_seconds, p170, err);
    free(centres);
  }
  model_file_free(m);
  return s;
}

/* ---- augmented variants (augment.h) ---- */

/* The variant's part of the key: the spec (exact), the seed, the index. */
static int variant_settings_text(const context *c, int variant, char *out, size_t size) {
  char spec[AUG_SPEC_TEXT_MAX];
  if (augment_spec_key_text(&c->augment, spec, sizeof spec)) return -1;
  size_t at = strlen(out);
  int k = snprintf(out + at, size - at, "; augment 1 %s seed %llu variant %d", spec, (unsigned long long)c->seed,
                   variant);
  return (k > 0 && (size_t)k < size - at) ? 0 : -1;
}

/* "<stem>.a<k>.<ext>": the variant's song name (the loader's source.name). */
static void variant_name(const char *input, int variant, char *out, size_t size) {
  const char *base = base_name(input), *dot = strrchr(base, '.');
  if (!dot || dot == base) dot = base + strlen(base);
  snprintf(out, size, "%.*s.a%d%s", (int)(dot - base), base, variant, dot);
}

/* Replaces the clean samples by the variant's. */
static chordlet_status augment_audio(const context *c, const char *input, int variant, audio_buffer *audio,
                                     augment_draw *draw, double *peak_gain, chordlet_error *err) {
  augment_draw_variant(&c->augment, c->seed, base_name(input), variant, draw);
  float *y;
  size_t n;
  chordlet_status s = augment_apply(draw, audio->samples, audio->n_samples, audio->sample_rate, &y, &n, peak_gain, err);
  if (s) {
    char why[sizeof err->message]; /* err is the message's source and its destination */
    snprintf(why, sizeof why, "%s", err->message);
    return chordlet_fail(err, s, "%s (variant %d): %s", input, variant, why);
  }
  free(audio->samples);
  audio->samples = y;
  audio->n_samples = n;
  return CHORDLET_OK;
}

static void lab_scale_times(lab_file *lab, double scale) {
  for (size_t i = 0; i < lab->n_segments; i++) {
    lab->segments[i].start *= scale;
    lab->segments[i].end *= scale;
  }
}

static chordlet_status write_variant_metadata(const context *c, const char *input, int variant,
                                              const augment_draw *draw, double peak_gain, model_writer *w,
                                              chordlet_error *err) {
  chordlet_status s = augment_write_metadata(draw, &c->augment, c->seed, variant, peak_gain, w, err);
  return s ? s : model_writer_set_str(w, MK_AUGMENT_SOURCE, base_name(input), err);
}

static void job_run(void *ctx, size_t job, pool_result *result) {
  context *c = ctx;
  const char *input = c->inputs.paths[job_input(c, job)];
  const int variant = job_variant(c, job);
  char settings[1024 + AUG_SPEC_TEXT_MAX + 64], path[4096], lab_path[4096], tag[16] = "", name[1024];
  if (variant) snprintf(tag, sizeof tag, ".a%d", variant);
  if (settings_text(c, input, settings, sizeof settings) ||
      (variant && variant_settings_text(c, variant, settings, sizeof settings)) ||
      cache_path_tagged(c->out_dir, input, tag, settings, strlen(settings), path, sizeof path)) {
    /* Say which file and why: the audio, or the .lab beside it. */
    const char *why = cache_unreadable_reason(input);
    if (why) snprintf(result->message, sizeof result->message, "cannot read %.400s: %s", input, why);
    else if (lab_beside(input, lab_path, sizeof lab_path) && (why = cache_unreadable_reason(lab_path)))
      snprintf(result->message, sizeof result->message, "cannot read %.400s: %s", lab_path, why);
    else snprintf(result->message, sizeof result->message, "cannot read %s (or its .lab)", input);
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
  augment_draw draw = {0};
  double peak_gain = 1, cents = 0;
  int estimated = 0;
  chordlet_status s = audiofile_read(input, READ_RATE, &audio, &err);
  if (!s && variant) s = augment_audio(c, input, variant, &audio, &draw, &peak_gain, &err);
  if (!s) {
    result->audio_seconds = audio.n_samples / audio.sample_rate;
    /* After augmentation: a detuned variant's tuning is measured on it. */
    if (c->tuning_hz > 0)
      cents = tuning_hz_to_cents(c->tuning_hz);
    else
      s = tuning_estimate(&c->tuning, audio.samples, audio.n_samples, audio.sample_rate, &estimated, &cents, &err);
    if (!s)
      s = cqt_features_offline_tuned(&c->params, cents, audio.samples, audio.n_samples, audio.sample_rate, &features,
                                     &T, &err);
  }
  if (!s && has_lab) {
    s = lab_read(lab_path, &lab, &err);
    if (!s && variant) lab_scale_times(&lab, augment_time_scale(&draw));
    labels = s ? NULL : malloc((T ? T : 1) * sizeof *labels); /* (T) */
    if (!s && !labels) s = chordlet_fail(&err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    if (!s) frame_labels(&lab, T, c->params.hop_seconds, labels);
  }
  if (!s && c->pseudo_dir) {
    p170 = malloc((T ? T : 1) * VOCAB_SIZE * sizeof *p170); /* (T, 170) */
    s = p170 ? aligned_pseudo_labels(c, input, variant ? augment_time_scale(&draw) : 1.0, T, p170, &err)
             : chordlet_fail(&err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  }
  if (!s && !(w = model_writer_create())) s = chordlet_fail(&err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  if (variant) variant_name(input, variant, name, sizeof name);
  else snprintf(name, sizeof name, "%s", base_name(input));
  if (!s && variant) s = write_variant_metadata(c, input, variant, &draw, peak_gain, w, &err);
  if (!s) {
    int64_t fdims[2] = {(int64_t)T, c->params.n_bins}, ldims[1] = {(int64_t)T}, pdims[2] = {(int64_t)T, VOCAB_SIZE};
    (void)((s = model_writer_set_str(w, "cache.kind", "student-features", &err)) ||
           (s = model_writer_set_i64(w, "cache.format", FEATURES_FORMAT, &err)) ||
           (s = model_writer_set_str(w, "source.name", name, &err)) ||
           (s = model_writer_set_f64(w, "source.seconds", result->audio_seconds, &err)) ||
           (s = model_writer_set_str(w, "frontend.kind", FRONTEND_STREAM_CQT, &err)) ||
           (s = cqt_params_write(&c->params, w, &err)) ||
           (s = tuning_params_write(&c->tuning, w, &err)) ||
           (s = model_writer_set_f64(w, "frontend.tuning_cents", cents, &err)) ||
           (s = model_writer_set_i64(w, "frontend.tuning_estimated", estimated, &err)) ||
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

/* --augment SPEC, --variants K, --seed N: BATCH_ARG_TAKEN, or BAD_VALUE with
 * the reason printed (a usage error, exit 2). */
static int augment_option(const char *option, const char *value, context *c, bool *variants_given) {
  char *end;
  errno = 0;
  if (!strcmp(option, "--augment")) {
    chordlet_error err;
    if (augment_spec_parse(value, &c->augment, &err)) {
      fprintf(stderr, PROGRAM ": --augment: %s\n", err.message);
      return BATCH_ARG_BAD_VALUE;
    }
  } else if (!strcmp(option, "--variants")) {
    long k = strtol(value, &end, 10);
    if (errno || end == value || *end || k < 1 || k > 1000) {
      fprintf(stderr, PROGRAM ": --variants takes 1..1000, not '%s'\n", value);
      return BATCH_ARG_BAD_VALUE;
    }
    c->n_variants = (int)k;
    *variants_given = true;
  } else {
    unsigned long long seed = strtoull(value, &end, 10);
    if (errno || end == value || *end || value[0] == '-') {
      fprintf(stderr, PROGRAM ": --seed takes a whole number >= 0, not '%s'\n", value);
      return BATCH_ARG_BAD_VALUE;
    }
    c->seed = seed;
  }
  return BATCH_ARG_TAKEN;
}

/* --max-window S: the front end's longest window, and the least delay that
 * holds it (cqt_params_check's rule: a window centred delay back may reach
 * back delay minus the decimators' look-ahead) in whole 120 ms steps, so the
 * caches stay usable at 20, 40, 60 and 120 ms frames. Prints why and
 * returns -1 on a bad value (a usage error). */
static int max_window_option(const char *value, cqt_params *p) {
  char *end;
  errno = 0;
  double s = strtod(value, &end);
  if (errno || end == value || *end || !(s >= p->min_window_seconds && s <= 2.0)) {
    fprintf(stderr, PROGRAM ": --max-window takes seconds from %g to 2, not '%s'\n", p->min_window_seconds, value);
    return -1;
  }
  const double step = 0.12; /* at least one step: the default front end's delay */
  p->max_window_seconds = s;
  p->delay_seconds = step * ceil((0.5 * s + CQT_DECIM_LOOKAHEAD_MAX) / step - 1e-9);
  chordlet_error err;
  if (cqt_params_check(p, &err)) {
    fprintf(stderr, PROGRAM ": --max-window %s: %s\n", value, err.message);
    return -1;
  }
  return 0;
}

int cmd_features(int argc, char **argv) {
  context c = {0};
  int status = TRAIN_EXIT_USAGE;
  bool variants_given = false;
  cqt_params_default(&c.params);
  tuning_params_default(&c.tuning);
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
    } else if (!strcmp(a, "--max-window") && i + 1 < argc) {
      if (max_window_option(argv[++i], &c.params)) goto done;
      r = BATCH_ARG_TAKEN;
    } else if (!strcmp(a, "--tuning") && i + 1 < argc) {
      chordlet_error terr;
      if (chordlet_tuning_parse(argv[++i], &c.tuning_hz, &terr)) {
        fprintf(stderr, PROGRAM ": --tuning: %s\n", terr.message);
        goto done;
      }
      r = BATCH_ARG_TAKEN;
    } else if ((!strcmp(a, "--augment") || !strcmp(a, "--variants") || !strcmp(a, "--seed")) && i + 1 < argc) {
      r = augment_option(a, argv[++i], &c, &variants_given);
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
  if (variants_given && !augment_spec_any(&c.augment)) {
    fprintf(stderr, PROGRAM ": --variants needs --augment\n\n");
    usage(stderr);
    goto done;
  }
  if (augment_spec_any(&c.augment) && !c.n_variants) c.n_variants = 1;
  if (c.augment.kinds[AUG_LOSSY].on && !augment_lossy_available()) {
    fprintf(stderr, PROGRAM ": --augment lossy: this libsndfile cannot write Ogg Vorbis (built without libvorbis)\n");
    status = TRAIN_EXIT_FAIL;
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
  const size_t n_jobs = c.inputs.n * (size_t)(c.n_variants ? c.n_variants : 1);
  if (worker_pool_run(n_jobs, (int)jobs, job_run, job_name, &c, isatty(STDERR_FILENO), PROGRAM, &summary))
    goto done;
  if (dist_is_root()) /* the whole job's summary, once */
    fprintf(stderr, PROGRAM ": %zu cached, %zu already cached, %zu failed; %.1f h of audio in %.0f s\n", summary.done,
            summary.skipped, summary.failed, summary.audio_seconds / 3600, summary.wall_seconds);
  status = summary.failed ? TRAIN_EXIT_FAIL : TRAIN_EXIT_OK;
done:
  batch_options_free(&o);
  inputs_free(&c.inputs);
  return status;
}
