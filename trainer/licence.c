/* licence.c: see licence.h. Text is handled as arrays of code points, as
 * Python's str, so that whitespace, case, fnmatch's `?` and the 300-character
 * window after a GPL are what the Python version saw. */
#define _POSIX_C_SOURCE 200809L
#include "licence.h"

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#define NONE ((size_t)-1)

typedef struct text {
  uint32_t *c;
  size_t n;
} text;

/* ---------------------------------------------------------------- characters */

/* Python's str.isspace() (and re's \s on str): the Unicode whitespace set. */
static bool py_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* re.I's folding for the ASCII letters of our patterns: ASCII case, and the
 * non-ASCII letters Python folds onto them (dotted and dotless i, long s,
 * the Kelvin sign). */
static uint32_t fold(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c == 0x130 || c == 0x131) return 'i';
  if (c == 0x17f) return 's';
  if (c == 0x212a) return 'k';
  return c;
}

/* re's \w: ASCII letters, digits and _, and beyond ASCII what the UTF-8
 * locale calls alphanumeric (Python: str.isalnum()); without that locale,
 * letters from U+00C0 on. */
typedef struct word_class {
  locale_t utf8;
} word_class;

static bool is_word(const word_class *w, uint32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (w->utf8) return iswalnum_l((wint_t)c, w->utf8) != 0;
  return c >= 0xc0 && c != 0xd7 && c != 0xf7 && !py_space(c);
}

/* UTF-8 to code points as Python's decode('utf-8', errors='replace') does
 * (one U+FFFD per maximal invalid subsequence), with universal newlines
 * (\r\n and \r read as \n) when asked. */
static int decode(const char *s, size_t len, bool newlines, text *out) {
  const unsigned char *p = (const unsigned char *)s;
  out->c = malloc((len + 1) * sizeof *out->c);
  out->n = 0;
  if (!out->c) return -1;
  size_t i = 0;
  while (i < len) {
    unsigned b = p[i];
    uint32_t cp;
    size_t need, k;
    unsigned lo = 0x80, hi = 0xbf; /* the valid range of the second byte */
    if (b < 0x80) {
      if (newlines && b == '\r') {
        out->c[out->n++] = '\n';
        i += (i + 1 < len && p[i + 1] == '\n') ? 2 : 1;
        continue;
      }
      out->c[out->n++] = b;
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1, cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2, cp = b & 0x0f;
      if (b == 0xe0) lo = 0xa0;
      if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3, cp = b & 0x07;
      if (b == 0xf0) lo = 0x90;
      if (b == 0xf4) hi = 0x8f;
    } else {
      out->c[out->n++] = 0xfffd;
      i++;
      continue;
    }
    for (k = 1; k <= need; k++) {
      if (i + k >= len) break;
      unsigned c = p[i + k];
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf)) break;
      cp = cp << 6 | (c & 0x3f);
    }
    if (k <= need) { /* invalid: the bytes that were a valid prefix become one U+FFFD */
      out->c[out->n++] = 0xfffd;
      i += k;
      continue;
    }
    out->c[out->n++] = cp;
    i += need + 1;
  }
  return 0;
}

static char *encode(const uint32_t *c, size_t n) {
  char *s = malloc(4 * n + 1), *o = s;
  if (!s) return NULL;
  for (size_t i = 0; i < n; i++) {
    uint32_t v = c[i];
    if (v < 0x80) {
      *o++ = (char)v;
    } else if (v < 0x800) {
      *o++ = (char)(0xc0 | v >> 6), *o++ = (char)(0x80 | (v & 0x3f));
    } else if (v < 0x10000) {
      *o++ = (char)(0xe0 | v >> 12), *o++ = (char)(0x80 | (v >> 6 & 0x3f)), *o++ = (char)(0x80 | (v & 0x3f));
    } else {
      *o++ = (char)(0xf0 | v >> 18), *o++ = (char)(0x80 | (v >> 12 & 0x3f));
      *o++ = (char)(0x80 | (v >> 6 & 0x3f)), *o++ = (char)(0x80 | (v & 0x3f));
    }
  }
  *o = '\0';
  return s;
}

/* ---------------------------------------------------------------- matching */

/* The end of the ASCII literal lit at pos (case folded when ci), or NONE. */
static size_t lit(const uint32_t *t, size_t n, size_t pos, const char *s, bool ci) {
  if (pos == NONE) return NONE;
  for (; *s; s++, pos++) {
    if (pos >= n) return NONE;
    uint32_t a = t[pos], b = (unsigned char)*s;
    if (ci ? fold(a) != fold(b) : a != b) return NONE;
  }
  return pos;
}

/* the end of an optional literal: after it when it is there, else pos */
static size_t opt(const uint32_t *t, size_t n, size_t pos, const char *s) {
  size_t e = lit(t, n, pos, s, true);
  return e == NONE ? pos : e;
}

/* one of the characters of set ("- ") at pos: its end, or NONE */
static size_t one_of(const uint32_t *t, size_t n, size_t pos, const char *set) {
  if (pos == NONE || pos >= n) return NONE;
  for (; *set; set++)
    if (t[pos] == (unsigned char)*set) return pos + 1;
  return NONE;
}

static bool boundary(const word_class *w, const uint32_t *t, size_t n, size_t pos) {
  bool before = pos > 0 && is_word(w, t[pos - 1]), after = pos < n && is_word(w, t[pos]);
  return before != after;
}

static bool digit(uint32_t c) { return c >= '0' && c <= '9'; }

/* an optional version `\d\.\d` at pos: sets *g and returns its end, or pos */
static size_t version(const uint32_t *t, size_t n, size_t pos, size_t *g) {
  if (pos + 3 <= n && digit(t[pos]) && t[pos + 1] == '.' && digit(t[pos + 2])) {
    *g = pos;
    return pos + 3;
  }
  return pos;
}

enum { N_LICENCE_PATTERNS = 11 };
static const char *const LICENCE_NAMES[N_LICENCE_PATTERNS] = {
    "LGPL", "GPL", "CC-BY-SA", "CC-BY-SA", "CC-BY", "CC-BY", "CC0", "public-domain", "Expat", "Free-Art-License", "BSD"};

/* Pattern k of the Python version's LICENCE_NAMES at pos (case-insensitive):
 * its end, or NONE; *g: where its version group starts (NONE: unmatched). */
static size_t match_at(const word_class *w, int k, const uint32_t *t, size_t n, size_t pos, size_t *g) {
  size_t e;
  *g = NONE;
  switch (k) {
  case 0: /* GNU (?:Lesser|Library) General Public License */
    e = lit(t, n, pos, "GNU ", true);
    if (e == NONE) return NONE;
    {
      size_t a = lit(t, n, lit(t, n, e, "Lesser", true), " General Public License", true);
      return a != NONE ? a : lit(t, n, lit(t, n, e, "Library", true), " General Public License", true);
    }
  case 1: /* (?<!Lesser )(?<!Library )GNU General Public License|\bGPL\b */
    if (!(pos >= 7 && lit(t, n, pos - 7, "Lesser ", true) != NONE) &&
        !(pos >= 8 && lit(t, n, pos - 8, "Library ", true) != NONE) &&
        (e = lit(t, n, pos, "GNU General Public License", true)) != NONE)
      return e;
    if (!boundary(w, t, n, pos)) return NONE;
    e = lit(t, n, pos, "GPL", true);
    return e != NONE && boundary(w, t, n, e) ? e : NONE;
  case 2: /* Creative Commons Attribution[- ]Share[- ]?Alike(?: License)?[,]?(?: version)? ?(\d\.\d)? */
  case 4: /* Creative Commons Attribution(?![- ]Share)(?: License)?[,]?(?: version)? ?(\d\.\d)? */
    e = lit(t, n, pos, "Creative Commons Attribution", true);
    if (e == NONE) return NONE;
    if (k == 2) {
      e = lit(t, n, one_of(t, n, e, "- "), "Share", true);
      if (e == NONE) return NONE;
      size_t s = one_of(t, n, e, "- ");
      e = lit(t, n, s != NONE ? s : e, "Alike", true);
      if (e == NONE) return NONE;
    } else if (lit(t, n, one_of(t, n, e, "- "), "Share", true) != NONE) {
      return NONE;
    }
    e = opt(t, n, e, " License");
    e = opt(t, n, e, ",");
    e = opt(t, n, e, " version");
    e = opt(t, n, e, " ");
    return version(t, n, e, g);
  case 3: /* \bCC[- ]BY[- ]SA[- ]?(\d\.\d)? */
  case 5: /* \bCC[- ]BY(?![- ]SA)[- ]?(\d\.\d)? */
    if (!boundary(w, t, n, pos)) return NONE;
    e = lit(t, n, one_of(t, n, lit(t, n, pos, "CC", true), "- "), "BY", true);
    if (e == NONE) return NONE;
    if (k == 3) {
      e = lit(t, n, one_of(t, n, e, "- "), "SA", true);
      if (e == NONE) return NONE;
    } else if (lit(t, n, one_of(t, n, e, "- "), "SA", true) != NONE) {
      return NONE;
    }
    {
      size_t s = one_of(t, n, e, "- ");
      return version(t, n, s != NONE ? s : e, g);
    }
  case 6: /* \bCC0\b */
    if (!boundary(w, t, n, pos)) return NONE;
    e = lit(t, n, pos, "CC0", true);
    return e != NONE && boundary(w, t, n, e) ? e : NONE;
  case 7:
    return lit(t, n, pos, "public domain", true);
  case 8:
    return lit(t, n, pos, "Permission is hereby granted, free of charge", true);
  case 9:
    return lit(t, n, pos, "Free Art License", true);
  default: /* \bBSD\b */
    if (!boundary(w, t, n, pos)) return NONE;
    e = lit(t, n, pos, "BSD", true);
    return e != NONE && boundary(w, t, n, e) ? e : NONE;
  }
}

/* ---------------------------------------------------------------- free-form */

typedef struct found {
  size_t start;
  char label[48];
} found;

static int compare_found(const void *a, const void *b) {
  const found *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return strcmp(x->label, y->label);
}

/* The version a GPL names within 300 characters after it (`version 2`,
 * `version 2.1`; ".0" dropped), with + for "any later version". */
static void gpl_label(const uint32_t *t, size_t n, size_t end, const char *name, char *label, size_t size) {
  const size_t stop = end + 300 < n ? end + 300 : n;
  snprintf(label, size, "%s", name);
  for (size_t i = end; i < stop; i++) {
    size_t e = lit(t, stop, i, "version ", true);
    if (e == NONE || e >= stop || !digit(t[e])) continue;
    char v[4] = {(char)t[e], 0, 0, 0};
    if (e + 2 < stop && t[e + 1] == '.' && digit(t[e + 2])) v[1] = '.', v[2] = (char)t[e + 2];
    if (!strcmp(v + 1, ".0")) v[1] = '\0'; /* Python: .replace('.0', '') */
    size_t l = strlen(label);
    snprintf(label + l, size - l, "-%s", v);
    for (size_t j = end; j < stop; j++)
      if (lit(t, stop, j, "any later version", true) != NONE) {
        l = strlen(label);
        snprintf(label + l, size - l, "+");
        break;
      }
    return;
  }
}

static bool starts_with_dash(const char *s, const char *prefix) {
  size_t l = strlen(prefix);
  return !strncmp(s, prefix, l) && s[l] == '-';
}

static char *free_form(const word_class *w, const text *raw) {
  /* ' '.join(text.split()) */
  text flat = {malloc((raw->n + 1) * sizeof *flat.c), 0};
  if (!flat.c) return NULL;
  for (size_t i = 0; i < raw->n;) {
    while (i < raw->n && py_space(raw->c[i])) i++;
    if (i == raw->n) break;
    if (flat.n) flat.c[flat.n++] = ' ';
    while (i < raw->n && !py_space(raw->c[i])) flat.c[flat.n++] = raw->c[i++];
  }
  found *hits = NULL;
  size_t n_hits = 0, cap = 0;
  bool failed = false;
  for (int k = 0; k < N_LICENCE_PATTERNS && !failed; k++)
    for (size_t pos = 0; pos < flat.n;) { /* re.finditer */
      size_t g, e = match_at(w, k, flat.c, flat.n, pos, &g);
      if (e == NONE) {
        pos++;
        continue;
      }
      if (n_hits == cap) {
        cap = cap ? 2 * cap : 16;
        found *p = realloc(hits, cap * sizeof *p);
        if (!p) {
          failed = true;
          break;
        }
        hits = p;
      }
      found *h = &hits[n_hits++];
      h->start = pos;
      if (k <= 1)
        gpl_label(flat.c, flat.n, e, LICENCE_NAMES[k], h->label, sizeof h->label);
      else if (g != NONE)
        snprintf(h->label, sizeof h->label, "%s-%c.%c", LICENCE_NAMES[k], (char)flat.c[g], (char)flat.c[g + 2]);
      else
        snprintf(h->label, sizeof h->label, "%s", LICENCE_NAMES[k]);
      pos = e > pos ? e : pos + 1;
    }
  free(flat.c);
  if (failed) {
    free(hits);
    return NULL;
  }
  if (n_hits) qsort(hits, n_hits, sizeof *hits, compare_found);
  /* in order of appearance, each once; a bare name where a versioned one of
   * the same licence came earlier is not added, and where one comes later
   * it is dropped */
  const char **names = malloc((n_hits + 1) * sizeof *names);
  if (!names) {
    free(hits);
    return NULL;
  }
  size_t n_names = 0;
  for (size_t i = 0; i < n_hits; i++) {
    bool skip = false;
    for (size_t j = 0; j < n_names && !skip; j++)
      skip = !strcmp(names[j], hits[i].label) || starts_with_dash(names[j], hits[i].label);
    if (!skip) names[n_names++] = hits[i].label;
  }
  size_t len = strlen("free-form: ") + 1;
  for (size_t i = 0; i < n_names; i++) len += strlen(names[i]) + 2;
  char *out = malloc(len > 16 ? len : 16);
  if (out) {
    strcpy(out, "free-form: ");
    size_t kept = 0;
    for (size_t i = 0; i < n_names; i++) {
      bool bare = false;
      for (size_t j = 0; j < n_names && !bare; j++) bare = starts_with_dash(names[j], names[i]);
      if (bare) continue;
      if (kept++) strcat(out, "; ");
      strcat(out, names[i]);
    }
    if (!kept) strcpy(out, "see copyright");
  }
  free(names);
  free(hits);
  return out;
}

/* ---------------------------------------------------------------- fnmatch */

/* The bracket expression at pat[p] == '[' (Python's fnmatch.translate): its
 * length in *len, and whether c is in it; *len 0 when there is no closing ]
 * (then the [ is a literal). */
static bool bracket(const uint32_t *pat, size_t np, size_t p, uint32_t c, size_t *len) {
  size_t i = p + 1, j = i;
  if (j < np && pat[j] == '!') j++;
  if (j < np && pat[j] == ']') j++;
  while (j < np && pat[j] != ']') j++;
  if (j >= np) {
    *len = 0;
    return false;
  }
  *len = j + 1 - p;
  const uint32_t *s = pat + i;
  size_t n = j - i;
  bool negate = n > 0 && s[0] == '!';
  if (negate && n == 1) return true; /* "[!]": any character */
  if (negate) s++, n--;
  bool in = false;
  for (size_t x = 0; x < n && !in;) {
    if (x + 2 < n && s[x + 1] == '-') { /* a range; a reversed one matches nothing */
      in = s[x] <= c && c <= s[x + 2];
      x += 3;
    } else {
      in = s[x] == c;
      x++;
    }
  }
  return in != negate;
}

/* fnmatch.fnmatchcase: * (any run, / included), ?, [...]; no escapes. */
static bool fnmatch_cp(const uint32_t *name, size_t nn, const uint32_t *pat, size_t np) {
  size_t n = 0, p = 0, star_p = NONE, star_n = 0;
  while (n < nn) {
    if (p < np && pat[p] == '*') {
      while (p < np && pat[p] == '*') p++;
      star_p = p, star_n = n;
      continue;
    }
    if (p < np) {
      size_t len = 1;
      bool ok;
      if (pat[p] == '?') {
        ok = true;
      } else if (pat[p] == '[') {
        ok = bracket(pat, np, p, name[n], &len);
        if (len == 0) ok = name[n] == '[', len = 1;
      } else {
        ok = pat[p] == name[n];
      }
      if (ok) {
        p += len, n++;
        continue;
      }
    }
    if (star_p == NONE) return false;
    p = star_p, n = ++star_n; /* let the last * take one more character */
  }
  while (p < np && pat[p] == '*') p++;
  return p == np;
}

int licence_fnmatch(const char *name, const char *pattern) {
  text a, b;
  if (decode(name, strlen(name), false, &a)) return 0;
  if (decode(pattern, strlen(pattern), false, &b)) {
    free(a.c);
    return 0;
  }
  bool m = fnmatch_cp(a.c, a.n, b.c, b.n);
  free(a.c);
  free(b.c);
  return m;
}

/* ---------------------------------------------------------------- DEP-5 */

/* re.match(r'Format(-Specification)?:\s*\S*(copyright-format|dep5)', text, re.I) */
static bool is_dep5(const text *t) {
  size_t e = lit(t->c, t->n, 0, "Format", true);
  if (e == NONE) return false;
  e = opt(t->c, t->n, e, "-Specification");
  e = lit(t->c, t->n, e, ":", false);
  if (e == NONE) return false;
  while (e < t->n && py_space(t->c[e])) e++;
  for (size_t i = e; i < t->n && !py_space(t->c[i]); i++)
    if (lit(t->c, t->n, i, "copyright-format", true) != NONE || lit(t->c, t->n, i, "dep5", true) != NONE) return true;
  return false;
}

typedef struct paragraph {
  text *patterns; /* the Files: field's words */
  size_t n_patterns;
  text licence; /* the License: line, stripped */
} paragraph;

/* The first line of [a, b) starting with key (case-sensitive): the position
 * after key, or NONE. */
static size_t line_with(const text *t, size_t a, size_t b, const char *key) {
  for (size_t i = a; i < b; i++)
    if ((i == a || t->c[i - 1] == '\n') && lit(t->c, b, i, key, false) != NONE) return i + strlen(key);
  return NONE;
}

static size_t line_end(const text *t, size_t i, size_t b) {
  while (i < b && t->c[i] != '\n') i++;
  return i;
}

/* A paragraph [a, b): its Files: field (with continuation lines) split into
 * words, and its License: line stripped. 1 when it has both, 0 when not, -1
 * when out of memory. */
static int read_paragraph(const text *t, size_t a, size_t b, paragraph *p) {
  memset(p, 0, sizeof *p);
  size_t f = line_with(t, a, b, "Files:"), l = line_with(t, a, b, "License:");
  if (f == NONE || l == NONE) return 0;
  size_t fe = line_end(t, f, b); /* .*(?:\n[ \t].*)* */
  while (fe + 1 < b && (t->c[fe + 1] == ' ' || t->c[fe + 1] == '\t')) fe = line_end(t, fe + 1, b);
  while (l < b && (t->c[l] == ' ' || t->c[l] == '\t')) l++;
  size_t le = line_end(t, l, b);
  while (l < le && py_space(t->c[l])) l++;
  while (le > l && py_space(t->c[le - 1])) le--;
  p->licence.c = malloc((le - l + 1) * sizeof *p->licence.c);
  p->patterns = malloc((fe - f + 1) * sizeof *p->patterns);
  if (!p->licence.c || !p->patterns) return -1;
  memcpy(p->licence.c, t->c + l, (le - l) * sizeof *t->c);
  p->licence.n = le - l;
  for (size_t i = f; i < fe;) { /* str.split() */
    while (i < fe && py_space(t->c[i])) i++;
    if (i == fe) break;
    size_t s = i;
    while (i < fe && !py_space(t->c[i])) i++;
    p->patterns[p->n_patterns].c = t->c + s; /* borrowed from the text */
    p->patterns[p->n_patterns++].n = i - s;
  }
  return 1;
}

/* Whether the Files: pattern pat, or one of its tails that keeps a folder,
 * matches a tail of the source path (tails: the positions after each /). */
static bool pattern_matches(const text *pat, const text *src, const size_t *tails, size_t n_tails) {
  size_t starts[64], n_starts = 0;
  starts[n_starts++] = 0;
  size_t slashes = 0;
  for (size_t i = 0; i < pat->n; i++) slashes += pat->c[i] == '/';
  /* pattern_tails(p): p, and p after its 1st .. (parts - 2)th slash */
  for (size_t i = 0, k = 0; i < pat->n && n_starts < 64; i++)
    if (pat->c[i] == '/' && ++k <= (slashes + 1) - 2) starts[n_starts++] = i + 1;
  for (size_t s = 0; s < n_starts; s++)
    for (size_t t = 0; t < n_tails; t++)
      if (fnmatch_cp(src->c + tails[t], src->n - tails[t], pat->c + starts[s], pat->n - starts[s])) return true;
  return false;
}

static void free_paragraphs(paragraph *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(p[i].patterns);
    free(p[i].licence.c);
  }
  free(p);
}

/* The paragraphs of a DEP-5 file: re.split(r'\n\s*\n', text), each a range. */
static int dep5_paragraphs(const text *t, paragraph **out, size_t *n_out) {
  paragraph *paras = NULL;
  size_t n = 0, cap = 0, start = 0;
  for (size_t i = 0; i <= t->n; i++) {
    size_t end = NONE, next = NONE;
    if (i == t->n) {
      end = t->n;
    } else if (t->c[i] == '\n') {
      size_t j = i + 1, last = NONE;
      for (; j < t->n && py_space(t->c[j]); j++)
        if (t->c[j] == '\n') last = j;
      if (last != NONE) end = i, next = last + 1;
    }
    if (end == NONE) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      paragraph *p = realloc(paras, cap * sizeof *p);
      if (!p) {
        free_paragraphs(paras, n);
        return -1;
      }
      paras = p;
    }
    int r = read_paragraph(t, start, end, &paras[n]);
    if (r < 0) {
      free_paragraphs(paras, n + 1);
      return -1;
    }
    if (r > 0) n++; /* a paragraph without both fields allocated nothing */
    if (next == NONE) break;
    start = next;
    i = next - 1;
  }
  *out = paras;
  *n_out = n;
  return 0;
}

static char *dep5_licence(const paragraph *paras, size_t n_paras, const char *source) {
  text src;
  if (decode(source, strlen(source), false, &src)) return NULL;
  for (size_t i = 0; i < src.n; i++)
    if (src.c[i] == '!') src.c[i] = '/';
  size_t *tails = malloc((src.n + 1) * sizeof *tails), n_tails = 0;
  if (!tails) {
    free(src.c);
    return NULL;
  }
  tails[n_tails++] = 0;
  for (size_t i = 0; i < src.n; i++)
    if (src.c[i] == '/') tails[n_tails++] = i + 1;
  const text *lic = NULL; /* the last paragraph that matches */
  for (size_t p = 0; p < n_paras; p++)
    for (size_t k = 0; k < paras[p].n_patterns; k++)
      if (pattern_matches(&paras[p].patterns[k], &src, tails, n_tails)) {
        lic = &paras[p].licence;
        break;
      }
  free(tails);
  free(src.c);
  return lic ? encode(lic->c, lic->n) : strdup("see copyright");
}

/* ---------------------------------------------------------------- entry points */

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    char *p = cap < ((size_t)64 << 20) ? realloc(buf, 2 * cap) : NULL; /* 64 MB: no copyright file is */
    if (!p) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = p, cap *= 2;
  }
  if (buf && ferror(f)) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = n;
  return buf;
}

void licence_free(char **licences, size_t n) {
  if (!licences) return;
  for (size_t i = 0; i < n; i++) free(licences[i]);
  free(licences);
}

char *licence_free_form(const char *s, size_t len) {
  text t;
  if (decode(s, len, true, &t)) return NULL;
  word_class w = {newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)};
  char *out = free_form(&w, &t);
  if (w.utf8) freelocale(w.utf8);
  free(t.c);
  return out;
}

int licence_of(const char *copyright_path, const char *const *sources, size_t n, char ***licences) {
  *licences = calloc(n ? n : 1, sizeof **licences);
  if (!*licences) return -1;
  char **out = *licences;
  size_t len = 0;
  char *raw = read_all(copyright_path, &len);
  text t = {0};
  if (!raw) { /* no file (or none we can read) */
    for (size_t i = 0; i < n; i++)
      if (!(out[i] = strdup("unknown (no copyright file)"))) goto fail;
    return 0;
  }
  int r = decode(raw, len, true, &t);
  free(raw);
  if (r) goto fail;
  if (!is_dep5(&t)) { /* every file gets the licences the text names */
    word_class w = {newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)};
    char *lic = free_form(&w, &t);
    if (w.utf8) freelocale(w.utf8);
    if (!lic) goto fail;
    for (size_t i = 0; i < n; i++)
      if (!(out[i] = strdup(lic))) {
        free(lic);
        goto fail;
      }
    free(lic);
    free(t.c);
    return 0;
  }
  paragraph *paras;
  size_t n_paras;
  if (dep5_paragraphs(&t, &paras, &n_paras)) goto fail;
  for (size_t i = 0; i < n; i++)
    if (!(out[i] = dep5_licence(paras, n_paras, sources[i]))) {
      free_paragraphs(paras, n_paras);
      goto fail;
    }
  free_paragraphs(paras, n_paras);
  free(t.c);
  return 0;
fail:
  free(t.c);
  licence_free(*licences, n);
  *licences = NULL;
  return -1;
}
