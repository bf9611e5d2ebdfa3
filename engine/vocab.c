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
