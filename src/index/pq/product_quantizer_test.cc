#include "index/pq/product_quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "index/index_test_util_internal.h"
#include "index/metric.h"

namespace tessera::index {
namespace {

using testing_internal::ClusteredVectors;

TEST(ProductQuantizerTest, DefaultNumSubVectorsDividesTheDimension) {
  EXPECT_EQ(ProductQuantizer::DefaultNumSubVectors(768), 48);  // dim / 16
  EXPECT_EQ(ProductQuantizer::DefaultNumSubVectors(784), 49);
  EXPECT_EQ(ProductQuantizer::DefaultNumSubVectors(128), 8);
  EXPECT_EQ(ProductQuantizer::DefaultNumSubVectors(24), 3);    // dim / 8
  EXPECT_EQ(ProductQuantizer::DefaultNumSubVectors(100), 10);  // smallest divisor >= 100/16
  EXPECT_EQ(ProductQuantizer::DefaultNumSubVectors(97), 97);   // prime
  EXPECT_EQ(ProductQuantizer::DefaultNumSubVectors(2), 1);
  for (int32_t dim = 1; dim <= 300; ++dim) {
    const int32_t m = ProductQuantizer::DefaultNumSubVectors(dim);
    ASSERT_EQ(dim % m, 0) << dim;
    ASSERT_LE(dim / m, 16) << dim;
  }
}

TEST(ProductQuantizerTest, RejectsBadOptions) {
  const std::vector<float> vectors(10 * 8, 1.0f);
  ProductQuantizerOptions options;
  options.num_sub_vectors = 3;  // does not divide 8
  EXPECT_TRUE(ProductQuantizer::Train(vectors, 8, options).status().IsInvalidArgument());
  options.num_sub_vectors = 0;
  EXPECT_TRUE(ProductQuantizer::Train(vectors, 8, options).status().IsInvalidArgument());
  options.num_sub_vectors = 16;  // more than dim
  EXPECT_TRUE(ProductQuantizer::Train(vectors, 8, options).status().IsInvalidArgument());
  options.num_sub_vectors = 4;
  EXPECT_TRUE(ProductQuantizer::Train({}, 8, options).status().IsInvalidArgument());
  EXPECT_TRUE(ProductQuantizer::Train(vectors, 7, options).status().IsInvalidArgument());
  EXPECT_TRUE(ProductQuantizer::Train(vectors, 8, options).ok());
}

TEST(ProductQuantizerTest, ReconstructionErrorIsSmallAndShrinksWithMoreSubVectors) {
  constexpr int32_t kDim = 32;
  const std::vector<float> data = ClusteredVectors(4000, kDim, 20, 0.2f, 7);
  double variance = 0.0;
  {
    std::vector<double> mean(kDim, 0.0);
    for (size_t i = 0; i < data.size(); ++i) mean[i % kDim] += data[i] / 4000.0;
    for (size_t i = 0; i < data.size(); ++i) {
      variance += (data[i] - mean[i % kDim]) * (data[i] - mean[i % kDim]) / 4000.0;
    }
  }
  double previous_error = variance;
  for (int32_t m : {2, 8, 32}) {
    ProductQuantizerOptions options;
    options.num_sub_vectors = m;
    options.num_threads = 2;
    const ProductQuantizer pq = ProductQuantizer::Train(data, kDim, options).value();
    EXPECT_EQ(pq.code_size(), static_cast<size_t>(m));
    std::vector<uint8_t> code(pq.code_size());
    std::vector<float> decoded(kDim);
    double error = 0.0;
    for (int64_t row = 0; row < 4000; ++row) {
      pq.Encode(data.data() + row * kDim, code.data());
      pq.Decode(code.data(), decoded.data());
      for (int32_t d = 0; d < kDim; ++d) {
        const double diff = decoded[d] - data[row * kDim + d];
        error += diff * diff / 4000.0;
      }
    }
    std::printf("num_sub_vectors %d: mean squared reconstruction error %.4f (variance %.4f)\n", m,
                error, variance);
    EXPECT_LT(error, previous_error) << m;
    previous_error = error;
  }
  EXPECT_LT(previous_error, 0.05 * variance);
}

TEST(ProductQuantizerTest, TablesGiveTheDistanceToTheReconstruction) {
  constexpr int32_t kDim = 24;
  const std::vector<float> data = ClusteredVectors(1000, kDim, 10, 0.3f, 3);
  ProductQuantizerOptions options;
  options.num_sub_vectors = 6;
  const ProductQuantizer pq = ProductQuantizer::Train(data, kDim, options).value();
  const float* query = data.data() + 17 * kDim;
  std::vector<float> l2_table(pq.table_size());
  std::vector<float> dot_table(pq.table_size());
  pq.ComputeL2Table(query, l2_table.data());
  pq.ComputeDotTable(query, dot_table.data());
  std::vector<uint8_t> codes(100 * pq.code_size());
  for (int64_t row = 0; row < 100; ++row) {
    pq.Encode(data.data() + row * kDim, codes.data() + row * pq.code_size());
  }
  std::vector<float> batch(100);
  pq.LookupBatch(l2_table.data(), codes.data(), 100, batch.data());
  std::vector<float> decoded(kDim);
  for (int64_t row = 0; row < 100; ++row) {
    const uint8_t* code = codes.data() + row * pq.code_size();
    pq.Decode(code, decoded.data());
    const float l2 = ExactDistance(Metric::kL2, query, decoded.data(), kDim);
    const float dot = -ExactDistance(Metric::kDot, query, decoded.data(), kDim);
    EXPECT_NEAR(pq.Lookup(l2_table.data(), code), l2, 1e-3f * (1 + l2));
    EXPECT_NEAR(batch[row], l2, 1e-3f * (1 + l2));
    EXPECT_NEAR(pq.Lookup(dot_table.data(), code), dot, 1e-3f * (1 + std::fabs(dot)));
  }
}

TEST(ProductQuantizerTest, FewerRowsThanCentroidsStillEncodeExactly) {
  // 5 distinct rows: each subspace has 5 centroids (the rest padding), so every row is exact.
  constexpr int32_t kDim = 4;
  const std::vector<float> data = {0, 0, 0, 0, 1, 1, 1, 1, 2, 0, 2, 0, 0, 3, 0, 3, 5, 5, 5, 5};
  ProductQuantizerOptions options;
  options.num_sub_vectors = 2;
  const ProductQuantizer pq = ProductQuantizer::Train(data, kDim, options).value();
  std::vector<uint8_t> code(2);
  std::vector<float> decoded(kDim);
  for (int row = 0; row < 5; ++row) {
    pq.Encode(data.data() + row * kDim, code.data());
    EXPECT_LT(code[0], 5);
    EXPECT_LT(code[1], 5);
    pq.Decode(code.data(), decoded.data());
    for (int d = 0; d < kDim; ++d) EXPECT_FLOAT_EQ(decoded[d], data[row * kDim + d]);
  }
}

TEST(ProductQuantizerTest, FromCodebooksRoundTripsAndRejectsCorruptInput) {
  constexpr int32_t kDim = 16;
  const std::vector<float> data = ClusteredVectors(600, kDim, 8, 0.3f, 5);
  ProductQuantizerOptions options;
  options.num_sub_vectors = 4;
  const ProductQuantizer pq = ProductQuantizer::Train(data, kDim, options).value();
  const ProductQuantizer copy = ProductQuantizer::FromCodebooks(kDim, 4, pq.codebooks()).value();
  std::vector<uint8_t> a(4);
  std::vector<uint8_t> b(4);
  for (int64_t row = 0; row < 600; ++row) {
    pq.Encode(data.data() + row * kDim, a.data());
    copy.Encode(data.data() + row * kDim, b.data());
    ASSERT_EQ(a, b);
  }
  EXPECT_TRUE(ProductQuantizer::FromCodebooks(kDim, 5, pq.codebooks()).status().IsCorruption());
  std::vector<float> shorter(pq.codebooks().begin(), pq.codebooks().end() - 1);
  EXPECT_TRUE(ProductQuantizer::FromCodebooks(kDim, 4, shorter).status().IsCorruption());
  std::vector<float> with_nan = pq.codebooks();
  with_nan[7] = std::nanf("");
  EXPECT_TRUE(ProductQuantizer::FromCodebooks(kDim, 4, with_nan).status().IsCorruption());
}

}  // namespace
}  // namespace tessera::index
