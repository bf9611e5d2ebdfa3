/*
 * fuzz_lab.c: the .lab reader (engine/lab.h). The input is a file's bytes,
 * read twice: from memory (lab_parse) and from a file (lab_read, through a
 * file in the process's own folder); both must say the same. A file that
 * reads must then survive what the tools do with it: each segment appended
 * to a new list (lab_append validates like the reader), and lab_write's
 * output read back, where only segments that rounding to 6 decimals made
 * empty may go missing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "lab.h"

#define FAIL(...) fuzz_fail("fuzz_lab", __VA_ARGS__)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size ? size : 1); /* exact size, no NUL: lab_parse takes a length */
  if (!text) return 0;
  if (size) memcpy(text, data, size);
  lab_file mem, file;
  chordlet_error err_mem, err_file;
  chordlet_status st_mem = lab_parse(text, size, "fuzz.lab", &mem, &err_mem);
  free(text);
  chordlet_status st_file = lab_read(fuzz_write("in.lab", data, size), &file, &err_file);
  if (st_mem != st_file || (!st_mem && (mem.n_segments != file.n_segments || mem.n_empty_dropped != file.n_empty_dropped)))
    FAIL("lab_parse (%d: %s) and lab_read (%d: %s) disagree", st_mem, st_mem ? err_mem.message : "ok", st_file,
         st_file ? err_file.message : "ok");
  if (st_mem && !err_mem.message[0]) FAIL("a refused file has no message");
  lab_free(&file);
  if (st_mem) return 0;

  lab_file copy = {0};
  chordlet_error err;
  for (size_t i = 0; i < mem.n_segments; i++) {
    const lab_segment *s = &mem.segments[i];
    if (lab_append(&copy, s->start, s->end, &s->chord, &err))
      FAIL("segment %zu (line %d) read but cannot be appended: %s", i, s->line, err.message);
  }
  lab_free(&copy);

  char out[1024];
  fuzz_path("out.lab", out, sizeof out);
  if (lab_write(out, &mem, &err)) FAIL("a file that reads cannot be written: %s", err.message);
  lab_file back;
  if (lab_read(out, &back, &err)) FAIL("lab_write's output does not read back: %s", err.message);
  if (back.n_segments + back.n_empty_dropped != mem.n_segments)
    FAIL("%zu segments written, %zu read back (+%zu empty)", mem.n_segments, back.n_segments, back.n_empty_dropped);
  lab_free(&back);
  lab_free(&mem);
  return 0;
}
