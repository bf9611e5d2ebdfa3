/* npy_file.c: see npy_file.h. The format:
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html */
#define _POSIX_C_SOURCE 200809L
#include "npy_file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "error.h"

static const char MAGIC[6] = {(char)0x93, 'N', 'U', 'M', 'P', 'Y'};
enum { HEADER_MAX = 4096, MAX_ELEMENTS = 1 << 28 /* 1 GB of floats: no fingerprint is near */ };

static int little_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

chordlet_status npy_write_f32(const char *path, const float *data, size_t rows, size_t cols, chordlet_error *err) {
  if (!little_endian()) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "%s: .npy writing needs a little-endian machine", path);
  char dict[256];
  int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", rows, cols);
  if (k < 0 || (size_t)k >= sizeof dict - 80)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "%s: shape too large", path);
  /* NumPy pads the header with spaces and a newline to a multiple of 64 bytes
   * (magic 6 + version 2 + length 2 + header) */
  size_t total = 10 + (size_t)k + 1;
  size_t padded = (total + 63) / 64 * 64;
  memset(dict + k, ' ', padded - total);
  dict[padded - 10 - 1] = '\n';
  const size_t header_len = padded - 10;
  unsigned char pre[10];
  memcpy(pre, MAGIC, 6);
  pre[6] = 1, pre[7] = 0;
  pre[8] = (unsigned char)(header_len & 0xff), pre[9] = (unsigned char)(header_len >> 8);
  atomic_file f;
  chordlet_status st = atomic_file_open(&f, path, err);
  if (st) return st;
  fwrite(pre, 1, sizeof pre, f.stream);
  fwrite(dict, 1, header_len, f.stream);
  if (rows && cols) fwrite(data, sizeof *data, rows * cols, f.stream);
  return atomic_file_commit(&f, err); /* checks every write's error state */
}

/* The value after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *dict, const char *key) {
  const char *p = strstr(dict, key);
  if (!p) return NULL;
  p += strlen(key);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

static chordlet_status parse_header(const char *path, const char *dict, int *fortran, size_t *rows, size_t *cols,
                                    chordlet_error *err) {
  const char *descr = dict_value(dict, "'descr'"), *order = dict_value(dict, "'fortran_order'"),
             *shape = dict_value(dict, "'shape'");
  if (!descr || !order || !shape) return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: not a .npy header", path);
  if (strncmp(descr, "'<f4'", 5) != 0)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: not little-endian float32 data", path);
  if (!strncmp(order, "True", 4))
    *fortran = 1;
  else if (!strncmp(order, "False", 5))
    *fortran = 0;
  else
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: bad fortran_order", path);
  if (*shape != '(') return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: bad shape", path);
  size_t dims[2];
  int n = 0;
  const char *p = shape + 1;
  for (;;) {
    while (*p == ' ') p++;
    if (*p == ')') break;
    if (*p < '0' || *p > '9' || n == 2) return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: bad shape", path);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || v > MAX_ELEMENTS) return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: absurd shape", path);
    dims[n++] = (size_t)v;
    p = end;
    while (*p == ' ') p++;
    if (*p == ',') p++;
  }
  if (n == 0) return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: a scalar, not a matrix", path);
  *rows = n == 2 ? dims[0] : 1;
  *cols = n == 2 ? dims[1] : dims[0];
  if (*cols && *rows > MAX_ELEMENTS / *cols) return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: absurd shape", path);
  return CHORDLET_OK;
}

chordlet_status npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols, chordlet_error *err) {
  *data = NULL;
  *rows = *cols = 0;
  if (!little_endian()) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "%s: .npy reading needs a little-endian machine", path);
  FILE *f = fopen(path, "rb");
  if (!f) return chordlet_fail(err, CHORDLET_ERR_IO, "cannot read %s: %s", path, strerror(errno));
  unsigned char pre[10];
  char dict[HEADER_MAX + 1];
  chordlet_status st = CHORDLET_OK;
  size_t header_len = 0;
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, MAGIC, 6) != 0 || pre[6] != 1)
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: not a .npy file (format 1.0)", path);
  else if ((header_len = (size_t)pre[8] | (size_t)pre[9] << 8) > HEADER_MAX || fread(dict, 1, header_len, f) != header_len)
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: a truncated .npy header", path);
  int fortran = 0;
  if (!st) {
    dict[header_len] = '\0';
    st = parse_header(path, dict, &fortran, rows, cols, err);
  }
  const size_t n = *rows * *cols;
  float *raw = NULL, *out = NULL;
  if (!st) {
    raw = malloc((n ? n : 1) * sizeof *raw);
    out = malloc((n ? n : 1) * sizeof *out);
    if (!raw || !out) st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", path);
  }
  if (!st && (fread(raw, sizeof *raw, n, f) != n || fgetc(f) != EOF))
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: its size does not match its shape (%zu x %zu)", path, *rows,
                       *cols);
  fclose(f);
  if (st) {
    free(raw);
    free(out);
    *rows = *cols = 0;
    return st;
  }
  for (size_t r = 0; r < *rows; r++) /* Fortran order: column after column */
    for (size_t c = 0; c < *cols; c++) out[r * *cols + c] = fortran ? raw[c * *rows + r] : raw[r * *cols + c];
  free(raw);
  *data = out;
  return CHORDLET_OK;
}
