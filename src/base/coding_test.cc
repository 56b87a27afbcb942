#include "base/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::base {
namespace {

TEST(CodingTest, FixedWidthIsLittleEndian) {
  std::string buf;
  PutFixed32(&buf, 0x04030201u);
  PutFixed64(&buf, 0x0c0b0a0908070605ull);
  ASSERT_EQ(buf.size(), 12u);
  for (int idx = 0; idx < 12; ++idx) EXPECT_EQ(buf[idx], static_cast<char>(idx + 1));
  EXPECT_EQ(DecodeFixed32(buf.data()), 0x04030201u);
  EXPECT_EQ(DecodeFixed64(buf.data() + 4), 0x0c0b0a0908070605ull);
}

TEST(CodingTest, VarintRoundTripsBoundaryValues) {
  std::vector<uint64_t> values = {0,
                                  1,
                                  127,
                                  128,
                                  255,
                                  256,
                                  16383,
                                  16384,
                                  std::numeric_limits<uint32_t>::max(),
                                  std::numeric_limits<uint64_t>::max()};
  for (int shift = 0; shift < 64; ++shift) {
    values.push_back(uint64_t{1} << shift);
    values.push_back((uint64_t{1} << shift) - 1);
  }
  std::string buf;
  for (uint64_t value : values) PutVarint64(&buf, value);
  std::string_view input = buf;
  for (uint64_t value : values) {
    const size_t before = input.size();
    uint64_t decoded = 0;
    ASSERT_TRUE(GetVarint64(&input, &decoded)) << value;
    EXPECT_EQ(decoded, value);
    EXPECT_EQ(before - input.size(), static_cast<size_t>(VarintLength(value))) << value;
  }
  EXPECT_TRUE(input.empty());
}

TEST(CodingTest, VarintRejectsTruncatedOverlongAndOverflowingInput) {
  std::string buf;
  PutVarint64(&buf, std::numeric_limits<uint64_t>::max());
  for (size_t len = 0; len < buf.size(); ++len) {
    std::string_view input(buf.data(), len);
    uint64_t value = 0;
    EXPECT_FALSE(GetVarint64(&input, &value)) << len;
  }
  uint64_t value = 0;
  std::string_view overlong("\x80\x00", 2);
  EXPECT_FALSE(GetVarint64(&overlong, &value));
  std::string_view overflow("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
  EXPECT_FALSE(GetVarint64(&overflow, &value));
  std::string_view eleven("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x01", 11);
  EXPECT_FALSE(GetVarint64(&eleven, &value));
}

TEST(CodingTest, VarintRandomRoundTrip) {
  std::mt19937_64 rng(5);
  for (int iter = 0; iter < 10000; ++iter) {
    const uint64_t value = rng() >> (rng() % 64);
    std::string buf;
    PutVarint64(&buf, value);
    std::string_view input = buf;
    uint64_t decoded = 0;
    ASSERT_TRUE(GetVarint64(&input, &decoded));
    ASSERT_EQ(decoded, value);
    ASSERT_TRUE(input.empty());
  }
}

}  // namespace
}  // namespace tessera::base
