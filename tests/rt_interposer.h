/* rt_interposer.h: counting allocations and locks around real-time code.
 * Included by one test file per binary (it defines malloc & co.): replaces
 * malloc, calloc, realloc, free, posix_memalign, aligned_alloc, memalign,
 * valloc and pthread_mutex_lock with versions that count their calls on the
 * thread that called count_on() and forward to glibc (__libc_malloc & co., and
 * the real pthread_mutex_lock found with dlsym). Defined in the executable,
 * they replace the allocator for every library in the process (glibc supports
 * replacing malloc this way). AddressSanitizer replaces malloc itself: under
 * it (UNDER_ASAN) nothing is replaced and the counts stay 0, so tests must
 * skip their counting checks there and say so. The including file defines
 * _GNU_SOURCE before any include. */
#ifndef CHORDLET_TESTS_RT_INTERPOSER_H
#define CHORDLET_TESTS_RT_INTERPOSER_H

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define PI 3.141592653589793

/* ------------------------------------------------------------ interposer */

/* Counting covers the thread that calls process(), not the others in the
 * process (OpenBLAS, linked into libchordlet for the teacher, starts worker
 * threads that lock mutexes at any time). */
static volatile int counting_flag = 0;
static pthread_t counting_thread;
static volatile long n_alloc = 0, n_free = 0, n_lock = 0;
#define counting (counting_flag && pthread_equal(pthread_self(), counting_thread))

#if !UNDER_ASAN
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t alignment, size_t size);

void *malloc(size_t size) {
  if (counting) n_alloc++;
  return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
  if (counting) n_alloc++;
  return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
  if (counting) n_alloc++;
  return __libc_realloc(p, size);
}

void free(void *p) {
  if (counting && p) n_free++;
  __libc_free(p);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
  if (counting) n_alloc++;
  if (alignment < sizeof(void *) || (alignment & (alignment - 1))) return 22; /* EINVAL */
  void *p = __libc_memalign(alignment, size);
  if (!p) return 12; /* ENOMEM */
  *out = p;
  return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
  if (counting) n_alloc++;
  return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
  if (counting) n_alloc++;
  return __libc_memalign(alignment, size);
}

void *valloc(size_t size) {
  if (counting) n_alloc++;
  return __libc_memalign(4096, size);
}

typedef int (*lock_fn)(pthread_mutex_t *);
static lock_fn real_lock = NULL;

int pthread_mutex_lock(pthread_mutex_t *m) {
  if (counting) n_lock++;
  if (!real_lock) {
    union {
      void *p;
      lock_fn f;
    } u;
    u.p = dlsym(RTLD_NEXT, "pthread_mutex_lock");
    real_lock = u.f;
  }
  return real_lock ? real_lock(m) : 0;
}
#endif

static void count_on(void) {
  n_alloc = n_free = n_lock = 0;
  counting_thread = pthread_self();
  counting_flag = 1;
}

static long count_off(void) {
  counting_flag = 0;
  return n_alloc + n_free + n_lock;
}

#if !UNDER_ASAN
/* Makes one malloc, one free and one lock with counting on (through volatile
 * pointers, or the compiler removes the pair) and returns 1 if exactly those
 * were seen: a broken interposer cannot pass a zero-count test silently. */
static int interposer_self_check(void) {
  void *(*volatile do_malloc)(size_t) = malloc;
  void (*volatile do_free)(void *) = free;
  count_on();
  void *volatile probe = do_malloc(32);
  do_free(probe);
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&mu);
  pthread_mutex_unlock(&mu);
  count_off();
  return n_alloc == 1 && n_free == 1 && n_lock == 1;
}
#endif

#endif
