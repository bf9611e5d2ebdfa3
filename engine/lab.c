/* lab.c: reading and writing .lab chord annotation files. */
#define _POSIX_C_SOURCE 200809L
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "error.h"

void lab_free(lab_file *lab) {
  free(lab->segments);
  memset(lab, 0, sizeof *lab);
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Parses a time field. Python's float() is the reference reader (mir_eval);
 * we accept the plain decimal forms it accepts and refuse hex floats, which
 * strtod would take and Python would not. Returns 0 on success. */
static int parse_time(const char *tok, size_t len, double *out, const char **why) {
  char buf[64];
  if (len >= sizeof buf) { *why = "is too long to be a time"; return -1; }
  for (size_t i = 0; i < len; i++) {
    char c = tok[i];
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' ||
          c == 'n' || c == 'a' || c == 'N' || c == 'A' || c == 'i' || c == 'f' || c == 'I' ||
          c == 'F' || c == 't' || c == 'y' || c == 'T' || c == 'Y')) {
      *why = "is not a number";
      return -1;
    }
  }
  memcpy(buf, tok, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (end != buf + len || len == 0) { *why = "is not a number"; return -1; }
  if (isnan(v)) { *why = "is NaN"; return -1; }
  if (isinf(v) || errno == ERANGE) { *why = "is infinite or out of range"; return -1; }
  *out = v;
  return 0;
}

/* Room for one more segment. The limit is checked on every call (it was only
 * checked when the capacity ran out, so up to the next power of two got in),
 * and the capacity never goes past it. */
static chordlet_status grow(lab_file *lab, chordlet_error *err) {
  if (lab->n_segments >= LAB_MAX_SEGMENTS)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "more than %d segments", LAB_MAX_SEGMENTS);
  if (lab->n_segments < lab->capacity) return CHORDLET_OK;
  size_t cap = lab->capacity ? lab->capacity * 2 : 64;
  if (cap > LAB_MAX_SEGMENTS) cap = LAB_MAX_SEGMENTS;
  lab_segment *s = realloc(lab->segments, cap * sizeof *s);
  if (!s) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  lab->segments = s;
  lab->capacity = cap;
  return CHORDLET_OK;
}

/* Checks one segment against the rules in lab.h; why names the problem. */
static const char *segment_problem(const lab_file *lab, double start, double end) {
  if (start < 0 || end < 0) return "negative time";
  if (start > LAB_MAX_SECONDS || end > LAB_MAX_SECONDS)
    return "time beyond one week (604800 s): not a real annotation";
  if (end < start) return "the segment ends before it starts";
  if (lab->n_segments > 0 && start < lab->segments[lab->n_segments - 1].end)
    return "the segment starts before the previous one ends (overlap or unsorted)";
  return NULL;
}

chordlet_status lab_append(lab_file *lab, double start, double end, const harte_chord *chord,
                           chordlet_error *err) {
  if (!isfinite(start) || !isfinite(end))
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "segment time is not finite");
  const char *why = segment_problem(lab, start, end);
  if (why)
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "bad segment %.6f-%.6f: %s", start, end, why);
  if (end == start) { lab->n_empty_dropped++; return CHORDLET_OK; }
  chordlet_status st = grow(lab, err);
  if (st) return st;
  lab->segments[lab->n_segments++] = (lab_segment){start, end, *chord, 0};
  return CHORDLET_OK;
}

chordlet_status lab_parse(const char *text, size_t len, const char *name, lab_file *out,
                          chordlet_error *err) {
  memset(out, 0, sizeof *out);
  size_t pos = 0;
  int line = 0;
  chordlet_status st = CHORDLET_OK;
  while (pos < len) {
    line++;
    size_t eol = pos;
    while (eol < len && text[eol] != '\n') eol++;
    const char *s = text + pos;
    size_t n = eol - pos;
    pos = eol + 1;
    if (memchr(s, '\0', n)) {
      st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s:%d: NUL byte: this is not a text .lab file", name, line);
      break;
    }
    if (n > LAB_MAX_LINE) {
      st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s:%d: line longer than %d characters", name, line, LAB_MAX_LINE);
      break;
    }
    while (n > 0 && is_space(s[n - 1])) n--;
    while (n > 0 && is_space(*s)) { s++; n--; }
    if (n == 0 || *s == '#') continue;

    /* start and end: the first two whitespace-separated fields */
    const char *field[2];
    size_t field_len[2];
    size_t i = 0;
    for (int f = 0; f < 2; f++) {
      while (i < n && is_space(s[i])) i++;
      field[f] = s + i;
      while (i < n && !is_space(s[i])) i++;
      field_len[f] = (size_t)(s + i - field[f]);
    }
    while (i < n && is_space(s[i])) i++;
    if (field_len[1] == 0 || i == n) {
      st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s:%d: expected three fields 'start end label', got '%.*s'", name, line,
                         (int)(n > 60 ? 60 : n), s);
      break;
    }
    double t[2];
    for (int f = 0; f < 2; f++) {
      const char *why;
      if (parse_time(field[f], field_len[f], &t[f], &why)) {
        st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s:%d: %s time '%.*s' %s", name, line,
                           f ? "end" : "start", (int)(field_len[f] > 40 ? 40 : field_len[f]),
                           field[f], why);
        break;
      }
    }
    if (st) break;
    char label[LAB_MAX_LINE + 1];
    memcpy(label, s + i, n - i);
    label[n - i] = '\0';
    harte_chord chord;
    chordlet_error label_err;
    if (harte_parse(label, &chord, &label_err)) {
      st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s:%d: %s", name, line, label_err.message);
      break;
    }
    const char *why = segment_problem(out, t[0], t[1]);
    if (why) {
      st = chordlet_fail(err, CHORDLET_ERR_PARSE, "%s:%d: %s (start %.*s, end %.*s)", name, line,
                         why, (int)field_len[0], field[0], (int)field_len[1], field[1]);
      break;
    }
    if (t[1] == t[0]) { out->n_empty_dropped++; continue; }
    if ((st = grow(out, err)) != CHORDLET_OK) {
      chordlet_error inner = *err;
      st = chordlet_fail(err, st, "%s:%d: %s", name, line, inner.message);
      break;
    }
    out->segments[out->n_segments++] = (lab_segment){t[0], t[1], chord, line};
  }
  if (st) lab_free(out);
  return st;
}

chordlet_status lab_read(const char *path, lab_file *out, chordlet_error *err) {
  memset(out, 0, sizeof *out);
  /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever
   * (issue 17: a FIFO named x.lab hung `chordlet eval`). Only regular files
   * are read: a FIFO, socket or device (/dev/zero) is no annotation, and its
   * size, checked here before a byte is read, would mean nothing. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return chordlet_fail(err, CHORDLET_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    chordlet_status st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    close(fd);
    return st;
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return chordlet_fail(err, CHORDLET_ERR_IO, "%s is %s, not a .lab file", path,
                         S_ISDIR(sb.st_mode) ? "a folder" : "a FIFO, socket or device");
  }
  if (sb.st_size > (off_t)LAB_MAX_FILE_BYTES) {
    close(fd);
    return chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: %lld bytes: larger than the %d MiB a .lab file may have",
                         path, (long long)sb.st_size, LAB_MAX_FILE_BYTES >> 20);
  }
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    chordlet_status st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    close(fd);
    return st;
  }
  /* One buffer of the stated size (+1 to see the end of the file); it grows
   * only for a file that grows while we read it, and never past the limit. */
  size_t cap = (size_t)sb.st_size + 1, len = 0;
  char *buf = malloc(cap);
  chordlet_status st = CHORDLET_OK;
  while (buf) {
    if (len == cap) {
      if (cap > (size_t)LAB_MAX_FILE_BYTES) {
        st = chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: larger than the %d MiB a .lab file may have",
                           path, LAB_MAX_FILE_BYTES >> 20);
        break;
      }
      size_t bigger_cap = cap * 2 > (size_t)LAB_MAX_FILE_BYTES + 1 ? (size_t)LAB_MAX_FILE_BYTES + 1 : cap * 2;
      char *bigger = realloc(buf, bigger_cap);
      if (!bigger) { free(buf); buf = NULL; break; }
      buf = bigger;
      cap = bigger_cap;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) st = chordlet_fail(err, CHORDLET_ERR_IO, "cannot read %s: %s", path, strerror(errno));
      break;
    }
  }
  fclose(f);
  if (!buf) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory reading %s", path);
  if (st == CHORDLET_OK) st = lab_parse(buf, len, path, out, err);
  free(buf);
  return st;
}

chordlet_status lab_write(const char *path, const lab_file *lab, chordlet_error *err) {
  atomic_file file;
  chordlet_status st = atomic_file_open(&file, path, err);
  if (st) return st;
  for (size_t i = 0; i < lab->n_segments; i++) {
    char label[HARTE_LABEL_MAX + 1];
    const lab_segment *s = &lab->segments[i];
    if (harte_format(&s->chord, label, sizeof label) != CHORDLET_OK) {
      atomic_file_abort(&file);
      return chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: segment %zu: chord label too long", path, i + 1);
    }
    fprintf(file.stream, "%.6f\t%.6f\t%s\n", s->start, s->end, label);
  }
  return atomic_file_commit(&file, err);
}
