/*
 * midi_render.h: playing a parsed MIDI song through libfluidsynth into a mono
 * float buffer, with the variations the trainer wants (programs, tempo,
 * velocities, drums, reverb and chorus).
 *
 * Timing. Every event time t (seconds on the file's timeline) becomes
 * t / tempo_factor on the output's timeline, and the event is sent to the
 * synth at the 64-sample block boundary nearest to it (fluidsynth starts
 * notes only at its internal block boundaries): the error is at most 32
 * samples (1.5 ms at 22050 Hz), plus each instrument's attack. The caller
 * divides the .lab times by the same tempo_factor, so labels and audio stay
 * aligned exactly as the original file's were.
 *
 * Determinism. Each render makes a fresh synth (no state carried over from
 * an earlier song), with one rendering thread (synth.cpu-cores 1) and no
 * audio driver: the same song, parameters and soundfont give the same
 * samples whatever ran before, in whichever process.
 *
 * Thread: one render per thread at a time (fluidsynth's log hook, set by
 * midi_render_init, is process-wide). The trainer runs renders in worker
 * processes, one at a time each.
 */
#ifndef CHORDLET_TRAINER_MIDI_RENDER_H
#define CHORDLET_TRAINER_MIDI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"
#include "midi_file.h"

enum {
  GM_BASS_FIRST = 32, /* General MIDI programs 33-40 (0-based 32-39) are basses */
  GM_BASS_LAST = 39,
};

typedef struct synth_params {
  const char *soundfont;  /* path of an .sf2/.sf3 file */
  double sample_rate;     /* Hz, 8000..96000 */
  double tempo_factor;    /* > 0: the song plays this many times faster; every time is divided by it */
  /* The program each melodic channel plays throughout, replacing the file's
   * program and bank changes; -1 keeps the file's. Not applied to the drum
   * channel, nor to a channel the file plays as a bass (GM 32-39 at its
   * first note), which keeps its bass line a bass. */
  int programs[MIDI_CHANNELS];
  bool drums;             /* false: the drum channel (10) is silent, unless nothing else plays */
  int velocity_jitter;    /* each note-on's velocity moves by a uniform integer in [-j, j], kept in 1..127 */
  uint64_t velocity_seed;
  bool reverb;
  double reverb_roomsize, reverb_damp, reverb_width, reverb_level; /* fluidsynth's ranges: 0-1, 0-1, 0-100, 0-1 */
  int reverb_send;        /* CC 91 set on every channel at the start (the file may change it later) */
  bool chorus;
  int chorus_voices;      /* 1..99 */
  double chorus_level, chorus_speed_hz, chorus_depth_ms;
  int chorus_send;        /* CC 93 */
} synth_params;

/* What a render actually played. */
typedef struct synth_report {
  int programs[MIDI_CHANNELS]; /* the program each channel that has notes started with; -1 silent or drums */
  bool drums_played;
  size_t notes_played;         /* note-ons sent before the end of the buffer */
} synth_report;

/* Routes fluidsynth's log: errors are kept for our messages, warnings and
 * chatter are dropped (a soundfont lacking a program is not worth a line per
 * song). Call once per process before anything else here. Thread: main. */
void midi_render_init(void);

/* Loads a soundfont into a synth that lives until midi_render_unpin: while it
 * does, fluidsynth's sample cache keeps the soundfont's samples in memory, so
 * each render's fresh synth finds them there instead of reading the file
 * again. Checks that the file is a loadable soundfont (the message says why
 * not). fluidsynth loads samples with OpenMP threads: a process that has
 * called this must not fork afterwards (libgomp's threads do not survive a
 * fork, and the child hangs at its next load). Thread: main of a worker. */
chordlet_status midi_render_pin(const char *soundfont, void **pin, chordlet_error *err);
void midi_render_unpin(void *pin);
/* Whether a pinned soundfont holds any preset (a damaged file may load empty). */
bool midi_render_has_presets(void *pin);

/* Renders song into out (n_samples, mono: the mean of the synth's left and
 * right outputs, float, unclipped). Events after the end of the buffer are not
 * played; the audio is cut there. report may be NULL. */
chordlet_status midi_render(const midi_song *song, const synth_params *params, float *out, size_t n_samples,
                            synth_report *report, chordlet_error *err);

/* The fluidsynth version the renders come from ("2.3.1"). */
const char *midi_render_synth_version(void);

#endif
