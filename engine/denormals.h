/*
 * denormals.h: flush-to-zero for the real-time code. Denormal floats (the
 * tails of decaying filters and attention weights) cost up to 100x a normal
 * operation on x86; the stream's process() and the live worker set FTZ and
 * DAZ (x86) or FZ (arm64) on entry and restore the caller's setting on exit,
 * so a host's own floating-point mode is never changed behind its back.
 * Thread: any (the mode is per thread).
 */
#ifndef CHORDLET_DENORMALS_H
#define CHORDLET_DENORMALS_H

#include <stdint.h>

#if defined(__SSE__)
#include <xmmintrin.h>
typedef unsigned int fpu_state;
static inline fpu_state fpu_enter(void) {
  unsigned int csr = _mm_getcsr();
  _mm_setcsr(csr | 0x8040u); /* FTZ (bit 15) and DAZ (bit 6) */
  return csr;
}
static inline void fpu_leave(fpu_state csr) { _mm_setcsr(csr); }
#elif defined(__aarch64__)
typedef uint64_t fpu_state;
static inline fpu_state fpu_enter(void) {
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1ull << 24))); /* FZ */
  return fpcr;
}
static inline void fpu_leave(fpu_state fpcr) { __asm__ volatile("msr fpcr, %0" : : "r"(fpcr)); }
#else
typedef int fpu_state; /* no flush-to-zero control: callers keep their states clean */
static inline fpu_state fpu_enter(void) { return 0; }
static inline void fpu_leave(fpu_state s) { (void)s; }
#endif

#endif
