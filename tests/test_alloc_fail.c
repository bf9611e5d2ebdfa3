/* test_alloc_fail.c: the allocation-failure sweep of the library's entry
 * points and the plugin (issue 17). For every k from 1 until a run makes
 * fewer than k allocations, the k-th allocation fails (tests/failmalloc.h:
 * calloc, realloc, posix_memalign, strdup... included; FFTW's and
 * OpenBLAS's own allocations are spared, as those libraries abort or exit
 * on a failure) in:
 *  - chordlet_model_load of the shipped live model;
 *  - chordlet_stream_create for it (48 kHz, blocks of 1024), and for the
 *    file-mode model (three networks, one per phase);
 *  - the plugin's instantiate and activate (the bundle's chordlet.so,
 *    dlopened as a host does);
 *  - a model swap in the plugin's worker: patch:Set on the control port,
 *    the worker's job (load, build the stream) with the failure, its reply,
 *    and the job that frees what was replaced.
 * Each must fail cleanly: an error status and a message (*out stays NULL),
 * or for the plugin, instantiate returns NULL or an instance that passes
 * audio and reports the error on its notify port; a failed swap reports
 * the error and the old model keeps running. A run may also succeed despite
 * the failure (a library retried). Never a crash, and no leak: every
 * allocation made during the entry point is freed once its result is freed
 * (the interposer's table of live allocations: without ASan, which owns
 * malloc). Every k: the counts are small (printed), so no stride.
 *
 * Under AddressSanitizer nothing is replaced (ASan owns malloc): the test
 * says so and passes; the sweep runs on the normal gcc build. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "under_asan.h"

#if UNDER_ASAN
int main(void) {
  printf("AddressSanitizer build: the allocation-failure sweep needs its own malloc, which ASan replaces; it runs "
         "in the normal gcc build.\n");
  return 0;
}
#else

#include "failmalloc.h"

#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>
#include <math.h>
#include <unistd.h>

#include "check.h"
#include "chordlet.h"
#include "uris.h"

static char model_path[4096], bundle_dir[4096];

/* What one sweep saw. */
typedef struct tally {
  long refused, worked_around;
} tally;

/* Every entry point's check after its run: nothing it made is still live. */
static void check_no_leak(const char *what, long k) {
  CHECK(fm_live == 0 && fm_overflow == 0, "%s, allocation %ld failing: %ld allocations leaked", what, k, fm_live);
}

/* ------------------------------------------------------------ model load */

/* One run with the k-th allocation failing; returns 1 if it happened. */
static int model_load_once(long k, tally *t) {
  chordlet_model *m = (chordlet_model *)1;
  chordlet_error err = {0};
  fm_arm(k, 1);
  chordlet_status st = chordlet_model_load(model_path, &m, &err);
  fm_disarm();
  if (st == CHORDLET_OK) {
    CHECK(m != NULL, "model load succeeded without a model");
    chordlet_model_free(m);
    t->worked_around += fm_failed;
  } else {
    t->refused++;
    CHECK(fm_failed, "model load failed (%s) with no failure injected", err.message);
    CHECK(m == NULL && err.message[0], "model load, allocation %ld failing: %s, model %p, message '%s'", k,
          chordlet_status_name(st), (void *)m, err.message);
  }
  check_no_leak("model load", k);
  return fm_failed;
}

/* ---------------------------------------------------------- stream create */

static chordlet_model *shared_model;
static const chordlet_stream_options *shared_options; /* NULL: the defaults */

static int stream_create_once(long k, tally *t) {
  chordlet_stream *s = (chordlet_stream *)1;
  chordlet_error err = {0};
  fm_arm(k, 1);
  chordlet_status st = chordlet_stream_create(shared_model, 48000, 1024, shared_options, &s, &err);
  fm_disarm();
  if (st == CHORDLET_OK) {
    CHECK(s != NULL, "stream create succeeded without a stream");
    /* It works: a second of a sine, run through. */
    static float block[1024];
    for (int i = 0; i < 1024; i++) block[i] = (float)(0.3 * sin(2 * 3.14159265 * 440 * i / 48000.0));
    const float *ch[1] = {block};
    for (int b = 0; b < 47; b++) chordlet_stream_process(s, ch, 1, 1024);
    chordlet_stream_work(s);
    chordlet_stream_free(s);
    t->worked_around += fm_failed;
  } else {
    t->refused++;
    CHECK(fm_failed, "stream create failed (%s) with no failure injected", err.message);
    CHECK(s == NULL && err.message[0], "stream create, allocation %ld failing: %s, stream %p, message '%s'", k,
          chordlet_status_name(st), (void *)s, err.message);
  }
  check_no_leak("stream create", k);
  return fm_failed;
}

/* ------------------------------------------------------------- the plugin */

/* URIDs without allocating: fixed slots, so a map() during an armed window
 * (instantiate maps its URIs) never fails for the host's sake. */
enum { MAX_URIS = 128, URI_BYTES = 160 };
static char uri_table[MAX_URIS][URI_BYTES];
static int n_uris = 0;
static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri) {
  (void)h;
  for (int i = 0; i < n_uris; i++)
    if (strcmp(uri_table[i], uri) == 0) return (LV2_URID)(i + 1);
  if (n_uris == MAX_URIS || strlen(uri) >= URI_BYTES) return 0;
  snprintf(uri_table[n_uris], URI_BYTES, "%s", uri);
  return (LV2_URID)++n_uris;
}

/* The worker: jobs are queued (copied) here and run by the test when it
 * chooses (armed or not), one at a time, as a host's worker thread would. */
enum { MAX_JOBS = 8, JOB_BYTES = 4096 };
typedef struct queue {
  int n;
  uint32_t size[MAX_JOBS];
  unsigned char data[MAX_JOBS][JOB_BYTES];
} queue;
static queue jobs, replies;

static LV2_Worker_Status enqueue(queue *q, uint32_t size, const void *data) {
  if (q->n == MAX_JOBS || size > JOB_BYTES) return LV2_WORKER_ERR_NO_SPACE;
  q->size[q->n] = size;
  memcpy(q->data[q->n++], data, size);
  return LV2_WORKER_SUCCESS;
}
static LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle h, uint32_t size, const void *data) {
  (void)h;
  return enqueue(&jobs, size, data);
}
static LV2_Worker_Status respond(LV2_Worker_Respond_Handle h, uint32_t size, const void *data) {
  (void)h;
  return enqueue(&replies, size, data);
}

typedef struct plugin_host {
  const LV2_Descriptor *desc;
  const LV2_Worker_Interface *worker;
  LV2_Handle handle;
  LV2_URID_Map map;
  LV2_Worker_Schedule sched;
  int32_t max_block;
  LV2_Options_Option options[2];
  LV2_Feature f_map, f_sched, f_options;
  const LV2_Feature *features[4];
  float in[256], out[256], controls[16];
  union {
    LV2_Atom_Sequence seq;
    uint64_t align;
    unsigned char bytes[8192];
  } control, notify, midi;
  LV2_Atom_Forge forge;
  chordlet_uris uris;
} plugin_host;

/* Ports of the mono plugin (ttl/chordlet.ttl): audio in 0, out 1, then these. */
enum { P_CONTROL = 2, P_NOTIFY, P_MIDI, P_THRESHOLD, P_SMOOTHING, P_CHORD, P_ROOT, P_QUALITY, P_BASS, P_CONFIDENCE,
       P_LATENCY, P_TUNING, P_TUNING_OUT, P_END };

static void host_init(plugin_host *h, const LV2_Descriptor *desc) {
  memset(h, 0, sizeof *h);
  h->desc = desc;
  h->worker = desc->extension_data(LV2_WORKER__interface);
  h->map = (LV2_URID_Map){NULL, map_uri};
  h->sched = (LV2_Worker_Schedule){NULL, schedule_work};
  h->max_block = 256;
  h->options[0] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__maxBlockLength),
                                       sizeof(int32_t), map_uri(NULL, LV2_ATOM__Int), &h->max_block};
  h->f_map = (LV2_Feature){LV2_URID__map, &h->map};
  h->f_sched = (LV2_Feature){LV2_WORKER__schedule, &h->sched};
  h->f_options = (LV2_Feature){LV2_OPTIONS__options, h->options};
  h->features[0] = &h->f_map;
  h->features[1] = &h->f_sched;
  h->features[2] = &h->f_options;
  lv2_atom_forge_init(&h->forge, &h->map);
  chordlet_map_uris(&h->map, &h->uris);
  jobs.n = replies.n = 0;
}

/* The control input is consumed by run(): an empty sequence for the next. */
static void host_clear_control(plugin_host *h) {
  lv2_atom_forge_set_buffer(&h->forge, h->control.bytes, sizeof h->control.bytes);
  LV2_Atom_Forge_Frame f;
  lv2_atom_forge_sequence_head(&h->forge, &f, 0);
}

static void host_connect(plugin_host *h) {
  h->desc->connect_port(h->handle, 0, h->in);
  h->desc->connect_port(h->handle, 1, h->out);
  h->desc->connect_port(h->handle, P_CONTROL, &h->control);
  h->desc->connect_port(h->handle, P_NOTIFY, &h->notify);
  h->desc->connect_port(h->handle, P_MIDI, &h->midi);
  for (uint32_t p = P_THRESHOLD; p < P_END; p++) h->desc->connect_port(h->handle, p, &h->controls[p - P_THRESHOLD]);
  h->controls[P_SMOOTHING - P_THRESHOLD] = 4;
  host_clear_control(h);
}

/* Runs the queued jobs (and those they queue), delivering each reply. */
static void host_run_jobs(plugin_host *h) {
  while (jobs.n) {
    queue now = jobs;
    jobs.n = 0;
    for (int i = 0; i < now.n; i++) h->worker->work(h->handle, respond, NULL, now.size[i], now.data[i]);
    for (int i = 0; i < replies.n; i++) h->worker->work_response(h->handle, replies.size[i], replies.data[i]);
    replies.n = 0;
  }
}

/* One block of 256 samples of A minor-ish sound; the notify port's model
 * path and error (if any) are copied out. */
static void host_block(plugin_host *h, char *model_out, char *error_out) {
  for (int i = 0; i < 256; i++) h->in[i] = (float)(0.2 * sin(0.06 * i) + 0.1 * sin(0.0713 * i));
  h->notify.seq.atom.size = sizeof h->notify.bytes - sizeof(LV2_Atom);
  h->midi.seq.atom.size = sizeof h->midi.bytes - sizeof(LV2_Atom);
  h->desc->run(h->handle, 256);
  host_clear_control(h);
  LV2_ATOM_SEQUENCE_FOREACH (&h->notify.seq, ev) {
    if (ev->body.type != h->uris.atom_Object) continue;
    const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
    if (obj->body.otype != h->uris.patch_Set) continue;
    const LV2_Atom *property = NULL, *value = NULL;
    lv2_atom_object_get(obj, h->uris.patch_property, &property, h->uris.patch_value, &value, 0);
    if (!property || !value || property->type != h->uris.atom_URID) continue;
    const LV2_URID key = ((const LV2_Atom_URID *)property)->body;
    char *dst = key == h->uris.model ? model_out : key == h->uris.error ? error_out : NULL;
    if (dst) snprintf(dst, 1024, "%s", (const char *)LV2_ATOM_BODY_CONST(value));
  }
  host_run_jobs(h);
}

static void send_patch(plugin_host *h, LV2_URID otype, const char *path) {
  lv2_atom_forge_set_buffer(&h->forge, h->control.bytes, sizeof h->control.bytes);
  LV2_Atom_Forge_Frame seq, obj;
  lv2_atom_forge_sequence_head(&h->forge, &seq, 0);
  lv2_atom_forge_frame_time(&h->forge, 0);
  lv2_atom_forge_object(&h->forge, &obj, 0, otype);
  if (path) {
    lv2_atom_forge_key(&h->forge, h->uris.patch_property);
    lv2_atom_forge_urid(&h->forge, h->uris.model);
    lv2_atom_forge_key(&h->forge, h->uris.patch_value);
    lv2_atom_forge_path(&h->forge, path, (uint32_t)strlen(path));
  }
  lv2_atom_forge_pop(&h->forge, &obj);
  lv2_atom_forge_pop(&h->forge, &seq);
}

static const LV2_Descriptor *plugin_desc;

/* instantiate + activate with the k-th allocation failing. */
static int instantiate_once(long k, tally *t) {
  plugin_host h;
  host_init(&h, plugin_desc);
  fm_arm(k, 1);
  h.handle = plugin_desc->instantiate(plugin_desc, 48000, bundle_dir, h.features);
  if (h.handle) plugin_desc->activate(h.handle);
  fm_disarm();
  const int failed = fm_failed;
  if (!h.handle) {
    t->refused++;
    CHECK(failed, "instantiate returned NULL with no failure injected");
  } else {
    /* It runs: with the model (a latency), or without one and saying why. */
    char model[1024] = "", error[1024] = "";
    host_connect(&h);
    for (int b = 0; b < 20; b++) host_block(&h, model, error);
    const int has_model = h.controls[P_LATENCY - P_THRESHOLD] > 0;
    if (!has_model) t->refused++;
    else t->worked_around += failed;
    CHECK(has_model || error[0], "instantiate, allocation %ld failing: no model and no error on the notify port", k);
    CHECK(isfinite(h.out[0]) && h.out[17] == h.in[17], "instantiate, allocation %ld failing: the audio changed", k);
    plugin_desc->deactivate(h.handle);
    plugin_desc->cleanup(h.handle);
  }
  check_no_leak("plugin instantiate and activate", k);
  return failed;
}

/* A model swap whose worker job has its k-th allocation failing. */
static int swap_once(long k, tally *t) {
  plugin_host h;
  host_init(&h, plugin_desc);
  h.handle = plugin_desc->instantiate(plugin_desc, 48000, bundle_dir, h.features);
  CHECK(h.handle != NULL, "instantiate failed");
  if (!h.handle) return 0;
  plugin_desc->activate(h.handle);
  host_connect(&h);
  char model[1024] = "", error[1024] = "";
  send_patch(&h, h.uris.patch_Get, NULL);
  host_block(&h, model, error);
  const int have_default = strstr(model, "default.chordlet") != NULL;
  CHECK(have_default, "the plugin reports the model '%s'", model);
  /* The swap: run() queues the job; it runs armed. The replaced model is
   * freed by a later job (unarmed, with the rest). */
  send_patch(&h, h.uris.patch_Set, model_path);
  h.notify.seq.atom.size = sizeof h.notify.bytes - sizeof(LV2_Atom);
  h.midi.seq.atom.size = sizeof h.midi.bytes - sizeof(LV2_Atom);
  h.desc->run(h.handle, 256);
  host_clear_control(&h);
  CHECK(jobs.n == 1, "the swap queued %d jobs", jobs.n);
  fm_arm(k, 1);
  for (int i = 0; i < jobs.n; i++) h.worker->work(h.handle, respond, NULL, jobs.size[i], jobs.data[i]);
  fm_disarm();
  const int failed = fm_failed;
  jobs.n = 0;
  for (int i = 0; i < replies.n; i++) h.worker->work_response(h.handle, replies.size[i], replies.data[i]);
  replies.n = 0;
  model[0] = error[0] = '\0';
  for (int b = 0; b < 40; b++) host_block(&h, model, error);
  const int swapped = strcmp(model, model_path) == 0;
  if (swapped) {
    t->worked_around += failed;
  } else {
    t->refused++;
    CHECK(error[0], "swap, allocation %ld failing: neither swapped nor an error ('%s')", k, model);
    /* The old model runs on: it has a latency, and reports itself. */
    send_patch(&h, h.uris.patch_Get, NULL);
    host_block(&h, model, error);
    CHECK(strstr(model, "default.chordlet") && h.controls[P_LATENCY - P_THRESHOLD] > 0,
          "swap, allocation %ld failing: the old model is gone ('%s')", k, model);
  }
  plugin_desc->deactivate(h.handle);
  plugin_desc->cleanup(h.handle);
  check_no_leak("plugin model swap", k);
  return failed;
}

/* ----------------------------------------------------------------- sweep */

static void sweep(const char *name, int (*once)(long k, tally *t)) {
  tally t = {0, 0};
  /* A run with nothing failing first: libraries' one-time setup (FFTW's
   * planner and wisdom, stdio) happens there, not in the swept runs. */
  once(0, &t);
  t = (tally){0, 0};
  const int failures_before = check_failures;
  long k = 1;
  while (once(k, &t) && check_failures - failures_before < 10) k++;
  printf("%-32s %5ld allocations (%ld more in FFTW and OpenBLAS, spared); every k: %ld refused cleanly, %ld "
         "worked around\n",
         name, k - 1, fm_spared, t.refused, t.worked_around);
  CHECK(k > 3, "%s: only %ld allocations: is the interposer working?", name, k - 1);
}

int main(void) {
  fm_init();
  if (!realpath("models/default.chordlet", model_path)) {
    fprintf(stderr, "no models/default.chordlet (run from the repository)\n");
    return 1;
  }
  /* <build>/tests/test_alloc_fail -> <build>/lv2/chordlet.lv2/ */
  char exe[4096];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return 1;
  exe[len] = '\0';
  *strrchr(exe, '/') = '\0';
  if (snprintf(bundle_dir, sizeof bundle_dir, "%s/../lv2/chordlet.lv2/", exe) >= (int)sizeof bundle_dir) return 1;
  char so[4200];
  snprintf(so, sizeof so, "%schordlet.so", bundle_dir);
  void *lib = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "cannot load the plugin: %s (make plugin)\n", dlerror());
    return 1;
  }
  union {
    void *p;
    const LV2_Descriptor *(*f)(uint32_t);
  } entry = {dlsym(lib, "lv2_descriptor")};
  plugin_desc = entry.f ? entry.f(0) : NULL;
  CHECK(plugin_desc && strcmp(plugin_desc->URI, CHORDLET_MONO_URI) == 0, "no mono plugin in %s", so);
  fm_init(); /* the plugin's libraries are loaded now */

  sweep("chordlet_model_load", model_load_once);
  chordlet_error err;
  CHECK(chordlet_model_load(model_path, &shared_model, &err) == CHORDLET_OK, "%s", err.message);
  sweep("chordlet_stream_create", stream_create_once);
  chordlet_model_free(shared_model);
  /* The file-mode model: three networks, one per phase (live.c). */
  chordlet_stream_options file_mode;
  chordlet_stream_options_default(&file_mode);
  file_mode.max_lookahead_seconds = CHORDLET_MAX_LOOKAHEAD_SECONDS;
  CHECK(chordlet_model_load("models/offline.chordlet", &shared_model, &err) == CHORDLET_OK, "%s", err.message);
  shared_options = &file_mode;
  if (shared_model) sweep("chordlet_stream_create, file-mode model (3 phases)", stream_create_once);
  chordlet_model_free(shared_model);
  shared_options = NULL;
  if (plugin_desc) {
    sweep("plugin instantiate + activate", instantiate_once);
    sweep("plugin model swap (worker)", swap_once);
  }
  dlclose(lib);
  return check_summary("test_alloc_fail");
}
#endif
