/* inputs.c: see inputs.h. */
#define _POSIX_C_SOURCE 200809L
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_key.h"
#include "worker_pool.h"

static int add_path(input_list *l, const char *path) {
  if (l->n >= INPUTS_MAX) return -1;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    char **p = realloc(l->paths, cap * sizeof *p);
    if (!p) return -1;
    l->paths = p;
    l->cap = cap;
  }
  l->paths[l->n] = strdup(path);
  return l->paths[l->n++] ? 0 : -1;
}

static bool is_audio_name(const char *name) {
  static const char *const ext[] = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", NULL};
  const char *dot = strrchr(name, '.');
  for (int i = 0; dot && ext[i]; i++)
    if (strcasecmp(dot, ext[i]) == 0) return true;
  return false;
}

/* One line of a list into buf (size bytes, NUL-terminated, its line end
 * kept): 1, or 0 at the end of the file, -1 for a NUL byte, -2 for a line
 * that does not fit. Not fgets: it cuts a long line in two and stops at a
 * NUL byte without saying so, and the rest of the line would be read as
 * another path (found by fuzz/fuzz_inputs.c). */
static int read_line(FILE *f, char *buf, size_t size) {
  size_t n = 0;
  int c;
  while ((c = getc(f)) != EOF) {
    if (c == '\0') return -1;
    if (n + 1 == size) return -2;
    buf[n++] = (char)c;
    if (c == '\n') break;
  }
  buf[n] = '\0';
  return n > 0 ? 1 : 0;
}

static int compare_paths(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int inputs_collect(const char *input, input_list *jobs, const char *program) {
  struct stat st;
  if (stat(input, &st) != 0) {
    fprintf(stderr, "%s: cannot read '%s': %s\n", program, input, strerror(errno));
    return -1;
  }
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(input);
    if (!d) {
      fprintf(stderr, "%s: cannot list '%s': %s\n", program, input, strerror(errno));
      return -1;
    }
    size_t first = jobs->n;
    struct dirent *e;
    int status = 0;
    while (status == 0 && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.' || !is_audio_name(e->d_name)) continue;
      char path[4096];
      int k = snprintf(path, sizeof path, "%s/%s", input, e->d_name);
      status = (k > 0 && (size_t)k < sizeof path) ? add_path(jobs, path) : -1;
    }
    closedir(d);
    qsort(jobs->paths + first, jobs->n - first, sizeof *jobs->paths, compare_paths);
    return status;
  }
  size_t len = strlen(input);
  if (len > 4 && strcmp(input + len - 4, ".txt") == 0) {
    FILE *f = fopen(input, "r");
    if (!f) {
      fprintf(stderr, "%s: cannot open list '%s': %s\n", program, input, strerror(errno));
      return -1;
    }
    char line[INPUTS_MAX_LINE + 1];
    int status = 0, n = 0, got;
    while (status == 0 && (got = read_line(f, line, sizeof line)) != 0) {
      n++;
      if (got < 0) {
        fprintf(stderr, "%s: %s:%d: %s: not a list of paths\n", program, input, n,
                got == -1 ? "a NUL byte" : "line too long");
        status = -1;
        break;
      }
      line[strcspn(line, "\r\n")] = '\0';
      if (!line[0] || line[0] == '#') continue;
      if (stat(line, &st) != 0) {
        fprintf(stderr, "%s: %s:%d: cannot read '%s': %s\n", program, input, n, line, strerror(errno));
        status = -1;
      } else {
        status = add_path(jobs, line);
      }
    }
    fclose(f);
    return status;
  }
  return add_path(jobs, input);
}


void inputs_free(input_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->paths[i]);
  free(l->paths);
  l->paths = NULL;
  l->n = l->cap = 0;
}

void batch_options_init(batch_options *o) {
  memset(o, 0, sizeof *o);
  o->model = "models/teacher.chordlet";
  o->jobs = sysconf(_SC_NPROCESSORS_ONLN);
  if (o->jobs < 1) o->jobs = 1;
}

int batch_options_arg(int argc, char **argv, int *i, batch_options *o, const char *program) {
  const char *a = argv[*i];
  bool value = *i + 1 < argc;
  if (!strcmp(a, "--out") && value) {
    o->out_dir = argv[++*i];
  } else if (!strcmp(a, "--model") && value) {
    o->model = argv[++*i];
  } else if (!strcmp(a, "--folds") && value) {
    o->n_folds = atoi(argv[++*i]);
    if (o->n_folds < 1 || o->n_folds > 16) {
      fprintf(stderr, "%s: --folds must be 1 to 16\n", program);
      return BATCH_ARG_BAD_VALUE;
    }
  } else if (!strcmp(a, "--jobs") && value) {
    o->jobs = atol(argv[++*i]);
    if (o->jobs < 1 || o->jobs > POOL_MAX_WORKERS) {
      fprintf(stderr, "%s: --jobs must be 1 to %d\n", program, POOL_MAX_WORKERS);
      return BATCH_ARG_BAD_VALUE;
    }
  } else if (a[0] == '-') {
    return BATCH_ARG_NOT_MINE;
  } else if (inputs_collect(a, &o->inputs, program)) {
    return BATCH_ARG_BAD_INPUT;
  }
  return BATCH_ARG_TAKEN;
}

int batch_options_finish(batch_options *o, const char *program) {
  if (!o->out_dir || o->inputs.n == 0) {
    fprintf(stderr, "%s: %s\n\n", program, o->out_dir ? "no audio given" : "--out DIR is required");
    return -1;
  }
  if (cache_make_dir(o->out_dir) != 0) {
    fprintf(stderr, "%s: cannot create %s: %s\n", program, o->out_dir, strerror(errno));
    return -2;
  }
  return 0;
}

void batch_options_free(batch_options *o) { inputs_free(&o->inputs); }
