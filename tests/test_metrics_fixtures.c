/* test_metrics_fixtures.c: the metrics against mir_eval's own numbers.
 *  1. comparisons.tsv: 4394 label pairs x 12 comparison functions, as Debian's
 *     mir_eval 0.7 computed them (1 / 0 / -1 excluded): all must be equal.
 *  2. chord/refNN.lab + estNN.lab: mir_eval's regression fixtures; all 15
 *     scores within 1e-6 of outputNN.json (mir_eval's expected values) and of
 *     debian07_outputNN.json (Debian's mir_eval 0.7). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "check.h"
#include "lab.h"
#include "metrics.h"

/* The number after "key": in a flat JSON object (the fixtures are flat). */
static int json_value(const char *json, const char *key, double *out) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *p = strstr(json, pattern);
  if (!p) return -1;
  return sscanf(p + strlen(pattern), "%lf", out) == 1 ? 0 : -1;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static void check_comparisons(const char *shared) {
  /* column order of comparisons.tsv after ref, est */
  static const int columns[12] = {CM_ROOT, CM_THIRDS, CM_THIRDS_INV, CM_TRIADS, CM_TRIADS_INV,
                                  CM_TETRADS, CM_TETRADS_INV, CM_MAJMIN, CM_MAJMIN_INV,
                                  CM_SEVENTHS, CM_SEVENTHS_INV, CM_MIREX};
  char path[4096];
  snprintf(path, sizeof path, "%s/data/mir_eval/comparisons.tsv", shared);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL, "open %s", path);
  if (!f) return;
  char line[1024];
  int n_pairs = 0;
  CHECK(fgets(line, sizeof line, f) != NULL, "header");
  while (fgets(line, sizeof line, f)) {
    char ref[256], est[256];
    int v[12];
    if (sscanf(line, "%255[^\t]\t%255[^\t]\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d", ref, est,
               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]) != 14) {
      CHECK(0, "malformed line %s", line);
      continue;
    }
    n_pairs++;
    harte_encoding r, e;
    chordlet_error err;
    CHECK(harte_encode_label(ref, false, &r, &err) == CHORDLET_OK, "%s", err.message);
    CHECK(harte_encode_label(est, false, &e, &err) == CHORDLET_OK, "%s", err.message);
    for (int c = 0; c < 12; c++) {
      int got = chord_compare(columns[c], &r, &e);
      CHECK(got == v[c], "%s(%s, %s) = %d, mir_eval %d", chord_metric_name(columns[c]), ref, est, got, v[c]);
    }
  }
  fclose(f);
  CHECK(n_pairs == 4394, "read %d pairs, expected 4394", n_pairs);
}

static void check_fixture(const char *shared, int k) {
  char ref_path[4096], est_path[4096], out_path[4096];
  snprintf(ref_path, sizeof ref_path, "%s/data/mir_eval/chord/ref%02d.lab", shared, k);
  snprintf(est_path, sizeof est_path, "%s/data/mir_eval/chord/est%02d.lab", shared, k);
  lab_file ref, est;
  chordlet_error err;
  if (lab_read(ref_path, &ref, &err) || lab_read(est_path, &est, &err)) {
    CHECK(0, "fixture %02d: %s", k, err.message);
    return;
  }
  chord_scores s;
  CHECK(chord_evaluate(&ref, &est, &s, &err) == CHORDLET_OK, "fixture %02d: %s", k, err.message);
  const char *expectations[2] = {"output", "debian07_output"};
  for (int x = 0; x < 2; x++) {
    snprintf(out_path, sizeof out_path, "%s/data/mir_eval/chord/%s%02d.json", shared, expectations[x], k);
    const char *json = slurp(out_path);
    CHECK(json != NULL, "open %s", out_path);
    if (!json) continue;
    for (int m = 0; m < CM_COUNT; m++) {
      double expected;
      char what[128];
      snprintf(what, sizeof what, "%s%02d %s", expectations[x], k, chord_metric_name(m));
      CHECK(json_value(json, chord_metric_name(m), &expected) == 0, "%s missing", what);
      CHECK_NEAR(s.score[m], expected, 1e-6, what);
    }
  }
  lab_free(&ref);
  lab_free(&est);
}

int main(void) {
  const char *shared = shared_dir();
  check_comparisons(shared);
  for (int k = 0; k < 10; k++) check_fixture(shared, k);
  return check_summary("test_metrics_fixtures");
}
