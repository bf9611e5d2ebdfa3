/*
 * flac_write.h: writing mono audio as a 16-bit FLAC file, atomically.
 *
 * The encoder writes into the temporary file of an atomic_file (libsndfile's
 * virtual I/O over its stream), so a failure at any point, a full disk
 * included, leaves no file and no temporary file behind, and a finished file
 * appears under its name complete or not at all.
 *
 * Thread: main/worker (does I/O; libsndfile handles are not shared).
 */
#ifndef CHORDLET_TRAINER_FLAC_WRITE_H
#define CHORDLET_TRAINER_FLAC_WRITE_H

#include <stddef.h>

#include "chordlet.h"

/* samples (n) in [-1, 1] (anything beyond is clipped) at sample_rate Hz. */
chordlet_status flac_write(const char *path, const float *samples, size_t n, int sample_rate,
                           chordlet_error *err);

#endif
