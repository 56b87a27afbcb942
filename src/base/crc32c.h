// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every Tessera
// file format. Uses the SSE4.2 crc32 instruction when the CPU has it (detected once at
// run time) and a slicing-by-8 table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::base {

// Return the CRC-32C of data[0, n). `init` is the CRC of preceding bytes, so
// Crc32c(b, nb, Crc32c(a, na)) == CRC-32C of the concatenation a + b. Crc32c("123456789")
// == 0xE3069283. Thread-safe. REQUIRES: data is readable for n bytes (may be null if n == 0).
uint32_t Crc32c(const void* data, size_t n, uint32_t init = 0);

// Return a masked form of `crc` (LevelDB's): storing the CRC of bytes that themselves
// contain CRCs is weak, so formats that embed checksums in checksummed data store masked ones.
inline uint32_t Crc32cMask(uint32_t crc) {
  constexpr uint32_t kMaskDelta = 0xa282ead8u;
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

// Return the CRC whose Crc32cMask() is `masked_crc`.
inline uint32_t Crc32cUnmask(uint32_t masked_crc) {
  constexpr uint32_t kMaskDelta = 0xa282ead8u;
  const uint32_t rotated = masked_crc - kMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

namespace internal {
// The two implementations behind Crc32c(), exposed for tests and benchmarks.
uint32_t Crc32cPortable(const void* data, size_t n, uint32_t init);
// REQUIRES: Crc32cHardwareAvailable().
uint32_t Crc32cHardware(const void* data, size_t n, uint32_t init);
// Return true if this CPU has the SSE4.2 crc32 instruction.
bool Crc32cHardwareAvailable();
}  // namespace internal

}  // namespace tessera::base
