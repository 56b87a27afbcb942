// Table: a directory of immutable fragments plus a chain of versions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/histogram.h"
#include "tessera/maintenance.h"
#include "tessera/options.h"
#include "tessera/query.h"
#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera {

namespace table {
class Snapshot;
class TableStore;
}  // namespace table

/// One committed version, as read back from its manifest.
struct VersionInfo {
  uint64_t version = 0;
  int64_t timestamp_us = 0;  ///< commit time, µs since the epoch
  std::string operation;     ///< "create", "add", "delete", "restore", "overwrite", ...
  uint64_t base_version = 0;
  int64_t duration_us = 0;
  int64_t num_rows = 0;  ///< live rows in this version
  int64_t num_fragments = 0;
  int64_t rows_added = 0;
  int64_t rows_deleted = 0;
  int64_t num_unindexed_rows = 0;  ///< stored rows no index segment covers (all without index)
};

struct AddResult {
  bool already_committed = false;  ///< the stream batch was committed before: nothing written
  uint64_t version = 0;
  uint64_t first_row_id = 0;  ///< the rows got ids [first_row_id, first_row_id + num_rows)
  int64_t num_rows = 0;
  /// With TableOptions::backpressure: one sentence per maintenance-debt limit the table was
  /// past when this add was written (after any waiting), e.g. "unindexed rows: 120000 > limit
  /// 100000 (run optimize_indices)".
  std::vector<std::string> warnings;
  int64_t backpressure_wait_ms = 0;  ///< time spent waiting for maintenance (mode kWait)
};

struct UpsertResult {
  uint64_t version = 0;  ///< 0 when nothing changed and nothing was committed
  int64_t rows_inserted = 0;
  int64_t rows_updated = 0;  ///< table rows replaced by a source row with the same key
  int64_t rows_deleted = 0;  ///< table rows deleted because their key was not in the source
  /// Table rows whose key was read by scanning fragments: every live row without a key index;
  /// only the rows no segment of the key column's BTREE index covers with one (0 right after
  /// optimize_indices).
  int64_t rows_scanned = 0;
  bool used_key_index = false;  ///< matched through the key column's BTREE index
};

struct UpdateResult {
  uint64_t version = 0;  ///< 0 when no row matched and nothing was committed
  int64_t rows_updated = 0;
};

struct DeleteResult {
  uint64_t version = 0;  ///< 0 when nothing matched and nothing was committed
  int64_t num_deleted_rows = 0;
};

/// A handle on a table. A writable handle always reads the latest committed version (it
/// checks for newer versions before every read, so rows committed by any process are visible
/// as soon as their Add returned). A handle moved to an older version with Checkout() is
/// read-only until CheckoutLatest().
/// Thread-safe: any number of threads may use one handle at once.
class Table {
 public:
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  /// Create a table at `uri` (a directory). Errors: kAlreadyExists (mode kCreate),
  /// kInvalidArgument (kExistOk with a different schema), kIOError.
  static Result<std::unique_ptr<Table>> Create(std::string_view uri, const Schema& schema,
                                               CreateMode mode = CreateMode::kCreate,
                                               const TableOptions& options = {});
  /// Create a table with the schema of `first` whose version 1 already holds `first`'s rows
  /// (one fragment). Errors: as above, plus those of Add.
  static Result<std::unique_ptr<Table>> Create(std::string_view uri, const RecordBatch& first,
                                               CreateMode mode = CreateMode::kCreate,
                                               const TableOptions& options = {});
  /// Open the table at `uri` at its latest version. Errors: kNotFound, kCorruption.
  static Result<std::unique_ptr<Table>> Open(std::string_view uri,
                                             const TableOptions& options = {});

  const std::string& uri() const { return uri_; }
  /// The schema of the version this handle reads.
  Schema schema() const;
  /// The version this handle reads (refreshed to the latest for a writable handle).
  Result<uint64_t> version();
  bool read_only() const;

  /// Append `batch` as one fragment and commit one version. The batch's columns are matched
  /// by name (any order). Errors: kInvalidArgument on a schema mismatch, wrong vector
  /// dimension, NaN/Inf in a vector, null in a non-nullable column (nothing is written);
  /// kConflict when commit attempts are exhausted; kIOError/kResourceExhausted from storage
  /// (the table stays at its last version).
  Result<AddResult> Add(const RecordBatch& batch, const AddOptions& options = {});
  /// Return the last batch id committed for `stream_id`, or -1. O(1): read from the manifest.
  Result<int64_t> StreamCheckpoint(std::string_view stream_id);
  /// Delete every row matching `where` and commit. Errors: kInvalidArgument (bad filter).
  Result<DeleteResult> DeleteRows(std::string_view where);
  /// Merge `source` into the table on the key columns `options.on` in one commit: a reader
  /// sees every record either before or after, never missing or twice. Replaced rows get new
  /// row ids. Concurrent upserts, adds and deletes of the same keys are detected at commit and
  /// the upsert is re-run on the newer version, so a key never ends up twice.
  /// Errors: kInvalidArgument (no or unknown key column, unsupported key type, a null key,
  /// duplicate keys in the source (named), schema mismatch, bad filter); kConflict after
  /// repeated concurrent changes.
  Result<UpsertResult> Upsert(const RecordBatch& source, const UpsertOptions& options);
  /// Set columns of every row matching `where` (empty: every row) to value expressions
  /// (literals, columns, + - * /: src/expr/value_expr.h), e.g. {{"price", "price * 1.1"}}. Built
  /// like an upsert: the new rows and the deletion of the old ones are one commit; updated rows
  /// get new row ids. Errors: kInvalidArgument (unknown column, bad expression or filter, a
  /// value that does not fit its column), kConflict after repeated concurrent changes.
  Result<UpdateResult> Update(std::string_view where,
                              const std::map<std::string, std::string>& set);
  /// Count live rows, optionally only those matching `where`.
  Result<int64_t> CountRows(std::string_view where = {});
  /// Return the matching rows in row-id order, concatenated into one batch.
  Result<RecordBatch> Scan(const ScanOptions& options = {});
  /// Call `visit` with each non-empty batch of matching rows, fragment by fragment, without
  /// materializing the whole result. Stops at the first error `visit` returns.
  Status ScanBatches(const ScanOptions& options,
                     const std::function<Status(const RecordBatch&)>& visit);
  /// Return the live rows with the given row ids, in the given order. Errors: kNotFound
  /// naming the first id that is not a live row.
  Result<RecordBatch> Take(std::span<const uint64_t> row_ids,
                           const std::vector<std::string>& columns = {});

  /// List every version still on disk, oldest first. Also the table's operational history:
  /// per version the operation, time, duration, fragment count and unindexed rows.
  Result<std::vector<VersionInfo>> ListVersions();
  Result<std::vector<VersionInfo>> History() { return ListVersions(); }
  /// Move this handle to `version` (read-only). Errors: kNotFound.
  Status Checkout(uint64_t version);
  /// Move this handle to the version tagged `tag` (read-only). Errors: kNotFound.
  Status CheckoutTag(std::string_view tag);
  /// Move this handle back to the latest version and make it writable again.
  Status CheckoutLatest();
  /// Commit the state of `version` as a new latest version. Errors: kNotFound.
  Result<uint64_t> Restore(uint64_t version);

  /// Tag `version`; a tagged version is never cleaned up. Errors: kAlreadyExists,
  /// kNotFound (no such version), kInvalidArgument (bad name: use [A-Za-z0-9._-]).
  Status CreateTag(std::string_view name, uint64_t version);
  Status DeleteTag(std::string_view name);
  Result<std::map<std::string, uint64_t>> ListTags();

  // Vector search and indices. These are implemented in src/query/ (above the index layer).

  /// Start a vector query for `vector` (see VectorQuery).
  VectorQuery Search(std::span<const float> vector);
  /// Build an index over `column` from every live row and commit it as one segment: a vector
  /// index (config.type IVF_HNSW_SQ, IVF_FLAT, IVF_SQ, IVF_PQ, HNSW) over a vector column, or
  /// the scalar key index (config.type "BTREE": a sorted key -> row id map, equality lookups)
  /// over an int32/int64/timestamp/utf8/bool column, which Upsert uses instead of scanning the
  /// table when its key is that one column. Later rows are added by OptimizeIndices().
  /// Errors: kInvalidArgument (wrong column type for the index type, no rows for a vector
  /// index, bad config), kAlreadyExists (same name and !config.replace).
  Status CreateIndex(std::string_view column, const IndexConfig& config = {});
  Result<std::vector<IndexInfo>> ListIndices();
  /// Errors: kNotFound.
  Result<IndexInfo> IndexStats(std::string_view name);
  /// Errors: kNotFound.
  Status DropIndex(std::string_view name);
  /// Index the unindexed tail of every index as a new segment, merge segments, retrain an
  /// index gone unbalanced (see OptimizeIndicesResult).
  Result<OptimizeIndicesResult> OptimizeIndices(const OptimizeIndicesOptions& options = {});

  // Maintenance. Implemented in src/maintenance/.

  /// Merge small fragments and rewrite fragments with many deleted rows, keeping row ids.
  /// Never blocks readers or writers; conflicts only with a concurrent compaction of the same
  /// fragments (kConflict, retryable).
  Result<CompactionResult> CompactFiles(const CompactionOptions& options = {});
  /// Remove old versions (never the latest or a tagged one) and every file no kept version
  /// references, except unreferenced files younger than the grace period.
  Result<CleanupResult> CleanupOldVersions(const CleanupOptions& options = {});

  /// Compact, update indices, clean up (see OptimizeResult).
  OptimizeResult Optimize(const OptimizeOptions& options = {});
  /// Rows, fragments, unindexed rows, versions, bytes on disk of the latest version.
  Result<TableStats> Stats(const HealthLimits& limits = {});
  /// Compare Stats() with `limits`.
  Result<HealthReport> Health(const HealthLimits& limits = {});

  /// Latencies of the Add() and vector-search calls made through this handle.
  const LatencyHistogram& add_latency() const { return add_latency_; }
  const LatencyHistogram& query_latency() const { return query_latency_; }
  LatencyHistogram* mutable_query_latency() { return &query_latency_; }
  /// Stats() and this handle's latency histograms in the Prometheus text format, each series
  /// labelled table="<uri>".
  Result<std::string> PrometheusMetrics();

  /// Internal: the snapshot this handle reads (refreshed first if writable).
  Result<std::shared_ptr<const table::Snapshot>> CurrentSnapshot();
  /// Internal: the table's files and commit protocol.
  table::TableStore* internal_store() const { return store_.get(); }

 private:
  static Result<std::unique_ptr<Table>> CreateImpl(std::string_view uri, const Schema& schema,
                                                   const RecordBatch* first, CreateMode mode,
                                                   const TableOptions& options);
  Table(std::string uri, std::unique_ptr<table::TableStore> store,
        std::shared_ptr<const table::Snapshot> snapshot, const TableOptions& options);
  /// Apply the backpressure option to an add about to be written on top of `*base`: warn or
  /// wait (refreshing `*base`). Returns the warnings for the AddResult.
  Result<std::vector<std::string>> ApplyBackpressure(std::shared_ptr<const table::Snapshot>* base,
                                                     int64_t* waited_ms);

  const std::string uri_;
  std::unique_ptr<table::TableStore> store_;
  const BackpressureOptions backpressure_;
  const int64_t read_consistency_interval_ms_;
  mutable std::mutex mu_;
  int64_t last_refresh_us_ = 0;                      // GUARDED_BY(mu_)
  std::shared_ptr<const table::Snapshot> snapshot_;  // GUARDED_BY(mu_)
  bool read_only_ = false;                           // GUARDED_BY(mu_)
  LatencyHistogram add_latency_;
  LatencyHistogram query_latency_;
};

}  // namespace tessera
