/*
 * spsc.h: a lock-free single-producer/single-consumer ring of fixed-size
 * slots (C11 atomics), the only channel between the audio thread and the
 * threads around it (DESIGN.md 4): feature frames go from the audio thread to
 * the inference worker, chord events from the worker to whoever shows them.
 *
 * The producer fills the slot spsc_write_slot() lends it and publishes it with
 * spsc_write_commit(); the consumer reads the slot spsc_read_slot() lends it
 * and hands it back with spsc_read_commit(). No call blocks, allocates or
 * loops: a full ring refuses the write (the producer counts what it dropped),
 * an empty one returns NULL. Each index is written by one side only (release)
 * and read by the other (acquire), which orders the slot's bytes with it.
 *
 * Memory: spsc_init() takes storage the caller allocated (capacity * slot
 * bytes, capacity a power of two), so the ring itself never allocates.
 * Thread: init on any thread before the two sides start; write_* on the
 * producer only, read_* on the consumer only; spsc_count() on either.
 */
#ifndef CHORDLET_SPSC_H
#define CHORDLET_SPSC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"

typedef struct spsc_ring {
  unsigned char *slots; /* (capacity, slot_bytes) */
  size_t slot_bytes;
  size_t capacity; /* a power of two */
  /* Monotonic counters (wrap after 2^64 slots: never); apart on their own
   * cache lines so the two sides do not share one. */
  _Alignas(64) _Atomic uint64_t written; /* by the producer */
  _Alignas(64) _Atomic uint64_t read;    /* by the consumer */
} spsc_ring;

/* Returns 0, or -1 when capacity is not a power of two or slot_bytes is 0. */
static inline int spsc_init(spsc_ring *r, void *storage, size_t capacity, size_t slot_bytes) {
  if (capacity == 0 || (capacity & (capacity - 1)) || slot_bytes == 0 || !storage) return -1;
  r->slots = storage;
  r->slot_bytes = slot_bytes;
  r->capacity = capacity;
  atomic_init(&r->written, 0);
  atomic_init(&r->read, 0);
  return 0;
}

/* Slots published and not yet consumed. Thread: either side. */
CHORDLET_RT static inline size_t spsc_count(spsc_ring *r) {
  uint64_t w = atomic_load_explicit(&r->written, memory_order_acquire);
  uint64_t rd = atomic_load_explicit(&r->read, memory_order_acquire);
  return (size_t)(w - rd);
}

/* The next free slot, or NULL when the ring is full. Thread: producer. */
CHORDLET_RT static inline void *spsc_write_slot(spsc_ring *r) {
  uint64_t w = atomic_load_explicit(&r->written, memory_order_relaxed);
  uint64_t rd = atomic_load_explicit(&r->read, memory_order_acquire);
  if (w - rd >= r->capacity) return NULL;
  return r->slots + (size_t)(w & (r->capacity - 1)) * r->slot_bytes;
}

/* Publishes the slot spsc_write_slot() returned. Thread: producer. */
CHORDLET_RT static inline void spsc_write_commit(spsc_ring *r) {
  uint64_t w = atomic_load_explicit(&r->written, memory_order_relaxed);
  atomic_store_explicit(&r->written, w + 1, memory_order_release);
}

/* The oldest published slot, or NULL when there is none. Thread: consumer. */
CHORDLET_RT static inline const void *spsc_read_slot(spsc_ring *r) {
  uint64_t rd = atomic_load_explicit(&r->read, memory_order_relaxed);
  uint64_t w = atomic_load_explicit(&r->written, memory_order_acquire);
  if (w == rd) return NULL;
  return r->slots + (size_t)(rd & (r->capacity - 1)) * r->slot_bytes;
}

/* Frees the slot spsc_read_slot() returned. Thread: consumer. */
CHORDLET_RT static inline void spsc_read_commit(spsc_ring *r) {
  uint64_t rd = atomic_load_explicit(&r->read, memory_order_relaxed);
  atomic_store_explicit(&r->read, rd + 1, memory_order_release);
}

#endif
