/* backend_portaudio.c: `chordlet live` on PortAudio (the default backend:
 * ALSA, PulseAudio's ALSA plugin, JACK through PortAudio's host API). The
 * buffer size is left to the host API (paFramesPerBufferUnspecified), which
 * is what PortAudio's JACK host API needs and lets ALSA pick its period. */
#define _GNU_SOURCE /* strcasestr */
#include <fcntl.h>
#include <portaudio.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audio_backend.h"

typedef struct pa_handle {
  PaStream *stream;
  audio_process_fn process;
  void *ctx;
  int channels;
  atomic_bool finished;
} pa_handle;

/* Scanning for devices, ALSA prints a screenful of complaints about cards
 * and plugins that are not there; they are noise to someone asking for a
 * device, so stderr is muted while PortAudio initialises (our own messages
 * come after). CHORDLET_AUDIO_DEBUG=1 keeps them. */
static PaError initialize_quietly(void) {
  const char *debug = getenv("CHORDLET_AUDIO_DEBUG");
  if (debug && *debug && strcmp(debug, "0") != 0) return Pa_Initialize();
  fflush(stderr);
  int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved >= 0 && null >= 0) dup2(null, STDERR_FILENO);
  PaError e = Pa_Initialize();
  if (saved >= 0) {
    dup2(saved, STDERR_FILENO);
    close(saved);
  }
  if (null >= 0) close(null);
  return e;
}

static int pa_list(FILE *out, char *err, size_t err_size) {
  PaError e = initialize_quietly();
  if (e != paNoError) {
    snprintf(err, err_size, "PortAudio: %s", Pa_GetErrorText(e));
    return -1;
  }
  int n = Pa_GetDeviceCount(), shown = 0;
  PaDeviceIndex def = Pa_GetDefaultInputDevice();
  for (int i = 0; i < n; i++) {
    const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
    if (!d || d->maxInputChannels < 1) continue;
    const PaHostApiInfo *api = Pa_GetHostApiInfo(d->hostApi);
    fprintf(out, "%3d%s %-40s %2d in  %6.0f Hz  (%s)\n", i, i == def ? "*" : " ", d->name, d->maxInputChannels,
            d->defaultSampleRate, api ? api->name : "?");
    shown++;
  }
  if (shown == 0) fprintf(out, "no audio input devices (PortAudio sees %d devices, none with inputs)\n", n);
  else fprintf(out, "* the default input; choose one with --device NUMBER or part of its name\n");
  Pa_Terminate();
  return 0;
}

static int pa_callback(const void *input, void *output, unsigned long frames, const PaStreamCallbackTimeInfo *time,
                       PaStreamCallbackFlags flags, void *user) {
  (void)output;
  (void)time;
  (void)flags;
  pa_handle *h = user;
  if (input) h->process(h->ctx, (const float *const *)input, h->channels, frames);
  return paContinue;
}

static void pa_finished(void *user) {
  pa_handle *h = user;
  atomic_store(&h->finished, true);
}

static int find_device(const char *want, char *err, size_t err_size) {
  if (!want) {
    PaDeviceIndex def = Pa_GetDefaultInputDevice();
    if (def == paNoDevice) snprintf(err, err_size, "no default audio input device (see --list-devices)");
    return def == paNoDevice ? -1 : def;
  }
  char *end;
  long number = strtol(want, &end, 10);
  int n = Pa_GetDeviceCount();
  if (*want && !*end) {
    if (number >= 0 && number < n && Pa_GetDeviceInfo((int)number)->maxInputChannels > 0) return (int)number;
    snprintf(err, err_size, "no input device number %ld (see --list-devices)", number);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
    if (d && d->maxInputChannels > 0 && strcasestr(d->name, want)) return i;
  }
  snprintf(err, err_size, "no input device named like '%s' (see --list-devices)", want);
  return -1;
}

static int pa_open(const audio_request *req, audio_process_fn process, void *ctx, audio_info *info, void **out,
                   char *err, size_t err_size) {
  *out = NULL;
  PaError e = initialize_quietly();
  if (e != paNoError) {
    snprintf(err, err_size, "PortAudio: %s", Pa_GetErrorText(e));
    return -1;
  }
  int dev = find_device(req->device, err, err_size);
  if (dev < 0) {
    Pa_Terminate();
    return -1;
  }
  const PaDeviceInfo *d = Pa_GetDeviceInfo(dev);
  pa_handle *h = calloc(1, sizeof *h);
  if (!h) {
    Pa_Terminate();
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  h->process = process;
  h->ctx = ctx;
  h->channels = req->channels < d->maxInputChannels ? req->channels : d->maxInputChannels;
  atomic_init(&h->finished, false);
  PaStreamParameters in = {.device = dev,
                           .channelCount = h->channels,
                           .sampleFormat = paFloat32 | paNonInterleaved,
                           .suggestedLatency = d->defaultLowInputLatency,
                           .hostApiSpecificStreamInfo = NULL};
  double rate = req->sample_rate > 0 ? req->sample_rate : d->defaultSampleRate;
  e = Pa_OpenStream(&h->stream, &in, NULL, rate, paFramesPerBufferUnspecified, paNoFlag, pa_callback, h);
  if (e == paNoError) e = Pa_SetStreamFinishedCallback(h->stream, pa_finished);
  if (e == paNoError) e = Pa_StartStream(h->stream);
  if (e != paNoError) {
    snprintf(err, err_size, "cannot open '%s' at %.0f Hz: %s", d->name, rate, Pa_GetErrorText(e));
    if (h->stream) Pa_CloseStream(h->stream);
    free(h);
    Pa_Terminate();
    return -1;
  }
  const PaStreamInfo *si = Pa_GetStreamInfo(h->stream);
  info->sample_rate = si ? si->sampleRate : rate;
  info->max_block = 0;
  info->channels = h->channels;
  snprintf(info->device, sizeof info->device, "%s (PortAudio)", d->name);
  *out = h;
  return 0;
}

static bool pa_alive(void *handle) {
  pa_handle *h = handle;
  return !atomic_load(&h->finished) && Pa_IsStreamActive(h->stream) == 1;
}

static void pa_close(void *handle) {
  pa_handle *h = handle;
  if (!h) return;
  Pa_StopStream(h->stream);
  Pa_CloseStream(h->stream);
  free(h);
  Pa_Terminate();
}

const audio_backend audio_backend_portaudio = {"portaudio", pa_list, pa_open, NULL, pa_alive, pa_close, false};
