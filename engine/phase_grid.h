/*
 * phase_grid.h: K passes of a student a K-th of its hop apart, interleaved
 * on a grid K times finer. chordlet transcribe --phases K (recognizer.c,
 * recognizer_file.c) and a stream of a coarse model (live.c) share the
 * mapping, so the two place every frame alike.
 */
#ifndef CHORDLET_PHASE_GRID_H
#define CHORDLET_PHASE_GRID_H

#include <stddef.h>

enum { PHASE_GRID_MAX = 4 }; /* passes at most */

/* The fine grid's frame m is pass *p's frame *k: pass p's audio is p / K of
 * a hop late, so its frame k is centred on k - p / K hops. */
static inline void phase_grid_frame(size_t m, int K, int *p, size_t *k) {
  *p = (int)(((size_t)K - m % (size_t)K) % (size_t)K);
  *k = (m + (size_t)*p) / (size_t)K;
}

#endif
