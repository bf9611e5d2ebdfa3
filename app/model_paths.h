/* model_paths.h: where the command finds a model given by name. */
#ifndef CHORDLET_APP_MODEL_PATHS_H
#define CHORDLET_APP_MODEL_PATHS_H

#include <stddef.h>

/* Resolves a --model argument into a file path:
 *  - an existing file is used as it is;
 *  - a name ("teacher", "default") is looked up as NAME.chordlet in, in order:
 *    $CHORDLET_MODELS, the models/ folder next to the build folder holding
 *    the running binary (a source checkout), and $prefix/share/chordlet/models
 *    for an installed binary.
 * Returns 0 and the path, or -1 with `out` listing the folders searched. */
int model_path_resolve(const char *name, char *out, size_t out_size);

#endif
