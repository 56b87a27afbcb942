// FlatIndex: exact search over a small set of float vectors whose row ids are their positions
// (FAISS's IndexFlat). It is the coarse quantizer of the IVF indices: its vectors are the
// partition centroids. Immutable; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "index/metric.h"

namespace tessera::index {

class FlatIndex {
 public:
  FlatIndex() = default;
  // REQUIRES: dim > 0 and vectors.size() a multiple of dim. For kCosine the vectors must be
  // normalized (and so must every query).
  FlatIndex(Metric metric, int32_t dim, std::vector<float> vectors);

  Metric metric() const { return metric_; }
  int32_t dim() const { return dim_; }
  int64_t size() const { return dim_ == 0 ? 0 : static_cast<int64_t>(vectors_.size()) / dim_; }
  const std::vector<float>& vectors() const { return vectors_; }

  // Write the distance from `query` to every vector to distances[0, size()).
  void Distances(const float* query, float* distances) const;
  // Fill *order with the positions of all vectors and *distances with their distances to
  // `query`; the first min(sorted, size()) positions of *order are the nearest, ascending by
  // distance (ties by position), the rest in no particular order (see SortRest()).
  void Rank(const float* query, int64_t sorted, std::vector<float>* distances,
            std::vector<int32_t>* order) const;
  // Sort order[from, end) by distance as Rank() does.
  static void SortRest(const std::vector<float>& distances, int64_t from,
                       std::vector<int32_t>* order);
  // For each row of `queries`, write the position of its nearest vector by squared L2 (the
  // k-means assignment, whatever the metric) to nearest[row].
  void AssignNearestL2(std::span<const float> queries, std::span<int32_t> nearest,
                       int num_threads) const;

 private:
  Metric metric_ = Metric::kL2;
  int32_t dim_ = 0;
  std::vector<float> vectors_;
};

}  // namespace tessera::index
