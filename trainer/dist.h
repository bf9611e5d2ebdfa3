/*
 * dist.h: the trainer's ranks: the one module that talks MPI (issue 16).
 *
 * `make MPI=1` compiles dist.c with CHORDLET_MPI and links OpenMPI; the plain
 * build compiles the same file into single-process versions (rank 0 of 1,
 * every collective a no-op), so the callers have no #ifdef.
 *
 * Even the MPI build starts MPI only when a launcher started the process
 * (mpirun, or Slurm's srun with PMIx: it finds OMPI_COMM_WORLD_SIZE,
 * PMIX_RANK or PMI_RANK in the environment): run by hand, it is the plain
 * program, with no singleton MPI start-up.
 *
 * Every collective is called by every rank in the same order, from the main
 * thread (MPI_THREAD_FUNNELED). MPI's default error handler stays: a failed
 * collective (a lost peer) aborts the job. A watchdog thread guards each
 * collective the training loop makes: a rank that waits in one for longer
 * than CHORDLET_RANK_TIMEOUT seconds (default 600; steps take seconds)
 * (dist_watchdog_start) says so and exits 1, which makes the launcher stop the rest of the job; a
 * rank killed outright is noticed by mpirun (or srun) at once.
 *
 * Sums of floating-point numbers depend on their order, and MPI's order
 * depends on the number of ranks: the trainer reduces its gradients as
 * 64-bit integers (exact, any order gives the same bits; train_step.h) and
 * reduces doubles only where each element has one non-zero contribution.
 *
 * Thread: main.
 */
#ifndef CHORDLET_TRAINER_DIST_H
#define CHORDLET_TRAINER_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts MPI if a launcher started the process. 0, or -1 after a message. */
int dist_init(int *argc, char ***argv);
/* Ends MPI (after the last collective); a no-op without it. */
void dist_finalize(void);

int dist_rank(void);
int dist_size(void);
/* The ranks on this machine (sharing its cores): 1 without MPI. */
int dist_local_size(void);
static inline bool dist_is_root(void) { return dist_rank() == 0; }
/* Arms the watchdog on the collectives that follow (training): a rank that
 * waits longer than CHORDLET_RANK_TIMEOUT seconds (default 600) in one of
 * them exits 1 with a message naming `program`. A no-op on one rank. */
void dist_watchdog_start(const char *program);

/* In-place sums over all ranks: exact for integers; for doubles, callers keep
 * to one non-zero contribution per element (then the sum is that value). */
void dist_sum_i64(int64_t *values, size_t n);
void dist_sum_f64(double *values, size_t n);
/* The largest status of all ranks (a failure anywhere becomes everyone's:
 * rank 0's checkpoint write failing stops every rank). */
int dist_agree_status(int status);
void dist_broadcast(void *data, size_t bytes, int root);
void dist_barrier(void);
/* Stops every rank with this exit code (MPI_Abort), or exits. */
_Noreturn void dist_abort(int code);

/* Progress of a batch of jobs shared out over ranks (worker_pool.c): ranks
 * other than 0 post their counts (non-blocking; only the latest matters), and
 * a last time with `final` set; rank 0 polls them. counts: DIST_PROGRESS_N values. */
enum { DIST_PROGRESS_N = 4 };
void dist_progress_post(const int64_t counts[DIST_PROGRESS_N], bool final);
/* Rank 0: folds in what has arrived; totals[] gets the other ranks' latest
 * counts summed; returns how many ranks other than 0 have posted their final
 * counts (a rank may finish its share long before rank 0 does). */
int dist_progress_poll(int64_t totals[DIST_PROGRESS_N]);
/* Rank 0, once every rank's final counts are in: the next batch starts from zero. */
void dist_progress_reset(void);

#endif
