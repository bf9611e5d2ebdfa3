/* test_audiofile.c: reading audio files as librosa.load does (against the
 * librosa references in ../shared), mixing, resampling, and the refusal of
 * bad input. Fixtures are written at run time into a temporary folder. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "audiofile.h"
#include "check.h"

/* libsndfile 1.2.0 leaks the vorbis_info it allocated when sf_open gives up
 * on a malformed Ogg file (the truncated .ogg below). That is its bug, not
 * ours: tell LeakSanitizer (which calls this hook, if it is linked in) to
 * ignore exactly that allocation. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:vorbis_info_init\n"; }

static char tmpdir[256];
static const double PI = 3.14159265358979323846;

/* A path in the temporary folder (a static buffer per call site is not
 * needed: callers copy what they keep). */
static const char *tmp_path(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", tmpdir, name);
  return buf;
}

static unsigned char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0, k;
  do {
    if (n == cap) {
      cap = cap ? cap * 2 : 1 << 16;
      unsigned char *b = realloc(buf, cap);
      if (!b) { free(buf); fclose(f); return NULL; }
      buf = b;
    }
    k = fread(buf + n, 1, cap - n, f);
    n += k;
  } while (k > 0);
  fclose(f);
  *len = n;
  return buf;
}

static void write_bytes(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  CHECK(fwrite(data, 1, len, f) == len, "short write %s", path);
  fclose(f);
}

/* Little-endian float32 file -> (n) floats. */
static float *read_f32(const char *path, size_t *n) {
  size_t len;
  unsigned char *b = read_all(path, &len);
  if (!b) return NULL;
  *n = len / 4;
  float *x = malloc((*n ? *n : 1) * sizeof *x);
  for (size_t i = 0; x && i < *n; i++) {
    uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
                 (uint32_t)b[4 * i + 3] << 24;
    memcpy(&x[i], &u, 4);
  }
  free(b);
  return x;
}

/* A 16-bit PCM mono WAV decoded by hand, int16 / 32768 (what soundfile gives
 * librosa), independent of libsndfile. */
static float *read_wav16_by_hand(const char *path, size_t *n, int *rate) {
  size_t len;
  unsigned char *b = read_all(path, &len);
  if (!b || len < 12 || memcmp(b, "RIFF", 4) || memcmp(b + 8, "WAVE", 4)) { free(b); return NULL; }
  float *x = NULL;
  size_t pos = 12;
  while (pos + 8 <= len) {
    uint32_t size = (uint32_t)b[pos + 4] | (uint32_t)b[pos + 5] << 8 |
                    (uint32_t)b[pos + 6] << 16 | (uint32_t)b[pos + 7] << 24;
    if (!memcmp(b + pos, "fmt ", 4)) {
      CHECK(b[pos + 8] == 1 && b[pos + 10] == 1 && b[pos + 22] == 16, "%s: mono 16-bit PCM", path);
      *rate = (int)((uint32_t)b[pos + 12] | (uint32_t)b[pos + 13] << 8 | (uint32_t)b[pos + 14] << 16);
    } else if (!memcmp(b + pos, "data", 4) && pos + 8 + size <= len) {
      *n = size / 2;
      x = malloc((*n ? *n : 1) * sizeof *x);
      for (size_t i = 0; x && i < *n; i++) {
        int16_t v = (int16_t)(uint16_t)(b[pos + 8 + 2 * i] | b[pos + 9 + 2 * i] << 8);
        x[i] = (float)v / 32768.0f;
      }
      break;
    }
    pos += 8 + size + (size & 1);
  }
  free(b);
  return x;
}

/* ---- 1. the librosa references --------------------------------------------- */

static void test_references(const char *shared) {
  static const char *const resampled[] = {"music_44k", "sine_A4_440_44k", "triad_Cmaj_44k",
                                          "impulse_train_44k"};
  double worst = 0;
  for (size_t k = 0; k < sizeof resampled / sizeof *resampled; k++) {
    char wav[1024], ref[1024];
    snprintf(wav, sizeof wav, "%s/reference/cqt/%s.wav", shared, resampled[k]);
    snprintf(ref, sizeof ref, "%s/reference/cqt/%s.y22050.f32", shared, resampled[k]);
    size_t n_ref = 0;
    float *y_ref = read_f32(ref, &n_ref);
    CHECK(y_ref != NULL, "cannot read %s", ref);
    audio_buffer buf;
    chordlet_error err = {0};
    chordlet_status st = audiofile_read(wav, 22050, &buf, &err);
    CHECK(st == CHORDLET_OK, "%s: %s", wav, err.message);
    if (st == CHORDLET_OK && y_ref) {
      CHECK(buf.sample_rate == 22050, "%s: rate %g", resampled[k], buf.sample_rate);
      CHECK(buf.n_samples == n_ref, "%s: %zu samples, librosa has %zu", resampled[k], buf.n_samples, n_ref);
      if (buf.n_samples == n_ref) {
        double d = max_abs_diff(buf.samples, y_ref, n_ref);
        printf("  %-18s 44100 -> 22050: %zu samples, max |ours - librosa| = %.3g\n", resampled[k],
               n_ref, d);
        CHECK(d <= 1e-6, "%s: max abs diff %.3g against librosa", resampled[k], d);
        if (d > worst) worst = d;
      }
      /* The resampler alone, on the same input decoded by hand. */
      size_t n44 = 0;
      int rate = 0;
      float *x = read_wav16_by_hand(wav, &n44, &rate);
      CHECK(x != NULL && rate == 44100, "%s: hand decoding", wav);
      float *y = NULL;
      size_t ny = 0;
      if (x && audio_resample(x, n44, 44100, 22050, &y, &ny, &err) == CHORDLET_OK) {
        CHECK(ny == n_ref && max_abs_diff(y, y_ref, n_ref) == max_abs_diff(buf.samples, y_ref, n_ref),
              "%s: audio_resample agrees with audiofile_read", resampled[k]);
      } else {
        CHECK(0, "%s: audio_resample: %s", resampled[k], err.message);
      }
      free(x);
      free(y);
    }
    audio_buffer_free(&buf);
    free(y_ref);
  }
  printf("  worst difference against librosa.load(sr=22050): %.3g\n", worst);

  /* Native 22050 Hz files: exactly int16 / 32768, with target 0 and with
   * target 22050 (equal rates: no resampling, as in librosa). */
  static const char *const native[] = {
      "impulse_train_22k", "music_22k",         "music_plus14c_22k",      "music_plus20c_22k",
      "noise_white_22k",   "silence_22k",       "sine_446.4_between_22k", "sine_A0_27.5_22k",
      "sine_A2_110_22k",   "sine_A4_440_22k",   "sine_A4_plus30c_22k",    "sine_A7_3520_22k",
      "sweep_log_22k",     "triad_Cmaj_22k"};
  for (size_t k = 0; k < sizeof native / sizeof *native; k++) {
    char wav[1024];
    snprintf(wav, sizeof wav, "%s/reference/cqt/%s.wav", shared, native[k]);
    size_t n = 0;
    int rate = 0;
    float *x = read_wav16_by_hand(wav, &n, &rate);
    CHECK(x != NULL && rate == 22050, "%s: hand decoding", wav);
    for (int t = 0; t < 2 && x; t++) {
      audio_buffer buf;
      chordlet_error err = {0};
      chordlet_status st = audiofile_read(wav, t ? 22050 : 0, &buf, &err);
      CHECK(st == CHORDLET_OK, "%s: %s", wav, err.message);
      if (!st) {
        CHECK(buf.n_samples == n && buf.sample_rate == 22050, "%s: %zu samples at %g", native[k],
              buf.n_samples, buf.sample_rate);
        CHECK(buf.n_samples == n && max_abs_diff(buf.samples, x, n) == 0,
              "%s: must equal int16/32768 exactly", native[k]);
      }
      audio_buffer_free(&buf);
    }
    free(x);
  }
}

/* ---- 2. formats, mixing and bad input -------------------------------------- */

/* Writes (frames, channels) interleaved floats with libsndfile. Returns 0 if
 * this libsndfile cannot write the format. */
static int write_sf(const char *path, int format, int rate, int channels, const float *x,
                    size_t frames) {
  SF_INFO info = {0};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);
  if (!f) return 0;
  if (frames) CHECK(sf_writef_float(f, x, (sf_count_t)frames) == (sf_count_t)frames, "write %s", path);
  sf_close(f);
  return 1;
}

/* Decodes a file with libsndfile directly: (frames, channels) interleaved. */
static float *decode_sf(const char *path, size_t *frames, int *channels) {
  SF_INFO info = {0};
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f) return NULL;
  float *x = malloc((size_t)(info.frames ? info.frames : 1) * (size_t)info.channels * sizeof *x);
  *frames = x ? (size_t)sf_readf_float(f, x, info.frames) : 0;
  *channels = info.channels;
  sf_close(f);
  return x;
}

static void expect_fail(const char *path, double target, const char *needle) {
  audio_buffer buf;
  chordlet_error err = {0};
  chordlet_status st = audiofile_read(path, target, &buf, &err);
  CHECK(st != CHORDLET_OK, "%s must be refused", path);
  CHECK(st == CHORDLET_OK || buf.samples == NULL, "%s: no samples on error", path);
  CHECK(strstr(err.message, path) != NULL, "the message should name %s: %s", path, err.message);
  CHECK(strstr(err.message, needle) != NULL, "%s: the message should say '%s': %s", path, needle,
        err.message);
  if (st == CHORDLET_OK) audio_buffer_free(&buf);
  if (getenv("CHORDLET_TEST_VERBOSE")) printf("  refused: %s\n", err.message);
}

/* A canonical 44-byte WAV header, then body_bytes of the bytes in body. */
static void write_wav_by_hand(const char *path, int format_tag, int channels, uint32_t rate,
                              int bits, uint32_t declared_data, const void *body,
                              size_t body_bytes) {
  unsigned char h[44];
  uint32_t block = (uint32_t)(channels * bits / 8);
  memcpy(h, "RIFF", 4);
  uint32_t riff = 36 + declared_data;
  uint32_t v[] = {riff, 16, rate, rate * block, declared_data};
  h[4] = (unsigned char)v[0]; h[5] = (unsigned char)(v[0] >> 8); h[6] = (unsigned char)(v[0] >> 16); h[7] = (unsigned char)(v[0] >> 24);
  memcpy(h + 8, "WAVEfmt ", 8);
  h[16] = 16; h[17] = h[18] = h[19] = 0;
  h[20] = (unsigned char)format_tag; h[21] = 0;
  h[22] = (unsigned char)channels; h[23] = (unsigned char)(channels >> 8);
  for (int i = 0; i < 4; i++) h[24 + i] = (unsigned char)(v[2] >> (8 * i));
  for (int i = 0; i < 4; i++) h[28 + i] = (unsigned char)(v[3] >> (8 * i));
  h[32] = (unsigned char)block; h[33] = (unsigned char)(block >> 8);
  h[34] = (unsigned char)bits; h[35] = 0;
  memcpy(h + 36, "data", 4);
  for (int i = 0; i < 4; i++) h[40 + i] = (unsigned char)(v[4] >> (8 * i));
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fwrite(h, 1, sizeof h, f);
  if (body_bytes) fwrite(body, 1, body_bytes, f);
  fclose(f);
}

/* Copies the first half of src to dst. */
static void truncate_copy(const char *src, const char *dst) {
  size_t len;
  unsigned char *b = read_all(src, &len);
  CHECK(b != NULL, "cannot read %s", src);
  if (b) write_bytes(dst, b, len / 2);
  free(b);
}

/* Reads path and checks it equals the float32 mean of the channels of what
 * libsndfile decodes (and, within tol, the mean of the signals written). */
static void check_mixed(const char *path, const float *written, size_t frames, int channels,
                        double tol) {
  audio_buffer buf;
  chordlet_error err = {0};
  chordlet_status st = audiofile_read(path, 0, &buf, &err);
  CHECK(st == CHORDLET_OK, "%s: %s", path, err.message);
  if (st) return;
  size_t nd = 0;
  int cd = 0;
  float *dec = decode_sf(path, &nd, &cd);
  CHECK(dec && cd == channels && buf.n_samples == nd, "%s: %zu frames, libsndfile gives %zu", path,
        buf.n_samples, nd);
  double d_exact = 0, d_written = 0;
  for (size_t i = 0; dec && i < nd && i < buf.n_samples; i++) {
    double sum = 0;
    for (int c = 0; c < channels; c++) sum += dec[i * (size_t)channels + (size_t)c];
    double e = fabs(buf.samples[i] - sum / channels);
    if (e > d_exact) d_exact = e;
    if (i < frames) {
      double w = 0;
      for (int c = 0; c < channels; c++) w += written[i * (size_t)channels + (size_t)c];
      e = fabs(buf.samples[i] - w / channels);
      if (e > d_written) d_written = e;
    }
  }
  /* float32 sums of up to 64 terms of magnitude < 1 */
  CHECK(d_exact <= 1e-6, "%s: mono is not the mean of the decoded channels (%.3g)", path, d_exact);
  CHECK(d_written <= tol, "%s: mono vs mean of what was written: %.3g > %g", path, d_written, tol);
  if (channels == 2 && dec) { /* two channels: float32 (L + R) / 2, bit for bit */
    size_t bad = 0;
    for (size_t i = 0; i < nd && i < buf.n_samples; i++)
      bad += buf.samples[i] != (dec[2 * i] + dec[2 * i + 1]) / 2.0f;
    CHECK(bad == 0, "%s: %zu samples differ from float32 (L + R) / 2", path, bad);
  }
  free(dec);
  audio_buffer_free(&buf);
}

static void test_files(void) {
  char p[512], q[512];
  enum { RATE = 44100, FRAMES = 22050 };
  static float st[2 * FRAMES]; /* (frames, 2): different left and right */
  for (size_t i = 0; i < FRAMES; i++) {
    st[2 * i] = 0.5f * (float)sin(2 * PI * 440.0 * (double)i / RATE);
    st[2 * i + 1] = 0.25f * (float)sin(2 * PI * 660.0 * (double)i / RATE) + 0.1f;
  }

  /* Formats; the mono mean. The lossy ones are checked against what
   * libsndfile decodes, and loosely against what was written. */
  struct { const char *name; int format; double tol; } fmts[] = {
      {"stereo_float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1e-7},
      {"stereo16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1.0 / 32768},
      {"stereo24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1.0 / (1 << 23)},
      {"stereo.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 0.05},
      {"stereo.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 0.2},
      /* headers that libsndfile clamps to the file when cut (audio_truncation.h) */
      {"stereo16.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 1.0 / 32768},
      {"stereo16.au", SF_FORMAT_AU | SF_FORMAT_PCM_16, 1.0 / 32768},
      {"stereo16.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16, 1.0 / 32768},
      {"stereo16.nist", SF_FORMAT_NIST | SF_FORMAT_PCM_16, 1.0 / 32768},
      {"stereo16.rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_16, 1.0 / 32768},
      {"stereo16.voc", SF_FORMAT_VOC | SF_FORMAT_PCM_16, 1.0 / 32768},
      {"stereo16.mat4", SF_FORMAT_MAT4 | SF_FORMAT_PCM_16, 1.0 / 32768},
  };
  for (size_t k = 0; k < sizeof fmts / sizeof *fmts; k++) {
    tmp_path(p, sizeof p, fmts[k].name);
    if (!write_sf(p, fmts[k].format, RATE, 2, st, FRAMES)) {
      printf("  note: this libsndfile cannot write %s; skipped\n", fmts[k].name);
      continue;
    }
    /* Lossy decoders add a delay, so compare only where the signal is steady. */
    check_mixed(p, st, fmts[k].tol > 0.01 ? 0 : FRAMES, 2, fmts[k].tol);
    audio_buffer buf;
    chordlet_error err = {0};
    CHECK(audiofile_read(p, 22050, &buf, &err) == CHORDLET_OK && buf.n_samples == FRAMES / 2 + FRAMES % 2 &&
              buf.sample_rate == 22050,
          "%s at 22050: %s", p, err.message);
    audio_buffer_free(&buf);
    /* Truncated: half the bytes. */
    char name[64];
    snprintf(name, sizeof name, "cut_%s", fmts[k].name);
    truncate_copy(p, tmp_path(q, sizeof q, name));
    expect_fail(q, 0, strstr(name, ".ogg") ? "malformed" : "truncated");
  }
  /* A header that declares less than the file holds (a tag or padding after
   * the audio) is not truncation: the AIFF above with 1000 bytes appended. */
  {
    size_t len = 0;
    unsigned char *b = read_all(tmp_path(p, sizeof p, "stereo16.aiff"), &len);
    CHECK(b != NULL, "cannot read stereo16.aiff");
    if (b) {
      unsigned char *longer = calloc(len + 1000, 1);
      if (longer) {
        memcpy(longer, b, len);
        write_bytes(tmp_path(q, sizeof q, "trailing.aiff"), longer, len + 1000);
        audio_buffer buf;
        chordlet_error err = {0};
        CHECK(audiofile_read(q, 0, &buf, &err) == CHORDLET_OK && buf.n_samples == FRAMES,
              "an AIFF with bytes after its audio: %s", err.message);
        if (!err.message[0]) audio_buffer_free(&buf);
      }
      free(longer);
      free(b);
    }
  }

  /* Many channels: numpy's pairwise mean (checked to 1e-6 of the exact mean). */
  {
    enum { C = 10, N = 1000 };
    static float mc[C * N];
    for (size_t i = 0; i < C * N; i++) mc[i] = (float)sin(0.37 * (double)i) * 0.9f;
    tmp_path(p, sizeof p, "ten_channels.wav");
    write_sf(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, C, mc, N);
    check_mixed(p, mc, N, C, 1e-6);
  }

  /* NaN and infinity in a float WAV. */
  {
    static float bad[2 * 1000];
    memcpy(bad, st, sizeof bad);
    bad[2 * 500 + 1] = NAN;
    tmp_path(p, sizeof p, "nan.wav");
    write_sf(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 2, bad, 1000);
    expect_fail(p, 0, "sample 500 of channel 2");
    expect_fail(p, 22050, "NaN");
    bad[2 * 500 + 1] = -INFINITY;
    tmp_path(p, sizeof p, "inf.wav");
    write_sf(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 2, bad, 1000);
    expect_fail(p, 0, "infinite");
    /* Finite but so large the channel sum overflows float. */
    bad[2 * 500] = bad[2 * 500 + 1] = 3e38f;
    tmp_path(p, sizeof p, "huge.wav");
    write_sf(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 2, bad, 1000);
    expect_fail(p, 0, "overflows");
  }

  /* No frames. FLAC with no frames is refused by libsndfile itself. */
  expect_fail((write_sf(tmp_path(p, sizeof p, "zero.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, RATE, 1, st, 0), p),
              0, "0 frames");
  expect_fail((write_sf(tmp_path(p, sizeof p, "zero.ogg"), SF_FORMAT_OGG | SF_FORMAT_VORBIS, RATE, 1, st, 0), p),
              0, "0 frames");
  expect_fail((write_sf(tmp_path(p, sizeof p, "zero.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, RATE, 1, st, 0), p),
              0, "empty file"); /* libsndfile writes nothing at all */

  /* Not audio at all. */
  {
    static unsigned char junk[4000];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
      s = s * 1664525u + 1013904223u;
      junk[i] = (unsigned char)(s >> 24);
    }
    const char *names[] = {"garbage.wav", "garbage.flac", "garbage.mp3", "garbage.au", "garbage"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
      write_bytes(tmp_path(p, sizeof p, names[k]), junk, sizeof junk);
      expect_fail(p, 0, strstr(names[k], ".au") ? "no recognised audio header" : "not a readable audio file");
    }
    const char *text = "0.0 1.0 C:maj\nThis is a text file, renamed.\n";
    write_bytes(tmp_path(p, sizeof p, "text.wav"), text, strlen(text));
    expect_fail(p, 22050, "not a readable audio file");
    write_bytes(tmp_path(p, sizeof p, "empty.wav"), "", 0);
    expect_fail(p, 0, "empty file (0 bytes)");
    expect_fail(tmp_path(p, sizeof p, "missing.wav"), 0, "No such file");
    expect_fail(tmpdir, 0, "not a regular file");
  }

  /* Hand-written headers with absurd values. */
  {
    static short pcm[2 * 1000];
    for (size_t i = 0; i < 2 * 1000; i++) pcm[i] = (short)(i * 37);
    write_wav_by_hand(tmp_path(p, sizeof p, "rate0.wav"), 1, 2, 0, 16, sizeof pcm, pcm, sizeof pcm);
    expect_fail(p, 0, "sample rate 0 Hz");
    write_wav_by_hand(tmp_path(p, sizeof p, "rate1e9.wav"), 1, 2, 1000000000u, 16, sizeof pcm, pcm, sizeof pcm);
    expect_fail(p, 0, "sample rate 1000000000 Hz");
    write_wav_by_hand(tmp_path(p, sizeof p, "rate10.wav"), 1, 2, 10, 16, sizeof pcm, pcm, sizeof pcm);
    expect_fail(p, 0, "sample rate 10 Hz");
    write_wav_by_hand(tmp_path(p, sizeof p, "ch100.wav"), 1, 100, 44100, 16, sizeof pcm, pcm, sizeof pcm);
    expect_fail(p, 0, "100 channels");
    write_wav_by_hand(tmp_path(p, sizeof p, "ch0.wav"), 1, 0, 44100, 16, sizeof pcm, pcm, sizeof pcm);
    expect_fail(p, 0, "0 channels");
    /* The same absurd values in an AU header, which libsndfile accepts and
     * which only our checks after opening catch. */
    {
      unsigned char au[24 + sizeof pcm];
      const uint32_t fields[][6] = {{0x2e736e64u, 24, sizeof pcm, 3, 1000000000u, 2},
                                    {0x2e736e64u, 24, sizeof pcm, 3, 44100, 100}};
      const char *const au_names[] = {"rate1e9.au", "ch100.au"};
      const char *const au_why[] = {"sample rate 1000000000 Hz", "100 channels"};
      for (int k = 0; k < 2; k++) {
        for (int j = 0; j < 6; j++)
          for (int b = 0; b < 4; b++) au[4 * j + b] = (unsigned char)(fields[k][j] >> (24 - 8 * b));
        memcpy(au + 24, pcm, sizeof pcm);
        write_bytes(tmp_path(p, sizeof p, au_names[k]), au, sizeof au);
        expect_fail(p, 0, au_why[k]);
      }
    }
    /* The data chunk declares more than the file holds: libsndfile alone
     * would read the 4000 bytes that are there and say nothing. */
    write_wav_by_hand(tmp_path(p, sizeof p, "short.wav"), 1, 2, 44100, 16, 176400, pcm, sizeof pcm);
    expect_fail(p, 0, "truncated WAV: its header declares 176400 bytes");
    write_wav_by_hand(tmp_path(p, sizeof p, "header_only.wav"), 1, 1, 22050, 16, 0x7ffffff0u, pcm, 0);
    expect_fail(p, 0, "truncated");
    /* A good hand-written file reads back (so the refusals above are about
     * the values, not the writer). */
    write_wav_by_hand(tmp_path(p, sizeof p, "good.wav"), 1, 2, 44100, 16, sizeof pcm, pcm, sizeof pcm);
    audio_buffer buf;
    chordlet_error err = {0};
    CHECK(audiofile_read(p, 0, &buf, &err) == CHORDLET_OK && buf.n_samples == 1000 &&
              buf.samples[1] == (pcm[2] / 32768.0f + pcm[3] / 32768.0f) / 2,
          "hand-written good.wav: %s", err.message);
    audio_buffer_free(&buf);
    /* A NIST header whose sample_coding names no coding: libsndfile reads
     * it into an uninitialised buffer (nist_header.h), so without our check
     * the same file opens or not from one call to the next. With the name,
     * the same header reads. */
    {
      static char nist[1024 + 320];
      const char *const codings[] = {"sample_coding -s3", "sample_coding -sx pcm", "sample_coding -s3 pcm"};
      for (int k = 0; k < 3; k++) {
        memset(nist, 0, sizeof nist);
        snprintf(nist, 1024,
                 "NIST_1A\n   1024\nchannel_count -i 1\nsample_rate -i 8000\nsample_n_bytes -i 2\n"
                 "sample_count -i 160\nsample_byte_format -s2 01\n%s\nend_head\n",
                 codings[k]);
        write_bytes(tmp_path(p, sizeof p, "coding.nist"), nist, sizeof nist);
        if (k < 2) {
          for (int r = 0; r < 3; r++) expect_fail(p, r == 1 ? 22050 : 0, "names no sample coding");
        } else {
          audio_buffer nb;
          chordlet_error nerr = {0};
          CHECK(audiofile_read(p, 0, &nb, &nerr) == CHORDLET_OK && nb.n_samples == 160 && nb.sample_rate == 8000,
                "a well-formed NIST header: %s", nerr.message);
          audio_buffer_free(&nb);
        }
      }
    }
    /* Longer than 24 h at its rate: 8-bit mono at 1000 Hz, 90e6 bytes, a
     * sparse file so it costs no disk; refused before anything is read. */
    write_wav_by_hand(tmp_path(p, sizeof p, "day.wav"), 1, 1, 1000, 8, 90000000u, pcm, 0);
    if (truncate(p, 44 + 90000000) == 0) expect_fail(p, 0, "longer than the 24 hours");
    unlink(p);
  }

  /* Arguments. */
  {
    audio_buffer buf;
    chordlet_error err = {0};
    tmp_path(p, sizeof p, "stereo16.wav");
    CHECK(audiofile_read(p, -1, &buf, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "negative target");
    CHECK(audiofile_read(p, NAN, &buf, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "NaN target");
    CHECK(audiofile_read(p, 5e6, &buf, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "huge target");
    CHECK(audiofile_read(NULL, 0, &buf, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "NULL path");
    CHECK(audiofile_read(p, 0, NULL, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "NULL output");
    audio_buffer_free(&buf);
    audio_buffer_free(NULL);
  }
}

/* ---- 3. the resampler ------------------------------------------------------- */

/* Frequency from the zero crossings (upward, linearly interpolated) of
 * y[from..to). */
static double crossing_frequency(const float *y, size_t from, size_t to, double rate) {
  double first = -1, last = -1;
  int count = 0;
  for (size_t i = from + 1; i < to; i++)
    if (y[i - 1] < 0 && y[i] >= 0) {
      double t = (double)(i - 1) + y[i - 1] / (y[i - 1] - y[i]);
      if (first < 0) first = t;
      last = t;
      count++;
    }
  return count > 1 ? (count - 1) * rate / (last - first) : 0;
}

static void test_resample(void) {
  const double rates[] = {48000, 44100};
  for (size_t r = 0; r < 2; r++) {
    double in_rate = rates[r];
    size_t n = (size_t)(2 * in_rate) + 7; /* 2 s and an odd tail */
    float *x = malloc(n * sizeof *x);
    float *y = NULL;
    size_t ny = 0;
    chordlet_error err = {0};
    for (double f = 440; f < 5000; f *= 4.5) { /* 440 and 1980 Hz */
      for (size_t i = 0; i < n; i++) x[i] = 0.5f * (float)sin(2 * PI * f * (double)i / in_rate);
      CHECK(audio_resample(x, n, in_rate, 22050, &y, &ny, &err) == CHORDLET_OK, "%s", err.message);
      size_t expect = (size_t)ceil((double)n * (22050 / in_rate));
      CHECK(ny == expect, "%g -> 22050: %zu samples, expected %zu", in_rate, ny, expect);
      double fy = y ? crossing_frequency(y, 2205, ny - 2205, 22050) : 0;
      CHECK(fabs(fy - f) < 1e-3, "%g -> 22050: a %g Hz sine comes out at %.6f Hz", in_rate, f, fy);
      double peak = 0;
      for (size_t i = 2205; y && i < ny - 2205; i++) peak = fmax(peak, fabs(y[i]));
      CHECK(fabs(peak - 0.5) < 1e-3, "%g -> 22050: amplitude %.6f, expected 0.5", in_rate, peak);
      free(y);
      y = NULL;
    }
    /* Above the new Nyquist frequency: removed (HQ: about 120 dB). */
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * (float)sin(2 * PI * 15000.0 * (double)i / in_rate);
    CHECK(audio_resample(x, n, in_rate, 22050, &y, &ny, &err) == CHORDLET_OK, "%s", err.message);
    double peak = 0;
    for (size_t i = 2205; y && i < ny - 2205; i++) peak = fmax(peak, fabs(y[i]));
    CHECK(peak < 1e-5, "%g -> 22050: 15 kHz leaks through at %.3g", in_rate, peak);
    free(y);
    free(x);
  }

  /* Lengths, copies, and refusals. */
  float x[101], *y = NULL;
  size_t ny = 0;
  chordlet_error err = {0};
  for (size_t i = 0; i < 101; i++) x[i] = (float)i / 101;
  CHECK(audio_resample(x, 101, 2, 1, &y, &ny, &err) == CHORDLET_OK && ny == 51, "2:1 of 101 gives 51");
  free(y);
  CHECK(audio_resample(x, 101, 22050, 22050, &y, &ny, &err) == CHORDLET_OK && ny == 101 &&
            memcmp(x, y, sizeof x) == 0,
        "equal rates give a copy");
  free(y);
  CHECK(audio_resample(x, 0, 44100, 22050, &y, &ny, &err) == CHORDLET_OK && ny == 0 && y != NULL,
        "empty input gives an empty output");
  free(y);
  CHECK(audio_resample(x, 101, 0, 22050, &y, &ny, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "rate 0");
  CHECK(audio_resample(x, 101, 44100, INFINITY, &y, &ny, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "rate inf");
  x[50] = NAN;
  CHECK(audio_resample(x, 101, 44100, 22050, &y, &ny, &err) == CHORDLET_ERR_RANGE &&
            strstr(err.message, "sample 50 is NaN"),
        "NaN input: %s", err.message);
}

/* Removes the temporary folder's files (it holds only what we wrote). */
static void cleanup(void) {
  static const char *const names[] = {
      "stereo_float.wav", "stereo16.wav", "stereo24.flac", "stereo.ogg", "stereo.mp3",
      "cut_stereo_float.wav", "cut_stereo16.wav", "cut_stereo24.flac", "cut_stereo.ogg",
      "cut_stereo.mp3", "stereo16.aiff", "stereo16.au", "stereo16.w64", "stereo16.nist", "stereo16.rf64",
      "stereo16.voc", "stereo16.mat4", "cut_stereo16.aiff", "cut_stereo16.au", "cut_stereo16.w64",
      "cut_stereo16.nist", "cut_stereo16.rf64", "cut_stereo16.voc", "cut_stereo16.mat4", "trailing.aiff",
      "ten_channels.wav", "nan.wav", "inf.wav", "huge.wav", "zero.wav",
      "zero.ogg", "zero.flac", "garbage.wav", "garbage.flac", "garbage.mp3", "garbage.au",
      "garbage", "text.wav", "empty.wav", "rate0.wav", "rate1e9.wav", "rate10.wav", "ch100.wav",
      "ch0.wav", "rate1e9.au", "ch100.au", "short.wav", "header_only.wav", "good.wav", "day.wav",
      "coding.nist"};
  char p[512];
  for (size_t k = 0; k < sizeof names / sizeof *names; k++) unlink(tmp_path(p, sizeof p, names[k]));
  CHECK(rmdir(tmpdir) == 0, "temporary folder %s left behind (unexpected files?)", tmpdir);
}

int main(void) {
  const char *shared = shared_dir();
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/chordlet_audiofile_XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_references(shared);
  test_files();
  test_resample();
  cleanup();
  return check_summary("test_audiofile");
}
