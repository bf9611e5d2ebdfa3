/* test_vocab.c: the 170-class vocabulary's order and names (PAPER.md 3.4). */
#include <string.h>

#include "check.h"
#include "vocab.h"

static int class_of(const char *root, const char *quality) {
  for (int r = 0; r < 12; r++)
    if (strcmp(vocab_root_name(r), root) == 0) return vocab_class(r, vocab_quality_from_shorthand(quality));
  return -1;
}

int main(void) {
  /* The paper's worked examples. */
  CHECK(class_of("A", "min7") == 132, "A:min7 is 132");
  CHECK(class_of("G", "maj") == 99, "G is 99");
  CHECK(class_of("F#", "hdim7") == 95, "F#:hdim7 is 95");
  CHECK(class_of("A#", "7") == 149, "A#:7 is 149");
  CHECK(class_of("B", "sus4") == 167, "B:sus4 is 167");
  CHECK(class_of("C", "min") == 0 && class_of("C", "maj") == 1, "min before maj");

  /* The whole quality order. */
  const char *order[14] = {"min", "maj", "dim", "aug", "min6", "maj6", "min7", "minmaj7",
                           "maj7", "7", "dim7", "hdim7", "sus2", "sus4"};
  for (int q = 0; q < 14; q++) {
    CHECK(strcmp(vocab_quality_shorthand(q), order[q]) == 0, "quality %d is %s", q, order[q]);
    CHECK(vocab_quality_from_shorthand(order[q]) == q, "shorthand %s", order[q]);
    CHECK(vocab_quality_mask(q) & 1, "quality %s contains its root", order[q]);
  }
  CHECK(vocab_quality_from_shorthand("9") == -1, "9 is not in the vocabulary");

  /* Names: bare root for maj, sharps, X and N; every name distinct. */
  char name[VOCAB_NAME_MAX], other[VOCAB_NAME_MAX];
  vocab_class_name(99, name, sizeof name);
  CHECK(strcmp(name, "G") == 0, "class 99 is named %s", name);
  vocab_class_name(132, name, sizeof name);
  CHECK(strcmp(name, "A:min7") == 0, "class 132 is named %s", name);
  vocab_class_name(VOCAB_X, name, sizeof name);
  CHECK(strcmp(name, "X") == 0, "168 is X, got %s", name);
  vocab_class_name(VOCAB_N, name, sizeof name);
  CHECK(strcmp(name, "N") == 0, "169 is N, got %s", name);
  CHECK(vocab_class_name(170, name, sizeof name) == CHORDLET_ERR_RANGE, "170 is out of range");
  CHECK(vocab_class_name(-1, name, sizeof name) == CHORDLET_ERR_RANGE, "-1 is out of range");
  for (int a = 0; a < VOCAB_SIZE; a++) {
    CHECK(vocab_class_name(a, name, sizeof name) == CHORDLET_OK, "class %d has a name", a);
    for (int b = a + 1; b < VOCAB_SIZE; b++) {
      vocab_class_name(b, other, sizeof other);
      CHECK(strcmp(name, other) != 0, "classes %d and %d share the name %s", a, b, name);
    }
  }

  /* Friendly (lead-sheet) names: the spellings a musician reads. */
  static const struct {
    int root, quality;
    const char *name;
  } friendly[] = {{1, VQ_MIN7, "C#m7"},  {10, VQ_MAJ7, "Bbmaj7"}, {1, VQ_MAJ, "Db"},      {6, VQ_HDIM7, "F#m7b5"},
                  {9, VQ_MINMAJ7, "Am(maj7)"}, {8, VQ_MIN, "G#m"}, {8, VQ_7, "Ab7"},     {3, VQ_DIM7, "Ebdim7"},
                  {0, VQ_MAJ6, "C6"},    {2, VQ_MIN6, "Dm6"},     {7, VQ_SUS2, "Gsus2"},  {4, VQ_AUG, "Eaug"},
                  {5, VQ_SUS4, "Fsus4"}, {11, VQ_DIM, "Bdim"},    {10, VQ_MIN, "Bbm"},    {6, VQ_MAJ, "F#"}};
  for (size_t i = 0; i < sizeof friendly / sizeof friendly[0]; i++) {
    vocab_class_friendly(vocab_class(friendly[i].root, friendly[i].quality), name, sizeof name);
    CHECK(strcmp(name, friendly[i].name) == 0, "friendly name %s, expected %s", name, friendly[i].name);
  }
  vocab_class_friendly(VOCAB_N, name, sizeof name);
  CHECK(strcmp(name, "N.C.") == 0, "N is %s", name);
  vocab_class_friendly(VOCAB_X, name, sizeof name);
  CHECK(strcmp(name, "X") == 0, "X is %s", name);
  CHECK(vocab_class_friendly(170, name, sizeof name) == CHORDLET_ERR_RANGE, "170 is out of range");
  for (int a = 0; a < VOCAB_SIZE; a++) {
    CHECK(vocab_class_friendly(a, name, sizeof name) == CHORDLET_OK, "class %d has a friendly name", a);
    for (int b = a + 1; b < VOCAB_SIZE; b++) {
      vocab_class_friendly(b, other, sizeof other);
      CHECK(strcmp(name, other) != 0, "classes %d and %d share the friendly name %s", a, b, name);
    }
  }

  /* Transposition (PAPER.md 3.7): idx' = (idx + 14 s) mod 168; X and N fixed. */
  for (int c = 0; c < VOCAB_SIZE; c++)
    for (int s = -7; s <= 7; s++) {
      int expect = c >= VOCAB_X ? c : ((c + 14 * s) % 168 + 168) % 168;
      CHECK(vocab_transpose(c, s) == expect, "transpose %d by %d", c, s);
    }
  return check_summary("test_vocab");
}
