// Walking a JPEG's markers (jpeg_structure.h), as ITU-T T.81 annex B lays them out: FF xx
// markers, most followed by a two-byte big-endian length that counts itself; after a
// start-of-scan, entropy-coded data in which FF is always followed by 00 (a stuffed byte), a
// restart marker D0-D7 or the next marker. Embedded thumbnails sit inside APPn segments and are
// skipped whole with them, so their own end-of-image markers do not count.
#include "apps/data/jpeg_structure.h"

#include <cstddef>
#include <cstdint>

namespace maskdet::data {

namespace {

constexpr uint8_t kMarker = 0xFF, kStartOfImage = 0xD8, kEndOfImage = 0xD9, kStartOfScan = 0xDA;

bool is_restart(uint8_t code) { return code >= 0xD0 && code <= 0xD7; }

// Markers without a length: TEM, the restarts, start and end of image.
bool stands_alone(uint8_t code) { return code == 0x01 || is_restart(code) || code == kStartOfImage || code == kEndOfImage; }

}  // namespace

bool looks_like_jpeg(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == kMarker &&
         static_cast<uint8_t>(bytes[1]) == kStartOfImage;
}

bool jpeg_is_whole(std::string_view bytes) {
  const auto at = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  const size_t n = bytes.size();
  size_t i = 2;
  while (true) {
    if (i >= n || at(i) != kMarker) return false;
    while (i < n && at(i) == kMarker) ++i;  // fill bytes may pad before a marker
    if (i >= n) return false;
    const uint8_t code = at(i++);
    if (code == kEndOfImage) return true;
    if (stands_alone(code)) continue;
    if (i + 2 > n) return false;
    const size_t length = (static_cast<size_t>(at(i)) << 8) | at(i + 1);
    if (length < 2 || i + length > n) return false;
    i += length;
    if (code != kStartOfScan) continue;
    // The entropy-coded data, up to the FF that starts the next marker.
    while (i < n) {
      if (at(i) != kMarker) {
        ++i;
        continue;
      }
      if (i + 1 >= n) return false;
      const uint8_t next = at(i + 1);
      if (next == 0x00 || is_restart(next)) {
        i += 2;
      } else if (next == kMarker) {
        ++i;
      } else {
        break;
      }
    }
  }
}

}  // namespace maskdet::data
