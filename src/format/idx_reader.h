// Reader for IDX files (the MNIST / Fashion-MNIST format), optionally gzip-compressed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/result.h"

namespace tessera::format {

/// An IDX file of unsigned bytes: `num_items` items of `item_size` values each.
struct IdxData {
  int64_t num_items = 0;
  int64_t item_size = 0;  // product of the dimensions after the first (784 for 28x28 images)
  std::vector<uint8_t> values;
};

/// Read an IDX file of ubyte data (magic 0x00 0x00 0x08 ndims) at `path`; a path ending in
/// ".gz" is decompressed. Reads at most `max_items` items (< 0: all).
/// Errors: kNotFound, kCorruption (bad magic, truncated), kNotSupported (non-ubyte data).
Result<IdxData> ReadIdxFile(const std::string& path, int64_t max_items = -1);

/// Convert images to float vectors, row-major, each value scaled to [0, 1].
std::vector<float> IdxToFloatVectors(const IdxData& data);

}  // namespace tessera::format
