/* atomicfile.c: temp file + fsync + rename. */
#define _POSIX_C_SOURCE 200809L
#include "atomicfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

static void release(atomic_file *file) {
  free(file->temp_path);
  free(file->final_path);
  file->temp_path = file->final_path = NULL;
  file->stream = NULL;
}

chordlet_status atomic_file_open(atomic_file *file, const char *path, chordlet_error *err) {
  memset(file, 0, sizeof *file);
  if (!path || !*path) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "empty output path");
  size_t len = strlen(path);
  file->final_path = malloc(len + 1);
  file->temp_path = malloc(len + sizeof ".tmp.XXXXXX");
  if (!file->final_path || !file->temp_path) {
    release(file);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory opening %s", path);
  }
  memcpy(file->final_path, path, len + 1);
  memcpy(file->temp_path, path, len);
  memcpy(file->temp_path + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
  /* The rename at commit would replace whatever the path names. A device or
   * FIFO there (an output named /dev/full, or a link to it) is not a file to
   * replace: as root the rename would swap the device node for a regular
   * file. A folder would fail the rename only after all the work. */
  struct stat st_target;
  if (stat(path, &st_target) == 0 && !S_ISREG(st_target.st_mode)) {
    chordlet_status st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: it exists and is %s, not a file",
                                       path, S_ISDIR(st_target.st_mode) ? "a folder" : "a device, FIFO or socket");
    release(file);
    return st;
  }
  int fd = mkstemp(file->temp_path);
  if (fd < 0) {
    chordlet_status st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: creating %s failed: %s",
                                       path, file->temp_path, strerror(errno));
    release(file);
    return st;
  }
  /* mkstemp makes the file private (0600); an output file should be readable
   * like any other the user creates. */
  mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);
  file->stream = fdopen(fd, "wb");
  if (!file->stream) {
    chordlet_status st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot open %s: %s",
                                       file->temp_path, strerror(errno));
    close(fd);
    unlink(file->temp_path);
    release(file);
    return st;
  }
  return CHORDLET_OK;
}

chordlet_status atomic_file_commit(atomic_file *file, chordlet_error *err) {
  if (!file->stream) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "file is not open");
  int failed = ferror(file->stream) || fflush(file->stream) != 0 ||
               fsync(fileno(file->stream)) != 0;
  int saved_errno = errno;
  if (fclose(file->stream) != 0 && !failed) { failed = 1; saved_errno = errno; }
  file->stream = NULL;
  if (!failed && rename(file->temp_path, file->final_path) != 0) {
    failed = 1;
    saved_errno = errno;
  }
  if (failed) {
    chordlet_status st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: %s",
                                       file->final_path, strerror(saved_errno));
    unlink(file->temp_path);
    release(file);
    return st;
  }
  release(file);
  return CHORDLET_OK;
}

void atomic_file_abort(atomic_file *file) {
  if (file->stream) {
    fclose(file->stream);
    unlink(file->temp_path);
  }
  release(file);
}
