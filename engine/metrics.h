/*
 * metrics.h: chord transcription metrics equal to mir_eval.chord.evaluate
 * (mir_eval 0.7, the version Debian 12 ships; the MIREX metrics), plus the
 * per-quality recall table of PAPER.md 5.4.
 *
 * What chord_evaluate() does, step by step as mir_eval does it:
 *  1. The estimate is trimmed or padded with N to the reference's span
 *     (util.adjust_intervals). This can leave an estimate segment of zero
 *     length (one that ends exactly at the reference's start or begins exactly
 *     at its end). It carries no time, but it can still merge with an equal
 *     neighbour and label a gap that follows it, so it is kept, as mir_eval
 *     keeps it. Where it survives the merging, mir_eval 0.7 raises an error
 *     ("durations must be strictly positive"); we score as mir_eval would
 *     with that one check lifted (the empty piece adds nothing).
 *  2. Both segmentations are merged on the union of their boundaries
 *     (util.merge_labeled_intervals). A time inside a gap of either file takes
 *     the label of the segment that started last before it, as mir_eval's
 *     lookup does.
 *  3. Each merged piece is compared with each rule (chord_compare()) and the
 *     score is the duration-weighted mean over the pieces the rule does not
 *     exclude; a metric with nothing scorable is 0, as in mir_eval.
 *  4. underseg / overseg: 1 - directional Hamming distance between the
 *     reference and estimate segmentations, after merging consecutive equal
 *     chords; seg = min(underseg, overseg).
 *
 * Thread: any (chord_compare is pure); chord_evaluate allocates.
 */
#ifndef CHORDLET_METRICS_H
#define CHORDLET_METRICS_H

#include "chordlet.h"
#include "harte.h"
#include "lab.h"

typedef enum chord_metric {
  CM_ROOT = 0,
  CM_THIRDS,
  CM_THIRDS_INV,
  CM_TRIADS,
  CM_TRIADS_INV,
  CM_TETRADS,
  CM_TETRADS_INV,
  CM_SEVENTHS,
  CM_SEVENTHS_INV,
  CM_MAJMIN,
  CM_MAJMIN_INV,
  CM_MIREX,
  CM_LABEL_METRICS, /* the metrics above compare labels; the ones below segmentations */
  CM_UNDERSEG = CM_LABEL_METRICS,
  CM_OVERSEG,
  CM_SEG,
  CM_COUNT
} chord_metric;

/* mir_eval's name of a metric ("root", "thirds_inv", ... "seg"). */
const char *chord_metric_name(int metric);

/* One comparison as mir_eval's function of the same name: 1 match, 0 no match,
 * -1 the reference is excluded from this metric (e.g. X, or a reference outside
 * maj/min for majmin). */
int chord_compare(int metric, const harte_encoding *ref, const harte_encoding *est);

/* Groups of PAPER.md 5.4 (the paper's first nine, then the rest). */
typedef enum quality_group {
  QG_MAJOR = 0, QG_MINOR, QG_DOM7, QG_MAJ7, QG_MIN7, QG_DIM, QG_DIM7, QG_AUG, QG_SUS,
  QG_HDIM7, QG_MIN6, QG_MAJ6, QG_MINMAJ7,
  QG_NO_CHORD, /* N */
  QG_OTHER,    /* X: a reference chord outside the 170-class vocabulary */
  QG_COUNT
} quality_group;

const char *quality_group_name(int group);
/* Group of a vocabulary class (0..169). */
int quality_group_of_class(int cls);

/* Per group, seconds of reference time, and of it the seconds where the
 * estimate (reduced to the vocabulary) has the same quality group (the
 * paper's number: the root is NOT checked) and where it has the same class
 * (root and quality: the honest number). */
typedef struct quality_row {
  double seconds;
  double quality_hit_seconds;
  double chord_hit_seconds;
} quality_row;

typedef struct quality_table {
  quality_row rows[QG_COUNT];
} quality_table;

typedef struct chord_scores {
  double score[CM_COUNT];                  /* mir_eval's values */
  double scored_seconds[CM_LABEL_METRICS]; /* time each label metric scored (not excluded) */
  double correct_seconds[CM_LABEL_METRICS];
  double duration;                         /* the reference's span, seconds */
  quality_table quality;
} chord_scores;

/* mir_eval.chord.evaluate(ref, est) and the quality table. The reference must
 * have at least one segment. */
chordlet_status chord_evaluate(const lab_file *ref, const lab_file *est, chord_scores *out,
                               chordlet_error *err);

/* The mean of the seven metrics the chord papers report (PAPER.md 5.1): root,
 * thirds, triads, sevenths, tetrads, majmin, mirex. */
double chord_scores_avg7(const chord_scores *s);

/* Totals over many files: label metrics pooled (correct seconds over scored
 * seconds, i.e. weighted by the time each metric scored); segmentation
 * metrics weighted by each file's duration; quality tables summed. */
typedef struct chord_totals {
  chord_scores sum; /* accumulators; read scores through chord_totals_scores() */
  int n_files;
} chord_totals;

void chord_totals_init(chord_totals *totals);
void chord_totals_add(chord_totals *totals, const chord_scores *file);
void chord_totals_scores(const chord_totals *totals, chord_scores *out);

#endif
