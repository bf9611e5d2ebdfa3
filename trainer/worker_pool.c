/* worker_pool.c: forked workers, a shared job counter, results back through
 * one pipe (see worker_pool.h); under mpirun, this rank's share of the jobs,
 * the whole job's progress on rank 0 and the whole job's summary (dist.h). */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* prctl, and POSIX 2008 */
#endif
#include "worker_pool.h"
#include "dist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { RECORD_START = 1, RECORD_RESULT = 2 };
enum { JOB_WAITING = 0, JOB_STARTED, JOB_FINISHED };
enum { POLL_MS = 100, BAR_WIDTH = 30 };

/* One message from a worker. Written with one write() of at most PIPE_BUF
 * bytes, which POSIX makes atomic: records of several workers never mix. */
typedef struct record {
  int kind;
  pid_t pid;
  size_t job;
  pool_result result;
} record;
_Static_assert(sizeof(record) <= PIPE_BUF, "a record must fit one atomic pipe write");

/* In memory shared by all workers (mmap MAP_SHARED): the next job to take. */
typedef struct shared_state {
  atomic_size_t next_job;
} shared_state;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int write_record(int fd, const record *r) {
  for (;;) {
    ssize_t n = write(fd, r, sizeof *r);
    if (n == (ssize_t)sizeof *r) return 0;
    if (n < 0 && errno == EINTR) continue;
    return -1;
  }
}

/* This rank's share: jobs first, first + stride, ... (round robin over ranks:
 * fixed by the job list and the number of ranks, never by timing). Local
 * index k is job first + k * stride. */
typedef struct share {
  size_t first, stride;
} share;

static size_t global_job(const share *sh, size_t k) { return sh->first + k * sh->stride; }

static void worker_main(int fd, shared_state *shared, size_t n_jobs, pool_work_fn work, void *ctx, pid_t parent,
                        const share *sh) {
  /* Die with the parent; the check after closes the race where it died first. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
  for (;;) {
    size_t job = atomic_fetch_add(&shared->next_job, 1);
    if (job >= n_jobs) break;
    record r;
    memset(&r, 0, sizeof r);
    r.kind = RECORD_START;
    r.pid = getpid();
    r.job = job;
    if (write_record(fd, &r)) _exit(1);
    work(ctx, global_job(sh, job), &r.result);
    r.kind = RECORD_RESULT;
    if (write_record(fd, &r)) _exit(1);
  }
  /* exit, not _exit: under the sanitizers this runs the leak check on the
   * worker's own work. stdio buffers were flushed before the fork. */
  exit(0);
}

typedef struct pool {
  size_t n_jobs;       /* this rank's */
  size_t total_jobs;   /* the whole job's, over all ranks */
  share sh;
  int64_t remote[DIST_PROGRESS_N]; /* rank 0: the other ranks' done, skipped, failed, worker errors */
  pool_name_fn name;
  void *ctx;
  const char *program;
  bool progress;
  unsigned char *job_state; /* (n_jobs) JOB_* */
  pid_t *pids;              /* (n_workers) 0 = free slot */
  size_t *current;          /* (n_workers) the job a worker is on, SIZE_MAX if none */
  int n_workers;
  pool_summary *sum;
  double start;
  char buf[8 * sizeof(record)];
  size_t have;
  bool bar_shown;
  size_t drawn_state; /* what the bar showed last, and when */
  double drawn_at;
} pool;

static void clear_bar(pool *p) {
  if (p->bar_shown) fputs("\r\033[K", stderr);
  p->bar_shown = false;
}

static void draw_bar(pool *p) {
  if (!p->progress) return;
  const size_t done = p->sum->done + (size_t)p->remote[0], skipped = p->sum->skipped + (size_t)p->remote[1],
               failed_jobs = p->sum->failed + (size_t)p->remote[2];
  size_t finished = done + skipped + failed_jobs;
  double elapsed = now_seconds() - p->start;
  /* Redraw on news, else once a second for the estimate. */
  if (p->bar_shown && finished + failed_jobs == p->drawn_state && elapsed - p->drawn_at < 1.0) return;
  p->drawn_state = finished + failed_jobs;
  p->drawn_at = elapsed;
  int filled = (int)(p->total_jobs ? finished * BAR_WIDTH / p->total_jobs : BAR_WIDTH);
  char bar[BAR_WIDTH + 1];
  for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  char eta[64] = "";
  size_t worked = done + failed_jobs;
  if (worked > 0 && finished < p->total_jobs) {
    double left = elapsed / (double)worked * (double)(p->total_jobs - finished);
    snprintf(eta, sizeof eta, ", about %dm%02ds left", (int)(left / 60), (int)left % 60);
  }
  char failed[48] = "";
  if (failed_jobs) snprintf(failed, sizeof failed, ", %zu failed", failed_jobs);
  fprintf(stderr, "\r\033[K[%s] %zu/%zu songs%s%s", bar, finished, p->total_jobs, failed, eta);
  fflush(stderr);
  p->bar_shown = true;
}

static void report_failure(pool *p, size_t job, const char *message) {
  clear_bar(p);
  fprintf(stderr, "%s: %s: %s\n", p->program, p->name(p->ctx, global_job(&p->sh, job)), message);
  fflush(stderr);
}

static int slot_of(const pool *p, pid_t pid) {
  for (int i = 0; i < p->n_workers; i++)
    if (p->pids[i] == pid) return i;
  return -1;
}

static void handle_record(pool *p, const record *r) {
  if (r->job >= p->n_jobs) return;
  int slot = slot_of(p, r->pid);
  if (r->kind == RECORD_START) {
    p->job_state[r->job] = JOB_STARTED;
    if (slot >= 0) p->current[slot] = r->job;
    return;
  }
  if (r->kind != RECORD_RESULT || p->job_state[r->job] == JOB_FINISHED) return;
  p->job_state[r->job] = JOB_FINISHED;
  if (slot >= 0) p->current[slot] = SIZE_MAX;
  switch (r->result.outcome) {
  case POOL_DONE:
    p->sum->done++;
    p->sum->audio_seconds += r->result.audio_seconds;
    break;
  case POOL_SKIPPED: p->sum->skipped++; break;
  default: {
    p->sum->failed++;
    char message[POOL_MESSAGE_MAX];
    memcpy(message, r->result.message, sizeof message);
    message[sizeof message - 1] = '\0';
    report_failure(p, r->job, message);
  }
  }
}

/* Reads whatever the pipe holds now (it is non-blocking). */
static void drain(pool *p, int fd) {
  for (;;) {
    ssize_t n = read(fd, p->buf + p->have, sizeof p->buf - p->have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p->have += (size_t)n;
    size_t used = 0;
    while (p->have - used >= sizeof(record)) {
      record r;
      memcpy(&r, p->buf + used, sizeof r);
      handle_record(p, &r);
      used += sizeof r;
    }
    memmove(p->buf, p->buf + used, p->have - used);
    p->have -= used;
  }
}

static pid_t spawn(int fd_write, int fd_read, shared_state *shared, size_t n_jobs, pool_work_fn work, void *ctx,
                   const share *sh) {
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd_read);
    worker_main(fd_write, shared, n_jobs, work, ctx, parent, sh);
  }
  return pid;
}

static void local_counts(const pool_summary *sum, int64_t counts[DIST_PROGRESS_N]) {
  counts[0] = (int64_t)sum->done;
  counts[1] = (int64_t)sum->skipped;
  counts[2] = (int64_t)sum->failed;
  counts[3] = (int64_t)sum->worker_errors;
}

/* Ranks other than 0 post their counts when they change; rank 0 gathers them. */
static void share_progress(pool *p, int64_t posted[DIST_PROGRESS_N]) {
  if (dist_size() < 2) return;
  if (dist_is_root()) {
    dist_progress_poll(p->remote);
    return;
  }
  int64_t now[DIST_PROGRESS_N];
  local_counts(p->sum, now);
  if (memcmp(now, posted, sizeof now)) {
    dist_progress_post(now, false);
    memcpy(posted, now, sizeof now);
  }
}

/* The end of a batch run over ranks: rank 0 keeps the bar going until every
 * rank has finished its share; then every rank gets the whole job's summary
 * (audio seconds summed in microseconds: integers, the same sum in any order). */
static void finish_over_ranks(pool *p) {
  if (dist_size() < 2) return;
  int64_t counts[DIST_PROGRESS_N];
  local_counts(p->sum, counts);
  if (dist_is_root()) {
    while (dist_progress_poll(p->remote) < dist_size() - 1) {
      draw_bar(p);
      struct timespec pause = {0, POLL_MS * 1000000L};
      nanosleep(&pause, NULL);
    }
    dist_progress_reset();
  } else {
    dist_progress_post(counts, true);
  }
  int64_t totals[DIST_PROGRESS_N + 1];
  memcpy(totals, counts, sizeof counts);
  totals[DIST_PROGRESS_N] = (int64_t)llround(p->sum->audio_seconds * 1e6);
  dist_sum_i64(totals, DIST_PROGRESS_N + 1);
  p->sum->done = (size_t)totals[0];
  p->sum->skipped = (size_t)totals[1];
  p->sum->failed = (size_t)totals[2];
  p->sum->worker_errors = (size_t)totals[3];
  p->sum->audio_seconds = (double)totals[DIST_PROGRESS_N] * 1e-6;
}

int worker_pool_run(size_t n_jobs, int n_workers, pool_work_fn work, pool_name_fn name, void *ctx,
                    bool show_progress, const char *program, pool_summary *summary) {
  memset(summary, 0, sizeof *summary);
  double start = now_seconds();
  const size_t rank = (size_t)dist_rank(), ranks = (size_t)dist_size();
  const size_t total_jobs = n_jobs;
  n_jobs = n_jobs > rank ? (n_jobs - rank + ranks - 1) / ranks : 0; /* this rank's share */
  if (n_jobs == 0 && ranks == 1) return 0;
  if (n_workers < 1) n_workers = 1;
  if (n_workers > POOL_MAX_WORKERS) n_workers = POOL_MAX_WORKERS;
  if ((size_t)n_workers > n_jobs) n_workers = n_jobs ? (int)n_jobs : 1;

  pool p = {.n_jobs = n_jobs, .total_jobs = total_jobs, .sh = {rank, ranks}, .name = name, .ctx = ctx,
            .program = program, .progress = show_progress && dist_is_root(), .n_workers = n_workers,
            .sum = summary, .start = start};
  int64_t posted[DIST_PROGRESS_N] = {0};
  int fds[2] = {-1, -1};
  shared_state *shared = MAP_FAILED;
  int status = -1;
  p.job_state = calloc(n_jobs ? n_jobs : 1, 1);
  p.pids = calloc((size_t)n_workers, sizeof *p.pids);
  p.current = malloc((size_t)n_workers * sizeof *p.current);
  if (!p.job_state || !p.pids || !p.current) {
    fprintf(stderr, "%s: out of memory\n", program);
    goto done;
  }
  shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED || pipe(fds) != 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
    fprintf(stderr, "%s: cannot set up worker processes: %s\n", program, strerror(errno));
    goto done;
  }
  atomic_init(&shared->next_job, 0);
  int live = 0;
  for (int i = 0; i < n_workers; i++) p.current[i] = SIZE_MAX;
  for (int i = 0; i < n_workers && n_jobs > 0; i++) {
    p.pids[i] = spawn(fds[1], fds[0], shared, n_jobs, work, ctx, &p.sh);
    if (p.pids[i] < 0) {
      fprintf(stderr, "%s: cannot start worker %d: %s\n", program, i + 1, strerror(errno));
      p.pids[i] = 0;
    } else {
      live++;
    }
  }
  if (live == 0 && n_jobs > 0) goto done;
  draw_bar(&p);

  while (live > 0) {
    struct pollfd pfd = {fds[0], POLLIN, 0};
    if (poll(&pfd, 1, POLL_MS) < 0 && errno != EINTR) {
      fprintf(stderr, "%s: poll: %s\n", program, strerror(errno));
      break;
    }
    drain(&p, fds[0]);
    int wstatus;
    pid_t pid;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
      int slot = slot_of(&p, pid);
      if (slot < 0) continue;
      drain(&p, fds[0]); /* its last result may have arrived just now */
      live--;
      p.pids[slot] = 0;
      bool clean = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
      if (!clean) {
        char why[96];
        if (WIFSIGNALED(wstatus)) snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(wstatus));
        else snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(wstatus));
        size_t job = p.current[slot];
        if (job != SIZE_MAX && p.job_state[job] != JOB_FINISHED) {
          char message[160];
          snprintf(message, sizeof message, "the worker process died on it (%s)", why);
          p.job_state[job] = JOB_FINISHED;
          summary->failed++;
          report_failure(&p, job, message);
        } else {
          summary->worker_errors++;
          clear_bar(&p);
          fprintf(stderr, "%s: a worker process %s\n", program, why);
        }
        /* Carry on with a fresh worker if jobs remain. */
        if (atomic_load(&shared->next_job) < n_jobs) {
          p.current[slot] = SIZE_MAX;
          pid_t fresh = spawn(fds[1], fds[0], shared, n_jobs, work, ctx, &p.sh);
          if (fresh > 0) {
            p.pids[slot] = fresh;
            live++;
          }
        }
      }
    }
    share_progress(&p, posted);
    draw_bar(&p);
  }
  drain(&p, fds[0]);
  /* A job a worker took but never reported (it died between taking and
   * announcing it) or that no worker reached: count it, never lose it. */
  for (size_t j = 0; j < n_jobs; j++)
    if (p.job_state[j] != JOB_FINISHED) {
      summary->failed++;
      report_failure(&p, j, p.job_state[j] == JOB_STARTED ? "no result came back from its worker"
                                                          : "no worker was left to render it");
    }
  finish_over_ranks(&p);
  status = 0;

done:
  clear_bar(&p);
  if (p.pids)
    for (int i = 0; i < n_workers; i++)
      if (p.pids[i] > 0) {
        kill(p.pids[i], SIGKILL);
        waitpid(p.pids[i], NULL, 0);
      }
  if (fds[0] >= 0) close(fds[0]);
  if (fds[1] >= 0) close(fds[1]);
  if (shared != MAP_FAILED) munmap(shared, sizeof *shared);
  free(p.job_state);
  free(p.pids);
  free(p.current);
  summary->wall_seconds = now_seconds() - start;
  return status;
}
