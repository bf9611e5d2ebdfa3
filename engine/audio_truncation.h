/*
 * audio_truncation.h: telling a cut audio file from a short one.
 *
 * libsndfile opens an AIFF, AU, W64, RF64, 8SVX, VOC or MAT4 file whose
 * header promises more audio than the file holds, clamps the frame count to
 * what is there and only notes the mismatch in its log. Read as it is, a
 * truncated file would be silently shorter audio. These checks read what
 * libsndfile noted (SFC_GET_LOG_INFO: a chunk declared longer than the file,
 * "(should be N)" with N smaller, the ds64 count, "truncated"). NIST/SPHERE,
 * whose sample_count libsndfile does not compare with the file, is checked
 * from its header by nist_header.h. A header that declares less than the file holds
 * (trailing tags or padding) is not an error. Formats without any length in
 * their header (IRCAM, PAF, PVF, ...) cannot be checked: they read to the end.
 *
 * Thread: any (no shared state).
 */
#ifndef CHORDLET_AUDIO_TRUNCATION_H
#define CHORDLET_AUDIO_TRUNCATION_H

#include <sndfile.h>

#include "chordlet.h"

/* CHORDLET_ERR_PARSE with a message that quotes libsndfile's note when the
 * log of the open file sf shows a header that declares more audio than path
 * holds; CHORDLET_OK otherwise. */
chordlet_status audio_check_sndfile_log(SNDFILE *sf, const char *path, chordlet_error *err);

#endif
