#include "index/flat_index.h"

#include <algorithm>
#include <numeric>

#include "index/ivf/kmeans.h"
#include "index/simd/distance.h"

namespace tessera::index {

FlatIndex::FlatIndex(Metric metric, int32_t dim, std::vector<float> vectors)
    : metric_(metric), dim_(dim), vectors_(std::move(vectors)) {}

void FlatIndex::Distances(const float* query, float* distances) const {
  const simd::DistanceKernels& kernels = simd::BestKernels();
  const int64_t n = size();
  if (metric_ == Metric::kL2) {
    kernels.l2_squared_batch(query, vectors_.data(), n, dim_, distances);
    return;
  }
  kernels.dot_batch(query, vectors_.data(), n, dim_, distances);
  const float offset = metric_ == Metric::kCosine ? 1.0f : 0.0f;
  for (int64_t idx = 0; idx < n; ++idx) distances[idx] = offset - distances[idx];
}

void FlatIndex::Rank(const float* query, int64_t sorted, std::vector<float>* distances,
                     std::vector<int32_t>* order) const {
  const int64_t n = size();
  distances->resize(n);
  Distances(query, distances->data());
  order->resize(n);
  std::iota(order->begin(), order->end(), 0);
  const std::vector<float>& dist = *distances;
  const auto nearer = [&dist](int32_t a, int32_t b) {
    return dist[a] < dist[b] || (dist[a] == dist[b] && a < b);
  };
  std::partial_sort(order->begin(), order->begin() + std::clamp<int64_t>(sorted, 0, n),
                    order->end(), nearer);
}

void FlatIndex::SortRest(const std::vector<float>& distances, int64_t from,
                         std::vector<int32_t>* order) {
  std::sort(order->begin() + from, order->end(), [&distances](int32_t a, int32_t b) {
    return distances[a] < distances[b] || (distances[a] == distances[b] && a < b);
  });
}

void FlatIndex::AssignNearestL2(std::span<const float> queries, std::span<int32_t> nearest,
                                int num_threads) const {
  AssignToNearestCentroid(queries, dim_, vectors_, nearest, {}, num_threads);
}

}  // namespace tessera::index
