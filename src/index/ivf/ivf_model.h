// IvfModel: the inverted-file part shared by every IVF index: k-means partition centroids
// held in a FlatIndex (the coarse quantizer), assignment of rows to partitions at build time
// and ranking of partitions for a query. Immutable after Train(); thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "index/flat_index.h"
#include "index/metric.h"
#include "index/vector_index.h"
#include "tessera/result.h"

namespace tessera::index {

class IvfModel {
 public:
  IvfModel() = default;

  // Train `num_partitions` centroids by k-means on a sample of `vectors` (already normalized
  // for kCosine). Partitions are ranked for queries by L2 (kL2, kCosine) or inner product (kDot).
  // Errors: kInvalidArgument from k-means.
  static Result<IvfModel> Train(std::span<const float> vectors, int32_t dim, Metric metric,
                                int32_t num_partitions, const IndexBuildOptions& options);
  // Rebuild from centroids (read from a file). Errors: kCorruption on bad sizes or values.
  static Result<IvfModel> FromCentroids(Metric metric, int32_t dim, std::vector<float> centroids);

  int32_t num_partitions() const { return static_cast<int32_t>(coarse_.size()); }
  int32_t dim() const { return coarse_.dim(); }
  const std::vector<float>& centroids() const { return coarse_.vectors(); }
  const FlatIndex& coarse_quantizer() const { return coarse_; }

  // Write the partition of every row of `vectors` to partition[row].
  void Assign(std::span<const float> vectors, std::span<int32_t> partition, int num_threads) const {
    coarse_.AssignNearestL2(vectors, partition, num_threads);
  }
  // Fill *order with all partitions, the `sorted` nearest to `query` first, in order (see
  // FlatIndex::Rank()). *distances receives the distances to the centroids.
  void RankPartitions(const float* query, int64_t sorted, std::vector<float>* distances,
                      std::vector<int32_t>* order) const {
    coarse_.Rank(query, sorted, distances, order);
  }
  size_t memory_bytes() const { return coarse_.vectors().size() * sizeof(float); }

 private:
  FlatIndex coarse_;
};

// Build input shared by the IVF indices, validated, with vectors normalized for kCosine.
struct IvfBuildInput {
  std::span<const float> vectors;  // the caller's, or `normalized`
  std::vector<float> normalized;
  int32_t dim = 0;
  int64_t num_rows = 0;
  int32_t num_partitions = 0;  // resolved from the options
};

// Validate the build input and options, normalize for kCosine and resolve the number of
// partitions (`default_partitions` if options.num_partitions <= 0, capped to [1, num_rows]).
// Errors: kInvalidArgument.
Result<IvfBuildInput> PrepareIvfBuild(const IndexBuildOptions& options,
                                      std::span<const float> vectors, int32_t dim,
                                      std::span<const uint64_t> row_ids,
                                      int64_t default_partitions);

// Return the default number of partitions: sqrt(num_rows), at most num_rows / min_rows,
// within [1, 4096].
int64_t DefaultNumPartitions(int64_t num_rows, int64_t min_rows_per_partition);

// Return a contiguous copy of at most `max_rows` rows of `vectors` chosen with `seed`.
std::vector<float> SampleVectors(std::span<const float> vectors, int32_t dim, int64_t max_rows,
                                 uint64_t seed);

}  // namespace tessera::index
