// LatencyHistogram: a lock-free latency histogram with P50/P95/P99, for operator metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace tessera {

/// Log-scale buckets from 1 µs to ~1 hour (about 12% relative width each).
/// Thread-safe: any thread may Record() while others read.
class LatencyHistogram {
 public:
  static constexpr int kNumBuckets = 192;

  void Record(double ms);
  int64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum_ms() const;
  /// Return the latency (ms) at quantile `q` in [0, 1] (bucket upper bound); 0 when empty.
  double Percentile(double q) const;
  /// Upper bound (ms) of bucket `index`.
  static double BucketUpperMs(int index);
  int64_t bucket_count(int index) const { return buckets_[index].load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<int64_t>, kNumBuckets> buckets_{};
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_us_{0};
};

}  // namespace tessera
