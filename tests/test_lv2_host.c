/* test_lv2_host.c: chordlet.lv2 in a small lilv host, as a DAW would run it.
 * The bundle is the build's own (<build>/lv2/chordlet.lv2, found next to this
 * executable). Checked:
 *  - lilv finds both plugins (mono, stereo) with the required features;
 *  - a synthesized progression (C Am F G Dm Em F C) at 44.1 and 48 kHz, in
 *    blocks of 1, 64, 128, 1024 and varying sizes: the chord control output,
 *    read at each block's end, matches the chord that was sounding one declared
 *    latency earlier on >= 90 % of the hops; the same run gives the same
 *    outputs for every block size; the stereo plugin with the signal in both
 *    channels gives the mono result; the audio comes out untouched;
 *  - the notify port carries one chordlet:ChordChange per change, with the
 *    Harte name of the control output's chord; the MIDI port sounds the
 *    chord's notes (note-offs before note-ons);
 *  - real time: run() makes no allocation, free or mutex lock over the whole
 *    song at every block size, with the worker run inline (the network
 *    included) and with the worker on its own thread (interposer);
 *  - a model swap while running (patch:Set on the control port, built on the
 *    worker thread, the old model freed there): recognition goes on and the
 *    notify port reports the new path; a broken model file is refused with a
 *    message and the old model stays; state save/restore of the model path;
 *  - activate/deactivate (a restart), silence, DC, clipping and NaN input:
 *    finite outputs, N for silence;
 *  - freewheeling (the lv2:freeWheeling port): a host that runs run() flat
 *    out with a worker that is late to every job gets, with the port set,
 *    the chord changes (chord, confidence, time: bit for bit) and the chord
 *    output of a host that runs the worker at once; without it the worker
 *    falls behind, frames are lost, and the plugin logs a warning (from the
 *    worker). run() makes no allocation, free or lock in real time, before
 *    and after the pass; only while the port says freewheeling is it exempt
 *    (it runs the network and may wait for the worker). */
#define _GNU_SOURCE
#include <stdlib.h>

#include "rt_interposer.h"

#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "check.h"
#include "lv2_host_util.h"

#define MONO "urn:chordlet:mono"
#define STEREO "urn:chordlet:stereo"

/* ------------------------------------------------------ inline display */

#define INLINEDISPLAY "http://harrisonconsoles.com/lv2/inlinedisplay"
typedef struct {
  unsigned char *data;
  int width, height, stride;
} inline_image;
typedef struct {
  inline_image *(*render)(LV2_Handle instance, uint32_t w, uint32_t max_h);
} inline_interface;
typedef struct {
  void *handle;
  void (*queue_draw)(void *handle);
} inline_queue_draw;
static atomic_int queue_draw_calls;
static void queue_draw(void *handle) {
  (void)handle;
  atomic_fetch_add(&queue_draw_calls, 1);
}

/* ---------------------------------------------------------------- log:log */

/* The plugin's log lines: counted, the last warning kept (the worker thread
 * writes; the tests read after the worker is idle), and echoed to stderr. */
static atomic_int log_warnings;
static char last_warning[512];
static LV2_URID log_Warning;
static int log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, va_list ap) {
  (void)handle;
  va_list copy;
  va_copy(copy, ap);
  if (type == log_Warning) {
    vsnprintf(last_warning, sizeof last_warning, fmt, copy);
    atomic_fetch_add(&log_warnings, 1);
  }
  va_end(copy);
  return vfprintf(stderr, fmt, ap);
}
static int log_printf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = log_vprintf(handle, type, fmt, ap);
  va_end(ap);
  return n;
}

/* ------------------------------------------------------------ the host */

typedef struct host {
  LilvWorld *world;
  const LilvPlugin *plugin;
  LilvInstance *instance;
  host_worker worker;
  LV2_URID_Map map;
  LV2_URID_Unmap unmap;
  LV2_Worker_Schedule sched;
  int32_t max_block;
  LV2_Options_Option options[2];
  LV2_Feature f_map, f_unmap, f_sched, f_options, f_queue_draw, f_log;
  inline_queue_draw queue_draw;
  LV2_Log_Log log;
  const LV2_Feature *features[7];
  int n_channels;
  float *in[2], *out[2];
  float controls[32];
  uint32_t port_threshold, port_smoothing, port_chord, port_root, port_quality, port_bass, port_confidence,
      port_latency, port_control, port_notify, port_midi, port_tuning, port_tuning_hz, port_freewheel,
      port_audio_latency;
  union {
    LV2_Atom_Sequence seq;
    uint64_t align; /* events hold 64-bit times: 8-byte alignment */
    unsigned char bytes[16384];
  } control, notify, midi;
  LV2_Atom_Forge forge;
  LV2_URID atom_Sequence, atom_Object, atom_Path, atom_URID, atom_String, atom_Int, patch_Set, patch_property,
      patch_value, chordlet_model, chordlet_error, ChordChange, chordlet_name, chordlet_chord, midi_Event,
      chordlet_confidence, chordlet_time, atom_Float, atom_Double;
} host;

static uint32_t port_index(host *h, const char *symbol) {
  LilvNode *sym = lilv_new_string(h->world, symbol);
  const LilvPort *port = lilv_plugin_get_port_by_symbol(h->plugin, sym);
  lilv_node_free(sym);
  CHECK(port != NULL, "the plugin has no port '%s'", symbol);
  return port ? lilv_port_get_index(h->plugin, port) : 0;
}

static int host_open(host *h, LilvWorld *world, const char *uri, double rate, int threaded) {
  memset(h, 0, sizeof *h);
  h->world = world;
  LilvNode *u = lilv_new_uri(world, uri);
  h->plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), u);
  lilv_node_free(u);
  CHECK(h->plugin != NULL, "lilv does not find %s", uri);
  if (!h->plugin) return -1;
  h->map = (LV2_URID_Map){NULL, map_uri};
  h->unmap = (LV2_URID_Unmap){NULL, unmap_uri};
  h->sched = (LV2_Worker_Schedule){&h->worker, host_schedule};
  h->max_block = 2048;
  h->options[0] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__maxBlockLength),
                                       sizeof(int32_t), map_uri(NULL, LV2_ATOM__Int), &h->max_block};
  h->options[1] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL};
  h->f_map = (LV2_Feature){LV2_URID__map, &h->map};
  h->f_unmap = (LV2_Feature){LV2_URID__unmap, &h->unmap};
  h->f_sched = (LV2_Feature){LV2_WORKER__schedule, &h->sched};
  h->f_options = (LV2_Feature){LV2_OPTIONS__options, h->options};
  h->features[0] = &h->f_map;
  h->features[1] = &h->f_unmap;
  h->features[2] = &h->f_sched;
  h->features[3] = &h->f_options;
  h->queue_draw = (inline_queue_draw){NULL, queue_draw};
  h->f_queue_draw = (LV2_Feature){INLINEDISPLAY "#queue_draw", &h->queue_draw};
  h->features[4] = &h->f_queue_draw;
  log_Warning = map_uri(NULL, LV2_LOG__Warning);
  h->log = (LV2_Log_Log){NULL, log_printf, log_vprintf};
  h->f_log = (LV2_Feature){LV2_LOG__log, &h->log};
  h->features[5] = &h->f_log;
  h->features[6] = NULL;
  h->instance = lilv_plugin_instantiate(h->plugin, rate, h->features);
  CHECK(h->instance != NULL, "%s does not instantiate at %.0f Hz", uri, rate);
  if (!h->instance) return -1;
  host_worker_start(&h->worker, h->instance, threaded);
  CHECK(h->worker.iface != NULL, "no worker interface");

  h->n_channels = strcmp(uri, STEREO) == 0 ? 2 : 1;
  for (int c = 0; c < h->n_channels; c++) {
    h->in[c] = calloc((size_t)h->max_block, sizeof(float));
    h->out[c] = calloc((size_t)h->max_block, sizeof(float));
  }
  const char *ins[2] = {h->n_channels == 2 ? "in_l" : "in", "in_r"};
  const char *outs[2] = {h->n_channels == 2 ? "out_l" : "out", "out_r"};
  for (int c = 0; c < h->n_channels; c++) {
    lilv_instance_connect_port(h->instance, port_index(h, ins[c]), h->in[c]);
    lilv_instance_connect_port(h->instance, port_index(h, outs[c]), h->out[c]);
  }
  h->port_threshold = port_index(h, "threshold");
  h->port_smoothing = port_index(h, "smoothing");
  h->port_chord = port_index(h, "chord");
  h->port_root = port_index(h, "root");
  h->port_quality = port_index(h, "quality");
  h->port_bass = port_index(h, "bass");
  h->port_confidence = port_index(h, "confidence");
  h->port_latency = port_index(h, "latency");
  h->port_control = port_index(h, "control");
  h->port_notify = port_index(h, "notify");
  h->port_midi = port_index(h, "midi_out");
  h->port_tuning = port_index(h, "tuning");
  h->port_tuning_hz = port_index(h, "tuning_hz");
  /* Last in the list, in the order they came (the older ports keep their indices). */
  h->port_freewheel = port_index(h, "freewheel");
  h->port_audio_latency = port_index(h, "audio_latency");
  const uint32_t n_ports = lilv_plugin_get_num_ports(h->plugin);
  CHECK(h->port_freewheel == n_ports - 2 && h->port_audio_latency == n_ports - 1,
        "freewheel and audio_latency are not the last two ports");
  const uint32_t ctl[] = {h->port_threshold, h->port_smoothing, h->port_chord,       h->port_root,
                          h->port_quality,   h->port_bass,      h->port_confidence,  h->port_latency,
                          h->port_tuning,    h->port_tuning_hz, h->port_freewheel,   h->port_audio_latency};
  for (int i = 0; i < 12; i++) lilv_instance_connect_port(h->instance, ctl[i], &h->controls[ctl[i]]);
  h->controls[h->port_freewheel] = 0;
  h->controls[h->port_tuning] = 0; /* auto */
  h->controls[h->port_threshold] = 0;
  h->controls[h->port_smoothing] = 4;
  lilv_instance_connect_port(h->instance, h->port_control, &h->control);
  lilv_instance_connect_port(h->instance, h->port_notify, &h->notify);
  lilv_instance_connect_port(h->instance, h->port_midi, &h->midi);
  lv2_atom_forge_init(&h->forge, &h->map);
  h->atom_Sequence = map_uri(NULL, LV2_ATOM__Sequence);
  h->atom_Object = map_uri(NULL, LV2_ATOM__Object);
  h->atom_Path = map_uri(NULL, LV2_ATOM__Path);
  h->atom_URID = map_uri(NULL, LV2_ATOM__URID);
  h->atom_String = map_uri(NULL, LV2_ATOM__String);
  h->atom_Int = map_uri(NULL, LV2_ATOM__Int);
  h->patch_Set = map_uri(NULL, LV2_PATCH__Set);
  h->patch_property = map_uri(NULL, LV2_PATCH__property);
  h->patch_value = map_uri(NULL, LV2_PATCH__value);
  h->chordlet_model = map_uri(NULL, "urn:chordlet#model");
  h->chordlet_error = map_uri(NULL, "urn:chordlet#error");
  h->ChordChange = map_uri(NULL, "urn:chordlet#ChordChange");
  h->chordlet_name = map_uri(NULL, "urn:chordlet#name");
  h->chordlet_chord = map_uri(NULL, "urn:chordlet#chord");
  h->midi_Event = map_uri(NULL, LV2_MIDI__MidiEvent);
  h->chordlet_confidence = map_uri(NULL, "urn:chordlet#confidence");
  h->chordlet_time = map_uri(NULL, "urn:chordlet#time");
  h->atom_Float = map_uri(NULL, LV2_ATOM__Float);
  h->atom_Double = map_uri(NULL, LV2_ATOM__Double);
  /* an empty control sequence */
  lv2_atom_forge_set_buffer(&h->forge, h->control.bytes, sizeof h->control.bytes);
  LV2_Atom_Forge_Frame f;
  lv2_atom_forge_sequence_head(&h->forge, &f, 0);
  lilv_instance_activate(h->instance);
  return 0;
}

static void host_close(host *h) {
  if (!h->instance) return;
  host_worker_stop(&h->worker);
  lilv_instance_deactivate(h->instance);
  lilv_instance_free(h->instance);
  for (int c = 0; c < h->n_channels; c++) {
    free(h->in[c]);
    free(h->out[c]);
  }
  h->instance = NULL;
}

/* Changes seen on the notify port and the MIDI port during one run(). */
typedef struct outputs {
  int n_changes, last_change_chord;
  int changes[64]; /* the chords of the first 64 changes, in order */
  float confidences[64];
  double times[64];
  char last_name[32];
  char model_path[512], error[512];
  int note_ons, note_offs, offs_after_on, last_on_notes[8], n_last_on;
} outputs;

static void read_outputs(host *h, outputs *o) {
  LV2_ATOM_SEQUENCE_FOREACH (&h->notify.seq, ev) {
    if (ev->body.type != h->atom_Object) continue;
    const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
    if (obj->body.otype == h->ChordChange) {
      const LV2_Atom *name = NULL, *chord = NULL, *confidence = NULL, *time = NULL;
      lv2_atom_object_get(obj, h->chordlet_name, &name, h->chordlet_chord, &chord, h->chordlet_confidence, &confidence,
                          h->chordlet_time, &time, 0);
      if (name && name->type == h->atom_String && chord && chord->type == h->atom_Int) {
        o->last_change_chord = ((const LV2_Atom_Int *)chord)->body;
        if (o->n_changes < 64) {
          o->changes[o->n_changes] = o->last_change_chord;
          o->confidences[o->n_changes] =
              confidence && confidence->type == h->atom_Float ? ((const LV2_Atom_Float *)confidence)->body : -1.0f;
          o->times[o->n_changes] = time && time->type == h->atom_Double ? ((const LV2_Atom_Double *)time)->body : -1.0;
        }
        o->n_changes++;
        snprintf(o->last_name, sizeof o->last_name, "%s", (const char *)LV2_ATOM_BODY_CONST(name));
      }
    } else if (obj->body.otype == h->patch_Set) {
      const LV2_Atom *property = NULL, *value = NULL;
      lv2_atom_object_get(obj, h->patch_property, &property, h->patch_value, &value, 0);
      if (!property || !value || property->type != h->atom_URID) continue;
      LV2_URID key = ((const LV2_Atom_URID *)property)->body;
      if (key == h->chordlet_model && value->type == h->atom_Path)
        snprintf(o->model_path, sizeof o->model_path, "%s", (const char *)LV2_ATOM_BODY_CONST(value));
      if (key == h->chordlet_error && value->type == h->atom_String)
        snprintf(o->error, sizeof o->error, "%s", (const char *)LV2_ATOM_BODY_CONST(value));
    }
  }
  int ons_this_run = 0;
  LV2_ATOM_SEQUENCE_FOREACH (&h->midi.seq, ev) {
    if (ev->body.type != h->midi_Event || ev->body.size != 3) continue;
    const uint8_t *msg = LV2_ATOM_BODY_CONST(&ev->body);
    if ((msg[0] & 0xf0) == 0x90) {
      if (ons_this_run == 0) o->n_last_on = 0;
      ons_this_run++;
      o->note_ons++;
      if (o->n_last_on < 8) o->last_on_notes[o->n_last_on++] = msg[1];
    } else if ((msg[0] & 0xf0) == 0x80) {
      o->note_offs++;
      if (ons_this_run) o->offs_after_on++;
    }
  }
}

/* A threaded worker needs the time a sound card gives it: blocks come at 8x
 * real time. Under ASan inference is many times slower than the product's,
 * so there the host also waits for the worker to finish (the concurrency is
 * then lower, the code paths the same). */
static void pace(host *h, size_t len, double rate) {
  if (!h->worker.threaded) return;
  nanosleep(&(struct timespec){0, (long)(len / rate / 8 * 1e9)}, NULL);
  if (UNDER_ASAN) host_worker_idle(&h->worker);
}

/* One block: prepare the output sequences, run, deliver worker responses. */
static long host_run(host *h, uint32_t n, int count) {
  h->notify.seq.atom.size = sizeof h->notify.bytes - sizeof(LV2_Atom);
  h->notify.seq.atom.type = 0;
  h->midi.seq.atom.size = sizeof h->midi.bytes - sizeof(LV2_Atom);
  h->midi.seq.atom.type = 0;
  long calls = 0;
  if (count) count_on();
  lilv_instance_run(h->instance, n);
  if (count) calls = count_off();
  host_deliver_responses(&h->worker);
  /* the control input is consumed: empty it for the next block */
  lv2_atom_forge_set_buffer(&h->forge, h->control.bytes, sizeof h->control.bytes);
  LV2_Atom_Forge_Frame f;
  lv2_atom_forge_sequence_head(&h->forge, &f, 0);
  return calls;
}

static void send_model(host *h, const char *path) {
  lv2_atom_forge_set_buffer(&h->forge, h->control.bytes, sizeof h->control.bytes);
  LV2_Atom_Forge_Frame seq, obj;
  lv2_atom_forge_sequence_head(&h->forge, &seq, 0);
  lv2_atom_forge_frame_time(&h->forge, 0);
  lv2_atom_forge_object(&h->forge, &obj, 0, h->patch_Set);
  lv2_atom_forge_key(&h->forge, h->patch_property);
  lv2_atom_forge_urid(&h->forge, h->chordlet_model);
  lv2_atom_forge_key(&h->forge, h->patch_value);
  lv2_atom_forge_path(&h->forge, path, (uint32_t)strlen(path));
  lv2_atom_forge_pop(&h->forge, &obj);
  lv2_atom_forge_pop(&h->forge, &seq);
}

/* ---------------------------------------------------- the progression */

#define PI_ 3.141592653589793
enum { N_CHORDS = 8 };
static const double CHORD_SECONDS = 1.493, LEAD_IN = 0.507;
static const int ROOTS[N_CHORDS] = {0, 9, 5, 7, 2, 4, 5, 0};
static const int MINOR[N_CHORDS] = {0, 1, 0, 0, 1, 1, 0, 0};

static float *progression(double rate, size_t *n_out) {
  const double total = LEAD_IN + N_CHORDS * CHORD_SECONDS + 1.0;
  size_t n = (size_t)(total * rate);
  float *x = calloc(n, sizeof *x);
  for (int c = 0; c < N_CHORDS; c++) {
    double t0 = LEAD_IN + c * CHORD_SECONDS;
    size_t i0 = (size_t)(t0 * rate), i1 = (size_t)((t0 + CHORD_SECONDS) * rate);
    int notes[4] = {60 + ROOTS[c], 60 + ROOTS[c] + (MINOR[c] ? 3 : 4), 60 + ROOTS[c] + 7, 48 + ROOTS[c]};
    for (int v = 0; v < 4; v++) {
      int midi = notes[v];
      if (v < 3 && midi > 67) midi -= 12;
      double f = 440.0 * pow(2.0, (midi - 69) / 12.0);
      for (size_t i = i0; i < i1 && i < n; i++) {
        double t = (double)(i - i0) / rate;
        double env = (1 - exp(-t / 0.005)) * exp(-t / 1.2) * (i1 - i < rate * 0.02 ? (double)(i1 - i) / (rate * 0.02) : 1);
        double s = 0;
        for (int k = 1; k <= 6; k++) s += sin(2 * PI_ * f * k * t) / (k * k);
        x[i] += (float)(0.12 * env * s);
      }
    }
  }
  *n_out = n;
  return x;
}

static int truth_at(double t) {
  if (t < LEAD_IN || t >= LEAD_IN + N_CHORDS * CHORD_SECONDS) return 169;
  int c = (int)((t - LEAD_IN) / CHORD_SECONDS);
  return 14 * ROOTS[c] + (MINOR[c] ? 0 : 1);
}

typedef struct song_result {
  int *chord_at_hop; /* the chord output at the end of the block holding each 20 ms point */
  int n_hops;
  double agreement;
  long rt_calls;
  float latency_ms;
  outputs out;
  int audio_changed;
  double change_seen[N_CHORDS]; /* when the chord output first showed chord c after it began (-1: never) */
  double median_delay_ms;        /* over the changes seen: seen - start */
} song_result;

/* Plays the song through an open host; block > 0 fixed, 0 varying. */
static void play(host *h, const float *x, size_t n, double rate, long block, song_result *r) {
  memset(r, 0, sizeof *r);
  const double hop = 0.02;
  r->n_hops = (int)(n / rate / hop);
  r->chord_at_hop = calloc((size_t)r->n_hops + 1, sizeof(int));
  for (int k = 0; k < N_CHORDS; k++) r->change_seen[k] = -1;
  unsigned seed = 3;
  size_t done = 0;
  int next_hop = 0;
  while (done < n) {
    size_t len = block > 0 ? (size_t)block : 1 + (seed = seed * 1103515245u + 12345u) % 2048u;
    if (len > n - done) len = n - done;
    for (int c = 0; c < h->n_channels; c++) memcpy(h->in[c], x + done, len * sizeof(float));
    r->rt_calls += host_run(h, (uint32_t)len, 1);
    read_outputs(h, &r->out);
    pace(h, len, rate);
    for (int c = 0; c < h->n_channels; c++) r->audio_changed |= memcmp(h->out[c], x + done, len * sizeof(float)) != 0;
    done += len;
    /* The first block end where the output shows the chord that began last. */
    const double t_end = (double)done / rate;
    const int c = (int)((t_end - LEAD_IN) / CHORD_SECONDS);
    for (int k = 0; k < N_CHORDS && k <= c; k++)
      if (r->change_seen[k] < 0 && (int)h->controls[h->port_chord] == 14 * ROOTS[k] + (MINOR[k] ? 0 : 1) &&
          t_end > LEAD_IN + k * CHORD_SECONDS && (k == 0 || ROOTS[k] != ROOTS[k - 1] || MINOR[k] != MINOR[k - 1]))
        r->change_seen[k] = t_end;
    while (next_hop < r->n_hops && next_hop * hop * rate < (double)done)
      r->chord_at_hop[next_hop++] = (int)h->controls[h->port_chord];
  }
  r->latency_ms = h->controls[h->port_latency];
  int good = 0, total = 0;
  for (int k = 0; k < r->n_hops; k++) {
    double t = k * hop - r->latency_ms / 1e3; /* what the output should show at this point */
    if (t < LEAD_IN || t >= LEAD_IN + N_CHORDS * CHORD_SECONDS) continue;
    good += r->chord_at_hop[k] == truth_at(t);
    total++;
  }
  r->agreement = total ? (double)good / total : 0;
  double delays[N_CHORDS];
  int m = 0;
  for (int k = 0; k < N_CHORDS; k++)
    if (r->change_seen[k] >= 0) delays[m++] = 1e3 * (r->change_seen[k] - (LEAD_IN + k * CHORD_SECONDS));
  for (int i = 1; i < m; i++)
    for (int j = i; j > 0 && delays[j] < delays[j - 1]; j--) {
      double t = delays[j];
      delays[j] = delays[j - 1];
      delays[j - 1] = t;
    }
  r->median_delay_ms = m == 0 ? -1 : m % 2 ? delays[m / 2] : 0.5 * (delays[m / 2 - 1] + delays[m / 2]);
}

static char bundle_dir[3000];

static void test_song(LilvWorld *world, double rate) {
  size_t n;
  float *x = progression(rate, &n);
  const long blocks[] = {64, 1, 128, 1024, 0};
  song_result ref, r;
  for (int b = 0; b < 5; b++) {
    host h;
    if (host_open(&h, world, MONO, rate, 0)) break;
    song_result *cur = b == 0 ? &ref : &r;
    play(&h, x, n, rate, blocks[b], cur);
    printf("mono %.0f Hz, blocks of %ld%s: chord output right on %.1f %% of hops (after the declared %.0f ms), "
           "%d changes on notify, %d note-ons / %d note-offs, run(): %ld allocations/frees/locks\n",
           rate, blocks[b], blocks[b] ? "" : " (varying 1..2048)", 100 * cur->agreement, (double)cur->latency_ms,
           cur->out.n_changes, cur->out.note_ons, cur->out.note_offs, cur->rt_calls);
    CHECK(cur->agreement >= 0.90, "%.0f Hz, blocks of %ld: %.1f %% right", rate, blocks[b], 100 * cur->agreement);
    CHECK(!cur->audio_changed, "the audio did not pass through untouched");
    if (!UNDER_ASAN) CHECK(cur->rt_calls == 0, "run() made %ld allocations/frees/locks", cur->rt_calls);
    CHECK(cur->latency_ms > 0 && cur->latency_ms <= 300, "latency output %.1f ms", (double)cur->latency_ms);
    if (b == 0) {
      /* The tuning output: the progression is at A4 = 440 Hz (auto finds it);
       * then the control fixes A4 = 442 Hz and the output follows. */
      const float auto_hz = h.controls[h.port_tuning_hz];
      h.controls[h.port_tuning] = 442.0f;
      song_result fixed;
      play(&h, x, (size_t)rate, rate, 64, &fixed);
      free(fixed.chord_at_hop);
      printf("  tuning output: %.2f Hz in auto on music at 440 Hz; %.2f Hz with the control at 442\n",
             (double)auto_hz, (double)h.controls[h.port_tuning_hz]);
      CHECK(fabs(1200 * log2(auto_hz / 440.0)) <= 5.0, "auto tuning output %.2f Hz on music at 440 Hz", (double)auto_hz);
      CHECK(fabs(h.controls[h.port_tuning_hz] - 442.0f) < 1e-3, "fixed tuning output %.3f Hz",
            (double)h.controls[h.port_tuning_hz]);
    }
    if (blocks[b] == 64 || blocks[b] == 1) {
      /* Measured: a change shows on the chord output this long after it sounds
       * (to the block's end); the latency port says how long it should. */
      printf("  latency: port %.0f ms, measured median %.1f ms over the changes\n", (double)cur->latency_ms,
             cur->median_delay_ms);
      CHECK(fabs(cur->median_delay_ms - cur->latency_ms) <= 20 + 1e3 * blocks[b] / rate,
            "%.0f Hz, blocks of %ld: measured latency %.1f ms, the port says %.0f ms", rate, blocks[b],
            cur->median_delay_ms, (double)cur->latency_ms);
    }
    CHECK(cur->out.n_changes >= N_CHORDS, "only %d chord changes on the notify port", cur->out.n_changes);
    CHECK(cur->out.last_change_chord == (int)h.controls[h.port_chord], "notify's last chord %d, control output %d",
          cur->out.last_change_chord, (int)h.controls[h.port_chord]);
    CHECK(cur->out.offs_after_on == 0, "%d note-offs came after a note-on in one block", cur->out.offs_after_on);
    CHECK(cur->out.note_ons >= 4 * N_CHORDS - 4, "only %d note-ons", cur->out.note_ons);
    if (b > 0) {
      CHECK(r.out.n_changes == ref.out.n_changes &&
                memcmp(r.out.changes, ref.out.changes, sizeof(int) * (size_t)(r.out.n_changes < 64 ? r.out.n_changes : 64)) == 0,
            "blocks of %ld: another sequence of chord changes than blocks of 64 (%d vs %d changes)", blocks[b],
            r.out.n_changes, ref.out.n_changes);
      free(r.chord_at_hop);
    }
    host_close(&h);
  }
  /* Ardour's inline display: queue_draw on every change, and a picture of
   * the chord on request. */
  {
    host h;
    if (!host_open(&h, world, MONO, rate, 0)) {
      atomic_store(&queue_draw_calls, 0);
      play(&h, x, n, rate, 256, &r);
      const inline_interface *idi = lilv_instance_get_extension_data(h.instance, INLINEDISPLAY "#interface");
      CHECK(idi != NULL, "no inline display interface");
      int light = 0, width = 0, height = 0;
      if (idi) {
        for (int k = 0; k < 3; k++) { /* and again at other sizes: the surface follows */
          const uint32_t w = k == 1 ? 120 : 200;
          inline_image *img = idi->render(lilv_instance_get_handle(h.instance), w, 100);
          CHECK(img && img->width == (int)w && img->height > 8 && img->height <= 100, "inline display %ux..: %dx%d", w,
                img ? img->width : 0, img ? img->height : 0);
          if (!img) continue;
          width = img->width;
          height = img->height;
          light = 0;
          for (int y = 0; y < img->height; y++)
            for (int xx = 0; xx < img->width; xx++) {
              const uint8_t *px = img->data + (size_t)y * (size_t)img->stride + 4 * (size_t)xx;
              light += px[0] > 200 && px[1] > 200 && px[2] > 200;
            }
        }
      }
      printf("inline display: %dx%d with %d light (text) pixels; queue_draw called %d times for %d changes\n", width,
             height, light, atomic_load(&queue_draw_calls), r.out.n_changes);
      CHECK(light > 100, "the inline display drew no chord name (%d light pixels)", light);
      CHECK(atomic_load(&queue_draw_calls) == r.out.n_changes, "queue_draw %d times for %d changes",
            atomic_load(&queue_draw_calls), r.out.n_changes);
      free(r.chord_at_hop);
      host_close(&h);
    }
  }
  /* The last chord's notes (C): C3, then C E G in octave 4. */
  CHECK(ref.out.n_last_on == 4 && ref.out.last_on_notes[0] == 48 && ref.out.last_on_notes[1] == 60 &&
            ref.out.last_on_notes[2] == 64 && ref.out.last_on_notes[3] == 67,
        "the last chord's MIDI notes: %d notes, first %d", ref.out.n_last_on, ref.out.last_on_notes[0]);
  /* Stereo, the song in both channels, with the worker on its own thread. */
  host h;
  if (!host_open(&h, world, STEREO, rate, 1)) {
    play(&h, x, n, rate, 256, &r);
    printf("stereo %.0f Hz, blocks of 256, threaded worker: %.1f %% right, run(): %ld allocations/frees/locks\n", rate,
           100 * r.agreement, r.rt_calls);
    CHECK(r.agreement >= 0.90, "stereo: %.1f %% right", 100 * r.agreement);
    if (!UNDER_ASAN) CHECK(r.rt_calls == 0, "stereo run() made %ld allocations/frees/locks", r.rt_calls);
    CHECK(!r.audio_changed, "stereo audio changed");
    free(r.chord_at_hop);
    host_close(&h);
  }
  free(ref.chord_at_hop);
  free(x);
}

/* --------------------------------------------------- swap, state, junk */

typedef struct saved {
  LV2_URID key, type;
  char value[1024];
  size_t size;
} saved;

static LV2_State_Status store(LV2_State_Handle sh, uint32_t key, const void *value, size_t size, uint32_t type,
                              uint32_t flags) {
  (void)flags;
  saved *s = sh;
  if (size > sizeof s->value) return LV2_STATE_ERR_NO_SPACE;
  s->key = key;
  s->type = type;
  s->size = size;
  memcpy(s->value, value, size);
  return LV2_STATE_SUCCESS;
}

static const void *retrieve(LV2_State_Handle sh, uint32_t key, size_t *size, uint32_t *type, uint32_t *flags) {
  saved *s = sh;
  if (key != s->key) return NULL;
  *size = s->size;
  *type = s->type;
  *flags = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
  return s->value;
}

static void test_swap_state_junk(LilvWorld *world) {
  const double rate = 48000;
  size_t n;
  float *x = progression(rate, &n);
  host h;
  if (host_open(&h, world, MONO, rate, 1)) return;
  char copy[4200], broken[4200];
  char cmd[20000];
  if (snprintf(copy, sizeof copy, "%s/../swap-copy.chordlet", bundle_dir) >= (int)sizeof copy ||
      snprintf(broken, sizeof broken, "%s/../swap-broken.chordlet", bundle_dir) >= (int)sizeof broken ||
      snprintf(cmd, sizeof cmd, "cp '%s/default.chordlet' '%s' && head -c 5000 '%s' > '%s'", bundle_dir, copy, copy,
               broken) >= (int)sizeof cmd) {
    CHECK(0, "paths too long");
    return;
  }
  CHECK(system(cmd) == 0, "cannot copy the model");
  /* Half the song; swap to the copy; the rest. run() stays clean. */
  outputs o = {0};
  long calls = 0;
  int right = 0, total = 0;
  const size_t block = 256;
  for (size_t done = 0; done < n; done += block) {
    size_t len = n - done < block ? n - done : block;
    if (done == (n / 2 / block) * block) send_model(&h, copy);
    memcpy(h.in[0], x + done, len * sizeof(float));
    calls += host_run(&h, (uint32_t)len, 1);
    read_outputs(&h, &o);
    pace(&h, len, rate);
    double t = (double)(done + len) / rate - h.controls[h.port_latency] / 1e3;
    if (done > n / 2 + (size_t)rate && t >= LEAD_IN && t < LEAD_IN + N_CHORDS * CHORD_SECONDS) {
      right += (int)h.controls[h.port_chord] == truth_at(t);
      total++;
    }
  }
  printf("model swap mid-song: notify reported '%s'; after it %.1f %% right; run(): %ld allocations/frees/locks\n",
         o.model_path, total ? 100.0 * right / total : 0, calls);
  CHECK(strcmp(o.model_path, copy) == 0, "notify reported the model '%s', expected '%s'", o.model_path, copy);
  CHECK(total && right >= 0.85 * total, "after the swap only %d of %d blocks right", right, total);
  if (!UNDER_ASAN) CHECK(calls == 0, "run() made %ld allocations/frees/locks around a model swap", calls);

  /* A broken file: refused with a message, the old model keeps working. */
  memset(&o, 0, sizeof o);
  send_model(&h, broken);
  for (int k = 0; k < 200 && !o.error[0]; k++) {
    memset(h.in[0], 0, block * sizeof(float));
    host_run(&h, block, 0);
    read_outputs(&h, &o);
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  printf("broken model: '%s'\n", o.error);
  CHECK(strstr(o.error, "swap-broken.chordlet") != NULL, "no error for a broken model: '%s'", o.error);

  /* The host cannot queue the worker's reply (its ring is full): the model
   * built for it is freed in the worker (no leak under ASan), and the plugin
   * takes the next request instead of waiting for that reply forever. */
  char copy2[4200];
  if (snprintf(copy2, sizeof copy2, "%s/../swap-copy2.chordlet", bundle_dir) >= (int)sizeof copy2 ||
      snprintf(cmd, sizeof cmd, "cp '%s' '%s'", copy, copy2) >= (int)sizeof cmd || system(cmd) != 0)
    CHECK(0, "cannot copy the model");
  atomic_store(&h.worker.refuse_responses, 1);
  send_model(&h, copy2);
  for (int k = 0; k < 100; k++) { /* the refused reply: nothing changes */
    memset(h.in[0], 0, block * sizeof(float));
    host_run(&h, block, 0);
    read_outputs(&h, &o);
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  CHECK(strcmp(o.model_path, copy2) != 0, "a model whose reply was refused was swapped in");
  send_model(&h, copy2);
  for (int k = 0; k < 300 && strcmp(o.model_path, copy2); k++) {
    memset(h.in[0], 0, block * sizeof(float));
    host_run(&h, block, 0);
    read_outputs(&h, &o);
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  printf("a reply the host could not queue: the model sent again is in use ('%s')\n", o.model_path);
  CHECK(strcmp(o.model_path, copy2) == 0, "after a refused reply the next swap never happened ('%s')", o.model_path);
  send_model(&h, copy); /* back to the first copy, which the state test below expects */
  for (int k = 0; k < 300 && strcmp(o.model_path, copy); k++) {
    memset(h.in[0], 0, block * sizeof(float));
    host_run(&h, block, 0);
    read_outputs(&h, &o);
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  remove(copy2);

  /* State: save the model path, restore it into a new instance. */
  const LV2_State_Interface *state = lilv_instance_get_extension_data(h.instance, LV2_STATE__interface);
  saved s = {0};
  CHECK(state && state->save(lilv_instance_get_handle(h.instance), store, &s, 0, NULL) == LV2_STATE_SUCCESS,
        "save failed");
  CHECK(s.key == h.chordlet_model && strcmp(s.value, copy) == 0, "saved '%s'", s.value);
  host_close(&h);
  host h2;
  if (!host_open(&h2, world, MONO, 44100, 0)) {
    state = lilv_instance_get_extension_data(h2.instance, LV2_STATE__interface);
    lilv_instance_deactivate(h2.instance);
    CHECK(state->restore(lilv_instance_get_handle(h2.instance), retrieve, &s, 0, NULL) == LV2_STATE_SUCCESS,
          "restore failed");
    lilv_instance_activate(h2.instance);
    memset(&o, 0, sizeof o);
    host_run(&h2, 64, 0);
    read_outputs(&h2, &o);
    CHECK(strcmp(o.model_path, copy) == 0, "after restore the plugin reports '%s'", o.model_path);
    saved bad = s;
    if (snprintf(bad.value, sizeof bad.value, "%s", broken) >= (int)sizeof bad.value) CHECK(0, "path too long");
    bad.size = strlen(broken) + 1;
    CHECK(state->restore(lilv_instance_get_handle(h2.instance), retrieve, &bad, 0, NULL) != LV2_STATE_SUCCESS,
          "restoring a broken model succeeded");

    /* Restart (deactivate/activate), then junk: NaN, infinities, clipping,
     * DC, silence. The outputs stay finite; silence ends in N. Silence lasts
     * 3 s, past the network's 2.56 s of context: within it the readout may
     * still show what the junk suggested (the clipped square wave reads as
     * G, and moves the tuning estimate to +36 cents, where DC does not clear
     * it). */
    lilv_instance_deactivate(h2.instance);
    lilv_instance_activate(h2.instance);
    long junk_calls = 0;
    int finite = 1;
    for (int kind = 0; kind < 5; kind++) {
      for (int k = 0; k < (kind == 4 ? 300 : 100); k++) {
        for (int i = 0; i < 441; i++) {
          float v = kind == 0 ? NAN : kind == 1 ? (i % 2 ? INFINITY : -INFINITY) : kind == 2 ? (i % 20 < 10 ? 5 : -5)
                                   : kind == 3 ? 0.8f : 0;
          h2.in[0][i] = v;
        }
        junk_calls += host_run(&h2, 441, 1);
        for (int p = 0; p < 32; p++) finite &= isfinite(h2.controls[p]);
        finite &= isfinite(h2.out[0][0]) || kind < 2;
      }
    }
    printf("junk input: outputs finite %d, chord after 3 s of silence %d, run(): %ld allocations/frees/locks\n", finite,
           (int)h2.controls[h2.port_chord], junk_calls);
    CHECK(finite, "a control output went NaN or infinite");
    CHECK((int)h2.controls[h2.port_chord] == 169, "silence shows chord %d, not N", (int)h2.controls[h2.port_chord]);
    CHECK(h2.controls[h2.port_root] == -1 && h2.controls[h2.port_quality] == -1, "N has a root or quality");
    if (!UNDER_ASAN) CHECK(junk_calls == 0, "run() made %ld allocations/frees/locks on junk", junk_calls);
    host_close(&h2);
  }
  unlink(copy);
  unlink(broken);
  free(x);
}

/* ------------------------------------------------------------ freewheel */

static int same_changes(const outputs *a, const outputs *b) {
  const int n = a->n_changes < 64 ? a->n_changes : 64;
  return a->n_changes == b->n_changes && memcmp(a->changes, b->changes, sizeof(int) * (size_t)n) == 0 &&
         memcmp(a->confidences, b->confidences, sizeof(float) * (size_t)n) == 0 &&
         memcmp(a->times, b->times, sizeof(double) * (size_t)n) == 0;
}

/* Plays the song with no pacing: the host runs run() as fast as it can. */
static long play_flat_out(host *h, const float *x, size_t n, double rate, size_t block, song_result *r) {
  memset(r, 0, sizeof *r);
  const double hop = 0.02;
  r->n_hops = (int)(n / rate / hop);
  r->chord_at_hop = calloc((size_t)r->n_hops + 1, sizeof(int));
  int next_hop = 0;
  long calls = 0;
  for (size_t done = 0; done < n; done += block) {
    const size_t len = n - done < block ? n - done : block;
    memcpy(h->in[0], x + done, len * sizeof(float));
    calls += host_run(h, (uint32_t)len, 1);
    read_outputs(h, &r->out);
    while (next_hop < r->n_hops && next_hop * hop * rate < (double)(done + len))
      r->chord_at_hop[next_hop++] = (int)h->controls[h->port_chord];
  }
  return calls;
}

static void test_freewheel(LilvWorld *world) {
  const double rate = 44100;
  const size_t block = 512;
  size_t n;
  float *x = progression(rate, &n);
  /* The reference: the worker runs at once (inside schedule_work), in real
   * time (the port at 0). */
  song_result ref, fw, rt;
  host h;
  if (host_open(&h, world, MONO, rate, 0)) return;
  h.controls[h.port_threshold] = 0.05f;
  play_flat_out(&h, x, n, rate, block, &ref);
  host_close(&h);

  /* A worker 20 ms late to every job, a host flat out. First some real time
   * (the port at 0), which leaves a job in flight on the late worker; then
   * the port says freewheeling: the pass starts a new timeline, and run()
   * runs the network itself. */
  if (host_open(&h, world, MONO, rate, 1)) return;
  h.controls[h.port_threshold] = 0.05f;
  atomic_store(&h.worker.job_delay_us, 20000);
  atomic_store(&log_warnings, 0);
  song_result before;
  const long rt_before = play_flat_out(&h, x, (size_t)rate, rate, block, &before);
  free(before.chord_at_hop);
  h.controls[h.port_freewheel] = 1;
  const long fw_calls = play_flat_out(&h, x, n, rate, block, &fw);
  const int fw_warnings = atomic_load(&log_warnings);
  /* The pass is over: real time again, the RT rules again. */
  h.controls[h.port_freewheel] = 0;
  atomic_store(&h.worker.job_delay_us, 0);
  host_worker_idle(&h.worker);
  long rt_after = 0;
  for (size_t done = 0; done < (size_t)rate; done += block) {
    memcpy(h.in[0], x + done, block * sizeof(float));
    rt_after += host_run(&h, (uint32_t)block, 1);
    pace(&h, block, rate);
  }
  host_close(&h);
  int same_timeline = ref.n_hops == fw.n_hops;
  for (int k = 0; same_timeline && k < ref.n_hops; k++) same_timeline = ref.chord_at_hop[k] == fw.chord_at_hop[k];
  printf("freewheel, a worker 20 ms late, run() flat out: %d chord changes (the inline worker's: %d), bit-identical %d, "
         "the same chord output at every 20 ms point %d; %d warnings; run(): %ld allocations/frees/locks before the "
         "pass, %ld during it (exempt), %ld after it\n",
         fw.out.n_changes, ref.out.n_changes, same_changes(&fw.out, &ref.out), same_timeline, fw_warnings, rt_before,
         fw_calls, rt_after);
  CHECK(ref.out.n_changes >= N_CHORDS, "the reference has only %d changes", ref.out.n_changes);
  CHECK(same_changes(&fw.out, &ref.out), "freewheeling: %d changes, not bit-identical to the inline worker's %d",
        fw.out.n_changes, ref.out.n_changes);
  CHECK(same_timeline, "freewheeling: the chord output differs from the inline worker's");
  CHECK(fw_warnings == 0, "freewheeling: %d warnings ('%s')", fw_warnings, last_warning);
  if (!UNDER_ASAN) {
    CHECK(rt_before == 0, "run() before the pass made %ld allocations/frees/locks", rt_before);
    CHECK(rt_after == 0, "run() after the pass (the port back at 0) made %ld allocations/frees/locks", rt_after);
  }

  /* The same late worker in real time: it falls behind, frames are lost, and
   * the plugin says so (from the worker), while run() stays clean. */
  if (!host_open(&h, world, MONO, rate, 1)) {
    h.controls[h.port_threshold] = 0.05f;
    atomic_store(&h.worker.job_delay_us, 20000);
    atomic_store(&log_warnings, 0);
    const long calls = play_flat_out(&h, x, n, rate, block, &rt);
    atomic_store(&h.worker.job_delay_us, 0);
    host_worker_idle(&h.worker);
    int same = 0;
    for (int k = 0; k < rt.n_hops && k < ref.n_hops; k++) same += rt.chord_at_hop[k] == ref.chord_at_hop[k];
    printf("real time, the same late worker: %d changes, the chord output the inline worker's at %.1f %% of the "
           "points; %d warnings: %s",
           rt.out.n_changes, 100.0 * same / (ref.n_hops ? ref.n_hops : 1), atomic_load(&log_warnings), last_warning);
    CHECK(atomic_load(&log_warnings) > 0 && strstr(last_warning, "feature frames") != NULL,
          "frames lost to a late worker were not reported (%d warnings)", atomic_load(&log_warnings));
    if (!UNDER_ASAN) CHECK(calls == 0, "run() with a late worker made %ld allocations/frees/locks", calls);
    host_close(&h);
    free(rt.chord_at_hop);
  }
  free(ref.chord_at_hop);
  free(fw.chord_at_hop);
  free(x);
}

/* A file-mode model (models/offline.chordlet: 3.84 s of lookahead) set
 * through patch:Set: the plugin reports its readout's latency at the largest
 * smoothing on the lv2:reportsLatency port and delays the audio exactly that
 * much (here in place, as hosts may run it), holding each chord change until
 * its audio leaves, so that a host's latency compensation lines the chords
 * up with the audio it plays; the readout latency output then reads 0. A
 * smoothing change midway changes nothing: a file-mode model always decides
 * at the largest lag (its latency is the same at every smoothing). The chord
 * output, against the truth at the audio leaving the plugin, is right as
 * often as the live model's; run() stays clean; a re-activation (a
 * transport jump) silences the line. Back to the live model, the audio
 * latency is 0 again. */
static void test_lookahead(LilvWorld *world) {
  char *offline = realpath("models/offline.chordlet", NULL);
  CHECK(offline != NULL, "no models/offline.chordlet (the tests run from the source tree)");
  if (!offline) return;
  const double rate = 48000;
  size_t n;
  float *x = progression(rate, &n);
  host h;
  if (host_open(&h, world, MONO, rate, 1)) {
    free(offline);
    free(x);
    return;
  }
  const uint32_t block = 256;
  memset(h.in[0], 0, block * sizeof(float));
  host_run(&h, block, 0);
  CHECK(h.controls[h.port_audio_latency] == 0, "the live model reports %g samples of audio latency",
        (double)h.controls[h.port_audio_latency]);
  send_model(&h, offline);
  outputs o = {0};
  for (int k = 0; k < 2000 && h.controls[h.port_audio_latency] == 0; k++) {
    memset(h.in[0], 0, block * sizeof(float));
    host_run(&h, block, 0);
    read_outputs(&h, &o);
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  const double delay_samples = h.controls[h.port_audio_latency];
  const size_t delay = (size_t)delay_samples;
  printf("file-mode model: notify reported '%s'; audio latency %.0f samples (%.3f s), readout latency output %.1f ms\n",
         o.model_path, delay_samples, delay_samples / rate, (double)h.controls[h.port_latency]);
  CHECK(strcmp(o.model_path, offline) == 0, "notify reported '%s', expected '%s'", o.model_path, offline);
  /* The front end's 120 ms, one hop of the 20 ms grid its three phases are
   * decided on, then (64 + 25) frames of 60 ms: lookahead and smoothing. */
  CHECK(fabs(delay_samples - rate * (0.12 + 0.02 + 89 * 0.06)) <= 1 && delay_samples == (double)delay,
        "audio latency %g samples for a model that looks 3.84 s ahead, not %g", delay_samples,
        rate * (0.12 + 0.02 + 89 * 0.06));
  CHECK(fabs(h.controls[h.port_latency]) < 1.0, "readout latency output %g ms behind the delayed audio",
        (double)h.controls[h.port_latency]);

  /* The song, then silence until it has left the line; in place: out = in. */
  lilv_instance_connect_port(h.instance, port_index(&h, "out"), h.in[0]);
  const size_t total = n + delay + (size_t)rate;
  float *y = calloc(total, sizeof(float));
  long calls = 0;
  int right = 0, points = 0;
  for (size_t done = 0; y && done < total; done += block) {
    const size_t len = total - done < block ? total - done : block;
    for (size_t i = 0; i < len; i++) h.in[0][i] = done + i < n ? x[done + i] : 0.0f;
    if (done == (n / 2 / block) * block) h.controls[h.port_smoothing] = 8; /* file mode: no new stream, the same delay */
    calls += host_run(&h, (uint32_t)len, 1);
    read_outputs(&h, &o);
    pace(&h, len, rate);
    memcpy(y + done, h.in[0], len * sizeof(float));
    /* What leaves the plugin at the end of this block, and what it shows. */
    const double heard = ((double)(done + len) - delay_samples) / rate - h.controls[h.port_latency] / 1e3;
    /* Every point: the smoothing change restarts nothing in file mode. */
    if (heard >= LEAD_IN && heard < LEAD_IN + N_CHORDS * CHORD_SECONDS) {
      right += (int)h.controls[h.port_chord] == truth_at(heard);
      points++;
    }
  }
  size_t wrong = 0;
  for (size_t i = 0; y && i < total; i++) wrong += y[i] != (i < delay || i - delay >= n ? 0.0f : x[i - delay]);
  printf("file-mode model, in place: %zu of %zu output samples differ from the input %zu samples later; chord output "
         "right on %.1f %% of blocks against the audio leaving the plugin; run(): %ld allocations/frees/locks\n",
         wrong, total, delay, points ? 100.0 * right / points : 0.0, calls);
  CHECK(y && wrong == 0, "the audio out is not the audio in delayed by %zu samples (%zu differ)", delay, wrong);
  CHECK(h.controls[h.port_audio_latency] == delay_samples, "after the smoothing change the audio latency is %g",
        (double)h.controls[h.port_audio_latency]);
  CHECK(points && right >= 0.90 * points, "file-mode model: only %d of %d blocks right", right, points);
  if (!UNDER_ASAN) CHECK(calls == 0, "run() with the delay line made %ld allocations/frees/locks", calls);

  /* A transport jump: nothing heard before comes out. */
  for (size_t i = 0; i < block; i++) h.in[0][i] = 0.5f;
  host_run(&h, block, 0);
  host_worker_idle(&h.worker);
  lilv_instance_deactivate(h.instance);
  lilv_instance_activate(h.instance);
  memset(h.in[0], 0, block * sizeof(float));
  float loudest = 0;
  for (size_t done = 0; done < delay + block; done += block) {
    for (size_t i = 0; i < block; i++) h.in[0][i] = 0.0f;
    host_run(&h, block, 0);
    for (size_t i = 0; i < block; i++) loudest = fmaxf(loudest, fabsf(h.in[0][i]));
  }
  CHECK(loudest == 0.0f, "after re-activation the line still held audio (%g)", (double)loudest);

  /* Back to the live model: no audio latency. */
  char live[4200];
  if (snprintf(live, sizeof live, "%s/default.chordlet", bundle_dir) < (int)sizeof live) {
    send_model(&h, live);
    for (int k = 0; k < 2000 && h.controls[h.port_audio_latency] != 0; k++) {
      host_run(&h, block, 0);
      nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    CHECK(h.controls[h.port_audio_latency] == 0, "back on the live model: %g samples of audio latency",
          (double)h.controls[h.port_audio_latency]);
  }
  free(y);
  free(x);
  free(h.out[0]); /* unused since out was connected to in[0] */
  h.out[0] = NULL;
  host_close(&h);

  /* A session reloaded: the host sets the controls (smoothing 12) and
   * restores the state (the file-mode model). The first run() reports the
   * final latency, the same at every smoothing: no rebuild in the worker
   * changes it after the host has aligned the tracks. */
  host h2;
  if (!host_open(&h2, world, MONO, rate, 0)) {
    const LV2_State_Interface *state = lilv_instance_get_extension_data(h2.instance, LV2_STATE__interface);
    saved st = {.key = h2.chordlet_model, .type = h2.atom_Path};
    st.size = (size_t)snprintf(st.value, sizeof st.value, "%s", offline) + 1;
    h2.controls[h2.port_smoothing] = 12;
    lilv_instance_deactivate(h2.instance);
    CHECK(state && st.size <= sizeof st.value &&
              state->restore(lilv_instance_get_handle(h2.instance), retrieve, &st, 0, NULL) == LV2_STATE_SUCCESS,
          "restoring the file-mode model failed");
    lilv_instance_activate(h2.instance);
    memset(h2.in[0], 0, block * sizeof(float));
    host_run(&h2, block, 0);
    const float first = h2.controls[h2.port_audio_latency];
    for (int k = 0; k < 20; k++) {
      host_run(&h2, block, 0);
      host_worker_idle(&h2.worker);
    }
    const float later = h2.controls[h2.port_audio_latency];
    printf("restored with smoothing 12: audio latency %.0f samples on the first run(), %.0f after 20 more\n",
           (double)first, (double)later);
    CHECK(first > 0 && first == later && first == delay_samples,
          "restored with smoothing 12: latency %g samples first, %g later (smoothing 4: %g)", (double)first,
          (double)later, delay_samples);
    host_close(&h2);
  }
  free(offline);
}

int main(int argc, char **argv) {
  (void)argc;
#if !UNDER_ASAN
  CHECK(interposer_self_check(), "the interposer does not count");
#endif
  /* <build>/tests/test_lv2_host -> <build>/lv2/chordlet.lv2 */
  char exe[2048];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) {
    snprintf(exe, sizeof exe, "%s", argv[0]);
  } else {
    exe[len] = '\0';
  }
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  if (snprintf(bundle_dir, sizeof bundle_dir, "%s/../lv2/chordlet.lv2", exe) >= (int)sizeof bundle_dir) return 1;
  char bundle_uri[4200];
  char *real = realpath(bundle_dir, NULL);
  if (!real) {
    fprintf(stderr, "no bundle at %s (make plugin)\n", bundle_dir);
    return 1;
  }
  if (snprintf(bundle_dir, sizeof bundle_dir, "%s", real) >= (int)sizeof bundle_dir) return 1;
  snprintf(bundle_uri, sizeof bundle_uri, "file://%s/", real);
  free(real);
  LilvWorld *world = lilv_world_new();
  LilvNode *bundle = lilv_new_uri(world, bundle_uri);
  lilv_world_load_specifications(world);
  lilv_world_load_plugin_classes(world);
  lilv_world_load_bundle(world, bundle);
  lilv_node_free(bundle);
  const LilvPlugins *all = lilv_world_get_all_plugins(world);
  printf("lilv sees %u plugins in %s\n", lilv_plugins_size(all), bundle_dir);
  CHECK(lilv_plugins_size(all) == 2, "expected 2 plugins, found %u", lilv_plugins_size(all));

  test_song(world, 44100);
  test_song(world, 48000);
  test_swap_state_junk(world);
  test_freewheel(world);
  test_lookahead(world);

  lilv_world_free(world);
  host_free_uris();
  /* The plugin's inline display used cairo's font caches: release them, as
   * a host does at exit, so the leak checker sees only real leaks. */
  cairo_debug_reset_static_data();
  FcFini();
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures ? 1 : 0;
}
