/*
 * fuzz_util.h: what the libFuzzer harnesses of fuzz/ share (docs/ARCHITECTURE.md
 * 12, `make fuzz`): a private folder per process for the inputs whose API only
 * takes a path, and the tiny student models the model and plugin harnesses
 * start from (written with the engine's own model writer).
 *
 * The folder is under /dev/shm when that is a writable folder (tmpfs: a file
 * per execution costs no disk writes), else under $TMPDIR or /tmp, and is
 * removed when the process exits (or, after a crash, by the next harness
 * to start). FUZZ_TMPDIR overrides the parent.
 */
#ifndef CHORDLET_FUZZ_UTIL_H
#define CHORDLET_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "modelfile.h"

/* A broken property: prints "harness: message" on stderr and as the
 * sanitizer's error summary (which reaches libFuzzer's log even when the
 * harness's own stderr is closed, -close_fd_mask=2), then aborts, which
 * libFuzzer reports as a crash with the input saved. */
_Noreturn void fuzz_fail(const char *harness, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The process's own folder (created on first use; aborts if it cannot be). */
const char *fuzz_dir(void);

/* Writes fuzz_dir()/name into out (size bytes) and returns out; aborts if it
 * does not fit. */
const char *fuzz_path(const char *name, char *out, size_t size);

/* Writes n bytes to fuzz_dir()/name, replacing it; aborts on failure (a
 * harness that cannot write its input tests nothing). Returns the path, in
 * a static buffer valid until the next call. */
const char *fuzz_write(const char *name, const void *data, size_t n);

/*
 * A student model small enough for a fuzz seed (about 20 KB): the streaming
 * front end at 8 bins, the 2E1D network at width 8 with one layer per part,
 * 170 classes, the Viterbi decoder, the tuning estimator's defaults.
 * lookahead 1 is a live model; a lookahead of 8 frames (0.16 s at the 20 ms
 * hop) is a file-mode one that the live API refuses. Weights: student_init's
 * from seed. Returns the model writer (the caller frees it), NULL on failure.
 */
model_writer *fuzz_tiny_student(int lookahead, unsigned long long seed);

/* The metadata of the imported teacher (architecture, front end, a decoder
 * of a few states, one fold) without its tensors: binding it fails at the
 * first tensor, which the model harness supplies (fuzz_model.c). */
model_writer *fuzz_teacher_metadata(void);

/* Serialises w to path; returns 0, or -1. */
int fuzz_save(const model_writer *w, const char *path);

#endif
