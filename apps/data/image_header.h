// An image's format and pixel size read from the first bytes of its file, without decoding it,
// so a server can refuse a picture too large to decode before it allocates the pixels (a
// 10 MB PNG can hold a 30000 x 30000 canvas of one colour). Reads the four formats a photo
// upload comes in: JPEG (ITU-T T.81: the frame header of the first SOFn marker), PNG (ISO/IEC
// 15948: the IHDR chunk), BMP (the BITMAPCOREHEADER or BITMAPINFOHEADER after the file header)
// and WebP (the RIFF container's first chunk: VP8, VP8L or VP8X, RFC 9649).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "apps/data/rgb_image.h"

namespace maskdet::data {

struct ImageHeader {
  std::string format;  // "JPEG", "PNG", "BMP", "WebP"
  PixelSize size;
};

// nullopt when the bytes start with none of the four formats' signatures. Throws maskdet::Error,
// naming `name`, when the signature is there but the header is cut short or gives no size.
std::optional<ImageHeader> read_image_header(std::string_view bytes, const std::string& name);

}  // namespace maskdet::data
