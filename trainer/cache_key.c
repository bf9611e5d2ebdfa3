/* cache_key.c: see cache_key.h. */
#define _POSIX_C_SOURCE 200809L
#include "cache_key.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

/* Only regular files are hashed (issue 17): opening a FIFO would wait for a
 * writer (O_NONBLOCK stops that), and a device such as /dev/zero never ends.
 * cache_unreadable_reason() says which it was. */
static int hash_into(const char *path, XXH3_state_t *state) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  FILE *f = NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "rb"))) {
    close(fd);
    return -1;
  }
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

const char *cache_unreadable_reason(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return strerror(errno);
  if (S_ISDIR(st.st_mode)) return "a folder, not a file";
  if (!S_ISREG(st.st_mode)) return "a FIFO, socket or device, not a file";
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return strerror(errno);
  close(fd);
  return NULL;
}

int cache_path(const char *dir, const char *input, const void *settings, size_t n, char *out, size_t size) {
  return cache_path_tagged(dir, input, "", settings, n, out, size);
}

int cache_path_tagged(const char *dir, const char *input, const char *tag, const void *settings, size_t n, char *out,
                      size_t size) {
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
  int k = snprintf(out, size, "%s/%.*s%s-%016llx.chordlet", dir, stem, base, tag, (unsigned long long)key);
  return (k > 0 && (size_t)k < size) ? 0 : -1;
}

int cache_make_dir(const char *dir) {
  char path[4096];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(path, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (path[i] != '/' && path[i] != '\0') continue;
    char saved = path[i];
    path[i] = '\0';
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
    path[i] = saved;
  }
  struct stat st;
  if (stat(dir, &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}
