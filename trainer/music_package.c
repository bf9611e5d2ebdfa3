/*
 * music_package.c: `chordlet-train real-music package` (real_music.h): one
 * unpacked package's music, surveyed file by file.
 *
 * Order of work, which the outputs' row order follows: the LOCATIONs' audio
 * files (each folder's names sorted); per folder, its stems mixed (their
 * drops first); then every item in the order of its source path: decoded
 * once (music_file.h), a loop cut to one pass (music_loop.h), moved or
 * written into OUTDIR under its flat name, dropped when under 30 s, its
 * fingerprint saved. Bad audio is recorded in dropped.tsv and the package
 * goes on; only our own failures (a write, memory) fail it.
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
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cache_key.h"
#include "licence.h"
#include "music_file.h"
#include "music_loop.h"
#include "music_names.h"
#include "music_stems.h"
#include "npy_file.h"
#include "real_music.h"

/* ---------------------------------------------------------------- small helpers */


typedef struct lines {
  char **s;
  size_t n, cap;
} lines;

/* takes line (NULL: out of memory, -1) */
static int lines_add(lines *l, char *line) {
  if (!line) return -1;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    char **p = realloc(l->s, cap * sizeof *p);
    if (!p) {
      free(line);
      return -1;
    }
    l->s = p, l->cap = cap;
  }
  l->s[l->n++] = line;
  return 0;
}

static void lines_free(lines *l) {
  for (size_t i = 0; i < l->n; i++) free(l->s[i]);
  free(l->s);
  memset(l, 0, sizeof *l);
}

static int write_lines(const char *path, const lines *l) {
  atomic_file f;
  chordlet_error err = {0};
  if (atomic_file_open(&f, path, &err)) {
    fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, err.message);
    return -1;
  }
  for (size_t i = 0; i < l->n; i++) fputs(l->s[i], f.stream);
  if (atomic_file_commit(&f, &err)) {
    fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, err.message);
    return -1;
  }
  return 0;
}

/* A file's bytes into dst (atomic): a symbolic link's target copied rather
 * than the link moved. */
static int copy_file(const char *src, const char *dst) {
  FILE *in = fopen(src, "rb");
  if (!in) {
    fprintf(stderr, "%s: cannot read %s: %s\n", REAL_MUSIC_PROGRAM, src, strerror(errno));
    return -1;
  }
  atomic_file f;
  chordlet_error err = {0};
  if (atomic_file_open(&f, dst, &err)) {
    fclose(in);
    fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, err.message);
    return -1;
  }
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, f.stream);
  int failed = ferror(in);
  fclose(in);
  if (failed) {
    atomic_file_abort(&f);
    fprintf(stderr, "%s: cannot read %s\n", REAL_MUSIC_PROGRAM, src);
    return -1;
  }
  if (atomic_file_commit(&f, &err)) {
    fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, err.message);
    return -1;
  }
  return 0;
}

static bool is_audio_name(const char *name) {
  static const char *const ext[] = {".ogg", ".oga", ".opus", ".flac", ".wav", ".mp3"};
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
    size_t e = strlen(ext[i]);
    if (n >= e && !strcasecmp(name + n - e, ext[i])) return true;
  }
  return false;
}

/* ---------------------------------------------------------------- the items */

/* An audio file of the package (path on disk, source path in the package),
 * or a mix of stems this run made (made: it is ours to delete). */
typedef struct item {
  char *source, *path;
  bool made;
} item;

typedef struct items {
  item *v;
  size_t n, cap;
} items;

/* takes source and path */
static int items_add(items *l, char *source, char *path, bool made) {
  if (!source || !path) {
    free(source), free(path);
    return -1;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    item *p = realloc(l->v, cap * sizeof *p);
    if (!p) {
      free(source), free(path);
      return -1;
    }
    l->v = p, l->cap = cap;
  }
  l->v[l->n++] = (item){source, path, made};
  return 0;
}

static void items_free(items *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i].source), free(l->v[i].path);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static int compare_items(const void *a, const void *b) {
  const item *x = a, *y = b;
  int c = strcmp(x->source, y->source);
  if (!c) c = strcmp(x->path, y->path);
  return c ? c : (int)x->made - (int)y->made;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct package {
  const char *pkg, *version, *root, *outdir;
  lines dropped, near_loops;
} package;

static int drop(package *p, const char *source, const char *reason, const char *detail, const char *seconds) {
  return lines_add(&p->dropped, music_format("%s\t%s\t%s\t%s\t%s\n", p->pkg, source, reason, detail, seconds));
}

/* The audio files of one location (a folder, or `archive!folder` unpacked
 * into ROOT/archive.unzipped/folder), names sorted: regular files and
 * symbolic links (a dangling one is recorded later). */
static int list_location(package *p, const char *given, items *found) {
  const char *location = given;
  while (*location == '/') location++;
  const char *bang = strchr(location, '!');
  char *arch = bang ? strndup(location, (size_t)(bang - location)) : strdup(location);
  const char *inner = bang ? bang + 1 : "";
  char *disk = NULL, *label = NULL;
  if (arch && *inner) {
    char *unzipped = music_format("%s.unzipped", arch), *base = unzipped ? path_join(p->root, unzipped) : NULL;
    disk = base ? path_join(base, inner) : NULL;
    label = music_format("%s!%s", arch, inner);
    free(unzipped), free(base);
  } else if (arch) {
    disk = path_join(p->root, arch);
    label = strdup(arch);
  }
  free(arch);
  if (!disk || !label) {
    free(disk), free(label);
    return -1;
  }
  struct stat st;
  DIR *d = NULL;
  if (stat(disk, &st) != 0 || !S_ISDIR(st.st_mode) || !(d = opendir(disk))) {
    fprintf(stderr, "warning: %s: %s is not in the package\n", p->pkg, given);
    free(disk), free(label);
    return 0;
  }
  lines names = {0};
  int status = 0;
  struct dirent *e;
  while (!status && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) status = lines_add(&names, strdup(e->d_name));
  closedir(d);
  if (names.n) qsort(names.s, names.n, sizeof *names.s, compare_names);
  for (size_t i = 0; i < names.n && !status; i++) {
    if (!is_audio_name(names.s[i])) continue;
    char *path = path_join(disk, names.s[i]);
    if (!path) {
      status = -1;
      break;
    }
    struct stat fs, ls;
    bool file = stat(path, &fs) == 0 && S_ISREG(fs.st_mode), link = lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode);
    if (file || link)
      status = items_add(found, music_format("%s/%s", label, names.s[i]), path, false);
    else
      free(path);
  }
  lines_free(&names);
  free(disk), free(label);
  return status;
}

/* ---------------------------------------------------------------- stems */

/* The last file of the folder named `key` (ASCII case ignored), or -1. */
static long stem_named(const items *found, const size_t *members, size_t n, const char *key) {
  long k = -1;
  for (size_t i = 0; i < n; i++)
    if (!strcasecmp(path_basename(found->v[members[i]].source), key)) k = (long)members[i];
  return k;
}

static int compare_by_item(const void *a, const void *b, const items *found) {
  return compare_items(&found->v[*(const size_t *)a], &found->v[*(const size_t *)b]);
}

/* qsort has no context argument: sort the few members by insertion */
static void sort_members(const items *found, size_t *m, size_t n) {
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && compare_by_item(&m[j - 1], &m[j], found) > 0; j--) {
      size_t t = m[j];
      m[j] = m[j - 1], m[j - 1] = t;
    }
}

/* One folder's files (members, indices into found): its stems mixed into
 * one item (Frets on Fire: song.ogg with guitar.ogg and rhythm.ogg; a
 * folder inside `sequencer/`: all of them), the rest as they are. */
static int folder_items(package *p, const items *found, const char *dir, size_t *members, size_t n, items *out) {
  static const char *const fof[3] = {"song.ogg", "guitar.ogg", "rhythm.ogg"};
  size_t *stems = malloc((n + 3) * sizeof *stems), n_stems = 0;
  const char **paths = malloc((n + 3) * sizeof *paths);
  if (!stems || !paths) {
    free(stems), free(paths);
    return -1;
  }
  int status = 0;
  if (stem_named(found, members, n, "song.ogg") >= 0) {
    for (int k = 0; k < 3; k++) {
      long s = stem_named(found, members, n, fof[k]);
      if (s >= 0) stems[n_stems++] = (size_t)s;
    }
  } else {
    char *parent = path_dirname(dir);
    if (!parent) status = -1;
    if (parent && !strcmp(path_basename(parent), "sequencer")) {
      memcpy(stems, members, n * sizeof *members);
      n_stems = n;
      sort_members(found, stems, n_stems);
    }
    free(parent);
  }
  bool mixed = false;
  if (n_stems > 1 && !status) {
    char *where = music_format("%s/mix", dir), *flat = where ? music_flat_name(p->pkg, where) : NULL;
    char *name = flat ? music_format("%s.flac", flat) : NULL, *out_path = name ? path_join(p->outdir, name) : NULL;
    size_t len = strlen(dir) + 4;
    for (size_t k = 0; k < n_stems; k++) {
      paths[k] = found->v[stems[k]].path;
      len += strlen(path_basename(found->v[stems[k]].source)) + 1;
    }
    char *source = malloc(len + 1);
    status = out_path && source ? 0 : -1;
    char why[MUSIC_WHY] = "";
    int r = status ? MUSIC_FAILED : music_mix_stems(paths, (int)n_stems, out_path, why, sizeof why);
    if (!status && r == MUSIC_OK) {
      /* DIR/{song.ogg,guitar.ogg} */
      snprintf(source, len + 1, "%s/{", dir);
      for (size_t k = 0; k < n_stems; k++) {
        if (k) strcat(source, ",");
        strcat(source, path_basename(found->v[stems[k]].source));
      }
      strcat(source, "}");
      char *detail = music_format("mixed into %s", name);
      for (size_t k = 0; k < n_stems && !status; k++)
        status = detail ? drop(p, found->v[stems[k]].source, "stem", detail, "") : -1;
      free(detail);
      if (!status) status = items_add(out, source, strdup(out_path), true);
      source = NULL;
      mixed = true;
    } else if (!status && r == MUSIC_UNREADABLE) {
      for (size_t k = 0; k < n_stems && !status; k++) {
        fprintf(stderr, "%s: %s: %s: unreadable (%s): dropped\n", REAL_MUSIC_PROGRAM, p->pkg,
                found->v[stems[k]].source, why);
        status = drop(p, found->v[stems[k]].source, "unreadable", why, "");
      }
      mixed = true;
    } else {
      fprintf(stderr, "%s: %s: mixing %s: %s\n", REAL_MUSIC_PROGRAM, p->pkg, dir, why[0] ? why : "out of memory");
      status = -1;
    }
    free(where), free(flat), free(name), free(out_path), free(source);
  }
  for (size_t i = 0; i < n && !status; i++) {
    bool is_stem = false;
    for (size_t k = 0; k < n_stems && mixed; k++) is_stem = is_stem || stems[k] == members[i];
    const item *it = &found->v[members[i]];
    if (!is_stem) status = items_add(out, strdup(it->source), strdup(it->path), false);
  }
  free(stems), free(paths);
  return status;
}

/* The items of the package: its files by folder (in order of appearance),
 * each folder's stems mixed. */
static int package_items(package *p, const items *found, items *out) {
  size_t *members = malloc((found->n + 1) * sizeof *members);
  bool *done = calloc(found->n + 1, sizeof *done);
  int status = members && done ? 0 : -1;
  for (size_t i = 0; i < found->n && !status; i++) {
    if (done[i]) continue;
    char *dir = path_dirname(found->v[i].source);
    if (!dir) {
      status = -1;
      break;
    }
    size_t n = 0;
    for (size_t j = i; j < found->n && !status; j++) {
      char *dj = done[j] ? NULL : path_dirname(found->v[j].source);
      if (!done[j] && !dj) status = -1;
      if (dj && !strcmp(dj, dir)) members[n++] = j, done[j] = true;
      free(dj);
    }
    if (!status) status = folder_items(p, found, dir, members, n, out);
    free(dir);
  }
  free(members);
  free(done);
  return status;
}

/* ---------------------------------------------------------------- one item */

typedef struct kept {
  char *source, *name;
  double seconds;
  char sha256[SHA256_HEX], pcm_sha256[SHA256_HEX];
  int channels;
} kept;

static int unreadable(package *p, const char *source, const char *why) {
  fprintf(stderr, "%s: %s: %s: unreadable (%s): dropped\n", REAL_MUSIC_PROGRAM, p->pkg, source, why);
  return drop(p, source, "unreadable", why, "");
}

/* The samples' verdict on a level curve's loop: its correlation one period
 * apart and the period refined on the samples (music_loop.h). -1 on failure. */
static int loop_samples(package *p, const item *it, const music_analysis *a, const music_loop *loop, double *corr,
                        double *period_s) {
  float *x;
  size_t n;
  double rate;
  char why[MUSIC_WHY];
  if (music_decimated_mono(it->path, &x, &n, &rate, why, sizeof why)) {
    fprintf(stderr, "%s: %s: %s: %s\n", REAL_MUSIC_PROGRAM, p->pkg, it->source, why);
    return -1;
  }
  *corr = music_loop_correlation(x, n, rate, loop->period * a->hop, (double)loop->start * a->hop, period_s);
  free(x);
  return 0;
}

/* One item: analysed, a loop cut, moved or written under its flat name into
 * OUTDIR, dropped if short, its fingerprint saved; kept in *k (k->name NULL:
 * not kept). -1 on a failure of ours. */
static int survey_item(package *p, const item *it, kept *k) {
  memset(k, 0, sizeof *k);
  struct stat st;
  if (stat(it->path, &st) != 0) return drop(p, it->source, "dangling-link", "links outside the listed locations", "");
  music_analysis a;
  char why[MUSIC_WHY];
  int r = music_analyse(it->path, &a, why, sizeof why);
  if (r == MUSIC_UNREADABLE) return unreadable(p, it->source, why);
  if (r) {
    fprintf(stderr, "%s: %s: %s: %s\n", REAL_MUSIC_PROGRAM, p->pkg, it->source, why);
    return -1;
  }
  int status = 0;
  double seconds = (double)a.frames / a.rate;
  char *name = it->made ? strdup(path_basename(it->path)) : music_flat_name(p->pkg, it->source);
  char *dest = name ? path_join(p->outdir, name) : NULL;
  music_loop loop;
  bool is_loop = dest && seconds >= 2 * LOOP_MIN_PERIOD_S && music_find_loop(a.print.env, a.print.n, &loop);
  double corr = 0, period_s = 0;
  if (!dest) status = -1;
  if (is_loop && !status) {
    status = loop_samples(p, it, &a, &loop, &corr, &period_s);
    if (!status && corr < LOOP_CORR) { /* a near loop: kept whole, recorded */
      is_loop = false;
      status = lines_add(&p->near_loops, music_format("%s\t%s\t%.2f\t%.2f\t%.3f\n", p->pkg, it->source, period_s,
                                                loop.distance, corr));
    }
  }
  if (is_loop && !status) { /* the intro and one pass, as NAME.once.flac */
    const double hop = a.hop, keep_s = period_s + (double)loop.start * hop;
    char *stem = path_stem(name), *once = stem ? music_format("%s.once.flac", stem) : NULL;
    char *once_path = once ? path_join(p->outdir, once) : NULL;
    free(stem);
    if (!once_path) {
      status = -1;
    } else if ((r = music_copy_head(it->path, once_path, (long long)nearbyint(keep_s * a.rate), why, sizeof why))) {
      fprintf(stderr, "%s: %s: %s: cutting its loop: %s\n", REAL_MUSIC_PROGRAM, p->pkg, it->source, why);
      status = -1;
    } else {
      char *detail = music_format("repeats itself every %.2f s from %.1f s (level curve within %.2f dB, samples "
                            "correlate %.3f); kept the first %.1f s as %s",
                            period_s, (double)loop.start * hop, loop.distance, corr, keep_s, once);
      char *left = music_format("%.1f", seconds - keep_s);
      status = detail && left ? drop(p, it->source, "loop", detail, left) : -1;
      free(detail), free(left);
      if (it->made) unlink(it->path);
      music_analysis_free(&a);
      if (!status && (r = music_analyse(once_path, &a, why, sizeof why))) {
        fprintf(stderr, "%s: %s: reading %s back: %s\n", REAL_MUSIC_PROGRAM, p->pkg, once_path, why);
        status = -1;
      }
      if (!status) seconds = (double)a.frames / a.rate;
    }
    free(once);
    free(dest);
    dest = once_path;
  } else if (!status && !it->made) { /* the file itself, under its flat name */
    struct stat ls;
    if (lstat(it->path, &ls) == 0 && S_ISLNK(ls.st_mode)) {
      status = copy_file(it->path, dest);
    } else if (rename(it->path, dest) != 0) {
      fprintf(stderr, "%s: cannot move %s to %s: %s\n", REAL_MUSIC_PROGRAM, it->path, dest, strerror(errno));
      status = -1;
    }
  }
  if (!status && seconds < MUSIC_MIN_SECONDS) {
    char *detail = music_format("%.1f s < %.0f s: a jingle or an effect", seconds, MUSIC_MIN_SECONDS);
    char *secs = music_format("%.1f", seconds);
    status = detail && secs ? drop(p, it->source, "short", detail, secs) : -1;
    free(detail), free(secs);
    unlink(dest);
  } else if (!status) {
    chordlet_error err = {0};
    char *fp = music_format("%s/.fp/%s.npy", p->outdir, path_basename(dest));
    if (!fp || npy_write_f32(fp, a.print.env, (size_t)a.print.rows, a.print.n, &err)) {
      fprintf(stderr, "%s: %s\n", REAL_MUSIC_PROGRAM, fp ? err.message : "out of memory");
      status = -1;
    } else {
      k->source = strdup(it->source);
      k->name = strdup(path_basename(dest));
      k->seconds = seconds;
      memcpy(k->sha256, a.sha256, sizeof k->sha256);
      memcpy(k->pcm_sha256, a.pcm_sha256, sizeof k->pcm_sha256);
      k->channels = a.channels;
      if (!k->source || !k->name) status = -1;
    }
    free(fp);
  }
  music_analysis_free(&a);
  free(name);
  free(dest);
  return status;
}

/* ---------------------------------------------------------------- the package */

int real_music_package(const char *pkg, const char *version, const char *root, const char *outdir,
                       const char *const *locations, int n_locations) {
  package p = {.pkg = pkg, .version = version, .root = root, .outdir = outdir};
  char *fp_dir = music_format("%s/.fp", outdir);
  if (!fp_dir || cache_make_dir(fp_dir) != 0) {
    fprintf(stderr, "%s: cannot create %s/.fp: %s\n", REAL_MUSIC_PROGRAM, outdir, strerror(errno));
    free(fp_dir);
    return 1;
  }
  free(fp_dir);
  items found = {0}, todo = {0};
  int status = 0;
  for (int i = 0; i < n_locations && !status; i++) status = list_location(&p, locations[i], &found);
  if (!status) status = package_items(&p, &found, &todo);
  items_free(&found);
  if (!status && todo.n) qsort(todo.v, todo.n, sizeof *todo.v, compare_items);
  kept *ks = calloc(todo.n + 1, sizeof *ks);
  size_t n_kept = 0;
  if (!ks) status = -1;
  for (size_t i = 0; i < todo.n && !status; i++) {
    status = survey_item(&p, &todo.v[i], &ks[n_kept]);
    if (ks[n_kept].name) n_kept++;
  }
  items_free(&todo);
  /* the manifest rows, with the licence of each file */
  lines files = {0};
  char **lic = NULL;
  const char **sources = malloc((n_kept + 1) * sizeof *sources);
  char *copyright = music_format("%s/usr/share/doc/%s/copyright", root, pkg);
  if (!status && (!sources || !copyright)) status = -1;
  for (size_t i = 0; i < n_kept && !status; i++) sources[i] = ks[i].source;
  if (!status && licence_of(copyright, sources, n_kept, &lic)) status = -1;
  for (size_t i = 0; i < n_kept && !status; i++)
    status = lines_add(&files, music_format("%s\t%s\t%s\tmusic/%s/%s\t%.2f\t%s\t%s\t%d\t%s\n", pkg, version, lic[i], pkg,
                                      ks[i].name, ks[i].seconds / 60, ks[i].sha256, ks[i].pcm_sha256,
                                      ks[i].channels, ks[i].source));
  if (!status) {
    char *f = music_format("%s/files.tsv", outdir), *d = music_format("%s/dropped.tsv", outdir),
         *nl = music_format("%s/near-loops.tsv", outdir);
    status = f && d && nl ? 0 : -1;
    if (!status) status = write_lines(f, &files) || write_lines(d, &p.dropped) || write_lines(nl, &p.near_loops);
    free(f), free(d), free(nl);
  }
  licence_free(lic, n_kept);
  free(sources);
  free(copyright);
  for (size_t i = 0; i < n_kept; i++) free(ks[i].source), free(ks[i].name);
  free(ks);
  lines_free(&files);
  lines_free(&p.dropped);
  lines_free(&p.near_loops);
  if (status) fprintf(stderr, "%s: %s: the survey of its audio failed (above, or out of memory)\n", REAL_MUSIC_PROGRAM, pkg);
  return status ? 1 : 0;
}
