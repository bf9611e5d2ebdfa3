/*
 * midi_file.h: reading Standard MIDI Files (SMF formats 0 and 1) into one
 * time-ordered list of channel events, with times in seconds on the file's
 * own timeline (tempo map applied), which is the timeline the collections'
 * .lab files use (shared/data/README.md).
 *
 * The renderer sequences these events itself instead of handing the file to
 * fluid_player: that way the tempo stretch is one exact division of every
 * time (the same one the .lab times get), each event lands on the nearest
 * synth block, and a corrupt file is refused with a message that says where
 * and why instead of being half-played.
 *
 * Reading is strict: a missing MThd header, a header or track that runs past
 * the end of the data, fewer track chunks than the header declares, format 2,
 * a zero division, a zero tempo, a variable-length number over 4 bytes, a
 * data byte with the top bit set, running status with no status before it,
 * a status byte that cannot appear in a file (0xF1-0xF6, 0xF8-0xFE), more
 * than MIDI_MAX_EVENTS events and a length beyond MIDI_MAX_SECONDS are
 * errors naming the file (and the track and byte where it applies).
 * Tolerated, as common writers produce them: a missing End of Track, bytes
 * after the last declared track, unknown chunk types (skipped), running
 * status carried across meta and sysex events (as mido does).
 *
 * Thread: any (pure parsing of a caller's buffer; allocates the result).
 */
#ifndef CHORDLET_TRAINER_MIDI_FILE_H
#define CHORDLET_TRAINER_MIDI_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"

enum {
  MIDI_MAX_EVENTS = 20000000, /* far beyond any song; bounds memory on garbage */
  MIDI_CHANNELS = 16,
  MIDI_DRUM_CHANNEL = 9,      /* General MIDI channel 10 */
};
#define MIDI_MAX_SECONDS (4.0 * 3600.0) /* a training song is minutes long */

/* Channel message kinds (the status byte's high nibble). */
enum {
  MIDI_NOTE_OFF = 0x80,
  MIDI_NOTE_ON = 0x90,
  MIDI_POLY_PRESSURE = 0xA0,
  MIDI_CONTROL = 0xB0,
  MIDI_PROGRAM = 0xC0,
  MIDI_CHANNEL_PRESSURE = 0xD0,
  MIDI_PITCH_BEND = 0xE0,
};

typedef struct midi_event {
  double seconds;  /* on the file's timeline, tempo map applied */
  uint8_t kind;    /* MIDI_NOTE_OFF ... MIDI_PITCH_BEND; a note-on of velocity 0 is a note-off */
  uint8_t channel; /* 0..15 */
  uint8_t data1, data2; /* data2 is 0 for one-byte messages */
} midi_event;

typedef struct midi_song {
  midi_event *events;   /* (n_events) sorted by time, ties in file order (track by track) */
  size_t n_events;
  double end_seconds;   /* time of the last event of any kind, End of Track included */
  int format;           /* 0 or 1 */
  int n_tracks;
  size_t n_notes;       /* note-ons with velocity > 0 */
  uint16_t note_channels; /* bit c set: channel c plays at least one note */
  int first_program[MIDI_CHANNELS]; /* program in effect at the channel's first note (0 if none set) */
} midi_song;

/* Parses an SMF held in memory. name is used in messages. On error *out is
 * empty and err says what is wrong (CHORDLET_ERR_PARSE, _RANGE or _NO_MEMORY). */
chordlet_status midi_parse(const unsigned char *data, size_t n, const char *name, midi_song *out,
                           chordlet_error *err);

/* Frees the events and empties song. Safe on an empty or zeroed song. */
void midi_song_free(midi_song *song);

#endif
