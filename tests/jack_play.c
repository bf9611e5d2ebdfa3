/* jack_play.c: a test helper (not a test): plays an audio file into JACK
 * from an output port "out" of a client named by argv[2] (default
 * "player"). Playback starts when something connects to the port, so the
 * listener hears the file from its first sample; afterwards the port plays
 * silence until argv[3] seconds (default 2) have passed, then the program
 * exits 0. With argv[4] (a port such as "chordlet:in") the player connects
 * to it itself, retrying until that port exists. The file must have the server's sample rate (it is not
 * resampled: the test makes it so). Exit 1 with a message on any failure. */
#define _POSIX_C_SOURCE 200809L
#include <jack/jack.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static float *audio;
static size_t n_audio;
static atomic_size_t played;
static jack_port_t *port;
static atomic_int started;

static int process(jack_nframes_t n, void *arg) {
  (void)arg;
  float *out = jack_port_get_buffer(port, n);
  if (!atomic_load(&started) && jack_port_connected(port) > 0) atomic_store(&started, 1);
  size_t at = atomic_load(&played);
  for (jack_nframes_t i = 0; i < n; i++) out[i] = atomic_load(&started) && at + i < n_audio ? audio[at + i] : 0.0f;
  if (atomic_load(&started)) atomic_store(&played, at + n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: jack_play FILE [CLIENT] [TAIL_SECONDS] [CONNECT_TO]\n");
    return 2;
  }
  const char *name = argc > 2 ? argv[2] : "player";
  double tail = argc > 3 ? atof(argv[3]) : 2.0;
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *f = sf_open(argv[1], SFM_READ, &info);
  if (!f) {
    fprintf(stderr, "jack_play: %s: %s\n", argv[1], sf_strerror(NULL));
    return 1;
  }
  float *interleaved = malloc(sizeof(float) * (size_t)info.frames * (size_t)info.channels);
  audio = malloc(sizeof(float) * (size_t)info.frames);
  n_audio = (size_t)sf_readf_float(f, interleaved, info.frames);
  sf_close(f);
  for (size_t i = 0; i < n_audio; i++) audio[i] = interleaved[i * (size_t)info.channels]; /* the first channel */
  free(interleaved);
  jack_status_t status;
  jack_client_t *client = jack_client_open(name, JackNoStartServer, &status);
  if (!client) {
    fprintf(stderr, "jack_play: no JACK server (status 0x%x)\n", (unsigned)status);
    return 1;
  }
  if ((int)jack_get_sample_rate(client) != info.samplerate) {
    fprintf(stderr, "jack_play: the file is %d Hz, the server %u Hz\n", info.samplerate, jack_get_sample_rate(client));
    return 1;
  }
  port = jack_port_register(client, "out", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
  atomic_init(&played, 0);
  atomic_init(&started, 0);
  jack_set_process_callback(client, process, NULL);
  if (!port || jack_activate(client)) {
    fprintf(stderr, "jack_play: cannot start the client\n");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  if (argc > 4) {
    int tries = 0;
    while (jack_connect(client, jack_port_name(port), argv[4]) != 0) {
      if (++tries > 600) {
        fprintf(stderr, "jack_play: cannot connect to %s\n", argv[4]);
        return 1;
      }
      nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
  }
  const size_t end = n_audio + (size_t)(tail * info.samplerate);
  for (int waited = 0; atomic_load(&played) < end; waited++) {
    nanosleep(&(struct timespec){0, 10000000}, NULL);
    if (!atomic_load(&started) && waited > 6000) {
      fprintf(stderr, "jack_play: nobody connected within 60 s\n");
      return 1;
    }
  }
  jack_deactivate(client);
  jack_client_close(client);
  free(audio);
  return 0;
}
