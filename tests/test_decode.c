/* test_decode.c: the decoders on hand-made cases, and the teacher's original
 * Viterbi decoding of the `music` reference (TEACHER.md 5, 9(c)): our decoder
 * on the reference ensemble probabilities must give music.decoded.submission.lab. */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "lab.h"

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)size + 1);
  *n = fread(buf, 1, (size_t)size, f);
  buf[*n] = '\0';
  fclose(f);
  return buf;
}

static void hand_cases(void) {
  /* Two classes; frame 2 prefers class 1 a little: argmax follows it, the
   * Viterbi with a switch penalty does not. */
  const float p[5 * 2] = {0.9f, 0.1f, 0.8f, 0.2f, 0.4f, 0.6f, 0.7f, 0.3f, 0.9f, 0.1f};
  int32_t path[40];
  decode_argmax(p, 5, 2, path);
  CHECK(path[0] == 0 && path[2] == 1 && path[3] == 0, "argmax follows every frame");
  decode_run runs[5];
  CHECK(decode_runs(path, 5, runs) == 3 && runs[1].first == 2 && runs[1].last == 2 && runs[1].state == 1,
        "three runs");
  const int32_t columns[2] = {0, 1}; /* state s scores column s */
  chordlet_error err;
  CHECK(decode_viterbi(p, 5, 2, columns, 2, 1, 30.0, path, &err) == CHORDLET_OK, "%s", err.message);
  CHECK(decode_runs(path, 5, runs) == 1 && runs[0].state == 0, "the penalty keeps one state");
  CHECK(decode_viterbi(p, 5, 2, columns, 2, 1, 0.0, path, &err) == CHORDLET_OK && path[2] == 1,
        "without a penalty the Viterbi path is the argmax");
  /* A long change is followed even with the penalty; frame 0 is forced to state 0. */
  float q[40 * 2];
  for (int t = 0; t < 40; t++) {
    q[2 * t] = t < 10 ? 0.99f : 0.01f;
    q[2 * t + 1] = 1 - q[2 * t];
  }
  CHECK(decode_viterbi(q, 40, 2, columns, 2, 1, 30.0, path, &err) == CHORDLET_OK, "%s", err.message);
  CHECK(path[0] == 0 && path[9] == 0 && path[10] == 1 && path[39] == 1, "changes at frame 10");
  const int32_t bad[2] = {0, 5};
  CHECK(decode_viterbi(q, 40, 2, bad, 2, 1, 30.0, path, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "bad column");
}

int main(void) {
  hand_cases();
  const char *shared = shared_dir();
  char path[4096];
  size_t n;
  snprintf(path, sizeof path, "%s/models/teacher/chord_lists/decoder_states.json", shared);
  char *json = slurp(path, &n);
  CHECK(json != NULL, "read %s", path);
  cJSON *root = json ? cJSON_Parse(json) : NULL;
  cJSON *states = cJSON_GetObjectItem(root, "submission");
  CHECK(cJSON_IsArray(states), "submission states");
  size_t S = (size_t)cJSON_GetArraySize(states);
  static const int head_offset[6] = {0, 73, 86, 90, 94, 97};
  int32_t *columns = malloc(S * 6 * sizeof *columns);
  char **names = calloc(S, sizeof *names);
  for (size_t s = 0; s < S; s++) {
    cJSON *row = cJSON_GetArrayItem(states, (int)s);
    names[s] = cJSON_GetArrayItem(row, 0)->valuestring;
    for (int h = 0; h < 6; h++) {
      int idx = cJSON_GetArrayItem(row, h + 1)->valueint;
      columns[s * 6 + h] = idx < 0 ? -1 : head_offset[h] + idx;
    }
  }
  snprintf(path, sizeof path, "%s/models/teacher/reference/music.ensemble.probs.f32", shared);
  float *probs = (float *)slurp(path, &n);
  size_t T = n / (100 * sizeof(float));
  CHECK(probs && T == 517, "517 frames of probabilities");
  int32_t *best = malloc(T * sizeof *best);
  decode_run *runs = malloc(T * sizeof *runs);
  chordlet_error err;
  CHECK(decode_viterbi(probs, T, 100, columns, S, 6, 30.0, best, &err) == CHORDLET_OK, "%s", err.message);
  size_t n_runs = decode_runs(best, T, runs);

  lab_file expected;
  snprintf(path, sizeof path, "%s/models/teacher/reference/music.decoded.submission.lab", shared);
  CHECK(lab_read(path, &expected, &err) == CHORDLET_OK, "%s", err.message);
  CHECK(n_runs == expected.n_segments, "%zu segments, expected %zu", n_runs, expected.n_segments);
  const double frame = 512.0 / 22050.0;
  for (size_t i = 0; i < n_runs && i < expected.n_segments; i++) {
    harte_chord c;
    harte_parse(names[runs[i].state], &c, NULL);
    char got[64], want[64];
    harte_format(&c, got, sizeof got);
    harte_format(&expected.segments[i].chord, want, sizeof want);
    CHECK(strcmp(got, want) == 0, "segment %zu: %s, expected %s", i, got, want);
    CHECK(fabs(runs[i].first * frame - expected.segments[i].start) < 1e-5 &&
              fabs((runs[i].last + 1) * frame - expected.segments[i].end) < 1e-5,
          "segment %zu boundaries", i);
  }
  lab_free(&expected);
  free(best);
  free(runs);
  free(probs);
  free(columns);
  free(names);
  cJSON_Delete(root);
  free(json);
  return check_summary("test_decode");
}
