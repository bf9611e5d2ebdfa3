/*
 * atomicfile.h: writing a file so that readers see either the old file or the
 * complete new one, never a half-written one (DESIGN.md 5).
 *
 * Data goes to a temporary file in the same folder; commit flushes it, syncs
 * it to disk, and renames it over the target. Any failure (a full disk
 * included) removes the temporary file and leaves the target untouched. A
 * target that exists and is not a regular file (a folder, a device such as
 * /dev/full, a FIFO; a symbolic link is followed) is refused at open.
 * Thread: main/worker (does I/O).
 */
#ifndef CHORDLET_ATOMICFILE_H
#define CHORDLET_ATOMICFILE_H

#include <stdio.h>

#include "chordlet.h"

typedef struct atomic_file {
  FILE *stream;     /* write here between open and commit/abort */
  char *temp_path;
  char *final_path;
} atomic_file;

chordlet_status atomic_file_open(atomic_file *file, const char *path, chordlet_error *err);
/* Closes and renames into place; on failure removes the temporary file. */
chordlet_status atomic_file_commit(atomic_file *file, chordlet_error *err);
/* Discards everything written; the target is untouched. Safe after commit. */
void atomic_file_abort(atomic_file *file);

#endif
