// A minimal PNG encoder (PNG specification, RFC 2083 / ISO 15948): 8-bit RGB, no interlace,
// every scanline with filter type 0, and the zlib stream (RFC 1950) made of stored, that is
// uncompressed, deflate blocks (RFC 1951 sec. 3.2.4). The files are larger than a compressing
// encoder's but valid for every viewer, and the encoder needs no zlib.
#pragma once
#include <string>

#include "apps/eval/rgb_image.h"

namespace maskdet::eval {

// The whole file: signature, IHDR, one IDAT, IEND.
std::string encode_png(const RgbImage& image);

// encode_png written atomically (atomic_file.h); throws maskdet::Error on failure.
void write_png(const std::string& path, const RgbImage& image);

}  // namespace maskdet::eval
