/*
 * train_eval.h: how well a student does on a set of feature caches during
 * training: frame accuracy (argmax of the logits against the ground truth,
 * frames without a label skipped), over whole songs with the inference
 * forward pass (student_forward: what file mode runs), songs shared among
 * threads. Model selection uses it (PAPER.md 1.3, 1.4: the checkpoint with
 * the best validation frame accuracy). Thread: main (starts its own threads).
 */
#ifndef CHORDLET_TRAINER_TRAIN_EVAL_H
#define CHORDLET_TRAINER_TRAIN_EVAL_H

#include "chordlet.h"
#include "student.h"
#include "train_data.h"

chordlet_status train_eval_frame_accuracy(const student_config *c, const float *params, const train_set *set,
                                          int n_threads, double *accuracy, chordlet_error *err);

/* The counts behind it for shard `shard` of n_shards (songs shard, shard +
 * n_shards, ...): labelled frames and correct ones. Ranks validate a shard
 * each and add their counts (integers: the same total for any split). */
chordlet_status train_eval_frame_counts(const student_config *c, const float *params, const train_set *set,
                                        int n_threads, int shard, int n_shards, long *frames, long *correct,
                                        chordlet_error *err);

#endif
