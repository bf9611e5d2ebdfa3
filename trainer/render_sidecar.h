/* render_sidecar.h: reading back a render's JSON sidecar (render.c writes
 * DIR/<collection>/<id>.json last, with "settings" and "result"): a re-run
 * skips a song whose sidecar was made with the settings it would render now.
 * Kept apart from render.c so the fuzz harness (fuzz/fuzz_render_sidecar.c)
 * reads sidecars exactly as render does. Thread: any. */
#ifndef CHORDLET_TRAINER_RENDER_SIDECAR_H
#define CHORDLET_TRAINER_RENDER_SIDECAR_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether text (n bytes, NUL-terminated or not) is a sidecar whose
 * "settings" equal settings (cJSON_Compare, case-sensitive) and whose
 * "result" holds a number "seconds", which goes into *seconds. Anything else
 * (malformed JSON, missing or other settings) is no match: the song is
 * rendered again. */
bool render_sidecar_matches(const char *text, size_t n, const cJSON *settings, double *seconds);

#endif
