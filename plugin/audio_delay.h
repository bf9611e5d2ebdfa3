/* audio_delay.h: the plugin's audio delay line, for models that look ahead.
 *
 * A file-mode model (models/offline.chordlet) decides a chord seconds after
 * it sounds. In a DAW that compensates latency the plugin can still line its
 * readout up with what the listener hears: it delays its audio output by the
 * readout's latency and reports that latency to the host (the LV2 latency
 * port), and the host plays this track, and delays the others, that much
 * earlier. One block of memory, allocated off the audio thread with the
 * stream it belongs to; audio_delay_run only copies (in place is fine). */
#ifndef CHORDLET_AUDIO_DELAY_H
#define CHORDLET_AUDIO_DELAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct audio_delay audio_delay;

/* length samples of delay for n_channels channels (1..8), zeroed; NULL when
 * out of memory or a size is out of range (length 1..2^24). Thread: main or
 * worker. */
audio_delay *audio_delay_create(int n_channels, uint32_t length);
void audio_delay_free(audio_delay *d); /* NULL is fine */

/* The delay in samples (0 for NULL). Thread: any. */
uint32_t audio_delay_length(const audio_delay *d);

/* Silence in the line: nothing heard before comes out. Work bounded by the
 * length. Thread: audio (not in real time for long lines: activation, or a
 * freewheeling host). */
void audio_delay_clear(audio_delay *d);

/* out[c] = in[c] delayed, n samples per channel; in[c] may equal out[c]. A
 * NULL in[c] counts as silence, a NULL out[c] is skipped (the line still
 * moves). Never allocates. Thread: audio. */
void audio_delay_run(audio_delay *d, const float *const *in, float *const *out, int n_channels, uint32_t n);

#endif
