// Recall thresholds of IVF_HNSW_SQ on fixed-seed clustered data and on Fashion-MNIST.
#include "index/ivf_hnsw_sq.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "index/index_test_util_internal.h"

namespace tessera::index {
namespace {

using testing_internal::BruteForce;
using testing_internal::ClusteredVectors;
using testing_internal::Recall;

struct RecallRun {
  double recall = 0.0;
  double qps = 0.0;
};

RecallRun MeasureRecall(const IvfHnswSqIndex& index, const std::vector<float>& base,
                        const std::vector<float>& queries, int32_t dim,
                        const std::vector<std::vector<uint64_t>>& truth, SearchOptions options) {
  const VectorLookup lookup = [&](uint64_t row_id) { return base.data() + row_id * dim; };
  options.vectors = &lookup;
  const int64_t num_queries = static_cast<int64_t>(queries.size()) / dim;
  std::vector<std::vector<uint64_t>> found(num_queries);
  std::vector<Neighbor> results;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t q = 0; q < num_queries; ++q) {
    EXPECT_TRUE(
        index.Search({queries.data() + q * dim, static_cast<size_t>(dim)}, options, &results).ok());
    EXPECT_EQ(results.size(), static_cast<size_t>(options.k));
    for (const Neighbor& n : results) found[q].push_back(n.row_id);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {Recall(found, truth), static_cast<double>(num_queries) / seconds};
}

std::vector<uint64_t> Iota(int64_t n) {
  std::vector<uint64_t> ids(n);
  for (int64_t row = 0; row < n; ++row) ids[row] = static_cast<uint64_t>(row);
  return ids;
}

TEST(IvfHnswSqTest, ClusteredRecallAt10IsAtLeast95Percent) {
  constexpr int32_t kDim = 64;
  constexpr int64_t kRows = 20000;
  const std::vector<float> all = ClusteredVectors(kRows + 200, kDim, 200, 0.15f, 11);
  const std::vector<float> base(all.begin(), all.begin() + kRows * kDim);
  const std::vector<float> queries(all.begin() + kRows * kDim, all.end());
  const auto truth = BruteForce(base, queries, kDim, 10, Metric::kL2);
  IndexBuildOptions options;
  options.num_partitions = 16;
  options.ef_construction = 64;
  options.num_threads = 2;
  std::vector<double> progress;
  options.progress = [&](double fraction) { progress.push_back(fraction); };
  const auto index = IvfHnswSqIndex::Build(options, base, kDim, Iota(kRows)).value();
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), 1.0);
  for (size_t idx = 1; idx < progress.size(); ++idx) EXPECT_GE(progress[idx], progress[idx - 1]);
  EXPECT_EQ(index->graphs().size(), 16u);

  SearchOptions search;
  search.nprobes = 4;
  search.ef = 48;
  search.refine_factor = 2;
  const RecallRun run = MeasureRecall(*index, base, queries, kDim, truth, search);
  std::printf("clustered 20k x 64, 16 partitions, nprobes=4 ef=48 refine=2: recall@10 %.4f\n",
              run.recall);
  EXPECT_GE(run.recall, 0.95);

  // Prefilter at 10% (graph search) and 1% (partition scans) selectivity: k rows that pass,
  // and they are the nearest that pass.
  for (const int modulus : {10, 100}) {
    const RowFilter filter = [modulus](uint64_t row_id) { return row_id % modulus == 1; };
    std::vector<float> accepted;
    for (int64_t row = 1; row < kRows; row += modulus) {
      accepted.insert(accepted.end(), base.begin() + row * kDim, base.begin() + (row + 1) * kDim);
    }
    auto filtered_truth = BruteForce(accepted, queries, kDim, 10, Metric::kL2);
    for (auto& ids : filtered_truth) {
      for (uint64_t& id : ids) id = id * modulus + 1;  // back to row ids
    }
    SearchOptions filtered = search;
    filtered.filter = &filter;
    const RecallRun filtered_run =
        MeasureRecall(*index, base, queries, kDim, filtered_truth, filtered);
    std::printf("  with a filter passing 1/%d of the rows: recall@10 %.4f\n", modulus,
                filtered_run.recall);
    EXPECT_GE(filtered_run.recall, 0.95);
  }
}

// Fashion-MNIST (Debian package dataset-fashion-mnist): 20k training images as the base, 200
// test images as queries, L2.
class FashionMnistTest : public ::testing::Test {
 protected:
  static constexpr int32_t kDim = 784;
  static constexpr int64_t kRows = 20000;
  static constexpr int64_t kQueries = 200;

  void SetUp() override {
    base_ = testing_internal::LoadFashionMnist("train-images-idx3-ubyte.gz", kRows);
    queries_ = testing_internal::LoadFashionMnist("t10k-images-idx3-ubyte.gz", kQueries);
    if (base_.empty() || queries_.empty()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
    ASSERT_EQ(base_.size(), static_cast<size_t>(kRows * kDim));
  }

  std::vector<float> base_;
  std::vector<float> queries_;
};

TEST_F(FashionMnistTest, IvfHnswSqRecallAt10IsAtLeast95Percent) {
  IndexBuildOptions options;
  options.num_partitions = 8;
  options.m = 16;
  options.ef_construction = 64;
  options.num_threads = 2;
  const auto start = std::chrono::steady_clock::now();
  const auto index = IvfHnswSqIndex::Build(options, base_, kDim, Iota(kRows)).value();
  const double build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SearchOptions search;
  search.nprobes = 3;
  search.ef = 40;
  search.refine_factor = 2;
  const RecallRun run = MeasureRecall(*index, base_, queries_, kDim,
                                      BruteForce(base_, queries_, kDim, 10, Metric::kL2), search);
  std::printf(
      "fashion-mnist 20k: 8 partitions, m=16 ef_construction=64, nprobes=3 ef=40 refine=2: "
      "recall@10 %.4f, %.0f qps, build %.1f s, %.1f MB (%.0f bytes/row)\n",
      run.recall, run.qps, build_seconds, index->memory_bytes() / 1e6,
      static_cast<double>(index->memory_bytes()) / kRows);
  EXPECT_GE(run.recall, 0.95);
  // SQ8 codes + graph must stay well under a third of float vectors + an hnswlib graph.
  EXPECT_LT(index->memory_bytes(), kRows * (kDim * 4 + 2 * 16 * 4 + 8) / 3);
}

TEST_F(FashionMnistTest, SegmentBuiltWithSameModelFindsItsRows) {
  IndexBuildOptions options;
  options.num_partitions = 4;
  options.ef_construction = 32;
  options.num_threads = 2;
  const int64_t half = 4000;
  const std::vector<float> first(base_.begin(), base_.begin() + half * kDim);
  const std::vector<float> second(base_.begin() + half * kDim, base_.begin() + 2 * half * kDim);
  const auto index = IvfHnswSqIndex::Build(options, first, kDim, Iota(half)).value();
  std::vector<uint64_t> tail_ids(half);
  for (int64_t row = 0; row < half; ++row) tail_ids[row] = static_cast<uint64_t>(half + row);
  const auto tail = index->BuildWithSameModel(second, tail_ids, nullptr, 2).value();
  EXPECT_EQ(tail->model().centroids(), index->model().centroids());
  EXPECT_EQ(tail->quantizer().vmin(), index->quantizer().vmin());
  EXPECT_EQ(tail->num_rows(), half);
  // Each tail row, used as a query, finds itself first.
  const VectorLookup lookup = [&](uint64_t row_id) { return base_.data() + row_id * kDim; };
  SearchOptions search;
  search.k = 1;
  search.refine_factor = 2;
  search.vectors = &lookup;
  std::vector<Neighbor> results;
  for (int64_t row = 0; row < half; row += 100) {
    ASSERT_TRUE(tail->Search({second.data() + row * kDim, kDim}, search, &results).ok());
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].row_id, static_cast<uint64_t>(half + row));
  }
  // The same model without graphs (a graph-less tail segment) and back with them; another
  // type is refused.
  const auto graphless = index
                             ->BuildWithSameModelAs(IndexType::kIvfSq, index->hnsw_params(), second,
                                                    tail_ids, nullptr, 2)
                             .value();
  EXPECT_EQ(graphless->type(), IndexType::kIvfSq);
  EXPECT_TRUE(graphless->graphs().empty());
  EXPECT_EQ(graphless->hnsw_params().m, index->hnsw_params().m);
  const auto with_graphs =
      graphless
          ->BuildWithSameModelAs(IndexType::kIvfHnswSq, graphless->hnsw_params(), second, tail_ids,
                                 nullptr, 2)
          .value();
  EXPECT_EQ(with_graphs->graphs().size(), static_cast<size_t>(options.num_partitions));
  for (const IvfHnswSqIndex* segment : {graphless.get(), with_graphs.get()}) {
    ASSERT_TRUE(segment->Search({second.data() + 5 * kDim, kDim}, search, &results).ok());
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].row_id, static_cast<uint64_t>(half + 5));
  }
  const auto refused = index->BuildWithSameModelAs(IndexType::kHnsw, index->hnsw_params(), second,
                                                   tail_ids, nullptr, 2);
  EXPECT_TRUE(refused.status().IsInvalidArgument()) << refused.status();
}

TEST(IvfHnswSqTest, DefaultPartitionsKeepGraphsNarrowAndDefaultNprobesFindsNeighbours) {
  // Up to 65,536 rows one graph; above, one partition per 32,768 rows, each small enough for
  // 16-bit links. Low dimension and a small ef_construction keep the 70k-row build short.
  constexpr int32_t kDim = 8;
  constexpr int64_t kRows = 70000;
  const std::vector<float> all = ClusteredVectors(kRows + 100, kDim, 64, 0.1f, 3);
  const std::vector<float> base(all.begin(), all.begin() + kRows * kDim);
  const std::vector<float> queries(all.begin() + kRows * kDim, all.end());
  IndexBuildOptions options;
  options.m = 8;
  options.ef_construction = 32;
  options.num_threads = 2;
  const auto small =
      IvfHnswSqIndex::Build(options, {base.data(), 60000 * kDim}, kDim, Iota(60000)).value();
  EXPECT_EQ(small->num_partitions(), 1);
  ASSERT_EQ(small->graphs().size(), 1u);
  EXPECT_TRUE(small->graphs()[0].narrow());
  const auto index = IvfHnswSqIndex::Build(options, base, kDim, Iota(kRows)).value();
  EXPECT_EQ(index->num_partitions(), 3);
  for (const HnswGraph& graph : index->graphs()) {
    EXPECT_EQ(graph.narrow(), graph.num_nodes() <= HnswGraph::kMaxNarrowNodes);
  }
  // Default nprobes (0 = the index's default) and ef: recall stays high. (Re-ranked: at 8
  // dimensions SQ8's rounding alone costs ~0.1 recall, whatever the partitioning.)
  const auto truth = BruteForce(base, queries, kDim, 10, Metric::kL2);
  SearchOptions search;
  search.k = 10;
  search.refine_factor = 4;
  const RecallRun run = MeasureRecall(*index, base, queries, kDim, truth, search);
  std::printf("70k x 8, 3 partitions, default nprobes and ef, refine 4: recall@10 %.4f\n",
              run.recall);
  EXPECT_GE(run.recall, 0.95);
}

TEST(IvfHnswSqTest, DefaultPartitionsOnlyWhereNeighboursShareAPartition) {
  // 200,000 rows: 7 partitions by size. Clustered rows keep their neighbours within the 3
  // nearest partitions: partitioned. Uniform rows have neighbours across partition borders in
  // every direction: one graph.
  constexpr int32_t kDim = 16;
  constexpr int64_t kRows = 200000;
  const std::vector<float> clustered = ClusteredVectors(kRows, kDim, 64, 0.05f, 5);
  EXPECT_EQ(DefaultIvfHnswSqPartitions(clustered, kDim, Metric::kL2, 2).value(), 7);
  std::vector<float> uniform(static_cast<size_t>(kRows) * kDim);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (float& v : uniform) v = value(rng);
  EXPECT_EQ(DefaultIvfHnswSqPartitions(uniform, kDim, Metric::kL2, 2).value(), 1);
}

}  // namespace
}  // namespace tessera::index
