// The frame shared by Tessera's own file formats (manifests, deletion files): a 20-byte
// header followed by the payload. Layout, documented once in docs/format/manifest.md and
// docs/format/deletion_file.md:
//
//   offset 0   magic            4 bytes, e.g. "TSMF"
//   offset 4   format_version   uint32 little-endian
//   offset 8   payload_length   uint64 little-endian; the file is exactly 20 + this long
//   offset 16  payload_crc32c   uint32 little-endian, base::Crc32c of the payload (unmasked)
//   offset 20  payload
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/crc32c.h"
#include "tessera/result.h"

namespace tessera::format::internal {

inline constexpr size_t kFrameMagicBytes = 4;
inline constexpr size_t kFrameHeaderBytes = 20;
static_assert(kFrameHeaderBytes ==
              kFrameMagicBytes + sizeof(uint32_t) + sizeof(uint64_t) + sizeof(uint32_t));

// Return the header for `payload` followed by `payload`. REQUIRES: magic.size() == 4.
inline std::string FramePayload(std::string_view magic, uint32_t format_version,
                                std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  out.append(magic.substr(0, kFrameMagicBytes));
  base::PutFixed32(&out, format_version);
  base::PutFixed64(&out, payload.size());
  base::PutFixed32(&out, base::Crc32c(payload.data(), payload.size()));
  out.append(payload);
  return out;
}

// Validate the frame of `bytes` and return its payload (a view into `bytes`). `what`
// names the file kind in error messages. Checks, in order: length >= header, magic,
// format version, exact payload length, crc32c.
// Errors: kNotSupported if the format version is newer than `max_format_version` (the file
// was written by a newer Tessera); kCorruption for everything else.
inline Result<std::string_view> UnframePayload(std::string_view bytes, std::string_view magic,
                                               uint32_t max_format_version, std::string_view what) {
  if (bytes.size() < kFrameHeaderBytes) {
    return Status::Corruption(what, ": ", bytes.size(), " bytes is shorter than the ",
                              kFrameHeaderBytes, "-byte header");
  }
  if (bytes.substr(0, kFrameMagicBytes) != magic) {
    return Status::Corruption(what, ": bad magic (expected \"", magic, "\")");
  }
  const uint32_t format_version = base::DecodeFixed32(bytes.data() + 4);
  if (format_version == 0) return Status::Corruption(what, ": format version 0 is invalid");
  if (format_version > max_format_version) {
    return Status::NotSupported(what, ": format version ", format_version,
                                " is newer than the newest this build reads (", max_format_version,
                                "); upgrade Tessera");
  }
  const uint64_t payload_length = base::DecodeFixed64(bytes.data() + 8);
  const uint64_t actual_length = bytes.size() - kFrameHeaderBytes;
  if (payload_length != actual_length) {
    return Status::Corruption(what, ": header says ", payload_length, " payload bytes but ",
                              actual_length, " follow the header");
  }
  const std::string_view payload = bytes.substr(kFrameHeaderBytes);
  const uint32_t stored_crc = base::DecodeFixed32(bytes.data() + 16);
  const uint32_t actual_crc = base::Crc32c(payload.data(), payload.size());
  if (stored_crc != actual_crc) {
    return Status::Corruption(what, ": payload checksum mismatch");
  }
  return payload;
}

}  // namespace tessera::format::internal
