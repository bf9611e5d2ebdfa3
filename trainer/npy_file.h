/*
 * npy_file.h: a float32 matrix as a NumPy .npy file (format 1.0), the
 * real-music survey's fingerprint files (`music/PKG/.fp/NAME.npy`: a file's
 * level curves, rows x windows). The format is NumPy's so that a folder
 * fetched before the survey moved to C keeps its fingerprints, and anyone can
 * look at one with np.load.
 *
 * Writing is atomic (atomicfile.h). Reading accepts little-endian float32 in
 * C or Fortran order, one or two dimensions (a vector reads as one row), and
 * refuses anything else with a reason: a wrong magic, an unparsable header,
 * another type, a size that does not match the file.
 *
 * Thread: main/worker (I/O).
 */
#ifndef CHORDLET_TRAINER_NPY_FILE_H
#define CHORDLET_TRAINER_NPY_FILE_H

#include <stddef.h>

#include "chordlet.h"

/* data: rows x cols, row-major. */
chordlet_status npy_write_f32(const char *path, const float *data, size_t rows, size_t cols, chordlet_error *err);
/* *data (free()): rows x cols, row-major. */
chordlet_status npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols, chordlet_error *err);

#endif
