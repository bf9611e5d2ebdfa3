/*
 * vocab.h: the 170-class chord vocabulary of the model (PAPER.md 3.4).
 *
 *   class = 14 * root + quality      root: C=0, C#=1, ... B=11
 *   quality order: min maj dim aug min6 maj6 min7 minmaj7 maj7 7 dim7 hdim7
 *                  sus2 sus4  (min comes before maj: class 0 is C:min)
 *   168 = X (a chord outside the vocabulary), 169 = N (no chord)
 *
 * Names are Harte labels spelt with sharps; major is the bare root ("C"), as
 * the paper's code writes it, every other quality is "root:quality".
 * All functions are pure. Thread: any.
 */
#ifndef CHORDLET_VOCAB_H
#define CHORDLET_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"

enum {
  VOCAB_ROOTS = 12,
  VOCAB_QUALITIES = 14,
  VOCAB_X = 168,
  VOCAB_N = 169,
  VOCAB_SIZE = 170,
  VOCAB_NAME_MAX = 16, /* longest name "C#:minmaj7" plus NUL fits */
};

typedef enum vocab_quality {
  VQ_MIN = 0, VQ_MAJ, VQ_DIM, VQ_AUG, VQ_MIN6, VQ_MAJ6, VQ_MIN7, VQ_MINMAJ7,
  VQ_MAJ7, VQ_7, VQ_DIM7, VQ_HDIM7, VQ_SUS2, VQ_SUS4
} vocab_quality;

/* Harte shorthand of a quality ("min", "maj", ... "sus4"); NULL if out of range. */
CHORDLET_RT const char *vocab_quality_shorthand(int quality);

/* Quality index of a Harte shorthand, or -1 if it is not one of the 14. */
CHORDLET_RT int vocab_quality_from_shorthand(const char *shorthand);

/* Pitch classes of a quality relative to its root, bit i = i semitones up. */
CHORDLET_RT uint16_t vocab_quality_mask(int quality);

/* Root name with sharps ("C", "C#", ... "B"); NULL if out of range. */
CHORDLET_RT const char *vocab_root_name(int root);

/* Class of (root, quality), or -1 when either is out of range. */
CHORDLET_RT int vocab_class(int root, int quality);

/* Root (0..11) and quality (0..13) of a chord class; -1 for X, N or out of range. */
CHORDLET_RT int vocab_class_root(int cls);
CHORDLET_RT int vocab_class_quality(int cls);

/* Writes the Harte name of a class ("C:min", "G", "F#:hdim7", "X", "N") into
 * out (at least VOCAB_NAME_MAX bytes). Returns CHORDLET_ERR_RANGE for a class
 * outside 0..169 (and writes "?"). */
CHORDLET_RT chordlet_status vocab_class_name(int cls, char *out, size_t out_size);

/* Writes a class's lead-sheet name ("C#m7", "Bbmaj7", "Dbaug", "F#m7b5",
 * "Am(maj7)", "N.C." for N, "X") into out (VOCAB_NAME_MAX bytes). Black-key
 * roots are spelt as the simpler key: sharps for C#, F#, G# with a minor
 * third, flats for Db, Ab otherwise; Eb, Bb, F# always. */
CHORDLET_RT chordlet_status vocab_class_friendly(int cls, char *out, size_t out_size);

/* The class transposed up by semitones (any sign); X and N are unchanged. */
CHORDLET_RT int vocab_transpose(int cls, int semitones);

#endif
