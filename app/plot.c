/* plot.c: chord timelines as pictures (plot.h), drawn with cairo. */
#define _POSIX_C_SOURCE 200809L
#include "plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "atomicfile.h"
#include "error.h"
#include "harte.h"

enum { MARGIN_LEFT = 70, MARGIN_RIGHT = 20, STRIP = 34 };

/* ------------------------------------------------------------ drawing */

static double plot_width(double seconds) {
  double w = MARGIN_LEFT + MARGIN_RIGHT + seconds * 40.0; /* 40 px a second: a chord of 0.5 s has room */
  return w < 800 ? 800 : w > 8000 ? 8000 : w;
}

/* A colour per chord class: hue by root, lightness by quality family, grey
 * for N and X. */
static void chord_colour(int cls, double *r, double *g, double *b) {
  if (cls < 0 || cls >= VOCAB_X) {
    *r = *g = *b = cls == VOCAB_X ? 0.55 : 0.82;
    return;
  }
  const double hue = (cls / 14) / 12.0, light = (cls % 14) % 2 ? 0.62 : 0.48; /* maj-like lighter */
  const double s = 0.55, c = (1 - fabs(2 * light - 1)) * s, h6 = hue * 6, x = c * (1 - fabs(fmod(h6, 2) - 1));
  double rr = 0, gg = 0, bb = 0;
  if (h6 < 1) rr = c, gg = x;
  else if (h6 < 2) rr = x, gg = c;
  else if (h6 < 3) gg = c, bb = x;
  else if (h6 < 4) gg = x, bb = c;
  else if (h6 < 5) rr = x, bb = c;
  else rr = c, bb = x;
  const double m = light - c / 2;
  *r = rr + m, *g = gg + m, *b = bb + m;
}

static int chord_class(const harte_chord *chord) {
  int cls = harte_to_class(chord);
  return cls < 0 ? VOCAB_X : cls;
}

static void time_axis(cairo_t *cr, double x0, double x1, double y, double seconds) {
  const double px = (x1 - x0) / seconds;
  double step = 1;
  while (step * px < 60) step *= step == 1 ? 5 : 2; /* 1, 5, 10, 20, 40 ... s */
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_set_line_width(cr, 1);
  cairo_set_font_size(cr, 11);
  for (double t = 0; t <= seconds + 1e-9; t += step) {
    double x = x0 + t * px;
    cairo_move_to(cr, x + 0.5, y);
    cairo_line_to(cr, x + 0.5, y + 5);
    cairo_stroke(cr);
    char label[32];
    snprintf(label, sizeof label, "%d:%02d", (int)t / 60, (int)t % 60);
    cairo_move_to(cr, x - 12, y + 17);
    cairo_show_text(cr, label);
  }
}

/* One row of chord segments between y and y + STRIP, names where they fit. */
static void chord_strip(cairo_t *cr, const lab_file *lab, double x0, double x1, double y, double seconds,
                        chordlet_spelling spelling, const char *title) {
  const double px = (x1 - x0) / seconds;
  cairo_set_font_size(cr, 12);
  for (size_t i = 0; i < lab->n_segments; i++) {
    const lab_segment *s = &lab->segments[i];
    const int cls = chord_class(&s->chord);
    double r, g, b;
    chord_colour(cls, &r, &g, &b);
    const double xa = x0 + s->start * px, xb = x0 + fmin(s->end, seconds) * px;
    cairo_set_source_rgb(cr, r, g, b);
    cairo_rectangle(cr, xa, y, xb - xa, STRIP);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, xa + 0.5, y);
    cairo_line_to(cr, xa + 0.5, y + STRIP);
    cairo_stroke(cr);
    char name[VOCAB_NAME_MAX];
    if (spelling == CHORDLET_SPELLING_FRIENDLY) vocab_class_friendly(cls, name, sizeof name);
    else harte_format(&s->chord, name, sizeof name);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, name, &ext);
    if (ext.width + 6 < xb - xa) {
      cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
      cairo_move_to(cr, xa + 3, y + STRIP / 2 + 4);
      cairo_show_text(cr, name);
    }
  }
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_set_font_size(cr, 12);
  cairo_move_to(cr, 6, y + STRIP / 2 + 4);
  cairo_show_text(cr, title);
}

/* viridis-like: dark blue -> green -> yellow */
static void heat_colour(double v, unsigned char *rgb) {
  static const double stops[5][3] = {
      {0.27, 0.00, 0.33}, {0.23, 0.32, 0.55}, {0.13, 0.57, 0.55}, {0.37, 0.79, 0.38}, {0.99, 0.91, 0.14}};
  v = v < 0 ? 0 : v > 1 ? 1 : v;
  double f = v * 4;
  int k = (int)f;
  if (k > 3) k = 3;
  f -= k;
  for (int c = 0; c < 3; c++) rgb[c] = (unsigned char)lround(255 * (stops[k][c] + f * (stops[k + 1][c] - stops[k][c])));
}

/* ----------------------------------------------------------- writing */

static int is_svg(const char *path) {
  size_t n = strlen(path);
  return n >= 4 && strcasecmp(path + n - 4, ".svg") == 0;
}

chordlet_status plot_check_path(const char *path, chordlet_error *err) {
  size_t n = path ? strlen(path) : 0;
  if (n < 5 || (strcasecmp(path + n - 4, ".png") != 0 && strcasecmp(path + n - 4, ".svg") != 0))
    return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "a plot is a .png or .svg file, not '%s'",
                         path ? path : "");
  return CHORDLET_OK;
}

typedef struct canvas {
  cairo_surface_t *surface;
  cairo_t *cr;
  atomic_file file;
  int svg;
  double width, height;
  int write_errno; /* why a write failed: cairo only says "error while writing" */
} canvas;

static cairo_status_t write_stream(void *closure, const unsigned char *data, unsigned int length) {
  canvas *c = closure;
  if (fwrite(data, 1, length, c->file.stream) == length) return CAIRO_STATUS_SUCCESS;
  c->write_errno = errno ? errno : EIO;
  return CAIRO_STATUS_WRITE_ERROR;
}

static chordlet_status canvas_open(canvas *c, const char *path, double width, double height, chordlet_error *err) {
  memset(c, 0, sizeof *c);
  chordlet_status st = plot_check_path(path, err);
  if (st) return st;
  c->svg = is_svg(path);
  c->width = width;
  c->height = height;
  if ((st = atomic_file_open(&c->file, path, err))) return st;
  c->surface = c->svg ? cairo_svg_surface_create_for_stream(write_stream, c, width, height)
                      : cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)width, (int)height);
  if (cairo_surface_status(c->surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(c->surface);
    atomic_file_abort(&c->file);
    return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: cannot make a %.0fx%.0f picture", path, width, height);
  }
  c->cr = cairo_create(c->surface);
  cairo_set_source_rgb(c->cr, 1, 1, 1);
  cairo_paint(c->cr);
  cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  return CHORDLET_OK;
}

static chordlet_status canvas_close(canvas *c, const char *path, chordlet_error *err) {
  cairo_status_t s = cairo_status(c->cr);
  cairo_destroy(c->cr);
  if (s == CAIRO_STATUS_SUCCESS) {
    if (c->svg) {
      cairo_surface_finish(c->surface);
      s = cairo_surface_status(c->surface);
    } else {
      s = cairo_surface_write_to_png_stream(c->surface, write_stream, c);
    }
  }
  cairo_surface_destroy(c->surface);
  if (s != CAIRO_STATUS_SUCCESS) {
    atomic_file_abort(&c->file);
    if (s == CAIRO_STATUS_WRITE_ERROR && c->write_errno) /* a full disk: say so */
      return chordlet_fail(err, CHORDLET_ERR_IO, "cannot write %s: %s", path, strerror(c->write_errno));
    return chordlet_fail(err, CHORDLET_ERR_IO, "%s: %s", path, cairo_status_to_string(s));
  }
  return atomic_file_commit(&c->file, err);
}

/* ------------------------------------------------------------- plots */

chordlet_status plot_transcription(const char *path, const float *features, size_t n_frames, int n_bins,
                                   double frame_seconds, const lab_file *chords, double seconds,
                                   chordlet_spelling spelling, const char *title, chordlet_error *err) {
  if (!(seconds > 0)) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "%s: nothing to plot", path);
  const double cqt_height = features && n_bins > 0 ? 2.0 * n_bins : 0;
  const double width = plot_width(seconds), height = 40 + STRIP + 10 + cqt_height + 30;
  canvas c;
  chordlet_status st = canvas_open(&c, path, width, height, err);
  if (st) return st;
  cairo_t *cr = c.cr;
  const double x0 = MARGIN_LEFT, x1 = width - MARGIN_RIGHT;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_font_size(cr, 14);
  cairo_move_to(cr, 10, 22);
  cairo_show_text(cr, title ? title : "");
  chord_strip(cr, chords, x0, x1, 40, seconds, spelling, "chords");
  if (cqt_height > 0 && n_frames > 0) {
    /* The features the model heard: log-magnitude constant-Q, low notes at
     * the bottom, scaled to the 1st..99.5th percentile of the song. */
    const double y0 = 40 + STRIP + 10;
    const size_t total = n_frames * (size_t)n_bins; /* > 0: both checked above */
    float *sorted = malloc(total * sizeof *sorted);  /* (T, n_bins) log magnitudes */
    const int w = (int)(x1 - x0), h = (int)cqt_height;
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (!sorted || cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
      free(sorted);
      cairo_surface_destroy(img);
      canvas_close(&c, path, err);
      return chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "out of memory for the plot");
    }
    int has_negative = 0;
    for (size_t i = 0; i < total; i++) has_negative |= features[i] < 0;
    for (size_t i = 0; i < total; i++) sorted[i] = has_negative ? features[i] : logf(features[i] + 1e-5f);
    /* percentiles by a histogram: no full sort of a long song */
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < total; i++) {
      if (sorted[i] < lo) lo = sorted[i];
      if (sorted[i] > hi) hi = sorted[i];
    }
    enum { BINS = 1024 };
    size_t hist[BINS] = {0};
    for (size_t i = 0; i < total; i++) {
      int k = hi > lo ? (int)((sorted[i] - lo) / (hi - lo) * (BINS - 1)) : 0;
      hist[k]++;
    }
    size_t acc = 0;
    float p_lo = lo, p_hi = hi;
    for (int k = 0, got_lo = 0; k < BINS; k++) {
      acc += hist[k];
      if (!got_lo && acc >= total / 100) p_lo = lo + (hi - lo) * k / (BINS - 1), got_lo = 1;
      if (acc >= total - total / 200) {
        p_hi = lo + (hi - lo) * k / (BINS - 1);
        break;
      }
    }
    cairo_surface_flush(img);
    unsigned char *data = cairo_image_surface_get_data(img);
    const int stride = cairo_image_surface_get_stride(img);
    for (int x = 0; x < w; x++) {
      double t = (double)x / w * seconds;
      size_t frame = (size_t)lround(t / frame_seconds);
      if (frame >= n_frames) frame = n_frames - 1;
      for (int y = 0; y < h; y++) {
        int bin = (int)((double)(h - 1 - y) / h * n_bins);
        float v = sorted[frame * (size_t)n_bins + (size_t)bin];
        unsigned char rgb[3];
        heat_colour(p_hi > p_lo ? (v - p_lo) / (p_hi - p_lo) : 0, rgb);
        uint32_t *px = (uint32_t *)(data + (size_t)y * (size_t)stride) + x;
        *px = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
      }
    }
    cairo_surface_mark_dirty(img);
    cairo_set_source_surface(cr, img, x0, y0);
    cairo_paint(cr);
    cairo_surface_destroy(img);
    free(sorted);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_font_size(cr, 12);
    cairo_move_to(cr, 6, y0 + 14);
    cairo_show_text(cr, "CQT");
    cairo_move_to(cr, 6, y0 + cqt_height - 4);
    cairo_show_text(cr, "(low)");
    time_axis(cr, x0, x1, y0 + cqt_height, seconds);
  } else {
    time_axis(cr, x0, x1, 40 + STRIP, seconds);
  }
  return canvas_close(&c, path, err);
}

chordlet_status plot_comparison(const char *path, const lab_file *reference, const lab_file *estimate,
                                double seconds, chordlet_spelling spelling, const char *title, chordlet_error *err) {
  if (!(seconds > 0)) return chordlet_fail(err, CHORDLET_ERR_INVALID_ARGUMENT, "%s: nothing to plot", path);
  const double width = plot_width(seconds), height = 40 + 3 * (STRIP + 8) + 50;
  canvas c;
  chordlet_status st = canvas_open(&c, path, width, height, err);
  if (st) return st;
  cairo_t *cr = c.cr;
  const double x0 = MARGIN_LEFT, x1 = width - MARGIN_RIGHT, px = (x1 - x0) / seconds;
  chord_strip(cr, reference, x0, x1, 40, seconds, spelling, "reference");
  chord_strip(cr, estimate, x0, x1, 40 + STRIP + 8, seconds, spelling, "estimate");
  /* errors: where the two name different vocabulary chords (a 10 ms grid) */
  const double ye = 40 + 2 * (STRIP + 8);
  double wrong = 0, judged = 0;
  size_t ir = 0, ie = 0;
  for (double t = 0.005; t < seconds; t += 0.01) {
    while (ir < reference->n_segments && reference->segments[ir].end <= t) ir++;
    while (ie < estimate->n_segments && estimate->segments[ie].end <= t) ie++;
    int r = ir < reference->n_segments && reference->segments[ir].start <= t ? chord_class(&reference->segments[ir].chord)
                                                                             : VOCAB_N;
    int e = ie < estimate->n_segments && estimate->segments[ie].start <= t ? chord_class(&estimate->segments[ie].chord)
                                                                           : VOCAB_N;
    if (r == VOCAB_X) continue; /* mir_eval leaves out what the vocabulary cannot name */
    judged += 0.01;
    if (r != e) {
      wrong += 0.01;
      cairo_set_source_rgb(cr, 0.85, 0.1, 0.1);
      cairo_rectangle(cr, x0 + (t - 0.005) * px, ye, 0.01 * px + 0.5, STRIP / 2);
      cairo_fill(cr);
    }
  }
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_set_font_size(cr, 12);
  cairo_move_to(cr, 6, ye + 13);
  cairo_show_text(cr, "errors");
  char line[512];
  snprintf(line, sizeof line, "%s   (red: the estimate names another chord; %.1f%% of %.1f s right)", title ? title : "",
           judged > 0 ? 100 * (1 - wrong / judged) : 0, judged);
  cairo_set_font_size(cr, 14);
  cairo_move_to(cr, 10, 22);
  cairo_show_text(cr, line);
  time_axis(cr, x0, x1, ye + STRIP / 2 + 4, seconds);
  return canvas_close(&c, path, err);
}

void plot_release_caches(void) {
  cairo_debug_reset_static_data();
  FcFini();
}
