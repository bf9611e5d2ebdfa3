/*
 * chordlet_ui.c: the chord display of chordlet.lv2, an LV2 X11 UI drawn with
 * cairo (no toolkit) into an image put on the window with XPutImage. It shows the current chord in large type (the
 * lead-sheet name, and the Harte label under it), a confidence bar, and a
 * scrolling history of the last chords on a time axis. It talks to the plugin
 * only through ports: the control outputs (chord, confidence) and the notify
 * port's chordlet:ChordChange objects (ui:portNotification in the Turtle).
 *
 * The host embeds the window (ui:parent) and calls idle() (ui:idleInterface)
 * from its GUI thread: X events are handled and the window redrawn there, so
 * the UI needs no thread of its own and every open/close pairs up cleanly
 * (tested 50 times under valgrind). The window follows the host's resizes.
 *
 * CHORDLET_UI_LOG=FILE makes the UI append a line per redraw saying what it
 * drew (the test's way to check a screenshot without OCR).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* M_PI */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <cairo.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chordlet.h"
#include "uris.h"

#define CHORDLET_UI_URI CHORDLET_URI "#ui"

enum { HISTORY = 48, HISTORY_SECONDS = 30, DEFAULT_W = 520, DEFAULT_H = 300 };

typedef struct history_item {
  int chord;
  double time;
  char label[CHORDLET_NAME_MAX];
} history_item;

typedef struct ui {
  Display *display;
  Window window;
  GC gc;
  Visual *visual;
  int depth;
  /* Drawn in memory, then put on the window with XPutImage: no cairo-xlib,
   * whose per-display state outlives a closed UI in cairo 1.16. */
  cairo_surface_t *surface; /* (height, width) image, resized with the window */
  int width, height;
  LV2_URID_Map *map;
  chordlet_uris uris;
  uint32_t port_chord, port_confidence, port_notify; /* indices in this plugin variant */

  int chord; /* -1 before the first */
  float confidence;
  history_item history[HISTORY];
  int n_history;
  bool dirty;
  FILE *log;
} ui;

/* ---------------------------------------------------------------- drawing */

static void rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r) {
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
  cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
  cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
  cairo_close_path(cr);
}

/* Hue by root, as the --plot pictures; grey for N and X. */
static void chord_colour(int cls, double *r, double *g, double *b) {
  if (cls < 0 || cls >= CHORDLET_CHORD_X) {
    *r = *g = *b = 0.35;
    return;
  }
  const double h6 = (cls / 14) / 2.0, c = 0.5, x = c * (1 - fabs(fmod(h6, 2) - 1)), m = 0.25;
  double rr = 0, gg = 0, bb = 0;
  if (h6 < 1) rr = c, gg = x;
  else if (h6 < 2) rr = x, gg = c;
  else if (h6 < 3) gg = c, bb = x;
  else if (h6 < 4) gg = x, bb = c;
  else if (h6 < 5) rr = x, bb = c;
  else rr = c, bb = x;
  *r = rr + m, *g = gg + m, *b = bb + m;
}

static void draw(ui *u) {
  if (u->surface && (cairo_image_surface_get_width(u->surface) != u->width ||
                     cairo_image_surface_get_height(u->surface) != u->height)) {
    cairo_surface_destroy(u->surface);
    u->surface = NULL;
  }
  if (!u->surface) u->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, u->width, u->height);
  if (cairo_surface_status(u->surface) != CAIRO_STATUS_SUCCESS) return;
  cairo_t *cr = cairo_create(u->surface);
  const double W = u->width, H = u->height;
  cairo_set_source_rgb(cr, 0.10, 0.11, 0.13);
  cairo_paint(cr);

  char label[CHORDLET_NAME_MAX] = "...", harte[32] = "waiting for audio";
  if (u->chord >= 0) {
    chordlet_chord_name(u->chord, CHORDLET_SPELLING_FRIENDLY, label, sizeof label);
    chordlet_chord_name(u->chord, CHORDLET_SPELLING_HARTE, harte, sizeof harte);
  }
  /* The chord: as large as the upper 55 % of the window allows. */
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  double size = H * 0.40;
  cairo_set_font_size(cr, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, label, &ext);
  if (ext.width > W * 0.9) {
    size *= W * 0.9 / ext.width;
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, label, &ext);
  }
  cairo_set_source_rgb(cr, 0.95, 0.95, 0.92);
  cairo_move_to(cr, (W - ext.width) / 2 - ext.x_bearing, H * 0.08 - ext.y_bearing);
  cairo_show_text(cr, label);
  const double below = H * 0.08 + ext.height;

  cairo_select_font_face(cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, fmax(10, H * 0.06));
  cairo_text_extents(cr, harte, &ext);
  cairo_set_source_rgb(cr, 0.65, 0.68, 0.72);
  cairo_move_to(cr, (W - ext.width) / 2 - ext.x_bearing, below + H * 0.04 - ext.y_bearing);
  cairo_show_text(cr, harte);

  /* confidence bar */
  const double bar_y = H * 0.62, bar_h = fmax(6, H * 0.045), bar_x = W * 0.08, bar_w = W * 0.84;
  cairo_set_source_rgb(cr, 0.22, 0.23, 0.26);
  rounded_rect(cr, bar_x, bar_y, bar_w, bar_h, bar_h / 2);
  cairo_fill(cr);
  const double conf = u->chord >= 0 ? fmin(1, fmax(0, u->confidence)) : 0;
  if (conf > 0) {
    cairo_set_source_rgb(cr, 0.30 + 0.5 * (1 - conf), 0.75 * conf + 0.2, 0.35);
    rounded_rect(cr, bar_x, bar_y, fmax(bar_h, bar_w * conf), bar_h, bar_h / 2);
    cairo_fill(cr);
  }

  /* history: the last HISTORY_SECONDS of chord changes on a time axis */
  const double hy = H * 0.74, hh = H * 0.16, hx0 = W * 0.04, hx1 = W * 0.96;
  const double now = u->n_history ? u->history[u->n_history - 1].time + 2.0 : HISTORY_SECONDS;
  const double t0 = now - HISTORY_SECONDS, px = (hx1 - hx0) / HISTORY_SECONDS;
  cairo_set_font_size(cr, fmax(9, hh * 0.42));
  for (int i = 0; i < u->n_history; i++) {
    const history_item *h = &u->history[i];
    const double end = i + 1 < u->n_history ? u->history[i + 1].time : now;
    if (end < t0) continue;
    const double xa = hx0 + (fmax(h->time, t0) - t0) * px, xb = hx0 + (end - t0) * px;
    double r, g, b;
    chord_colour(h->chord, &r, &g, &b);
    cairo_set_source_rgb(cr, r, g, b);
    cairo_rectangle(cr, xa, hy, fmax(1, xb - xa - 1), hh);
    cairo_fill(cr);
    cairo_text_extents(cr, h->label, &ext);
    if (ext.width + 4 < xb - xa) {
      cairo_set_source_rgb(cr, 0.98, 0.98, 0.98);
      cairo_move_to(cr, xa + 2, hy + hh / 2 + ext.height / 2);
      cairo_show_text(cr, h->label);
    }
  }
  /* time ticks every 5 s of audio */
  cairo_set_source_rgb(cr, 0.55, 0.57, 0.6);
  cairo_set_line_width(cr, 1);
  cairo_set_font_size(cr, fmax(8, H * 0.035));
  for (double t = ceil(t0 / 5) * 5; t <= now; t += 5) {
    if (t < 0) continue;
    const double x = hx0 + (t - t0) * px;
    cairo_move_to(cr, x + 0.5, hy + hh);
    cairo_line_to(cr, x + 0.5, hy + hh + 4);
    cairo_stroke(cr);
    char tick[16];
    snprintf(tick, sizeof tick, "%d:%02d", (int)t / 60, (int)t % 60);
    cairo_move_to(cr, x - 10, hy + hh + 4 + fmax(8, H * 0.035));
    cairo_show_text(cr, tick);
  }
  cairo_destroy(cr);
  cairo_surface_flush(u->surface);
  /* cairo's RGB24 is 32 bits per pixel, native order: what a 24-bit
   * TrueColor ZPixmap holds */
  XImage *image = XCreateImage(u->display, u->visual, (unsigned)u->depth, ZPixmap, 0,
                               (char *)cairo_image_surface_get_data(u->surface), (unsigned)u->width,
                               (unsigned)u->height, 32, cairo_image_surface_get_stride(u->surface));
  if (image) {
    XPutImage(u->display, u->window, u->gc, image, 0, 0, 0, 0, (unsigned)u->width, (unsigned)u->height);
    image->data = NULL; /* cairo's memory: XDestroyImage must not free it */
    XDestroyImage(image);
  }
  XFlush(u->display);
  if (u->log) {
    fprintf(u->log, "drew label=%s harte=%s confidence=%.3f history=%d size=%dx%d\n", label, harte, conf,
            u->n_history, u->width, u->height);
    fflush(u->log);
  }
  u->dirty = false;
}

/* -------------------------------------------------------------- LV2 UI */

static LV2UI_Handle instantiate(const LV2UI_Descriptor *descriptor, const char *plugin_uri, const char *bundle_path,
                                LV2UI_Write_Function write_function, LV2UI_Controller controller,
                                LV2UI_Widget *widget, const LV2_Feature *const *features) {
  (void)descriptor;
  (void)bundle_path;
  (void)write_function;
  (void)controller;
  void *parent = NULL;
  LV2UI_Resize *resize = NULL;
  LV2_URID_Map *map = NULL;
  for (int i = 0; features && features[i]; i++) {
    if (strcmp(features[i]->URI, LV2_UI__parent) == 0) parent = features[i]->data;
    else if (strcmp(features[i]->URI, LV2_UI__resize) == 0) resize = features[i]->data;
    else if (strcmp(features[i]->URI, LV2_URID__map) == 0) map = features[i]->data;
  }
  if (!map) {
    fprintf(stderr, "chordlet UI: the host lacks urid:map\n");
    return NULL;
  }
  ui *u = calloc(1, sizeof *u);
  if (!u) return NULL;
  u->display = XOpenDisplay(NULL);
  if (!u->display) {
    fprintf(stderr, "chordlet UI: cannot open the X display\n");
    free(u);
    return NULL;
  }
  u->map = map;
  chordlet_map_uris(map, &u->uris);
  const uint32_t audio = strcmp(plugin_uri, CHORDLET_STEREO_URI) == 0 ? 4 : 2;
  /* control, notify, midi_out, threshold, smoothing, chord, root, quality, bass, confidence, latency */
  u->port_notify = audio + 1;
  u->port_chord = audio + 5;
  u->port_confidence = audio + 9;
  u->chord = -1;
  u->width = DEFAULT_W;
  u->height = DEFAULT_H;
  const char *log = getenv("CHORDLET_UI_LOG");
  if (log && *log) u->log = fopen(log, "a");

  const int screen = DefaultScreen(u->display);
  Window parent_window = parent ? (Window)(uintptr_t)parent : RootWindow(u->display, screen);
  u->window = XCreateSimpleWindow(u->display, parent_window, 0, 0, (unsigned)u->width, (unsigned)u->height, 0,
                                  BlackPixel(u->display, screen), BlackPixel(u->display, screen));
  XSelectInput(u->display, u->window, ExposureMask | StructureNotifyMask);
  XStoreName(u->display, u->window, "chordlet");
  XSizeHints hints = {.flags = PMinSize, .min_width = 200, .min_height = 120};
  XSetWMNormalHints(u->display, u->window, &hints);
  XMapRaised(u->display, u->window);
  u->visual = DefaultVisual(u->display, screen);
  u->depth = DefaultDepth(u->display, screen);
  u->gc = XCreateGC(u->display, u->window, 0, NULL);
  /* The host will embed and resize the window through its own connection as
   * soon as we return: the server must have made it by then. */
  XSync(u->display, False);
  if (resize) resize->ui_resize(resize->handle, u->width, u->height);
  *widget = (LV2UI_Widget)(uintptr_t)u->window;
  u->dirty = true;
  return u;
}

static void cleanup(LV2UI_Handle handle) {
  ui *u = handle;
  if (u->surface) cairo_surface_destroy(u->surface);
  XFreeGC(u->display, u->gc);
  XDestroyWindow(u->display, u->window);
  XCloseDisplay(u->display);
  if (u->log) fclose(u->log);
  free(u);
}

static void push_history(ui *u, int chord, double time, const char *label) {
  if (u->n_history == HISTORY) {
    memmove(u->history, u->history + 1, sizeof u->history[0] * (HISTORY - 1));
    u->n_history--;
  }
  /* a new stream (model swap, restart) starts its times again */
  if (u->n_history && time < u->history[u->n_history - 1].time) u->n_history = 0;
  history_item *h = &u->history[u->n_history++];
  h->chord = chord;
  h->time = time;
  snprintf(h->label, sizeof h->label, "%s", label);
}

static void port_event(LV2UI_Handle handle, uint32_t port, uint32_t size, uint32_t format, const void *buffer) {
  ui *u = handle;
  if (format == 0 && size == sizeof(float)) {
    const float v = *(const float *)buffer;
    if (port == u->port_chord && v >= 0 && v < CHORDLET_N_CHORDS && (int)v != u->chord) {
      u->chord = (int)v;
      u->dirty = true;
    } else if (port == u->port_confidence && isfinite(v) && v != u->confidence) {
      u->confidence = v;
      u->dirty = true;
    }
    return;
  }
  if (format != u->uris.atom_eventTransfer || port != u->port_notify || size < sizeof(LV2_Atom)) return;
  const LV2_Atom *atom = buffer;
  if (atom->type != u->uris.atom_Object) return;
  const LV2_Atom_Object *obj = (const LV2_Atom_Object *)atom;
  if (obj->body.otype != u->uris.ChordChange) return;
  const LV2_Atom *chord = NULL, *label = NULL, *time = NULL, *confidence = NULL;
  lv2_atom_object_get(obj, u->uris.chord, &chord, u->uris.label, &label, u->uris.time, &time, u->uris.confidence,
                      &confidence, 0);
  if (!chord || chord->type != u->uris.atom_Int || !time || time->type != u->uris.atom_Double) return;
  const int c = ((const LV2_Atom_Int *)chord)->body;
  if (c < 0 || c >= CHORDLET_N_CHORDS) return;
  char name[CHORDLET_NAME_MAX];
  if (label && label->type == u->uris.atom_String && label->size <= sizeof name) {
    memcpy(name, LV2_ATOM_BODY_CONST(label), label->size);
    name[sizeof name - 1] = '\0';
  } else {
    chordlet_chord_name(c, CHORDLET_SPELLING_FRIENDLY, name, sizeof name);
  }
  push_history(u, c, ((const LV2_Atom_Double *)time)->body, name);
  u->chord = c;
  if (confidence && confidence->type == u->uris.atom_Float) u->confidence = ((const LV2_Atom_Float *)confidence)->body;
  u->dirty = true;
}

static int idle(LV2UI_Handle handle) {
  ui *u = handle;
  while (XPending(u->display) > 0) {
    XEvent e;
    XNextEvent(u->display, &e);
    if (e.type == Expose) {
      u->dirty = true;
    } else if (e.type == ConfigureNotify &&
               (e.xconfigure.width != u->width || e.xconfigure.height != u->height)) {
      u->width = e.xconfigure.width;
      u->height = e.xconfigure.height;
      u->dirty = true; /* draw() makes an image of the new size */
    }
  }
  if (u->dirty) draw(u);
  return 0;
}

static int ui_resize(LV2UI_Handle handle, int width, int height) {
  ui *u = handle;
  XResizeWindow(u->display, u->window, (unsigned)width, (unsigned)height);
  XFlush(u->display);
  return 0;
}

static const void *extension_data(const char *uri) {
  static const LV2UI_Idle_Interface idle_iface = {idle};
  static const LV2UI_Resize resize_iface = {NULL, ui_resize};
  if (strcmp(uri, LV2_UI__idleInterface) == 0) return &idle_iface;
  if (strcmp(uri, LV2_UI__resize) == 0) return &resize_iface;
  return NULL;
}

static const LV2UI_Descriptor descriptor = {CHORDLET_UI_URI, instantiate, cleanup, port_event, extension_data};

LV2_SYMBOL_EXPORT const LV2UI_Descriptor *lv2ui_descriptor(uint32_t index) { return index == 0 ? &descriptor : NULL; }
