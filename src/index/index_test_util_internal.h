// Helpers shared by the index layer's tests (header-only; not part of tessera::index).
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "format/idx_reader.h"
#include "index/metric.h"

namespace tessera::index::testing_internal {

// Return `num_rows` vectors of `dim` floats drawn around `num_clusters` random centers
// (uniform in [-1, 1]^dim) with gaussian noise of standard deviation `spread`.
inline std::vector<float> ClusteredVectors(int64_t num_rows, int32_t dim, int32_t num_clusters,
                                           float spread, uint64_t seed,
                                           std::vector<int32_t>* labels = nullptr) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, spread);
  std::vector<float> centers(static_cast<size_t>(num_clusters) * dim);
  for (float& value : centers) value = uniform(rng);
  std::vector<float> out(static_cast<size_t>(num_rows) * dim);
  if (labels != nullptr) labels->resize(num_rows);
  for (int64_t row = 0; row < num_rows; ++row) {
    const int32_t cluster = static_cast<int32_t>(rng() % num_clusters);
    if (labels != nullptr) (*labels)[row] = cluster;
    for (int32_t d = 0; d < dim; ++d) out[row * dim + d] = centers[cluster * dim + d] + noise(rng);
  }
  return out;
}

// Return the exact `k` nearest row indices of every query (brute force, `metric`).
inline std::vector<std::vector<uint64_t>> BruteForce(std::span<const float> base,
                                                     std::span<const float> queries, int32_t dim,
                                                     int32_t k, Metric metric) {
  const int64_t num_base = static_cast<int64_t>(base.size()) / dim;
  const int64_t num_queries = static_cast<int64_t>(queries.size()) / dim;
  std::vector<std::vector<uint64_t>> truth(num_queries);
  std::vector<std::pair<float, uint64_t>> dist(num_base);
  std::vector<float> query(dim);
  for (int64_t q = 0; q < num_queries; ++q) {
    std::copy_n(queries.data() + q * dim, dim, query.begin());
    if (metric == Metric::kCosine) NormalizeVector(query.data(), dim);
    for (int64_t row = 0; row < num_base; ++row) {
      dist[row] = {ExactDistance(metric, query.data(), base.data() + row * dim, dim),
                   static_cast<uint64_t>(row)};
    }
    std::partial_sort(dist.begin(), dist.begin() + k, dist.end());
    for (int32_t idx = 0; idx < k; ++idx) truth[q].push_back(dist[idx].second);
  }
  return truth;
}

// Return |found ∩ truth| / |truth| summed over queries.
inline double Recall(const std::vector<std::vector<uint64_t>>& found,
                     const std::vector<std::vector<uint64_t>>& truth) {
  size_t hits = 0;
  size_t total = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    const std::unordered_set<uint64_t> expected(truth[q].begin(), truth[q].end());
    for (uint64_t id : found[q]) hits += expected.count(id);
    total += truth[q].size();
  }
  return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
}

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist/";

// Load up to `max_items` Fashion-MNIST images (784 floats in [0, 1] each) from `file` in
// kFashionMnistDir; empty if the Debian package is not installed.
inline std::vector<float> LoadFashionMnist(const std::string& file, int64_t max_items) {
  Result<format::IdxData> data = format::ReadIdxFile(kFashionMnistDir + file, max_items);
  if (!data.ok()) return {};
  return format::IdxToFloatVectors(*data);
}

}  // namespace tessera::index::testing_internal
