/* midi_file.c: Standard MIDI File parsing (see midi_file.h for what is
 * accepted and refused). Events of all tracks are merged by tick, ties kept
 * in file order, then ticks become seconds through the tempo map. */
#include "midi_file.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

enum { DEFAULT_US_PER_BEAT = 500000 }; /* 120 BPM until the first tempo event (SMF spec) */

typedef struct raw_event {
  uint64_t tick;
  uint32_t seq; /* file order, to keep simultaneous events in the order written */
  uint8_t kind, channel, data1, data2;
} raw_event;

typedef struct tempo_change {
  uint64_t tick;
  uint32_t seq;
  uint32_t us_per_beat;
} tempo_change;

typedef struct parser {
  const unsigned char *data;
  size_t n;
  const char *name;
  raw_event *events;
  size_t n_events, cap_events;
  tempo_change *tempos;
  size_t n_tempos, cap_tempos;
  uint32_t seq;
  uint64_t end_tick;
  chordlet_error *err;
} parser;

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static chordlet_status grow(void **items, size_t *cap, size_t need, size_t size, parser *ps) {
  if (need <= *cap) return CHORDLET_OK;
  if (need > MIDI_MAX_EVENTS)
    return chordlet_fail(ps->err, CHORDLET_ERR_RANGE, "%s: more than %d events: not a song", ps->name,
                         MIDI_MAX_EVENTS);
  size_t cap_new = *cap ? 2 * *cap : 1024;
  if (cap_new > MIDI_MAX_EVENTS) cap_new = MIDI_MAX_EVENTS;
  void *p = realloc(*items, cap_new * size);
  if (!p) return chordlet_fail(ps->err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", ps->name);
  *items = p;
  *cap = cap_new;
  return CHORDLET_OK;
}

/* A variable-length quantity: at most 4 bytes (28 bits), as the SMF spec says. */
static chordlet_status read_vlq(parser *ps, size_t *pos, size_t end, int track, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    if (*pos >= end)
      return chordlet_fail(ps->err, CHORDLET_ERR_PARSE,
                           "%s: track %d, byte %zu: a variable-length number runs past the end of the track",
                           ps->name, track, *pos);
    unsigned char b = ps->data[(*pos)++];
    v = v << 7 | (b & 0x7Fu);
    if (!(b & 0x80)) {
      *out = v;
      return CHORDLET_OK;
    }
  }
  return chordlet_fail(ps->err, CHORDLET_ERR_PARSE,
                       "%s: track %d, byte %zu: a variable-length number is longer than 4 bytes (corrupt data)",
                       ps->name, track, *pos - 4);
}

static chordlet_status parse_track(parser *ps, size_t pos, size_t end, int track) {
  uint64_t tick = 0;
  unsigned running = 0; /* last channel status byte; 0 = none yet */
  while (pos < end) {
    uint32_t delta;
    chordlet_status st = read_vlq(ps, &pos, end, track, &delta);
    if (st) return st;
    tick += delta;
    if (pos >= end)
      return chordlet_fail(ps->err, CHORDLET_ERR_PARSE, "%s: track %d ends between a delta time and its event",
                           ps->name, track);
    size_t at = pos;
    unsigned b = ps->data[pos];
    if (tick > ps->end_tick) ps->end_tick = tick;
    if (b == 0xFF || b == 0xF0 || b == 0xF7) {
      pos++;
      unsigned type = 0;
      if (b == 0xFF) {
        if (pos >= end)
          return chordlet_fail(ps->err, CHORDLET_ERR_PARSE, "%s: track %d, byte %zu: meta event cut off",
                               ps->name, track, at);
        type = ps->data[pos++];
      }
      uint32_t len;
      if ((st = read_vlq(ps, &pos, end, track, &len))) return st;
      if (len > end - pos)
        return chordlet_fail(ps->err, CHORDLET_ERR_PARSE,
                             "%s: track %d, byte %zu: a %s event of %u bytes runs past the end of the track",
                             ps->name, track, at, b == 0xFF ? "meta" : "sysex", len);
      if (b == 0xFF && type == 0x51) {
        if (len != 3)
          return chordlet_fail(ps->err, CHORDLET_ERR_PARSE,
                               "%s: track %d, byte %zu: a tempo event of %u bytes (must be 3)", ps->name, track,
                               at, len);
        uint32_t us = (uint32_t)ps->data[pos] << 16 | (uint32_t)ps->data[pos + 1] << 8 | ps->data[pos + 2];
        if (us == 0)
          return chordlet_fail(ps->err, CHORDLET_ERR_PARSE, "%s: track %d, byte %zu: a tempo of 0 us per beat",
                               ps->name, track, at);
        if ((st = grow((void **)&ps->tempos, &ps->cap_tempos, ps->n_tempos + 1, sizeof *ps->tempos, ps)))
          return st;
        ps->tempos[ps->n_tempos++] = (tempo_change){tick, ps->seq++, us};
      }
      pos += len;
      if (b == 0xFF && type == 0x2F) return CHORDLET_OK; /* End of Track: anything after it is padding */
      continue;
    }
    if (b >= 0xF0)
      return chordlet_fail(ps->err, CHORDLET_ERR_PARSE,
                           "%s: track %d, byte %zu: status byte 0x%02X cannot appear in a MIDI file", ps->name,
                           track, at, b);
    if (b & 0x80) {
      running = b;
      pos++;
    } else if (!running) {
      return chordlet_fail(ps->err, CHORDLET_ERR_PARSE,
                           "%s: track %d, byte %zu: data byte 0x%02X with no status byte before it", ps->name,
                           track, at, b);
    }
    unsigned kind = running & 0xF0;
    int n_data = (kind == MIDI_PROGRAM || kind == MIDI_CHANNEL_PRESSURE) ? 1 : 2;
    if ((size_t)n_data > end - pos)
      return chordlet_fail(ps->err, CHORDLET_ERR_PARSE, "%s: track %d, byte %zu: event cut off by the track end",
                           ps->name, track, at);
    unsigned d[2] = {0, 0};
    for (int i = 0; i < n_data; i++) {
      d[i] = ps->data[pos + (size_t)i];
      if (d[i] & 0x80)
        return chordlet_fail(ps->err, CHORDLET_ERR_PARSE,
                             "%s: track %d, byte %zu: data byte 0x%02X has its top bit set (corrupt event)",
                             ps->name, track, pos + (size_t)i, d[i]);
    }
    pos += (size_t)n_data;
    if ((st = grow((void **)&ps->events, &ps->cap_events, ps->n_events + 1, sizeof *ps->events, ps))) return st;
    if (kind == MIDI_NOTE_ON && d[1] == 0) kind = MIDI_NOTE_OFF;
    ps->events[ps->n_events++] =
        (raw_event){tick, ps->seq++, (uint8_t)kind, (uint8_t)(running & 0x0F), (uint8_t)d[0], (uint8_t)d[1]};
  }
  return CHORDLET_OK; /* no End of Track: tolerated */
}

static int compare_events(const void *a, const void *b) {
  const raw_event *x = a, *y = b;
  if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

static int compare_tempos(const void *a, const void *b) {
  const tempo_change *x = a, *y = b;
  if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Ticks to seconds. tempo_index walks forward with the (sorted) ticks asked for. */
typedef struct clock {
  const tempo_change *tempos;
  size_t n_tempos, next;
  uint64_t base_tick;
  double base_seconds;
  double seconds_per_tick;
  double ticks_per_beat; /* 0 for SMPTE time, where tempo does not apply */
} clock;

static double clock_seconds(clock *c, uint64_t tick) {
  if (c->ticks_per_beat > 0)
    while (c->next < c->n_tempos && c->tempos[c->next].tick <= tick) {
      const tempo_change *t = &c->tempos[c->next++];
      c->base_seconds += (double)(t->tick - c->base_tick) * c->seconds_per_tick;
      c->base_tick = t->tick;
      c->seconds_per_tick = t->us_per_beat * 1e-6 / c->ticks_per_beat;
    }
  return c->base_seconds + (double)(tick - c->base_tick) * c->seconds_per_tick;
}

void midi_song_free(midi_song *song) {
  if (!song) return;
  free(song->events);
  memset(song, 0, sizeof *song);
}

chordlet_status midi_parse(const unsigned char *data, size_t n, const char *name, midi_song *out,
                           chordlet_error *err) {
  memset(out, 0, sizeof *out);
  if (n < 14 || memcmp(data, "MThd", 4) != 0)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: not a MIDI file (it does not start with an MThd header)",
                         name);
  uint32_t header_len = be32(data + 4);
  if (header_len < 6 || header_len > n - 8)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: the MThd header declares %u bytes (corrupt or truncated)",
                         name, header_len);
  int format = be16(data + 8), n_tracks = be16(data + 10);
  uint16_t division = be16(data + 12);
  if (format > 1)
    return chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s: MIDI format %d: only formats 0 and 1 (one timeline) are supported", name, format);
  if (n_tracks == 0) return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: the header declares no tracks", name);
  if (format == 0 && n_tracks != 1)
    return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: format 0 with %d tracks (must be 1)", name, n_tracks);
  clock c = {0};
  if (division & 0x8000) {
    int fps = -(int)(int8_t)(division >> 8), ticks_per_frame = division & 0xFF;
    if ((fps != 24 && fps != 25 && fps != 29 && fps != 30) || ticks_per_frame == 0)
      return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: bad SMPTE division 0x%04X", name, division);
    c.seconds_per_tick = 1.0 / ((fps == 29 ? 29.97 : fps) * ticks_per_frame);
  } else {
    if (division == 0) return chordlet_fail(err, CHORDLET_ERR_PARSE, "%s: a division of 0 ticks per beat", name);
    c.ticks_per_beat = division;
    c.seconds_per_tick = DEFAULT_US_PER_BEAT * 1e-6 / division;
  }

  parser ps = {.data = data, .n = n, .name = name, .err = err};
  chordlet_status st = CHORDLET_OK;
  size_t pos = 8 + (size_t)header_len;
  int found = 0;
  while (found < n_tracks) {
    if (n - pos < 8) {
      st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s: the header declares %d tracks but the file ends after %d (truncated file)", name,
                         n_tracks, found);
      goto fail;
    }
    uint32_t len = be32(data + pos + 4);
    if (len > n - pos - 8) {
      st = chordlet_fail(err, CHORDLET_ERR_PARSE,
                         "%s: %s chunk at byte %zu declares %u bytes but only %zu remain (truncated file)", name,
                         memcmp(data + pos, "MTrk", 4) == 0 ? "track" : "a", pos, len, n - pos - 8);
      goto fail;
    }
    if (memcmp(data + pos, "MTrk", 4) == 0) {
      if ((st = parse_track(&ps, pos + 8, pos + 8 + len, found + 1))) goto fail;
      found++;
    }
    pos += 8 + (size_t)len; /* other chunk types are skipped, as the spec asks */
  }

  /* qsort must not see a NULL array, even an empty one. */
  if (ps.n_events) qsort(ps.events, ps.n_events, sizeof *ps.events, compare_events);
  if (ps.n_tempos) qsort(ps.tempos, ps.n_tempos, sizeof *ps.tempos, compare_tempos);
  c.tempos = ps.tempos;
  c.n_tempos = ps.n_tempos;
  out->events = ps.n_events ? malloc(ps.n_events * sizeof *out->events) : NULL;
  if (ps.n_events && !out->events) {
    st = chordlet_fail(err, CHORDLET_ERR_NO_MEMORY, "%s: out of memory", name);
    goto fail;
  }
  int program[MIDI_CHANNELS] = {0};
  for (int ch = 0; ch < MIDI_CHANNELS; ch++) out->first_program[ch] = 0;
  for (size_t i = 0; i < ps.n_events; i++) {
    const raw_event *r = &ps.events[i];
    out->events[i] = (midi_event){clock_seconds(&c, r->tick), r->kind, r->channel, r->data1, r->data2};
    if (r->kind == MIDI_PROGRAM) program[r->channel] = r->data1;
    if (r->kind == MIDI_NOTE_ON) {
      if (!(out->note_channels & (1u << r->channel))) out->first_program[r->channel] = program[r->channel];
      out->note_channels |= (uint16_t)(1u << r->channel);
      out->n_notes++;
    }
  }
  out->n_events = ps.n_events;
  out->end_seconds = clock_seconds(&c, ps.end_tick);
  out->format = format;
  out->n_tracks = n_tracks;
  free(ps.events);
  free(ps.tempos);
  if (!(out->end_seconds <= MIDI_MAX_SECONDS)) {
    st = chordlet_fail(err, CHORDLET_ERR_RANGE, "%s: lasts %.0f s, more than the %.0f s a song may last", name,
                       out->end_seconds, MIDI_MAX_SECONDS);
    midi_song_free(out);
    return st;
  }
  return CHORDLET_OK;

fail:
  free(ps.events);
  free(ps.tempos);
  midi_song_free(out);
  return st;
}
