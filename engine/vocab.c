/* vocab.c: the 170-class chord vocabulary. */
#include "vocab.h"

#include <stdio.h>
#include <string.h>

static const char *const quality_shorthands[VOCAB_QUALITIES] = {
    "min", "maj", "dim", "aug", "min6", "maj6", "min7", "minmaj7",
    "maj7", "7", "dim7", "hdim7", "sus2", "sus4"};

/* Semitones above the root, as mir_eval's QUALITIES table spells them. */
static const uint16_t quality_masks[VOCAB_QUALITIES] = {
    (1u << 0) | (1u << 3) | (1u << 7),              /* min     */
    (1u << 0) | (1u << 4) | (1u << 7),              /* maj     */
    (1u << 0) | (1u << 3) | (1u << 6),              /* dim     */
    (1u << 0) | (1u << 4) | (1u << 8),              /* aug     */
    (1u << 0) | (1u << 3) | (1u << 7) | (1u << 9),  /* min6    */
    (1u << 0) | (1u << 4) | (1u << 7) | (1u << 9),  /* maj6    */
    (1u << 0) | (1u << 3) | (1u << 7) | (1u << 10), /* min7    */
    (1u << 0) | (1u << 3) | (1u << 7) | (1u << 11), /* minmaj7 */
    (1u << 0) | (1u << 4) | (1u << 7) | (1u << 11), /* maj7    */
    (1u << 0) | (1u << 4) | (1u << 7) | (1u << 10), /* 7       */
    (1u << 0) | (1u << 3) | (1u << 6) | (1u << 9),  /* dim7    */
    (1u << 0) | (1u << 3) | (1u << 6) | (1u << 10), /* hdim7   */
    (1u << 0) | (1u << 2) | (1u << 7),              /* sus2    */
    (1u << 0) | (1u << 5) | (1u << 7),              /* sus4    */
};

static const char *const root_names[VOCAB_ROOTS] = {
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};

const char *vocab_quality_shorthand(int quality) {
  return (quality >= 0 && quality < VOCAB_QUALITIES) ? quality_shorthands[quality]
                                                     : NULL;
}

int vocab_quality_from_shorthand(const char *shorthand) {
  for (int q = 0; q < VOCAB_QUALITIES; q++)
    if (strcmp(shorthand, quality_shorthands[q]) == 0) return q;
  return -1;
}

uint16_t vocab_quality_mask(int quality) {
  return (quality >= 0 && quality < VOCAB_QUALITIES) ? quality_masks[quality] : 0;
}

const char *vocab_root_name(int root) {
  return (root >= 0 && root < VOCAB_ROOTS) ? root_names[root] : NULL;
}

int vocab_class(int root, int quality) {
  if (root < 0 || root >= VOCAB_ROOTS || quality < 0 || quality >= VOCAB_QUALITIES)
    return -1;
  return VOCAB_QUALITIES * root + quality;
}

int vocab_class_root(int cls) {
  return (cls >= 0 && cls < VOCAB_X) ? cls / VOCAB_QUALITIES : -1;
}

int vocab_class_quality(int cls) {
  return (cls >= 0 && cls < VOCAB_X) ? cls % VOCAB_QUALITIES : -1;
}

chordlet_status vocab_class_name(int cls, char *out, size_t out_size) {
  if (!out || out_size == 0) return CHORDLET_ERR_INVALID_ARGUMENT;
  const char *name = NULL;
  if (cls == VOCAB_X) name = "X";
  else if (cls == VOCAB_N) name = "N";
  else if (cls < 0 || cls > VOCAB_N) {
    snprintf(out, out_size, "?");
    return CHORDLET_ERR_RANGE;
  }
  int n;
  if (name) n = snprintf(out, out_size, "%s", name);
  else if (vocab_class_quality(cls) == VQ_MAJ)
    n = snprintf(out, out_size, "%s", root_names[vocab_class_root(cls)]);
  else
    n = snprintf(out, out_size, "%s:%s", root_names[vocab_class_root(cls)],
                 quality_shorthands[vocab_class_quality(cls)]);
  return (n < 0 || (size_t)n >= out_size) ? CHORDLET_ERR_RANGE : CHORDLET_OK;
}

int vocab_transpose(int cls, int semitones) {
  if (cls < 0 || cls >= VOCAB_X) return cls;
  int root = ((vocab_class_root(cls) + semitones) % 12 + 12) % 12;
  return vocab_class(root, vocab_class_quality(cls));
}

/* Friendly names: the spelling a lead sheet uses. A black-key root is spelt
 * the way its key is simpler: chords with a minor third read as the minor
 * keys do (C#m, Ebm, F#m, G#m, Bbm), the others as the major keys (Db, Eb,
 * F#, Ab, Bb). */
static const char *const friendly_roots_minor[VOCAB_ROOTS] = {"C", "C#", "D", "Eb", "E", "F",
                                                              "F#", "G", "G#", "A", "Bb", "B"};
static const char *const friendly_roots_major[VOCAB_ROOTS] = {"C", "Db", "D", "Eb", "E", "F",
                                                              "F#", "G", "Ab", "A", "Bb", "B"};
static const char *const friendly_qualities[VOCAB_QUALITIES] = {
    "m", "", "dim", "aug", "m6", "6", "m7", "m(maj7)", "maj7", "7", "dim7", "m7b5", "sus2", "sus4"};

chordlet_status vocab_class_friendly(int cls, char *out, size_t out_size) {
  if (!out || out_size == 0) return CHORDLET_ERR_INVALID_ARGUMENT;
  int n;
  if (cls == VOCAB_X) n = snprintf(out, out_size, "X");
  else if (cls == VOCAB_N) n = snprintf(out, out_size, "N.C.");
  else if (cls < 0 || cls > VOCAB_N) {
    snprintf(out, out_size, "?");
    return CHORDLET_ERR_RANGE;
  } else {
    const int q = vocab_class_quality(cls), root = vocab_class_root(cls);
    const int minor_third = (vocab_quality_mask(q) >> 3) & 1;
    n = snprintf(out, out_size, "%s%s", (minor_third ? friendly_roots_minor : friendly_roots_major)[root],
                 friendly_qualities[q]);
  }
  return (n < 0 || (size_t)n >= out_size) ? CHORDLET_ERR_RANGE : CHORDLET_OK;
}

chordlet_status chordlet_chord_name(int chord, chordlet_spelling spelling, char *out, size_t out_size) {
  return spelling == CHORDLET_SPELLING_FRIENDLY ? vocab_class_friendly(chord, out, out_size)
                                                : vocab_class_name(chord, out, out_size);
}
