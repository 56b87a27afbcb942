#include "index/simd/distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "index/simd/distance_internal.h"

namespace tessera::index::simd {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
// Relative tolerance against the magnitude of the terms summed (see the *Magnitude functions):
// SIMD levels sum in a different order than the scalar reference, in float.
constexpr double kRelTol = 1e-5;

// Every dimension 0..130, then the sizes of common embeddings.
std::vector<int32_t> AllDims() {
  std::vector<int32_t> dims;
  for (int32_t dim = 0; dim <= 130; ++dim) dims.push_back(dim);
  for (int32_t dim : {255, 256, 257, 768, 784, 1536}) dims.push_back(dim);
  return dims;
}

// Return `count` uniform floats in [lo, hi), preceded by `offset` padding values so that
// data() + offset is misaligned for offset 1. The buffer ends exactly at the last value, so
// ASan catches any read past it.
std::vector<float> RandomFloats(size_t offset, size_t count, std::mt19937* rng, float lo = -1.0f,
                                float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(offset + count);
  for (float& value : values) value = dist(*rng);
  return values;
}

std::vector<uint8_t> RandomCodes(size_t offset, size_t count, std::mt19937* rng) {
  std::uniform_int_distribution<int> dist(0, 255);
  std::vector<uint8_t> codes(offset + count);
  for (uint8_t& code : codes) code = static_cast<uint8_t>(dist(*rng));
  return codes;
}

// The scale of the terms of l2_squared(a, b): an error bound is kRelTol times this.
double L2Magnitude(const float* a, const float* b, int32_t dim) {
  double sum = 0.0;
  for (int32_t d = 0; d < dim; ++d) {
    const double term = std::fabs(static_cast<double>(a[d])) + std::fabs(static_cast<double>(b[d]));
    sum += term * term;
  }
  return sum;
}

double DotMagnitude(const float* a, const float* b, int32_t dim) {
  double sum = 0.0;
  for (int32_t d = 0; d < dim; ++d) sum += std::fabs(static_cast<double>(a[d]) * b[d]);
  return sum;
}

std::vector<float> Decode(const uint8_t* code, const float* vmin, const float* vscale,
                          int32_t dim) {
  std::vector<float> decoded(dim);
  for (int32_t d = 0; d < dim; ++d) decoded[d] = vmin[d] + static_cast<float>(code[d]) * vscale[d];
  return decoded;
}

// Expect `got` within kRelTol * magnitude of `want` (and a tiny absolute slack for dim 0).
void ExpectNear(float got, float want, double magnitude, const std::string& what) {
  EXPECT_NEAR(got, want, kRelTol * magnitude + 1e-30) << what;
}

std::string Where(int32_t dim, size_t offset) {
  return "dim=" + std::to_string(dim) + " offset=" + std::to_string(offset);
}

class DistanceLevelTest : public ::testing::TestWithParam<SimdLevel> {
 protected:
  void SetUp() override {
    kernels_ = KernelsFor(GetParam());
    if (kernels_ == nullptr) GTEST_SKIP() << SimdLevelName(GetParam()) << " not supported here";
    scalar_ = KernelsFor(SimdLevel::kScalar);
    ASSERT_NE(scalar_, nullptr);
  }

  const DistanceKernels* kernels_ = nullptr;
  const DistanceKernels* scalar_ = nullptr;
};

TEST_P(DistanceLevelTest, TableIsCompleteAndOfItsLevel) {
  EXPECT_EQ(kernels_->level, GetParam());
  EXPECT_NE(kernels_->l2_squared, nullptr);
  EXPECT_NE(kernels_->dot, nullptr);
  EXPECT_NE(kernels_->l2_squared_batch, nullptr);
  EXPECT_NE(kernels_->dot_batch, nullptr);
  EXPECT_NE(kernels_->l2_squared_sq8, nullptr);
  EXPECT_NE(kernels_->dot_sq8, nullptr);
  EXPECT_NE(kernels_->l2_squared_sq8_centered, nullptr);
  EXPECT_NE(kernels_->dot_sq8_scaled, nullptr);
  EXPECT_NE(kernels_->l2_squared_sq8_batch, nullptr);
  EXPECT_NE(kernels_->dot_sq8_batch, nullptr);
  EXPECT_NE(kernels_->dot_transposed_batch, nullptr);
  EXPECT_NE(kernels_->nearest_transposed, nullptr);
}

TEST_P(DistanceLevelTest, PairKernelsMatchScalarForEveryDimAndAlignment) {
  std::mt19937 rng(1);
  for (int32_t dim : AllDims()) {
    for (size_t offset : {0, 1}) {
      const std::vector<float> a_buf = RandomFloats(offset, dim, &rng);
      const std::vector<float> b_buf = RandomFloats(offset, dim, &rng);
      const float* a = a_buf.data() + offset;
      const float* b = b_buf.data() + offset;
      ExpectNear(kernels_->l2_squared(a, b, dim), scalar_->l2_squared(a, b, dim),
                 L2Magnitude(a, b, dim), "l2 " + Where(dim, offset));
      ExpectNear(kernels_->dot(a, b, dim), scalar_->dot(a, b, dim), DotMagnitude(a, b, dim),
                 "dot " + Where(dim, offset));
    }
  }
}

TEST_P(DistanceLevelTest, ZeroVectorsGiveExactZeros) {
  std::mt19937 rng(2);
  for (int32_t dim : AllDims()) {
    const std::vector<float> zeros(dim, 0.0f);
    const std::vector<float> x = RandomFloats(0, dim, &rng);
    EXPECT_EQ(kernels_->l2_squared(zeros.data(), zeros.data(), dim), 0.0f) << dim;
    EXPECT_EQ(kernels_->l2_squared(x.data(), x.data(), dim), 0.0f) << dim;
    EXPECT_EQ(kernels_->dot(zeros.data(), x.data(), dim), 0.0f) << dim;
  }
}

TEST_P(DistanceLevelTest, LargeValuesMatchScalarAndOverflowToInfinity) {
  std::mt19937 rng(3);
  for (int32_t dim : {1, 15, 16, 17, 100, 784}) {
    const std::vector<float> a = RandomFloats(0, dim, &rng, -1e17f, 1e17f);
    const std::vector<float> b = RandomFloats(0, dim, &rng, -1e17f, 1e17f);
    ExpectNear(kernels_->l2_squared(a.data(), b.data(), dim),
               scalar_->l2_squared(a.data(), b.data(), dim), L2Magnitude(a.data(), b.data(), dim),
               "l2 dim=" + std::to_string(dim));
    ExpectNear(kernels_->dot(a.data(), b.data(), dim), scalar_->dot(a.data(), b.data(), dim),
               DotMagnitude(a.data(), b.data(), dim), "dot dim=" + std::to_string(dim));

    const std::vector<float> huge(dim, 1e20f);
    const std::vector<float> minus_huge(dim, -1e20f);
    EXPECT_EQ(kernels_->l2_squared(huge.data(), minus_huge.data(), dim), kInf) << dim;
    EXPECT_EQ(kernels_->dot(huge.data(), huge.data(), dim), kInf) << dim;
  }
}

TEST_P(DistanceLevelTest, NaNInEitherInputGivesNaN) {
  std::mt19937 rng(4);
  for (int32_t dim : {1, 7, 8, 9, 16, 17, 33, 64, 100, 784}) {
    for (int32_t pos : {0, dim / 2, dim - 1}) {
      std::vector<float> a = RandomFloats(0, dim, &rng);
      const std::vector<float> b = RandomFloats(0, dim, &rng);
      a[pos] = kNaN;
      const std::string where = "dim=" + std::to_string(dim) + " pos=" + std::to_string(pos);
      EXPECT_TRUE(std::isnan(kernels_->l2_squared(a.data(), b.data(), dim))) << where;
      EXPECT_TRUE(std::isnan(kernels_->l2_squared(b.data(), a.data(), dim))) << where;
      EXPECT_TRUE(std::isnan(kernels_->dot(a.data(), b.data(), dim))) << where;
      EXPECT_TRUE(std::isnan(kernels_->dot(b.data(), a.data(), dim))) << where;
    }
  }
}

TEST_P(DistanceLevelTest, BatchKernelsMatchPairKernels) {
  std::mt19937 rng(5);
  std::vector<int32_t> dims;
  for (int32_t dim = 0; dim <= 40; ++dim) dims.push_back(dim);
  for (int32_t dim : {63, 64, 65, 100, 128, 130, 784}) dims.push_back(dim);
  for (int32_t dim : dims) {
    for (int64_t n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 31}) {
      for (size_t offset : {0, 1}) {
        const std::vector<float> q_buf = RandomFloats(offset, dim, &rng);
        const std::vector<float> base_buf = RandomFloats(offset, n * dim, &rng);
        const float* q = q_buf.data() + offset;
        const float* base = base_buf.data() + offset;
        // One sentinel past the end: the kernels write exactly n outputs.
        std::vector<float> l2_out(n + 1, -7.0f);
        std::vector<float> dot_out(n + 1, -7.0f);
        kernels_->l2_squared_batch(q, base, n, dim, l2_out.data());
        kernels_->dot_batch(q, base, n, dim, dot_out.data());
        EXPECT_EQ(l2_out[n], -7.0f);
        EXPECT_EQ(dot_out[n], -7.0f);
        for (int64_t row = 0; row < n; ++row) {
          const float* vec = base + row * dim;
          const std::string where = Where(dim, offset) + " row=" + std::to_string(row);
          ExpectNear(l2_out[row], kernels_->l2_squared(q, vec, dim), L2Magnitude(q, vec, dim),
                     "l2 " + where);
          ExpectNear(l2_out[row], scalar_->l2_squared(q, vec, dim), L2Magnitude(q, vec, dim),
                     "l2 vs scalar " + where);
          ExpectNear(dot_out[row], kernels_->dot(q, vec, dim), DotMagnitude(q, vec, dim),
                     "dot " + where);
          ExpectNear(dot_out[row], scalar_->dot(q, vec, dim), DotMagnitude(q, vec, dim),
                     "dot vs scalar " + where);
        }
      }
    }
  }
}

TEST_P(DistanceLevelTest, TransposedDotMatchesScalarDotOfEveryVector) {
  std::mt19937 rng(9);
  for (int32_t dim : {0, 1, 2, 3, 4, 8, 15, 16, 17, 32}) {
    for (int64_t n : {0, 1, 7, 8, 15, 16, 17, 63, 64, 65, 256, 300}) {
      const std::vector<float> q = RandomFloats(0, dim, &rng);
      const std::vector<float> rows = RandomFloats(0, n * dim, &rng);  // row-major
      std::vector<float> transposed(rows.size());
      for (int64_t i = 0; i < n; ++i) {
        for (int32_t d = 0; d < dim; ++d) transposed[d * n + i] = rows[i * dim + d];
      }
      std::vector<float> out(n + 1, -7.0f);  // one sentinel past the end
      kernels_->dot_transposed_batch(q.data(), transposed.data(), n, dim, out.data());
      EXPECT_EQ(out[n], -7.0f);
      for (int64_t i = 0; i < n; ++i) {
        const float* vec = rows.data() + i * dim;
        ExpectNear(out[i], scalar_->dot(q.data(), vec, dim), DotMagnitude(q.data(), vec, dim),
                   "transposed dot " + Where(dim, 0) + " row=" + std::to_string(i));
      }
    }
  }
}

TEST_P(DistanceLevelTest, NearestTransposedMatchesScalarAndBreaksTiesLow) {
  std::mt19937 rng(13);
  for (int32_t dim : {1, 2, 4, 8, 15, 16, 17}) {
    for (int32_t n : {1, 2, 7, 8, 15, 16, 17, 33, 63, 64, 65, 255, 256, 300}) {
      const std::vector<float> q = RandomFloats(0, dim, &rng);
      const std::vector<float> rows = RandomFloats(0, static_cast<size_t>(n) * dim, &rng);
      std::vector<float> transposed(rows.size());
      std::vector<float> norms(n, 0.0f);
      for (int32_t i = 0; i < n; ++i) {
        for (int32_t d = 0; d < dim; ++d) {
          const float value = rows[i * dim + d];
          transposed[d * n + i] = value;
          norms[i] += value * value;
        }
      }
      const int32_t got =
          kernels_->nearest_transposed(q.data(), transposed.data(), norms.data(), n, dim);
      const int32_t want =
          scalar_->nearest_transposed(q.data(), transposed.data(), norms.data(), n, dim);
      ASSERT_GE(got, 0);
      ASSERT_LT(got, n);
      // Equal, or a near-tie within rounding of the best distance.
      const float got_l2 = scalar_->l2_squared(q.data(), rows.data() + got * dim, dim);
      const float want_l2 = scalar_->l2_squared(q.data(), rows.data() + want * dim, dim);
      EXPECT_NEAR(got_l2, want_l2, 1e-5f * (1.0f + want_l2)) << Where(dim, 0) << " n=" << n;
      for (int32_t i = 0; i < n; ++i) {
        EXPECT_LE(got_l2, scalar_->l2_squared(q.data(), rows.data() + i * dim, dim) + 1e-5f)
            << Where(dim, 0) << " n=" << n << " i=" << i;
      }
    }
  }
  // Identical vectors everywhere: index 0. The same vector at 5 and 40 only: index 5. A NaN
  // score is never chosen.
  constexpr int32_t kN = 64;
  const std::vector<float> q = {0.5f, -0.25f};
  std::vector<float> transposed(2 * kN, 3.0f);
  std::vector<float> norms(kN, 18.0f);
  EXPECT_EQ(kernels_->nearest_transposed(q.data(), transposed.data(), norms.data(), kN, 2), 0);
  for (int32_t i : {5, 40}) {
    transposed[i] = 0.5f;
    transposed[kN + i] = -0.25f;
    norms[i] = 0.3125f;
  }
  EXPECT_EQ(kernels_->nearest_transposed(q.data(), transposed.data(), norms.data(), kN, 2), 5);
  norms[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(kernels_->nearest_transposed(q.data(), transposed.data(), norms.data(), kN, 2), 40);
}

TEST_P(DistanceLevelTest, BatchKernelsKeepNaNToItsRow) {
  std::mt19937 rng(6);
  for (int32_t dim : {1, 16, 17, 100}) {
    constexpr int64_t kRows = 9;
    const std::vector<float> q = RandomFloats(0, dim, &rng);
    for (int64_t nan_row = 0; nan_row < kRows; ++nan_row) {
      std::vector<float> base = RandomFloats(0, kRows * dim, &rng);
      base[nan_row * dim + dim / 2] = kNaN;
      std::vector<float> l2_out(kRows);
      std::vector<float> dot_out(kRows);
      kernels_->l2_squared_batch(q.data(), base.data(), kRows, dim, l2_out.data());
      kernels_->dot_batch(q.data(), base.data(), kRows, dim, dot_out.data());
      for (int64_t row = 0; row < kRows; ++row) {
        EXPECT_EQ(std::isnan(l2_out[row]), row == nan_row) << dim << " " << nan_row << " " << row;
        EXPECT_EQ(std::isnan(dot_out[row]), row == nan_row) << dim << " " << nan_row << " " << row;
      }
    }
  }
}

// SQ8 parameters like ScalarQuantizer's: vmin in [-1, 0), vscale = range / 255.
struct Sq8Fixture {
  std::vector<float> vmin;
  std::vector<float> vscale;

  Sq8Fixture(size_t offset, int32_t dim, std::mt19937* rng)
      : vmin(RandomFloats(offset, dim, rng, -1.0f, 0.0f)),
        vscale(RandomFloats(offset, dim, rng, 0.0f, 2.0f / 255.0f)) {}
};

TEST_P(DistanceLevelTest, Sq8KernelsMatchDecodingThenScalar) {
  std::mt19937 rng(7);
  for (int32_t dim : AllDims()) {
    for (size_t offset : {0, 1}) {
      const Sq8Fixture sq(offset, dim, &rng);
      const float* vmin = sq.vmin.data() + offset;
      const float* vscale = sq.vscale.data() + offset;
      const std::vector<float> q_buf = RandomFloats(offset, dim, &rng);
      const std::vector<uint8_t> code_buf = RandomCodes(offset, dim, &rng);
      const float* q = q_buf.data() + offset;
      const uint8_t* code = code_buf.data() + offset;
      const std::vector<float> decoded = Decode(code, vmin, vscale, dim);
      ExpectNear(kernels_->l2_squared_sq8(q, code, vmin, vscale, dim),
                 scalar_->l2_squared(q, decoded.data(), dim), L2Magnitude(q, decoded.data(), dim),
                 "l2 sq8 " + Where(dim, offset));
      ExpectNear(kernels_->dot_sq8(q, code, vmin, vscale, dim),
                 scalar_->dot(q, decoded.data(), dim), DotMagnitude(q, decoded.data(), dim),
                 "dot sq8 " + Where(dim, offset));
    }
  }
}

// The prepared-query kernels give the unprepared ones' distances: centered = q - vmin,
// scaled = q * vscale (plus the sum of q * vmin for dot).
TEST_P(DistanceLevelTest, Sq8PreparedKernelsMatchTheUnpreparedOnes) {
  std::mt19937 rng(17);
  for (int32_t dim : AllDims()) {
    for (size_t offset : {0, 1}) {
      const Sq8Fixture sq(offset, dim, &rng);
      const float* vmin = sq.vmin.data() + offset;
      const float* vscale = sq.vscale.data() + offset;
      const std::vector<float> q_buf = RandomFloats(offset, dim, &rng);
      const std::vector<uint8_t> code_buf = RandomCodes(offset, dim, &rng);
      const float* q = q_buf.data() + offset;
      const uint8_t* code = code_buf.data() + offset;
      std::vector<float> centered_buf(offset + dim), scaled_buf(offset + dim);
      float* centered = centered_buf.data() + offset;
      float* scaled = scaled_buf.data() + offset;
      double dot_base = 0;
      for (int32_t d = 0; d < dim; ++d) {
        centered[d] = q[d] - vmin[d];
        scaled[d] = q[d] * vscale[d];
        dot_base += static_cast<double>(q[d]) * vmin[d];
      }
      const std::vector<float> decoded = Decode(code, vmin, vscale, dim);
      ExpectNear(kernels_->l2_squared_sq8_centered(centered, code, vscale, dim),
                 scalar_->l2_squared_sq8(q, code, vmin, vscale, dim),
                 L2Magnitude(q, decoded.data(), dim), "l2 centered " + Where(dim, offset));
      ExpectNear(static_cast<float>(dot_base) + kernels_->dot_sq8_scaled(scaled, code, dim),
                 scalar_->dot_sq8(q, code, vmin, vscale, dim), DotMagnitude(q, decoded.data(), dim),
                 "dot scaled " + Where(dim, offset));
    }
  }
  for (int32_t dim : {1, 7, 16, 17, 100}) {  // a NaN anywhere in the prepared query: NaN
    const Sq8Fixture sq(0, dim, &rng);
    const std::vector<uint8_t> code = RandomCodes(0, dim, &rng);
    std::vector<float> prepared = RandomFloats(0, dim, &rng);
    prepared[dim - 1] = kNaN;
    EXPECT_TRUE(std::isnan(
        kernels_->l2_squared_sq8_centered(prepared.data(), code.data(), sq.vscale.data(), dim)));
    EXPECT_TRUE(std::isnan(kernels_->dot_sq8_scaled(prepared.data(), code.data(), dim)));
  }
}

TEST_P(DistanceLevelTest, Sq8BatchKernelsMatchPairKernels) {
  std::mt19937 rng(8);
  for (int32_t dim : {0, 1, 5, 8, 15, 16, 17, 31, 32, 33, 64, 100, 128, 130, 784}) {
    for (int64_t n : {0, 1, 3, 4, 5, 8, 13}) {
      for (size_t offset : {0, 1}) {
        const Sq8Fixture sq(offset, dim, &rng);
        const float* vmin = sq.vmin.data() + offset;
        const float* vscale = sq.vscale.data() + offset;
        const std::vector<float> q_buf = RandomFloats(offset, dim, &rng);
        const std::vector<uint8_t> codes_buf = RandomCodes(offset, n * dim, &rng);
        const float* q = q_buf.data() + offset;
        const uint8_t* codes = codes_buf.data() + offset;
        std::vector<float> l2_out(n + 1, -7.0f);
        std::vector<float> dot_out(n + 1, -7.0f);
        kernels_->l2_squared_sq8_batch(q, codes, n, vmin, vscale, dim, l2_out.data());
        kernels_->dot_sq8_batch(q, codes, n, vmin, vscale, dim, dot_out.data());
        EXPECT_EQ(l2_out[n], -7.0f);
        EXPECT_EQ(dot_out[n], -7.0f);
        for (int64_t row = 0; row < n; ++row) {
          const uint8_t* code = codes + row * dim;
          const std::vector<float> decoded = Decode(code, vmin, vscale, dim);
          const std::string where = Where(dim, offset) + " row=" + std::to_string(row);
          ExpectNear(l2_out[row], scalar_->l2_squared_sq8(q, code, vmin, vscale, dim),
                     L2Magnitude(q, decoded.data(), dim), "l2 " + where);
          ExpectNear(dot_out[row], scalar_->dot_sq8(q, code, vmin, vscale, dim),
                     DotMagnitude(q, decoded.data(), dim), "dot " + where);
        }
      }
    }
  }
}

TEST_P(DistanceLevelTest, Sq8NaNInQueryOrVminGivesNaN) {
  std::mt19937 rng(9);
  for (int32_t dim : {1, 7, 16, 17, 100}) {
    constexpr int64_t kRows = 5;
    const Sq8Fixture sq(0, dim, &rng);
    const std::vector<uint8_t> codes = RandomCodes(0, kRows * dim, &rng);
    std::vector<float> q = RandomFloats(0, dim, &rng);
    q[dim - 1] = kNaN;
    EXPECT_TRUE(std::isnan(
        kernels_->l2_squared_sq8(q.data(), codes.data(), sq.vmin.data(), sq.vscale.data(), dim)));
    EXPECT_TRUE(std::isnan(
        kernels_->dot_sq8(q.data(), codes.data(), sq.vmin.data(), sq.vscale.data(), dim)));
    std::vector<float> out(kRows);
    kernels_->l2_squared_sq8_batch(q.data(), codes.data(), kRows, sq.vmin.data(), sq.vscale.data(),
                                   dim, out.data());
    for (float value : out) EXPECT_TRUE(std::isnan(value)) << dim;
    kernels_->dot_sq8_batch(q.data(), codes.data(), kRows, sq.vmin.data(), sq.vscale.data(), dim,
                            out.data());
    for (float value : out) EXPECT_TRUE(std::isnan(value)) << dim;

    const std::vector<float> finite_q = RandomFloats(0, dim, &rng);
    std::vector<float> vmin = sq.vmin;
    vmin[0] = kNaN;
    EXPECT_TRUE(std::isnan(kernels_->l2_squared_sq8(finite_q.data(), codes.data(), vmin.data(),
                                                    sq.vscale.data(), dim)));
    EXPECT_TRUE(std::isnan(
        kernels_->dot_sq8(finite_q.data(), codes.data(), vmin.data(), sq.vscale.data(), dim)));
  }
}

std::string LevelName(const ::testing::TestParamInfo<SimdLevel>& info) {
  return SimdLevelName(info.param);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, DistanceLevelTest,
                         ::testing::Values(SimdLevel::kScalar, SimdLevel::kAvx2,
                                           SimdLevel::kAvx512),
                         LevelName);

#ifdef TESSERA_SIMD_HAS_X86_KERNELS
TEST(SumFloatsTest, MatchesAPlainSum) {
  std::mt19937 rng(10);
  for (int64_t n : {0, 1, 15, 16, 17, 127, 128, 129, 1000}) {
    const std::vector<float> x = RandomFloats(0, n, &rng);
    double want = 0.0;
    double magnitude = 0.0;
    for (float value : x) {
      want += value;
      magnitude += std::fabs(value);
    }
    if (KernelsFor(SimdLevel::kAvx2) != nullptr) {
      EXPECT_NEAR(internal::SumFloatsAvx2(x.data(), n), want, kRelTol * magnitude + 1e-30) << n;
    }
    if (KernelsFor(SimdLevel::kAvx512) != nullptr) {
      EXPECT_NEAR(internal::SumFloatsAvx512(x.data(), n), want, kRelTol * magnitude + 1e-30) << n;
    }
  }
}
#endif

TEST(DistanceDispatchTest, KernelsForGivesEverySupportedLevelAndNothingAbove) {
  const SimdLevel cpu = DetectCpuLevel();
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    const DistanceKernels* kernels = KernelsFor(level);
    if (static_cast<int>(level) > static_cast<int>(cpu)) {
      EXPECT_EQ(kernels, nullptr) << SimdLevelName(level);
    } else {
      ASSERT_NE(kernels, nullptr) << SimdLevelName(level);
      EXPECT_EQ(kernels->level, level);
    }
  }
  EXPECT_NE(KernelsFor(SimdLevel::kScalar), nullptr);
}

TEST(DistanceDispatchTest, BestKernelsIsTheCpuLevelUnlessOverridden) {
  const char* env = std::getenv("TESSERA_SIMD");
  std::string warning;
  const SimdLevel expected = internal::ResolveSimdLevel(env, DetectCpuLevel(), &warning);
  EXPECT_EQ(BestKernels().level, expected);
  EXPECT_EQ(&BestKernels(), KernelsFor(expected));
  if (env == nullptr) {
    EXPECT_EQ(BestKernels().level, DetectCpuLevel());
  }
}

TEST(DistanceDispatchTest, LevelNamesRoundTrip) {
  EXPECT_STREQ(SimdLevelName(SimdLevel::kScalar), "scalar");
  EXPECT_STREQ(SimdLevelName(SimdLevel::kAvx2), "avx2");
  EXPECT_STREQ(SimdLevelName(SimdLevel::kAvx512), "avx512");
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    EXPECT_EQ(internal::ParseSimdLevel(SimdLevelName(level)), level);
  }
  EXPECT_EQ(internal::ParseSimdLevel("AVX512"), SimdLevel::kAvx512);
  EXPECT_EQ(internal::ParseSimdLevel("Scalar"), SimdLevel::kScalar);
  EXPECT_EQ(internal::ParseSimdLevel(""), std::nullopt);
  EXPECT_EQ(internal::ParseSimdLevel("sse4"), std::nullopt);
  EXPECT_EQ(internal::ParseSimdLevel("avx512f"), std::nullopt);
}

TEST(DistanceDispatchTest, ResolveHonoursAValidOverrideAtOrBelowTheCpu) {
  std::string warning = "stale";
  EXPECT_EQ(internal::ResolveSimdLevel(nullptr, SimdLevel::kAvx512, &warning), SimdLevel::kAvx512);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(internal::ResolveSimdLevel("", SimdLevel::kAvx2, &warning), SimdLevel::kAvx2);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(internal::ResolveSimdLevel("scalar", SimdLevel::kAvx512, &warning), SimdLevel::kScalar);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(internal::ResolveSimdLevel("avx2", SimdLevel::kAvx512, &warning), SimdLevel::kAvx2);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(internal::ResolveSimdLevel("avx512", SimdLevel::kAvx512, &warning), SimdLevel::kAvx512);
  EXPECT_TRUE(warning.empty());
}

TEST(DistanceDispatchTest, ResolveFallsBackToTheCpuLevelWithAWarning) {
  std::string warning;
  EXPECT_EQ(internal::ResolveSimdLevel("avx512", SimdLevel::kAvx2, &warning), SimdLevel::kAvx2);
  EXPECT_EQ(warning, "TESSERA_SIMD=avx512 is not supported by this CPU; using avx2");
  EXPECT_EQ(internal::ResolveSimdLevel("avx2", SimdLevel::kScalar, &warning), SimdLevel::kScalar);
  EXPECT_EQ(warning, "TESSERA_SIMD=avx2 is not supported by this CPU; using scalar");
  EXPECT_EQ(internal::ResolveSimdLevel("neon", SimdLevel::kAvx2, &warning), SimdLevel::kAvx2);
  EXPECT_EQ(warning, "TESSERA_SIMD='neon' is not scalar, avx2 or avx512; using avx2");
}

// BestKernels() reads TESSERA_SIMD once, so these run in a fresh process (death-test machinery).
TEST(DistanceDispatchDeathTest, EnvironmentOverrideIsHonouredAndReportedOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("TESSERA_SIMD", "scalar", /*overwrite=*/1);
        std::exit(BestKernels().level == SimdLevel::kScalar ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "^$");
  EXPECT_EXIT(
      {
        setenv("TESSERA_SIMD", "bogus", /*overwrite=*/1);
        const bool best = BestKernels().level == DetectCpuLevel();
        const bool same = &BestKernels() == &BestKernels();
        std::exit(best && same ? 0 : 1);
      },
      ::testing::ExitedWithCode(0),
      "^tessera: TESSERA_SIMD='bogus' is not scalar, avx2 or avx512; using [a-z0-9]+\n$");
}

}  // namespace
}  // namespace tessera::index::simd
