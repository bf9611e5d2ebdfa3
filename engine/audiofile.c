/* audiofile.c: reading audio files (libsndfile), mixing to mono and
 * resampling (libsoxr) exactly as librosa.load does. */
#define _POSIX_C_SOURCE 200809L
#include "audiofile.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sndfile.h>
#include <soxr.h>

#include "audio_truncation.h"
#include "error.h"
#include "nist_header.h"
#include "resample_stream.h"

enum {
  READ_CHUNK_FRAMES = 8192, /* frames per sf_readf_float call */
  /* MP3 headers (Xing/LAME, or none: an estimate from the file size) may
   * state a length a little off what the decoder gives. With a Xing/LAME
   * header it is within two MPEG frames of 1152 samples; without one the
   * estimate counts trailing tags and padding as audio (Debian's asc-music:
   * up to 0.09 % long). We allow two frames or 0.5 % of the declared length,
   * whichever is more, before calling a file truncated: a cut file loses far
   * more, and a shortfall below that cannot be told from an estimate. */
  MPEG_LENGTH_SLACK = 2 * 1152,
  MPEG_LENGTH_SLACK_PER_MILLE = 5,
  /* Ogg Vorbis: the length is the last page's granule position; encoders
   * (and Debian's game music, e.g. wesnoth's northerners.ogg, 0.13 s short)
   * leave streams whose last packets decode to less. librosa reads what
   * decodes; so do we, up to a second short. More is a truncated file. */
  OGG_LENGTH_SLACK_SECONDS = 1,
  WAV_MAX_CHUNKS = 4096,    /* bound on the RIFF chunk walk */
};

void audio_buffer_free(audio_buffer *buf) {
  if (!buf) return;
  free(buf->samples);
  memset(buf, 0, sizeof *buf);
}

/* ---- resampling -------------------------------------------------------- */

/* librosa.resample(..., res_type='soxr_hq') on float32 calls
 * soxr.resample(y, orig_sr, target_sr, quality='soxr_hq'), and python-soxr
 * (0.3.x, cysoxr_divide_proc) does exactly this: soxr_create with float32 in
 * and out, soxr_quality_spec(SOXR_HQ, 0), default runtime; an output buffer
 * of ceil(n * out_rate / in_rate) samples; the input fed in chunks of
 * int(48000 * in_rate / out_rate) samples; then one flush with NULL input.
 * librosa then fixes the length to ceil(n * (target / orig)) by cutting or
 * padding with zeros. The chunking does not change soxr's output, but we
 * copy it anyway so nothing differs. */
chordlet_status audio_resample(const float *in, size_t n, double in_rate, double out_rate,
                               float **out, size_t *out_n, chordlet_error *err) {
  if (!out || !out_n || (!in && n > 0))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "resample: NULL buffer");
  *out = NULL;
  *out_n = 0;
  if (!isfinite(in_rate) || !isfinite(out_rate) || in_rate <= 0 || out_rate <= 0)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "resample: sample rates must be finite and positive (got %g -> %g)",
                         in_rate, out_rate);
  /* librosa.resample calls valid_audio first, which refuses these. */
  for (size_t i = 0; i < n; i++)
    if (!isfinite(in[i]))
      return chordlet_fail(err, CHORDLET_ERR_RANGE,
                           "resample: input sample %zu is %s", i, isnan(in[i]) ? "NaN" : "infinite");

  /* Lengths in double, as numpy computes them; n < 2^53 is exact. */
  double ratio = out_rate / in_rate;
  double want_d = ceil((double)n * ratio);               /* librosa's n_samples */
  double soxr_d = ceil((double)n * out_rate / in_rate);  /* python-soxr's olen */
  double cap_d = (double)(SIZE_MAX / sizeof(float)) / 2;
  if (!(want_d < cap_d) || !(soxr_d < cap_d) || want_d > 9007199254740992.0)
    return chordlet_fail(err, CHORDLET_ERR_RANGE,
                         "resample: %zu samples at ratio %g give an output too large to hold", n,
                         ratio);
  size_t want = (size_t)want_d, olen = (size_t)soxr_d;

  if (in_rate == out_rate) { /* librosa returns y itself */
    float *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "resample: out of memory (%zu samples)", n);
    if (n) memcpy(copy, in, n * sizeof *copy);
    *out = copy;
    *out_n = n;
    return CHORDLET_OK;
  }

  /* (max(olen, want)) zeroed: soxr writes the first olen at most, and any
   * tail past what it wrote is librosa's zero padding. */
  size_t alloc = olen > want ? olen : want;
  float *y = calloc(alloc ? alloc : 1, sizeof *y);
  if (!y) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "resample: out of memory (%zu samples)", alloc);

  soxr_error_t serr = NULL;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  soxr_t s = soxr_create(in_rate, out_rate, 1, &serr, &io, &q, NULL);
  if (!s || serr) {
    free(y);
    if (s) soxr_delete(s);
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "resample %g -> %g: libsoxr: %s",
                         in_rate, out_rate, serr ? serr : "cannot create the resampler");
  }

  double chunk_d = floor(48000.0 * in_rate / out_rate); /* Python's int() of a positive value */
  size_t chunk = chunk_d < 1 ? 1 : chunk_d > (double)(SIZE_MAX / 4) ? SIZE_MAX / 4 : (size_t)chunk_d;
  size_t pos = 0, idx = 0, done = 0;
  while (!serr && idx + chunk < n) {
    serr = soxr_process(s, in + idx, chunk, NULL, y + pos, olen - pos, &done);
    pos += done;
    idx += chunk;
  }
  if (!serr && idx < n) {
    serr = soxr_process(s, in + idx, n - idx, NULL, y + pos, olen - pos, &done);
    pos += done;
  }
  if (!serr && pos < olen) { /* flush: NULL input marks the end */
    serr = soxr_process(s, NULL, 0, NULL, y + pos, olen - pos, &done);
    pos += done;
  }
  soxr_delete(s);
  if (serr) {
    free(y);
    return chordlet_fail(err, CHORDLET_ERR_IO, "resample %g -> %g: libsoxr: %s", in_rate, out_rate, serr);
  }
  /* Huge finite inputs can overflow in the filter; that is garbage out. */
  for (size_t i = 0; i < pos; i++)
    if (!isfinite(y[i])) {
      free(y);
      return chordlet_fail(err, CHORDLET_ERR_RANGE,
                           "resample: output sample %zu is not finite (input values too large)", i);
    }
  if (want < alloc) { /* fix_length cut: give the spare memory back if we can */
    float *shrunk = realloc(y, (want ? want : 1) * sizeof *y);
    if (shrunk) y = shrunk;
  }
  *out = y;
  *out_n = want;
  return CHORDLET_OK;
}

/* ---- reading ------------------------------------------------------------- */

/* numpy's float32 pairwise summation (pairwise_sum_FLOAT) for n <= 128, which
 * is what np.mean(y, axis=0) runs over the channels of each frame in
 * librosa.to_mono: one float accumulator below 8 terms, eight accumulators
 * combined as a tree above. Summing in plain order differs by an ulp from 8
 * channels on. x: (n) with stride. */
static float numpy_pairwise_sum(const float *x, size_t n, size_t stride) {
  if (n < 8) {
    float res = 0.0f;
    for (size_t i = 0; i < n; i++) res += x[i * stride];
    return res;
  }
  float r[8];
  for (size_t j = 0; j < 8; j++) r[j] = x[j * stride];
  size_t i;
  for (i = 8; i < n - (n % 8); i += 8)
    for (size_t j = 0; j < 8; j++) r[j] += x[(i + j) * stride];
  float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < n; i++) res += x[i * stride];
  return res;
}

static uint32_t get_u32(const unsigned char *b, int big_endian) {
  return big_endian ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
                    : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

/* For RIFF (and big-endian RIFX) WAVE files: checks the channel count and
 * the sample rate of the fmt chunk, and compares the size the data
 * chunk declares with the bytes the file holds after its header. libsndfile
 * silently shortens a WAV whose data chunk runs past the end of the file (it
 * only writes a note in its log), so a truncated WAV would otherwise read as
 * a shorter valid one. The sizes 0 and 0xFFFFFFFF are the "length unknown"
 * markers that streaming writers (ffmpeg, sox to a pipe) leave; libsndfile
 * reads those to the end of the file, and so do we. Other formats and RF64
 * are checked through libsndfile's log (audio_truncation.h) and the
 * frame-count check after reading. */
static chordlet_status wav_check_header(const char *path, uint64_t file_size,
                                            chordlet_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return chordlet_fail(err, CHORDLET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  unsigned char h[12];
  chordlet_status st = CHORDLET_OK;
  if (fread(h, 1, 12, f) == 12 && (!memcmp(h, "RIFF", 4) || !memcmp(h, "RIFX", 4)) &&
      !memcmp(h + 8, "WAVE", 4)) {
    int be = h[3] == 'X';
    uint64_t pos = 12;
    for (int k = 0; k < WAV_MAX_CHUNKS && pos + 8 <= file_size; k++) {
      unsigned char c[8];
      if (fseeko(f, (off_t)pos, SEEK_SET) != 0 || fread(c, 1, 8, f) != 8) break;
      uint32_t size = get_u32(c + 4, be);
      unsigned char fmt[16];
      if (!memcmp(c, "fmt ", 4) && size >= 16 && fread(fmt, 1, 16, f) == 16) {
        /* libsndfile refuses some of these with obscure messages ("SF_INFO
         * struct incomplete" for rate 0) and accepts others. */
        unsigned channels = be ? (unsigned)fmt[2] << 8 | fmt[3] : (unsigned)fmt[3] << 8 | fmt[2];
        uint32_t rate = get_u32(fmt + 4, be);
        if (channels < 1 || channels > AUDIO_MAX_CHANNELS) {
          st = chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: %u channels: we accept 1 to %d", path,
                             channels, AUDIO_MAX_CHANNELS);
          break;
        }
        if (rate < AUDIO_MIN_RATE || rate > AUDIO_MAX_RATE) {
          st = chordlet_fail(err, CHORDLET_ERR_RANGE,
                             "%s: sample rate %lu Hz is outside %d..%d Hz: broken header", path,
                             (unsigned long)rate, AUDIO_MIN_RATE, AUDIO_MAX_RATE);
          break;
        }
      }
      if (!memcmp(c, "data", 4)) {
        uint64_t avail = file_size - (pos + 8);
        if (size != 0 && size != 0xFFFFFFFFu && size > avail)
          st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                             "%s: truncated WAV: its header declares %lu bytes of audio data, "
                             "but the file holds only %llu after the header",
                             path, (unsigned long)size, (unsigned long long)avail);
        break;
      }
      pos += 8 + (uint64_t)size + (size & 1); /* chunks are padded to even sizes */
    }
  }
  fclose(f);
  return st;
}

/* Grows the mono output (*buf, capacity *cap) to hold at least need samples,
 * doubling but never past limit. */
static chordlet_status grow_samples(float **buf, size_t *cap, size_t need, size_t limit,
                                    const char *path, chordlet_error *err) {
  if (need <= *cap) return CHORDLET_OK;
  size_t c = *cap ? *cap : 65536;
  while (c < need && c < limit) c = c > limit / 2 ? limit : c * 2;
  if (c < need || c > SIZE_MAX / sizeof **buf)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory (%zu samples)", path, need);
  float *b = realloc(*buf, c * sizeof **buf);
  if (!b)
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory reading %zu samples", path, c);
  *buf = b;
  *cap = c;
  return CHORDLET_OK;
}

/* The most frames an open file may yield: its header's count, or for a
 * stream of unknown length one more than AUDIO_MAX_SECONDS (refused). */
static size_t frame_limit(const SF_INFO *info) {
  return info->frames != SF_COUNT_MAX ? (size_t)info->frames : (size_t)(AUDIO_MAX_SECONDS * info->samplerate) + 1;
}

/* Reads every frame of an open file, mixes each chunk to mono and hands it
 * to sink (at the file's rate, READ_CHUNK_FRAMES at most per call); then
 * checks the count against the header. *n_mono receives the frames read. */
static chordlet_status read_frames(SNDFILE *sf, const SF_INFO *info, const char *path, audio_sink_fn sink,
                                   void *ctx, size_t *n_mono, chordlet_error *err) {
  const size_t ch = (size_t)info->channels;
  const int known = info->frames != SF_COUNT_MAX; /* unknown only for streams */
  const double cap_d = AUDIO_MAX_SECONDS * info->samplerate;
  const size_t limit = frame_limit(info);
  float *chunk = malloc((size_t)READ_CHUNK_FRAMES * ch * sizeof *chunk); /* (frames, channels) */
  float *mono = ch == 1 ? chunk : malloc((size_t)READ_CHUNK_FRAMES * sizeof *mono);
  if (!chunk || !mono) {
    free(chunk);
    if (mono != chunk) free(mono);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", path);
  }
  size_t total = 0;
  chordlet_status st = CHORDLET_OK;
  const float count = (float)ch; /* np.mean divides the float32 sum by the count */
  for (;;) {
    size_t want = limit - total < READ_CHUNK_FRAMES ? limit - total : READ_CHUNK_FRAMES;
    if (want == 0) break;
    sf_count_t got = sf_readf_float(sf, chunk, (sf_count_t)want);
    if (sf_error(sf) != SF_ERR_NO_ERROR) {
      size_t at = total + (got > 0 ? (size_t)got : 0);
      if (known)
        st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                           "%s: damaged or truncated: decoding failed after %zu of %zu frames "
                           "(libsndfile: %s)",
                           path, at, limit, sf_strerror(sf));
      else
        st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                           "%s: damaged or truncated: decoding failed after %zu frames (libsndfile: %s)",
                           path, at, sf_strerror(sf));
      break;
    }
    if (got <= 0) break;
    size_t g = (size_t)got;
    for (size_t i = 0; i < g * ch; i++)
      if (!isfinite(chunk[i])) {
        size_t frame = total + i / ch;
        st = chordlet_fail(err, CHORDLET_ERR_RANGE,
                           "%s: sample %zu of channel %zu (%.3f s) is %s: not valid audio", path,
                           frame, i % ch + 1, (double)frame / info->samplerate,
                           isnan(chunk[i]) ? "NaN" : "infinite");
        break;
      }
    if (st) break;
    if (!known && total + g > (size_t)cap_d) {
      st = chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: longer than %.0f hours: refused", path,
                         AUDIO_MAX_SECONDS / 3600);
      break;
    }
    if (ch > 1) {
      for (size_t i = 0; i < g; i++) {
        float m = numpy_pairwise_sum(chunk + i * ch, ch, 1) / count;
        if (!isfinite(m)) {
          st = chordlet_fail(err, CHORDLET_ERR_RANGE,
                             "%s: frame %zu: the channel sum overflows (sample values too large)",
                             path, total + i);
          break;
        }
        mono[i] = m;
      }
      if (st) break;
    }
    if ((st = sink(ctx, mono, g, err))) break;
    total += g;
  }
  free(chunk);
  if (mono != chunk) free(mono);
  if (!st && known && total != (size_t)info->frames) {
    size_t declared = (size_t)info->frames;
    int mpeg = (info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG;
    int ogg = (info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG;
    size_t slack = ogg ? (size_t)OGG_LENGTH_SLACK_SECONDS * (size_t)info->samplerate : 0;
    if (mpeg) {
      slack = declared / 1000 * MPEG_LENGTH_SLACK_PER_MILLE;
      if (slack < MPEG_LENGTH_SLACK) slack = MPEG_LENGTH_SLACK;
    }
    if (!(total < declared && declared - total <= slack))
      st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s: truncated or damaged: the header declares %zu frames but only %zu "
                         "could be read",
                         path, declared, total);
  }
  if (!st && total == 0)
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: no audio could be read (0 frames)", path);
  *n_mono = total;
  return st;
}

/* audiofile_read's sink: the whole signal in one growing buffer. */
typedef struct whole_signal {
  float *y; /* (cap) mono at the file's rate */
  size_t n, cap, limit;
  const char *path;
} whole_signal;

static chordlet_status append_samples(void *ctx, const float *x, size_t n, chordlet_error *err) {
  whole_signal *w = ctx;
  chordlet_status st = grow_samples(&w->y, &w->cap, w->n + n, w->limit, w->path, err);
  if (st) return st;
  memcpy(w->y + w->n, x, n * sizeof *x);
  w->n += n;
  return CHORDLET_OK;
}

/* Every check audiofile_read makes before reading a sample; on success *sf
 * is open (the caller closes it) and *info filled. */
static chordlet_status open_checked(const char *path, double target_rate, SNDFILE **sf_out, SF_INFO *info_out,
                                    chordlet_error *err) {
  *sf_out = NULL;
  if (!path || !*path)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "audiofile_read: no file name");
  if (target_rate != 0 &&
      !(isfinite(target_rate) && target_rate >= AUDIO_MIN_RATE && target_rate <= AUDIO_MAX_RATE))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "%s: target sample rate %g Hz is outside %d..%d Hz", path, target_rate,
                         AUDIO_MIN_RATE, AUDIO_MAX_RATE);

  /* Our own checks first: libsndfile's messages for these are vague or wrong
   * (it calls a garbage .mp3 "not a regular file (possibly a pipe?)"). */
  struct stat sb;
  if (stat(path, &sb) != 0)
    return chordlet_fail(err, CHORDLET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode))
    return chordlet_fail(err, CHORDLET_ERR_IO, "%s: not a regular file", path);
  if (sb.st_size == 0)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: empty file (0 bytes): not audio", path);
  chordlet_status st = wav_check_header(path, (uint64_t)sb.st_size, err);
  if (!st) st = nist_check_sample_coding(path, err);
  if (st) return st;

  /* sf_open with the path, as soundfile opens it for librosa. */
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  if (!sf) {
    const char *why = sf_strerror(NULL);
    /* libsndfile says this of garbage named .mp3; we know the file exists. */
    if (strstr(why, "not a regular file")) why = "Format not recognised.";
    return chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s: not a readable audio file: unrecognised, malformed or unsupported "
                         "format (libsndfile: %s)",
                         path, why);
  }
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RAW)
    /* libsndfile guesses headerless data from some extensions (.au as
     * 8 kHz mu-law, ...): any bytes then "decode", so it proves nothing. */
    st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                       "%s: no recognised audio header (libsndfile would read it as headerless "
                       "raw data)",
                       path);
  else if (info.channels < 1 || info.channels > AUDIO_MAX_CHANNELS)
    st = chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: %d channels: we accept 1 to %d", path,
                       info.channels, AUDIO_MAX_CHANNELS);
  else if (info.samplerate < AUDIO_MIN_RATE || info.samplerate > AUDIO_MAX_RATE)
    st = chordlet_fail(err, CHORDLET_ERR_RANGE,
                       "%s: sample rate %d Hz is outside %d..%d Hz: broken header", path,
                       info.samplerate, AUDIO_MIN_RATE, AUDIO_MAX_RATE);
  else if (info.frames < 0)
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: negative length in the header", path);
  else if (info.frames == 0)
    st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: contains no audio (0 frames)", path);
  else if (info.frames != SF_COUNT_MAX &&
           (double)info.frames > AUDIO_MAX_SECONDS * info.samplerate)
    st = chordlet_fail(err, CHORDLET_ERR_RANGE,
                       "%s: declares %lld frames (%.1f hours at %d Hz): longer than the %.0f "
                       "hours we accept",
                       path, (long long)info.frames, (double)info.frames / info.samplerate / 3600,
                       info.samplerate, AUDIO_MAX_SECONDS / 3600);
  /* A header that promises more than the file holds: libsndfile clamps and logs it. */
  if (!st) st = audio_check_sndfile_log(sf, path, err);
  if (!st) st = nist_check_length(path, &info, (long long)sb.st_size, err);
  if (st) {
    sf_close(sf);
    return st;
  }
  *sf_out = sf;
  *info_out = info;
  return CHORDLET_OK;
}

chordlet_status audiofile_read(const char *path, double target_rate, audio_buffer *out,
                               chordlet_error *err) {
  if (!out) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "audiofile_read: NULL output");
  memset(out, 0, sizeof *out);
  SNDFILE *sf;
  SF_INFO info;
  chordlet_status st = open_checked(path, target_rate, &sf, &info, err);
  if (st) return st;
  whole_signal w = {NULL, 0, 0, frame_limit(&info), path};
  size_t n = 0;
  st = read_frames(sf, &info, path, append_samples, &w, &n, err);
  sf_close(sf);
  if (st) {
    free(w.y);
    return st;
  }
  float *mono = w.y; /* (n) at the file's rate */
  if (n < w.cap) { /* give the spare memory back if we can */
    float *shrunk = realloc(mono, n * sizeof *mono);
    if (shrunk) mono = shrunk;
  }

  double rate = info.samplerate;
  if (target_rate != 0 && target_rate != rate) {
    float *y = NULL;
    size_t ny = 0;
    chordlet_error rerr;
    st = audio_resample(mono, n, rate, target_rate, &y, &ny, &rerr);
    free(mono);
    if (st) return chordlet_fail(err, st, "%s: %s", path, rerr.message);
    mono = y;
    n = ny;
    rate = target_rate;
  }
  out->samples = mono;
  out->n_samples = n;
  out->sample_rate = rate;
  return CHORDLET_OK;
}

/* audiofile_stream's stage between the reader and the caller's sink: the
 * resampler's own errors get the file's name, as audiofile_read words them;
 * the caller's pass unchanged. */
typedef struct stream_stage {
  resample_stream *resampler;
  const char *path;
  audio_sink_fn sink;
  void *ctx;
  int sink_failed;
} stream_stage;

static chordlet_status forward_samples(void *ctx, const float *x, size_t n, chordlet_error *err) {
  stream_stage *s = ctx;
  chordlet_status st = s->sink(s->ctx, x, n, err);
  s->sink_failed = st != CHORDLET_OK;
  return st;
}

static chordlet_status name_resample_error(const stream_stage *s, chordlet_status st, chordlet_error *err) {
  if (st == CHORDLET_OK || s->sink_failed) return st;
  chordlet_error inner = *err;
  return chordlet_fail(err, st, "%s: %s", s->path, inner.message);
}

static chordlet_status resample_chunk(void *ctx, const float *x, size_t n, chordlet_error *err) {
  stream_stage *s = ctx;
  return name_resample_error(s, resample_stream_push(s->resampler, x, n, err), err);
}

chordlet_status audiofile_stream(const char *path, double target_rate, audio_sink_fn sink, void *ctx,
                                 size_t *declared, size_t *n_samples, chordlet_error *err) {
  if (declared) *declared = 0;
  if (n_samples) *n_samples = 0;
  if (!sink) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "audiofile_stream: no sink");
  SNDFILE *sf;
  SF_INFO info;
  chordlet_status st = open_checked(path, target_rate, &sf, &info, err);
  if (st) return st;
  const double rate = target_rate != 0 ? target_rate : info.samplerate;
  if (declared && info.frames != SF_COUNT_MAX)
    *declared = (size_t)ceil((double)info.frames * (rate / info.samplerate));
  stream_stage stage = {NULL, path, sink, ctx, 0};
  st = resample_stream_create(info.samplerate, rate, forward_samples, &stage, &stage.resampler, err);
  if (!st) {
    size_t n = 0;
    st = read_frames(sf, &info, path, resample_chunk, &stage, &n, err);
    if (!st) st = name_resample_error(&stage, resample_stream_finish(stage.resampler, n_samples, err), err);
  } else {
    st = name_resample_error(&stage, st, err);
  }
  sf_close(sf);
  resample_stream_free(stage.resampler);
  return st;
}
