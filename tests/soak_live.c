/* soak_live.c: `make soak` (issue 17): hours of audio through the live path,
 * as fast as the machine allows, watching memory, losses and determinism.
 *
 *   soak_live [--stream-hours H] [--plugin-hours H] [--period-minutes M] [--no-rss-check]
 *   (--no-rss-check: make soak's valgrind pass, where RSS is valgrind's own)
 *
 * Both paths play the same program, a period (default 60 min) repeated:
 * cycles of the demo recording (examples/synth0046.flac at 48 kHz), a
 * rendered progression (triads with harmonics), silence, white noise, the
 * demo with NaN and infinity bursts, DC, the demo clipped hard, a transport
 * reset and two model swaps (the live model and the file-mode one, or two
 * loads of the live one). Every period starts with a reset and the same
 * model, so every repeat must give the events of the first, bit for bit.
 *  - the stream API (chordlet_stream_*), blocks of 512 at 48 kHz; a swap
 *    frees the stream and its model and loads and builds the other;
 *  - the plugin in a lilv host (tests/lv2_host_util.h), blocks of 512, the
 *    worker on its own thread; a swap is a patch:Set on the control port,
 *    a reset is deactivate + activate.
 * Driving faster than real time, the worker is made to keep up by waiting
 * for it after every block (the stream: chordlet_stream_work until nothing
 * is pending; the plugin: the host waits until its worker is idle, and again
 * after delivering replies). A real host need not: at real time the worker
 * has the block period. Checked: resident memory grows by at most 1 MB after
 * the first minute of audio (sampled every audio minute; the largest sample
 * counts), no frame or event is dropped (the stream's counters; the plugin
 * has none, so its repeats must match), and every repeated period gives
 * identical events. The first period is a warm-up (see end_period): its
 * events are not compared (the tuning estimate, which a reset keeps, comes
 * from the audio before), and memory is compared between the periods
 * after it. Needs at least 3 periods (--period-minutes). Prints a table; exit 1 if a check fails. */
#define _GNU_SOURCE
#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audiofile.h"
#include "chordlet.h"
#include "lv2_host_util.h"

enum { RATE = 48000, BLOCK = 512, MAX_EVENTS = 400000 };

/* ------------------------------------------------------------- the program */

typedef enum { DEMO, SYNTH, SILENCE, NOISE, NAN_BURSTS, DC, CLIPPED, RESET, SWAP } segment_kind;
static const struct {
  segment_kind kind;
  double seconds;
} CYCLE[] = {{DEMO, 20}, {SWAP, 0},  {SYNTH, 20},      {SWAP, 0}, {RESET, 0},   {DEMO, 20},
             {NOISE, 15}, {SILENCE, 20}, {NAN_BURSTS, 30}, {DC, 10},  {CLIPPED, 30}, {SYNTH, 45}};
enum { N_SEGMENTS = sizeof CYCLE / sizeof CYCLE[0] };

static float *demo, *synth;
static size_t n_demo, n_synth;

/* A progression of triads (bass, root, third, fifth; 5 harmonics), 2 s each. */
static float *render_progression(size_t *n_out) {
  static const int roots[] = {0, 9, 5, 7, 2, 4, 10, 3, 8, 1, 6, 11};
  static const int minor[] = {0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1};
  const size_t seg = 2 * RATE, n = 12 * seg;
  float *x = calloc(n, sizeof *x);
  if (!x) return NULL;
  for (int c = 0; c < 12; c++) {
    const int notes[4] = {36 + roots[c], 48 + roots[c], 48 + roots[c] + (minor[c] ? 3 : 4), 48 + roots[c] + 7};
    for (int v = 0; v < 4; v++)
      for (int h = 1; h <= 5; h++) {
        const double w = 2 * 3.141592653589793 * 440.0 * pow(2.0, (notes[v] - 69) / 12.0) * h / RATE;
        for (size_t i = 0; i < seg; i++) {
          const double env = exp(-(double)i / (1.5 * RATE)) * (i < 240 ? i / 240.0 : 1.0);
          x[c * seg + i] += (float)(0.08 / h * env * sin(w * (double)i));
        }
      }
  }
  *n_out = n;
  return x;
}

/* Where the program is: a segment of the cycle and a sample in it. */
typedef struct player {
  int segment;
  size_t pos;
  uint64_t rng;
  long cycles;
} player;

static size_t segment_samples(int s) { return (size_t)(CYCLE[s].seconds * RATE); }

static double cycle_seconds(void) {
  double t = 0;
  for (int s = 0; s < N_SEGMENTS; s++) t += CYCLE[s].seconds;
  return t;
}

/* Fills up to n samples of the current segment; returns how many (0: the
 * segment is an action, RESET or SWAP, for the caller, then next()). */
static size_t play(player *p, float *out, size_t n) {
  const segment_kind kind = CYCLE[p->segment].kind;
  if (kind == RESET || kind == SWAP) return 0;
  const size_t left = segment_samples(p->segment) - p->pos;
  if (n > left) n = left;
  for (size_t i = 0; i < n; i++) {
    const size_t t = p->pos + i;
    const float d = demo[t % n_demo];
    float v = 0;
    switch (kind) {
    case DEMO: v = d; break;
    case SYNTH: v = synth[t % n_synth]; break;
    case SILENCE: v = 0; break;
    case NOISE:
      p->rng = p->rng * 6364136223846793005ULL + 1442695040888963407ULL;
      v = (float)(0.6 * ((double)(p->rng >> 11) / 9007199254740992.0 - 0.5));
      break;
    case NAN_BURSTS: /* 100 ms of NaN each second, 10 ms of infinities each 3 s */
      v = t % RATE < RATE / 10 ? NAN : t % (3 * RATE) < RATE / 100 ? INFINITY : d;
      break;
    case DC: v = 0.5f; break;
    case CLIPPED: v = fmaxf(-1.0f, fminf(1.0f, 12.0f * d)); break;
    default: break;
    }
    out[i] = v;
  }
  p->pos += n;
  if (p->pos == segment_samples(p->segment)) p->pos = segment_samples(p->segment) + 1; /* done: next() */
  return n;
}

static int segment_done(const player *p) {
  const segment_kind kind = CYCLE[p->segment].kind;
  return kind == RESET || kind == SWAP || p->pos > segment_samples(p->segment);
}

static void next(player *p) {
  p->pos = 0;
  if (++p->segment == N_SEGMENTS) {
    p->segment = 0;
    p->cycles++;
  }
}

/* ---------------------------------------------------------- measurements */

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now(void) { return host_now(); }

/* An event as compared between periods. */
typedef struct seen {
  unsigned long long frame; /* the stream's hop, or the plugin's time in samples */
  int chord;
  float confidence;
} seen;

typedef struct soak_result {
  const char *name;
  double audio_hours, wall_seconds;
  long rss_start_kb, rss_minute_kb, rss_max_kb, rss_end_kb;
  long rss_first_period_max_kb, rss_last_period_max_kb, rss_period_max_kb; /* the leak check */
  unsigned long long frames_dropped, events_dropped;
  long events, mismatches, periods;
  int counters; /* 1: the dropped counts are real */
} soak_result;

/* Tracks events against the first period: stores them there, compares after. */
typedef struct event_log {
  seen *first;
  long n_first, index, period;
  long mismatches;
} event_log;

static void log_event(event_log *log, seen e) {
  if (log->period == 0) {
    if (log->n_first < MAX_EVENTS) log->first[log->n_first++] = e;
    else log->mismatches++; /* cannot compare: counts as a failure */
  } else if (log->index >= log->n_first || log->first[log->index].frame != e.frame ||
             log->first[log->index].chord != e.chord ||
             memcmp(&log->first[log->index].confidence, &e.confidence, sizeof e.confidence) != 0) {
    if (!log->mismatches++ && log->index < log->n_first)
      fprintf(stderr, "soak: period %ld, event %ld: frame %llu chord %d, the first period had frame %llu chord %d\n",
              log->period, log->index, e.frame, e.chord, log->first[log->index].frame, log->first[log->index].chord);
  }
  log->index++;
}

static void log_period_end(event_log *log) {
  if (log->period > 0 && log->index != log->n_first && !log->mismatches++)
    fprintf(stderr, "soak: period %ld had %ld events, the first %ld\n", log->period, log->index, log->n_first);
  log->period++;
  log->index = 0;
}

/* RSS: start (after setup), after the first audio minute, the largest later
 * sample, the end. */
static void sample_rss(soak_result *r, double audio_seconds) {
  const long kb = rss_kb();
  if (kb > r->rss_period_max_kb) r->rss_period_max_kb = kb;
  if (audio_seconds < 60.5 && audio_seconds >= 59.5) r->rss_minute_kb = kb;
  if (audio_seconds >= 60 && kb > r->rss_max_kb) r->rss_max_kb = kb;
  r->rss_end_kb = kb;
}

/* The leak check compares like with like: the largest RSS sample of the
 * first period after the warm-up (period 0; in the warm-up, -1, every code
 * path, swaps included, has run once and glibc's arenas have grown to their
 * working size) against that of the last. */
static void end_period(soak_result *r, long period) {
  printf("  %s, period %ld: largest RSS %.1f MB, %ld events so far\n", r->name, period, r->rss_period_max_kb / 1024.0,
         r->events);
  fflush(stdout);
  if (period == 0) r->rss_first_period_max_kb = r->rss_period_max_kb;
  r->rss_last_period_max_kb = r->rss_period_max_kb;
  r->rss_period_max_kb = 0;
}

/* ------------------------------------------------------------ the stream */

static const char *model_paths[2];

/* The periods after the warm-up: whole periods, the warm-up included, of at
 * least `hours` of audio. */
static long soak_periods(double hours, double period_seconds) {
  return (long)ceil(hours * 3600 / period_seconds - 1e-9) - 1;
}

static int soak_stream(double hours, double period_seconds, soak_result *r) {
  memset(r, 0, sizeof *r);
  r->name = "stream API";
  r->counters = 1;
  event_log log = {calloc(MAX_EVENTS, sizeof(seen)), 0, 0, 0, 0};
  if (!log.first) return -1;
  memset(log.first, 0, MAX_EVENTS * sizeof(seen)); /* resident from the start */
  chordlet_model *model = NULL;
  chordlet_stream *stream = NULL;
  chordlet_error err;
  int which = 0;
  if (chordlet_model_load(model_paths[0], &model, &err) ||
      chordlet_stream_create(model, RATE, BLOCK, NULL, &stream, &err)) {
    fprintf(stderr, "soak: %s\n", err.message);
    return -1;
  }
  static float block[BLOCK];
  const float *channels[1] = {block};
  /* The warm-up period counts as audio: hours in all. */
  const long periods = soak_periods(hours, period_seconds);
  const long cycles_per_period = lround(period_seconds / cycle_seconds());
  r->rss_start_kb = rss_kb();
  double audio = 0, next_sample = 60;
  const double t0 = now();
  for (long period = -1; period < periods; period++) {
    player p = {0, 0, 12345, 0};
    chordlet_stream_reset(stream);
    while (p.cycles < cycles_per_period) {
      const size_t n = play(&p, block, BLOCK);
      if (n) {
        chordlet_stream_process(stream, channels, 1, n);
        audio += (double)n / RATE;
      } else if (CYCLE[p.segment].kind == RESET) {
        chordlet_stream_reset(stream);
      } else if (CYCLE[p.segment].kind == SWAP) {
        r->frames_dropped += chordlet_stream_frames_dropped(stream);
        r->events_dropped += chordlet_stream_events_dropped(stream);
        chordlet_stream_free(stream);
        chordlet_model_free(model);
        stream = NULL;
        which = !which;
        if (chordlet_model_load(model_paths[which], &model, &err) ||
            chordlet_stream_create(model, RATE, BLOCK, NULL, &stream, &err)) {
          fprintf(stderr, "soak: a swap failed: %s\n", err.message);
          return -1;
        }
      }
      while (chordlet_stream_pending(stream) > 0) chordlet_stream_work(stream);
      chordlet_event e;
      while (chordlet_stream_next_event(stream, &e)) {
        r->events++;
        if (period >= 0) log_event(&log, (seen){e.frame, e.chord, e.confidence});
      }
      if (segment_done(&p)) next(&p);
      if (audio >= next_sample) {
        sample_rss(r, audio);
        next_sample += 60;
      }
    }
    if (period >= 0) log_period_end(&log);
    end_period(r, period);
  }
  r->frames_dropped += chordlet_stream_frames_dropped(stream);
  r->events_dropped += chordlet_stream_events_dropped(stream);
  r->wall_seconds = now() - t0;
  r->audio_hours = audio / 3600;
  r->mismatches = log.mismatches;
  r->periods = periods;
  chordlet_stream_free(stream);
  chordlet_model_free(model);
  free(log.first);
  return 0;
}

/* ------------------------------------------------------------ the plugin */

typedef struct lv2_host {
  LilvWorld *world;
  const LilvPlugin *plugin;
  LilvInstance *instance;
  host_worker worker;
  LV2_URID_Map map;
  LV2_URID_Unmap unmap;
  LV2_Worker_Schedule sched;
  int32_t max_block;
  LV2_Options_Option options[2];
  LV2_Feature f_map, f_unmap, f_sched, f_options;
  const LV2_Feature *features[5];
  float in[BLOCK], out[BLOCK], controls[64];
  union {
    LV2_Atom_Sequence seq;
    uint64_t align;
    unsigned char bytes[16384];
  } control, notify, midi;
  LV2_Atom_Forge forge;
  LV2_URID atom_Object, atom_Int, atom_Double, atom_URID, atom_Path, patch_Set, patch_property, patch_value,
      ChordChange, chordlet_chord, chordlet_time, chordlet_model, chordlet_error;
} lv2_host;

static uint32_t port_index(lv2_host *h, const char *symbol) {
  LilvNode *sym = lilv_new_string(h->world, symbol);
  const LilvPort *port = lilv_plugin_get_port_by_symbol(h->plugin, sym);
  lilv_node_free(sym);
  if (!port) {
    fprintf(stderr, "soak: the plugin has no port '%s'\n", symbol);
    exit(1);
  }
  return lilv_port_get_index(h->plugin, port);
}

static void clear_control(lv2_host *h) {
  lv2_atom_forge_set_buffer(&h->forge, h->control.bytes, sizeof h->control.bytes);
  LV2_Atom_Forge_Frame f;
  lv2_atom_forge_sequence_head(&h->forge, &f, 0);
}

static int lv2_open(lv2_host *h, LilvWorld *world) {
  memset(h, 0, sizeof *h);
  h->world = world;
  LilvNode *u = lilv_new_uri(world, "urn:chordlet:mono");
  h->plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), u);
  lilv_node_free(u);
  if (!h->plugin) return -1;
  h->map = (LV2_URID_Map){NULL, map_uri};
  h->unmap = (LV2_URID_Unmap){NULL, unmap_uri};
  h->sched = (LV2_Worker_Schedule){&h->worker, host_schedule};
  h->max_block = BLOCK;
  h->options[0] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__maxBlockLength),
                                       sizeof(int32_t), map_uri(NULL, LV2_ATOM__Int), &h->max_block};
  h->f_map = (LV2_Feature){LV2_URID__map, &h->map};
  h->f_unmap = (LV2_Feature){LV2_URID__unmap, &h->unmap};
  h->f_sched = (LV2_Feature){LV2_WORKER__schedule, &h->sched};
  h->f_options = (LV2_Feature){LV2_OPTIONS__options, h->options};
  h->features[0] = &h->f_map;
  h->features[1] = &h->f_unmap;
  h->features[2] = &h->f_sched;
  h->features[3] = &h->f_options;
  h->instance = lilv_plugin_instantiate(h->plugin, RATE, h->features);
  if (!h->instance) return -1;
  host_worker_start(&h->worker, h->instance, 1);
  lilv_instance_connect_port(h->instance, port_index(h, "in"), h->in);
  lilv_instance_connect_port(h->instance, port_index(h, "out"), h->out);
  static const char *const controls[] = {"threshold", "smoothing", "chord", "root", "quality", "bass",
                                         "confidence", "latency", "tuning", "tuning_hz"};
  for (int i = 0; i < 10; i++) {
    const uint32_t idx = port_index(h, controls[i]);
    lilv_instance_connect_port(h->instance, idx, &h->controls[idx]);
  }
  h->controls[port_index(h, "smoothing")] = 4;
  lilv_instance_connect_port(h->instance, port_index(h, "control"), &h->control);
  lilv_instance_connect_port(h->instance, port_index(h, "notify"), &h->notify);
  lilv_instance_connect_port(h->instance, port_index(h, "midi_out"), &h->midi);
  lv2_atom_forge_init(&h->forge, &h->map);
  h->atom_Object = map_uri(NULL, LV2_ATOM__Object);
  h->atom_Int = map_uri(NULL, LV2_ATOM__Int);
  h->atom_Double = map_uri(NULL, LV2_ATOM__Double);
  h->atom_URID = map_uri(NULL, LV2_ATOM__URID);
  h->atom_Path = map_uri(NULL, LV2_ATOM__Path);
  h->patch_Set = map_uri(NULL, LV2_PATCH__Set);
  h->patch_property = map_uri(NULL, LV2_PATCH__property);
  h->patch_value = map_uri(NULL, LV2_PATCH__value);
  h->ChordChange = map_uri(NULL, "urn:chordlet#ChordChange");
  h->chordlet_chord = map_uri(NULL, "urn:chordlet#chord");
  h->chordlet_time = map_uri(NULL, "urn:chordlet#time");
  h->chordlet_model = map_uri(NULL, "urn:chordlet#model");
  h->chordlet_error = map_uri(NULL, "urn:chordlet#error");
  clear_control(h);
  lilv_instance_activate(h->instance);
  return 0;
}

static void lv2_close(lv2_host *h) {
  host_worker_stop(&h->worker);
  lilv_instance_deactivate(h->instance);
  lilv_instance_free(h->instance);
}

static void send_model(lv2_host *h, const char *path) {
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

/* One block; the worker is waited for (see the header). Returns the number
 * of errors the plugin reported (a swap it refused). */
static int lv2_block(lv2_host *h, uint32_t n, soak_result *r, event_log *log, int logged) {
  h->notify.seq.atom.size = sizeof h->notify.bytes - sizeof(LV2_Atom);
  h->notify.seq.atom.type = 0;
  h->midi.seq.atom.size = sizeof h->midi.bytes - sizeof(LV2_Atom);
  h->midi.seq.atom.type = 0;
  lilv_instance_run(h->instance, n);
  clear_control(h);
  host_worker_idle(&h->worker);
  host_deliver_responses(&h->worker);
  host_worker_idle(&h->worker); /* the job that frees a replaced model */
  int errors = 0;
  LV2_ATOM_SEQUENCE_FOREACH (&h->notify.seq, ev) {
    if (ev->body.type != h->atom_Object) continue;
    const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
    if (obj->body.otype == h->ChordChange) {
      const LV2_Atom *chord = NULL, *time = NULL;
      lv2_atom_object_get(obj, h->chordlet_chord, &chord, h->chordlet_time, &time, 0);
      if (!chord || chord->type != h->atom_Int || !time || time->type != h->atom_Double) continue;
      const double t = ((const LV2_Atom_Double *)time)->body;
      r->events++;
      if (logged) log_event(log, (seen){(unsigned long long)llround(t * RATE), ((const LV2_Atom_Int *)chord)->body, 0});
    } else if (obj->body.otype == h->patch_Set) {
      const LV2_Atom *property = NULL;
      lv2_atom_object_get(obj, h->patch_property, &property, 0);
      if (property && property->type == h->atom_URID && ((const LV2_Atom_URID *)property)->body == h->chordlet_error)
        errors++;
    }
  }
  return errors;
}

static int soak_plugin(LilvWorld *world, double hours, double period_seconds, soak_result *r) {
  memset(r, 0, sizeof *r);
  r->name = "LV2 plugin (lilv)";
  event_log log = {calloc(MAX_EVENTS, sizeof(seen)), 0, 0, 0, 0};
  if (!log.first) return -1;
  memset(log.first, 0, MAX_EVENTS * sizeof(seen));
  lv2_host h;
  if (lv2_open(&h, world)) {
    fprintf(stderr, "soak: the plugin does not instantiate\n");
    return -1;
  }
  /* The plugin starts on the bundle's model: swap to ours first (an even
   * number of swaps per period then comes back to it). */
  int which = 0, errors = 0;
  send_model(&h, model_paths[0]);
  for (int i = 0; i < 3; i++) errors += lv2_block(&h, BLOCK, r, &log, 0);
  r->events = 0;
  log.n_first = log.index = 0;
  /* The warm-up period counts as audio: hours in all. */
  const long periods = soak_periods(hours, period_seconds);
  const long cycles_per_period = lround(period_seconds / cycle_seconds());
  r->rss_start_kb = rss_kb();
  double audio = 0, next_sample = 60;
  const double t0 = now();
  for (long period = -1; period < periods; period++) {
    player p = {0, 0, 12345, 0};
    lilv_instance_deactivate(h.instance); /* a transport reset: the host restarts the plugin */
    lilv_instance_activate(h.instance);
    while (p.cycles < cycles_per_period) {
      size_t n = play(&p, h.in, BLOCK);
      if (!n && CYCLE[p.segment].kind == RESET) {
        lilv_instance_deactivate(h.instance);
        lilv_instance_activate(h.instance);
      } else if (!n && CYCLE[p.segment].kind == SWAP) {
        which = !which;
        send_model(&h, model_paths[which]);
      }
      if (n) audio += (double)n / RATE;
      if (n || CYCLE[p.segment].kind == SWAP) errors += lv2_block(&h, n ? (uint32_t)n : 0, r, &log, period >= 0);
      if (segment_done(&p)) next(&p);
      if (audio >= next_sample) {
        sample_rss(r, audio);
        next_sample += 60;
      }
    }
    if (period >= 0) log_period_end(&log);
    end_period(r, period);
  }
  r->wall_seconds = now() - t0;
  r->audio_hours = audio / 3600;
  if (errors) fprintf(stderr, "soak: the plugin reported %d errors (a refused swap)\n", errors);
  r->mismatches = log.mismatches + errors;
  r->periods = periods;
  lv2_close(&h);
  free(log.first);
  return 0;
}

/* --------------------------------------------------------------- the table */

/* Prints r's row; returns 1 if a check fails (memory only with check_rss:
 * under valgrind the RSS is valgrind's own, and only its errors count). */
static int print_row(const soak_result *r, int check_rss) {
  char frames[24] = "n/a", events[24] = "n/a";
  if (r->counters) {
    snprintf(frames, sizeof frames, "%llu", r->frames_dropped);
    snprintf(events, sizeof events, "%llu", r->events_dropped);
  }
  const long growth = r->rss_last_period_max_kb - r->rss_first_period_max_kb;
  const int identical = r->mismatches == 0 && r->events > 0;
  printf("| %s | %.2f | %.0f | %.1f | %.1f | %.1f | %.1f | %+.2f | %s | %s | %ld | %s (%ld periods) |\n", r->name,
         r->audio_hours, r->wall_seconds, r->rss_start_kb / 1024.0, r->rss_minute_kb / 1024.0,
         r->rss_max_kb / 1024.0, r->rss_end_kb / 1024.0, growth / 1024.0, frames, events, r->events,
         identical ? "yes" : "NO", r->periods);
  return (growth <= 1024 || !check_rss) && identical && r->frames_dropped == 0 && r->events_dropped == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  double stream_hours = 6, plugin_hours = 2, period_minutes = 60;
  int check_rss = 1;
  for (int i = 1; i < argc; i += 2) {
    if (strcmp(argv[i], "--no-rss-check") == 0) { /* the valgrind pass: RSS is valgrind's */
      check_rss = 0;
      i--;
      continue;
    }
    double *v = NULL;
    if (strcmp(argv[i], "--stream-hours") == 0) v = &stream_hours;
    else if (strcmp(argv[i], "--plugin-hours") == 0) v = &plugin_hours;
    else if (strcmp(argv[i], "--period-minutes") == 0) v = &period_minutes;
    char *end = NULL;
    if (v && i + 1 < argc) *v = strtod(argv[i + 1], &end);
    /* a lone or unknown word (--help), or a value that is no finite number >= 0 */
    if (!v || i + 1 >= argc || !end || *end || !isfinite(*v) || *v < 0 || *v > 1000) {
      fprintf(stderr, "usage: soak_live [--stream-hours H] [--plugin-hours H] [--period-minutes M] [--no-rss-check]\n");
      return 2;
    }
  }
  if (period_minutes <= 0) {
    fprintf(stderr, "soak_live: --period-minutes must be above 0\n");
    return 2;
  }
  /* The period is whole cycles of the program. */
  const double period = fmax(1, lround(period_minutes * 60 / cycle_seconds())) * cycle_seconds();
  audio_buffer a;
  chordlet_error err;
  if (audiofile_read("examples/synth0046.flac", RATE, &a, &err)) {
    fprintf(stderr, "soak: %s (run from the repository)\n", err.message);
    return 1;
  }
  demo = a.samples;
  n_demo = a.n_samples;
  synth = render_progression(&n_synth);
  /* Two models to swap between: the live one and the other shipped one, if
   * it is live too (a file-mode model streams only where its seconds of
   * latency are accepted: test_lv2_host and tests/ardour_cli.sh run it); else
   * the live one twice (still a load and a build each time). */
  static char live[4096], other[4096];
  if (!realpath("models/default.chordlet", live)) return 1;
  model_paths[0] = model_paths[1] = live;
  chordlet_model *probe = NULL;
  if (realpath("models/offline.chordlet", other) && chordlet_model_load(other, &probe, &err) == CHORDLET_OK &&
      chordlet_model_lookahead_seconds(probe) <= CHORDLET_LIVE_LOOKAHEAD_SECONDS)
    model_paths[1] = other;
  chordlet_model_free(probe);

  /* <build>/tests/soak_live -> <build>/lv2/chordlet.lv2 */
  char exe[2048], bundle_uri[4200];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return 1;
  exe[len] = '\0';
  *strrchr(exe, '/') = '\0';
  char bundle[4096];
  snprintf(bundle, sizeof bundle, "%s/../lv2/chordlet.lv2", exe);
  char *real = realpath(bundle, NULL);
  if (!real) {
    fprintf(stderr, "soak: no bundle at %s (make plugin)\n", bundle);
    return 1;
  }
  snprintf(bundle_uri, sizeof bundle_uri, "file://%s/", real);
  free(real);

  printf("soak: a period of %.1f min (%ld cycles of %.0f s: demo, progression, silence, noise, NaN bursts, DC, "
         "clipping, a reset, two swaps: %s <-> %s)\n",
         period / 60, lround(period / cycle_seconds()), cycle_seconds(), strrchr(model_paths[0], '/') + 1,
         strrchr(model_paths[1], '/') + 1);
  soak_result rs, rp;
  int failed = 0, ran_stream = 0, ran_plugin = 0;
  if (stream_hours > 0) {
    ran_stream = soak_stream(stream_hours, period, &rs) == 0;
    failed |= !ran_stream;
  }
  LilvWorld *world = NULL;
  if (plugin_hours > 0) {
    world = lilv_world_new();
    LilvNode *uri = lilv_new_uri(world, bundle_uri);
    lilv_world_load_specifications(world);
    lilv_world_load_plugin_classes(world);
    lilv_world_load_bundle(world, uri);
    lilv_node_free(uri);
    ran_plugin = soak_plugin(world, plugin_hours, period, &rp) == 0;
    failed |= !ran_plugin;
  }
  printf("\n| path | audio h | wall s | RSS start MB | after 1 min | max after | end | growth MB (last period's max - period 0's) | dropped frames | "
         "dropped events | events | repeated periods identical |\n");
  printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  if (ran_stream) failed |= print_row(&rs, check_rss);
  if (ran_plugin) failed |= print_row(&rp, check_rss);
  if (world) lilv_world_free(world);
  host_free_uris();
  free(synth);
  audio_buffer_free(&a);
  printf("\nsoak: %s\n", failed ? "FAILED (RSS growth over 1 MB, a drop, or a repeated period that differs)" : "ok");
  return failed;
}
