// The PNG encoder (apps/eval/png.h) and its checksums: files are read back by a small decoder
// written here for stored deflate blocks, checking the signature, every chunk's CRC, IHDR, the
// zlib header and Adler-32, and the pixels themselves; plus the atomic write to disk.
#include "apps/eval/png.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/eval/checksums.h"
#include "apps/eval/plot.h"

namespace maskdet::eval {
namespace {

uint32_t read_u32_big_endian(const std::string& s, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8 | static_cast<uint8_t>(s[at + 3]);
}

struct Chunk {
  std::string type, data;
};

// Splits a PNG file into chunks, failing the test on a bad signature or CRC.
std::vector<Chunk> read_chunks(const std::string& png) {
  std::vector<Chunk> chunks;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  for (size_t at = 8; at < png.size();) {
    const uint32_t length = read_u32_big_endian(png, at);
    const std::string typed = png.substr(at + 4, 4 + length);
    EXPECT_EQ(read_u32_big_endian(png, at + 8 + length), crc32(typed)) << "CRC of chunk " << typed.substr(0, 4);
    chunks.push_back({typed.substr(0, 4), typed.substr(4)});
    at += 12 + length;
  }
  return chunks;
}

// The scanlines inside a zlib stream of stored blocks; counts the blocks.
std::string inflate_stored(const std::string& zlib, int* blocks) {
  EXPECT_EQ((static_cast<uint8_t>(zlib[0]) * 256 + static_cast<uint8_t>(zlib[1])) % 31, 0) << "zlib header check";
  EXPECT_EQ(static_cast<uint8_t>(zlib[0]) & 0x0F, 8) << "deflate";
  std::string raw;
  size_t at = 2;
  *blocks = 0;
  for (bool final_block = false; !final_block;) {
    const uint8_t header = static_cast<uint8_t>(zlib[at]);
    final_block = header & 1;
    EXPECT_EQ(header >> 1 & 3, 0) << "stored block";
    const uint16_t len = static_cast<uint8_t>(zlib[at + 1]) | static_cast<uint8_t>(zlib[at + 2]) << 8;
    const uint16_t nlen = static_cast<uint8_t>(zlib[at + 3]) | static_cast<uint8_t>(zlib[at + 4]) << 8;
    EXPECT_EQ(static_cast<uint16_t>(~len), nlen);
    raw += zlib.substr(at + 5, len);
    at += 5 + len;
    ++*blocks;
  }
  EXPECT_EQ(read_u32_big_endian(zlib, at), adler32(raw));
  EXPECT_EQ(at + 4, zlib.size());
  return raw;
}

// Decodes an encode_png file back to an image, checking its structure on the way.
RgbImage decode(const std::string& png, int* blocks) {
  const std::vector<Chunk> chunks = read_chunks(png);
  EXPECT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].type, "IHDR");
  EXPECT_EQ(chunks[1].type, "IDAT");
  EXPECT_EQ(chunks.back().type, "IEND");
  EXPECT_TRUE(chunks.back().data.empty());
  const std::string& ihdr = chunks[0].data;
  EXPECT_EQ(ihdr.size(), 13u);
  EXPECT_EQ(ihdr.substr(8), std::string("\x08\x02\x00\x00\x00", 5));  // 8-bit RGB, no interlace
  const int width = static_cast<int>(read_u32_big_endian(ihdr, 0)),
            height = static_cast<int>(read_u32_big_endian(ihdr, 4));
  const std::string raw = inflate_stored(chunks[1].data, blocks);
  EXPECT_EQ(raw.size(), static_cast<size_t>(height) * (1 + 3 * width));
  RgbImage image(width, height);
  for (int y = 0; y < height; ++y) {
    const size_t row = static_cast<size_t>(y) * (1 + 3 * width);
    EXPECT_EQ(raw[row], 0) << "filter type of row " << y;
    for (int x = 0; x < width; ++x) {
      const size_t p = row + 1 + 3 * x;
      image.set(x, y,
                {static_cast<uint8_t>(raw[p]), static_cast<uint8_t>(raw[p + 1]), static_cast<uint8_t>(raw[p + 2])});
    }
  }
  return image;
}

void expect_same_pixels(const RgbImage& a, const RgbImage& b) {
  ASSERT_EQ(a.width(), b.width());
  ASSERT_EQ(a.height(), b.height());
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x) ASSERT_EQ(a.at(x, y), b.at(x, y)) << "pixel " << x << ", " << y;
}

TEST(Checksums, KnownValues) {
  // The standard check value of CRC-32 and the worked example of Adler-32.
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(adler32("Wikipedia"), 0x11E60398u);
  EXPECT_EQ(adler32(""), 1u);
  // In pieces, the same as at once, including past Adler-32's 5552-byte reduction run.
  const std::string long_text(20000, '\xff');
  EXPECT_EQ(crc32(long_text.substr(7000), crc32(long_text.substr(0, 7000))), crc32(long_text));
  EXPECT_EQ(adler32(long_text.substr(7000), adler32(long_text.substr(0, 7000))), adler32(long_text));
}

// Encodes and decodes the image, which must come back unchanged, in `blocks` stored blocks.
void expect_round_trip(const RgbImage& image, int blocks) {
  int found = 0;
  const RgbImage back = decode(encode_png(image), &found);
  EXPECT_EQ(found, blocks);
  expect_same_pixels(back, image);
}

TEST(Png, SmallImageRoundTrips) {
  RgbImage image(3, 2);
  image.set(0, 0, {255, 0, 0});
  image.set(1, 0, {0, 255, 0});
  image.set(2, 1, {1, 2, 3});
  expect_round_trip(image, 1);
}

TEST(Png, LargeImageSpansSeveralStoredBlocks) {
  // 300 rows of 1 + 3 * 200 bytes = 180300 bytes: three blocks of at most 65535.
  RgbImage image(200, 300);
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 200; ++x)
      image.set(x, y, {static_cast<uint8_t>(x), static_cast<uint8_t>(y), static_cast<uint8_t>(x ^ y)});
  expect_round_trip(image, 3);
}

TEST(Png, PlotWrittenToDiskReadsBack) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "maskdet_png_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  LinePlot plot;
  plot.title = "PR curve";
  plot.series.push_back({"mask AP50 0.91", {0, 0.5, 1}, {1, 0.9, 0.4}, std::nullopt, false});
  const RgbImage image = render_plot(plot, 320, 240);
  const std::string path = (dir / "plot.png").string();
  write_png(path, image);
  write_png(path, image);  // over an existing file

  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  int blocks = 0;
  const RgbImage back = decode(bytes.str(), &blocks);
  EXPECT_EQ(back.width(), 320);
  EXPECT_EQ(back.height(), 240);
  expect_same_pixels(back, image);
  // Only the file itself: the temporary was renamed, not left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  EXPECT_THROW(write_png((dir / "missing" / "plot.png").string(), image), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace maskdet::eval
