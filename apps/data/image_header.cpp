// Reading an image's size from its header (image_header.h). Every read is bounds-checked: the
// bytes come from the network.
#include "apps/data/image_header.h"

#include <cstdint>
#include <cstdlib>

#include "apps/data/jpeg_structure.h"
#include "tensor/error.h"

namespace maskdet::data {

namespace {

class Bytes {
 public:
  Bytes(std::string_view bytes, const std::string& name, const char* format) : bytes_(bytes), name_(name), format_(format) {}
  bool has(size_t offset, size_t count) const { return offset + count <= bytes_.size(); }
  uint32_t u8(size_t offset) const {
    MASKDET_CHECK(has(offset, 1), "image ", name_, ": its ", format_, " header is cut short (truncated upload?)");
    return static_cast<uint8_t>(bytes_[offset]);
  }
  uint32_t be16(size_t at) const { return u8(at) << 8 | u8(at + 1); }
  uint32_t be32(size_t at) const { return be16(at) << 16 | be16(at + 2); }
  uint32_t le16(size_t at) const { return u8(at) | u8(at + 1) << 8; }
  uint32_t le24(size_t at) const { return le16(at) | u8(at + 2) << 16; }
  uint32_t le32(size_t at) const { return le16(at) | le16(at + 2) << 16; }
  bool tag(size_t at, std::string_view text) const { return has(at, text.size()) && bytes_.substr(at, text.size()) == text; }

 private:
  std::string_view bytes_;
  const std::string& name_;
  const char* format_;
};

// The frame header of the first start-of-frame marker: C0-CF except DHT (C4), JPG (C8), DAC (CC).
PixelSize jpeg_size(const Bytes& b, const std::string& name) {
  size_t i = 2;
  while (true) {
    MASKDET_CHECK(b.u8(i) == 0xFF, "image ", name, ": its JPEG markers are malformed before the frame header");
    while (b.u8(i) == 0xFF) ++i;
    const uint32_t code = b.u8(i++);
    if (code == 0x01 || (code >= 0xD0 && code <= 0xD7)) continue;  // no length
    MASKDET_CHECK(code != 0xD9 && code != 0xDA, "image ", name, ": a JPEG without a frame header");
    const uint32_t length = b.be16(i);
    if (code >= 0xC0 && code <= 0xCF && code != 0xC4 && code != 0xC8 && code != 0xCC) {
      // length(2) precision(1) height(2) width(2); a height of 0 is defined later by a DNL marker.
      const PixelSize size{static_cast<int>(b.be16(i + 3)), static_cast<int>(b.be16(i + 5))};
      MASKDET_CHECK(size.height > 0 && size.width > 0, "image ", name, ": a JPEG frame header without a size");
      return size;
    }
    MASKDET_CHECK(length >= 2, "image ", name, ": a JPEG segment with a length below 2");
    i += length;
  }
}

PixelSize png_size(const Bytes& b, const std::string& name) {
  MASKDET_CHECK(b.tag(12, "IHDR"), "image ", name, ": a PNG whose first chunk is not IHDR");
  const uint32_t width = b.be32(16), height = b.be32(20);
  // PNG limits both to 2^31 - 1; anything above cannot be a valid file.
  MASKDET_CHECK(width > 0 && height > 0 && width < (1u << 31) && height < (1u << 31), "image ", name,
                ": a PNG header with the size ", width, "x", height);
  return {static_cast<int>(height), static_cast<int>(width)};
}

PixelSize bmp_size(const Bytes& b, const std::string& name) {
  const uint32_t header_size = b.le32(14);
  int64_t width = 0, height = 0;
  if (header_size == 12) {  // BITMAPCOREHEADER: 16-bit unsigned sides
    width = b.le16(18);
    height = b.le16(20);
  } else {  // BITMAPINFOHEADER and its extensions: 32-bit signed sides, a negative height is top-down
    width = static_cast<int32_t>(b.le32(18));
    height = std::llabs(static_cast<int32_t>(b.le32(22)));
  }
  MASKDET_CHECK(width > 0 && height > 0 && width < (1ll << 31) && height < (1ll << 31), "image ", name,
                ": a BMP header with the size ", width, "x", height);
  return {static_cast<int>(height), static_cast<int>(width)};
}

PixelSize webp_size(const Bytes& b, const std::string& name) {
  if (b.tag(12, "VP8 ")) {  // lossy: a key frame's start code 9D 01 2A, then 14-bit sides
    MASKDET_CHECK(b.u8(23) == 0x9D && b.u8(24) == 0x01 && b.u8(25) == 0x2A, "image ", name,
                  ": a lossy WebP without its key frame start code");
    return {static_cast<int>(b.le16(28) & 0x3FFF), static_cast<int>(b.le16(26) & 0x3FFF)};
  }
  if (b.tag(12, "VP8L")) {  // lossless: signature 2F, then width - 1 and height - 1 in 14 bits each
    MASKDET_CHECK(b.u8(20) == 0x2F, "image ", name, ": a lossless WebP without its signature byte");
    const uint32_t bits = b.le32(21);
    return {static_cast<int>(((bits >> 14) & 0x3FFF) + 1), static_cast<int>((bits & 0x3FFF) + 1)};
  }
  if (b.tag(12, "VP8X")) {  // extended: the canvas, width - 1 and height - 1 in 24 bits each
    return {static_cast<int>(b.le24(27) + 1), static_cast<int>(b.le24(24) + 1)};
  }
  MASKDET_FAIL("image ", name, ": a WebP whose first chunk is neither VP8, VP8L nor VP8X");
}

}  // namespace

std::optional<ImageHeader> read_image_header(std::string_view bytes, const std::string& name) {
  std::optional<ImageHeader> header;
  if (looks_like_jpeg(bytes)) {
    header = ImageHeader{"JPEG", jpeg_size(Bytes(bytes, name, "JPEG"), name)};
  } else if (bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    header = ImageHeader{"PNG", png_size(Bytes(bytes, name, "PNG"), name)};
  } else if (bytes.substr(0, 2) == "BM") {
    header = ImageHeader{"BMP", bmp_size(Bytes(bytes, name, "BMP"), name)};
  } else if (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    header = ImageHeader{"WebP", webp_size(Bytes(bytes, name, "WebP"), name)};
  }
  if (header) MASKDET_CHECK(header->size.height > 0 && header->size.width > 0, "image ", name, ": a ", header->format,
                            " header with the size ", header->size.width, "x", header->size.height);
  return header;
}

}  // namespace maskdet::data
