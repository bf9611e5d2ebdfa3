/* test_harte.c: Harte label parsing, encoding, formatting and the reduction
 * to the 170-class vocabulary, on hand-picked cases (the exhaustive check
 * against mir_eval's own encodings is test_harte_fixtures). */
#include <string.h>

#include "check.h"
#include "harte.h"
#include "vocab.h"

static void expect_class(const char *label, const char *expected_name) {
  int cls = -1;
  chordlet_error err;
  char name[VOCAB_NAME_MAX] = "";
  chordlet_status st = harte_label_to_class(label, &cls, &err);
  if (st == CHORDLET_OK) vocab_class_name(cls, name, sizeof name);
  CHECK(st == CHORDLET_OK && strcmp(name, expected_name) == 0, "%s -> %s (got %s, status %d)",
        label, expected_name, name, st);
}

static void expect_bits(const char *label, bool reduce, int root, const char *bits, int bass) {
  harte_encoding e;
  chordlet_error err;
  chordlet_status st = harte_encode_label(label, reduce, &e, &err);
  char got[13];
  for (int i = 0; i < 12; i++) got[i] = e.bits[i] < 0 ? 'x' : (char)('0' + e.bits[i]);
  got[12] = '\0';
  CHECK(st == CHORDLET_OK && e.root == root && strcmp(got, bits) == 0 && e.bass == bass,
        "%s (reduce %d): root %d bits %s bass %d, expected %d %s %d", label, reduce, e.root, got,
        e.bass, root, bits, bass);
}

static void expect_error(const char *label, const char *needle) {
  harte_chord c;
  chordlet_error err = {0};
  chordlet_status st = harte_parse(label, &c, &err);
  CHECK(st == CHORDLET_ERR_PARSE, "'%s' must be rejected", label);
  CHECK(strstr(err.message, needle) != NULL, "message for '%s' should contain '%s': %s", label,
        needle, err.message);
}

int main(void) {
  /* Reduction to the vocabulary (harte.h, rules 1-4). */
  expect_class("N", "N");
  expect_class("X", "X");
  expect_class("C", "C");
  expect_class("C:maj", "C");
  expect_class("Bb:min7/b3", "A#:min7");
  expect_class("C:sus4(b7)", "C:sus4");
  expect_class("C:maj(9)", "C");
  expect_class("Cb", "B");
  expect_class("E#:min", "F:min");
  expect_class("B#:7", "C:7");
  expect_class("Gbb:dim", "F:dim");
  expect_class("A##:hdim7", "B:hdim7");
  expect_class("D:9", "D:7");
  expect_class("D:11", "D:7");
  expect_class("D:13/5", "D:7");
  expect_class("Eb:maj9", "D#:maj7");
  expect_class("Eb:maj13", "D#:maj7");
  expect_class("F:min9", "F:min7");
  expect_class("F:min11", "F:min7");
  expect_class("F:min13", "F:min7");
  expect_class("G:minmaj7", "G:minmaj7");
  expect_class("G:minmaj7/5", "G:minmaj7");
  expect_class("A:(1,3,5)", "X");
  expect_class("A:5", "X");
  expect_class("A:1", "X");
  expect_class("A:aug7", "X");
  expect_class("A:maj11", "X");
  expect_class("C:dim7/bb7", "C:dim7");
  expect_class("F#:maj6", "F#:maj6");
  expect_class("F#:sus2", "F#:sus2");

  /* mir_eval's encodings, including its quirks. */
  expect_bits("C", false, 0, "100010010000", 0);
  expect_bits("C/5", false, 0, "100010010000", 7);
  expect_bits("C/2", false, 0, "101010010000", 2);          /* the bass joins the chord */
  expect_bits("C:maj(9)", false, 0, "100010010000", 0);     /* 9 is beyond the octave: dropped */
  expect_bits("C:maj(9)", true, 0, "101010010000", 0);      /* ... unless reducing: wraps */
  expect_bits("C:9", false, 0, "100010010010", 0);
  expect_bits("C:9", true, 0, "101010010010", 0);
  expect_bits("C:maj(*3)", false, 0, "100000010000", 0);
  expect_bits("C:maj(*1)", false, 0, "100010010000", 0);    /* the root always stays */
  expect_bits("C:(b3,5)", false, 0, "100100010000", 0);
  expect_bits("C:maj(*3,3)", false, 0, "100010010000", 0);
  expect_bits("C:maj(3,3,*3)", false, 0, "100010010000", 0); /* a set: 3 counted once */
  expect_bits("C:maj/b1", false, 0, "100010010001", 11);    /* b1 wraps to 11 */
  expect_bits("X", false, -1, "xxxxxxxxxxxx", -1);
  expect_bits("N", false, -1, "000000000000", -1);
  expect_bits("A:aug7", false, 9, "100010001010", 0);

  /* Errors name the label and say why. */
  expect_error("", "empty");
  expect_error("H:maj", "'H:maj'");
  expect_error("c:maj", "root letter");
  expect_error("C:maj5", "unknown quality");
  expect_error("C:(1,3", "closed");
  expect_error("C:maj(b3", "closed");
  expect_error("C:/5", "quality or an interval list");
  expect_error("C:min7(*)", "scale degree");
  expect_error("C:maj/H", "bass");
  expect_error("C:maj/", "bass");
  expect_error("Cab", "unexpected");
  expect_error("Cmaj", "unexpected");
  expect_error("Cb#", "unexpected");
  expect_error("C:maj(14)", "closed");
  expect_error("C:maj(0)", "scale degree");
  expect_error("C(3)", "needs a ':'");
  expect_error("C:maj extra", "spaces");
  expect_error("N/3", "stand alone");
  expect_error("\x01\x02garbage", "root letter");
  char longlabel[400];
  memset(longlabel, 'b', sizeof longlabel - 1);
  longlabel[0] = 'C';
  longlabel[sizeof longlabel - 1] = '\0';
  expect_error(longlabel, "longer than 256");

  /* Formatting gives back the spelling it read. */
  const char *round_trip[] = {"C", "C:maj", "Cb:min7/b3", "A##:hdim7", "G:(1,b3,5)/b3",
                              "E:maj(*5,9)/7", "N", "X", "F#:13", "Bbb:sus4(b7)"};
  for (size_t i = 0; i < sizeof round_trip / sizeof round_trip[0]; i++) {
    harte_chord c;
    char out[HARTE_LABEL_MAX + 1];
    CHECK(harte_parse(round_trip[i], &c, NULL) == CHORDLET_OK, "parse %s", round_trip[i]);
    CHECK(harte_format(&c, out, sizeof out) == CHORDLET_OK && strcmp(out, round_trip[i]) == 0,
          "format %s gave %s", round_trip[i], out);
  }
  {
    harte_chord c;
    char tiny[4];
    harte_parse("C:minmaj7", &c, NULL);
    CHECK(harte_format(&c, tiny, sizeof tiny) == CHORDLET_ERR_RANGE, "a short buffer is reported");
  }
  return check_summary("test_harte");
}
