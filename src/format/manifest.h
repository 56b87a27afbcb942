// Manifest: the complete, immutable description of one table version.
// Byte layout: docs/format/manifest.md (flatbuffers schema manifest.fbs,
// framed by a magic, a format version and a crc32c).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera::format {

/// Row ids [start, end).
struct RowIdRange {
  uint64_t start = 0;
  uint64_t end = 0;
  friend bool operator==(const RowIdRange&, const RowIdRange&) = default;
};

/// Min/max/null count of one column of one fragment. `min`/`max` are monostate when the
/// column has no statistics (vectors) or only nulls.
struct ColumnStats {
  int32_t field_index = 0;
  Value min;
  Value max;
  int64_t null_count = 0;
  friend bool operator==(const ColumnStats&, const ColumnStats&) = default;
};

/// One data file. Row i of the file has the i-th row id of `row_ids` (ranges in file order).
struct FragmentMeta {
  uint64_t id = 0;
  std::string path;  // relative to the table root, e.g. "data/<uuid>.arrow"
  int64_t num_rows = 0;
  int64_t size_bytes = 0;
  std::vector<RowIdRange> row_ids;
  std::vector<ColumnStats> stats;
  friend bool operator==(const FragmentMeta&, const FragmentMeta&) = default;
};

/// One deletion file in force: a set of deleted row ids.
struct DeletionFileMeta {
  std::string path;  // relative, e.g. "deletions/<uuid>.del"
  int64_t num_rows = 0;
  friend bool operator==(const DeletionFileMeta&, const DeletionFileMeta&) = default;
};

/// One immutable vector-index segment and the row ids it covers.
struct IndexSegmentMeta {
  std::string index_name;
  std::string column;
  std::string index_type;  // "IVF_HNSW_SQ", ...
  std::string path;        // relative, e.g. "indices/<uuid>/segment.idx"
  std::string params_json;
  int64_t num_rows = 0;
  std::vector<RowIdRange> covered;  // row ids indexed by this segment
  friend bool operator==(const IndexSegmentMeta&, const IndexSegmentMeta&) = default;
};

/// The transaction that produced a version: the table's operational log.
struct TransactionMeta {
  std::string uuid;           // unique per commit attempt; lets a writer recognise its own commit
  std::string operation;      // "create", "add", "delete", "restore", "compact", ...
  uint64_t base_version = 0;  // the version the writer read (0 for create)
  int64_t timestamp_us = 0;   // commit wall time, µs since the epoch
  int64_t duration_us = 0;    // wall time from start of the operation to commit
  int64_t rows_added = 0;
  int64_t rows_deleted = 0;
  std::string detail;  // free-form JSON with operation-specific numbers
  friend bool operator==(const TransactionMeta&, const TransactionMeta&) = default;
};

inline constexpr size_t kMaxLineage = 32;

struct Manifest {
  uint64_t version = 0;
  Schema schema;
  std::vector<FragmentMeta> fragments;
  std::vector<DeletionFileMeta> deletion_files;
  std::vector<IndexSegmentMeta> index_segments;
  uint64_t next_row_id = 0;
  uint64_t next_fragment_id = 0;
  std::map<std::string, int64_t> stream_checkpoints;  // stream id -> last committed batch id
  std::map<std::string, std::string> config;          // table options, key -> value
  TransactionMeta transaction;
  /// Transaction uuids of the versions this one descends from, newest first (the parent's
  /// first), at most kMaxLineage. Empty in manifests written before the field existed.
  std::vector<std::string> lineage;
  friend bool operator==(const Manifest&, const Manifest&) = default;
};

/// Serialize `manifest`. Never fails for a manifest with a valid schema.
std::string EncodeManifest(const Manifest& manifest);
/// Parse bytes produced by EncodeManifest. Errors: kCorruption on a bad magic, checksum,
/// truncation, unsupported format version or any malformed field; never crashes.
Result<Manifest> DecodeManifest(std::string_view bytes);
/// Render a manifest as JSON (for `tessera inspect`).
std::string ManifestToJson(const Manifest& manifest);

}  // namespace tessera::format
