/* fuzz_util.c: see fuzz_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_util.h"
#include "import_teacher.h"

#include <dirent.h>
#include <errno.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cqt.h"
#include "model_keys.h"
#include "student.h"
#include "tuning.h"

static char dir[512];

void fuzz_fail(const char *harness, const char *fmt, ...) {
  char message[1024];
  int n = snprintf(message, sizeof message, "%s: ", harness);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < sizeof message) vsnprintf(message + n, sizeof message - (size_t)n, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", message);
  __sanitizer_report_error_summary(message);
  abort();
}

/* Removes a folder's files (ours hold no subfolders) and the folder. */
static void remove_folder(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    char file[1024];
    while ((e = readdir(d)) != NULL) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(file, sizeof file, "%s/%s", path, e->d_name);
      unlink(file);
    }
    closedir(d);
  }
  rmdir(path);
}

static void remove_dir(void) { remove_folder(dir); }

/* A crash ends a harness without its atexit cleanup: remove the folders of
 * harnesses that are no longer running (their process id is gone). */
static void remove_stale(const char *parent) {
  DIR *d = opendir(parent);
  if (!d) return;
  struct dirent *e;
  char path[1024];
  while ((e = readdir(d)) != NULL) {
    char *end;
    if (strncmp(e->d_name, "chordlet-fuzz-", 14) != 0) continue;
    const long pid = strtol(e->d_name + 14, &end, 10);
    if (*end || pid <= 0 || pid == (long)getpid() || !(kill((pid_t)pid, 0) != 0 && errno == ESRCH)) continue;
    snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
    remove_folder(path);
  }
  closedir(d);
}

static int writable_dir(const char *path) {
  struct stat st;
  return path && path[0] && stat(path, &st) == 0 && S_ISDIR(st.st_mode) && access(path, W_OK | X_OK) == 0;
}

const char *fuzz_dir(void) {
  if (dir[0]) return dir;
  const char *parent = getenv("FUZZ_TMPDIR");
  if (!writable_dir(parent)) parent = writable_dir("/dev/shm") ? "/dev/shm" : getenv("TMPDIR");
  if (!writable_dir(parent)) parent = "/tmp";
  remove_stale(parent);
  snprintf(dir, sizeof dir, "%s/chordlet-fuzz-%ld", parent, (long)getpid());
  remove_dir(); /* a folder left by an earlier process of the same id */
  if (mkdir(dir, 0700) != 0) {
    perror(dir);
    abort();
  }
  atexit(remove_dir);
  return dir;
}

const char *fuzz_path(const char *name, char *out, size_t size) {
  int n = snprintf(out, size, "%s/%s", fuzz_dir(), name);
  if (n < 0 || (size_t)n >= size) abort();
  return out;
}

const char *fuzz_write(const char *name, const void *data, size_t n) {
  static char path[1024];
  fuzz_path(name, path, sizeof path);
  FILE *f = fopen(path, "wb");
  if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
    perror(path);
    abort();
  }
  return path;
}

model_writer *fuzz_tiny_student(int lookahead, unsigned long long seed) {
  cqt_params fe;
  cqt_params_default(&fe);
  fe.n_bins = 8;
  fe.fmin_hz = 220.0; /* 8 bins of 24 per octave: 220-271 Hz */
  tuning_params tp;
  tuning_params_default(&tp);
  student_config c = student_config_default();
  c.n_bins = fe.n_bins;
  c.n_groups = 2;
  c.layers_f = c.layers_t = c.layers_d = 1;
  c.heads_f = c.heads_t = c.heads_d = 1;
  c.ff_mult = 1;
  c.context = 4;
  c.lookahead = lookahead;
  size_t n_floats = 0;
  student_layout(&c, NULL, &n_floats);
  float *params = malloc(n_floats * sizeof *params);
  model_writer *w = model_writer_create();
  chordlet_error err;
  if (!params || !w) goto fail;
  student_init(&c, params, seed);
  if (student_write(w, &c, params, &err) || cqt_params_write(&fe, w, &err) || tuning_params_write(&tp, w, &err) ||
      model_writer_set_str(w, MK_ARCHITECTURE, ARCH_STUDENT_2E1D, &err) ||
      model_writer_set_str(w, MK_NAME, lookahead > 1 ? "tiny-offline" : "tiny-live", &err) ||
      model_writer_set_str(w, MK_FRONTEND_KIND, FRONTEND_STREAM_CQT, &err) ||
      model_writer_set_i64(w, MK_STREAMABLE, lookahead <= 1, &err) ||
      model_writer_set_str(w, MK_DECODER_KIND, "viterbi", &err) ||
      model_writer_set_f64(w, MK_DECODER_PENALTY, 5.0, &err))
    goto fail;
  free(params);
  return w;
fail:
  free(params);
  model_writer_free(w);
  return NULL;
}

model_writer *fuzz_teacher_metadata(void) {
  /* Four decoder states (N, then three chords), six head indices each. */
  static const int32_t heads[4 * 6] = {0, 0, -1, -1, -1, -1, 13, 11, 0, 0, 0, 0,
                                       2, 1, -1, -1, -1, -1, 40, 8, 2, -1, -1, -1};
  model_writer *w = model_writer_create();
  chordlet_error err;
  if (!w) return NULL;
  if (model_writer_set_str(w, MK_ARCHITECTURE, ARCH_TEACHER, &err) ||
      model_writer_set_str(w, MK_NAME, "teacher", &err) || model_writer_set_i64(w, MK_STREAMABLE, 0, &err) ||
      model_writer_set_i64(w, MK_TEACHER_N_FOLDS, 1, &err) || import_teacher_write_frontend(w, &err) ||
      model_writer_set_str(w, MK_DECODER_KIND, "viterbi", &err) ||
      model_writer_set_f64(w, MK_DECODER_PENALTY, 30.0, &err) ||
      model_writer_set_str(w, MK_DECODER_STATE_NAMES, "N\nC:min/b7\nD\nE:7/3", &err) ||
      model_writer_set_i32_array(w, MK_DECODER_STATE_HEADS, heads, 4 * 6, &err)) {
    model_writer_free(w);
    return NULL;
  }
  return w;
}

int fuzz_save(const model_writer *w, const char *path) {
  chordlet_error err;
  uint8_t *bytes = NULL;
  size_t n = 0;
  if (!w || model_writer_serialize(w, &bytes, &n, &err)) return -1;
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(bytes, 1, n, f) == n;
  if (f && fclose(f) != 0) ok = 0;
  free(bytes);
  return ok ? 0 : -1;
}
