/*
 * chordlet.h: the public C API of libchordlet.
 *
 * Conventions (see docs/ARCHITECTURE.md):
 *  - Every function returns a chordlet_status; 0 is success, negative values
 *    are errors. Functions that can fail for a reason worth explaining also
 *    take a chordlet_error, which they fill with a human-readable message.
 *    The engine never prints and never exits.
 *  - Every entry point states its thread class: "any thread" (pure, no shared
 *    state), "main" (may allocate and do I/O), "worker" or "audio". Functions
 *    safe to call on the audio thread carry CHORDLET_RT.
 */
#ifndef CHORDLET_H
#define CHORDLET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a function that is real-time safe: no allocation, no locks, no I/O,
 * bounded time. It expands to nothing; it is documentation a reader and a
 * grep can rely on. */
#define CHORDLET_RT

#define CHORDLET_VERSION_MAJOR 0
#define CHORDLET_VERSION_MINOR 1
#define CHORDLET_VERSION_PATCH 0

typedef enum chordlet_status {
  CHORDLET_OK = 0,
  CHORDLET_ERR_INVALID_ARGUMENT = -1, /* a caller passed something impossible */
  CHORDLET_ERR_IO = -2,               /* a file could not be read or written */
  CHORDLET_ERR_PARSE = -3,            /* a file or label is malformed */
  CHORDLET_ERR_NO_MEMORY = -4,        /* an allocation failed */
  CHORDLET_ERR_RANGE = -5,            /* a value is outside what we accept */
} chordlet_status;

/* An error message buffer filled by engine functions that fail. */
typedef struct chordlet_error {
  chordlet_status code;
  char message[512];
} chordlet_error;

/* The version string, e.g. "0.1.0". Thread: any. */
CHORDLET_RT const char *chordlet_version(void);

/* A short English name of a status code. Thread: any. */
CHORDLET_RT const char *chordlet_status_name(chordlet_status status);

#ifdef __cplusplus
}
#endif

#endif /* CHORDLET_H */
