/* render_sidecar.c: see render_sidecar.h. */
#include "render_sidecar.h"

bool render_sidecar_matches(const char *text, size_t n, const cJSON *settings, double *seconds) {
  cJSON *old = cJSON_ParseWithLength(text, n);
  cJSON *result = cJSON_GetObjectItemCaseSensitive(old, "result");
  cJSON *secs = cJSON_GetObjectItemCaseSensitive(result, "seconds");
  bool done = old && cJSON_IsNumber(secs) &&
              cJSON_Compare(cJSON_GetObjectItemCaseSensitive(old, "settings"), settings, 1);
  if (done) *seconds = secs->valuedouble;
  cJSON_Delete(old);
  return done;
}
