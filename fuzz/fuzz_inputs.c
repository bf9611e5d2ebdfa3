/*
 * fuzz_inputs.c: the .txt list reader of the trainer's batch commands
 * (trainer/inputs.h: one audio path a line, '#' comments, blank lines
 * skipped; every listed path must exist). The input is the list's text, in
 * a file of the process's own folder. Paths are relative to the working
 * directory, as on the command line; the fuzzer finds ".", "/" and the like.
 *
 * A list that reads gives non-empty paths that exist, no more of them than
 * the text has lines, none with a line end in it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"
#include "inputs.h"

#define FAIL(...) fuzz_fail("fuzz_inputs", __VA_ARGS__)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[1024];
  snprintf(path, sizeof path, "%s", fuzz_write("list.txt", data, size));
  input_list list = {0};
  int st = inputs_collect(path, &list, "fuzz_inputs");
  size_t lines = 1;
  for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
  if (st == 0 && list.n > lines) FAIL("%zu paths from %zu lines", list.n, lines);
  for (size_t i = 0; i < list.n; i++) {
    struct stat sb;
    const char *p = list.paths[i];
    if (!p || !p[0] || p[0] == '#' || strpbrk(p, "\r\n")) FAIL("path %zu is '%s'", i, p ? p : "(null)");
    if (stat(p, &sb) != 0) FAIL("listed path '%s' does not exist", p);
  }
  inputs_free(&list);
  return 0;
}
