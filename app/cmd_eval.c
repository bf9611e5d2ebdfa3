/* cmd_eval.c: `chordlet eval REF EST`: mir_eval's chord metrics over a file
 * pair or two folders of .lab files matched by name, as a table or JSON. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "json_writer.h"
#include "plot.h"
#include "lab.h"
#include "metrics.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet eval [--json] [--plot WHAT] REF EST\n"
          "\n"
          "Scores estimated chord labels against reference labels with mir_eval's\n"
          "chord metrics (root, thirds, triads, tetrads, sevenths, majmin, mirex, their\n"
          "_inv variants with the bass, and the segmentation scores), and a recall table\n"
          "per chord quality.\n"
          "\n"
          "REF and EST are two .lab files (`start end label` per line, Harte labels), or\n"
          "two folders: every REF/NAME.lab is scored against EST/NAME.lab.\n"
          "\n"
          "  --json    one JSON object on stdout, full precision, for machines\n"
          "  --plot WHAT  draw reference and estimate as timelines with the errors in red:\n"
          "            FILE.png or FILE.svg for two files, an existing folder for two\n"
          "            folders (FOLDER/NAME.png each)\n"
          "  --spelling S chord names in the pictures: friendly (C#m7, default) or harte\n"
          "  -h        this help\n"
          "\n"
          "Totals: label metrics pool the scored time of all files (each metric over the\n"
          "time it does not exclude); segmentation scores are weighted by file duration.\n"
          "Exit status: 0 scored, 1 bad or missing input, 2 bad usage.\n");
}

typedef struct eval_pair {
  char *name; /* what the rows are called: the file name */
  char *ref_path;
  char *est_path;
  chord_scores scores;
} eval_pair;

typedef struct pair_list {
  eval_pair *items;
  size_t n, cap;
} pair_list;

static char *join_path(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *p = malloc(a + b + 2);
  if (!p) return NULL;
  memcpy(p, dir, a);
  p[a] = '/';
  memcpy(p + a + 1, name, b + 1);
  return p;
}

/* Takes ref and est (either may be NULL: an allocation failed) in every
 * case: they belong to the list, or are freed here when it returns false. */
static bool push_pair(pair_list *list, const char *name, char *ref, char *est) {
  if (!ref || !est) {
    free(ref);
    free(est);
    return false;
  }
  if (list->n == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 16;
    eval_pair *items = realloc(list->items, cap * sizeof *items);
    if (!items) {
      free(ref);
      free(est);
      return false;
    }
    list->items = items;
    list->cap = cap;
  }
  eval_pair *p = &list->items[list->n++];
  memset(p, 0, sizeof *p);
  p->name = strdup(name);
  p->ref_path = ref;
  p->est_path = est;
  return p->name != NULL;
}

static void free_pairs(pair_list *list) {
  for (size_t i = 0; i < list->n; i++) {
    free(list->items[i].name);
    free(list->items[i].ref_path);
    free(list->items[i].est_path);
  }
  free(list->items);
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_lab_suffix(const char *name) {
  size_t n = strlen(name);
  return n > 4 && strcmp(name + n - 4, ".lab") == 0;
}

static void free_names(char **names, size_t n);

/* Sorted .lab file names in dir; NULL (and errno) on failure: a list that
 * lacks a name is a failure too (out of memory), not a shorter folder. */
static char **list_labs(const char *dir, size_t *count) {
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  bool out_of_memory = false;
  while (!out_of_memory && (e = readdir(d)) != NULL) {
    if (!has_lab_suffix(e->d_name)) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **bigger = realloc(names, cap * sizeof *names);
      if (!bigger) {
        out_of_memory = true;
        break;
      }
      names = bigger;
    }
    names[n] = strdup(e->d_name);
    if (names[n]) n++;
    else out_of_memory = true;
  }
  closedir(d);
  if (!names && !out_of_memory) {
    names = malloc(sizeof *names);
    out_of_memory = !names;
  }
  if (out_of_memory) {
    free_names(names, n);
    errno = ENOMEM;
    return NULL;
  }
  qsort(names, n, sizeof *names, compare_names);
  *count = n;
  return names;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash && slash[1] ? slash + 1 : path;
}

/* Builds the list of pairs; prints the problem and returns an exit status on failure. */
static int collect_pairs(const char *ref, const char *est, pair_list *pairs) {
  struct stat rs, es;
  if (stat(ref, &rs) != 0) {
    fprintf(stderr, "chordlet eval: cannot read reference '%s': %s\n", ref, strerror(errno));
    return EXIT_DATA;
  }
  if (stat(est, &es) != 0) {
    fprintf(stderr, "chordlet eval: cannot read estimate '%s': %s\n", est, strerror(errno));
    return EXIT_DATA;
  }
  bool ref_dir = S_ISDIR(rs.st_mode), est_dir = S_ISDIR(es.st_mode);
  if (ref_dir != est_dir) {
    fprintf(stderr,
            "chordlet eval: reference '%s' is a %s but estimate '%s' is a %s: give two files "
            "or two folders\n",
            ref, ref_dir ? "folder" : "file", est, est_dir ? "folder" : "file");
    return EXIT_USAGE;
  }
  if (!ref_dir) {
    if (!push_pair(pairs, base_name(est), strdup(ref), strdup(est))) {
      fprintf(stderr, "chordlet eval: out of memory\n");
      return EXIT_DATA;
    }
    return EXIT_OK;
  }
  size_t n_ref = 0, n_est = 0;
  char **ref_names = list_labs(ref, &n_ref);
  char **est_names = ref_names ? list_labs(est, &n_est) : NULL; /* errno: the failed one's */
  int status = EXIT_OK;
  if (!ref_names || !est_names) {
    fprintf(stderr, "chordlet eval: cannot list '%s': %s\n", ref_names ? est : ref, strerror(errno));
    status = EXIT_DATA;
  } else if (n_ref == 0) {
    fprintf(stderr, "chordlet eval: reference folder '%s' has no .lab files\n", ref);
    status = EXIT_DATA;
  } else {
    size_t missing = 0;
    for (size_t i = 0; i < n_ref; i++) {
      if (bsearch(&ref_names[i], est_names, n_est, sizeof *est_names, compare_names)) continue;
      if (missing++ < 10)
        fprintf(stderr, "chordlet eval: no estimate for %s/%s (expected %s/%s)\n", ref,
                ref_names[i], est, ref_names[i]);
    }
    if (missing) {
      fprintf(stderr, "chordlet eval: %zu of %zu reference files have no estimate in '%s'\n",
              missing, n_ref, est);
      status = EXIT_DATA;
    }
    size_t extra = 0;
    for (size_t i = 0; i < n_est; i++)
      if (!bsearch(&est_names[i], ref_names, n_ref, sizeof *ref_names, compare_names)) extra++;
    if (extra && !missing)
      fprintf(stderr, "chordlet eval: warning: %zu estimate files in '%s' have no reference and are ignored\n",
              extra, est);
    for (size_t i = 0; status == EXIT_OK && i < n_ref; i++) {
      if (!push_pair(pairs, ref_names[i], join_path(ref, ref_names[i]), join_path(est, ref_names[i]))) {
        fprintf(stderr, "chordlet eval: out of memory\n");
        status = EXIT_DATA;
      }
    }
  }
  if (ref_names) free_names(ref_names, n_ref);
  if (est_names) free_names(est_names, n_est);
  return status;
}

static int score_pair(eval_pair *p, const char *plot, chordlet_spelling spelling) {
  lab_file ref, est;
  chordlet_error err;
  if (lab_read(p->ref_path, &ref, &err)) {
    fprintf(stderr, "chordlet eval: %s\n", err.message);
    return EXIT_DATA;
  }
  if (lab_read(p->est_path, &est, &err)) {
    fprintf(stderr, "chordlet eval: %s\n", err.message);
    lab_free(&ref);
    return EXIT_DATA;
  }
  const lab_file *files[2] = {&ref, &est};
  const char *paths[2] = {p->ref_path, p->est_path};
  for (int i = 0; i < 2; i++)
    if (files[i]->n_empty_dropped)
      fprintf(stderr, "chordlet eval: warning: %s: %zu zero-length segments ignored\n", paths[i],
              files[i]->n_empty_dropped);
  int status = EXIT_OK;
  if (ref.n_segments == 0) {
    fprintf(stderr, "chordlet eval: reference %s has no chord segments: nothing to score\n",
            p->ref_path);
    status = EXIT_DATA;
  } else if (chord_evaluate(&ref, &est, &p->scores, &err)) {
    fprintf(stderr, "chordlet eval: %s vs %s: %s\n", p->ref_path, p->est_path, err.message);
    status = EXIT_DATA;
  } else if (plot) {
    double seconds = ref.segments[ref.n_segments - 1].end;
    if (est.n_segments && est.segments[est.n_segments - 1].end > seconds) seconds = est.segments[est.n_segments - 1].end;
    char title[512];
    snprintf(title, sizeof title, "%s vs %s", p->ref_path, p->est_path);
    if (plot_comparison(plot, &ref, &est, seconds, spelling, title, &err)) {
      fprintf(stderr, "chordlet eval: %s\n", err.message);
      status = EXIT_DATA;
    }
  }
  lab_free(&ref);
  lab_free(&est);
  return status;
}

/* Column headers of the text table, in chord_metric order. */
static const char *const short_names[CM_COUNT] = {
    "root", "3rds", "3rds/", "triad", "triad/", "tetr", "tetr/", "7ths", "7ths/",
    "majmin", "mm/", "mirex", "under", "over", "seg"};

static void print_row(const char *name, double duration, const chord_scores *s) {
  printf("%-24.24s %8.1f", name, duration);
  for (int m = 0; m < CM_COUNT; m++) printf(" %6.2f", 100 * s->score[m]);
  printf("\n");
}

static void print_quality_table(const quality_table *q) {
  double total = 0, q_hits = 0, c_hits = 0, q_mean = 0, c_mean = 0;
  int present = 0;
  for (int g = 0; g < QG_COUNT; g++) total += q->rows[g].seconds;
  printf("\nRecall per chord quality (reference time; references reduced to the 170-class vocabulary)\n");
  printf("  quality  = estimate has the same quality, root not checked (the paper's number)\n");
  printf("  chord    = estimate has the same root and quality (the honest number)\n\n");
  printf("%-12s %10s %7s %9s %9s\n", "group", "seconds", "share", "quality", "chord");
  for (int g = 0; g < QG_COUNT; g++) {
    const quality_row *r = &q->rows[g];
    if (r->seconds <= 0) continue; /* absent from the references: nothing to recall */
    double qr = r->quality_hit_seconds / r->seconds, cr = r->chord_hit_seconds / r->seconds;
    printf("%-12s %10.1f %6.2f%% %8.2f%% %8.2f%%\n", quality_group_name(g), r->seconds,
           100 * r->seconds / total, 100 * qr, 100 * cr);
    q_hits += r->quality_hit_seconds;
    c_hits += r->chord_hit_seconds;
    q_mean += qr;
    c_mean += cr;
    present++;
  }
  if (total > 0 && present > 0) {
    printf("%-12s %10.1f %6.2f%% %8.2f%% %8.2f%%   (WCSR: time-weighted over all groups)\n",
           "all", total, 100.0, 100 * q_hits / total, 100 * c_hits / total);
    printf("%-12s %10s %7s %8.2f%% %8.2f%%   (ACQA: mean over the %d groups present)\n", "mean", "",
           "", 100 * q_mean / present, 100 * c_mean / present, present);
  }
}

static void print_table(const pair_list *pairs, const chord_scores *total) {
  printf("%-24s %8s", "file", "seconds");
  for (int m = 0; m < CM_COUNT; m++) printf(" %6s", short_names[m]);
  printf("\n");
  for (size_t i = 0; i < pairs->n; i++)
    print_row(pairs->items[i].name, pairs->items[i].scores.duration, &pairs->items[i].scores);
  if (pairs->n > 1) {
    char label[64];
    snprintf(label, sizeof label, "TOTAL (%zu files)", pairs->n);
    print_row(label, total->duration, total);
  }
  printf("\nScores in %%. '/' = with inversions (the _inv metrics: the bass must match too).\n");
  printf("avg7 (the mean of root, thirds, triads, sevenths, tetrads, majmin, mirex): %.2f\n",
         100 * chord_scores_avg7(total));
  print_quality_table(&total->quality);
}

static void json_scores(json_writer *w, const chord_scores *s) {
  json_number(w, "duration", s->duration);
  json_object_open(w, "scores");
  for (int m = 0; m < CM_COUNT; m++) json_number(w, chord_metric_name(m), s->score[m]);
  json_object_close(w);
  json_number(w, "avg7", chord_scores_avg7(s));
  json_object_open(w, "scored_seconds");
  for (int m = 0; m < CM_LABEL_METRICS; m++) json_number(w, chord_metric_name(m), s->scored_seconds[m]);
  json_object_close(w);
}

static void json_quality(json_writer *w, const quality_table *q) {
  json_array_open(w, "per_quality");
  for (int g = 0; g < QG_COUNT; g++) {
    const quality_row *r = &q->rows[g];
    json_object_open(w, NULL);
    json_string(w, "group", quality_group_name(g));
    json_number(w, "seconds", r->seconds);
    json_number(w, "quality_recall", r->seconds > 0 ? r->quality_hit_seconds / r->seconds : NAN);
    json_number(w, "chord_recall", r->seconds > 0 ? r->chord_hit_seconds / r->seconds : NAN);
    json_object_close(w);
  }
  json_array_close(w);
}

static void print_json(const pair_list *pairs, const chord_scores *total) {
  json_writer w;
  json_begin(&w, stdout);
  json_object_open(&w, NULL);
  json_array_open(&w, "files");
  for (size_t i = 0; i < pairs->n; i++) {
    const eval_pair *p = &pairs->items[i];
    json_object_open(&w, NULL);
    json_string(&w, "name", p->name);
    json_string(&w, "ref", p->ref_path);
    json_string(&w, "est", p->est_path);
    json_scores(&w, &p->scores);
    json_quality(&w, &p->scores.quality);
    json_object_close(&w);
  }
  json_array_close(&w);
  json_object_open(&w, "total");
  json_int(&w, "files", (long long)pairs->n);
  json_scores(&w, total);
  json_object_close(&w);
  json_quality(&w, &total->quality);
  json_object_close(&w);
  json_end(&w);
}

int cmd_eval(int argc, char **argv) {
  bool json = false;
  const char *plot = NULL;
  chordlet_spelling spelling = CHORDLET_SPELLING_FRIENDLY;
  const char *paths[2];
  int n_paths = 0;
  bool options_done = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!options_done && a[0] == '-' && a[1] != '\0') {
      if (strcmp(a, "--json") == 0) json = true;
      else if (strcmp(a, "--plot") == 0 && i + 1 < argc) plot = argv[++i];
      else if (strcmp(a, "--spelling") == 0 && i + 1 < argc) {
        const char *v = argv[++i];
        if (strcmp(v, "friendly") == 0) spelling = CHORDLET_SPELLING_FRIENDLY;
        else if (strcmp(v, "harte") == 0) spelling = CHORDLET_SPELLING_HARTE;
        else {
          fprintf(stderr, "chordlet eval: --spelling is friendly or harte, not '%s'\n", v);
          return EXIT_USAGE;
        }
      }
      else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return EXIT_OK; }
      else if (strcmp(a, "--") == 0) options_done = true;
      else {
        fprintf(stderr, "chordlet eval: unknown option '%s'\n\n", a);
        usage(stderr);
        return EXIT_USAGE;
      }
      continue;
    }
    if (n_paths == 2) {
      fprintf(stderr, "chordlet eval: too many arguments ('%s'): give REF and EST\n\n", a);
      usage(stderr);
      return EXIT_USAGE;
    }
    paths[n_paths++] = a;
  }
  if (n_paths != 2) {
    fprintf(stderr, "chordlet eval: expected REF and EST\n\n");
    usage(stderr);
    return EXIT_USAGE;
  }
  pair_list pairs = {0};
  int status = collect_pairs(paths[0], paths[1], &pairs);
  chord_totals totals;
  chord_totals_init(&totals);
  struct stat plot_st;
  const bool plot_folder = plot && stat(plot, &plot_st) == 0 && S_ISDIR(plot_st.st_mode);
  if (status == EXIT_OK && plot && !plot_folder) {
    chordlet_error perr;
    if (pairs.n != 1 || plot_check_path(plot, &perr)) {
      fprintf(stderr, "chordlet eval: --plot takes a .png or .svg file for two files, or an existing folder for two "
                      "folders; not '%s'\n", plot);
      free_pairs(&pairs);
      return EXIT_USAGE;
    }
  }
  for (size_t i = 0; status == EXIT_OK && i < pairs.n; i++) {
    char *picture = NULL;
    if (plot_folder) {
      char file[512];
      snprintf(file, sizeof file, "%s.png", pairs.items[i].name);
      char *dot = strstr(file, ".lab.png");
      if (dot) memcpy(dot, ".png", sizeof ".png");
      picture = join_path(plot, file);
    }
    status = score_pair(&pairs.items[i], plot_folder ? picture : plot, spelling);
    free(picture);
    if (status == EXIT_OK) chord_totals_add(&totals, &pairs.items[i].scores);
  }
  if (status == EXIT_OK) {
    chord_scores total;
    chord_totals_scores(&totals, &total);
    if (json) print_json(&pairs, &total);
    else print_table(&pairs, &total);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      fprintf(stderr, "chordlet eval: cannot write the results: %s\n", strerror(errno));
      status = EXIT_DATA;
    }
  }
  free_pairs(&pairs);
  if (plot) plot_release_caches();
  return status;
}
