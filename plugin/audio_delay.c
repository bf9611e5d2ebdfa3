/* audio_delay.c: see audio_delay.h. A ring per channel; one write position. */
#include "audio_delay.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_DELAY_CHANNELS = 8 };
#define MAX_DELAY_LENGTH (1u << 24) /* 87 s at 192 kHz */

struct audio_delay {
  int n_channels;
  uint32_t length, pos;
  float *ring[MAX_DELAY_CHANNELS];
  float data[]; /* n_channels * length */
};

audio_delay *audio_delay_create(int n_channels, uint32_t length) {
  if (n_channels < 1 || n_channels > MAX_DELAY_CHANNELS || length < 1 || length > MAX_DELAY_LENGTH) return NULL;
  audio_delay *d = calloc(1, sizeof *d + sizeof(float) * (size_t)n_channels * length);
  if (!d) return NULL;
  d->n_channels = n_channels;
  d->length = length;
  for (int c = 0; c < n_channels; c++) d->ring[c] = d->data + (size_t)c * length;
  return d;
}

void audio_delay_free(audio_delay *d) { free(d); }

uint32_t audio_delay_length(const audio_delay *d) { return d ? d->length : 0; }

void audio_delay_clear(audio_delay *d) {
  if (!d) return;
  memset(d->data, 0, sizeof(float) * (size_t)d->n_channels * d->length);
  d->pos = 0;
}

void audio_delay_run(audio_delay *d, const float *const *in, float *const *out, int n_channels, uint32_t n) {
  if (!d) return;
  if (n_channels > d->n_channels) n_channels = d->n_channels;
  uint32_t pos = d->pos;
  for (int c = 0; c < n_channels; c++) {
    float *ring = d->ring[c];
    const float *x = in[c];
    float *y = out[c];
    pos = d->pos;
    /* In runs up to the ring's end: each sample is read out before the input
     * overwrites it, so in == out works. */
    for (uint32_t done = 0; done < n;) {
      uint32_t len = d->length - pos;
      if (len > n - done) len = n - done;
      for (uint32_t i = 0; i < len; i++) {
        const float v = x ? x[done + i] : 0.0f;
        const float delayed = ring[pos + i];
        ring[pos + i] = v;
        if (y) y[done + i] = delayed;
      }
      done += len;
      pos += len;
      if (pos == d->length) pos = 0;
    }
  }
  d->pos = pos;
}
