/* music_file.c: see music_file.h. */
#define _POSIX_C_SOURCE 200809L
#include "music_file.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiofile.h"
#include "flac_write.h"
#include "level_curve.h"

int music_reader_open(music_reader *r, const char *path, char *why, size_t why_size) {
  memset(r, 0, sizeof *r);
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *snd = sf_open(path, SFM_READ, &info);
  if (!snd) {
    r->libsndfile_refused = true;
    snprintf(why, why_size, "%s", sf_strerror(NULL));
    return MUSIC_UNREADABLE;
  }
  /* A header libsndfile accepts can still be absurd; refuse it before
   * anything is sized from it. */
  if (info.channels < 1 || info.channels > AUDIO_MAX_CHANNELS)
    snprintf(why, why_size, "an absurd header: %d channels (at most %d)", info.channels, AUDIO_MAX_CHANNELS);
  else if (info.samplerate < AUDIO_MIN_RATE || info.samplerate > AUDIO_MAX_RATE)
    snprintf(why, why_size, "an absurd header: a sample rate of %d Hz (%d to %d)", info.samplerate,
             AUDIO_MIN_RATE, AUDIO_MAX_RATE);
  else if (info.frames != SF_COUNT_MAX && (double)info.frames > AUDIO_MAX_SECONDS * info.samplerate)
    /* (SF_COUNT_MAX: a length libsndfile does not know, as of an Ogg file cut
     * short; the frames decoded are counted against the limit instead) */
    snprintf(why, why_size, "an absurd header: %lld frames, over %.0f h", (long long)info.frames,
             AUDIO_MAX_SECONDS / 3600);
  else {
    r->snd = snd;
    r->channels = info.channels;
    r->rate = info.samplerate;
    r->max_frames = (long long)(AUDIO_MAX_SECONDS * info.samplerate);
    return MUSIC_OK;
  }
  sf_close(snd);
  return MUSIC_UNREADABLE;
}

long music_reader_read(music_reader *r, float *buf, size_t n, char *why, size_t why_size) {
  sf_count_t got = sf_readf_float(r->snd, buf, (sf_count_t)n);
  if (got <= 0) return 0; /* the end, or as far as the file decodes */
  for (size_t i = 0; i < (size_t)got * (size_t)r->channels; i++)
    if (!isfinite(buf[i])) {
      snprintf(why, why_size, "non-finite samples (NaN or infinity) in the decoded audio");
      return -1;
    }
  return (long)got;
}

void music_reader_close(music_reader *r) {
  if (r->snd) sf_close(r->snd);
  r->snd = NULL;
}

void music_analysis_free(music_analysis *a) {
  free(a->print.env);
  memset(a, 0, sizeof *a);
}

int music_analyse(const char *path, music_analysis *a, char *why, size_t why_size) {
  memset(a, 0, sizeof *a);
  music_reader r;
  char reason[MUSIC_WHY];
  if (music_reader_open(&r, path, reason, sizeof reason)) {
    snprintf(why, why_size, "%s%s", r.libsndfile_refused ? "libsndfile: " : "", reason);
    return MUSIC_UNREADABLE;
  }
  level_curve lc;
  float *buf = malloc((size_t)MUSIC_CHUNK * (size_t)r.channels * sizeof *buf);
  if (!buf || level_curve_init(&lc, r.rate, r.channels)) {
    free(buf);
    music_reader_close(&r);
    snprintf(why, why_size, "out of memory");
    return MUSIC_FAILED;
  }
  sha256_ctx pcm;
  sha256_init(&pcm);
  int status = MUSIC_OK;
  long got;
  while (status == MUSIC_OK && (got = music_reader_read(&r, buf, MUSIC_CHUNK, why, why_size)) != 0) {
    if (got < 0) {
      status = MUSIC_UNREADABLE;
    } else if ((a->frames += got) > r.max_frames) {
      snprintf(why, why_size, "decodes to more than %.0f h of audio", AUDIO_MAX_SECONDS / 3600);
      status = MUSIC_UNREADABLE;
    } else {
      sha256_update(&pcm, buf, (size_t)got * (size_t)r.channels * sizeof *buf);
      if (level_curve_feed(&lc, buf, (size_t)got)) {
        snprintf(why, why_size, "out of memory");
        status = MUSIC_FAILED;
      }
    }
  }
  free(buf);
  a->rate = r.rate;
  a->channels = r.channels;
  music_reader_close(&r);
  if (status == MUSIC_OK) {
    a->print.rows = lc.rows;
    if (level_curve_finish(&lc, &a->print.env, &a->print.n)) {
      snprintf(why, why_size, "out of memory");
      status = MUSIC_FAILED;
    }
  }
  level_curve_free(&lc);
  if (status == MUSIC_OK && sha256_file(path, a->sha256)) {
    snprintf(why, why_size, "cannot read %s: %s", path, strerror(errno));
    status = MUSIC_UNREADABLE;
  }
  if (status != MUSIC_OK) {
    music_analysis_free(a);
    return status;
  }
  unsigned char digest[SHA256_DIGEST];
  sha256_final(&pcm, digest);
  sha256_hex(digest, a->pcm_sha256);
  a->hop = level_curve_hop(a->rate);
  return MUSIC_OK;
}

int music_decimated_mono(const char *path, float **x, size_t *n, double *rate, char *why, size_t why_size) {
  *x = NULL;
  *n = 0;
  music_reader r;
  char reason[MUSIC_WHY];
  if (music_reader_open(&r, path, reason, sizeof reason)) {
    snprintf(why, why_size, "%s%s", r.libsndfile_refused ? "libsndfile: " : "", reason);
    return MUSIC_UNREADABLE;
  }
  const size_t ch = (size_t)r.channels;
  float *buf = malloc((size_t)MUSIC_CHUNK * ch * sizeof *buf), *out = NULL;
  size_t cap = 0, len = 0, frames = 0;
  float pending[4]; /* the mono frames of an unfinished group of 4 */
  size_t n_pending = 0;
  int status = buf ? MUSIC_OK : MUSIC_FAILED;
  long got;
  while (status == MUSIC_OK && (got = music_reader_read(&r, buf, MUSIC_CHUNK, why, why_size)) != 0) {
    if (got < 0 || (long long)(frames += (size_t)got) > r.max_frames) {
      if (got >= 0) snprintf(why, why_size, "decodes to more than %.0f h of audio", AUDIO_MAX_SECONDS / 3600);
      status = MUSIC_UNREADABLE;
      break;
    }
    if (len + (size_t)got / 4 + 1 > cap) {
      size_t c = cap ? 2 * cap : (size_t)MUSIC_CHUNK;
      while (c < len + (size_t)got / 4 + 1) c *= 2;
      float *p = realloc(out, c * sizeof *p);
      if (!p) {
        status = MUSIC_FAILED;
        break;
      }
      out = p, cap = c;
    }
    for (long t = 0; t < got; t++) {
      /* c.mean(axis=1) on float32: NumPy's float sum, then / channels in float */
      pending[n_pending++] = numpy_pairwise_sum_f(buf + (size_t)t * ch, ch) / (float)ch;
      if (n_pending == 4) {
        out[len++] = numpy_pairwise_sum_f(pending, 4) / 4.0f;
        n_pending = 0;
      }
    }
  }
  free(buf);
  music_reader_close(&r);
  if (status == MUSIC_FAILED) snprintf(why, why_size, "out of memory");
  if (status != MUSIC_OK) {
    free(out);
    return status;
  }
  *x = out ? out : malloc(sizeof *out);
  if (!*x) {
    snprintf(why, why_size, "out of memory");
    return MUSIC_FAILED;
  }
  *n = len;
  *rate = r.rate / 4.0;
  return MUSIC_OK;
}

int music_copy_head(const char *src, const char *dst, long long frames, char *why, size_t why_size) {
  music_reader r;
  char reason[MUSIC_WHY];
  if (music_reader_open(&r, src, reason, sizeof reason)) {
    snprintf(why, why_size, "%s%s", r.libsndfile_refused ? "libsndfile: " : "", reason);
    return MUSIC_UNREADABLE;
  }
  float *buf = malloc((size_t)MUSIC_CHUNK * (size_t)r.channels * sizeof *buf);
  flac_writer w;
  chordlet_error err = {0};
  if (!buf) {
    music_reader_close(&r);
    snprintf(why, why_size, "out of memory");
    return MUSIC_FAILED;
  }
  if (flac_writer_open(&w, dst, r.rate, r.channels, &err)) {
    free(buf);
    music_reader_close(&r);
    snprintf(why, why_size, "%s", err.message);
    return MUSIC_FAILED;
  }
  int status = MUSIC_OK;
  long long left = frames;
  long got;
  while (status == MUSIC_OK && left > 0 && (got = music_reader_read(&r, buf, MUSIC_CHUNK, why, why_size)) != 0) {
    if (got < 0) {
      status = MUSIC_UNREADABLE;
    } else {
      size_t k = (long long)got < left ? (size_t)got : (size_t)left;
      if (flac_writer_write(&w, buf, k, &err)) {
        snprintf(why, why_size, "%s", err.message);
        status = MUSIC_FAILED;
      }
      left -= got;
    }
  }
  free(buf);
  music_reader_close(&r);
  if (status != MUSIC_OK) {
    flac_writer_abort(&w);
    return status;
  }
  if (flac_writer_commit(&w, &err)) {
    snprintf(why, why_size, "%s", err.message);
    return MUSIC_FAILED;
  }
  return MUSIC_OK;
}
