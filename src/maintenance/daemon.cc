#include "maintenance/daemon.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/uuid.h"
#include "table/table_store.h"

namespace tessera::maintenance {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kLeaseDir[] = "_leases";
constexpr char kLeaseFile[] = "_leases/maintenance";

std::string DefaultHolder() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace

double CadenceModel::SecondsUntilDue(int64_t unindexed_rows, const DaemonOptions& options) const {
  double seconds = options.max_interval_seconds;
  if (cost_ms_per_unindexed_row > 0) {
    const double rows_at_target = options.target_tail_ms / cost_ms_per_unindexed_row;
    const double remaining = rows_at_target - static_cast<double>(unindexed_rows);
    if (remaining <= 0) {
      seconds = 0;
    } else if (tail_growth_rows_per_s > 0) {
      seconds = remaining / tail_growth_rows_per_s;
    }
  }
  // Keep optimize's share of wall time bounded: a table that cannot keep up is told so by its
  // health report rather than by optimize running back to back.
  const double duty = std::clamp(options.max_duty_cycle, 0.01, 1.0);
  seconds = std::max(seconds, last_optimize_seconds * (1.0 / duty - 1.0));
  return std::clamp(seconds, options.min_interval_seconds, options.max_interval_seconds);
}

MaintenanceDaemon::MaintenanceDaemon(Table* table, DaemonOptions options)
    : table_(table), options_(std::move(options)) {
  if (options_.holder.empty()) options_.holder = DefaultHolder();
}

Result<bool> MaintenanceDaemon::AcquireLease() {
  table::TableStore* store = table_->internal_store();
  io::FileSystem* fs = store->fs();
  const std::string path = store->Path(kLeaseFile);
  const int64_t now_us = base::NowMicros();
  auto current = fs->ReadFile(path);
  if (current.ok()) {
    auto lease = nlohmann::json::parse(*current, nullptr, false);
    const bool valid =
        !lease.is_discarded() && lease.contains("holder") && lease.contains("expires_us");
    if (valid && lease["holder"] != options_.holder &&
        lease["expires_us"].get<int64_t>() > now_us) {
      return false;  // someone else holds a live lease
    }
    // Ours, expired or unreadable: replace it.
    Status st = fs->DeleteFile(path);
    if (!st.ok() && !st.IsNotFound()) return st;
  } else if (!current.status().IsNotFound()) {
    return current.status();
  }
  TESSERA_RETURN_IF_ERROR(fs->CreateDirs(store->Path(kLeaseDir)));
  const std::string lease =
      nlohmann::json{{"holder", options_.holder},
                     {"expires_us", now_us + static_cast<int64_t>(options_.lease_seconds * 1e6)}}
          .dump();
  Status created = fs->CreateExclusive(path, lease);
  if (created.IsAlreadyExists()) return false;  // another daemon took it first
  TESSERA_RETURN_IF_ERROR(created);
  return true;
}

Status MaintenanceDaemon::ReleaseLease() {
  table::TableStore* store = table_->internal_store();
  auto current = store->fs()->ReadFile(store->Path(kLeaseFile));
  if (!current.ok()) return current.status().IsNotFound() ? Status::OK() : current.status();
  auto lease = nlohmann::json::parse(*current, nullptr, false);
  if (lease.is_discarded() || !lease.contains("holder") || lease["holder"] != options_.holder) {
    return Status::OK();
  }
  Status st = store->fs()->DeleteFile(store->Path(kLeaseFile));
  return st.IsNotFound() ? Status::OK() : st;
}

Status MaintenanceDaemon::MeasureModel() {
  // Flat-scan cost per row: one exact query over every row of the table.
  const Schema schema = table_->schema();
  const int vector_index = schema.VectorFieldIndex();
  if (vector_index >= 0) {
    std::vector<float> probe(static_cast<size_t>(schema.field(vector_index).type.dim), 0.0f);
    QueryStats stats;
    auto result = table_->Search(probe).Limit(10).BypassVectorIndex().Execute(&stats);
    if (result.ok() && stats.rows_flat_scanned > 0) {
      model_.cost_ms_per_unindexed_row =
          stats.flat_ms / static_cast<double>(stats.rows_flat_scanned);
    }
  }
  // Tail growth: rows added per second over the recent adds.
  TESSERA_ASSIGN_OR_RETURN(std::vector<VersionInfo> history, table_->History());
  int64_t rows = 0;
  int64_t first_us = 0, last_us = 0;
  int counted = 0;
  for (auto it = history.rbegin(); it != history.rend() && counted < 50; ++it) {
    if (it->operation != "add") continue;
    if (counted == 0) last_us = it->timestamp_us;
    first_us = it->timestamp_us;
    rows += it->rows_added;
    ++counted;
  }
  if (counted >= 2 && last_us > first_us) {
    model_.tail_growth_rows_per_s = static_cast<double>(rows) / ((last_us - first_us) / 1e6);
  }
  return Status::OK();
}

Status MaintenanceDaemon::Run(const std::function<void(const DaemonEvent&)>& on_event) {
  const auto started = Clock::now();
  int64_t runs = 0;
  auto sleep_until = [&](Clock::time_point deadline) {
    while (!stop_ && Clock::now() < deadline) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(std::chrono::milliseconds(50), deadline - Clock::now()));
    }
  };
  Clock::time_point next_due = Clock::now();
  Clock::time_point earliest = Clock::now();  // duty-cycle bound after the last run
  Clock::time_point measured_at = Clock::now();
  while (!stop_ && (options_.max_runs < 0 || runs < options_.max_runs)) {
    // Wait for the due time. The adaptive policy re-checks the tail about once a second, so a
    // stream that speeds up is caught before the planned time (never before `earliest`).
    while (!stop_ && Clock::now() < next_due) {
      const auto step = std::min<Clock::duration>(std::chrono::seconds(1), next_due - Clock::now());
      sleep_until(Clock::now() + step);
      if (!options_.adaptive || Clock::now() < earliest) continue;
      // Until a flat scan was measured on a non-empty table the model predicts nothing (a
      // daemon started on an empty table would otherwise wait for max_interval): measure
      // again, and every 30 s anyway as the table and the machine's load change.
      if (model_.cost_ms_per_unindexed_row <= 0 ||
          Clock::now() - measured_at > std::chrono::seconds(30)) {
        MeasureModel().IgnoreError();
        measured_at = Clock::now();
      }
      auto stats = table_->Stats();
      if (stats.ok() &&
          model_.cost_ms_per_unindexed_row * static_cast<double>(stats->num_unindexed_rows) >=
              options_.target_tail_ms) {
        break;
      }
    }
    if (stop_) break;
    DaemonEvent event;
    event.run = ++runs;
    event.started_at_s = std::chrono::duration<double>(Clock::now() - started).count();
    auto lease = AcquireLease();
    if (lease.ok() && !*lease) {
      event.skipped_for_lease = true;
    } else {
      // A lease error (e.g. unreadable store) is not a reason to skip: the lease is advisory.
      auto before = table_->Stats();
      if (before.ok()) {
        event.unindexed_rows_before = before->num_unindexed_rows;
        event.fragments_before = before->num_fragments;
        event.predicted_tail_ms =
            model_.cost_ms_per_unindexed_row * static_cast<double>(before->num_unindexed_rows);
      }
      event.result = table_->Optimize(options_.optimize);
      model_.last_optimize_seconds = event.result.seconds;
      MeasureModel().IgnoreError();  // a failed measurement keeps the previous model
    }
    double next_in = options_.interval_seconds;
    if (options_.adaptive) {
      auto stats = table_->Stats();
      next_in = model_.SecondsUntilDue(stats.ok() ? stats->num_unindexed_rows : 0, options_);
    }
    event.next_in_seconds = next_in;
    next_due = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(next_in * 1000));
    const double duty = std::clamp(options_.max_duty_cycle, 0.01, 1.0);
    earliest = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(
                                  1000 * model_.last_optimize_seconds * (1.0 / duty - 1.0)));
    if (on_event) on_event(event);
  }
  return ReleaseLease();
}

}  // namespace tessera::maintenance
