/*
 * music_compare.h: whether two files of the real-music survey hold the same
 * audio, from their level curves (level_curve.h): a re-encoding, a mono copy
 * of a stereo file, a stereo file's channels shipped as two mono files.
 *
 * The distance of two level curves is the 80th percentile of
 * |a - b - median(a - b)| over the windows where either is above -60 dBFS
 * (the median removes a level difference, as between a channel and the mix);
 * infinite when fewer than max(20, n/4) windows sound. Two files are the same
 * audio when their curves come within 1.5 dB at an offset of up to 0.5 s and
 * within 0.3 times the median of their distances misaligned by 5, 10 and 20 s
 * either way: a copy matches only in place, while two different pieces whose
 * level barely moves (much game music is mastered flat) are about as close
 * at any offset. Measured on the 714 files of the 48 packages: unrelated
 * pieces of equal length come as close as 1.69 dB, but not in place only.
 *
 * Thread: any (allocates scratch).
 */
#ifndef CHORDLET_TRAINER_MUSIC_COMPARE_H
#define CHORDLET_TRAINER_MUSIC_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#define MUSIC_SILENT_DB -60.0  /* windows below this in both curves are not compared */
#define MUSIC_SAME_DB 1.5      /* two curves this close (80th percentile) are the same audio ... */
#define MUSIC_SAME_CONTRAST 0.3 /* ... when this far below their distance misaligned */
#define MUSIC_ALIGN_WINDOWS 5  /* copies are compared at offsets of up to +-0.5 s */

/* A file's level curves: rows (1, or 3 for stereo: mix, left, right) of n
 * windows, row-major. */
typedef struct music_print {
  float *env;
  int rows;
  size_t n;
} music_print;

/* The distance of two curves (a: na windows, b: nb), compared over the
 * first min(na, nb); INFINITY when too little of them sounds. */
double music_distance(const float *a, size_t na, const float *b, size_t nb);
/* The smallest distance between two files' curves at the given window
 * offsets (a shifted left by a positive one): mix against mix, and a mono
 * file's curve against each channel of a stereo one. */
double music_best_distance(const music_print *a, const music_print *b, const int *offsets, int n_offsets);
/* The same at offsets -MUSIC_ALIGN_WINDOWS..MUSIC_ALIGN_WINDOWS. */
double music_aligned_distance(const music_print *a, const music_print *b);
/* Whether a and b are the same audio (above); *distance: the aligned one. */
bool music_same_audio(const music_print *a, const music_print *b, double *distance);

#endif
