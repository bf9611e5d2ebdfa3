/* train_data.c: the training material in memory (train_data.h). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "modelfile.h"
#include "model_keys.h"
#include "rng.h"
#include "student_train.h"
#include "train_data.h"
#include "vocab.h"

/* ---- half floats ---- */

uint16_t half_from_float(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7FFFFFu;
  int exp = (int)((x >> 23) & 0xFF);
  if (exp == 0xFF) return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0)); /* inf, nan */
  exp = exp - 127 + 15;
  if (exp >= 0x1F) return (uint16_t)(sign | 0x7C00u);                        /* overflow */
  if (exp <= 0) {                                                            /* subnormal or zero */
    if (exp < -10) return (uint16_t)sign;
    mant |= 0x800000u;
    int shift = 14 - exp;
    uint32_t h = mant >> shift, rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1u))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((uint32_t)exp << 10) | (mant >> 13), rest = mant & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++; /* may carry into the exponent: correct */
  return (uint16_t)(sign | h);
}

float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, x;
  if (exp == 0) {
    if (!mant) {
      x = sign;
    } else { /* subnormal: normalise */
      int e = -1;
      do {
        e++;
        mant <<= 1;
      } while (!(mant & 0x400u));
      x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
    }
  } else if (exp == 0x1F) {
    x = sign | 0x7F800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &x, 4);
  return f;
}

/* ---- loading ---- */

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

typedef struct path_list {
  char **v;
  size_t n, cap;
} path_list;

static int path_add(path_list *l, const char *p) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return -1;
    l->v = v;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(p))) return -1;
  l->n++;
  return 0;
}

static void path_list_free(path_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
}

static chordlet_status collect(const char *path, path_list *l, chordlet_error *err) {
  struct stat st;
  if (stat(path, &st) != 0) return chordlet_fail(err, CHORDLET_ERR_IO, "cannot read %s", path);
  if (ends_with(path, ".txt") && S_ISREG(st.st_mode)) { /* a list of caches, one a line, '#' comments */
    FILE *f = fopen(path, "r");
    if (!f) return chordlet_fail(err, CHORDLET_ERR_IO, "cannot open the list %s", path);
    char line[4096];
    int n = 0;
    chordlet_status status = CHORDLET_OK;
    while (!status && fgets(line, sizeof line, f)) {
      n++;
      line[strcspn(line, "\r\n")] = '\0';
      if (!line[0] || line[0] == '#') continue;
      if (stat(line, &st) != 0 || S_ISDIR(st.st_mode))
        status = chordlet_fail(err, CHORDLET_ERR_IO, "%s:%d: %s is not a cache file", path, n, line);
      else if (path_add(l, line))
        status = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    }
    fclose(f);
    return status;
  }
  if (!S_ISDIR(st.st_mode)) return path_add(l, path) ? chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory") : 0;
  DIR *d = opendir(path);
  if (!d) return chordlet_fail(err, CHORDLET_ERR_IO, "cannot open folder %s", path);
  size_t first = l->n;
  struct dirent *e;
  int bad = 0;
  while (!bad && (e = readdir(d))) {
    if (e->d_name[0] == '.' || !ends_with(e->d_name, ".chordlet")) continue;
    size_t k = strlen(path) + strlen(e->d_name) + 2;
    char *p = malloc(k);
    if (!p) {
      bad = 1;
      break;
    }
    snprintf(p, k, "%s/%s", path, e->d_name);
    bad = path_add(l, p);
    free(p);
  }
  closedir(d);
  if (bad) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  qsort(l->v + first, l->n - first, sizeof *l->v, compare_strings);
  if (l->n == first) return chordlet_fail(err, CHORDLET_ERR_IO, "%s holds no feature caches (*.chordlet)", path);
  return CHORDLET_OK;
}

static int grow(void **p, size_t elem, size_t need, size_t *cap) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 1 << 16;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return -1;
  *p = q;
  *cap = c;
  return 0;
}

bool train_frontend_same(const cqt_params *a, const cqt_params *b) {
  return a->n_bins == b->n_bins && a->bins_per_octave == b->bins_per_octave && a->fmin_hz == b->fmin_hz &&
         a->hop_seconds == b->hop_seconds && a->log_eps == b->log_eps && a->q == b->q &&
         a->min_window_seconds == b->min_window_seconds && a->max_window_seconds == b->max_window_seconds;
}

/* Appends one cache to the set. */
static chordlet_status load_one(train_set *s, const char *path, int keep_teacher, size_t caps[4],
                                int *first, chordlet_error *err) {
  model_file *m = NULL;
  chordlet_status st = model_file_load(path, &m, err);
  if (st) return st;
  const char *kind = NULL, *name = NULL;
  cqt_params fe;
  double seconds = 0;
  if ((st = model_file_get_str(m, "cache.kind", &kind, err)) || (st = cqt_params_read(m, &fe, err)) ||
      (st = model_file_get_str(m, "source.name", &name, err)) ||
      (st = model_file_get_f64(m, "source.seconds", &seconds, err)))
    goto done;
  if (strcmp(kind, "student-features")) {
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s is a \"%s\" cache, not student features", path, kind);
    goto done;
  }
  if (*first) {
    s->frontend = fe;
    s->n_bins = fe.n_bins;
    s->n_classes = VOCAB_SIZE;
  } else if (!train_frontend_same(&fe, &s->frontend)) {
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s was made with other front-end settings than %s", path,
                       s->songs[0].name);
    goto done;
  }
  const model_tensor *ft = model_file_tensor(m, "features");
  if (!ft || ft->ndim != 2 || ft->dims[1] != (int64_t)s->n_bins || ft->dims[0] < 1 || ft->dims[0] > (1 << 28)) {
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: no (T, %d) features tensor", path, s->n_bins);
    goto done;
  }
  const int T = (int)ft->dims[0];
  const model_tensor *lt = model_file_tensor(m, "labels"), *pt = model_file_tensor(m, "p170");
  if ((lt && (lt->ndim != 1 || lt->dims[0] != T)) ||
      (pt && (pt->ndim != 2 || pt->dims[0] != T || pt->dims[1] != VOCAB_SIZE))) {
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: labels or p170 do not match its %d frames", path, T);
    goto done;
  }
  if (*first) {
    s->has_labels = lt != NULL;
    s->has_teacher = pt != NULL;
  } else {
    s->has_labels &= lt != NULL;
    s->has_teacher &= pt != NULL;
  }
  const size_t need = s->n_frames + (size_t)T;
  size_t song_cap = caps[3];
  if (grow((void **)&s->songs, sizeof *s->songs, (size_t)s->n_songs + 1, &song_cap)) goto nomem;
  caps[3] = song_cap;
  size_t cap0 = caps[0], cap1 = caps[1], cap2 = caps[2];
  if (grow((void **)&s->features, (size_t)s->n_bins * sizeof *s->features, need, &cap0)) goto nomem;
  caps[0] = cap0;
  if (grow((void **)&s->labels, sizeof *s->labels, need, &cap1)) goto nomem;
  cap1 = caps[1];
  if (grow((void **)&s->pseudo, sizeof *s->pseudo, need, &cap1)) goto nomem;
  caps[1] = cap1;
  if (keep_teacher && pt) {
    if (grow((void **)&s->teacher, (size_t)VOCAB_SIZE * sizeof *s->teacher, need, &cap2)) goto nomem;
    caps[2] = cap2;
  }
  const size_t o = s->n_frames;
  for (size_t i = 0; i < (size_t)T * s->n_bins; i++) {
    float v = ft->data[i];
    if (!isfinite(v)) {
      st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: non-finite feature at frame %zu", path, i / s->n_bins);
      goto done;
    }
    s->features[o * s->n_bins + i] = half_from_float(v);
  }
  for (int t = 0; t < T; t++) {
    int label = -1;
    if (lt) {
      float v = lt->data[t];
      if (!(v >= 0 && v < VOCAB_SIZE) || v != floorf(v)) {
        st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: label %g at frame %d is not a class", path, (double)v, t);
        goto done;
      }
      label = (int)v;
    }
    s->labels[o + t] = (int16_t)label;
    int best = -1;
    if (pt) {
      const float *p = pt->data + (size_t)t * VOCAB_SIZE;
      best = 0;
      for (int k = 0; k < VOCAB_SIZE; k++) {
        if (!(p[k] >= 0.0f && p[k] <= 1.0001f)) {
          st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: p170 at frame %d is not a probability", path, t);
          goto done;
        }
        if (p[k] > p[best]) best = k;
        if (keep_teacher) s->teacher[(o + t) * VOCAB_SIZE + k] = half_from_float(logf(p[k] > 1e-8f ? p[k] : 1e-8f));
      }
    }
    s->pseudo[o + t] = (int16_t)best;
  }
  train_song *song = &s->songs[s->n_songs];
  const char *applied = NULL;
  chordlet_error optional;
  song->augment = NULL;
  if (model_file_get_str(m, MK_AUGMENT_APPLIED, &applied, &optional)) applied = NULL; /* a clean cache */
  if (applied && !(song->augment = strdup(applied))) goto nomem;
  if (!(song->name = strdup(name))) {
    free(song->augment);
    goto nomem;
  }
  song->offset = o;
  song->n_frames = T;
  s->n_songs++;
  s->n_frames = need;
  s->seconds += seconds;
  *first = 0;
  goto done;
nomem:
  st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory loading %s", path);
done:
  model_file_free(m);
  return st;
}

/* Two caches of one song (the same audio file name) mean a folder that holds
 * caches made with other settings next to the current ones (`features`
 * names a cache by its settings' hash and leaves older ones): training on
 * both would count the song twice and mix front ends or targets. paths[k] is
 * the cache song k came from. */
typedef struct named_song {
  const char *name;
  int index;
} named_song;

static int compare_named_songs(const void *a, const void *b) {
  return strcmp(((const named_song *)a)->name, ((const named_song *)b)->name);
}

static chordlet_status check_unique_songs(const train_set *s, const char *const *paths, chordlet_error *err) {
  if (s->n_songs < 2) return CHORDLET_OK;
  named_song *order = malloc((size_t)s->n_songs * sizeof *order);
  if (!order) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  for (int k = 0; k < s->n_songs; k++) order[k] = (named_song){s->songs[k].name, k};
  qsort(order, (size_t)s->n_songs, sizeof *order, compare_named_songs);
  chordlet_status st = CHORDLET_OK;
  for (int k = 1; k < s->n_songs && !st; k++)
    if (!strcmp(order[k - 1].name, order[k].name))
      st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "two feature caches of '%s': %s and %s (caches made with other settings? "
                         "remove the stale one)",
                         order[k].name, paths[order[k - 1].index], paths[order[k].index]);
  free(order);
  return st;
}

chordlet_status train_set_load(train_set *s, const char *const *paths, int n_paths, double max_hours,
                               unsigned long long seed, int keep_teacher, chordlet_error *err) {
  memset(s, 0, sizeof *s);
  path_list l = {0};
  chordlet_status st = CHORDLET_OK;
  for (int i = 0; i < n_paths && !st; i++) st = collect(paths[i], &l, err);
  if (!st && l.n == 0) st = chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no feature caches given");
  if (!st && max_hours > 0) { /* a seeded sample of the pools, whole songs */
    rng r = {seed ^ 0xDA7A5E7u};
    for (size_t i = l.n; i > 1; i--) {
      size_t j = (size_t)(rng_next(&r) % i);
      char *t = l.v[i - 1];
      l.v[i - 1] = l.v[j];
      l.v[j] = t;
    }
  }
  size_t caps[4] = {0, 0, 0, 0};
  int first = 1;
  for (size_t i = 0; i < l.n && !st; i++) {
    if (max_hours > 0 && s->seconds >= max_hours * 3600.0) break;
    st = load_one(s, l.v[i], keep_teacher, caps, &first, err);
  }
  if (!st) st = check_unique_songs(s, (const char *const *)l.v, err);
  path_list_free(&l);
  if (!st && keep_teacher && !s->has_teacher) {
    free(s->teacher);
    s->teacher = NULL;
  }
  if (st) train_set_free(s);
  return st;
}

void train_set_free(train_set *s) {
  for (int i = 0; i < s->n_songs; i++) {
    free(s->songs[i].name);
    free(s->songs[i].augment);
  }
  free(s->songs);
  free(s->features);
  free(s->labels);
  free(s->pseudo);
  free(s->teacher);
  memset(s, 0, sizeof *s);
}

/* ---- a longer hop ---- */

/* The set's front end at `step` times its hop, checked (step 1..64). */
static chordlet_status longer_hop(const train_set *s, int step, cqt_params *fe, chordlet_error *err) {
  if (step < 1 || step > 64) return chordlet_fail(err, CHORDLET_ERR_RANGE, "frame step %d: must be 1..64", step);
  *fe = s->frontend;
  /* to the microsecond, so 3 x 0.02 is the double nearest 0.06 (the value a
   * front end configured with 60 ms holds), whatever the product rounds to */
  fe->hop_seconds = round(fe->hop_seconds * step * 1e6) / 1e6;
  return cqt_params_check(fe, err);
}

chordlet_status train_set_decimate(train_set *s, int step, chordlet_error *err) {
  if (step == 1) return CHORDLET_OK;
  cqt_params fe;
  chordlet_status st = longer_hop(s, step, &fe, err);
  if (st) return st;
  const size_t B = (size_t)s->n_bins, K = (size_t)s->n_classes;
  size_t to = 0; /* frames are moved forward only: to <= from always */
  for (int k = 0; k < s->n_songs; k++) {
    train_song *song = &s->songs[k];
    const int T = (song->n_frames + step - 1) / step;
    for (int j = 0; j < T; j++, to++) {
      const size_t from = song->offset + (size_t)j * (size_t)step;
      memmove(s->features + to * B, s->features + from * B, B * sizeof *s->features);
      s->labels[to] = s->labels[from];
      s->pseudo[to] = s->pseudo[from];
      if (s->teacher) memmove(s->teacher + to * K, s->teacher + from * K, K * sizeof *s->teacher);
    }
    song->offset = to - (size_t)T;
    song->n_frames = T;
  }
  s->n_frames = to;
  s->frontend = fe;
  /* give the memory back (shrinking realloc cannot lose the data) */
  void *p;
  if ((p = realloc(s->features, (to ? to : 1) * B * sizeof *s->features))) s->features = p;
  if ((p = realloc(s->labels, (to ? to : 1) * sizeof *s->labels))) s->labels = p;
  if ((p = realloc(s->pseudo, (to ? to : 1) * sizeof *s->pseudo))) s->pseudo = p;
  if (s->teacher && (p = realloc(s->teacher, (to ? to : 1) * K * sizeof *s->teacher))) s->teacher = p;
  return CHORDLET_OK;
}

chordlet_status train_set_decimate_all_phases(train_set *s, int step, chordlet_error *err) {
  if (step == 1) return CHORDLET_OK;
  cqt_params fe;
  chordlet_status st = longer_hop(s, step, &fe, err);
  if (st) return st;
  const size_t B = (size_t)s->n_bins, K = (size_t)s->n_classes;
  int n_new = 0, longest = 0;
  for (int k = 0; k < s->n_songs; k++) {
    n_new += s->songs[k].n_frames < step ? s->songs[k].n_frames : step;
    if (s->songs[k].n_frames > longest) longest = s->songs[k].n_frames;
  }
  train_song *songs = calloc(n_new ? (size_t)n_new : 1, sizeof *songs);
  /* one song's frames, reordered phase by phase, then copied back */
  uint16_t *f = malloc(((size_t)longest * B + 1) * sizeof *f);
  int16_t *lab = malloc(((size_t)longest + 1) * sizeof *lab), *pse = malloc(((size_t)longest + 1) * sizeof *pse);
  uint16_t *tea = s->teacher ? malloc(((size_t)longest * K + 1) * sizeof *tea) : NULL;
  int made = 0;
  bool ok = songs && f && lab && pse && (!s->teacher || tea);
  for (int k = 0; ok && k < s->n_songs; k++) { /* names first: nothing moves until all exist */
    const train_song *old = &s->songs[k];
    for (int p = 0; ok && p < step && p < old->n_frames; p++, made++) {
      const char *name = old->name ? old->name : "";
      const size_t len = strlen(name) + 16;
      songs[made].name = malloc(len);
      songs[made].augment = old->augment ? strdup(old->augment) : NULL;
      ok = songs[made].name && (!old->augment || songs[made].augment);
      if (ok) snprintf(songs[made].name, len, "%s@%d", name, p);
    }
  }
  /* On success the old songs go, on failure the new ones: the set stays whole. */
  train_song *drop = ok ? s->songs : songs;
  const int n_drop = ok ? s->n_songs : made;
  for (int k = 0, at = 0; ok && k < s->n_songs; k++) {
    const train_song *old = &s->songs[k];
    const size_t T = (size_t)old->n_frames;
    size_t to = 0;
    for (int p = 0; p < step && (size_t)p < T; p++, at++) {
      songs[at].offset = old->offset + to;
      for (size_t from = (size_t)p; from < T; from += (size_t)step, to++) {
        memcpy(f + to * B, s->features + (old->offset + from) * B, B * sizeof *f);
        lab[to] = s->labels[old->offset + from];
        pse[to] = s->pseudo[old->offset + from];
        if (tea) memcpy(tea + to * K, s->teacher + (old->offset + from) * K, K * sizeof *tea);
      }
      songs[at].n_frames = (int)(to - (songs[at].offset - old->offset));
    }
    memcpy(s->features + old->offset * B, f, T * B * sizeof *f);
    memcpy(s->labels + old->offset, lab, T * sizeof *lab);
    memcpy(s->pseudo + old->offset, pse, T * sizeof *pse);
    if (tea) memcpy(s->teacher + old->offset * K, tea, T * K * sizeof *tea);
  }
  for (int k = 0; drop && k < n_drop; k++) {
    free(drop[k].name);
    free(drop[k].augment);
  }
  free(drop);
  free(f);
  free(lab);
  free(pse);
  free(tea);
  if (!ok) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for every phase of %d songs", s->n_songs);
  s->songs = songs;
  s->n_songs = n_new;
  s->frontend = fe;
  return CHORDLET_OK;
}

/* ---- windows ---- */

train_window *train_windows(const train_set *s, int frames, int stride, size_t *n) {
  size_t count = 0;
  for (int k = 0; k < s->n_songs; k++) {
    int T = s->songs[k].n_frames;
    if (T >= frames) count += (size_t)((T - frames) / stride + 1);
    else if (T >= frames / 4) count++;
  }
  train_window *w = malloc((count ? count : 1) * sizeof *w);
  if (!w) return NULL;
  size_t i = 0;
  for (int k = 0; k < s->n_songs; k++) {
    int T = s->songs[k].n_frames;
    if (T >= frames) {
      for (int start = 0; start + frames <= T; start += stride) w[i++] = (train_window){k, start, 0};
    } else if (T >= frames / 4) {
      w[i++] = (train_window){k, 0, 0};
    }
  }
  *n = count;
  return w;
}

void train_windows_shuffle(train_window *w, size_t n, unsigned long long seed, int shift_lo, int shift_hi) {
  rng r = {seed * 0x9E3779B97F4A7C15u + 0x5u};
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(rng_next(&r) % i);
    train_window t = w[i - 1];
    w[i - 1] = w[j];
    w[j] = t;
  }
  for (size_t i = 0; i < n; i++)
    w[i].shift = shift_hi > shift_lo ? shift_lo + rng_below(&r, shift_hi - shift_lo + 1) : shift_lo;
}

int class_shift(int c, int s) {
  if (c < 0 || c >= VOCAB_X) return c;
  int root = ((c / VOCAB_QUALITIES + s) % VOCAB_ROOTS + VOCAB_ROOTS) % VOCAB_ROOTS;
  return root * VOCAB_QUALITIES + c % VOCAB_QUALITIES;
}

void train_window_fill(const train_set *s, const train_window *w, int frames, train_target target, float *x,
                       int *labels, float *teacher) {
  const train_song *song = &s->songs[w->song];
  const int B = s->n_bins, K = s->n_classes, shift_bins = 2 * w->shift * s->frontend.bins_per_octave / 24;
  const float floor_value = (float)log(s->frontend.log_eps);
  for (int t = 0; t < frames; t++) {
    float *xr = x + (size_t)t * B;
    const int f = w->start + t;
    if (f >= song->n_frames) { /* padding */
      for (int b = 0; b < B; b++) xr[b] = floor_value;
      labels[t] = -1;
      if (teacher) memset(teacher + (size_t)t * K, 0, (size_t)K * sizeof *teacher);
      continue;
    }
    const size_t g = song->offset + (size_t)f;
    const uint16_t *src = s->features + g * B;
    for (int b = 0; b < B; b++) {
      int from = b - shift_bins;
      xr[b] = (from >= 0 && from < B) ? half_to_float(src[from]) : floor_value;
    }
    int c = target == TARGET_GROUND_TRUTH ? s->labels[g] : s->pseudo[g];
    labels[t] = target == TARGET_KD_ONLY ? (s->pseudo[g] >= 0 ? STUDENT_LABEL_KD_ONLY : -1) : class_shift(c, w->shift);
    if (teacher) {
      const uint16_t *a = s->teacher + g * K;
      float *out = teacher + (size_t)t * K;
      for (int k = 0; k < K; k++) out[class_shift(k, w->shift)] = half_to_float(a[k]);
    }
  }
}
