#include "index/sq/scalar_quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "index/metric.h"

namespace tessera::index {
namespace {

std::vector<float> RandomVectors(int64_t n, int32_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> out(n * dim);
  for (int64_t row = 0; row < n; ++row) {
    for (int32_t d = 0; d < dim; ++d) {
      // Each dimension has its own range, to exercise per-dimension training.
      out[row * dim + d] = std::uniform_real_distribution<float>(-d - 1.0f, 2.0f * d)(rng);
    }
  }
  return out;
}

TEST(ScalarQuantizerTest, DecodeErrorIsAtMostHalfAStep) {
  const int32_t dim = 37;
  const std::vector<float> data = RandomVectors(1000, dim, 1);
  const ScalarQuantizer sq = ScalarQuantizer::Train(data, dim).value();
  ASSERT_EQ(sq.dim(), dim);
  std::vector<uint8_t> code(dim);
  std::vector<float> decoded(dim);
  for (int64_t row = 0; row < 1000; ++row) {
    sq.Encode(&data[row * dim], code.data());
    sq.Decode(code.data(), decoded.data());
    for (int32_t d = 0; d < dim; ++d) {
      EXPECT_LE(std::abs(decoded[d] - data[row * dim + d]), sq.MaxError(d) * 1.001f + 1e-6f)
          << row << " " << d;
    }
  }
}

TEST(ScalarQuantizerTest, ClampsOutOfRangeAndNaN) {
  const std::vector<float> data = {0.0f, 1.0f, 10.0f, 11.0f};
  const ScalarQuantizer sq = ScalarQuantizer::Train(data, 2).value();
  const float outside[2] = {-5.0f, std::numeric_limits<float>::quiet_NaN()};
  uint8_t code[2];
  sq.Encode(outside, code);
  EXPECT_EQ(code[0], 0);
  EXPECT_EQ(code[1], 0);
  const float above[2] = {100.0f, 11.0f};
  sq.Encode(above, code);
  EXPECT_EQ(code[0], 255);
  EXPECT_EQ(code[1], 255);
}

TEST(ScalarQuantizerTest, ConstantDimensionDecodesExactly) {
  const std::vector<float> data = {3.5f, 1.0f, 3.5f, 2.0f};
  const ScalarQuantizer sq = ScalarQuantizer::Train(data, 2).value();
  uint8_t code[2];
  float decoded[2];
  sq.Encode(data.data(), code);
  sq.Decode(code, decoded);
  EXPECT_EQ(decoded[0], 3.5f);
}

TEST(ScalarQuantizerTest, ClippingIgnoresOutliers) {
  std::vector<float> data;
  for (int row = 0; row < 1000; ++row) data.push_back(static_cast<float>(row % 100) / 100.0f);
  data[0] = 1e6f;
  ScalarQuantizerOptions options;
  options.clip_fraction = 0.01;
  const ScalarQuantizer sq = ScalarQuantizer::Train(data, 1, options).value();
  EXPECT_LT(sq.vmin()[0] + 255 * sq.vscale()[0], 1.5f);
  const ScalarQuantizer unclipped = ScalarQuantizer::Train(data, 1).value();
  EXPECT_GT(unclipped.vmin()[0] + 255 * unclipped.vscale()[0], 1e5f);
}

TEST(ScalarQuantizerTest, DistanceMatchesDistanceToDecodedVector) {
  const int32_t dim = 64;
  std::vector<float> data = RandomVectors(100, dim, 2);
  for (int64_t row = 0; row < 100; ++row) NormalizeVector(&data[row * dim], dim);
  const ScalarQuantizer sq = ScalarQuantizer::Train(data, dim).value();
  std::vector<uint8_t> code(dim);
  std::vector<float> decoded(dim);
  const float* query = &data[5 * dim];
  sq.Encode(&data[7 * dim], code.data());
  sq.Decode(code.data(), decoded.data());
  for (Metric metric : {Metric::kL2, Metric::kCosine, Metric::kDot}) {
    float expected = 0.0f;
    if (metric == Metric::kL2) {
      expected = ExactDistance(Metric::kL2, query, decoded.data(), dim);
    } else {
      float dot = 0.0f;
      for (int32_t d = 0; d < dim; ++d) dot += query[d] * decoded[d];
      expected = metric == Metric::kCosine ? 1.0f - dot : -dot;
    }
    EXPECT_NEAR(sq.Distance(metric, query, code.data()), expected, 1e-4) << int(metric);
  }
}

TEST(ScalarQuantizerTest, RejectsBadInputAndParams) {
  EXPECT_TRUE(ScalarQuantizer::Train({}, 4).status().IsInvalidArgument());
  const std::vector<float> three = {1, 2, 3};
  EXPECT_TRUE(ScalarQuantizer::Train(three, 2).status().IsInvalidArgument());
  EXPECT_TRUE(ScalarQuantizer::FromParams({1.0f}, {-1.0f}).status().IsInvalidArgument());
  EXPECT_TRUE(ScalarQuantizer::FromParams({1.0f}, {1.0f, 2.0f}).status().IsInvalidArgument());
  EXPECT_TRUE(ScalarQuantizer::FromParams({std::numeric_limits<float>::infinity()}, {1.0f})
                  .status()
                  .IsInvalidArgument());
}

}  // namespace
}  // namespace tessera::index
