/*
 * chordlet_lv2.c: chordlet.lv2, the chord readout as an LV2 plugin (mono and
 * stereo). Ports and their meaning are in ttl/chordlet.ttl.
 *
 * Threads (as the LV2 book lays them out):
 *  - run() (audio): passes the audio through (delayed only with a file-mode
 *    model, see Latency), feeds the streaming
 *    front end (chordlet_stream_process), asks the worker to run the network
 *    when frames are waiting, reads the chord changes the worker produced
 *    and writes them to the control outputs, the notify port (a
 *    chordlet:ChordChange object per change) and the MIDI port. It never
 *    allocates, locks or touches a file.
 *  - work() (the host's worker thread): the network (chordlet_stream_work),
 *    loading a model and building its stream, freeing what was replaced.
 *  - work_response() (audio): installs a stream the worker built.
 *  - instantiate/activate/deactivate/cleanup/state (main).
 * One network job is in flight at a time (a flag set by run(), cleared by
 * work()), so the worker's queue never fills with them. A worker that falls
 * more than the frame ring (about 5 s) behind loses frames; work() logs it
 * (log:log, off the audio thread), with the counts doubling between lines.
 *
 * Freewheeling (the host's lv2:freeWheeling port, after the older ports so
 * the older ports keep their indices): the host runs cycles as fast as it
 * can (Ardour's export) and run() is not real time. The first run() of a
 * freewheel pass resets the stream (the pass is a timeline of its own,
 * whatever the plugin heard before it), and every run() of it runs the
 * network itself, on the frames that block completed, instead of asking the
 * worker: nothing waits in the ring, nothing is dropped, and the decisions do
 * not depend on when a worker thread gets to run. The output is then the
 * library's for the same audio (chordlet_stream_* run on one thread), and
 * equal to what a host that runs the worker at once gets in real time.
 * Only while the port says so may run() wait (for a network job queued before
 * the pass) or do the network's work. A replaced stream is
 * freed by a job queued after every job that could still use it: the host
 * runs one instance's work() calls one after another.
 *
 * Latency: the readout lags the audio by chordlet_stream_latency() (240 ms
 * with the shipped live model). With a live model the audio passes through
 * with no delay, so the plugin reports no audio latency (a host would
 * otherwise delay every other track, or the live monitor, by a quarter of a
 * second for a display); the readout's delay is on the "latency" output, in
 * milliseconds. A file-mode model (models/offline.chordlet, set through
 * chordlet:model) looks 3.84 s ahead and is more accurate: its readout comes
 * 4-5 s late, which only a host's latency compensation can hide. So with
 * such a model the plugin delays its audio by the readout's latency at the
 * largest smoothing (audio_delay.h; 5.48 s for models/offline.chordlet) and
 * decides at that smoothing, whatever the control says: the host
 * compensates the same latency either way, so the longest lag costs nothing
 * and decides best, and moving the control never makes the host realign or
 * restarts the stream (it sets the lag for live models). The stream runs
 * the model in three phases on a 20 ms grid (chordlet_stream_phases), so
 * where the transport starts does not decide which short chords are heard.
 * The plugin reports the latency on the lv2:reportsLatency port, and holds each
 * chord change until its audio leaves (release_held): on playback and
 * export the host starts the track that much earlier, and the chord on
 * display belongs to the audio being heard ("latency" then reads 0). Live
 * monitoring through it is then that late: that is the live model's job.
 *
 * When events are sent: a chord change is written, at frame 0 of the block,
 * in the first run() after the worker decided it; with a host that runs the
 * worker at once that is the block that completed the deciding frame.
 * MIDI: note-offs of the previous chord's notes, then note-ons (channel 1,
 * velocity 64..127 by confidence) of the new chord: the root in octave 3
 * (MIDI 48..59) and the chord's pitch classes above it in octave 4; N and X
 * only end the previous notes.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/core/lv2_util.h>
#include <lv2/log/log.h>
#include <lv2/log/logger.h>
#include <lv2/options/options.h>
#include <lv2/state/state.h>
#include <lv2/worker/worker.h>

#include <cairo.h>

#include "audio_delay.h"
#include "chordlet.h"
#include "uris.h"
#include "vocab.h"

/* Ardour's inline display (the chord name in the mixer strip). The extension's
 * header is not in Debian's lv2-dev; these are its definitions, as x42's
 * plugins carry them. */
#define LV2_INLINEDISPLAY_URI "http://harrisonconsoles.com/lv2/inlinedisplay"
#define LV2_INLINEDISPLAY__interface LV2_INLINEDISPLAY_URI "#interface"
#define LV2_INLINEDISPLAY__queue_draw LV2_INLINEDISPLAY_URI "#queue_draw"
typedef struct {
  unsigned char *data;
  int width, height, stride;
} LV2_Inline_Display_Image_Surface;
typedef struct {
  LV2_Inline_Display_Image_Surface *(*render)(LV2_Handle instance, uint32_t w, uint32_t max_h);
} LV2_Inline_Display_Interface;
typedef struct {
  void *handle;
  void (*queue_draw)(void *handle);
} LV2_Inline_Display;

enum { MAX_CHANNELS = 2, MAX_NOTES = 5, PATH_MAX_BYTES = 1024, DEFAULT_MAX_BLOCK = 8192 };
/* The smoothing control's range (ttl/chordlet.ttl), and the chord changes a
 * file-mode model's readout may hold back at once (seconds of them). */
enum { MAX_SMOOTHING_CONTROL = 25, MAX_HELD = 64 };

/* Ports after the audio ones (ttl/chordlet.ttl); audio: in (1 or 2), out (1 or 2). */
enum {
  PORT_CONTROL = 0, /* atom in: patch:Set/Get of chordlet:model */
  PORT_NOTIFY,      /* atom out: chordlet:ChordChange, patch:Set replies */
  PORT_MIDI_OUT,    /* atom out: the chord's notes */
  PORT_THRESHOLD,   /* control in: minimum confidence 0..1 */
  PORT_SMOOTHING,   /* control in: smoother lag in the model's frames 0..25 (live models) */
  PORT_CHORD,       /* control out: 0..169 */
  PORT_ROOT,        /* control out: -1..11 */
  PORT_QUALITY,     /* control out: -1..13 */
  PORT_BASS,        /* control out: -1..11 */
  PORT_CONFIDENCE,  /* control out: 0..1 */
  PORT_LATENCY,     /* control out: the readout's delay, ms */
  PORT_TUNING,      /* control in: A4 in Hz (400..480), 0 = follow the music */
  PORT_TUNING_OUT,  /* control out: the A4 the front end is tuned to now, Hz */
  PORT_FREEWHEEL,   /* control in, lv2:freeWheeling: the host is not running in real time */
  PORT_AUDIO_LATENCY, /* control out, lv2:reportsLatency: the audio's delay in samples (0 with a live model) */
  N_OTHER_PORTS
};

typedef enum job_kind { JOB_RUN = 1, JOB_BUILD, JOB_FREE } job_kind;

/* What run() hands the worker (copied by the host). */
typedef struct job {
  job_kind kind;
  chordlet_stream *stream; /* JOB_RUN: the stream to run; JOB_FREE: to free */
  chordlet_model *model;   /* JOB_FREE: to free (NULL: kept) */
  audio_delay *delay;      /* JOB_FREE: to free */
  int smoothing;           /* JOB_BUILD */
  char path[PATH_MAX_BYTES]; /* JOB_BUILD: a model to load; "" = the current model */
} job;

/* What the worker hands back. */
typedef struct reply {
  chordlet_stream *stream; /* NULL: failed */
  chordlet_model *model;   /* a newly loaded model, or NULL (the current one) */
  audio_delay *delay;      /* the audio's delay for the stream (NULL: none, a live model) */
  int smoothing;
  char path[PATH_MAX_BYTES];
  char message[512];
} reply;

typedef struct plugin {
  int n_channels;
  const float *in[MAX_CHANNELS];
  float *out[MAX_CHANNELS];
  const LV2_Atom_Sequence *control;
  LV2_Atom_Sequence *notify, *midi_out;
  const float *threshold, *smoothing, *tuning, *freewheel;
  float *chord_out, *root_out, *quality_out, *bass_out, *confidence_out, *latency_out, *tuning_out;
  float *audio_latency_out;

  LV2_URID_Map *map;
  LV2_Worker_Schedule *schedule;
  LV2_Log_Logger logger;
  chordlet_uris uris;
  LV2_Atom_Forge forge;
  LV2_Atom_Forge_Frame notify_frame; /* the notify sequence, open during run() */
  double rate;
  size_t max_block;
  char bundle[PATH_MAX_BYTES];

  /* Owned by the audio thread once instantiated (swapped in work_response,
   * or in restore when no run() can be running). */
  chordlet_model *model;
  chordlet_stream *stream;
  audio_delay *delay; /* with a model that looks ahead: the audio waits for the readout */
  /* With a delay line, chord changes wait too, until the audio they belong
   * to leaves the plugin: held[] (a ring) with the sample count at which each
   * is due; heard = samples into the line since it began or was cleared;
   * stream_base = heard when the current stream began (a new smoothing
   * brings a new stream but keeps the line and what is held for it). */
  chordlet_event held[MAX_HELD];
  double held_due[MAX_HELD];
  int held_first, held_count;
  unsigned long long heard, stream_base;
  char model_path[PATH_MAX_BYTES];
  int smoothing_applied;  /* the control's lag when the stream was built (a file-mode stream's is the largest) */
  atomic_bool build_pending; /* a JOB_BUILD is out: do not send another (the worker clears it if its reply is lost) */
  bool send_model;        /* tell the notify port the model path (patch:Get, a swap) */
  bool send_error;
  char error[512];        /* the last load failure, for the notify port */
  atomic_bool run_in_flight;
  bool freewheeling;      /* the freewheel port in the last run() (audio thread) */

  /* Drops already logged (the thread that runs the network: the worker, or
   * run() while freewheeling, never both at once); counts per stream. */
  const chordlet_stream *drops_stream;
  unsigned long long frames_logged, events_logged;

  chordlet_event shown;   /* the chord on the outputs */
  bool have_shown;

  /* Inline display: run() publishes the chord (and its confidence's bits)
   * for render(), which runs on the host's GUI thread. */
  LV2_Inline_Display *queue_draw;
  atomic_int display_chord;
  atomic_uint display_confidence;
  cairo_surface_t *display_surface; /* GUI thread only */
  LV2_Inline_Display_Image_Surface display_image;
  uint8_t sounding[MAX_NOTES];
  int n_sounding;
} plugin;

/* ---------------------------------------------------------------- helpers */

/* Returns -1 when the bundle's path is too long for our buffers. */
static int default_model_path(const plugin *p, char *out, size_t n) {
  int len = snprintf(out, n, "%s%sdefault.chordlet", p->bundle,
                     p->bundle[0] && p->bundle[strlen(p->bundle) - 1] != '/' ? "/" : "");
  return len < 0 || (size_t)len >= n ? -1 : 0;
}

static size_t host_max_block(const LV2_Options_Option *options, LV2_URID_Map *map) {
  if (!options) return DEFAULT_MAX_BLOCK;
  LV2_URID max_len = map->map(map->handle, LV2_BUF_SIZE__maxBlockLength);
  LV2_URID atom_int = map->map(map->handle, LV2_ATOM__Int);
  for (const LV2_Options_Option *o = options; o->key; o++)
    if (o->key == max_len && o->type == atom_int && o->value) {
      int32_t v = *(const int32_t *)o->value;
      if (v > 0 && v <= (1 << 20)) return (size_t)v;
    }
  return DEFAULT_MAX_BLOCK;
}

/* The tuning control: 0 (or anything not above 0, or not a number) follows
 * the music; other values are clamped to the A4 range a stream accepts
 * (a host may send any float; the audio thread cannot refuse it). */
static double tuning_control(const float *port) {
  const float v = port ? *port : 0.0f;
  if (!(v > 0.0f)) return 0.0;
  if (v < CHORDLET_TUNING_MIN_HZ) return CHORDLET_TUNING_MIN_HZ;
  if (v > CHORDLET_TUNING_MAX_HZ) return CHORDLET_TUNING_MAX_HZ;
  return v;
}

static int clamp_smoothing(float v) {
  if (!(v >= 0)) return 0; /* NaN too */
  if (v > MAX_SMOOTHING_CONTROL) return MAX_SMOOTHING_CONTROL;
  return (int)lrintf(v);
}

/* Loads (path non-empty) or reuses `model` and builds a stream: main or worker. */
static chordlet_status build(const plugin *p, const char *path, const chordlet_model *current, int smoothing,
                             reply *r) {
  chordlet_error err;
  memset(r, 0, sizeof *r);
  r->smoothing = smoothing;
  const chordlet_model *use = current;
  if (path && path[0]) {
    if (chordlet_model_load(path, &r->model, &err)) {
      snprintf(r->message, sizeof r->message, "%s", err.message);
      return err.code;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    use = r->model;
  }
  /* A file-mode model too: its latency is reported and its audio delayed,
   * the same at every smoothing, so it always decides with the longest lag. */
  const bool file_mode = use && chordlet_model_lookahead_seconds(use) > CHORDLET_LIVE_LOOKAHEAD_SECONDS;
  chordlet_stream_options o;
  chordlet_stream_options_default(&o);
  o.smoothing_frames = file_mode ? MAX_SMOOTHING_CONTROL : smoothing;
  o.max_lookahead_seconds = CHORDLET_MAX_LOOKAHEAD_SECONDS;
  if (!use || chordlet_stream_create(use, p->rate, p->max_block, &o, &r->stream, &err)) {
    snprintf(r->message, sizeof r->message, "%s", use ? err.message : "no model");
    chordlet_model_free(r->model);
    r->model = NULL;
    return use ? err.code : CHORDLET_ERR_INVALID_ARGUMENT;
  }
  if (file_mode) {
    /* The readout's latency at the largest smoothing the control allows:
     * one delay for every smoothing, so moving the control changes neither
     * the latency the host compensates nor the audio. Were it the current
     * lag's, a host that sets the control after restoring the state (Ardour)
     * would see the latency change after it had aligned the tracks. */
    const double samples = nearbyint(chordlet_stream_latency(r->stream) * p->rate);
    r->delay = samples >= 1 && samples <= UINT32_MAX ? audio_delay_create(p->n_channels, (uint32_t)samples) : NULL;
    if (!r->delay) {
      snprintf(r->message, sizeof r->message, "no memory for %.0f samples of audio delay", samples);
      chordlet_stream_free(r->stream);
      r->stream = NULL;
      chordlet_model_free(r->model);
      r->model = NULL;
      return CHORDLET_ERR_NO_MEMORY;
    }
  }
  return CHORDLET_OK;
}

/* -------------------------------------------------------------- lifecycle */

static LV2_Handle instantiate(const LV2_Descriptor *descriptor, double rate, const char *bundle_path,
                              const LV2_Feature *const *features) {
  plugin *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->n_channels = strcmp(descriptor->URI, CHORDLET_STEREO_URI) == 0 ? 2 : 1;
  const LV2_Options_Option *options = NULL;
  LV2_Log_Log *log = NULL;
  const char *missing = lv2_features_query(features, LV2_LOG__log, &log, false, LV2_URID__map, &p->map, true,
                                           LV2_WORKER__schedule, &p->schedule, true, LV2_OPTIONS__options, &options,
                                           false, LV2_INLINEDISPLAY__queue_draw, &p->queue_draw, false, NULL);
  lv2_log_logger_init(&p->logger, p->map, log);
  if (missing) {
    lv2_log_error(&p->logger, "chordlet: the host lacks the required feature <%s>\n", missing);
    free(p);
    return NULL;
  }
  chordlet_map_uris(p->map, &p->uris);
  lv2_atom_forge_init(&p->forge, p->map);
  p->rate = rate;
  p->max_block = host_max_block(options, p->map);
  snprintf(p->bundle, sizeof p->bundle, "%s", bundle_path ? bundle_path : "");
  atomic_init(&p->run_in_flight, false);
  atomic_init(&p->display_chord, CHORDLET_CHORD_N);
  atomic_init(&p->display_confidence, 0);

  /* The shipped model, next to the plugin. A missing or broken one is not
   * fatal: the plugin passes audio and reports N until a model is set. */
  char path[PATH_MAX_BYTES];
  reply r;
  p->smoothing_applied = 4;
  if (default_model_path(p, path, sizeof path)) {
    snprintf(r.message, sizeof r.message, "the bundle's path is too long");
    lv2_log_error(&p->logger, "chordlet: %s\n", r.message);
  } else if (build(p, path, NULL, p->smoothing_applied, &r) == CHORDLET_OK) {
    p->model = r.model;
    p->stream = r.stream;
    p->delay = r.delay;
    snprintf(p->model_path, sizeof p->model_path, "%s", path);
  } else {
    lv2_log_error(&p->logger, "chordlet: %s\n", r.message);
    snprintf(p->error, sizeof p->error, "%s", r.message);
    p->send_error = true;
  }
  return p;
}

static void connect_port(LV2_Handle h, uint32_t port, void *data) {
  plugin *p = h;
  const uint32_t nc = (uint32_t)p->n_channels;
  if (port < nc) {
    p->in[port] = data;
    return;
  }
  if (port < 2 * nc) {
    p->out[port - nc] = data;
    return;
  }
  switch (port - 2 * nc) {
  case PORT_CONTROL: p->control = data; break;
  case PORT_NOTIFY: p->notify = data; break;
  case PORT_MIDI_OUT: p->midi_out = data; break;
  case PORT_THRESHOLD: p->threshold = data; break;
  case PORT_SMOOTHING: p->smoothing = data; break;
  case PORT_CHORD: p->chord_out = data; break;
  case PORT_ROOT: p->root_out = data; break;
  case PORT_QUALITY: p->quality_out = data; break;
  case PORT_BASS: p->bass_out = data; break;
  case PORT_CONFIDENCE: p->confidence_out = data; break;
  case PORT_LATENCY: p->latency_out = data; break;
  case PORT_TUNING: p->tuning = data; break;
  case PORT_TUNING_OUT: p->tuning_out = data; break;
  case PORT_FREEWHEEL: p->freewheel = data; break;
  case PORT_AUDIO_LATENCY: p->audio_latency_out = data; break;
  default: break;
  }
}

/* The delay line starts over (new, or cleared with the stream's reset):
 * nothing held is due any more. */
static void forget_held(plugin *p) {
  p->held_first = p->held_count = 0;
  p->heard = p->stream_base = 0;
}

static void activate(LV2_Handle h) {
  plugin *p = h;
  /* A new start (transport, rate change through re-activation): forget the
   * audio before. No run() or work() is running (host guarantee). */
  if (p->stream) chordlet_stream_reset(p->stream);
  audio_delay_clear(p->delay);
  forget_held(p);
  p->have_shown = false;
  p->n_sounding = 0;
  p->freewheeling = false;
}

static void deactivate(LV2_Handle h) { (void)h; }

static void cleanup(LV2_Handle h) {
  plugin *p = h;
  chordlet_stream_free(p->stream);
  chordlet_model_free(p->model);
  audio_delay_free(p->delay);
  if (p->display_surface) cairo_surface_destroy(p->display_surface);
  free(p);
}

/* ------------------------------------------------------------------- run */

static void forge_model_path(plugin *p) {
  const chordlet_uris *u = &p->uris;
  LV2_Atom_Forge_Frame frame;
  if (!lv2_atom_forge_frame_time(&p->forge, 0) || !lv2_atom_forge_object(&p->forge, &frame, 0, u->patch_Set)) return;
  lv2_atom_forge_key(&p->forge, u->patch_property);
  lv2_atom_forge_urid(&p->forge, u->model);
  lv2_atom_forge_key(&p->forge, u->patch_value);
  lv2_atom_forge_path(&p->forge, p->model_path, (uint32_t)strlen(p->model_path));
  lv2_atom_forge_pop(&p->forge, &frame);
}

static void forge_error(plugin *p) {
  LV2_Atom_Forge_Frame frame;
  if (!lv2_atom_forge_frame_time(&p->forge, 0) || !lv2_atom_forge_object(&p->forge, &frame, 0, p->uris.patch_Set))
    return;
  lv2_atom_forge_key(&p->forge, p->uris.patch_property);
  lv2_atom_forge_urid(&p->forge, p->uris.error);
  lv2_atom_forge_key(&p->forge, p->uris.patch_value);
  lv2_atom_forge_string(&p->forge, p->error, (uint32_t)strlen(p->error));
  lv2_atom_forge_pop(&p->forge, &frame);
}

static void forge_change(plugin *p, const chordlet_event *e) {
  const chordlet_uris *u = &p->uris;
  LV2_Atom_Forge_Frame frame;
  if (!lv2_atom_forge_frame_time(&p->forge, 0) || !lv2_atom_forge_object(&p->forge, &frame, 0, u->ChordChange))
    return;
  lv2_atom_forge_key(&p->forge, u->chord);
  lv2_atom_forge_int(&p->forge, e->chord);
  lv2_atom_forge_key(&p->forge, u->name);
  lv2_atom_forge_string(&p->forge, e->name, (uint32_t)strlen(e->name));
  lv2_atom_forge_key(&p->forge, u->label);
  lv2_atom_forge_string(&p->forge, e->label, (uint32_t)strlen(e->label));
  lv2_atom_forge_key(&p->forge, u->root);
  lv2_atom_forge_int(&p->forge, e->root);
  lv2_atom_forge_key(&p->forge, u->quality);
  lv2_atom_forge_int(&p->forge, e->quality);
  lv2_atom_forge_key(&p->forge, u->confidence);
  lv2_atom_forge_float(&p->forge, e->confidence);
  lv2_atom_forge_key(&p->forge, u->time);
  lv2_atom_forge_double(&p->forge, e->time);
  lv2_atom_forge_pop(&p->forge, &frame);
}

/* Writes one raw MIDI event at frame 0 into the MIDI port's sequence. */
static void midi_write(plugin *p, LV2_Atom_Sequence *seq, uint32_t capacity, const uint8_t msg[3]) {
  const uint32_t need = (uint32_t)(sizeof(LV2_Atom_Event) + lv2_atom_pad_size(3));
  if (seq->atom.size + need > capacity) return;
  LV2_Atom_Event *ev = (LV2_Atom_Event *)((uint8_t *)LV2_ATOM_CONTENTS(LV2_Atom_Sequence, seq) +
                                           (seq->atom.size - sizeof(LV2_Atom_Sequence_Body)));
  ev->time.frames = 0;
  ev->body.type = p->uris.midi_Event;
  ev->body.size = 3;
  memcpy(LV2_ATOM_BODY(&ev->body), msg, 3);
  seq->atom.size += need;
}

static void midi_change(plugin *p, LV2_Atom_Sequence *seq, uint32_t capacity, const chordlet_event *e) {
  for (int i = 0; i < p->n_sounding; i++) midi_write(p, seq, capacity, (const uint8_t[3]){0x80, p->sounding[i], 0});
  p->n_sounding = 0;
  if (e->root < 0) return;
  const uint8_t velocity = (uint8_t)(64 + lrintf(63 * (e->confidence < 0 ? 0 : e->confidence > 1 ? 1 : e->confidence)));
  p->sounding[p->n_sounding++] = (uint8_t)(48 + e->root);
  const uint16_t mask = vocab_quality_mask(e->quality);
  for (int i = 0; i < 12 && p->n_sounding < MAX_NOTES; i++)
    if (mask & (1u << i)) p->sounding[p->n_sounding++] = (uint8_t)(60 + e->root + i);
  for (int i = 0; i < p->n_sounding; i++)
    midi_write(p, seq, capacity, (const uint8_t[3]){0x90, p->sounding[i], velocity});
}

static void read_control(plugin *p) {
  if (!p->control) return;
  const chordlet_uris *u = &p->uris;
  LV2_ATOM_SEQUENCE_FOREACH (p->control, ev) {
    if (ev->body.type != u->atom_Object) continue;
    const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
    if (obj->body.otype == u->patch_Get) {
      p->send_model = true;
    } else if (obj->body.otype == u->patch_Set) {
      const LV2_Atom *property = NULL, *value = NULL;
      lv2_atom_object_get(obj, u->patch_property, &property, u->patch_value, &value, 0);
      if (!property || property->type != u->atom_URID || ((const LV2_Atom_URID *)property)->body != u->model) continue;
      if (!value || value->type != u->atom_Path || value->size == 0 || value->size >= PATH_MAX_BYTES) continue;
      if (atomic_load_explicit(&p->build_pending, memory_order_acquire)) continue; /* one swap at a time; the host may send it again */
      job j = {.kind = JOB_BUILD, .smoothing = p->smoothing_applied};
      memcpy(j.path, LV2_ATOM_BODY_CONST(value), value->size);
      j.path[value->size < PATH_MAX_BYTES ? value->size : PATH_MAX_BYTES - 1] = '\0';
      if (p->schedule->schedule_work(p->schedule->handle, sizeof j, &j) == LV2_WORKER_SUCCESS)
        atomic_store_explicit(&p->build_pending, true, memory_order_release);
    }
  }
}

static void show(plugin *p, const chordlet_event *e, uint32_t midi_capacity) {
  p->shown = *e;
  p->have_shown = true;
  unsigned bits;
  memcpy(&bits, &e->confidence, sizeof bits);
  atomic_store_explicit(&p->display_confidence, bits, memory_order_relaxed);
  atomic_store_explicit(&p->display_chord, e->chord, memory_order_release);
  if (p->queue_draw) p->queue_draw->queue_draw(p->queue_draw->handle); /* RT-safe by the extension's contract */
  if (p->notify) forge_change(p, e);
  if (p->midi_out) midi_change(p, p->midi_out, midi_capacity, e);
}

/* The threshold control, 0..1 (NaN and below 0: 0). */
static float threshold_control(const float *port) {
  const float v = port ? *port : 0.0f;
  if (!(v > 0.0f)) return 0.0f;
  return v > 1.0f ? 1.0f : v;
}

/* Logs frames or events a stream lost since the last line, when the count
 * has at least doubled (a worker that stays behind would otherwise log on
 * every job). Not real time: the worker thread, or run() while freewheeling. */
static void report_drops(plugin *p, chordlet_stream *stream) {
  if (p->drops_stream != stream) {
    p->drops_stream = stream;
    p->frames_logged = p->events_logged = 0;
  }
  const unsigned long long frames = chordlet_stream_frames_dropped(stream);
  const unsigned long long events = chordlet_stream_events_dropped(stream);
  if (frames > 2 * p->frames_logged || events > 2 * p->events_logged) {
    lv2_log_warning(&p->logger,
                    "chordlet: the network fell behind the audio: %llu feature frames and %llu chord changes lost "
                    "so far (the readout restarts after each gap)\n",
                    frames, events);
    p->frames_logged = frames;
    p->events_logged = events;
  }
}

/* Freewheeling only: waits for a network job queued before the pass began
 * (the stream's worker side takes one thread at a time), which a
 * freewheeling host allows, but not forever (a host may pause its worker):
 * false after about 2 s. */
static bool worker_idle(plugin *p) {
  for (int k = 0; k < 2000 && atomic_load_explicit(&p->run_in_flight, memory_order_acquire); k++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  return !atomic_load_explicit(&p->run_in_flight, memory_order_acquire);
}

/* Freewheeling only: the network on every frame waiting, here; if the
 * worker is still busy, the frames go to it as in real time. */
static void run_network_now(plugin *p) {
  if (!worker_idle(p)) return;
  chordlet_stream_work(p->stream); /* the ring's capacity: more than a block completes (run() slices) */
  report_drops(p, p->stream);
}

/* A freewheel pass begins: forget the audio before it (its timeline starts
 * now), end the chord's notes, show nothing until the pass decides. The
 * worker is let finish first, so the reset lands between two of its calls
 * and the pass starts exactly as a new stream. */
static void start_pass(plugin *p, uint32_t midi_capacity) {
  worker_idle(p);
  if (p->stream) chordlet_stream_reset(p->stream);
  audio_delay_clear(p->delay); /* not real time now: a few MB at most */
  forget_held(p);
  if (p->midi_out)
    for (int i = 0; i < p->n_sounding; i++)
      midi_write(p, p->midi_out, midi_capacity, (const uint8_t[3]){0x80, p->sounding[i], 0});
  p->n_sounding = 0;
  p->have_shown = false;
}

/* With a delay line: shows each held change once the audio it belongs to
 * leaves the plugin. A change at frame time t is shown at t - one hop in the
 * delayed audio: where the live path shows it (its latency counts the hop to
 * the first frame after a change), so the "latency" output reads 0 for both
 * kinds of model. It was decided at t + latency - hop, before that point,
 * because the delay is the latency at the largest smoothing. */
static double held_due(const plugin *p, const chordlet_event *e) {
  return (double)p->stream_base + (e->time - chordlet_stream_hop(p->stream)) * p->rate +
         audio_delay_length(p->delay);
}

static void show_oldest_held(plugin *p, uint32_t midi_capacity) {
  show(p, &p->held[p->held_first], midi_capacity);
  p->held_first = (p->held_first + 1) % MAX_HELD;
  p->held_count--;
}

static void release_held(plugin *p, uint32_t n, uint32_t midi_capacity) {
  p->heard += n;
  while (p->held_count > 0 && (double)p->heard >= p->held_due[p->held_first]) show_oldest_held(p, midi_capacity);
}

static void run(LV2_Handle h, uint32_t n) {
  plugin *p = h;
  /* Output sequences: the host set atom.size to their capacity. */
  uint32_t midi_capacity = 0;
  if (p->notify) {
    lv2_atom_forge_set_buffer(&p->forge, (uint8_t *)p->notify, sizeof(LV2_Atom) + p->notify->atom.size);
    lv2_atom_forge_sequence_head(&p->forge, &p->notify_frame, 0);
  }
  if (p->midi_out) {
    midi_capacity = p->midi_out->atom.size;
    p->midi_out->atom.type = p->uris.atom_Sequence;
    p->midi_out->atom.size = sizeof(LV2_Atom_Sequence_Body);
    p->midi_out->body.unit = 0;
    p->midi_out->body.pad = 0;
  }

  const bool freewheel = p->freewheel && *p->freewheel > 0.5f;
  if (freewheel && !p->freewheeling) start_pass(p, midi_capacity);
  p->freewheeling = freewheel;

  read_control(p);
  const int smoothing = p->smoothing ? clamp_smoothing(*p->smoothing) : p->smoothing_applied;
  if (p->model && p->delay && smoothing != p->smoothing_applied) {
    p->smoothing_applied = smoothing; /* file mode: the longest lag whatever the control; kept for a live model */
  } else if (p->model && smoothing != p->smoothing_applied &&
             !atomic_load_explicit(&p->build_pending, memory_order_acquire)) {
    job j = {.kind = JOB_BUILD, .smoothing = smoothing};
    if (p->schedule->schedule_work(p->schedule->handle, sizeof j, &j) == LV2_WORKER_SUCCESS)
      atomic_store_explicit(&p->build_pending, true, memory_order_release);
  }
  if (p->send_model && p->notify) {
    forge_model_path(p);
    p->send_model = false;
  }
  if (p->send_error && p->notify) {
    forge_error(p);
    p->send_error = false;
  }

  if (p->stream) {
    /* Cheap (an atomic store): the worker moves the front end when it differs. */
    chordlet_stream_set_tuning(p->stream, tuning_control(p->tuning));
    /* The stream holds changes below the threshold (the display keeps its
     * chord: single notes, noise) and shows the chord at its next confident
     * frame: the library's min_confidence, so a host sees the library's
     * timeline. Cheap: an atomic store. */
    chordlet_stream_set_min_confidence(p->stream, threshold_control(p->threshold));
    if (freewheel) {
      /* In slices the frame ring holds (half of it), so a huge block loses
       * nothing either. */
      const uint32_t slice = (uint32_t)(128 * chordlet_stream_hop(p->stream) * p->rate);
      for (uint32_t done = 0; done < n;) {
        const uint32_t len = n - done < slice ? n - done : slice;
        const float *in[MAX_CHANNELS];
        for (int c = 0; c < p->n_channels; c++) in[c] = p->in[c] ? p->in[c] + done : NULL;
        chordlet_stream_process(p->stream, in, p->n_channels, len);
        if (chordlet_stream_pending(p->stream) > 0) run_network_now(p);
        done += len;
      }
    } else {
      chordlet_stream_process(p->stream, p->in, p->n_channels, n);
    }
    if (chordlet_stream_pending(p->stream) > 0 && !atomic_load_explicit(&p->run_in_flight, memory_order_acquire)) {
      job j = {.kind = JOB_RUN, .stream = p->stream};
      atomic_store_explicit(&p->run_in_flight, true, memory_order_release);
      /* offsetof: only the head of the job travels */
      if (p->schedule->schedule_work(p->schedule->handle, (uint32_t)offsetof(job, path), &j) != LV2_WORKER_SUCCESS)
        atomic_store_explicit(&p->run_in_flight, false, memory_order_release);
    }
    chordlet_event e;
    while (chordlet_stream_next_event(p->stream, &e)) {
      if (!p->delay) {
        show(p, &e, midi_capacity);
        continue;
      }
      if (p->held_count == MAX_HELD) show_oldest_held(p, midi_capacity); /* more changes than seconds hold */
      const int slot = (p->held_first + p->held_count) % MAX_HELD;
      p->held[slot] = e;
      p->held_due[slot] = held_due(p, &e);
      p->held_count++;
    }
    if (p->delay) release_held(p, n, midi_capacity);
  }

  const chordlet_event *e = p->have_shown ? &p->shown : NULL;
  if (p->chord_out) *p->chord_out = e ? (float)e->chord : (float)CHORDLET_CHORD_N;
  if (p->root_out) *p->root_out = e ? (float)e->root : -1.0f;
  if (p->quality_out) *p->quality_out = e ? (float)e->quality : -1.0f;
  /* The vocabulary has no inversions: the bass is the root. */
  if (p->bass_out) *p->bass_out = e ? (float)e->root : -1.0f;
  if (p->confidence_out) *p->confidence_out = e ? e->confidence : 0.0f;
  /* The readout's delay behind the audio that leaves the plugin: 0 with a
   * delay line (the changes wait for their audio), else the stream's. */
  if (p->latency_out)
    *p->latency_out = p->stream && !p->delay ? (float)(1e3 * chordlet_stream_latency(p->stream)) : 0.0f;
  if (p->audio_latency_out) *p->audio_latency_out = (float)audio_delay_length(p->delay);
  if (p->tuning_out) *p->tuning_out = p->stream ? (float)chordlet_stream_tuning(p->stream, NULL) : 440.0f;
  if (p->notify) lv2_atom_forge_pop(&p->forge, &p->notify_frame);

  /* Audio through, last: the stream has read the input (out may be in).
   * Untouched, or delayed as much as the readout with a file-mode model. */
  if (p->delay) {
    audio_delay_run(p->delay, p->in, p->out, p->n_channels, n);
  } else {
    for (int c = 0; c < p->n_channels; c++)
      if (p->out[c] && p->in[c] && p->out[c] != p->in[c]) memcpy(p->out[c], p->in[c], n * sizeof(float));
  }
}

/* ----------------------------------------------------------------- worker */

static LV2_Worker_Status work(LV2_Handle h, LV2_Worker_Respond_Function respond, LV2_Worker_Respond_Handle rh,
                              uint32_t size, const void *data) {
  plugin *p = h;
  job j;
  memset(&j, 0, sizeof j);
  if (size > sizeof j) return LV2_WORKER_ERR_UNKNOWN;
  memcpy(&j, data, size);
  switch (j.kind) {
  case JOB_RUN:
    chordlet_stream_work(j.stream);
    report_drops(p, j.stream);
    atomic_store_explicit(&p->run_in_flight, false, memory_order_release);
    return LV2_WORKER_SUCCESS;
  case JOB_BUILD: {
    /* The current model is read-only and stays alive until a JOB_FREE, which
     * the host runs after this job. */
    reply r;
    build(p, j.path, p->model, j.smoothing, &r);
    if (respond(rh, sizeof r, &r) != LV2_WORKER_SUCCESS) {
      /* The host could not queue the reply (its ring is full): the new model
       * never reaches run(). Free what was built here, where freeing is
       * allowed, and let run() send another request: otherwise the model and
       * stream leak and no swap or smoothing change would ever happen again. */
      chordlet_stream_free(r.stream);
      chordlet_model_free(r.model);
      audio_delay_free(r.delay);
      atomic_store_explicit(&p->build_pending, false, memory_order_release);
      return LV2_WORKER_ERR_NO_SPACE;
    }
    return LV2_WORKER_SUCCESS;
  }
  case JOB_FREE:
    chordlet_stream_free(j.stream);
    chordlet_model_free(j.model);
    audio_delay_free(j.delay);
    return LV2_WORKER_SUCCESS;
  }
  return LV2_WORKER_ERR_UNKNOWN;
}

static LV2_Worker_Status work_response(LV2_Handle h, uint32_t size, const void *data) {
  plugin *p = h;
  reply r;
  if (size != sizeof r) return LV2_WORKER_ERR_UNKNOWN;
  memcpy(&r, data, sizeof r);
  atomic_store_explicit(&p->build_pending, false, memory_order_release);
  if (!r.stream) {
    snprintf(p->error, sizeof p->error, "%s", r.message);
    p->send_error = true;
    return LV2_WORKER_SUCCESS;
  }
  /* Swap, then free the old off the audio thread. */
  job j = {.kind = JOB_FREE, .stream = p->stream, .model = r.model ? p->model : NULL, .delay = p->delay};
  p->stream = r.stream;
  if (r.delay && p->delay && audio_delay_length(r.delay) == audio_delay_length(p->delay)) {
    /* The same latency (a new smoothing): the audio goes on through the old
     * line, and what the old stream decided, and the chord on display, go
     * on with it. (What the old stream had not decided yet, its latency's
     * worth of audio, is not decided again: the new stream starts here.) */
    j.delay = r.delay;
    p->stream_base = p->heard;
  } else {
    p->delay = r.delay; /* a new latency: the host realigns, the audio restarts from silence */
    forget_held(p);
    p->have_shown = false;
  }
  p->smoothing_applied = r.smoothing;
  if (r.model) {
    p->model = r.model;
    snprintf(p->model_path, sizeof p->model_path, "%s", r.path);
    p->send_model = true;
  }
  if ((j.stream || j.model || j.delay) &&
      p->schedule->schedule_work(p->schedule->handle, (uint32_t)offsetof(job, path), &j) != LV2_WORKER_SUCCESS)
    lv2_log_warning(&p->logger, "chordlet: the worker queue is full; a replaced model is not freed\n");
  return LV2_WORKER_SUCCESS;
}

/* ------------------------------------------------------------------ state */

static LV2_State_Status save(LV2_Handle h, LV2_State_Store_Function store, LV2_State_Handle sh, uint32_t flags,
                             const LV2_Feature *const *features) {
  (void)flags;
  plugin *p = h;
  if (!p->model_path[0]) return LV2_STATE_SUCCESS;
  LV2_State_Map_Path *map_path = NULL;
  LV2_State_Free_Path *free_path = NULL;
  lv2_features_query(features, LV2_STATE__mapPath, &map_path, false, LV2_STATE__freePath, &free_path, false, NULL);
  char *abstract = map_path ? map_path->abstract_path(map_path->handle, p->model_path) : NULL;
  const char *path = abstract ? abstract : p->model_path;
  LV2_State_Status st = store(sh, p->uris.model, path, strlen(path) + 1, p->uris.atom_Path,
                              LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  if (abstract) {
    if (free_path) free_path->free_path(free_path->handle, abstract);
    else free(abstract);
  }
  return st;
}

static LV2_State_Status restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve, LV2_State_Handle sh,
                                uint32_t flags, const LV2_Feature *const *features) {
  (void)flags;
  plugin *p = h;
  size_t size = 0;
  uint32_t type = 0, vflags = 0;
  const char *value = retrieve(sh, p->uris.model, &size, &type, &vflags);
  if (!value) return LV2_STATE_SUCCESS; /* keep the model we have */
  if (type != p->uris.atom_Path || size == 0 || size > PATH_MAX_BYTES) return LV2_STATE_ERR_BAD_TYPE;
  LV2_State_Map_Path *map_path = NULL;
  LV2_State_Free_Path *free_path = NULL;
  lv2_features_query(features, LV2_STATE__mapPath, &map_path, false, LV2_STATE__freePath, &free_path, false, NULL);
  char abstract[PATH_MAX_BYTES];
  memcpy(abstract, value, size);
  abstract[size - 1] = '\0';
  char *absolute = map_path ? map_path->absolute_path(map_path->handle, abstract) : NULL;
  /* Not thread-safe restore (no state:threadSafeRestore): no run() is
   * running, so build and swap here. With the smoothing the control holds
   * now if the host has set it (Ardour sets a session's control values
   * before it restores the state): otherwise the first run() rebuilds the
   * stream for it in the worker, and a file-mode model's reported latency
   * changes after the host has aligned the tracks (an export started at
   * once after loading was then misaligned, some runs out of three). */
  reply r;
  const int smoothing = p->smoothing ? clamp_smoothing(*p->smoothing) : p->smoothing_applied;
  chordlet_status st = build(p, absolute ? absolute : abstract, NULL, smoothing, &r);
  if (absolute) {
    if (free_path) free_path->free_path(free_path->handle, absolute);
    else free(absolute);
  }
  if (st) {
    lv2_log_error(&p->logger, "chordlet: restoring the model: %s\n", r.message);
    snprintf(p->error, sizeof p->error, "%s", r.message);
    p->send_error = true;
    return LV2_STATE_ERR_UNKNOWN;
  }
  chordlet_stream_free(p->stream);
  chordlet_model_free(p->model);
  audio_delay_free(p->delay);
  p->stream = r.stream;
  p->model = r.model;
  p->delay = r.delay;
  p->smoothing_applied = r.smoothing;
  forget_held(p);
  snprintf(p->model_path, sizeof p->model_path, "%s", r.path);
  p->have_shown = false;
  p->send_model = true;
  return LV2_STATE_SUCCESS;
}

/* ---------------------------------------------------------- inline display */

/* The chord name, as large as the strip allows, over a confidence bar.
 * Thread: the host's GUI thread (not real time: it may allocate). */
static LV2_Inline_Display_Image_Surface *render(LV2_Handle h, uint32_t w, uint32_t max_h) {
  plugin *p = h;
  if (w < 8 || w > 4096) return NULL;
  uint32_t height = w / 3 < 24 ? 24 : w / 3;
  if (height > max_h) height = max_h;
  if (height < 8) return NULL;
  if (!p->display_surface || cairo_image_surface_get_width(p->display_surface) != (int)w ||
      cairo_image_surface_get_height(p->display_surface) != (int)height) {
    if (p->display_surface) cairo_surface_destroy(p->display_surface);
    p->display_surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)w, (int)height);
  }
  if (cairo_surface_status(p->display_surface) != CAIRO_STATUS_SUCCESS) return NULL;
  const int chord = atomic_load_explicit(&p->display_chord, memory_order_acquire);
  unsigned bits = atomic_load_explicit(&p->display_confidence, memory_order_relaxed);
  float confidence;
  memcpy(&confidence, &bits, sizeof confidence);
  char name[CHORDLET_NAME_MAX];
  chordlet_chord_name(chord, CHORDLET_SPELLING_FRIENDLY, name, sizeof name);
  cairo_t *cr = cairo_create(p->display_surface);
  cairo_set_source_rgb(cr, 0.10, 0.11, 0.13);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  double size = height * 0.7;
  cairo_set_font_size(cr, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, name, &ext);
  if (ext.width > w * 0.92) {
    size *= w * 0.92 / ext.width;
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, name, &ext);
  }
  cairo_set_source_rgb(cr, 0.95, 0.95, 0.92);
  cairo_move_to(cr, (w - ext.width) / 2 - ext.x_bearing, (height * 0.85 - ext.height) / 2 - ext.y_bearing);
  cairo_show_text(cr, name);
  const double c = confidence < 0 ? 0 : confidence > 1 ? 1 : confidence;
  cairo_set_source_rgb(cr, 0.3 + 0.5 * (1 - c), 0.2 + 0.75 * c, 0.35);
  cairo_rectangle(cr, 0, height * 0.88, w * c, height * 0.12);
  cairo_fill(cr);
  cairo_destroy(cr);
  cairo_surface_flush(p->display_surface);
  p->display_image.data = cairo_image_surface_get_data(p->display_surface);
  p->display_image.width = (int)w;
  p->display_image.height = (int)height;
  p->display_image.stride = cairo_image_surface_get_stride(p->display_surface);
  return &p->display_image;
}

static const void *extension_data(const char *uri) {
  static const LV2_Worker_Interface worker = {work, work_response, NULL};
  static const LV2_State_Interface state = {save, restore};
  static const LV2_Inline_Display_Interface display = {render};
  if (strcmp(uri, LV2_WORKER__interface) == 0) return &worker;
  if (strcmp(uri, LV2_STATE__interface) == 0) return &state;
  if (strcmp(uri, LV2_INLINEDISPLAY__interface) == 0) return &display;
  return NULL;
}

static const LV2_Descriptor descriptors[] = {
    {CHORDLET_MONO_URI, instantiate, connect_port, activate, run, deactivate, cleanup, extension_data},
    {CHORDLET_STEREO_URI, instantiate, connect_port, activate, run, deactivate, cleanup, extension_data},
};

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index) {
  return index < sizeof descriptors / sizeof descriptors[0] ? &descriptors[index] : NULL;
}
