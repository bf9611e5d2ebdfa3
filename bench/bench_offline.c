/* bench_offline.c: `make bench`, the offline path: the teacher's front end and
 * its 5-fold network, in x real time, each against a baseline measured in the
 * same process on the same audio:
 *   - front end: librosa's hybrid CQT (as the teacher needs it) against the
 *     plain full CQT of the same 288 bins, both with the tuning estimate;
 *   - network: the fast kernels (Winograd/im2col on OpenBLAS) on 1 and 2
 *     threads against the plain reference kernels (direct loops) on 1 thread;
 *   - the whole transcription (front end + network + Viterbi) on 1 thread.
 * Input: examples/synth0046.flac tiled to 3 minutes. Timings are the median of
 * several runs; the machine is shared, so expect ~10-30 % noise. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "audiofile.h"
#include "cqt_librosa.h"
#include "recognizer.h"
#include "teacher.h"

enum { RUNS = 3 };

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return v[n / 2];
}

static void die(const char *what, const chordlet_error *err) {
  fprintf(stderr, "bench: %s: %s\n", what, err->message);
  exit(1);
}

static void row(const char *stage, const char *config, double audio_s, double t, const char *baseline,
                double audio_base, double tb) {
  printf("| %-26s | %-22s | %8.3f | %7.1fx | %-30s | %7.1fx | %6.1fx |\n", stage, config, t, audio_s / t,
         baseline, audio_base / tb, (audio_s / t) / (audio_base / tb));
}

/* The teacher's five folds bound straight from the model file. */
typedef struct lookup_ctx {
  const char *blob;
} lookup_ctx;

int main(int argc, char **argv) {
  const char *audio_path = argc > 1 ? argv[1] : "examples/synth0046.flac";
  const char *model_path = argc > 2 ? argv[2] : "models/teacher.chordlet";
  chordlet_error err;
  audio_buffer piece;
  if (audiofile_read(audio_path, 22050, &piece, &err)) die("audio", &err);
  const size_t n = (size_t)(180 * 22050);
  float *y = malloc(n * sizeof *y); /* (n) 3 minutes */
  for (size_t i = 0; i < n; i++) y[i] = piece.samples[i % piece.n_samples];
  const double seconds = (double)n / 22050;

  recognizer *r;
  if (recognizer_load(model_path, &r, &err)) die("model", &err);

  printf("chordlet bench (offline path): %.0f s of audio (%s tiled), median of %d runs\n\n", seconds,
         audio_path, RUNS);
  printf("| %-26s | %-22s | %8s | %8s | %-30s | %8s | %7s |\n", "stage", "configuration", "seconds",
         "x RT", "baseline (same process)", "base xRT", "speedup");
  printf("|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------------", "------------------------", "----------",
         "----------", "--------------------------------", "----------", "---------");

  /* Front end. */
  cqt_librosa_config cfg;
  cqt_librosa_teacher_config(&cfg);
  double t_hybrid[RUNS], t_full[RUNS];
  float *features = NULL;
  size_t T = 0;
  double tuning;
  for (int k = 0; k < RUNS; k++) {
    double t0 = bench_now();
    free(features);
    if (cqt_librosa_hybrid(y, n, &cfg, &features, &T, &tuning, &err)) die("hybrid cqt", &err);
    t_hybrid[k] = bench_now() - t0;
    float *full = NULL;
    size_t T_full;
    cqt_librosa_config fixed = cfg;
    fixed.estimate_tuning = false;
    fixed.tuning = tuning;
    t0 = bench_now();
    double tuning_full, tuning_estimate;
    if (cqt_librosa_estimate_tuning(y, n, cfg.sample_rate, cfg.bins_per_octave, &tuning_estimate, &err))
      die("tuning", &err);
    if (cqt_librosa_cqt(y, n, &fixed, &full, &T_full, &tuning_full, &err)) die("full cqt", &err);
    t_full[k] = bench_now() - t0;
    free(full);
  }
  row("front end (hybrid CQT)", "tuning estimated", seconds, median(t_hybrid, RUNS), "tuning + full CQT, same bins",
      seconds, median(t_full, RUNS));

  /* Network: the folds the recognizer bound from the model file. */
  int n_folds = 0;
  const teacher_fold_weights *folds = recognizer_teacher_folds(r, &n_folds);
  float *probs = malloc(T * TEACHER_OUT * sizeof *probs); /* (T, 100) */
  /* Baseline: the reference kernels, one fold on 20 s (they are ~40x slower),
   * scaled to the same audio by measuring x real time on what it ran. */
  const size_t T_ref = (size_t)(20 * 22050 / 512);
  double t_ref[RUNS];
  for (int k = 0; k < RUNS; k++) {
    double t0 = bench_now();
    if (teacher_forward_fold_ref(&folds[0], features, T_ref, probs, NULL, &err)) die("reference", &err);
    t_ref[k] = (bench_now() - t0) * n_folds;
  }
  double ref_seconds = T_ref * 512.0 / 22050;
  for (int threads = 1; threads <= 2; threads++) {
    openblas_set_num_threads(threads);
    double t_net[RUNS];
    for (int k = 0; k < RUNS; k++) {
      double t0 = bench_now();
      if (teacher_forward(folds, n_folds, features, T, probs, &err)) die("teacher", &err);
      t_net[k] = bench_now() - t0;
    }
    char config[64];
    snprintf(config, sizeof config, "%d folds, %d thread%s", n_folds, threads, threads > 1 ? "s" : "");
    row("teacher network", config, seconds, median(t_net, RUNS), "reference kernels, 1 thread", ref_seconds,
        median(t_ref, RUNS));
  }
  openblas_set_num_threads(1);

  /* Whole transcription. */
  double t_all[RUNS];
  for (int k = 0; k < RUNS; k++) {
    transcription tr;
    double t0 = bench_now();
    if (recognizer_transcribe(r, y, n, NULL, &tr, &err)) die("transcribe", &err);
    t_all[k] = bench_now() - t0;
    transcription_free(&tr);
  }
  /* Its baseline: the same stages with the reference kernels, from the
   * measurements above (the reference network scaled linearly from 20 s). */
  double t_base = median(t_hybrid, RUNS) + median(t_ref, RUNS) * (seconds / ref_seconds);
  row("transcribe (all stages)", "5 folds, 1 thread", seconds, median(t_all, RUNS),
      "hybrid CQT + reference kernels", seconds, t_base);
  printf("\nx RT = seconds of audio per second of computing. The reference kernels run one fold on\n"
         "20 s and are scaled to %d folds; the transcribe baseline adds them to the front end.\n", n_folds);
  free(features);
  free(probs);
  free(y);
  audio_buffer_free(&piece);
  recognizer_free(r);
  return 0;
}
