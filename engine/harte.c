/* harte.c: parsing, encoding, formatting and reducing Harte chord labels. */
#define _POSIX_C_SOURCE 200809L
#include "harte.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "vocab.h"

/* The shorthands mir_eval's grammar accepts, with mir_eval's semitone bitmaps
 * (QUALITIES) and extended-chord reductions (EXTENDED_QUALITY_REDUX). Upper
 * extensions of 9/11/13 chords are not in the bitmap, as in mir_eval. */
typedef struct quality_def {
  const char *name;
  uint16_t mask;
  const char *reduce_to;     /* NULL: not reduced */
  const char *reduce_adds[3]; /* degrees added by the reduction */
} quality_def;

#define B(x) (1u << (x))
static const quality_def qualities[] = {
    {"", B(0) * 0, NULL, {0}}, /* interval-only label: no implied notes */
    {"maj", B(0) | B(4) | B(7), NULL, {0}},
    {"min", B(0) | B(3) | B(7), NULL, {0}},
    {"dim", B(0) | B(3) | B(6), NULL, {0}},
    {"aug", B(0) | B(4) | B(8), NULL, {0}},
    {"1", B(0), NULL, {0}},
    {"5", B(0) | B(7), NULL, {0}},
    {"sus2", B(0) | B(2) | B(7), NULL, {0}},
    {"sus4", B(0) | B(5) | B(7), NULL, {0}},
    {"maj6", B(0) | B(4) | B(7) | B(9), NULL, {0}},
    {"min6", B(0) | B(3) | B(7) | B(9), NULL, {0}},
    {"7", B(0) | B(4) | B(7) | B(10), NULL, {0}},
    {"maj7", B(0) | B(4) | B(7) | B(11), NULL, {0}},
    {"min7", B(0) | B(3) | B(7) | B(10), NULL, {0}},
    {"dim7", B(0) | B(3) | B(6) | B(9), NULL, {0}},
    {"hdim7", B(0) | B(3) | B(6) | B(10), NULL, {0}},
    {"minmaj7", B(0) | B(3) | B(7) | B(11), "min", {"7"}},
    {"aug7", B(0) | B(4) | B(8) | B(10), NULL, {0}}, /* not in mir_eval's table */
    {"9", B(0) | B(4) | B(7) | B(10), "7", {"9"}},
    {"maj9", B(0) | B(4) | B(7) | B(11), "maj7", {"9"}},
    {"min9", B(0) | B(3) | B(7) | B(10), "min7", {"9"}},
    {"11", B(0) | B(4) | B(7) | B(10), "7", {"9", "11"}},
    {"maj11", B(0) | B(4) | B(7) | B(11), NULL, {0}}, /* not in mir_eval's table */
    {"min11", B(0) | B(3) | B(7) | B(10), "min7", {"9", "11"}},
    {"13", B(0) | B(4) | B(7) | B(10), "7", {"9", "11", "13"}},
    {"maj13", B(0) | B(4) | B(7) | B(11), "maj7", {"9", "11", "13"}},
    {"min13", B(0) | B(3) | B(7) | B(10), "min7", {"9", "11", "13"}},
};
#undef B
enum { N_QUALITIES = sizeof qualities / sizeof qualities[0], QUALITY_NONE = 0 };

static int quality_index(const char *name, size_t len) {
  for (int i = 1; i < N_QUALITIES; i++)
    if (strlen(qualities[i].name) == len && memcmp(qualities[i].name, name, len) == 0)
      return i;
  return -1;
}

const char *harte_quality_name(int quality) {
  return (quality >= 0 && quality < N_QUALITIES) ? qualities[quality].name : NULL;
}

/* Semitones of the natural scale degrees 1..13 (mir_eval's SCALE_DEGREES). */
static const int8_t degree_semitones[14] = {0, 0, 2, 4, 5, 7, 9, 11, 12, 14, 16, 17, 19, 21};
/* Semitones of the natural note letters A..G. */
static const int8_t letter_semitones[7] = {9, 11, 0, 2, 4, 5, 7};

static int mod12(int x) { return ((x % 12) + 12) % 12; }

static int degree_semitone(harte_degree d) {
  return degree_semitones[d.number] + d.accidental;
}

/* Copies label into buf for quoting in an error message: printable ASCII only,
 * shortened if long, so a binary file cannot garble the terminal. */
static void quote_label(const char *label, char *buf, size_t size) {
  size_t n = 0;
  for (const char *p = label; *p && n + 4 < size; p++)
    buf[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
  if (label[n] != '\0' && n >= 3 && strlen(label) > n) memcpy(buf + n - 3, "...", 3);
  buf[n] = '\0';
}

static chordlet_status bad_label(chordlet_error *err, const char *label, const char *why) {
  char quoted[72];
  quote_label(label, quoted, sizeof quoted);
  return chordlet_fail(err, CHORDLET_ERR_PARSE, "invalid chord label '%s': %s", quoted, why);
}

/* Reads (b*|#*) at *p; returns the signed count. */
static int read_accidentals(const char **p) {
  int n = 0;
  if (**p == 'b') while (**p == 'b') { n--; (*p)++; }
  else if (**p == '#') while (**p == '#') { n++; (*p)++; }
  return n;
}

/* Reads a scale degree number 1..13 at *p (no leading zeros); 0 if none. */
static int read_degree_number(const char **p) {
  const char *s = *p;
  if (s[0] < '1' || s[0] > '9') return 0;
  if (s[0] == '1' && s[1] >= '0' && s[1] <= '3') {
    *p += 2;
    return 10 + (s[1] - '0');
  }
  *p += 1;
  return s[0] - '0';
}

static bool degree_equal(harte_degree a, harte_degree b) {
  return a.number == b.number && a.accidental == b.accidental && a.omit == b.omit;
}

/* Adds d unless already present (mir_eval keeps intervals in a set). */
static bool add_degree(harte_chord *c, harte_degree d) {
  for (int i = 0; i < c->n_degrees; i++)
    if (degree_equal(c->degrees[i], d)) return true;
  if (c->n_degrees >= HARTE_MAX_DEGREES) return false;
  c->degrees[c->n_degrees++] = d;
  return true;
}

chordlet_status harte_parse(const char *label, harte_chord *out, chordlet_error *err) {
  memset(out, 0, sizeof *out);
  out->bass.number = 1;
  if (!label) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "no chord label");
  size_t len = strnlen(label, HARTE_LABEL_MAX + 1);
  if (len == 0) return bad_label(err, label, "the label is empty");
  if (len > HARTE_LABEL_MAX) return bad_label(err, label, "the label is longer than 256 characters");
  if (strcmp(label, "N") == 0) { out->kind = HARTE_NO_CHORD; return CHORDLET_OK; }
  if (strcmp(label, "X") == 0) { out->kind = HARTE_UNKNOWN; return CHORDLET_OK; }

  if (strpbrk(label, " \t\r\n\v\f")) return bad_label(err, label, "a chord label cannot contain spaces");
  if (label[0] == 'N' || label[0] == 'X')
    return bad_label(err, label, "N and X stand alone: they take no quality, intervals or bass");
  const char *p = label;
  if (*p < 'A' || *p > 'G')
    return bad_label(err, label, "a chord starts with a root letter A-G (upper case), or is N or X");
  out->kind = HARTE_CHORD;
  out->root_letter = *p++;
  int acc = read_accidentals(&p);
  if (acc < -100 || acc > 100) return bad_label(err, label, "too many accidentals on the root");
  out->root_accidental = (int8_t)acc;
  out->root = (int8_t)mod12(letter_semitones[out->root_letter - 'A'] + acc);
  out->quality = (int8_t)quality_index("maj", 3);

  if (*p == ':') {
    p++;
    if (*p != '(') {
      const char *q = p;
      while (*p && *p != '(' && *p != '/') p++;
      if (p == q) return bad_label(err, label, "':' must be followed by a quality or an interval list");
      int qi = quality_index(q, (size_t)(p - q));
      if (qi < 0)
        return bad_label(err, label,
                         "unknown quality; expected one of maj min dim aug 1 5 sus2 sus4 maj6 "
                         "min6 7 maj7 min7 dim7 hdim7 minmaj7 aug7 9 maj9 min9 11 maj11 min11 "
                         "13 maj13 min13");
      out->quality = (int8_t)qi;
      out->quality_written = true;
    }
    if (*p == '(') {
      if (!out->quality_written) out->quality = QUALITY_NONE;
      p++;
      for (;;) {
        harte_degree d = {0};
        if (*p == '*') { d.omit = true; p++; }
        int dacc = read_accidentals(&p);
        d.number = (int8_t)read_degree_number(&p);
        if (d.number == 0)
          return bad_label(err, label, "an interval must be a scale degree 1-13, optionally "
                                       "with flats (b), sharps (#) or '*' to omit it");
        if (dacc < -100 || dacc > 100) return bad_label(err, label, "too many accidentals");
        d.accidental = (int8_t)dacc;
        if (!add_degree(out, d)) return bad_label(err, label, "too many intervals");
        if (*p == ',') { p++; continue; }
        if (*p == ')') { p++; break; }
        return bad_label(err, label, "the interval list must be closed with ')' and "
                                     "its intervals separated by ','");
      }
    }
  } else if (*p == '(') {
    return bad_label(err, label, "an interval list needs a ':' before it (e.g. C:(1,3,5))");
  }

  if (*p == '/') {
    p++;
    int bacc = read_accidentals(&p);
    out->bass.number = (int8_t)read_degree_number(&p);
    if (out->bass.number == 0)
      return bad_label(err, label, "the bass after '/' must be a scale degree 1-13, "
                                   "optionally with flats (b) or sharps (#)");
    if (bacc < -100 || bacc > 100) return bad_label(err, label, "too many accidentals");
    out->bass.accidental = (int8_t)bacc;
    out->bass_written = true;
  }
  if (*p != '\0') {
    return bad_label(err, label, "unexpected characters after the chord");
  }
  return CHORDLET_OK;
}

void harte_encode(const harte_chord *c, bool reduce_extended, harte_encoding *out) {
  if (c->kind != HARTE_CHORD) {
    out->root = -1;
    out->bass = -1;
    memset(out->bits, c->kind == HARTE_UNKNOWN ? -1 : 0, sizeof out->bits);
    return;
  }
  const quality_def *q = &qualities[c->quality];
  harte_chord degrees = *c; /* the interval set, possibly grown by the reduction */
  if (reduce_extended && q->reduce_to) {
    for (int i = 0; i < 3 && q->reduce_adds[i]; i++) {
      const char *s = q->reduce_adds[i];
      harte_degree d = {0};
      d.number = (int8_t)read_degree_number(&s);
      add_degree(&degrees, d); /* the table's few degrees always fit */
    }
    q = &qualities[quality_index(q->reduce_to, strlen(q->reduce_to))];
  }
  int sum[12];
  for (int i = 0; i < 12; i++) sum[i] = (q->mask >> i) & 1;
  sum[0] = 1;
  for (int i = 0; i < degrees.n_degrees; i++) {
    int semitone = degree_semitone(degrees.degrees[i]);
    /* mir_eval drops intervals beyond the octave unless it is reducing
     * extended chords; a negative interval (b1) wraps either way. */
    if (semitone < 12 || reduce_extended)
      sum[mod12(semitone)] += degrees.degrees[i].omit ? -1 : 1;
  }
  out->root = c->root;
  out->bass = mod12(degree_semitone(c->bass));
  for (int i = 0; i < 12; i++) out->bits[i] = sum[i] > 0;
  out->bits[out->bass] = 1;
}

int harte_to_class(const harte_chord *c) {
  if (c->kind == HARTE_NO_CHORD) return VOCAB_N;
  if (c->kind == HARTE_UNKNOWN) return VOCAB_X;
  const quality_def *q = &qualities[c->quality];
  int vq = vocab_quality_from_shorthand(q->name);
  if (vq < 0 && q->reduce_to) vq = vocab_quality_from_shorthand(q->reduce_to);
  if (vq < 0 || q == &qualities[QUALITY_NONE]) return VOCAB_X;
  return vocab_class(c->root, vq);
}

static int format_degree(char *out, size_t size, harte_degree d) {
  char acc[128];
  int n = d.accidental < 0 ? -d.accidental : d.accidental;
  memset(acc, d.accidental < 0 ? 'b' : '#', (size_t)n);
  acc[n] = '\0';
  return snprintf(out, size, "%s%s%d", d.omit ? "*" : "", acc, d.number);
}

chordlet_status harte_format(const harte_chord *c, char *out, size_t size) {
  if (!out || size == 0) return CHORDLET_ERR_INVALID_ARGUMENT;
  out[0] = '\0';
  if (c->kind != HARTE_CHORD) {
    return snprintf(out, size, "%s", c->kind == HARTE_NO_CHORD ? "N" : "X") < (int)size
               ? CHORDLET_OK : CHORDLET_ERR_RANGE;
  }
  size_t used = 0;
#define PUT(...)                                                   \
  do {                                                             \
    int n_ = snprintf(out + used, size - used, __VA_ARGS__);       \
    if (n_ < 0 || (size_t)n_ >= size - used) return CHORDLET_ERR_RANGE; \
    used += (size_t)n_;                                            \
  } while (0)
  harte_degree root = {.number = 1, .accidental = c->root_accidental};
  char acc[160];
  format_degree(acc, sizeof acc, root); /* "<accidentals>1": strip the 1 */
  acc[strlen(acc) - 1] = '\0';
  PUT("%c%s", c->root_letter, acc);
  if (c->quality_written || c->n_degrees > 0)
    PUT(":%s", c->quality_written ? qualities[c->quality].name : "");
  if (c->n_degrees > 0) {
    PUT("(");
    for (int i = 0; i < c->n_degrees; i++) {
      char d[160];
      format_degree(d, sizeof d, c->degrees[i]);
      PUT("%s%s", i ? "," : "", d);
    }
    PUT(")");
  }
  if (c->bass_written) {
    char d[160];
    format_degree(d, sizeof d, c->bass);
    PUT("/%s", d);
  }
#undef PUT
  return CHORDLET_OK;
}

chordlet_status harte_encode_label(const char *label, bool reduce_extended,
                                   harte_encoding *out, chordlet_error *err) {
  harte_chord c;
  chordlet_status st = harte_parse(label, &c, err);
  if (st == CHORDLET_OK) harte_encode(&c, reduce_extended, out);
  return st;
}

chordlet_status harte_label_to_class(const char *label, int *cls, chordlet_error *err) {
  harte_chord c;
  chordlet_status st = harte_parse(label, &c, err);
  if (st == CHORDLET_OK) *cls = harte_to_class(&c);
  return st;
}
