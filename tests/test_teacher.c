/* test_teacher.c: the teacher's forward pass against onnxruntime's outputs
 * (../shared/models/teacher/reference/, TEACHER.md sections 2, 6 and 9).
 *
 * The weights are bound from the raw fold blobs by the fixed tensor order of
 * TEACHER.md section 8 (teacher_tensor_info), which this test first checks
 * against manifest.json with a small purpose-built reader (the engine and its
 * tests do not link a JSON library). Tolerances come from reference.json.
 * Prints the largest absolute error of every comparison. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "kernels.h"
#include "teacher.h"

enum { N_FOLDS = 5, FOLD_BYTES = 1867792 };

static const char *model_dir;

/* ---- files ------------------------------------------------------------------------ */

static char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long len = ftell(f);
    if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1))) {
      if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
      } else {
        buf[len] = 0;
        *size = (size_t)len;
      }
    }
  }
  fclose(f);
  return buf;
}

/* NAME under the model folder, which must hold exactly n floats. */
static float *read_f32(const char *name, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", model_dir, name);
  size_t size = 0;
  char *buf = read_file(path, &size);
  CHECK(buf != NULL, "cannot read %s", path);
  if (!buf) return NULL;
  CHECK(size == n * sizeof(float), "%s has %zu bytes, expected %zu", path, size, n * sizeof(float));
  if (size != n * sizeof(float)) {
    free(buf);
    return NULL;
  }
  float *data = malloc(n * sizeof *data);
  if (data) memcpy(data, buf, size);
  free(buf);
  return data;
}

/* ---- a JSON reader just big enough for manifest.json and reference.json --------------- */

/* The position right after `"key"` and its colon, searching from p; NULL if absent. */
static const char *json_key(const char *p, const char *key) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *q = p ? strstr(p, pat) : NULL;
  if (!q) return NULL;
  q += strlen(pat);
  while (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t' || *q == ':') q++;
  return q;
}

static double json_number(const char *p, const char *key, const char **after) {
  const char *q = json_key(p, key);
  if (!q) return NAN;
  char *end;
  double v = strtod(q, &end);
  if (after) *after = end;
  return end == q ? NAN : v;
}

/* Fold 0's tensor list in manifest.json equals the engine's fixed order. */
static void check_manifest(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/manifest.json", model_dir);
  size_t size;
  char *text = read_file(path, &size);
  CHECK(text != NULL, "cannot read %s", path);
  if (!text) return;
  const char *p = json_key(text, "tensors");
  for (int k = 0; k < TEACHER_N_TENSORS; k++) {
    const char *name;
    int ndim, shape[4];
    size_t offset;
    CHECK(teacher_tensor_info(k, &name, &ndim, shape, &offset), "tensor %d exists", k);
    const char *q = json_key(p, "name");
    char want[80];
    snprintf(want, sizeof want, "\"%s\"", name);
    CHECK(q && strncmp(q, want, strlen(want)) == 0, "manifest tensor %d is %s", k, name);
    if (!q) break;
    const char *s = json_key(q, "shape");
    int dims = 0, got[8];
    if (s && *s == '[') {
      s++;
      while (dims < 8 && *s != ']') {
        char *end;
        got[dims++] = (int)strtol(s, &end, 10);
        s = end;
        while (*s == ',' || *s == ' ' || *s == '\n') s++;
      }
    }
    CHECK(dims == ndim, "%s has %d dimensions in the manifest, %d in the engine", name, dims, ndim);
    for (int d = 0; d < ndim && d < dims; d++)
      CHECK(got[d] == shape[d], "%s dimension %d: manifest %d, engine %d", name, d, got[d], shape[d]);
    double off = json_number(q, "offset", &p);
    CHECK(off == (double)(offset * sizeof(float)), "%s offset: manifest %.0f, engine %zu", name, off,
          offset * sizeof(float));
  }
  size_t last_offset;
  int shape[4], ndim;
  teacher_tensor_info(TEACHER_N_TENSORS - 1, NULL, &ndim, shape, &last_offset);
  CHECK(last_offset + (size_t)shape[0] == TEACHER_FOLD_FLOATS, "the tensors fill %d floats",
        TEACHER_FOLD_FLOATS);
  CHECK(json_number(text, "nbytes", NULL) == FOLD_BYTES, "fold 0 is %d bytes", FOLD_BYTES);
  free(text);
}

/* ---- binding --------------------------------------------------------------------------- */

typedef struct blob {
  const float *data; /* (466948) */
} blob;

static const float *blob_lookup(void *ctx, const char *name, int ndim, const int *shape,
                                chordlet_error *err) {
  const blob *b = ctx;
  for (int k = 0; k < TEACHER_N_TENSORS; k++) {
    const char *tname;
    int tdim, tshape[4];
    size_t offset;
    teacher_tensor_info(k, &tname, &tdim, tshape, &offset);
    if (strcmp(tname, name) != 0) continue;
    int same = tdim == ndim;
    for (int d = 0; same && d < ndim; d++) same = tshape[d] == shape[d];
    if (!same) {
      snprintf(err->message, sizeof err->message, "the blob holds another shape");
      err->code = CHORDLET_ERR_PARSE;
      return NULL;
    }
    return b->data + offset;
  }
  snprintf(err->message, sizeof err->message, "no such tensor in the blob");
  err->code = CHORDLET_ERR_PARSE;
  return NULL;
}

/* A lookup that hides one tensor, or reports one shape wrong. */
typedef struct broken_blob {
  blob inner;
  const char *missing, *misshaped;
} broken_blob;

static const float *broken_lookup(void *ctx, const char *name, int ndim, const int *shape,
                                  chordlet_error *err) {
  broken_blob *b = ctx;
  if (b->missing && strcmp(name, b->missing) == 0) return NULL;
  if (b->misshaped && strcmp(name, b->misshaped) == 0) {
    int wrong[4] = {shape[0] + 1, ndim > 1 ? shape[1] : 0, 0, 0};
    return blob_lookup(&b->inner, name, ndim, wrong, err);
  }
  return blob_lookup(&b->inner, name, ndim, shape, err);
}

/* ---- comparisons ------------------------------------------------------------------------ */

/* Compares got with the reference file NAME (n floats); rel: tolerance relative
 * to max |reference|. */
static void compare_file(const char *input, const char *what, const char *file, const float *got,
                         size_t n, double tol, int rel) {
  float *ref = read_f32(file, n);
  if (!ref) return;
  double err = max_abs_diff(got, ref, n);
  double limit = rel ? tol * max_abs(ref, n) : tol;
  printf("  %-9s %-18s max |err| %.3g  (tolerance %.3g%s)\n", input, what, err, limit,
         rel ? ", relative" : "");
  CHECK(err <= limit, "%s %s: max |err| %g > %g", input, what, err, limit);
  free(ref);
}

/* ---- per input -------------------------------------------------------------------------- */

typedef struct input_case {
  const char *name;
  size_t T;
  int has_block_intermediates; /* conv1a, block1a, pool1..3 */
} input_case;

static double tolerance(const char *refjson, const char *input, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"name\": \"%s\"", input);
  const char *p = strstr(refjson, pat);
  if (!p) return NAN;
  p = json_key(p, "tolerance");
  return json_number(p, key, NULL);
}

static void run_input(const input_case *c, const teacher_fold_weights *folds, const char *refjson) {
  const size_t T = c->T;
  char file[256];
  double tol_probs = tolerance(refjson, c->name, "probs_abs");
  double tol_p170 = tolerance(refjson, c->name, "p170_abs");
  double tol_logits = tolerance(refjson, c->name, "logits_abs");
  double tol_lstm = tolerance(refjson, c->name, "lstm_out_abs");
  double tol_cnn = tolerance(refjson, c->name, "cnn_out_abs");
  double tol_rel = tolerance(refjson, c->name, "cnn_intermediate_rel");
  CHECK(tol_probs > 0 && tol_p170 > 0 && tol_logits > 0 && tol_lstm > 0 && tol_cnn > 0,
        "%s: tolerances in reference.json", c->name);
  CHECK(!c->has_block_intermediates || tol_rel > 0, "%s: intermediate tolerance", c->name);

  snprintf(file, sizeof file, "reference/%s.input.f32", c->name);
  float *x = read_f32(file, T * TEACHER_IN_BINS);
  if (!x) return;
  float *probs = malloc(T * TEACHER_OUT * sizeof *probs);
  float *p170 = malloc(T * TEACHER_P170 * sizeof *p170);
  teacher_trace tr = {0};
  tr.cnn_out = malloc(T * TEACHER_CNN_OUT * sizeof(float));
  tr.lstm_out = malloc(T * TEACHER_LSTM_OUT * sizeof(float));
  tr.logits = malloc(T * TEACHER_OUT * sizeof(float));
  if (c->has_block_intermediates) {
    tr.conv1a = malloc(16 * T * 252 * sizeof(float));
    tr.block1a = malloc(16 * T * 252 * sizeof(float));
    tr.pool1 = malloc(16 * T * 84 * sizeof(float));
    tr.pool2 = malloc(32 * T * 28 * sizeof(float));
    tr.pool3 = malloc(64 * T * 7 * sizeof(float));
  }
  CHECK(probs && p170 && tr.cnn_out && tr.lstm_out && tr.logits, "allocation");

  for (int k = 0; k < N_FOLDS; k++) {
    chordlet_error err = {0};
    chordlet_status st = teacher_forward_fold(&folds[k], x, T, probs, k == 0 ? &tr : NULL, &err);
    CHECK(st == CHORDLET_OK, "%s fold %d: %s", c->name, k, err.message);
    char what[64];
    snprintf(what, sizeof what, "fold%d probs", k);
    snprintf(file, sizeof file, "reference/%s.fold%d.probs.f32", c->name, k);
    compare_file(c->name, what, file, probs, T * TEACHER_OUT, tol_probs, 0);
    if (k) continue;
    snprintf(file, sizeof file, "reference/%s.fold0.cnn_out.f32", c->name);
    compare_file(c->name, "fold0 cnn_out", file, tr.cnn_out, T * TEACHER_CNN_OUT, tol_cnn, 0);
    snprintf(file, sizeof file, "reference/%s.fold0.lstm_out.f32", c->name);
    compare_file(c->name, "fold0 lstm_out", file, tr.lstm_out, T * TEACHER_LSTM_OUT, tol_lstm, 0);
    snprintf(file, sizeof file, "reference/%s.fold0.logits.f32", c->name);
    compare_file(c->name, "fold0 logits", file, tr.logits, T * TEACHER_OUT, tol_logits, 0);
    if (c->has_block_intermediates) {
      const struct {
        const char *name;
        float *data;
        size_t n;
      } inter[5] = {{"conv1a", tr.conv1a, 16 * 252}, {"block1a", tr.block1a, 16 * 252},
                    {"pool1", tr.pool1, 16 * 84},    {"pool2", tr.pool2, 32 * 28},
                    {"pool3", tr.pool3, 64 * 7}};
      for (int j = 0; j < 5; j++) {
        snprintf(file, sizeof file, "reference/%s.fold0.%s.f32", c->name, inter[j].name);
        snprintf(what, sizeof what, "fold0 %s", inter[j].name);
        compare_file(c->name, what, file, inter[j].data, T * inter[j].n, tol_rel, 1);
      }
    }
  }

  chordlet_error err = {0};
  chordlet_status st = teacher_forward(folds, N_FOLDS, x, T, probs, &err);
  CHECK(st == CHORDLET_OK, "%s ensemble: %s", c->name, err.message);
  snprintf(file, sizeof file, "reference/%s.ensemble.probs.f32", c->name);
  compare_file(c->name, "ensemble probs", file, probs, T * TEACHER_OUT, tol_probs, 0);
  teacher_heads_to_p170(probs, T, p170);
  snprintf(file, sizeof file, "reference/%s.ensemble.p170.f32", c->name);
  compare_file(c->name, "ensemble p170", file, p170, T * TEACHER_P170, tol_p170, 0);
  double worst_sum = 0;
  for (size_t t = 0; t < T; t++) {
    double s = 0;
    for (int q = 0; q < TEACHER_P170; q++) s += p170[t * TEACHER_P170 + q];
    if (fabs(s - 1) > worst_sum) worst_sum = fabs(s - 1);
    CHECK(p170[t * TEACHER_P170 + 168] == 0, "%s frame %zu: X is 0", c->name, t);
  }
  CHECK(worst_sum < 1e-5, "%s: p170 rows sum to 1 (off by %g)", c->name, worst_sum);

  /* The mapping alone, from the reference's own ensemble probabilities. */
  snprintf(file, sizeof file, "reference/%s.ensemble.probs.f32", c->name);
  float *ref_probs = read_f32(file, T * TEACHER_OUT);
  if (ref_probs) {
    teacher_heads_to_p170(ref_probs, T, p170);
    snprintf(file, sizeof file, "reference/%s.ensemble.p170.f32", c->name);
    compare_file(c->name, "p170 of ref probs", file, p170, T * TEACHER_P170, 1e-6, 0);
    free(ref_probs);
  }

  free(x);
  free(probs);
  free(p170);
  free(tr.conv1a);
  free(tr.block1a);
  free(tr.pool1);
  free(tr.pool2);
  free(tr.pool3);
  free(tr.cnn_out);
  free(tr.lstm_out);
  free(tr.logits);
}

/* ---- TEACHER.md 9(a): formula8 without a file ------------------------------------------- */

static void check_formula8(const teacher_fold_weights *fold0) {
  enum { T = 8 };
  static float x[T * TEACHER_IN_BINS];
  for (int t = 0; t < T; t++)
    for (int b = 0; b < TEACHER_IN_BINS; b++)
      x[t * TEACHER_IN_BINS + b] = (float)(0.01 * (1 + (7 * t + 3 * b) % 11));
  float *file = read_f32("reference/formula8.input.f32", T * TEACHER_IN_BINS);
  if (file) {
    CHECK(max_abs_diff(x, file, T * TEACHER_IN_BINS) == 0, "formula8 is the file's input");
    free(file);
  }
  static float probs[T * TEACHER_OUT], logits[T * TEACHER_OUT];
  teacher_trace tr = {0};
  tr.logits = logits;
  chordlet_error err = {0};
  CHECK(teacher_forward_fold(fold0, x, T, probs, &tr, &err) == CHORDLET_OK, "%s", err.message);
  const double want_logits[6] = {3.26226, 1.39295, 0.39259, 0.84711, 0.06590, 0.64055};
  double worst = 0;
  for (int j = 0; j < 6; j++) {
    CHECK_NEAR(logits[j], want_logits[j], 2e-5, "formula8 frame 0 logit");
    if (fabs(logits[j] - want_logits[j]) > worst) worst = fabs(logits[j] - want_logits[j]);
  }
  printf("  %-9s %-18s max |err| %.3g  (tolerance 2e-05: 5 printed decimals)\n", "formula8",
         "9(a) logits", worst);
  const double want_triad[3] = {0.2942, 0.3045, 0.2753}, want_bass[3] = {0.3078, 0.3396, 0.3036};
  for (int t = 0; t < 3; t++) {
    const float *p = probs + t * TEACHER_OUT;
    for (int h = 0; h < TEACHER_N_HEADS; h++) {
      int best = 0;
      for (int j = 1; j < teacher_head_size[h]; j++)
        if (p[teacher_head_offset[h] + j] > p[teacher_head_offset[h] + best]) best = j;
      CHECK(best == 0, "formula8 frame %d head %d: top-1 %d, expected 0", t, h, best);
      if (h == 0) {
        double second = 0;
        for (int j = 1; j < teacher_head_size[0]; j++)
          if (p[j] > second) second = p[j];
        CHECK(p[0] - second >= 0.147, "formula8 frame %d: triad margin %g", t, p[0] - second);
      }
    }
    CHECK_NEAR(p[0], want_triad[t], 6e-5, "formula8 triad p");
    CHECK_NEAR(p[73], want_bass[t], 6e-5, "formula8 bass p");
  }
}

/* ---- TEACHER.md 9(b): the first frames of music ------------------------------------------ */

static void check_music_frames(const teacher_fold_weights *folds) {
  enum { T = 517 };
  float *x = read_f32("reference/music.input.f32", (size_t)T * TEACHER_IN_BINS);
  float *probs = malloc((size_t)T * TEACHER_OUT * sizeof *probs);
  float *p170 = malloc((size_t)T * TEACHER_P170 * sizeof *p170);
  if (!x || !probs || !p170) {
    CHECK(0, "music input");
    free(x), free(probs), free(p170);
    return;
  }
  chordlet_error err = {0};
  CHECK(teacher_forward(folds, N_FOLDS, x, T, probs, &err) == CHORDLET_OK, "%s", err.message);
  teacher_heads_to_p170(probs, T, p170);
  const double triad[3] = {0.8764, 0.9244, 0.9548}, top170[3] = {0.8029, 0.8520, 0.8977};
  for (int t = 0; t < 3; t++) {
    const float *p = probs + t * TEACHER_OUT;
    int best = 0;
    for (int j = 1; j < 73; j++)
      if (p[j] > p[best]) best = j;
    CHECK(best == 1, "music frame %d: triad top-1 %d, expected 1 (C:maj)", t, best);
    CHECK_NEAR(p[1], triad[t], 6e-5 + 1e-3, "music ensemble triad C:maj");
    int b170 = 0;
    for (int q = 1; q < TEACHER_P170; q++)
      if (p170[t * TEACHER_P170 + q] > p170[t * TEACHER_P170 + b170]) b170 = q;
    CHECK(b170 == 1, "music frame %d: P170 top-1 %d, expected 1 (C:maj)", t, b170);
    CHECK_NEAR(p170[t * TEACHER_P170 + 1], top170[t], 6e-5 + 2e-3, "music P170 C:maj");
  }
  const double fold0[3] = {0.8462, 0.9110, 0.9599};
  CHECK(teacher_forward_fold(&folds[0], x, T, probs, NULL, &err) == CHORDLET_OK, "%s", err.message);
  for (int t = 0; t < 3; t++) CHECK_NEAR(probs[t * TEACHER_OUT + 1], fold0[t], 6e-5 + 1e-3, "music fold 0 triad");
  free(x);
  free(probs);
  free(p170);
}

/* ---- the fast path against the plain reference kernels ------------------------------------ */

static void check_against_ref(const teacher_fold_weights *fold0, const char *name, size_t T) {
  char file[256];
  snprintf(file, sizeof file, "reference/%s.input.f32", name);
  float *x = read_f32(file, T * TEACHER_IN_BINS);
  float *fast = malloc(T * TEACHER_OUT * sizeof *fast), *ref = malloc(T * TEACHER_OUT * sizeof *ref);
  float *fast_cnn = malloc(T * TEACHER_CNN_OUT * sizeof(float));
  float *ref_cnn = malloc(T * TEACHER_CNN_OUT * sizeof(float));
  if (x && fast && ref && fast_cnn && ref_cnn) {
    teacher_trace tf = {0}, trf = {0};
    tf.cnn_out = fast_cnn;
    trf.cnn_out = ref_cnn;
    chordlet_error err = {0};
    CHECK(teacher_forward_fold(fold0, x, T, fast, &tf, &err) == CHORDLET_OK, "%s", err.message);
    CHECK(teacher_forward_fold_ref(fold0, x, T, ref, &trf, &err) == CHORDLET_OK, "%s", err.message);
    double e_cnn = max_abs_diff(fast_cnn, ref_cnn, T * TEACHER_CNN_OUT);
    double e = max_abs_diff(fast, ref, T * TEACHER_OUT);
    printf("  %-9s %-18s max |err| %.3g  (tolerance 2e-05)\n", name, "fast-ref cnn_out", e_cnn);
    printf("  %-9s %-18s max |err| %.3g  (tolerance 1e-05)\n", name, "fast-ref probs", e);
    CHECK(e_cnn <= 2e-5, "%s: fast and reference cnn_out differ by %g", name, e_cnn);
    CHECK(e <= 1e-5, "%s: fast and reference probabilities differ by %g", name, e);
    snprintf(file, sizeof file, "reference/%s.fold0.probs.f32", name);
    compare_file(name, "ref-path probs", file, ref, T * TEACHER_OUT, 1e-4, 0);
  } else {
    CHECK(0, "allocation or input for %s", name);
  }
  free(x);
  free(fast);
  free(ref);
  free(fast_cnn);
  free(ref_cnn);
}

/* ---- short inputs and the crop ------------------------------------------------------------ */

/* T = 1, 2, 3 run (partial Winograd tiles, a one-frame LSTM) and give six
 * distributions per frame; the bins outside 18..269 have no influence. */
static void check_short_and_crop(const teacher_fold_weights *folds) {
  enum { TMAX = 3 };
  float x[TMAX * TEACHER_IN_BINS], y[TMAX * TEACHER_IN_BINS];
  float probs[TMAX * TEACHER_OUT], other[TMAX * TEACHER_OUT];
  for (int i = 0; i < TMAX * TEACHER_IN_BINS; i++) x[i] = y[i] = (float)(0.02 * (1 + (i * 37) % 13));
  for (int t = 0; t < TMAX; t++)
    for (int b = 0; b < TEACHER_IN_BINS; b++)
      if (b < TEACHER_BIN_OFFSET || b >= TEACHER_BIN_OFFSET + TEACHER_BINS_USED) y[t * TEACHER_IN_BINS + b] = 99.0f;
  for (size_t T = 1; T <= TMAX; T++) {
    chordlet_error err = {0};
    CHECK(teacher_forward(folds, N_FOLDS, x, T, probs, &err) == CHORDLET_OK, "T = %zu: %s", T, err.message);
    for (size_t t = 0; t < T; t++)
      for (int h = 0; h < TEACHER_N_HEADS; h++) {
        double sum = 0;
        for (int j = 0; j < teacher_head_size[h]; j++) sum += probs[t * TEACHER_OUT + teacher_head_offset[h] + j];
        CHECK(fabs(sum - 1) < 1e-5, "T = %zu frame %zu head %d sums to %g", T, t, h, sum);
      }
    CHECK(teacher_forward(folds, N_FOLDS, y, T, other, &err) == CHORDLET_OK, "%s", err.message);
    CHECK(max_abs_diff(probs, other, T * TEACHER_OUT) == 0, "T = %zu: bins outside 18..269 matter", T);
  }
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void check_errors(const teacher_fold_weights *folds, const blob *b0) {
  float x[3 * TEACHER_IN_BINS], probs[3 * TEACHER_OUT];
  for (int i = 0; i < 3 * TEACHER_IN_BINS; i++) x[i] = 0.01f * (float)(i % 7);
  chordlet_error err = {0};
  CHECK(teacher_forward_fold(&folds[0], x, 0, probs, NULL, &err) == CHORDLET_ERR_INVALID_ARGUMENT &&
            strstr(err.message, "no frames"),
        "T = 0 is refused: %s", err.message);
  CHECK(teacher_forward(folds, N_FOLDS, x, TEACHER_MAX_FRAMES + 1, probs, &err) == CHORDLET_ERR_RANGE &&
            strstr(err.message, "24 hours"),
        "absurd T is refused: %s", err.message);
  CHECK(teacher_forward(folds, 0, x, 3, probs, &err) == CHORDLET_ERR_INVALID_ARGUMENT,
        "no folds is refused");
  x[TEACHER_IN_BINS + 40] = NAN;
  CHECK(teacher_forward_fold(&folds[0], x, 3, probs, NULL, &err) == CHORDLET_ERR_INVALID_ARGUMENT &&
            strstr(err.message, "feature 40 of frame 1"),
        "NaN is refused: %s", err.message);
  x[TEACHER_IN_BINS + 40] = 0;
  x[TEACHER_IN_BINS + 5] = NAN; /* outside the bins the network uses: harmless */
  CHECK(teacher_forward_fold(&folds[0], x, 3, probs, NULL, &err) == CHORDLET_OK, "%s", err.message);
  teacher_fold_weights unbound = folds[0];
  unbound.lstm_R[1] = NULL;
  CHECK(teacher_forward_fold(&unbound, x, 3, probs, NULL, &err) == CHORDLET_ERR_INVALID_ARGUMENT &&
            strstr(err.message, "lstm.bwd.R"),
        "an unbound fold is refused: %s", err.message);

  teacher_fold_weights w;
  broken_blob bad = {*b0, "lstm.bwd.R", NULL};
  CHECK(teacher_fold_bind(&w, broken_lookup, &bad, &err) != CHORDLET_OK &&
            strstr(err.message, "lstm.bwd.R [384, 96]"),
        "a missing tensor is named: %s", err.message);
  broken_blob bad2 = {*b0, NULL, "cnn.conv3b.weight"};
  CHECK(teacher_fold_bind(&w, broken_lookup, &bad2, &err) != CHORDLET_OK &&
            strstr(err.message, "cnn.conv3b.weight [64, 64, 3, 3]") &&
            strstr(err.message, "another shape"),
        "a mis-shaped tensor is named: %s", err.message);
}

int main(void) {
  const char *shared = shared_dir();
  static char dir[2048];
  snprintf(dir, sizeof dir, "%s/models/teacher", shared);
  model_dir = dir;

  check_manifest();

  float *blobs[N_FOLDS];
  blob ctx[N_FOLDS];
  teacher_fold_weights folds[N_FOLDS];
  for (int k = 0; k < N_FOLDS; k++) {
    char name[32];
    snprintf(name, sizeof name, "fold%d.f32", k);
    blobs[k] = read_f32(name, TEACHER_FOLD_FLOATS); /* checks the 1,867,792 bytes */
    if (!blobs[k]) return check_summary("test_teacher");
    ctx[k].data = blobs[k];
    chordlet_error err = {0};
    CHECK(teacher_fold_bind(&folds[k], blob_lookup, &ctx[k], &err) == CHORDLET_OK, "bind fold %d: %s",
          k, err.message);
  }
  CHECK(folds[0].conv_weight[0] == blobs[0] && folds[0].fc_bias == blobs[0] + TEACHER_FOLD_FLOATS - 100,
        "tensors bound in blob order");

  char path[4096];
  snprintf(path, sizeof path, "%s/reference/reference.json", dir);
  size_t size;
  char *refjson = read_file(path, &size);
  CHECK(refjson != NULL, "cannot read %s", path);
  if (!refjson) return check_summary("test_teacher");

  printf("max |err| against onnxruntime (reference.json tolerances):\n");
  check_formula8(&folds[0]);
  const input_case cases[4] = {
      {"formula8", 8, 0}, {"short37", 37, 1}, {"random200", 200, 0}, {"music", 517, 0}};
  for (int i = 0; i < 4; i++) run_input(&cases[i], folds, refjson);
  check_music_frames(folds);
  check_against_ref(&folds[0], "formula8", 8);
  check_against_ref(&folds[0], "short37", 37);
  check_short_and_crop(folds);
  check_errors(folds, &ctx[0]);

  free(refjson);
  for (int k = 0; k < N_FOLDS; k++) free(blobs[k]);
  return check_summary("test_teacher");
}
