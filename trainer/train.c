/*
 * train.c: `chordlet-train stage1 | stage2 | supervised`: the student's
 * training runs (PAPER.md 1.3, 1.4, 1.8).
 *
 *   stage1      from random initialisation, focal loss against the teacher's
 *               hard pseudo-labels (argmax) of the unlabelled pool;
 *   stage2      from a stage-1 model, alpha * selective KD (teacher, T = 3) +
 *               (1 - alpha) * focal loss against the ground truth;
 *   supervised  the baseline: ground truth only, from random initialisation.
 *
 * Stage 2 can interleave windows of unlabelled audio (--kd-train: the real
 * music of stage 1's pool) that carry the KD term only, a fixed share of every
 * batch (--kd-share), so that fine-tuning on the labelled renders keeps what
 * stage 1 learnt from the teacher on real recordings (PAPER.md 1.7). Their
 * order comes from (seed, step) like the labelled windows'.
 *
 * --ema D keeps an exponential moving average of the weights (decay D, with
 * the usual warm-up min(D, (1 + step) / (10 + step))). Every validation
 * scores both the weights and their average; best.chordlet is whichever scored
 * higher, and ema.chordlet is the average at the end.
 *
 * A run lives in one folder: checkpoint.chordlet (every --checkpoint-every
 * steps and at the end; train_checkpoint.h), best.chordlet (the model with
 * the best validation frame accuracy so far, ready for `chordlet`),
 * log.csv (one row per logged step), curve.png (gnuplot, if installed).
 * `--resume` continues from the checkpoint; because the window order comes
 * from (seed, epoch) and the dropout masks from (seed, step), a resumed run
 * computes exactly what the uninterrupted run would have.
 *
 * Parallelism (train_step.h): each window of a step's batch is a slot with
 * its own dropout seed; the slots are shared out over the ranks (mpirun,
 * dist.h) and each rank's over its --threads trainers, and their gradients
 * are summed exactly (as integers), so the step is the same bits for any
 * number of ranks and threads: a run resumes with another number of either.
 * Every rank loads the data, computes the same window order, validates a
 * share of the validation songs and takes the same AdamW step; rank 0 alone
 * writes the run's files and prints progress. A failure on rank 0's side
 * (a checkpoint that cannot be written) is agreed on, so every rank stops.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adamw.h"
#include "cache_key.h"
#include "commands.h"
#include "dist.h"
#include "cqt.h"
#include "error.h"
#include "model_keys.h"
#include "modelfile.h"
#include "student.h"
#include "tuning.h"
#include "student_train.h"
#include "train_checkpoint.h"
#include "train_data.h"
#include "train_eval.h"
#include "train_step.h"
#include "vocab.h"

enum { MAX_THREADS = 16, MAX_INPUTS = 64 };
static const double PI = 3.14159265358979323846;

typedef enum train_stage { STAGE1, STAGE2, SUPERVISED } train_stage;

typedef struct train_options {
  train_stage stage;
  const char *program;
  const char *out_dir;
  const char *init;                      /* stage 2: the stage-1 model */
  const char *train_paths[MAX_INPUTS];   /* feature caches or folders of them */
  int n_train;
  const char *valid_paths[MAX_INPUTS];
  int n_valid;
  const char *kd_paths[MAX_INPUTS];      /* stage 2: caches whose windows carry KD only (real music) */
  int n_kd;
  float kd_share;                        /* the share of each batch's windows taken from kd_paths */
  double ema;                            /* the decay of the weights' moving average (0: none) */
  double hours;                          /* training material budget (0: all) */
  long steps;
  int batch, frames, stride;
  int frame_step;                        /* the model's hop in cache frames (1: the caches' 20 ms) */
  bool all_phases;                       /* with frame_step > 1: train on every phase of it */
  float lr, lr_start, lr_min;
  long warmup;
  int cosine;
  adamw_options adam;
  double clip;
  loss_options loss;
  int shift_lo, shift_hi;
  long valid_every, checkpoint_every, log_every;
  int patience;                          /* validations without a gain before stopping (0: never) */
  int threads;
  unsigned long long seed;
  bool resume, quiet;
  student_config model;
  int reach_context, reach_lookahead;    /* stage 2 --reach C/L: --init's reach changed (0: kept) */
  const char *provenance;                /* extra provenance text for the model file */
} train_options;

static const char *stage_name(train_stage s) {
  return s == STAGE1 ? "stage1" : s == STAGE2 ? "stage2" : "supervised";
}

static void usage(FILE *out, const char *command) {
  fprintf(out,
          "usage: chordlet-train %s [options] --out RUN --train CACHES... --valid CACHES...\n"
          "\n"
          "Trains the 2E1D student on feature caches (chordlet-train features):\n"
          "  stage1      the teacher's pseudo-labels only (focal loss), from scratch\n"
          "  stage2      ground truth + selective KD from the teacher, from --init (stage 1)\n"
          "  supervised  ground truth only, from scratch (the baseline)\n"
          "The run folder gets checkpoint.chordlet, best.chordlet, log.csv, curve.png.\n"
          "\n"
          "  --out RUN            the run's folder (created)\n"
          "  --train PATH         feature caches, folders or .txt lists of them (repeatable)\n"
          "  --valid PATH         validation caches with ground truth (repeatable)\n"
          "  --init MODEL         stage 2: the stage-1 model or checkpoint to start from\n"
          "  --reach C/L          stage 2: change --init's context and lookahead (frames; ALiBi models)\n"
          "  --resume             continue RUN from its checkpoint (same options)\n"
          "  --hours H            use a seeded sample of H hours of the training caches\n"
          "  --steps N            optimiser steps (default 2000)\n"
          "  --batch N            windows per step (default 16)\n"
          "  --frames N           frames per window (default 256: 5.12 s)\n"
          "  --stride N           window stride (default: frames, stage 2 frames/2)\n"
          "  --lr X               peak learning rate (stage 1, supervised 3e-4; stage 2 1e-4)\n"
          "  --lr-start X         warm-up start (default lr/3)   --lr-min X  cosine floor (1e-6)\n"
          "  --warmup N           warm-up steps (default steps/10)\n"
          "  --constant-lr        no warm-up, no cosine\n"
          "  --weight-decay X     AdamW decoupled decay (1e-5)   --clip X  gradient norm (1.0)\n"
          "  --focal-gamma X      focal loss gamma (2; 0 = cross-entropy)\n"
          "  --alpha X            KD weight (stage 2: 0.3; else 0)\n"
          "  --temperature X      KD temperature (3)\n"
          "  --no-selective       plain KD (every frame weight 1)\n"
          "  --kd-train PATH      stage 2: caches of unlabelled audio with the teacher's probabilities whose\n"
          "                       windows carry the KD term only (repeatable; needs --alpha > 0)\n"
          "  --kd-share X         the share of each batch taken from --kd-train (default 0.25)\n"
          "  --kd-weight X        the KD weight on --kd-train's frames (default: --alpha's); with --alpha 0\n"
          "                       the labelled windows learn the ground truth alone\n"
          "  --ema D              keep a moving average of the weights with decay D (e.g. 0.999; 0: off)\n"
          "  --conf-lo X --conf-hi X   selective KD thresholds (0.1, 0.9)\n"
          "  --shift LO:HI        pitch-shift augmentation in semitones (off; e.g. -5:6)\n"
          "  --valid-every N      steps between validations (default steps/10)\n"
          "  --checkpoint-every N steps between checkpoints (default 100)\n"
          "  --patience N         stop after N validations without a gain (0: never)\n"
          "  --threads N          trainers in parallel (default: cores; under mpirun, shared by a machine's ranks)\n"
          "  --seed N             (1)\n"
          "  --layers F/T/D --heads F/T/D --ff-mult N --context N --lookahead N\n"
          "  --dropout X --groups N   the student's shape (from scratch only)\n"
          "  --frame-step K       the model's hop is K cache frames (default 1; 3: 60 ms for a file-mode\n"
          "                       model): every K-th frame of the caches is kept (stage 2: as --init's)\n"
          "  --all-phases         with --frame-step K: train on all K phases of it (frames 0, K, 2K, ...;\n"
          "                       1, K+1, ...; ...), each a song of its own; validation stays at phase 0\n"
          "  --provenance TEXT    added to the model file's provenance\n"
          "  -q                   no progress line\n",
          command);
}

static int parse_triple(const char *s, int out[3]) {
  return sscanf(s, "%d/%d/%d", &out[0], &out[1], &out[2]) == 3 ? 0 : -1;
}

/* Returns 0, or the exit status to return. */
static int parse(int argc, char **argv, train_options *o) {
  memset(o, 0, sizeof *o);
  const char *cmd = argv[0];
  o->stage = !strcmp(cmd, "stage1") ? STAGE1 : !strcmp(cmd, "stage2") ? STAGE2 : SUPERVISED;
  o->program = o->stage == STAGE1 ? "chordlet-train stage1" : o->stage == STAGE2 ? "chordlet-train stage2"
                                                                                  : "chordlet-train supervised";
  o->steps = 2000;
  o->batch = 16;
  o->frames = 256;
  o->frame_step = 1;
  o->lr = o->stage == STAGE2 ? 1e-4f : 3e-4f;
  o->lr_start = -1;
  o->lr_min = 1e-6f;
  o->warmup = -1;
  o->cosine = 1;
  o->adam = (adamw_options){0, 0.9f, 0.999f, 1e-8f, 1e-5f};
  o->clip = 1.0;
  o->loss = (loss_options){2.0f, o->stage == STAGE2 ? 0.3f : 0.0f, 3.0f, 1, 0.1f, 0.9f, 0.0f};
  o->valid_every = -1;
  o->checkpoint_every = 100;
  o->log_every = 10;
  o->threads = (int)sysconf(_SC_NPROCESSORS_ONLN) / dist_local_size(); /* the machine's cores, shared by its ranks */
  if (o->threads < 1) o->threads = 1;
  if (o->threads > MAX_THREADS) o->threads = MAX_THREADS;
  o->seed = 1;
  o->kd_share = -1;
  o->model = student_config_default();
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int triple[3];
#define NEED_VALUE                                                  \
  do {                                                              \
    if (!v) {                                                       \
      fprintf(stderr, "%s: %s needs a value\n", o->program, a);    \
      return TRAIN_EXIT_USAGE;                                      \
    }                                                               \
    i++;                                                            \
  } while (0)
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout, cmd);
      return -1;
    } else if (!strcmp(a, "-q")) {
      o->quiet = true;
    } else if (!strcmp(a, "--resume")) {
      o->resume = true;
    } else if (!strcmp(a, "--no-selective")) {
      o->loss.selective = 0;
    } else if (!strcmp(a, "--all-phases")) {
      o->all_phases = true;
    } else if (!strcmp(a, "--constant-lr")) {
      o->cosine = 0;
    } else if (!strcmp(a, "--out")) {
      NEED_VALUE;
      o->out_dir = v;
    } else if (!strcmp(a, "--init")) {
      NEED_VALUE;
      o->init = v;
    } else if (!strcmp(a, "--reach")) {
      NEED_VALUE;
      char *end = NULL;
      long ctx = strtol(v, &end, 10), la = -1;
      if (end && *end == '/') la = strtol(end + 1, &end, 10);
      if (!end || *end || ctx < 1 || ctx > 100000 || la < 0 || la > 100000) {
        fprintf(stderr, "%s: --reach wants CONTEXT/LOOKAHEAD in frames, e.g. 128/128\n", o->program);
        return TRAIN_EXIT_USAGE;
      }
      o->reach_context = (int)ctx;
      o->reach_lookahead = (int)la;
    } else if (!strcmp(a, "--provenance")) {
      NEED_VALUE;
      o->provenance = v;
    } else if (!strcmp(a, "--train") || !strcmp(a, "--valid") || !strcmp(a, "--kd-train")) {
      NEED_VALUE;
      const bool is_kd = a[2] == 'k';
      int *n = is_kd ? &o->n_kd : a[2] == 't' ? &o->n_train : &o->n_valid;
      if (*n >= MAX_INPUTS) {
        fprintf(stderr, "%s: at most %d %s paths\n", o->program, MAX_INPUTS, a);
        return TRAIN_EXIT_USAGE;
      }
      (is_kd ? o->kd_paths : a[2] == 't' ? o->train_paths : o->valid_paths)[(*n)++] = v;
    } else if (!strcmp(a, "--shift")) {
      NEED_VALUE;
      if (sscanf(v, "%d:%d", &o->shift_lo, &o->shift_hi) != 2 || o->shift_lo > o->shift_hi || o->shift_lo < -11 ||
          o->shift_hi > 11) {
        fprintf(stderr, "%s: --shift wants LO:HI semitones within -11..11, e.g. -5:6\n", o->program);
        return TRAIN_EXIT_USAGE;
      }
    } else if (!strcmp(a, "--layers") || !strcmp(a, "--heads")) {
      NEED_VALUE;
      if (parse_triple(v, triple)) {
        fprintf(stderr, "%s: %s wants F/T/D, e.g. 3/4/3\n", o->program, a);
        return TRAIN_EXIT_USAGE;
      }
      if (a[2] == 'l') {
        o->model.layers_f = triple[0];
        o->model.layers_t = triple[1];
        o->model.layers_d = triple[2];
      } else {
        o->model.heads_f = triple[0];
        o->model.heads_t = triple[1];
        o->model.heads_d = triple[2];
      }
    } else {
      /* numeric options */
      static const struct {
        const char *name;
        int kind; /* 0 long, 1 int, 2 float, 3 double */
        size_t offset;
        double lo, hi;
      } nums[] = {
          {"--hours", 3, offsetof(train_options, hours), 0, 1e6},
          {"--steps", 0, offsetof(train_options, steps), 1, 1e9},
          {"--batch", 1, offsetof(train_options, batch), 1, 4096},
          {"--frames", 1, offsetof(train_options, frames), 4, 8192},
          {"--stride", 1, offsetof(train_options, stride), 1, 8192},
          {"--lr", 2, offsetof(train_options, lr), 0, 1},
          {"--lr-start", 2, offsetof(train_options, lr_start), 0, 1},
          {"--lr-min", 2, offsetof(train_options, lr_min), 0, 1},
          {"--warmup", 0, offsetof(train_options, warmup), 0, 1e9},
          {"--weight-decay", 2, offsetof(train_options, adam.weight_decay), 0, 1},
          {"--clip", 3, offsetof(train_options, clip), 0, 1e6},
          {"--focal-gamma", 2, offsetof(train_options, loss.focal_gamma), 0, 10},
          {"--alpha", 2, offsetof(train_options, loss.kd_alpha), 0, 1},
          {"--temperature", 2, offsetof(train_options, loss.kd_temperature), 0.01, 100},
          {"--conf-lo", 2, offsetof(train_options, loss.conf_lo), 0, 1},
          {"--conf-hi", 2, offsetof(train_options, loss.conf_hi), 0, 1},
          {"--valid-every", 0, offsetof(train_options, valid_every), 1, 1e9},
          {"--checkpoint-every", 0, offsetof(train_options, checkpoint_every), 1, 1e9},
          {"--patience", 1, offsetof(train_options, patience), 0, 1e6},
          {"--threads", 1, offsetof(train_options, threads), 1, MAX_THREADS},
          {"--seed", 0, offsetof(train_options, seed), 0, 1e15},
          {"--ff-mult", 1, offsetof(train_options, model.ff_mult), 1, 16},
          {"--context", 1, offsetof(train_options, model.context), 1, 100000},
          {"--lookahead", 1, offsetof(train_options, model.lookahead), 0, 100000},
          {"--dropout", 2, offsetof(train_options, model.dropout), 0, 0.99},
          {"--groups", 1, offsetof(train_options, model.n_groups), 1, 144},
          {"--frame-step", 1, offsetof(train_options, frame_step), 1, 64},
          {"--kd-share", 2, offsetof(train_options, kd_share), 0.01, 0.99},
          {"--kd-weight", 2, offsetof(train_options, loss.kd_only_weight), 0, 1},
          {"--ema", 3, offsetof(train_options, ema), 0, 0.999999},
      };
      size_t k = 0;
      while (k < sizeof nums / sizeof *nums && strcmp(a, nums[k].name)) k++;
      if (k == sizeof nums / sizeof *nums) {
        fprintf(stderr, "%s: unknown option '%s'\n\n", o->program, a);
        usage(stderr, cmd);
        return TRAIN_EXIT_USAGE;
      }
      NEED_VALUE;
      char *end = NULL;
      double x = strtod(v, &end);
      if (!end || *end || !isfinite(x) || x < nums[k].lo || x > nums[k].hi) {
        fprintf(stderr, "%s: %s %s is not a number in %g..%g\n", o->program, a, v, nums[k].lo, nums[k].hi);
        return TRAIN_EXIT_USAGE;
      }
      char *field = (char *)o + nums[k].offset;
      if (nums[k].kind == 0) *(long *)(void *)field = (long)x;
      else if (nums[k].kind == 1) *(int *)(void *)field = (int)x;
      else if (nums[k].kind == 2) *(float *)(void *)field = (float)x;
      else *(double *)(void *)field = x;
      if (!strcmp(a, "--seed")) o->seed = (unsigned long long)x;
    }
#undef NEED_VALUE
  }
  if (!o->out_dir || o->n_train == 0 || o->n_valid == 0) {
    fprintf(stderr, "%s: %s\n\n", o->program,
            !o->out_dir ? "--out RUN is required" : o->n_train == 0 ? "--train is required" : "--valid is required");
    usage(stderr, cmd);
    return TRAIN_EXIT_USAGE;
  }
  if (o->stage == STAGE2 && !o->init && !o->resume) {
    fprintf(stderr, "%s: stage 2 starts from a stage-1 model: give --init MODEL\n", o->program);
    return TRAIN_EXIT_USAGE;
  }
  if (o->reach_context && o->stage != STAGE2) {
    fprintf(stderr, "%s: --reach changes a stage-1 model's reach in stage 2 (from scratch: --context, --lookahead)\n",
            o->program);
    return TRAIN_EXIT_USAGE;
  }
  if (o->n_kd && o->stage != STAGE2) {
    fprintf(stderr, "%s: --kd-train is for stage 2 (stage 1 trains on the same caches with --train)\n", o->program);
    return TRAIN_EXIT_USAGE;
  }
  if (o->n_kd && o->loss.kd_alpha <= 0 && o->loss.kd_only_weight <= 0) {
    fprintf(stderr, "%s: --kd-train windows carry the KD term only: give --kd-weight or --alpha above 0\n",
            o->program);
    return TRAIN_EXIT_USAGE;
  }
  if (o->kd_share >= 0 && !o->n_kd) {
    fprintf(stderr, "%s: --kd-share needs --kd-train\n", o->program);
    return TRAIN_EXIT_USAGE;
  }
  if (o->kd_share < 0) o->kd_share = o->n_kd ? 0.25f : 0.0f;
  if (o->stride <= 0) o->stride = o->stage == STAGE2 || o->stage == SUPERVISED ? o->frames / 2 : o->frames;
  if (o->lr_start < 0) o->lr_start = o->lr / 3;
  if (o->warmup < 0) o->warmup = o->cosine ? o->steps / 10 : 0;
  if (o->valid_every <= 0) o->valid_every = o->steps / 10 > 0 ? o->steps / 10 : 1;
  if (o->loss.conf_lo > o->loss.conf_hi) {
    fprintf(stderr, "%s: --conf-lo must not exceed --conf-hi\n", o->program);
    return TRAIN_EXIT_USAGE;
  }
  return 0;
}

/* The options that define the run's computation, for the resume check. */
static void describe_options(const train_options *o, char *out, size_t n) {
  snprintf(out, n,
           "%s steps=%ld batch=%d frames=%d stride=%d lr=%g lr_start=%g lr_min=%g warmup=%ld cosine=%d "
           "wd=%g clip=%g gamma=%g alpha=%g T=%g selective=%d conf=%g..%g shift=%d:%d hours=%g "
           "seed=%llu init=%s",
           stage_name(o->stage), o->steps, o->batch, o->frames, o->stride, (double)o->lr, (double)o->lr_start,
           (double)o->lr_min, o->warmup, o->cosine, (double)o->adam.weight_decay, o->clip,
           (double)o->loss.focal_gamma, (double)o->loss.kd_alpha, (double)o->loss.kd_temperature,
           o->loss.selective, (double)o->loss.conf_lo, (double)o->loss.conf_hi, o->shift_lo, o->shift_hi, o->hours,
           o->seed, o->init ? o->init : "-");
  /* only when set, so runs made before the option resume as they were */
  if (o->frame_step != 1) snprintf(out + strlen(out), n - strlen(out), " frame_step=%d", o->frame_step);
  if (o->all_phases && o->frame_step != 1) snprintf(out + strlen(out), n - strlen(out), " all_phases");
  if (o->n_kd) snprintf(out + strlen(out), n - strlen(out), " kd_share=%g kd_train=%s", (double)o->kd_share, o->kd_paths[0]);
  if (o->loss.kd_only_weight > 0) snprintf(out + strlen(out), n - strlen(out), " kd_weight=%g", (double)o->loss.kd_only_weight);
  if (o->ema > 0) snprintf(out + strlen(out), n - strlen(out), " ema=%g", o->ema);
  if (o->reach_context)
    snprintf(out + strlen(out), n - strlen(out), " reach=%d/%d", o->reach_context, o->reach_lookahead);
}

/* Whether a checkpoint's options are this run's. Runs made before issue 16
 * stored "threads=N" among them; the result no longer depends on threads
 * (nor on ranks), so it is left out of the comparison. */
static bool same_options(const char *stored, const char *now) {
  char kept[2048];
  const char *t = strstr(stored, " threads=");
  if (!t) return strcmp(stored, now) == 0;
  const char *after = t + strlen(" threads=");
  while (*after >= '0' && *after <= '9') after++;
  snprintf(kept, sizeof kept, "%.*s%s", (int)(t - stored), stored, after);
  return strcmp(kept, now) == 0;
}

static float learning_rate(const train_options *o, long step) {
  if (!o->cosine) return o->lr;
  if (step < o->warmup) return o->lr_start + (o->lr - o->lr_start) * (float)step / (float)o->warmup;
  double progress = o->steps > o->warmup ? (double)(step - o->warmup) / (double)(o->steps - o->warmup) : 1.0;
  if (progress > 1) progress = 1;
  return (float)(o->lr_min + (o->lr - o->lr_min) * 0.5 * (1.0 + cos(PI * progress)));
}

/* The KD-only windows' order in their epoch e (another stream than the
 * training windows', whose epochs are seeded seed * 1000003 + e). */
static unsigned long long kd_order_seed(unsigned long long seed, long epoch) {
  return seed * 0x9E3779B97F4A7C15ull + 0xD1B54A32D192ED03ull + (unsigned long long)epoch;
}

/* Replaces *windows with the windows of s in the order (and pitch shifts) of
 * `seed`: an epoch's order, the same whenever it is computed. 0, or -1 after
 * saying it is out of memory (*windows is kept). */
static int epoch_windows(const train_set *s, const train_options *o, int stride, unsigned long long seed,
                         train_window **windows, size_t *n) {
  train_window *fresh = train_windows(s, o->frames, stride, n);
  if (!fresh) {
    fprintf(stderr, "%s: out of memory\n", o->program);
    return -1;
  }
  free(*windows);
  *windows = fresh;
  train_windows_shuffle(fresh, *n, seed, o->shift_lo, o->shift_hi);
  return 0;
}

/* ema = d ema + (1 - d) params, with d = min(decay, (1 + step) / (10 + step)):
 * early on the average follows the weights closely, later it keeps ~1 / (1 - decay) steps. */
static void ema_update(float *ema, const float *params, size_t n, double decay, long step) {
  double d = (1.0 + (double)step) / (10.0 + (double)step);
  if (d > decay) d = decay;
  const float keep = (float)d, take = (float)(1.0 - d);
  for (size_t i = 0; i < n; i++) ema[i] = keep * ema[i] + take * params[i];
}

/* Validation frame accuracy, each rank scoring its share of the songs; every
 * rank gets the same number, or the same failure. */
static chordlet_status validate_shared(const student_config *c, const float *params, const train_set *set,
                                       int n_threads, double *accuracy, chordlet_error *err) {
  long frames = 0, correct = 0;
  chordlet_status st =
      train_eval_frame_counts(c, params, set, n_threads, dist_rank(), dist_size(), &frames, &correct, err);
  int64_t counts[3] = {frames, correct, st != CHORDLET_OK};
  dist_sum_i64(counts, 3);
  if (counts[2] && !st) st = chordlet_fail(err, CHORDLET_ERR_IO, "it failed on another rank");
  *accuracy = counts[0] ? (double)counts[1] / (double)counts[0] : 0.0;
  return st;
}

/* ---- the model file a run exports ---- */

static chordlet_status export_model(const char *path, const train_options *o, const student_config *c,
                                    const float *params, const cqt_params *fe, const char *data_text, long step,
                                    double score, bool averaged, chordlet_error *err) {
  model_writer *w = model_writer_create();
  if (!w) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  char stages[1024], desc[256], provenance[2048];
  describe_options(o, stages, sizeof stages);
  snprintf(stages + strlen(stages), sizeof stages - strlen(stages), "; step %ld of %ld; valid frame accuracy %.4f%s",
           step, o->steps, score, averaged ? "; the weights' moving average" : "");
  snprintf(desc, sizeof desc, "2E1D student (%s), lookahead %d frames, context %d frames", stage_name(o->stage),
           c->lookahead, c->context);
  snprintf(provenance, sizeof provenance,
           "Trained by chordlet-train %s from the teacher's pseudo-labels and/or ground truth of rendered "
           "chord-annotated MIDI (../shared/data) and Debian's free recorded music. %s",
           chordlet_version(), o->provenance ? o->provenance : "");
  const char *commit = getenv("CHORDLET_COMMIT");
  /* The estimator the model runs with: the one `features` measured its
   * caches' tunings with (it has no settings of its own: the defaults). */
  tuning_params tuning;
  tuning_params_default(&tuning);
  chordlet_status st;
  (void)((st = student_write(w, c, params, err)) || (st = model_writer_set_str(w, MK_NAME, "student", err)) ||
         (st = model_writer_set_str(w, MK_DESCRIPTION, desc, err)) ||
         (st = model_writer_set_str(w, MK_LICENSE,
                                    "MIT (chordlet's own weights, trained on MIT/GPL-3.0/CC0 data; see models/README.md)",
                                    err)) ||
         (st = model_writer_set_str(w, MK_PROVENANCE, provenance, err)) ||
         (st = model_writer_set_str(w, MK_CREATED_BY, "chordlet-train", err)) ||
         (st = model_writer_set_i64(w, MK_STREAMABLE, student_is_streamable(c, fe->hop_seconds), err)) ||
         (st = model_writer_set_str(w, MK_FRONTEND_KIND, FRONTEND_STREAM_CQT, err)) ||
         (st = cqt_params_write(fe, w, err)) || (st = tuning_params_write(&tuning, w, err)) ||
         (st = model_writer_set_str(w, MK_DECODER_KIND, "viterbi", err)) ||
         (st = model_writer_set_f64(w, MK_DECODER_PENALTY, 8.0, err)) ||
         (st = model_writer_set_str(w, MK_TRAIN_DATA, data_text, err)) ||
         (st = model_writer_set_str(w, MK_TRAIN_STAGES, stages, err)) ||
         (st = model_writer_set_str(w, MK_TRAIN_COMMIT, commit && *commit ? commit : "unknown", err)) ||
         (st = model_writer_save(w, path, err)));
  model_writer_free(w);
  return st;
}

/* ---- the CSV log ---- */

/* Keeps the rows of an earlier run up to `step` (a resumed run rewrites what
 * came after its checkpoint). */
static int log_truncate(const char *path, long step) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *g = fopen(tmp, "w");
  if (!g) {
    fclose(f);
    return -1;
  }
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    long s = 0;
    if (sscanf(line, "%ld,", &s) == 1 && s > step) break;
    fputs(line, g);
  }
  fclose(f);
  int bad = ferror(g) | fclose(g);
  return bad ? -1 : rename(tmp, path);
}

static void plot_curve(const char *dir) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "command -v gnuplot >/dev/null 2>&1 && cd '%s' && gnuplot -e \"set terminal pngcairo size 900,500 noenhanced; "
           "set output 'curve.png.tmp'; set datafile separator ','; set key autotitle columnhead; "
           "set xlabel 'step'; set ylabel 'loss'; set y2label 'accuracy'; set y2range [0:1]; set ytics nomirror; "
           "set y2tics; set title 'chordlet-train: training curve'; "
           "plot 'log.csv' using 1:4 with lines title 'train loss', "
           "'' using 1:7 with lines axes x1y2 title 'train accuracy', "
           "'' using 1:(column(10) >= 0 ? column(10) : 1/0) with linespoints axes x1y2 title 'valid accuracy'\" "
           ">/dev/null 2>&1 && mv curve.png.tmp curve.png",
           dir);
  if (system(cmd) != 0) { /* gnuplot missing or failed: the CSV is the record */
  }
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void format_eta(double s, char *out, size_t n) {
  if (!(s >= 0) || s > 1e7) s = 0;
  long x = (long)s;
  snprintf(out, n, "%ld:%02ld:%02ld", x / 3600, (x / 60) % 60, x % 60);
}

/* ---- the run ---- */

static int run(train_options *o) {
  chordlet_error err = {0};
  char path[4096], ckpt[4096], best_path[4096], log_path[4096];
  if (cache_make_dir(o->out_dir) != 0) {
    fprintf(stderr, "%s: cannot create %s: %s\n", o->program, o->out_dir, strerror(errno));
    return TRAIN_EXIT_FAIL;
  }
  snprintf(ckpt, sizeof ckpt, "%s/checkpoint.chordlet", o->out_dir);
  snprintf(best_path, sizeof best_path, "%s/best.chordlet", o->out_dir);
  snprintf(log_path, sizeof log_path, "%s/log.csv", o->out_dir);

  train_state s;
  char options[2048];
  describe_options(o, options, sizeof options);
  struct stat st_ckpt;
  bool have_ckpt = stat(ckpt, &st_ckpt) == 0;
  if (have_ckpt && !o->resume) {
    fprintf(stderr, "%s: %s already holds a run: give --resume to continue it, or another --out\n", o->program,
            o->out_dir);
    return TRAIN_EXIT_FAIL;
  }
  cqt_params init_frontend = {0}; /* --init's front end: its hop must be the decimated caches' */
  if (o->resume && have_ckpt) {
    if (train_checkpoint_load(&s, ckpt, &err)) {
      fprintf(stderr, "%s: %s\n", o->program, err.message);
      return TRAIN_EXIT_FAIL;
    }
    if (!same_options(s.options, options)) {
      fprintf(stderr, "%s: %s was started with other options:\n  it:  %s\n  now: %s\n", o->program, o->out_dir,
              s.options, options);
      train_state_free(&s);
      return TRAIN_EXIT_FAIL;
    }
    if (!o->quiet) fprintf(stderr, "%s: resuming %s at step %ld\n", o->program, o->out_dir, s.step);
  } else {
    student_config c = o->model;
    model_file *init = NULL;
    if (o->init) {
      if (model_file_load(o->init, &init, &err) || student_config_read(init, &c, &err) ||
          student_check_params(init, &c, &err) || cqt_params_read(init, &init_frontend, &err)) {
        fprintf(stderr, "%s: --init: %s\n", o->program, err.message);
        model_file_free(init);
        return TRAIN_EXIT_FAIL;
      }
      c.dropout = o->model.dropout;
      /* --reach: with ALiBi the time attention has no parameter tied to how far
       * it reaches, so a stage-1 model can be fine-tuned to see further. */
      if (o->reach_context) {
        if (!c.alibi) {
          fprintf(stderr, "%s: --reach: %s has no ALiBi time attention; its reach is part of its parameters\n",
                  o->program, o->init);
          model_file_free(init);
          return TRAIN_EXIT_USAGE;
        }
        c.context = o->reach_context;
        c.lookahead = o->reach_lookahead;
      }
    }
    if (student_config_check(&c, &err) || train_state_alloc(&s, &c, &err)) {
      fprintf(stderr, "%s: %s\n", o->program, err.message);
      model_file_free(init);
      return TRAIN_EXIT_FAIL;
    }
    if (init) {
      chordlet_status st = student_read_params(init, &c, s.params, &err);
      model_file_free(init);
      if (st) {
        fprintf(stderr, "%s: --init: %s\n", o->program, err.message);
        train_state_free(&s);
        return TRAIN_EXIT_FAIL;
      }
    } else {
      student_init(&c, s.params, o->seed);
    }
    snprintf(s.options, sizeof s.options, "%s", options);
  }
  const student_config *c = &s.config;
  if (o->ema > 0 && !s.ema && train_state_alloc_ema(&s, &err)) {
    fprintf(stderr, "%s: %s\n", o->program, err.message);
    train_state_free(&s);
    return TRAIN_EXIT_FAIL;
  }

  /* the material */
  const bool kd = o->loss.kd_alpha > 0;          /* the training windows carry the KD term */
  const bool teacher_needed = kd || o->n_kd > 0;  /* some window does: the workers hold teacher logits */
  const train_target target = o->stage == STAGE1 ? TARGET_PSEUDO : TARGET_GROUND_TRUTH;
  train_set data, valid, kd_data;
  memset(&kd_data, 0, sizeof kd_data);
  double t0 = now_seconds();
  if (train_set_load(&data, o->train_paths, o->n_train, o->hours, o->seed, kd, &err)) {
    fprintf(stderr, "%s: training data: %s\n", o->program, err.message);
    train_state_free(&s);
    return TRAIN_EXIT_FAIL;
  }
  if (train_set_load(&valid, o->valid_paths, o->n_valid, 0, 0, 0, &err)) {
    fprintf(stderr, "%s: validation data: %s\n", o->program, err.message);
    train_set_free(&data);
    train_state_free(&s);
    return TRAIN_EXIT_FAIL;
  }
  if (o->n_kd && train_set_load(&kd_data, o->kd_paths, o->n_kd, 0, o->seed, 1, &err)) {
    fprintf(stderr, "%s: --kd-train data: %s\n", o->program, err.message);
    train_set_free(&data);
    train_set_free(&valid);
    train_state_free(&s);
    return TRAIN_EXIT_FAIL;
  }
  /* Validation at phase 0 always, so runs with and without --all-phases compare. */
  chordlet_status (*decimate)(train_set *, int, chordlet_error *) =
      o->all_phases ? train_set_decimate_all_phases : train_set_decimate;
  if (decimate(&data, o->frame_step, &err) || train_set_decimate(&valid, o->frame_step, &err) ||
      (o->n_kd && decimate(&kd_data, o->frame_step, &err))) {
    fprintf(stderr, "%s: --frame-step %d: %s\n", o->program, o->frame_step, err.message);
    train_set_free(&data);
    train_set_free(&valid);
    train_set_free(&kd_data);
    train_state_free(&s);
    return TRAIN_EXIT_FAIL;
  }
  const char *problem = NULL;
  if (data.n_bins != c->n_bins) problem = "the caches' bins differ from the model's";
  else if (init_frontend.hop_seconds > 0 && init_frontend.hop_seconds != data.frontend.hop_seconds)
    problem = "--init's hop is not the caches' hop times --frame-step (give the --frame-step it was trained with)";
  else if (init_frontend.hop_seconds > 0 && !train_frontend_same(&init_frontend, &data.frontend))
    problem = "--init was trained on another front end than these caches' (features --max-window?)";
  else if (!train_frontend_same(&valid.frontend, &data.frontend))
    problem = "the --valid caches were made with another front end than the --train caches (features --max-window?)";
  else if (target == TARGET_PSEUDO && !data.has_teacher) problem = "stage 1 needs caches with the teacher's pseudo-labels (features --pseudo)";
  else if (target == TARGET_GROUND_TRUTH && !data.has_labels) problem = "some training caches have no ground-truth labels";
  else if (kd && !data.has_teacher) problem = "KD (--alpha > 0) needs the teacher's probabilities in every training cache (features --pseudo)";
  else if (!valid.has_labels) problem = "some validation caches have no ground-truth labels";
  else if (o->n_kd && !kd_data.has_teacher) problem = "--kd-train needs the teacher's probabilities in every cache (features --pseudo)";
  else if (o->n_kd && !train_frontend_same(&kd_data.frontend, &data.frontend))
    problem = "the --kd-train caches were made with another front end than the --train caches";
  else if (o->n_kd && o->batch < 2) problem = "--kd-train needs --batch 2 or more (windows of both kinds in every batch)";
  if (problem) {
    fprintf(stderr, "%s: %s\n", o->program, problem);
    train_set_free(&data);
    train_set_free(&valid);
    train_set_free(&kd_data);
    train_state_free(&s);
    return TRAIN_EXIT_FAIL;
  }
  char data_text[1024];
  snprintf(data_text, sizeof data_text, "%s: %d songs, %.2f h (%s%s); valid: %d songs, %.2f h; seed %llu",
           stage_name(o->stage), data.n_songs, data.seconds / 3600, o->train_paths[0], o->n_train > 1 ? ", ..." : "",
           valid.n_songs, valid.seconds / 3600, o->seed);
  if (o->n_kd)
    snprintf(data_text + strlen(data_text), sizeof data_text - strlen(data_text),
             "; KD-only: %d songs, %.2f h (%s%s), %.0f %% of each batch", kd_data.n_songs, kd_data.seconds / 3600,
             o->kd_paths[0], o->n_kd > 1 ? ", ..." : "", 100.0 * o->kd_share);
  /* every batch: lab_batch windows of the training material, kd_batch of the KD-only material */
  int kd_batch = (int)lround(o->kd_share * o->batch);
  if (o->n_kd && kd_batch < 1) kd_batch = 1;
  if (o->n_kd && kd_batch > o->batch - 1) kd_batch = o->batch - 1;
  if (!o->n_kd) kd_batch = 0;
  const int lab_batch = o->batch - kd_batch;
  size_t n_kd_windows = 0;
  train_window *kd_windows = NULL;
  if (o->n_kd) {
    kd_windows = train_windows(&kd_data, o->frames, o->frames, &n_kd_windows);
    if (!kd_windows || !n_kd_windows) {
      fprintf(stderr, "%s: no --kd-train windows of %d frames in the data\n", o->program, o->frames);
      free(kd_windows);
      train_set_free(&data);
      train_set_free(&valid);
      train_set_free(&kd_data);
      train_state_free(&s);
      return TRAIN_EXIT_FAIL;
    }
  }
  size_t n_windows = 0;
  train_window *windows = train_windows(&data, o->frames, o->stride, &n_windows);
  if (!windows || n_windows == 0) {
    fprintf(stderr, "%s: no training windows of %d frames in the data\n", o->program, o->frames);
    free(windows);
    free(kd_windows);
    train_set_free(&kd_data);
    train_set_free(&data);
    train_set_free(&valid);
    train_state_free(&s);
    return TRAIN_EXIT_FAIL;
  }
  if (!o->quiet)
    fprintf(stderr, "%s: %s; %zu windows of %d frames; %zu parameter floats; loaded in %.1f s\n", o->program,
            data_text, n_windows, o->frames, s.n_floats, now_seconds() - t0);

  /* trainers */
  openblas_set_num_threads(1);
  const int n_threads = o->threads < o->batch ? o->threads : o->batch;
  grad_step *trainers = grad_step_create(c, s.n_floats, o->batch, o->frames, data.n_bins, data.n_classes,
                                         teacher_needed, n_threads);
  float *grads = malloc(s.n_floats * sizeof *grads);
  batch_item *items = malloc((size_t)o->batch * sizeof *items);
  const bool bad = !trainers || !grads || !items;
  FILE *log = NULL; /* rank 0's */
  if (!bad && dist_is_root()) {
    if (s.step == 0) remove(log_path);
    if (log_truncate(log_path, s.step) == 0 && (log = fopen(log_path, "a"))) {
      if (ftell(log) == 0)
        fprintf(log, "step,epoch,lr,loss,focal,kd,train_accuracy,grad_norm,frames_per_second,valid_accuracy,"
                     "valid_ema_accuracy\n");
    }
  }
  int status = TRAIN_EXIT_OK;
  if (bad || (dist_is_root() && !log)) {
    fprintf(stderr, "%s: %s\n", o->program, bad ? "out of memory" : "cannot write log.csv");
    status = TRAIN_EXIT_FAIL;
  }
  /* From here every rank takes the same steps; a rank that could not set up
   * stops them all, and one that stops answering is stopped (dist.h). */
  status = dist_agree_status(status);
  dist_watchdog_start(o->program);
  if (status == TRAIN_EXIT_OK && !o->quiet && dist_size() > 1)
    fprintf(stderr, "%s: %d ranks x %d threads; %zu bytes reduced per step\n", o->program, dist_size(), n_threads,
            grad_step_bytes_reduced(trainers));

  /* tests: a kill -9 at a known step, of one rank (CHORDLET_TEST_KILL_RANK) or all */
  const char *kill_env = getenv("CHORDLET_TEST_KILL_AT_STEP"), *kill_rank = getenv("CHORDLET_TEST_KILL_RANK");
  const long kill_at_step = kill_env && (!kill_rank || atoi(kill_rank) == dist_rank()) ? atol(kill_env) : 0;
  const long batches_per_epoch = (long)((n_windows + lab_batch - 1) / lab_batch);
  long epoch_loaded = -1, kd_epoch_loaded = 0;
  if (kd_windows) train_windows_shuffle(kd_windows, n_kd_windows, kd_order_seed(o->seed, 0), o->shift_lo, o->shift_hi);
  double window_loss = 0, window_focal = 0, window_kd = 0;
  long window_frames = 0, window_labelled = 0, window_correct = 0, window_steps = 0;
  double window_t0 = now_seconds(), run_t0 = window_t0, grad_norm = 0;
  long run_step0 = s.step, stale_validations = 0;
  double last_valid = -1, last_ema = -1;
  while (status == TRAIN_EXIT_OK && s.step < o->steps) {
    const long epoch = s.step / batches_per_epoch, in_epoch = s.step % batches_per_epoch;
    if (epoch != epoch_loaded) {
      /* the same order for the same epoch, whenever it is computed */
      if (epoch_windows(&data, o, o->stride, o->seed * 1000003u + (unsigned long long)epoch, &windows, &n_windows)) {
        status = TRAIN_EXIT_FAIL;
        break;
      }
      epoch_loaded = epoch;
    }
    const size_t first = (size_t)in_epoch * lab_batch;
    const int n_lab = first + (size_t)lab_batch <= n_windows ? lab_batch : (int)(n_windows - first);
    for (int i = 0; i < n_lab; i++) items[i] = (batch_item){&data, windows[first + i], target};
    for (int j = 0; j < kd_batch; j++) {
      /* the KD-only windows run through their own epochs: window number step * kd_batch + j */
      const unsigned long long at = (unsigned long long)s.step * (unsigned long long)kd_batch + (unsigned long long)j;
      const long kd_epoch = (long)(at / n_kd_windows);
      if (kd_epoch != kd_epoch_loaded) {
        if (epoch_windows(&kd_data, o, o->frames, kd_order_seed(o->seed, kd_epoch), &kd_windows, &n_kd_windows)) {
          status = TRAIN_EXIT_FAIL;
          break;
        }
        kd_epoch_loaded = kd_epoch;
      }
      items[n_lab + j] = (batch_item){&kd_data, kd_windows[at % n_kd_windows], TARGET_KD_ONLY};
    }
    if (status != TRAIN_EXIT_OK) break;
    const int n_batch = n_lab + kd_batch;
    /* dropout seeds: window j of step t has seed + j (train_step.h), whoever computes it */
    const unsigned long long step_seed = o->seed * 0x100000001B3ull + (unsigned long long)s.step * 4096u;
    step_totals tot;
    grad_step_run(trainers, s.params, items, n_batch, &o->loss, step_seed, grads, &tot);
    const long frames = tot.frames, correct = tot.correct, labelled = tot.labelled;
    const double loss = tot.loss, focal = tot.focal, kdl = tot.kd;
    const float lr = learning_rate(o, s.step);
    if (frames > 0 && tot.finite) { /* a batch with a non-finite loss takes no step (PAPER 1.5) */
      grad_norm = clip_grad_norm(grads, s.n_floats, o->clip);
      adamw_options a = o->adam;
      a.lr = lr;
      adamw_step(s.params, grads, s.adam_m, s.adam_v, s.n_floats, s.step + 1, &a);
      if (s.ema) ema_update(s.ema, s.params, s.n_floats, o->ema, s.step);
      window_loss += loss;
      window_focal += focal;
      window_kd += kdl;
      window_frames += frames;
      window_labelled += labelled;
      window_correct += correct;
      window_steps++;
    } else if (frames > 0 && dist_is_root()) {
      fprintf(stderr, "\n%s: step %ld: non-finite loss, step skipped\n", o->program, s.step);
    }
    s.step++;
    if (kill_at_step > 0 && s.step == kill_at_step) raise(SIGKILL); /* tests: a kill -9 at a known point */

    const bool validate = s.step % o->valid_every == 0 || s.step == o->steps;
    double valid_acc = -1, ema_acc = -1;
    if (validate) {
      if (validate_shared(c, s.params, &valid, n_threads, &valid_acc, &err) ||
          (s.ema && validate_shared(c, s.ema, &valid, n_threads, &ema_acc, &err))) {
        fprintf(stderr, "\n%s: validation: %s\n", o->program, err.message);
        status = TRAIN_EXIT_FAIL;
        break;
      }
      last_valid = valid_acc;
      last_ema = ema_acc;
      /* best.chordlet: the weights or their average, whichever validates higher */
      const bool averaged = ema_acc > valid_acc;
      const double score = averaged ? ema_acc : valid_acc;
      if (score > s.best_score) {
        s.best_score = score;
        s.best_step = s.step;
        stale_validations = 0;
        int wrote = TRAIN_EXIT_OK;
        if (dist_is_root() && export_model(best_path, o, c, averaged ? s.ema : s.params, &data.frontend, data_text,
                                           s.step, score, averaged, &err)) {
          fprintf(stderr, "\n%s: %s\n", o->program, err.message);
          wrote = TRAIN_EXIT_FAIL;
        }
        if ((status = dist_agree_status(wrote)) != TRAIN_EXIT_OK) break;
      } else {
        stale_validations++;
      }
    }
    const bool stop_early = validate && o->patience > 0 && stale_validations >= o->patience;
    const bool checkpoint = s.step % o->checkpoint_every == 0 || s.step == o->steps || stop_early;
    /* A row at every checkpoint too: a resumed run starts on a row boundary,
     * so its rows average the same steps as the uninterrupted run's. */
    if ((s.step % o->log_every == 0 || validate || checkpoint) && log) {
      const double t = now_seconds(), fps = window_frames / (t - window_t0 > 1e-9 ? t - window_t0 : 1e-9);
      const double n = window_steps ? (double)window_steps : 1.0;
      const double train_acc = window_labelled ? (double)window_correct / window_labelled : 0.0;
      fprintf(log, "%ld,%.4f,%.3g,%.5f,%.5f,%.5f,%.4f,%.4f,%.0f,%.4f,%.4f\n", s.step,
              (double)s.step / (double)batches_per_epoch, (double)lr, window_loss / n, window_focal / n,
              window_kd / n, train_acc, grad_norm, fps, valid_acc, ema_acc);
      fflush(log);
      if (!o->quiet) {
        char eta[32];
        const double rate = (s.step - run_step0) / (t - run_t0);
        format_eta((o->steps - s.step) / (rate > 0 ? rate : 1e-9), eta, sizeof eta);
        fprintf(stderr,
                "\r%s: step %ld/%ld  epoch %.2f  loss %.4f  acc %.3f  lr %.2g  %.0f frames/s  ETA %s  valid %.4f "
                "%s%.4f (best %.4f @%ld)   ",
                stage_name(o->stage), s.step, o->steps, (double)s.step / (double)batches_per_epoch,
                window_loss / n, train_acc, (double)lr, fps, eta, last_valid, s.ema ? " ema " : "",
                s.ema ? last_ema : 0.0, s.best_score, s.best_step);
      }
      window_loss = window_focal = window_kd = 0;
      window_frames = window_labelled = window_correct = window_steps = 0;
      window_t0 = t;
    }
    if ((s.step % o->log_every == 0 || validate || checkpoint) && !log) { /* ranks but 0: the same bookkeeping */
      window_loss = window_focal = window_kd = 0;
      window_frames = window_labelled = window_correct = window_steps = 0;
      window_t0 = now_seconds();
    }
    if (checkpoint) {
      int wrote = TRAIN_EXIT_OK;
      if (dist_is_root() && train_checkpoint_save(&s, ckpt, &err)) {
        fprintf(stderr, "\n%s: checkpoint: %s\n", o->program, err.message);
        wrote = TRAIN_EXIT_FAIL;
      }
      if ((status = dist_agree_status(wrote)) != TRAIN_EXIT_OK) break;
    }
    if (stop_early) {
      if (!o->quiet)
        fprintf(stderr, "\n%s: no validation gain in %d validations: stopping at step %ld\n", o->program,
                o->patience, s.step);
      break;
    }
  }
  if (!o->quiet) fprintf(stderr, "\n");
  if (log) fclose(log);
  if (status == TRAIN_EXIT_OK && s.step == run_step0) {
    if (!o->quiet) fprintf(stderr, "%s: %s is complete (step %ld)\n", o->program, o->out_dir, s.step);
  } else if (status == TRAIN_EXIT_OK && !dist_is_root()) {
    /* rank 0 writes the final models */
  } else if (status == TRAIN_EXIT_OK) { /* final.chordlet is rewritten only when steps were taken */
    plot_curve(o->out_dir);
    snprintf(path, sizeof path, "%s/final.chordlet", o->out_dir);
    snprintf(best_path + strlen(o->out_dir), sizeof best_path - strlen(o->out_dir), "/ema.chordlet");
    if (export_model(path, o, c, s.params, &data.frontend, data_text, s.step, last_valid, false, &err) ||
        (s.ema && export_model(best_path, o, c, s.ema, &data.frontend, data_text, s.step, last_ema, true, &err))) {
      fprintf(stderr, "%s: %s\n", o->program, err.message);
      status = TRAIN_EXIT_FAIL;
    } else if (!o->quiet) {
      snprintf(best_path, sizeof best_path, "%s/best.chordlet", o->out_dir);
      fprintf(stderr, "%s: done: best valid frame accuracy %.4f at step %ld (%s)\n", o->program, s.best_score,
              s.best_step, best_path);
    }
  }
  status = dist_agree_status(status); /* rank 0's final write, for every rank's exit status */
  grad_step_free(trainers);
  free(grads);
  free(items);
  free(windows);
  free(kd_windows);
  train_set_free(&kd_data);
  train_set_free(&data);
  train_set_free(&valid);
  train_state_free(&s);
  return status;
}

int cmd_train(int argc, char **argv) {
  train_options o;
  int st = parse(argc, argv, &o);
  if (st) return st < 0 ? TRAIN_EXIT_OK : st;
  if (!dist_is_root()) o.quiet = true; /* progress from rank 0 only */
  return run(&o);
}
