/* ui_cycle.c: a test helper (run by tests/ui_jalv.sh under valgrind on an
 * Xvfb display): opens chordlet.lv2's UI, feeds it chord changes and control
 * values, lets it draw, resizes it and closes it, N times (argv[2], default
 * 50), as a host does when the user opens and closes the plugin window.
 * argv[1] is the bundle folder. Exit 0 when every cycle instantiated and drew;
 * valgrind's exit code reports leaks and invalid accesses. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>
/* after the LV2 headers: Xlib defines Bool as a macro, which forge.h uses as a name */
#include <X11/Xlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_URIS = 128 };
static char *uris[MAX_URIS];
static int n_uris;
static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri) {
  (void)h;
  for (int i = 0; i < n_uris; i++)
    if (strcmp(uris[i], uri) == 0) return (LV2_URID)(i + 1);
  if (n_uris == MAX_URIS) return 0;
  uris[n_uris] = strdup(uri);
  return (LV2_URID)++n_uris;
}

static Display *host_display;
static int x_errors;
/* X errors are counted and named (Xlib's default handler would exit). */
static int on_x_error(Display *d, XErrorEvent *e) {
  char text[256];
  XGetErrorText(d, e->error_code, text, sizeof text);
  fprintf(stderr, "ui_cycle: X error on the %s connection: %s (request %d, resource 0x%lx)\n",
          d == host_display ? "host's" : "UI's", text, e->request_code, e->resourceid);
  x_errors++;
  return 0;
}

static int resized_w, resized_h;
static int host_resize(LV2UI_Feature_Handle h, int w, int height) {
  (void)h;
  resized_w = w;
  resized_h = height;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: ui_cycle BUNDLE_DIR [CYCLES]\n");
    return 2;
  }
  const int cycles = argc > 2 ? atoi(argv[2]) : 50;
  char path[4096];
  snprintf(path, sizeof path, "%s/chordlet_ui.so", argv[1]);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "ui_cycle: %s\n", dlerror());
    return 1;
  }
  union {
    void *p;
    const LV2UI_Descriptor *(*f)(uint32_t);
  } entry;
  entry.p = dlsym(lib, "lv2ui_descriptor");
  const LV2UI_Descriptor *d = entry.f ? entry.f(0) : NULL;
  if (!d) {
    fprintf(stderr, "ui_cycle: no lv2ui_descriptor in %s\n", path);
    return 1;
  }
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "ui_cycle: no X display\n");
    return 1;
  }
  host_display = dpy;
  XSetErrorHandler(on_x_error);
  Window parent = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), 0, 0, 640, 360, 0, 0, 0);
  XMapWindow(dpy, parent);
  XFlush(dpy);

  LV2_URID_Map map = {NULL, map_uri};
  LV2UI_Resize resize = {NULL, host_resize};
  const LV2_Feature f_map = {LV2_URID__map, &map}, f_parent = {LV2_UI__parent, (void *)(uintptr_t)parent},
                    f_resize = {LV2_UI__resize, &resize};
  const LV2_Feature *features[] = {&f_map, &f_parent, &f_resize, NULL};
  LV2_Atom_Forge forge;
  lv2_atom_forge_init(&forge, &map);
  const LV2_URID event_transfer = map_uri(NULL, LV2_ATOM__eventTransfer);
  int drawn = 0;
  for (int c = 0; c < cycles; c++) {
    LV2UI_Widget widget = NULL;
    LV2UI_Handle ui = d->instantiate(d, c % 2 ? "urn:chordlet:stereo" : "urn:chordlet:mono", argv[1], NULL, NULL,
                                     &widget, features);
    if (!ui || !widget) {
      fprintf(stderr, "ui_cycle: cycle %d: the UI did not instantiate\n", c);
      return 1;
    }
    const LV2UI_Idle_Interface *idle = d->extension_data(LV2_UI__idleInterface);
    const uint32_t audio = c % 2 ? 4 : 2;
    for (int k = 0; k < 12; k++) {
      /* a chordlet:ChordChange as the notify port sends it */
      uint8_t buf[512];
      lv2_atom_forge_set_buffer(&forge, buf, sizeof buf);
      LV2_Atom_Forge_Frame frame;
      lv2_atom_forge_object(&forge, &frame, 0, map_uri(NULL, "urn:chordlet#ChordChange"));
      lv2_atom_forge_key(&forge, map_uri(NULL, "urn:chordlet#chord"));
      lv2_atom_forge_int(&forge, (k * 23) % 170);
      lv2_atom_forge_key(&forge, map_uri(NULL, "urn:chordlet#label"));
      lv2_atom_forge_string(&forge, "C#m7", 4);
      lv2_atom_forge_key(&forge, map_uri(NULL, "urn:chordlet#confidence"));
      lv2_atom_forge_float(&forge, 0.1f * (float)(k % 10));
      lv2_atom_forge_key(&forge, map_uri(NULL, "urn:chordlet#time"));
      lv2_atom_forge_double(&forge, 1.5 * k);
      lv2_atom_forge_pop(&forge, &frame);
      const LV2_Atom *atom = (const LV2_Atom *)buf;
      d->port_event(ui, audio + 1, (uint32_t)(sizeof(LV2_Atom) + atom->size), event_transfer, atom);
      const float chord = (float)((k * 37) % 170), conf = 0.05f * (float)k;
      d->port_event(ui, audio + 5, sizeof(float), 0, &chord);
      d->port_event(ui, audio + 9, sizeof(float), 0, &conf);
      /* garbage the UI must ignore: wrong sizes, unknown ports, a NaN */
      const float nan = __builtin_nanf("");
      d->port_event(ui, audio + 9, sizeof(float), 0, &nan);
      d->port_event(ui, 99, sizeof(float), 0, &chord);
      d->port_event(ui, audio + 1, 4, event_transfer, atom);
      if (idle) idle->idle(ui);
    }
    XResizeWindow(dpy, (Window)(uintptr_t)widget, 300 + 10 * (unsigned)c, 200);
    XSync(dpy, False); /* done before the UI destroys the window on its own connection */
    if (idle) {
      idle->idle(ui);
      idle->idle(ui);
    }
    d->cleanup(ui);
    drawn++;
  }
  XDestroyWindow(dpy, parent);
  XCloseDisplay(dpy);
  /* No dlclose, as jalv and most hosts keep a UI library loaded: unloading
   * it would strand cairo's and fontconfig's process-wide caches (loaded
   * with it), which valgrind then calls lost although no cycle leaked them. */
  (void)lib;
  for (int i = 0; i < n_uris; i++) free(uris[i]);
  printf("ui_cycle: %d of %d cycles opened, drew and closed the UI (host resize asked %dx%d)\n", drawn, cycles,
         resized_w, resized_h);
  if (x_errors) printf("ui_cycle: %d X errors\n", x_errors);
  return drawn == cycles && x_errors == 0 ? 0 : 1;
}
