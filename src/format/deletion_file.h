// Deletion files: a set of deleted row ids as a serialized 64-bit roaring bitmap.
// Byte layout: docs/format/deletion_file.md (magic, version, crc32c, portable roaring64).
#pragma once

#include <cstdint>
#include <roaring/roaring64map.hh>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"

namespace tessera::format {

/// A set of row ids. Debian's CRoaring (0.2.x) declares Roaring64Map in the global namespace.
using RowIdSet = ::Roaring64Map;

/// Serialize a set of row ids.
std::string EncodeDeletionFile(const RowIdSet& row_ids);
/// Errors: kCorruption on a bad magic, checksum, truncation; never crashes.
Result<RowIdSet> DecodeDeletionFile(std::string_view bytes);

}  // namespace tessera::format
