/* cmd_info.c: `chordlet info MODEL`: what a model file holds. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "model_paths.h"
#include "modelfile.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet info [--tensors] MODEL\n"
          "\n"
          "Prints a model file's metadata (architecture, front end, decoder, licence,\n"
          "provenance) and a summary of its tensors. MODEL is a .chordlet file, or the\n"
          "name of a shipped model: teacher, default.\n"
          "  --tensors   list every tensor with its shape\n");
}

/* Strings such as the licence run to many lines: show the first few,
 * indented under the key. */
static void print_string(const char *key, const char *s) {
  enum { SHOWN_LINES = 3 };
  int lines = 1, line = 0;
  for (const char *p = s; *p; p++) lines += *p == '\n';
  printf("  %-28s ", key);
  for (const char *p = s; *p && line < SHOWN_LINES; p++) {
    if (*p == '\n') {
      if (++line < SHOWN_LINES) printf("\n  %-28s ", "");
    } else {
      putchar(*p);
    }
  }
  if (lines > SHOWN_LINES) printf("\n  %-28s [... %d lines in all]", "", lines);
  putchar('\n');
}

int cmd_info(int argc, char **argv) {
  const char *name = NULL;
  bool list_tensors = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return EXIT_OK;
    }
    if (strcmp(argv[i], "--tensors") == 0) list_tensors = true;
    else if (argv[i][0] == '-') {
      fprintf(stderr, "chordlet info: unknown option '%s'\n\n", argv[i]);
      usage(stderr);
      return EXIT_USAGE;
    } else if (!name) name = argv[i];
    else {
      usage(stderr);
      return EXIT_USAGE;
    }
  }
  if (!name) {
    usage(stderr);
    return EXIT_USAGE;
  }
  char path[4096];
  if (model_path_resolve(name, path, sizeof path) != 0) {
    fprintf(stderr, "chordlet info: no model '%s' (not a file, nor a shipped model in %s)\n", name, path);
    return EXIT_DATA;
  }
  model_file *m;
  chordlet_error err;
  if (model_file_load(path, &m, &err)) {
    fprintf(stderr, "chordlet info: %s\n", err.message);
    return EXIT_DATA;
  }
  printf("%s\n  %-28s %u\n  %-28s %zu bytes\n", path, "format version", model_file_version(m), "size",
         model_file_size(m));
  printf("metadata:\n");
  for (size_t i = 0; i < model_file_n_meta(m); i++) {
    const model_meta *e = model_file_meta_at(m, i);
    switch (e->type) {
    case MODEL_META_I64: printf("  %-28s %lld\n", e->key, (long long)e->i64); break;
    case MODEL_META_F64: printf("  %-28s %.17g\n", e->key, e->f64); break;
    case MODEL_META_STR: print_string(e->key, e->str); break;
    case MODEL_META_I32_ARRAY: printf("  %-28s [%zu integers]\n", e->key, e->count); break;
    }
  }
  size_t params = 0;
  for (size_t i = 0; i < model_file_n_tensors(m); i++) params += model_file_tensor_at(m, i)->n_elements;
  printf("tensors: %zu, %zu parameters (float32)\n", model_file_n_tensors(m), params);
  for (size_t i = 0; list_tensors && i < model_file_n_tensors(m); i++) {
    const model_tensor *t = model_file_tensor_at(m, i);
    printf("  %-40s ", t->name);
    for (int d = 0; d < t->ndim; d++) printf("%s%lld", d ? "x" : "", (long long)t->dims[d]);
    printf("\n");
  }
  model_file_free(m);
  return EXIT_OK;
}
