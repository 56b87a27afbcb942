#include "index/ivf/ivf_model.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "index/ivf/kmeans.h"

namespace tessera::index {

Result<IvfModel> IvfModel::Train(std::span<const float> vectors, int32_t dim, Metric metric,
                                 int32_t num_partitions, const IndexBuildOptions& options) {
  KMeansOptions kmeans;
  kmeans.num_clusters = num_partitions;
  kmeans.max_iterations = options.max_iterations;
  kmeans.sample_rate = options.sample_rate;
  kmeans.seed = options.seed;
  kmeans.num_threads = options.num_threads;
  // Greedy k-means++ costs O(k^2) passes over a sample of k * sample_rate rows.
  kmeans.kmeans_plus_plus = num_partitions <= 256;
  TESSERA_ASSIGN_OR_RETURN(KMeansResult result, TrainKMeans(vectors, dim, kmeans));
  if (metric == Metric::kCosine) {
    for (int32_t p = 0; p < num_partitions; ++p) {
      NormalizeVector(result.centroids.data() + static_cast<size_t>(p) * dim, dim);
    }
  }
  IvfModel model;
  model.coarse_ = FlatIndex(metric == Metric::kDot ? Metric::kDot : Metric::kL2, dim,
                            std::move(result.centroids));
  return model;
}

Result<IvfModel> IvfModel::FromCentroids(Metric metric, int32_t dim, std::vector<float> centroids) {
  if (dim <= 0 || centroids.empty() || centroids.size() % static_cast<size_t>(dim) != 0) {
    return Status::Corruption("ivf: bad centroid array");
  }
  for (float value : centroids) {
    if (!std::isfinite(value)) return Status::Corruption("ivf: non-finite centroid");
  }
  IvfModel model;
  model.coarse_ =
      FlatIndex(metric == Metric::kDot ? Metric::kDot : Metric::kL2, dim, std::move(centroids));
  return model;
}

int64_t DefaultNumPartitions(int64_t num_rows, int64_t min_rows_per_partition) {
  int64_t partitions = static_cast<int64_t>(std::sqrt(static_cast<double>(num_rows)));
  partitions = std::min(partitions, num_rows / std::max<int64_t>(min_rows_per_partition, 1));
  return std::clamp<int64_t>(partitions, 1, 4096);
}

Result<IvfBuildInput> PrepareIvfBuild(const IndexBuildOptions& options,
                                      std::span<const float> vectors, int32_t dim,
                                      std::span<const uint64_t> row_ids,
                                      int64_t default_partitions) {
  if (dim <= 0 || dim > kMaxIndexDim) {
    return Status::InvalidArgument("index build: dim must be in [1, ", kMaxIndexDim, "]");
  }
  if (row_ids.empty()) return Status::InvalidArgument("index build: no rows");
  if (vectors.size() != row_ids.size() * static_cast<size_t>(dim)) {
    return Status::InvalidArgument("index build: ", vectors.size(), " values for ", row_ids.size(),
                                   " rows of dim ", dim);
  }
  if (row_ids.size() > static_cast<size_t>(UINT32_MAX)) {
    return Status::InvalidArgument("index build: too many rows for one segment");
  }
  if (options.sample_rate <= 0 || options.max_iterations < 0 || options.m < 2 || options.m > 128 ||
      options.ef_construction < 1 || options.num_partitions > 65536) {
    return Status::InvalidArgument("index build: bad options");
  }
  for (size_t idx = 0; idx < vectors.size(); ++idx) {
    if (!std::isfinite(vectors[idx])) {
      return Status::InvalidArgument("index build: non-finite value in row ", idx / dim);
    }
  }
  IvfBuildInput input;
  input.dim = dim;
  input.num_rows = static_cast<int64_t>(row_ids.size());
  if (options.metric == Metric::kCosine) {
    input.normalized.assign(vectors.begin(), vectors.end());
    for (int64_t row = 0; row < input.num_rows; ++row) {
      NormalizeVector(input.normalized.data() + row * dim, dim);
    }
    input.vectors = input.normalized;
  } else {
    input.vectors = vectors;
  }
  const int64_t partitions =
      options.num_partitions > 0 ? options.num_partitions : default_partitions;
  input.num_partitions = static_cast<int32_t>(std::clamp<int64_t>(partitions, 1, input.num_rows));
  return input;
}

std::vector<float> SampleVectors(std::span<const float> vectors, int32_t dim, int64_t max_rows,
                                 uint64_t seed) {
  const int64_t num_rows = static_cast<int64_t>(vectors.size()) / dim;
  if (num_rows <= max_rows) return std::vector<float>(vectors.begin(), vectors.end());
  std::mt19937_64 rng(seed);
  std::vector<int64_t> rows(num_rows);
  for (int64_t row = 0; row < num_rows; ++row) rows[row] = row;
  for (int64_t idx = 0; idx < max_rows; ++idx) {
    std::swap(rows[idx], rows[std::uniform_int_distribution<int64_t>(idx, num_rows - 1)(rng)]);
  }
  rows.resize(max_rows);
  std::sort(rows.begin(), rows.end());
  std::vector<float> out(static_cast<size_t>(max_rows) * dim);
  for (int64_t idx = 0; idx < max_rows; ++idx) {
    std::copy_n(vectors.data() + rows[idx] * dim, dim, out.data() + idx * dim);
  }
  return out;
}

}  // namespace tessera::index
