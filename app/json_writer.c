/* json_writer.c: see json_writer.h. */
#include "json_writer.h"

#include <math.h>

static void write_escaped(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    case '\r': fputs("\\r", out); break;
    default:
      if (*p < 0x20) fprintf(out, "\\u%04x", *p);
      else fputc(*p, out);
    }
  }
  fputc('"', out);
}

static void member(json_writer *w, const char *key) {
  if (w->need_comma[w->depth]) fputc(',', w->out);
  w->need_comma[w->depth] = true;
  if (key) {
    write_escaped(w->out, key);
    fputc(':', w->out);
  }
}

void json_begin(json_writer *w, FILE *out) {
  w->out = out;
  w->depth = 0;
  for (int i = 0; i < 32; i++) w->need_comma[i] = false;
}

static void open_container(json_writer *w, const char *key, char c) {
  member(w, key);
  fputc(c, w->out);
  if (w->depth < 31) w->depth++;
  w->need_comma[w->depth] = false;
}

void json_object_open(json_writer *w, const char *key) { open_container(w, key, '{'); }
void json_array_open(json_writer *w, const char *key) { open_container(w, key, '['); }
void json_object_close(json_writer *w) { if (w->depth > 0) w->depth--; fputc('}', w->out); }
void json_array_close(json_writer *w) { if (w->depth > 0) w->depth--; fputc(']', w->out); }

void json_string(json_writer *w, const char *key, const char *value) {
  member(w, key);
  write_escaped(w->out, value);
}

void json_number(json_writer *w, const char *key, double value) {
  member(w, key);
  if (isfinite(value)) fprintf(w->out, "%.17g", value);
  else fputs("null", w->out);
}

void json_number_digits(json_writer *w, const char *key, double value, int digits) {
  member(w, key);
  if (isfinite(value)) fprintf(w->out, "%.*g", digits, value);
  else fputs("null", w->out);
}

void json_int(json_writer *w, const char *key, long long value) {
  member(w, key);
  fprintf(w->out, "%lld", value);
}

void json_bool(json_writer *w, const char *key, int value) {
  member(w, key);
  fputs(value ? "true" : "false", w->out);
}

void json_end(json_writer *w) { fputc('\n', w->out); }
