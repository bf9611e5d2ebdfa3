/* live_view.h: what `chordlet live` shows: a header (model, device, rate,
 * latency), then each chord change as
 *  - a readout redrawn in place on a terminal (the chord, a confidence bar,
 *    the last chords with their times),
 *  - one plain line per change when stdout is not a terminal,
 *  - one JSON object per line with --json (the header then goes to stderr).
 * Thread: main. */
#ifndef CHORDLET_APP_LIVE_VIEW_H
#define CHORDLET_APP_LIVE_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "chordlet.h"

typedef enum live_view_mode { LIVE_VIEW_TERMINAL, LIVE_VIEW_LINES, LIVE_VIEW_JSON } live_view_mode;

enum { LIVE_VIEW_HISTORY = 6 };

typedef struct live_view {
  live_view_mode mode;
  FILE *out;
  chordlet_event history[LIVE_VIEW_HISTORY]; /* newest last */
  int n_history;
} live_view;

void live_view_init(live_view *v, live_view_mode mode, FILE *out);
void live_view_header(live_view *v, const char *model, const char *device, double rate, int channel,
                      double latency_ms, double hop_ms);
void live_view_event(live_view *v, const chordlet_event *e);
void live_view_end(live_view *v, double seconds, unsigned long long frames_dropped);

#endif
