/* midi_render.c: a parsed song through a fresh fluidsynth synth, sequenced
 * here block by block (see midi_render.h for timing and determinism). */
#define _POSIX_C_SOURCE 200809L
#include "midi_render.h"

#include <fluidsynth.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rng.h"

enum {
  SYNTH_BLOCK = 64,     /* fluidsynth's internal block (FLUID_BUFSIZE): notes start on its boundaries */
  CHUNK_BLOCKS = 64,    /* blocks rendered per call when no event falls in between */
  CC_BANK_MSB = 0,
  CC_BANK_LSB = 32,
  CC_REVERB_SEND = 91,
  CC_CHORUS_SEND = 93,
};
/* fluidsynth's default output gain is 0.2; the trainer normalises the peak
 * afterwards, so this only keeps the float mix comfortably scaled. */
#define SYNTH_GAIN 0.5

/* The last error fluidsynth logged in this process, for our messages. A
 * process renders one song at a time (midi_render.h), so one buffer does. */
static char last_synth_error[256];

static void log_error(int level, const char *message, void *data) {
  (void)level;
  (void)data;
  snprintf(last_synth_error, sizeof last_synth_error, "%s", message ? message : "");
}

void midi_render_init(void) {
  fluid_set_log_function(FLUID_PANIC, log_error, NULL);
  fluid_set_log_function(FLUID_ERR, log_error, NULL);
  fluid_set_log_function(FLUID_WARN, NULL, NULL);
  fluid_set_log_function(FLUID_INFO, NULL, NULL);
  fluid_set_log_function(FLUID_DBG, NULL, NULL);
}

const char *midi_render_synth_version(void) { return fluid_version_str(); }

/* " (fluidsynth: ...)" when fluidsynth said something since the last clear. */
static const char *synth_detail(char *buf, size_t size) {
  if (last_synth_error[0]) snprintf(buf, size, " (fluidsynth: %s)", last_synth_error);
  else buf[0] = '\0';
  return buf;
}

typedef struct synth_handle {
  fluid_settings_t *settings;
  fluid_synth_t *synth;
  int sfont_id;
} synth_handle;

static void synth_close(synth_handle *h) {
  if (h->synth) delete_fluid_synth(h->synth);
  if (h->settings) delete_fluid_settings(h->settings);
  memset(h, 0, sizeof *h);
}

static chordlet_status synth_open(synth_handle *h, const char *soundfont, double sample_rate, bool reverb,
                                  bool chorus, chordlet_error *err) {
  memset(h, 0, sizeof *h);
  last_synth_error[0] = '\0';
  char detail[300];
  h->settings = new_fluid_settings();
  if (!h->settings) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "cannot create fluidsynth settings");
  /* One rendering thread, no locking (one caller), no mlock of 150 MB of
   * samples (it fails under ordinary limits and buys nothing offline). */
  if (fluid_settings_setnum(h->settings, "synth.sample-rate", sample_rate) != FLUID_OK ||
      fluid_settings_setint(h->settings, "synth.cpu-cores", 1) != FLUID_OK ||
      fluid_settings_setint(h->settings, "synth.threadsafe-api", 0) != FLUID_OK ||
      fluid_settings_setint(h->settings, "synth.lock-memory", 0) != FLUID_OK ||
      fluid_settings_setint(h->settings, "synth.reverb.active", reverb) != FLUID_OK ||
      fluid_settings_setint(h->settings, "synth.chorus.active", chorus) != FLUID_OK ||
      fluid_settings_setnum(h->settings, "synth.gain", SYNTH_GAIN) != FLUID_OK) {
    synth_close(h);
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "fluidsynth refused its settings (sample rate %g Hz)%s",
                         sample_rate, synth_detail(detail, sizeof detail));
  }
  h->synth = new_fluid_synth(h->settings);
  if (!h->synth) {
    synth_close(h);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "cannot create a fluidsynth synth%s",
                         synth_detail(detail, sizeof detail));
  }
  h->sfont_id = fluid_synth_sfload(h->synth, soundfont, 1);
  if (h->sfont_id == FLUID_FAILED) {
    synth_close(h);
    return chordlet_fail(err, CHORDLET_ERR_IO, "cannot load soundfont %s%s", soundfont,
                         synth_detail(detail, sizeof detail));
  }
  return CHORDLET_OK;
}

chordlet_status midi_render_pin(const char *soundfont, void **pin, chordlet_error *err) {
  *pin = NULL;
  /* Say plainly what is wrong with a path before fluidsynth's terser words. */
  FILE *f = fopen(soundfont, "rb");
  if (!f) return chordlet_fail(err, CHORDLET_ERR_IO, "cannot open soundfont %s", soundfont);
  unsigned char head[12];
  size_t got = fread(head, 1, sizeof head, f);
  fclose(f);
  if (got != sizeof head || memcmp(head, "RIFF", 4) != 0 || memcmp(head + 8, "sfbk", 4) != 0)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s is not a SoundFont (no RIFF sfbk header)", soundfont);
  synth_handle *h = malloc(sizeof *h);
  if (!h) return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory");
  chordlet_status st = synth_open(h, soundfont, 44100, false, false, err);
  if (st) {
    free(h);
    return st;
  }
  *pin = h;
  return CHORDLET_OK;
}

bool midi_render_has_presets(void *pin) {
  synth_handle *h = pin;
  fluid_sfont_t *sfont = h ? fluid_synth_get_sfont_by_id(h->synth, h->sfont_id) : NULL;
  if (!sfont) return false;
  fluid_sfont_iteration_start(sfont);
  return fluid_sfont_iteration_next(sfont) != NULL;
}

void midi_render_unpin(void *pin) {
  if (!pin) return;
  synth_close(pin);
  free(pin);
}

/* The channel's program is replaced (see synth_params.programs). */
static bool overridden(const midi_song *song, const synth_params *p, int ch) {
  if (ch == MIDI_DRUM_CHANNEL || p->programs[ch] < 0) return false;
  bool has_notes = song->note_channels & (1u << ch);
  int first = song->first_program[ch];
  return !(has_notes && first >= GM_BASS_FIRST && first <= GM_BASS_LAST);
}

static chordlet_status set_up_channels(synth_handle *h, const midi_song *song, const synth_params *p,
                                       chordlet_error *err) {
  fluid_synth_t *s = h->synth;
  int ok = FLUID_OK;
  ok |= fluid_synth_reverb_on(s, -1, p->reverb);
  ok |= fluid_synth_chorus_on(s, -1, p->chorus);
  if (p->reverb) {
    ok |= fluid_synth_set_reverb_group_roomsize(s, -1, p->reverb_roomsize);
    ok |= fluid_synth_set_reverb_group_damp(s, -1, p->reverb_damp);
    ok |= fluid_synth_set_reverb_group_width(s, -1, p->reverb_width);
    ok |= fluid_synth_set_reverb_group_level(s, -1, p->reverb_level);
  }
  if (p->chorus) {
    ok |= fluid_synth_set_chorus_group_nr(s, -1, p->chorus_voices);
    ok |= fluid_synth_set_chorus_group_level(s, -1, p->chorus_level);
    ok |= fluid_synth_set_chorus_group_speed(s, -1, p->chorus_speed_hz);
    ok |= fluid_synth_set_chorus_group_depth(s, -1, p->chorus_depth_ms);
    ok |= fluid_synth_set_chorus_group_type(s, -1, FLUID_CHORUS_MOD_SINE);
  }
  for (int ch = 0; ch < MIDI_CHANNELS; ch++) {
    ok |= fluid_synth_cc(s, ch, CC_REVERB_SEND, p->reverb ? p->reverb_send : 0);
    ok |= fluid_synth_cc(s, ch, CC_CHORUS_SEND, p->chorus ? p->chorus_send : 0);
    if (overridden(song, p, ch)) {
      ok |= fluid_synth_bank_select(s, ch, 0);
      ok |= fluid_synth_program_change(s, ch, p->programs[ch]);
    }
  }
  /* FLUID_OK is 0 and FLUID_FAILED -1, so any failure leaves bits set. */
  if (ok != FLUID_OK) {
    char detail[300];
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT,
                         "fluidsynth refused the effect or program settings of %s%s", p->soundfont,
                         synth_detail(detail, sizeof detail));
  }
  return CHORDLET_OK;
}

chordlet_status midi_render(const midi_song *song, const synth_params *p, float *out, size_t n_samples,
                            synth_report *report, chordlet_error *err) {
  if (!(p->tempo_factor > 0) || !(p->sample_rate >= 8000 && p->sample_rate <= 96000))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "bad tempo factor %g or sample rate %g",
                         p->tempo_factor, p->sample_rate);
  synth_handle h;
  chordlet_status st = synth_open(&h, p->soundfont, p->sample_rate, p->reverb, p->chorus, err);
  if (st) return st;
  if ((st = set_up_channels(&h, song, p, err))) {
    synth_close(&h);
    return st;
  }
  bool override[MIDI_CHANNELS];
  for (int ch = 0; ch < MIDI_CHANNELS; ch++) override[ch] = overridden(song, p, ch);
  /* Muting the drums of a drums-only file would leave silence, not a variant. */
  bool melodic = song->note_channels & ~(1u << MIDI_DRUM_CHANNEL);
  bool play_drums = p->drums || !melodic;
  synth_report rep;
  memset(&rep, 0, sizeof rep);
  for (int ch = 0; ch < MIDI_CHANNELS; ch++) rep.programs[ch] = -1;
  rep.drums_played = play_drums && (song->note_channels & (1u << MIDI_DRUM_CHANNEL));
  int current_program[MIDI_CHANNELS] = {0};
  bool sounded[MIDI_CHANNELS] = {false};
  rng velocity = {p->velocity_seed};

  float left[SYNTH_BLOCK * CHUNK_BLOCKS], right[SYNTH_BLOCK * CHUNK_BLOCKS];
  const double blocks_per_second = p->sample_rate / SYNTH_BLOCK / p->tempo_factor;
  size_t n_blocks = (n_samples + SYNTH_BLOCK - 1) / SYNTH_BLOCK, next_event = 0;
  for (size_t block = 0; block < n_blocks;) {
    /* Send every event whose nearest block boundary is this one. */
    double due = (double)block + 0.5;
    for (; next_event < song->n_events && song->events[next_event].seconds * blocks_per_second < due;
         next_event++) {
      const midi_event *e = &song->events[next_event];
      int ch = e->channel, vel = e->data2;
      if (e->kind == MIDI_NOTE_ON && p->velocity_jitter > 0) {
        /* Drawn for every note-on, sounding or not, so muting the drums leaves
         * the other parts' velocities as they were. */
        vel += rng_below(&velocity, 2 * p->velocity_jitter + 1) - p->velocity_jitter;
        vel = vel < 1 ? 1 : vel > 127 ? 127 : vel;
      }
      if (ch == MIDI_DRUM_CHANNEL && !play_drums) continue;
      if (override[ch] && (e->kind == MIDI_PROGRAM ||
                           (e->kind == MIDI_CONTROL && (e->data1 == CC_BANK_MSB || e->data1 == CC_BANK_LSB))))
        continue;
      /* Return values are not errors here: fluidsynth refuses, for instance,
       * the note-off of a note that is not sounding, which files do contain. */
      switch (e->kind) {
      case MIDI_NOTE_ON:
        (void)fluid_synth_noteon(h.synth, ch, e->data1, vel);
        rep.notes_played++;
        if (!sounded[ch]) {
          sounded[ch] = true;
          if (ch != MIDI_DRUM_CHANNEL) rep.programs[ch] = override[ch] ? p->programs[ch] : current_program[ch];
        }
        break;
      case MIDI_NOTE_OFF: (void)fluid_synth_noteoff(h.synth, ch, e->data1); break;
      case MIDI_POLY_PRESSURE: (void)fluid_synth_key_pressure(h.synth, ch, e->data1, e->data2); break;
      case MIDI_CONTROL: (void)fluid_synth_cc(h.synth, ch, e->data1, e->data2); break;
      case MIDI_PROGRAM:
        current_program[ch] = e->data1;
        (void)fluid_synth_program_change(h.synth, ch, e->data1);
        break;
      case MIDI_CHANNEL_PRESSURE: (void)fluid_synth_channel_pressure(h.synth, ch, e->data1); break;
      case MIDI_PITCH_BEND: (void)fluid_synth_pitch_bend(h.synth, ch, e->data1 | e->data2 << 7); break;
      default: break;
      }
    }
    /* Then render up to the next event's block in one call: fluidsynth
     * renders whole blocks and applies events only between them, so this is
     * the same audio as one call per block. */
    size_t until = n_blocks;
    if (next_event < song->n_events) {
      double b = floor(song->events[next_event].seconds * blocks_per_second + 0.5);
      if (b < (double)until) until = (size_t)b;
    }
    if (until <= block) until = block + 1;
    if (until - block > CHUNK_BLOCKS) until = block + CHUNK_BLOCKS;
    int len = (int)((until - block) * SYNTH_BLOCK);
    if (fluid_synth_write_float(h.synth, len, left, 0, 1, right, 0, 1) != FLUID_OK) {
      char detail[300];
      synth_close(&h);
      return chordlet_fail(err, CHORDLET_ERR_IO, "fluidsynth failed to render%s", synth_detail(detail, sizeof detail));
    }
    size_t at = block * SYNTH_BLOCK;
    size_t n = n_samples - at < (size_t)len ? n_samples - at : (size_t)len;
    for (size_t i = 0; i < n; i++) out[at + i] = 0.5f * (left[i] + right[i]);
    block = until;
  }
  synth_close(&h);
  if (report) *report = rep;
  return CHORDLET_OK;
}
