#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace tessera::base {
namespace {

uint32_t Crc(const std::string& text) { return Crc32c(text.data(), text.size()); }

TEST(Crc32cTest, MatchesKnownVectors) {
  EXPECT_EQ(Crc(""), 0u);
  EXPECT_EQ(Crc("a"), 0xC1D04330u);
  EXPECT_EQ(Crc("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc("The quick brown fox jumps over the lazy dog"), 0x22620404u);
}

// The vectors of RFC 3720 (iSCSI), section B.4, as also used by LevelDB's crc32c_test.
TEST(Crc32cTest, MatchesRfc3720Vectors) {
  std::string buf(32, '\0');
  EXPECT_EQ(Crc(buf), 0x8A9136AAu);
  buf.assign(32, '\xff');
  EXPECT_EQ(Crc(buf), 0x62A8AB43u);
  for (int idx = 0; idx < 32; ++idx) buf[idx] = static_cast<char>(idx);
  EXPECT_EQ(Crc(buf), 0x46DD794Eu);
  for (int idx = 0; idx < 32; ++idx) buf[idx] = static_cast<char>(31 - idx);
  EXPECT_EQ(Crc(buf), 0x113FDB5Cu);

  const uint8_t iscsi_read_pdu[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  EXPECT_EQ(Crc32c(iscsi_read_pdu, sizeof(iscsi_read_pdu)), 0xD9963A56u);
}

TEST(Crc32cTest, AcceptsNullDataOfLengthZero) {
  EXPECT_EQ(Crc32c(nullptr, 0), 0u);
  EXPECT_EQ(Crc32c(nullptr, 0, 0x12345678u), 0x12345678u);
}

TEST(Crc32cTest, ExtendingEqualsChecksumOfConcatenation) {
  const std::string text = "hello world, this is a longer text to split at every point";
  const uint32_t whole = Crc(text);
  for (size_t split = 0; split <= text.size(); ++split) {
    const uint32_t head = Crc32c(text.data(), split);
    EXPECT_EQ(Crc32c(text.data() + split, text.size() - split, head), whole) << split;
  }
}

TEST(Crc32cTest, MaskRoundTripsAndChangesTheValue) {
  const uint32_t crc = Crc("foo");
  EXPECT_NE(Crc32cMask(crc), crc);
  EXPECT_NE(Crc32cMask(Crc32cMask(crc)), crc);
  EXPECT_EQ(Crc32cUnmask(Crc32cMask(crc)), crc);
  EXPECT_EQ(Crc32cUnmask(Crc32cUnmask(Crc32cMask(Crc32cMask(crc)))), crc);
}

TEST(Crc32cTest, PortableMatchesHardwareForAllLengthsAndAlignments) {
  if (!internal::Crc32cHardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(1234);
  std::vector<uint8_t> buf(300 + 16);
  for (uint8_t& byte : buf) byte = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t length = 0; length + offset <= buf.size() && length <= 300; ++length) {
      const uint32_t init = static_cast<uint32_t>(rng());
      const uint8_t* data = buf.data() + offset;
      ASSERT_EQ(internal::Crc32cPortable(data, length, init),
                internal::Crc32cHardware(data, length, init))
          << "offset " << offset << " length " << length;
      ASSERT_EQ(internal::Crc32cPortable(data, length, 0), Crc32c(data, length))
          << "offset " << offset << " length " << length;
    }
  }
}

TEST(Crc32cTest, PortableMatchesBitwiseReference) {
  // A bit-at-a-time reference, independent of the tables.
  auto reference = [](const uint8_t* data, size_t n) {
    uint32_t crc = 0xffffffffu;
    for (size_t idx = 0; idx < n; ++idx) {
      crc ^= data[idx];
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
    }
    return ~crc;
  };
  std::mt19937_64 rng(99);
  std::vector<uint8_t> buf(1000);
  for (uint8_t& byte : buf) byte = static_cast<uint8_t>(rng());
  for (size_t length : {0, 1, 7, 8, 9, 63, 64, 65, 999, 1000}) {
    EXPECT_EQ(internal::Crc32cPortable(buf.data(), length, 0), reference(buf.data(), length))
        << length;
  }
}

}  // namespace
}  // namespace tessera::base
