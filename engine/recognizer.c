/* recognizer.c: model file -> front end -> network -> decoder -> segments. */
#define _POSIX_C_SOURCE 200809L
#include "recognizer.h"
#include "recognizer_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqt_librosa.h"
#include "decode.h"
#include "error.h"
#include "model_keys.h"
#include "modelfile.h"
#include "stream.h"
#include "student.h"
#include "teacher.h"
#include "tuning.h"
#include "vocab.h"

enum { P170_SIZE = VOCAB_SIZE };

/* Column of each head's first entry in the teacher's (T, 100) output. */
static const int head_offset[N_HEADS] = {0, 73, 86, 90, 94, 97};
static const int head_size[N_HEADS] = {73, 13, 4, 4, 3, 3};

/* teacher_fold_bind's lookup: "fold<k>.<name>" in the model file. */
typedef struct fold_lookup {
  const model_file *model;
  int fold;
} fold_lookup;

static const float *lookup_fold_tensor(void *ctx, const char *name, int ndim, const int *shape,
                                       chordlet_error *err) {
  const fold_lookup *l = ctx;
  char full[MODEL_MAX_NAME + 1];
  snprintf(full, sizeof full, TEACHER_TENSOR_PREFIX "%s", l->fold, name);
  const float *data = NULL;
  if (model_file_expect_tensor(l->model, full, ndim, shape, &data, err)) return NULL;
  return data;
}

static chordlet_status load_frontend(recognizer *r, chordlet_error *err) {
  const model_file *m = r->model;
  const char *kind;
  int64_t hop, n_bins, bpo, estimate;
  double rate, fmin;
  chordlet_status st;
  if ((st = model_file_get_str(m, MK_FRONTEND_KIND, &kind, err)) ||
      (st = model_file_get_f64(m, MK_FRONTEND_SAMPLE_RATE, &rate, err)) ||
      (st = model_file_get_i64(m, MK_FRONTEND_HOP, &hop, err)) ||
      (st = model_file_get_f64(m, MK_FRONTEND_FMIN, &fmin, err)) ||
      (st = model_file_get_i64(m, MK_FRONTEND_N_BINS, &n_bins, err)) ||
      (st = model_file_get_i64(m, MK_FRONTEND_BINS_PER_OCTAVE, &bpo, err)) ||
      (st = model_file_get_i64(m, MK_FRONTEND_ESTIMATE_TUNING, &estimate, err)))
    return st;
  /* The teacher's network expects exactly these features (TEACHER.md 1). */
  cqt_librosa_config expected;
  cqt_librosa_teacher_config(&expected);
  if (strcmp(kind, FRONTEND_LIBROSA_HYBRID) != 0 || rate != expected.sample_rate || hop != expected.hop_length ||
      fabs(fmin - expected.fmin) > 1e-9 || n_bins != expected.n_bins || bpo != expected.bins_per_octave ||
      estimate != 1)
    return chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s: front end '%s' (%g Hz, hop %lld, %lld bins, %lld per octave) is not the one this "
                         "chordlet computes for this architecture",
                         model_file_name(m), kind, rate, (long long)hop, (long long)n_bins, (long long)bpo);
  r->frontend = expected;
  r->sample_rate = expected.sample_rate;
  r->frame_seconds = expected.hop_length / expected.sample_rate;
  return CHORDLET_OK;
}

static chordlet_status load_decoder(recognizer *r, chordlet_error *err) {
  const model_file *m = r->model;
  const char *kind, *names;
  const int32_t *heads;
  size_t n_heads;
  chordlet_status st;
  if ((st = model_file_get_str(m, MK_DECODER_KIND, &kind, err)) ||
      (st = model_file_get_f64(m, MK_DECODER_PENALTY, &r->switch_penalty, err)) ||
      (st = model_file_get_str(m, MK_DECODER_STATE_NAMES, &names, err)) ||
      (st = model_file_get_i32_array(m, MK_DECODER_STATE_HEADS, &heads, &n_heads, err)))
    return st;
  if (strcmp(kind, "viterbi") != 0)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: unknown decoder '%s'", model_file_name(m), kind);
  if (!(r->switch_penalty >= 0 && r->switch_penalty < 1e6))
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: decoder switch penalty %g is out of range",
                         model_file_name(m), r->switch_penalty);
  size_t S = 1;
  for (const char *p = names; *p; p++) S += *p == '\n';
  if (n_heads != S * N_HEADS || S > 65535)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: %zu decoder state names but %zu head indices",
                         model_file_name(m), S, n_heads);
  r->n_states = S;
  r->state_columns = malloc(S * N_HEADS * sizeof *r->state_columns);
  r->state_chord = malloc(S * sizeof *r->state_chord);
  r->state_class = malloc(S * sizeof *r->state_class);
  if (!r->state_columns || !r->state_chord || !r->state_class)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory loading the decoder");
  const char *line = names;
  for (size_t s = 0; s < S; s++) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char label[HARTE_LABEL_MAX + 1];
    if (len > HARTE_LABEL_MAX) len = HARTE_LABEL_MAX;
    memcpy(label, line, len);
    label[len] = '\0';
    chordlet_error label_err;
    if (harte_parse(label, &r->state_chord[s], &label_err))
      return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: decoder state %zu: %s", model_file_name(m), s,
                           label_err.message);
    r->state_class[s] = harte_to_class(&r->state_chord[s]);
    for (int h = 0; h < N_HEADS; h++) {
      int32_t idx = heads[s * N_HEADS + h];
      if (idx < -1 || idx >= head_size[h])
        return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: decoder state %zu uses entry %d of head %d (size %d)",
                             model_file_name(m), s, idx, h, head_size[h]);
      r->state_columns[s * N_HEADS + h] = idx < 0 ? -1 : head_offset[h] + idx;
    }
    line = end ? end + 1 : line + len;
  }
  if (r->state_chord[0].kind != HARTE_NO_CHORD)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: the decoder's first state must be N", model_file_name(m));
  return CHORDLET_OK;
}

static chordlet_status load_teacher(recognizer *r, chordlet_error *err) {
  int64_t n_folds;
  chordlet_status st = model_file_get_i64(r->model, MK_TEACHER_N_FOLDS, &n_folds, err);
  if (st) return st;
  if (n_folds < 1 || n_folds > MAX_FOLDS)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: %lld folds (1 to %d allowed)", model_file_name(r->model),
                         (long long)n_folds, MAX_FOLDS);
  r->n_folds = (int)n_folds;
  for (int k = 0; k < r->n_folds; k++) {
    fold_lookup l = {r->model, k};
    if ((st = teacher_fold_bind(&r->folds[k], lookup_fold_tensor, &l, err))) return st;
  }
  if ((st = load_frontend(r, err))) return st;
  return load_decoder(r, err);
}

/* The student: the streaming CQT (read at 22050 Hz, as its training caches
 * were made), the 2E1D network, and a Viterbi decoder over the 170 classes
 * (state 0 is N, as decode_viterbi wants; one probability column each). */
static chordlet_status load_student(recognizer *r, chordlet_error *err) {
  const model_file *m = r->model;
  size_t n_floats = 0;
  chordlet_status st;
  if ((st = student_config_read(m, &r->student, err)) || (st = cqt_params_read(m, &r->stream, err)) ||
      (st = tuning_params_read(m, &r->tuning, err)))
    return st;
  if (r->stream.n_bins != r->student.n_bins || r->student.n_classes != VOCAB_SIZE)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: the front end's %d bins or the %d classes do not fit the student",
                         model_file_name(m), r->stream.n_bins, r->student.n_classes);
  if ((st = student_check_params(m, &r->student, err))) return st; /* before allocating what it claims */
  student_layout(&r->student, NULL, &n_floats);
  if (!(r->student_params = malloc(n_floats * sizeof *r->student_params)))
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  if ((st = student_read_params(m, &r->student, r->student_params, err))) return st;
  const char *kind;
  if ((st = model_file_get_str(m, MK_DECODER_KIND, &kind, err)) ||
      (st = model_file_get_f64(m, MK_DECODER_PENALTY, &r->switch_penalty, err)))
    return st;
  if (strcmp(kind, "viterbi") != 0 || !(r->switch_penalty >= 0 && r->switch_penalty < 1e6))
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: decoder '%s' with penalty %g is not one chordlet runs",
                         model_file_name(m), kind, r->switch_penalty);
  r->n_states = VOCAB_SIZE;
  r->state_columns = malloc(VOCAB_SIZE * N_HEADS * sizeof *r->state_columns);
  r->state_chord = malloc(VOCAB_SIZE * sizeof *r->state_chord);
  r->state_class = malloc(VOCAB_SIZE * sizeof *r->state_class);
  if (!r->state_columns || !r->state_chord || !r->state_class)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory loading the decoder");
  for (int s = 0; s < VOCAB_SIZE; s++) {
    const int cls = s == 0 ? VOCAB_N : s - 1; /* state 0 = N, then classes 0..168 */
    char name[VOCAB_NAME_MAX];
    vocab_class_name(cls, name, sizeof name);
    if (harte_parse(name, &r->state_chord[s], err)) return CHORDLET_ERR_PARSE;
    r->state_class[s] = cls;
    r->state_columns[s * N_HEADS] = cls;
    for (int h = 1; h < N_HEADS; h++) r->state_columns[s * N_HEADS + h] = -1;
  }
  r->is_student = 1;
  r->sample_rate = 22050.0;
  r->frame_seconds = r->stream.hop_seconds;
  r->hop_samples = (size_t)lround(r->stream.hop_seconds * r->sample_rate);
  return CHORDLET_OK;
}

chordlet_status recognizer_phases(const recognizer *r, const recognizer_options *options, int *K,
                                  chordlet_error *err) {
  const int k = options && options->phases > 1 ? options->phases : 1;
  *K = 1;
  if (options && options->phases < 0)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%d phases: give 1 to %d", options->phases, RECOGNIZER_MAX_PHASES);
  if (k == 1) return CHORDLET_OK;
  if (!r->is_student)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "the teacher sees the whole song on its own frame grid: %d phases are for a student", k);
  if (k > RECOGNIZER_MAX_PHASES || r->hop_samples % (size_t)k != 0)
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "%d phases: give 1 to %d, dividing the model's hop of %zu samples into whole samples", k,
                         RECOGNIZER_MAX_PHASES, r->hop_samples);
  *K = k;
  return CHORDLET_OK;
}

void recognizer_free(recognizer *r) {
  if (!r) return;
  free(r->student_params);
  model_file_free(r->model);
  free(r->name);
  free(r->state_columns);
  free(r->state_chord);
  free(r->state_class);
  free(r);
}

/* The optional MK_DECODER_ADVANCE (models exported before it have none: 0). */
static chordlet_status load_advance(recognizer *r, chordlet_error *err) {
  r->change_advance = 0;
  if (!model_file_has(r->model, MK_DECODER_ADVANCE)) return CHORDLET_OK;
  chordlet_status st = model_file_get_f64(r->model, MK_DECODER_ADVANCE, &r->change_advance, err);
  if (st) return st;
  if (!(fabs(r->change_advance) <= RECOGNIZER_MAX_ADVANCE))
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: decoder change advance %g s is out of range (at most %g)",
                         model_file_name(r->model), r->change_advance, RECOGNIZER_MAX_ADVANCE);
  return CHORDLET_OK;
}

chordlet_status recognizer_load(const char *path, recognizer **out, chordlet_error *err) {
  *out = NULL;
  recognizer *r = calloc(1, sizeof *r);
  if (!r) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  chordlet_status st = model_file_load(path, &r->model, err);
  const char *arch = NULL, *name = NULL;
  if (!st) st = model_file_get_str(r->model, MK_ARCHITECTURE, &arch, err);
  if (!st) st = model_file_get_str(r->model, MK_NAME, &name, err);
  if (!st) {
    r->name = strdup(name);
    if (!r->name) st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", path);
    else if (strcmp(arch, ARCH_TEACHER) == 0) st = load_teacher(r, err);
    else if (strcmp(arch, ARCH_STUDENT_2E1D) == 0) st = load_student(r, err);
    else
      st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: architecture '%s' is not one this chordlet can run",
                         path, arch);
  }
  if (!st) st = load_advance(r, err);
  if (st) {
    recognizer_free(r);
    return st;
  }
  *out = r;
  return CHORDLET_OK;
}

double recognizer_sample_rate(const recognizer *r) { return r->sample_rate; }
double recognizer_frame_seconds(const recognizer *r) { return r->frame_seconds; }
const char *recognizer_name(const recognizer *r) { return r->name; }

const teacher_fold_weights *recognizer_teacher_folds(const recognizer *r, int *n_folds) {
  *n_folds = r->n_folds;
  return r->n_folds ? r->folds : NULL;
}

void transcription_free(transcription *t) {
  lab_free(&t->segments);
  free(t->confidence);
  free(t->features);
  memset(t, 0, sizeof *t);
}

/* Logits to probabilities, row by row (T, n). */
void recognizer_softmax_rows(float *x, size_t T, size_t n) {
  for (size_t t = 0; t < T; t++) {
    float *row = x + t * n, top = row[0];
    for (size_t k = 1; k < n; k++) top = row[k] > top ? row[k] : top;
    double sum = 0;
    for (size_t k = 0; k < n; k++) sum += row[k] = expf(row[k] - top);
    const float inv = (float)(1.0 / sum);
    for (size_t k = 0; k < n; k++) row[k] *= inv;
  }
}

static void report(const recognizer_options *o, double fraction) {
  if (o && o->progress) o->progress(o->progress_ctx, fraction);
}

/* The front end is about a tenth of the work; each fold gets an equal share of the rest. */
static void report_fold(void *ctx, int done, int n_folds) {
  report(ctx, 0.1 + 0.85 * done / n_folds);
}

chordlet_status recognizer_segments(const recognizer *r, const recognizer_options *options,
                                    const decode_scored_run *runs, size_t n_runs, size_t n_frames,
                                    double duration, transcription *out, chordlet_error *err) {
  out->confidence = malloc((n_runs ? n_runs : 1) * sizeof *out->confidence);
  if (!out->confidence) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  int K = 1;
  chordlet_status pst = recognizer_phases(r, options, &K, err);
  if (pst) return pst;
  const double frame = recognizer_frame_seconds(r) / K;
  const int argmax = options && options->decoder == RECOGNIZER_ARGMAX;
  const double advance = options && options->advance_given ? options->change_advance : r->change_advance;
  if (!(fabs(advance) <= RECOGNIZER_MAX_ADVANCE))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "a change advance of %g s: give at most %g", advance,
                         RECOGNIZER_MAX_ADVANCE);
  for (size_t i = 0; i < n_runs; i++) {
    /* The teacher's frame k covers [k, k+1) hops (the original decoder's
     * convention); the student's frame k is centred on k hops (stream.h).
     * Each change between runs moves `advance` earlier: a network that
     * switches late does so by about the same time at every change
     * (docs/RESULTS.md 7.19). The first segment starts at 0 and the last
     * ends with the audio, whatever the advance. */
    const double shift = r->is_student ? -0.5 : 0.0;
    const double at_start = i == 0 ? 0.0 : advance, at_end = i + 1 == n_runs ? 0.0 : advance;
    double start = fmin(fmax(0.0, (runs[i].first + shift) * frame - at_start), duration),
           end = fmin((runs[i].last + 1 + shift) * frame - at_end, duration);
    if (end <= start) continue;
    harte_chord chord;
    if (argmax) {
      char name[VOCAB_NAME_MAX];
      vocab_class_name(runs[i].state, name, sizeof name);
      harte_parse(name, &chord, NULL);
    } else {
      chord = r->state_chord[runs[i].state];
    }
    out->confidence[out->segments.n_segments] = (float)(runs[i].sum / (runs[i].last - runs[i].first + 1));
    chordlet_status st = lab_append(&out->segments, start, end, &chord, err);
    if (st) return st;
  }
  out->n_frames = n_frames;
  out->frame_seconds = frame;
  out->feature_seconds = recognizer_frame_seconds(r);
  out->duration_seconds = duration;
  return CHORDLET_OK;
}

/* K passes of the student (recognizer_options.phases): pass p over the audio
 * after p * hop / K samples of silence, each frame's probabilities then
 * interleaved on the grid of hop / K (phase_grid_frame): *probs
 * (*M, 170), *M = cqt_offline_frame_count(n, hop / K); every grid point
 * inside the audio has its frame, as pass p's last one is centred on the
 * last hop-grid point inside its longer audio. *features: the first pass's
 * (*T0, n_bins), the model's own grid. recognizer_file.c streams the same. */
static chordlet_status student_fused_probs(const recognizer *r, double cents, const float *audio, size_t n, int K,
                                           float **probs, size_t *M, float **features, size_t *T0,
                                           chordlet_error *err) {
  const size_t shift = r->hop_samples / (size_t)K, m_frames = cqt_offline_frame_count(n, shift);
  float *pass[RECOGNIZER_MAX_PHASES] = {NULL}, *feat = NULL;
  size_t T[RECOGNIZER_MAX_PHASES] = {0};
  chordlet_status st = CHORDLET_OK;
  *probs = *features = NULL;
  *M = *T0 = 0;
  /* The later passes' audio: silence, then the song (the first pass reads it as it is). */
  float *padded = malloc((n + (size_t)(K - 1) * shift) * sizeof *padded);
  if (!padded) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for %zu samples", n);
  for (int p = 0; p < K && !st; p++) {
    const size_t lead = (size_t)p * shift;
    if (p > 0) {
      memset(padded, 0, lead * sizeof *padded);
      memcpy(padded + lead, audio, n * sizeof *padded);
    }
    if ((st = cqt_features_offline_tuned(&r->stream, cents, p > 0 ? padded : audio, n + lead, r->sample_rate, &feat,
                                         &T[p], err)))
      break;
    if (T[p] == 0 || T[p] > (size_t)1 << 28) {
      st = chordlet_fail(err, CHORDLET_ERR_RANGE, "%zu frames: too short or too long to transcribe", T[p]);
    } else if (!(pass[p] = malloc(T[p] * P170_SIZE * sizeof *pass[p]))) {
      st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for %zu frames", T[p]);
    } else if (!(st = student_forward(&r->student, r->student_params, feat, (int)T[p], pass[p], err))) {
      recognizer_softmax_rows(pass[p], T[p], P170_SIZE);
      if (p == 0) {
        *features = feat;
        *T0 = T[0];
        feat = NULL;
      }
    }
    free(feat);
    feat = NULL;
  }
  if (!st && !(*probs = malloc(m_frames * P170_SIZE * sizeof **probs)))
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for %zu frames", m_frames);
  for (size_t m = 0; !st && m < m_frames; m++) {
    int p;
    size_t k;
    phase_grid_frame(m, K, &p, &k);
    if (k >= T[p])
      st = chordlet_fail(err, CHORDLET_ERR_RANGE, "internal error: frame %zu is beyond pass %d's %zu", m, p, T[p]);
    else
      memcpy(*probs + m * P170_SIZE, pass[p] + k * P170_SIZE, P170_SIZE * sizeof **probs);
  }
  free(padded);
  for (int p = 0; p < K; p++) free(pass[p]);
  if (st) {
    free(*probs);
    free(*features);
    *probs = *features = NULL;
    return st;
  }
  *M = m_frames;
  return CHORDLET_OK;
}

chordlet_status recognizer_transcribe(const recognizer *r, const float *audio, size_t n,
                                      const recognizer_options *options, transcription *out,
                                      chordlet_error *err) {
  memset(out, 0, sizeof *out);
  if (n == 0) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no audio to transcribe");
  report(options, 0);
  float *features = NULL; /* (T, n_bins) */
  size_t T = 0;
  const double given_hz = options ? options->tuning_hz : 0.0;
  if (given_hz != 0.0 && !(given_hz >= CHORDLET_TUNING_MIN_HZ && given_hz <= CHORDLET_TUNING_MAX_HZ))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "A4 = %g Hz: the reference must lie within %g..%g Hz", given_hz,
                         (double)CHORDLET_TUNING_MIN_HZ, (double)CHORDLET_TUNING_MAX_HZ);
  int K = 1;
  chordlet_status st = recognizer_phases(r, options, &K, err);
  if (st) return st;
  float *fused = NULL;   /* (T, 170) with K passes: their probabilities on the fine grid */
  size_t feature_T = 0;  /* rows of features */
  if (r->is_student) {
    /* The music's tuning first, then the front end built there. */
    int found = 0;
    double cents = 0.0;
    if (given_hz != 0.0)
      cents = tuning_hz_to_cents(given_hz);
    else if ((st = tuning_estimate(&r->tuning, audio, n, r->sample_rate, &found, &cents, err)))
      return st;
    out->tuning_cents = cents;
    out->tuning_estimated = found;
    if (K == 1) {
      st = cqt_features_offline_tuned(&r->stream, cents, audio, n, r->sample_rate, &features, &T, err);
      feature_T = T;
    } else {
      st = student_fused_probs(r, cents, audio, n, K, &fused, &T, &features, &feature_T, err);
    }
  } else {
    /* The teacher's librosa front end counts tuning in fractions of its
     * 36-per-octave bins. */
    cqt_librosa_config fe = r->frontend;
    double bins = 0.0;
    if (given_hz != 0.0) {
      fe.estimate_tuning = false;
      fe.tuning = tuning_hz_to_cents(given_hz) * fe.bins_per_octave / 1200.0;
    }
    st = cqt_librosa_hybrid(audio, n, &fe, &features, &T, &bins, err);
    feature_T = T;
    out->tuning_cents = bins * 1200.0 / fe.bins_per_octave;
    out->tuning_estimated = given_hz == 0.0;
  }
  if (st) return st;
  if (T == 0 || T > (size_t)1 << 28) {
    free(features);
    free(fused);
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%zu frames: too short or too long to transcribe", T);
  }
  report(options, 0.1);
  const size_t n_columns = r->is_student ? (size_t)VOCAB_SIZE : (size_t)TEACHER_OUT;
  float *probs = malloc(T * n_columns * sizeof *probs);       /* (T, 100) ensemble mean, or (T, 170) */
  float *p170 = fused ? fused : malloc(T * P170_SIZE * sizeof *p170); /* (T, 170) */
  fused = NULL;
  int32_t *path = malloc(T * sizeof *path);                    /* (T) */
  decode_run *runs = malloc(T * sizeof *runs);                 /* (T) at most */
  decode_scored_run *scored = NULL;                            /* (n_runs) */
  if (!probs || !p170 || !path || !runs) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for %zu frames", T);
    goto done;
  }
  if (r->is_student) {
    if (K == 1) {
      if ((st = student_forward(&r->student, r->student_params, features, (int)T, p170, err))) goto done;
      recognizer_softmax_rows(p170, T, P170_SIZE);
    }
    memcpy(probs, p170, T * P170_SIZE * sizeof *probs);
  } else {
    if ((st = teacher_forward_progress(r->folds, r->n_folds, features, T, probs, report_fold, (void *)options,
                                       err)))
      goto done;
    teacher_heads_to_p170(probs, T, p170);
  }
  report(options, 0.95);
  if (options && options->decoder == RECOGNIZER_ARGMAX) {
    decode_argmax(p170, T, P170_SIZE, path);
  } else if ((st = decode_viterbi(probs, T, n_columns, r->state_columns, r->n_states, N_HEADS,
                                  K * (options && options->switch_penalty > 0 ? options->switch_penalty
                                                                              : r->switch_penalty),
                                  path, err))) {
    goto done;
  }
  size_t n_runs = decode_runs(path, T, runs);
  /* Each run's confidence sum: its chord's 170-class probability over its
   * frames, in frame order (decode_stream.h sums the same way). */
  scored = malloc(n_runs * sizeof *scored);
  if (!scored) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
    goto done;
  }
  const int argmax = options && options->decoder == RECOGNIZER_ARGMAX;
  for (size_t i = 0; i < n_runs; i++) {
    const int cls = argmax ? runs[i].state : r->state_class[runs[i].state];
    double sum = 0;
    for (size_t t = runs[i].first; t <= runs[i].last; t++) sum += p170[t * P170_SIZE + cls];
    scored[i] = (decode_scored_run){runs[i].first, runs[i].last, runs[i].state, sum};
  }
  if ((st = recognizer_segments(r, options, scored, n_runs, T, n / r->sample_rate, out, err))) goto done;
  if (options && options->keep_features) {
    out->features = features; /* the caller's now */
    out->feature_frames = feature_T;
    out->n_bins = r->is_student ? r->stream.n_bins : (int)r->frontend.n_bins;
    features = NULL;
  }
  report(options, 1);
done:
  free(features);
  free(probs);
  free(p170);
  free(path);
  free(runs);
  free(scored);
  if (st) transcription_free(out);
  return st;
}

chordlet_status recognizer_teacher_p170(const recognizer *r, const float *audio, size_t n, int n_folds,
                                        float **p170, size_t *T, double *tuning, chordlet_error *err) {
  *p170 = NULL;
  *T = 0;
  if (r->n_folds == 0)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "%s is not a teacher model", r->name);
  if (n_folds <= 0 || n_folds > r->n_folds) n_folds = r->n_folds;
  if (n == 0) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no audio");
  float *features = NULL; /* (T, n_bins) */
  size_t frames = 0;
  chordlet_status st = cqt_librosa_hybrid(audio, n, &r->frontend, &features, &frames, tuning, err);
  if (st) return st;
  float *probs = malloc(frames * TEACHER_OUT * sizeof *probs); /* (T, 100) */
  float *out = malloc(frames * P170_SIZE * sizeof *out);       /* (T, 170) */
  if (!probs || !out) st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for %zu frames", frames);
  if (!st) st = teacher_forward(r->folds, n_folds, features, frames, probs, err);
  if (!st) {
    teacher_heads_to_p170(probs, frames, out);
    *p170 = out;
    *T = frames;
    out = NULL;
  }
  free(out);
  free(probs);
  free(features);
  return st;
}
