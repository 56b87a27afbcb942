#include "index/hnsw/hnsw_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "index/index_test_util_internal.h"
#include "index/sq/scalar_quantizer.h"

namespace tessera::index {
namespace {

using testing_internal::BruteForce;
using testing_internal::ClusteredVectors;
using testing_internal::Recall;

constexpr int32_t kDim = 64;
constexpr int64_t kRows = 20000;
constexpr int64_t kQueries = 200;
constexpr int32_t kK = 10;

class HnswGraphTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::vector<float> all =
        ClusteredVectors(kRows + kQueries, kDim, /*num_clusters=*/200, /*spread=*/0.15f, 11);
    base_ = new std::vector<float>(all.begin(), all.begin() + kRows * kDim);
    queries_ = new std::vector<float>(all.begin() + kRows * kDim, all.end());
    truth_ = new std::vector<std::vector<uint64_t>>(
        BruteForce(*base_, *queries_, kDim, kK, Metric::kL2));
    HnswParams params;
    params.m = 16;
    params.ef_construction = 64;
    graph_ = new HnswGraph(params, kRows);
    graph_->Build(FloatSpace(base_->data(), kDim, Metric::kL2));
  }
  static void TearDownTestSuite() {
    delete graph_;
    delete truth_;
    delete queries_;
    delete base_;
  }

  template <class MakeSpace>
  double SearchRecall(int32_t ef, const MakeSpace& make_space) {
    HnswScratch scratch;
    std::vector<HnswCandidate> out;
    std::vector<std::vector<uint64_t>> found(kQueries);
    for (int64_t q = 0; q < kQueries; ++q) {
      graph_->Search(make_space(queries_->data() + q * kDim), ef, NodeFilter(), &scratch, &out);
      EXPECT_EQ(out.size(), static_cast<size_t>(ef));
      for (int idx = 0; idx < kK && idx < static_cast<int>(out.size()); ++idx) {
        found[q].push_back(out[idx].node);
      }
    }
    return Recall(found, *truth_);
  }

  static std::vector<float>* base_;
  static std::vector<float>* queries_;
  static std::vector<std::vector<uint64_t>>* truth_;
  static HnswGraph* graph_;
};

std::vector<float>* HnswGraphTest::base_ = nullptr;
std::vector<float>* HnswGraphTest::queries_ = nullptr;
std::vector<std::vector<uint64_t>>* HnswGraphTest::truth_ = nullptr;
HnswGraph* HnswGraphTest::graph_ = nullptr;

TEST_F(HnswGraphTest, ConcurrentBuildIsValidAndAsGoodAsTheSerialOne) {
  HnswParams params = graph_->params();
  HnswGraph parallel(params, kRows);
  parallel.Build(FloatSpace(base_->data(), kDim, Metric::kL2), /*num_threads=*/4);
  // Every link valid, counts bounded, entry point on the top level: FromArrays checks it all.
  auto rebuilt = HnswGraph::FromArrays(params, parallel.entry_point(), parallel.levels(),
                                       parallel.level0(), parallel.upper());
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(parallel.levels(), graph_->levels());  // levels come from the seed, not the order
  // Nodes no level-0 link points to: pruning leaves a few in any HNSW build; a concurrent
  // build must not leave notably more.
  auto unlinked = [](const HnswGraph& graph) {
    std::vector<bool> linked(kRows, false);
    linked[graph.entry_point()] = true;
    for (uint32_t node = 0; node < kRows; ++node) {
      for (uint32_t link : graph.Links(node, 0)) linked[link] = true;
    }
    return std::count(linked.begin(), linked.end(), false);
  };
  std::printf("unlinked nodes: serial %ld, concurrent %ld\n", static_cast<long>(unlinked(*graph_)),
              static_cast<long>(unlinked(parallel)));
  EXPECT_LE(unlinked(parallel), unlinked(*graph_) + 2);
  HnswGraph* serial = graph_;
  graph_ = &parallel;
  const double recall = SearchRecall(
      32, [](const float* q) { return FloatSpace(base_->data(), kDim, Metric::kL2).WithQuery(q); });
  graph_ = serial;
  const double serial_recall = SearchRecall(
      32, [](const float* q) { return FloatSpace(base_->data(), kDim, Metric::kL2).WithQuery(q); });
  EXPECT_GE(recall, 0.95);
  EXPECT_GE(recall, serial_recall - 0.01);
}

TEST_F(HnswGraphTest, RecallAt10OverFloatsIsAtLeast95Percent) {
  const double recall = SearchRecall(
      64, [&](const float* query) { return FloatSpace(base_->data(), kDim, Metric::kL2, query); });
  std::printf("hnsw float recall@10 (m=16, ef_construction=64, ef=64): %.4f\n", recall);
  EXPECT_GE(recall, 0.95);
}

TEST_F(HnswGraphTest, RecallAt10OverSq8CodesIsAtLeast95Percent) {
  const ScalarQuantizer sq = ScalarQuantizer::Train(*base_, kDim).value();
  std::vector<uint8_t> codes(base_->size());
  sq.EncodeBatch(base_->data(), kRows, codes.data());
  PreparedSq8Query prepared;  // one query at a time
  const double recall = SearchRecall(64, [&](const float* query) {
    prepared.Prepare(sq, Metric::kL2, query);
    return Sq8Space(sq, codes.data(), Metric::kL2, prepared);
  });
  std::printf("hnsw sq8 recall@10 (m=16, ef_construction=64, ef=64): %.4f\n", recall);
  EXPECT_GE(recall, 0.95);
}

TEST_F(HnswGraphTest, LinksAreBoundedAndValid) {
  const HnswGraph& graph = *graph_;
  EXPECT_EQ(graph.num_nodes(), static_cast<uint32_t>(kRows));
  EXPECT_GE(graph.max_level(), 1);
  for (uint32_t node = 0; node < graph.num_nodes(); ++node) {
    for (int level = 0; level <= graph.levels()[node]; ++level) {
      const std::vector<uint32_t> links = graph.Links(node, level);
      ASSERT_LE(links.size(), static_cast<size_t>(level == 0 ? 32 : 16));
      std::set<uint32_t> unique(links.begin(), links.end());
      EXPECT_EQ(unique.size(), links.size());
      EXPECT_EQ(unique.count(node), 0u);
      if (level == 0) {
        EXPECT_GT(links.size(), 0u);
      }
    }
  }
}

TEST_F(HnswGraphTest, FilteredSearchReturnsKAcceptedNodesAtOnePercent) {
  const NodeFilter filter{[](const void*, uint32_t node) { return node % 100 == 7; }, nullptr};
  // The exact answer among accepted nodes.
  std::vector<float> accepted;
  std::vector<uint32_t> accepted_ids;
  for (uint32_t node = 7; node < kRows; node += 100) {
    accepted.insert(accepted.end(), base_->begin() + node * kDim,
                    base_->begin() + (node + 1) * kDim);
    accepted_ids.push_back(node);
  }
  const auto truth = BruteForce(accepted, *queries_, kDim, kK, Metric::kL2);
  HnswScratch scratch;
  std::vector<HnswCandidate> out;
  std::vector<std::vector<uint64_t>> found(kQueries);
  for (int64_t q = 0; q < kQueries; ++q) {
    graph_->Search(FloatSpace(base_->data(), kDim, Metric::kL2, queries_->data() + q * kDim), kK,
                   filter, &scratch, &out);
    ASSERT_EQ(out.size(), static_cast<size_t>(kK));
    for (const HnswCandidate& c : out) {
      ASSERT_EQ(c.node % 100, 7u);
      found[q].push_back(c.node / 100);  // index into accepted_ids
    }
  }
  const double recall = Recall(found, truth);
  std::printf("hnsw filtered (1%%) recall@10: %.4f\n", recall);
  EXPECT_GE(recall, 0.95);
}

TEST(HnswGraphSmallTest, EmptyAndSingleNodeGraphs) {
  HnswGraph empty(HnswParams(), 0);
  const float vec[2] = {1.0f, 2.0f};
  empty.Build(FloatSpace(vec, 2, Metric::kL2));
  HnswScratch scratch;
  std::vector<HnswCandidate> out;
  empty.Search(FloatSpace(vec, 2, Metric::kL2, vec), 10, NodeFilter(), &scratch, &out);
  EXPECT_TRUE(out.empty());
  HnswGraph one(HnswParams(), 1);
  one.Build(FloatSpace(vec, 2, Metric::kL2));
  one.Search(FloatSpace(vec, 2, Metric::kL2, vec), 10, NodeFilter(), &scratch, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].node, 0u);
}

TEST(HnswGraphSmallTest, FromArraysRoundTripsAndRejectsBadLinks) {
  const std::vector<float> data = ClusteredVectors(500, 8, 5, 0.2f, 5);
  HnswParams params;
  params.m = 4;
  HnswGraph graph(params, 500);
  graph.Build(FloatSpace(data.data(), 8, Metric::kL2));
  HnswGraph copy = HnswGraph::FromArrays(params, graph.entry_point(), graph.levels(),
                                         graph.level0(), graph.upper())
                       .value();
  EXPECT_EQ(copy.level0(), graph.level0());
  EXPECT_EQ(copy.max_level(), graph.max_level());
  std::vector<uint32_t> bad = graph.level0();
  bad[2] = 500;  // node 0's second link out of range
  EXPECT_TRUE(HnswGraph::FromArrays(params, graph.entry_point(), graph.levels(), bad, graph.upper())
                  .status()
                  .IsCorruption());
  bad = graph.level0();
  bad[0] = 9;  // more links than 2 * m
  EXPECT_TRUE(HnswGraph::FromArrays(params, graph.entry_point(), graph.levels(), bad, graph.upper())
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(HnswGraph::FromArrays(params, 500, graph.levels(), graph.level0(), graph.upper())
                  .status()
                  .IsCorruption());
  std::vector<uint32_t> short_level0 = graph.level0();
  short_level0.pop_back();
  EXPECT_TRUE(HnswGraph::FromArrays(params, graph.entry_point(), graph.levels(), short_level0,
                                    graph.upper())
                  .status()
                  .IsCorruption());
}

TEST_F(HnswGraphTest, NarrowLinksSearchExactlyAsTheWideOnes) {
  // Insert() never narrows, Build() with one thread inserts in the same order and narrows:
  // the same graph in two widths.
  HnswGraph wide(graph_->params(), kRows);
  HnswScratch scratch;
  const FloatSpace space(base_->data(), kDim, Metric::kL2);
  for (uint32_t node = 0; node < kRows; ++node) wide.Insert(node, space, &scratch);
  ASSERT_FALSE(wide.narrow());
  ASSERT_TRUE(graph_->narrow());
  EXPECT_EQ(wide.level0(), graph_->level0());
  EXPECT_EQ(wide.upper(), graph_->upper());
  // Level 0 is (1 + 2m) ids per node: 2 bytes each instead of 4.
  EXPECT_EQ(wide.memory_bytes() - graph_->memory_bytes(),
            (wide.level0().size() + wide.upper().size()) * sizeof(uint16_t));
  std::vector<HnswCandidate> from_wide;
  std::vector<HnswCandidate> from_narrow;
  for (int64_t q = 0; q < kQueries; ++q) {
    const FloatSpace query = space.WithQuery(queries_->data() + q * kDim);
    wide.Search(query, 32, NodeFilter(), &scratch, &from_wide);
    graph_->Search(query, 32, NodeFilter(), &scratch, &from_narrow);
    ASSERT_EQ(from_wide.size(), from_narrow.size());
    for (size_t idx = 0; idx < from_wide.size(); ++idx) {
      ASSERT_EQ(from_wide[idx].node, from_narrow[idx].node) << "query " << q;
    }
  }
  // A serialized narrow graph reads back narrow, with the same links.
  HnswGraph copy = HnswGraph::FromArrays(graph_->params(), graph_->entry_point(), graph_->levels(),
                                         graph_->level0(), graph_->upper())
                       .value();
  EXPECT_TRUE(copy.narrow());
  EXPECT_EQ(copy.level0(), wide.level0());
}

TEST(HnswGraphSmallTest, GraphsAboveTheNarrowLimitKeepWideLinks) {
  // 65,537 nodes: node ids no longer fit in 16 bits.
  const uint32_t n = HnswGraph::kMaxNarrowNodes + 1;
  std::vector<float> data(2 * static_cast<size_t>(n));
  for (uint32_t node = 0; node < n; ++node) {
    data[2 * node] = static_cast<float>(node % 256);
    data[2 * node + 1] = static_cast<float>(node / 256);
  }
  HnswParams params;
  params.m = 4;
  params.ef_construction = 8;
  HnswGraph graph(params, n);
  graph.Build(FloatSpace(data.data(), 2, Metric::kL2), /*num_threads=*/2);
  EXPECT_FALSE(graph.narrow());
  HnswScratch scratch;
  std::vector<HnswCandidate> out;
  const float last[2] = {data[2 * (n - 1)], data[2 * (n - 1) + 1]};  // the node above 65,535
  graph.Search(FloatSpace(data.data(), 2, Metric::kL2, last), 8, NodeFilter(), &scratch, &out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].node, n - 1);
  EXPECT_EQ(out[0].distance, 0.0f);
}

}  // namespace
}  // namespace tessera::index
