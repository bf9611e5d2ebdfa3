/* failmalloc.h: an allocator that fails the k-th allocation, for the
 * allocation-failure sweep (issue 17). Included by one file per program (it
 * defines malloc & co.): tests/failmalloc.c (an LD_PRELOAD library for the
 * chordlet command) and tests/test_alloc_fail.c (the library's entry points
 * and the plugin, in process). The including file defines _GNU_SOURCE
 * before any include.
 *
 * Replaced: malloc, calloc, realloc, free, posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc, strdup, strndup; each forwards to glibc
 * (__libc_malloc & co.; glibc supports replacing malloc this way, and calls
 * the replacement for its own allocations: stdio, opendir, ...). Between
 * fm_arm() and fm_disarm(), the allocations made on the arming thread are
 * numbered 1, 2, ... and the k-th returns NULL (posix_memalign: ENOMEM), as
 * glibc does when memory runs out; later ones succeed. Other threads
 * (OpenBLAS's) are not counted, so k names the same allocation on every run.
 *
 * Spared: FFTW and OpenBLAS do not return their internal allocation
 * failures. FFTW's planner asserts (kernel/alloc.c: CK(p), then abort())
 * and OpenBLAS's gemm driver prints "malloc failed" and calls exit(1); no
 * caller can handle them. Allocations whose caller is in libfftw3f or
 * libopenblas are made normally, counted apart (fm_spared) and not tracked
 * (the planner keeps caches until exit). FFTW's public allocators are
 * replaced instead, as allocations of their caller: fftwf_malloc (which
 * returns NULL when memory runs out) and the plan constructors chordlet
 * uses (fftwf_plan_dft_r2c_1d, fftwf_plan_dft_1d: NULL is how FFTW says no
 * plan), each counted, failed at its turn and tracked until
 * fftwf_free / fftwf_destroy_plan. So the sweep tests chordlet's handling of
 * every failure a library does report (FFTW's, libsndfile's, libsoxr's,
 * glibc's) and of its own.
 *
 * Leaks: the live allocations of the armed thread are kept in a table until
 * freed: all of them (fm_arm(..., 1): an entry point must free what it made
 * when it fails), or only those whose caller is in the executable
 * (fm_arm(..., 0): the command's own code, when libraries legitimately keep
 * caches until exit). AddressSanitizer owns malloc: an ASan build cannot use
 * this file. */
#ifndef CHORDLET_TESTS_FAILMALLOC_H
#define CHORDLET_TESTS_FAILMALLOC_H

#include <dlfcn.h>
#include <errno.h>
#include <fftw3.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t alignment, size_t size);

static volatile int fm_on = 0;
static pthread_t fm_thread;
static long fm_fail_at = 0; /* 0: fail nothing, only count */
static long fm_count = 0;   /* allocations that could have failed */
static long fm_spared = 0;  /* allocations by FFTW and OpenBLAS (never failed) */
static int fm_failed = 0;   /* the fm_fail_at-th allocation happened (and failed) */
static int fm_track_all = 0;

typedef struct fm_range {
  uintptr_t lo, hi;
} fm_range;
enum { FM_MAX_SPARED = 16 };
static fm_range fm_exe = {0, 0};
static fm_range fm_spare[FM_MAX_SPARED];
static int fm_n_spare = 0;

/* ------------------------------------------------------- live allocations */

/* Open addressing, linear probing, deletion by backward shift (no
 * tombstones: a long run does not fill it). Any thread may free, so a spin
 * lock guards it. The table lives in an anonymous mapping (not malloc). */
enum { FM_TABLE_BITS = 20, FM_TABLE_SIZE = 1 << FM_TABLE_BITS };
static uintptr_t *fm_table = NULL;
static long fm_live = 0, fm_overflow = 0;
static atomic_flag fm_lock = ATOMIC_FLAG_INIT;

static size_t fm_slot(uintptr_t p) { return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> (64 - FM_TABLE_BITS)); }

static void fm_table_add(void *ptr) {
  if (!fm_table || !ptr) return;
  while (atomic_flag_test_and_set_explicit(&fm_lock, memory_order_acquire)) {
  }
  if (fm_live >= FM_TABLE_SIZE / 2) {
    fm_overflow++;
  } else {
    size_t i = fm_slot((uintptr_t)ptr);
    while (fm_table[i]) i = (i + 1) & (FM_TABLE_SIZE - 1);
    fm_table[i] = (uintptr_t)ptr;
    fm_live++;
  }
  atomic_flag_clear_explicit(&fm_lock, memory_order_release);
}

/* Returns 1 if ptr was in the table (and removes it). */
static int fm_table_remove(void *ptr) {
  if (!fm_table || !ptr) return 0;
  int found = 0;
  while (atomic_flag_test_and_set_explicit(&fm_lock, memory_order_acquire)) {
  }
  size_t i = fm_slot((uintptr_t)ptr);
  while (fm_table[i] && fm_table[i] != (uintptr_t)ptr) i = (i + 1) & (FM_TABLE_SIZE - 1);
  if (fm_table[i]) {
    found = 1;
    fm_live--;
    fm_table[i] = 0;
    /* Backward shift: a later entry of the cluster moves into the hole
     * unless its home slot lies cyclically in (hole, j]. */
    size_t hole = i, j = i;
    for (;;) {
      j = (j + 1) & (FM_TABLE_SIZE - 1);
      if (!fm_table[j]) break;
      size_t home = fm_slot(fm_table[j]);
      int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        fm_table[hole] = fm_table[j];
        fm_table[j] = 0;
        hole = j;
      }
    }
  }
  atomic_flag_clear_explicit(&fm_lock, memory_order_release);
  return found;
}

/* Forgets every entry (a new armed window). */
static void fm_table_clear(void) {
  if (!fm_table) return;
  memset(fm_table, 0, FM_TABLE_SIZE * sizeof *fm_table);
  fm_live = fm_overflow = 0;
}

/* ------------------------------------------------------------ the objects */

static int fm_note_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  int *first = data;
  const char *name = info->dlpi_name ? info->dlpi_name : "";
  const int exe = *first, spared = strstr(name, "libfftw3f") || strstr(name, "libopenblas");
  *first = 0;
  if (!exe && !spared) return 0;
  fm_range r = {UINTPTR_MAX, 0};
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (lo < r.lo) r.lo = lo;
    if (hi > r.hi) r.hi = hi;
  }
  if (exe) fm_exe = r;
  else if (fm_n_spare < FM_MAX_SPARED) fm_spare[fm_n_spare++] = r;
  return 0;
}

/* Finds the executable (the first object listed) and the spared libraries;
 * maps the table. Call once, before arming, after the libraries are loaded. */
static void fm_init(void) {
  if (!fm_table) {
    void *mem = mmap(NULL, FM_TABLE_SIZE * sizeof *fm_table, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    fm_table = mem == MAP_FAILED ? NULL : mem;
  }
  int first = 1;
  fm_n_spare = 0;
  dl_iterate_phdr(fm_note_object, &first);
}

static void fm_arm(long fail_at, int track_all) {
  fm_table_clear();
  fm_fail_at = fail_at;
  fm_count = fm_spared = 0;
  fm_failed = 0;
  fm_track_all = track_all;
  fm_thread = pthread_self();
  fm_on = 1;
}

static void fm_disarm(void) { fm_on = 0; }

/* ------------------------------------------------------------- replacements */

static int fm_here(void) { return fm_on && pthread_equal(pthread_self(), fm_thread); }

static int fm_in(const fm_range *r, const void *caller) {
  return (uintptr_t)caller >= r->lo && (uintptr_t)caller < r->hi;
}

/* Who made the failing allocation (its return address), and a hook the
 * including file may set to note it at once (before a crash). A debugger's
 * breakpoint on fm_failing_now shows the whole stack. */
static const void *fm_fail_caller = NULL;
static void (*fm_on_fail)(const void *caller) = NULL;
__attribute__((noinline)) static void fm_failing_now(const void *caller) {
  fm_fail_caller = caller;
  if (fm_on_fail) fm_on_fail(caller);
}

static int fm_spared_caller(const void *caller) {
  for (int i = 0; i < fm_n_spare; i++)
    if (fm_in(&fm_spare[i], caller)) return 1;
  return 0;
}

/* Counts an allocation made by caller; returns 1 if it must fail. */
static int fm_must_fail(const void *caller) {
  if (!fm_here()) return 0;
  if (fm_spared_caller(caller)) {
    fm_spared++;
    return 0;
  }
  if (++fm_count == fm_fail_at) {
    fm_failed = 1;
    fm_failing_now(caller);
    return 1;
  }
  return 0;
}

static void *fm_track(void *p, const void *caller) {
  if (p && fm_here() && (fm_track_all ? !fm_spared_caller(caller) : fm_in(&fm_exe, caller))) fm_table_add(p);
  return p;
}

#define FM_CALLER __builtin_return_address(0)

void *malloc(size_t size) {
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL;
  return fm_track(__libc_malloc(size), FM_CALLER);
}

void *calloc(size_t n, size_t size) {
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL;
  return fm_track(__libc_calloc(n, size), FM_CALLER);
}

void *realloc(void *p, size_t size) {
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL; /* p stays valid, as with glibc */
  const int tracked = fm_table_remove(p);
  void *q = __libc_realloc(p, size);
  if (!q && size && p) { /* a real failure: p is still there */
    if (tracked) fm_table_add(p);
    return NULL;
  }
  if (q && tracked) fm_table_add(q);
  else fm_track(q, FM_CALLER);
  return q;
}

void free(void *p) {
  fm_table_remove(p);
  __libc_free(p);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
  if (alignment < sizeof(void *) || (alignment & (alignment - 1))) return EINVAL;
  if (fm_must_fail(FM_CALLER)) return ENOMEM;
  void *p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = fm_track(p, FM_CALLER);
  return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL;
  return fm_track(__libc_memalign(alignment, size), FM_CALLER);
}

void *memalign(size_t alignment, size_t size) {
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL;
  return fm_track(__libc_memalign(alignment, size), FM_CALLER);
}

void *valloc(size_t size) {
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL;
  return fm_track(__libc_memalign(4096, size), FM_CALLER);
}

void *pvalloc(size_t size) {
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL;
  return fm_track(__libc_memalign(4096, (size + 4095) & ~(size_t)4095), FM_CALLER);
}

/* glibc's strdup calls malloc from inside libc: defined here, the copy is
 * counted once and belongs to whoever called strdup. */
char *strdup(const char *s) {
  const size_t n = strlen(s) + 1;
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL;
  char *p = fm_track(__libc_malloc(n), FM_CALLER);
  if (p) memcpy(p, s, n);
  return p;
}

char *strndup(const char *s, size_t max) {
  const size_t n = strnlen(s, max);
  if (fm_must_fail(FM_CALLER)) return errno = ENOMEM, NULL;
  char *p = fm_track(__libc_malloc(n + 1), FM_CALLER);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

/* ------------------------------------------------------- FFTW's public API */

/* The next definition of name (the library's), found once; type_ is a
 * typedef of its pointer type. */
#define FM_REAL(type_, name)             \
  static type_ real_##name = NULL;       \
  if (!real_##name) {                    \
    union {                              \
      void *p;                           \
      type_ f;                           \
    } u = {dlsym(RTLD_NEXT, #name)};     \
    real_##name = u.f;                   \
  }
typedef void *(*fm_malloc_fn)(size_t);
typedef void (*fm_free_fn)(void *);
typedef fftwf_plan (*fm_r2c_fn)(int, float *, fftwf_complex *, unsigned);
typedef fftwf_plan (*fm_c2c_fn)(int, fftwf_complex *, fftwf_complex *, int, unsigned);
typedef void (*fm_destroy_fn)(fftwf_plan);

void *fftwf_malloc(size_t n) {
  if (fm_must_fail(FM_CALLER)) return NULL;
  FM_REAL(fm_malloc_fn, fftwf_malloc)
  void *p = real_fftwf_malloc(n);
  if (p && fm_here() && (fm_track_all || fm_in(&fm_exe, FM_CALLER))) fm_table_add(p);
  return p;
}

/* FFTW may align inside a larger block (its own malloc): the pointer it
 * returns is not the one it frees, so fftwf_free releases it here. */
void fftwf_free(void *p) {
  fm_table_remove(p);
  FM_REAL(fm_free_fn, fftwf_free)
  real_fftwf_free(p);
}

/* A plan is tracked by its address; fftwf_destroy_plan releases it. */
static fftwf_plan fm_track_plan(fftwf_plan plan, const void *caller) {
  if (plan && fm_here() && (fm_track_all || fm_in(&fm_exe, caller))) fm_table_add(plan);
  return plan;
}

fftwf_plan fftwf_plan_dft_r2c_1d(int n, float *in, fftwf_complex *out, unsigned flags) {
  if (fm_must_fail(FM_CALLER)) return NULL;
  FM_REAL(fm_r2c_fn, fftwf_plan_dft_r2c_1d)
  return fm_track_plan(real_fftwf_plan_dft_r2c_1d(n, in, out, flags), FM_CALLER);
}

fftwf_plan fftwf_plan_dft_1d(int n, fftwf_complex *in, fftwf_complex *out, int sign, unsigned flags) {
  if (fm_must_fail(FM_CALLER)) return NULL;
  FM_REAL(fm_c2c_fn, fftwf_plan_dft_1d)
  return fm_track_plan(real_fftwf_plan_dft_1d(n, in, out, sign, flags), FM_CALLER);
}

void fftwf_destroy_plan(fftwf_plan plan) {
  fm_table_remove(plan);
  FM_REAL(fm_destroy_fn, fftwf_destroy_plan)
  real_fftwf_destroy_plan(plan);
}

#endif
