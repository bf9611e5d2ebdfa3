/* failmalloc.c: an LD_PRELOAD library for tests/alloc_fail_cli.sh (issue 17):
 * fails the k-th allocation of a command (tests/failmalloc.h) and reports
 * what it saw.
 *
 *   FAILMALLOC_AT=k       fail the k-th allocation (1-based); 0 or unset: none
 *   FAILMALLOC_REPORT=F   at exit, write
 *                         "allocations=N spared=S failed=0|1 live=L overflow=0" to F
 *
 * Counting starts when main() does (found by wrapping __libc_start_main), on
 * the main thread: libraries' constructors are not counted. "live" counts
 * the allocations made by the command's own code (the executable, which
 * links libchordlet statically) and not freed when exit() runs this
 * library's handler, registered before main() so that it runs after the
 * command's own. A process killed by a signal or by exit() inside a library
 * writes no report: the script reads that as a failure, unless
 * FAILMALLOC_REPORT.site (written at the failing allocation) names a known
 * fault of a library. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "failmalloc.h"

static void write_report(void) {
  fm_disarm();
  const char *path = getenv("FAILMALLOC_REPORT");
  if (!path) return;
  char line[200];
  const int len = snprintf(line, sizeof line, "allocations=%ld spared=%ld failed=%d live=%ld overflow=%ld\n", fm_count,
                           fm_spared, fm_failed, fm_live, fm_overflow);
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  if (write(fd, line, (size_t)len) != len) {
    /* a short report reads as a failure */
  }
  close(fd);
}

/* FAILMALLOC_REPORT.site: where the failing allocation was made, as
 * "library-file+offset" (the library's real file name, so a version is part
 * of it), written at the failure: a crash that follows still leaves it. */
static void note_site(const void *caller) {
  const char *report = getenv("FAILMALLOC_REPORT");
  Dl_info info;
  if (!report || !dladdr(caller, &info) || !info.dli_fname) return;
  char path[4096], target[4096], line[4400];
  const char *file = info.dli_fname;
  const ssize_t n = readlink(file, target, sizeof target - 1);
  if (n > 0) {
    target[n] = '\0';
    file = target;
  }
  const char *slash = strrchr(file, '/');
  const int len = snprintf(line, sizeof line, "%s+0x%lx\n", slash ? slash + 1 : file,
                           (unsigned long)((uintptr_t)caller - (uintptr_t)info.dli_fbase));
  if (snprintf(path, sizeof path, "%s.site", report) >= (int)sizeof path) return;
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  if (write(fd, line, (size_t)len) != len) {
    /* the script then names no site */
  }
  close(fd);
}

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;

static int wrapped_main(int argc, char **argv, char **envp) {
  const char *at = getenv("FAILMALLOC_AT");
  fm_init();
  fm_on_fail = note_site;
  atexit(write_report);
  fm_arm(at ? strtol(at, NULL, 10) : 0, 0);
  return real_main(argc, argv, envp);
}

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end);
typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *);

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end) {
  union {
    void *p;
    start_fn f;
  } real = {dlsym(RTLD_NEXT, "__libc_start_main")};
  real_main = main;
  return real.f(wrapped_main, argc, argv, init, fini, rtld_fini, stack_end);
}
