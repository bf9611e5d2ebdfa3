/* real_music.c: `chordlet-train real-music package|finish ...` (real_music.h):
 * the arguments, as scripts/fetch-real-music.sh gives them. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "real_music.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet-train real-music package PKG VERSION ROOT OUTDIR LOCATION...\n"
          "       chordlet-train real-music finish OUT TSV CHECK_PACKAGES\n"
          "\n"
          "The audio half of make data's real-music fetch (scripts/fetch-real-music.sh).\n"
          "\n"
          "package: one unpacked Debian package (ROOT: its files; a zip archive's members\n"
          "  unpacked into ROOT/ARCHIVE.unzipped/) into OUTDIR: the audio files (ogg oga opus\n"
          "  flac wav mp3) of each LOCATION (a folder, not recursive; ARCHIVE!FOLDER for a\n"
          "  folder inside a zip archive) renamed PKG__path_in_package, stems of one piece\n"
          "  mixed (Frets on Fire's song/guitar/rhythm.ogg, a folder inside sequencer/), a\n"
          "  loop repeated to length cut to its intro and one pass (NAME.once.flac), clips\n"
          "  under 30 s and unreadable files dropped. Writes OUTDIR/files.tsv (manifest rows:\n"
          "  package, version, licence, path, minutes, sha256, pcm_sha256, channels, source),\n"
          "  dropped.tsv (package, source, reason, detail, seconds), near-loops.tsv (level\n"
          "  curves that repeat over new samples: kept) and OUTDIR/.fp/NAME.npy (each kept\n"
          "  file's level curves: RMS dB of 200 ms windows every 100 ms).\n"
          "finish: the finished packages (OUT/packages/PKG.tsv, in TSV's order) into\n"
          "  OUT/manifest.tsv and OUT/dropped.tsv after dropping copies across them (same\n"
          "  bytes, same samples, the same level curves: a re-encoding, a mono copy, a\n"
          "  channel shipped alone), OUT/pool.txt and OUT/check.txt (the kept files of the\n"
          "  packages named in CHECK_PACKAGES, one space-separated argument), and a summary.\n"
          "\n"
          "Exit status: 0; 1 when something could not be written or read back (an unreadable\n"
          "audio file is no failure: it is recorded in dropped.tsv); 2 for bad usage.\n");
}

int cmd_real_music(int argc, char **argv) {
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    usage(stdout);
    return TRAIN_EXIT_OK;
  }
  if (argc >= 6 && !strcmp(argv[1], "package"))
    return real_music_package(argv[2], argv[3], argv[4], argv[5], (const char *const *)argv + 6, argc - 6)
               ? TRAIN_EXIT_FAIL
               : TRAIN_EXIT_OK;
  if (argc == 5 && !strcmp(argv[1], "finish"))
    return real_music_finish(argv[2], argv[3], argv[4]) ? TRAIN_EXIT_FAIL : TRAIN_EXIT_OK;
  usage(stderr);
  return TRAIN_EXIT_USAGE;
}
