/*
 * make_seeds.c: the seed inputs that are binary files made by the engine's own
 * writer rather than committed: `make_seeds OUT` writes OUT/model/ (a tiny live
 * student, a tiny file-mode student, a teacher's metadata: fuzz_util.h) for
 * the model harness. scripts/fuzz-seeds.sh runs it, with the audio seeds
 * (sox), at `make fuzz` and test time.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static int save(model_writer *w, const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int st = fuzz_save(w, path);
  model_writer_free(w);
  if (st) fprintf(stderr, "make_seeds: cannot write %s\n", path);
  return st;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds OUT\n");
    return 2;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/model", argv[1]);
  if ((mkdir(argv[1], 0777) && errno != EEXIST) || (mkdir(dir, 0777) && errno != EEXIST)) {
    fprintf(stderr, "make_seeds: cannot create %s: %s\n", dir, strerror(errno));
    return 1;
  }
  if (save(fuzz_tiny_student(1, 1), dir, "student-live.chordlet") ||
      save(fuzz_tiny_student(8, 2), dir, "student-offline.chordlet") ||
      save(fuzz_teacher_metadata(), dir, "teacher-metadata.chordlet"))
    return 1;
  return 0;
}
