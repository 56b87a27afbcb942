// Timeline: the operator's numbers sampled over time while a table streams (rows, fragments,
// unindexed tail, optimize runs, query latency percentiles, recall), written as CSV and drawn as
// an SVG chart. Used by `tessera demo` and bench/streaming_benchmark.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::maintenance {

struct TimelinePoint {
  double t_s = 0;  ///< seconds since the run started
  int64_t rows = 0;
  int64_t fragments = 0;
  int64_t unindexed_rows = 0;
  int64_t index_segments = 0;
  int64_t optimize_runs = 0;   ///< finished optimize runs so far
  double last_optimize_s = 0;  ///< runtime of the last finished optimize run (0: none yet)
  int64_t queries = 0;         ///< queries answered in this sample's window
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  ///< query latency over this sample's window
  double recall = -1;                         ///< recall@k measured in the window (< 0: none)
};

/// One labelled time series, e.g. one run of a benchmark mode.
struct Timeline {
  std::string label;
  std::vector<TimelinePoint> points;
};

/// CSV with a header and one line per point; a `mode` column holds each timeline's label.
std::string TimelinesToCsv(const std::vector<Timeline>& timelines);

/// An SVG chart of four stacked panels sharing the time axis: rows and unindexed rows;
/// fragments; query latency p50/p95/p99 (ms, one colour per timeline, dash per percentile);
/// recall. Optimize runs are ticks on the time axis of each timeline.
std::string TimelinesToSvg(const std::vector<Timeline>& timelines, const std::string& title);

/// Write `contents` to `path` (replacing it). Errors: kIOError naming the path.
Status WriteTextFile(const std::string& path, const std::string& contents);

/// The `p`-quantile (0..1) of `values` (nearest rank); 0 for no values.
double Quantile(std::vector<double> values, double p);

}  // namespace tessera::maintenance
