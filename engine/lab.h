/*
 * lab.h: chord annotation files (.lab): one segment a line, `start end label`,
 * times in seconds, fields separated by spaces or tabs. Blank lines and lines
 * starting with '#' are skipped; CRLF line ends are accepted.
 *
 * Reading is strict, because every accuracy number goes through it: a time
 * that is not a finite decimal number, a negative time, a segment that ends
 * before it starts or begins before the previous one ends, a time beyond
 * LAB_MAX_SECONDS, a malformed Harte label, NUL bytes, an over-long line or
 * too many segments are errors that name the file and the line. A file over
 * LAB_MAX_FILE_BYTES, and one that is not a regular file (a folder; a FIFO,
 * opened without waiting for a writer; a device), are refused before anything
 * is read. A segment of zero length carries no time and is dropped (counted
 * in n_empty_dropped), as mir_eval cannot score one either. Gaps between
 * segments are allowed.
 *
 * Thread: main/worker (allocates, does I/O).
 */
#ifndef CHORDLET_LAB_H
#define CHORDLET_LAB_H

#include <stddef.h>

#include "chordlet.h"
#include "harte.h"

#define LAB_MAX_SECONDS 604800.0 /* one week: longer is a broken file, not music */
/* Limits that bound the memory one file can take (issue 17: a 100 MB .lab
 * made `chordlet eval` use 1.8 GB). Real annotations are tens of KB; 2 million
 * segments is a chord every 43 ms for a whole day, and 64 MiB holds that many
 * lines of 33 characters. chordlet transcribe stays far below: even argmax
 * decoding of the file-mode student's 60 ms frames over the longest audio
 * accepted (24 h) gives at most 1.44 million. At the limits a file takes
 * ~64 MiB of text (freed after parsing) and ~230 MB of segments. */
enum {
  LAB_MAX_SEGMENTS = 2000000,
  LAB_MAX_LINE = 4096,
  LAB_MAX_FILE_BYTES = 64 * 1024 * 1024, /* checked against the file's size before reading */
};

typedef struct lab_segment {
  double start, end; /* seconds, start < end */
  harte_chord chord;
  int line;          /* line in the source file (0 for segments made in memory) */
} lab_segment;

typedef struct lab_file {
  lab_segment *segments; /* sorted, non-overlapping */
  size_t n_segments;
  size_t capacity;
  size_t n_empty_dropped; /* zero-length segments skipped while reading */
} lab_file;

/* Reads a .lab file. name is used in messages ("file:line: what"). */
chordlet_status lab_read(const char *path, lab_file *out, chordlet_error *err);

/* Parses .lab text held in memory (len bytes, need not be NUL-terminated). */
chordlet_status lab_parse(const char *text, size_t len, const char *name, lab_file *out,
                          chordlet_error *err);

/* Appends a segment (validated like a line read from a file). */
chordlet_status lab_append(lab_file *lab, double start, double end, const harte_chord *chord,
                           chordlet_error *err);

/* Writes a .lab file atomically (temp file + rename), six decimals, tab-separated. */
chordlet_status lab_write(const char *path, const lab_file *lab, chordlet_error *err);

void lab_free(lab_file *lab);

#endif
