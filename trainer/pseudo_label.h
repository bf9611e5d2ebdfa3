/* pseudo_label.h: where `chordlet-train pseudo-label` puts an input's cache. */
#ifndef CHORDLET_TRAINER_PSEUDO_LABEL_H
#define CHORDLET_TRAINER_PSEUDO_LABEL_H

#include <stddef.h>
#include <stdint.h>

/* dir/<stem>-<key>.chordlet for input, the key covering the input's bytes,
 * the teacher model's hash, the number of folds and the cache format. */
int pseudo_label_cache_path(const char *dir, const char *input, uint64_t model_hash, int n_folds, char *out,
                            size_t size);

#endif
