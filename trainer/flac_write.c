/* flac_write.c: libsndfile's FLAC encoder over an atomic_file's stream. */
#define _POSIX_C_SOURCE 200809L
#include "flac_write.h"

#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "error.h"

enum { WRITE_CHUNK = 65536 }; /* frames per sf_writef_float call */

/* The stream, and the first errno a write or seek met: libsndfile only says
 * "it failed", the disk says why (ENOSPC, EFBIG, EIO). */
typedef struct flac_sink sink;

static void note_error(sink *s) {
  if (!s->error) s->error = errno ? errno : EIO;
}

static sf_count_t sink_length(void *user) {
  sink *s = user;
  off_t here = ftello(s->stream);
  if (here < 0 || fseeko(s->stream, 0, SEEK_END) != 0) return -1;
  off_t end = ftello(s->stream);
  if (fseeko(s->stream, here, SEEK_SET) != 0) return -1;
  return end;
}

static sf_count_t sink_seek(sf_count_t offset, int whence, void *user) {
  sink *s = user;
  if (fseeko(s->stream, (off_t)offset, whence) != 0) {
    note_error(s);
    return -1;
  }
  return ftello(s->stream);
}

static sf_count_t sink_read(void *ptr, sf_count_t count, void *user) {
  sink *s = user;
  return (sf_count_t)fread(ptr, 1, (size_t)count, s->stream);
}

static sf_count_t sink_write(const void *ptr, sf_count_t count, void *user) {
  sink *s = user;
  errno = 0;
  size_t n = fwrite(ptr, 1, (size_t)count, s->stream);
  if (n != (size_t)count) note_error(s);
  return (sf_count_t)n;
}

static sf_count_t sink_tell(void *user) {
  sink *s = user;
  return ftello(s->stream);
}

chordlet_status flac_writer_open(flac_writer *w, const char *path, int sample_rate, int channels,
                                 chordlet_error *err) {
  memset(w, 0, sizeof *w);
  chordlet_status st = atomic_file_open(&w->file, path, err);
  if (st) return st;
  w->sink.stream = w->file.stream;
  w->channels = channels;
  SF_VIRTUAL_IO io = {sink_length, sink_seek, sink_read, sink_write, sink_tell};
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.samplerate = sample_rate;
  info.channels = channels;
  info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  SNDFILE *snd = sf_open_virtual(&io, SFM_WRITE, &info, &w->sink);
  if (!snd) {
    int e = w->sink.error;
    atomic_file_abort(&w->file);
    return chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: %s", path,
                         e ? strerror(e) : "libsndfile refused to start a FLAC stream");
  }
  /* Clip rather than wrap around should a sample exceed full scale. */
  if (sf_command(snd, SFC_SET_CLIPPING, NULL, SF_TRUE) != SF_TRUE) {
    sf_close(snd);
    atomic_file_abort(&w->file);
    return chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: libsndfile cannot clip", path);
  }
  w->snd = snd;
  return CHORDLET_OK;
}

chordlet_status flac_writer_write(flac_writer *w, const float *frames, size_t n, chordlet_error *err) {
  size_t done = 0;
  while (done < n && !w->sink.error) {
    size_t k = n - done < WRITE_CHUNK ? n - done : WRITE_CHUNK;
    if (sf_writef_float(w->snd, frames + done * (size_t)w->channels, (sf_count_t)k) != (sf_count_t)k) break;
    done += k;
  }
  if (done < n || w->sink.error)
    return chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: %s", w->file.final_path,
                         w->sink.error ? strerror(w->sink.error) : "the FLAC encoder failed");
  return CHORDLET_OK;
}

chordlet_status flac_writer_commit(flac_writer *w, chordlet_error *err) {
  int close_failed = sf_close(w->snd) != 0;
  w->snd = NULL;
  if (close_failed || w->sink.error) {
    int e = w->sink.error;
    chordlet_status st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: %s", w->file.final_path,
                                       e ? strerror(e) : "the FLAC encoder failed");
    atomic_file_abort(&w->file);
    return st;
  }
  return atomic_file_commit(&w->file, err);
}

void flac_writer_abort(flac_writer *w) {
  if (w->snd) sf_close(w->snd);
  w->snd = NULL;
  atomic_file_abort(&w->file);
}

chordlet_status flac_write(const char *path, const float *samples, size_t n, int sample_rate,
                           chordlet_error *err) {
  flac_writer w;
  chordlet_status st = flac_writer_open(&w, path, sample_rate, 1, err);
  if (st) return st;
  st = flac_writer_write(&w, samples, n, err);
  if (st) {
    flac_writer_abort(&w);
    return st;
  }
  return flac_writer_commit(&w, err);
}
