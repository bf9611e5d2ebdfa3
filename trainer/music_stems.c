/* music_stems.c: see music_stems.h. */
#include "music_stems.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flac_write.h"
#include "music_file.h"

typedef struct stem {
  music_reader r;
  float *buf; /* up to MUSIC_CHUNK frames */
  size_t have;
  bool open;
} stem;

static void close_all(stem *s, int n) {
  for (int k = 0; k < n; k++) {
    if (s[k].open) music_reader_close(&s[k].r);
    free(s[k].buf);
  }
  free(s);
}

/* Opens every stem; NULL with why (and *status) when one cannot be read. */
static stem *open_all(const char *const *paths, int n, int *channels, int *rate, char *why, size_t why_size,
                      int *status) {
  stem *s = calloc((size_t)n, sizeof *s);
  if (!s) {
    *status = MUSIC_FAILED;
    snprintf(why, why_size, "out of memory");
    return NULL;
  }
  *channels = 0;
  for (int k = 0; k < n; k++) {
    if ((*status = music_reader_open(&s[k].r, paths[k], why, why_size)) != MUSIC_OK) {
      close_all(s, k);
      return NULL;
    }
    s[k].open = true;
    if (s[k].r.channels > *channels) *channels = s[k].r.channels;
    s[k].buf = malloc((size_t)MUSIC_CHUNK * (size_t)s[k].r.channels * sizeof *s[k].buf);
    if (!s[k].buf) {
      *status = MUSIC_FAILED;
      snprintf(why, why_size, "out of memory");
      close_all(s, k + 1);
      return NULL;
    }
  }
  *rate = s[0].r.rate;
  return s;
}

/* The next chunk of the sum into acc (MUSIC_CHUNK x ch): its frames (0 at
 * the end), or -1 (why). */
static long next_chunk(stem *s, int n, int ch, float *acc, char *why, size_t why_size) {
  size_t frames = 0;
  for (int k = 0; k < n; k++) { /* fill each stem's chunk as far as it goes */
    s[k].have = 0;
    long got;
    while (s[k].have < MUSIC_CHUNK &&
           (got = music_reader_read(&s[k].r, s[k].buf + s[k].have * (size_t)s[k].r.channels,
                                    MUSIC_CHUNK - s[k].have, why, why_size)) != 0) {
      if (got < 0) return -1;
      s[k].have += (size_t)got;
    }
    if (s[k].have > frames) frames = s[k].have;
  }
  memset(acc, 0, frames * (size_t)ch * sizeof *acc);
  for (int k = 0; k < n; k++) {
    const size_t sc = (size_t)s[k].r.channels;
    for (size_t t = 0; t < s[k].have; t++)
      for (size_t c = 0; c < (size_t)ch; c++) acc[t * (size_t)ch + c] += s[k].buf[t * sc + (sc == (size_t)ch ? c : 0)];
  }
  return (long)frames;
}

/* One pass over the stems: the peak (w NULL), or the scaled sum into w. */
static int pass(const char *const *paths, int n, const char *out, float *peak, float gain, char *why,
                size_t why_size) {
  int ch, rate, status = MUSIC_OK;
  stem *s = open_all(paths, n, &ch, &rate, why, why_size, &status);
  if (!s) return status;
  float *acc = malloc((size_t)MUSIC_CHUNK * (size_t)ch * sizeof *acc);
  flac_writer w;
  chordlet_error err = {0};
  bool writing = false;
  if (!acc) {
    status = MUSIC_FAILED;
    snprintf(why, why_size, "out of memory");
  } else if (!peak) {
    if (flac_writer_open(&w, out, rate, ch, &err)) {
      status = MUSIC_FAILED;
      snprintf(why, why_size, "%s", err.message);
    } else {
      writing = true;
    }
  }
  long frames;
  while (status == MUSIC_OK && (frames = next_chunk(s, n, ch, acc, why, why_size)) != 0) {
    if (frames < 0) {
      status = MUSIC_UNREADABLE;
      break;
    }
    const size_t k = (size_t)frames * (size_t)ch;
    if (peak) {
      for (size_t i = 0; i < k; i++)
        if (fabsf(acc[i]) > *peak) *peak = fabsf(acc[i]);
      continue;
    }
    for (size_t i = 0; i < k; i++) acc[i] *= gain;
    if (flac_writer_write(&w, acc, (size_t)frames, &err)) {
      status = MUSIC_FAILED;
      snprintf(why, why_size, "%s", err.message);
    }
  }
  if (writing && status == MUSIC_OK && flac_writer_commit(&w, &err)) {
    status = MUSIC_FAILED;
    snprintf(why, why_size, "%s", err.message);
  } else if (writing && status != MUSIC_OK) {
    flac_writer_abort(&w);
  }
  free(acc);
  close_all(s, n);
  return status;
}

int music_mix_stems(const char *const *paths, int n, const char *out, char *why, size_t why_size) {
  float peak = 0;
  int status = pass(paths, n, NULL, &peak, 1, why, why_size);
  if (status) return status;
  /* NumPy scaled the float32 sum by the Python float 1 / peak, rounded to float */
  const float gain = peak > 1 ? (float)(1.0 / peak) : 1.0f;
  return pass(paths, n, out, NULL, gain, why, why_size);
}
