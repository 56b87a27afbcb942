#include "index/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace tessera::index {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Return the k best of `all` by brute force.
std::vector<Neighbor> BruteForce(std::vector<Neighbor> all, size_t k) {
  std::sort(all.begin(), all.end(), NeighborLess);
  if (all.size() > k) all.resize(k);
  return all;
}

// Return `count` candidates with distances from a small set, so that ties are common.
std::vector<Neighbor> RandomCandidates(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> distance(0, 50);
  std::vector<Neighbor> all;
  for (size_t idx = 0; idx < count; ++idx) {
    all.push_back(
        {static_cast<float>(distance(rng)) * 0.25f, static_cast<uint64_t>(rng() % 100000)});
  }
  return all;
}

TEST(TopKTest, KeepsTheKSmallestBestFirstWithTiesByRowId) {
  for (int32_t k : {1, 2, 7, 10, 100, 1000}) {
    const std::vector<Neighbor> all = RandomCandidates(3000, /*seed=*/static_cast<uint32_t>(k));
    TopK top(k);
    for (const Neighbor& candidate : all) top.Push(candidate.distance, candidate.row_id);
    EXPECT_EQ(top.size(), static_cast<size_t>(k));
    EXPECT_EQ(top.Take(), BruteForce(all, k)) << "k=" << k;
  }
}

TEST(TopKTest, ThresholdIsInfinityUntilFullThenTheKthDistance) {
  TopK top(3);
  EXPECT_EQ(top.threshold(), kInf);
  top.Push(5.0f, 1);
  top.Push(1.0f, 2);
  EXPECT_EQ(top.threshold(), kInf);
  top.Push(3.0f, 3);
  EXPECT_EQ(top.threshold(), 5.0f);
  top.Push(4.0f, 4);
  EXPECT_EQ(top.threshold(), 4.0f);
  top.Push(9.0f, 5);  // worse than the k-th: rejected
  EXPECT_EQ(top.threshold(), 4.0f);
  EXPECT_EQ(top.Take(), (std::vector<Neighbor>{{1.0f, 2}, {3.0f, 3}, {4.0f, 4}}));
}

TEST(TopKTest, EqualDistanceReplacesTheKthOnlyWithASmallerRowId) {
  TopK top(2);
  top.Push(1.0f, 10);
  top.Push(2.0f, 20);
  top.Push(2.0f, 30);  // tie, larger row id: rejected
  top.Push(2.0f, 15);  // tie, smaller row id: replaces (2, 20)
  EXPECT_EQ(top.threshold(), 2.0f);
  EXPECT_EQ(top.Take(), (std::vector<Neighbor>{{1.0f, 10}, {2.0f, 15}}));
}

TEST(TopKTest, ReturnsFewerThanKWhenFewerWerePushed) {
  TopK top(10);
  top.Push(2.0f, 7);
  top.Push(1.0f, 8);
  top.Push(kInf, 9);
  EXPECT_EQ(top.threshold(), kInf);
  EXPECT_EQ(top.Take(), (std::vector<Neighbor>{{1.0f, 8}, {2.0f, 7}, {kInf, 9}}));
}

TEST(TopKTest, NeverKeepsNaN) {
  TopK top(2);
  top.Push(std::nanf(""), 1);
  top.Push(1.0f, 2);
  top.Push(std::nanf(""), 3);
  top.Push(2.0f, 4);
  top.Push(std::nanf(""), 5);
  EXPECT_EQ(top.Take(), (std::vector<Neighbor>{{1.0f, 2}, {2.0f, 4}}));
}

TEST(TopKTest, ZeroKKeepsNothing) {
  TopK top(0);
  EXPECT_EQ(top.threshold(), -kInf);
  top.Push(1.0f, 1);
  top.Push(-kInf, 2);
  EXPECT_TRUE(top.empty());
  EXPECT_TRUE(top.Take().empty());
}

TEST(TopKTest, MergeOfPerThreadResultsEqualsOneTopKOverAll) {
  const std::vector<Neighbor> all = RandomCandidates(5000, /*seed=*/42);
  constexpr int32_t kK = 25;
  std::vector<TopK> per_thread;
  for (int thread = 0; thread < 4; ++thread) per_thread.emplace_back(kK);
  for (size_t idx = 0; idx < all.size(); ++idx) {
    per_thread[idx % 4].Push(all[idx].distance, all[idx].row_id);
  }
  TopK merged(kK);
  for (TopK& part : per_thread) {
    merged.Merge(std::move(part));
    EXPECT_TRUE(part.empty());  // NOLINT(bugprone-use-after-move): Merge leaves it empty
  }
  EXPECT_EQ(merged.Take(), BruteForce(all, kK));
}

TEST(TopKTest, MergeIntoASmallerKKeepsOnlyItsOwnK) {
  TopK small(2);
  TopK large(5);
  for (uint64_t row = 0; row < 5; ++row) large.Push(static_cast<float>(row), row);
  small.Merge(std::move(large));
  EXPECT_EQ(small.Take(), (std::vector<Neighbor>{{0.0f, 0}, {1.0f, 1}}));
}

TEST(TopKTest, TakeLeavesItEmptyAndReusable) {
  TopK top(2);
  top.Push(1.0f, 1);
  top.Push(2.0f, 2);
  EXPECT_EQ(top.Take().size(), 2u);
  EXPECT_TRUE(top.empty());
  EXPECT_EQ(top.threshold(), kInf);
  top.Push(3.0f, 3);
  EXPECT_EQ(top.Take(), (std::vector<Neighbor>{{3.0f, 3}}));
}

}  // namespace
}  // namespace tessera::index
