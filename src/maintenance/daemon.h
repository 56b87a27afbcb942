// MaintenanceDaemon: runs Table::Optimize on its own schedule, in its own process, against a
// table other processes write and query. Fixed interval or an adaptive cadence that keeps the
// flat-scan cost of the unindexed tail under a latency target.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "tessera/table.h"

namespace tessera::maintenance {

struct DaemonOptions {
  /// Fixed cadence (adaptive == false): seconds between the starts of two runs.
  double interval_seconds = 60;
  /// Adaptive cadence: run when the predicted tail cost reaches `target_tail_ms`.
  bool adaptive = false;
  double target_tail_ms = 5.0;
  double min_interval_seconds = 1;
  double max_interval_seconds = 600;
  /// Fraction of wall time optimize may use at most (adaptive): never start a run sooner than
  /// last_runtime * (1 / max_duty_cycle - 1) after the previous one ended.
  double max_duty_cycle = 0.5;
  OptimizeOptions optimize;
  /// Advisory lease: two daemons on one table do not duplicate work. An expired lease is taken
  /// over. The lease is never needed for correctness.
  double lease_seconds = 300;
  std::string holder;     ///< default: "<hostname>:<pid>"
  int64_t max_runs = -1;  ///< stop after this many runs (< 0: until stopped)
};

/// One line of the daemon's log, also returned to callers (the CLI prints them).
struct DaemonEvent {
  int64_t run = 0;
  double started_at_s = 0;  ///< seconds since the daemon started
  OptimizeResult result;
  int64_t unindexed_rows_before = 0;
  int64_t fragments_before = 0;
  double predicted_tail_ms = 0;    ///< adaptive: the estimate that triggered the run
  double next_in_seconds = 0;      ///< when the next run is due
  bool skipped_for_lease = false;  ///< another holder had the lease
};

/// The adaptive policy's inputs and decision, exposed for tests.
struct CadenceModel {
  double cost_ms_per_unindexed_row = 0;  ///< measured flat-scan latency per tail row
  double tail_growth_rows_per_s = 0;     ///< measured from History()
  double last_optimize_seconds = 0;
  /// Seconds until the tail's predicted flat-scan cost reaches `target_tail_ms`, clamped to
  /// [min, max] and to the duty-cycle bound.
  double SecondsUntilDue(int64_t unindexed_rows, const DaemonOptions& options) const;
};

/// Not thread-safe except Stop(), which any thread may call.
class MaintenanceDaemon {
 public:
  /// `table` is borrowed and must outlive the daemon.
  MaintenanceDaemon(Table* table, DaemonOptions options);

  /// Run until Stop() or max_runs; call `on_event` after each run. A failed optimize is
  /// reported in the event and retried at the next due time; it never stops the daemon.
  Status Run(const std::function<void(const DaemonEvent&)>& on_event);
  void Stop() { stop_ = true; }

  /// Try to take or renew the lease. Returns false if someone else holds a live lease.
  Result<bool> AcquireLease();
  Status ReleaseLease();

  const CadenceModel& model() const { return model_; }

 private:
  Status MeasureModel();

  Table* table_;
  DaemonOptions options_;
  CadenceModel model_;
  std::atomic<bool> stop_{false};
};

}  // namespace tessera::maintenance
