/* test_recognizer_file.c: recognizer_transcribe_file (the students' path
 * streamed from the file) equals audiofile_read + recognizer_transcribe
 * (the whole signal in memory) bit for bit: segments, confidences, tuning,
 * frame count, duration and, with keep_features, every feature. With both
 * shipped students, on the demo (with blocks of 256 frames, so that many
 * overlapping windows meet) and on a 200 s piece made of it at 44.1 kHz
 * stereo (the default block: two windows for the live student; resampled
 * while streamed), with the Viterbi
 * and the argmax decoders, the tuning estimated and given, one pass and 3
 * (recognizer_options.phases: 3 passes a third of a hop apart, fused); the
 * teacher's path (whole song) on the demo. Errors name the file in both
 * paths. With 3 phases, the file-mode student's chords do not move when the
 * audio starts 40 ms later. */
#define _POSIX_C_SOURCE 200809L
#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audiofile.h"
#include "check.h"
#include "recognizer.h"

static int same_transcription(const transcription *a, const transcription *b) {
  if (a->segments.n_segments != b->segments.n_segments || a->n_frames != b->n_frames ||
      a->feature_frames != b->feature_frames || a->feature_seconds != b->feature_seconds ||
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
  return !a->features || memcmp(a->features, b->features, a->feature_frames * (size_t)a->n_bins * sizeof(float)) == 0;
}

/* The chord label at t seconds ("" outside every segment). */
static void label_at(const lab_file *l, double t, char *out, size_t size) {
  out[0] = '\0';
  for (size_t i = 0; i < l->n_segments; i++)
    if (l->segments[i].start <= t && t < l->segments[i].end) {
      harte_format(&l->segments[i].chord, out, size);
      return;
    }
}

/* recognizer_options.phases: the demo and the demo after 40 ms of silence
 * (two thirds of the file-mode student's 60 ms frame) give the same chords
 * at the same moments of the music, which one pass does not: the fraction of
 * the 10 ms points of the music where the two timelines agree. */
static double shifted_agreement(const recognizer *r, const audio_buffer *a, int phases) {
  const size_t lead = (size_t)(0.04 * recognizer_sample_rate(r));
  float *late = calloc(a->n_samples + lead, sizeof *late);
  recognizer_options o = {.decoder = RECOGNIZER_VITERBI, .phases = phases};
  transcription x, y;
  chordlet_error err;
  memset(&x, 0, sizeof x);
  memset(&y, 0, sizeof y);
  double agree = 0;
  size_t points = 0;
  if (late) {
    memcpy(late + lead, a->samples, a->n_samples * sizeof *late);
    CHECK(recognizer_transcribe(r, a->samples, a->n_samples, &o, &x, &err) == CHORDLET_OK, "%s", err.message);
    CHECK(recognizer_transcribe(r, late, a->n_samples + lead, &o, &y, &err) == CHORDLET_OK, "%s", err.message);
    char lx[HARTE_LABEL_MAX + 1], ly[HARTE_LABEL_MAX + 1];
    for (double t = 0.005; t < x.duration_seconds; t += 0.01, points++) {
      label_at(&x.segments, t, lx, sizeof lx);
      label_at(&y.segments, t + 0.04, ly, sizeof ly);
      agree += strcmp(lx, ly) == 0;
    }
  }
  free(late);
  transcription_free(&x);
  transcription_free(&y);
  return points ? agree / (double)points : 0;
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
    recognizer_options o = {.decoder = RECOGNIZER_VITERBI, .block_frames = 256, .phases = 1};
    compare(r, students[k], demo, &o, "blocks of 256 frames");
    o.keep_features = 1;
    o.tuning_hz = 443.0;
    compare(r, students[k], demo, &o, "blocks of 256, A4 = 443 Hz given, features kept");
    o = (recognizer_options){.decoder = RECOGNIZER_ARGMAX, .block_frames = 256, .phases = 1};
    compare(r, students[k], demo, &o, "blocks of 256, argmax");
    o = (recognizer_options){.decoder = RECOGNIZER_VITERBI, .phases = 1};
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
    /* Three passes a third of a hop apart (recognizer_options.phases), fused. */
    o = (recognizer_options){.decoder = RECOGNIZER_VITERBI, .keep_features = 1, .block_frames = 256, .phases = 3};
    compare(r, students[k], demo, &o, "3 phases, blocks of 256, features kept");
    o = (recognizer_options){.decoder = RECOGNIZER_ARGMAX, .phases = 3};
    compare(r, students[k], demo, &o, "3 phases, argmax");
    if (k == 0) {
      o = (recognizer_options){.decoder = RECOGNIZER_VITERBI, .phases = 3};
      compare(r, students[k], long_piece, &o, "3 phases, 200 s at 44.1 kHz stereo");
      /* The fused grid: a third of the model's hop, and the features the model's own. */
      audio_buffer a;
      transcription one, three;
      memset(&one, 0, sizeof one);
      memset(&three, 0, sizeof three);
      CHECK(audiofile_read(demo, recognizer_sample_rate(r), &a, &err) == CHORDLET_OK, "%s", err.message);
      o = (recognizer_options){.decoder = RECOGNIZER_VITERBI, .keep_features = 1, .phases = 1};
      CHECK(recognizer_transcribe(r, a.samples, a.n_samples, &o, &one, &err) == CHORDLET_OK, "%s", err.message);
      o.phases = 3;
      CHECK(recognizer_transcribe(r, a.samples, a.n_samples, &o, &three, &err) == CHORDLET_OK, "%s", err.message);
      const size_t hop = (size_t)(recognizer_frame_seconds(r) * recognizer_sample_rate(r) + 0.5);
      CHECK(three.n_frames == a.n_samples / (hop / 3) + 1 && three.feature_frames == one.n_frames &&
                three.frame_seconds * 3 == one.frame_seconds && three.feature_seconds == one.frame_seconds &&
                memcmp(three.features, one.features, one.n_frames * (size_t)one.n_bins * sizeof(float)) == 0,
            "3 phases: %zu frames of %g s (features: %zu of %g s), one pass %zu of %g s", three.n_frames,
            three.frame_seconds, three.feature_frames, three.feature_seconds, one.n_frames, one.frame_seconds);
      transcription_free(&one);
      transcription_free(&three);
      const double a1 = shifted_agreement(r, &a, 1), a3 = shifted_agreement(r, &a, 3);
      CHECK(a3 >= 0.99, "3 phases: the demo and the demo 40 ms late agree on %.1f %% of the time (>= 99 %%)",
            100 * a3);
      printf("# %s: the demo and the demo 40 ms late agree on %.1f %% of the time with one pass, %.1f %% with 3\n",
             students[k], 100 * a1, 100 * a3);
      audio_buffer_free(&a);
    }
    /* Refused: a number of passes that does not divide the hop into whole samples, too many, < 0. */
    const int refused[] = {-1, 5, k == 0 ? 2 : 4};
    for (int i = 0; i < 3; i++) {
      o = (recognizer_options){.decoder = RECOGNIZER_VITERBI, .phases = refused[i]};
      const chordlet_status st = recognizer_transcribe_file(r, demo, &o, &t, &err);
      CHECK(st == CHORDLET_ERR_RANGE && strstr(err.message, "phases"), "%d phases: %d, %s", refused[i], (int)st,
            err.message);
    }
    recognizer_free(r);
  }
  recognizer *teacher;
  chordlet_error err;
  if (recognizer_load("models/teacher.chordlet", &teacher, &err) == CHORDLET_OK) {
    recognizer_options o = {.decoder = RECOGNIZER_VITERBI, .phases = 1};
    compare(teacher, "models/teacher.chordlet", demo, &o, "the whole song");
    o.phases = 3;
    transcription t;
    CHECK(recognizer_transcribe_file(teacher, demo, &o, &t, &err) == CHORDLET_ERR_INVALID_ARGUMENT &&
              strstr(err.message, "phases"),
          "the teacher with 3 phases: %s", err.message);
    recognizer_free(teacher);
  } else {
    CHECK(0, "%s", err.message);
  }
  unlink(long_piece);
  rmdir(dir);
  return check_summary("test_recognizer_file");
}
