// Little-endian fixed-width and varint encodings used by Tessera's file formats.
// Every multi-byte integer Tessera writes is little-endian regardless of the host.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::base {

// The largest number of bytes a varint64 occupies.
inline constexpr int kMaxVarint64Bytes = 10;

// Write `value` little-endian into dst[0..3]. REQUIRES: dst has 4 writable bytes.
inline void EncodeFixed32(char* dst, uint32_t value) {
  for (int byte_idx = 0; byte_idx < 4; ++byte_idx) {
    dst[byte_idx] = static_cast<char>(value >> (8 * byte_idx));
  }
}

// Write `value` little-endian into dst[0..7]. REQUIRES: dst has 8 writable bytes.
inline void EncodeFixed64(char* dst, uint64_t value) {
  for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
    dst[byte_idx] = static_cast<char>(value >> (8 * byte_idx));
  }
}

// Return the little-endian uint32 at ptr[0..3]. REQUIRES: 4 readable bytes.
inline uint32_t DecodeFixed32(const char* ptr) {
  uint32_t value = 0;
  for (int byte_idx = 0; byte_idx < 4; ++byte_idx) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(ptr[byte_idx])) << (8 * byte_idx);
  }
  return value;
}

// Return the little-endian uint64 at ptr[0..7]. REQUIRES: 8 readable bytes.
inline uint64_t DecodeFixed64(const char* ptr) {
  uint64_t value = 0;
  for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(ptr[byte_idx])) << (8 * byte_idx);
  }
  return value;
}

// Append `value` little-endian (4 bytes) to *dst.
inline void PutFixed32(std::string* dst, uint32_t value) {
  char buf[4];
  EncodeFixed32(buf, value);
  dst->append(buf, sizeof(buf));
}

// Append `value` little-endian (8 bytes) to *dst.
inline void PutFixed64(std::string* dst, uint64_t value) {
  char buf[8];
  EncodeFixed64(buf, value);
  dst->append(buf, sizeof(buf));
}

// Append `value` as a varint (LEB128: 7 bits per byte, low groups first, high bit = more).
inline void PutVarint64(std::string* dst, uint64_t value) {
  while (value >= 0x80) {
    dst->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  dst->push_back(static_cast<char>(value));
}

// Return the number of bytes PutVarint64 writes for `value` (1..10).
inline int VarintLength(uint64_t value) {
  int length = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++length;
  }
  return length;
}

// Parse a varint64 from the front of *input into *value and drop its bytes from *input.
// Return false, leaving *input unspecified, if the varint is truncated, longer than 10
// bytes, overflows 64 bits or is not in its shortest form (so every value has exactly one
// encoding).
inline bool GetVarint64(std::string_view* input, uint64_t* value) {
  uint64_t result = 0;
  for (int byte_idx = 0; byte_idx < kMaxVarint64Bytes; ++byte_idx) {
    if (input->empty()) return false;
    const uint64_t byte = static_cast<uint8_t>(input->front());
    input->remove_prefix(1);
    // The 10th byte holds only the top bit of a uint64.
    if (byte_idx == kMaxVarint64Bytes - 1 && byte > 1) return false;
    result |= (byte & 0x7f) << (7 * byte_idx);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && byte_idx > 0) return false;  // overlong: trailing zero group
      *value = result;
      return true;
    }
  }
  return false;
}

}  // namespace tessera::base
