/*
 * nist_header.h: what libsndfile does not check in a NIST/SPHERE header.
 *
 * libsndfile 1.2.0 parses a NIST header's "sample_coding -sN NAME" with
 * sscanf into an uninitialised buffer and compares the buffer with "pcm",
 * "alaw" and "ulaw" even when the sscanf did not fill it (no number after
 * -s, or nothing after it: "sample_coding -s3" then the end of the header).
 * The same file then opens or fails depending on what its stack held, so two
 * reads of one file disagree (fuzz_audio found it). This check, made before
 * sf_open, refuses such a header with a clear message, so that the verdict
 * depends on the file alone.
 *
 * Thread: any (no shared state).
 */
#ifndef CHORDLET_NIST_HEADER_H
#define CHORDLET_NIST_HEADER_H

#include <sndfile.h>

#include "chordlet.h"

/* CHORDLET_ERR_PARSE when path starts as a NIST file ("NIST_1A\n") whose
 * header (its first 1024 bytes up to "end_head", as libsndfile reads it)
 * has a "sample_coding -s" field without a number and a name after it;
 * CHORDLET_OK for every other file (not NIST, or a well-formed field, or
 * none: libsndfile then assumes PCM). CHORDLET_ERR_IO if path cannot be read. */
chordlet_status nist_check_sample_coding(const char *path, chordlet_error *err);

/* For a NIST/SPHERE file (info from sf_open): compares its header's
 * sample_count, channel_count and sample_n_bytes with the bytes after the
 * header; CHORDLET_ERR_PARSE if the file holds fewer (libsndfile does not
 * compare them: a cut file would read as shorter audio). Other formats: OK. */
chordlet_status nist_check_length(const char *path, const SF_INFO *info, long long file_size, chordlet_error *err);

#endif
