/*
 * align.h: moving per-frame probabilities from one frame grid to another by
 * time (TEACHER.md 7): the teacher labels 43 frames a second, the student
 * hears its own frame rate; a student frame takes the teacher's frames that
 * overlap it, each weighted by how much of it overlaps (a box average, of
 * probabilities, never of logits).
 *
 * Source frame k stands for [k*src_hop - src_hop/2, k*src_hop + src_hop/2)
 * (centred on k*src_hop, as librosa's centred frames are). Target frame j
 * stands for [centre_j - width/2, centre_j + width/2). With src_hop 512/22050
 * and width 2048/22050 this is TEACHER.md's (0.5, 1, 1, 1, 0.5)/4 rule. A
 * target frame that no source frame overlaps takes the nearest source frame.
 *
 * Thread: any (pure).
 */
#ifndef CHORDLET_ALIGN_H
#define CHORDLET_ALIGN_H

#include <stddef.h>

#include "chordlet.h"

/* src (T_src, C); centres (T_dst) in seconds; dst (T_dst, C). Each output
 * row is renormalised to the sum of its weights, so rows of probabilities stay
 * probabilities. */
chordlet_status align_box_average(const float *src, size_t T_src, size_t C, double src_hop,
                                  const double *centres, size_t T_dst, double width, float *dst,
                                  chordlet_error *err);

#endif
