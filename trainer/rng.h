/* rng.h: the trainer's small deterministic random numbers (splitmix64), and a
 * string hash (FNV-1a, 64 bit) to seed them from names. Renders must come out
 * the same on every machine and libc, so nothing here uses rand(). */
#ifndef CHORDLET_TRAINER_RNG_H
#define CHORDLET_TRAINER_RNG_H

#include <stdint.h>

typedef struct rng {
  uint64_t state;
} rng;

static inline uint64_t rng_next(rng *r) {
  uint64_t z = (r->state += 0x9E3779B97F4A7C15u);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 bits. */
static inline double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* Uniform in [lo, hi). */
static inline double rng_range(rng *r, double lo, double hi) { return lo + (hi - lo) * rng_uniform(r); }

/* Uniform integer in [0, n), n > 0 (the tiny modulo bias is irrelevant here). */
static inline int rng_below(rng *r, int n) { return (int)(rng_next(r) % (uint64_t)n); }

/* FNV-1a over a string, continuing from h (start with RNG_HASH_START). */
#define RNG_HASH_START 0xCBF29CE484222325u
static inline uint64_t rng_hash(uint64_t h, const char *s) {
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001B3u;
  }
  return h;
}

#endif
