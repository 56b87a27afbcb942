// Behaviour every index type shares: recall on every metric, stable row ids, prefilter,
// re-rank, argument checks.
#include "index/vector_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <thread>
#include <tuple>

#include "index/index_test_util_internal.h"

namespace tessera::index {
namespace {

using testing_internal::BruteForce;
using testing_internal::ClusteredVectors;
using testing_internal::Recall;

constexpr int32_t kDim = 32;
constexpr int64_t kRows = 4000;
constexpr int64_t kQueries = 50;

uint64_t RowId(int64_t row) { return 1000 + 7 * static_cast<uint64_t>(row); }
int64_t RowOf(uint64_t row_id) { return static_cast<int64_t>((row_id - 1000) / 7); }

struct Dataset {
  std::vector<float> base;
  std::vector<float> queries;
  std::vector<uint64_t> row_ids;
};

const Dataset& TestData() {
  static const Dataset* data = [] {
    auto* d = new Dataset;
    std::vector<float> all = ClusteredVectors(kRows + kQueries, kDim, 40, 0.25f, 21);
    // Give rows different norms so that dot and cosine rank differently.
    for (int64_t row = 0; row < kRows + kQueries; ++row) {
      const float scale = 0.5f + static_cast<float>(row % 5) * 0.25f;
      for (int32_t dim = 0; dim < kDim; ++dim) all[row * kDim + dim] *= scale;
    }
    d->base.assign(all.begin(), all.begin() + kRows * kDim);
    d->queries.assign(all.begin() + kRows * kDim, all.end());
    for (int64_t row = 0; row < kRows; ++row) d->row_ids.push_back(RowId(row));
    return d;
  }();
  return *data;
}

class VectorIndexTest : public ::testing::TestWithParam<std::tuple<IndexType, Metric>> {
 protected:
  IndexType type() const { return std::get<0>(GetParam()); }
  Metric metric() const { return std::get<1>(GetParam()); }

  // Return the index of this (type, metric), built once per test binary.
  const VectorIndex* BuildTestIndex() {
    static std::map<std::tuple<IndexType, Metric>, std::unique_ptr<VectorIndex>>* cache =
        new std::map<std::tuple<IndexType, Metric>, std::unique_ptr<VectorIndex>>();
    std::unique_ptr<VectorIndex>& slot = (*cache)[GetParam()];
    if (slot == nullptr) slot = BuildUncached();
    return slot.get();
  }

  std::unique_ptr<VectorIndex> BuildUncached() {
    IndexBuildOptions options;
    options.type = type();
    options.metric = metric();
    options.num_partitions = 8;
    options.m = 12;
    options.ef_construction = 80;
    options.num_threads = 2;
    options.num_sub_vectors = 16;  // IVF_PQ: 2 floats per byte (the default, 16, is too coarse)
    const Dataset& data = TestData();
    return BuildIndex(options, data.base, kDim, data.row_ids).value();
  }

  SearchOptions Options(int32_t k) const {
    SearchOptions options;
    options.k = k;
    options.nprobes = 4;
    options.ef = 64;
    options.refine_factor = 2;
    options.vectors = &lookup_;
    return options;
  }

  VectorLookup lookup_ = [](uint64_t row_id) -> const float* {
    return TestData().base.data() + RowOf(row_id) * kDim;
  };
};

TEST_P(VectorIndexTest, RecallAt10IsHighWithRerank) {
  const VectorIndex* index = BuildTestIndex();
  EXPECT_EQ(index->type(), type());
  EXPECT_EQ(index->metric(), metric());
  EXPECT_EQ(index->dim(), kDim);
  EXPECT_EQ(index->num_rows(), kRows);
  EXPECT_GT(index->memory_bytes(), 0u);
  const Dataset& data = TestData();
  const auto truth = BruteForce(data.base, data.queries, kDim, 10, metric());
  std::vector<std::vector<uint64_t>> found(kQueries);
  std::vector<Neighbor> results;
  for (int64_t q = 0; q < kQueries; ++q) {
    const std::span<const float> query(data.queries.data() + q * kDim, kDim);
    ASSERT_TRUE(index->Search(query, Options(10), &results).ok());
    ASSERT_EQ(results.size(), 10u);
    for (size_t idx = 0; idx < results.size(); ++idx) {
      if (idx > 0) {
        EXPECT_LE(results[idx - 1].distance, results[idx].distance);
      }
      const int64_t row = RowOf(results[idx].row_id);
      ASSERT_EQ(results[idx].row_id, RowId(row));
      // Re-ranked (or exact) distances are the true distances.
      std::vector<float> q_copy(query.begin(), query.end());
      if (metric() == Metric::kCosine) NormalizeVector(q_copy.data(), kDim);
      EXPECT_NEAR(results[idx].distance,
                  ExactDistance(metric(), q_copy.data(), data.base.data() + row * kDim, kDim),
                  1e-3);
      found[q].push_back(static_cast<uint64_t>(row));
    }
  }
  const double recall = Recall(found, truth);
  std::printf("%s/%s recall@10: %.4f\n", std::string(IndexTypeToString(type())).c_str(),
              std::string(MetricToString(metric())).c_str(), recall);
  EXPECT_GE(recall, 0.9);
}

TEST_P(VectorIndexTest, FilterAtOnePercentStillReturnsK) {
  const VectorIndex* index = BuildTestIndex();
  const Dataset& data = TestData();
  const RowFilter filter = [](uint64_t row_id) { return RowOf(row_id) % 100 == 3; };
  SearchOptions options = Options(10);
  options.nprobes = 1;  // the first partition alone holds fewer than k accepted rows
  options.filter = &filter;
  std::vector<Neighbor> results;
  for (int64_t q = 0; q < kQueries; ++q) {
    ASSERT_TRUE(index->Search({data.queries.data() + q * kDim, kDim}, options, &results).ok());
    ASSERT_EQ(results.size(), 10u) << q;
    for (const Neighbor& n : results) EXPECT_EQ(RowOf(n.row_id) % 100, 3);
  }
}

TEST_P(VectorIndexTest, RerankDropsRowsWhoseVectorIsGone) {
  const VectorIndex* index = BuildTestIndex();
  if (type() == IndexType::kIvfFlat) GTEST_SKIP() << "IVF_FLAT never re-ranks";
  const VectorLookup odd_only = [](uint64_t row_id) -> const float* {
    if (RowOf(row_id) % 2 == 0) return nullptr;
    return TestData().base.data() + RowOf(row_id) * kDim;
  };
  SearchOptions options = Options(5);
  options.refine_factor = 4;
  options.vectors = &odd_only;
  std::vector<Neighbor> results;
  ASSERT_TRUE(index->Search({TestData().queries.data(), kDim}, options, &results).ok());
  EXPECT_FALSE(results.empty());
  for (const Neighbor& n : results) EXPECT_EQ(RowOf(n.row_id) % 2, 1);
}

TEST_P(VectorIndexTest, RejectsBadSearchArguments) {
  const VectorIndex* index = BuildTestIndex();
  std::vector<Neighbor> results;
  const std::vector<float> short_query(kDim - 1, 0.0f);
  EXPECT_TRUE(index->Search(short_query, Options(10), &results).IsInvalidArgument());
  std::vector<float> query(kDim, 0.5f);
  query[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(index->Search(query, Options(10), &results).IsInvalidArgument());
  query[3] = 0.5f;
  SearchOptions options = Options(10);
  options.nprobes = -1;
  EXPECT_TRUE(index->Search(query, options, &results).IsInvalidArgument());
  options = Options(10);
  options.vectors = nullptr;
  const Status no_lookup = index->Search(query, options, &results);
  EXPECT_EQ(no_lookup.ok(), type() == IndexType::kIvfFlat);
  options = Options(0);
  EXPECT_TRUE(index->Search(query, options, &results).ok());
  EXPECT_TRUE(results.empty());
  // k larger than the index returns every row.
  options = Options(kRows + 10);
  options.refine_factor = 0;
  options.nprobes = 1;
  ASSERT_TRUE(index->Search(query, options, &results).ok());
  EXPECT_EQ(results.size(), static_cast<size_t>(kRows));
}

TEST_P(VectorIndexTest, ConcurrentSearchesMatchSerialOnes) {
  const VectorIndex* index = BuildTestIndex();
  const Dataset& data = TestData();
  const RowFilter filter = [](uint64_t row_id) { return row_id % 3 != 0; };
  SearchOptions options = Options(10);
  options.filter = &filter;
  std::vector<std::vector<Neighbor>> serial(kQueries);
  for (int64_t q = 0; q < kQueries; ++q) {
    ASSERT_TRUE(index->Search({data.queries.data() + q * kDim, kDim}, options, &serial[q]).ok());
  }
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int thread_idx = 0; thread_idx < 4; ++thread_idx) {
    threads.emplace_back([&, thread_idx] {
      std::vector<Neighbor> results;
      for (int round = 0; round < 3; ++round) {
        for (int64_t q = thread_idx; q < kQueries; q += 2) {
          if (!index->Search({data.queries.data() + q * kDim, kDim}, options, &results).ok() ||
              results != serial[q]) {
            ++mismatches;
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, VectorIndexTest,
    ::testing::Combine(::testing::Values(IndexType::kIvfFlat, IndexType::kIvfSq,
                                         IndexType::kIvfHnswSq, IndexType::kHnsw,
                                         IndexType::kIvfPq),
                       ::testing::Values(Metric::kL2, Metric::kCosine, Metric::kDot)),
    [](const auto& param_info) {
      return std::string(IndexTypeToString(std::get<0>(param_info.param))) + "_" +
             std::string(MetricToString(std::get<1>(param_info.param)));
    });

TEST(VectorIndexBuildTest, RejectsBadInput) {
  IndexBuildOptions options;
  const std::vector<float> vectors = {1, 2, 3, 4};
  const std::vector<uint64_t> two_ids = {1, 2};
  EXPECT_TRUE(BuildIndex(options, vectors, 2, {}).status().IsInvalidArgument());
  EXPECT_TRUE(BuildIndex(options, vectors, 3, two_ids).status().IsInvalidArgument());
  EXPECT_TRUE(BuildIndex(options, vectors, 0, two_ids).status().IsInvalidArgument());
  const std::vector<float> with_nan = {1, std::numeric_limits<float>::quiet_NaN(), 3, 4};
  EXPECT_TRUE(BuildIndex(options, with_nan, 2, two_ids).status().IsInvalidArgument());
  options.m = 1;
  EXPECT_TRUE(BuildIndex(options, vectors, 2, two_ids).status().IsInvalidArgument());
}

TEST(VectorIndexBuildTest, ParsesTypeNames) {
  for (IndexType type : {IndexType::kIvfFlat, IndexType::kIvfSq, IndexType::kIvfHnswSq,
                         IndexType::kHnsw, IndexType::kIvfPq}) {
    EXPECT_EQ(ParseIndexType(IndexTypeToString(type)).value(), type);
  }
  EXPECT_EQ(ParseIndexType("ivf_hnsw_sq").value(), IndexType::kIvfHnswSq);
  EXPECT_EQ(ParseIndexType("ivf_pq").value(), IndexType::kIvfPq);
  EXPECT_TRUE(ParseIndexType("LSH").status().IsInvalidArgument());
}

TEST(VectorIndexBuildTest, TinyIndexesWork) {
  // Fewer rows than the requested partitions; a single row.
  for (IndexType type : {IndexType::kIvfFlat, IndexType::kIvfSq, IndexType::kIvfHnswSq,
                         IndexType::kHnsw, IndexType::kIvfPq}) {
    IndexBuildOptions options;
    options.type = type;
    options.num_partitions = 50;
    const std::vector<float> one = {1.0f, 2.0f};
    const std::vector<uint64_t> id = {42};
    std::unique_ptr<VectorIndex> index = BuildIndex(options, one, 2, id).value();
    std::vector<Neighbor> results;
    SearchOptions search;
    ASSERT_TRUE(index->Search(one, search, &results).ok());
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].row_id, 42u);
  }
}

}  // namespace
}  // namespace tessera::index
