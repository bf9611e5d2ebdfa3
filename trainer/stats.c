/*
 * stats.c: `chordlet-train stats POOL...`: what the training material holds.
 * Per pool (a folder or list of feature caches): songs, hours, frames; the
 * share of frames per chord quality in the ground truth and in the teacher's
 * pseudo-labels; and, where a frame has both, how often the teacher agrees
 * with the ground truth (frame accuracy over the 170 classes, and per
 * ground-truth quality). --pseudo-labs DIR writes the teacher's hard labels
 * at the student's frames as DIR/<song>.lab (frame j covers (j -+ 1/2) hops),
 * so `chordlet eval` can score the pseudo-labels the student learns from.
 * Pools with augmented variants (features --augment) also say how many songs
 * are variants and how many of them carry each kind of degradation.
 */
#include <stdio.h>
#include <string.h>

#include "augment.h"
#include "cache_key.h"
#include "commands.h"
#include "harte.h"
#include "lab.h"
#include "train_data.h"
#include "vocab.h"

#define PROGRAM "chordlet-train stats"
enum { N_GROUPS = VOCAB_QUALITIES + 2 }; /* 14 qualities, X, N */

static int group_of(int c) {
  if (c < 0) return -1;
  if (c == VOCAB_X) return VOCAB_QUALITIES;
  if (c == VOCAB_N) return VOCAB_QUALITIES + 1;
  return c % VOCAB_QUALITIES;
}

static const char *group_name(int g) {
  return g < VOCAB_QUALITIES ? vocab_quality_shorthand(g) : g == VOCAB_QUALITIES ? "X" : "N";
}

/* The pseudo-labels of one song as segments, to DIR/<stem>.lab. */
static int write_pseudo_lab(const train_set *s, int k, const char *dir) {
  const train_song *song = &s->songs[k];
  const double hop = s->frontend.hop_seconds;
  lab_file lab = {0};
  chordlet_error err = {0};
  chordlet_status st = CHORDLET_OK;
  int first = 0;
  for (int t = 1; t <= song->n_frames && !st; t++) {
    const int cls = s->pseudo[song->offset + first];
    if (t < song->n_frames && s->pseudo[song->offset + t] == cls) continue;
    char name[VOCAB_NAME_MAX];
    harte_chord chord;
    vocab_class_name(cls < 0 ? VOCAB_N : cls, name, sizeof name);
    double start = (first - 0.5) * hop, end = (t - 0.5) * hop;
    if (start < 0) start = 0;
    st = harte_parse(name, &chord, &err);
    if (!st) st = lab_append(&lab, start, end, &chord, &err);
    first = t;
  }
  char path[4096], stem[1024];
  snprintf(stem, sizeof stem, "%s", song->name);
  char *dot = strrchr(stem, '.');
  if (dot) *dot = '\0';
  snprintf(path, sizeof path, "%s/%s.lab", dir, stem);
  if (!st) st = lab_write(path, &lab, &err);
  lab_free(&lab);
  if (st) fprintf(stderr, "%s: %s: %s\n", PROGRAM, song->name, err.message);
  return st ? -1 : 0;
}

/* Whether `kind` is in the comma list `applied`. */
static int has_kind(const char *applied, const char *kind) {
  const size_t n = strlen(kind);
  for (const char *p = applied; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
    if (!strncmp(p, kind, n) && (p[n] == ',' || p[n] == '\0')) return 1;
  return 0;
}

/* "augmented variants: 30 of 40 songs (7.50 h); detune 15, reverb 14, ..., none 1" */
static void print_augment_summary(const train_set *s) {
  int variants = 0, none = 0, per_kind[AUG_N_KINDS] = {0};
  double hours = 0;
  for (int k = 0; k < s->n_songs; k++) {
    const char *applied = s->songs[k].augment;
    if (!applied) continue;
    variants++;
    hours += s->songs[k].n_frames * s->frontend.hop_seconds / 3600;
    if (!strcmp(applied, "none")) none++;
    for (int kind = 0; kind < AUG_N_KINDS; kind++) per_kind[kind] += has_kind(applied, augment_kind_name(kind));
  }
  if (!variants) return;
  printf("augmented variants: %d of %d songs (%.2f h);", variants, s->n_songs, hours);
  for (int kind = 0; kind < AUG_N_KINDS; kind++) printf(" %s %d,", augment_kind_name(kind), per_kind[kind]);
  printf(" none %d\n", none);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet-train stats [--pseudo-labs DIR] CACHES...\n"
          "\n"
          "For each argument (a folder of feature caches, or one cache): songs, hours,\n"
          "the per-quality share of frames in the ground truth and the teacher's\n"
          "pseudo-labels, and the teacher's agreement with the ground truth.\n"
          "  --pseudo-labs DIR   write the pseudo-labels at the student's frames as .lab\n");
}

int cmd_stats(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return TRAIN_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(stdout);
    return TRAIN_EXIT_OK;
  }
  int status = TRAIN_EXIT_OK, first_arg = 1;
  const char *labs = NULL;
  if (!strcmp(argv[1], "--pseudo-labs")) {
    if (argc < 4) {
      usage(stderr);
      return TRAIN_EXIT_USAGE;
    }
    labs = argv[2];
    first_arg = 3;
    if (cache_make_dir(labs) != 0) {
      fprintf(stderr, "%s: cannot create %s\n", PROGRAM, labs);
      return TRAIN_EXIT_FAIL;
    }
  }
  for (int a = first_arg; a < argc; a++) {
    train_set s;
    chordlet_error err = {0};
    const char *path = argv[a];
    if (train_set_load(&s, &path, 1, 0, 0, 0, &err)) {
      fprintf(stderr, "%s: %s\n", PROGRAM, err.message);
      status = TRAIN_EXIT_FAIL;
      continue;
    }
    long gt[N_GROUPS] = {0}, ps[N_GROUPS] = {0}, both[N_GROUPS] = {0}, agree[N_GROUPS] = {0};
    long n_gt = 0, n_ps = 0, n_both = 0, n_agree = 0;
    for (size_t i = 0; i < s.n_frames; i++) {
      int g = group_of(s.labels[i]), p = group_of(s.pseudo[i]);
      if (g >= 0) gt[g]++, n_gt++;
      if (p >= 0) ps[p]++, n_ps++;
      if (g >= 0 && p >= 0) {
        both[g]++;
        n_both++;
        if (s.labels[i] == s.pseudo[i]) agree[g]++, n_agree++;
      }
    }
    printf("== %s: %d songs, %.2f h, %zu frames (%.0f ms hop)\n", path, s.n_songs, s.seconds / 3600, s.n_frames,
           1000 * s.frontend.hop_seconds);
    printf("%-8s %12s %8s %12s %8s %14s\n", "quality", "truth", "%", "teacher", "%", "agreement %");
    for (int g = 0; g < N_GROUPS; g++) {
      char agreement[32] = "-";
      if (both[g]) snprintf(agreement, sizeof agreement, "%.2f", 100.0 * agree[g] / both[g]);
      printf("%-8s %12ld %8.3f %12ld %8.3f %14s\n", group_name(g), gt[g], n_gt ? 100.0 * gt[g] / n_gt : 0.0, ps[g],
             n_ps ? 100.0 * ps[g] / n_ps : 0.0, agreement);
    }
    char agreement[32] = "-";
    if (n_both) snprintf(agreement, sizeof agreement, "%.2f", 100.0 * n_agree / n_both);
    for (int k = 0; labs && k < s.n_songs; k++)
      if (write_pseudo_lab(&s, k, labs)) status = TRAIN_EXIT_FAIL;
    printf("%-8s %12ld %8s %12ld %8s %14s\n", "all", n_gt, n_gt ? "100" : "-", n_ps, n_ps ? "100" : "-", agreement);
    print_augment_summary(&s);
    printf("\n");
    train_set_free(&s);
  }
  return status;
}
