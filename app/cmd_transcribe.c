/* cmd_transcribe.c: `chordlet transcribe AUDIO...`: audio files in, chord
 * files (.lab or .json) out, written atomically next to each input or into
 * a folder. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "commands.h"
#include "error.h"
#include "json_writer.h"
#include "model_paths.h"
#include "plot.h"
#include "recognizer.h"
#include "tuning.h"
#include "vocab.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet transcribe [options] AUDIO...\n"
          "\n"
          "Names the chords of audio files: writes NAME.lab (start end label, Harte\n"
          "labels) or NAME.json for every input. AUDIO is a file (WAV, FLAC, Ogg, MP3 and\n"
          "whatever else libsndfile reads) or a folder of them.\n"
          "\n"
          "  -o, --output DIR     write into DIR instead of next to each input\n"
          "  -m, --model MODEL    a .chordlet file, or a shipped model: offline (the\n"
          "                       file-mode student), default (the live one), teacher\n"
          "                       (without it: the first of these that is shipped)\n"
          "  -f, --format FORMAT  lab (default) or json (segments with 170-class index\n"
          "                       and confidence)\n"
          "  --decoder NAME       viterbi (default: the model's smoothing decoder) or\n"
          "                       argmax (the most probable chord of every frame)\n"
          "  --switch-penalty X   the Viterbi decoder's cost of a chord change (natural\n"
          "                       log; default: the model's)\n"
          "  --change-advance S   write every chord change S seconds earlier than the\n"
          "                       frames place it (default: the model's, measured on the\n"
          "                       validation split; 0 for none; -0.5..0.5)\n"
          "  --phases K           1 (default) or 3: K passes of a student over the audio,\n"
          "                       each a third of a frame later, decoded on a grid K\n"
          "                       times finer: chord changes placed to 20 ms with the\n"
          "                       file-mode student, whatever the audio's start; K times\n"
          "                       the work\n"
          "  --tuning T           the music's reference pitch: auto (default: estimated\n"
          "                       from each file), an A4 in Hz (440, 442.5, 415) or cents\n"
          "                       from A4 = 440 Hz (-30c); 400..480 Hz\n"
          "  --plot WHAT          also draw the chord timeline over the constant-Q features\n"
          "                       the model heard: FILE.png or FILE.svg for one input, or\n"
          "                       png / svg for a picture next to each output\n"
          "  --spelling S         chord names in the picture: friendly (C#m7, the default)\n"
          "                       or harte (C#:min7); .lab files are always Harte\n"
          "  --skip-existing      leave inputs whose output already exists (resume a batch)\n"
          "  -q, --quiet          no progress display\n"
          "\n"
          "Exit status: 0 all files done, 1 some failed (each is reported), 2 bad usage.\n");
}

static const char *const audio_extensions[] = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff",
                                               ".aifc", ".au", ".w64", ".caf", ".opus", NULL};

static bool has_audio_extension(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot) return false;
  for (int i = 0; audio_extensions[i]; i++)
    if (strcasecmp(dot, audio_extensions[i]) == 0) return true;
  return false;
}

typedef struct string_list {
  char **items;
  size_t n, cap;
} string_list;

static int push(string_list *l, char *s) {
  if (!s) return -1;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    char **items = realloc(l->items, cap * sizeof *items);
    if (!items) {
      free(s);
      return -1;
    }
    l->items = items;
    l->cap = cap;
  }
  l->items[l->n++] = s;
  return 0;
}

static void free_list(string_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
}

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
  return p;
}

/* Expands files and folders (their audio files, sorted) into inputs. */
static int collect_inputs(char **args, int n_args, string_list *inputs) {
  for (int i = 0; i < n_args; i++) {
    struct stat st;
    if (stat(args[i], &st) != 0) {
      fprintf(stderr, "chordlet transcribe: cannot read '%s': %s\n", args[i], strerror(errno));
      return EXIT_DATA;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (push(inputs, strdup(args[i]))) {
        fprintf(stderr, "chordlet transcribe: out of memory\n");
        return EXIT_DATA;
      }
      continue;
    }
    DIR *d = opendir(args[i]);
    if (!d) {
      fprintf(stderr, "chordlet transcribe: cannot list '%s': %s\n", args[i], strerror(errno));
      return EXIT_DATA;
    }
    size_t first = inputs->n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
      if (e->d_name[0] != '.' && has_audio_extension(e->d_name) && push(inputs, path_join(args[i], e->d_name))) {
        fprintf(stderr, "chordlet transcribe: out of memory\n");
        closedir(d);
        return EXIT_DATA;
      }
    closedir(d);
    if (inputs->n == first) fprintf(stderr, "chordlet transcribe: warning: no audio files in '%s'\n", args[i]);
    qsort(inputs->items + first, inputs->n - first, sizeof *inputs->items, compare_strings);
  }
  return EXIT_OK;
}

/* NAME.<ext> next to the input or in out_dir. */
static char *output_path(const char *input, const char *out_dir, const char *ext) {
  const char *base = strrchr(input, '/');
  base = base ? base + 1 : input;
  const char *dot = strrchr(base, '.');
  size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  size_t dir_len = out_dir ? strlen(out_dir) + 1 : (size_t)(base - input);
  char *p = malloc(dir_len + stem + strlen(ext) + 2);
  if (!p) return NULL;
  if (out_dir) sprintf(p, "%s/", out_dir);
  else memcpy(p, input, dir_len), p[dir_len] = '\0';
  strncat(p, base, stem);
  strcat(p, ext);
  return p;
}

typedef struct progress {
  bool on_terminal;
  size_t index, count;
  const char *name;
  int last_percent;
} progress;

static void show_progress(void *ctx, double fraction) {
  progress *p = ctx;
  if (!p->on_terminal) return;
  int percent = (int)(fraction * 100 + 0.5);
  if (percent == p->last_percent) return;
  p->last_percent = percent;
  enum { WIDTH = 30 };
  char bar[WIDTH + 1];
  int filled = percent * WIDTH / 100;
  for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
  bar[WIDTH] = '\0';
  fprintf(stderr, "\r\033[K[%zu/%zu] %-32.32s [%s] %3d%%", p->index + 1, p->count, p->name, bar, percent);
  fflush(stderr);
}

static chordlet_status write_lab(const char *path, const transcription *t, chordlet_error *err) {
  return lab_write(path, &t->segments, err);
}

static chordlet_status write_json(const char *path, const char *input, const recognizer *r,
                                  const transcription *t, chordlet_error *err) {
  atomic_file f;
  chordlet_status st = atomic_file_open(&f, path, err);
  if (st) return st;
  json_writer w;
  json_begin(&w, f.stream);
  json_object_open(&w, NULL);
  json_string(&w, "file", input);
  json_string(&w, "model", recognizer_name(r));
  json_number(&w, "frame_seconds", t->frame_seconds); /* the decoder's: the model's hop / phases */
  json_object_open(&w, "tuning");
  json_number(&w, "a4_hz", tuning_cents_to_hz(t->tuning_cents));
  json_number(&w, "cents", t->tuning_cents);
  json_bool(&w, "estimated", t->tuning_estimated);
  json_object_close(&w);
  json_array_open(&w, "segments");
  for (size_t i = 0; i < t->segments.n_segments; i++) {
    const lab_segment *s = &t->segments.segments[i];
    char label[HARTE_LABEL_MAX + 1], class_name[VOCAB_NAME_MAX];
    harte_format(&s->chord, label, sizeof label);
    int cls = harte_to_class(&s->chord);
    vocab_class_name(cls, class_name, sizeof class_name);
    json_object_open(&w, NULL);
    json_number(&w, "start", s->start);
    json_number(&w, "end", s->end);
    json_string(&w, "label", label);
    json_int(&w, "class", cls);
    json_string(&w, "class_label", class_name);
    json_number(&w, "confidence", t->confidence[i]);
    json_object_close(&w);
  }
  json_array_close(&w);
  json_object_close(&w);
  json_end(&w);
  return atomic_file_commit(&f, err);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One OpenBLAS thread, unless the environment asks for more. The networks'
 * matrices are cache-sized blocks that a second thread does not speed up
 * (10 min of audio on an idle 2-core machine: the live student 4.27 s on 1
 * thread, 4.34 s on 2; the file-mode one 0.94 / 0.95 s; the teacher 3 %
 * faster on 2), while on a busy machine OpenBLAS's threads spin and yield
 * for each other (the live student on the demo: 0.23 s on 1 thread, 0.97 s
 * on 2, with one core taken). More files at once is the way to more cores. */
static void one_blas_thread(void) {
  if (!getenv("OPENBLAS_NUM_THREADS") && !getenv("OMP_NUM_THREADS")) openblas_set_num_threads(1);
}

int cmd_transcribe(int argc, char **argv) {
  one_blas_thread();
  const char *out_dir = NULL, *model_name = NULL, *format = "lab";
  recognizer_options options = {.decoder = RECOGNIZER_VITERBI, .phases = 1};
  const char *plot = NULL;
  chordlet_spelling spelling = CHORDLET_SPELLING_FRIENDLY;
  bool quiet = false, skip_existing = false;
  char **args = malloc((size_t)argc * sizeof *args);
  int n_args = 0;
  if (!args) {
    fprintf(stderr, "chordlet transcribe: out of memory\n");
    return EXIT_DATA;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      free(args);
      return EXIT_OK;
    } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && has_value) {
      out_dir = argv[++i];
    } else if ((strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) && has_value) {
      model_name = argv[++i];
    } else if ((strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) && has_value) {
      format = argv[++i];
    } else if (strcmp(a, "--decoder") == 0 && has_value) {
      const char *d = argv[++i];
      if (strcmp(d, "viterbi") == 0) options.decoder = RECOGNIZER_VITERBI;
      else if (strcmp(d, "argmax") == 0) options.decoder = RECOGNIZER_ARGMAX;
      else {
        fprintf(stderr, "chordlet transcribe: --decoder is viterbi or argmax, not '%s'\n", d);
        free(args);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--switch-penalty") == 0 && has_value) {
      char *end = NULL;
      options.switch_penalty = strtod(argv[++i], &end);
      if (!end || *end || !(options.switch_penalty > 0 && options.switch_penalty < 1e6)) {
        fprintf(stderr, "chordlet transcribe: --switch-penalty wants a number above 0, not '%s'\n", argv[i]);
        free(args);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--change-advance") == 0 && has_value) {
      char *end = NULL;
      options.change_advance = strtod(argv[++i], &end);
      if (!end || *end || !(fabs(options.change_advance) <= RECOGNIZER_MAX_ADVANCE)) {
        fprintf(stderr, "chordlet transcribe: --change-advance wants seconds from -%g to %g, not '%s'\n",
                RECOGNIZER_MAX_ADVANCE, RECOGNIZER_MAX_ADVANCE, argv[i]);
        free(args);
        return EXIT_USAGE;
      }
      options.advance_given = 1;
    } else if (strcmp(a, "--phases") == 0 && has_value) {
      char *end = NULL;
      const long k = strtol(argv[++i], &end, 10);
      if (!end || *end || k < 1 || k > RECOGNIZER_MAX_PHASES) {
        fprintf(stderr, "chordlet transcribe: --phases wants a whole number from 1 to %d, not '%s'\n",
                RECOGNIZER_MAX_PHASES, argv[i]);
        free(args);
        return EXIT_USAGE;
      }
      options.phases = (int)k;
    } else if (strcmp(a, "--tuning") == 0 && has_value) {
      chordlet_error terr;
      if (chordlet_tuning_parse(argv[++i], &options.tuning_hz, &terr)) {
        fprintf(stderr, "chordlet transcribe: --tuning: %s\n", terr.message);
        free(args);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--plot") == 0 && has_value) {
      plot = argv[++i];
      options.keep_features = 1;
    } else if (strcmp(a, "--spelling") == 0 && has_value) {
      const char *v = argv[++i];
      if (strcmp(v, "friendly") == 0) spelling = CHORDLET_SPELLING_FRIENDLY;
      else if (strcmp(v, "harte") == 0) spelling = CHORDLET_SPELLING_HARTE;
      else {
        fprintf(stderr, "chordlet transcribe: --spelling is friendly or harte, not '%s'\n", v);
        free(args);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--skip-existing") == 0) {
      skip_existing = true;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      quiet = true;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "chordlet transcribe: unknown option '%s' (or it lacks its value)\n\n", a);
      usage(stderr);
      free(args);
      return EXIT_USAGE;
    } else {
      args[n_args++] = argv[i];
    }
  }
  if (strcmp(format, "lab") != 0 && strcmp(format, "json") != 0) {
    fprintf(stderr, "chordlet transcribe: --format is lab or json, not '%s'\n", format);
    free(args);
    return EXIT_USAGE;
  }
  if (n_args == 0) {
    fprintf(stderr, "chordlet transcribe: no audio given\n\n");
    usage(stderr);
    free(args);
    return EXIT_USAGE;
  }
  if (out_dir) {
    struct stat st;
    if (stat(out_dir, &st) != 0) {
      fprintf(stderr, "chordlet transcribe: output folder '%s' %s\n", out_dir,
              errno == ENOENT ? "does not exist" : strerror(errno));
      free(args);
      return EXIT_DATA;
    }
    if (!S_ISDIR(st.st_mode)) {
      fprintf(stderr, "chordlet transcribe: output folder '%s' is not a folder\n", out_dir);
      free(args);
      return EXIT_DATA;
    }
  }
  string_list inputs = {0};
  int status = collect_inputs(args, n_args, &inputs);
  free(args);
  if (status) {
    free_list(&inputs);
    return status;
  }
  const char *plot_ext = NULL; /* --plot png|svg: a picture beside each output */
  if (plot) {
    chordlet_error perr;
    if (strcmp(plot, "png") == 0 || strcmp(plot, "svg") == 0) {
      plot_ext = strcmp(plot, "png") == 0 ? ".png" : ".svg";
    } else if (plot_check_path(plot, &perr)) {
      fprintf(stderr, "chordlet transcribe: --plot: %s (or png / svg for one beside each output)\n", perr.message);
      free_list(&inputs);
      return EXIT_USAGE;
    } else if (inputs.n != 1) {
      fprintf(stderr, "chordlet transcribe: --plot %s names one picture for %zu inputs: use --plot png or svg\n",
              plot, inputs.n);
      free_list(&inputs);
      return EXIT_USAGE;
    }
  }

  char model_path[4096];
  /* Without --model: the file-mode student (60 ms frames and 3.84 s of
   * lookahead: made for files), else the live one, else the teacher. */
  static const char *const fallbacks[] = {"offline", "default", "teacher"};
  int found = model_name ? model_path_resolve(model_name, model_path, sizeof model_path) == 0 : 0;
  for (size_t i = 0; !model_name && !found && i < sizeof fallbacks / sizeof *fallbacks; i++)
    found = model_path_resolve(fallbacks[i], model_path, sizeof model_path) == 0;
  if (!found) {
    fprintf(stderr, "chordlet transcribe: no model '%s' (not a file, nor a shipped model in %s)\n",
            model_name ? model_name : "offline", model_path);
    free_list(&inputs);
    return EXIT_DATA;
  }
  recognizer *r;
  chordlet_error err;
  if (recognizer_load(model_path, &r, &err)) {
    fprintf(stderr, "chordlet transcribe: %s\n", err.message);
    free_list(&inputs);
    return EXIT_DATA;
  }

  int phases;
  if (recognizer_phases(r, &options, &phases, &err)) {
    fprintf(stderr, "chordlet transcribe: --phases: %s\n", err.message);
    recognizer_free(r);
    free_list(&inputs);
    return EXIT_USAGE;
  }

  progress prog = {isatty(fileno(stderr)) && !quiet, 0, inputs.n, NULL, -1};
  options.progress = show_progress;
  options.progress_ctx = &prog;
  size_t failed = 0;
  const char *ext = strcmp(format, "json") == 0 ? ".json" : ".lab";
  for (size_t i = 0; i < inputs.n; i++) {
    const char *input = inputs.items[i];
    char *out = output_path(input, out_dir, ext);
    const char *base = strrchr(input, '/');
    prog.index = i;
    prog.name = base ? base + 1 : input;
    prog.last_percent = -1;
    if (!out) {
      fprintf(stderr, "chordlet transcribe: %s: out of memory\n", input);
      failed++;
      continue;
    }
    struct stat st;
    if (skip_existing && stat(out, &st) == 0) {
      if (!quiet) fprintf(stderr, "skipped %s: %s exists\n", input, out);
      free(out);
      continue;
    }
    double t0 = now_seconds();
    transcription t;
    /* Streamed with a student: memory does not grow with the file (recognizer.h). */
    chordlet_status fst = recognizer_transcribe_file(r, input, &options, &t, &err);
    if (!fst) {
      fst = strcmp(format, "json") == 0 ? write_json(out, input, r, &t, &err) : write_lab(out, &t, &err);
      if (!fst && plot) {
        char *picture = plot_ext ? output_path(input, out_dir, plot_ext) : strdup(plot);
        const char *name = strrchr(input, '/');
        char title[600];
        snprintf(title, sizeof title, "%s: %zu chords (model %s)", name ? name + 1 : input, t.segments.n_segments,
                 recognizer_name(r));
        fst = picture ? plot_transcription(picture, t.features, t.feature_frames, t.n_bins, t.feature_seconds, &t.segments,
                                           t.duration_seconds, spelling, title, &err)
                      : chordlet_fail(&err, CHORDLET_ERR_NO_MEMORY, "out of memory");
        if (!fst && !quiet) fprintf(stderr, "%s%s: the picture is %s\n", prog.on_terminal ? "\r\033[K" : "", input, picture);
        free(picture);
      }
      double seconds = t.duration_seconds, took = now_seconds() - t0;
      if (!fst && !quiet)
        fprintf(stderr, "%s%s -> %s: %zu chords, %.1f s of audio in %.1f s (%.0fx real time)\n",
                prog.on_terminal ? "\r\033[K" : "", input, out, t.segments.n_segments, seconds, took,
                seconds / (took > 0 ? took : 1e-9));
      transcription_free(&t);
    }
    if (fst) {
      failed++;
      fprintf(stderr, "%schordlet transcribe: %s\n", prog.on_terminal ? "\r\033[K" : "", err.message);
    }
    free(out);
  }
  if (failed) fprintf(stderr, "chordlet transcribe: %zu of %zu files failed\n", failed, inputs.n);
  recognizer_free(r);
  free_list(&inputs);
  if (plot) plot_release_caches();
  return failed ? EXIT_DATA : EXIT_OK;
}
