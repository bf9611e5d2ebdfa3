/* main.c: `chordlet-train COMMAND ...`: the offline trainer's commands. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chordlet.h"
#include "commands.h"
#include "dist.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet-train COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  import-teacher DIR OUT.chordlet   turn the pre-trained teacher's weights\n"
          "                                    (manifest.json + foldK.f32) into a model file\n"
          "  render --out DIR (LIST.txt | FILE.mid)...\n"
          "                                    render chord-annotated MIDI into labelled\n"
          "                                    training audio (FLAC + .lab) with fluidsynth\n"
          "  pseudo-label --out DIR AUDIO...    the teacher's 170-class probabilities of\n"
          "                                    unlabelled audio, cached per file\n"
          "  features --out DIR AUDIO...        the student's features (+ labels, aligned\n"
          "                                    pseudo-labels), cached per file\n"
          "  stats CACHES...                   hours, chord qualities, teacher agreement\n"
          "  stage1 --out RUN --train CACHES --valid CACHES\n"
          "                                    train the student on the teacher's pseudo-labels\n"
          "  stage2 --init MODEL --out RUN ...  continue on ground truth with selective KD\n"
          "  supervised --out RUN ...           the baseline: ground truth only, from scratch\n"
          "  export IN OUT [--switch-penalty X] a run's student model as the model file\n"
          "                                    chordlet ships (decoder setting, name)\n"
          "  real-music package|finish ...      make data's real-music survey: keep a Debian\n"
          "                                    package's music (loops cut, stems mixed, copies\n"
          "                                    dropped), the manifest and the pool/check split\n"
          "  version                           print the version\n"
          "\n"
          "`chordlet-train COMMAND --help` explains a command.\n");
}

static int dispatch(int argc, char **argv);

/* Under mpirun or srun (a build with MPI=1), every rank runs main(): the
 * commands that know about ranks share the work out (dist.h); the others
 * would only do the same work N times into the same files, so they refuse. */
int main(int argc, char **argv) {
  if (dist_init(&argc, &argv)) return TRAIN_EXIT_FAIL;
  int status;
  static const char *const ranked[] = {"render", "pseudo-label", "features", "stage1", "stage2", "supervised"};
  bool knows_ranks = false;
  for (size_t i = 0; argc >= 2 && i < sizeof ranked / sizeof *ranked; i++) knows_ranks |= !strcmp(argv[1], ranked[i]);
  if (dist_size() > 1 && !knows_ranks) {
    if (dist_is_root())
      fprintf(stderr, "chordlet-train: %s runs on one process; under mpirun only render, pseudo-label, features, "
                      "stage1, stage2 and supervised share their work across ranks\n",
              argc >= 2 ? argv[1] : "(no command)");
    status = TRAIN_EXIT_USAGE;
  } else {
    status = dispatch(argc, argv);
  }
  /* A failure on some ranks only would leave the others waiting in a
   * collective (or in MPI_Finalize's): stop the whole job instead. */
  if (status != TRAIN_EXIT_OK && dist_size() > 1) dist_abort(status);
  dist_finalize();
  return status;
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return TRAIN_EXIT_USAGE;
  }
  const char *command = argv[1];
  if (strcmp(command, "import-teacher") == 0) return cmd_import_teacher(argc - 1, argv + 1);
  if (strcmp(command, "render") == 0) return cmd_render(argc - 1, argv + 1);
  if (strcmp(command, "pseudo-label") == 0) return cmd_pseudo_label(argc - 1, argv + 1);
  if (strcmp(command, "features") == 0) return cmd_features(argc - 1, argv + 1);
  if (strcmp(command, "stats") == 0) return cmd_stats(argc - 1, argv + 1);
  if (strcmp(command, "export") == 0) return cmd_export(argc - 1, argv + 1);
  if (strcmp(command, "real-music") == 0) return cmd_real_music(argc - 1, argv + 1);
  if (!strcmp(command, "stage1") || !strcmp(command, "stage2") || !strcmp(command, "supervised"))
    return cmd_train(argc - 1, argv + 1);
  if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
    printf("chordlet-train %s\n", chordlet_version());
    return TRAIN_EXIT_OK;
  }
  if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
    usage(stdout);
    return TRAIN_EXIT_OK;
  }
  fprintf(stderr, "chordlet-train: unknown command '%s'\n\n", command);
  usage(stderr);
  return TRAIN_EXIT_USAGE;
}
