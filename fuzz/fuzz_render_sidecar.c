/*
 * fuzz_render_sidecar.c: render's JSON sidecars (trainer/render_sidecar.h),
 * as a re-run of `chordlet-train render` reads them to decide whether a song
 * is done. Input: the sidecar's text; or, when the input holds a NUL byte,
 * the settings a re-run would render with (JSON) before it and the sidecar
 * after it. Without a NUL the settings are those of a real render (below),
 * so a mutated copy of a real sidecar is compared with what made it.
 *
 * Checked beyond memory safety: the answer (and the seconds of a match) is
 * the same whether the text is NUL-terminated or not: render passes a
 * terminated buffer, the reader takes a length.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "render_sidecar.h"

#define FAIL(...) fuzz_fail("fuzz_render_sidecar", __VA_ARGS__)

/* What render.c's settings_json wrote for work/data/audio/valid/nottingham/jigs196. */
static const char default_settings[] =
    "{\"format\":1,\"fluidsynth\":\"2.3.1\",\"song\":\"nottingham/jigs196\",\"variant\":0,\"seed\":\"1\","
    "\"midi\":{\"bytes\":2454,\"crc32\":\"7bfd2cc5\"},\"lab\":{\"bytes\":863,\"crc32\":\"844aafed\"},"
    "\"soundfont\":{\"name\":\"FluidR3_GM.sf2\",\"bytes\":148398306,\"crc32\":\"7886b4e9\"},"
    "\"render\":{\"sample_rate\":22050,\"tempo_factor\":0.908,\"programs\":[21,49,91,94,1,23,50,17,27,-1,18,88,27,"
    "22,26,21],\"families\":[\"organ\",\"strings\",\"pad\",\"pad\",\"piano\",\"organ\",\"strings\",\"organ\","
    "\"guitar\",\"drums\",\"organ\",\"pad\",\"guitar\",\"organ\",\"guitar\",\"organ\"],\"drums\":true,"
    "\"velocity_jitter\":10,\"velocity_seed\":\"9b33514daa38b7d4\",\"reverb\":{\"roomsize\":0.746,\"damp\":0.379,"
    "\"width\":67.8,\"level\":0.639,\"send\":41},\"chorus\":false,\"peak_dbfs\":-6.83}}";

static cJSON *fallback;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (!(fallback = cJSON_Parse(default_settings))) FAIL("the built-in settings do not parse");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, '\0', size);
  cJSON *own = NULL;
  const cJSON *settings = fallback;
  const uint8_t *text = data;
  size_t n = size;
  if (nul) {
    own = cJSON_ParseWithLength((const char *)data, (size_t)(nul - data));
    settings = own;
    text = nul + 1;
    n = size - (size_t)(nul - data) - 1;
  }
  char *exact = malloc(n ? n : 1), *terminated = malloc(n + 1);
  if (exact && terminated) {
    if (n) memcpy(exact, text, n);
    if (n) memcpy(terminated, text, n);
    terminated[n] = '\0';
    double a = -1, b = -1;
    bool match = render_sidecar_matches(exact, n, settings, &a);
    if (match != render_sidecar_matches(terminated, n, settings, &b))
      FAIL("the answer depends on a NUL after the text");
    if (match && memcmp(&a, &b, sizeof a) != 0) FAIL("two reads of one sidecar give %g and %g seconds", a, b);
  }
  free(exact);
  free(terminated);
  cJSON_Delete(own);
  return 0;
}
