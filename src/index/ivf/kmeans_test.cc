#include "index/ivf/kmeans.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "index/index_test_util_internal.h"

namespace tessera::index {
namespace {

TEST(KMeansTest, RecoversPlantedClusters) {
  const int32_t dim = 16;
  const int32_t k = 10;
  std::vector<int32_t> labels;
  const std::vector<float> data =
      testing_internal::ClusteredVectors(5000, dim, k, /*spread=*/0.05f, /*seed=*/3, &labels);
  KMeansOptions options;
  options.num_clusters = k;
  options.num_threads = 2;
  const KMeansResult result = TrainKMeans(data, dim, options).value();
  ASSERT_EQ(result.centroids.size(), static_cast<size_t>(k * dim));
  std::vector<int32_t> assignment(5000);
  AssignToNearestCentroid(data, dim, result.centroids, assignment, {}, 2);
  // Every planted cluster maps to exactly one found cluster, and vice versa.
  std::map<int32_t, std::set<int32_t>> found_of_label;
  std::map<int32_t, std::set<int32_t>> label_of_found;
  for (size_t row = 0; row < labels.size(); ++row) {
    found_of_label[labels[row]].insert(assignment[row]);
    label_of_found[assignment[row]].insert(labels[row]);
  }
  EXPECT_EQ(found_of_label.size(), static_cast<size_t>(k));
  for (const auto& [label, found] : found_of_label) EXPECT_EQ(found.size(), 1u) << label;
  for (const auto& [found, label] : label_of_found) EXPECT_EQ(label.size(), 1u) << found;
}

TEST(KMeansTest, IsDeterministicAcrossThreadCounts) {
  const int32_t dim = 8;
  const std::vector<float> data = testing_internal::ClusteredVectors(3000, dim, 20, 0.3f, 4);
  KMeansOptions options;
  options.num_clusters = 32;
  options.sample_rate = 50;
  options.num_threads = 1;
  const KMeansResult one = TrainKMeans(data, dim, options).value();
  options.num_threads = 2;
  const KMeansResult two = TrainKMeans(data, dim, options).value();
  EXPECT_EQ(one.centroids, two.centroids);
  options.kmeans_plus_plus = false;
  const KMeansResult random_init = TrainKMeans(data, dim, options).value();
  EXPECT_EQ(random_init.num_clusters, 32);
}

TEST(KMeansTest, NoClusterStaysEmptyWithDuplicateRows) {
  // 100 rows but only 3 distinct values: the repair must split clusters, not loop forever.
  std::vector<float> data;
  for (int row = 0; row < 100; ++row) data.push_back(static_cast<float>(row % 3));
  KMeansOptions options;
  options.num_clusters = 8;
  options.kmeans_plus_plus = false;
  const KMeansResult result = TrainKMeans(data, 1, options).value();
  EXPECT_EQ(result.centroids.size(), 8u);
}

TEST(KMeansTest, RejectsBadArguments) {
  const std::vector<float> data(10, 1.0f);
  KMeansOptions options;
  options.num_clusters = 11;
  EXPECT_TRUE(TrainKMeans(data, 1, options).status().IsInvalidArgument());
  options.num_clusters = 0;
  EXPECT_TRUE(TrainKMeans(data, 1, options).status().IsInvalidArgument());
  options.num_clusters = 2;
  EXPECT_TRUE(TrainKMeans(data, 3, options).status().IsInvalidArgument());
  EXPECT_TRUE(TrainKMeans(data, 0, options).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tessera::index
