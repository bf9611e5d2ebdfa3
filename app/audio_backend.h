/*
 * audio_backend.h: the sound-card side of `chordlet live`, behind one small
 * interface so the command does not care whether PortAudio or JACK delivers
 * the audio.
 *
 * A backend opens one capture stream and calls `process` from its audio
 * thread with each block (non-interleaved float channels). `process` must be
 * real-time safe; everything else runs on the main thread.
 */
#ifndef CHORDLET_APP_AUDIO_BACKEND_H
#define CHORDLET_APP_AUDIO_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Thread: the backend's audio thread. */
typedef void (*audio_process_fn)(void *ctx, const float *const *channels, int n_channels, size_t n_frames);

typedef struct audio_request {
  const char *device;  /* PortAudio: a device number or part of its name; NULL: the default input.
                          JACK: a port to connect from ("system:capture_1"); NULL: the first
                          physical capture port, if any */
  const char *client_name; /* JACK client name ("chordlet") */
  int channels;        /* channels to capture: 1 or 2 */
  double sample_rate;  /* PortAudio: 0 = the device's default; JACK: the server's */
} audio_request;

typedef struct audio_info {
  double sample_rate;
  size_t max_block;    /* the largest block process() will see (0: unknown) */
  int channels;
  char device[256];    /* what was opened, for the header */
} audio_info;

typedef struct audio_backend {
  const char *name;    /* "portaudio", "jack" */
  /* Prints the capture devices (or ports) to out; 0, or -1 with err. */
  int (*list)(FILE *out, char *err, size_t err_size);
  /* Opens and starts capturing; 0, or -1 with err. */
  int (*open)(const audio_request *req, audio_process_fn process, void *ctx, audio_info *info, void **handle,
              char *err, size_t err_size);
  /* NULL for a card: it runs from open on, and what it captures before the
   * listener is ready is gone, as it would be. A recording (the file
   * backend) waits for start instead, so that it is heard from its first
   * sample and every run of it gives the same chords. 0, or -1 with err. */
  int (*start)(void *handle, char *err, size_t err_size);
  /* False once the stream has ended by itself (device lost, server gone). */
  bool (*alive)(void *handle);
  void (*close)(void *handle);
  bool ends; /* the stream ends by itself and that is normal (a file) */
} audio_backend;

extern const audio_backend audio_backend_portaudio;
extern const audio_backend audio_backend_jack;
extern const audio_backend audio_backend_file;

#endif
