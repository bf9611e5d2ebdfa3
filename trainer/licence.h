/*
 * licence.h: which licences cover a package's music, from its Debian
 * copyright file (the real-music survey's manifest column; the file itself
 * is kept beside the music).
 *
 * A machine-readable (DEP-5) copyright file: each music file gets the
 * License: of the last Files: paragraph that matches it. Its patterns are
 * source-tree paths, so they and their tails that keep a folder (data/
 * music/STAR also as music/STAR) are tried against every tail of the installed
 * path (`!` of a path inside an archive read as `/`); none matching gives
 * "see copyright". Any other copyright file: "free-form: " and the licences
 * its text names, in order of appearance (GPL, LGPL with their version and +
 * for "any later version", CC-BY(-SA) with theirs, CC0, public domain, Expat,
 * Free Art, BSD), a bare name dropped where a versioned one of the same
 * licence appears; "see copyright" when it names none. No file: "unknown (no
 * copyright file)".
 *
 * The rules are those of the Python version this replaced, character for
 * character: the text is decoded as UTF-8 (invalid bytes as U+FFFD, universal
 * newlines), whitespace is Python's, positions count characters, and
 * patterns match as fnmatch.fnmatchcase does (`*` crosses `/`). Case is
 * folded for ASCII letters (and the few non-ASCII letters Python's re.I folds
 * onto them); a word character is ASCII or, beyond ASCII, what the C.UTF-8
 * locale calls alphanumeric; \d is ASCII.
 *
 * Thread: main/worker (I/O; allocates).
 */
#ifndef CHORDLET_TRAINER_LICENCE_H
#define CHORDLET_TRAINER_LICENCE_H

#include <stddef.h>

/* licences[i] (malloc'd strings, free with licence_free) for each of the n
 * installed paths sources[i], from the copyright file at path. 0, or -1 when
 * out of memory. */
int licence_of(const char *copyright_path, const char *const *sources, size_t n, char ***licences);
void licence_free(char **licences, size_t n);

/* The free-form reading alone: "free-form: A; B" or "see copyright" for a
 * text (UTF-8), malloc'd (NULL when out of memory). For tests. */
char *licence_free_form(const char *text, size_t len);
/* fnmatch.fnmatchcase(name, pattern) on UTF-8 strings. For tests. */
int licence_fnmatch(const char *name, const char *pattern);

#endif
