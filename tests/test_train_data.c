/* test_train_data.c: the trainer's in-memory training material
 * (trainer/train_data.h): half floats, class transposition, windows,
 * pitch-shift augmentation in the feature domain, and decimation to a longer
 * hop (a file-mode model's frames from the 20 ms caches). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stream.h"
#include "train_data.h"
#include "vocab.h"

#define EXPECT(cond) CHECK(cond, "%s", "")
static const double TWO_PI = 6.28318530717958647692;

static void test_half(void) {
  /* exact for values a half holds */
  const float exact[] = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.9604644775390625e-08f, -11.5f};
  for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
    EXPECT(half_to_float(half_from_float(exact[i])) == exact[i]);
  /* round to nearest: relative error at most 2^-11 for normal values */
  unsigned s = 12345;
  double worst = 0;
  for (int i = 0; i < 100000; i++) {
    s = s * 1103515245u + 12345u;
    float v = ((float)(s >> 8) / 16777216.0f - 0.5f) * 40.0f;
    if (fabsf(v) < 1e-3f) continue;
    double e = fabs(half_to_float(half_from_float(v)) - v) / fabs(v);
    if (e > worst) worst = e;
  }
  printf("half: worst relative error %.3g (bound %.3g)\n", worst, 1.0 / 2048);
  EXPECT(worst <= 1.0 / 2048 + 1e-12);
  EXPECT(isinf(half_to_float(half_from_float(1e6f))));
  EXPECT(isnan(half_to_float(half_from_float(NAN))));
}

static void test_class_shift(void) {
  EXPECT(class_shift(0, 1) == 14);                         /* C:min -> C#:min */
  EXPECT(class_shift(11 * 14 + 1, 1) == 1);                /* B:maj -> C:maj */
  EXPECT(class_shift(1, -1) == 11 * 14 + 1);               /* C:maj -> B:maj */
  EXPECT(class_shift(2 * 14 + VQ_HDIM7, 6) == 8 * 14 + VQ_HDIM7);
  EXPECT(class_shift(VOCAB_X, 3) == VOCAB_X);
  EXPECT(class_shift(VOCAB_N, -5) == VOCAB_N);
  EXPECT(class_shift(-1, 2) == -1);
  for (int c = 0; c < VOCAB_SIZE; c++)
    for (int sft = -11; sft <= 11; sft++) EXPECT(class_shift(class_shift(c, sft), -sft) == c);
}

/* An in-memory set of `frames` frames of `bins` bins (the default front end
 * with that many bins), arrays allocated, no songs yet. */
static void set_alloc(train_set *s, int bins, size_t frames) {
  memset(s, 0, sizeof *s);
  cqt_params_default(&s->frontend);
  s->frontend.n_bins = bins;
  s->n_bins = bins;
  s->n_classes = VOCAB_SIZE;
  s->n_frames = frames;
  s->features = malloc(frames * (size_t)bins * sizeof *s->features);
  s->labels = malloc(frames * sizeof *s->labels);
  s->pseudo = malloc(frames * sizeof *s->pseudo);
  s->teacher = malloc(frames * VOCAB_SIZE * sizeof *s->teacher);
}

/* A set of one song of 40 frames and 8 bins, built in memory. */
static void test_windows_and_shift(void) {
  enum { T = 40, B = 8, F = 16 };
  train_set s;
  set_alloc(&s, B, T);
  s.n_songs = 1;
  train_song song = {"song.flac", 0, T, NULL};
  s.songs = &song;
  EXPECT(s.features && s.labels && s.pseudo && s.teacher);
  for (int t = 0; t < T; t++) {
    for (int b = 0; b < B; b++) s.features[t * B + b] = half_from_float((float)(t + b * 0.25));
    s.labels[t] = (int16_t)(t % 3 == 0 ? VOCAB_N : (t * 5) % 168);
    s.pseudo[t] = (int16_t)((t * 7) % 170);
    for (int k = 0; k < VOCAB_SIZE; k++) s.teacher[t * VOCAB_SIZE + k] = half_from_float(-(float)k / 16);
  }
  s.has_labels = s.has_teacher = 1;

  size_t n = 0;
  train_window *w = train_windows(&s, F, F / 2, &n);
  EXPECT(w && n == 4); /* starts 0, 8, 16, 24 (24 + 16 = 40) */
  EXPECT(w[3].start == 24);
  free(w);
  w = train_windows(&s, 64, 32, &n); /* longer than the song, but >= 64 / 4: one padded window */
  EXPECT(w && n == 1 && w[0].start == 0);
  float x[64 * B], teacher[64 * VOCAB_SIZE];
  int labels[64];
  train_window_fill(&s, &w[0], 64, TARGET_GROUND_TRUTH, x, labels, teacher);
  const float floor_value = (float)log(s.frontend.log_eps);
  EXPECT(labels[T] == -1 && x[T * B] == floor_value && teacher[T * VOCAB_SIZE + 5] == 0.0f);
  EXPECT(labels[1] == s.labels[1]);
  free(w);

  /* a shift of +2 semitones: bins move up 4, classes move root + 2 */
  train_window win = {0, 8, 2};
  float xs[F * B], ts[F * VOCAB_SIZE];
  int ls[F];
  train_window_fill(&s, &win, F, TARGET_PSEUDO, xs, ls, ts);
  for (int t = 0; t < F; t++) {
    for (int b = 0; b < B; b++) {
      float expect = b - 4 >= 0 ? half_to_float(s.features[(8 + t) * B + b - 4]) : floor_value;
      EXPECT(xs[t * B + b] == expect);
    }
    EXPECT(ls[t] == class_shift(s.pseudo[8 + t], 2));
    for (int k = 0; k < VOCAB_SIZE; k++)
      EXPECT(ts[t * VOCAB_SIZE + class_shift(k, 2)] == half_to_float(s.teacher[(8 + t) * VOCAB_SIZE + k]));
  }
  /* the shuffle is a permutation, and deterministic for a seed */
  w = train_windows(&s, 4, 1, &n);
  train_window *w2 = train_windows(&s, 4, 1, &n);
  EXPECT(w && w2 && n == 37);
  train_windows_shuffle(w, n, 7, -5, 6);
  train_windows_shuffle(w2, n, 7, -5, 6);
  int seen[37] = {0}, moved = 0, shifts_in_range = 1;
  for (size_t i = 0; i < n; i++) {
    EXPECT(w[i].start == w2[i].start && w[i].shift == w2[i].shift);
    seen[w[i].start]++;
    moved += w[i].start != (int)i;
    shifts_in_range &= w[i].shift >= -5 && w[i].shift <= 6;
  }
  for (int i = 0; i < 37; i++) EXPECT(seen[i] == 1);
  EXPECT(moved > 20 && shifts_in_range);
  free(w);
  free(w2);
  free(s.features);
  free(s.labels);
  free(s.pseudo);
  free(s.teacher);
}

/* The premise of train_set_decimate: frame j of the front end at hop K h is
 * frame K j at hop h (every window is centred on its frame's time and does
 * not depend on the hop), on real music through the streaming CQT. */
static void test_longer_hop_is_every_kth_frame(void) {
  const double rate = 22050;
  const size_t n = (size_t)(6 * rate);
  float *audio = malloc(n * sizeof *audio);
  EXPECT(audio != NULL);
  if (!audio) return;
  unsigned r = 12345;
  for (size_t i = 0; i < n; i++) { /* a chord of three partials with noise, changing every second */
    double t = (double)i / rate, f = 110.0 * (1 + (i / (size_t)rate) % 3);
    r = r * 1103515245u + 12345u;
    audio[i] = (float)(0.3 * sin(TWO_PI * f * t) + 0.2 * sin(TWO_PI * 1.26 * f * t) +
                       0.1 * sin(TWO_PI * 1.5 * f * t) + 0.01 * ((double)(r >> 8) / (1 << 24) - 0.5));
  }
  cqt_params fine, coarse;
  cqt_params_default(&fine);
  coarse = fine;
  coarse.hop_seconds = 3 * fine.hop_seconds;
  float *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  chordlet_error err;
  EXPECT(cqt_features_offline(&fine, audio, n, rate, &a, &na, &err) == CHORDLET_OK);
  EXPECT(cqt_features_offline(&coarse, audio, n, rate, &b, &nb, &err) == CHORDLET_OK);
  EXPECT(a && b && nb == (na + 2) / 3);
  double worst = 0;
  for (size_t j = 0; a && b && j < nb; j++)
    for (int k = 0; k < fine.n_bins; k++) {
      double d = fabs((double)b[j * (size_t)fine.n_bins + k] - a[3 * j * (size_t)fine.n_bins + k]);
      if (d > worst) worst = d;
    }
  CHECK(worst < 1e-4, "60 ms frames differ from every third 20 ms frame by %g", worst);
  free(a);
  free(b);
  free(audio);
}

static void test_decimate(void) {
  enum { B = 4 };
  const int lengths[3] = {7, 1, 9};
  train_set s;
  set_alloc(&s, B, 17);
  s.n_songs = 3;
  s.songs = calloc(3, sizeof *s.songs);
  EXPECT(s.songs && s.features && s.labels && s.pseudo && s.teacher);
  size_t g = 0;
  for (int k = 0; k < 3; k++) {
    s.songs[k] = (train_song){NULL, g, lengths[k], NULL};
    for (int t = 0; t < lengths[k]; t++, g++) { /* every value encodes (song, frame) */
      for (int b = 0; b < B; b++) s.features[g * B + b] = half_from_float((float)(100 * k + t) + b * 0.25f);
      s.labels[g] = (int16_t)(10 * k + t);
      s.pseudo[g] = (int16_t)(20 * k + t);
      for (int c = 0; c < VOCAB_SIZE; c++) s.teacher[g * VOCAB_SIZE + c] = half_from_float((float)(k * 16 + t));
    }
  }
  chordlet_error err;
  EXPECT(train_set_decimate(&s, 4, &err) != CHORDLET_OK); /* 80 ms: the 120 ms delay is not whole hops */
  EXPECT(s.n_frames == 17 && s.frontend.hop_seconds == 0.02);
  EXPECT(train_set_decimate(&s, 0, &err) != CHORDLET_OK);
  EXPECT(train_set_decimate(&s, 3, &err) == CHORDLET_OK);
  EXPECT(s.frontend.hop_seconds == 0.06);
  const int kept[3] = {3, 1, 3}; /* frames 0 3 6 | 0 | 0 3 6 */
  EXPECT(s.n_frames == 7);
  size_t want_offset = 0;
  for (int k = 0; k < 3; k++) {
    EXPECT(s.songs[k].n_frames == kept[k] && s.songs[k].offset == want_offset);
    for (int j = 0; j < kept[k]; j++) {
      size_t i = s.songs[k].offset + (size_t)j;
      EXPECT(half_to_float(s.features[i * B + 2]) == (float)(100 * k + 3 * j) + 0.5f);
      EXPECT(s.labels[i] == 10 * k + 3 * j && s.pseudo[i] == 20 * k + 3 * j);
      EXPECT(half_to_float(s.teacher[i * VOCAB_SIZE + 169]) == (float)(k * 16 + 3 * j));
    }
    want_offset += (size_t)kept[k];
  }
  EXPECT(train_set_decimate(&s, 1, &err) == CHORDLET_OK && s.n_frames == 7);
  free(s.songs);
  free(s.features);
  free(s.labels);
  free(s.pseudo);
  free(s.teacher);

  /* Every phase: songs of 7, 1 and 9 frames become 3 + 1 + 3 songs, each
   * phase's frames in order, nothing lost or copied, names "NAME@p". */
  train_set a;
  set_alloc(&a, B, 17);
  a.n_songs = 3;
  a.songs = calloc(3, sizeof *a.songs);
  EXPECT(a.songs && a.features && a.labels && a.pseudo && a.teacher);
  g = 0;
  for (int k = 0; k < 3; k++) {
    char name[32];
    snprintf(name, sizeof name, "s%d", k);
    a.songs[k] = (train_song){strdup(name), g, lengths[k], k == 2 ? strdup("noise") : NULL};
    for (int t = 0; t < lengths[k]; t++, g++) {
      for (int b = 0; b < B; b++) a.features[g * B + b] = half_from_float((float)(100 * k + t) + b * 0.25f);
      a.labels[g] = (int16_t)(10 * k + t);
      a.pseudo[g] = (int16_t)(20 * k + t);
      for (int c = 0; c < VOCAB_SIZE; c++) a.teacher[g * VOCAB_SIZE + c] = half_from_float((float)(k * 16 + t));
    }
  }
  EXPECT(train_set_decimate_all_phases(&a, 4, &err) != CHORDLET_OK && a.n_songs == 3);
  EXPECT(train_set_decimate_all_phases(&a, 3, &err) == CHORDLET_OK);
  EXPECT(a.frontend.hop_seconds == 0.06 && a.n_frames == 17 && a.n_songs == 7);
  const int song_of[7] = {0, 0, 0, 1, 2, 2, 2}, phase_of[7] = {0, 1, 2, 0, 0, 1, 2}, count[7] = {3, 2, 2, 1, 3, 3, 3};
  size_t next = 0;
  for (int i = 0; i < 7 && a.n_songs == 7; i++) {
    const train_song *sg = &a.songs[i];
    char want[48];
    snprintf(want, sizeof want, "s%d@%d", song_of[i], phase_of[i]);
    EXPECT(sg->offset == next && sg->n_frames == count[i] && sg->name && strcmp(sg->name, want) == 0);
    EXPECT((sg->augment != NULL) == (song_of[i] == 2) && (!sg->augment || strcmp(sg->augment, "noise") == 0));
    for (int j = 0; j < sg->n_frames; j++) {
      const size_t at = sg->offset + (size_t)j;
      const int t = phase_of[i] + 3 * j, k = song_of[i];
      EXPECT(half_to_float(a.features[at * B + 2]) == (float)(100 * k + t) + 0.5f);
      EXPECT(a.labels[at] == 10 * k + t && a.pseudo[at] == 20 * k + t);
      EXPECT(half_to_float(a.teacher[at * VOCAB_SIZE + 169]) == (float)(k * 16 + t));
    }
    next += (size_t)sg->n_frames;
  }
  EXPECT(train_set_decimate_all_phases(&a, 1, &err) == CHORDLET_OK && a.n_songs == 7);
  for (int i = 0; i < a.n_songs; i++) {
    free(a.songs[i].name);
    free(a.songs[i].augment);
  }
  free(a.songs);
  free(a.features);
  free(a.labels);
  free(a.pseudo);
  free(a.teacher);
}

int main(void) {
  test_half();
  test_longer_hop_is_every_kth_frame();
  test_decimate();
  test_class_shift();
  test_windows_and_shift();
  return check_summary("test_train_data");
}
