#include "index/metric.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tessera::index {
namespace {

TEST(MetricTest, ParsesAndPrintsEveryMetric) {
  for (Metric metric : {Metric::kL2, Metric::kCosine, Metric::kDot}) {
    EXPECT_EQ(ParseMetric(MetricToString(metric)).value(), metric);
  }
  EXPECT_EQ(ParseMetric("Cosine").value(), Metric::kCosine);
  EXPECT_EQ(ParseMetric("euclidean").value(), Metric::kL2);
  EXPECT_TRUE(ParseMetric("hamming").status().IsInvalidArgument());
  EXPECT_TRUE(IsValidMetric(2));
  EXPECT_FALSE(IsValidMetric(3));
}

TEST(MetricTest, DistancesAreSmallerForCloserVectors) {
  float a[3] = {1.0f, 0.0f, 0.0f};
  const float near[3] = {2.0f, 0.1f, 0.0f};
  const float far[3] = {0.0f, 3.0f, 0.0f};
  EXPECT_FLOAT_EQ(ExactDistance(Metric::kL2, a, near, 3), 1.01f);
  EXPECT_LT(ExactDistance(Metric::kCosine, a, near, 3), ExactDistance(Metric::kCosine, a, far, 3));
  EXPECT_NEAR(ExactDistance(Metric::kCosine, a, far, 3), 1.0f, 1e-6);
  EXPECT_FLOAT_EQ(ExactDistance(Metric::kDot, a, near, 3), -2.0f);
}

TEST(MetricTest, NormalizeMakesUnitLengthAndKeepsZero) {
  float v[2] = {3.0f, 4.0f};
  NormalizeVector(v, 2);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  float zero[2] = {0.0f, 0.0f};
  NormalizeVector(zero, 2);
  EXPECT_EQ(zero[0], 0.0f);
}

}  // namespace
}  // namespace tessera::index
