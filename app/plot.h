/* plot.h: pictures of chord timelines, PNG or SVG by the file's extension
 * (cairo), written atomically.
 *  - plot_transcription: the chords as coloured segments with their names
 *    (colour: hue by root, lighter for major-like qualities, grey for N/X)
 *    above the constant-Q features the model heard (log magnitude, low notes
 *    at the bottom), on a time axis; `chordlet transcribe --plot`.
 *  - plot_comparison: reference and estimate as two rows of segments and,
 *    below, red where they name different vocabulary chords (the 170-class
 *    reduction, on a 10 ms grid; X in the reference is left out, as
 *    mir_eval does), with the share that agrees; `chordlet eval --plot`.
 * Width: 40 pixels a second (800..8000). Thread: main. */
#ifndef CHORDLET_APP_PLOT_H
#define CHORDLET_APP_PLOT_H

#include <stddef.h>

#include "chordlet.h"
#include "lab.h"
#include "vocab.h"

/* Whether path names a picture we can write (.png or .svg). */
chordlet_status plot_check_path(const char *path, chordlet_error *err);

/* features (n_frames, n_bins), frame k at k * frame_seconds; may be NULL. */
chordlet_status plot_transcription(const char *path, const float *features, size_t n_frames, int n_bins,
                                   double frame_seconds, const lab_file *chords, double seconds,
                                   chordlet_spelling spelling, const char *title, chordlet_error *err);

chordlet_status plot_comparison(const char *path, const lab_file *reference, const lab_file *estimate,
                                double seconds, chordlet_spelling spelling, const char *title, chordlet_error *err);

/* Releases cairo's and fontconfig's process-wide font caches. Only at the
 * end of the process (after the last plot): leak checkers then see nothing
 * left behind. */
void plot_release_caches(void);

#endif
