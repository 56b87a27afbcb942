// ProcessMetrics: counters every Table handle of the process adds to, exported with
// Table::PrometheusMetrics (the per-handle latency histograms sit beside them).
#pragma once

#include <atomic>
#include <cstdint>

#include "tessera/histogram.h"

namespace tessera {

struct ProcessMetrics {
  std::atomic<int64_t> commits{0};            ///< versions committed by this process
  std::atomic<int64_t> commit_conflicts{0};   ///< commit attempts another writer won
  std::atomic<int64_t> commit_retries{0};     ///< operations re-run on a newer version
  std::atomic<int64_t> queries{0};            ///< vector searches run
  std::atomic<int64_t> rows_flat_scanned{0};  ///< vectors compared in unindexed tails
  LatencyHistogram add_latency;               ///< every Add() of the process, ms
  LatencyHistogram query_latency;             ///< every search of the process, ms

  /// The process-wide instance. Thread-safe.
  static ProcessMetrics& Get();
};

}  // namespace tessera
