#include "index/ivf/kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "index/parallel_internal.h"
#include "index/simd/distance.h"

namespace tessera::index {
namespace {

// Return `count` distinct row indices of [0, num_rows), sorted, drawn with `rng`.
std::vector<int64_t> SampleRows(int64_t num_rows, int64_t count, std::mt19937_64& rng) {
  std::vector<int64_t> rows(num_rows);
  std::iota(rows.begin(), rows.end(), 0);
  if (count >= num_rows) return rows;
  for (int64_t idx = 0; idx < count; ++idx) {
    std::uniform_int_distribution<int64_t> pick(idx, num_rows - 1);
    std::swap(rows[idx], rows[pick(rng)]);
  }
  rows.resize(count);
  std::sort(rows.begin(), rows.end());
  return rows;
}

// The training set: rows of the input addressed through an index list (no copy).
struct Sample {
  const float* base;
  int32_t dim;
  std::vector<int64_t> rows;
  const float* Row(int64_t idx) const { return base + rows[idx] * static_cast<int64_t>(dim); }
  int64_t size() const { return static_cast<int64_t>(rows.size()); }
};

// Greedy k-means++ (Arthur & Vassilvitskii; the variant of scikit-learn): each new centroid
// is the best of 2 + ln(k) rows drawn with probability proportional to the squared distance to
// the nearest centroid so far, "best" meaning the one leaving the smallest total distance.
void SeedKMeansPlusPlus(const Sample& sample, int32_t k, std::mt19937_64& rng, int num_threads,
                        float* centroids) {
  const simd::DistanceKernels& kernels = simd::BestKernels();
  const int32_t dim = sample.dim;
  const int64_t n = sample.size();
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  std::vector<float> min_dist(n);
  std::vector<float> trial_dist(n);
  std::vector<float> best_dist(n);
  const int64_t first = std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
  std::copy_n(sample.Row(first), dim, centroids);
  internal::ParallelFor(n, num_threads, [&](int64_t begin, int64_t end, int) {
    for (int64_t row = begin; row < end; ++row) {
      min_dist[row] = kernels.l2_squared(sample.Row(row), centroids, dim);
    }
  });
  std::vector<double> prefix(n);
  for (int32_t cluster = 1; cluster < k; ++cluster) {
    double total = 0.0;
    for (int64_t row = 0; row < n; ++row) {
      total += min_dist[row];
      prefix[row] = total;
    }
    double best_potential = std::numeric_limits<double>::max();
    int64_t best_row = 0;
    for (int trial = 0; trial < trials; ++trial) {
      int64_t candidate;
      if (total > 0.0) {
        const double target = std::uniform_real_distribution<double>(0.0, total)(rng);
        candidate = std::upper_bound(prefix.begin(), prefix.end(), target) - prefix.begin();
        candidate = std::min(candidate, n - 1);
      } else {
        candidate = std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
      }
      const float* candidate_vec = sample.Row(candidate);
      internal::ParallelFor(n, num_threads, [&](int64_t begin, int64_t end, int) {
        for (int64_t row = begin; row < end; ++row) {
          trial_dist[row] =
              std::min(min_dist[row], kernels.l2_squared(sample.Row(row), candidate_vec, dim));
        }
      });
      double potential = 0.0;
      for (float value : trial_dist) potential += value;
      if (potential < best_potential) {
        best_potential = potential;
        best_row = candidate;
        best_dist.swap(trial_dist);
      }
    }
    std::copy_n(sample.Row(best_row), dim, centroids + static_cast<int64_t>(cluster) * dim);
    min_dist.swap(best_dist);
  }
}

// Give each empty cluster half of the largest cluster (FAISS's split with a symmetric
// perturbation), so that no partition stays empty.
// Return true if any cluster was repaired.
bool RepairEmptyClusters(std::vector<int64_t>& counts, int32_t dim, float* centroids) {
  bool repaired = false;
  constexpr float kEpsilon = 1.0f / 1024.0f;
  const int32_t k = static_cast<int32_t>(counts.size());
  for (int32_t empty = 0; empty < k; ++empty) {
    if (counts[empty] != 0) continue;
    const int32_t donor =
        static_cast<int32_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
    if (counts[donor] < 2) return repaired;  // fewer rows than clusters
    float* to = centroids + static_cast<int64_t>(empty) * dim;
    float* from = centroids + static_cast<int64_t>(donor) * dim;
    for (int32_t d = 0; d < dim; ++d) {
      const float sign = (d % 2 == 0) ? 1.0f : -1.0f;
      const float value = from[d];
      const float delta = value == 0.0f ? sign * kEpsilon : sign * kEpsilon * value;
      to[d] = value + delta;
      from[d] = value - delta;
    }
    counts[empty] = counts[donor] / 2;
    counts[donor] -= counts[empty];
    repaired = true;
  }
  return repaired;
}

}  // namespace

void AssignToNearestCentroid(std::span<const float> vectors, int32_t dim,
                             std::span<const float> centroids, std::span<int32_t> assignment,
                             std::span<float> distances, int num_threads) {
  const simd::DistanceKernels& kernels = simd::BestKernels();
  const int64_t k = static_cast<int64_t>(centroids.size()) / dim;
  const int64_t n = static_cast<int64_t>(assignment.size());
  internal::ParallelFor(
      n, internal::ResolveNumThreads(num_threads), [&](int64_t begin, int64_t end, int) {
        std::vector<float> dist(k);
        for (int64_t row = begin; row < end; ++row) {
          kernels.l2_squared_batch(vectors.data() + row * dim, centroids.data(), k, dim,
                                   dist.data());
          const int64_t best = std::min_element(dist.begin(), dist.end()) - dist.begin();
          assignment[row] = static_cast<int32_t>(best);
          if (!distances.empty()) distances[row] = dist[best];
        }
      });
}

Result<KMeansResult> TrainKMeans(std::span<const float> vectors, int32_t dim,
                                 const KMeansOptions& options) {
  if (dim <= 0) return Status::InvalidArgument("k-means: dim must be positive");
  if (vectors.size() % static_cast<size_t>(dim) != 0) {
    return Status::InvalidArgument("k-means: input size is not a multiple of dim");
  }
  const int64_t num_rows = static_cast<int64_t>(vectors.size()) / dim;
  const int32_t k = options.num_clusters;
  if (k <= 0 || k > num_rows) {
    return Status::InvalidArgument("k-means: num_clusters ", k, " not in [1, ", num_rows, "]");
  }
  if (options.sample_rate <= 0 || options.max_iterations < 0) {
    return Status::InvalidArgument("k-means: sample_rate must be positive");
  }
  const int num_threads = internal::ResolveNumThreads(options.num_threads);
  std::mt19937_64 rng(options.seed);
  Sample sample{vectors.data(), dim,
                SampleRows(num_rows, static_cast<int64_t>(k) * options.sample_rate, rng)};
  const int64_t n = sample.size();

  KMeansResult result;
  result.num_clusters = k;
  result.dim = dim;
  result.centroids.resize(static_cast<size_t>(k) * dim);
  if (options.kmeans_plus_plus) {
    SeedKMeansPlusPlus(sample, k, rng, num_threads, result.centroids.data());
  } else {
    const std::vector<int64_t> seeds = SampleRows(n, k, rng);
    for (int32_t cluster = 0; cluster < k; ++cluster) {
      std::copy_n(sample.Row(seeds[cluster]), dim, result.centroids.data() + cluster * dim);
    }
  }

  const simd::DistanceKernels& kernels = simd::BestKernels();
  std::vector<int32_t> assignment(n);
  std::vector<float> distances(n);
  std::vector<double> sums(static_cast<size_t>(k) * dim);
  std::vector<int64_t> counts(k);
  double previous_inertia = std::numeric_limits<double>::max();
  for (int32_t iteration = 0; iteration < options.max_iterations; ++iteration) {
    internal::ParallelFor(n, num_threads, [&](int64_t begin, int64_t end, int) {
      std::vector<float> dist(k);
      for (int64_t row = begin; row < end; ++row) {
        kernels.l2_squared_batch(sample.Row(row), result.centroids.data(), k, dim, dist.data());
        const int64_t best = std::min_element(dist.begin(), dist.end()) - dist.begin();
        assignment[row] = static_cast<int32_t>(best);
        distances[row] = dist[best];
      }
    });
    double inertia = 0.0;
    for (float value : distances) inertia += value;
    // Sequential update so that the result does not depend on the number of threads.
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t row = 0; row < n; ++row) {
      const int32_t cluster = assignment[row];
      ++counts[cluster];
      const float* vec = sample.Row(row);
      double* sum = sums.data() + static_cast<int64_t>(cluster) * dim;
      for (int32_t d = 0; d < dim; ++d) sum[d] += vec[d];
    }
    for (int32_t cluster = 0; cluster < k; ++cluster) {
      if (counts[cluster] == 0) continue;
      const double inv = 1.0 / static_cast<double>(counts[cluster]);
      for (int32_t d = 0; d < dim; ++d) {
        result.centroids[cluster * dim + d] = static_cast<float>(sums[cluster * dim + d] * inv);
      }
    }
    const bool repaired = RepairEmptyClusters(counts, dim, result.centroids.data());
    result.iterations = iteration + 1;
    result.inertia = inertia;
    if (!repaired && previous_inertia - inertia <= options.tolerance * previous_inertia) break;
    previous_inertia = inertia;
  }
  return result;
}

}  // namespace tessera::index
