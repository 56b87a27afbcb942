#include "index/index_file.h"

#include <gtest/gtest.h>

#include <random>

#include "base/coding.h"
#include "base/crc32c.h"
#include "index/index_test_util_internal.h"

namespace tessera::index {
namespace {

constexpr int32_t kDim = 16;
constexpr int64_t kRows = 600;

std::unique_ptr<VectorIndex> BuildSmall(IndexType type, Metric metric) {
  const std::vector<float> data = testing_internal::ClusteredVectors(kRows, kDim, 6, 0.3f, 8);
  std::vector<uint64_t> row_ids(kRows);
  for (int64_t row = 0; row < kRows; ++row) row_ids[row] = 5000 + 3 * row;
  IndexBuildOptions options;
  options.type = type;
  options.metric = metric;
  options.num_partitions = 3;
  options.m = 6;
  options.ef_construction = 32;
  options.num_threads = 2;
  return BuildIndex(options, data, kDim, row_ids).value();
}

std::vector<std::vector<Neighbor>> SearchAll(const VectorIndex& index) {
  const std::vector<float> queries = testing_internal::ClusteredVectors(20, kDim, 6, 0.3f, 9);
  SearchOptions options;
  options.k = 7;
  options.nprobes = 2;
  options.ef = 20;
  std::vector<std::vector<Neighbor>> out(20);
  for (int q = 0; q < 20; ++q) {
    EXPECT_TRUE(index.Search({queries.data() + q * kDim, kDim}, options, &out[q]).ok());
  }
  return out;
}

class IndexFileTest : public ::testing::TestWithParam<IndexType> {};

TEST_P(IndexFileTest, RoundTripGivesIdenticalResults) {
  for (Metric metric : {Metric::kL2, Metric::kCosine, Metric::kDot}) {
    const std::unique_ptr<VectorIndex> index = BuildSmall(GetParam(), metric);
    const std::string bytes = SerializeIndex(*index);
    const IndexFileHeader header = ReadIndexFileHeader(bytes).value();
    EXPECT_EQ(header.type, GetParam());
    EXPECT_EQ(header.metric, metric);
    EXPECT_EQ(header.dim, kDim);
    EXPECT_EQ(header.num_rows, static_cast<uint64_t>(kRows));
    EXPECT_EQ(header.payload_size, bytes.size() - kIndexFileHeaderSize);
    const std::unique_ptr<VectorIndex> loaded = DeserializeIndex(bytes).value();
    EXPECT_EQ(loaded->type(), GetParam());
    EXPECT_EQ(loaded->metric(), metric);
    EXPECT_EQ(loaded->num_rows(), kRows);
    EXPECT_EQ(SearchAll(*loaded), SearchAll(*index));
    EXPECT_EQ(SerializeIndex(*loaded), bytes);
  }
}

TEST_P(IndexFileTest, EveryTruncationIsCorruption) {
  const std::string bytes = SerializeIndex(*BuildSmall(GetParam(), Metric::kL2));
  for (size_t len = 0; len < bytes.size(); ++len) {
    ASSERT_TRUE(DeserializeIndex(std::string_view(bytes).substr(0, len)).status().IsCorruption())
        << len;
  }
}

TEST_P(IndexFileTest, BitFlipsAreCorruption) {
  const std::string bytes = SerializeIndex(*BuildSmall(GetParam(), Metric::kL2));
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 300; ++trial) {
    std::string flipped = bytes;
    const size_t pos = trial < 48 ? trial : rng() % bytes.size();  // every header byte
    flipped[pos] = static_cast<char>(flipped[pos] ^ (1 << (rng() % 8)));
    const Status status = DeserializeIndex(flipped).status();
    ASSERT_TRUE(status.IsCorruption() || status.IsNotSupported()) << pos << " " << status;
  }
}

// A payload with valid checksums but inconsistent content (as a buggy writer could produce)
// is still rejected: every length, id and count is validated, not only the CRC.
TEST_P(IndexFileTest, ResealedGarbagePayloadIsCorruption) {
  const std::string bytes = SerializeIndex(*BuildSmall(GetParam(), Metric::kL2));
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::string mutated = bytes;
    const size_t payload_size = bytes.size() - kIndexFileHeaderSize;
    const size_t pos = kIndexFileHeaderSize + rng() % payload_size;
    for (int b = 0; b < 4 && pos + b < mutated.size(); ++b) {
      mutated[pos + b] = static_cast<char>(rng());
    }
    // Re-seal: recompute both checksums.
    base::EncodeFixed32(
        mutated.data() + 40,
        base::Crc32cMask(base::Crc32c(mutated.data() + kIndexFileHeaderSize, payload_size)));
    base::EncodeFixed32(mutated.data() + 44, base::Crc32cMask(base::Crc32c(mutated.data(), 44)));
    Result<std::unique_ptr<VectorIndex>> loaded = DeserializeIndex(mutated);
    if (!loaded.ok()) {
      ASSERT_TRUE(loaded.status().IsCorruption()) << loaded.status();
      continue;
    }
    // Accepted (e.g. a changed distance value): searching must still be safe.
    SearchAll(**loaded);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, IndexFileTest,
                         ::testing::Values(IndexType::kIvfFlat, IndexType::kIvfSq,
                                           IndexType::kIvfHnswSq, IndexType::kHnsw),
                         [](const auto& param_info) {
                           return std::string(IndexTypeToString(param_info.param));
                         });

TEST(IndexFileHeaderTest, RejectsBadMagicAndNewerVersions) {
  const std::string bytes = SerializeIndex(*BuildSmall(IndexType::kIvfFlat, Metric::kL2));
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_TRUE(ReadIndexFileHeader(bad_magic).status().IsCorruption());
  std::string newer = bytes;
  base::EncodeFixed32(newer.data() + 4, kIndexFormatVersion + 1);
  base::EncodeFixed32(newer.data() + 44, base::Crc32cMask(base::Crc32c(newer.data(), 44)));
  EXPECT_TRUE(ReadIndexFileHeader(newer).status().IsNotSupported());
  EXPECT_TRUE(DeserializeIndex(bytes + "x").status().IsCorruption());
}

}  // namespace
}  // namespace tessera::index
