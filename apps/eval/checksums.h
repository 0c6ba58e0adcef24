// The two checksums a PNG file carries: CRC-32 (ISO 3309 / ITU-T V.42, the polynomial PNG's
// chunks use, RFC 2083 sec. 3.4) and Adler-32 (the zlib stream's trailer, RFC 1950 sec. 2.2).
#pragma once
#include <cstdint>
#include <string_view>

namespace maskdet::eval {

// Both take the running value so that data can be fed in pieces: crc32(b, crc32(a)) is the
// CRC of a followed by b.
uint32_t crc32(std::string_view bytes, uint32_t previous = 0);
uint32_t adler32(std::string_view bytes, uint32_t previous = 1);

}  // namespace maskdet::eval
