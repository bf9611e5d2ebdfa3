/* commands.h: the subcommands of `chordlet`. Each returns the process exit
 * status: 0 success, 1 bad input data or a failed operation, 2 bad usage. */
#ifndef CHORDLET_APP_COMMANDS_H
#define CHORDLET_APP_COMMANDS_H

enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2 };

int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_transcribe(int argc, char **argv);

#endif
