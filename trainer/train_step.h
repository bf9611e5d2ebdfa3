/*
 * train_step.h: one optimiser step's gradient over a global batch, the same
 * bits whatever the number of ranks (mpirun, dist.h) and threads.
 *
 * The batch's windows are fixed "slots": slot j is window j of the step's
 * global batch, trained alone with the dropout seed `seed + j`. Each rank
 * takes the slots [n j / N ...) of its rank, and spreads them over its threads
 * (one student_trainer each, OpenBLAS single-threaded inside); which rank or
 * thread computes a slot changes nothing in it.
 *
 * The slots' gradients are summed exactly: each slot's gradient times its
 * frame count (its share of the batch's loss) is scaled by 2^e and rounded to
 * a 64-bit integer, where e is chosen from the largest value of the whole
 * batch so that no sum can overflow; integer sums are the same in any order,
 * so threads add their slots and MPI_Allreduce adds the ranks' in whatever
 * order they come, and the result is one number: sum / 2^e / frames, the
 * batch's mean gradient with about 2^-57 of the largest value's resolution
 * (finer than the float it becomes). The per-slot statistics (frames, loss,
 * accuracy, largest value) travel as doubles with one non-zero per element
 * (exact) and are totalled in slot order on every rank.
 *
 * Non-finite gradient entries are zeroed, slot by slot. Per step, per rank:
 * one reduction of 7 doubles per slot, and (unless a slot's loss is not
 * finite: then every rank skips the step alike) one of n_floats 64-bit
 * integers: grad_step_bytes_reduced().
 *
 * Thread: main (starts its own threads).
 */
#ifndef CHORDLET_TRAINER_TRAIN_STEP_H
#define CHORDLET_TRAINER_TRAIN_STEP_H

#include <stdbool.h>
#include <stddef.h>

#include "student.h"
#include "student_train.h"
#include "train_data.h"

/* One window of a batch: which material it comes from and what it is trained on. */
typedef struct batch_item {
  const train_set *set;
  train_window window;
  train_target target;
} batch_item;

typedef struct step_totals {
  long frames, correct, labelled; /* over the whole batch (all ranks) */
  double loss, focal, kd;         /* frame-weighted means over the batch */
  bool finite;                    /* every slot's loss is finite: the step may be taken */
} step_totals;

typedef struct grad_step grad_step;

/* Trainers for up to `batch` windows of `frames` frames on n_threads threads;
 * teacher: whether windows carry the teacher's logits. NULL when out of memory. */
grad_step *grad_step_create(const student_config *c, size_t n_floats, int batch, int frames, int n_bins,
                            int n_classes, bool teacher, int n_threads);
void grad_step_free(grad_step *g);

/* The batch's mean gradient over all its frames into grads (n_floats; zeros
 * when there is no frame or the batch is not finite) and its totals. Every
 * rank calls it with the same items (1..batch of them) and seed. */
void grad_step_run(grad_step *g, const float *params, const batch_item *items, int n_items, const loss_options *loss,
                   unsigned long long seed, float *grads, step_totals *out);

/* What one step hands MPI_Allreduce, in bytes (a ring allreduce moves about
 * twice this per rank). */
size_t grad_step_bytes_reduced(const grad_step *g);

#endif
