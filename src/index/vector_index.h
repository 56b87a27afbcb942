// The vector-index interface of the index layer and the options that build and search every
// index type. Index types and parameter names are LanceDB's (num_partitions, m,
// ef_construction; nprobes, ef, refine_factor). Distances follow metric.h: smaller is better.
//
// An index is immutable once built or loaded: any number of threads may Search() at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/metric.h"
#include "index/top_k.h"
#include "tessera/result.h"

namespace tessera::index {

// The largest vector dimension an index accepts (and an index file may declare).
inline constexpr int32_t kMaxIndexDim = 65536;

// Values are stored in index files: never renumber.
enum class IndexType : uint8_t { kIvfFlat = 1, kIvfSq = 2, kIvfHnswSq = 3, kHnsw = 4, kIvfPq = 5 };

// Return the type named "IVF_FLAT", "IVF_SQ", "IVF_PQ", "IVF_HNSW_SQ" or "HNSW"
// (case-insensitive). Errors: kInvalidArgument for anything else.
Result<IndexType> ParseIndexType(std::string_view name);
std::string_view IndexTypeToString(IndexType type);

// Return true if a row may be returned (prefilter). Called from the searching thread.
using RowFilter = std::function<bool(uint64_t row_id)>;
// Return the full-precision vector (dim floats) of a row, or nullptr if the row is gone (it is
// then dropped from the results). The pointer must stay valid until Search() returns.
using VectorLookup = std::function<const float*(uint64_t row_id)>;
// Receive the fraction of a build done, in [0, 1], non-decreasing; never called concurrently.
using ProgressCallback = std::function<void(double fraction)>;

// Partitions probed when SearchOptions::nprobes is 0: an IVF index with flat lists, and one
// with a graph per partition (a graph search costs far more than its share of a list scan,
// and its partitions are larger).
inline constexpr int32_t kDefaultNprobes = 20;
inline constexpr int32_t kDefaultGraphNprobes = 3;

struct SearchOptions {
  int32_t k = 10;
  // Partitions searched (IVF types); 0: the index's default (kDefaultNprobes, or
  // kDefaultGraphNprobes for an index with a graph per partition). Under a filter accepting a
  // fraction s of the rows, nprobes / sqrt(s) are searched; and more when those yield fewer
  // than k rows, so k rows come back whenever the index holds k rows that pass the filter.
  int32_t nprobes = 0;
  // HNSW beam width; <= 0 picks max(40, 2 * k * max(refine_factor, 1)).
  int32_t ef = 0;
  // <= 0: return k rows ranked by the index's own (approximate) distances. >= 1: collect
  // k * refine_factor candidates, fetch their vectors through `vectors` and return the k best
  // by exact distance. Ignored by IVF_FLAT, whose distances are exact.
  int32_t refine_factor = 0;
  const RowFilter* filter = nullptr;      // borrowed; null = every row
  const VectorLookup* vectors = nullptr;  // borrowed; REQUIRED if refine_factor >= 1
};

struct IndexBuildOptions {
  IndexType type = IndexType::kIvfHnswSq;
  Metric metric = Metric::kL2;
  // IVF: 0 picks a default: sqrt(num_rows) for IVF_FLAT/IVF_SQ/IVF_PQ; for IVF_HNSW_SQ one
  // partition up to 65,536 rows, above that one per 32,768 rows if those partitions hold the
  // rows' nearest neighbours, else one (graphs of at most 65,536 nodes store 16-bit links: see
  // ivf_hnsw_sq.cc), all capped to [1, 4096].
  // HNSW always has one partition.
  int32_t num_partitions = 0;
  int32_t sample_rate = 256;    // k-means training rows per partition
  int32_t max_iterations = 25;  // k-means iterations
  // HNSW
  int32_t m = 16;
  int32_t ef_construction = 150;
  // SQ: fraction of outliers clipped at each end of every dimension (see ScalarQuantizer).
  double sq_clip_fraction = 0.0;
  // PQ: sub-vectors per row (bytes per code); must divide dim. 0 picks
  // ProductQuantizer::DefaultNumSubVectors(dim): dim / 16, else dim / 8, else a divisor near it.
  int32_t num_sub_vectors = 0;
  uint64_t seed = 42;
  int num_threads = 0;  // <= 0: all hardware threads
  ProgressCallback progress;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual IndexType type() const = 0;
  virtual Metric metric() const = 0;
  virtual int32_t dim() const = 0;
  virtual int64_t num_rows() const = 0;
  /// IVF partitions actually built (1 for a single graph), whatever was requested.
  virtual int32_t num_partitions() const { return 1; }
  /// Rows per IVF partition (one entry for a single graph).
  virtual std::vector<int64_t> partition_sizes() const { return {num_rows()}; }
  // Bytes held in memory by the index structures.
  virtual size_t memory_bytes() const = 0;

  // Write the up to options.k nearest rows to `query` (dim floats) to *results, ascending by
  // distance. Errors: kInvalidArgument on a wrong query size, a non-finite query value or bad
  // options (k < 0, nprobes < 1, refine_factor >= 1 without `vectors`).
  virtual Status Search(std::span<const float> query, const SearchOptions& options,
                        std::vector<Neighbor>* results) const = 0;

  // Append the type-specific payload of the index file (docs/format/index_segment.md).
  virtual void AppendPayload(std::string* out) const = 0;
};

// Build an index of `options.type` over `vectors` (row-major, num_rows * dim floats) whose rows
// have the stable ids `row_ids`. Errors: kInvalidArgument on empty or mismatched input,
// non-finite values or bad options.
Result<std::unique_ptr<VectorIndex>> BuildIndex(const IndexBuildOptions& options,
                                                std::span<const float> vectors, int32_t dim,
                                                std::span<const uint64_t> row_ids);

}  // namespace tessera::index
