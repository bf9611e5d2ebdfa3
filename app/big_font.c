/* big_font.c: chord names in large block letters for the terminal view
 * (big_font.h). Each glyph is 5 rows of up to 5 cells; 'X' marks a filled
 * cell. Only the characters chord names use are drawn; anything else is a
 * blank cell. */
#include "big_font.h"

#include <string.h>

typedef struct glyph {
  char c;
  const char *rows[BIG_FONT_ROWS];
} glyph;

static const glyph glyphs[] = {
    {'A', {" XXX ", "X   X", "XXXXX", "X   X", "X   X"}},
    {'B', {"XXXX ", "X   X", "XXXX ", "X   X", "XXXX "}},
    {'C', {" XXXX", "X    ", "X    ", "X    ", " XXXX"}},
    {'D', {"XXXX ", "X   X", "X   X", "X   X", "XXXX "}},
    {'E', {"XXXXX", "X    ", "XXXX ", "X    ", "XXXXX"}},
    {'F', {"XXXXX", "X    ", "XXXX ", "X    ", "X    "}},
    {'G', {" XXXX", "X    ", "X  XX", "X   X", " XXXX"}},
    {'N', {"X   X", "XX  X", "X X X", "X  XX", "X   X"}},
    {'X', {"X   X", " X X ", "  X  ", " X X ", "X   X"}},
    {'#', {" X X ", "XXXXX", " X X ", "XXXXX", " X X "}},
    {'b', {"X    ", "X    ", "XXX  ", "X  X ", "XXX  "}},
    {'m', {"     ", "XX X ", "X X X", "X X X", "X X X"}},
    {'a', {"     ", " XXX ", "X  X ", "X  X ", " XXXX"}},
    {'j', {"   X ", "     ", "   X ", "X  X ", " XX  "}},
    {'d', {"   X ", "   X ", " XXX ", "X  X ", " XXX "}},
    {'i', {" X ", "   ", " X ", " X ", " X "}},
    {'u', {"     ", "X  X ", "X  X ", "X  X ", " XXX "}},
    {'g', {"     ", " XXX ", "X  X ", " XXX ", "XXX  "}},
    {'s', {"     ", " XXX ", "XX   ", "  XX ", "XXX  "}},
    {'(', {" X", "X ", "X ", "X ", " X"}},
    {')', {"X ", " X", " X", " X", "X "}},
    {'.', {" ", " ", " ", " ", "X"}},
    {'?', {"XXXX ", "   X ", " XX  ", "     ", " X   "}},
    {'2', {"XXXX ", "    X", " XXX ", "X    ", "XXXXX"}},
    {'4', {"X  X ", "X  X ", "XXXXX", "   X ", "   X "}},
    {'5', {"XXXXX", "X    ", "XXXX ", "    X", "XXXX "}},
    {'6', {" XXX ", "X    ", "XXXX ", "X   X", " XXX "}},
    {'7', {"XXXXX", "   X ", "  X  ", " X   ", " X   "}},
    {'9', {" XXX ", "X   X", " XXXX", "    X", " XXX "}},
};

static const glyph *find(char c) {
  for (size_t i = 0; i < sizeof glyphs / sizeof glyphs[0]; i++)
    if (glyphs[i].c == c) return &glyphs[i];
  return NULL;
}

static int glyph_width(char c) {
  const glyph *g = find(c);
  return g ? (int)strlen(g->rows[0]) : 3;
}

int big_font_width(const char *text, int scale) {
  int w = 0;
  for (const char *p = text; *p; p++) w += (glyph_width(*p) + 1) * scale;
  return w > 0 ? w - scale : 0;
}

void big_font_row(const char *text, int scale, int row, char *out, size_t out_size) {
  size_t at = 0;
  const int glyph_row = row / scale;
  /* A filled cell is U+2588 FULL BLOCK (3 bytes of UTF-8). */
  for (const char *p = text; *p; p++) {
    const glyph *g = find(*p);
    const int w = glyph_width(*p);
    for (int x = 0; x < w; x++) {
      const int filled = g && glyph_row < BIG_FONT_ROWS && g->rows[glyph_row][x] == 'X';
      for (int s = 0; s < scale; s++) {
        const char *cell = filled ? "\xe2\x96\x88" : " ";
        size_t n = strlen(cell);
        if (at + n + 1 > out_size) goto done;
        memcpy(out + at, cell, n);
        at += n;
      }
    }
    if (p[1])
      for (int s = 0; s < scale && at + 2 <= out_size; s++) out[at++] = ' ';
  }
done:
  out[at < out_size ? at : out_size - 1] = '\0';
}
