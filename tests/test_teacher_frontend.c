/* test_teacher_frontend.c: the teacher's own reference recording through our
 * whole front end: music.wav read as librosa.load does, then librosa's
 * hybrid CQT with estimated tuning, must give music.input.f32 (the features
 * onnxruntime was fed for the teacher references): tuning -0.12 exactly, and
 * magnitudes within 1e-5 of the peak (reference/cqt/index.json's bit_close). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "audiofile.h"
#include "check.h"
#include "cqt_librosa.h"

int main(void) {
  const char *shared = shared_dir();
  char path[4096];
  snprintf(path, sizeof path, "%s/models/teacher/reference/music.wav", shared);
  audio_buffer audio;
  chordlet_error err;
  CHECK(audiofile_read(path, 22050, &audio, &err) == CHORDLET_OK, "%s", err.message);
  if (check_failures) return check_summary("test_teacher_frontend");
  CHECK(audio.n_samples == 264600, "264600 samples, got %zu", audio.n_samples);

  cqt_librosa_config cfg;
  cqt_librosa_teacher_config(&cfg);
  float *features = NULL;
  size_t T = 0;
  double tuning = 0;
  CHECK(cqt_librosa_hybrid(audio.samples, audio.n_samples, &cfg, &features, &T, &tuning, &err) == CHORDLET_OK,
        "%s", err.message);
  CHECK(fabs(tuning - (-0.12)) < 1e-9, "estimated tuning %.17g, expected -0.12", tuning);
  CHECK(T == 517, "517 frames, got %zu", T);

  snprintf(path, sizeof path, "%s/models/teacher/reference/music.input.f32", shared);
  FILE *f = fopen(path, "rb");
  float *ref = malloc(517 * 288 * sizeof *ref);
  CHECK(f && fread(ref, sizeof *ref, 517 * 288, f) == 517 * 288, "read %s", path);
  if (f) fclose(f);
  double peak = 0, worst = 0;
  for (size_t i = 0; features && T == 517 && i < 517 * 288; i++) {
    if (fabs(ref[i]) > peak) peak = fabs(ref[i]);
    if (fabs(features[i] - ref[i]) > worst) worst = fabs(features[i] - ref[i]);
  }
  printf("music.wav: tuning %.2f, max |C - ref| / max |ref| = %.3g\n", tuning, peak > 0 ? worst / peak : 0);
  CHECK(peak > 0 && worst / peak <= 1e-5, "relative error %.3g > 1e-5", worst / peak);
  free(ref);
  free(features);
  audio_buffer_free(&audio);
  return check_summary("test_teacher_frontend");
}
