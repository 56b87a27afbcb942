// KeyIndex: the scalar index over a key column that lets upsert find the rows holding a key
// without scanning the table. Index type "BTREE" (LanceDB's name for its scalar key index).
//
// Choice: a sorted array of (encoded key, row id) per immutable segment, searched by binary
// search — what a B-tree becomes when it is written once and never updated. Over a hash table
// it wins on every point that matters here: segments merge by a linear merge, the file is the
// in-memory layout (no rehashing on load), lookups are O(log n) with no collisions to resolve,
// and it stays exact for any key width (utf8 keys included). Equality lookups only: keys are
// ordered by their encoded bytes, not by value.
//
// Like a vector index, a key index is a list of segments in the manifest, each covering a set
// of row-id ranges; rows no segment covers (the tail) are scanned. optimize_indices adds the
// tail as a new segment. Deleted rows stay in a segment and are dropped at lookup time by the
// caller (Snapshot::IsDeleted). Thread-safe after construction.
//
// File layout (indices/<uuid>/keys.idx, little-endian):
//   "TSKX" | u32 version (1) | u64 num_rows | u64 keys_bytes | u32 payload_crc | u32 header_crc
//   payload: u64 offsets[num_rows + 1] | u64 row_ids[num_rows] | keys_bytes of key bytes
// where key i is bytes [offsets[i], offsets[i+1]) and keys are in ascending byte order (ties:
// ascending row id). CRCs are masked CRC-32C (header_crc over the 28 bytes before it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/manifest.h"
#include "tessera/record_batch.h"
#include "tessera/result.h"

namespace tessera::table {

class Snapshot;
class TableStore;

// The index type string of key indices in the manifest and the API.
inline constexpr std::string_view kKeyIndexType = "BTREE";

// Return true if `type` (an IndexSegmentMeta::index_type) names a scalar index, not a vector one.
bool IsScalarIndexType(std::string_view type);

// Append the encoding of row `row` of `column` as one key part: a type tag, then the value
// (length-prefixed for strings), so that different tuples never encode alike.
// Errors: kInvalidArgument for a null or a column type that cannot be a key.
Status AppendKeyPart(const Array& column, int64_t row, std::string* out);

class KeyIndex {
 public:
  KeyIndex() = default;

  // Build from (encoded key, row id) pairs, in any order.
  static KeyIndex Build(std::vector<std::pair<std::string, uint64_t>> entries);
  // Decode Serialize()'s bytes. Errors: kCorruption (never a crash).
  static Result<KeyIndex> Deserialize(std::string_view bytes);
  std::string Serialize() const;

  // Append to *row_ids every row id stored under `key`.
  void Lookup(std::string_view key, std::vector<uint64_t>* row_ids) const;

  int64_t num_rows() const { return static_cast<int64_t>(row_ids_.size()); }
  size_t memory_bytes() const {
    return keys_.size() + (offsets_.size() + row_ids_.size()) * sizeof(uint64_t);
  }

 private:
  std::string_view KeyAt(size_t i) const {
    return std::string_view(keys_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }

  std::vector<uint64_t> offsets_ = {0};
  std::vector<uint64_t> row_ids_;
  std::string keys_;
};

// Build a key index over column `column_index` of the rows of `snapshot` outside `exclude`
// (sorted, disjoint ranges; null = none excluded), skipping deleted rows and null keys; write
// to *covered the row-id ranges it covers (every stored row outside `exclude`, deleted or not).
Result<KeyIndex> BuildKeyIndex(TableStore* store, const Snapshot& snapshot, int column_index,
                               const std::vector<format::RowIdRange>* exclude,
                               std::vector<format::RowIdRange>* covered);

// Write `index` as a new segment file under indices/ (durably) and return its metadata
// (path and num_rows set; the caller fills in name, column, type and coverage).
Result<format::IndexSegmentMeta> WriteKeyIndex(TableStore* store, const KeyIndex& index);

// Load the key index segment `meta` through a process-wide cache (segments are immutable).
// Errors: kIOError, kCorruption (naming the file).
Result<std::shared_ptr<const KeyIndex>> LoadKeyIndex(TableStore* store,
                                                     const format::IndexSegmentMeta& meta);

// Row-id range arithmetic shared by every index kind (query/ uses these for vector indices).
// Return `ranges` minus `covered` (both sorted and disjoint; `covered` merged), sorted.
std::vector<format::RowIdRange> SubtractRanges(const std::vector<format::RowIdRange>& ranges,
                                               const std::vector<format::RowIdRange>& covered);
// Return the sorted, merged union of the coverage of `segments`.
std::vector<format::RowIdRange> MergedCoverage(
    const std::vector<const format::IndexSegmentMeta*>& segments);

}  // namespace tessera::table
