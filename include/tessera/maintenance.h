// Options and results of table maintenance: compaction and cleanup.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/options.h"  // HealthLimits
#include "tessera/status.h"

namespace tessera {

struct CompactionOptions {
  /// Fragments are merged up to this many live rows; a fragment at or above it is never
  /// rewritten again unless its deleted fraction passes the threshold below. Below it, a
  /// fragment is rewritten only together with at least as many rows as it holds, so each
  /// rewrite at least doubles it (bounded write amplification).
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
  int64_t manifests_read = 0;  ///< what the cleanup cost: new versions + tags, not the history
  double seconds = 0;
};

struct OptimizeOptions {
  CompactionOptions compaction;
  CleanupOptions cleanup;
  /// Threads that build index segments (<= 0: every hardware thread); see
  /// OptimizeIndicesOptions.
  int32_t num_threads = 0;
};

/// optimize() = compaction, then index update, then cleanup. Each step runs even if an
/// earlier one failed; each failure is reported here and leaves the table readable and writable.
struct OptimizeResult {
  CompactionResult compaction;
  Status compaction_status;
  int64_t index_segments_added = 0;
  int64_t rows_indexed = 0;
  Status indices_status;
  CleanupResult cleanup;
  Status cleanup_status;
  double seconds = 0;
  bool ok() const { return compaction_status.ok() && indices_status.ok() && cleanup_status.ok(); }
};

/// The numbers an operator watches, for the latest version.
struct TableStats {
  uint64_t version = 0;
  int64_t num_rows = 0;          ///< live rows
  int64_t num_deleted_rows = 0;  ///< deleted but not yet materialized by compaction
  int64_t num_fragments = 0;
  int64_t num_small_fragments = 0;  ///< fewer than target_rows_per_fragment / 8 rows
  int64_t fragment_rows_p50 = 0, fragment_rows_p90 = 0, fragment_rows_max = 0;
  int64_t num_unindexed_rows = 0;  ///< stored rows no index segment covers (all without index)
  int64_t num_index_segments = 0;
  int64_t num_versions = 0;  ///< versions still on disk
  int64_t bytes_on_disk = 0;
  /// Render as a JSON object.
  std::string ToJson() const;
};

struct HealthReport {
  TableStats stats;
  std::vector<std::string> problems;  ///< one sentence per limit passed; empty when healthy
  bool healthy() const { return problems.empty(); }
};

}  // namespace tessera
