/* metrics.c: mir_eval's chord metrics and the per-quality table. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vocab.h"

static const char *const metric_names[CM_COUNT] = {
    "root",     "thirds",       "thirds_inv", "triads",      "triads_inv",
    "tetrads",  "tetrads_inv",  "sevenths",   "sevenths_inv", "majmin",
    "majmin_inv", "mirex",      "underseg",   "overseg",     "seg"};

const char *chord_metric_name(int metric) {
  return (metric >= 0 && metric < CM_COUNT) ? metric_names[metric] : NULL;
}

static const char *const group_names[QG_COUNT] = {
    "Major", "Minor", "Dom7", "Maj7", "Min7", "Dim", "Dim7", "Aug", "Sus",
    "Half-Dim", "Min6", "Maj6", "Min-Maj7", "No Chord", "Other (X)"};

const char *quality_group_name(int group) {
  return (group >= 0 && group < QG_COUNT) ? group_names[group] : NULL;
}

int quality_group_of_class(int cls) {
  static const int8_t by_quality[VOCAB_QUALITIES] = {
      [VQ_MIN] = QG_MINOR,   [VQ_MAJ] = QG_MAJOR,       [VQ_DIM] = QG_DIM,
      [VQ_AUG] = QG_AUG,     [VQ_MIN6] = QG_MIN6,       [VQ_MAJ6] = QG_MAJ6,
      [VQ_MIN7] = QG_MIN7,   [VQ_MINMAJ7] = QG_MINMAJ7, [VQ_MAJ7] = QG_MAJ7,
      [VQ_7] = QG_DOM7,      [VQ_DIM7] = QG_DIM7,       [VQ_HDIM7] = QG_HDIM7,
      [VQ_SUS2] = QG_SUS,    [VQ_SUS4] = QG_SUS};
  if (cls == VOCAB_N) return QG_NO_CHORD;
  if (cls < 0 || cls >= VOCAB_X) return QG_OTHER;
  return by_quality[vocab_class_quality(cls)];
}

/* ---- per-piece comparisons (mir_eval.chord.<metric>) ---- */

static int bits_equal(const harte_encoding *a, const harte_encoding *b, int n) {
  for (int i = 0; i < n; i++)
    if (a->bits[i] != b->bits[i]) return 0;
  return 1;
}

static int is_x(const harte_encoding *e) {
  for (int i = 0; i < 12; i++)
    if (e->bits[i] < 0) return 1;
  return 0;
}

static int bits_equal_mask(const harte_encoding *e, uint16_t mask, int n) {
  for (int i = 0; i < n; i++)
    if (e->bits[i] != ((mask >> i) & 1)) return 0;
  return 1;
}

/* majmin scores only references whose triad part (bits 0..7) is maj or min, or N. */
static int majmin_scorable(const harte_encoding *r) {
  int is_none = r->root < 0 && bits_equal_mask(r, 0, 12);
  return bits_equal_mask(r, vocab_quality_mask(VQ_MAJ), 8) ||
         bits_equal_mask(r, vocab_quality_mask(VQ_MIN), 8) || is_none;
}

/* sevenths scores only references that are exactly maj, min, maj7, 7, min7 or empty. */
static int sevenths_scorable(const harte_encoding *r) {
  static const int qs[] = {VQ_MAJ, VQ_MIN, VQ_MAJ7, VQ_7, VQ_MIN7};
  for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
    if (bits_equal_mask(r, vocab_quality_mask(qs[i]), 12)) return 1;
  return bits_equal_mask(r, 0, 12);
}

/* The _inv metrics skip references whose bass is not a note of the chord. */
static int inversion_valid(const harte_encoding *r) {
  return r->bass < 0 || r->bits[r->bass] != 0;
}

/* mir_eval.chord.rotate_bitmap_to_root: every nonzero bit (X's -1 included)
 * moved to absolute pitch class (i + root) mod 12. */
static uint16_t absolute_chroma(const harte_encoding *e) {
  uint16_t m = 0;
  for (int i = 0; i < 12; i++)
    if (e->bits[i] != 0) m |= (uint16_t)(1u << (((i + e->root) % 12 + 12) % 12));
  return m;
}

static int popcount12(uint16_t m) {
  int n = 0;
  for (int i = 0; i < 12; i++) n += (m >> i) & 1;
  return n;
}

int chord_compare(int metric, const harte_encoding *r, const harte_encoding *e) {
  int root = r->root == e->root;
  int bass = r->bass == e->bass;
  switch (metric) {
  case CM_ROOT: return is_x(r) ? -1 : root;
  case CM_THIRDS: return is_x(r) ? -1 : root && r->bits[3] == e->bits[3];
  case CM_THIRDS_INV: return is_x(r) ? -1 : root && bass && r->bits[3] == e->bits[3];
  case CM_TRIADS: return is_x(r) ? -1 : root && bits_equal(r, e, 8);
  case CM_TRIADS_INV: return is_x(r) ? -1 : root && bass && bits_equal(r, e, 8);
  case CM_TETRADS: return is_x(r) ? -1 : root && bits_equal(r, e, 12);
  case CM_TETRADS_INV: return is_x(r) ? -1 : root && bass && bits_equal(r, e, 12);
  case CM_MAJMIN: return majmin_scorable(r) ? root && bits_equal(r, e, 8) : -1;
  case CM_MAJMIN_INV:
    return majmin_scorable(r) && inversion_valid(r) ? root && bass && bits_equal(r, e, 8) : -1;
  case CM_SEVENTHS: return sevenths_scorable(r) ? root && bits_equal(r, e, 12) : -1;
  case CM_SEVENTHS_INV:
    return sevenths_scorable(r) && inversion_valid(r) ? root && bass && bits_equal(r, e, 12) : -1;
  case CM_MIREX: {
    int notes = 0;
    for (int i = 0; i < 12; i++) notes += r->bits[i] > 0;
    if (is_x(r) || (notes > 0 && notes < 3)) return -1;
    if (r->root == -1 && e->root == -1) return 1; /* N (or X) against N (or X) */
    return popcount12((uint16_t)(absolute_chroma(r) & absolute_chroma(e))) >= 3;
  }
  default: return -1;
  }
}

/* ---- evaluation of one file pair ---- */

/* A segment during evaluation: times and the chord it carries. */
typedef struct piece {
  double start, end;
  const harte_chord *chord;
} piece;

static const harte_chord no_chord = {.kind = HARTE_NO_CHORD};

/* util.adjust_intervals(est, t_min, t_max, 'N', 'N'). The estimate is
 * sorted and non-overlapping (lab.c checks). out has room for
 * est->n_segments + 2 pieces. Returns the count. */
static size_t adjust_estimate(const lab_file *est, double t_min, double t_max, piece *out) {
  if (est->n_segments == 0) {
    out[0] = (piece){t_min, t_max, &no_chord};
    return 1;
  }
  /* Drop segments that end before t_min (mir_eval keeps them all when every
   * one does), clamp to t_min, and pad the front with N. */
  size_t first = 0;
  while (first < est->n_segments && est->segments[first].end < t_min) first++;
  if (first == est->n_segments) first = 0;
  size_t n = 0;
  double lo = est->segments[first].start < t_min ? t_min : est->segments[first].start;
  if (lo > t_min) out[n++] = (piece){t_min, lo, &no_chord};
  for (size_t i = first; i < est->n_segments; i++) {
    const lab_segment *s = &est->segments[i];
    out[n++] = (piece){s->start < t_min ? t_min : s->start, s->end < t_min ? t_min : s->end,
                       &s->chord};
  }
  /* Cut at the first piece that starts after t_max (never the first: it
   * starts at t_min), clamp to t_max, and pad the end with N. */
  size_t keep = 0;
  while (keep < n && out[keep].start <= t_max) keep++;
  n = keep;
  double hi = t_min;
  for (size_t i = 0; i < n; i++) {
    if (out[i].start > t_max) out[i].start = t_max;
    if (out[i].end > t_max) out[i].end = t_max;
    if (out[i].end > hi) hi = out[i].end;
  }
  if (hi < t_max) out[n++] = (piece){hi, t_max, &no_chord};
  /* Zero-length pieces stay: they carry no time, but mir_eval merges them
   * with an equal neighbour and lets them label a gap that follows. */
  return n;
}

static int encoding_equal(const harte_encoding *a, const harte_encoding *b) {
  return a->root == b->root && a->bass == b->bass && memcmp(a->bits, b->bits, 12) == 0;
}

/* merge_chord_intervals: consecutive pieces with the same encoding (with
 * extended chords reduced) become one interval. Writes starts/ends, returns count. */
static size_t merge_equal_chords(const piece *p, size_t n, double *starts, double *ends) {
  size_t m = 0;
  harte_encoding prev = {0}, cur;
  for (size_t i = 0; i < n; i++) {
    harte_encode(p[i].chord, true, &cur);
    if (i == 0 || !encoding_equal(&cur, &prev)) {
      starts[m] = p[i].start;
      ends[m] = p[i].end;
      m++;
      prev = cur;
    } else {
      ends[m - 1] = p[i].end;
    }
  }
  return m;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorted unique values of starts[] and ends[] (n each) into out; returns count. */
static size_t unique_times(const double *starts, const double *ends, size_t n, double *out) {
  for (size_t i = 0; i < n; i++) { out[2 * i] = starts[i]; out[2 * i + 1] = ends[i]; }
  qsort(out, 2 * n, sizeof *out, cmp_double);
  size_t m = 0;
  for (size_t i = 0; i < 2 * n; i++)
    if (m == 0 || out[i] != out[m - 1]) out[m++] = out[i];
  return m;
}

/* directional_hamming_distance(a, b): for each interval of a, the part not
 * covered by the largest piece that b's boundaries cut it into; normalised
 * by a's span. b_times are b's sorted unique boundaries. */
static double directional_hamming(const double *a_start, const double *a_end, size_t a_n,
                                  const double *b_times, size_t b_n) {
  double seg = 0;
  size_t j = 0;
  for (size_t i = 0; i < a_n; i++) {
    double s = a_start[i], e = a_end[i];
    while (j > 0 && b_times[j - 1] >= s) j--; /* intervals of a may not be contiguous */
    while (j < b_n && b_times[j] < s) j++;
    double prev = s, longest = 0;
    for (size_t k = j; k < b_n && b_times[k] < e; k++) {
      if (b_times[k] - prev > longest) longest = b_times[k] - prev;
      prev = b_times[k];
    }
    if (e - prev > longest) longest = e - prev;
    seg += (e - s) - longest;
  }
  return seg / (a_end[a_n - 1] - a_start[0]);
}

chordlet_status chord_evaluate(const lab_file *ref, const lab_file *est, chord_scores *out,
                               chordlet_error *err) {
  memset(out, 0, sizeof *out);
  if (ref->n_segments == 0)
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "the reference has no chord segments");
  size_t nr = ref->n_segments;
  double t_min = ref->segments[0].start, t_max = ref->segments[nr - 1].end;
  out->duration = t_max - t_min;

  size_t cap = nr + est->n_segments + 2;
  piece *rp = malloc(nr * sizeof *rp);                        /* (nr) */
  piece *ep = malloc((est->n_segments + 2) * sizeof *ep);     /* (ne) */
  double *times = malloc(2 * cap * sizeof *times);            /* (2 * (nr + ne)) */
  double *starts = malloc(2 * cap * sizeof *starts);          /* scratch for merging */
  double *ends = malloc(2 * cap * sizeof *ends);
  harte_encoding *renc = malloc(nr * sizeof *renc);           /* (nr) */
  harte_encoding *eenc = malloc((est->n_segments + 2) * sizeof *eenc); /* (ne) */
  int8_t (*cmp)[CM_LABEL_METRICS] = malloc(2 * cap * sizeof *cmp); /* (pieces, metric) */
  chordlet_status st = CHORDLET_OK;
  if (!rp || !ep || !times || !starts || !ends || !renc || !eenc || !cmp) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory evaluating");
    goto done;
  }
  for (size_t i = 0; i < nr; i++)
    rp[i] = (piece){ref->segments[i].start, ref->segments[i].end, &ref->segments[i].chord};
  size_t ne = adjust_estimate(est, t_min, t_max, ep);

  /* Segmentation scores on merged chord intervals. */
  {
    double *rs = starts, *re = ends;
    size_t nrm = merge_equal_chords(rp, nr, rs, re);
    double *es = starts + nr, *ee = ends + nr;
    size_t nem = merge_equal_chords(ep, ne, es, ee);
    double *rt = times, *et = times + 2 * nr;
    size_t nrt = unique_times(rs, re, nrm, rt);
    size_t net = unique_times(es, ee, nem, et);
    double over = 1 - directional_hamming(rs, re, nrm, et, net);
    double under = 1 - directional_hamming(es, ee, nem, rt, nrt);
    out->score[CM_OVERSEG] = over;
    out->score[CM_UNDERSEG] = under;
    out->score[CM_SEG] = over < under ? over : under;
  }

  /* Label scores on the union of both segmentations. */
  for (size_t i = 0; i < nr; i++) { starts[i] = rp[i].start; ends[i] = rp[i].end; }
  for (size_t i = 0; i < ne; i++) { starts[nr + i] = ep[i].start; ends[nr + i] = ep[i].end; }
  size_t nb = unique_times(starts, ends, nr + ne, times);
  for (size_t i = 0; i < nr; i++) harte_encode(rp[i].chord, false, &renc[i]);
  for (size_t i = 0; i < ne; i++) harte_encode(ep[i].chord, false, &eenc[i]);

  double *dur = starts;     /* (nb - 1) durations, reusing scratch */
  size_t ri = 0, ei = 0;
  for (size_t k = 0; k + 1 < nb; k++) {
    double t0 = times[k];
    /* the last segment that starts at or before t0 */
    while (ri + 1 < nr && rp[ri + 1].start <= t0) ri++;
    while (ei + 1 < ne && ep[ei + 1].start <= t0) ei++;
    dur[k] = times[k + 1] - times[k];
    for (int m = 0; m < CM_LABEL_METRICS; m++)
      cmp[k][m] = (int8_t)chord_compare(m, &renc[ri], &eenc[ei]);
    int rc = harte_to_class(rp[ri].chord), ec = harte_to_class(ep[ei].chord);
    quality_row *row = &out->quality.rows[quality_group_of_class(rc)];
    row->seconds += dur[k];
    if (quality_group_of_class(ec) == quality_group_of_class(rc)) row->quality_hit_seconds += dur[k];
    if (ec == rc) row->chord_hit_seconds += dur[k];
  }
  /* weighted_accuracy: as mir_eval, normalise the weights first, then sum. */
  for (int m = 0; m < CM_LABEL_METRICS; m++) {
    double total = 0, correct = 0, score = 0;
    for (size_t k = 0; k + 1 < nb; k++)
      if (cmp[k][m] >= 0) {
        total += dur[k];
        if (cmp[k][m]) correct += dur[k];
      }
    if (total > 0)
      for (size_t k = 0; k + 1 < nb; k++)
        if (cmp[k][m] > 0) score += dur[k] / total;
    out->score[m] = score;
    out->scored_seconds[m] = total;
    out->correct_seconds[m] = correct;
  }

done:
  free(rp);
  free(ep);
  free(times);
  free(starts);
  free(ends);
  free(renc);
  free(eenc);
  free(cmp);
  return st;
}

void chord_totals_init(chord_totals *totals) { memset(totals, 0, sizeof *totals); }

void chord_totals_add(chord_totals *t, const chord_scores *f) {
  for (int m = 0; m < CM_LABEL_METRICS; m++) {
    t->sum.scored_seconds[m] += f->scored_seconds[m];
    t->sum.correct_seconds[m] += f->correct_seconds[m];
  }
  for (int m = CM_LABEL_METRICS; m < CM_COUNT; m++) t->sum.score[m] += f->score[m] * f->duration;
  t->sum.duration += f->duration;
  for (int g = 0; g < QG_COUNT; g++) {
    t->sum.quality.rows[g].seconds += f->quality.rows[g].seconds;
    t->sum.quality.rows[g].quality_hit_seconds += f->quality.rows[g].quality_hit_seconds;
    t->sum.quality.rows[g].chord_hit_seconds += f->quality.rows[g].chord_hit_seconds;
  }
  t->n_files++;
}

void chord_totals_scores(const chord_totals *t, chord_scores *out) {
  *out = t->sum;
  for (int m = 0; m < CM_LABEL_METRICS; m++)
    out->score[m] = t->sum.scored_seconds[m] > 0
                        ? t->sum.correct_seconds[m] / t->sum.scored_seconds[m] : 0;
  for (int m = CM_LABEL_METRICS; m < CM_COUNT; m++)
    out->score[m] = t->sum.duration > 0 ? t->sum.score[m] / t->sum.duration : 0;
}

double chord_scores_avg7(const chord_scores *s) {
  static const int seven[7] = {CM_ROOT, CM_THIRDS, CM_TRIADS, CM_SEVENTHS, CM_TETRADS, CM_MAJMIN, CM_MIREX};
  double sum = 0;
  for (int i = 0; i < 7; i++) sum += s->score[seven[i]];
  return sum / 7;
}
