/*
 * worker_pool.h: running a batch of independent jobs (songs) in N worker
 * processes, with a progress bar, a line per failure and a summary.
 *
 * Processes rather than threads: each worker has its own synth and its own
 * copy of every library's global state (fluidsynth's log hook, libsndfile's
 * error text, the umask that atomic_file briefly changes), and a worker that
 * crashes on one song costs that song, not the batch: the pool reports it
 * and starts another worker. Jobs are taken from a shared counter in order,
 * so which worker gets which job does not matter to the results.
 *
 * Workers die with the parent (PR_SET_PDEATHSIG): killing a batch leaves no
 * render running behind it.
 *
 * Under mpirun (dist.h), each rank runs the jobs rank, rank + N, rank + 2N, ...
 * of the same list in its own workers; rank 0 draws the whole job's progress
 * and every rank returns the whole job's summary (for rank 0 to print).
 *
 * Thread: main (forks; waits for its children).
 */
#ifndef CHORDLET_TRAINER_WORKER_POOL_H
#define CHORDLET_TRAINER_WORKER_POOL_H

#include <stdbool.h>
#include <stddef.h>

enum { POOL_MESSAGE_MAX = 600, POOL_MAX_WORKERS = 256 };

typedef enum pool_outcome { POOL_DONE = 0, POOL_SKIPPED, POOL_FAILED } pool_outcome;

typedef struct pool_result {
  pool_outcome outcome;
  double audio_seconds;           /* what the job produced (or found done), for the speed line */
  char message[POOL_MESSAGE_MAX]; /* why it failed */
} pool_result;

/* Runs in a worker process; fills result. Must not print (the parent does). */
typedef void (*pool_work_fn)(void *ctx, size_t job, pool_result *result);
/* A job's name for messages ("pop909cl/001 v2"). Runs in the parent. */
typedef const char *(*pool_name_fn)(void *ctx, size_t job);

typedef struct pool_summary {
  size_t done, skipped, failed;
  size_t worker_errors; /* workers that exited uncleanly between jobs (a leak report under ASan...) */
  double audio_seconds; /* of the jobs done (not skipped) */
  double wall_seconds;
} pool_summary;

/* Runs jobs 0..n_jobs-1 on n_workers processes. Failures are printed as
 * "PROGRAM: NAME: message" on stderr as they happen; the progress bar shows
 * on stderr when show_progress is set (the caller checks for a terminal).
 * Returns 0, or -1 if the pool itself could not run (the message is printed). */
int worker_pool_run(size_t n_jobs, int n_workers, pool_work_fn work, pool_name_fn name, void *ctx,
                    bool show_progress, const char *program, pool_summary *summary);

#endif
