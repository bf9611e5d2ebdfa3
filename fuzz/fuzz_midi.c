/*
 * fuzz_midi.c: the Standard MIDI File parser (trainer/midi_file.h) and what
 * the renderer does with a parsed song (trainer/midi_render.h): the events
 * sequenced into fluidsynth with the variations render draws.
 *
 * Input: one option byte, then the file. Bit 0 asks for a render (of at most
 * 0.25 s at 8 kHz); the other bits pick the tempo factor, drums, program
 * overrides, velocity jitter, reverb and chorus. Each render makes a fresh
 * synth and loads the soundfont into it, as render does per song: with
 * FUZZ_SOUNDFONT, the 7 KB sine soundfont fuzz/tiny_soundfont.py writes
 * (scripts/fuzz-seeds.sh; the fuzz scripts set it), that is well under a
 * millisecond; by default Debian's TimGM6mb (6 MB: 20 ms a render). Without
 * a soundfont only the parser is fuzzed (said once at start). fluidsynth
 * loads samples with OpenMP, whose thread hand-over costs ~10 ms per load
 * on a busy machine: the harness runs it on one thread.
 *
 * A song the parser accepts must be what its header promises: events in time
 * order, finite times within the file's end and MIDI_MAX_SECONDS, channels
 * 0..15, known kinds, 7-bit data; and a render of it gives finite samples.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "midi_file.h"
#include "midi_render.h"

#define FAIL(...) fuzz_fail("fuzz_midi", __VA_ARGS__)

#define DEFAULT_SOUNDFONT "/usr/share/sounds/sf2/TimGM6mb.sf2"
enum { RENDER_RATE = 8000, RENDER_MAX_SAMPLES = RENDER_RATE / 4 };

static const char *soundfont;
static void *pin; /* keeps the soundfont's samples cached between renders */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *sf = getenv("FUZZ_SOUNDFONT");
  if (!sf || !sf[0]) sf = DEFAULT_SOUNDFONT;
  /* libgomp comes with libfluidsynth; found by name, so nothing links it. */
  void *self = dlopen(NULL, RTLD_NOW);
  void (*set_threads)(int) = NULL;
  if (self) *(void **)&set_threads = dlsym(self, "omp_set_num_threads");
  if (set_threads) set_threads(1);
  midi_render_init();
  chordlet_error err;
  if (midi_render_pin(sf, &pin, &err) == CHORDLET_OK) soundfont = sf;
  else fprintf(stderr, "fuzz_midi: no soundfont (%s): the parser only, no renders\n", err.message);
  return 0;
}

static void check_song(const midi_song *s) {
  if (s->format < 0 || s->format > 1) FAIL("format %d", s->format);
  if (!(isfinite(s->end_seconds) && s->end_seconds >= 0 && s->end_seconds <= MIDI_MAX_SECONDS))
    FAIL("end %g s", s->end_seconds);
  size_t notes = 0;
  for (size_t i = 0; i < s->n_events; i++) {
    const midi_event *e = &s->events[i];
    if (!(isfinite(e->seconds) && e->seconds >= 0 && e->seconds <= s->end_seconds))
      FAIL("event %zu at %g s (end %g s)", i, e->seconds, s->end_seconds);
    if (i && e->seconds < s->events[i - 1].seconds) FAIL("event %zu goes back in time", i);
    if (e->channel >= MIDI_CHANNELS || e->kind < MIDI_NOTE_OFF || e->kind > MIDI_PITCH_BEND || (e->kind & 0x0F) ||
        e->data1 > 127 || e->data2 > 127)
      FAIL("event %zu: kind 0x%02x channel %u data %u %u", i, e->kind, e->channel, e->data1, e->data2);
    notes += e->kind == MIDI_NOTE_ON && e->data2 > 0;
  }
  if (notes != s->n_notes) FAIL("%zu note-ons counted, %zu found", s->n_notes, notes);
}

static void render(const midi_song *song, uint8_t options) {
  static const double tempo[4] = {1.0, 0.5, 1.37, 2.0};
  synth_params p;
  memset(&p, 0, sizeof p);
  p.soundfont = soundfont;
  p.sample_rate = RENDER_RATE;
  p.tempo_factor = tempo[(options >> 1) & 3];
  for (int ch = 0; ch < MIDI_CHANNELS; ch++) p.programs[ch] = (options & 0x10) ? (ch * 13 + options) % 128 : -1;
  p.drums = options & 0x08;
  p.velocity_jitter = (options & 0x20) ? 10 : 0;
  p.velocity_seed = options;
  p.reverb = options & 0x40;
  p.reverb_roomsize = 0.5, p.reverb_damp = 0.3, p.reverb_width = 50, p.reverb_level = 0.6, p.reverb_send = 40;
  p.chorus = options & 0x80;
  p.chorus_voices = 3, p.chorus_level = 1.2, p.chorus_speed_hz = 0.3, p.chorus_depth_ms = 8, p.chorus_send = 30;
  double seconds = song->end_seconds / p.tempo_factor;
  size_t n = (size_t)(seconds * RENDER_RATE) + 64;
  if (n > RENDER_MAX_SAMPLES) n = RENDER_MAX_SAMPLES;
  float *out = malloc(n * sizeof *out);
  if (!out) return;
  synth_report rep;
  chordlet_error err;
  if (midi_render(song, &p, out, n, &rep, &err) == CHORDLET_OK) {
    for (size_t i = 0; i < n; i++)
      if (!isfinite(out[i])) FAIL("rendered sample %zu is not finite", i);
  }
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t options = data[0];
  /* An exact copy: midi_parse must not read past the file's last byte. */
  unsigned char *file = malloc(size - 1 ? size - 1 : 1);
  if (!file) return 0;
  memcpy(file, data + 1, size - 1);
  midi_song song;
  chordlet_error err;
  if (midi_parse(file, size - 1, "fuzz.mid", &song, &err) == CHORDLET_OK) {
    check_song(&song);
    if (soundfont && (options & 1)) render(&song, options);
    midi_song_free(&song);
  } else if (!err.message[0]) {
    FAIL("a refused file has no message");
  }
  free(file);
  return 0;
}
