/* audio_truncation.c: telling a cut audio file from a short one (audio_truncation.h). */
#define _POSIX_C_SOURCE 200809L
#include "audio_truncation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

enum {
  LOG_BYTES = 16384 /* libsndfile keeps a log of at most 2048 bytes; room to spare */
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

