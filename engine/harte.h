/*
 * harte.h: Harte chord labels (Harte et al., ISMIR 2005), as mir_eval reads them.
 *
 * A label is `N`, `X`, or `root[:quality][(intervals)][/bass]`, e.g. `C`,
 * `Bb:min7/b3`, `G#:maj(*5,9)`, `A:(1,b3,5)`, `Cb:sus4`. The grammar accepted
 * is exactly the one of mir_eval's validate_chord_label (the JAMS regular
 * expression); everything it rejects is rejected here with a message that
 * names the label and the reason.
 *
 * Two views of a parsed chord:
 *  - harte_encode(): mir_eval's (root, 12-semitone bitmap, bass) encoding used
 *    by every evaluation metric, bit for bit;
 *  - harte_to_class(): the reduction to the model's 170-class vocabulary
 *    (PAPER.md 3.5, shared/data/README.md), the one function that does it:
 *      1. N -> 169, X -> 168.
 *      2. The quality as written, if it is one of the 14 (maj, min, dim, aug,
 *         min6, maj6, min7, minmaj7, maj7, 7, dim7, hdim7, sus2, sus4); the bass
 *         and any added or omitted intervals are ignored (C:sus4(b7) -> C:sus4,
 *         Bb:min7/b3 -> A#:min7). A bare root is maj.
 *      3. Otherwise mir_eval's reduction of extended shorthands (9, 11, 13 -> 7;
 *         maj9, maj13 -> maj7; min9, min11, min13 -> min7), if that lands in
 *         the 14. minmaj7 stays minmaj7 (mir_eval would reduce it to min; we
 *         keep it, it is one of the 14).
 *      4. Everything else -> X (168): interval-only labels such as C:(1,3,5),
 *         C:5, C:1, aug7, maj11. We do not guess a chord from an interval
 *         list (ChordMini's rule does, and falls back to maj): an honest X is
 *         better than an invented triad.
 *     The class's root is the root as written, never the bass.
 *
 * Beyond mir_eval: the grammar allows the shorthands aug7 and maj11, which
 * mir_eval 0.7 accepts but cannot encode (it raises). We encode aug7 as
 * {1,3,#5,b7} and maj11 like maj7 (upper extensions, as mir_eval does for 11).
 *
 * All functions are pure. Thread: any.
 */
#ifndef CHORDLET_HARTE_H
#define CHORDLET_HARTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"

enum {
  HARTE_LABEL_MAX = 256,  /* longer labels are rejected */
  HARTE_MAX_DEGREES = 24, /* distinct intervals in one label */
};

typedef enum harte_kind {
  HARTE_CHORD = 0,
  HARTE_NO_CHORD, /* N */
  HARTE_UNKNOWN,  /* X */
} harte_kind;

/* A scale degree such as `b3`, `#11`, `*5`. */
typedef struct harte_degree {
  int8_t number;     /* 1..13 */
  int8_t accidental; /* +k for k sharps, -k for k flats */
  bool omit;         /* written with '*': remove this note */
} harte_degree;

typedef struct harte_chord {
  harte_kind kind;
  char root_letter;        /* 'A'..'G' */
  int8_t root_accidental;  /* +k sharps, -k flats (as written: Cb, E#, Gbb) */
  int8_t root;             /* pitch class 0..11 */
  int8_t quality;          /* index into the shorthand table, see harte_quality_name() */
  bool quality_written;    /* false for a bare root (`C`) or an interval-only label */
  int8_t n_degrees;
  harte_degree degrees[HARTE_MAX_DEGREES]; /* distinct, in written order */
  bool bass_written;
  harte_degree bass;       /* 1 when not written */
} harte_chord;

/* mir_eval's encoding: root -1 for N and X; bits are 0/1, except X which is
 * all -1 (as mir_eval's X_CHORD_ENCODED); bass in semitones above the root
 * (0..11), -1 for N and X. The bass note's bit is always set. */
typedef struct harte_encoding {
  int root;
  int8_t bits[12];
  int bass;
} harte_encoding;

/* Parses label (NUL-terminated). On error fills err with a message that quotes
 * the label and says what is wrong, and returns CHORDLET_ERR_PARSE. */
chordlet_status harte_parse(const char *label, harte_chord *out, chordlet_error *err);

/* mir_eval.chord.encode(label, reduce_extended_chords). With reduce_extended,
 * extended shorthands become their base quality plus the upper intervals, and
 * intervals above the octave wrap into it (as mir_eval does for merging). */
void harte_encode(const harte_chord *chord, bool reduce_extended, harte_encoding *out);

/* The 170-class vocabulary index of a chord (rules in the header comment). */
int harte_to_class(const harte_chord *chord);

/* Writes the label back in Harte syntax (the spelling it was parsed from, with
 * repeated intervals written once). CHORDLET_ERR_RANGE if out is too small. */
chordlet_status harte_format(const harte_chord *chord, char *out, size_t out_size);

/* The quality shorthand a harte_chord.quality index stands for ("" for an
 * interval-only label). */
const char *harte_quality_name(int quality);

/* Parse + encode / parse + classify in one call, for labels that arrive as text. */
chordlet_status harte_encode_label(const char *label, bool reduce_extended,
                                   harte_encoding *out, chordlet_error *err);
chordlet_status harte_label_to_class(const char *label, int *cls, chordlet_error *err);

#endif
