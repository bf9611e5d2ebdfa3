/*
 * fuzz_model.c: the .chordlet model loader (engine/modelfile.h) and what is
 * bound from a loaded file: a student (engine/student.h: config, the check of
 * its tensors, its parameters), the front end's and the tuning estimator's
 * settings, and the recognizer (engine/recognizer.h: student or teacher) and
 * the live API's model (chordlet_model_load) from the same bytes as a file.
 *
 * Random bytes rarely carry a valid CRC-32 and file size, so each input is
 * parsed twice: as it is (the checks of the header and the checksum), then
 * with the size field (offset 56) and the CRC (the last 4 bytes) made right,
 * which lets the fuzzer reach the sections, the metadata and the binding.
 *
 * A teacher needs 1.9 MB of tensors per fold, far beyond any fuzz input: when
 * the repaired input is a one-fold teacher, its metadata is copied into a new
 * file with a fold of zero weights of the right shapes (teacher_tensor_info),
 * so the recognizer binds the fold and reads the front end and the decoder's
 * state table from the fuzzed metadata.
 *
 * Memory must stay bounded by the input: a file that claims a huge student is
 * refused for the tensors it lacks before anything of its claimed size is
 * allocated (student_check_params); run with -rss_limit_mb, which also caps
 * single allocations (-malloc_limit_mb defaults to it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "chordlet.h"
#include "cqt.h"
#include "fuzz_util.h"
#include "model_keys.h"
#include "modelfile.h"
#include "recognizer.h"
#include "student.h"
#include "teacher.h"
#include "tuning.h"

#define FAIL(...) fuzz_fail("fuzz_model", __VA_ARGS__)

enum { HEADER_BYTES = 64, SIZE_FIELD = 56 };

static volatile float sink; /* keeps the reads of tensor data */

/* Everything a caller can read from a loaded file, read (ASan checks the bounds). */
static void walk(const model_file *m) {
  for (size_t i = 0; i < model_file_n_meta(m); i++) {
    const model_meta *e = model_file_meta_at(m, i);
    if (!e || !e->key || !strlen(e->key)) FAIL("metadata entry %zu has no key", i);
    if (e->type == MODEL_META_STR && strlen(e->str) != e->count) FAIL("string '%s' is not its count long", e->key);
    if (e->type == MODEL_META_I32_ARRAY && e->count) sink += (float)e->i32[0] + (float)e->i32[e->count - 1];
  }
  for (size_t i = 0; i < model_file_n_tensors(m); i++) {
    const model_tensor *t = model_file_tensor_at(m, i);
    if (!t || model_file_tensor(m, t->name) != t) FAIL("tensor %zu is not found by its name", i);
    sink += t->data[0] + t->data[t->n_elements - 1];
  }
}

/* A student bound as the trainer and the tools bind it. */
static void bind_student(const model_file *m) {
  student_config c;
  chordlet_error err;
  if (student_config_read(m, &c, &err)) return;
  cqt_params fe;
  if (!cqt_params_read(m, &fe, &err)) (void)student_is_streamable(&c, fe.hop_seconds);
  tuning_params tp;
  (void)tuning_params_read(m, &tp, &err);
  (void)tuning_params_present(m);
  if (student_check_params(m, &c, &err)) return;
  size_t n_floats = 0;
  student_layout(&c, NULL, &n_floats);
  /* Checked: every tensor is in the file, so each is at most the file's size
   * (tensors may share bytes: the loader does not forbid overlaps, so the sum
   * is bounded by the layout's tensor count times the file, not the file). */
  if (n_floats * sizeof(float) > (size_t)STUDENT_MAX_PARAMS * (model_file_size(m) + 64))
    FAIL("%zu floats claimed by a %zu-byte file passed the check", n_floats, model_file_size(m));
  float *params = malloc(n_floats * sizeof *params);
  if (!params) return;
  (void)student_read_params(m, &c, params, &err); /* may still refuse non-finite weights */
  free(params);
}

/* The recognizer and the live API from a file. */
static void load_from(const char *path) {
  recognizer *r = NULL;
  chordlet_error err;
  if (!recognizer_load(path, &r, &err)) {
    (void)recognizer_sample_rate(r);
    (void)recognizer_frame_seconds(r);
    (void)strlen(recognizer_name(r));
    recognizer_free(r);
  }
  chordlet_model *model = NULL;
  if (!chordlet_model_load(path, &model, &err)) {
    (void)strlen(chordlet_model_name(model));
    chordlet_model_free(model);
  }
}

/* A teacher's metadata plus one fold of zeros, loaded as the recognizer loads it. */
static void bind_teacher(const model_file *m) {
  static float *zeros;
  if (!zeros && !(zeros = calloc(TEACHER_FOLD_FLOATS, sizeof *zeros))) return;
  const char *arch;
  int64_t n_folds;
  chordlet_error err;
  if (model_file_get_str(m, MK_ARCHITECTURE, &arch, &err) || strcmp(arch, ARCH_TEACHER) != 0 ||
      model_file_get_i64(m, MK_TEACHER_N_FOLDS, &n_folds, &err) || n_folds != 1)
    return;
  model_writer *w = model_writer_create();
  chordlet_status st = w ? CHORDLET_OK : CHORDLET_ERR_NO_MEMORY;
  for (size_t i = 0; !st && i < model_file_n_meta(m); i++) {
    const model_meta *k = model_file_meta_at(m, i);
    switch (k->type) {
    case MODEL_META_I64: st = model_writer_set_i64(w, k->key, k->i64, &err); break;
    case MODEL_META_F64: st = model_writer_set_f64(w, k->key, k->f64, &err); break;
    case MODEL_META_STR: st = model_writer_set_str(w, k->key, k->str, &err); break;
    case MODEL_META_I32_ARRAY: st = model_writer_set_i32_array(w, k->key, k->i32, k->count, &err); break;
    }
  }
  for (int k = 0; !st && k < TEACHER_N_TENSORS; k++) {
    const char *name;
    int ndim, shape[4];
    size_t offset;
    teacher_tensor_info(k, &name, &ndim, shape, &offset);
    int64_t dims[4];
    for (int d = 0; d < ndim; d++) dims[d] = shape[d];
    char full[MODEL_MAX_NAME + 1];
    snprintf(full, sizeof full, TEACHER_TENSOR_PREFIX "%s", 0, name);
    st = model_writer_add_tensor(w, full, ndim, dims, zeros, &err);
  }
  char path[1024];
  if (!st && !fuzz_save(w, fuzz_path("teacher.chordlet", path, sizeof path))) load_from(path);
  model_writer_free(w);
}

static void try_bytes(const uint8_t *bytes, size_t n, int repaired) {
  model_file *m = NULL;
  chordlet_error err;
  if (model_file_parse(bytes, n, "fuzz.chordlet", &m, &err)) {
    if (!err.message[0]) FAIL("a refused file has no message");
    return;
  }
  (void)model_file_version(m);
  walk(m);
  bind_student(m);
  if (repaired) {
    load_from(fuzz_write("in.chordlet", bytes, n));
    bind_teacher(m);
  }
  model_file_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try_bytes(data, size, 0);
  if (size < HEADER_BYTES + 4) return 0;
  uint8_t *fixed = malloc(size);
  if (!fixed) return 0;
  memcpy(fixed, data, size);
  const uint64_t n = size;
  memcpy(fixed + SIZE_FIELD, &n, 8); /* little-endian hosts only, as the format */
  const uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(size - 4));
  memcpy(fixed + size - 4, &crc, 4);
  try_bytes(fixed, size, 1);
  free(fixed);
  return 0;
}
