/* cmd_live.c: `chordlet live`: the chord readout from a sound card.
 *
 * Threads: the backend's audio thread runs on_audio() (the streaming front
 * end only: chordlet_stream_process, real-time safe); this main thread is the
 * worker (chordlet_stream_work: the network) and the reader (the view). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio_backend.h"
#include "chordlet.h"
#include "commands.h"
#include "live_view.h"
#include "model_paths.h"

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

typedef struct live_ctx {
  /* NULL until the stream exists: the backend reports its sample rate only
   * once it is open, and may call back from then on. */
  _Atomic(chordlet_stream *) stream;
  int channel; /* 0: the mean of the channels; 1 or 2: that channel */
  atomic_ullong frames_in;
} live_ctx;

/* Thread: audio. */
static void on_audio(void *arg, const float *const *channels, int n_channels, size_t n) {
  live_ctx *c = arg;
  chordlet_stream *s = atomic_load_explicit(&c->stream, memory_order_acquire);
  if (!s) return;
  if (c->channel > 0 && c->channel <= n_channels)
    chordlet_stream_process(s, channels + (c->channel - 1), 1, n);
  else
    chordlet_stream_process(s, channels, n_channels, n);
  atomic_fetch_add_explicit(&c->frames_in, n, memory_order_relaxed);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: chordlet live [options]\n"
          "\n"
          "Names the chords you play, live, from a sound card input.\n"
          "\n"
          "  --backend B        portaudio (default), jack, or file (plays --device FILE at\n"
          "                     real time: try the readout on a recording without a card)\n"
          "  --list-devices     the inputs the backend offers, then exit\n"
          "  --device D         PortAudio: a device number or part of its name (default: the\n"
          "                     default input); JACK: the port to listen to, e.g.\n"
          "                     system:capture_1 (default: the first physical capture ports)\n"
          "  --channel N        listen to input channel 1 or 2 only (default: the mix of the\n"
          "                     first two)\n"
          "  --model M          a live model file or name (default: default)\n"
          "  --smoothing N      the smoother's lag in 20 ms hops, 0..25 (default 4): more is\n"
          "                     steadier and later; the header states the latency\n"
          "  --threshold X      keep showing the chord while a new one's confidence is below X\n"
          "                     (0..1, default 0)\n"
          "  --tuning T         the reference pitch: auto (default: follow the music, the\n"
          "                     estimate is in the header), an A4 in Hz (440, 442.5, 415)\n"
          "                     or cents from A4 = 440 Hz (-30c); 400..480 Hz\n"
          "  --rate HZ          PortAudio: ask the device for this sample rate\n"
          "  --client-name N    JACK: the client's name (default chordlet)\n"
          "  --duration S       stop after S seconds of audio (default: at Ctrl-C)\n"
          "  --spelling S       chord names as lead sheets write them, friendly (C#m7,\n"
          "                     Bbmaj7; the default), or as Harte labels, harte (C#:min7)\n"
          "  --json             one JSON object per chord change on stdout: {\"time\",\n"
          "                     \"decided\",\"chord\" (Harte),\"label\" (--spelling),\"index\",\"root\",\n"
          "                     \"quality\",\"confidence\",\"tuning_hz\"}; the header goes to\n"
          "                     stderr\n"
          "\n"
          "Exit status: 0 after Ctrl-C or --duration, 1 when the audio cannot be opened\n"
          "or is lost, 2 for bad usage.\n");
}

static int parse_number(const char *s, double lo, double hi, double *out) {
  if (!s) return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
  *out = v;
  return 0;
}

int cmd_live(int argc, char **argv) {
  const audio_backend *backend = &audio_backend_portaudio;
  audio_request req = {.device = NULL, .client_name = "chordlet", .channels = 2, .sample_rate = 0};
  const char *model_arg = "default";
  int list = 0, json = 0, channel = 0;
  chordlet_spelling spelling = CHORDLET_SPELLING_FRIENDLY;
  double duration = 0, smoothing = 4, threshold = 0, rate = 0, tuning_hz = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                             \
  do {                                                                           \
    if (!v) {                                                                    \
      fprintf(stderr, "chordlet live: %s needs a value (see --help)\n", a);      \
      return EXIT_USAGE;                                                         \
    }                                                                            \
    i++;                                                                         \
  } while (0)
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return EXIT_OK;
    } else if (strcmp(a, "--list-devices") == 0) {
      list = 1;
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--backend") == 0) {
      NEED_VALUE();
      if (strcmp(v, "portaudio") == 0) backend = &audio_backend_portaudio;
      else if (strcmp(v, "jack") == 0) backend = &audio_backend_jack;
      else if (strcmp(v, "file") == 0) backend = &audio_backend_file;
      else {
        fprintf(stderr, "chordlet live: --backend takes portaudio, jack or file, not '%s'\n", v);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--spelling") == 0) {
      NEED_VALUE();
      if (strcmp(v, "friendly") == 0) spelling = CHORDLET_SPELLING_FRIENDLY;
      else if (strcmp(v, "harte") == 0) spelling = CHORDLET_SPELLING_HARTE;
      else {
        fprintf(stderr, "chordlet live: --spelling takes friendly or harte, not '%s'\n", v);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--device") == 0) {
      NEED_VALUE();
      req.device = v;
    } else if (strcmp(a, "--client-name") == 0) {
      NEED_VALUE();
      req.client_name = v;
    } else if (strcmp(a, "--model") == 0) {
      NEED_VALUE();
      model_arg = v;
    } else if (strcmp(a, "--channel") == 0) {
      NEED_VALUE();
      double c;
      if (parse_number(v, 1, 2, &c) || c != floor(c)) {
        fprintf(stderr, "chordlet live: --channel takes 1 or 2, not '%s'\n", v);
        return EXIT_USAGE;
      }
      channel = (int)c;
    } else if (strcmp(a, "--smoothing") == 0) {
      NEED_VALUE();
      if (parse_number(v, 0, 25, &smoothing) || smoothing != floor(smoothing)) {
        fprintf(stderr, "chordlet live: --smoothing takes a whole number of hops 0..25, not '%s'\n", v);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--tuning") == 0) {
      NEED_VALUE();
      chordlet_error terr;
      if (chordlet_tuning_parse(v, &tuning_hz, &terr)) {
        fprintf(stderr, "chordlet live: --tuning: %s\n", terr.message);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--threshold") == 0) {
      NEED_VALUE();
      if (parse_number(v, 0, 1, &threshold)) {
        fprintf(stderr, "chordlet live: --threshold takes 0..1, not '%s'\n", v);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--rate") == 0) {
      NEED_VALUE();
      if (parse_number(v, 8000, 384000, &rate)) {
        fprintf(stderr, "chordlet live: --rate takes 8000..384000 Hz, not '%s'\n", v);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--duration") == 0) {
      NEED_VALUE();
      if (parse_number(v, 0.001, 1e7, &duration)) {
        fprintf(stderr, "chordlet live: --duration takes seconds > 0, not '%s'\n", v);
        return EXIT_USAGE;
      }
    } else {
      fprintf(stderr, "chordlet live: unknown option '%s' (see --help)\n", a);
      return EXIT_USAGE;
    }
#undef NEED_VALUE
  }
  char err[512];
  if (list) {
    if (backend->list(stdout, err, sizeof err)) {
      fprintf(stderr, "chordlet live: %s\n", err);
      return EXIT_DATA;
    }
    return EXIT_OK;
  }

  /* The model and the stream come first: a bad model fails before any
   * audio device is touched. */
  char path[4096];
  if (model_path_resolve(model_arg, path, sizeof path)) {
    fprintf(stderr, "chordlet live: no model '%s' (looked in %s)\n", model_arg, path);
    return EXIT_DATA;
  }
  chordlet_error cerr;
  chordlet_model *model = NULL;
  if (chordlet_model_load(path, &model, &cerr)) {
    fprintf(stderr, "chordlet live: %s\n", cerr.message);
    return EXIT_DATA;
  }
  /* A file-mode model would show each chord seconds after it was played. */
  if (chordlet_model_lookahead_seconds(model) > CHORDLET_LIVE_LOOKAHEAD_SECONDS) {
    fprintf(stderr,
            "chordlet live: %s is a file-mode model: it looks %.2f s ahead (a live one at most %.2f s), so its "
            "chords would come seconds late; use it with chordlet transcribe, or in a DAW through chordlet.lv2, "
            "which compensates its latency\n",
            path, chordlet_model_lookahead_seconds(model), CHORDLET_LIVE_LOOKAHEAD_SECONDS);
    chordlet_model_free(model);
    return EXIT_DATA;
  }
  req.sample_rate = rate;
  /* Two channels (mixed, or the one asked for) from a card; from one JACK
   * port, one. */
  req.channels = channel == 1 || (backend == &audio_backend_jack && req.device && channel == 0) ? 1 : 2;
  live_ctx ctx;
  atomic_init(&ctx.stream, NULL);
  ctx.channel = channel;
  atomic_init(&ctx.frames_in, 0);

  audio_info info;
  memset(&info, 0, sizeof info);
  void *handle = NULL;
  if (backend->open(&req, on_audio, &ctx, &info, &handle, err, sizeof err)) {
    fprintf(stderr, "chordlet live: %s\n", err);
    chordlet_model_free(model);
    return EXIT_DATA;
  }
  int status = EXIT_OK;
  chordlet_stream *stream = NULL;
  chordlet_stream_options options;
  chordlet_stream_options_default(&options);
  options.smoothing_frames = (int)smoothing;
  options.min_confidence = (float)threshold;
  options.tuning_hz = tuning_hz;
  if (channel > info.channels) {
    fprintf(stderr, "chordlet live: --channel %d, but %s has %d input channel%s\n", channel, info.device,
            info.channels, info.channels == 1 ? "" : "s");
    status = EXIT_USAGE;
  } else if (chordlet_stream_create(model, info.sample_rate, info.max_block ? info.max_block : 4096, &options, &stream,
                                    &cerr)) {
    fprintf(stderr, "chordlet live: %s\n", cerr.message);
    status = EXIT_DATA;
  }
  if (status != EXIT_OK) {
    backend->close(handle);
    chordlet_model_free(model);
    return status;
  }
  atomic_store_explicit(&ctx.stream, stream, memory_order_release);
  if (backend->start && backend->start(handle, err, sizeof err)) {
    fprintf(stderr, "chordlet live: %s\n", err);
    atomic_store_explicit(&ctx.stream, NULL, memory_order_release);
    backend->close(handle);
    chordlet_stream_free(stream);
    chordlet_model_free(model);
    return EXIT_DATA;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  live_view view;
  live_view_init(&view, json ? LIVE_VIEW_JSON : isatty(STDOUT_FILENO) ? LIVE_VIEW_TERMINAL : LIVE_VIEW_LINES, spelling,
                 stdout);
  live_view_header(&view, chordlet_model_name(model), info.device, info.sample_rate, channel,
                   1e3 * chordlet_stream_latency(stream), 1e3 * chordlet_stream_hop(stream));
  const unsigned long long stop_at = duration > 0 ? (unsigned long long)llround(duration * info.sample_rate) : 0;
  for (;;) {
    int ran = chordlet_stream_work(stream);
    chordlet_event e;
    while (chordlet_stream_next_event(stream, &e)) live_view_event(&view, &e);
    int automatic;
    const double a4 = chordlet_stream_tuning(stream, &automatic);
    live_view_tuning(&view, a4, automatic);
    live_view_tick(&view, (double)atomic_load(&ctx.frames_in) / info.sample_rate);
    if (stop_requested) break;
    if (stop_at && atomic_load(&ctx.frames_in) >= stop_at && chordlet_stream_pending(stream) == 0) break;
    if (!backend->alive(handle) && backend->ends) {
      if (chordlet_stream_pending(stream) == 0) break; /* the file is over: a normal end */
    } else if (!backend->alive(handle)) {
      fprintf(stderr, "\nchordlet live: the audio stopped (%s)\n",
              backend == &audio_backend_jack ? "the JACK server went away" : "the device was lost");
      status = EXIT_DATA;
      break;
    }
    if (!ran) nanosleep(&(struct timespec){0, 5000000}, NULL); /* a hop is 20 ms: poll at 5 */
  }
  atomic_store_explicit(&ctx.stream, NULL, memory_order_release);
  backend->close(handle); /* no callback runs after this */
  live_view_end(&view, (double)atomic_load(&ctx.frames_in) / info.sample_rate, chordlet_stream_frames_dropped(stream));
  chordlet_stream_free(stream);
  chordlet_model_free(model);
  return status;
}
