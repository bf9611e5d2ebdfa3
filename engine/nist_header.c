/* nist_header.c: NIST/SPHERE headers that libsndfile would read unpredictably (nist_header.h). */
#define _POSIX_C_SOURCE 200809L
#include "nist_header.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

enum { NIST_HEADER_LENGTH = 1024 }; /* what libsndfile reads of a NIST header */

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
