#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define TESSERA_CRC32C_X86 1
#else
#define TESSERA_CRC32C_X86 0
#endif

#include "base/coding.h"

namespace tessera::base {
namespace {

constexpr uint32_t kCastagnoliReflected = 0x82F63B78u;

// kTables[k][b] is the CRC register after feeding byte b followed by k zero bytes into a
// zero register: the tables of slicing-by-8, built at compile time.
using Crc32cTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Crc32cTables MakeTables() {
  Crc32cTables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kCastagnoliReflected : 0);
    tables[0][byte] = crc;
  }
  for (int slice = 1; slice < 8; ++slice) {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      const uint32_t prev = tables[slice - 1][byte];
      tables[slice][byte] = (prev >> 8) ^ tables[0][prev & 0xff];
    }
  }
  return tables;
}

constexpr Crc32cTables kTables = MakeTables();

#if TESSERA_CRC32C_X86
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(const uint8_t* ptr, size_t n,
                                                       uint32_t init) {
  uint64_t crc = static_cast<uint32_t>(~init);
  // Feed single bytes until ptr is 8-byte aligned, then whole words.
  while (n > 0 && (reinterpret_cast<uintptr_t>(ptr) & 7) != 0) {
    crc = _mm_crc32_u8(static_cast<uint32_t>(crc), *ptr++);
    --n;
  }
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, ptr, sizeof(word));
    crc = _mm_crc32_u64(crc, word);
    ptr += 8;
    n -= 8;
  }
  while (n > 0) {
    crc = _mm_crc32_u8(static_cast<uint32_t>(crc), *ptr++);
    --n;
  }
  return ~static_cast<uint32_t>(crc);
}
#endif

}  // namespace

namespace internal {

uint32_t Crc32cPortable(const void* data, size_t n, uint32_t init) {
  const auto* ptr = static_cast<const uint8_t*>(data);
  uint32_t crc = ~init;
  while (n >= 8) {
    const uint64_t word = DecodeFixed64(reinterpret_cast<const char*>(ptr)) ^ crc;
    crc = kTables[7][word & 0xff] ^ kTables[6][(word >> 8) & 0xff] ^
          kTables[5][(word >> 16) & 0xff] ^ kTables[4][(word >> 24) & 0xff] ^
          kTables[3][(word >> 32) & 0xff] ^ kTables[2][(word >> 40) & 0xff] ^
          kTables[1][(word >> 48) & 0xff] ^ kTables[0][word >> 56];
    ptr += 8;
    n -= 8;
  }
  while (n > 0) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ *ptr++) & 0xff];
    --n;
  }
  return ~crc;
}

uint32_t Crc32cHardware(const void* data, size_t n, uint32_t init) {
#if TESSERA_CRC32C_X86
  return Crc32cSse42(static_cast<const uint8_t*>(data), n, init);
#else
  return Crc32cPortable(data, n, init);
#endif
}

bool Crc32cHardwareAvailable() {
#if TESSERA_CRC32C_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

}  // namespace internal

uint32_t Crc32c(const void* data, size_t n, uint32_t init) {
  // Detected once; a function-local static, so there is no global initializer.
  static const bool kUseHardware = internal::Crc32cHardwareAvailable();
  return kUseHardware ? internal::Crc32cHardware(data, n, init)
                      : internal::Crc32cPortable(data, n, init);
}

}  // namespace tessera::base
