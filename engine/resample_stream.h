/*
 * resample_stream.h: audio_resample (audiofile.h) in pieces. The input
 * arrives in blocks of any size; the output leaves in blocks; the whole
 * output, concatenated, is bit for bit what audio_resample gives for the
 * whole input: librosa.resample(..., res_type='soxr_hq') with its length
 * ceil(n * out_rate / in_rate), n the total input, known only at the end.
 *
 * How it stays exact:
 *  - libsoxr is fed exactly as audio_resample (python-soxr) feeds it: chunks
 *    of int(48000 * in_rate / out_rate) samples, the last one whatever is
 *    left, then one flush with NULL input. A full chunk is held until one
 *    more sample arrives (only then is it known not to be the last).
 *  - The output length depends on n. A sample is handed on only when its
 *    index lies below the length that the input seen so far already
 *    guarantees (both lengths grow with n); the few above wait for the end,
 *    where the tail is cut or zero-padded as librosa's fix_length does.
 * Memory: one chunk of input (48000 * in / out samples: 1.7 M at 768 kHz
 * into 22050 Hz, 17 K from 8 kHz) and an output block of about 96 K
 * samples, whatever the duration. Equal rates pass the samples through.
 *
 * Thread: one at a time per resampler (allocates at creation; libsoxr may
 * allocate inside).
 */
#ifndef CHORDLET_RESAMPLE_STREAM_H
#define CHORDLET_RESAMPLE_STREAM_H

#include <stddef.h>

#include "chordlet.h"

/* Where output goes: n samples at x (valid during the call). A non-zero
 * status stops the stream and is returned by the call that made it. */
typedef chordlet_status (*audio_sink_fn)(void *ctx, const float *x, size_t n, chordlet_error *err);

typedef struct resample_stream resample_stream;

/* Rates finite and positive, as audio_resample wants them. */
chordlet_status resample_stream_create(double in_rate, double out_rate, audio_sink_fn sink, void *ctx,
                                       resample_stream **out, chordlet_error *err);
void resample_stream_free(resample_stream *r); /* NULL is fine */

/* The next n input samples (finite: the reader has checked them). Output
 * that is ready goes to the sink. Errors: the sink's; libsoxr's; a
 * non-finite output sample (input values too large), as audio_resample
 * words it. */
chordlet_status resample_stream_push(resample_stream *r, const float *x, size_t n, chordlet_error *err);

/* The end of the input: the last chunk, the flush, the length fixed; the
 * rest of the output goes to the sink. Then *total holds the output length
 * (may be NULL). */
chordlet_status resample_stream_finish(resample_stream *r, size_t *total, chordlet_error *err);

#endif
