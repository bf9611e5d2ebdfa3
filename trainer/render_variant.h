/*
 * render_variant.h: what one rendering of a song sounds like, drawn from the
 * seed: soundfont, tempo factor, programs per channel, drums kept or muted,
 * reverb and chorus, velocity jitter stream, output level.
 *
 * The draw depends only on the options, the seed and the song's name
 * (collection, id, variant number), never on the MIDI's content, the job
 * order or the number of workers: the same command renders the same files
 * in any order, split over any number of processes, and after a restart.
 * The random numbers are consumed in one fixed order (see render_variant.c),
 * so a changed option changes only what it governs.
 *
 * Thread: any (pure).
 */
#ifndef CHORDLET_TRAINER_RENDER_VARIANT_H
#define CHORDLET_TRAINER_RENDER_VARIANT_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "midi_render.h"

/* Program families a channel may be given (General MIDI, 0-based). */
typedef enum program_family {
  FAMILY_ORIGINAL = 0, /* keep the file's programs */
  FAMILY_PIANO,        /* 0-7: pianos, electric pianos, harpsichord, clavinet */
  FAMILY_ORGAN,        /* 16-23: organs, accordions, harmonica */
  FAMILY_GUITAR,       /* 24-31 */
  FAMILY_STRINGS,      /* 48-51: ensembles and synth strings */
  FAMILY_PAD,          /* 88-95: synth pads (slow attacks: onsets come late) */
  N_FAMILIES
} program_family;

typedef struct variant_options {
  int n_soundfonts;      /* >= 1; the variant picks one by index */
  uint64_t seed;
  double sample_rate;    /* Hz */
  double tempo_jitter;   /* the tempo factor is uniform in [1 - j, 1 + j], rounded to 1e-4; 0 <= j <= 0.5 */
  int velocity_jitter;   /* 0..64 */
  unsigned families;     /* bit f set: family f may be drawn (non-empty) */
  double drums_off;      /* probability that a variant mutes the drum channel */
  bool effects;          /* false: reverb and chorus always off */
} variant_options;

typedef struct variant {
  int soundfont;                   /* index into the caller's soundfont list */
  program_family family[MIDI_CHANNELS]; /* drawn per channel (unused for the drum channel) */
  synth_params synth;              /* .soundfont left NULL for the caller */
  double peak_dbfs;                /* the render's peak is scaled to this level */
} variant;

/* The settings of variant number `index` of collection/id. */
void variant_draw(const variant_options *options, const char *collection, const char *id, int index,
                  variant *out);

/* Parses a comma-separated family list ("piano,guitar,original") into a bit
 * set; 0 if any name is unknown or the list is empty. */
unsigned variant_parse_families(const char *list);

/* "piano,organ,..." for a bit set, into buf. */
const char *variant_family_list(unsigned families, char *buf, size_t size);

/* The drawn settings as JSON (for the sidecar; equal JSON = equal render,
 * given the same inputs and soundfont). NULL if out of memory. */
cJSON *variant_to_json(const variant *v);

#endif
