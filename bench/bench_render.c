/* bench_render.c: `make bench`, the trainer's MIDI renderer: `chordlet-train
 * render` in x real time on 1 and 2 worker processes, with each Debian GM
 * soundfont, against the baseline the data README measured: the fluidsynth
 * command line on the same songs, one process.
 *
 * Songs: the first SONGS of ../shared/data/splits/pop909cl_valid.txt (or
 * CHORDLET_SHARED). Rows:
 *   - `--families original`: the file's own piano, as the command line plays
 *     it, reverb and chorus as drawn (80 % / 40 % of renders);
 *   - defaults: every augmentation on (both soundfonts, organs, guitars,
 *     strings and pads, which sustain more voices and render slower);
 *   - baseline: `fluidsynth -ni -q -g 0.6 -r 22050 -F out.wav` (reverb and
 *     chorus on, as its defaults; no trim step, so it renders ~3 s of tail
 *     per song that are not counted as audio).
 * x RT = seconds of output audio per second of wall time, including process
 * start and soundfont loading (one load per worker). One run per row; the
 * machine is shared, so expect ~10-20 % noise. The binary is run as a
 * separate process because the bench programs do not link fluidsynth. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sndfile.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

extern char **environ;

enum { SONGS = 6, MAX_ARGS = 32 };
#define FLUID_SF2 "/usr/share/sounds/sf2/FluidR3_GM.sf2"
#define TIM_SF2 "/usr/share/sounds/sf2/TimGM6mb.sf2"

/* Paths here are short; a longer one is a broken setup, not worth running on. */
#define PATH_PRINTF(buf, ...)                                              \
  do {                                                                     \
    int n_ = snprintf(buf, sizeof buf, __VA_ARGS__);                       \
    if (n_ < 0 || (size_t)n_ >= sizeof buf) {                              \
      fprintf(stderr, "bench_render: path too long\n");                    \
      exit(1);                                                             \
    }                                                                      \
  } while (0)

/* Runs argv with stdout and stderr to /dev/null; its wall time, or -1. */
static double run(char *const argv[]) {
  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) return -1;
  if (posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) != 0 ||
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return -1;
  }
  double t0 = bench_now();
  pid_t pid;
  int st = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (st != 0) {
    fprintf(stderr, "bench_render: cannot run %s: %s\n", argv[0], strerror(st));
    return -1;
  }
  int status;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_render: %s failed\n", argv[0]);
    return -1;
  }
  return bench_now() - t0;
}

/* Seconds of audio in the .flac files of dir (frames / rate). */
static double flac_seconds(const char *dir, const char ids[][32], int n, const char *collection) {
  double total = 0;
  for (int i = 0; i < n; i++) {
    char path[PATH_MAX];
    PATH_PRINTF(path, "%s/%s/%s.flac", dir, collection, ids[i]);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return -1;
    total += (double)info.frames / info.samplerate;
    sf_close(f);
  }
  return total;
}

static double lab_seconds(const char *path) {
  FILE *f = fopen(path, "r");
  double a, b, end = -1;
  char label[512];
  while (f && fscanf(f, "%lf %lf %511s", &a, &b, label) == 3) end = b;
  if (f) fclose(f);
  return end;
}

static void row(const char *what, const char *config, double audio, double t) {
  printf("| %-34s | %-30s | %8.2f | %8.1fx |\n", what, config, t, audio / t);
}

int main(void) {
  const char *shared = getenv("CHORDLET_SHARED");
  if (!shared || !*shared) shared = "../shared";
  char list[PATH_MAX], midi_dir[PATH_MAX], train[PATH_MAX], self[PATH_MAX];
  PATH_PRINTF(list, "%s/data/splits/pop909cl_valid.txt", shared);
  PATH_PRINTF(midi_dir, "%s/data/midi/pop909cl", shared);
  FILE *f = fopen(list, "r");
  struct stat st;
  if (!f || stat(FLUID_SF2, &st) != 0 || stat(TIM_SF2, &st) != 0) {
    printf("bench_render: skipped: needs %s and the Debian GM soundfonts\n", list);
    if (f) fclose(f);
    return 0;
  }
  char ids[SONGS][32];
  int n = 0;
  while (n < SONGS && fscanf(f, "%31s", ids[n]) == 1) n++;
  fclose(f);
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  PATH_PRINTF(train, "%s/../chordlet-train", dirname(self));
  char tmp[] = "/tmp/chordlet-bench-render.XXXXXX";
  if (!mkdtemp(tmp)) return 1;
  char sublist[PATH_MAX];
  PATH_PRINTF(sublist, "%s/pop909cl_bench.txt", tmp);
  FILE *out = fopen(sublist, "w");
  if (!out) return 1;
  double song_seconds = 0;
  for (int i = 0; i < n; i++) {
    fprintf(out, "%s\n", ids[i]);
    char lab[PATH_MAX];
    PATH_PRINTF(lab, "%s/%s.lab", midi_dir, ids[i]);
    song_seconds += lab_seconds(lab);
  }
  if (fclose(out) != 0) return 1;

  printf("chordlet bench (MIDI rendering): %d pop909cl songs, %.1f min, 22050 Hz mono FLAC\n\n", n,
         song_seconds / 60);
  printf("| %-34s | %-30s | %8s | %9s |\n", "renderer", "configuration", "seconds", "x RT");
  printf("|------------------------------------|--------------------------------|----------|-----------|\n");
  int status = 0;
  static const struct {
    const char *label, *font, *families;
  } configs[] = {
      {"chordlet-train render", FLUID_SF2, "original"},
      {"chordlet-train render", TIM_SF2, "original"},
      {"chordlet-train render (defaults)", NULL, NULL},
  };
  for (size_t c = 0; c < sizeof configs / sizeof *configs; c++)
    for (int jobs = 1; jobs <= 2; jobs++) {
      char dir[PATH_MAX], jobs_text[8], config[64];
      PATH_PRINTF(dir, "%s/out%zu_%d", tmp, c, jobs);
      snprintf(jobs_text, sizeof jobs_text, "%d", jobs);
      char *argv[MAX_ARGS];
      int a = 0;
      argv[a++] = train;
      argv[a++] = "render";
      argv[a++] = "-q";
      argv[a++] = "--jobs";
      argv[a++] = jobs_text;
      argv[a++] = "--out";
      argv[a++] = dir;
      argv[a++] = "--midi-dir";
      argv[a++] = midi_dir;
      if (configs[c].font) {
        argv[a++] = "--soundfont";
        argv[a++] = (char *)configs[c].font;
        argv[a++] = "--families";
        argv[a++] = (char *)configs[c].families;
      }
      argv[a++] = sublist;
      argv[a] = NULL;
      double t = run(argv);
      double audio = flac_seconds(dir, ids, n, "pop909cl");
      if (t <= 0 || audio <= 0) {
        status = 1;
        continue;
      }
      snprintf(config, sizeof config, "%s, %d job%s",
               configs[c].font ? (strcmp(configs[c].font, FLUID_SF2) == 0 ? "FluidR3_GM" : "TimGM6mb")
                               : "both soundfonts",
               jobs, jobs > 1 ? "s" : "");
      row(configs[c].label, config, audio, t);
    }
  const char *fluidsynth = "/usr/bin/fluidsynth";
  if (stat(fluidsynth, &st) == 0) {
    const char *fonts[] = {FLUID_SF2, TIM_SF2};
    for (int k = 0; k < 2; k++) {
      double total = 0;
      for (int i = 0; i < n && total >= 0; i++) {
        char mid[PATH_MAX], wav[PATH_MAX];
        PATH_PRINTF(mid, "%s/%s.mid", midi_dir, ids[i]);
        PATH_PRINTF(wav, "%s/baseline.wav", tmp);
        char *argv[] = {(char *)fluidsynth, "-ni", "-q", "-g", "0.6", "-r", "22050", "-F", wav, "-T", "wav",
                        "-O", "s16", (char *)fonts[k], mid, NULL};
        double t = run(argv);
        total = t < 0 ? -1 : total + t;
      }
      if (total > 0) row("fluidsynth CLI (baseline)", k ? "TimGM6mb, 1 process" : "FluidR3_GM, 1 process",
                         song_seconds, total);
      else status = 1;
    }
  }
  printf("\nx RT = seconds of output audio per second of wall time (process start and soundfont loads\n"
         "included). The defaults draw organs, guitars, strings and pads, which hold more voices than\n"
         "the files' piano. The baseline also renders ~3 s of tail per song, not counted.\n");
  char *rm[] = {"/bin/rm", "-rf", tmp, NULL};
  if (run(rm) < 0) status = 1;
  return status;
}
