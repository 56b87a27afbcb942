#include "tessera/histogram.h"

#include <algorithm>
#include <cmath>

namespace tessera {
namespace {

constexpr double kFirstUpperMs = 0.001;
constexpr double kGrowth = 1.12;

}  // namespace

double LatencyHistogram::BucketUpperMs(int index) {
  return kFirstUpperMs * std::pow(kGrowth, index);
}

void LatencyHistogram::Record(double ms) {
  if (!(ms >= 0)) ms = 0;  // NaN and negatives count as 0
  int index = 0;
  if (ms > kFirstUpperMs) {
    index = static_cast<int>(std::ceil(std::log(ms / kFirstUpperMs) / std::log(kGrowth)));
  }
  index = std::clamp(index, 0, kNumBuckets - 1);
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<int64_t>(ms * 1000), std::memory_order_relaxed);
}

double LatencyHistogram::sum_ms() const { return sum_us_.load(std::memory_order_relaxed) / 1000.0; }

double LatencyHistogram::Percentile(double q) const {
  const int64_t total = count();
  if (total == 0) return 0;
  const int64_t rank =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(total))));
  int64_t seen = 0;
  for (int index = 0; index < kNumBuckets; ++index) {
    seen += bucket_count(index);
    if (seen >= rank) return BucketUpperMs(index);
  }
  return BucketUpperMs(kNumBuckets - 1);
}

}  // namespace tessera
