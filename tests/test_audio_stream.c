/* test_audio_stream.c: reading and resampling in pieces gives the samples
 * of the whole-signal functions bit for bit:
 *   1. resample_stream against audio_resample: rates up, down, equal and
 *      odd (8 kHz..384 kHz into 22050 Hz, and 22050 into 44100), lengths
 *      from 0 and 1 sample to several of python-soxr's chunks (exactly k
 *      chunks, k chunks + 1), pushed in pieces of 1, 17, 4096 and odd sizes;
 *   2. audiofile_stream against audiofile_read: WAV and FLAC, mono, stereo
 *      and 3 channels, 16-bit and float, native rate and resampled;
 *   3. the same errors in the same words: a truncated WAV, a NaN sample, an
 *      empty file, a folder; a sink's own error comes back unchanged. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audiofile.h"
#include "check.h"
#include "error.h"
#include "resample_stream.h"

typedef struct gathered {
  float *x;
  size_t n, cap;
  int fail_at_call, calls; /* fail_at_call > 0: the sink refuses that call */
} gathered;

static chordlet_status gather(void *ctx, const float *x, size_t n, chordlet_error *err) {
  gathered *g = ctx;
  if (++g->calls == g->fail_at_call) return chordlet_fail(err, CHORDLET_ERR_IO, "the sink says no");
  if (g->n + n > g->cap) {
    g->cap = 2 * (g->n + n);
    g->x = realloc(g->x, g->cap * sizeof *g->x);
  }
  memcpy(g->x + g->n, x, n * sizeof *x);
  g->n += n;
  return CHORDLET_OK;
}

#define PI 3.14159265358979323846

static float *test_signal(size_t n, double rate) {
  float *x = malloc((n ? n : 1) * sizeof *x);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)(0.4 * sin(2 * PI * 220.0 * i / rate) + 0.3 * sin(2 * PI * 3111.7 * i / rate) +
                   0.1 * sin(0.001 * i * i / rate));
  return x;
}

static void resample_case(double in_rate, double out_rate, size_t n, size_t piece) {
  float *x = test_signal(n, in_rate), *want = NULL;
  size_t n_want = 0, total = 0;
  chordlet_error err;
  CHECK(audio_resample(x, n, in_rate, out_rate, &want, &n_want, &err) == CHORDLET_OK, "%s", err.message);
  gathered g = {0};
  resample_stream *r;
  CHECK(resample_stream_create(in_rate, out_rate, gather, &g, &r, &err) == CHORDLET_OK, "%s", err.message);
  for (size_t at = 0; at < n;) {
    size_t m = piece < n - at ? piece : n - at;
    CHECK(resample_stream_push(r, x + at, m, &err) == CHORDLET_OK, "%s", err.message);
    at += m;
    piece = piece * 7 % 9973 + 1; /* sizes vary as they go */
  }
  CHECK(resample_stream_finish(r, &total, &err) == CHORDLET_OK, "%s", err.message);
  resample_stream_free(r);
  CHECK(total == n_want && g.n == n_want && (n_want == 0 || memcmp(g.x, want, n_want * sizeof *want) == 0),
        "%g -> %g Hz, %zu samples: %zu out (expected %zu), %s", in_rate, out_rate, n, g.n, n_want,
        g.n == n_want ? "different samples" : "different length");
  free(g.x);
  free(want);
  free(x);
}

/* A file with libsndfile: frames (n, ch) of the test signal, one channel
 * shifted per channel. */
static void write_file(const char *path, int format, int rate, int ch, size_t n) {
  SF_INFO info = {.samplerate = rate, .channels = ch, .format = format};
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);
  CHECK(f != NULL, "write %s: %s", path, sf_strerror(NULL));
  if (!f) return;
  float *mono = test_signal(n + (size_t)ch, rate), *frames = malloc(n * (size_t)ch * sizeof *frames);
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < ch; c++) frames[i * ch + c] = mono[i + (size_t)c] * (c == 1 ? -0.5f : 1.0f);
  sf_writef_float(f, frames, (sf_count_t)n);
  sf_close(f);
  free(mono);
  free(frames);
}

static void file_case(const char *path, double target) {
  audio_buffer whole;
  chordlet_error err;
  CHECK(audiofile_read(path, target, &whole, &err) == CHORDLET_OK, "%s", err.message);
  gathered g = {0};
  size_t declared = 0, n = 0;
  CHECK(audiofile_stream(path, target, gather, &g, &declared, &n, &err) == CHORDLET_OK, "%s", err.message);
  CHECK(n == whole.n_samples && g.n == whole.n_samples && memcmp(g.x, whole.samples, n * sizeof(float)) == 0,
        "%s at %g Hz: %zu samples streamed, %zu read whole", path, target, g.n, whole.n_samples);
  CHECK(declared == whole.n_samples, "%s: the header announced %zu samples, %zu came", path, declared, n);
  audio_buffer_free(&whole);
  free(g.x);
}

static void same_error(const char *path, const char *what) {
  audio_buffer whole;
  chordlet_error e1, e2;
  gathered g = {0};
  chordlet_status s1 = audiofile_read(path, 22050, &whole, &e1);
  chordlet_status s2 = audiofile_stream(path, 22050, gather, &g, NULL, NULL, &e2);
  CHECK(s1 != CHORDLET_OK && s1 == s2 && strcmp(e1.message, e2.message) == 0, "%s: '%s' (%d) vs '%s' (%d)", what,
        s1 ? e1.message : "ok", s1, s2 ? e2.message : "ok", s2);
  free(g.x);
}

int main(void) {
  /* 1. The resampler. python-soxr's chunk is int(48000 * in / out): 17414
   * samples from 8 kHz, 104489 from 48 kHz. */
  static const double ins[] = {8000, 11025, 12345, 44100, 48000, 96000, 384000, 22050};
  for (size_t i = 0; i < sizeof ins / sizeof *ins; i++) {
    const double chunk = floor(48000.0 * ins[i] / 22050.0);
    const size_t lengths[] = {0, 1, 1000, (size_t)chunk, 3 * (size_t)chunk, 3 * (size_t)chunk + 1,
                              (size_t)(3.5 * ins[i])};
    for (size_t k = 0; k < sizeof lengths / sizeof *lengths; k++) {
      resample_case(ins[i], 22050, lengths[k], 4096);
      if (k >= 4) resample_case(ins[i], 22050, lengths[k], 1);
    }
  }
  resample_case(22050, 44100, 200000, 17);
  resample_case(44100, 22050, 300000, 8192);

  /* 2. Files. */
  char dir[] = "/tmp/chordlet-audio-stream-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char path[256];
  snprintf(path, sizeof path, "%s/mono44.wav", dir);
  write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 5 * 44100 + 77);
  file_case(path, 22050);
  file_case(path, 0);
  snprintf(path, sizeof path, "%s/stereo48.flac", dir);
  write_file(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2, 250000);
  file_case(path, 22050);
  snprintf(path, sizeof path, "%s/three8k.wav", dir);
  write_file(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 3, 60000);
  file_case(path, 22050);
  snprintf(path, sizeof path, "%s/native.flac", dir);
  write_file(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 22050, 1, 100000);
  file_case(path, 22050);

  /* 3. Errors. A WAV cut short: its data chunk claims more than is there. */
  snprintf(path, sizeof path, "%s/cut.wav", dir);
  write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 1, 50000);
  CHECK(truncate(path, 44 + 2 * 30000) == 0, "truncate");
  same_error(path, "truncated WAV");
  snprintf(path, sizeof path, "%s/nan.wav", dir);
  {
    SF_INFO info = {.samplerate = 44100, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    float *x = test_signal(40000, 44100);
    x[30000] = NAN;
    sf_writef_float(f, x, 40000);
    sf_close(f);
    free(x);
  }
  same_error(path, "a NaN sample");
  snprintf(path, sizeof path, "%s/empty.wav", dir);
  fclose(fopen(path, "w"));
  same_error(path, "an empty file");
  same_error(dir, "a folder");
  /* The sink's own error stops the reading and comes back as it is. */
  snprintf(path, sizeof path, "%s/stereo48.flac", dir);
  gathered g = {.fail_at_call = 3};
  chordlet_error err;
  CHECK(audiofile_stream(path, 22050, gather, &g, NULL, NULL, &err) == CHORDLET_ERR_IO &&
            strcmp(err.message, "the sink says no") == 0,
        "sink error: %s", err.message);
  free(g.x);

  const char *names[] = {"mono44.wav", "stereo48.flac", "three8k.wav", "native.flac", "cut.wav", "nan.wav", "empty.wav"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unlink(path);
  }
  rmdir(dir);
  return check_summary("test_audio_stream");
}
