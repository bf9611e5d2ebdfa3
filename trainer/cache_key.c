/* cache_key.c: see cache_key.h. */
#include "cache_key.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

static int hash_into(const char *path, XXH3_state_t *state) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char buf[1 << 16];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) XXH3_64bits_update(state, buf, got);
  int failed = ferror(f);
  fclose(f);
  return failed ? -1 : 0;
}

int cache_hash_file(const char *path, uint64_t *hash) {
  XXH3_state_t *state = XXH3_createState();
  if (!state) return -1;
  XXH3_64bits_reset(state);
  int status = hash_into(path, state);
  *hash = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return status;
}

int cache_path(const char *dir, const char *input, const void *settings, size_t n, char *out, size_t size) {
  XXH3_state_t *state = XXH3_createState();
  if (!state) return -1;
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, settings, n);
  int status = hash_into(input, state);
  uint64_t key = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  if (status) return -1;
  const char *base = strrchr(input, '/');
  base = base ? base + 1 : input;
  const char *dot = strrchr(base, '.');
  int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
  int k = snprintf(out, size, "%s/%.*s-%016llx.chordlet", dir, stem, base, (unsigned long long)key);
  return (k > 0 && (size_t)k < size) ? 0 : -1;
}
