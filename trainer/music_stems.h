/*
 * music_stems.h: stems of one piece mixed into one file (Frets on Fire's
 * song.ogg with guitar.ogg and rhythm.ogg; plee-the-bear's sequencer/NAME/
 * layers, which the game plays together): a stem alone is not the music.
 *
 * The sum of the stems in the given order, frame by frame in float (a
 * stem's frames after it ends count as silence; a stem with fewer channels
 * than the widest adds its first channel to every channel), at the first
 * stem's rate, as long as the longest; scaled down as a whole if its peak
 * passes full scale (never clipped): two passes, the peak, then the 16-bit
 * FLAC (atomic).
 *
 * Thread: main/worker (I/O).
 */
#ifndef CHORDLET_TRAINER_MUSIC_STEMS_H
#define CHORDLET_TRAINER_MUSIC_STEMS_H

#include <stddef.h>

/* MUSIC_OK; MUSIC_UNREADABLE when a stem cannot be read (why: the reason,
 * libsndfile's own words when it refused one); MUSIC_FAILED (why). */
int music_mix_stems(const char *const *paths, int n, const char *out, char *why, size_t why_size);

#endif
