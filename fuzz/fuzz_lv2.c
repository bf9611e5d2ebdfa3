/*
 * fuzz_lv2.c: chordlet.lv2 (plugin/chordlet_lv2.c, linked in: lv2_descriptor)
 * under a small host driven by the input: state restore and save, patch:Set
 * and patch:Get messages built with the LV2 forge from the input's bytes on
 * the control port, model swaps through the worker, control values, run()
 * over audio (silence, a sine, NaN, huge and infinite samples), activation,
 * and Ardour's inline display. A fresh instance per input.
 *
 * Input: three configuration bytes, then operations.
 *   byte 0: bit 0 stereo; bit 1 the worker runs jobs inline (as a host does
 *     when freewheeling), else they queue and run after run(); bits 2-3 the
 *     bundle: the harness's folder, the same with a '/', a missing folder, a
 *     path too long for the plugin; bits 4-6 the sample rate; bit 7 the host
 *     passes options (buf-size:maxBlockLength).
 *   byte 1: bit 0 no urid:map, bit 1 no worker (instantiate must refuse);
 *     bit 2 a log; bit 3 the inline display's queue_draw; bits 4-5 state's
 *     mapPath and freePath; bit 6 the optional ports left unconnected; bit 7
 *     a job queue of 2 instead of 64.
 *   byte 2: maxBlockLength = (byte + 1) * 32.
 *   ops, until the input ends (unknown bytes are skipped):
 *     'r' n k        run() on 8n + 1 frames (at most maxBlockLength, and
 *                    MAX_FRAMES in all) of signal k
 *     'P' f l0 l1 b  a patch message on the control port for the next run():
 *                    f bits 0-1 property (model, error, unmapped, none), bits
 *                    2-4 value type (Path, String, Int, URID, Float, Object,
 *                    none, Path without NUL), bit 5 patch:Get, bit 6 not an
 *                    object, bit 7 value before property; then a body of
 *                    l0 | (l1 & 7) << 8 bytes
 *     's' f l0 l1 b  state restore of chordlet:model: f bits 0-1 type (Path,
 *                    String, Int, unmapped), bit 2 no value, bit 3 no NUL,
 *                    bit 4 size 0; then the body
 *     'S'            state save
 *     'a' / 'd'      activate / deactivate
 *     't' v, 'm' v, 'h' v   tuning, smoothing, threshold controls
 *     'i' w h        the inline display at 17w x 3h
 *
 * Paths stay in the harness's folder: a Path body names a file there (its
 * '/' become '_'): default.chordlet and live2.chordlet (tiny live students),
 * offline.chordlet (a file-mode one: refused live), teacher.chordlet
 * (metadata only), bad.chordlet, empty.chordlet, or nothing. So the fuzzer
 * drives loads, refusals and swaps without touching the machine's files.
 *
 * Checked beyond memory safety and leaks: the audio comes out untouched, or,
 * while the plugin reports audio latency (a file-mode model: the
 * audio_latency port, always connected), exactly the input that many samples
 * earlier or the silence of a fresh delay line; the control outputs stay in
 * their ranges, the notify and MIDI sequences are
 * well formed within their capacity, and a saved state is a NUL-terminated
 * path.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "fuzz_util.h"
#include "uris.h"

#define FAIL(...) fuzz_fail("fuzz_lv2", __VA_ARGS__)

/* Ardour's inline display, as the plugin defines it (not in lv2-dev). */
#define INLINEDISPLAY "http://harrisonconsoles.com/lv2/inlinedisplay"
typedef struct {
  unsigned char *data;
  int width, height, stride;
} inline_surface;
typedef struct {
  inline_surface *(*render)(LV2_Handle instance, uint32_t w, uint32_t max_h);
} inline_interface;
typedef struct {
  void *handle;
  void (*queue_draw)(void *handle);
} inline_queue_draw;

/* Ports after the audio ones, in ttl/chordlet.ttl's order. */
enum {
  PORT_CONTROL, PORT_NOTIFY, PORT_MIDI, PORT_THRESHOLD, PORT_SMOOTHING, PORT_CHORD, PORT_ROOT, PORT_QUALITY,
  PORT_BASS, PORT_CONFIDENCE, PORT_LATENCY, PORT_TUNING, PORT_TUNING_OUT, N_OTHER_PORTS,
  PORT_AUDIO_LATENCY = N_OTHER_PORTS + 1 /* after the freewheel port, which stays unconnected */
};
enum {
  MAX_BLOCK = 8192,
  SEQ_BYTES = 16384,
  MSG_BYTES = 4096,
  QUEUE = 64,
  MAX_URIS = 256,
  MAX_EVENTS = 16, /* patch messages per run() */
  /* Audio per input: 1.4 s at 48 kHz. The front end's cost grows with the
   * audio, and mutations pile up runs; past this every run() has 1 frame. */
  MAX_FRAMES = 65536,
};

/* fontconfig (cairo's text in the inline display) keeps its caches behind
 * offset-encoded pointers that LeakSanitizer cannot follow: it would report
 * them as leaks of every input that first draws text. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

/* ------------------------------------------------------------ urid:map */

static char *uri_table[MAX_URIS];
static int n_uris;

static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri) {
  (void)h;
  for (int i = 0; i < n_uris; i++)
    if (strcmp(uri_table[i], uri) == 0) return (LV2_URID)(i + 1);
  if (n_uris == MAX_URIS || !(uri_table[n_uris] = strdup(uri))) return 0;
  return (LV2_URID)++n_uris;
}

/* ---------------------------------------------------------- the worker */

typedef struct message {
  uint32_t size;
  uint8_t data[MSG_BYTES];
} message;

typedef struct host {
  LV2_Handle instance;
  const LV2_Descriptor *d;
  const LV2_Worker_Interface *worker;
  bool inline_jobs;
  int capacity; /* jobs queued at most */
  message jobs[QUEUE], replies[QUEUE];
  int n_jobs, n_replies;
} host;

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle rh, uint32_t size, const void *data) {
  host *h = rh;
  if (h->n_replies == QUEUE || size > MSG_BYTES) return LV2_WORKER_ERR_NO_SPACE;
  h->replies[h->n_replies].size = size;
  memcpy(h->replies[h->n_replies++].data, data, size);
  return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status schedule(LV2_Worker_Schedule_Handle sh, uint32_t size, const void *data) {
  host *h = sh;
  if (h->inline_jobs) return h->worker->work(h->instance, respond, h, size, data);
  if (h->n_jobs >= h->capacity || size > MSG_BYTES) return LV2_WORKER_ERR_NO_SPACE;
  h->jobs[h->n_jobs].size = size;
  memcpy(h->jobs[h->n_jobs++].data, data, size);
  return LV2_WORKER_SUCCESS;
}

/* The worker's turn after run(): jobs, then their replies (which may queue
 * more jobs: the old model's release), until nothing is left. */
static void drain(host *h) {
  for (int round = 0; round < 16 && (h->n_jobs || h->n_replies); round++) {
    static message batch[QUEUE];
    int n = h->n_jobs;
    memcpy(batch, h->jobs, (size_t)n * sizeof *batch);
    h->n_jobs = 0;
    for (int i = 0; i < n; i++) h->worker->work(h->instance, respond, h, batch[i].size, batch[i].data);
    n = h->n_replies;
    memcpy(batch, h->replies, (size_t)n * sizeof *batch);
    h->n_replies = 0;
    for (int i = 0; i < n; i++) h->worker->work_response(h->instance, batch[i].size, batch[i].data);
  }
  if (h->n_jobs || h->n_replies) FAIL("the worker's jobs never end");
}

/* ------------------------------------------------------------- log, state */

static int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...) {
  (void)h, (void)type, (void)fmt;
  return 0;
}
static int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap) {
  (void)h, (void)type, (void)fmt, (void)ap;
  return 0;
}
static void queue_draw(void *handle) { (void)handle; }

/* A name inside the harness's folder: '/' would leave it. */
static void folder_path(const char *name, size_t n, char *out, size_t size) {
  size_t at = (size_t)snprintf(out, size, "%s/", fuzz_dir());
  for (size_t i = 0; i < n && at + 1 < size; i++) out[at++] = name[i] == '/' ? '_' : name[i];
  out[at < size ? at : size - 1] = '\0';
}

static char *absolute_path(LV2_State_Map_Path_Handle h, const char *abstract) {
  (void)h;
  char path[4096];
  folder_path(abstract, strlen(abstract), path, sizeof path);
  return strdup(path);
}

static char *abstract_path(LV2_State_Map_Path_Handle h, const char *absolute) {
  (void)h;
  const size_t n = strlen(fuzz_dir());
  if (!strncmp(absolute, fuzz_dir(), n) && absolute[n] == '/') return strdup(absolute + n + 1);
  return strdup(absolute);
}

static void free_path(LV2_State_Free_Path_Handle h, char *path) {
  (void)h;
  free(path);
}

typedef struct restore_value {
  const void *data; /* NULL: no value stored */
  size_t size;
  uint32_t type;
} restore_value;

static const void *retrieve(LV2_State_Handle sh, uint32_t key, size_t *size, uint32_t *type, uint32_t *flags) {
  const restore_value *v = sh;
  (void)key;
  *size = v->size;
  *type = v->type;
  *flags = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
  return v->data;
}

static LV2_State_Status store(LV2_State_Handle sh, uint32_t key, const void *value, size_t size, uint32_t type,
                              uint32_t flags) {
  const chordlet_uris *u = sh;
  (void)flags;
  if (key != u->model || type != u->atom_Path) FAIL("save stored key %u of type %u", key, type);
  if (size == 0 || ((const char *)value)[size - 1] != '\0' || strlen(value) + 1 != size)
    FAIL("save stored a path of %zu bytes that is not one NUL-terminated string", size);
  return LV2_STATE_SUCCESS;
}

/* ------------------------------------------------------------- the input */

typedef struct reader {
  const uint8_t *p, *end;
} reader;

static int next(reader *r) { return r->p < r->end ? *r->p++ : -1; }
static int byte(reader *r) {
  int b = next(r);
  return b < 0 ? 0 : b;
}
/* A body of l0 | (l1 & 7) << 8 bytes, as far as the input goes. */
static const uint8_t *body(reader *r, size_t *n) {
  size_t len = (size_t)byte(r);
  len |= (size_t)(byte(r) & 7) << 8;
  if (len > (size_t)(r->end - r->p)) len = (size_t)(r->end - r->p);
  const uint8_t *b = r->p;
  r->p += len;
  *n = len;
  return b;
}

/* --------------------------------------------------------- one instance */

typedef struct session {
  host h;
  chordlet_uris u;
  LV2_URID_Map map;
  LV2_Atom_Forge forge;
  int n_channels;
  uint32_t max_block;
  bool active, optional_ports, map_path, free_path;
  float in[2][MAX_BLOCK], out[2][MAX_BLOCK];
  float threshold, smoothing, tuning;
  float chord, root, quality, bass, confidence, latency, tuning_out, audio_latency;
  _Alignas(8) uint8_t control[SEQ_BYTES];
  _Alignas(8) uint8_t notify[SEQ_BYTES];
  _Alignas(8) uint8_t midi[SEQ_BYTES];
  LV2_Atom_Forge_Frame control_frame;
  int n_events;
  uint32_t frames_left;
  uint64_t position; /* frames since instantiate, for the signals */
  LV2_State_Map_Path map_path_feature;
  LV2_State_Free_Path free_path_feature;
} session;

static void control_reset(session *s) {
  lv2_atom_forge_set_buffer(&s->forge, s->control, sizeof s->control);
  lv2_atom_forge_sequence_head(&s->forge, &s->control_frame, 0);
  s->n_events = 0;
}

/* One value atom of the given kind with the body's bytes. */
static void forge_value(session *s, int kind, const uint8_t *b, size_t n) {
  LV2_Atom_Forge *f = &s->forge;
  char path[4096];
  uint8_t word[4] = {0};
  memcpy(word, b, n < 4 ? n : 4);
  switch (kind) {
  case 0:
  case 7: /* Path, with or without its NUL */
    folder_path((const char *)b, n, path, sizeof path);
    /* forge_write pads the body to 64 bits, as a forged atom is */
    lv2_atom_forge_atom(f, (uint32_t)(strlen(path) + (kind == 0)), s->u.atom_Path);
    lv2_atom_forge_write(f, path, (uint32_t)(strlen(path) + (kind == 0)));
    break;
  case 1: lv2_atom_forge_string(f, (const char *)b, (uint32_t)n); break;
  case 2: lv2_atom_forge_atom(f, 4, s->u.atom_Int), lv2_atom_forge_write(f, word, 4); break;
  case 3: lv2_atom_forge_atom(f, 4, s->u.atom_URID), lv2_atom_forge_write(f, word, 4); break;
  case 4: lv2_atom_forge_atom(f, 4, s->u.atom_Float), lv2_atom_forge_write(f, word, 4); break;
  case 5: {
    LV2_Atom_Forge_Frame frame;
    lv2_atom_forge_object(f, &frame, 0, 0);
    lv2_atom_forge_pop(f, &frame);
    break;
  }
  default: break; /* 6: no value */
  }
}

static void op_patch(session *s, reader *r) {
  const int flags = byte(r);
  size_t n;
  const uint8_t *b = body(r, &n);
  if (s->n_events == MAX_EVENTS) return;
  s->n_events++;
  LV2_Atom_Forge *f = &s->forge;
  lv2_atom_forge_frame_time(f, 0);
  if (flags & 0x40) { /* not an object: the plugin must skip it */
    lv2_atom_forge_int(f, (int32_t)n);
    return;
  }
  LV2_Atom_Forge_Frame frame;
  lv2_atom_forge_object(f, &frame, 0, (flags & 0x20) ? s->u.patch_Get : s->u.patch_Set);
  const LV2_URID properties[4] = {s->u.model, s->u.error, 12345, 0};
  const LV2_URID property = properties[flags & 3];
  const int kind = (flags >> 2) & 7;
  for (int i = 0; i < 2; i++) {
    if ((i == 0) != !(flags & 0x80)) { /* property first, unless bit 7 */
      if (kind != 6) lv2_atom_forge_key(f, s->u.patch_value), forge_value(s, kind, b, n);
    } else if (property) {
      lv2_atom_forge_key(f, s->u.patch_property);
      lv2_atom_forge_urid(f, property);
    }
  }
  lv2_atom_forge_pop(f, &frame);
}

static void op_restore(session *s, reader *r, const LV2_State_Interface *state, const LV2_Feature *const *features) {
  const int flags = byte(r);
  size_t n;
  const uint8_t *b = body(r, &n);
  if (!state) return;
  static const uint32_t unmapped = 54321;
  const uint32_t types[4] = {s->u.atom_Path, s->u.atom_String, s->u.atom_Int, unmapped};
  char text[4096];
  size_t len;
  if ((flags & 3) == 0) { /* a path: abstract (mapPath) or in the folder */
    if (s->map_path) {
      len = 0;
      for (size_t i = 0; i < n && len + 1 < sizeof text; i++) text[len++] = b[i] == '/' ? '_' : (char)b[i];
    } else {
      folder_path((const char *)b, n, text, sizeof text);
      len = strlen(text);
    }
  } else {
    len = n < sizeof text - 1 ? n : sizeof text - 1;
    memcpy(text, b, len);
  }
  if (!(flags & 8)) text[len++] = '\0';
  /* An exact copy: ASan sees a read past the size the host gave. */
  char *value = malloc(len ? len : 1);
  if (!value) return;
  memcpy(value, text, len);
  restore_value v = {(flags & 4) ? NULL : value, (flags & 16) ? 0 : len, types[flags & 3]};
  state->restore(s->h.instance, retrieve, &v, 0, features);
  free(value);
}

/* 0.1 s of each signal at 48 kHz, made once: sin() per sample cost the
 * harness as much as the plugin. Blocks loop over them. */
enum { TABLE = 4800 };
static float table_sine[TABLE], table_chord[TABLE];

static void make_tables(void) {
  for (int i = 0; i < TABLE; i++) {
    const double t = 6.283185307179586 * i / 48000.0;
    table_sine[i] = (float)(0.5 * sin(440.0 * t));
    table_chord[i] = (float)(0.2 * (sin(261.6 * t) + sin(329.6 * t) + sin(392.0 * t)));
  }
}

static void fill(session *s, uint32_t n, int kind) {
  for (int c = 0; c < s->n_channels; c++)
    for (uint32_t i = 0; i < n; i++) {
      const int at = (int)((s->position + i) % TABLE);
      float v = 0.0f;
      switch (kind) {
      case 1: v = table_sine[at]; break;
      case 2: v = i == 0 ? NAN : 0.6f * table_chord[at]; break;
      case 3: v = 1e30f; break;
      case 4: v = table_chord[at]; break;
      case 5: v = (i & 1) ? INFINITY : -INFINITY; break;
      case 6: v = c ? 0.9f : -0.9f; break; /* DC, opposite in the two channels */
      default: break;
      }
      s->in[c][i] = v;
    }
  s->position += n;
}

/* A sequence the plugin wrote: well formed, within its capacity. */
static void check_sequence(const uint8_t *buf, uint32_t capacity, const char *what, bool midi) {
  const LV2_Atom_Sequence *seq = (const LV2_Atom_Sequence *)buf;
  if (seq->atom.size < sizeof(LV2_Atom_Sequence_Body) || seq->atom.size > capacity)
    FAIL("%s: a sequence of %u bytes in %u", what, seq->atom.size, capacity);
  LV2_ATOM_SEQUENCE_FOREACH (seq, ev) {
    const uint8_t *end = (const uint8_t *)ev + sizeof *ev + ev->body.size;
    if (end > (const uint8_t *)seq + sizeof(LV2_Atom) + seq->atom.size) FAIL("%s: an event runs past the sequence", what);
    if (midi) {
      const uint8_t *m = LV2_ATOM_BODY_CONST(&ev->body);
      if (ev->body.size != 3 || (m[0] != 0x80 && m[0] != 0x90) || m[1] > 127 || m[2] > 127)
        FAIL("MIDI: a %u-byte event %02x", ev->body.size, m[0]);
    }
  }
}

/* Every input sample since instantiate (position counts them), for the
 * check of delayed audio; the tiny file-mode model's latency at 192 kHz is
 * well under this. */
enum { HISTORY = 1 << 19 };
static float history[2][HISTORY];

static void check_audio(const session *s, uint32_t n) {
  const uint64_t first = s->position - n; /* the block's first sample */
  const float delay_port = s->audio_latency;
  if (!(delay_port >= 0 && delay_port < HISTORY && delay_port == floorf(delay_port)))
    FAIL("audio latency output %g samples", (double)delay_port);
  const uint64_t delay = (uint64_t)delay_port;
  for (int c = 0; c < s->n_channels; c++) {
    if (delay == 0) {
      if (memcmp(s->in[c], s->out[c], n * sizeof(float)) != 0) FAIL("channel %d's audio came out changed", c);
      continue;
    }
    for (uint32_t i = 0; i < n; i++) {
      const uint64_t t = first + i;
      const float want = t >= delay ? history[c][(t - delay) % HISTORY] : 0.0f;
      if (memcmp(&s->out[c][i], &want, sizeof want) != 0 && s->out[c][i] != 0.0f)
        FAIL("channel %d, sample %llu: %g, neither the input %llu samples earlier (%g) nor silence", c,
             (unsigned long long)t, (double)s->out[c][i], (unsigned long long)delay, (double)want);
    }
  }
}

static void op_run(session *s, reader *r) {
  uint32_t n = (uint32_t)byte(r) * 8 + 1;
  const int kind = byte(r) % 7;
  if (n > s->max_block) n = s->max_block;
  if (n > s->frames_left) n = s->frames_left ? s->frames_left : 1;
  s->frames_left -= n <= s->frames_left ? n : s->frames_left;
  if (!s->active) {
    s->h.d->activate(s->h.instance); /* a host activates before running */
    s->active = true;
  }
  fill(s, n, kind);
  for (int c = 0; c < s->n_channels; c++)
    for (uint32_t i = 0; i < n; i++) history[c][(s->position - n + i) % HISTORY] = s->in[c][i];
  lv2_atom_forge_pop(&s->forge, &s->control_frame);
  /* The host sets an output sequence's atom.size to its capacity. */
  const uint32_t capacity = SEQ_BYTES - sizeof(LV2_Atom);
  ((LV2_Atom *)s->notify)->size = capacity;
  ((LV2_Atom *)s->midi)->size = capacity;
  s->h.d->run(s->h.instance, n);
  check_audio(s, n);
  if (s->optional_ports) {
    check_sequence(s->notify, capacity, "notify", false);
    check_sequence(s->midi, capacity, "MIDI", true);
    const bool shown = s->chord != 169.0f || s->root != -1.0f;
    if (!(s->chord >= 0 && s->chord <= 169 && s->root >= -1 && s->root <= 11 && s->quality >= -1 &&
          s->quality <= 13 && s->bass >= -1 && s->bass <= 11 && s->confidence >= 0 && s->confidence <= 1 &&
          s->latency >= 0 && s->latency < 1e5 && s->tuning_out >= 400 && s->tuning_out <= 480))
      FAIL("outputs out of range%s: chord %g root %g quality %g bass %g confidence %g latency %g tuning %g",
           shown ? "" : " (nothing shown)", s->chord, s->root, s->quality, s->bass, s->confidence, s->latency,
           s->tuning_out);
  }
  control_reset(s);
  drain(&s->h);
}

static float control_value(int v, int which) {
  static const float tuning[8] = {0, 415, 440, 466.16f, 399, 481, -1, NAN};
  switch (which) {
  case 't': return v < 8 ? tuning[v] : 400.0f + (float)(v - 8) * 0.35f;
  case 'm': return v == 255 ? NAN : (float)v / 8.0f - 2.0f;
  default: return v == 255 ? NAN : (float)v / 200.0f;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static session s; /* 200 KB: not on the stack */
  static bool ready;
  if (!ready) {
    make_tables();
    /* The files Path bodies may name, once per process. */
    char path[1024];
    model_writer *w;
    static const char junk[] = "CHLT not really a model";
    if (fuzz_save(w = fuzz_tiny_student(1, 1), fuzz_path("default.chordlet", path, sizeof path))) abort();
    model_writer_free(w);
    if (fuzz_save(w = fuzz_tiny_student(1, 2), fuzz_path("live2.chordlet", path, sizeof path))) abort();
    model_writer_free(w);
    if (fuzz_save(w = fuzz_tiny_student(8, 3), fuzz_path("offline.chordlet", path, sizeof path))) abort();
    model_writer_free(w);
    if (fuzz_save(w = fuzz_teacher_metadata(), fuzz_path("teacher.chordlet", path, sizeof path))) abort();
    model_writer_free(w);
    fuzz_write("bad.chordlet", junk, sizeof junk - 1);
    fuzz_write("empty.chordlet", "", 0);
    ready = true;
  }
  reader r = {data, data + size};
  const int config = byte(&r), features_bits = byte(&r), block = byte(&r);
  static const double rates[8] = {44100, 48000, 22050, 8000, 96000, 192000, 11025, 1000};
  memset(&s.h, 0, sizeof s.h);
  s.h.d = lv2_descriptor((config & 1) ? 1 : 0);
  if (!s.h.d) FAIL("no descriptor");
  s.n_channels = (config & 1) ? 2 : 1;
  s.h.inline_jobs = config & 2;
  s.h.capacity = (features_bits & 0x80) ? 2 : QUEUE;
  s.max_block = (uint32_t)(block + 1) * 32;
  s.optional_ports = !(features_bits & 0x40);
  s.map_path = features_bits & 0x10;
  s.free_path = features_bits & 0x20;
  s.active = false;
  s.frames_left = MAX_FRAMES;
  s.position = 0;
  s.map = (LV2_URID_Map){NULL, map_uri};
  chordlet_map_uris(&s.map, &s.u);
  lv2_atom_forge_init(&s.forge, &s.map);

  /* The bundle: where the plugin looks for default.chordlet. */
  char bundle[2048];
  switch ((config >> 2) & 3) {
  case 0: snprintf(bundle, sizeof bundle, "%s", fuzz_dir()); break;
  case 1: snprintf(bundle, sizeof bundle, "%s/", fuzz_dir()); break;
  case 2: snprintf(bundle, sizeof bundle, "%s/no-such-bundle/", fuzz_dir()); break;
  default:
    memset(bundle, 'b', 1500);
    bundle[1500] = '\0';
    break;
  }

  /* Features. */
  LV2_Worker_Schedule sched = {&s.h, schedule};
  LV2_Log_Log log = {NULL, log_printf, log_vprintf};
  inline_queue_draw draw = {NULL, queue_draw};
  const int32_t max_block = (int32_t)s.max_block;
  LV2_Options_Option options[2] = {
      {LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__maxBlockLength), sizeof max_block,
       map_uri(NULL, LV2_ATOM__Int), &max_block},
      {LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL}};
  const LV2_Feature f_map = {LV2_URID__map, &s.map}, f_sched = {LV2_WORKER__schedule, &sched},
                    f_log = {LV2_LOG__log, &log}, f_draw = {INLINEDISPLAY "#queue_draw", &draw},
                    f_options = {LV2_OPTIONS__options, options};
  const LV2_Feature *features[8];
  int nf = 0;
  if (!(features_bits & 1)) features[nf++] = &f_map;
  if (!(features_bits & 2)) features[nf++] = &f_sched;
  if (features_bits & 4) features[nf++] = &f_log;
  if (features_bits & 8) features[nf++] = &f_draw;
  if (config & 0x80) features[nf++] = &f_options;
  features[nf] = NULL;
  s.map_path_feature = (LV2_State_Map_Path){NULL, abstract_path, absolute_path};
  s.free_path_feature = (LV2_State_Free_Path){NULL, free_path};
  const LV2_Feature f_map_path = {LV2_STATE__mapPath, &s.map_path_feature},
                    f_free_path = {LV2_STATE__freePath, &s.free_path_feature};
  const LV2_Feature *state_features[3];
  int ns = 0;
  if (s.map_path) state_features[ns++] = &f_map_path;
  if (s.free_path) state_features[ns++] = &f_free_path;
  state_features[ns] = NULL;

  s.h.instance = s.h.d->instantiate(s.h.d, rates[(config >> 4) & 7], bundle, features);
  if (!s.h.instance) {
    if ((features_bits & 3) == 0) FAIL("instantiate failed with every required feature");
    return 0;
  }
  if (features_bits & 3) FAIL("instantiate succeeded without a required feature");
  s.h.worker = s.h.d->extension_data(LV2_WORKER__interface);
  const LV2_State_Interface *state = s.h.d->extension_data(LV2_STATE__interface);
  const inline_interface *display = s.h.d->extension_data(INLINEDISPLAY "#interface");
  if (!s.h.worker || !state || !display) FAIL("an extension is missing");

  const uint32_t nc = (uint32_t)s.n_channels;
  for (uint32_t c = 0; c < nc; c++) {
    s.h.d->connect_port(s.h.instance, c, s.in[c]);
    s.h.d->connect_port(s.h.instance, nc + c, s.out[c]);
  }
  float *controls[] = {&s.threshold, &s.smoothing, &s.chord, &s.root, &s.quality, &s.bass,
                       &s.confidence, &s.latency, &s.tuning, &s.tuning_out};
  void *ports[N_OTHER_PORTS] = {s.control, s.notify, s.midi, controls[0], controls[1], controls[2], controls[3],
                                controls[4], controls[5], controls[6], controls[7], controls[8], controls[9]};
  for (uint32_t p = 0; p < N_OTHER_PORTS; p++)
    s.h.d->connect_port(s.h.instance, 2 * nc + p, (s.optional_ports || p == PORT_CONTROL) ? ports[p] : NULL);
  s.audio_latency = 0;
  s.h.d->connect_port(s.h.instance, 2 * nc + PORT_AUDIO_LATENCY, &s.audio_latency);
  s.threshold = 0, s.smoothing = 4, s.tuning = 0;
  control_reset(&s);

  for (int op; (op = next(&r)) >= 0;) {
    switch (op) {
    case 'r': op_run(&s, &r); break;
    case 'P': op_patch(&s, &r); break;
    case 's': op_restore(&s, &r, state, state_features); break;
    case 'S': state->save(s.h.instance, store, &s.u, LV2_STATE_IS_POD, state_features); break;
    case 'a':
      s.h.d->activate(s.h.instance);
      s.active = true;
      break;
    case 'd':
      if (s.active) s.h.d->deactivate(s.h.instance);
      s.active = false;
      break;
    case 't': s.tuning = control_value(byte(&r), 't'); break;
    case 'm': s.smoothing = control_value(byte(&r), 'm'); break;
    case 'h': s.threshold = control_value(byte(&r), 'h'); break;
    case 'i': {
      const uint32_t w = (uint32_t)byte(&r) * 17, hmax = (uint32_t)byte(&r) * 3;
      const inline_surface *img = display->render(s.h.instance, w, hmax);
      if (img && (img->width != (int)w || img->height < 1 || (uint32_t)img->height > hmax || !img->data))
        FAIL("inline display %dx%d for %ux%u", img->width, img->height, w, hmax);
      break;
    }
    default: break;
    }
  }
  drain(&s.h);
  if (s.active) s.h.d->deactivate(s.h.instance);
  s.h.d->cleanup(s.h.instance);
  return 0;
}
