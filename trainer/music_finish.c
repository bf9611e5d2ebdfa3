/*
 * music_finish.c: `chordlet-train real-music finish` (real_music.h): every
 * finished package's rows into the manifest, after the duplicate search
 * across packages, and the split into the stage-1 pool and the check set.
 *
 * Duplicates: identical bytes, identical decoded samples, or the same level
 * curve (music_compare.h: a re-encoding, a mono copy of a stereo file, the
 * two channels of a stereo file shipped as two mono files) between files
 * whose lengths differ by at most 1 s. They are searched over all finished
 * packages at every run, so the result never depends on the order packages
 * arrived in. Each group keeps one file: the one with the most channels,
 * then the first in the package list's order.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "licence.h"
#include "music_compare.h"
#include "music_names.h"
#include "npy_file.h"
#include "real_music.h"

enum { MANIFEST_FIELDS = 9, DROPPED_FIELDS = 5 };
/* manifest columns */
enum { F_PACKAGE, F_VERSION, F_LICENCE, F_PATH, F_MINUTES, F_SHA, F_PCM, F_CHANNELS, F_SOURCE };

/* ---------------------------------------------------------------- tab-separated rows */

typedef struct row {
  char **f;
  size_t n;
} row;

typedef struct table {
  row *r;
  size_t n, cap;
} table;

static void row_free(row *r) {
  for (size_t i = 0; i < r->n; i++) free(r->f[i]);
  free(r->f);
  memset(r, 0, sizeof *r);
}

static void table_free(table *t) {
  for (size_t i = 0; i < t->n; i++) row_free(&t->r[i]);
  free(t->r);
  memset(t, 0, sizeof *t);
}

/* takes r */
static int table_add(table *t, row *r) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    row *p = realloc(t->r, cap * sizeof *p);
    if (!p) {
      row_free(r);
      return -1;
    }
    t->r = p, t->cap = cap;
  }
  t->r[t->n++] = *r;
  memset(r, 0, sizeof *r);
  return 0;
}

/* One line split at tabs; at least `min_fields` fields (missing ones empty). */
static int split_line(const char *s, size_t len, size_t min_fields, row *r) {
  size_t tabs = 0;
  for (size_t i = 0; i < len; i++) tabs += s[i] == '\t';
  size_t n = tabs + 1 > min_fields ? tabs + 1 : min_fields;
  r->f = calloc(n, sizeof *r->f);
  r->n = 0;
  if (!r->f) return -1;
  for (size_t i = 0, start = 0; i <= len; i++)
    if (i == len || s[i] == '\t') {
      if (!(r->f[r->n++] = strndup(s + start, i - start))) return -1;
      start = i + 1;
    }
  while (r->n < n)
    if (!(r->f[r->n++] = strdup(""))) return -1;
  return 0;
}

/* The rows of a tab-separated file as Python's text mode reads them (\r\n
 * and \r end lines too), blank lines skipped. A missing file has none
 * (*exists false). 0, or -1 (a reason printed). */
static int read_tsv(const char *path, size_t min_fields, table *t, bool *exists) {
  memset(t, 0, sizeof *t);
  *exists = false;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return 0;
    fprintf(stderr, "%s: cannot read %s: %s\n", REAL_MUSIC_PROGRAM, path, strerror(errno));
    return -1;
  }
  *exists = true;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len, f);
    if (len < cap) break;
    char *p = realloc(buf, 2 * cap);
    if (!p) free(buf);
    buf = p, cap *= 2;
  }
  int failed = !buf || ferror(f);
  fclose(f);
  for (size_t i = 0; !failed && i < len;) {
    size_t e = i;
    while (e < len && buf[e] != '\n' && buf[e] != '\r') e++;
    bool blank = true;
    for (size_t k = i; k < e && blank; k++) blank = buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\f' || buf[k] == '\v';
    if (!blank) {
      row r = {0};
      failed = split_line(buf + i, e - i, min_fields, &r) || table_add(t, &r);
      if (failed) row_free(&r);
    }
    i = e + (e + 1 < len && buf[e] == '\r' && buf[e + 1] == '\n' ? 2 : 1);
  }
  free(buf);
  if (failed) {
    fprintf(stderr, "%s: cannot read %s (out of memory?)\n", REAL_MUSIC_PROGRAM, path);
    table_free(t);
    return -1;
  }
  return 0;
}


/* A whole field as a number (Python's float()/int() of it); false if not. */
static bool parse_double(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  while (*end == ' ') end++;
  return end != s && *end == '\0';
}

/* ---------------------------------------------------------------- duplicates */

typedef struct pair_link {
  size_t i, j;
  const char *reason;
  double distance;
} pair_link;

typedef struct dedupe {
  size_t n;
  size_t *parent;
  pair_link *why; /* why two files were joined: the pair, the reason, the distance */
  size_t n_why;
} dedupe;

static size_t root(dedupe *d, size_t i) {
  while (d->parent[i] != i) {
    d->parent[i] = d->parent[d->parent[i]];
    i = d->parent[i];
  }
  return i;
}

/* why[{i, j}] = (reason, distance), replacing an earlier entry of the pair */
static void set_why(dedupe *d, size_t i, size_t j, const char *reason, double distance) {
  for (size_t k = 0; k < d->n_why; k++)
    if ((d->why[k].i == i && d->why[k].j == j) || (d->why[k].i == j && d->why[k].j == i)) {
      d->why[k].reason = reason, d->why[k].distance = distance;
      return;
    }
  d->why[d->n_why++] = (pair_link){i, j, reason, distance};
}

static const pair_link *get_why(const dedupe *d, size_t i, size_t j) {
  for (size_t k = 0; k < d->n_why; k++)
    if ((d->why[k].i == i && d->why[k].j == j) || (d->why[k].i == j && d->why[k].j == i)) return &d->why[k];
  return NULL;
}

typedef struct file_info {
  double secs;
  long channels;
  music_print print;
} file_info;

/* idx (n) sorted by secs[idx], stably (Python's sorted): a merge sort */
static void sort_by_secs(size_t *idx, size_t *tmp, size_t n, const double *secs) {
  if (n < 2) return;
  const size_t h = n / 2;
  sort_by_secs(idx, tmp, h, secs);
  sort_by_secs(idx + h, tmp, n - h, secs);
  size_t a = 0, b = h, o = 0;
  while (a < h && b < n) tmp[o++] = secs[idx[b]] < secs[idx[a]] ? idx[b++] : idx[a++];
  while (a < h) tmp[o++] = idx[a++];
  while (b < n) tmp[o++] = idx[b++];
  memcpy(idx, tmp, n * sizeof *idx);
}

/* If an earlier file in firsts (*n_firsts of them) has file i's value of
 * `field`, joins i to its group with `reason` and returns 1; otherwise adds i
 * to firsts and returns 0. */
static int join_first_equal(const table *files, dedupe *d, size_t i, size_t *firsts, size_t *n_firsts, int field,
                            const char *reason) {
  const char *value = files->r[i].f[field];
  for (size_t k = 0; k < *n_firsts; k++)
    if (!strcmp(files->r[firsts[k]].f[field], value)) {
      d->parent[root(d, i)] = root(d, firsts[k]);
      set_why(d, i, firsts[k], reason, 0.0);
      return 1;
    }
  firsts[(*n_firsts)++] = i;
  return 0;
}

/* Groups the files: identical bytes, identical samples (in the manifest's
 * order), then the same level curves between files of about equal length. */
static int find_duplicates(const table *files, const file_info *info, dedupe *d) {
  const size_t n = files->n;
  d->n = n;
  d->parent = malloc((n + 1) * sizeof *d->parent);
  d->why = malloc((2 * n + 1) * sizeof *d->why);
  size_t *by_sha = malloc((n + 1) * sizeof *by_sha), *by_pcm = malloc((n + 1) * sizeof *by_pcm);
  size_t *idx = malloc((n + 1) * sizeof *idx);
  double *secs = malloc((n + 1) * sizeof *secs);
  if (!d->parent || !d->why || !by_sha || !by_pcm || !idx || !secs) {
    free(by_sha), free(by_pcm), free(idx), free(secs);
    return -1;
  }
  size_t n_sha = 0, n_pcm = 0;
  for (size_t i = 0; i < n; i++) d->parent[i] = i;
  /* the same bytes first, then the same samples: the first file seen keeps its place */
  for (size_t i = 0; i < n; i++)
    if (!join_first_equal(files, d, i, by_sha, &n_sha, F_SHA, "duplicate-file"))
      join_first_equal(files, d, i, by_pcm, &n_pcm, F_PCM, "duplicate-audio");
  for (size_t i = 0; i < n; i++) idx[i] = i, secs[i] = info[i].secs;
  sort_by_secs(idx, by_pcm, n, secs); /* by_pcm is free again: scratch */
  for (size_t x = 0; x < n; x++) {
    const size_t i = idx[x];
    for (size_t y = x + 1; y < n; y++) {
      const size_t j = idx[y];
      if (secs[j] - secs[i] > MUSIC_DURATION_TOL_S) break;
      if (root(d, i) == root(d, j)) continue;
      double dist;
      if (!music_same_audio(&info[i].print, &info[j].print, &dist)) continue;
      d->parent[root(d, j)] = root(d, i);
      const long ci = info[i].channels, cj = info[j].channels;
      set_why(d, i, j, ci != cj || ci == 1 ? "channel-copy" : "reencoded-copy", dist);
    }
  }
  free(by_sha), free(by_pcm), free(idx), free(secs);
  return 0;
}

/* Why file i is a copy of file k when no direct pair_link says: a transitive one. */
static pair_link classify(const table *files, const file_info *info, size_t i, size_t k) {
  const row *ri = &files->r[i], *rk = &files->r[k];
  if (!strcmp(ri->f[F_SHA], rk->f[F_SHA])) return (pair_link){i, k, "duplicate-file", 0.0};
  if (!strcmp(ri->f[F_PCM], rk->f[F_PCM])) return (pair_link){i, k, "duplicate-audio", 0.0};
  double dist = music_aligned_distance(&info[i].print, &info[k].print);
  bool channel = strcmp(ri->f[F_CHANNELS], rk->f[F_CHANNELS]) || !strcmp(ri->f[F_CHANNELS], "1");
  return (pair_link){i, k, channel ? "channel-copy" : "reencoded-copy", dist};
}

/* The dropped row of file i, a copy of file k. */
static int drop_copy(const table *files, const file_info *info, const dedupe *d, size_t i, size_t k, table *dropped) {
  const pair_link *w = get_why(d, i, k);
  const pair_link l = w ? *w : classify(files, info, i, k);
  const row *ri = &files->r[i], *rk = &files->r[k];
  char *detail;
  if (!strcmp(l.reason, "channel-copy"))
    detail = music_format("%ld-channel copy of the %ld-channel %s (level curves within %.2f dB)", info[i].channels,
                    info[k].channels, rk->f[F_PATH], music_aligned_distance(&info[i].print, &info[k].print));
  else if (l.distance != 0)
    detail = music_format("same audio as %s (level curves within %.2f dB)", rk->f[F_PATH], l.distance);
  else
    detail = music_format("same audio as %s (identical %s)", rk->f[F_PATH],
                    !strcmp(l.reason, "duplicate-file") ? "bytes" : "samples");
  char *secs = music_format("%.1f", info[i].secs);
  row r = {calloc(DROPPED_FIELDS, sizeof(char *)), DROPPED_FIELDS};
  if (!detail || !secs || !r.f) {
    free(detail), free(secs), free(r.f);
    return -1;
  }
  r.f[0] = strdup(ri->f[F_PACKAGE]), r.f[1] = strdup(ri->f[F_SOURCE]), r.f[2] = strdup(l.reason);
  r.f[3] = detail, r.f[4] = secs;
  if (!r.f[0] || !r.f[1] || !r.f[2]) {
    row_free(&r);
    return -1;
  }
  return table_add(dropped, &r);
}

/* ---------------------------------------------------------------- outputs */

static int write_rows(const char *path, const char *header, const table *t, const bool *keep) {
  atomic_file f;
  chordlet_error err = {0};
  if (atomic_file_open(&f, path, &err)) {
    fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, err.message);
    return -1;
  }
  fputs(header, f.stream);
  for (size_t i = 0; i < t->n; i++) {
    if (keep && !keep[i]) continue;
    for (size_t k = 0; k < t->r[i].n; k++) fprintf(f.stream, "%s%s", k ? "\t" : "", t->r[i].f[k]);
    fputc('\n', f.stream);
  }
  if (atomic_file_commit(&f, &err)) {
    fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, err.message);
    return -1;
  }
  return 0;
}

/* pool.txt or check.txt: OUT/path of the kept files in (or not in) the check set */
static int write_list(const char *path, const char *out, const table *files, const bool *keep, const bool *check,
                      bool want) {
  atomic_file f;
  chordlet_error err = {0};
  if (atomic_file_open(&f, path, &err)) {
    fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, err.message);
    return -1;
  }
  for (size_t i = 0; i < files->n; i++)
    if (keep[i] && check[i] == want) {
      char *p = path_join(out, files->r[i].f[F_PATH]);
      if (!p) {
        atomic_file_abort(&f);
        return -1;
      }
      fprintf(f.stream, "%s\n", p);
      free(p);
    }
  if (atomic_file_commit(&f, &err)) {
    fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, err.message);
    return -1;
  }
  return 0;
}

/* a word of the space-separated list */
static bool in_list(const char *list, const char *word) {
  const size_t n = strlen(word);
  for (const char *p = list; *p;) {
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    const char *e = p;
    while (*e && *e != ' ' && *e != '\t' && *e != '\n') e++;
    if (e > p && (size_t)(e - p) == n && !strncmp(p, word, n)) return true;
    p = e;
  }
  return false;
}

static void print_summary(const table *files, const bool *keep, const bool *check, const table *dropped,
                          size_t n_done, size_t n_order, const char *out) {
  double kept_min = 0, pool_min = 0, check_min = 0;
  size_t n_kept = 0, n_pool = 0, n_check = 0, pkgs_pool = 0, pkgs_check = 0;
  for (size_t i = 0; i < files->n; i++) {
    if (!keep[i]) continue;
    double m = strtod(files->r[i].f[F_MINUTES], NULL);
    bool first = true; /* the first kept row of its package on its side */
    for (size_t j = 0; j < i && first; j++)
      first = !(keep[j] && check[j] == check[i] && !strcmp(files->r[j].f[F_PACKAGE], files->r[i].f[F_PACKAGE]));
    n_kept++, kept_min += m;
    if (check[i])
      n_check++, check_min += m, pkgs_check += first;
    else
      n_pool++, pool_min += m, pkgs_pool += first;
  }
  printf("real music: %zu of %zu packages, %zu files, %.1f min kept (%.1f h)\n", n_done, n_order, n_kept, kept_min,
         kept_min / 60);
  /* per reason, in sorted order: files and minutes */
  const char **reasons = malloc((dropped->n + 1) * sizeof *reasons);
  size_t n_reasons = 0;
  for (size_t i = 0; reasons && i < dropped->n; i++) {
    const char *r = dropped->r[i].f[2];
    size_t k = 0;
    while (k < n_reasons && strcmp(reasons[k], r)) k++;
    if (k == n_reasons) reasons[n_reasons++] = r;
  }
  for (size_t a = 1; a < n_reasons; a++)
    for (size_t b = a; b > 0 && strcmp(reasons[b - 1], reasons[b]) > 0; b--) {
      const char *t = reasons[b];
      reasons[b] = reasons[b - 1], reasons[b - 1] = t;
    }
  for (size_t k = 0; k < n_reasons; k++) {
    size_t count = 0;
    double minutes = 0;
    for (size_t i = 0; i < dropped->n; i++)
      if (!strcmp(dropped->r[i].f[2], reasons[k])) {
        const char *s = dropped->r[i].f[4];
        count++;
        minutes += (*s ? strtod(s, NULL) : 0.0) / 60;
      }
    printf("  dropped %-16s %4zu files, %7.1f min\n", reasons[k], count, minutes);
  }
  free(reasons);
  printf("  pool  %4zu files %7.1f min (%zu packages): %s/pool.txt\n", n_pool, pool_min, pkgs_pool, out);
  printf("  check %4zu files %7.1f min (%zu packages): %s/check.txt\n", n_check, check_min, pkgs_check, out);
}

/* ---------------------------------------------------------------- the step */

/* OUT/packages/PKG.tsv of each finished package into files (licences read
 * again from the kept copyright file), its dropped.tsv into dropped. */
static int gather(const char *out, const table *order, table *files, table *dropped, size_t *n_done) {
  for (size_t p = 0; p < order->n; p++) {
    const char *pkg = order->r[p].f[0];
    char *path = music_format("%s/packages/%s.tsv", out, pkg);
    char *copyright = music_format("%s/music/%s/copyright", out, pkg), *drops = music_format("%s/music/%s/dropped.tsv", out, pkg);
    table rows = {0}, d = {0};
    bool exists = false, d_exists;
    int status = path && copyright && drops ? read_tsv(path, 0, &rows, &exists) : -1;
    if (!status && !exists) {
      free(path), free(copyright), free(drops);
      continue;
    }
    (*n_done)++;
    for (size_t i = 0; !status && i < rows.n; i++)
      if (rows.r[i].n < MANIFEST_FIELDS) {
        fprintf(stderr, "%s: %s: row %zu has %zu fields, not %d (delete it to survey %s again)\n",
                REAL_MUSIC_PROGRAM, path, i + 1, rows.r[i].n, MANIFEST_FIELDS, pkg);
        status = -1;
      }
    /* the licence column from the kept copyright file, so a better reading
     * of copyright files reaches finished packages without unpacking them */
    const char **sources = status ? NULL : malloc((rows.n + 1) * sizeof *sources);
    char **lic = NULL;
    if (!status && !sources) status = -1;
    for (size_t i = 0; !status && i < rows.n; i++) sources[i] = rows.r[i].f[F_SOURCE];
    if (!status && licence_of(copyright, sources, rows.n, &lic)) status = -1;
    for (size_t i = 0; !status && i < rows.n; i++) {
      free(rows.r[i].f[F_LICENCE]);
      rows.r[i].f[F_LICENCE] = lic[i];
      lic[i] = NULL;
    }
    licence_free(lic, rows.n);
    free(sources);
    for (size_t i = 0; !status && i < rows.n; i++) status = table_add(files, &rows.r[i]);
    if (!status) status = read_tsv(drops, DROPPED_FIELDS, &d, &d_exists);
    for (size_t i = 0; !status && i < d.n; i++) status = table_add(dropped, &d.r[i]);
    table_free(&d);
    table_free(&rows);
    free(path), free(copyright), free(drops);
    if (status) return -1;
  }
  return 0;
}

/* The fingerprints, lengths and channels of the files. */
static int file_infos(const char *out, const table *files, file_info *info) {
  for (size_t i = 0; i < files->n; i++) {
    const row *r = &files->r[i];
    double minutes, channels;
    if (!parse_double(r->f[F_MINUTES], &minutes) || !parse_double(r->f[F_CHANNELS], &channels) ||
        channels != floor(channels)) {
      fprintf(stderr, "%s: %s/packages/%s.tsv: a bad row for %s (minutes '%s', channels '%s')\n",
              REAL_MUSIC_PROGRAM, out, r->f[F_PACKAGE], r->f[F_SOURCE], r->f[F_MINUTES], r->f[F_CHANNELS]);
      return -1;
    }
    info[i].secs = minutes * 60;
    info[i].channels = (long)channels;
    char *fp = music_format("%s/music/%s/.fp/%s.npy", out, r->f[F_PACKAGE], path_basename(r->f[F_PATH]));
    chordlet_error err = {0};
    size_t rows, cols;
    if (!fp || npy_read_f32(fp, &info[i].print.env, &rows, &cols, &err) || rows < 1 || rows > 3) {
      fprintf(stderr, "%s: %s: no usable fingerprint of %s (%s); delete %s/packages/%s.tsv to survey it again\n",
              REAL_MUSIC_PROGRAM, r->f[F_PACKAGE], r->f[F_PATH], fp ? err.message : "out of memory", out,
              r->f[F_PACKAGE]);
      free(fp);
      return -1;
    }
    free(fp);
    info[i].print.rows = (int)rows;
    info[i].print.n = cols;
  }
  return 0;
}

/* what a run killed while writing the outputs left */
static void remove_temporaries(const char *out) {
  DIR *d = opendir(out);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, ".tmp.")) {
      char *p = path_join(out, e->d_name);
      if (p) unlink(p);
      free(p);
    }
  closedir(d);
}

int real_music_finish(const char *out_arg, const char *tsv, const char *check_packages) {
  char *out = path_absolute(out_arg);
  if (!out) {
    fprintf(stderr, "%s: cannot resolve %s: %s\n", REAL_MUSIC_PROGRAM, out_arg, strerror(errno));
    return 1;
  }
  remove_temporaries(out);
  table list = {0}, order = {0}, files = {0}, dropped = {0};
  bool exists;
  int status = read_tsv(tsv, 1, &list, &exists);
  if (!status && !exists) {
    fprintf(stderr, "%s: no package list %s\n", REAL_MUSIC_PROGRAM, tsv);
    status = -1;
  }
  for (size_t i = 0; !status && i < list.n; i++) { /* the packages, in the list's order */
    const char *name = list.r[i].f[0];
    if (name[0] == '#' || !strcmp(name, "package")) continue;
    status = table_add(&order, &list.r[i]);
  }
  size_t n_done = 0;
  if (!status) status = gather(out, &order, &files, &dropped, &n_done);
  const size_t n = files.n;
  file_info *info = calloc(n + 1, sizeof *info);
  bool *keep = malloc((n + 1) * sizeof *keep), *check = malloc((n + 1) * sizeof *check);
  dedupe d = {0};
  if (!status && (!info || !keep || !check)) status = -1;
  if (!status) status = file_infos(out, &files, info);
  if (!status) status = find_duplicates(&files, info, &d);
  /* each group keeps the file with the most channels, then the first */
  size_t *group_of = status ? NULL : malloc((n + 1) * sizeof *group_of);
  if (!status && !group_of) status = -1;
  for (size_t i = 0; !status && i < n; i++) keep[i] = true, group_of[i] = root(&d, i);
  for (size_t i = 0; !status && i < n; i++) {
    bool first = true, several = false; /* groups in order of their first member */
    for (size_t j = 0; j < i && first; j++) first = group_of[j] != group_of[i];
    for (size_t j = i + 1; j < n && !several; j++) several = group_of[j] == group_of[i];
    if (!first || !several) continue;
    size_t k = i;
    for (size_t j = i + 1; j < n; j++)
      if (group_of[j] == group_of[i] && info[j].channels > info[k].channels) k = j;
    for (size_t j = i; j < n && !status; j++)
      if (group_of[j] == group_of[i] && j != k) {
        keep[j] = false;
        status = drop_copy(&files, info, &d, j, k, &dropped);
      }
  }
  for (size_t i = 0; !status && i < n; i++) check[i] = in_list(check_packages, files.r[i].f[F_PACKAGE]);
  if (!status) {
    char *m = music_format("%s/manifest.tsv", out), *dr = music_format("%s/dropped.tsv", out), *pl = music_format("%s/pool.txt", out),
         *ch = music_format("%s/check.txt", out);
    status = m && dr && pl && ch ? 0 : -1;
    if (!status)
      status = write_rows(m, "package\tversion\tlicence\tpath\tminutes\tsha256\tpcm_sha256\tchannels\tsource\n",
                          &files, keep) ||
               write_rows(dr, "package\tsource\treason\tdetail\tseconds\n", &dropped, NULL) ||
               write_list(pl, out, &files, keep, check, false) || write_list(ch, out, &files, keep, check, true);
    free(m), free(dr), free(pl), free(ch);
  }
  if (!status) print_summary(&files, keep, check, &dropped, n_done, order.n, out);
  else fprintf(stderr, "%s: finish: nothing written (above, or out of memory)\n", REAL_MUSIC_PROGRAM);
  for (size_t i = 0; info && i < n; i++) free(info[i].print.env);
  free(info), free(keep), free(check), free(group_of), free(d.parent), free(d.why);
  table_free(&order); /* its rows were moved out of list */
  table_free(&list);
  table_free(&files);
  table_free(&dropped);
  free(out);
  return status ? 1 : 0;
}
