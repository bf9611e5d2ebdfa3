/* test_harte_fixtures.c: every label of ../shared/data/mir_eval/label_encode.tsv
 * (872 labels, encoded by Debian's mir_eval 0.7) must encode to the same root,
 * bitmap and bass, and reduce to the listed 170-class index; every string of
 * label_invalid.txt must be rejected with a message that quotes it. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "check.h"
#include "harte.h"

int main(void) {
  const char *shared = shared_dir();
  char path[4096];
  snprintf(path, sizeof path, "%s/data/mir_eval/label_encode.tsv", shared);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL, "open %s", path);
  if (!f) return check_summary("test_harte_fixtures");
  char line[1024];
  int n_labels = 0;
  CHECK(fgets(line, sizeof line, f) != NULL, "header");
  while (fgets(line, sizeof line, f)) {
    char label[512], bits[32];
    int root, bass, cls, cls_btc;
    if (sscanf(line, "%511[^\t]\t%d\t%31[^\t]\t%d\t%d\t%d", label, &root, bits, &bass, &cls, &cls_btc) != 6) {
      CHECK(0, "malformed fixture line: %s", line);
      continue;
    }
    n_labels++;
    harte_chord c;
    chordlet_error err;
    if (harte_parse(label, &c, &err) != CHORDLET_OK) {
      CHECK(0, "valid label '%s' rejected: %s", label, err.message);
      continue;
    }
    harte_encoding e;
    harte_encode(&c, false, &e);
    char got[13];
    for (int i = 0; i < 12; i++) got[i] = e.bits[i] < 0 ? 'x' : (char)('0' + e.bits[i]);
    got[12] = '\0';
    CHECK(e.root == root && strcmp(got, bits) == 0 && e.bass == bass,
          "%s: encoded (%d, %s, %d), mir_eval (%d, %s, %d)", label, e.root, got, e.bass, root, bits, bass);
    CHECK(harte_to_class(&c) == cls, "%s: class %d, expected %d", label, harte_to_class(&c), cls);
    /* formatting and re-parsing gives the same chord */
    char out[HARTE_LABEL_MAX + 1];
    harte_chord again;
    harte_encoding e2;
    CHECK(harte_format(&c, out, sizeof out) == CHORDLET_OK && harte_parse(out, &again, NULL) == CHORDLET_OK,
          "%s formats and parses back", label);
    harte_encode(&again, false, &e2);
    CHECK(memcmp(&e, &e2, sizeof e) == 0 && harte_to_class(&again) == cls, "%s round trip via %s", label, out);
  }
  fclose(f);
  CHECK(n_labels == 872, "read %d labels, expected 872", n_labels);

  snprintf(path, sizeof path, "%s/data/mir_eval/label_invalid.txt", shared);
  f = fopen(path, "r");
  CHECK(f != NULL, "open %s", path);
  int n_invalid = 0;
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    /* The file writes the empty label as "" */
    const char *label = strcmp(line, "\"\"") == 0 ? "" : line;
    harte_chord c;
    chordlet_error err = {0};
    n_invalid++;
    CHECK(harte_parse(label, &c, &err) == CHORDLET_ERR_PARSE, "invalid label '%s' accepted", label);
    char quoted[1100];
    snprintf(quoted, sizeof quoted, "'%s'", label);
    CHECK(strstr(err.message, quoted) != NULL, "message for %s does not quote it: %s", quoted, err.message);
  }
  if (f) fclose(f);
  CHECK(n_invalid == 22, "read %d invalid labels, expected 22", n_invalid);
  return check_summary("test_harte_fixtures");
}
