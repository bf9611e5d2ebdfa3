/* big_font.h: chord names in block letters (5 rows, scaled by a whole
 * factor) for `chordlet live`'s full-screen view. Thread: any (pure). */
#ifndef CHORDLET_APP_BIG_FONT_H
#define CHORDLET_APP_BIG_FONT_H

#include <stddef.h>

enum { BIG_FONT_ROWS = 5 };

/* Columns the text takes at this scale (one blank column between glyphs). */
int big_font_width(const char *text, int scale);

/* Row `row` (0 .. 5 * scale - 1) of the text as UTF-8 (full blocks and
 * spaces) into out. */
void big_font_row(const char *text, int scale, int row, char *out, size_t out_size);

#endif
