/* rt_interposer.h: counting allocations and locks around real-time code.
 * Included by one test file per binary (it defines malloc & co.): replaces
 * malloc, calloc, realloc, free, posix_memalign, aligned_alloc, memalign,
 * valloc, the blocking pthread calls (mutex lock/trylock, condition
 * wait/signal/broadcast, rwlock, sem_wait) and file I/O (open, read, write,
 * close, fopen, fread, fwrite, fflush) with versions that count their calls on the
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
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include "under_asan.h"

#define PI 3.141592653589793

/* ------------------------------------------------------------ interposer */

/* Counting covers the thread that calls process(), not the others in the
 * process (OpenBLAS, linked into libchordlet for the teacher, starts worker
 * threads that lock mutexes at any time). */
static volatile int counting_flag = 0;
static pthread_t counting_thread;
static volatile long n_alloc = 0, n_free = 0, n_lock = 0, n_io = 0;
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

/* Blocking synchronisation beyond mutexes, and file I/O: counted as locks
 * and I/O; each forwards to the next definition (glibc's) found by dlsym. */
#define FORWARD(ret, name, params, args, counter)           \
  ret name params {                                         \
    if (counting) counter++;                                \
    static ret(*real) params = NULL;                        \
    if (!real) {                                            \
      union {                                               \
        void *p;                                            \
        ret(*f) params;                                     \
      } u;                                                  \
      u.p = dlsym(RTLD_NEXT, #name);                        \
      real = u.f;                                           \
    }                                                       \
    return real args;                                       \
  }
FORWARD(int, pthread_mutex_trylock, (pthread_mutex_t * m), (m), n_lock)
FORWARD(int, pthread_cond_wait, (pthread_cond_t * c, pthread_mutex_t *m), (c, m), n_lock)
FORWARD(int, pthread_cond_timedwait, (pthread_cond_t * c, pthread_mutex_t *m, const struct timespec *t), (c, m, t),
        n_lock)
FORWARD(int, pthread_cond_signal, (pthread_cond_t * c), (c), n_lock)
FORWARD(int, pthread_cond_broadcast, (pthread_cond_t * c), (c), n_lock)
FORWARD(int, pthread_rwlock_rdlock, (pthread_rwlock_t * l), (l), n_lock)
FORWARD(int, pthread_rwlock_wrlock, (pthread_rwlock_t * l), (l), n_lock)
FORWARD(int, sem_wait, (sem_t * s), (s), n_lock)
FORWARD(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n), n_io)
FORWARD(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n), n_io)
FORWARD(int, close, (int fd), (fd), n_io)
FORWARD(FILE *, fopen, (const char *path, const char *mode), (path, mode), n_io)
FORWARD(size_t, fread, (void *p, size_t size, size_t n, FILE *f), (p, size, n, f), n_io)
FORWARD(size_t, fwrite, (const void *p, size_t size, size_t n, FILE *f), (p, size, n, f), n_io)
FORWARD(int, fflush, (FILE * f), (f), n_io)
#undef FORWARD

/* open takes a mode only with O_CREAT/O_TMPFILE: read it as the call gives it. */
int open(const char *path, int flags, ...) {
  if (counting) n_io++;
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  static int (*real)(const char *, int, ...) = NULL;
  if (!real) {
    union {
      void *p;
      int (*f)(const char *, int, ...);
    } u;
    u.p = dlsym(RTLD_NEXT, "open");
    real = u.f;
  }
  return real(path, flags, mode);
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
  n_alloc = n_free = n_lock = n_io = 0;
  counting_thread = pthread_self();
  counting_flag = 1;
}

static long count_off(void) {
  counting_flag = 0;
  return n_alloc + n_free + n_lock + n_io;
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
  pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
  pthread_cond_signal(&cond);
  ssize_t (*volatile do_write)(int, const void *, size_t) = write;
  (void)do_write(-1, "", 0); /* EBADF, but a call */
  count_off();
  return n_alloc == 1 && n_free == 1 && n_lock == 2 && n_io == 1;
}
#endif

#endif
