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
    char line[4096];
    int status = 0, n = 0;
    while (status == 0 && fgets(line, sizeof line, f)) {
      n++;
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
