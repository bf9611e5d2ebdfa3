/* live_view.h: what `chordlet live` shows.
 *  - terminal (stdout is a terminal): a full-screen view on the alternate
 *    screen, redrawn ten times a second and on every change: a header (model,
 *    device, rate, latency), the chord in block letters as large as the
 *    window allows, a confidence bar, a timeline of the last seconds with the
 *    chords on it, and the recent changes with their times. It follows the
 *    window's size (80x24 and up);
 *  - lines (stdout is not a terminal): one line per change;
 *  - JSON (--json): one object per change; the header goes to stderr.
 * Chord names are lead-sheet spellings ("C#m7") or Harte labels ("C#:min7"),
 * as asked; JSON always carries the Harte label in "chord" and the chosen
 * spelling in "label". Thread: main. */
#ifndef CHORDLET_APP_LIVE_VIEW_H
#define CHORDLET_APP_LIVE_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "chordlet.h"

typedef enum live_view_mode { LIVE_VIEW_TERMINAL, LIVE_VIEW_LINES, LIVE_VIEW_JSON } live_view_mode;

enum { LIVE_VIEW_HISTORY = 64 };

typedef struct live_view {
  live_view_mode mode;
  chordlet_spelling spelling;
  FILE *out;
  chordlet_event history[LIVE_VIEW_HISTORY]; /* newest last */
  int n_history;
  char title[512], subtitle[256];
  double audio_seconds; /* audio heard so far: the timeline's "now" */
  double latency;
  double hop_ms;
  double tuning_hz;     /* the A4 shown in the header; 0 before the first */
  int tuning_auto;
  double last_draw;     /* wall clock of the last full redraw */
} live_view;

void live_view_init(live_view *v, live_view_mode mode, chordlet_spelling spelling, FILE *out);
void live_view_header(live_view *v, const char *model, const char *device, double rate, int channel,
                      double latency_ms, double hop_ms);
void live_view_event(live_view *v, const chordlet_event *e);
/* The reference pitch in use (chordlet_stream_tuning): in the header; piped,
 * a line when it moves by a cent or more. */
void live_view_tuning(live_view *v, double a4_hz, int automatic);
/* Time passes (audio_seconds heard): the terminal view scrolls its timeline. */
void live_view_tick(live_view *v, double audio_seconds);
void live_view_end(live_view *v, double seconds, unsigned long long frames_dropped);

#endif
