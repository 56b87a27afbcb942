// The index-segment file: a fixed header (magic "TSIX", format version, index type, metric,
// dim, row count, payload size, CRC-32C of the payload and of the header) followed by the
// type-specific payload. Byte layout: docs/format/index_segment.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "index/vector_index.h"
#include "tessera/result.h"

namespace tessera::index {

inline constexpr char kIndexFileMagic[4] = {'T', 'S', 'I', 'X'};
inline constexpr uint32_t kIndexFormatVersion = 1;
inline constexpr size_t kIndexFileHeaderSize = 48;

struct IndexFileHeader {
  uint32_t format_version = kIndexFormatVersion;
  IndexType type = IndexType::kIvfHnswSq;
  Metric metric = Metric::kL2;
  int32_t dim = 0;
  uint64_t num_rows = 0;
  uint64_t payload_size = 0;
};

// Return the file bytes of `index`.
std::string SerializeIndex(const VectorIndex& index);

// Decode and check the header at the front of `bytes` (the payload is not read or checked).
// Errors: kCorruption (short input, bad magic, header checksum, bad field);
// kNotSupported for a newer format version.
Result<IndexFileHeader> ReadIndexFileHeader(std::string_view bytes);

// Decode a whole index file; arrays are bulk-copied out of `bytes`, which the caller may free
// afterwards. Errors: as ReadIndexFileHeader(); kCorruption if the size, the payload checksum or
// any array length, id or count is wrong. Never crashes on bad input.
Result<std::unique_ptr<VectorIndex>> DeserializeIndex(std::string_view bytes);

}  // namespace tessera::index
