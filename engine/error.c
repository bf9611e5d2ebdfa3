/* error.c: status names, version, and filling error messages. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

#define STR2(x) #x
#define STR(x) STR2(x)

const char *chordlet_version(void) {
  return STR(CHORDLET_VERSION_MAJOR) "." STR(CHORDLET_VERSION_MINOR) "." STR(
      CHORDLET_VERSION_PATCH);
}

const char *chordlet_status_name(chordlet_status status) {
  switch (status) {
  case CHORDLET_OK: return "ok";
  case CHORDLET_ERR_INVALID_ARGUMENT: return "invalid argument";
  case CHORDLET_ERR_IO: return "input/output error";
  case CHORDLET_ERR_PARSE: return "parse error";
  case CHORDLET_ERR_NO_MEMORY: return "out of memory";
  case CHORDLET_ERR_RANGE: return "value out of range";
  }
  return "unknown status";
}

chordlet_status chordlet_fail(chordlet_error *err, chordlet_status code,
                              const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}
