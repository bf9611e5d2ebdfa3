/* render.c: `chordlet-train render`: chord-annotated MIDI (+ aligned .lab)
 * into labelled training audio. For each song and variant it writes, each
 * file atomically and in this order, DIR/<collection>/<id>[.vK].flac, the
 * .lab with its times divided by the tempo factor, and a .json sidecar with
 * the settings (what makes the render) and the result. The sidecar comes last
 * and is removed before a re-render: where it exists, its .flac and .lab are
 * complete and belong to it. A re-run skips every song whose sidecar's
 * settings equal what it would render now (resume), and re-renders the rest. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* flock, realpath, and POSIX 2008 */
#endif
#include <cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "atomicfile.h"
#include "commands.h"
#include "flac_write.h"
#include "lab.h"
#include "midi_file.h"
#include "midi_render.h"
#include "render_sidecar.h"
#include "render_variant.h"
#include "dist.h"
#include "worker_pool.h"

#define PROGRAM "chordlet-train render"
#define DEFAULT_SOUNDFONT_DIR "/usr/share/sounds/sf2"
/* The .lab may end this much after the MIDI's last event: the collections'
 * labels end exactly there, printed with 6 decimals (all 2321 songs agree
 * within 0.5 us). */
#define LAB_PAST_MIDI_TOLERANCE 0.001
enum {
  RENDER_FORMAT = 1,                /* bump when the same settings would render differently */
  INPUT_MAX_BYTES = 64 << 20,       /* a MIDI or .lab file larger than this is not a song */
  SIDECAR_MAX_BYTES = 1 << 20,
  NAME_MAX_CHARS = 200,
  MAX_VARIANTS = 1000,
  MAX_NAME_SUFFIX = 15,
  MAX_JOBS = 64,
  MAX_SOUNDFONTS = 64,
};

static const char *const default_soundfonts[] = {DEFAULT_SOUNDFONT_DIR "/FluidR3_GM.sf2",
                                                 DEFAULT_SOUNDFONT_DIR "/TimGM6mb.sf2"};

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet-train render [options] --out DIR (LIST.txt | FILE.mid)...\n"
          "\n"
          "Renders chord-annotated MIDI into labelled training audio with fluidsynth. For\n"
          "each song it writes DIR/<collection>/<id>.flac (mono, 16-bit), <id>.lab (the\n"
          "song's labels, times divided by the tempo factor, so they stay aligned) and\n"
          "<id>.json (the settings and the result). Each render varies, drawn from the\n"
          "seed and the song's name: soundfont, program per channel, tempo, velocities,\n"
          "drums kept or muted, reverb and chorus, level (peak normalised to -12..-1 dBFS).\n"
          "The audio is cut at the .lab's end; a .lab that ends after the MIDI is an error.\n"
          "\n"
          "Inputs:\n"
          "  LIST.txt   song ids, one a line (a split file such as\n"
          "             ../shared/data/splits/pop909cl_valid.txt). The collection is the\n"
          "             file name before its last '_'; the songs are <id>.mid and <id>.lab\n"
          "             in --midi-dir, by default LIST's folder/../midi/<collection>.\n"
          "  FILE.mid   one song, with FILE.lab beside it; its folder's name is the collection.\n"
          "\n"
          "Options:\n"
          "  --out DIR              output folder (created if needed; one render at a time)\n"
          "  --soundfont PATH       a soundfont to draw from; repeat for several (default:\n"
          "                         FluidR3_GM.sf2 and TimGM6mb.sf2 in %s).\n"
          "                         MuseScore General is refused: it is kept for evaluation.\n"
          "  --seed N               the seed of every draw (default 0)\n"
          "  --variants K           renders per song: <id>, <id>.v1 ... <id>.v<K-1> (default 1)\n"
          "  --name-suffix S        files named <id>S (<id>S.v1 ...): a second render of songs\n"
          "                         already rendered, in a pool of its own (S: 1..15 of\n"
          "                         A-Z a-z 0-9 . _ -, e.g. .o; the trainer refuses two\n"
          "                         caches of one name)\n"
          "  --jobs N               worker processes (default: the number of CPUs)\n"
          "  --lock-wait S          how long to wait for another render writing into --out\n"
          "                         (0..3600 s, default 30) before giving up\n"
          "  --sample-rate HZ       8000..96000 (default 22050)\n"
          "  --families LIST        program families a melodic channel is drawn from, comma-\n"
          "                         separated: piano, organ, guitar, strings, pad, original (the\n"
          "                         file's own) (default: piano,organ,guitar,strings,pad).\n"
          "                         Drums and channels the file plays as a bass keep theirs.\n"
          "                         Strings and pads attack slowly: their chords swell up to\n"
          "                         ~0.1 s after the label time.\n"
          "  --tempo-jitter F       tempo factor uniform in [1-F, 1+F], 0 <= F <= 0.5 (default 0.1)\n"
          "  --velocity-jitter N    each note's velocity moves by up to +-N, 0..64 (default 10)\n"
          "  --drums-off P          probability of muting the file's drum channel (default 0.25)\n"
          "  --no-effects           no reverb or chorus (default: reverb in 80 %%, chorus in\n"
          "                         40 %% of renders)\n"
          "  --midi-dir DIR         where the songs of LIST files are\n"
          "  -q, --quiet            no progress bar and no summary\n"
          "\n"
          "Re-running the same command skips the songs already done (their .json settings\n"
          "match) and renders the rest; temporary files of an interrupted run are removed.\n"
          "Exit status: 0 every song rendered or already done, 1 a song or an input failed\n"
          "(each is reported), 2 bad usage.\n",
          DEFAULT_SOUNDFONT_DIR);
}

typedef struct soundfont {
  const char *path; /* as given */
  char *name;       /* the file name of its real path */
  unsigned long crc32;
  long long bytes;
} soundfont;

typedef struct song {
  char *collection, *id, *midi_path, *lab_path;
} song;

typedef struct render_job {
  size_t song;
  int variant;
  char *stem; /* DIR/<collection>/<id>[.vK] */
  char *name; /* "<collection>/<id>[ vK]" for messages */
} render_job;

typedef struct render_ctx {
  song *songs;
  size_t n_songs, cap_songs;
  render_job *jobs;
  size_t n_jobs;
  soundfont *fonts;
  int n_fonts;
  variant_options variants;
  const char *synth_version;
} render_ctx;

/* ---------------------------------------------------------------- inputs */

static char *str_dup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

static char *str_printf(const char *fmt, const char *a, const char *b, const char *c) {
  int n = snprintf(NULL, 0, fmt, a, b, c);
  if (n < 0) return NULL;
  char *p = malloc((size_t)n + 1);
  if (p) snprintf(p, (size_t)n + 1, fmt, a, b, c);
  return p;
}

/* A collection or song id becomes a file name: no separators, no hidden or
 * special names, printable, not absurdly long. */
static bool safe_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > NAME_MAX_CHARS || s[0] == '.') return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '/' || s[i] == '\\' || !isprint((unsigned char)s[i])) return false;
  return true;
}

static int add_song(render_ctx *c, const char *collection, const char *id, char *midi_path, char *lab_path) {
  if (c->n_songs == c->cap_songs) {
    size_t cap = c->cap_songs ? 2 * c->cap_songs : 64;
    song *s = realloc(c->songs, cap * sizeof *s);
    if (!s) goto oom;
    c->songs = s;
    c->cap_songs = cap;
  }
  song *s = &c->songs[c->n_songs];
  s->collection = str_dup(collection);
  s->id = str_dup(id);
  s->midi_path = midi_path;
  s->lab_path = lab_path;
  if (!s->collection || !s->id || !midi_path || !lab_path) {
    free(s->collection);
    free(s->id);
    goto oom;
  }
  c->n_songs++;
  return 0;
oom:
  free(midi_path);
  free(lab_path);
  fprintf(stderr, PROGRAM ": out of memory\n");
  return -1;
}

/* A file-name suffix of --name-suffix: short, and nothing a path or a shell
 * would read as more than a name. */
static bool valid_name_suffix(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MAX_NAME_SUFFIX) return false;
  for (size_t k = 0; k < n; k++)
    if (!isalnum((unsigned char)s[k]) && !strchr("._-", s[k])) return false;
  return true;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* A split file: one id a line; blank lines and '#' comments skipped. */
static int read_list(render_ctx *c, const char *list, const char *midi_dir_option) {
  const char *base = strrchr(list, '/');
  base = base ? base + 1 : list;
  char collection[NAME_MAX_CHARS + 8];
  size_t stem = strlen(base) - 4; /* ".txt" */
  if (stem >= sizeof collection) stem = sizeof collection - 1;
  memcpy(collection, base, stem);
  collection[stem] = '\0';
  char *underscore = strrchr(collection, '_');
  if (underscore && underscore != collection) *underscore = '\0';
  if (!safe_name(collection)) {
    fprintf(stderr, PROGRAM ": %s: cannot take a collection name from this file name\n", list);
    return -1;
  }
  char *midi_dir;
  if (midi_dir_option) {
    midi_dir = str_dup(midi_dir_option);
  } else {
    size_t dir_len = (size_t)(base - list);
    char *dir = malloc(dir_len + 2);
    if (!dir) return -1;
    if (dir_len) memcpy(dir, list, dir_len);
    else dir[dir_len++] = '.', dir[dir_len] = '\0';
    dir[dir_len] = '\0';
    midi_dir = str_printf("%s%s../midi/%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", collection);
    free(dir);
  }
  if (!midi_dir) return -1;
  FILE *f = fopen(list, "r");
  if (!f) {
    fprintf(stderr, PROGRAM ": cannot read song list %s: %s\n", list, strerror(errno));
    free(midi_dir);
    return -1;
  }
  char line[1024];
  int line_no = 0, status = 0;
  while (status == 0 && fgets(line, sizeof line, f)) {
    line_no++;
    size_t n = strlen(line);
    if (n == sizeof line - 1 && line[n - 1] != '\n') {
      fprintf(stderr, PROGRAM ": %s:%d: line too long for a song id\n", list, line_no);
      status = -1;
      break;
    }
    while (n && isspace((unsigned char)line[n - 1])) line[--n] = '\0';
    char *id = line;
    while (isspace((unsigned char)*id)) id++;
    if (!*id || *id == '#') continue;
    if (!safe_name(id)) {
      fprintf(stderr, PROGRAM ": %s:%d: '%s' is not a song id (a plain file name without '/')\n", list,
              line_no, id);
      status = -1;
      break;
    }
    status = add_song(c, collection, id, str_printf("%s/%s%s", midi_dir, id, ".mid"),
                      str_printf("%s/%s%s", midi_dir, id, ".lab"));
  }
  if (status == 0 && ferror(f)) {
    fprintf(stderr, PROGRAM ": cannot read song list %s\n", list);
    status = -1;
  }
  fclose(f);
  free(midi_dir);
  return status;
}

/* FILE.mid: FILE.lab beside it; the collection is its folder's name. */
static int add_midi_file(render_ctx *c, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  char id[NAME_MAX_CHARS + 1];
  size_t stem = (size_t)(dot - base);
  if (stem == 0 || stem > NAME_MAX_CHARS) {
    fprintf(stderr, PROGRAM ": %s: cannot take a song id from this file name\n", path);
    return -1;
  }
  memcpy(id, base, stem);
  id[stem] = '\0';
  char *dir = str_dup(path);
  if (!dir) return -1;
  dir[base - path] = '\0';
  char *real = realpath(dir[0] ? dir : ".", NULL);
  free(dir);
  if (!real) {
    fprintf(stderr, PROGRAM ": cannot read %s: %s\n", path, strerror(errno));
    return -1;
  }
  const char *collection = strrchr(real, '/');
  collection = collection && collection[1] ? collection + 1 : "root";
  if (!safe_name(id) || !safe_name(collection)) {
    fprintf(stderr, PROGRAM ": %s: the file or folder name cannot name an output file\n", path);
    free(real);
    return -1;
  }
  char *lab = malloc(strlen(path) + 8);
  if (lab) {
    memcpy(lab, path, (size_t)(dot - path));
    strcpy(lab + (dot - path), ".lab");
  }
  int status = add_song(c, collection, id, str_dup(path), lab);
  free(real);
  return status;
}

/* Drops repeated songs (the same collection/id twice would be two workers
 * writing one file), keeping the first. */
static size_t remove_duplicates(render_ctx *c) {
  size_t kept = 0, dropped = 0;
  for (size_t i = 0; i < c->n_songs; i++) {
    bool seen = false;
    for (size_t j = 0; j < kept && !seen; j++)
      seen = strcmp(c->songs[j].collection, c->songs[i].collection) == 0 &&
             strcmp(c->songs[j].id, c->songs[i].id) == 0;
    if (seen) {
      free(c->songs[i].collection);
      free(c->songs[i].id);
      free(c->songs[i].midi_path);
      free(c->songs[i].lab_path);
      dropped++;
    } else {
      c->songs[kept++] = c->songs[i];
    }
  }
  c->n_songs = kept;
  return dropped;
}

/* ------------------------------------------------------------ soundfonts */

static int check_soundfont(soundfont *sf) {
  char *real = realpath(sf->path, NULL);
  if (!real) {
    fprintf(stderr, PROGRAM ": unknown soundfont %s: %s\n", sf->path, strerror(errno));
    return -1;
  }
  const char *name = strrchr(real, '/');
  sf->name = str_dup(name ? name + 1 : real);
  free(real);
  if (!sf->name) return -1;
  /* The project keeps MuseScore General for evaluation: a model must never
   * have heard it (shared/data/README.md). */
  char lower[NAME_MAX_CHARS + 1];
  size_t i = 0;
  for (; sf->name[i] && i < NAME_MAX_CHARS; i++) lower[i] = (char)tolower((unsigned char)sf->name[i]);
  lower[i] = '\0';
  if (strstr(lower, "musescore")) {
    fprintf(stderr,
            PROGRAM ": %s is MuseScore General, which is reserved for evaluation: do not train on it "
                    "(use FluidR3_GM.sf2 or TimGM6mb.sf2)\n",
            sf->path);
    return -1;
  }
  FILE *f = fopen(sf->path, "rb");
  if (!f) {
    fprintf(stderr, PROGRAM ": cannot read soundfont %s: %s\n", sf->path, strerror(errno));
    return -1;
  }
  /* The soundfont is loaded by the workers only: fluidsynth loads samples
   * with OpenMP threads, and a process that has started them cannot fork
   * safely. So check here what can be checked without fluidsynth: the RIFF
   * sfbk header and a RIFF size that matches the file's (a truncated copy). */
  unsigned char head[12];
  struct stat st;
  if (fread(head, 1, sizeof head, f) != sizeof head || memcmp(head, "RIFF", 4) != 0 ||
      memcmp(head + 8, "sfbk", 4) != 0) {
    fprintf(stderr, PROGRAM ": %s is not a SoundFont 2 file (no RIFF sfbk header)\n", sf->path);
    fclose(f);
    return -1;
  }
  unsigned long long riff = 8ull + ((unsigned long long)head[4] | (unsigned long long)head[5] << 8 |
                                    (unsigned long long)head[6] << 16 | (unsigned long long)head[7] << 24);
  if (fstat(fileno(f), &st) != 0 || (unsigned long long)st.st_size < riff || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, PROGRAM ": %s is truncated (its RIFF header declares %llu bytes)\n", sf->path, riff);
    fclose(f);
    return -1;
  }
  /* The content's CRC names the soundfont in the sidecars: a reinstalled or
   * replaced file with the same name is a different render. */
  unsigned char *buf = malloc(1 << 20);
  uLong crc = crc32(0L, Z_NULL, 0);
  long long total = 0;
  size_t n;
  while (buf && (n = fread(buf, 1, 1 << 20, f)) > 0) {
    crc = crc32(crc, buf, (uInt)n);
    total += (long long)n;
  }
  int bad = !buf || ferror(f);
  free(buf);
  fclose(f);
  if (bad) {
    fprintf(stderr, PROGRAM ": cannot read soundfont %s\n", sf->path);
    return -1;
  }
  sf->crc32 = crc;
  sf->bytes = total;
  return 0;
}

/* --------------------------------------------------------------- outputs */

static int make_dir(const char *path) {
  if (mkdir(path, 0777) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    errno = ENOTDIR;
  }
  fprintf(stderr, PROGRAM ": cannot create folder %s: %s\n", path, strerror(errno));
  return -1;
}

/* mkdir -p */
static int make_dirs(const char *path) {
  char *p = str_dup(path);
  if (!p) return -1;
  int status = 0;
  for (char *s = p + 1; *s && status == 0; s++)
    if (*s == '/') {
      *s = '\0';
      struct stat st;
      if (stat(p, &st) != 0) status = make_dir(p);
      *s = '/';
    }
  if (status == 0) status = make_dir(p);
  free(p);
  return status;
}

/* Takes the output folder's lock (one render per folder: another would
 * remove our temporary files and race on the same outputs). A render that was
 * just killed may still hold it for a moment (its workers finish dying once a
 * blocked read of a soundfont returns), so wait a while before giving up. */
static int lock_folder(const char *dir, int wait_seconds) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, PROGRAM ": %s: %s\n", dir, strerror(errno));
    return -1;
  }
  for (int tenths = 0;; tenths++) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    if (errno != EWOULDBLOCK && errno != EINTR) break;
    if (tenths == 0) fprintf(stderr, PROGRAM ": %s: waiting for another render writing into this folder\n", dir);
    if (tenths >= wait_seconds * 10) {
      errno = EWOULDBLOCK;
      break;
    }
    nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
  }
  fprintf(stderr, PROGRAM ": %s: %s\n", dir,
          errno == EWOULDBLOCK ? "another render is still writing into this folder" : strerror(errno));
  close(fd);
  return -1;
}

/* Temporary files of atomic_file (NAME.tmp.XXXXXX) that a killed run left
 * for our outputs. Only .flac/.lab/.json ones, only in our folders. */
static bool is_stale_temp(const char *name) {
  const char *tmp = strstr(name, ".tmp.");
  if (!tmp || strlen(tmp) != strlen(".tmp.XXXXXX")) return false;
  size_t stem = (size_t)(tmp - name);
  static const char *const exts[] = {".flac", ".lab", ".json"};
  for (int i = 0; i < 3; i++) {
    size_t k = strlen(exts[i]);
    if (stem > k && strncmp(tmp - k, exts[i], k) == 0) return true;
  }
  return false;
}

static int remove_stale_temps(const char *dir, size_t *removed) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, PROGRAM ": cannot list %s: %s\n", dir, strerror(errno));
    return -1;
  }
  struct dirent *e;
  int status = 0;
  while ((e = readdir(d)) != NULL) {
    if (!is_stale_temp(e->d_name)) continue;
    char *path = str_printf("%s/%s%s", dir, e->d_name, "");
    if (!path || unlink(path) != 0) {
      fprintf(stderr, PROGRAM ": cannot remove %s/%s: %s\n", dir, e->d_name, path ? strerror(errno) : "no memory");
      status = -1;
    } else {
      (*removed)++;
    }
    free(path);
  }
  closedir(d);
  return status;
}

/* ----------------------------------------------------------- the worker */

static void job_fail(pool_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_fail(pool_result *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
  r->outcome = POOL_FAILED;
}

/* A whole input file, with its CRC; NULL and a message on failure. */
static unsigned char *read_input(const char *path, size_t *n, unsigned long *crc, pool_result *r) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    job_fail(r, "cannot read %s: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > INPUT_MAX_BYTES) {
    job_fail(r, "%s is not a regular file of at most %d MiB", path, INPUT_MAX_BYTES >> 20);
    fclose(f);
    return NULL;
  }
  size_t size = (size_t)st.st_size;
  unsigned char *data = malloc(size ? size : 1);
  size_t got = data ? fread(data, 1, size, f) : 0;
  int bad = !data || got != size || ferror(f);
  fclose(f);
  if (bad) {
    job_fail(r, "cannot read %s%s", path, data ? "" : ": out of memory");
    free(data);
    return NULL;
  }
  *n = size;
  *crc = crc32(crc32(0L, Z_NULL, 0), data, (uInt)size);
  return data;
}

static cJSON *file_identity(size_t bytes, unsigned long crc) {
  cJSON *o = cJSON_CreateObject();
  char hex[16];
  snprintf(hex, sizeof hex, "%08lx", crc);
  if (!o || !cJSON_AddNumberToObject(o, "bytes", (double)bytes) || !cJSON_AddStringToObject(o, "crc32", hex)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static bool add_item(cJSON *o, const char *key, cJSON *item) {
  if (!item) return false;
  if (!cJSON_AddItemToObject(o, key, item)) {
    cJSON_Delete(item);
    return false;
  }
  return true;
}

/* Everything that decides the render's bytes. */
static cJSON *settings_json(const render_ctx *c, const render_job *job, const variant *v, size_t midi_bytes,
                            unsigned long midi_crc, size_t lab_bytes, unsigned long lab_crc) {
  const song *s = &c->songs[job->song];
  const soundfont *sf = &c->fonts[v->soundfont];
  cJSON *o = cJSON_CreateObject();
  char seed[32], song_name[2 * NAME_MAX_CHARS + 2];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->variants.seed);
  snprintf(song_name, sizeof song_name, "%s/%s", s->collection, s->id);
  cJSON *font = cJSON_CreateObject();
  char hex[16];
  snprintf(hex, sizeof hex, "%08lx", sf->crc32);
  bool ok = o && font && cJSON_AddStringToObject(font, "name", sf->name) &&
            cJSON_AddNumberToObject(font, "bytes", (double)sf->bytes) && cJSON_AddStringToObject(font, "crc32", hex);
  if (!ok) {
    cJSON_Delete(font);
    cJSON_Delete(o);
    return NULL;
  }
  ok = cJSON_AddNumberToObject(o, "format", RENDER_FORMAT) &&
       cJSON_AddStringToObject(o, "fluidsynth", c->synth_version) &&
       cJSON_AddStringToObject(o, "song", song_name) && cJSON_AddNumberToObject(o, "variant", job->variant) &&
       cJSON_AddStringToObject(o, "seed", seed) && add_item(o, "midi", file_identity(midi_bytes, midi_crc)) &&
       add_item(o, "lab", file_identity(lab_bytes, lab_crc)) && add_item(o, "soundfont", font) &&
       add_item(o, "render", variant_to_json(v));
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* The outputs are complete and were made with these settings. */
static bool already_done(const render_job *job, const cJSON *settings, double *seconds) {
  char *flac = str_printf("%s%s%s", job->stem, ".flac", ""), *lab = str_printf("%s%s%s", job->stem, ".lab", "");
  char *json = str_printf("%s%s%s", job->stem, ".json", "");
  bool done = false;
  struct stat st;
  if (flac && lab && json && stat(flac, &st) == 0 && S_ISREG(st.st_mode) && stat(lab, &st) == 0 &&
      S_ISREG(st.st_mode)) {
    FILE *f = fopen(json, "rb");
    if (f) {
      char *text = malloc(SIDECAR_MAX_BYTES + 1);
      size_t n = text ? fread(text, 1, SIDECAR_MAX_BYTES, f) : 0;
      if (text && !ferror(f)) {
        text[n] = '\0';
        done = render_sidecar_matches(text, n, settings, seconds);
      }
      free(text);
      fclose(f);
    }
  }
  free(flac);
  free(lab);
  free(json);
  return done;
}

static chordlet_status write_sidecar(const char *path, cJSON *doc, chordlet_error *err) {
  char *text = cJSON_Print(doc);
  if (!text) {
    snprintf(err->message, sizeof err->message, "out of memory writing %s", path);
    return CHORDLET_ERR_NO_MEMORY;
  }
  atomic_file f;
  chordlet_status st = atomic_file_open(&f, path, err);
  if (!st) {
    fputs(text, f.stream);
    fputc('\n', f.stream);
    st = atomic_file_commit(&f, err);
  }
  free(text);
  return st;
}

static cJSON *result_json(size_t n_samples, double sample_rate, size_t n_segments, double midi_end, double peak,
                          double gain_db, const synth_report *rep) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  int programs[MIDI_CHANNELS];
  for (int ch = 0; ch < MIDI_CHANNELS; ch++) programs[ch] = rep->programs[ch];
  bool ok = cJSON_AddNumberToObject(o, "seconds", (double)n_samples / sample_rate) &&
            cJSON_AddNumberToObject(o, "samples", (double)n_samples) &&
            cJSON_AddNumberToObject(o, "segments", (double)n_segments) &&
            cJSON_AddNumberToObject(o, "midi_end_seconds", midi_end) &&
            cJSON_AddNumberToObject(o, "synth_peak", peak) && cJSON_AddNumberToObject(o, "gain_db", gain_db) &&
            add_item(o, "programs_played", cJSON_CreateIntArray(programs, MIDI_CHANNELS)) &&
            cJSON_AddBoolToObject(o, "drums_played", rep->drums_played) &&
            cJSON_AddNumberToObject(o, "notes_played", (double)rep->notes_played);
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* In a worker process: soundfonts loaded so far, kept loaded so that
 * fluidsynth's sample cache serves every later song (loading FluidR3_GM
 * takes longer than rendering a short song). Worker-process state, never
 * touched by the parent, which must not start fluidsynth's threads. */
static void *worker_pins[MAX_SOUNDFONTS];

static void render_job_run(void *ctx, size_t index, pool_result *r) {
  const render_ctx *c = ctx;
  const render_job *job = &c->jobs[index];
  const song *s = &c->songs[job->song];
  r->outcome = POOL_DONE;
  chordlet_error err;
  size_t midi_bytes = 0, lab_bytes = 0, n_samples = 0;
  unsigned long midi_crc = 0, lab_crc = 0;
  unsigned char *midi_data = NULL, *lab_data = NULL;
  cJSON *settings = NULL, *doc = NULL;
  lab_file lab = {0}, scaled = {0};
  midi_song midi = {0};
  float *audio = NULL;
  char *flac_path = NULL, *lab_path = NULL, *json_path = NULL;

  if (!(midi_data = read_input(s->midi_path, &midi_bytes, &midi_crc, r))) goto done;
  if (!(lab_data = read_input(s->lab_path, &lab_bytes, &lab_crc, r))) goto done;
  variant v;
  variant_draw(&c->variants, s->collection, s->id, job->variant, &v);
  v.synth.soundfont = c->fonts[v.soundfont].path;
  if (!worker_pins[v.soundfont] && midi_render_pin(v.synth.soundfont, &worker_pins[v.soundfont], &err)) {
    job_fail(r, "%s", err.message);
    goto done;
  }
  /* fluidsynth loads a damaged soundfont's presets as far as it can and says
   * nothing; one with no presets at all is no soundfont. */
  if (!midi_render_has_presets(worker_pins[v.soundfont])) {
    job_fail(r, "soundfont %s holds no instruments (damaged?)", v.synth.soundfont);
    goto done;
  }
  if (!(settings = settings_json(c, job, &v, midi_bytes, midi_crc, lab_bytes, lab_crc))) {
    job_fail(r, "out of memory");
    goto done;
  }
  double done_seconds = 0;
  if (already_done(job, settings, &done_seconds)) {
    r->outcome = POOL_SKIPPED;
    r->audio_seconds = done_seconds;
    goto done;
  }

  if (lab_parse((const char *)lab_data, lab_bytes, s->lab_path, &lab, &err) ||
      midi_parse(midi_data, midi_bytes, s->midi_path, &midi, &err)) {
    job_fail(r, "%s", err.message);
    goto done;
  }
  if (lab.n_segments == 0) {
    job_fail(r, "%s has no chord segments", s->lab_path);
    goto done;
  }
  if (midi.n_notes == 0) {
    job_fail(r, "%s plays no notes", s->midi_path);
    goto done;
  }
  double lab_end = lab.segments[lab.n_segments - 1].end;
  if (lab_end > midi.end_seconds + LAB_PAST_MIDI_TOLERANCE) {
    job_fail(r,
             "%s runs to %.3f s, past the end of %s (%.3f s): the labels and the MIDI do not belong together "
             "(a .lab must end at or before the MIDI's last event)",
             s->lab_path, lab_end, s->midi_path, midi.end_seconds);
    goto done;
  }
  const double f = v.synth.tempo_factor, rate = v.synth.sample_rate;
  n_samples = (size_t)llround(lab_end / f * rate);
  if (n_samples == 0) {
    job_fail(r, "%s ends at 0 s: nothing to render", s->lab_path);
    goto done;
  }
  audio = malloc(n_samples * sizeof *audio);
  if (!audio) {
    job_fail(r, "out of memory for %.0f s of audio", lab_end / f);
    goto done;
  }
  synth_report rep;
  if (midi_render(&midi, &v.synth, audio, n_samples, &rep, &err)) {
    job_fail(r, "%s: %s", s->midi_path, err.message);
    goto done;
  }
  /* Normalise the peak to the drawn level: the level varies from render to
   * render, and nothing ever clips. */
  float peak = 0;
  for (size_t i = 0; i < n_samples; i++) {
    float a = fabsf(audio[i]);
    if (a > peak) peak = a;
  }
  if (!(peak > 1e-6f)) {
    job_fail(r, "%s renders silent with %s (peak %g)", s->midi_path, c->fonts[v.soundfont].name, (double)peak);
    goto done;
  }
  float gain = (float)(pow(10.0, v.peak_dbfs / 20.0) / peak);
  for (size_t i = 0; i < n_samples; i++) audio[i] *= gain;

  /* The labels on the rendered timeline: the same division the events got. */
  for (size_t i = 0; i < lab.n_segments; i++) {
    const lab_segment *g = &lab.segments[i];
    if (lab_append(&scaled, g->start / f, g->end / f, &g->chord, &err)) {
      job_fail(r, "%s: %s", s->lab_path, err.message);
      goto done;
    }
  }
  flac_path = str_printf("%s%s%s", job->stem, ".flac", "");
  lab_path = str_printf("%s%s%s", job->stem, ".lab", "");
  json_path = str_printf("%s%s%s", job->stem, ".json", "");
  if (!flac_path || !lab_path || !json_path) {
    job_fail(r, "out of memory");
    goto done;
  }
  /* The sidecar vouches for the other two: it goes first and comes back last. */
  if (unlink(json_path) != 0 && errno != ENOENT) {
    job_fail(r, "cannot remove the old %s: %s", json_path, strerror(errno));
    goto done;
  }
  if (flac_write(flac_path, audio, n_samples, (int)rate, &err) || lab_write(lab_path, &scaled, &err)) {
    job_fail(r, "%s", err.message);
    goto done;
  }
  doc = cJSON_CreateObject();
  cJSON *result = result_json(n_samples, rate, scaled.n_segments, midi.end_seconds / f, peak,
                              20.0 * log10((double)gain), &rep);
  if (!doc || !result) {
    cJSON_Delete(result);
    job_fail(r, "out of memory");
    goto done;
  }
  /* add_item owns what it is given, added or (on failure) deleted. */
  cJSON *owned = settings;
  settings = NULL;
  bool ok = add_item(doc, "settings", owned);
  if (ok) ok = add_item(doc, "result", result);
  else cJSON_Delete(result);
  if (!ok) {
    job_fail(r, "out of memory");
    goto done;
  }
  if (write_sidecar(json_path, doc, &err)) {
    job_fail(r, "%s", err.message);
    goto done;
  }
  r->audio_seconds = (double)n_samples / rate;

done:
  free(midi_data);
  free(lab_data);
  cJSON_Delete(settings);
  cJSON_Delete(doc);
  lab_free(&lab);
  lab_free(&scaled);
  midi_song_free(&midi);
  free(audio);
  free(flac_path);
  free(lab_path);
  free(json_path);
}

static const char *render_job_name(void *ctx, size_t index) {
  const render_ctx *c = ctx;
  return c->jobs[index].name;
}

/* -------------------------------------------------------------- command */

static bool parse_double(const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

static bool parse_long(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

static bool parse_seed(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (*s == '-') return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end) return false;
  *out = v;
  return true;
}

static void free_ctx(render_ctx *c) {
  for (size_t i = 0; i < c->n_songs; i++) {
    free(c->songs[i].collection);
    free(c->songs[i].id);
    free(c->songs[i].midi_path);
    free(c->songs[i].lab_path);
  }
  free(c->songs);
  for (size_t i = 0; i < c->n_jobs; i++) {
    free(c->jobs[i].stem);
    free(c->jobs[i].name);
  }
  free(c->jobs);
  for (int i = 0; i < c->n_fonts; i++) free(c->fonts[i].name);
  free(c->fonts);
}

#define USAGE_ERROR(...)                 \
  do {                                   \
    fprintf(stderr, PROGRAM ": " __VA_ARGS__); \
    fputs("\n", stderr);                 \
    status = TRAIN_EXIT_USAGE;           \
    goto out;                            \
  } while (0)

int cmd_render(int argc, char **argv) {
  render_ctx c;
  memset(&c, 0, sizeof c);
  c.variants = (variant_options){.n_soundfonts = 0, .seed = 0, .sample_rate = 22050, .tempo_jitter = 0.1,
                                 .velocity_jitter = 10, .families = 0, .drums_off = 0.25, .effects = true};
  const char *out_dir = NULL, *midi_dir = NULL, *name_suffix = "";
  long long n_variants = 1, n_workers = sysconf(_SC_NPROCESSORS_ONLN);
  bool quiet = false;
  int status = TRAIN_EXIT_OK, lock_fd = -1;
  const char **fonts = malloc((size_t)argc * sizeof *fonts), **inputs = malloc((size_t)argc * sizeof *inputs);
  int n_fonts = 0, n_inputs = 0;
  long long lock_wait = 30;
  if (!fonts || !inputs) {
    fprintf(stderr, PROGRAM ": out of memory\n");
    status = TRAIN_EXIT_FAIL;
    goto out;
  }
  if (n_workers < 1) n_workers = 1;
  if (n_workers > MAX_JOBS) n_workers = MAX_JOBS;
  c.variants.families = variant_parse_families("piano,organ,guitar,strings,pad");

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
    long long n;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      goto out;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      quiet = true;
    } else if (strcmp(a, "--no-effects") == 0) {
      c.variants.effects = false;
    } else if (a[0] == '-' && a[1] == '-' && !value) {
      USAGE_ERROR("unknown option '%s' (or it lacks its value); see --help", a);
    } else if (strcmp(a, "--out") == 0) {
      out_dir = argv[++i];
    } else if (strcmp(a, "--soundfont") == 0) {
      if (n_fonts == MAX_SOUNDFONTS) USAGE_ERROR("at most %d soundfonts", MAX_SOUNDFONTS);
      fonts[n_fonts++] = argv[++i];
    } else if (strcmp(a, "--midi-dir") == 0) {
      midi_dir = argv[++i];
    } else if (strcmp(a, "--seed") == 0) {
      if (!parse_seed(value, &c.variants.seed)) USAGE_ERROR("--seed takes a whole number >= 0, not '%s'", value);
      i++;
    } else if (strcmp(a, "--variants") == 0) {
      if (!parse_long(value, 1, MAX_VARIANTS, &n_variants))
        USAGE_ERROR("--variants takes 1..%d, not '%s'", MAX_VARIANTS, value);
      i++;
    } else if (strcmp(a, "--name-suffix") == 0) {
      if (!valid_name_suffix(value))
        USAGE_ERROR("--name-suffix takes 1..%d of A-Z a-z 0-9 . _ -, not '%s'", MAX_NAME_SUFFIX, value);
      name_suffix = argv[++i];
    } else if (strcmp(a, "--jobs") == 0) {
      if (!parse_long(value, 1, MAX_JOBS, &n_workers)) USAGE_ERROR("--jobs takes 1..%d, not '%s'", MAX_JOBS, value);
      i++;
    } else if (strcmp(a, "--lock-wait") == 0) {
      if (!parse_long(value, 0, 3600, &lock_wait)) USAGE_ERROR("--lock-wait takes 0..3600 s, not '%s'", value);
      i++;
    } else if (strcmp(a, "--sample-rate") == 0) {
      if (!parse_long(value, 8000, 96000, &n)) USAGE_ERROR("--sample-rate takes 8000..96000 Hz, not '%s'", value);
      c.variants.sample_rate = (double)n;
      i++;
    } else if (strcmp(a, "--families") == 0) {
      c.variants.families = variant_parse_families(value);
      if (!c.variants.families)
        USAGE_ERROR("--families takes a comma-separated list of piano, organ, guitar, strings, pad, original; "
                    "not '%s'",
                    value);
      i++;
    } else if (strcmp(a, "--tempo-jitter") == 0) {
      if (!parse_double(value, 0, 0.5, &c.variants.tempo_jitter))
        USAGE_ERROR("--tempo-jitter takes 0..0.5, not '%s'", value);
      i++;
    } else if (strcmp(a, "--velocity-jitter") == 0) {
      if (!parse_long(value, 0, 64, &n)) USAGE_ERROR("--velocity-jitter takes 0..64, not '%s'", value);
      c.variants.velocity_jitter = (int)n;
      i++;
    } else if (strcmp(a, "--drums-off") == 0) {
      if (!parse_double(value, 0, 1, &c.variants.drums_off)) USAGE_ERROR("--drums-off takes 0..1, not '%s'", value);
      i++;
    } else if (a[0] == '-' && a[1] != '\0') {
      USAGE_ERROR("unknown option '%s'; see --help", a);
    } else {
      inputs[n_inputs++] = a;
    }
  }
  if (!out_dir) USAGE_ERROR("--out DIR is required; see --help");
  if (n_inputs == 0) USAGE_ERROR("no input: give song lists (.txt) or MIDI files (.mid); see --help");
  for (int i = 0; i < n_inputs; i++)
    if (!has_suffix(inputs[i], ".txt") && !has_suffix(inputs[i], ".mid") && !has_suffix(inputs[i], ".midi"))
      USAGE_ERROR("'%s' is neither a song list (.txt) nor a MIDI file (.mid)", inputs[i]);

  /* A size limit must fail a write (EFBIG, reported), not kill the process. */
  if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR) fprintf(stderr, PROGRAM ": warning: cannot ignore SIGXFSZ\n");
  midi_render_init();
  c.synth_version = midi_render_synth_version();

  /* Inputs and soundfonts are checked before anything is written. */
  for (int i = 0; i < n_inputs; i++)
    if ((has_suffix(inputs[i], ".txt") ? read_list(&c, inputs[i], midi_dir) : add_midi_file(&c, inputs[i])) != 0) {
      status = TRAIN_EXIT_FAIL;
      goto out;
    }
  size_t dropped = remove_duplicates(&c);
  if (dropped && !quiet) fprintf(stderr, PROGRAM ": %zu songs listed twice are rendered once\n", dropped);
  bool default_fonts = n_fonts == 0;
  if (default_fonts)
    for (int i = 0; i < 2; i++) fonts[n_fonts++] = default_soundfonts[i];
  c.fonts = calloc((size_t)n_fonts, sizeof *c.fonts);
  if (!c.fonts) {
    status = TRAIN_EXIT_FAIL;
    goto out;
  }
  for (int i = 0; i < n_fonts; i++) {
    c.fonts[i].path = fonts[i];
    c.n_fonts = i + 1;
    if (check_soundfont(&c.fonts[i])) {
      if (default_fonts)
        fprintf(stderr, PROGRAM ": (the default soundfonts come with Debian's fluid-soundfont-gm and "
                        "timgm6mb-soundfont)\n");
      status = TRAIN_EXIT_FAIL;
      goto out;
    }
  }
  c.variants.n_soundfonts = n_fonts;

  /* The jobs: every song, every variant, song by song. */
  c.jobs = calloc(c.n_songs * (size_t)n_variants + 1, sizeof *c.jobs);
  if (!c.jobs) {
    status = TRAIN_EXIT_FAIL;
    goto out;
  }
  for (size_t s = 0; s < c.n_songs; s++)
    for (int k = 0; k < n_variants; k++) {
      render_job *j = &c.jobs[c.n_jobs++];
      char suffix[16] = "", label[16] = "";
      if (k) {
        snprintf(suffix, sizeof suffix, ".v%d", k);
        snprintf(label, sizeof label, " v%d", k);
      }
      j->song = s;
      j->variant = k;
      char *dir = str_printf("%s/%s%s", out_dir, c.songs[s].collection, "");
      char stem_tail[MAX_NAME_SUFFIX + 16], name_tail[MAX_NAME_SUFFIX + 16];
      snprintf(stem_tail, sizeof stem_tail, "%s%s", name_suffix, suffix);
      snprintf(name_tail, sizeof name_tail, "%s%s", name_suffix, label);
      j->stem = dir ? str_printf("%s/%s%s", dir, c.songs[s].id, stem_tail) : NULL;
      j->name = str_printf("%s/%s%s", c.songs[s].collection, c.songs[s].id, name_tail);
      free(dir);
      if (!j->stem || !j->name) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        status = TRAIN_EXIT_FAIL;
        goto out;
      }
    }

  /* The output folders; one render per folder at a time (it would remove
   * the other's temporary files and race on the same outputs). Under mpirun
   * the job is one render: rank 0 holds the lock and clears what a killed run
   * left, and no rank writes before it has (the status is agreed on). */
  size_t removed = 0;
  int prepared = TRAIN_EXIT_OK;
  if (dist_is_root()) {
    if (make_dirs(out_dir)) prepared = TRAIN_EXIT_FAIL;
    if (!prepared && (lock_fd = lock_folder(out_dir, (int)lock_wait)) < 0) prepared = TRAIN_EXIT_FAIL;
    for (size_t s = 0; !prepared && s < c.n_songs; s++) {
      if (s > 0 && strcmp(c.songs[s].collection, c.songs[s - 1].collection) == 0) continue;
      char *dir = str_printf("%s/%s%s", out_dir, c.songs[s].collection, "");
      int bad = !dir || make_dir(dir) || remove_stale_temps(dir, &removed);
      free(dir);
      if (bad) prepared = TRAIN_EXIT_FAIL;
    }
  }
  if ((status = dist_agree_status(prepared)) != TRAIN_EXIT_OK) goto out;
  if (removed && !quiet)
    fprintf(stderr, PROGRAM ": removed %zu temporary files an interrupted run left in %s\n", removed, out_dir);

  pool_summary sum;
  if (worker_pool_run(c.n_jobs, (int)n_workers, render_job_run, render_job_name, &c,
                      !quiet && isatty(fileno(stderr)), PROGRAM, &sum) != 0) {
    status = TRAIN_EXIT_FAIL;
    goto out;
  }
  if (!quiet && dist_is_root()) { /* the whole job's summary, once */
    char speed[160] = "";
    if (sum.done && sum.wall_seconds > 0)
      snprintf(speed, sizeof speed, ": %.1f min of audio in %.1f s (%.0fx real time, %lld jobs)",
               sum.audio_seconds / 60, sum.wall_seconds, sum.audio_seconds / sum.wall_seconds, n_workers);
    fprintf(stderr, PROGRAM ": %zu rendered, %zu already done, %zu failed%s\n", sum.done, sum.skipped, sum.failed,
            speed);
  }
  if (sum.failed || sum.worker_errors) status = TRAIN_EXIT_FAIL;

out:
  if (lock_fd >= 0) close(lock_fd);
  free_ctx(&c);
  free(fonts);
  free(inputs);
  return status;
}
