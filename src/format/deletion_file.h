// Deletion files: a set of deleted row ids as a serialized 64-bit roaring bitmap.
// Byte layout: docs/format/deletion_file.md (magic, version, crc32c, portable roaring64).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <roaring/roaring64map.hh>

#include "tessera/result.h"

namespace tessera::format {

/// Serialize a set of row ids.
std::string EncodeDeletionFile(const roaring::Roaring64Map& row_ids);
/// Errors: kCorruption on a bad magic, checksum, truncation; never crashes.
Result<roaring::Roaring64Map> DecodeDeletionFile(std::string_view bytes);

}  // namespace tessera::format
