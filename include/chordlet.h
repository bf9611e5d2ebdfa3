/*
 * chordlet.h: the public C API of libchordlet.
 *
 * Conventions (see docs/ARCHITECTURE.md):
 *  - Every function returns a chordlet_status; 0 is success, negative values
 *    are errors. Functions that can fail for a reason worth explaining also
 *    take a chordlet_error, which they fill with a human-readable message.
 *    The engine never prints and never exits.
 *  - Every entry point states its thread class: "any thread" (pure, no shared
 *    state), "main" (may allocate and do I/O), "worker" or "audio". Functions
 *    safe to call on the audio thread carry CHORDLET_RT.
 */
#ifndef CHORDLET_H
#define CHORDLET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a function that is real-time safe: no allocation, no locks, no I/O,
 * bounded time. It expands to nothing; it is documentation a reader and a
 * grep can rely on. */
#define CHORDLET_RT

#define CHORDLET_VERSION_MAJOR 0
#define CHORDLET_VERSION_MINOR 2
#define CHORDLET_VERSION_PATCH 0

typedef enum chordlet_status {
  CHORDLET_OK = 0,
  CHORDLET_ERR_INVALID_ARGUMENT = -1, /* a caller passed something impossible */
  CHORDLET_ERR_IO = -2,               /* a file could not be read or written */
  CHORDLET_ERR_PARSE = -3,            /* a file or label is malformed */
  CHORDLET_ERR_NO_MEMORY = -4,        /* an allocation failed */
  CHORDLET_ERR_RANGE = -5,            /* a value is outside what we accept */
} chordlet_status;

/* An error message buffer filled by engine functions that fail. */
typedef struct chordlet_error {
  chordlet_status code;
  char message[512];
} chordlet_error;

/* The version string, e.g. "0.1.0". Thread: any. */
CHORDLET_RT const char *chordlet_version(void);

/* A short English name of a status code. Thread: any. */
CHORDLET_RT const char *chordlet_status_name(chordlet_status status);

/* ------------------------------------------------------------------ tuning */

/* The reference pitch A4 a user may set, in Hz: from below baroque pitch
 * (415) to above the sharpest orchestras (446), with room on both sides. */
#define CHORDLET_TUNING_MIN_HZ 400.0
#define CHORDLET_TUNING_MAX_HZ 480.0

/* Reads a tuning as users write it: "auto" (follow the music: 0), an A4 in
 * Hz ("440", "442.5") or cents from A4 = 440 Hz ("-30c", "+15c"). A result
 * outside CHORDLET_TUNING_MIN_HZ..MAX_HZ, or anything else, is
 * CHORDLET_ERR_RANGE or CHORDLET_ERR_PARSE with a message saying why.
 * Thread: any. */
chordlet_status chordlet_tuning_parse(const char *text, double *a4_hz, chordlet_error *err);

/* ------------------------------------------------------------------ models */

/* A streaming model: a student (.chordlet) with its front end, network and
 * decoder settings. Read-only once loaded; many streams may share one.
 * The teacher cannot stream (whole-song normalisation, a bidirectional LSTM):
 * loading it here fails with a message saying so. A file-mode student (one
 * that looks seconds ahead, models/offline.chordlet) loads, and streams only
 * where the caller accepts its latency (max_lookahead_seconds below). */
typedef struct chordlet_model chordlet_model;

/* How far ahead a live model may look: its lookahead costs at most this
 * much readout delay (the front end's 120-140 ms come on top). */
#define CHORDLET_LIVE_LOOKAHEAD_SECONDS 0.1
/* The most a stream may be allowed to look ahead. */
#define CHORDLET_MAX_LOOKAHEAD_SECONDS 30.0

/* Loads and checks a model file. Thread: main or worker (allocates, reads
 * the file): never the audio thread. */
chordlet_status chordlet_model_load(const char *path, chordlet_model **out, chordlet_error *err);

/* NULL is fine. Only after every stream made from it is freed.
 * Thread: main or worker. */
void chordlet_model_free(chordlet_model *model);

/* The model's name (metadata "name"). Thread: any. */
CHORDLET_RT const char *chordlet_model_name(const chordlet_model *model);

/* The model's hop: seconds between its frames (20 ms for the live
 * students, 60 ms for models/offline.chordlet). 0 for NULL. Thread: any. */
CHORDLET_RT double chordlet_model_hop_seconds(const chordlet_model *model);

/* How far ahead the model looks, in seconds (its lookahead frames times its
 * hop): at most CHORDLET_LIVE_LOOKAHEAD_SECONDS for a live model, seconds
 * for a file-mode one. 0 for NULL. Thread: any. */
CHORDLET_RT double chordlet_model_lookahead_seconds(const chordlet_model *model);

/* ----------------------------------------------------------------- streams */

/* How a stream decides and reports chords. */
typedef struct chordlet_stream_options {
  /* The online smoother's fixed lag in the model's frames (0..50, of
   * chordlet_model_hop_seconds): a frame is decided when the frames this
   * much later are in. More lag, less flicker, later readout; the lag is
   * part of chordlet_stream_latency(). Default 4 (80 ms at 20 ms hops). */
  int smoothing_frames;
  /* The smoother's cost of a chord change (natural log); <= 0: the model's
   * own (metadata decoder.switch_penalty, tuned offline). Default 0. */
  double switch_penalty;
  /* A decided chord whose probability is below this (0..1) does not replace
   * the chord on display: the readout holds the previous one (single notes,
   * noise). Default 0: every decision counts. */
  float min_confidence;
  /* The music's reference pitch: 0 (the default) follows it, estimated
   * from the last seconds of audio (the front end moves between hops);
   * otherwise a fixed A4 in Hz, CHORDLET_TUNING_MIN_HZ..MAX_HZ. */
  double tuning_hz;
  /* How far ahead of the audio the model may look, in seconds: the latency
   * the caller accepts. The default, CHORDLET_LIVE_LOOKAHEAD_SECONDS, admits
   * live students only: chordlet_stream_create refuses a file-mode student
   * with a message saying so. Up to CHORDLET_MAX_LOOKAHEAD_SECONDS admits
   * those too (models/offline.chordlet: 64 frames of 60 ms = 3.84 s): their
   * readout is more accurate and lags the audio by seconds, which suits a
   * host that compensates latency (a DAW on playback and export), not a
   * musician listening live. */
  double max_lookahead_seconds;
} chordlet_stream_options;

/* The defaults above. Thread: any. */
CHORDLET_RT void chordlet_stream_options_default(chordlet_stream_options *options);

enum { CHORDLET_CHORD_X = 168, CHORDLET_CHORD_N = 169, CHORDLET_N_CHORDS = 170, CHORDLET_NAME_MAX = 16 };

/* A change of chord. Times count input samples since creation or the last
 * reset, in seconds at the stream's rate. */
typedef struct chordlet_event {
  unsigned long long frame; /* the hop index where the new chord starts */
  double time;              /* where in the audio the new chord starts: frame * hop */
  double decided;           /* how much audio had been processed when it was decided:
                               time + chordlet_stream_latency() - one hop */
  int chord;                /* 0..169: 14 * root + quality, CHORDLET_CHORD_X, CHORDLET_CHORD_N */
  int root;                 /* 0..11 (C..B), -1 for N and X */
  int quality;              /* 0..13 (min maj dim aug min6 maj6 min7 minmaj7 maj7 7 dim7 hdim7 sus2 sus4), -1 */
  float confidence;         /* the network's probability of this chord at that frame */
  double tuning_hz;         /* the A4 the front end was tuned to when it was decided */
  char name[CHORDLET_NAME_MAX]; /* Harte label: "C#:min7", "G" (major), "N", "X" */
  char label[CHORDLET_NAME_MAX]; /* lead-sheet spelling: "C#m7", "Bbmaj7", "N.C." */
} chordlet_event;

/* How chord names are written for people: Harte labels (what .lab files and
 * mir_eval use: "C#:min7", "A#:maj7") or lead-sheet names ("C#m7", "Bbmaj7";
 * black keys spelt as the simpler key, "N.C." for no chord). */
typedef enum chordlet_spelling { CHORDLET_SPELLING_HARTE = 0, CHORDLET_SPELLING_FRIENDLY = 1 } chordlet_spelling;

/* Writes chord 0..169's name in that spelling into out (CHORDLET_NAME_MAX
 * bytes). CHORDLET_ERR_RANGE for a chord outside 0..169. Thread: any. */
CHORDLET_RT chordlet_status chordlet_chord_name(int chord, chordlet_spelling spelling, char *out, size_t out_size);

/*
 * A live recogniser: audio in blocks on the audio thread, chord events out.
 *
 *   audio thread   chordlet_stream_process(): the streaming CQT; each
 *                  finished feature frame goes into a lock-free ring.
 *   worker thread  chordlet_stream_work(): the network (incremental, cached
 *                  keys/values) and the online smoother over the frames in
 *                  the ring; chord changes go into a second ring.
 *   reader         chordlet_stream_next_event(): one thread (the audio thread
 *                  is fine: it never blocks).
 * Offline, one thread may call all three in turn. A worker that falls more
 * than the frame ring (about 5 s) behind loses frames: they are counted
 * (chordlet_stream_frames_dropped) and the network restarts after the gap.
 */
typedef struct chordlet_stream chordlet_stream;

/* A stream for `model` (kept alive by the caller) at the host's sample rate
 * (8 kHz..384 kHz), for blocks of up to max_block frames (larger blocks are
 * fine too, just processed in max_block pieces). options may be NULL (the
 * defaults). Thread: main (allocates; plans FFTs). */
chordlet_status chordlet_stream_create(const chordlet_model *model, double sample_rate, size_t max_block,
                                       const chordlet_stream_options *options, chordlet_stream **out,
                                       chordlet_error *err);

/* NULL is fine. The worker must not be inside chordlet_stream_work().
 * Thread: main. */
void chordlet_stream_free(chordlet_stream *stream);

/* Consumes n frames of audio: n_channels channel buffers of n samples,
 * mixed to mono (their mean). NaN and infinite samples count as silence.
 * Never allocates, locks, blocks or does I/O; work is bounded by n.
 * Thread: audio. */
CHORDLET_RT void chordlet_stream_process(chordlet_stream *stream, const float *const *channels, int n_channels,
                                         size_t n);

/* Runs the network over every feature frame waiting in the ring (at most the
 * ring's capacity); returns how many it ran. Allocates nothing.
 * Thread: worker (one at a time). */
CHORDLET_RT int chordlet_stream_work(chordlet_stream *stream);

/* Frames waiting for chordlet_stream_work(). Thread: any. */
CHORDLET_RT int chordlet_stream_pending(chordlet_stream *stream);

/* The next chord change: 1 and fills event, or 0 when there is none yet.
 * Thread: the reader (one thread). */
CHORDLET_RT int chordlet_stream_next_event(chordlet_stream *stream, chordlet_event *event);

/* Forget the audio so far (a transport jump): the next sample is time 0,
 * events from before are dropped, and the stream goes on as a new one would:
 * the tuning estimate starts over and the front end returns to the tuning
 * it was created with (then follows the music, or the fixed A4, again).
 * Thread: audio. */
CHORDLET_RT void chordlet_stream_reset(chordlet_stream *stream);

/* The readout's delay, from a chord change in the audio to its event: the
 * wait for the first frame centred at or after the change (up to one hop),
 * the front end's delay, the model's lookahead and the smoother's lag, at
 * 20 ms hops 20 + 120 + 20 + 80 = 240 ms with the defaults. (A network that
 * needs a frame or two more to be sure of a chord adds those; the tests
 * measure the whole.) What a host compensates, e.g. the LV2 latency port.
 * Thread: any. */
CHORDLET_RT double chordlet_stream_latency(const chordlet_stream *stream);
CHORDLET_RT unsigned long chordlet_stream_latency_samples(const chordlet_stream *stream);

/* Seconds between the frames the stream decides (events' frame indices
 * count them): the model's hop, divided by the stream's phases. Thread: any. */
CHORDLET_RT double chordlet_stream_hop(const chordlet_stream *stream);

/* A model whose hop is coarser than 20 ms (the file-mode student's 60 ms)
 * runs as K copies of its network, each fed the front end's frames a K-th of
 * a hop apart (K = hop / 20 ms, at most 4), decided together on the 20 ms
 * grid: chordlet transcribe --phases K, live. Where the audio's start falls
 * on the model's grid then changes little (a short chord is not missed
 * because it straddles two frames), at K times the network's work on the
 * worker. 1 for the live students; also 1 where the rate cannot put the
 * finer hop on whole samples. Thread: any. */
CHORDLET_RT int chordlet_stream_phases(const chordlet_stream *stream);

/* Fixes the reference pitch (A4 in Hz, CHORDLET_TUNING_MIN_HZ..MAX_HZ), or
 * 0 to follow the music. The worker moves the front end on its next call;
 * CHORDLET_ERR_RANGE for anything else (nothing changes). Lock-free.
 * Thread: any. */
CHORDLET_RT chordlet_status chordlet_stream_set_tuning(chordlet_stream *stream, double a4_hz);

/* Moves options.min_confidence (0..1) while the stream runs: the worker
 * applies it from its next decision on (a plugin's threshold control).
 * CHORDLET_ERR_RANGE for anything else (nothing changes). Lock-free.
 * Thread: any. */
CHORDLET_RT chordlet_status chordlet_stream_set_min_confidence(chordlet_stream *stream, float min_confidence);

/* The A4 (Hz) the front end is tuned to now; *automatic (may be NULL) is 1
 * when it follows the music. Before the music has said anything it is
 * 440 Hz. Thread: any. */
CHORDLET_RT double chordlet_stream_tuning(chordlet_stream *stream, int *automatic);

/* Frames lost to a worker that fell behind, and events lost to a reader that
 * fell behind, since creation. Thread: any. */
CHORDLET_RT unsigned long long chordlet_stream_frames_dropped(chordlet_stream *stream);
CHORDLET_RT unsigned long long chordlet_stream_events_dropped(chordlet_stream *stream);

#ifdef __cplusplus
}
#endif

#endif /* CHORDLET_H */
