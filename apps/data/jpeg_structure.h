// Whether a JPEG file is whole. libjpeg decodes a JPEG cut short (an interrupted copy or
// download) without failing: it warns "Premature end of JPEG file" on stderr, without the
// file's name, and OpenCV hands back the picture with its missing part grey, which would train
// as if it were real. So the bytes are checked first: a JPEG is whole when its segments, walked
// by their lengths and through the entropy-coded data after each start-of-scan, reach the
// end-of-image marker (FF D9). Bytes after that marker are allowed (some cameras append data).
#pragma once
#include <string_view>

namespace maskdet::data {

// `bytes` starts with a JPEG's start-of-image marker (FF D8).
bool looks_like_jpeg(std::string_view bytes);

// For a JPEG (looks_like_jpeg): whether its structure reaches the end-of-image marker.
bool jpeg_is_whole(std::string_view bytes);

}  // namespace maskdet::data
