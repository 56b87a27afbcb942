// IVF_PQ on Fashion-MNIST: recall at its defaults, compactness, the tail segment that reuses
// the trained model, and the file round trip. (Behaviour shared with every index type, on every
// metric, is in vector_index_test.cc.)
#include "index/ivf_pq.h"

#include <gtest/gtest.h>

#include <chrono>

#include "index/index_file.h"
#include "index/index_test_util_internal.h"

namespace tessera::index {
namespace {

using testing_internal::BruteForce;
using testing_internal::Recall;

std::vector<uint64_t> Iota(int64_t n, uint64_t first = 0) {
  std::vector<uint64_t> ids(n);
  for (int64_t row = 0; row < n; ++row) ids[row] = first + static_cast<uint64_t>(row);
  return ids;
}

// Fashion-MNIST (Debian package dataset-fashion-mnist): 10k training images as the base, 200
// test images as queries, L2. One test (ctest runs each test in its own process, and the build
// is what costs: ~10 s under the sanitizers), in sections.
class IvfPqFashionTest : public ::testing::Test {
 protected:
  static constexpr int32_t kDim = 784;
  static constexpr int64_t kRows = 10000;
  static constexpr int64_t kQueries = 200;

  static void SetUpTestSuite() {
    base_ = new std::vector<float>(
        testing_internal::LoadFashionMnist("train-images-idx3-ubyte.gz", kRows));
    queries_ = new std::vector<float>(
        testing_internal::LoadFashionMnist("t10k-images-idx3-ubyte.gz", kQueries));
    if (base_->empty() || queries_->empty()) return;
    truth_ = new std::vector<std::vector<uint64_t>>(
        BruteForce(*base_, *queries_, kDim, 10, Metric::kL2));
    IndexBuildOptions options;
    options.type = IndexType::kIvfPq;  // every other parameter at its default
    options.num_threads = 2;
    const auto start = std::chrono::steady_clock::now();
    index_ = IvfPqIndex::Build(options, *base_, kDim, Iota(kRows)).value().release();
    build_seconds_ =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  void SetUp() override {
    if (base_->empty() || queries_->empty()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }

  // Return recall@10 of `index` over the test queries.
  static double MeasureRecall(const VectorIndex& index, SearchOptions options) {
    const VectorLookup lookup = [](uint64_t row_id) { return base_->data() + row_id * kDim; };
    options.vectors = &lookup;
    options.k = 10;
    std::vector<std::vector<uint64_t>> found(kQueries);
    std::vector<Neighbor> results;
    for (int64_t q = 0; q < kQueries; ++q) {
      EXPECT_TRUE(index.Search({queries_->data() + q * kDim, kDim}, options, &results).ok());
      EXPECT_EQ(results.size(), 10u);
      for (const Neighbor& n : results) found[q].push_back(n.row_id);
    }
    return Recall(found, *truth_);
  }

  void ProbesNeverLowerRecall();
  void FileRoundTripGivesIdenticalResults();
  void SegmentBuiltWithSameModelFindsItsRows();

  static inline std::vector<float>* base_ = nullptr;
  static inline std::vector<float>* queries_ = nullptr;
  static inline std::vector<std::vector<uint64_t>>* truth_ = nullptr;
  static inline IvfPqIndex* index_ = nullptr;
  static inline double build_seconds_ = 0.0;
};

TEST_F(IvfPqFashionTest, DefaultsRecallProbesRoundTripAndTailSegments) {
  SCOPED_TRACE("defaults");
  EXPECT_EQ(index_->quantizer().num_sub_vectors(), 49);  // 784 / 16
  EXPECT_EQ(index_->num_partitions(), 100);              // sqrt(10000)
  EXPECT_EQ(index_->num_rows(), kRows);
  // 49 code bytes + an 8-byte row id per row, the centroids and codebooks: under a tenth of
  // the float vectors.
  EXPECT_LT(index_->memory_bytes(), kRows * kDim * sizeof(float) / 10);
  SearchOptions search;  // nprobes 20
  const double plain = MeasureRecall(*index_, search);
  search.refine_factor = 10;
  const double refined = MeasureRecall(*index_, search);
  std::printf(
      "fashion-mnist 10k IVF_PQ defaults (100 partitions, 49 sub-vectors), nprobes=20: "
      "recall@10 %.4f, with refine_factor=10 %.4f; build %.1f s, %.2f MB (%.0f bytes/row)\n",
      plain, refined, build_seconds_, index_->memory_bytes() / 1e6,
      static_cast<double>(index_->memory_bytes()) / kRows);
  EXPECT_GE(plain, 0.6);     // PQ distances alone are approximate...
  EXPECT_GE(refined, 0.95);  // ...and an exact re-rank of 100 candidates recovers the rest
  EXPECT_GT(refined, plain);
  ProbesNeverLowerRecall();
  FileRoundTripGivesIdenticalResults();
  SegmentBuiltWithSameModelFindsItsRows();
}

void IvfPqFashionTest::ProbesNeverLowerRecall() {
  SCOPED_TRACE("more partitions probed never lower recall");
  SearchOptions search;
  search.refine_factor = 4;
  double previous = 0.0;
  for (int32_t nprobes : {1, 4, 16, 64}) {
    search.nprobes = nprobes;
    const double recall = MeasureRecall(*index_, search);
    EXPECT_GE(recall, previous - 0.01) << nprobes;
    previous = recall;
  }
  EXPECT_GE(previous, 0.9);
}

void IvfPqFashionTest::FileRoundTripGivesIdenticalResults() {
  SCOPED_TRACE("file round trip");
  const std::string bytes = SerializeIndex(*index_);
  const auto loaded = DeserializeIndex(bytes).value();
  EXPECT_EQ(loaded->type(), IndexType::kIvfPq);
  EXPECT_EQ(loaded->num_rows(), kRows);
  EXPECT_EQ(loaded->num_partitions(), index_->num_partitions());
  SearchOptions search;
  std::vector<Neighbor> a;
  std::vector<Neighbor> b;
  for (int64_t q = 0; q < 20; ++q) {
    const std::span<const float> query(queries_->data() + q * kDim, kDim);
    ASSERT_TRUE(index_->Search(query, search, &a).ok());
    ASSERT_TRUE(loaded->Search(query, search, &b).ok());
    ASSERT_EQ(a, b) << q;
  }
  // A truncated or bit-flipped file is refused.
  EXPECT_TRUE(DeserializeIndex(bytes.substr(0, bytes.size() - 1)).status().IsCorruption());
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x10;
  EXPECT_TRUE(DeserializeIndex(flipped).status().IsCorruption());
}

void IvfPqFashionTest::SegmentBuiltWithSameModelFindsItsRows() {
  SCOPED_TRACE("tail segment with the same model");
  constexpr int64_t kTail = 3000;
  const auto tail_vectors =
      testing_internal::LoadFashionMnist("t10k-images-idx3-ubyte.gz", kQueries + kTail);
  ASSERT_EQ(tail_vectors.size(), static_cast<size_t>((kQueries + kTail) * kDim));
  const std::vector<float> tail_rows(tail_vectors.begin() + kQueries * kDim, tail_vectors.end());
  const auto tail = index_->BuildWithSameModel(tail_rows, Iota(kTail, 1000000), nullptr, 2).value();
  EXPECT_EQ(tail->model().centroids(), index_->model().centroids());
  EXPECT_EQ(tail->quantizer().codebooks(), index_->quantizer().codebooks());
  EXPECT_EQ(tail->num_rows(), kTail);
  // Each tail row, used as a query, finds itself first (exact re-rank).
  const VectorLookup lookup = [&](uint64_t row_id) {
    return tail_rows.data() + (row_id - 1000000) * kDim;
  };
  SearchOptions search;
  search.k = 1;
  search.refine_factor = 10;
  search.vectors = &lookup;
  std::vector<Neighbor> results;
  int found = 0;
  for (int64_t row = 0; row < kTail; row += 30) {
    ASSERT_TRUE(tail->Search({tail_rows.data() + row * kDim, kDim}, search, &results).ok());
    ASSERT_EQ(results.size(), 1u);
    found += results[0].row_id == static_cast<uint64_t>(1000000 + row);
  }
  EXPECT_GE(found, 99);  // of 100 (a duplicate image may tie)
}

TEST(IvfPqTest, RejectsNumSubVectorsThatDoNotDivideTheDimension) {
  const std::vector<float> vectors(100 * 12, 0.5f);
  IndexBuildOptions options;
  options.type = IndexType::kIvfPq;
  options.num_sub_vectors = 5;
  const Status status = BuildIndex(options, vectors, 12, Iota(100)).status();
  EXPECT_TRUE(status.IsInvalidArgument()) << status;
  EXPECT_NE(status.message().find("num_sub_vectors"), std::string::npos) << status;
  options.num_sub_vectors = 24;
  EXPECT_TRUE(BuildIndex(options, vectors, 12, Iota(100)).status().IsInvalidArgument());
  options.num_sub_vectors = 6;
  EXPECT_TRUE(BuildIndex(options, vectors, 12, Iota(100)).ok());
}

}  // namespace
}  // namespace tessera::index
