// A minimal PNG encoder with stored deflate blocks (RFC 2083, RFC 1950, RFC 1951); see png.h.
#include "apps/eval/png.h"

#include <algorithm>

#include "tensor/atomic_file.h"
#include "apps/eval/checksums.h"

namespace maskdet::eval {
namespace {

void append_u32_big_endian(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

// Length, type, data, then the CRC of type and data (not of the length).
void append_chunk(std::string& out, const char (&type)[5], const std::string& data) {
  append_u32_big_endian(out, static_cast<uint32_t>(data.size()));
  const std::string typed = std::string(type, 4) + data;
  out += typed;
  append_u32_big_endian(out, crc32(typed));
}

// A zlib stream holding `raw` in stored deflate blocks.
std::string zlib_stored(const std::string& raw) {
  // CMF 0x78: deflate with a 32 KiB window; FLG 0x01 makes CMF * 256 + FLG a multiple of 31
  // (the header check) with no preset dictionary and the "fastest" level hint.
  std::string out = "\x78\x01";
  constexpr size_t kMaxStored = 65535;  // LEN is 16 bits
  size_t start = 0;
  do {
    const size_t length = std::min(kMaxStored, raw.size() - start);
    const bool final_block = start + length == raw.size();
    // BFINAL in bit 0, BTYPE 00 (stored) in bits 1-2; the rest of the byte pads to a boundary.
    out += static_cast<char>(final_block ? 1 : 0);
    const uint16_t len = static_cast<uint16_t>(length);
    const uint16_t nlen = static_cast<uint16_t>(~len);
    for (const uint16_t v : {len, nlen}) {  // little-endian, unlike the rest of PNG
      out += static_cast<char>(v & 0xFF);
      out += static_cast<char>(v >> 8);
    }
    out.append(raw, start, length);
    start += length;
  } while (start < raw.size());
  append_u32_big_endian(out, adler32(raw));
  return out;
}

}  // namespace

std::string encode_png(const RgbImage& image) {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string header;
  append_u32_big_endian(header, static_cast<uint32_t>(image.width()));
  append_u32_big_endian(header, static_cast<uint32_t>(image.height()));
  // Bit depth 8, colour type 2 (RGB), compression 0, filter method 0, no interlace.
  header += std::string("\x08\x02\x00\x00\x00", 5);
  append_chunk(png, "IHDR", header);

  const size_t row_bytes = static_cast<size_t>(image.width()) * 3;
  std::string scanlines;
  scanlines.reserve((row_bytes + 1) * image.height());
  for (int y = 0; y < image.height(); ++y) {
    scanlines += '\0';  // filter type 0: the bytes as they are
    scanlines.append(reinterpret_cast<const char*>(image.row(y)), row_bytes);
  }
  append_chunk(png, "IDAT", zlib_stored(scanlines));
  append_chunk(png, "IEND", "");
  return png;
}

void write_png(const std::string& path, const RgbImage& image) { write_file_atomically(path, encode_png(image)); }

}  // namespace maskdet::eval
