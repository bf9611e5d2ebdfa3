/* main.c: `chordlet COMMAND ...`: dispatch to the subcommands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chordlet.h"
#include "commands.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  transcribe AUDIO...  name the chords of audio files (writes .lab or .json)\n"
          "  eval REF EST        score chord transcriptions against references\n"
          "                       (mir_eval's metrics; files or folders of .lab)\n"
          "  live                name the chords played into a sound card, live\n"
          "                       (PortAudio or JACK; a terminal readout or --json)\n"
          "  info MODEL          what a model file holds (metadata, tensors)\n"
          "  version             print the version\n"
          "\n"
          "`chordlet COMMAND --help` explains a command.\n");
}

static int run_command(int argc, char **argv) {
  const char *command = argv[1];
  if (strcmp(command, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
  if (strcmp(command, "info") == 0) return cmd_info(argc - 1, argv + 1);
  if (strcmp(command, "live") == 0) return cmd_live(argc - 1, argv + 1);
  if (strcmp(command, "transcribe") == 0) return cmd_transcribe(argc - 1, argv + 1);
  if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
    printf("chordlet %s\n", chordlet_version());
    return EXIT_OK;
  }
  if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
    usage(stdout);
    return EXIT_OK;
  }
  fprintf(stderr, "chordlet: unknown command '%s'\n\n", command);
  usage(stderr);
  return EXIT_USAGE;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  int status = run_command(argc, argv);
  /* Output that could not be written is a failure, not a success with the
   * results lost (`chordlet info MODEL > /dev/full` exited 0): stdout is
   * flushed here, once for every command. A command that already failed has
   * said why. */
  int flush_failed = fflush(stdout) != 0, flush_errno = errno;
  if ((flush_failed || ferror(stdout)) && status == EXIT_OK) {
    fprintf(stderr, "chordlet %s: cannot write the output: %s\n", argv[1],
            flush_failed ? strerror(flush_errno) : "a write failed");
    status = EXIT_DATA;
  }
  return status;
}
