#include "format/idx_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>

namespace tessera::format {
namespace {

std::string TempPath(const std::string& name) { return ::testing::TempDir() + name; }

TEST(IdxReaderTest, ReadsPlainAndGzippedFiles) {
  std::string bytes = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3};
  for (int i = 0; i < 12; ++i) bytes.push_back(static_cast<char>(i * 20));
  const std::string plain = TempPath("idx_plain");
  std::ofstream(plain, std::ios::binary) << bytes;
  const std::string gz = TempPath("idx_test.gz");
  gzFile out = gzopen(gz.c_str(), "wb");
  gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(out);
  for (const std::string& path : {plain, gz}) {
    IdxData data = ReadIdxFile(path).value();
    EXPECT_EQ(data.num_items, 2);
    EXPECT_EQ(data.item_size, 6);
    EXPECT_EQ(data.values[7], 140);
    std::vector<float> v = IdxToFloatVectors(data);
    EXPECT_FLOAT_EQ(v[1], 20.0f / 255.0f);
  }
  EXPECT_EQ(ReadIdxFile(plain, 1).value().num_items, 1);
  std::ofstream(plain, std::ios::binary) << bytes.substr(0, 20);
  EXPECT_TRUE(ReadIdxFile(plain).status().IsCorruption());
  std::ofstream(plain, std::ios::binary) << "garbage!";
  EXPECT_TRUE(ReadIdxFile(plain).status().IsCorruption());
  EXPECT_TRUE(ReadIdxFile(TempPath("does_not_exist")).status().IsNotFound());
}

TEST(IdxReaderTest, ReadsDebianFashionMnistWhenInstalled) {
  const std::string path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!std::ifstream(path)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  IdxData data = ReadIdxFile(path).value();
  EXPECT_EQ(data.num_items, 10000);
  EXPECT_EQ(data.item_size, 784);
}

}  // namespace
}  // namespace tessera::format
