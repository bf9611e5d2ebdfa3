/* json_writer.h: a tiny streaming JSON writer for the command's --json output. */
#ifndef CHORDLET_APP_JSON_WRITER_H
#define CHORDLET_APP_JSON_WRITER_H

#include <stdbool.h>
#include <stdio.h>

typedef struct json_writer {
  FILE *out;
  int depth;
  bool need_comma[32]; /* per nesting level: has this container a member yet */
} json_writer;

void json_begin(json_writer *w, FILE *out);
void json_object_open(json_writer *w, const char *key);  /* key NULL inside arrays / at top */
void json_object_close(json_writer *w);
void json_array_open(json_writer *w, const char *key);
void json_array_close(json_writer *w);
void json_string(json_writer *w, const char *key, const char *value);
void json_number(json_writer *w, const char *key, double value); /* NaN/inf become null */
/* With `digits` significant digits (%.*g): 0.78, not 0.78000000000000003. */
void json_number_digits(json_writer *w, const char *key, double value, int digits);
void json_int(json_writer *w, const char *key, long long value);
void json_bool(json_writer *w, const char *key, int value);
void json_end(json_writer *w); /* final newline */

#endif
