#include "tessera/histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tessera {
namespace {

TEST(LatencyHistogramTest, PercentilesAreWithinOneBucket) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.Percentile(0.99), 0);
  for (int i = 1; i <= 1000; ++i) histogram.Record(i * 0.01);  // 0.01 .. 10 ms
  EXPECT_EQ(histogram.count(), 1000);
  EXPECT_NEAR(histogram.Percentile(0.50), 5.0, 5.0 * 0.13);
  EXPECT_NEAR(histogram.Percentile(0.99), 9.9, 9.9 * 0.13);
  EXPECT_GE(histogram.Percentile(0.99), 9.9);
  EXPECT_NEAR(histogram.sum_ms(), 5005, 1);
}

TEST(LatencyHistogramTest, RecordsFromManyThreads) {
  LatencyHistogram histogram;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) histogram.Record(1.0);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(histogram.count(), 40000);
  histogram.Record(-1);
  histogram.Record(1e12);  // clamps into the last bucket
  EXPECT_EQ(histogram.count(), 40002);
}

}  // namespace
}  // namespace tessera
