/* audio_truncation.c: telling a cut audio file from a short one (audio_truncation.h). */
#define _POSIX_C_SOURCE 200809L
#include "audio_truncation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

enum {
  LOG_BYTES = 16384,      /* libsndfile keeps a log of at most 2048 bytes; room to spare */
  NIST_MAX_HEADER = 65536 /* a NIST header states its own size, usually 1024 */
};

/* "NAME : DECLARED (should be ACTUAL)" with DECLARED > ACTUAL: the header
 * claims bytes beyond the end of the file. Returns 1 and the two numbers. */
static int declared_beyond_file(const char *line, long long *declared, long long *actual) {
  const char *colon = strchr(line, ':');
  const char *should = strstr(line, "(should be ");
  if (!colon || !should || should < colon) return 0;
  char *end = NULL;
  errno = 0;
  long long d = strtoll(colon + 1, &end, 10);
  if (errno || end == colon + 1) return 0;
  long long a = strtoll(should + 11, &end, 10);
  if (errno || end == should + 11) return 0;
  *declared = d;
  *actual = a;
  return d > a && a >= 0;
}

chordlet_status audio_check_sndfile_log(SNDFILE *sf, const char *path, chordlet_error *err) {
  char *log = malloc(LOG_BYTES);
  if (!log) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", path);
  memset(log, 0, LOG_BYTES);
  sf_command(sf, SFC_GET_LOG_INFO, log, LOG_BYTES - 1);
  chordlet_status st = CHORDLET_OK;
  char *rest = log;
  for (char *line = rest; line && !st; line = rest) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    rest = nl ? nl + 1 : NULL;
    while (*line == ' ' || *line == '\t') line++;
    long long declared = 0, actual = 0;
    if (declared_beyond_file(line, &declared, &actual) || strstr(line, "> file length") ||
        strstr(line, "does not match value from 'ds64'") || strstr(line, "runcated"))
      st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s: truncated or damaged: its header promises more audio than the file holds "
                         "(libsndfile: \"%s\")",
                         path, line);
  }
  free(log);
  return st;
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

chordlet_status audio_check_nist_length(const char *path, const SF_INFO *info, long long file_size,
                                        chordlet_error *err) {
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
