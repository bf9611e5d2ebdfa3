/* test_recognizer_file.c: recognizer_transcribe_file (the students' path
 * streamed from the file) equals audiofile_read + recognizer_transcribe
 * (the whole signal in memory) bit for bit: segments, confidences, tuning,
 * frame count, duration and, with keep_features, every feature. With both
 * shipped students, on the demo (with blocks of 256 frames, so that many
 * overlapping windows meet) and on a 200 s piece made of it at 44.1 kHz
 * stereo (the default block: two windows for the live student; resampled
 * while streamed), with the Viterbi
 * and the argmax decoders, the tuning estimated and given; the teacher's
 * path (whole song) on the demo. Errors name the file in both paths. */
#define _POSIX_C_SOURCE 200809L
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audiofile.h"
#include "check.h"
#include "recognizer.h"

static int same_transcription(const transcription *a, const transcription *b) {
  if (a->segments.n_segments != b->segments.n_segments || a->n_frames != b->n_frames ||
      a->tuning_cents != b->tuning_cents || a->tuning_estimated != b->tuning_estimated ||
      a->duration_seconds != b->duration_seconds || a->frame_seconds != b->frame_seconds || a->n_bins != b->n_bins)
    return 0;
  for (size_t i = 0; i < a->segments.n_segments; i++) {
    const lab_segment *x = &a->segments.segments[i], *y = &b->segments.segments[i];
    char lx[HARTE_LABEL_MAX + 1], ly[HARTE_LABEL_MAX + 1];
    harte_format(&x->chord, lx, sizeof lx);
    harte_format(&y->chord, ly, sizeof ly);
    if (x->start != y->start || x->end != y->end || strcmp(lx, ly) != 0 ||
        memcmp(&a->confidence[i], &b->confidence[i], sizeof(float)) != 0)
      return 0;
  }
  if (!a->features != !b->features) return 0;
  return !a->features || memcmp(a->features, b->features, a->n_frames * (size_t)a->n_bins * sizeof(float)) == 0;
}

static void compare(const recognizer *r, const char *model, const char *path, const recognizer_options *o,
                    const char *what) {
  chordlet_error err;
  audio_buffer audio;
  transcription whole, streamed;
  memset(&whole, 0, sizeof whole);
  CHECK(audiofile_read(path, recognizer_sample_rate(r), &audio, &err) == CHORDLET_OK, "%s", err.message);
  CHECK(recognizer_transcribe(r, audio.samples, audio.n_samples, o, &whole, &err) == CHORDLET_OK, "%s",
        err.message);
  CHECK(recognizer_transcribe_file(r, path, o, &streamed, &err) == CHORDLET_OK, "%s", err.message);
  const int same = same_transcription(&whole, &streamed);
  CHECK(same, "%s, %s, %s: the streamed transcription differs (%zu vs %zu segments, %zu vs %zu frames)", model,
        path, what, streamed.segments.n_segments, whole.segments.n_segments, streamed.n_frames, whole.n_frames);
  printf("# %s, %s, %s: %zu frames, %zu segments, tuning %+.2f cents: %s\n", model, path, what, whole.n_frames,
         whole.segments.n_segments, whole.tuning_cents, same ? "identical" : "DIFFERENT");
  transcription_free(&whole);
  transcription_free(&streamed);
  audio_buffer_free(&audio);
}

/* The demo repeated to `seconds`, 44.1 kHz stereo 16-bit FLAC (the second
 * channel a quieter copy): a longer piece, resampled as it streams. */
static int make_long_piece(const char *demo, const char *out, double seconds) {
  audio_buffer a;
  chordlet_error err;
  if (audiofile_read(demo, 44100, &a, &err)) return -1;
  SF_INFO info = {.samplerate = 44100, .channels = 2, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
  SNDFILE *f = sf_open(out, SFM_WRITE, &info);
  if (!f) return -1;
  size_t n = (size_t)(seconds * 44100);
  float frames[2 * 4096];
  for (size_t at = 0; at < n;) {
    size_t m = n - at < 4096 ? n - at : 4096;
    for (size_t i = 0; i < m; i++) {
      float v = a.samples[(at + i) % a.n_samples];
      frames[2 * i] = v;
      frames[2 * i + 1] = 0.5f * v;
    }
    sf_writef_float(f, frames, (sf_count_t)m);
    at += m;
  }
  sf_close(f);
  audio_buffer_free(&a);
  return 0;
}

int main(void) {
  const char *demo = "examples/synth0046.flac";
  char dir[] = "/tmp/chordlet-recognizer-file-XXXXXX", long_piece[64];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  snprintf(long_piece, sizeof long_piece, "%s/long.flac", dir);
  CHECK(make_long_piece(demo, long_piece, 200.0) == 0, "make %s", long_piece);
  static const char *const students[] = {"models/offline.chordlet", "models/default.chordlet"};
  for (int k = 0; k < 2; k++) {
    recognizer *r;
    chordlet_error err;
    if (recognizer_load(students[k], &r, &err)) {
      CHECK(0, "%s", err.message);
      continue;
    }
    recognizer_options o = {RECOGNIZER_VITERBI, NULL, NULL, 0, 0, 0, 256};
    compare(r, students[k], demo, &o, "blocks of 256 frames");
    o.keep_features = 1;
    o.tuning_hz = 443.0;
    compare(r, students[k], demo, &o, "blocks of 256, A4 = 443 Hz given, features kept");
    o = (recognizer_options){RECOGNIZER_ARGMAX, NULL, NULL, 0, 0, 0, 256};
    compare(r, students[k], demo, &o, "blocks of 256, argmax");
    o = (recognizer_options){RECOGNIZER_VITERBI, NULL, NULL, 0, 0, 0, 0};
    compare(r, students[k], long_piece, &o, "200 s at 44.1 kHz stereo, default blocks");
    /* Errors name the file. */
    transcription t;
    CHECK(recognizer_transcribe_file(r, "no-such-file.wav", &o, &t, &err) != CHORDLET_OK &&
              strstr(err.message, "no-such-file.wav"),
          "a missing file: %s", err.message);
    o.tuning_hz = 300;
    CHECK(recognizer_transcribe_file(r, demo, &o, &t, &err) == CHORDLET_ERR_RANGE && strstr(err.message, demo) &&
              strstr(err.message, "400..480"),
          "A4 = 300 Hz: %s", err.message);
    recognizer_free(r);
  }
  recognizer *teacher;
  chordlet_error err;
  if (recognizer_load("models/teacher.chordlet", &teacher, &err) == CHORDLET_OK) {
    recognizer_options o = {RECOGNIZER_VITERBI, NULL, NULL, 0, 0, 0, 0};
    compare(teacher, "models/teacher.chordlet", demo, &o, "the whole song");
    recognizer_free(teacher);
  } else {
    CHECK(0, "%s", err.message);
  }
  unlink(long_piece);
  rmdir(dir);
  return check_summary("test_recognizer_file");
}
