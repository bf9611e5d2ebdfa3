/* import_teacher.c: `chordlet-train import-teacher DIR OUT.chordlet`.
 *
 * Reads the teacher as shipped in ../shared/models/teacher (manifest.json,
 * foldK.f32 blobs, chord_lists/decoder_states.json, LICENSE) and writes one
 * self-contained .chordlet file: all folds' tensors ("foldK.<name>"), the
 * front-end settings, the decoder's state table, the licence and provenance.
 * The engine never parses JSON; this is the only place that does.
 * import_teacher_fill (import_teacher.h) reads the folder through a reader
 * function: files on disk here, files in memory in the fuzz harness. */
#define _POSIX_C_SOURCE 200809L
#include "import_teacher.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_keys.h"

enum { MAX_FOLDS = 16, N_HEADS = 6 };

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet-train import-teacher [--vocabulary NAME] [--folds N | --fold K] DIR OUT.chordlet\n"
          "\n"
          "DIR holds the teacher as shipped: manifest.json, fold0.f32 ... foldK.f32,\n"
          "chord_lists/decoder_states.json and LICENSE (e.g. ../shared/models/teacher).\n"
          "  --vocabulary NAME  the decoder's chord list: submission (default), ismir2017, extended\n"
          "  --folds N          keep only the first N folds (default: all)\n"
          "  --fold K           keep only fold K (0-based): a one-fold teacher, e.g. to measure how\n"
          "                     much two folds agree with each other\n");
}

/* Reads a whole file; NULL and a message on failure. */
static char *read_file(const char *path, size_t *n, size_t limit) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "chordlet-train import-teacher: cannot open %s: %s\n", path, strerror(errno));
    return NULL;
  }
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  if (size < 0 || (size_t)size > limit || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "chordlet-train import-teacher: %s: unreadable or larger than %zu bytes\n", path, limit);
    fclose(f);
    return NULL;
  }
  char *buf = malloc((size_t)size + 1);
  size_t got = buf ? fread(buf, 1, (size_t)size, f) : 0;
  fclose(f);
  if (!buf || got != (size_t)size) {
    fprintf(stderr, "chordlet-train import-teacher: cannot read %s\n", path);
    free(buf);
    return NULL;
  }
  buf[got] = '\0';
  *n = got;
  return buf;
}

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* The command's reader: DIR/name on disk. */
static char *read_from_disk(void *ctx, const char *name, size_t *n, size_t limit) {
  char *path = join(ctx, name);
  char *text = path ? read_file(path, n, limit) : NULL;
  free(path);
  return text;
}

/* name in the folder, as JSON; path names it in messages. */
static cJSON *read_json(const import_source *src, const char *name, const char *path) {
  size_t n;
  char *text = src->read(src->ctx, name, &n, 64u << 20);
  if (!text) return NULL;
  cJSON *root = cJSON_ParseWithLength(text, n);
  if (!root) fprintf(stderr, "chordlet-train import-teacher: %s is not valid JSON\n", path);
  free(text);
  return root;
}

/* Adds one fold's tensors; returns 0 on success. */
static int add_fold(model_writer *w, const import_source *src, const cJSON *fold, int k) {
  const cJSON *file = cJSON_GetObjectItem(fold, "file"), *nbytes = cJSON_GetObjectItem(fold, "nbytes");
  const cJSON *tensors = cJSON_GetObjectItem(fold, "tensors");
  if (!cJSON_IsString(file) || !cJSON_IsNumber(nbytes) || !cJSON_IsArray(tensors)) {
    fprintf(stderr, "chordlet-train import-teacher: manifest fold %d lacks file, nbytes or tensors\n", k);
    return -1;
  }
  char *path = join(src->dir, file->valuestring);
  size_t size = 0;
  char *blob = path ? src->read(src->ctx, file->valuestring, &size, 64u << 20) : NULL;
  int status = -1;
  if (!blob) goto done;
  if ((double)size != nbytes->valuedouble) {
    fprintf(stderr, "chordlet-train import-teacher: %s has %zu bytes, the manifest says %.0f: truncated or wrong file\n",
            path, size, nbytes->valuedouble);
    goto done;
  }
  const cJSON *t;
  cJSON_ArrayForEach(t, tensors) {
    const cJSON *name = cJSON_GetObjectItem(t, "name"), *shape = cJSON_GetObjectItem(t, "shape");
    const cJSON *dtype = cJSON_GetObjectItem(t, "dtype"), *offset = cJSON_GetObjectItem(t, "offset");
    if (!cJSON_IsString(name) || !cJSON_IsArray(shape) || !cJSON_IsString(dtype) || !cJSON_IsNumber(offset) ||
        strcmp(dtype->valuestring, "float32") != 0) {
      fprintf(stderr, "chordlet-train import-teacher: %s: a tensor entry is malformed\n", path);
      goto done;
    }
    int64_t dims[MODEL_MAX_DIMS];
    int ndim = cJSON_GetArraySize(shape);
    size_t elements = 1;
    if (ndim < 1 || ndim > MODEL_MAX_DIMS) goto bad_shape;
    for (int d = 0; d < ndim; d++) {
      double v = cJSON_GetArrayItem(shape, d)->valuedouble;
      if (!(v >= 1 && v <= 1e6)) goto bad_shape;
      dims[d] = (int64_t)v;
      elements *= (size_t)dims[d];
    }
    double off = offset->valuedouble;
    if (!(off >= 0) || off + 4.0 * (double)elements > (double)size || (size_t)off % 4) {
      fprintf(stderr, "chordlet-train import-teacher: %s: tensor %s lies outside the file\n", path, name->valuestring);
      goto done;
    }
    float *data = malloc(elements * sizeof *data); /* copy: the blob offset may not be aligned */
    if (!data) goto done;
    memcpy(data, blob + (size_t)off, elements * sizeof *data);
    char full[MODEL_MAX_NAME + 1];
    snprintf(full, sizeof full, TEACHER_TENSOR_PREFIX "%s", k, name->valuestring);
    chordlet_error err;
    chordlet_status st = model_writer_add_tensor(w, full, ndim, dims, data, &err);
    free(data);
    if (st) {
      fprintf(stderr, "chordlet-train import-teacher: %s\n", err.message);
      goto done;
    }
    continue;
  bad_shape:
    fprintf(stderr, "chordlet-train import-teacher: %s: tensor %s has a bad shape\n", path, name->valuestring);
    goto done;
  }
  status = 0;
done:
  free(blob);
  free(path);
  return status;
}

/* The decoder's states: names (one a line) and their six head indices. */
static int add_decoder(model_writer *w, const import_source *src, const char *vocabulary, size_t *n_states) {
  char *path = join(src->dir, "chord_lists/decoder_states.json");
  cJSON *root = path ? read_json(src, "chord_lists/decoder_states.json", path) : NULL;
  int status = -1;
  char *names = NULL;
  int32_t *heads = NULL;
  const cJSON *states = cJSON_GetObjectItem(root, vocabulary);
  if (!root) goto done;
  if (!cJSON_IsArray(states) || cJSON_GetArraySize(states) < 1) {
    fprintf(stderr, "chordlet-train import-teacher: %s has no chord list '%s'\n", path, vocabulary);
    goto done;
  }
  size_t S = (size_t)cJSON_GetArraySize(states), names_len = 0, i = 0;
  heads = malloc(S * N_HEADS * sizeof *heads);
  names = malloc(S * 64 + 1);
  if (!heads || !names) goto done;
  const cJSON *row;
  cJSON_ArrayForEach(row, states) {
    const cJSON *name = cJSON_GetArrayItem(row, 0);
    if (cJSON_GetArraySize(row) != 1 + N_HEADS || !cJSON_IsString(name) || strlen(name->valuestring) > 60 ||
        strchr(name->valuestring, '\n')) {
      fprintf(stderr, "chordlet-train import-teacher: %s: state %zu is malformed\n", path, i);
      goto done;
    }
    names_len += (size_t)sprintf(names + names_len, "%s%s", i ? "\n" : "", name->valuestring);
    for (int h = 0; h < N_HEADS; h++) heads[i * N_HEADS + h] = (int32_t)cJSON_GetArrayItem(row, 1 + h)->valueint;
    i++;
  }
  if (strcmp(cJSON_GetArrayItem(cJSON_GetArrayItem(states, 0), 0)->valuestring, "N") != 0) {
    fprintf(stderr, "chordlet-train import-teacher: %s: the first state of '%s' must be N\n", path, vocabulary);
    goto done;
  }
  chordlet_error err;
  if (model_writer_set_str(w, MK_DECODER_KIND, "viterbi", &err) ||
      model_writer_set_f64(w, MK_DECODER_PENALTY, 30.0, &err) ||
      model_writer_set_str(w, MK_DECODER_VOCABULARY, vocabulary, &err) ||
      model_writer_set_str(w, MK_DECODER_STATE_NAMES, names, &err) ||
      model_writer_set_i32_array(w, MK_DECODER_STATE_HEADS, heads, S * N_HEADS, &err)) {
    fprintf(stderr, "chordlet-train import-teacher: %s\n", err.message);
    goto done;
  }
  *n_states = S;
  status = 0;
done:
  free(names);
  free(heads);
  cJSON_Delete(root);
  free(path);
  return status;
}

int cmd_import_teacher(int argc, char **argv) {
  const char *vocabulary = "submission", *dir = NULL, *out = NULL;
  int max_folds = MAX_FOLDS, only_fold = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return TRAIN_EXIT_OK;
    } else if (strcmp(argv[i], "--vocabulary") == 0 && i + 1 < argc) {
      vocabulary = argv[++i];
    } else if (strcmp(argv[i], "--folds") == 0 && i + 1 < argc) {
      max_folds = atoi(argv[++i]);
      if (max_folds < 1 || max_folds > MAX_FOLDS) {
        fprintf(stderr, "chordlet-train import-teacher: --folds must be 1 to %d\n", MAX_FOLDS);
        return TRAIN_EXIT_USAGE;
      }
    } else if (strcmp(argv[i], "--fold") == 0 && i + 1 < argc) {
      char *end = NULL;
      long k = strtol(argv[++i], &end, 10);
      if (!end || *end || k < 0 || k >= MAX_FOLDS) {
        fprintf(stderr, "chordlet-train import-teacher: --fold must be 0 to %d\n", MAX_FOLDS - 1);
        return TRAIN_EXIT_USAGE;
      }
      only_fold = (int)k;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "chordlet-train import-teacher: unknown option '%s'\n\n", argv[i]);
      usage(stderr);
      return TRAIN_EXIT_USAGE;
    } else if (!dir) {
      dir = argv[i];
    } else if (!out) {
      out = argv[i];
    } else {
      usage(stderr);
      return TRAIN_EXIT_USAGE;
    }
  }
  if (!dir || !out) {
    usage(stderr);
    return TRAIN_EXIT_USAGE;
  }
  const import_source src = {dir, read_from_disk, (void *)dir};
  model_writer *w = model_writer_create();
  int n_folds = 0, status = TRAIN_EXIT_FAIL;
  size_t n_states = 0;
  chordlet_error err;
  if (w && import_teacher_fill(&src, vocabulary, max_folds, only_fold, w, &n_folds, &n_states) == 0) {
    if (model_writer_save(w, out, &err)) {
      fprintf(stderr, "chordlet-train import-teacher: %s\n", err.message);
    } else {
      printf("wrote %s: %d folds, %zu decoder states (%s)\n", out, n_folds, n_states, vocabulary);
      status = TRAIN_EXIT_OK;
    }
  }
  model_writer_free(w);
  return status;
}

chordlet_status import_teacher_write_frontend(model_writer *w, chordlet_error *err) {
  chordlet_status st;
  (void)((st = model_writer_set_str(w, MK_FRONTEND_KIND, FRONTEND_LIBROSA_HYBRID, err)) ||
         (st = model_writer_set_f64(w, MK_FRONTEND_SAMPLE_RATE, 22050.0, err)) ||
         (st = model_writer_set_i64(w, MK_FRONTEND_HOP, 512, err)) ||
         (st = model_writer_set_f64(w, MK_FRONTEND_FMIN, 23.124651419477154, err)) ||
         (st = model_writer_set_i64(w, MK_FRONTEND_N_BINS, 288, err)) ||
         (st = model_writer_set_i64(w, MK_FRONTEND_BINS_PER_OCTAVE, 36, err)) ||
         (st = model_writer_set_i64(w, MK_FRONTEND_ESTIMATE_TUNING, 1, err)));
  return st;
}

int import_teacher_fill(const import_source *src, const char *vocabulary, int max_folds, int only_fold,
                        model_writer *w, int *n_folds_out, size_t *n_states_out) {
  const char *dir = src->dir;
  char *manifest_path = join(dir, "manifest.json"), *license_path = join(dir, "LICENSE");
  cJSON *manifest = manifest_path ? read_json(src, "manifest.json", manifest_path) : NULL;
  size_t license_len = 0;
  char *license = license_path ? src->read(src->ctx, "LICENSE", &license_len, 1u << 20) : NULL;
  int status = -1;
  if (!manifest || !license) goto done;
  const cJSON *folds = cJSON_GetObjectItem(manifest, "folds");
  const cJSON *format = cJSON_GetObjectItem(manifest, "format");
  if (!cJSON_IsArray(folds) || cJSON_GetArraySize(folds) < 1) {
    fprintf(stderr, "chordlet-train import-teacher: %s lists no folds\n", manifest_path);
    goto done;
  }
  if (!cJSON_IsString(format) || strncmp(format->valuestring, "chordlet-teacher-f32 v1", 23) != 0) {
    fprintf(stderr, "chordlet-train import-teacher: %s: unknown manifest format (expected 'chordlet-teacher-f32 v1')\n",
            manifest_path);
    goto done;
  }
  int n_folds = 0;
  char provenance[4096];
  size_t used = (size_t)snprintf(provenance, sizeof provenance,
                                 "Imported by chordlet-train import-teacher from a teacher folder (manifest "
                                 "format '%s'); the weights are copied bit for bit. Source ONNX files:",
                                 format->valuestring);
  if (only_fold >= cJSON_GetArraySize(folds)) {
    fprintf(stderr, "chordlet-train import-teacher: --fold %d: %s lists %d folds\n", only_fold, manifest_path,
            cJSON_GetArraySize(folds));
    goto done;
  }
  const cJSON *fold;
  int index = -1;
  cJSON_ArrayForEach(fold, folds) {
    index++;
    if (only_fold >= 0 && index != only_fold) continue;
    if (n_folds == max_folds) break;
    if (add_fold(w, src, fold, n_folds)) goto done;
    const cJSON *onnx = cJSON_GetObjectItem(fold, "source_onnx"), *sha = cJSON_GetObjectItem(fold, "source_onnx_sha256");
    if (used < sizeof provenance && cJSON_IsString(onnx) && cJSON_IsString(sha))
      used += (size_t)snprintf(provenance + used, sizeof provenance - used, "\n  fold %d: %s (sha256 %s)", index,
                               onnx->valuestring, sha->valuestring);
    n_folds++;
  }
  size_t n_states = 0;
  if (add_decoder(w, src, vocabulary, &n_states)) goto done;
  chordlet_error err;
  char created_by[128];
  snprintf(created_by, sizeof created_by, "chordlet-train import-teacher %s", chordlet_version());
  const cJSON *model = cJSON_GetObjectItem(manifest, "model");
  if (model_writer_set_str(w, MK_ARCHITECTURE, ARCH_TEACHER, &err) ||
      model_writer_set_str(w, MK_NAME, "teacher", &err) ||
      model_writer_set_str(w, MK_DESCRIPTION, cJSON_IsString(model) ? model->valuestring : "chord teacher", &err) ||
      model_writer_set_str(w, MK_LICENSE, license, &err) ||
      model_writer_set_str(w, MK_PROVENANCE, provenance, &err) ||
      model_writer_set_str(w, MK_CREATED_BY, created_by, &err) ||
      model_writer_set_i64(w, MK_STREAMABLE, 0, &err) ||
      model_writer_set_i64(w, MK_TEACHER_N_FOLDS, n_folds, &err) || import_teacher_write_frontend(w, &err)) {
    fprintf(stderr, "chordlet-train import-teacher: %s\n", err.message);
    goto done;
  }
  *n_folds_out = n_folds;
  *n_states_out = n_states;
  status = 0;
done:
  cJSON_Delete(manifest);
  free(license);
  free(manifest_path);
  free(license_path);
  return status;
}
