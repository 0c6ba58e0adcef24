// The plots' built-in 5x7 bitmap font, drawn for this project; see bitmap_font.h.
#include "apps/eval/bitmap_font.h"

#include <array>
#include <cstdint>
#include <utility>

namespace maskdet::eval {
namespace {

// Printable ASCII from ' ' (32) to '~' (126). A glyph is its rows from the top, separated by
// spaces, '#' for ink; rows 8 and 9 (below the baseline) may be left out when blank.
constexpr const char* kGlyphs[95] = {
    "..... ..... ..... ..... ..... ..... .....",              // space
    "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",              // !
    ".#.#. .#.#. ..... ..... ..... ..... .....",              // "
    ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",              // #
    "..#.. .#### #.#.. .###. ..#.# ####. ..#..",              // $
    "##... ##..# ...#. ..#.. .#... #..## ...##",              // %
    ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#",              // &
    "..#.. ..#.. ..... ..... ..... ..... .....",              // '
    "...#. ..#.. .#... .#... .#... ..#.. ...#.",              // (
    ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",              // )
    "..... ..#.. #.#.# .###. #.#.# ..#.. .....",              // *
    "..... ..#.. ..#.. ##### ..#.. ..#.. .....",              // +
    "..... ..... ..... ..... ..... .##.. .##.. ..#.. .#...",  // ,
    "..... ..... ..... ##### ..... ..... .....",              // -
    "..... ..... ..... ..... ..... .##.. .##..",              // .
    "..... ....# ...#. ..#.. .#... #.... .....",              // /
    ".###. #...# #..## #.#.# ##..# #...# .###.",              // 0
    "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",              // 1
    ".###. #...# ....# ...#. ..#.. .#... #####",              // 2
    ".###. #...# ....# ..##. ....# #...# .###.",              // 3
    "...#. ..##. .#.#. #..#. ##### ...#. ...#.",              // 4
    "##### #.... ####. ....# ....# #...# .###.",              // 5
    "..##. .#... #.... ####. #...# #...# .###.",              // 6
    "##### ....# ...#. ..#.. .#... .#... .#...",              // 7
    ".###. #...# #...# .###. #...# #...# .###.",              // 8
    ".###. #...# #...# .#### ....# ...#. .##..",              // 9
    "..... .##.. .##.. ..... .##.. .##.. .....",              // :
    "..... .##.. .##.. ..... .##.. .##.. ..#.. .#...",        // ;
    "...#. ..#.. .#... #.... .#... ..#.. ...#.",              // <
    "..... ..... ##### ..... ##### ..... .....",              // =
    ".#... ..#.. ...#. ....# ...#. ..#.. .#...",              // >
    ".###. #...# ....# ...#. ..#.. ..... ..#..",              // ?
    ".###. #...# #.### #.#.# #.### #.... .####",              // @
    ".###. #...# #...# ##### #...# #...# #...#",              // A
    "####. #...# #...# ####. #...# #...# ####.",              // B
    ".###. #...# #.... #.... #.... #...# .###.",              // C
    "####. #...# #...# #...# #...# #...# ####.",              // D
    "##### #.... #.... ####. #.... #.... #####",              // E
    "##### #.... #.... ####. #.... #.... #....",              // F
    ".###. #...# #.... #.### #...# #...# .####",              // G
    "#...# #...# #...# ##### #...# #...# #...#",              // H
    ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",              // I
    "..### ...#. ...#. ...#. ...#. #..#. .##..",              // J
    "#...# #..#. #.#.. ##... #.#.. #..#. #...#",              // K
    "#.... #.... #.... #.... #.... #.... #####",              // L
    "#...# ##.## #.#.# #.#.# #...# #...# #...#",              // M
    "#...# #...# ##..# #.#.# #..## #...# #...#",              // N
    ".###. #...# #...# #...# #...# #...# .###.",              // O
    "####. #...# #...# ####. #.... #.... #....",              // P
    ".###. #...# #...# #...# #.#.# #..#. .##.#",              // Q
    "####. #...# #...# ####. #.#.. #..#. #...#",              // R
    ".#### #.... #.... .###. ....# ....# ####.",              // S
    "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",              // T
    "#...# #...# #...# #...# #...# #...# .###.",              // U
    "#...# #...# #...# #...# #...# .#.#. ..#..",              // V
    "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",              // W
    "#...# #...# .#.#. ..#.. .#.#. #...# #...#",              // X
    "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",              // Y
    "##### ....# ...#. ..#.. .#... #.... #####",              // Z
    ".###. .#... .#... .#... .#... .#... .###.",              // [
    "..... #.... .#... ..#.. ...#. ....# .....",              // backslash
    ".###. ...#. ...#. ...#. ...#. ...#. .###.",              // ]
    "..#.. .#.#. #...# ..... ..... ..... .....",              // ^
    "..... ..... ..... ..... ..... ..... ..... #####",        // _
    ".#... ..#.. ..... ..... ..... ..... .....",              // `
    "..... ..... .###. ....# .#### #...# .####",              // a
    "#.... #.... #.##. ##..# #...# #...# ####.",              // b
    "..... ..... .###. #.... #.... #...# .###.",              // c
    "....# ....# .##.# #..## #...# #...# .####",              // d
    "..... ..... .###. #...# ##### #.... .###.",              // e
    "..##. .#..# .#... ###.. .#... .#... .#...",              // f
    "..... ..... .#### #...# #...# .#### ....# #...# .###.",  // g
    "#.... #.... #.##. ##..# #...# #...# #...#",              // h
    "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",              // i
    "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..",  // j
    "#.... #.... #..#. #.#.. ##... #.#.. #..#.",              // k
    ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",              // l
    "..... ..... ##.#. #.#.# #.#.# #.#.# #...#",              // m
    "..... ..... #.##. ##..# #...# #...# #...#",              // n
    "..... ..... .###. #...# #...# #...# .###.",              // o
    "..... ..... ####. #...# #...# ####. #.... #.... #....",  // p
    "..... ..... .#### #...# #...# .#### ....# ....# ....#",  // q
    "..... ..... #.##. ##..# #.... #.... #....",              // r
    "..... ..... .###. #.... .###. ....# ####.",              // s
    ".#... .#... ###.. .#... .#... .#..# ..##.",              // t
    "..... ..... #...# #...# #...# #..## .##.#",              // u
    "..... ..... #...# #...# #...# .#.#. ..#..",              // v
    "..... ..... #...# #...# #.#.# #.#.# .#.#.",              // w
    "..... ..... #...# .#.#. ..#.. .#.#. #...#",              // x
    "..... ..... #...# #...# #...# .#### ....# #...# .###.",  // y
    "..... ..... ##### ...#. ..#.. .#... #####",              // z
    "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.",              // {
    "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",              // |
    ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...",              // }
    "..... ..... .#... #.#.# ...#. ..... .....",              // ~
};

using GlyphRows = std::array<uint8_t, kGlyphHeight>;  // bit c of row r: column c is ink

constexpr GlyphRows parse_glyph(const char* rows) {
  GlyphRows bits{};
  int row = 0, column = 0;
  for (const char* p = rows; *p != '\0'; ++p) {
    if (*p == ' ') {
      ++row;
      column = 0;
    } else {
      if (*p == '#') bits[row] |= static_cast<uint8_t>(1u << column);
      ++column;
    }
  }
  return bits;
}

constexpr std::array<GlyphRows, 95> parse_font() {
  std::array<GlyphRows, 95> font{};
  for (size_t i = 0; i < font.size(); ++i) font[i] = parse_glyph(kGlyphs[i]);
  return font;
}

constexpr std::array<GlyphRows, 95> kFont = parse_font();

// A hollow box for characters the font lacks, so they show rather than vanish.
constexpr GlyphRows kMissing = parse_glyph("##### #...# #...# #...# #...# #...# #####");

const GlyphRows& glyph(char c) {
  const int index = static_cast<unsigned char>(c) - 32;
  return index >= 0 && index < 95 ? kFont[index] : kMissing;
}

// Draws text with each glyph pixel mapped through place(column along the text, row) to the
// top-left of its scale x scale block.
template <class Place>
void draw_glyphs(RgbImage& image, std::string_view text, Rgb color, int scale, Place place) {
  for (size_t i = 0; i < text.size(); ++i) {
    const GlyphRows& rows = glyph(text[i]);
    for (int row = 0; row < kGlyphHeight; ++row)
      for (int column = 0; column < kGlyphWidth; ++column) {
        if (!(rows[row] >> column & 1)) continue;
        const auto [x, y] = place(static_cast<int>(i) * kGlyphAdvance + column, row);
        for (int dy = 0; dy < scale; ++dy)
          for (int dx = 0; dx < scale; ++dx) image.set(x + dx, y + dy, color);
      }
  }
}

}  // namespace

bool glyph_covers(char c, int column, int row) {
  if (column < 0 || column >= kGlyphWidth || row < 0 || row >= kGlyphHeight) return false;
  return glyph(c)[row] >> column & 1;
}

int text_width(std::string_view text, int scale) {
  if (text.empty()) return 0;
  return (static_cast<int>(text.size()) * kGlyphAdvance - (kGlyphAdvance - kGlyphWidth)) * scale;
}

void draw_text(RgbImage& image, int x, int y, std::string_view text, Rgb color, int scale) {
  draw_glyphs(image, text, color, scale, [&](int along, int row) {
    return std::pair{x + along * scale, y + row * scale};
  });
}

void draw_text_upward(RgbImage& image, int x, int y, std::string_view text, Rgb color, int scale) {
  // Turned a quarter left: the text runs up from the bottom of the box, and a glyph's top row
  // lies at the box's left edge.
  const int bottom = y + text_width(text, scale) - scale;
  draw_glyphs(image, text, color, scale, [&](int along, int row) {
    return std::pair{x + row * scale, bottom - along * scale};
  });
}

}  // namespace maskdet::eval
