/* commands.h: the subcommands of `chordlet-train`. Each returns the process
 * exit status: 0 success, 1 failure (bad input, I/O), 2 bad usage. */
#ifndef CHORDLET_TRAINER_COMMANDS_H
#define CHORDLET_TRAINER_COMMANDS_H

enum { TRAIN_EXIT_OK = 0, TRAIN_EXIT_FAIL = 1, TRAIN_EXIT_USAGE = 2 };

int cmd_import_teacher(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_pseudo_label(int argc, char **argv);
int cmd_features(int argc, char **argv);
/* stage1, stage2, supervised (argv[0] names which) */
int cmd_train(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* make data's real-music survey (real_music.h) */
int cmd_real_music(int argc, char **argv);

#endif
