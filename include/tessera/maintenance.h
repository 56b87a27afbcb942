// Options and results of table maintenance: compaction and cleanup.
#pragma once

#include <cstdint>
#include <functional>

namespace tessera {

struct CompactionOptions {
  /// Fragments are merged up to this many live rows; a fragment at or above it is never
  /// rewritten again unless its deleted fraction passes the threshold below.
  int64_t target_rows_per_fragment = 1 << 20;
  /// Rewrite a fragment whose deleted fraction exceeds this, dropping the deleted rows.
  double materialize_deletions_threshold = 0.10;
  /// Stop after rewriting about this many rows (< 0: no limit); the next run resumes.
  int64_t max_rows_per_pass = -1;
  /// Rows copied per step: bounds memory use independently of the table size.
  int64_t batch_rows = 65536;
};

struct CompactionResult {
  uint64_t version = 0;  ///< 0 when nothing needed compacting
  int64_t fragments_removed = 0;
  int64_t fragments_added = 0;
  int64_t rows_rewritten = 0;
  int64_t deleted_rows_materialized = 0;
  int64_t bytes_written = 0;
  double seconds = 0;
};

struct CleanupOptions {
  /// Versions committed longer ago than this are removed (never the latest, never a tagged one).
  int64_t older_than_seconds = 7 * 24 * 3600;
  /// Unreferenced files younger than this are kept: a slow writer may be about to commit them.
  int64_t grace_period_seconds = 7 * 24 * 3600;
  /// Remove unreferenced files regardless of their age.
  bool delete_unverified = false;
  /// Receives (done, total) as versions and files are removed.
  std::function<void(int64_t done, int64_t total)> progress;
};

struct CleanupResult {
  int64_t versions_removed = 0;
  int64_t files_removed = 0;
  int64_t bytes_freed = 0;
  int64_t files_kept_in_grace = 0;
  double seconds = 0;
};

}  // namespace tessera
