/*
 * fuzz_audio.c: the audio reader (engine/audiofile.h) on a file of the
 * input's bytes: libsndfile's format detection and decoders, our checks
 * (header sizes, truncation in every container, channel and rate limits,
 * non-finite samples) and libsoxr's resampling to 22050 Hz, as `chordlet
 * transcribe` reads audio; then the same file at its own rate. What is read
 * must be finite, and both reads must agree on whether the file is audio
 * (resampling may also refuse samples too large for its filter).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "audiofile.h"
#include "fuzz_util.h"

#define FAIL(...) fuzz_fail("fuzz_audio", __VA_ARGS__)

/* libsndfile 1.2.0 leaks the Vorbis decoder's state (about 6 KB, allocated
 * in libvorbis) when it refuses a malformed Ogg file: a known fault of the
 * library (audiofile.h), not ours. Other leaks are reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libvorbis.so\n"; }

static void check(const audio_buffer *b, double rate) {
  if (b->n_samples == 0 || !b->samples) FAIL("an accepted file gave no samples");
  if (rate != 0 && b->sample_rate != rate) FAIL("asked for %g Hz, got %g Hz", rate, b->sample_rate);
  for (size_t i = 0; i < b->n_samples; i++)
    if (!isfinite(b->samples[i])) FAIL("sample %zu of %zu is not finite at %g Hz", i, b->n_samples, b->sample_rate);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write("in.audio", data, size);
  audio_buffer resampled, native;
  chordlet_error err;
  chordlet_status st = audiofile_read(path, 22050.0, &resampled, &err);
  if (st && !err.message[0]) FAIL("a refused file has no message");
  if (!st) check(&resampled, 22050.0);
  chordlet_status st2 = audiofile_read(path, 0, &native, &err);
  if (!st2) check(&native, 0);
  /* Resampling may refuse what reads at the file's rate only for its output
   * (samples too large for the filter: CHORDLET_ERR_RANGE) or memory. */
  if ((st == CHORDLET_OK && st2 != CHORDLET_OK) ||
      (st2 == CHORDLET_OK && st != CHORDLET_OK && st != CHORDLET_ERR_RANGE && st != CHORDLET_ERR_NO_MEMORY))
    FAIL("the file reads at 22050 Hz (%d) but not at its own rate (%d), or the reverse", st, st2);
  audio_buffer_free(&resampled);
  audio_buffer_free(&native);
  return 0;
}
