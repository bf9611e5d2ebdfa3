/* dist.c: the trainer's ranks (dist.h). With CHORDLET_MPI (make MPI=1):
 * OpenMPI; without: one rank, collectives that do nothing. */
#define _POSIX_C_SOURCE 200809L
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef CHORDLET_MPI

int dist_init(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}
void dist_finalize(void) {}
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_local_size(void) { return 1; }
void dist_watchdog_start(const char *program) { (void)program; }
void dist_sum_i64(int64_t *values, size_t n) {
  (void)values;
  (void)n;
}
void dist_sum_f64(double *values, size_t n) {
  (void)values;
  (void)n;
}
int dist_agree_status(int status) { return status; }
void dist_broadcast(void *data, size_t bytes, int root) {
  (void)data;
  (void)bytes;
  (void)root;
}
void dist_barrier(void) {}
_Noreturn void dist_abort(int code) { exit(code); }
void dist_progress_post(const int64_t counts[DIST_PROGRESS_N], bool final) {
  (void)counts;
  (void)final;
}
int dist_progress_poll(int64_t totals[DIST_PROGRESS_N]) {
  for (int i = 0; i < DIST_PROGRESS_N; i++) totals[i] = 0;
  return 0;
}
void dist_progress_reset(void) {}

#else /* CHORDLET_MPI */

#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { TAG_PROGRESS = 1601, WATCHDOG_DEFAULT_SECONDS = 600 };

static bool started;            /* MPI_Init ran (a launcher started us) */
static int my_rank, n_ranks = 1, n_local = 1;

/* The watchdog: the main thread stamps the time it entered a collective
 * (0 = not in one); the watchdog thread checks it once a second. */
static atomic_llong entered_ms;
static atomic_int watchdog_on;
static const char *watchdog_program = "chordlet-train";
static long watchdog_seconds = WATCHDOG_DEFAULT_SECONDS;

/* Progress (rank != 0): the counts in flight and their request. */
static int64_t sending[DIST_PROGRESS_N + 1];
static MPI_Request send_request = MPI_REQUEST_NULL;
/* Progress (rank 0): the latest counts of every rank, and who is final. */
static int64_t *latest;
static unsigned char *final_seen;

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool launched_by_mpi(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    if (getenv(vars[i])) return true;
  return false;
}

int dist_init(int *argc, char ***argv) {
  if (!launched_by_mpi()) return 0;
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "chordlet-train: MPI_Init failed\n");
    return -1;
  }
  started = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n_ranks);
  MPI_Comm node;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    MPI_Comm_size(node, &n_local);
    MPI_Comm_free(&node);
  }
  if (my_rank == 0 && n_ranks > 1) {
    latest = calloc((size_t)n_ranks * DIST_PROGRESS_N, sizeof *latest);
    final_seen = calloc((size_t)n_ranks, 1);
    if (!latest || !final_seen) {
      fprintf(stderr, "chordlet-train: out of memory\n");
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  return 0;
}

void dist_finalize(void) {
  if (!started) return;
  atomic_store(&watchdog_on, 0);
  if (send_request != MPI_REQUEST_NULL) MPI_Wait(&send_request, MPI_STATUS_IGNORE);
  MPI_Finalize();
  started = false;
  free(latest);
  free(final_seen);
  latest = NULL;
  final_seen = NULL;
}

int dist_rank(void) { return my_rank; }
int dist_size(void) { return n_ranks; }
int dist_local_size(void) { return n_local; }

static void *watchdog_run(void *arg) {
  (void)arg;
  for (;;) {
    sleep(1);
    if (!atomic_load(&watchdog_on)) continue;
    long long since = atomic_load(&entered_ms);
    if (since && now_ms() - since > watchdog_seconds * 1000LL) {
      char line[512];
      int n = snprintf(line, sizeof line,
                       "%s: rank %d waited %ld s for the other ranks: one is lost or stuck; stopping "
                       "(the last checkpoint is kept: --resume continues)\n",
                       watchdog_program, my_rank, watchdog_seconds);
      if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0) {
      }
      _exit(1); /* the launcher sees a rank fail and stops the others */
    }
  }
  return NULL;
}

void dist_watchdog_start(const char *program) {
  if (!started || n_ranks < 2 || atomic_load(&watchdog_on)) return;
  watchdog_program = program;
  const char *env = getenv("CHORDLET_RANK_TIMEOUT");
  if (env && atol(env) > 0) watchdog_seconds = atol(env);
  pthread_t tid;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&tid, &attr, watchdog_run, NULL) == 0) atomic_store(&watchdog_on, 1);
  pthread_attr_destroy(&attr);
}

static void enter(void) { atomic_store(&entered_ms, now_ms()); }
static void leave(void) { atomic_store(&entered_ms, 0); }

/* MPI counts are ints: large buffers go in pieces. */
static void sum_pieces(void *values, size_t n, size_t size, MPI_Datatype type) {
  if (!started || n_ranks < 2) return;
  enter();
  char *p = values;
  while (n > 0) {
    int k = n > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)n;
    MPI_Allreduce(MPI_IN_PLACE, p, k, type, MPI_SUM, MPI_COMM_WORLD);
    p += (size_t)k * size;
    n -= (size_t)k;
  }
  leave();
}

void dist_sum_i64(int64_t *values, size_t n) { sum_pieces(values, n, sizeof *values, MPI_INT64_T); }
void dist_sum_f64(double *values, size_t n) { sum_pieces(values, n, sizeof *values, MPI_DOUBLE); }

int dist_agree_status(int status) {
  if (!started || n_ranks < 2) return status;
  enter();
  MPI_Allreduce(MPI_IN_PLACE, &status, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  leave();
  return status;
}

void dist_broadcast(void *data, size_t bytes, int root) {
  if (!started || n_ranks < 2) return;
  enter();
  char *p = data;
  while (bytes > 0) {
    int k = bytes > (size_t)INT_MAX ? INT_MAX : (int)bytes;
    MPI_Bcast(p, k, MPI_BYTE, root, MPI_COMM_WORLD);
    p += k;
    bytes -= (size_t)k;
  }
  leave();
}

void dist_barrier(void) {
  if (!started || n_ranks < 2) return;
  enter();
  MPI_Barrier(MPI_COMM_WORLD);
  leave();
}

_Noreturn void dist_abort(int code) {
  fflush(NULL);
  if (started) MPI_Abort(MPI_COMM_WORLD, code);
  exit(code);
}

void dist_progress_post(const int64_t counts[DIST_PROGRESS_N], bool final) {
  if (!started || n_ranks < 2 || my_rank == 0) return;
  if (send_request != MPI_REQUEST_NULL) {
    int done = 0;
    if (final) MPI_Wait(&send_request, MPI_STATUS_IGNORE), done = 1;
    else MPI_Test(&send_request, &done, MPI_STATUS_IGNORE);
    if (!done) return; /* the last counts are still on their way; newer ones follow */
  }
  memcpy(sending, counts, DIST_PROGRESS_N * sizeof *counts);
  sending[DIST_PROGRESS_N] = final;
  if (final) {
    MPI_Send(sending, DIST_PROGRESS_N + 1, MPI_INT64_T, 0, TAG_PROGRESS, MPI_COMM_WORLD);
  } else {
    MPI_Isend(sending, DIST_PROGRESS_N + 1, MPI_INT64_T, 0, TAG_PROGRESS, MPI_COMM_WORLD, &send_request);
  }
}

int dist_progress_poll(int64_t totals[DIST_PROGRESS_N]) {
  for (int i = 0; i < DIST_PROGRESS_N; i++) totals[i] = 0;
  if (!started || n_ranks < 2 || my_rank != 0) return 0;
  for (;;) {
    int waiting = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, TAG_PROGRESS, MPI_COMM_WORLD, &waiting, &st);
    if (!waiting) break;
    int64_t got[DIST_PROGRESS_N + 1];
    MPI_Recv(got, DIST_PROGRESS_N + 1, MPI_INT64_T, st.MPI_SOURCE, TAG_PROGRESS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    memcpy(latest + (size_t)st.MPI_SOURCE * DIST_PROGRESS_N, got, DIST_PROGRESS_N * sizeof *got);
    if (got[DIST_PROGRESS_N]) final_seen[st.MPI_SOURCE] = 1;
  }
  int finals = 0;
  for (int r = 1; r < n_ranks; r++) {
    for (int i = 0; i < DIST_PROGRESS_N; i++) totals[i] += latest[(size_t)r * DIST_PROGRESS_N + i];
    finals += final_seen[r];
  }
  return finals;
}

void dist_progress_reset(void) {
  if (!latest) return;
  memset(latest, 0, (size_t)n_ranks * DIST_PROGRESS_N * sizeof *latest);
  memset(final_seen, 0, (size_t)n_ranks);
}

#endif /* CHORDLET_MPI */
