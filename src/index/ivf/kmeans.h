// K-means clustering (Lloyd's algorithm) of float vectors under squared L2, used to train IVF
// partitions. Deterministic for a given seed and thread count-independent.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/result.h"

namespace tessera::index {

struct KMeansOptions {
  int32_t num_clusters = 0;     // k; REQUIRED > 0
  int32_t max_iterations = 25;  // Lloyd iterations at most
  // Rows sampled per cluster for training (LanceDB/FAISS "sample_rate"); the sample is all rows
  // when num_rows <= num_clusters * sample_rate.
  int32_t sample_rate = 256;
  // Stop when the relative decrease of the within-cluster sum of squares is below this.
  double tolerance = 1e-4;
  bool kmeans_plus_plus = true;  // k-means++ seeding (else k distinct random rows)
  uint64_t seed = 42;
  int num_threads = 0;  // <= 0: all hardware threads
};

struct KMeansResult {
  int32_t num_clusters = 0;
  int32_t dim = 0;
  std::vector<float> centroids;  // num_clusters * dim, row-major
  int32_t iterations = 0;        // Lloyd iterations run
  double inertia = 0.0;          // sum of squared distances of the sample to its centroids
};

// Cluster `vectors` (row-major, `dim` floats each). Non-finite input is the caller's problem.
// Errors: kInvalidArgument if dim <= 0, the size is not a multiple of dim, num_clusters <= 0 or
// num_clusters > number of rows.
Result<KMeansResult> TrainKMeans(std::span<const float> vectors, int32_t dim,
                                 const KMeansOptions& options);

// For each row of `vectors`, write the index of its nearest centroid (squared L2; ties to the
// lowest index) to assignment[row], and the distance to distances[row] if `distances` is not
// empty. REQUIRES: assignment.size() == rows; distances empty or of the same size; centroids
// non-empty and a multiple of dim.
void AssignToNearestCentroid(std::span<const float> vectors, int32_t dim,
                             std::span<const float> centroids, std::span<int32_t> assignment,
                             std::span<float> distances, int num_threads);

}  // namespace tessera::index
