/* test_modelfile.c: the .chordlet format: round trip, and every kind of
 * damage rejected with a clear message (never a crash: this also runs under
 * ASan+UBSan). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "modelfile.h"

static model_writer *small_model(void) {
  model_writer *w = model_writer_create();
  float a[2 * 3] = {1, 2, 3, 4, 5, 6}, b[5] = {-1, 0.5f, 1e-30f, 3, 7};
  int64_t da[2] = {2, 3}, db[1] = {5};
  int32_t states[4] = {0, -1, 7, 42};
  model_writer_set_str(w, "architecture", "test-net", NULL);
  model_writer_set_i64(w, "n_folds", 5, NULL);
  model_writer_set_f64(w, "frontend.fmin", 23.124651419477154, NULL);
  model_writer_set_i32_array(w, "decoder.states", states, 4, NULL);
  model_writer_set_str(w, "license", "MIT\nline two", NULL);
  model_writer_add_tensor(w, "layer.weight", 2, da, a, NULL);
  model_writer_add_tensor(w, "layer.bias", 1, db, b, NULL);
  return w;
}

static void restamp_crc(uint8_t *bytes, size_t n) {
  uint32_t crc = (uint32_t)crc32(0L, bytes, (uInt)(n - 4));
  memcpy(bytes + n - 4, &crc, 4);
}

static void expect_reject(const char *what, const uint8_t *bytes, size_t n, const char *needle) {
  model_file *m = NULL;
  chordlet_error err = {0};
  chordlet_status st = model_file_parse(bytes, n, "damaged.chordlet", &m, &err);
  CHECK(st != CHORDLET_OK && m == NULL, "%s: must be rejected", what);
  CHECK(strstr(err.message, needle) != NULL, "%s: message should contain '%s': %s", what, needle, err.message);
  CHECK(strstr(err.message, "damaged.chordlet") != NULL, "%s: message should name the file: %s", what, err.message);
  model_file_free(m);
}

int main(void) {
  model_writer *w = small_model();
  uint8_t *bytes;
  size_t n;
  chordlet_error err = {0};
  CHECK(model_writer_serialize(w, &bytes, &n, &err) == CHORDLET_OK, "serialize: %s", err.message);

  /* Round trip. */
  model_file *m = NULL;
  CHECK(model_file_parse(bytes, n, "ok.chordlet", &m, &err) == CHORDLET_OK, "parse: %s", err.message);
  if (m) {
    const char *s;
    int64_t i;
    double f;
    const int32_t *arr;
    size_t count;
    CHECK(model_file_get_str(m, "architecture", &s, &err) == CHORDLET_OK && strcmp(s, "test-net") == 0, "string");
    CHECK(model_file_get_str(m, "license", &s, &err) == CHORDLET_OK && strcmp(s, "MIT\nline two") == 0, "multi-line string");
    CHECK(model_file_get_i64(m, "n_folds", &i, &err) == CHORDLET_OK && i == 5, "i64");
    CHECK(model_file_get_f64(m, "frontend.fmin", &f, &err) == CHORDLET_OK && f == 23.124651419477154, "f64 exact");
    CHECK(model_file_get_i32_array(m, "decoder.states", &arr, &count, &err) == CHORDLET_OK && count == 4 &&
              arr[1] == -1 && arr[3] == 42, "i32 array");
    CHECK(model_file_get_i64(m, "architecture", &i, &err) != CHORDLET_OK && strstr(err.message, "is a string"),
          "type mismatch reported: %s", err.message);
    CHECK(model_file_get_i64(m, "missing", &i, &err) != CHORDLET_OK && strstr(err.message, "'missing' is missing"),
          "missing key reported: %s", err.message);
    CHECK(model_file_n_tensors(m) == 2, "two tensors");
    const model_tensor *t = model_file_tensor(m, "layer.bias");
    CHECK(t && t->ndim == 1 && t->dims[0] == 5 && t->data[2] == 1e-30f && t->data[4] == 7, "tensor data");
    CHECK(t && ((uintptr_t)t->data % 64) == 0, "tensor data is 64-byte aligned");
    const float *data;
    int good_shape[2] = {2, 3}, bad_shape[2] = {3, 2};
    CHECK(model_file_expect_tensor(m, "layer.weight", 2, good_shape, &data, &err) == CHORDLET_OK && data[5] == 6,
          "expected shape: %s", err.message);
    CHECK(model_file_expect_tensor(m, "layer.weight", 2, bad_shape, &data, &err) != CHORDLET_OK &&
              strstr(err.message, "has shape 2x3, expected 3x2"), "shape mismatch: %s", err.message);
    CHECK(model_file_expect_tensor(m, "nope", 1, good_shape, &data, &err) != CHORDLET_OK &&
              strstr(err.message, "'nope' is missing"), "missing tensor: %s", err.message);
  }
  model_file_free(m);

  /* Save atomically and load from disk. */
  char path[] = "/tmp/chordlet_test_model_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  close(fd);
  CHECK(model_writer_save(w, path, &err) == CHORDLET_OK, "save: %s", err.message);
  CHECK(model_file_load(path, &m, &err) == CHORDLET_OK, "load: %s", err.message);
  model_file_free(m);
  unlink(path);
  CHECK(model_file_load(path, &m, &err) == CHORDLET_ERR_IO && strstr(err.message, "cannot open"), "missing file: %s", err.message);

  /* Damage, one kind at a time. */
  uint8_t *copy = malloc(n);
  memcpy(copy, bytes, n);
  copy[0] = 'X';
  expect_reject("wrong magic", copy, n, "no CHLT magic");

  memcpy(copy, bytes, n);
  copy[4] = 2;
  restamp_crc(copy, n);
  expect_reject("newer version", copy, n, "made by a newer chordlet");
  copy[4] = 0;
  expect_reject("version 0", copy, n, "format version 0");

  expect_reject("truncated by one byte", bytes, n - 1, "truncated");
  expect_reject("truncated to the header", bytes, 40, "too short");
  expect_reject("empty", bytes, 0, "too short");

  memcpy(copy, bytes, n);
  copy[n - 10] ^= 0x10; /* a bit in the blob */
  expect_reject("bit flip in the data", copy, n, "checksum mismatch");

  /* Every single-bit flip is caught, wherever it is. */
  int all_caught = 1;
  for (size_t i = 0; i < n; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      memcpy(copy, bytes, n);
      copy[i] ^= (uint8_t)(1u << bit);
      model_file *mm = NULL;
      if (model_file_parse(copy, n, "x", &mm, NULL) == CHORDLET_OK) all_caught = 0;
      model_file_free(mm);
    }
  }
  CHECK(all_caught, "every bit flip is rejected");

  /* Damage in the tables with a valid CRC (a buggy writer, not a bad disk)
   * exercises the structural checks: none may crash or be accepted silently
   * with out-of-range pointers. */
  for (size_t i = 8; i < n - 4; i++) {
    for (int v = 0; v < 256; v += 51) {
      memcpy(copy, bytes, n);
      copy[i] = (uint8_t)v;
      restamp_crc(copy, n);
      model_file *mm = NULL;
      if (model_file_parse(copy, n, "x", &mm, NULL) == CHORDLET_OK) {
        for (size_t k = 0; k < model_file_n_tensors(mm); k++) {
          const model_tensor *t = model_file_tensor_at(mm, k);
          volatile float last = t->data[t->n_elements - 1]; /* ASan checks the bounds */
          (void)last;
        }
      }
      model_file_free(mm);
    }
  }

  /* Every truncation is rejected. */
  int all_truncations = 1;
  for (size_t len = 0; len < n; len++) {
    model_file *mm = NULL;
    if (model_file_parse(bytes, len, "x", &mm, NULL) == CHORDLET_OK) all_truncations = 0;
    model_file_free(mm);
  }
  CHECK(all_truncations, "every truncation is rejected");

  /* The writer refuses nonsense. */
  int64_t zero[1] = {0};
  float one = 1;
  CHECK(model_writer_add_tensor(w, "z", 1, zero, &one, &err) != CHORDLET_OK, "zero dimension");
  CHECK(model_writer_add_tensor(w, "layer.bias", 1, (int64_t[]){1}, &one, &err) != CHORDLET_OK, "duplicate name");
  CHECK(model_writer_add_tensor(w, "has space", 1, (int64_t[]){1}, &one, &err) != CHORDLET_OK, "bad name");

  free(copy);
  free(bytes);
  model_writer_free(w);
  return check_summary("test_modelfile");
}
