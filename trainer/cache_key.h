/* cache_key.h: names of the trainer's cache files. A cache is named
 * <stem>-<key>.chordlet, where key is a 64-bit XXH3 hash of the input file's
 * bytes and of everything that shapes the result (settings, the model used,
 * the format version): a changed input or setting gives a new name, so a
 * stale cache is never read, and an existing name means a finished job. */
#ifndef CHORDLET_TRAINER_CACHE_KEY_H
#define CHORDLET_TRAINER_CACHE_KEY_H

#include <stddef.h>
#include <stdint.h>

/* XXH3-64 of a whole file's bytes; 0 on success. Only a regular file is
 * read: a folder, FIFO (never waited on) or device (/dev/zero) fails. */
int cache_hash_file(const char *path, uint64_t *hash);

/* Why cache_hash_file (or cache_path on path) would fail to read path, for a
 * message ("No such file or directory", "a FIFO, socket or device, not a
 * file"); NULL when it can be opened. The text may be strerror's. */
const char *cache_unreadable_reason(const char *path);

/* dir/<stem of input>-<16 hex digits>.chordlet, the key hashing the input's
 * bytes and `settings` (n bytes). 0 on success, -1 if the input cannot be
 * read or the path does not fit. */
int cache_path(const char *dir, const char *input, const void *settings, size_t n, char *out, size_t size);
/* The same with `tag` after the stem: dir/<stem><tag>-<key>.chordlet (an
 * augmented variant's ".a2"). */
int cache_path_tagged(const char *dir, const char *input, const char *tag, const void *settings, size_t n, char *out,
                      size_t size);

/* Creates dir and its missing parents (like mkdir -p); 0 on success, -1 with
 * errno set otherwise. */
int cache_make_dir(const char *dir);

#endif
