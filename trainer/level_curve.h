/*
 * level_curve.h: the fingerprint of a piece of music for the real-music
 * survey (`chordlet-train real-music`): its RMS level in dB over 200 ms
 * windows every 100 ms, of the mono mix and, for a stereo file, of each
 * channel.
 *
 * Cheap (a few KB a file), insensitive to the codec (Vorbis, Opus and MP3
 * noise move a 200 ms level by well under 0.5 dB) and to a misalignment of up
 * to 50 ms, yet two different pieces of music almost never agree within
 * 1.5 dB on 80 % of their windows: what finds duplicates and loops.
 *
 * The numbers are those of the NumPy version this replaced (scripts/
 * real-music.py), bit for bit: blocks of round(0.05 * rate) frames, each
 * block's mean square in double summed in NumPy's pairwise order, a window
 * the mean of 4 blocks stepping by 2, then max(10 log10(w + 1e-12), -70)
 * rounded to float. A fingerprint fetched by that version stays comparable
 * with one computed here (music_compare.h).
 *
 * Thread: any (the accumulator is the caller's).
 */
#ifndef CHORDLET_TRAINER_LEVEL_CURVE_H
#define CHORDLET_TRAINER_LEVEL_CURVE_H

#include "cqt_librosa.h" /* numpy_pairwise_sum, which the level curve uses */
#include <stddef.h>

#define LEVEL_HOP_S 0.1      /* one level every 100 ms ... */
#define LEVEL_BLOCK_S 0.05   /* ... over 4 blocks of 50 ms (200 ms windows) */
#define LEVEL_FLOOR_DB -70.0 /* silence reads as this */

typedef struct level_curve {
  int channels;
  int rows;           /* 1, or 3 for stereo: mix, left, right */
  size_t block;       /* frames per block */
  double *energy[3];  /* per row: the mean square of every finished block */
  size_t n_blocks, cap;
  float *rest;        /* the frames of an unfinished block (interleaved) */
  size_t n_rest;
  double *scratch;    /* one block's squares */
} level_curve;

/* 0, or -1 when out of memory. rate: the file's, in Hz (> 0); channels:
 * 1..AUDIO_MAX_CHANNELS (audiofile.h). */
int level_curve_init(level_curve *lc, double rate, int channels);
/* Feeds interleaved frames; 0, or -1 when out of memory. */
int level_curve_feed(level_curve *lc, const float *frames, size_t n);
/* The curves: *env = (rows, *n) row-major floats (free()), *n windows (0 for
 * under 200 ms). 0, or -1 when out of memory. */
int level_curve_finish(level_curve *lc, float **env, size_t *n);
void level_curve_free(level_curve *lc);

/* Seconds between two windows: 2 blocks, LEVEL_HOP_S up to the rounding of
 * a block to whole frames. */
double level_curve_hop(double rate);

/* The same order over floats, in float (np.sum of a float32 array). */
float numpy_pairwise_sum_f(const float *a, size_t n);

#endif
