/*
 * modelfile.h: chordlet's model file format (.chordlet), DESIGN.md 5.
 *
 * Layout, little-endian, version 1:
 *
 *   offset  size  field
 *   0       4     magic "CHLT"
 *   4       4     u32 format version (1)
 *   8       4     u32 flags (0)
 *   12      4     u32 number of metadata entries
 *   16      4     u32 number of tensors
 *   20      4     u32 reserved (0)
 *   24      8     u64 offset of the metadata section (64)
 *   32      8     u64 offset of the tensor table
 *   40      8     u64 offset of the blob (a multiple of 64)
 *   48      8     u64 size of the blob
 *   56      8     u64 size of the whole file, CRC included
 *   64      ...   metadata: per entry u16 key length, key, u8 type, u8 0, u32 count,
 *                 payload (i64 or f64: 8 bytes; string: count bytes; i32 array:
 *                 4 * count bytes)
 *   ...     ...   tensor table: per tensor u16 name length, name, u8 ndim (1..8),
 *                 u8 dtype (1 = float32), u32 dims[ndim], u64 offset in the blob
 *                 (a multiple of 64), u64 size in bytes
 *   blob    ...   the tensors' float32 data, each 64-byte aligned
 *   end-4   4     u32 CRC-32 (zlib) of every byte before it
 *
 * The loader checks every field against the file: magic, version, sizes,
 * offsets, alignment, CRC, entry bounds, shapes against sizes, unique names;
 * each failure has a message that says what is wrong. What a model's
 * tensors and metadata must be for its architecture is checked by the code
 * that runs it (teacher, student), through model_file_expect_tensor().
 *
 * Thread: main/worker (allocates, does I/O). A loaded model is read-only and
 * may be shared by any number of threads.
 */
#ifndef CHORDLET_MODELFILE_H
#define CHORDLET_MODELFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"

enum {
  MODEL_FORMAT_VERSION = 1,
  MODEL_MAX_DIMS = 8,
  MODEL_ALIGN = 64,
  MODEL_MAX_NAME = 256,
  MODEL_MAX_ENTRIES = 65536,
};
#define MODEL_MAX_FILE_BYTES ((uint64_t)2 << 30) /* 2 GiB: larger is not a chordlet model */

typedef enum model_meta_type {
  MODEL_META_I64 = 1,
  MODEL_META_F64 = 2,
  MODEL_META_STR = 3,
  MODEL_META_I32_ARRAY = 4,
} model_meta_type;

typedef struct model_meta {
  const char *key;
  model_meta_type type;
  int64_t i64;
  double f64;
  const char *str;        /* NUL-terminated copy */
  const int32_t *i32;     /* (count) */
  size_t count;           /* string length or array length */
} model_meta;

typedef struct model_tensor {
  const char *name;
  int ndim;
  int64_t dims[MODEL_MAX_DIMS];
  size_t n_elements;
  const float *data; /* (dims...) row-major, 64-byte aligned */
} model_tensor;

typedef struct model_file model_file;

chordlet_status model_file_load(const char *path, model_file **out, chordlet_error *err);
/* Parses a model held in memory (copied); name is used in messages. */
chordlet_status model_file_parse(const void *bytes, size_t n, const char *name, model_file **out,
                                 chordlet_error *err);
void model_file_free(model_file *model);

const char *model_file_name(const model_file *model);
uint32_t model_file_version(const model_file *model);
size_t model_file_size(const model_file *model);
size_t model_file_n_meta(const model_file *model);
const model_meta *model_file_meta_at(const model_file *model, size_t i);
size_t model_file_n_tensors(const model_file *model);
const model_tensor *model_file_tensor_at(const model_file *model, size_t i);
const model_tensor *model_file_tensor(const model_file *model, const char *name);

/* Whether the file has metadata `key` (of any type): for optional keys. */
bool model_file_has(const model_file *m, const char *key);
/* Typed metadata getters: CHORDLET_ERR_PARSE with a clear message when the
 * key is missing or has another type. */
chordlet_status model_file_get_i64(const model_file *m, const char *key, int64_t *out, chordlet_error *err);
chordlet_status model_file_get_f64(const model_file *m, const char *key, double *out, chordlet_error *err);
chordlet_status model_file_get_str(const model_file *m, const char *key, const char **out, chordlet_error *err);
chordlet_status model_file_get_i32_array(const model_file *m, const char *key, const int32_t **out,
                                         size_t *count, chordlet_error *err);

/* The tensor `name` with exactly this shape, or an error naming the tensor,
 * the shape found and the shape expected. */
chordlet_status model_file_expect_tensor(const model_file *m, const char *name, int ndim,
                                         const int *shape, const float **data, chordlet_error *err);

/* ---- writing (the trainer's importer and exporter) ---- */
typedef struct model_writer model_writer;
model_writer *model_writer_create(void);
void model_writer_free(model_writer *w);
chordlet_status model_writer_set_i64(model_writer *w, const char *key, int64_t value, chordlet_error *err);
chordlet_status model_writer_set_f64(model_writer *w, const char *key, double value, chordlet_error *err);
chordlet_status model_writer_set_str(model_writer *w, const char *key, const char *value, chordlet_error *err);
chordlet_status model_writer_set_i32_array(model_writer *w, const char *key, const int32_t *values,
                                           size_t count, chordlet_error *err);
/* Copies data (n_elements = product of dims). */
chordlet_status model_writer_add_tensor(model_writer *w, const char *name, int ndim, const int64_t *dims,
                                        const float *data, chordlet_error *err);
/* Serialises to memory (malloc'ed; caller frees) or to a file, atomically. */
chordlet_status model_writer_serialize(const model_writer *w, uint8_t **bytes, size_t *n, chordlet_error *err);
chordlet_status model_writer_save(const model_writer *w, const char *path, chordlet_error *err);

#endif
