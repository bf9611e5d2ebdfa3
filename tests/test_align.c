/* test_align.c: box-average alignment between frame grids (TEACHER.md 7). */
#include "align.h"
#include "check.h"

int main(void) {
  /* A teacher-like grid: hop h, 20 frames, two classes, p(class 0) = k / 19. */
  enum { T = 20, C = 2 };
  const double h = 512.0 / 22050;
  float src[T * C];
  for (int k = 0; k < T; k++) {
    src[k * C] = (float)k / (T - 1);
    src[k * C + 1] = 1 - src[k * C];
  }
  /* A student frame of width 4h centred on teacher frame 8: weights
   * (0.5, 1, 1, 1, 0.5)/4 over frames 6..10 (TEACHER.md 7). */
  double centre = 8 * h;
  float out[C];
  chordlet_error err;
  CHECK(align_box_average(src, T, C, h, &centre, 1, 4 * h, out, &err) == CHORDLET_OK, "%s", err.message);
  double expect = (0.5 * src[6 * C] + src[7 * C] + src[8 * C] + src[9 * C] + 0.5 * src[10 * C]) / 4;
  CHECK_NEAR(out[0], expect, 1e-6, "TEACHER.md's five-frame rule");
  CHECK_NEAR(out[0] + out[1], 1, 1e-6, "a probability row stays one");
  /* At the start only frames 0..2 exist: weights renormalised. */
  centre = 0;
  align_box_average(src, T, C, h, &centre, 1, 4 * h, out, &err);
  CHECK_NEAR(out[0], (src[0] * 1.0 + src[2] + src[4] * 0.5) / 2.5, 1e-6, "edge: frames 0, 1, 2 weighted 1, 1, 0.5");
  /* Same grid, same width: the identity. */
  double centres[T];
  float same[T * C];
  for (int k = 0; k < T; k++) centres[k] = k * h;
  align_box_average(src, T, C, h, centres, T, h, same, &err);
  int identical = 1;
  for (int i = 0; i < T * C; i++) identical &= fabsf(same[i] - src[i]) < 1e-7f;
  CHECK(identical, "same grid gives the same frames");
  /* A frame beyond the end takes the last frame. */
  centre = 100 * h;
  align_box_average(src, T, C, h, &centre, 1, h, out, &err);
  CHECK(out[0] == src[(T - 1) * C], "past the end: nearest frame");
  /* Bad arguments. */
  CHECK(align_box_average(src, 0, C, h, &centre, 1, h, out, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "no frames");
  centre = NAN;
  CHECK(align_box_average(src, T, C, h, &centre, 1, h, out, &err) == CHORDLET_ERR_INVALID_ARGUMENT, "NaN time");
  return check_summary("test_align");
}
