/*
 * music_file.h: the real-music survey's audio I/O (`chordlet-train
 * real-music`): one decode of a file that gives everything the survey needs
 * (length, the sha256 of the file and of its decoded samples, the level
 * curves), the decimated mono mix that confirms a loop, and the first frames
 * of a file rewritten as FLAC (a loop cut to one pass).
 *
 * Audio is read with libsndfile, as chordlet reads it, as float frames. A file
 * that cannot be used is bad input, not a failure: the functions return
 * MUSIC_UNREADABLE with the reason in `why` (the survey records it and goes
 * on): libsndfile refusing it (its own words, after "libsndfile: "), a header
 * with no channel or more than AUDIO_MAX_CHANNELS, a rate outside
 * AUDIO_MIN_RATE..AUDIO_MAX_RATE, more than AUDIO_MAX_SECONDS declared or
 * decoded, or samples that are NaN or infinite (the NumPy version kept such
 * a file, with NaN in its fingerprint, or surveyed a 100-channel header as a
 * 0 s clip; the trainer would refuse them later). A file shorter than its
 * header declares is read as far as it decodes (as the survey always did).
 * MUSIC_FAILED is our own failure (memory, a write), also explained in `why`.
 *
 * Thread: main/worker (I/O; libsndfile's error text is process-wide).
 */
#ifndef CHORDLET_TRAINER_MUSIC_FILE_H
#define CHORDLET_TRAINER_MUSIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "music_compare.h"
#include "sha256.h"

enum { MUSIC_OK = 0, MUSIC_UNREADABLE = 1, MUSIC_FAILED = -1 };
enum { MUSIC_WHY = 600, MUSIC_CHUNK = 1 << 16 /* frames per read */ };

typedef struct music_reader {
  void *snd; /* SNDFILE */
  int channels, rate;
  long long max_frames;   /* AUDIO_MAX_SECONDS at the file's rate */
  bool libsndfile_refused; /* why is libsndfile's own text */
} music_reader;

/* MUSIC_OK, or MUSIC_UNREADABLE with why (for a file libsndfile refuses: its
 * message alone, r->libsndfile_refused set). */
int music_reader_open(music_reader *r, const char *path, char *why, size_t why_size);
/* Up to n frames into buf (n * channels floats): the count, 0 at the end;
 * -1 with why for non-finite samples. */
long music_reader_read(music_reader *r, float *buf, size_t n, char *why, size_t why_size);
void music_reader_close(music_reader *r);

typedef struct music_analysis {
  long long frames;
  int rate, channels;
  char sha256[SHA256_HEX];     /* of the file's bytes */
  char pcm_sha256[SHA256_HEX]; /* of the decoded float32 frames, native byte order */
  music_print print;           /* the level curves (level_curve.h) */
  double hop;                  /* seconds between windows */
} music_analysis;

/* Decodes path once. MUSIC_OK (free with music_analysis_free), or
 * MUSIC_UNREADABLE / MUSIC_FAILED with why ("libsndfile: ..." when
 * libsndfile refused the file). */
int music_analyse(const char *path, music_analysis *a, char *why, size_t why_size);
void music_analysis_free(music_analysis *a);

/* The mono mix (each frame's channel mean in float) averaged over blocks of
 * 4 frames, as NumPy computed it: *x (n) at *rate = the file's rate / 4. */
int music_decimated_mono(const char *path, float **x, size_t *n, double *rate, char *why, size_t why_size);

/* The first `frames` frames of src as a 16-bit FLAC file dst (atomic),
 * chunk by chunk. */
int music_copy_head(const char *src, const char *dst, long long frames, char *why, size_t why_size);

#endif
