/* bench_student.c: `make bench`, the students' inference cost, each
 * measurement against a baseline run in the same process on the same input:
 *   a) incremental inference: student_stream_push per hop (20 ms) on one core
 *      over 3000 frames of real features (examples/synth0046.flac through
 *      cqt_features_offline at 22050 Hz, as the recognizer computes them,
 *      tiled), median / p99 / max microseconds per push and as a share of the
 *      hop; target <= 1 ms per hop. Baseline: what a cache-less
 *      implementation pays per hop, student_forward over the last `context`
 *      frames (one sgemm-based full window per hop).
 *   b) `chordlet transcribe` on one core (openblas_set_num_threads(1)): the
 *      file synth0046.flac tiled to 3 minutes at its own rate and written to a
 *      temporary 16-bit FLAC with libsndfile; timed: audiofile_read of that
 *      file (decoding + resampling to 22050 Hz) and recognizer_transcribe,
 *      split into front end (cqt_features_offline), network (student_forward)
 *      and decoder (softmax + 170-state Viterbi + segments: the rest of
 *      transcribe), each stage timed on its own, for the live student and
 *      for the file-mode student (models/offline.chordlet: 60 ms frames,
 *      transcribe's default) when it is shipped. Target >= 500x real time
 *      with transcribe's default model. Baseline: the teacher
 *      (models/teacher.chordlet) decoding and transcribing the same file on
 *      one core.
 * The model: models/default.chordlet when it exists, else a model file of
 * student_config_default() with random weights (student_init, seed 1) and the
 * keys a trained student carries, written to a temporary file: the speed
 * does not depend on the weights. The output says which.
 * Timings are medians of several runs; the machine is shared, so expect
 * 10-30 % noise. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audiofile.h"
#include "bench_util.h"
#include "model_keys.h"
#include "modelfile.h"
#include "recognizer.h"
#include "stream.h"
#include "student.h"

enum { STREAM_FRAMES = 3000, STREAM_RUNS = 3, WINDOW_HOPS = 300, RUNS = 5, TEACHER_RUNS = 3 };
static const double TARGET_HOP_MS = 1.0, TARGET_XRT = 500.0, SECONDS = 180.0, RATE = 22050.0;

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return v[n / 2];
}

/* Useful floating-point operations per frame of the network (2 per
 * multiply-add), counted from the config: every linear layer, and for each
 * time attention the scores and the weighted sum over a full band of
 * `context` keys (plus the lookahead in the first temporal layer); the
 * frequency attention over the G tokens. Element-wise work (LayerNorm,
 * softmax, ReLU) is left out. */
static double flops_per_frame(const student_config *c) {
  const double d = c->n_bins, G = c->n_groups, ef = d / G, K = c->n_classes, m = c->ff_mult;
  const double freq = G * (4 * ef * ef + 2 * ef * m * ef + 2 * G * ef);
  const double band = c->context;
  double macs = c->layers_f * freq + 2 * d * d + d * K;
  for (int l = 0; l < c->layers_t; l++) macs += 4 * d * d + 2 * d * m * d + 2 * (band + (l ? 0 : c->lookahead)) * d;
  macs += c->layers_d * (8 * d * d + 2 * d * m * d + 2 * 2 * band * d);
  return 2 * macs;
}

/* The 1-minute load average, as text ("?" if unknown). */
static void read_loadavg(char *out, size_t n) {
  FILE *f = fopen("/proc/loadavg", "r");
  snprintf(out, n, "?");
  if (f) {
    if (fgets(out, (int)n, f)) out[strcspn(out, " ")] = 0;
    fclose(f);
  }
}

static void die(const char *what, const chordlet_error *err) {
  fprintf(stderr, "bench_student: %s: %s\n", what, err->message);
  exit(1);
}

/* A model file of student_config_default() with random weights and the keys
 * trainer/train.c's export_model writes (those the recognizer reads). */
static void write_random_model(const char *path) {
  chordlet_error err;
  student_config c = student_config_default();
  size_t n_floats = 0;
  student_layout(&c, NULL, &n_floats);
  float *params = malloc(n_floats * sizeof *params);
  if (!params) {
    fprintf(stderr, "bench_student: out of memory\n");
    exit(1);
  }
  student_init(&c, params, 1);
  cqt_params fe;
  cqt_params_default(&fe);
  model_writer *w = model_writer_create();
  if (!w) {
    fprintf(stderr, "bench_student: out of memory\n");
    exit(1);
  }
  chordlet_status st;
  (void)((st = student_write(w, &c, params, &err)) || (st = model_writer_set_str(w, MK_NAME, "student", &err)) ||
         (st = model_writer_set_str(w, MK_DESCRIPTION, "bench_student: random weights (seed 1)", &err)) ||
         (st = model_writer_set_i64(w, MK_STREAMABLE, 1, &err)) ||
         (st = model_writer_set_str(w, MK_FRONTEND_KIND, FRONTEND_STREAM_CQT, &err)) ||
         (st = cqt_params_write(&fe, w, &err)) || (st = model_writer_set_str(w, MK_DECODER_KIND, "viterbi", &err)) ||
         (st = model_writer_set_f64(w, MK_DECODER_PENALTY, 8.0, &err)) || (st = model_writer_save(w, path, &err)));
  model_writer_free(w);
  free(params);
  if (st) die("writing the random model", &err);
}

/* (n) mono samples at rate to a 16-bit FLAC. */
static void write_flac(const char *path, const float *y, size_t n, double rate) {
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.samplerate = (int)rate;
  info.channels = 1;
  info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);
  if (!f) {
    fprintf(stderr, "bench_student: cannot write %s: %s\n", path, sf_strerror(NULL));
    exit(1);
  }
  if (sf_writef_float(f, y, (sf_count_t)n) != (sf_count_t)n) {
    fprintf(stderr, "bench_student: writing %s: %s\n", path, sf_strerror(f));
    exit(1);
  }
  sf_close(f);
}

/* A student model file's config, front end and parameters (malloc'ed). */
static float *read_student(const char *path, student_config *c, cqt_params *fe) {
  chordlet_error err;
  model_file *m;
  size_t n_floats = 0;
  if (model_file_load(path, &m, &err) || student_config_read(m, c, &err) || cqt_params_read(m, fe, &err))
    die("model", &err);
  student_layout(c, NULL, &n_floats);
  float *params = malloc(n_floats * sizeof *params);
  if (!params || student_read_params(m, c, params, &err)) die("model parameters", &err);
  model_file_free(m);
  return params;
}

/* `runs` whole transcriptions of the file: medians of decoding, of
 * recognizer_transcribe and of both; the decoded audio is left in *y. */
static void time_transcribe(const recognizer *r, const char *flac_path, int runs, audio_buffer *y, double *dec,
                            double *tr, double *all) {
  double t_dec[RUNS + TEACHER_RUNS], t_tr[RUNS + TEACHER_RUNS], t_all[RUNS + TEACHER_RUNS];
  chordlet_error err;
  for (int k = 0; k < runs; k++) {
    audio_buffer_free(y);
    double t0 = bench_now();
    if (audiofile_read(flac_path, recognizer_sample_rate(r), y, &err)) die("tiled audio", &err);
    t_dec[k] = bench_now() - t0;
    transcription out;
    t0 = bench_now();
    if (recognizer_transcribe(r, y->samples, y->n_samples, NULL, &out, &err)) die("transcribe", &err);
    t_tr[k] = bench_now() - t0;
    t_all[k] = t_dec[k] + t_tr[k];
    transcription_free(&out);
  }
  *dec = median(t_dec, runs);
  *tr = median(t_tr, runs);
  *all = median(t_all, runs);
}

/* One student's whole transcription, stage by stage (part b). */
typedef struct stage_times {
  double dec, fe, net, rest, tr, all; /* medians, seconds */
  double file;                        /* median of recognizer_transcribe_file: what the command runs */
  double file3;                       /* the same with --phases 3 (recognizer_options.phases) */
  double seconds;                     /* audio */
  size_t T;                           /* frames */
  double fpf;                         /* network FLOP per frame */
  int hop_ms, lookahead;
} stage_times;

static stage_times time_student(const char *model_path, const char *flac_path) {
  chordlet_error err;
  student_config c;
  cqt_params fe;
  float *params = read_student(model_path, &c, &fe);
  recognizer *rs;
  if (recognizer_load(model_path, &rs, &err)) die("student model", &err);
  stage_times r = {0};
  audio_buffer y = {0};
  time_transcribe(rs, flac_path, RUNS, &y, &r.dec, &r.tr, &r.all);
  double t_fe[RUNS], t_net[RUNS];
  r.seconds = (double)y.n_samples / recognizer_sample_rate(rs);
  /* The stages alone, on the same samples, as recognizer_transcribe runs them. */
  for (int k = 0; k < RUNS; k++) {
    float *f = NULL;
    double t0 = bench_now();
    if (cqt_features_offline(&fe, y.samples, y.n_samples, recognizer_sample_rate(rs), &f, &r.T, &err))
      die("front end", &err);
    t_fe[k] = bench_now() - t0;
    float *z = malloc(r.T * (size_t)c.n_classes * sizeof *z);
    t0 = bench_now();
    if (!z || student_forward(&c, params, f, (int)r.T, z, &err)) die("network", &err);
    t_net[k] = bench_now() - t0;
    free(z);
    free(f);
  }
  /* chordlet transcribe's own path since issue 17: the file streamed in blocks
   * (read twice when the tuning is estimated), the network in windows and a
   * streaming Viterbi, in memory bounded by the model. The target applies here. */
  double t_file[RUNS];
  for (int k = 0; k < RUNS; k++) {
    transcription out;
    double t0 = bench_now();
    if (recognizer_transcribe_file(rs, flac_path, NULL, &out, &err)) die("transcribe file", &err);
    t_file[k] = bench_now() - t0;
    transcription_free(&out);
  }
  r.file = median(t_file, RUNS);
  /* --phases 3: three passes a third of a hop apart, fused (recognizer.h). */
  recognizer_options three = {.decoder = RECOGNIZER_VITERBI, .phases = 3};
  for (int k = 0; k < RUNS; k++) {
    transcription out;
    double t0 = bench_now();
    if (recognizer_transcribe_file(rs, flac_path, &three, &out, &err)) die("transcribe file, 3 phases", &err);
    t_file[k] = bench_now() - t0;
    transcription_free(&out);
  }
  r.file3 = median(t_file, RUNS);
  r.fe = median(t_fe, RUNS);
  r.net = median(t_net, RUNS);
  r.rest = r.tr - r.fe - r.net > 0 ? r.tr - r.fe - r.net : 0;
  r.fpf = flops_per_frame(&c);
  r.hop_ms = (int)(fe.hop_seconds * 1e3 + 0.5);
  r.lookahead = c.lookahead;
  audio_buffer_free(&y);
  recognizer_free(rs);
  free(params);
  return r;
}

static void print_student_rows(const stage_times *t, const char *name) {
  const double all = t->all, sec = t->seconds;
  printf("| %s: %d ms frames, %zu of them | audio decoding (audiofile_read) | %.3f | %.1f %% | %.0fx |\n", name,
         t->hop_ms, t->T, t->dec, 100 * t->dec / all, sec / t->dec);
  printf("| | front end (cqt_features_offline) | %.3f | %.1f %% | %.0fx |\n", t->fe, 100 * t->fe / all, sec / t->fe);
  printf("| | network (student_forward, %.2f MFLOP per frame) | %.3f | %.1f %% | %.0fx |\n", t->fpf * 1e-6, t->net,
         100 * t->net / all, sec / t->net);
  printf("| | decoder (softmax + Viterbi + segments: transcribe minus the two above) | %.3f | %.1f %% | %.0fx |\n",
         t->rest, 100 * t->rest / all, t->rest > 0 ? sec / t->rest : 0.0);
  printf("| | recognizer_transcribe | %.3f | %.1f %% | %.0fx |\n", t->tr, 100 * t->tr / all, sec / t->tr);
  printf("| | total: decode + transcribe (whole file in memory) | %.3f | 100 %% | %.0fx |\n", all, sec / all);
  printf("| | **chordlet transcribe's path: recognizer_transcribe_file (streamed, bounded memory)** | **%.3f** | %.1f %% | "
         "**%.0fx** |\n", t->file, 100 * t->file / all, sec / t->file);
  printf("| | the same with `--phases 3` (3 passes a third of a frame apart, decoded on the finer grid) | %.3f | "
         "%.1f %% | %.0fx (%.2f times the time of one pass) |\n",
         t->file3, 100 * t->file3 / all, sec / t->file3, t->file3 / t->file);
}

int main(int argc, char **argv) {
  const char *audio_path = argc > 1 ? argv[1] : "examples/synth0046.flac";
  const char *teacher_path = argc > 2 ? argv[2] : "models/teacher.chordlet";
  const char *default_path = "models/default.chordlet", *offline_path = "models/offline.chordlet";
  chordlet_error err;
  openblas_set_num_threads(1);

  char dir[] = "/tmp/chordlet-bench-student-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("bench_student: mkdtemp");
    return 1;
  }
  char model_path[256], flac_path[256];
  snprintf(flac_path, sizeof flac_path, "%s/tiled.flac", dir);
  const char *which;
  if (access(default_path, R_OK) == 0) {
    snprintf(model_path, sizeof model_path, "%s", default_path);
    which = "live student (models/default.chordlet)";
  } else {
    snprintf(model_path, sizeof model_path, "%s/random.chordlet", dir);
    write_random_model(model_path);
    which = "student_config_default() with random weights (seed 1): models/default.chordlet does not exist yet";
  }

  /* The model as the recognizer reads it. */
  student_config c;
  cqt_params fe;
  size_t n_floats = 0;
  float *params = read_student(model_path, &c, &fe);
  student_layout(&c, NULL, &n_floats);

  char load[64];
  read_loadavg(load, sizeof load);
  printf("chordlet bench (student inference): model %s\n", which);
  printf("%ld cores online, load average %s at start (other processes preempting this one show in the max "
         "columns)\n",
         sysconf(_SC_NPROCESSORS_ONLN), load);
  printf("config: %d bins, %d classes, layers %d/%d/%d, heads %d/%d/%d, ff x%d, context %d, lookahead %d; "
         "%zu parameter floats; hop %.0f ms\n\n",
         c.n_bins, c.n_classes, c.layers_f, c.layers_t, c.layers_d, c.heads_f, c.heads_t, c.heads_d, c.ff_mult,
         c.context, c.lookahead, n_floats, fe.hop_seconds * 1e3);

  /* ---- a) incremental inference per hop ---- */
  audio_buffer piece;
  if (audiofile_read(audio_path, RATE, &piece, &err)) die("audio", &err);
  float *feat;
  size_t T_piece;
  if (cqt_features_offline(&fe, piece.samples, piece.n_samples, RATE, &feat, &T_piece, &err)) die("features", &err);
  const size_t nb = (size_t)c.n_bins;
  float *x = malloc((size_t)STREAM_FRAMES * nb * sizeof *x); /* (STREAM_FRAMES, n_bins) tiled */
  for (size_t t = 0; t < STREAM_FRAMES; t++) memcpy(x + t * nb, feat + (t % T_piece) * nb, nb * sizeof *x);
  free(feat);
  float *logits = malloc((size_t)c.context * c.n_classes * sizeof *logits);
  double *one = malloc(STREAM_FRAMES * sizeof *one), *best = malloc(STREAM_FRAMES * sizeof *best);
  for (int t = 0; t < STREAM_FRAMES; t++) best[t] = 1e9;
  student_stream *s;
  if (student_stream_create(&c, params, &s, &err)) die("stream", &err);
  double stream_total[STREAM_RUNS];
  for (int r = 0; r < STREAM_RUNS; r++) {
    student_stream_reset(s);
    double t_run = bench_now();
    for (int t = 0; t < STREAM_FRAMES; t++) {
      double t0 = bench_now();
      student_stream_push(s, x + (size_t)t * nb, logits);
      double dt = bench_now() - t0;
      if (r == 0) one[t] = dt;
      if (dt < best[t]) best[t] = dt;
    }
    stream_total[r] = bench_now() - t_run;
  }
  student_stream_free(s);
  /* Baseline: a full window of `context` frames per hop, over WINDOW_HOPS hops
   * spread over the same frames (from the first hop with a full window). */
  double *win = malloc(WINDOW_HOPS * sizeof *win);
  const int ctx = c.context, span = STREAM_FRAMES - ctx;
  for (int k = 0; k < WINDOW_HOPS; k++) {
    const int end = ctx + (int)((long)k * span / WINDOW_HOPS); /* window [end - ctx, end) */
    double t0 = bench_now();
    if (student_forward(&c, params, x + (size_t)(end - ctx) * nb, ctx, logits, &err)) die("student_forward", &err);
    win[k] = bench_now() - t0;
  }
  qsort(one, STREAM_FRAMES, sizeof *one, bench_cmp_double);
  qsort(best, STREAM_FRAMES, sizeof *best, bench_cmp_double);
  qsort(win, WINDOW_HOPS, sizeof *win, bench_cmp_double);
  const double hop = fe.hop_seconds, med = one[STREAM_FRAMES / 2];
  printf("a) incremental inference per hop, 1 core, %d frames (%s features tiled; first of %d runs; "
         "min-of-%d = each push's minimum over the runs)\n\n",
         STREAM_FRAMES, audio_path, STREAM_RUNS, STREAM_RUNS);
  printf("| implementation | hops | median us | p99 us | max us | min-of-%d p99 us | min-of-%d max us | "
         "median %% of hop | max %% of hop | vs cache-less |\n",
         STREAM_RUNS, STREAM_RUNS);
  printf("|---|---|---|---|---|---|---|---|---|---|\n");
  printf("| student_stream_push (KV cache) | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f %% | %.2f %% | %.1fx faster |\n",
         STREAM_FRAMES, med * 1e6, one[STREAM_FRAMES * 99 / 100] * 1e6, one[STREAM_FRAMES - 1] * 1e6,
         best[STREAM_FRAMES * 99 / 100] * 1e6, best[STREAM_FRAMES - 1] * 1e6, 100 * med / hop,
         100 * one[STREAM_FRAMES - 1] / hop, win[WINDOW_HOPS / 2] / med);
  printf("| baseline: student_forward over last %d frames | %d | %.1f | %.1f | %.1f | - | - | %.2f %% | %.2f %% | 1.0x |\n",
         ctx, WINDOW_HOPS, win[WINDOW_HOPS / 2] * 1e6, win[WINDOW_HOPS * 99 / 100] * 1e6, win[WINDOW_HOPS - 1] * 1e6,
         100 * win[WINDOW_HOPS / 2] / hop, 100 * win[WINDOW_HOPS - 1] / hop);
  const double p99 = one[STREAM_FRAMES * 99 / 100];
  printf("\nwhole stream: median of %d runs %.1f ms for %d frames (%.0fx real time on one core)\n",
         STREAM_RUNS, median(stream_total, STREAM_RUNS) * 1e3, STREAM_FRAMES,
         STREAM_FRAMES * hop / median(stream_total, STREAM_RUNS));
  const double fpf = flops_per_frame(&c);
  printf("network work: %.2f MFLOP per frame (useful multiply-adds x 2, counted from the config): the stream runs at "
         "%.1f GFLOP/s (median push); the full window computes %d frames at %.1f GFLOP/s to use one\n",
         fpf * 1e-6, fpf / med * 1e-9, ctx, fpf * ctx / win[WINDOW_HOPS / 2] * 1e-9);
  printf("target: <= %.1f ms per hop on one core: median %.3f ms, p99 %.3f ms, max %.3f ms -> %s\n\n", TARGET_HOP_MS,
         med * 1e3, p99 * 1e3, one[STREAM_FRAMES - 1] * 1e3,
         one[STREAM_FRAMES - 1] * 1e3 <= TARGET_HOP_MS ? "met (even the max)"
         : p99 * 1e3 <= TARGET_HOP_MS                  ? "met at p99 (the max is over: preemption by other processes?)"
                                                        : "NOT met");
  free(one);
  free(best);
  free(win);
  free(x);
  free(logits);

  /* ---- b) the whole transcription on one core ---- */
  audio_buffer native;
  if (audiofile_read(audio_path, 0, &native, &err)) die("audio", &err);
  const size_t n_native = (size_t)(SECONDS * native.sample_rate);
  float *tiled = malloc(n_native * sizeof *tiled);
  for (size_t i = 0; i < n_native; i++) tiled[i] = native.samples[i % native.n_samples];
  write_flac(flac_path, tiled, n_native, native.sample_rate);
  free(tiled);

  /* The live student, and the file-mode student (transcribe's default) when
   * it is shipped; the teacher as the baseline. */
  stage_times live = time_student(model_path, flac_path);
  const int have_offline = access(offline_path, R_OK) == 0;
  stage_times offline = {0};
  if (have_offline) offline = time_student(offline_path, flac_path);

  recognizer *rt;
  if (recognizer_load(teacher_path, &rt, &err)) die("teacher model", &err);
  audio_buffer yt = {0};
  double tdec, ttr, tall;
  time_transcribe(rt, flac_path, TEACHER_RUNS, &yt, &tdec, &ttr, &tall);
  const double teacher_seconds = (double)yt.n_samples / recognizer_sample_rate(rt);

  printf("b) `chordlet transcribe` equivalent, 1 core: %s tiled to %.0f s at its rate (%.0f Hz), written to a "
         "temporary 16-bit FLAC and read back with audiofile_read (decoding%s); median of %d runs (teacher: %d)\n\n",
         audio_path, live.seconds, native.sample_rate,
         native.sample_rate == RATE ? "; the file is at the models' rate: no resampling"
                                    : " and resampling to the model's rate",
         RUNS, TEACHER_RUNS);
  printf("| model | stage | seconds | share | x real time |\n");
  printf("|---|---|---|---|---|\n");
  print_student_rows(&live, which);
  if (have_offline) print_student_rows(&offline, "file-mode student (models/offline.chordlet, transcribe's default)");
  printf("| baseline: teacher | audio decoding (audiofile_read) | %.3f | %.1f %% | %.0fx |\n", tdec, 100 * tdec / tall,
         teacher_seconds / tdec);
  printf("| baseline: teacher | recognizer_transcribe (hybrid CQT, 5 folds, Viterbi) | %.3f | %.1f %% | %.1fx |\n", ttr,
         100 * ttr / tall, teacher_seconds / ttr);
  printf("| **baseline: teacher** | **total: decode + transcribe** | **%.3f** | 100 %% | **%.1fx** |\n", tall,
         teacher_seconds / tall);
  const stage_times *shipped = have_offline ? &offline : &live;
  printf("\n%s vs teacher, whole transcription on one core: %.1fx faster\n",
         have_offline ? "file-mode student" : "student", (shipped->seconds / shipped->all) / (teacher_seconds / tall));
  if (have_offline)
    printf("file-mode student vs live student: %.1fx faster\n",
           (offline.seconds / offline.all) / (live.seconds / live.all));
  printf("target: >= %.0fx real time on one core, decoding included, with transcribe's default model (%s), on "
         "the command's own path (recognizer_transcribe_file): %.0fx -> %s (whole file in memory: %.0fx)\n",
         TARGET_XRT, have_offline ? "models/offline.chordlet" : "the live student", shipped->seconds / shipped->file,
         shipped->seconds / shipped->file >= TARGET_XRT ? "met" : "NOT met", shipped->seconds / shipped->all);
  const double budget = shipped->seconds / TARGET_XRT, left = budget - shipped->dec - shipped->fe - shipped->rest;
  printf("network: %.2f MFLOP per frame x %zu frames in %.3f s = %.1f GFLOP/s on one core. %.0fx real time leaves "
         "%.3f s for all stages; ",
         shipped->fpf * 1e-6, shipped->T, shipped->net, shipped->fpf * shipped->T / shipped->net * 1e-9, TARGET_XRT,
         budget);
  if (left > 0)
    printf("after decoding, front end and decoder %.3f s for the network: >= %.1f GFLOP/s\n", left,
           shipped->fpf * shipped->T / left * 1e-9);
  else
    printf("decoding, front end and decoder alone take %.3f s, over it\n", shipped->dec + shipped->fe + shipped->rest);
  printf("(the stage rows are timed separately on the same samples; the decoder row is the rest of transcribe)\n");

  audio_buffer_free(&yt);
  audio_buffer_free(&native);
  audio_buffer_free(&piece);
  recognizer_free(rt);
  free(params);
  remove(flac_path);
  if (strcmp(model_path, default_path) != 0) remove(model_path);
  rmdir(dir);
  return 0;
}
