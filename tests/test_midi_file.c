/* test_midi_file.c: the trainer's Standard MIDI File reader (trainer/midi_file.c,
 * linked with the trainer's objects like every test).
 *   1. a hand-made format-1 file: tempo change, running status (also across a
 *      sysex), note-on of velocity 0, unknown chunk, SMPTE time: exact times;
 *   2. each malformed file a clear error: missing header, format 2, division
 *      0, truncation, over-long numbers, stray status and data bytes, ...;
 *   3. every truncation and 20000 random corruptions: refused or parsed
 *      sanely, never a crash (the ASan build runs this too);
 *   4. with ../shared: all 2321 collection MIDI files parse, and each one's
 *      end (last event, End of Track included) is where its .lab ends, within
 *      the labels' 6-decimal rounding: the tempo maps are read right. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "midi_file.h"

typedef struct bytes {
  unsigned char data[4096];
  size_t n;
} bytes;

static void put(bytes *b, const unsigned char *p, size_t n) {
  if (b->n + n > sizeof b->data) abort();
  memcpy(b->data + b->n, p, n);
  b->n += n;
}
#define PUT(b, ...)                                      \
  do {                                                   \
    const unsigned char tmp_[] = {__VA_ARGS__};          \
    put(b, tmp_, sizeof tmp_);                           \
  } while (0)

static void put32(bytes *b, uint32_t v) { PUT(b, (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v); }

static void header(bytes *b, int format, int tracks, unsigned division) {
  PUT(b, 'M', 'T', 'h', 'd');
  put32(b, 6);
  PUT(b, 0, (unsigned char)format, 0, (unsigned char)tracks, (unsigned char)(division >> 8), (unsigned char)division);
}

static void chunk(bytes *b, const char *id, const bytes *body) {
  put(b, (const unsigned char *)id, 4);
  put32(b, (uint32_t)body->n);
  put(b, body->data, body->n);
}

/* The file of part 1; see the expectations there. */
static void sample_file(bytes *f) {
  bytes t1 = {{0}, 0}, t2 = {{0}, 0}, junk = {{0}, 0};
  PUT(&t1, 0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20);       /* t 0: 500000 us/beat (120 BPM) */
  PUT(&t1, 0x81, 0x40, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40); /* tick 192 = 1 s: 1000000 us/beat */
  PUT(&t1, 0x60, 0xFF, 0x2F, 0x00);                          /* tick 288 = 2 s: End of Track */
  PUT(&t2, 0x00, 0xC0, 0x05);                                /* t 0: program 5 on channel 1 */
  PUT(&t2, 0x00, 0x90, 0x3C, 0x64);                          /* t 0: note on 60 */
  PUT(&t2, 0x60, 0x3C, 0x00);                                /* tick 96 = 0.5 s: running status, velocity 0 */
  PUT(&t2, 0x00, 0xF0, 0x03, 0x01, 0x02, 0xF7);              /* a sysex */
  PUT(&t2, 0x60, 0x99, 0x26, 0x64);                          /* tick 192 = 1 s: drum note on channel 10 */
  PUT(&t2, 0x30, 0x89, 0x26, 0x00);                          /* tick 240 = 1.5 s: its note-off */
  PUT(&t2, 0x00, 0xE0, 0x00, 0x40);                          /* pitch bend centre */
  PUT(&t2, 0x00, 0xB0, 0x07, 0x64);                          /* volume */
  PUT(&t2, 0x81, 0x10, 0xFF, 0x2F, 0x00);                    /* tick 384 = 3 s: End of Track */
  PUT(&junk, 1, 2, 3);
  header(f, 1, 2, 96);
  chunk(f, "MTrk", &t1);
  chunk(f, "XFIH", &junk); /* unknown chunk: skipped */
  chunk(f, "MTrk", &t2);
}

static void test_sample(void) {
  bytes f = {{0}, 0};
  sample_file(&f);
  midi_song s;
  chordlet_error err = {0};
  CHECK(midi_parse(f.data, f.n, "sample.mid", &s, &err) == CHORDLET_OK, "sample file: %s", err.message);
  static const struct {
    double t;
    int kind, ch, d1, d2;
  } want[] = {
      {0.0, MIDI_PROGRAM, 0, 5, 0},   {0.0, MIDI_NOTE_ON, 0, 60, 100},   {0.5, MIDI_NOTE_OFF, 0, 60, 0},
      {1.0, MIDI_NOTE_ON, 9, 38, 100}, {1.5, MIDI_NOTE_OFF, 9, 38, 0},   {1.5, MIDI_PITCH_BEND, 0, 0, 64},
      {1.5, MIDI_CONTROL, 0, 7, 100},
  };
  size_t n_want = sizeof want / sizeof *want;
  CHECK(s.n_events == n_want, "%zu events, expected %zu", s.n_events, n_want);
  for (size_t i = 0; i < s.n_events && i < n_want; i++) {
    const midi_event *e = &s.events[i];
    CHECK(fabs(e->seconds - want[i].t) < 1e-12 && e->kind == want[i].kind && e->channel == want[i].ch &&
              e->data1 == want[i].d1 && e->data2 == want[i].d2,
          "event %zu: %.6f s %02X ch %d %d %d, expected %.6f s %02X ch %d %d %d", i, e->seconds, e->kind,
          e->channel, e->data1, e->data2, want[i].t, want[i].kind, want[i].ch, want[i].d1, want[i].d2);
  }
  CHECK(fabs(s.end_seconds - 3.0) < 1e-12, "end %.9f s, expected 3 (the last End of Track)", s.end_seconds);
  CHECK(s.n_notes == 2 && s.note_channels == ((1u << 0) | (1u << 9)), "notes %zu, channels %04x", s.n_notes,
        s.note_channels);
  CHECK(s.first_program[0] == 5 && s.first_program[9] == 0, "first programs %d %d", s.first_program[0],
        s.first_program[9]);
  CHECK(s.format == 1 && s.n_tracks == 2, "format %d, %d tracks", s.format, s.n_tracks);
  midi_song_free(&s);

  /* SMPTE time: 25 frames/s x 40 ticks = 1000 ticks per second, tempo ignored. */
  bytes g = {{0}, 0}, t = {{0}, 0};
  PUT(&t, 0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40, 0x83, 0x74, 0x90, 0x40, 0x50, 0x83, 0x74, 0xFF, 0x2F, 0x00);
  header(&g, 0, 1, 0xE728);
  chunk(&g, "MTrk", &t);
  CHECK(midi_parse(g.data, g.n, "smpte.mid", &s, &err) == CHORDLET_OK, "SMPTE file: %s", err.message);
  CHECK(s.n_events == 1 && fabs(s.events[0].seconds - 0.5) < 1e-12 && fabs(s.end_seconds - 1.0) < 1e-12,
        "SMPTE: %zu events, first at %.6f, end %.6f", s.n_events, s.n_events ? s.events[0].seconds : -1,
        s.end_seconds);
  midi_song_free(&s);
}

static void expect_error(const char *what, const bytes *f, const char *needle) {
  midi_song s;
  chordlet_error err = {0};
  chordlet_status st = midi_parse(f->data, f->n, "bad.mid", &s, &err);
  CHECK(st != CHORDLET_OK, "%s: must be refused", what);
  CHECK(strstr(err.message, needle) && strstr(err.message, "bad.mid"), "%s: message lacks '%s' or the name: %s",
        what, needle, err.message);
  CHECK(s.events == NULL && s.n_events == 0, "%s: nothing left allocated", what);
}

/* One track holding body, in a format-0 file of 96 ticks per beat. */
static void one_track(bytes *f, const unsigned char *body, size_t n) {
  bytes t = {{0}, 0};
  put(&t, body, n);
  f->n = 0;
  header(f, 0, 1, 96);
  chunk(f, "MTrk", &t);
}
#define ONE_TRACK(f, ...)                           \
  do {                                              \
    const unsigned char body_[] = {__VA_ARGS__};    \
    one_track(f, body_, sizeof body_);              \
  } while (0)

static void test_errors(void) {
  bytes f = {{0}, 0};
  PUT(&f, 'R', 'I', 'F', 'F', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96, 0, 0);
  expect_error("not MIDI", &f, "not a MIDI file");
  f.n = 0;
  header(&f, 2, 1, 96);
  expect_error("format 2", &f, "format 2");
  f.n = 0;
  header(&f, 1, 1, 0);
  expect_error("division 0", &f, "division of 0");
  f.n = 0;
  header(&f, 1, 2, 96);
  bytes t = {{0}, 0};
  PUT(&t, 0x00, 0xFF, 0x2F, 0x00);
  chunk(&f, "MTrk", &t);
  expect_error("missing track", &f, "declares 2 tracks but the file ends after 1");
  f.n = 0;
  sample_file(&f);
  f.n -= 5;
  expect_error("truncated", &f, "truncated");
  ONE_TRACK(&f, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x90, 0x3C, 0x40);
  expect_error("5-byte number", &f, "longer than 4 bytes");
  ONE_TRACK(&f, 0x00, 0x90, 0x3C, 0x90);
  expect_error("data byte with top bit", &f, "top bit");
  ONE_TRACK(&f, 0x00, 0x3C, 0x40);
  expect_error("running status at the start", &f, "no status byte before it");
  ONE_TRACK(&f, 0x00, 0xF3, 0x01);
  expect_error("system common byte", &f, "cannot appear");
  ONE_TRACK(&f, 0x00, 0xFF, 0x51, 0x03, 0x00, 0x00, 0x00);
  expect_error("tempo 0", &f, "tempo of 0");
  ONE_TRACK(&f, 0x00, 0xFF, 0x51, 0x02, 0x07, 0xA1);
  expect_error("short tempo", &f, "must be 3");
  ONE_TRACK(&f, 0x00, 0xFF, 0x01, 0x10, 'a', 'b');
  expect_error("meta past the end", &f, "runs past the end of the track");
  ONE_TRACK(&f, 0x00, 0x90, 0x3C);
  expect_error("cut event", &f, "cut off");
  ONE_TRACK(&f, 0x00);
  expect_error("delta without event", &f, "between a delta time and its event");
  /* A file 10 hours long is not a song. */
  ONE_TRACK(&f, 0x00, 0xFF, 0x51, 0x03, 0x7F, 0xFF, 0xFF, 0x8F, 0xFF, 0xFF, 0x7F, 0xFF, 0x2F, 0x00);
  expect_error("absurd length", &f, "more than");
}

static uint64_t rnd_state = 12345;
static uint64_t rnd(void) {
  rnd_state = rnd_state * 6364136223846793005u + 1442695040888963407u;
  return rnd_state >> 33;
}

static int sane(const midi_song *s) {
  for (size_t i = 0; i < s->n_events; i++) {
    if (!(s->events[i].seconds >= 0) || s->events[i].seconds > s->end_seconds) return 0;
    if (i && s->events[i].seconds < s->events[i - 1].seconds) return 0;
    if (s->events[i].channel > 15 || s->events[i].data1 > 127 || s->events[i].data2 > 127) return 0;
  }
  return 1;
}

static void test_corruption(void) {
  bytes f = {{0}, 0};
  sample_file(&f);
  int refused = 0;
  for (size_t n = 0; n < f.n; n++) {
    midi_song s;
    chordlet_error err = {0};
    if (midi_parse(f.data, n, "cut.mid", &s, &err) == CHORDLET_OK) {
      CHECK(sane(&s), "a file cut at %zu bytes parsed into nonsense", n);
      midi_song_free(&s);
    } else {
      refused++;
      CHECK(err.message[0] != '\0', "cut at %zu: an error without a message", n);
    }
  }
  CHECK(refused >= (int)f.n - 1, "every cut file is refused (%d of %zu)", refused, f.n);
  for (int iter = 0; iter < 20000; iter++) {
    bytes g = f;
    int flips = 1 + (int)(rnd() % 4);
    for (int k = 0; k < flips; k++) g.data[rnd() % g.n] ^= (unsigned char)(1u << (rnd() % 8));
    if (rnd() % 4 == 0) g.n = rnd() % g.n;
    midi_song s;
    chordlet_error err = {0};
    if (midi_parse(g.data, g.n, "fuzz.mid", &s, &err) == CHORDLET_OK) {
      CHECK(sane(&s), "corruption %d parsed into nonsense", iter);
      midi_song_free(&s);
    } else {
      CHECK(err.message[0] != '\0', "corruption %d: an error without a message", iter);
    }
  }
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = malloc(1 << 22);
  *n = buf ? fread(buf, 1, 1 << 22, f) : 0;
  fclose(f);
  return buf;
}

static double lab_end(const char *path) {
  FILE *f = fopen(path, "r");
  double end = -1, a, b;
  char label[512];
  while (f && fscanf(f, "%lf %lf %511s", &a, &b, label) == 3) end = b;
  if (f) fclose(f);
  return end;
}

static void test_collections(const char *shared) {
  static const char *const collections[] = {"pop909cl", "nottingham", "synth"};
  size_t files = 0;
  double worst = 0;
  for (int c = 0; c < 3; c++) {
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s/data/midi/%s", shared, collections[c]);
    DIR *d = opendir(dir_path);
    CHECK(d != NULL, "cannot list %s", dir_path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      size_t len = strlen(e->d_name);
      if (len < 5 || strcmp(e->d_name + len - 4, ".mid") != 0) continue;
      char path[4400], lab[4400];
      snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
      snprintf(lab, sizeof lab, "%s/%.*s.lab", dir_path, (int)(len - 4), e->d_name);
      size_t n = 0;
      unsigned char *data = slurp(path, &n);
      midi_song s;
      chordlet_error err = {0};
      CHECK(data && midi_parse(data, n, path, &s, &err) == CHORDLET_OK, "%s: %s", path, err.message);
      free(data);
      if (err.message[0]) continue;
      double gap = fabs(s.end_seconds - lab_end(lab));
      if (gap > worst) worst = gap;
      CHECK(gap < 1e-5, "%s ends at %.6f s, its .lab at %.6f s", path, s.end_seconds, lab_end(lab));
      CHECK(sane(&s) && s.n_notes > 0, "%s: events out of order or no notes", path);
      midi_song_free(&s);
      files++;
    }
    if (d) closedir(d);
  }
  CHECK(files >= 2300, "only %zu collection files", files);
  printf("%zu collection MIDI files: end = .lab end within %.2g s\n", files, worst);
}

int main(void) {
  test_sample();
  test_errors();
  test_corruption();
  if (check_failures) return check_summary("test_midi_file");
  test_collections(shared_dir());
  return check_summary("test_midi_file");
}
