/* nist_header.c: what libsndfile does not check in a NIST/SPHERE header (nist_header.h). */
#define _POSIX_C_SOURCE 200809L
#include "nist_header.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

enum {
  NIST_HEADER_LENGTH = 1024, /* what libsndfile reads of a NIST header */
  NIST_MAX_HEADER = 65536    /* a NIST header states its own size, usually 1024 */
};

chordlet_status nist_check_sample_coding(const char *path, chordlet_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return chordlet_fail(err, CHORDLET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  char header[NIST_HEADER_LENGTH + 1];
  size_t got = fread(header, 1, NIST_HEADER_LENGTH, f);
  fclose(f);
  header[got] = '\0'; /* libsndfile's strstr/sscanf stop at the first NUL too */
  if (got < 8 || memcmp(header, "NIST_1A\n", 8) != 0) return CHORDLET_OK;
  char *end = strstr(header, "end_head");
  if (end) end[0] = '\0';
  const char *coding = strstr(header, "sample_coding -s");
  if (!coding) return CHORDLET_OK;
  int count = 0;
  char name[64];
  if (sscanf(coding, "sample_coding -s%d %63s", &count, name) == 2) return CHORDLET_OK;
  const char *eol = strchr(coding, '\n');
  int len = eol ? (int)(eol - coding) : (int)strlen(coding);
  if (len > 40) len = 40;
  return chordlet_fail(err, CHORDLET_ERR_PARSE,
                       "%s: malformed NIST/SPHERE header: \"%.*s\" names no sample coding "
                       "(expected e.g. \"sample_coding -s3 pcm\")",
                       path, len, coding);
}

/* The value of "KEY -i N" in a NIST header, or -1. */
static long long nist_field(const char *header, const char *key) {
  size_t n = strlen(key);
  for (const char *p = header; (p = strstr(p, key)) != NULL; p += n) {
    if ((p != header && p[-1] != '\n') || p[n] != ' ') continue;
    long long v = -1;
    if (sscanf(p + n, " -i %lld", &v) == 1) return v;
  }
  return -1;
}

chordlet_status nist_check_length(const char *path, const SF_INFO *info, long long file_size, chordlet_error *err) {
  if ((info->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_NIST) return CHORDLET_OK;
  FILE *f = fopen(path, "rb");
  if (!f) return chordlet_fail(err, CHORDLET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  char first[32] = {0};
  long header_size = 0;
  chordlet_status st = CHORDLET_OK;
  if (fread(first, 1, 16, f) != 16 || sscanf(first, "NIST_1A %ld", &header_size) != 1 || header_size < 16 ||
      header_size > NIST_MAX_HEADER || header_size > file_size) {
    fclose(f);
    return CHORDLET_OK; /* libsndfile read it; not a header we understand better */
  }
  char *header = calloc((size_t)header_size + 1, 1);
  if (!header) {
    fclose(f);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", path);
  }
  if (fseek(f, 0, SEEK_SET) == 0 && fread(header, 1, (size_t)header_size, f) == (size_t)header_size) {
    const long long count = nist_field(header, "sample_count"), channels = nist_field(header, "channel_count"),
                    bytes = nist_field(header, "sample_n_bytes");
    const long long have = file_size - header_size;
    if (count > 0 && channels > 0 && bytes > 0 && count < (1LL << 40) && channels <= 1024 && bytes <= 8 &&
        count * channels * bytes > have)
      st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s: truncated NIST/SPHERE file: its header declares %lld samples of %lld channel(s) "
                         "(%lld bytes), but the file holds only %lld after the header",
                         path, count, channels, count * channels * bytes, have);
  }
  free(header);
  fclose(f);
  return st;
}
