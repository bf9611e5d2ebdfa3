/*
 * fuzz_import_manifest.c: the teacher importer's JSON (trainer/import_teacher.h):
 * manifest.json (the folds, their blobs' sizes, every tensor's name, shape,
 * dtype and offset) and chord_lists/decoder_states.json (the decoder's
 * states and head indices), read by the code `chordlet-train import-teacher`
 * runs, from memory instead of a folder.
 *
 * Input: an option byte (bits 0-1: --fold none, 0, 1, 2; bits 2-3: --folds
 * 16, 1, 2, 5; bits 4-5: the chord list: submission, ismir2017, extended, a
 * missing one), then manifest.json; after a NUL byte, if there is one,
 * decoder_states.json (else a small valid one). Every file whose name ends
 * in ".f32" is a blob of BLOB_BYTES bytes (so "nbytes": 4096 matches); LICENSE
 * is a line of text; other names do not exist.
 *
 * What the importer accepts must be a model file the engine loads: the
 * writer's output is parsed back (model_file_parse) and its fold count read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "import_teacher.h"
#include "model_keys.h"
#include "modelfile.h"

#define FAIL(...) fuzz_fail("fuzz_import_manifest", __VA_ARGS__)

enum { BLOB_BYTES = 4096 };

static const char default_states[] =
    "{\"submission\": [[\"N\", 0, 0, -1, -1, -1, -1], [\"C:min/b7\", 13, 11, 0, 0, 0, 0], [\"D\", 2, 3, -1, -1, -1, "
    "-1]], \"ismir2017\": [[\"N\", 0, 0, -1, -1, -1, -1], [\"C\", 1, 1, -1, -1, -1, -1]]}";

typedef struct files {
  const char *manifest, *states;
  size_t manifest_n, states_n;
} files;

static char *copy(const char *bytes, size_t n, size_t *out_n) {
  char *p = malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, bytes, n);
  p[n] = '\0';
  *out_n = n;
  return p;
}

/* import_read_fn over the input. */
static char *read_input(void *ctx, const char *name, size_t *n, size_t limit) {
  const files *f = ctx;
  static const char license[] = "MIT, for the fuzzer\n";
  size_t len = strlen(name);
  if (!strcmp(name, "manifest.json") && f->manifest_n <= limit) return copy(f->manifest, f->manifest_n, n);
  if (!strcmp(name, "chord_lists/decoder_states.json") && f->states_n <= limit) return copy(f->states, f->states_n, n);
  if (!strcmp(name, "LICENSE")) return copy(license, sizeof license - 1, n);
  if (len >= 4 && !strcmp(name + len - 4, ".f32")) {
    char *blob = calloc(1, BLOB_BYTES + 1);
    if (blob) *n = BLOB_BYTES;
    return blob;
  }
  fprintf(stderr, "chordlet-train import-teacher: cannot open %s\n", name);
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const char *const vocabularies[4] = {"submission", "ismir2017", "extended", "none-such"};
  static const int fold_counts[4] = {16, 1, 2, 5};
  const uint8_t options = data[0];
  const int only_fold = (options & 3) - 1, max_folds = fold_counts[(options >> 2) & 3];
  const char *vocabulary = vocabularies[(options >> 4) & 3];
  const char *text = (const char *)data + 1;
  const size_t n = size - 1;
  const char *nul = memchr(text, '\0', n);
  files f = {text, default_states, n, sizeof default_states - 1};
  if (nul) {
    f.manifest_n = (size_t)(nul - text);
    f.states = nul + 1;
    f.states_n = n - f.manifest_n - 1;
  }
  const import_source src = {"fuzz-teacher", read_input, &f};
  model_writer *w = model_writer_create();
  if (!w) return 0;
  int n_folds = 0;
  size_t n_states = 0;
  if (import_teacher_fill(&src, vocabulary, max_folds, only_fold, w, &n_folds, &n_states) == 0) {
    if (n_folds < 1 || n_folds > max_folds || n_states < 1) FAIL("%d folds, %zu states accepted", n_folds, n_states);
    uint8_t *bytes = NULL;
    size_t nb = 0;
    chordlet_error err;
    if (model_writer_serialize(w, &bytes, &nb, &err)) FAIL("the accepted teacher does not serialise: %s", err.message);
    model_file *m = NULL;
    int64_t folds = 0;
    if (model_file_parse(bytes, nb, "imported.chordlet", &m, &err) ||
        model_file_get_i64(m, MK_TEACHER_N_FOLDS, &folds, &err) || folds != n_folds)
      FAIL("the importer wrote a model the engine does not load: %s", err.message);
    model_file_free(m);
    free(bytes);
  }
  model_writer_free(w);
  return 0;
}
