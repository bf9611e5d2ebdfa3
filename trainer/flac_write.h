/*
 * flac_write.h: writing audio as a 16-bit FLAC file, atomically.
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

#include <stdio.h>

#include "atomicfile.h"
#include "chordlet.h"

/* samples (n) in [-1, 1] (anything beyond is clipped) at sample_rate Hz. */
chordlet_status flac_write(const char *path, const float *samples, size_t n, int sample_rate,
                           chordlet_error *err);

/* The same as a stream, for audio that does not fit in memory at once and for
 * several channels: open, write interleaved frames any number of times, then
 * commit (the file appears complete) or abort (nothing appears). The writer
 * must stay where it is between open and commit/abort (libsndfile keeps a
 * pointer into it). After a failed write, only abort. */
typedef struct flac_writer {
  atomic_file file;
  struct flac_sink {
    FILE *stream;
    int error; /* the first errno a write or seek met */
  } sink;
  void *snd; /* SNDFILE */
  int channels;
} flac_writer;

chordlet_status flac_writer_open(flac_writer *w, const char *path, int sample_rate, int channels,
                                 chordlet_error *err);
chordlet_status flac_writer_write(flac_writer *w, const float *frames, size_t n, chordlet_error *err);
chordlet_status flac_writer_commit(flac_writer *w, chordlet_error *err);
void flac_writer_abort(flac_writer *w);

#endif
