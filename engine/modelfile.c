/* modelfile.c: reading, checking and writing .chordlet model files. */
#define _POSIX_C_SOURCE 200809L
#include "modelfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "atomicfile.h"
#include "error.h"

static const char magic[4] = {'C', 'H', 'L', 'T'};
enum { HEADER_BYTES = 64, DTYPE_F32 = 1 };

struct model_file {
  char *name;
  uint32_t version;
  uint8_t *bytes; /* (size) the whole file, 64-byte aligned so tensor data is too */
  size_t size;
  model_meta *meta; /* (n_meta) */
  size_t n_meta;
  model_tensor *tensors; /* (n_tensors) */
  size_t n_tensors;
};

static int host_is_little_endian(void) {
  const uint16_t one = 1;
  uint8_t first;
  memcpy(&first, &one, 1);
  return first == 1;
}

/* ---- a bounds-checked reader over the file's bytes ---- */
typedef struct cursor {
  const uint8_t *bytes;
  size_t pos, end;
  int overrun;
} cursor;

static const uint8_t *take(cursor *c, size_t n) {
  if (c->overrun || n > c->end - c->pos) {
    c->overrun = 1;
    return NULL;
  }
  const uint8_t *p = c->bytes + c->pos;
  c->pos += n;
  return p;
}
#define READ_LE(type)                                                  \
  static type read_##type(cursor *c) {                                 \
    type v = 0;                                                        \
    const uint8_t *p = take(c, sizeof v);                              \
    if (p) memcpy(&v, p, sizeof v); /* files are little-endian */     \
    return v;                                                          \
  }
READ_LE(uint8_t)
READ_LE(uint16_t)
READ_LE(uint32_t)
READ_LE(uint64_t)
#undef READ_LE

static void free_contents(model_file *m) {
  for (size_t i = 0; i < m->n_meta; i++) {
    free((char *)m->meta[i].key);
    free((char *)m->meta[i].str);
    free((int32_t *)m->meta[i].i32);
  }
  for (size_t i = 0; i < m->n_tensors; i++) free((char *)m->tensors[i].name);
  free(m->meta);
  free(m->tensors);
  free(m->bytes);
  free(m->name);
}

void model_file_free(model_file *model) {
  if (!model) return;
  free_contents(model);
  free(model);
}

static char *copy_string(const uint8_t *p, size_t n) {
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

/* Keys and tensor names: printable ASCII, no spaces, 1..MODEL_MAX_NAME bytes. */
static int valid_name(const uint8_t *p, size_t n) {
  if (n == 0 || n > MODEL_MAX_NAME) return 0;
  for (size_t i = 0; i < n; i++)
    if (p[i] <= 0x20 || p[i] >= 0x7f) return 0;
  return 1;
}

#define BAD(...) chordlet_fail(err, CHORDLET_ERR_PARSE, __VA_ARGS__)

static chordlet_status parse_meta(model_file *m, cursor *c, uint32_t n, chordlet_error *err) {
  m->meta = calloc(n ? n : 1, sizeof *m->meta);
  if (!m->meta) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", m->name);
  for (uint32_t i = 0; i < n; i++) {
    uint16_t key_len = read_uint16_t(c);
    const uint8_t *key = take(c, key_len);
    uint8_t type = read_uint8_t(c);
    (void)read_uint8_t(c);
    uint32_t count = read_uint32_t(c);
    if (c->overrun) return BAD("%s: metadata entry %u runs past its section: the file is truncated or corrupt", m->name, i);
    if (!valid_name(key, key_len)) return BAD("%s: metadata entry %u has an invalid key", m->name, i);
    model_meta *e = &m->meta[m->n_meta];
    e->key = copy_string(key, key_len);
    if (!e->key) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", m->name);
    m->n_meta++;
    for (size_t j = 0; j + 1 < m->n_meta; j++)
      if (strcmp(m->meta[j].key, e->key) == 0) return BAD("%s: metadata key '%s' appears twice", m->name, e->key);
    e->type = (model_meta_type)type;
    e->count = count;
    const uint8_t *payload;
    switch (type) {
    case MODEL_META_I64:
    case MODEL_META_F64:
      if (count != 1) return BAD("%s: metadata '%s': a scalar must have count 1", m->name, e->key);
      payload = take(c, 8);
      if (!payload) break;
      if (type == MODEL_META_I64) memcpy(&e->i64, payload, 8);
      else memcpy(&e->f64, payload, 8);
      break;
    case MODEL_META_STR:
      payload = take(c, count);
      if (!payload) break;
      if (memchr(payload, '\0', count)) return BAD("%s: metadata '%s': a string holds a NUL byte", m->name, e->key);
      e->str = copy_string(payload, count);
      if (!e->str) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", m->name);
      break;
    case MODEL_META_I32_ARRAY:
      if (count > (c->end - c->pos) / 4) { c->overrun = 1; break; }
      payload = take(c, (size_t)count * 4);
      if (!payload) break;
      e->i32 = malloc(count ? (size_t)count * 4 : 4);
      if (!e->i32) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", m->name);
      memcpy((int32_t *)e->i32, payload, (size_t)count * 4);
      break;
    default:
      return BAD("%s: metadata '%s' has unknown type %u (made by a newer chordlet?)", m->name, e->key, type);
    }
    if (c->overrun) return BAD("%s: metadata '%s' runs past its section: the file is truncated or corrupt", m->name, e->key);
  }
  return CHORDLET_OK;
}

typedef struct byte_range {
  uint64_t begin, end;
} byte_range;

static int compare_ranges(const void *a, const void *b) {
  const byte_range *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Tensors whose data overlap would let a small file describe far more
 * parameters than it holds (each tensor may point at the same bytes), and a
 * loader then allocates for what is described. The writer lays tensors out
 * one after another, so valid files never overlap. */
static chordlet_status check_disjoint(const model_file *m, byte_range *ranges, uint32_t n, chordlet_error *err) {
  qsort(ranges, n, sizeof *ranges, compare_ranges);
  for (uint32_t i = 1; i < n; i++)
    if (ranges[i].begin < ranges[i - 1].end)
      return BAD("%s: two tensors share bytes of the data blob: the file is corrupt", m->name);
  return CHORDLET_OK;
}

static chordlet_status parse_tensor_table(model_file *m, cursor *c, uint32_t n, uint64_t blob_offset,
                                          uint64_t blob_size, byte_range *ranges, chordlet_error *err) {
  m->tensors = calloc(n ? n : 1, sizeof *m->tensors);
  if (!m->tensors) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", m->name);
  for (uint32_t i = 0; i < n; i++) {
    uint16_t name_len = read_uint16_t(c);
    const uint8_t *name = take(c, name_len);
    uint8_t ndim = read_uint8_t(c);
    uint8_t dtype = read_uint8_t(c);
    if (c->overrun) return BAD("%s: tensor entry %u runs past the table: the file is truncated or corrupt", m->name, i);
    if (!valid_name(name, name_len)) return BAD("%s: tensor %u has an invalid name", m->name, i);
    model_tensor *t = &m->tensors[m->n_tensors];
    t->name = copy_string(name, name_len);
    if (!t->name) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", m->name);
    m->n_tensors++;
    if (ndim < 1 || ndim > MODEL_MAX_DIMS) return BAD("%s: tensor '%s' has %u dimensions (1 to %d allowed)", m->name, t->name, ndim, MODEL_MAX_DIMS);
    if (dtype != DTYPE_F32) return BAD("%s: tensor '%s' has unknown data type %u", m->name, t->name, dtype);
    t->ndim = ndim;
    uint64_t elements = 1;
    for (int d = 0; d < ndim; d++) {
      uint32_t dim = read_uint32_t(c);
      if (dim == 0) return BAD("%s: tensor '%s' has a zero dimension", m->name, t->name);
      t->dims[d] = dim;
      if (elements > (MODEL_MAX_FILE_BYTES / 4) / dim) return BAD("%s: tensor '%s' is absurdly large", m->name, t->name);
      elements *= dim;
    }
    uint64_t offset = read_uint64_t(c), nbytes = read_uint64_t(c);
    if (c->overrun) return BAD("%s: tensor '%s' runs past the table: the file is truncated or corrupt", m->name, t->name);
    if (nbytes != elements * 4)
      return BAD("%s: tensor '%s' claims %llu bytes but its shape needs %llu", m->name, t->name,
                 (unsigned long long)nbytes, (unsigned long long)(elements * 4));
    if (offset % MODEL_ALIGN) return BAD("%s: tensor '%s' is not 64-byte aligned", m->name, t->name);
    if (offset > blob_size || nbytes > blob_size - offset)
      return BAD("%s: tensor '%s' lies outside the data blob", m->name, t->name);
    for (size_t j = 0; j + 1 < m->n_tensors; j++)
      if (strcmp(m->tensors[j].name, t->name) == 0) return BAD("%s: tensor '%s' appears twice", m->name, t->name);
    t->n_elements = (size_t)elements;
    t->data = (const float *)(m->bytes + blob_offset + offset);
    ranges[m->n_tensors - 1] = (byte_range){offset, offset + nbytes};
  }
  return CHORDLET_OK;
}

static chordlet_status parse_tensors(model_file *m, cursor *c, uint32_t n, uint64_t blob_offset,
                                     uint64_t blob_size, chordlet_error *err) {
  chordlet_status st = CHORDLET_OK;
  byte_range *ranges = malloc((n ? n : 1) * sizeof *ranges);
  if (!ranges) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", m->name);
  st = parse_tensor_table(m, c, n, blob_offset, blob_size, ranges, err);
  if (!st) st = check_disjoint(m, ranges, m->n_tensors, err);
  free(ranges);
  return st;
}

static chordlet_status parse_owned(model_file *m, chordlet_error *err) {
  if (!host_is_little_endian())
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "model files are little-endian; this machine is not");
  if (m->size < HEADER_BYTES + 4)
    return BAD("%s: %zu bytes is too short to be a chordlet model (truncated?)", m->name, m->size);
  if (memcmp(m->bytes, magic, 4) != 0) return BAD("%s: not a chordlet model file (no CHLT magic)", m->name);
  cursor c = {m->bytes, 4, HEADER_BYTES, 0};
  m->version = read_uint32_t(&c);
  uint32_t flags = read_uint32_t(&c), n_meta = read_uint32_t(&c), n_tensors = read_uint32_t(&c);
  (void)read_uint32_t(&c);
  uint64_t meta_offset = read_uint64_t(&c), table_offset = read_uint64_t(&c);
  uint64_t blob_offset = read_uint64_t(&c), blob_size = read_uint64_t(&c), file_size = read_uint64_t(&c);
  if (m->version != MODEL_FORMAT_VERSION)
    return BAD("%s: model format version %u; this chordlet reads version %d%s", m->name, m->version,
               MODEL_FORMAT_VERSION, m->version > MODEL_FORMAT_VERSION ? " (made by a newer chordlet)" : "");
  if (flags != 0) return BAD("%s: unknown flags 0x%x", m->name, flags);
  if (file_size != m->size)
    return BAD("%s: the header says %llu bytes but the file has %zu: %s", m->name,
               (unsigned long long)file_size, m->size, file_size > m->size ? "truncated" : "trailing data");
  uint32_t stored_crc;
  memcpy(&stored_crc, m->bytes + m->size - 4, 4);
  uint32_t crc = (uint32_t)crc32(0L, m->bytes, (uInt)(m->size - 4));
  if (crc != stored_crc)
    return BAD("%s: checksum mismatch (stored %08x, computed %08x): the file is corrupt", m->name, stored_crc, crc);
  if (n_meta > MODEL_MAX_ENTRIES || n_tensors > MODEL_MAX_ENTRIES) return BAD("%s: absurd entry counts", m->name);
  if (meta_offset != HEADER_BYTES || table_offset < meta_offset || blob_offset < table_offset ||
      blob_offset % MODEL_ALIGN || blob_offset > m->size - 4 || blob_size > m->size - 4 - blob_offset)
    return BAD("%s: section offsets are inconsistent: the file is corrupt", m->name);
  cursor meta = {m->bytes, (size_t)meta_offset, (size_t)table_offset, 0};
  chordlet_status st = parse_meta(m, &meta, n_meta, err);
  if (st) return st;
  if (meta.pos != meta.end) return BAD("%s: unexplained bytes after the metadata", m->name);
  cursor table = {m->bytes, (size_t)table_offset, (size_t)blob_offset, 0};
  return parse_tensors(m, &table, n_tensors, blob_offset, blob_size, err);
}

static chordlet_status adopt(uint8_t *bytes, size_t n, const char *name, model_file **out, chordlet_error *err) {
  *out = NULL;
  model_file *m = calloc(1, sizeof *m);
  char *name_copy = strdup(name ? name : "model");
  if (!m || !name_copy) {
    free(m);
    free(name_copy);
    free(bytes);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory loading a model");
  }
  m->name = name_copy;
  m->bytes = bytes;
  m->size = n;
  chordlet_status st = parse_owned(m, err);
  if (st) {
    model_file_free(m);
    return st;
  }
  *out = m;
  return CHORDLET_OK;
}

static uint8_t *alloc_aligned(size_t n) {
  size_t rounded = (n + MODEL_ALIGN - 1) / MODEL_ALIGN * MODEL_ALIGN;
  return aligned_alloc(MODEL_ALIGN, rounded ? rounded : MODEL_ALIGN);
}

chordlet_status model_file_parse(const void *bytes, size_t n, const char *name, model_file **out,
                                 chordlet_error *err) {
  uint8_t *copy = alloc_aligned(n);
  if (!copy) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory loading a model");
  if (n) memcpy(copy, bytes, n);
  return adopt(copy, n, name, out, err);
}

chordlet_status model_file_load(const char *path, model_file **out, chordlet_error *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return chordlet_fail(err, CHORDLET_ERR_IO, "cannot open model %s: %s", path, strerror(errno));
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return chordlet_fail(err, CHORDLET_ERR_IO, "cannot read model %s: not a regular file", path);
  }
  if ((uint64_t)size > MODEL_MAX_FILE_BYTES) {
    fclose(f);
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: %ld bytes is too large for a chordlet model", path, size);
  }
  uint8_t *bytes = alloc_aligned((size_t)size);
  if (!bytes) {
    fclose(f);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory loading %s", path);
  }
  size_t got = fread(bytes, 1, (size_t)size, f);
  int failed = ferror(f);
  fclose(f);
  if (failed || got != (size_t)size) {
    free(bytes);
    return chordlet_fail(err, CHORDLET_ERR_IO, "cannot read model %s", path);
  }
  return adopt(bytes, (size_t)size, path, out, err);
}

const char *model_file_name(const model_file *m) { return m->name; }
uint32_t model_file_version(const model_file *m) { return m->version; }
size_t model_file_size(const model_file *m) { return m->size; }
size_t model_file_n_meta(const model_file *m) { return m->n_meta; }
const model_meta *model_file_meta_at(const model_file *m, size_t i) { return i < m->n_meta ? &m->meta[i] : NULL; }
size_t model_file_n_tensors(const model_file *m) { return m->n_tensors; }
const model_tensor *model_file_tensor_at(const model_file *m, size_t i) {
  return i < m->n_tensors ? &m->tensors[i] : NULL;
}

const model_tensor *model_file_tensor(const model_file *m, const char *name) {
  for (size_t i = 0; i < m->n_tensors; i++)
    if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
  return NULL;
}

bool model_file_has(const model_file *m, const char *key) {
  for (size_t i = 0; i < m->n_meta; i++)
    if (strcmp(m->meta[i].key, key) == 0) return true;
  return false;
}

static const char *type_name(model_meta_type t) {
  switch (t) {
  case MODEL_META_I64: return "an integer";
  case MODEL_META_F64: return "a number";
  case MODEL_META_STR: return "a string";
  case MODEL_META_I32_ARRAY: return "an integer array";
  }
  return "unknown";
}

static chordlet_status find_meta(const model_file *m, const char *key, model_meta_type type,
                                 const model_meta **out, chordlet_error *err) {
  for (size_t i = 0; i < m->n_meta; i++) {
    if (strcmp(m->meta[i].key, key) != 0) continue;
    if (m->meta[i].type != type)
      return BAD("%s: metadata '%s' is %s, expected %s", m->name, key, type_name(m->meta[i].type), type_name(type));
    *out = &m->meta[i];
    return CHORDLET_OK;
  }
  return BAD("%s: metadata '%s' is missing", m->name, key);
}

chordlet_status model_file_get_i64(const model_file *m, const char *key, int64_t *out, chordlet_error *err) {
  const model_meta *e;
  chordlet_status st = find_meta(m, key, MODEL_META_I64, &e, err);
  if (!st) *out = e->i64;
  return st;
}
chordlet_status model_file_get_f64(const model_file *m, const char *key, double *out, chordlet_error *err) {
  const model_meta *e;
  chordlet_status st = find_meta(m, key, MODEL_META_F64, &e, err);
  if (!st) *out = e->f64;
  return st;
}
chordlet_status model_file_get_str(const model_file *m, const char *key, const char **out, chordlet_error *err) {
  const model_meta *e;
  chordlet_status st = find_meta(m, key, MODEL_META_STR, &e, err);
  if (!st) *out = e->str;
  return st;
}
chordlet_status model_file_get_i32_array(const model_file *m, const char *key, const int32_t **out,
                                         size_t *count, chordlet_error *err) {
  const model_meta *e;
  chordlet_status st = find_meta(m, key, MODEL_META_I32_ARRAY, &e, err);
  if (!st) {
    *out = e->i32;
    *count = e->count;
  }
  return st;
}

static void format_shape(char *out, size_t size, int ndim, const int64_t *dims) {
  size_t used = 0;
  out[0] = '\0';
  for (int d = 0; d < ndim && used < size; d++) {
    int n = snprintf(out + used, size - used, "%s%lld", d ? "x" : "", (long long)dims[d]);
    if (n < 0) break;
    used += (size_t)n;
  }
}

chordlet_status model_file_expect_tensor(const model_file *m, const char *name, int ndim,
                                         const int *shape, const float **data, chordlet_error *err) {
  const model_tensor *t = model_file_tensor(m, name);
  if (!t) return BAD("%s: tensor '%s' is missing", m->name, name);
  int64_t want[MODEL_MAX_DIMS] = {0};
  int match = t->ndim == ndim && ndim <= MODEL_MAX_DIMS;
  for (int d = 0; d < ndim && d < MODEL_MAX_DIMS; d++) {
    want[d] = shape[d];
    if (match && t->dims[d] != shape[d]) match = 0;
  }
  if (!match) {
    char found[128], expected[128];
    format_shape(found, sizeof found, t->ndim, t->dims);
    format_shape(expected, sizeof expected, ndim < MODEL_MAX_DIMS ? ndim : MODEL_MAX_DIMS, want);
    return BAD("%s: tensor '%s' has shape %s, expected %s", m->name, name, found, expected);
  }
  *data = t->data;
  return CHORDLET_OK;
}
#undef BAD

/* ---- writer ---- */

typedef struct writer_meta {
  char *key;
  model_meta_type type;
  int64_t i64;
  double f64;
  void *payload; /* string bytes or int32 array */
  size_t count;
} writer_meta;

typedef struct writer_tensor {
  char *name;
  int ndim;
  int64_t dims[MODEL_MAX_DIMS];
  float *data;
  size_t n_elements;
} writer_tensor;

struct model_writer {
  writer_meta *meta;
  size_t n_meta, cap_meta;
  writer_tensor *tensors;
  size_t n_tensors, cap_tensors;
};

model_writer *model_writer_create(void) { return calloc(1, sizeof(model_writer)); }

void model_writer_free(model_writer *w) {
  if (!w) return;
  for (size_t i = 0; i < w->n_meta; i++) {
    free(w->meta[i].key);
    free(w->meta[i].payload);
  }
  for (size_t i = 0; i < w->n_tensors; i++) {
    free(w->tensors[i].name);
    free(w->tensors[i].data);
  }
  free(w->meta);
  free(w->tensors);
  free(w);
}

static int name_ok(const char *s) { return s && valid_name((const uint8_t *)s, strlen(s)); }

/* The entry for key, replacing an earlier value. */
static writer_meta *meta_slot(model_writer *w, const char *key, chordlet_error *err) {
  if (!name_ok(key)) {
    chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "invalid metadata key");
    return NULL;
  }
  for (size_t i = 0; i < w->n_meta; i++)
    if (strcmp(w->meta[i].key, key) == 0) {
      free(w->meta[i].payload);
      w->meta[i].payload = NULL;
      return &w->meta[i];
    }
  if (w->n_meta == w->cap_meta) {
    size_t cap = w->cap_meta ? w->cap_meta * 2 : 16;
    writer_meta *bigger = realloc(w->meta, cap * sizeof *bigger);
    if (!bigger) {
      chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
      return NULL;
    }
    w->meta = bigger;
    w->cap_meta = cap;
  }
  writer_meta *e = &w->meta[w->n_meta];
  memset(e, 0, sizeof *e);
  e->key = strdup(key);
  if (!e->key) {
    chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    return NULL;
  }
  w->n_meta++;
  return e;
}

chordlet_status model_writer_set_i64(model_writer *w, const char *key, int64_t value, chordlet_error *err) {
  writer_meta *e = meta_slot(w, key, err);
  if (!e) return err ? err->code : CHORDLET_ERR_INVALID_ARGUMENT;
  e->type = MODEL_META_I64;
  e->i64 = value;
  e->count = 1;
  return CHORDLET_OK;
}

chordlet_status model_writer_set_f64(model_writer *w, const char *key, double value, chordlet_error *err) {
  writer_meta *e = meta_slot(w, key, err);
  if (!e) return err ? err->code : CHORDLET_ERR_INVALID_ARGUMENT;
  e->type = MODEL_META_F64;
  e->f64 = value;
  e->count = 1;
  return CHORDLET_OK;
}

chordlet_status model_writer_set_str(model_writer *w, const char *key, const char *value, chordlet_error *err) {
  size_t n = strlen(value);
  if (n > UINT32_MAX) return chordlet_fail(err, CHORDLET_ERR_RANGE, "metadata '%s' is too long", key);
  writer_meta *e = meta_slot(w, key, err);
  if (!e) return err ? err->code : CHORDLET_ERR_INVALID_ARGUMENT;
  e->type = MODEL_META_STR;
  e->payload = strdup(value);
  e->count = n;
  return e->payload ? CHORDLET_OK : chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
}

chordlet_status model_writer_set_i32_array(model_writer *w, const char *key, const int32_t *values,
                                           size_t count, chordlet_error *err) {
  if (count > UINT32_MAX / 4) return chordlet_fail(err, CHORDLET_ERR_RANGE, "metadata '%s' is too long", key);
  writer_meta *e = meta_slot(w, key, err);
  if (!e) return err ? err->code : CHORDLET_ERR_INVALID_ARGUMENT;
  e->type = MODEL_META_I32_ARRAY;
  e->payload = malloc(count ? count * 4 : 4);
  if (!e->payload) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  if (count) memcpy(e->payload, values, count * 4);
  e->count = count;
  return CHORDLET_OK;
}

chordlet_status model_writer_add_tensor(model_writer *w, const char *name, int ndim, const int64_t *dims,
                                        const float *data, chordlet_error *err) {
  if (!name_ok(name)) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "invalid tensor name");
  if (ndim < 1 || ndim > MODEL_MAX_DIMS)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "tensor '%s': %d dimensions", name, ndim);
  size_t n = 1;
  for (int d = 0; d < ndim; d++) {
    if (dims[d] <= 0 || dims[d] > UINT32_MAX || (size_t)dims[d] > (MODEL_MAX_FILE_BYTES / 4) / n)
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "tensor '%s': bad dimension", name);
    n *= (size_t)dims[d];
  }
  for (size_t i = 0; i < w->n_tensors; i++)
    if (strcmp(w->tensors[i].name, name) == 0)
      return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "tensor '%s' added twice", name);
  if (w->n_tensors == w->cap_tensors) {
    size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 64;
    writer_tensor *bigger = realloc(w->tensors, cap * sizeof *bigger);
    if (!bigger) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    w->tensors = bigger;
    w->cap_tensors = cap;
  }
  writer_tensor *t = &w->tensors[w->n_tensors];
  memset(t, 0, sizeof *t);
  t->name = strdup(name);
  t->data = malloc(n * sizeof(float));
  if (!t->name || !t->data) {
    free(t->name);
    free(t->data);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  }
  memcpy(t->data, data, n * sizeof(float));
  t->ndim = ndim;
  memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
  t->n_elements = n;
  w->n_tensors++;
  return CHORDLET_OK;
}

static size_t align_up(size_t n) { return (n + MODEL_ALIGN - 1) / MODEL_ALIGN * MODEL_ALIGN; }

typedef struct out_buf {
  uint8_t *p;
  size_t pos;
} out_buf;

static void put(out_buf *o, const void *v, size_t n) {
  if (n) memcpy(o->p + o->pos, v, n);
  o->pos += n;
}
static void put_u8(out_buf *o, uint8_t v) { put(o, &v, 1); }
static void put_u16(out_buf *o, uint16_t v) { put(o, &v, 2); }
static void put_u32(out_buf *o, uint32_t v) { put(o, &v, 4); }
static void put_u64(out_buf *o, uint64_t v) { put(o, &v, 8); }

chordlet_status model_writer_serialize(const model_writer *w, uint8_t **bytes, size_t *n, chordlet_error *err) {
  if (!host_is_little_endian())
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "model files are little-endian; this machine is not");
  size_t meta_bytes = 0, table_bytes = 0, blob_bytes = 0;
  for (size_t i = 0; i < w->n_meta; i++) {
    const writer_meta *e = &w->meta[i];
    meta_bytes += 2 + strlen(e->key) + 2 + 4;
    meta_bytes += e->type == MODEL_META_STR ? e->count : e->type == MODEL_META_I32_ARRAY ? 4 * e->count : 8;
  }
  for (size_t i = 0; i < w->n_tensors; i++) {
    table_bytes += 2 + strlen(w->tensors[i].name) + 2 + 4 * (size_t)w->tensors[i].ndim + 16;
    blob_bytes += align_up(w->tensors[i].n_elements * sizeof(float));
  }
  size_t table_offset = HEADER_BYTES + meta_bytes;
  size_t blob_offset = align_up(table_offset + table_bytes);
  size_t total = blob_offset + blob_bytes + 4;
  if (total > MODEL_MAX_FILE_BYTES) return chordlet_fail(err, CHORDLET_ERR_RANGE, "model too large");
  out_buf o = {calloc(1, total), 0};
  if (!o.p) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  put(&o, magic, 4);
  put_u32(&o, MODEL_FORMAT_VERSION);
  put_u32(&o, 0);
  put_u32(&o, (uint32_t)w->n_meta);
  put_u32(&o, (uint32_t)w->n_tensors);
  put_u32(&o, 0);
  put_u64(&o, HEADER_BYTES);
  put_u64(&o, table_offset);
  put_u64(&o, blob_offset);
  put_u64(&o, blob_bytes);
  put_u64(&o, total);
  for (size_t i = 0; i < w->n_meta; i++) {
    const writer_meta *e = &w->meta[i];
    put_u16(&o, (uint16_t)strlen(e->key));
    put(&o, e->key, strlen(e->key));
    put_u8(&o, (uint8_t)e->type);
    put_u8(&o, 0);
    put_u32(&o, (uint32_t)e->count);
    if (e->type == MODEL_META_I64) put(&o, &e->i64, 8);
    else if (e->type == MODEL_META_F64) put(&o, &e->f64, 8);
    else if (e->type == MODEL_META_STR) put(&o, e->payload, e->count);
    else put(&o, e->payload, 4 * e->count);
  }
  size_t data_offset = 0;
  for (size_t i = 0; i < w->n_tensors; i++) {
    const writer_tensor *t = &w->tensors[i];
    put_u16(&o, (uint16_t)strlen(t->name));
    put(&o, t->name, strlen(t->name));
    put_u8(&o, (uint8_t)t->ndim);
    put_u8(&o, DTYPE_F32);
    for (int d = 0; d < t->ndim; d++) put_u32(&o, (uint32_t)t->dims[d]);
    put_u64(&o, data_offset);
    put_u64(&o, t->n_elements * sizeof(float));
    memcpy(o.p + blob_offset + data_offset, t->data, t->n_elements * sizeof(float));
    data_offset += align_up(t->n_elements * sizeof(float));
  }
  uint32_t crc = (uint32_t)crc32(0L, o.p, (uInt)(total - 4));
  memcpy(o.p + total - 4, &crc, 4);
  *bytes = o.p;
  *n = total;
  return CHORDLET_OK;
}

chordlet_status model_writer_save(const model_writer *w, const char *path, chordlet_error *err) {
  uint8_t *bytes;
  size_t n;
  chordlet_status st = model_writer_serialize(w, &bytes, &n, err);
  if (st) return st;
  atomic_file file;
  st = atomic_file_open(&file, path, err);
  if (!st) {
    if (fwrite(bytes, 1, n, file.stream) != n) {
      atomic_file_abort(&file);
      st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    } else {
      st = atomic_file_commit(&file, err);
    }
  }
  free(bytes);
  return st;
}
