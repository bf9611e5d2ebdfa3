/* model_paths.c: finding shipped models from the running binary's location. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "model_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The folder of the running executable (Linux: /proc/self/exe). */
static int exe_dir(char *out, size_t size) {
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  if (n <= 0) return -1;
  out[n] = '\0';
  char *slash = strrchr(out, '/');
  if (!slash) return -1;
  *slash = '\0';
  return 0;
}

int model_path_resolve(const char *name, char *out, size_t out_size) {
  if (is_file(name)) {
    snprintf(out, out_size, "%s", name);
    return 0;
  }
  /* A name, not a path: search the model folders, most specific first. */
  char dirs[5][2048];
  int n_dirs = 0;
  const char *env = getenv("CHORDLET_MODELS");
  if (env && *env && strlen(env) < sizeof dirs[0]) snprintf(dirs[n_dirs++], sizeof dirs[0], "%s", env);
  char exe[1024];
  if (exe_dir(exe, sizeof exe) == 0) {
    /* a source checkout: build/chordlet or build/asan/chordlet, models/ at the top */
    snprintf(dirs[n_dirs++], sizeof dirs[0], "%s/../models", exe);
    snprintf(dirs[n_dirs++], sizeof dirs[0], "%s/../../models", exe);
    /* an installed binary: $prefix/bin/chordlet */
    snprintf(dirs[n_dirs++], sizeof dirs[0], "%s/../share/chordlet/models", exe);
  }
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < n_dirs; i++) {
    char candidate[4096];
    int k = snprintf(candidate, sizeof candidate, "%s/%s.chordlet", dirs[i], name);
    if (k > 0 && (size_t)k < sizeof candidate && is_file(candidate)) {
      char *canonical = realpath(candidate, NULL); /* a readable path for messages */
      snprintf(out, out_size, "%s", canonical ? canonical : candidate);
      free(canonical);
      return 0;
    }
  }
  for (int i = 0; i < n_dirs; i++) {
    int k = snprintf(out + used, out_size - used, "%s%s", used ? ", " : "", dirs[i]);
    if (k > 0 && (size_t)k < out_size - used) used += (size_t)k;
  }
  return -1;
}
