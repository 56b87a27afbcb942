// Vector search and vector-index management on a Table.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tessera/record_batch.h"
#include "tessera/result.h"

namespace tessera {

class Table;

/// Distance functions. Smaller is better for all three:
/// kL2 = squared euclidean, kCosine = 1 - cos(a, b), kDot = -(a . b).
enum class DistanceType { kL2, kCosine, kDot };

/// Parse "l2" / "euclidean", "cosine", "dot". Errors: kInvalidArgument.
Result<DistanceType> ParseDistanceType(std::string_view name);
std::string_view DistanceTypeName(DistanceType type);

/// How to build a vector index. 0 means "derive a default from the row count and dimension"
/// (documented in docs/indexing.md).
struct IndexConfig {
  /// IVF_HNSW_SQ, IVF_FLAT, IVF_SQ, IVF_PQ, HNSW (vector columns) or BTREE (a scalar key
  /// column; the vector parameters below do not apply).
  std::string type = "IVF_HNSW_SQ";
  DistanceType metric = DistanceType::kL2;
  int32_t num_partitions = 0;
  int32_t m = 16;
  int32_t ef_construction = 150;
  int32_t num_sub_vectors = 0;  ///< IVF_PQ only
  int32_t sample_rate = 256;    ///< k-means training rows per partition
  std::string name;             ///< default "<column>_idx"
  bool replace = true;          ///< replace an existing index of the same name
  /// Threads that build the index (<= 0: every hardware thread).
  int32_t num_threads = 0;
  /// Receives the build's progress in [0, 1]. Called from the building thread.
  std::function<void(double fraction)> progress;
};

/// What `ListIndices` / `IndexStats` report about one index.
struct IndexInfo {
  std::string name;
  std::string column;
  std::string type;
  std::string metric;
  std::string params_json;
  int64_t num_indexed_rows = 0;    ///< live rows covered by a segment
  int64_t num_unindexed_rows = 0;  ///< live rows of the tail
  int64_t num_segments = 0;
  int64_t size_bytes = 0;
};

struct OptimizeIndicesOptions {
  /// Threads that build segments (<= 0: every hardware thread). A maintainer sharing the
  /// machine with queries gives fewer, so that queries never wait for a core.
  int32_t num_threads = 0;
};

/// optimize_indices runs in two commits: first the unindexed tail of every index becomes a new
/// segment (an IVF_HNSW_SQ tail without graphs: the IVF_SQ layout, built in about a second),
/// then segments are merged (below). A long merge never holds back
/// the tail's commit.
struct OptimizeIndicesResult {
  uint64_t version = 0;  ///< the last version committed; 0 when nothing was committed
  int64_t segments_added = 0;
  int64_t rows_indexed = 0;  ///< tail rows plus the rows of merged segments
  /// Segments folded into a new one: once an index would have more than 16 segments, the
  /// lowest size tier holding two or more segments (tiers: powers of 4 rows) is merged (same
  /// centroids, no retraining), as an LSM tree merges runs of similar size; otherwise an
  /// IVF_HNSW_SQ index's graph-less segments, once they hold 32,768 rows together, are merged
  /// into one with graphs.
  int64_t segments_merged = 0;
  /// Indices rebuilt from scratch (new centroids, same type and parameters) because more than
  /// 20% of the rows they had indexed were deleted, or because their largest partition holds
  /// more than 4x the mean partition size (the data drifted from the trained centroids).
  int64_t indices_retrained = 0;
};

/// What a query did: the numbers that explain a P99.
struct QueryStats {
  int64_t segments_searched = 0;
  int64_t rows_via_index = 0;        ///< results returned by index segments (before merge)
  int64_t rows_flat_scanned = 0;     ///< vectors compared in the unindexed tail (or everywhere)
  int64_t rows_filtered_out = 0;     ///< rows rejected by the where filter
  int64_t deleted_rows_dropped = 0;  ///< deleted rows skipped
  double filter_ms = 0, index_ms = 0, flat_ms = 0, merge_ms = 0, project_ms = 0, total_ms = 0;
  /// Render as a JSON object.
  std::string ToJson() const;
};

/// A vector query being built: `table->Search(v).Limit(10).Where("x > 1").Execute()`.
/// Holds a borrowed Table*; the Table must outlive it. Copyable; not thread-safe.
class VectorQuery {
 public:
  VectorQuery(Table* table, std::vector<float> vector)
      : table_(table), vector_(std::move(vector)) {}

  VectorQuery& Limit(int64_t k) {
    k_ = k;
    return *this;
  }
  VectorQuery& Where(std::string filter) {
    where_ = std::move(filter);
    return *this;
  }
  /// true (default): filter before the vector search, so k matching rows come back when k
  /// exist. false: filter the k nearest afterwards (may return fewer).
  VectorQuery& Prefilter(bool prefilter) {
    prefilter_ = prefilter;
    return *this;
  }
  VectorQuery& Distance(DistanceType type) {
    metric_ = type;
    has_metric_ = true;
    return *this;
  }
  /// Partitions searched per IVF index segment (>= 1). Default: the index's own, 20 for
  /// IVF_FLAT/IVF_SQ/IVF_PQ, 3 for IVF_HNSW_SQ (a graph per partition; see docs/indexing.md).
  VectorQuery& Nprobes(int32_t nprobes) {
    nprobes_ = nprobes;
    return *this;
  }
  VectorQuery& Ef(int32_t ef) {
    ef_ = ef;
    return *this;
  }
  VectorQuery& RefineFactor(int32_t factor) {
    refine_factor_ = factor;
    return *this;
  }
  /// Search only the indexed rows; skip the unindexed tail.
  VectorQuery& FastSearch(bool on = true) {
    fast_search_ = on;
    return *this;
  }
  /// Exact flat scan of every row, ignoring indices.
  VectorQuery& BypassVectorIndex(bool on = true) {
    bypass_index_ = on;
    return *this;
  }
  /// Columns to return (default: all). `_distance` is always added.
  VectorQuery& Select(std::vector<std::string> columns) {
    columns_ = std::move(columns);
    return *this;
  }
  VectorQuery& WithRowId(bool on = true) {
    with_row_id_ = on;
    return *this;
  }
  /// The vector column to search (default: the table's only vector column).
  VectorQuery& Column(std::string column) {
    column_ = std::move(column);
    return *this;
  }

  /// Run the query. Returns the selected columns plus `_distance` (float32) and, if requested,
  /// `_rowid` (int64), best first. Errors: kInvalidArgument (wrong dimension, NaN in the
  /// query, unknown column, malformed filter, no vector column).
  Result<RecordBatch> Execute(QueryStats* stats = nullptr) const;
  /// Run the same query for `num_queries` vectors (row-major, num_queries * dim floats), in
  /// parallel. Returns one batch per query.
  Result<std::vector<RecordBatch>> ExecuteBatch(std::span<const float> queries,
                                                int64_t num_queries) const;

 private:
  friend class QueryExecutor;
  Table* table_;
  std::vector<float> vector_;
  int64_t k_ = 10;
  std::string where_;
  bool prefilter_ = true;
  DistanceType metric_ = DistanceType::kL2;
  bool has_metric_ = false;
  int32_t nprobes_ = 0;
  int32_t ef_ = 0;
  int32_t refine_factor_ = 0;
  bool fast_search_ = false;
  bool bypass_index_ = false;
  std::vector<std::string> columns_;
  bool with_row_id_ = false;
  std::string column_;
};

}  // namespace tessera
