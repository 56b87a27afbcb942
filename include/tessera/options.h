// Options structs of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

namespace io {
class FileSystem;
}  // namespace io

/// How CreateTable treats an existing table.
enum class CreateMode {
  kCreate,     ///< fail with kAlreadyExists
  kOverwrite,  ///< commit a new, empty version with the new schema (old versions stay readable)
  kExistOk,    ///< open the existing table (its schema must match)
};

/// Limits on maintenance debt (Table::Health, and add() backpressure); a value < 0 disables
/// that check.
struct HealthLimits {
  int64_t max_fragments = 1000;
  int64_t max_small_fragments = 100;  ///< fragments under target_rows_per_fragment / 8 rows
  int64_t max_unindexed_rows = 100000;
  int64_t max_deleted_rows = 1000000;  ///< deleted rows compaction has not yet dropped
  int64_t max_versions = 10000;        ///< not checked by add(): counting needs a listing
  int64_t target_rows_per_fragment = 1 << 20;
};

/// What add() does when the table is past a HealthLimits limit, i.e. when a stream outruns
/// maintenance.
enum class BackpressureMode {
  kNone,  ///< nothing (the default)
  kWarn,  ///< commit, and name the limits passed in AddResult::warnings
  kWait,  ///< wait (bounded by max_wait_ms) for maintenance to bring the table back under the
          ///< limits, then commit; warns if it is still past them. Never fails the add.
};

struct BackpressureOptions {
  BackpressureMode mode = BackpressureMode::kNone;
  /// The limits; max_versions is ignored (see HealthLimits).
  HealthLimits limits;
  int64_t max_wait_ms = 30000;
  int64_t poll_interval_ms = 100;
};

/// Options for opening tables and databases.
struct TableOptions {
  /// Where the files live. Borrowed; must outlive every Table opened with it.
  /// nullptr means the local disk.
  io::FileSystem* file_system = nullptr;
  /// Upper bound on commit attempts when other writers keep winning; then kConflict.
  int max_commit_attempts = 200;
  /// What Add() does when maintenance falls behind.
  BackpressureOptions backpressure;
  /// How stale a handle's view may be (LanceDB's read_consistency_interval). 0: every read
  /// checks for the latest version first (strong; on S3 that costs ~4 requests per read).
  /// > 0: a handle re-checks at most this often, so other writers' commits show up within
  /// the interval. < 0: never automatically (CheckoutLatest() moves the handle). A handle
  /// always sees its own commits at once.
  int64_t read_consistency_interval_ms = 0;
};

/// Exactly-once ingestion: an add tagged with a stream id and a batch id commits the stream's
/// checkpoint in the same manifest as the rows. Re-delivering that batch (or any earlier one)
/// is a no-op reported as `already_committed`.
struct AddOptions {
  std::string stream_id;  ///< empty: an ordinary add
  int64_t batch_id = -1;  ///< REQUIRES: >= 0 when stream_id is set; increasing per stream
};

/// Upsert (merge-insert) on key columns. Rows of the source whose key matches a live row of the
/// table replace it; other source rows are inserted; optionally table rows whose key is not in
/// the source are deleted. All in one commit (docs/upsert.md).
struct UpsertOptions {
  /// Key columns (int32, int64, utf8, timestamp or bool; at least one). Keys must be unique in
  /// the source and not null.
  std::vector<std::string> on;
  bool when_matched_update_all = true;
  bool when_not_matched_insert_all = true;
  /// Delete the table's rows whose key is not in the source (only those matching
  /// `when_not_matched_by_source_filter`, when it is set).
  bool when_not_matched_by_source_delete = false;
  std::string when_not_matched_by_source_filter;
};

/// What Scan reads. An empty `where` reads every row; empty `columns` reads every column.
struct ScanOptions {
  std::string where;
  std::vector<std::string> columns;
  int64_t limit = -1;        ///< < 0: no limit
  bool with_row_id = false;  ///< append a uint64 `_rowid` column (stored as int64)
};

}  // namespace tessera
