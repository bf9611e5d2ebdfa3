/*
 * music_loop.h: finding a loop repeated to length in a piece of game music
 * (the real-music survey cuts such a file to its intro and one pass: the
 * repeats would only weigh one piece more in training).
 *
 * Two steps. The level curve (level_curve.h) proposes: compared with itself
 * shifted by every lag P from 8 s to half the file (80th percentile of the
 * absolute difference over the windows above -60 dBFS), the lags within
 * 1.5 dB, shortest first (each taken as the best of its next second, then
 * refined to a quarter window by interpolation, since a loop's length is no
 * multiple of 100 ms) are candidates; the first within 0.5 dB and under 0.3
 * times the file's median distance over all lags is the loop (a steady drone
 * or mix is close to itself at every lag, a copy of the same samples only at
 * its period). The samples confirm: the mono mix (decimated by 4) correlated
 * with itself one period later over the whole overlap, at the best lag within
 * 0.15 s, must reach 0.9. A copy gives 0.95-1 (codec noise only); an
 * accompaniment that repeats under a changing melody repeats its level curve,
 * not its samples (in the 48 packages, 5 loops correlate 0.945-0.995, while
 * widelands' ingame_25, whose level curve repeats every 111 s within 0.34 dB,
 * correlates 0.675 and is kept).
 *
 * The level-curve arithmetic is NumPy's (float32 interpolation, np.percentile),
 * as in the version this replaced; the correlations are summed in double.
 *
 * Thread: any (allocates scratch).
 */
#ifndef CHORDLET_TRAINER_MUSIC_LOOP_H
#define CHORDLET_TRAINER_MUSIC_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#define LOOP_GATE_DB 1.5        /* loop candidates: lags this close (whole windows) ... */
#define LOOP_DB 0.5             /* ... a loop: this close at the refined lag */
#define LOOP_CONTRAST 0.3       /* ... and this far below the file's median over all lags */
#define LOOP_CORR 0.9           /* ... and its samples this correlated one period apart */
#define LOOP_MIN_PERIOD_S 8.0   /* shorter periods are bars of one piece, not a loop of it */

typedef struct music_loop {
  double period;   /* in windows (a multiple of 1/4) */
  long start;      /* the first window from which 2 s match: the intro's length */
  double distance; /* the level curves' distance one period apart, dB */
} music_loop;

/* Whether the level curve env (n windows: the mix) repeats itself; *loop
 * then says how. A period is at least LOOP_MIN_PERIOD_S and at most half
 * the file. false also when out of memory (no loop claimed). */
bool music_find_loop(const float *env, size_t n, music_loop *loop);

/* Confirms a loop on the samples: x (n) is the mono mix decimated by 4, at
 * rate Hz; period_s and start_s come from the level curve. Returns the
 * correlation of x with itself one period later from start_s to the end, at
 * the lag within 0.15 s where 5 s from the start match best, and that lag in
 * seconds in *period_out (period_s itself, and 0, when x is too short). */
double music_loop_correlation(const float *x, size_t n, double rate, double period_s, double start_s,
                              double *period_out);

#endif
