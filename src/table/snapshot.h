// Snapshot: one committed version, loaded and immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/deletion_file.h"
#include "format/manifest.h"
#include "tessera/options.h"
#include "tessera/record_batch.h"
#include "tessera/result.h"

namespace tessera::table {

class TableStore;

/// A committed version: its manifest plus the union of its deletion files.
/// Immutable after construction; shared because every reader of the version (scans, the
/// Table handle, later queries) pins it while it runs.
class Snapshot {
 public:
  Snapshot(format::Manifest manifest, format::RowIdSet deleted);

  const format::Manifest& manifest() const { return manifest_; }
  uint64_t version() const { return manifest_.version; }
  const Schema& schema() const { return manifest_.schema; }
  /// Row ids deleted in this version (only ids of rows that existed when deleted).
  const format::RowIdSet& deleted() const { return deleted_; }
  bool IsDeleted(uint64_t row_id) const { return deleted_.contains(row_id); }

  /// Total rows stored in fragments, deleted or not.
  int64_t num_stored_rows() const { return num_stored_rows_; }
  int64_t num_deleted_rows() const { return static_cast<int64_t>(deleted_.cardinality()); }
  int64_t num_live_rows() const { return num_stored_rows_ - num_deleted_rows(); }

  /// Locate the live or deleted row with id `row_id`: fragment index and row index inside the
  /// fragment's file. Errors: kNotFound.
  struct RowLocation {
    int fragment_index;
    int64_t row_idx;
  };
  Result<RowLocation> Locate(uint64_t row_id) const;
  /// Return whether a fragment of this version stores `row_id` (deleted or not). Rows removed
  /// by compaction are no longer stored, though an index segment may still list them.
  bool Stores(uint64_t row_id) const;

 private:
  struct RangeEntry {
    uint64_t start;
    uint64_t end;
    int fragment_index;
    int64_t first_row_idx;  // row index in the fragment of `start`
  };

  format::Manifest manifest_;
  format::RowIdSet deleted_;
  int64_t num_stored_rows_ = 0;
  std::vector<RangeEntry> ranges_;  // sorted by start
};

/// Stored rows (deleted or not) that no segment of the manifest's first index covers; every
/// stored row when there is no index.
int64_t UnindexedRows(const format::Manifest& manifest);

/// One sentence per HealthLimits limit `snapshot` is past, among those a manifest answers
/// without further I/O: fragments, small fragments, unindexed rows, deleted rows.
std::vector<std::string> DebtProblems(const Snapshot& snapshot, const HealthLimits& limits);

/// Expand a fragment's row-id ranges into one id per row (size = fragment rows).
std::vector<uint64_t> ExpandRowIds(const format::FragmentMeta& fragment);

}  // namespace tessera::table
