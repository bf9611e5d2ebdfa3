/*
 * fuzz_harte.c: the Harte label parser and the reduction to the 170 classes
 * (engine/harte.h, engine/vocab.h). The input is one label (up to its first
 * NUL byte). Besides memory errors, a label the parser accepts must survive
 * the round trip the writers rely on: harte_format's text parses back to the
 * same chord class and the same mir_eval encodings, and the one-call
 * helpers agree with parse + classify. The vocabulary's names and
 * transpositions are driven by the first bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "harte.h"
#include "vocab.h"

#define FAIL(...) fuzz_fail("fuzz_harte", __VA_ARGS__)

static int same_encoding(const harte_encoding *a, const harte_encoding *b) {
  return a->root == b->root && a->bass == b->bass && memcmp(a->bits, b->bits, sizeof a->bits) == 0;
}

static void check_vocab(const uint8_t *data, size_t size) {
  if (size < 2) return;
  const int cls = data[0] % 171 - (data[0] >= 171); /* -1..169 and a few out of range */
  char name[VOCAB_NAME_MAX], friendly[VOCAB_NAME_MAX];
  chordlet_status named = vocab_class_name(cls, name, sizeof name);
  (void)vocab_class_friendly(cls, friendly, sizeof friendly);
  if (named == CHORDLET_OK) {
    int back = -1;
    chordlet_error err;
    if (harte_label_to_class(name, &back, &err) != CHORDLET_OK || back != cls)
      FAIL("class %d is named '%s', which reads back as %d", cls, name, back);
  }
  const int moved = vocab_transpose(cls, (int8_t)data[1]);
  if (cls >= 0 && cls < VOCAB_SIZE && (moved < 0 || moved >= VOCAB_SIZE))
    FAIL("class %d transposed by %d is %d", cls, (int8_t)data[1], moved);
  (void)vocab_class_root(cls);
  (void)vocab_class_quality(cls);
  (void)vocab_quality_mask((int8_t)data[1]);
  (void)vocab_quality_shorthand((int8_t)data[1]);
  (void)vocab_root_name((int8_t)data[1]);
  (void)vocab_class((int8_t)data[0], (int8_t)data[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_vocab(data, size);
  char *label = malloc(size + 1); /* exact size: ASan sees any read past the NUL */
  if (!label) return 0;
  memcpy(label, data, size);
  label[size] = '\0';
  (void)vocab_quality_from_shorthand(label);

  harte_chord chord;
  chordlet_error err;
  if (harte_parse(label, &chord, &err) != CHORDLET_OK) {
    if (err.message[0] == '\0') FAIL("a refused label has no message");
    int cls;
    harte_encoding enc;
    if (harte_label_to_class(label, &cls, &err) == CHORDLET_OK || harte_encode_label(label, 0, &enc, &err) == CHORDLET_OK)
      FAIL("harte_parse refuses a label the one-call helpers accept");
    free(label);
    return 0;
  }
  const int cls = harte_to_class(&chord);
  if (cls < 0 || cls >= VOCAB_SIZE) FAIL("class %d out of range", cls);
  harte_encoding plain, reduced;
  harte_encode(&chord, 0, &plain);
  harte_encode(&chord, 1, &reduced);

  char text[2 * HARTE_LABEL_MAX + 16];
  if (harte_format(&chord, text, sizeof text) != CHORDLET_OK) FAIL("cannot format an accepted label");
  harte_chord again;
  if (harte_parse(text, &again, &err) != CHORDLET_OK) FAIL("formatted '%s' does not parse: %s", text, err.message);
  harte_encoding plain2, reduced2;
  harte_encode(&again, 0, &plain2);
  harte_encode(&again, 1, &reduced2);
  if (harte_to_class(&again) != cls || !same_encoding(&plain, &plain2) || !same_encoding(&reduced, &reduced2))
    FAIL("'%s' formats as '%s', which is another chord", label, text);

  int cls2 = -1;
  harte_encoding enc2;
  if (harte_label_to_class(label, &cls2, &err) != CHORDLET_OK || cls2 != cls ||
      harte_encode_label(label, 1, &enc2, &err) != CHORDLET_OK || !same_encoding(&enc2, &reduced))
    FAIL("the one-call helpers disagree with parse + classify");
  char small[4]; /* too small for most labels: must refuse, never overrun */
  (void)harte_format(&chord, small, sizeof small);
  (void)harte_quality_name(chord.quality);
  free(label);
  return 0;
}
