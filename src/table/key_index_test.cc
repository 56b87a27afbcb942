#include "table/key_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace tessera::table {
namespace {

std::string IntKey(int64_t value) {
  std::string key(1, 'i');
  key.append(reinterpret_cast<const char*>(&value), sizeof(value));
  return key;
}

TEST(KeyIndexTest, LookupFindsEveryRowOfAKeyAndNothingElse) {
  std::mt19937_64 rng(3);
  std::multimap<std::string, uint64_t> reference;
  std::vector<std::pair<std::string, uint64_t>> entries;
  for (uint64_t row_id = 0; row_id < 5000; ++row_id) {
    // Integer keys (some repeated) and string keys of varied length, mixed.
    std::string key = row_id % 3 == 0
                          ? IntKey(static_cast<int64_t>(rng() % 2000))
                          : "s" + std::string(rng() % 7, 'x') + std::to_string(rng() % 900);
    reference.emplace(key, row_id);
    entries.emplace_back(std::move(key), row_id);
  }
  const KeyIndex index = KeyIndex::Build(entries);
  EXPECT_EQ(index.num_rows(), 5000);
  std::vector<uint64_t> found;
  for (const auto& [key, unused] : entries) {
    found.clear();
    index.Lookup(key, &found);
    std::vector<uint64_t> want;
    for (auto [it, end] = reference.equal_range(key); it != end; ++it) want.push_back(it->second);
    std::sort(want.begin(), want.end());
    ASSERT_EQ(found, want);  // ascending row ids, every one
  }
  for (const std::string& absent : {IntKey(-1), IntKey(5000), std::string("s"), std::string()}) {
    found.clear();
    index.Lookup(absent, &found);
    EXPECT_TRUE(found.empty());
  }
  // A prefix of a stored key is a different key.
  found.clear();
  index.Lookup(IntKey(7).substr(0, 5), &found);
  EXPECT_TRUE(found.empty());
}

TEST(KeyIndexTest, SerializeRoundTripsAndCorruptionIsDetected) {
  std::vector<std::pair<std::string, uint64_t>> entries;
  for (int64_t id = 0; id < 300; ++id) entries.emplace_back(IntKey(id * 7), 1000 + id);
  const KeyIndex index = KeyIndex::Build(entries);
  const std::string bytes = index.Serialize();
  const KeyIndex copy = KeyIndex::Deserialize(bytes).value();
  EXPECT_EQ(copy.num_rows(), 300);
  std::vector<uint64_t> found;
  copy.Lookup(IntKey(7 * 42), &found);
  EXPECT_EQ(found, std::vector<uint64_t>{1042});
  EXPECT_EQ(KeyIndex::Deserialize(KeyIndex().Serialize()).value().num_rows(), 0);

  // Every truncation and every single-bit flip is refused, never a crash.
  for (size_t size = 0; size < bytes.size(); size += 7) {
    EXPECT_FALSE(KeyIndex::Deserialize(bytes.substr(0, size)).ok()) << size;
  }
  for (size_t at = 0; at < bytes.size(); at += 13) {
    std::string flipped = bytes;
    flipped[at] ^= 0x04;
    EXPECT_FALSE(KeyIndex::Deserialize(flipped).ok()) << at;
  }
  EXPECT_FALSE(KeyIndex::Deserialize(bytes + "x").ok());
}

TEST(KeyIndexTest, RangeHelpers) {
  using R = format::RowIdRange;
  const std::vector<R> covered = MergedCoverage({});
  EXPECT_TRUE(covered.empty());
  format::IndexSegmentMeta a;
  a.covered = {{0, 10}, {20, 30}};
  format::IndexSegmentMeta b;
  b.covered = {{10, 15}, {40, 50}};
  const std::vector<R> merged = MergedCoverage({&a, &b});
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].start, 0u);
  EXPECT_EQ(merged[0].end, 15u);
  const std::vector<R> rest = SubtractRanges({{5, 45}, {60, 70}}, merged);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].start, 15u);
  EXPECT_EQ(rest[0].end, 20u);
  EXPECT_EQ(rest[1].start, 30u);
  EXPECT_EQ(rest[1].end, 40u);
  EXPECT_EQ(rest[2].start, 60u);
  EXPECT_EQ(rest[2].end, 70u);
  EXPECT_TRUE(SubtractRanges({{0, 10}}, {{0, 10}}).empty());
}

TEST(KeyIndexTest, OnlyBtreeIsAScalarIndexType) {
  EXPECT_TRUE(IsScalarIndexType("BTREE"));
  EXPECT_FALSE(IsScalarIndexType("IVF_PQ"));
  EXPECT_FALSE(IsScalarIndexType("IVF_HNSW_SQ"));
}

}  // namespace
}  // namespace tessera::table
