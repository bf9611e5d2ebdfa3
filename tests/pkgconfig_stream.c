/* pkgconfig_stream.c MODEL AUDIO [SMOOTHING [THRESHOLD [LOOKAHEAD]]]: a library user's program, built by
 * tests/install_cli.sh against an installed libchordlet with nothing but
 * `pkg-config --cflags --libs chordlet` (and libsndfile to read the file; the
 * public API has no audio reader). It streams the file through
 * chordlet_stream_* in blocks, as an audio callback would, running the worker
 * and reading events on the same thread, and prints one line per chord change:
 * "TIME<TAB>HARTE<TAB>CONFIDENCE". Exit 0 after at least one chord, else 1.
 * SMOOTHING and THRESHOLD set the stream's smoothing_frames and
 * min_confidence (tests/ardour_cli.sh runs it as its plugin is set),
 * LOOKAHEAD its max_lookahead_seconds (a file-mode model needs 3.84 s or
 * more: scripts/readout-eval.sh's READOUT_LOOKAHEAD). */
#include <chordlet.h>
#include <sndfile.h>

#include <stdio.h>
#include <stdlib.h>

enum { BLOCK = 256, MAX_CHANNELS = 2 };

static int drain(chordlet_stream *stream) {
  int n = 0;
  chordlet_stream_work(stream);
  chordlet_event e;
  while (chordlet_stream_next_event(stream, &e)) {
    printf("%.3f\t%s\t%.3f\n", e.time, e.name, e.confidence);
    n++;
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 6) {
    fprintf(stderr, "usage: %s MODEL AUDIO [SMOOTHING [THRESHOLD [LOOKAHEAD]]]\n", argv[0]);
    return 2;
  }
  chordlet_error err;
  chordlet_model *model = NULL;
  if (chordlet_model_load(argv[1], &model, &err) != CHORDLET_OK) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  SF_INFO info = {0};
  SNDFILE *file = sf_open(argv[2], SFM_READ, &info);
  if (!file) {
    fprintf(stderr, "%s: %s\n", argv[2], sf_strerror(NULL));
    chordlet_model_free(model);
    return 1;
  }
  chordlet_stream_options options;
  chordlet_stream_options_default(&options);
  if (argc > 3) options.smoothing_frames = atoi(argv[3]);
  if (argc > 4) options.min_confidence = (float)atof(argv[4]);
  if (argc > 5) options.max_lookahead_seconds = atof(argv[5]);
  chordlet_stream *stream = NULL;
  if (chordlet_stream_create(model, info.samplerate, BLOCK, &options, &stream, &err) != CHORDLET_OK) {
    fprintf(stderr, "%s\n", err.message);
    sf_close(file);
    chordlet_model_free(model);
    return 1;
  }
  fprintf(stderr, "chordlet %s, model %s, latency %.0f ms\n", chordlet_version(), chordlet_model_name(model),
          1000.0 * chordlet_stream_latency(stream));

  int channels = info.channels < MAX_CHANNELS ? info.channels : MAX_CHANNELS;
  float *interleaved = malloc(sizeof(float) * BLOCK * (size_t)info.channels);
  static float planar[MAX_CHANNELS][BLOCK];
  const float *buffers[MAX_CHANNELS] = {planar[0], planar[1]};
  int events = 0;
  sf_count_t got;
  while (interleaved && (got = sf_readf_float(file, interleaved, BLOCK)) > 0) {
    for (sf_count_t i = 0; i < got; i++)
      for (int c = 0; c < channels; c++) planar[c][i] = interleaved[i * info.channels + c];
    chordlet_stream_process(stream, buffers, channels, (size_t)got);
    events += drain(stream);
  }
  /* Silence past the end, one latency's worth, so the last chords are decided. */
  for (int c = 0; c < channels; c++)
    for (int i = 0; i < BLOCK; i++) planar[c][i] = 0.0f;
  for (unsigned long done = 0; done < chordlet_stream_latency_samples(stream) + (unsigned long)info.samplerate;
       done += BLOCK) {
    chordlet_stream_process(stream, buffers, channels, BLOCK);
    events += drain(stream);
  }
  free(interleaved);
  sf_close(file);
  chordlet_stream_free(stream);
  chordlet_model_free(model);
  return events > 0 ? 0 : 1;
}
