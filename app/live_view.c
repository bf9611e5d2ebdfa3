/* live_view.c: the readout of `chordlet live` (live_view.h). */
#define _POSIX_C_SOURCE 200809L
#include "live_view.h"

#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "big_font.h"
#include "json_writer.h"

enum { TIMELINE_SECONDS = 20 };

static double wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *display_name(const live_view *v, const chordlet_event *e) {
  return v->spelling == CHORDLET_SPELLING_FRIENDLY ? e->label : e->name;
}

void live_view_init(live_view *v, live_view_mode mode, chordlet_spelling spelling, FILE *out) {
  memset(v, 0, sizeof *v);
  v->mode = mode;
  v->spelling = spelling;
  v->out = out;
}

static void format_time(double t, char *out, size_t n) {
  if (t < 0) t = 0;
  int minutes = (int)(t / 60);
  snprintf(out, n, "%d:%04.1f", minutes, t - 60.0 * minutes);
}

/* ----------------------------------------------------- the full screen */

static void window_size(const live_view *v, int *rows, int *cols) {
  struct winsize ws;
  *rows = 24;
  *cols = 80;
  if (ioctl(fileno(v->out), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    *rows = ws.ws_row;
    *cols = ws.ws_col;
  }
}

/* Prints at most `width` columns of an ASCII string, then clears the line. */
static void put_line(FILE *out, int row, const char *text, int width) {
  fprintf(out, "\033[%d;1H%.*s\033[K", row, width > 0 ? width : 0, text);
}

static void draw(live_view *v) {
  int rows, cols;
  window_size(v, &rows, &cols);
  FILE *o = v->out;
  char line[4096];
  fputs("\033[?25l", o); /* hide the cursor while drawing */
  put_line(o, 1, v->title, cols);
  put_line(o, 2, v->subtitle, cols);
  int width = cols < (int)sizeof line - 1 ? cols : (int)sizeof line - 1;
  memset(line, '-', (size_t)width);
  line[width] = '\0';
  put_line(o, 3, line, cols);

  const chordlet_event *now = v->n_history ? &v->history[v->n_history - 1] : NULL;
  const char *name = now ? display_name(v, now) : "...";
  /* The largest whole scale that fits: 12 rows for the rest of the view. */
  int scale = 1;
  while (scale < 6 && big_font_width(name, scale + 1) <= cols - 4 && 5 * (scale + 1) <= rows - 13) scale++;
  int row = 5;
  put_line(o, 4, "", cols);
  if (big_font_width(name, 1) <= cols - 2 && rows >= 18) {
    const int pad = (cols - big_font_width(name, scale)) / 2;
    for (int r = 0; r < 5 * scale; r++) {
      char glyphs[4096];
      big_font_row(name, scale, r, glyphs, sizeof glyphs);
      fprintf(o, "\033[%d;1H\033[K\033[%dG\033[1m%s\033[0m", row++, pad > 0 ? pad + 1 : 1, glyphs);
    }
  } else { /* too small for block letters: the name in bold */
    fprintf(o, "\033[%d;1H\033[K  \033[1m%s\033[0m", row++, name);
  }
  put_line(o, row++, "", cols);

  /* confidence bar */
  const int bar = cols - 24 > 10 ? (cols - 24 < 1000 ? cols - 24 : 1000) : 10;
  const float conf = now ? now->confidence : 0;
  char bar_text[1024];
  int filled = (int)lroundf(conf * (float)bar);
  if (filled > bar) filled = bar;
  if (filled < 0) filled = 0;
  memset(bar_text, '#', (size_t)filled);
  memset(bar_text + filled, '.', (size_t)(bar - filled));
  bar_text[bar] = '\0';
  snprintf(line, sizeof line, "  confidence [%s] %3.0f%%", bar_text, 100.0 * conf);
  put_line(o, row++, line, cols);
  put_line(o, row++, "", cols);

  /* timeline: the last TIMELINE_SECONDS, one column per slice, each chord's
   * name written from where it starts; "|" marks a change */
  const int span_cols = cols - 4 > 10 ? (cols - 4 < 1000 ? cols - 4 : 1000) : 10;
  const double t_end = v->audio_seconds - v->latency, t_start = t_end - TIMELINE_SECONDS;
  snprintf(line, sizeof line, "  the last %d s (the readout lags the audio by %.0f ms):", TIMELINE_SECONDS,
           1e3 * v->latency);
  put_line(o, row++, line, cols);
  char tl[1024];
  memset(tl, ' ', (size_t)span_cols);
  tl[span_cols] = '\0';
  for (int i = 0; i < v->n_history; i++) {
    const chordlet_event *e = &v->history[i];
    const double next = i + 1 < v->n_history ? v->history[i + 1].time : t_end;
    if (next < t_start || e->time > t_end) continue;
    int c0 = (int)((e->time - t_start) / TIMELINE_SECONDS * span_cols);
    int c1 = (int)((next - t_start) / TIMELINE_SECONDS * span_cols);
    if (c0 < 0) c0 = 0;
    if (c1 > span_cols) c1 = span_cols;
    if (c0 >= span_cols) continue;
    tl[c0] = '|';
    const char *n = display_name(v, e);
    for (int k = 0; n[k] && c0 + 1 + k < c1; k++) tl[c0 + 1 + k] = n[k];
  }
  snprintf(line, sizeof line, "  %s", tl);
  put_line(o, row++, line, cols);
  memset(line, ' ', 2);
  memset(line + 2, '-', (size_t)span_cols);
  line[2 + span_cols] = '\0';
  put_line(o, row++, line, cols);
  put_line(o, row++, "", cols);

  /* the recent changes, newest first, as many lines as are left */
  put_line(o, row++, "  recent changes:", cols);
  int i = v->n_history - 1;
  while (row < rows) {
    size_t at = 0;
    line[0] = '\0';
    at += (size_t)snprintf(line, sizeof line, "  ");
    while (i >= 0) {
      char t[16], item[64];
      format_time(v->history[i].time, t, sizeof t);
      int n = snprintf(item, sizeof item, "%s %-8s  ", t, display_name(v, &v->history[i]));
      if ((int)at + n > cols) break;
      memcpy(line + at, item, (size_t)n + 1);
      at += (size_t)n;
      i--;
    }
    put_line(o, row++, line, cols);
  }
  fprintf(o, "\033[%d;1H", rows);
  fflush(o);
  v->last_draw = wall_seconds();
}

/* The header's second line: latency and the reference pitch in use. */
static void write_subtitle(live_view *v) {
  char tuning[96] = "";
  if (v->tuning_hz > 0)
    snprintf(tuning, sizeof tuning, "; A4 = %.1f Hz (%+.0f cents, %s)", v->tuning_hz,
             1200.0 * log2(v->tuning_hz / 440.0), v->tuning_auto ? "following the music" : "fixed");
  snprintf(v->subtitle, sizeof v->subtitle,
           "latency %.0f ms (chord changes show this long after they sound; %.0f ms hops)%s; Ctrl-C stops",
           1e3 * v->latency, v->hop_ms, tuning);
}

void live_view_tuning(live_view *v, double a4_hz, int automatic) {
  /* Changes under 1 cent are not news. */
  if (v->tuning_hz > 0 && fabs(1200.0 * log2(a4_hz / v->tuning_hz)) < 1.0 && automatic == v->tuning_auto) return;
  const int first = v->tuning_hz == 0;
  v->tuning_hz = a4_hz;
  v->tuning_auto = automatic;
  write_subtitle(v);
  if (v->mode == LIVE_VIEW_LINES && !first) {
    fprintf(v->out, "tuning: A4 = %.1f Hz (%+.0f cents)\n", a4_hz, 1200.0 * log2(a4_hz / 440.0));
    fflush(v->out);
  }
}

/* ------------------------------------------------------------- modes */

void live_view_header(live_view *v, const char *model, const char *device, double rate, int channel,
                      double latency_ms, double hop_ms) {
  v->latency = latency_ms / 1e3;
  snprintf(v->title, sizeof v->title, "chordlet live: model %s; %s; %.0f Hz; %s", model, device, rate,
           channel > 0 ? (channel == 1 ? "channel 1" : "channel 2") : "the mix of the inputs");
  v->hop_ms = hop_ms;
  v->tuning_hz = 0; /* not known yet: live_view_tuning fills it in */
  write_subtitle(v);
  if (v->mode == LIVE_VIEW_TERMINAL) {
    fputs("\033[?1049h\033[2J", v->out); /* the alternate screen: the shell's screen comes back at the end */
    draw(v);
    return;
  }
  FILE *h = v->mode == LIVE_VIEW_JSON ? stderr : v->out;
  fprintf(h, "%s\n%s\n", v->title, v->subtitle);
  fflush(h);
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
    json_number_digits(&w, "time", e->time, 10);
    json_number_digits(&w, "decided", e->decided, 10);
    json_string(&w, "chord", e->name);
    json_string(&w, "label", display_name(v, e));
    json_int(&w, "index", e->chord);
    json_int(&w, "root", e->root);
    json_int(&w, "quality", e->quality);
    json_number_digits(&w, "confidence", e->confidence, 4);
    json_number_digits(&w, "tuning_hz", e->tuning_hz, 6);
    json_object_close(&w);
    json_end(&w);
    fflush(v->out);
  } else if (v->mode == LIVE_VIEW_LINES) {
    char t[16];
    format_time(e->time, t, sizeof t);
    fprintf(v->out, "%10s  %-10s  %3.0f%%\n", t, display_name(v, e), 100.0 * e->confidence);
    fflush(v->out);
  } else {
    draw(v);
  }
}

void live_view_tick(live_view *v, double audio_seconds) {
  v->audio_seconds = audio_seconds;
  if (v->mode == LIVE_VIEW_TERMINAL && wall_seconds() - v->last_draw >= 0.1) draw(v);
}

void live_view_end(live_view *v, double seconds, unsigned long long frames_dropped) {
  if (v->mode == LIVE_VIEW_TERMINAL) {
    fputs("\033[?25h\033[?1049l", v->out); /* cursor back, the shell's screen back */
    fflush(v->out);
  }
  FILE *h = v->mode == LIVE_VIEW_LINES ? v->out : stderr;
  fprintf(h, "chordlet live: %.1f s of audio", seconds);
  if (frames_dropped) fprintf(h, "; %llu feature frames lost (the machine fell behind)", frames_dropped);
  fputc('\n', h);
  fflush(h);
}
