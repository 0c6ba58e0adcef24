// A built-in 5x7 bitmap font for the plots' titles, ticks and legends, so that text needs no
// font files or libraries. Every printable ASCII character has a glyph; lower-case letters and
// a few marks reach two rows below the baseline. Glyphs are drawn scaled by whole pixels.
#pragma once
#include <string_view>

#include "apps/eval/rgb_image.h"

namespace maskdet::eval {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphAscent = 7;   // rows from the top of a capital to the baseline
inline constexpr int kGlyphHeight = 9;   // with the descender rows
inline constexpr int kGlyphAdvance = 6;  // one blank column between characters

// Whether the glyph of c covers (column, row) of its 5x9 cell; characters outside printable
// ASCII show as a hollow box.
bool glyph_covers(char c, int column, int row);

// Width and height in pixels of text drawn at `scale`.
int text_width(std::string_view text, int scale = 1);
inline int text_height(int scale = 1) { return kGlyphHeight * scale; }

// Left to right, the top-left corner of the first cell at (x, y).
void draw_text(RgbImage& image, int x, int y, std::string_view text, Rgb color, int scale = 1);

// Turned a quarter left, reading bottom to top (a y-axis label): the text's box is
// text_height wide and text_width tall with its top-left corner at (x, y).
void draw_text_upward(RgbImage& image, int x, int y, std::string_view text, Rgb color, int scale = 1);

}  // namespace maskdet::eval
