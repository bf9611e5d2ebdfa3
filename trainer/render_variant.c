/* render_variant.c: drawing a song's rendering settings from the seed. */
#include "render_variant.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"

static const struct {
  const char *name;
  int first, count; /* GM programs (0-based) */
} family_table[N_FAMILIES] = {
    [FAMILY_ORIGINAL] = {"original", -1, 0}, [FAMILY_PIANO] = {"piano", 0, 8},
    [FAMILY_ORGAN] = {"organ", 16, 8},       [FAMILY_GUITAR] = {"guitar", 24, 8},
    [FAMILY_STRINGS] = {"strings", 48, 4},   [FAMILY_PAD] = {"pad", 88, 8},
};

/* Effect ranges: audible but never washing the harmony out. */
#define REVERB_PROBABILITY 0.8
#define CHORUS_PROBABILITY 0.4
#define PEAK_DBFS_LOW (-12.0)
#define PEAK_DBFS_HIGH (-1.0)

/* Drawn values are rounded so sidecars read cleanly; the rounded value is
 * the one used. */
static double round_to(double x, double step) { return floor(x / step + 0.5) * step; }

unsigned variant_parse_families(const char *list) {
  unsigned set = 0;
  const char *p = list;
  while (p && *p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    int found = -1;
    for (int f = 0; f < N_FAMILIES; f++)
      if (strlen(family_table[f].name) == len && strncmp(p, family_table[f].name, len) == 0) found = f;
    if (found < 0) return 0;
    set |= 1u << found;
    p = comma ? comma + 1 : NULL;
  }
  return set;
}

const char *variant_family_list(unsigned families, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = '\0';
  for (int f = 0; f < N_FAMILIES; f++)
    if (families & (1u << f)) {
      int n = snprintf(buf + at, size - at, "%s%s", at ? "," : "", family_table[f].name);
      if (n < 0 || (size_t)n >= size - at) break;
      at += (size_t)n;
    }
  return buf;
}

void variant_draw(const variant_options *o, const char *collection, const char *id, int index, variant *out) {
  memset(out, 0, sizeof *out);
  char seed_text[64];
  snprintf(seed_text, sizeof seed_text, "chordlet-render-1|%llu|%d|", (unsigned long long)o->seed, index);
  uint64_t h = rng_hash(RNG_HASH_START, seed_text);
  h = rng_hash(h, collection);
  h = rng_hash(h, "/");
  h = rng_hash(h, id);
  rng r = {h};

  int allowed[N_FAMILIES], n_allowed = 0;
  for (int f = 0; f < N_FAMILIES; f++)
    if (o->families & (1u << f)) allowed[n_allowed++] = f;
  if (n_allowed == 0) allowed[n_allowed++] = FAMILY_ORIGINAL;

  synth_params *s = &out->synth;
  /* The order of the draws below is part of the output format: changing it
   * changes every render (bump the "chordlet-render-N" salt above then). */
  out->soundfont = rng_below(&r, o->n_soundfonts > 0 ? o->n_soundfonts : 1);
  s->sample_rate = o->sample_rate;
  s->tempo_factor = round_to(1.0 + o->tempo_jitter * (2.0 * rng_uniform(&r) - 1.0), 1e-4);
  for (int ch = 0; ch < MIDI_CHANNELS; ch++) {
    program_family f = (program_family)allowed[rng_below(&r, n_allowed)];
    int offset = rng_below(&r, 8);
    out->family[ch] = f;
    s->programs[ch] = family_table[f].first < 0 ? -1 : family_table[f].first + offset % family_table[f].count;
  }
  s->programs[MIDI_DRUM_CHANNEL] = -1;
  s->drums = rng_uniform(&r) >= o->drums_off;
  s->velocity_jitter = o->velocity_jitter;
  s->reverb = rng_uniform(&r) < REVERB_PROBABILITY;
  s->reverb_roomsize = round_to(rng_range(&r, 0.2, 0.9), 1e-3);
  s->reverb_damp = round_to(rng_range(&r, 0.0, 0.6), 1e-3);
  s->reverb_width = round_to(rng_range(&r, 20, 100), 0.1);
  s->reverb_level = round_to(rng_range(&r, 0.3, 0.9), 1e-3);
  s->reverb_send = 20 + rng_below(&r, 81);
  s->chorus = rng_uniform(&r) < CHORUS_PROBABILITY;
  s->chorus_voices = 2 + rng_below(&r, 4);
  s->chorus_level = round_to(rng_range(&r, 0.5, 2.0), 1e-3);
  s->chorus_speed_hz = round_to(rng_range(&r, 0.2, 1.0), 1e-3);
  s->chorus_depth_ms = round_to(rng_range(&r, 2.0, 10.0), 1e-3);
  s->chorus_send = 10 + rng_below(&r, 71);
  out->peak_dbfs = round_to(rng_range(&r, PEAK_DBFS_LOW, PEAK_DBFS_HIGH), 0.01);
  s->velocity_seed = rng_next(&r);
  if (!o->effects) s->reverb = s->chorus = false;
}

/* cJSON_Add* return NULL when out of memory; one flag collects them. */
static void add_number(cJSON *o, const char *key, double v, int *ok) {
  if (!cJSON_AddNumberToObject(o, key, v)) *ok = 0;
}

cJSON *variant_to_json(const variant *v) {
  const synth_params *s = &v->synth;
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  int ok = 1;
  add_number(o, "sample_rate", s->sample_rate, &ok);
  add_number(o, "tempo_factor", s->tempo_factor, &ok);
  int programs[MIDI_CHANNELS];
  const char *families[MIDI_CHANNELS];
  for (int ch = 0; ch < MIDI_CHANNELS; ch++) {
    programs[ch] = s->programs[ch];
    families[ch] = ch == MIDI_DRUM_CHANNEL ? "drums" : family_table[v->family[ch]].name;
  }
  cJSON *p = cJSON_CreateIntArray(programs, MIDI_CHANNELS);
  cJSON *f = cJSON_CreateStringArray(families, MIDI_CHANNELS);
  if (!p || !cJSON_AddItemToObject(o, "programs", p)) {
    cJSON_Delete(p);
    ok = 0;
  }
  if (!f || !cJSON_AddItemToObject(o, "families", f)) {
    cJSON_Delete(f);
    ok = 0;
  }
  if (!cJSON_AddBoolToObject(o, "drums", s->drums)) ok = 0;
  add_number(o, "velocity_jitter", s->velocity_jitter, &ok);
  char seed[24];
  snprintf(seed, sizeof seed, "%016llx", (unsigned long long)s->velocity_seed);
  if (!cJSON_AddStringToObject(o, "velocity_seed", seed)) ok = 0;
  cJSON *reverb = s->reverb ? cJSON_AddObjectToObject(o, "reverb") : cJSON_AddFalseToObject(o, "reverb");
  if (!reverb) ok = 0;
  else if (s->reverb) {
    add_number(reverb, "roomsize", s->reverb_roomsize, &ok);
    add_number(reverb, "damp", s->reverb_damp, &ok);
    add_number(reverb, "width", s->reverb_width, &ok);
    add_number(reverb, "level", s->reverb_level, &ok);
    add_number(reverb, "send", s->reverb_send, &ok);
  }
  cJSON *chorus = s->chorus ? cJSON_AddObjectToObject(o, "chorus") : cJSON_AddFalseToObject(o, "chorus");
  if (!chorus) ok = 0;
  else if (s->chorus) {
    add_number(chorus, "voices", s->chorus_voices, &ok);
    add_number(chorus, "level", s->chorus_level, &ok);
    add_number(chorus, "speed_hz", s->chorus_speed_hz, &ok);
    add_number(chorus, "depth_ms", s->chorus_depth_ms, &ok);
    add_number(chorus, "send", s->chorus_send, &ok);
  }
  add_number(o, "peak_dbfs", v->peak_dbfs, &ok);
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}
