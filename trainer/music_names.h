/*
 * music_names.h: the names and paths of the real-music survey, with the
 * semantics of Python's os.path (which the survey's file layout was first
 * written in): joining, dirname, basename, splitext, abspath; and the flat
 * names kept files get. All return malloc'd strings (NULL when out of memory).
 *
 * Thread: any.
 */
#ifndef CHORDLET_TRAINER_MUSIC_NAMES_H
#define CHORDLET_TRAINER_MUSIC_NAMES_H

/* os.path.join(a, b): b alone when it is absolute. */
char *path_join(const char *a, const char *b);
/* os.path.dirname: up to the last /, trailing slashes dropped (unless all). */
char *path_dirname(const char *p);
/* os.path.basename: after the last /. */
const char *path_basename(const char *p);
/* os.path.splitext(p)[0]: p without its extension (a name's leading dots are
 * no extension). */
char *path_stem(const char *p);
/* os.path.abspath: absolute (from the working folder) and normalised
 * lexically (., .., repeated slashes), symbolic links kept. */
char *path_absolute(const char *p);

/* A file name unique across packages: PKG__path_in_package, without a
 * leading usr/share/ or usr/share/games/, ! and / as _, and every run of
 * characters outside [A-Za-z0-9._+-] as one _ (the trainer refuses two
 * caches of one file name, so names must not collide across packages). */
char *music_flat_name(const char *pkg, const char *source);

/* printf into a new string (free()); NULL when out of memory. */
char *music_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
