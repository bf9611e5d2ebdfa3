/* test_metrics.c: the evaluation pipeline on small cases worked out by hand
 * (the comparison against mir_eval itself is test_metrics_fixtures and
 * tests/mireval_diff.py). */
#include <string.h>

#include "check.h"
#include "lab.h"
#include "metrics.h"

static lab_file lab(const char *text) {
  lab_file l;
  chordlet_error err;
  if (lab_parse(text, strlen(text), "case", &l, &err) != CHORDLET_OK) {
    fprintf(stderr, "bad test input: %s\n", err.message);
    exit(2);
  }
  return l;
}

static chord_scores evaluate(const char *ref_text, const char *est_text) {
  lab_file ref = lab(ref_text), est = lab(est_text);
  chord_scores s;
  chordlet_error err;
  CHECK(chord_evaluate(&ref, &est, &s, &err) == CHORDLET_OK, "%s", err.message);
  lab_free(&ref);
  lab_free(&est);
  return s;
}

int main(void) {
  /* Reference C then G over 8 s; the estimate says C from 1 to 5 s only, so
   * it is padded with N. Pieces: [0,1] C/N, [1,4] C/C, [4,5] G/C, [5,8] G/N.
   * root = 3/8. Segmentation (worked in the comment of directional_hamming):
   * overseg = 1 - 2/8, underseg = 1 - 1/8. */
  chord_scores s = evaluate("0 4 C\n4 8 G\n", "1 5 C\n");
  CHECK_NEAR(s.score[CM_ROOT], 3.0 / 8, 1e-12, "root");
  CHECK_NEAR(s.score[CM_MAJMIN], 3.0 / 8, 1e-12, "majmin");
  CHECK_NEAR(s.score[CM_OVERSEG], 0.75, 1e-12, "overseg");
  CHECK_NEAR(s.score[CM_UNDERSEG], 0.875, 1e-12, "underseg");
  CHECK_NEAR(s.score[CM_SEG], 0.75, 1e-12, "seg");
  CHECK_NEAR(s.duration, 8, 0, "duration");
  CHECK_NEAR(s.quality.rows[QG_MAJOR].seconds, 8, 1e-12, "8 s of Major");
  CHECK_NEAR(s.quality.rows[QG_MAJOR].quality_hit_seconds, 4, 1e-12, "4 s with the right quality");
  CHECK_NEAR(s.quality.rows[QG_MAJOR].chord_hit_seconds, 3, 1e-12, "3 s with the right chord");

  /* Exclusions: an X reference is not scored; a C:sus4 reference is not
   * scored by majmin (a C:7 would be: majmin looks at the triad only); an
   * estimate of the wrong inversion fails only the _inv metrics. */
  s = evaluate("0 1 X\n1 2 C:sus4\n2 4 C/3\n", "0 4 C\n");
  CHECK_NEAR(s.scored_seconds[CM_ROOT], 3, 1e-12, "X is excluded from root");
  CHECK_NEAR(s.score[CM_ROOT], 1, 1e-12, "root");
  CHECK_NEAR(s.scored_seconds[CM_MAJMIN], 2, 1e-12, "C:sus4 is excluded from majmin");
  CHECK_NEAR(s.score[CM_MAJMIN], 1, 1e-12, "majmin");
  CHECK_NEAR(s.score[CM_MAJMIN_INV], 0, 1e-12, "majmin_inv: the bass differs");
  CHECK_NEAR(s.score[CM_TETRADS], 2.0 / 3, 1e-12, "tetrads: C is not C:sus4");
  CHECK_NEAR(s.quality.rows[QG_OTHER].seconds, 1, 1e-12, "X counted as Other");

  /* An estimate that lies wholly after the reference is all N; an empty one too. */
  s = evaluate("0 2 N\n2 4 D:min\n", "10 20 D:min\n");
  CHECK_NEAR(s.score[CM_ROOT], 0.5, 1e-12, "N matches the padding, D:min does not");
  s = evaluate("0 2 N\n2 4 D:min\n", "");
  CHECK_NEAR(s.score[CM_ROOT], 0.5, 1e-12, "empty estimate");
  /* An estimate segment starting exactly at the reference's end becomes an
   * empty piece (mir_eval 0.7 raises here); it carries no time. */
  s = evaluate("0 5 C\n", "0 5 C\n5 10 D\n");
  CHECK_NEAR(s.score[CM_ROOT], 1, 1e-12, "clipped at the reference's end");
  CHECK_NEAR(s.score[CM_SEG], 1, 1e-12, "and the segmentation is perfect");

  /* An empty piece still labels the gap after it, as in mir_eval: the
   * estimate C ends at the reference's start, so it covers the gap [1,2]. */
  s = evaluate("1 3 C\n", "0 1 C\n2 3 G\n");
  CHECK_NEAR(s.score[CM_ROOT], 0.5, 1e-12, "the empty C labels the gap");
  CHECK_NEAR(s.score[CM_OVERSEG], 0.5, 1e-12, "C and G split the reference in half");

  /* A gap in the reference takes the label before it (as mir_eval looks up). */
  s = evaluate("0 1 C\n2 3 D\n", "0 3 C\n");
  CHECK_NEAR(s.score[CM_ROOT], 2.0 / 3, 1e-12, "the gap [1,2] counts as C");

  /* An empty reference is an error, not a silent zero. */
  {
    lab_file ref = {0}, est = lab("0 1 C\n");
    chordlet_error err = {0};
    CHECK(chord_evaluate(&ref, &est, &s, &err) != CHORDLET_OK && strstr(err.message, "no chord segments"),
          "empty reference: %s", err.message);
    lab_free(&est);
  }

  /* Totals pool each metric's scored time; segmentation is duration-weighted. */
  chord_totals t;
  chord_totals_init(&t);
  chord_scores a = evaluate("0 1 C:sus4\n1 2 C\n", "0 2 C\n");   /* majmin scores 1 s: 1/1 */
  chord_scores b = evaluate("0 3 D\n", "0 3 E\n");            /* majmin 0/3 */
  chord_totals_add(&t, &a);
  chord_totals_add(&t, &b);
  chord_scores total;
  chord_totals_scores(&t, &total);
  CHECK_NEAR(total.score[CM_MAJMIN], 1.0 / 4, 1e-12, "pooled majmin");
  CHECK_NEAR(total.score[CM_ROOT], 2.0 / 5, 1e-12, "pooled root");
  CHECK_NEAR(total.score[CM_SEG], (a.score[CM_SEG] * 2 + b.score[CM_SEG] * 3) / 5, 1e-12, "weighted seg");
  CHECK(t.n_files == 2, "two files");
  /* avg7: the mean of root, thirds, triads, sevenths, tetrads, majmin, mirex */
  chord_scores seven = {0};
  seven.score[CM_ROOT] = 0.7;
  seven.score[CM_THIRDS] = 0.7;
  seven.score[CM_TRIADS] = 0.7;
  seven.score[CM_SEVENTHS] = 0.7;
  seven.score[CM_TETRADS] = 0.7;
  seven.score[CM_MAJMIN] = 0.7;
  seven.score[CM_MIREX] = 1.4;
  seven.score[CM_THIRDS_INV] = seven.score[CM_SEG] = 100; /* not among the seven */
  CHECK_NEAR(chord_scores_avg7(&seven), 0.8, 1e-12, "avg7");
  return check_summary("test_metrics");
}
