/* backend_jack.c: `chordlet live` as a JACK client: one or two input ports
 * ("in" / "in_1", "in_2"), connected to --device (a port name) or to the
 * first physical capture ports; never starts a server (JackNoStartServer):
 * a missing server is an error that says so. */
#define _POSIX_C_SOURCE 200809L
#include <jack/jack.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_backend.h"

typedef struct jack_handle {
  jack_client_t *client;
  jack_port_t *ports[2];
  int channels;
  audio_process_fn process;
  void *ctx;
  atomic_bool gone;
} jack_handle;

static void silent(const char *msg) { (void)msg; }

static int jk_process(jack_nframes_t n, void *arg) {
  jack_handle *h = arg;
  const float *ch[2] = {NULL, NULL};
  for (int c = 0; c < h->channels; c++) ch[c] = jack_port_get_buffer(h->ports[c], n);
  h->process(h->ctx, ch, h->channels, n);
  return 0;
}

static void jk_shutdown(void *arg) {
  jack_handle *h = arg;
  atomic_store(&h->gone, true);
}

static jack_client_t *connect_server(const char *name, char *err, size_t err_size) {
  jack_set_error_function(silent); /* our message below says it better */
  jack_status_t status;
  jack_client_t *c = jack_client_open(name ? name : "chordlet", JackNoStartServer, &status);
  if (!c) snprintf(err, err_size, "cannot connect to a JACK server (is one running? status 0x%x)", (unsigned)status);
  return c;
}

static int jk_list(FILE *out, char *err, size_t err_size) {
  jack_client_t *c = connect_server("chordlet-list", err, err_size);
  if (!c) return -1;
  const char **ports = jack_get_ports(c, NULL, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput);
  int n = 0;
  for (const char **p = ports; p && *p; p++, n++) fprintf(out, "  %s\n", *p);
  if (n == 0) fprintf(out, "no JACK audio output ports to listen to\n");
  else fprintf(out, "connect one with --device PORT\n");
  jack_free(ports);
  jack_client_close(c);
  return 0;
}

static int jk_open(const audio_request *req, audio_process_fn process, void *ctx, audio_info *info, void **out,
                   char *err, size_t err_size) {
  *out = NULL;
  jack_handle *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  h->channels = req->channels == 2 ? 2 : 1;
  h->process = process;
  h->ctx = ctx;
  atomic_init(&h->gone, false);
  h->client = connect_server(req->client_name, err, err_size);
  if (!h->client) {
    free(h);
    return -1;
  }
  for (int c = 0; c < h->channels; c++) {
    char name[16];
    snprintf(name, sizeof name, h->channels == 1 ? "in" : "in_%d", c + 1);
    h->ports[c] = jack_port_register(h->client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    if (!h->ports[c]) {
      snprintf(err, err_size, "cannot register the JACK port %s", name);
      jack_client_close(h->client);
      free(h);
      return -1;
    }
  }
  jack_set_process_callback(h->client, jk_process, h);
  jack_on_shutdown(h->client, jk_shutdown, h);
  if (jack_activate(h->client)) {
    snprintf(err, err_size, "cannot activate the JACK client");
    jack_client_close(h->client);
    free(h);
    return -1;
  }
  /* Sources: the named port (and, for two channels, the next one of its
   * client if the name ends in a digit), else the physical capture ports. */
  const char **physical = NULL;
  const char *sources[2] = {NULL, NULL};
  if (req->device) {
    sources[0] = req->device;
  } else {
    physical = jack_get_ports(h->client, NULL, JACK_DEFAULT_AUDIO_TYPE, JackPortIsPhysical | JackPortIsOutput);
    for (int c = 0; c < h->channels && physical && physical[c]; c++) sources[c] = physical[c];
  }
  char connected[200] = "";
  for (int c = 0; c < h->channels; c++) {
    if (!sources[c]) continue;
    if (jack_connect(h->client, sources[c], jack_port_name(h->ports[c])) != 0) {
      snprintf(err, err_size, "cannot connect %s to %s (see --list-devices)", sources[c], jack_port_name(h->ports[c]));
      jack_free(physical);
      jack_client_close(h->client);
      free(h);
      return -1;
    }
    size_t used = strlen(connected);
    snprintf(connected + used, sizeof connected - used, "%s%s", used ? ", " : "", sources[c]);
  }
  jack_free(physical);
  info->sample_rate = jack_get_sample_rate(h->client);
  info->max_block = jack_get_buffer_size(h->client);
  info->channels = h->channels;
  snprintf(info->device, sizeof info->device, "JACK %s <- %s", jack_get_client_name(h->client),
           connected[0] ? connected : "(nothing connected yet)");
  *out = h;
  return 0;
}

static bool jk_alive(void *handle) { return !atomic_load(&((jack_handle *)handle)->gone); }

static void jk_close(void *handle) {
  jack_handle *h = handle;
  if (!h) return;
  if (!atomic_load(&h->gone)) {
    jack_deactivate(h->client);
    jack_client_close(h->client);
  }
  free(h);
}

const audio_backend audio_backend_jack = {"jack", jk_list, jk_open, NULL, jk_alive, jk_close, false};
