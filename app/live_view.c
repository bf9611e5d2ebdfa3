/* live_view.c: the readout of `chordlet live` (live_view.h). */
#include "live_view.h"

#include <string.h>

#include "json_writer.h"

void live_view_init(live_view *v, live_view_mode mode, FILE *out) {
  memset(v, 0, sizeof *v);
  v->mode = mode;
  v->out = out;
}

void live_view_header(live_view *v, const char *model, const char *device, double rate, int channel,
                      double latency_ms, double hop_ms) {
  FILE *h = v->mode == LIVE_VIEW_JSON ? stderr : v->out;
  fprintf(h, "chordlet live: model %s; %s; %.0f Hz; listening to %s\n", model, device, rate,
          channel > 0 ? (channel == 1 ? "channel 1" : "channel 2") : "the mix of the inputs");
  fprintf(h, "latency %.0f ms (chord changes show this long after they sound; %.0f ms hops); Ctrl-C stops\n",
          latency_ms, hop_ms);
  fflush(h);
}

static void format_time(double t, char *out, size_t n) {
  int minutes = (int)(t / 60);
  snprintf(out, n, "%d:%04.1f", minutes, t - 60.0 * minutes);
}

static void draw_terminal(live_view *v) {
  const chordlet_event *now = &v->history[v->n_history - 1];
  const int bar = (int)(now->confidence * 20 + 0.5f);
  char bars[64] = "";
  for (int i = 0; i < 20; i++) strcat(bars, i < bar ? "#" : ".");
  /* \r and erase-line: one line, redrawn; bold chord name */
  fprintf(v->out, "\r\033[K  \033[1m%-10s\033[0m [%s] %3.0f%%   ", now->name, bars, 100.0 * now->confidence);
  for (int i = v->n_history - 2; i >= 0; i--) {
    char t[16];
    format_time(v->history[i].time, t, sizeof t);
    fprintf(v->out, " %s %s", t, v->history[i].name);
  }
  fflush(v->out);
}

void live_view_event(live_view *v, const chordlet_event *e) {
  if (v->n_history == LIVE_VIEW_HISTORY) {
    memmove(v->history, v->history + 1, sizeof v->history[0] * (LIVE_VIEW_HISTORY - 1));
    v->n_history--;
  }
  v->history[v->n_history++] = *e;
  if (v->mode == LIVE_VIEW_JSON) {
    json_writer w;
    json_begin(&w, v->out);
    json_object_open(&w, NULL);
    json_number(&w, "time", e->time);
    json_number(&w, "decided", e->decided);
    json_string(&w, "chord", e->name);
    json_int(&w, "index", e->chord);
    json_int(&w, "root", e->root);
    json_int(&w, "quality", e->quality);
    json_number(&w, "confidence", e->confidence);
    json_object_close(&w);
    json_end(&w);
    fflush(v->out);
  } else if (v->mode == LIVE_VIEW_LINES) {
    char t[16];
    format_time(e->time, t, sizeof t);
    fprintf(v->out, "%10s  %-10s  %3.0f%%\n", t, e->name, 100.0 * e->confidence);
    fflush(v->out);
  } else {
    draw_terminal(v);
  }
}

void live_view_end(live_view *v, double seconds, unsigned long long frames_dropped) {
  FILE *h = v->mode == LIVE_VIEW_JSON ? stderr : v->out;
  if (v->mode == LIVE_VIEW_TERMINAL) fputc('\n', h);
  fprintf(h, "chordlet live: %.1f s of audio", seconds);
  if (frames_dropped) fprintf(h, "; %llu feature frames lost (the machine fell behind)", frames_dropped);
  fputc('\n', h);
  fflush(h);
}
