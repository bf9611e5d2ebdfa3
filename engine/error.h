/* error.h: filling a chordlet_error (engine-internal). */
#ifndef CHORDLET_ENGINE_ERROR_H
#define CHORDLET_ENGINE_ERROR_H

#include "chordlet.h"

/* Fill err (which may be NULL) with a printf-style message; returns code so a
 * caller can write `return chordlet_fail(err, CHORDLET_ERR_PARSE, ...)`.
 * Thread: any (formats into the caller's buffer, never allocates). */
chordlet_status chordlet_fail(chordlet_error *err, chordlet_status code,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
