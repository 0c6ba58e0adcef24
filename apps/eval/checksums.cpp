// CRC-32 and Adler-32 (RFC 2083 sec. 3.4, RFC 1950 sec. 2.2); see checksums.h.
#include "apps/eval/checksums.h"

#include <algorithm>
#include <array>

namespace maskdet::eval {
namespace {

// The remainder of every byte value, least significant bit first (the reflected form of the
// polynomial x^32 + x^26 + ... + 1, 0xEDB88320), so the data is consumed a byte at a time.
std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

}  // namespace

uint32_t crc32(std::string_view bytes, uint32_t previous) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  uint32_t c = previous ^ 0xFFFFFFFFu;  // the register starts all ones and the result is inverted
  for (const char ch : bytes) c = table[(c ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t adler32(std::string_view bytes, uint32_t previous) {
  constexpr uint32_t kModulus = 65521;  // the largest prime below 2^16
  // 5552 bytes is the longest run whose sums cannot overflow 32 bits before the reduction.
  constexpr size_t kRun = 5552;
  uint32_t a = previous & 0xFFFF, b = previous >> 16;
  for (size_t start = 0; start < bytes.size(); start += kRun) {
    const size_t end = std::min(bytes.size(), start + kRun);
    for (size_t i = start; i < end; ++i) {
      a += static_cast<uint8_t>(bytes[i]);
      b += a;
    }
    a %= kModulus;
    b %= kModulus;
  }
  return (b << 16) | a;
}

}  // namespace maskdet::eval
