/*
 * student_blocks.h: student_forward over a sequence of frames that arrives
 * in pieces (a file being decoded), in memory set by the block size, not by
 * the sequence's length; the logits are bit for bit those of one
 * student_forward over the whole sequence.
 *
 * Why overlapping windows are exact. Every time attention is banded: frame
 * i of a layer reads frames i - context + 1 .. i (+ lookahead in the first
 * temporal layer) of the layer below, and the decoder's cross-attention the
 * same band of the temporal encoder's output. A window of frames [s, e)
 * run alone therefore gives frame i exactly the whole-sequence value when
 * i >= s + margin, margin = (layers_t + layers_d) * (context - 1) (each
 * layer moves the first exact frame up by context - 1), and i < e -
 * lookahead (the look ahead must find its frames; causal layers read only
 * earlier ones). And it gives the same bits, not only the same value:
 * student_forward makes one BLAS call per block of STUDENT_FORWARD_ROWS
 * rows counted from frame 0 (OpenBLAS rounds a row differently by the
 * call's row count and the row's place in it: one call over all frames
 * would tie every frame's bits to the sequence's length). A window that
 * starts and ends on block boundaries (or at the sequence's end) therefore
 * makes, for the frames kept and every key they read, exactly the calls
 * the whole sequence makes (tests/test_student_blocks.c compares them bit
 * for bit).
 *
 * So: the logits of frames [a, a + block) come from the window
 * [a - margin, a + block + ahead), margin rounded up to a multiple of
 * STUDENT_FORWARD_ROWS, ahead the lookahead rounded up likewise (0 without
 * one). The work repeated is (margin + ahead) / block: for the shipped
 * students at the default block (8192 frames), 1024 + 256 frames for the
 * live one (16 %) and 256 + 256 for the file-mode one (6 %). Memory: the
 * window's frames, logits and student_forward's scratch, about 4.4 KB per
 * frame of the window (about 40 MB at the default block).
 *
 * Thread: one thread at a time per runner (student_forward's threads
 * inside).
 */
#ifndef CHORDLET_STUDENT_BLOCKS_H
#define CHORDLET_STUDENT_BLOCKS_H

#include <stddef.h>

#include "chordlet.h"
#include "student.h"

enum { STUDENT_BLOCK_FRAMES = 8192 }; /* the default block: 164 s of the live student, 491 s of the file one */

/* Where logits go: frames [first, first + n) of the sequence, (n,
 * n_classes) at logits (valid during the call), in order. */
typedef chordlet_status (*student_logits_fn)(void *ctx, size_t first, const float *logits, size_t n,
                                             chordlet_error *err);

typedef struct student_blocks student_blocks;

/* The first frame a window starting at frame s gives exactly is s + this
 * (before rounding). */
size_t student_blocks_margin(const student_config *c);

/* block: frames of logits per forward pass, rounded up to a multiple of
 * STUDENT_FORWARD_ROWS (0: STUDENT_BLOCK_FRAMES). The runner keeps a pointer
 * to params (alive and unchanged while it exists) and copies the config. */
chordlet_status student_blocks_create(const student_config *c, const float *params, size_t block,
                                      student_logits_fn sink, void *ctx, student_blocks **out,
                                      chordlet_error *err);
void student_blocks_free(student_blocks *b); /* NULL is fine */

/* The next n frames (n, n_bins), raw features. Logits that are final go to
 * the sink. */
chordlet_status student_blocks_push(student_blocks *b, const float *frames, size_t n, chordlet_error *err);

/* The sequence ended: the remaining logits go to the sink. */
chordlet_status student_blocks_finish(student_blocks *b, chordlet_error *err);

#endif
