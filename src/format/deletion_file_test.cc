#include "format/deletion_file.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "base/coding.h"
#include "format/file_frame_internal.h"

namespace tessera::format {
namespace {

using Rng = std::mt19937_64;
constexpr uint64_t kMaxRowId = std::numeric_limits<uint64_t>::max();

// Row ids [first, last], inclusive.
struct IdRun {
  uint64_t first;
  uint64_t last;
};

// Add [first, last] to *set without relying on the codec under test. REQUIRES: none of
// the ids is in *set yet (flip() adds them then).
void AddRun(RowIdSet* set, uint64_t first, uint64_t last) {
  while (true) {
    const uint64_t base = first & ~uint64_t{0xffffffff};
    const uint64_t piece_last = std::min(last, base | 0xffffffff);
    // flip() takes an exclusive end inside the same 32-bit bitmap, so the top id of a
    // bitmap is added separately.
    if ((piece_last & 0xffffffff) == 0xffffffff) {
      if (first < piece_last) set->flip(first, piece_last);
      set->add(piece_last);
    } else {
      set->flip(first, piece_last + 1);
    }
    if (piece_last == last) return;
    first = piece_last + 1;
  }
}

RowIdSet SetOf(const std::vector<IdRun>& runs) {
  RowIdSet set;
  for (const IdRun& run : runs) AddRun(&set, run.first, run.last);
  return set;
}

// Return sorted, disjoint (possibly adjacent) runs: single ids, short runs, runs crossing
// 65536-id container and 2^32 bitmap boundaries, and long runs.
std::vector<IdRun> RandomRuns(Rng& rng) {
  std::vector<IdRun> runs;
  uint64_t next = rng() % 4 == 0 ? 0 : rng() % 100000;
  if (rng() % 4 == 0) next = (uint64_t{1} << 32) - rng() % 70000;
  if (rng() % 8 == 0) next = rng() >> 1;
  const int num_runs = static_cast<int>(rng() % 200);
  for (int idx = 0; idx < num_runs; ++idx) {
    uint64_t length = 1;
    switch (rng() % 6) {
      case 0:
        length = 1 + rng() % 4;
        break;
      case 1:
        length = 1 + rng() % 100;
        break;
      case 2:
        length = 1 + rng() % 200000;
        break;
      case 3:
        length = 65536 * (1 + rng() % 4);
        break;
      case 4:
        length = rng() % 16 == 0 ? 1 + rng() % (uint64_t{1} << 26) : 1;
        break;
      default:
        length = 1;
        break;
    }
    const uint64_t last = next + length - 1;
    runs.push_back(IdRun{next, last});
    uint64_t gap = 0;
    switch (rng() % 5) {
      case 0:
        gap = 0;
        break;  // adjacent: the encoder must merge
      case 1:
        gap = 1 + rng() % 3;
        break;
      case 2:
        gap = 1 + rng() % 100000;
        break;
      case 3:
        gap = 1 + rng() % (uint64_t{1} << 34);
        break;
      default:
        gap = ((last + 65536) & ~uint64_t{0xffff}) - last - 1 + rng() % 3;
        break;
    }
    if (last > kMaxRowId - gap - (uint64_t{1} << 27)) break;
    next = last + 1 + gap;
  }
  if (rng() % 8 == 0) runs.push_back(IdRun{kMaxRowId - rng() % 100000, kMaxRowId});
  return runs;
}

void ExpectRoundTrip(const RowIdSet& set) {
  const std::string bytes = EncodeDeletionFile(set);
  Result<RowIdSet> decoded = DecodeDeletionFile(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->cardinality(), set.cardinality());
  ASSERT_TRUE(*decoded == set);
  // The encoding is canonical.
  ASSERT_EQ(EncodeDeletionFile(*decoded), bytes);
}

std::string Frame(std::string_view payload, uint32_t version = 1) {
  return internal::FramePayload("TSDL", version, payload);
}

// Return a payload of the given varints.
std::string Varints(const std::vector<uint64_t>& values) {
  std::string out;
  for (uint64_t value : values) base::PutVarint64(&out, value);
  return out;
}

void ExpectCorruption(const std::string& bytes, std::string_view message_part) {
  Result<RowIdSet> decoded = DecodeDeletionFile(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_TRUE(decoded.status().IsCorruption()) << decoded.status();
  EXPECT_NE(decoded.status().message().find(message_part), std::string::npos)
      << decoded.status() << " does not mention '" << message_part << "'";
}

TEST(DeletionFileTest, RoundTripsEdgeCaseSets) {
  ExpectRoundTrip(RowIdSet());
  ExpectRoundTrip(SetOf({{0, 0}}));
  ExpectRoundTrip(SetOf({{kMaxRowId, kMaxRowId}}));
  ExpectRoundTrip(SetOf({{0, 0}, {kMaxRowId, kMaxRowId}}));
  ExpectRoundTrip(SetOf({{0, 65535}}));
  ExpectRoundTrip(SetOf({{1, 65536}}));
  ExpectRoundTrip(SetOf({{65535, 65536}}));
  ExpectRoundTrip(SetOf({{0xffffffff, 0xffffffff}}));
  ExpectRoundTrip(SetOf({{0xfffffff0, 0x100000010}}));     // crosses a bitmap
  ExpectRoundTrip(SetOf({{0, 0xffffffff}}));               // one full bitmap
  ExpectRoundTrip(SetOf({{5, (uint64_t{3} << 32) + 7}}));  // spans 3 bitmaps
  ExpectRoundTrip(SetOf({{kMaxRowId - 70000, kMaxRowId}}));
  ExpectRoundTrip(SetOf({{1, 1}, {3, 3}, {5, 5}, {65537, 65537}}));
}

TEST(DeletionFileTest, RoundTripsRandomSets) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Rng rng(seed);
    const std::vector<IdRun> runs = RandomRuns(rng);
    const RowIdSet set = SetOf(runs);
    SCOPED_TRACE(seed);
    ExpectRoundTrip(set);
  }
}

TEST(DeletionFileTest, RoundTripsRandomSparseSets) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed);
    RowIdSet set;
    const uint64_t span = uint64_t{1} << (10 + rng() % 50);
    for (int idx = 0; idx < 5000; ++idx) set.add(rng() % span);
    SCOPED_TRACE(seed);
    ExpectRoundTrip(set);
  }
}

TEST(DeletionFileTest, LongRunsEncodeInAFewBytes) {
  const RowIdSet set = SetOf(
      {{1000, 1000 + 50'000'000}, {uint64_t{1} << 40, (uint64_t{1} << 40) + (uint64_t{1} << 33)}});
  const std::string bytes = EncodeDeletionFile(set);
  EXPECT_LT(bytes.size(), 64u);
  ExpectRoundTrip(set);
}

TEST(DeletionFileTest, EveryTruncationIsCorruption) {
  Rng rng(3);
  const std::string bytes = EncodeDeletionFile(SetOf(RandomRuns(rng)));
  ASSERT_GT(bytes.size(), 100u);
  for (size_t len = 0; len < bytes.size(); ++len) {
    Result<RowIdSet> decoded = DecodeDeletionFile(std::string_view(bytes).substr(0, len));
    ASSERT_TRUE(decoded.status().IsCorruption()) << len << ": " << decoded.status();
  }
  EXPECT_TRUE(DecodeDeletionFile(bytes + '\0').status().IsCorruption());
}

TEST(DeletionFileTest, EveryBitFlipIsDetected) {
  const std::string bytes =
      EncodeDeletionFile(SetOf({{3, 9}, {100, 70000}, {1ull << 33, 1ull << 34}}));
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string flipped = bytes;
    flipped[bit / 8] ^= static_cast<char>(1u << (bit % 8));
    const Status status = DecodeDeletionFile(flipped).status();
    if (bit / 8 >= 4 && bit / 8 < 8 && bit != 32) {
      ASSERT_TRUE(status.IsNotSupported()) << bit << ": " << status;  // a newer version
    } else {
      ASSERT_TRUE(status.IsCorruption()) << bit << ": " << status;
    }
  }
}

TEST(DeletionFileTest, RejectsWrongMagicAndVersions) {
  std::string bytes = EncodeDeletionFile(SetOf({{1, 2}}));
  std::string bad_magic = bytes;
  bad_magic.replace(0, 4, "TSMF");
  ExpectCorruption(bad_magic, "magic");
  const std::string_view payload = std::string_view(bytes).substr(internal::kFrameHeaderBytes);
  const Status future = DecodeDeletionFile(Frame(payload, 2)).status();
  EXPECT_TRUE(future.IsNotSupported()) << future;
  ExpectCorruption(Frame(payload, 0), "version 0");
  std::string bad_crc = bytes;
  bad_crc[16] ^= 0x40;
  ExpectCorruption(bad_crc, "checksum");
}

TEST(DeletionFileTest, RejectsMalformedPayloadsWithValidChecksum) {
  // Payload: cardinality, number of runs, then (gap, length - 1) per run.
  ASSERT_TRUE(DecodeDeletionFile(Frame(Varints({3, 1, 7, 2}))).ok());
  ExpectCorruption(Frame(""), "varint");
  ExpectCorruption(Frame(Varints({3})), "varint");
  ExpectCorruption(Frame(Varints({3, 1, 7, 2, 0})), "trailing");
  ExpectCorruption(Frame(Varints({4, 1, 7, 2})), "header says 4");
  ExpectCorruption(Frame(Varints({3, 1, 7})), "cannot fit");
  ExpectCorruption(Frame(Varints({3, 2, 7, 2})), "cannot fit");
  ExpectCorruption(Frame(Varints({3, 1000000000, 7, 2})), "cannot fit");
  ExpectCorruption(Frame(std::string("\x03\x01\x87\x00\x02", 5)), "varint");  // overlong
  ExpectCorruption(Frame(Varints({2, 1, kMaxRowId, 1})), "ends beyond");
  ExpectCorruption(Frame(Varints({2, 2, kMaxRowId - 1, 0, 0, 0})), "starts beyond");
  ExpectCorruption(Frame(Varints({2, 2, 0, 0, kMaxRowId - 1, 0})), "starts beyond");
  // A short file may not describe a bitmap too large to build.
  ExpectCorruption(Frame(Varints({0, 1, 0, kMaxRowId})), "limit");
  ExpectCorruption(Frame(Varints({0, 1, 0, (uint64_t{1} << 36) + 65536})), "limit");
}

TEST(DeletionFileTest, AcceptsRunsUpToTheBlockLimit) {
  const uint64_t last = (uint64_t{1} << 36) + 65535;  // spans exactly 2^20 extra blocks
  Result<RowIdSet> decoded = DecodeDeletionFile(Frame(Varints({last + 1, 1, 0, last})));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->cardinality(), last + 1);
  EXPECT_TRUE(decoded->contains(last));
  EXPECT_FALSE(decoded->contains(last + 1));
}

TEST(DeletionFileTest, RandomPayloadsWithValidChecksumNeverCrash) {
  Rng rng(8);
  Rng set_rng(9);
  const std::string valid =
      EncodeDeletionFile(SetOf(RandomRuns(set_rng))).substr(internal::kFrameHeaderBytes);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string payload;
    if (iter % 2 == 0) {
      payload.resize(rng() % 64);
      for (char& c : payload) c = static_cast<char>(rng());
    } else {
      payload = valid;
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
        payload[rng() % payload.size()] = static_cast<char>(rng());
      }
    }
    Result<RowIdSet> decoded = DecodeDeletionFile(Frame(payload));
    if (decoded.ok()) {
      Result<RowIdSet> again = DecodeDeletionFile(EncodeDeletionFile(*decoded));
      ASSERT_TRUE(again.ok()) << again.status();
      ASSERT_TRUE(*again == *decoded);
    } else {
      ASSERT_TRUE(decoded.status().IsCorruption()) << decoded.status();
    }
  }
}

}  // namespace
}  // namespace tessera::format
