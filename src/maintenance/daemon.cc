#include "maintenance/daemon.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <vector>

#include "base/uuid.h"
#include "table/table_store.h"

namespace tessera::maintenance {
namespace {

using Clock = std::chrono::steady_clock;

// The lease is a sequence of generations, `_leases/maintenance.<generation>`, each created
// exclusively (put-if-absent: the commit primitive, on local disk and S3 alike) and never
// rewritten. The newest generation is the lease. Taking over an expired lease, renewing one's
// own or releasing it all create the next generation, so that of two maintainers that saw the
// same expired lease exactly one wins. (Deleting the expired lease and creating it anew let
// both win: the second deleted the first's fresh lease.) Older generations are removed once a
// newer one is known to be the newest; a maintainer whose view was so stale that it created
// a generation below the newest sees that when it checks and withdraws.
constexpr char kLeaseDir[] = "_leases";
constexpr char kLeasePrefix[] = "maintenance.";

std::string DefaultHolder() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

std::string LeasePath(table::TableStore* store, uint64_t generation) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(generation));
  return store->Path(std::string(kLeaseDir) + "/" + kLeasePrefix + digits);
}

struct Lease {
  uint64_t generation = 0;      // 0: no lease was ever taken
  std::vector<uint64_t> older;  // generations below the newest still on the store
  std::string holder;           // "" when released or unreadable
  int64_t expires_us = 0;
};

// Read the newest generation of the lease.
Result<Lease> ReadLease(table::TableStore* store) {
  io::FileSystem* fs = store->fs();
  Lease lease;
  auto entries = fs->ListDir(store->Path(kLeaseDir));
  if (!entries.ok()) {
    if (entries.status().IsNotFound()) return lease;
    return entries.status().WithContext("reading the maintenance lease");
  }
  std::vector<uint64_t> generations;
  for (const io::FileInfo& entry : *entries) {
    const std::string_view name = entry.name;
    if (entry.is_dir || !name.starts_with(kLeasePrefix)) continue;
    const std::string_view digits = name.substr(std::strlen(kLeasePrefix));
    uint64_t generation = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), generation);
    if (error != std::errc() || end != digits.data() + digits.size()) continue;  // temp files
    generations.push_back(generation);
  }
  if (generations.empty()) return lease;
  std::sort(generations.begin(), generations.end());
  lease.generation = generations.back();
  generations.pop_back();
  lease.older = std::move(generations);
  auto bytes = fs->ReadFile(LeasePath(store, lease.generation));
  if (!bytes.ok()) {
    // The newest generation is never deleted: a newer one replaced it meanwhile; taking over
    // from this view fails on the existing next generation.
    if (bytes.status().IsNotFound()) return lease;
    return bytes.status().WithContext("reading the maintenance lease");
  }
  const auto json = nlohmann::json::parse(*bytes, nullptr, false);
  if (json.is_object() && json.contains("holder") && json["holder"].is_string() &&
      json.contains("expires_us") && json["expires_us"].is_number_integer()) {
    lease.holder = json["holder"].get<std::string>();
    lease.expires_us = json["expires_us"].get<int64_t>();
  }
  return lease;
}

// Create generation `generation` of the lease for `holder` until `expires_us`. Returns false if
// another maintainer created it first, or if it is not the newest (a stale view).
Result<bool> WriteLease(table::TableStore* store, uint64_t generation, const std::string& holder,
                        int64_t expires_us) {
  io::FileSystem* fs = store->fs();
  TESSERA_RETURN_IF_ERROR(fs->CreateDirs(store->Path(kLeaseDir)));
  const std::string contents =
      nlohmann::json{{"holder", holder}, {"expires_us", expires_us}}.dump();
  Status created = fs->CreateExclusive(LeasePath(store, generation), contents);
  if (created.IsAlreadyExists()) return false;
  TESSERA_RETURN_IF_ERROR(created);
  TESSERA_ASSIGN_OR_RETURN(Lease after, ReadLease(store));
  if (after.generation != generation) {
    fs->DeleteFile(LeasePath(store, generation)).IgnoreError();
    return false;
  }
  for (uint64_t old : after.older) fs->DeleteFile(LeasePath(store, old)).IgnoreError();
  return true;
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
  const int64_t now_us = base::NowMicros();
  TESSERA_ASSIGN_OR_RETURN(Lease current, ReadLease(store));
  if (!current.holder.empty() && current.holder != options_.holder && current.expires_us > now_us) {
    return false;  // someone else holds a live lease
  }
  // Ours (renewal), expired, released or unreadable: the next generation is ours if we are
  // first to create it.
  return WriteLease(store, current.generation + 1, options_.holder,
                    now_us + static_cast<int64_t>(options_.lease_seconds * 1e6));
}

Status MaintenanceDaemon::ReleaseLease() {
  table::TableStore* store = table_->internal_store();
  TESSERA_ASSIGN_OR_RETURN(Lease current, ReadLease(store));
  if (current.holder != options_.holder) return Status::OK();
  // A released generation (no holder): free for anyone at once.
  return WriteLease(store, current.generation + 1, "", 0).status();
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
