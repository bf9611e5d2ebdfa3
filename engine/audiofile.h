/*
 * audiofile.h: reading audio files as librosa.load does, and the resampler.
 *
 * Reading (libsndfile: WAV, FLAC, Ogg Vorbis, MP3 and the other formats it
 * knows by their header) gives float samples exactly as soundfile gives them
 * to librosa: integer formats are normalised by libsndfile (int16 / 32768),
 * float formats pass through. Several channels are averaged to mono the way
 * numpy's np.mean(y, axis=0) does it in float32 (librosa.to_mono). The signal
 * is then resampled with libsoxr at SOXR_HQ, float32, driven as python-soxr
 * drives it (librosa 0.10, res_type 'soxr_hq'), and cut or zero-padded to
 * ceil(n * target / rate) samples (librosa's fix_length).
 *
 * Reading is strict, because everything downstream trusts the samples. These
 * are errors whose message names the file and says what is wrong: a missing,
 * unreadable or non-regular file; an empty file; an unrecognised format
 * (garbage, text, headerless raw data); a sample rate outside
 * [AUDIO_MIN_RATE, AUDIO_MAX_RATE]; more than AUDIO_MAX_CHANNELS channels; no
 * audio frames; a declared length over AUDIO_MAX_SECONDS; a WAV whose data
 * chunk declares more bytes than the file holds, or any file that yields fewer
 * frames than its header declares (truncation, decoder errors); NaN or
 * infinite samples; and allocation failure. MP3 headers may only estimate
 * the length, so an MP3 that comes up at most two MPEG frames (2304 samples)
 * short is accepted. Ogg Vorbis has no length field: a file cut exactly at a
 * page boundary reads as a shorter valid file (cut anywhere else, libsndfile
 * refuses it as malformed).
 *
 * Known limits of the libraries underneath: libmpg123 (inside libsndfile)
 * prints notes on stderr for damaged MP3 data, which libsndfile gives us no
 * way to silence; the text of a failed sf_open comes from libsndfile's
 * process-wide error state, so two threads failing at once may swap their
 * libsndfile detail (the file name and our own wording stay right); and
 * libsndfile 1.2.0 leaks about 6 KB when it refuses a malformed Ogg file.
 */
#ifndef CHORDLET_AUDIOFILE_H
#define CHORDLET_AUDIOFILE_H

#include <stddef.h>

#include "chordlet.h"
#include "resample_stream.h"

enum {
  AUDIO_MAX_CHANNELS = 64,  /* more is a broken header, not a recording we can use */
  AUDIO_MIN_RATE = 1000,    /* Hz; below this a file cannot hold music */
  AUDIO_MAX_RATE = 768000,  /* Hz; the highest rate real converters run at */
};
#define AUDIO_MAX_SECONDS (24.0 * 3600.0) /* one day at the file's rate */

typedef struct audio_buffer {
  float *samples;      /* (n_samples) mono, float in [-1, 1] as libsndfile gives for integer formats */
  size_t n_samples;
  double sample_rate;  /* Hz: the file's rate, or the target rate after resampling */
} audio_buffer;

/* Reads path, mixes to mono (mean of the channels, like librosa), and
 * resamples to target_rate with libsoxr SOXR_HQ float32 exactly like librosa
 * 0.10 (res_type 'soxr_hq', including its output length ceil(n * ratio) and
 * fix_length), unless target_rate is 0 (keep the file's rate). target_rate
 * must otherwise lie in [AUDIO_MIN_RATE, AUDIO_MAX_RATE]. On success *out owns
 * the samples (free with audio_buffer_free); on error *out is empty.
 * Thread: main/worker (allocates, does I/O). */
chordlet_status audiofile_read(const char *path, double target_rate, audio_buffer *out,
                               chordlet_error *err);

/* audiofile_read in pieces, for memory that does not grow with the file:
 * the same checks and messages, and the same samples, handed to sink in
 * blocks as they are decoded and resampled (libsndfile chunks of 8192
 * frames, libsoxr fed as audio_resample feeds it: resample_stream.h), never
 * the whole signal at once. Concatenated, the blocks equal audiofile_read's
 * samples bit for bit. Errors that audiofile_read finds after reading (a
 * file shorter than its header, no frames) come after the sink has seen
 * what was read; the caller discards that. A sink error stops the reading
 * and is returned as it is. Before the first block, *declared (may be NULL)
 * receives the length the header announces at the output rate (0: unknown,
 * for progress only); at the end *n_samples (may be NULL) the length
 * handed out. Thread: main/worker. */
chordlet_status audiofile_stream(const char *path, double target_rate, audio_sink_fn sink, void *ctx,
                                 size_t *declared, size_t *n_samples, chordlet_error *err);

/* The resampler alone, for buffers already in memory: (n) at in_rate ->
 * newly allocated (*out_n) at out_rate, *out_n = ceil(n * (out_rate / in_rate)).
 * It is librosa.resample(y, orig_sr=in_rate, target_sr=out_rate,
 * res_type='soxr_hq') for float32 y: equal rates give a copy; only the ratio
 * matters, so (2, 1) is a 2:1 decimation. Rates must be finite and positive;
 * non-finite input samples are refused as librosa refuses them. *out is never
 * NULL on success, even when *out_n is 0; free it with free().
 * Thread: main/worker (allocates; no shared state). */
chordlet_status audio_resample(const float *in, size_t n, double in_rate, double out_rate,
                               float **out, size_t *out_n, chordlet_error *err);

/* Frees the samples and empties buf. Safe on an empty or zeroed buffer.
 * Thread: the owner's. */
void audio_buffer_free(audio_buffer *buf);

#endif
