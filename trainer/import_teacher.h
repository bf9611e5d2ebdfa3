/* import_teacher.h: what `chordlet-train import-teacher` reads from the
 * teacher's folder (manifest.json, the fold blobs it lists,
 * chord_lists/decoder_states.json, LICENSE) into a model writer. The folder
 * is read through a function, so the fuzz harness
 * (fuzz/fuzz_import_manifest.c) feeds the same code from memory. */
#ifndef CHORDLET_TRAINER_IMPORT_TEACHER_H
#define CHORDLET_TRAINER_IMPORT_TEACHER_H

#include <stddef.h>

#include "modelfile.h"

/* A file of the folder by its name there ("manifest.json", a fold's "file"):
 * malloc'ed, NUL-terminated, *n bytes before the NUL, at most limit bytes;
 * NULL after printing why. */
typedef char *(*import_read_fn)(void *ctx, const char *name, size_t *n, size_t limit);

typedef struct import_source {
  const char *dir; /* the folder, as messages name its files */
  import_read_fn read;
  void *ctx;
} import_source;

/* Adds the folds (all, the first max_folds, or only fold only_fold if it is
 * >= 0), the decoder's states of the chord list `vocabulary`, the front-end
 * settings, the licence and provenance to w. Returns 0 with the counts, or -1
 * after printing why ("chordlet-train import-teacher: ..."). */
/* The teacher's front-end settings (librosa's hybrid CQT: 22050 Hz, hop 512,
 * 288 bins from C0 - 0.5 semitone at 36 per octave, the tuning estimated per
 * file) into w: the importer's, and the fuzz harness's tiny teachers'. */
chordlet_status import_teacher_write_frontend(model_writer *w, chordlet_error *err);

int import_teacher_fill(const import_source *src, const char *vocabulary, int max_folds, int only_fold,
                        model_writer *w, int *n_folds, size_t *n_states);

#endif
