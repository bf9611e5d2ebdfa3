/*
 * sha256.h: SHA-256 (FIPS 180-4), for the real-music manifest: the sha256 of
 * each kept file and of its decoded samples, the checksums a user compares
 * with `sha256sum` (the project's other hashes, XXH3, name caches and are no
 * checksums anyone can verify by hand).
 *
 * Thread: any (the context is the caller's; no shared state).
 */
#ifndef CHORDLET_TRAINER_SHA256_H
#define CHORDLET_TRAINER_SHA256_H

#include <stddef.h>
#include <stdint.h>

enum { SHA256_DIGEST = 32, SHA256_HEX = 2 * SHA256_DIGEST + 1 };

typedef struct sha256_ctx {
  uint32_t state[8];
  uint64_t bytes;           /* message length so far */
  unsigned char block[64];  /* a partial block */
  size_t used;              /* bytes in block */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
/* The digest; the context must be initialised again before reuse. */
void sha256_final(sha256_ctx *c, unsigned char digest[SHA256_DIGEST]);
/* Lower-case hex, as sha256sum and Python's hexdigest() write it. */
void sha256_hex(const unsigned char digest[SHA256_DIGEST], char hex[SHA256_HEX]);
/* The hex digest of a whole file's bytes; 0, or -1 with errno set. */
int sha256_file(const char *path, char hex[SHA256_HEX]);

#endif
