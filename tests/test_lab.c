/* test_lab.c: reading and writing .lab files, and their error messages. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "lab.h"

static int parse(const char *text, lab_file *lab, chordlet_error *err) {
  return lab_parse(text, strlen(text), "t.lab", lab, err);
}

static void expect_error(const char *what, const char *text, size_t len, const char *needle) {
  lab_file lab;
  chordlet_error err = {0};
  chordlet_status st = lab_parse(text, len, "bad.lab", &lab, &err);
  CHECK(st != CHORDLET_OK, "%s: must be rejected", what);
  CHECK(strstr(err.message, needle) != NULL, "%s: message should contain '%s': %s", what, needle, err.message);
  CHECK(strstr(err.message, "bad.lab") != NULL, "%s: message should name the file: %s", what, err.message);
}
#define EXPECT_ERROR(what, text, needle) expect_error(what, text, strlen(text), needle)

static int count_temp_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp.") != NULL;
  if (d) closedir(d);
  return n;
}

int main(void) {
  lab_file lab;
  chordlet_error err;

  /* Accepted forms: comments, blank lines, tabs, CRLF, exponents, gaps. */
  const char *good = "# a comment\n"
                     "\n"
                     "0.0 1.5 N\r\n"
                     "  1.5\t2.25\tC:maj  \n"
                     "   # indented comment\n"
                     "3e0 4.0 A:min7/b3\n"
                     "4 4 G\n"            /* zero length: dropped */
                     "4.0 5 X";           /* no final newline */
  CHECK(parse(good, &lab, &err) == CHORDLET_OK, "good file: %s", err.message);
  CHECK(lab.n_segments == 4, "4 segments, got %zu", lab.n_segments);
  CHECK(lab.n_empty_dropped == 1, "1 empty segment dropped, got %zu", lab.n_empty_dropped);
  if (lab.n_segments == 4) {
    CHECK(lab.segments[1].start == 1.5 && lab.segments[1].end == 2.25, "times of segment 2");
    CHECK(lab.segments[2].start == 3.0 && lab.segments[2].line == 6, "segment 3 from line 6");
    CHECK(lab.segments[3].chord.kind == HARTE_UNKNOWN, "X");
  }
  lab_free(&lab);
  CHECK(parse("", &lab, &err) == CHORDLET_OK && lab.n_segments == 0, "an empty file is empty");
  lab_free(&lab);

  /* Malformed content: the file, the line, and what is wrong. */
  EXPECT_ERROR("NaN", "0 1 C\n1 nan D\n", "bad.lab:2: end time 'nan' is NaN");
  EXPECT_ERROR("inf", "inf 1 C\n", "is infinite");
  EXPECT_ERROR("negative", "-1 1 C\n", "negative time");
  EXPECT_ERROR("reversed", "0 1 C\n2 1.5 D\n", "bad.lab:2: the segment ends before it starts");
  EXPECT_ERROR("overlap", "0 1 C\n0.5 2 D\n", "bad.lab:2: the segment starts before the previous one ends");
  EXPECT_ERROR("unsorted", "5 6 C\n0 1 D\n", "before the previous one ends");
  EXPECT_ERROR("missing label", "0 1\n", "expected three fields");
  EXPECT_ERROR("one number", "0\n", "expected three fields");
  EXPECT_ERROR("not a number", "0 one C\n", "end time 'one' is not a number");
  EXPECT_ERROR("hex", "0x1 2 C\n", "is not a number");
  EXPECT_ERROR("comma decimal", "0,5 2 C\n", "is not a number");
  EXPECT_ERROR("absurd time", "0 1e12 C\n", "beyond one week");
  EXPECT_ERROR("huge exponent", "0 1e999 C\n", "infinite or out of range");
  EXPECT_ERROR("bad label", "0 1 C\n1 2 H:maj\n", "bad.lab:2: invalid chord label 'H:maj'");
  EXPECT_ERROR("label with spaces", "0 1 C:maj 7\n", "cannot contain spaces");
  expect_error("NUL byte", "0 1 C\n\0\1\2", 9, "bad.lab:2: NUL byte");
  {
    static char long_line[LAB_MAX_LINE + 100];
    memset(long_line, '1', sizeof long_line - 1);
    long_line[sizeof long_line - 1] = '\0';
    EXPECT_ERROR("long line", long_line, "longer than");
  }

  /* Writing: round trip, atomic replacement, failures leave nothing behind. */
  char dir[] = "/tmp/chordlet_test_lab_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char path[256];
  snprintf(path, sizeof path, "%s/out.lab", dir);
  CHECK(parse("0 1.25 C:maj7/3\n1.25 2 N\n2.5 3.125 Ebb:min(*5)\n", &lab, &err) == CHORDLET_OK, "%s", err.message);
  CHECK(lab_write(path, &lab, &err) == CHORDLET_OK, "write: %s", err.message);
  lab_file back;
  CHECK(lab_read(path, &back, &err) == CHORDLET_OK, "read back: %s", err.message);
  CHECK(back.n_segments == lab.n_segments, "same segment count");
  for (size_t i = 0; i < back.n_segments && i < lab.n_segments; i++) {
    CHECK(back.segments[i].start == lab.segments[i].start && back.segments[i].end == lab.segments[i].end,
          "segment %zu times", i);
    CHECK(memcmp(&back.segments[i].chord, &lab.segments[i].chord, sizeof(harte_chord)) == 0, "segment %zu chord", i);
  }
  lab_free(&back);
  CHECK(count_temp_files(dir) == 0, "no temporary files left");

  char missing_dir_path[300];
  snprintf(missing_dir_path, sizeof missing_dir_path, "%s/no/such/dir/out.lab", dir);
  CHECK(lab_write(missing_dir_path, &lab, &err) == CHORDLET_ERR_IO, "writing into a missing folder fails");
  CHECK(strstr(err.message, "no/such/dir") != NULL, "and names it: %s", err.message);
  CHECK(lab_read(missing_dir_path, &back, &err) == CHORDLET_ERR_IO && strstr(err.message, "cannot open"),
        "reading a missing file: %s", err.message);

  /* A full disk, simulated with a file size limit: the write fails, the old
   * file is untouched, and no temporary file is left. */
  lab_file big = {0};
  for (int i = 0; i < 20000; i++) {
    harte_chord c;
    harte_parse("C#:min7/b7", &c, NULL);
    lab_append(&big, i, i + 1, &c, NULL);
  }
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit old, small = {4096, 4096};
  getrlimit(RLIMIT_FSIZE, &old);
  small.rlim_max = old.rlim_max;
  setrlimit(RLIMIT_FSIZE, &small);
  chordlet_status st = lab_write(path, &big, &err);
  setrlimit(RLIMIT_FSIZE, &old);
  CHECK(st == CHORDLET_ERR_IO, "a write past the size limit fails (status %d)", st);
  CHECK(strstr(err.message, "out.lab") != NULL, "and names the file: %s", err.message);
  CHECK(lab_read(path, &back, &err) == CHORDLET_OK && back.n_segments == lab.n_segments,
        "the old file is intact");
  lab_free(&back);
  CHECK(count_temp_files(dir) == 0, "no temporary files left after the failure");

  /* lab_append checks like the reader does. */
  harte_chord c;
  harte_parse("C", &c, NULL);
  lab_file built = {0};
  CHECK(lab_append(&built, 0, 1, &c, &err) == CHORDLET_OK, "append");
  CHECK(lab_append(&built, 0.5, 2, &c, &err) != CHORDLET_OK, "append rejects overlap");
  CHECK(lab_append(&built, 2, NAN, &c, &err) != CHORDLET_OK, "append rejects NaN");
  lab_free(&built);
  lab_free(&big);
  lab_free(&lab);
  unlink(path);
  rmdir(dir);
  return check_summary("test_lab");
}
