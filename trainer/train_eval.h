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

#endif
