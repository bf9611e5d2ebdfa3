/*
 * real_music.h: `chordlet-train real-music`, the audio half of make data's
 * real-music fetch (scripts/fetch-real-music.sh unpacks Debian's music
 * packages; this decides what of them is kept). Two steps:
 *
 *   package PKG VERSION ROOT OUTDIR LOCATION...   (music_package.c)
 *     One unpacked package (ROOT: its files; a zip archive's members unpacked
 *     into ROOT/<archive>.unzipped/) into OUTDIR: the music files of the
 *     LOCATIONs (each folder non-recursively; `x.pk3!folder` for a folder
 *     inside a zip archive), renamed to names unique across packages, stems
 *     of one piece mixed, loops cut to one pass, clips under 30 s and
 *     unreadable files dropped. Writes OUTDIR/files.tsv (the package's
 *     manifest rows), dropped.tsv, near-loops.tsv and one fingerprint per
 *     kept file in OUTDIR/.fp/ (npy_file.h).
 *   finish OUT TSV CHECK_PACKAGES                  (music_finish.c)
 *     All finished packages (OUT/packages/PKG.tsv, in TSV's order) into
 *     OUT/manifest.tsv, OUT/dropped.tsv, OUT/pool.txt and OUT/check.txt
 *     after the duplicate search across them, and prints a summary.
 *     CHECK_PACKAGES: one argument, the check set's packages separated by
 *     spaces.
 *
 * It replaced scripts/real-music.py (NumPy) with the same decisions,
 * thresholds and outputs, so a folder fetched by either is read by both.
 *
 * Thread: main (I/O).
 */
#ifndef CHORDLET_TRAINER_REAL_MUSIC_H
#define CHORDLET_TRAINER_REAL_MUSIC_H

#define MUSIC_MIN_SECONDS 30.0 /* shorter: jingles, stingers and sound effects */
#define MUSIC_DURATION_TOL_S 1.0 /* copies differ in length by codec padding only */
#define REAL_MUSIC_PROGRAM "chordlet-train real-music"

/* Exit statuses as commands.h: 0, 1 (a failure, explained on stderr). */
int real_music_package(const char *pkg, const char *version, const char *root, const char *outdir,
                       const char *const *locations, int n_locations);
int real_music_finish(const char *out, const char *tsv, const char *check_packages);

#endif
