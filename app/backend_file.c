/* backend_file.c: `chordlet live --backend file --device SONG.wav`: a file
 * played to the recogniser at the pace of a sound card (blocks of 256 frames
 * at real time), without a sound card: for trying the live readout on a
 * recording, demos, and tests of the view. The file's own sample rate is
 * kept (several channels are averaged, as audiofile_read does). The stream
 * ends with the file. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio_backend.h"
#include "audiofile.h"

enum { FILE_BLOCK = 256 };

typedef struct file_handle {
  audio_buffer audio;
  audio_process_fn process;
  void *ctx;
  pthread_t thread;
  bool started; /* the player thread runs (file_start) */
  atomic_bool stop, done;
} file_handle;

static int file_list(FILE *out, char *err, size_t err_size) {
  (void)err;
  (void)err_size;
  fprintf(out, "the file backend plays an audio file: --backend file --device SONG.wav\n");
  return 0;
}

static void *player(void *arg) {
  file_handle *h = arg;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  const long block_ns = (long)(1e9 * FILE_BLOCK / h->audio.sample_rate);
  for (size_t at = 0; at < h->audio.n_samples && !atomic_load(&h->stop); at += FILE_BLOCK) {
    size_t len = h->audio.n_samples - at < FILE_BLOCK ? h->audio.n_samples - at : FILE_BLOCK;
    const float *ch[1] = {h->audio.samples + at};
    h->process(h->ctx, ch, 1, len);
    next.tv_nsec += block_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
  }
  atomic_store(&h->done, true);
  return NULL;
}

static int file_open(const audio_request *req, audio_process_fn process, void *ctx, audio_info *info, void **out,
                     char *err, size_t err_size) {
  *out = NULL;
  if (!req->device) {
    snprintf(err, err_size, "the file backend needs --device FILE");
    return -1;
  }
  file_handle *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  chordlet_error e;
  if (audiofile_read(req->device, 0, &h->audio, &e)) {
    snprintf(err, err_size, "%s", e.message);
    free(h);
    return -1;
  }
  h->process = process;
  h->ctx = ctx;
  atomic_init(&h->stop, false);
  atomic_init(&h->done, false);
  info->sample_rate = h->audio.sample_rate;
  info->max_block = FILE_BLOCK;
  info->channels = 1;
  snprintf(info->device, sizeof info->device, "file %.200s (%.1f s, played in real time)", req->device,
           (double)h->audio.n_samples / h->audio.sample_rate);
  *out = h;
  return 0;
}

static int file_start(void *handle, char *err, size_t err_size) {
  file_handle *h = handle;
  if (pthread_create(&h->thread, NULL, player, h) != 0) {
    snprintf(err, err_size, "cannot start the file player");
    return -1;
  }
  h->started = true;
  return 0;
}

static bool file_alive(void *handle) { return !atomic_load(&((file_handle *)handle)->done); }

static void file_close(void *handle) {
  file_handle *h = handle;
  if (!h) return;
  atomic_store(&h->stop, true);
  if (h->started) pthread_join(h->thread, NULL);
  audio_buffer_free(&h->audio);
  free(h);
}

const audio_backend audio_backend_file = {"file", file_list, file_open, file_start, file_alive, file_close, true};
