// Table::Optimize, Stats and Health: the operator's view of maintenance.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "table/table_store.h"
#include "tessera/process_metrics.h"
#include "tessera/table.h"

namespace tessera {
namespace {

int64_t DirBytes(io::FileSystem* fs, const std::string& dir) {
  auto entries = fs->ListDir(dir);
  if (!entries.ok()) return 0;
  int64_t total = 0;
  for (const io::FileInfo& entry : *entries) {
    total += entry.is_dir ? DirBytes(fs, io::JoinPath(dir, entry.name)) : entry.size_bytes;
  }
  return total;
}

}  // namespace

std::string TableStats::ToJson() const {
  return nlohmann::json{{"version", version},
                        {"rows", num_rows},
                        {"deleted_rows", num_deleted_rows},
                        {"fragments", num_fragments},
                        {"small_fragments", num_small_fragments},
                        {"fragment_rows_p50", fragment_rows_p50},
                        {"fragment_rows_p90", fragment_rows_p90},
                        {"fragment_rows_max", fragment_rows_max},
                        {"unindexed_rows", num_unindexed_rows},
                        {"index_segments", num_index_segments},
                        {"versions", num_versions},
                        {"bytes_on_disk", bytes_on_disk},
                        {"bytes", bytes_on_disk}}
      .dump();
}

OptimizeResult Table::Optimize(const OptimizeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  OptimizeResult result;
  auto compaction = CompactFiles(options.compaction);
  if (compaction.ok()) {
    result.compaction = *compaction;
  } else {
    result.compaction_status = compaction.status().WithContext("compaction");
  }
  OptimizeIndicesOptions index_options;
  index_options.num_threads = options.num_threads;
  auto indices = OptimizeIndices(index_options);
  if (indices.ok()) {
    result.index_segments_added = indices->segments_added;
    result.rows_indexed = indices->rows_indexed;
  } else {
    result.indices_status = indices.status().WithContext("index update");
  }
  auto cleanup = CleanupOldVersions(options.cleanup);
  if (cleanup.ok()) {
    result.cleanup = *cleanup;
  } else {
    result.cleanup_status = cleanup.status().WithContext("cleanup");
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Result<TableStats> Table::Stats(const HealthLimits& limits) {
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  const format::Manifest& manifest = snapshot->manifest();
  TableStats stats;
  stats.version = snapshot->version();
  stats.num_rows = snapshot->num_live_rows();
  stats.num_deleted_rows = snapshot->num_deleted_rows();
  stats.num_fragments = static_cast<int64_t>(manifest.fragments.size());
  std::vector<int64_t> sizes;
  for (const auto& fragment : manifest.fragments) {
    sizes.push_back(fragment.num_rows);
    if (fragment.num_rows < limits.target_rows_per_fragment / 8) ++stats.num_small_fragments;
  }
  std::sort(sizes.begin(), sizes.end());
  if (!sizes.empty()) {
    stats.fragment_rows_p50 = sizes[sizes.size() / 2];
    stats.fragment_rows_p90 = sizes[std::min(sizes.size() - 1, sizes.size() * 9 / 10)];
    stats.fragment_rows_max = sizes.back();
  }
  stats.num_unindexed_rows = table::UnindexedRows(manifest);
  stats.num_index_segments = static_cast<int64_t>(manifest.index_segments.size());
  table::TableStore* store = internal_store();
  auto versions = store->fs()->ListDir(store->Path(table::kVersionsDir));
  if (versions.ok()) {
    stats.num_versions =
        std::count_if(versions->begin(), versions->end(), [](const io::FileInfo& f) {
          return !f.name.starts_with(".") && f.name.ends_with(".manifest");
        });
  }
  stats.bytes_on_disk = DirBytes(store->fs(), store->root());
  return stats;
}

Result<HealthReport> Table::Health(const HealthLimits& limits) {
  HealthReport report;
  TESSERA_ASSIGN_OR_RETURN(report.stats, Stats(limits));
  const TableStats& s = report.stats;
  auto check = [&](int64_t value, int64_t limit, const char* what, const char* fix) {
    if (limit >= 0 && value > limit) {
      report.problems.push_back(std::string(what) + ": " + std::to_string(value) + " > limit " +
                                std::to_string(limit) + " (" + fix + ")");
    }
  };
  check(s.num_fragments, limits.max_fragments, "fragments", "run compaction");
  check(s.num_small_fragments, limits.max_small_fragments, "small fragments", "run compaction");
  check(s.num_unindexed_rows, limits.max_unindexed_rows, "unindexed rows", "run optimize_indices");
  check(s.num_deleted_rows, limits.max_deleted_rows, "deleted rows not materialized",
        "run compaction");
  check(s.num_versions, limits.max_versions, "versions kept", "run cleanup");
  return report;
}

}  // namespace tessera

namespace tessera {

Result<std::string> Table::PrometheusMetrics() {
  TESSERA_ASSIGN_OR_RETURN(TableStats stats, Stats());
  std::string label = uri();
  std::string escaped;
  for (char c : label) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  const std::string labels = "{table=\"" + escaped + "\"}";
  std::string out;
  auto gauge = [&](const char* name, const char* help, double value) {
    out += std::string("# HELP tessera_") + name + " " + help + "\n# TYPE tessera_" + name +
           " gauge\ntessera_" + name + labels + " " + std::to_string(value) + "\n";
  };
  gauge("rows", "Live rows in the latest version.", static_cast<double>(stats.num_rows));
  gauge("deleted_rows", "Deleted rows not yet materialized by compaction.",
        static_cast<double>(stats.num_deleted_rows));
  gauge("fragments", "Fragments (data files) in the latest version.",
        static_cast<double>(stats.num_fragments));
  gauge("small_fragments", "Fragments below an eighth of the compaction target.",
        static_cast<double>(stats.num_small_fragments));
  gauge("unindexed_rows", "Rows no index segment covers: the flat-scanned tail.",
        static_cast<double>(stats.num_unindexed_rows));
  gauge("index_segments", "Vector-index segments.", static_cast<double>(stats.num_index_segments));
  gauge("versions", "Versions kept on disk.", static_cast<double>(stats.num_versions));
  gauge("bytes_on_disk", "Bytes of every file of the table.",
        static_cast<double>(stats.bytes_on_disk));
  // Latencies: a histogram with cumulative buckets (seconds), plus the P50/P95/P99 the operator
  // watches as gauges (a Prometheus summary cannot be aggregated across handles).
  auto histogram = [&](const char* name, const char* help, const LatencyHistogram& latencies) {
    const std::string metric = std::string("tessera_") + name;
    out += "# HELP " + metric + " " + help + "\n# TYPE " + metric + " histogram\n";
    int bucket = 0;
    int64_t cumulative = 0;
    for (double le : {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                      0.5, 1.0, 2.5, 5.0, 10.0}) {
      while (bucket < LatencyHistogram::kNumBuckets &&
             LatencyHistogram::BucketUpperMs(bucket) <= le * 1000.0) {
        cumulative += latencies.bucket_count(bucket++);
      }
      char bound[32];
      std::snprintf(bound, sizeof(bound), "%g", le);
      out += metric + "_bucket{table=\"" + escaped + "\",le=\"" + bound + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += metric + "_bucket{table=\"" + escaped + "\",le=\"+Inf\"} " +
           std::to_string(latencies.count()) + "\n";
    out += metric + "_sum" + labels + " " + std::to_string(latencies.sum_ms() / 1000.0) + "\n";
    out += metric + "_count" + labels + " " + std::to_string(latencies.count()) + "\n";
    for (const auto& [suffix, q] : {std::pair{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}}) {
      const std::string gauge_name = std::string(name) + "_" + suffix;
      out += "# HELP tessera_" + gauge_name + " " + suffix + " of " + help + "\n# TYPE tessera_" +
             gauge_name + " gauge\ntessera_" + gauge_name + labels + " " +
             std::to_string(latencies.Percentile(q) / 1000.0) + "\n";
    }
  };
  histogram("add_latency_seconds", "Latency of add() through this handle.", add_latency());
  histogram("query_latency_seconds", "Latency of vector searches through this handle.",
            query_latency());
  // Process-wide: every handle of this process.
  const ProcessMetrics& process = ProcessMetrics::Get();
  auto counter = [&](const char* name, const char* help, int64_t value) {
    out += std::string("# HELP tessera_") + name + " " + help + "\n# TYPE tessera_" + name +
           " counter\ntessera_" + name + " " + std::to_string(value) + "\n";
  };
  counter("commits_total", "Versions committed by this process.", process.commits.load());
  counter("commit_conflicts_total", "Commit attempts of this process another writer won.",
          process.commit_conflicts.load());
  counter("commit_retries_total", "Operations of this process re-run on a newer version.",
          process.commit_retries.load());
  counter("queries_total", "Vector searches run by this process.", process.queries.load());
  counter("rows_flat_scanned_total",
          "Vectors compared in unindexed tails by this process (divide by queries_total for "
          "rows per query).",
          process.rows_flat_scanned.load());
  // Optimize runtime history, read back from the manifests.
  TESSERA_ASSIGN_OR_RETURN(std::vector<VersionInfo> history, History());
  double last_compact_s = 0;
  for (const VersionInfo& v : history) {
    if (v.operation == "compact" || v.operation == "optimize_indices") {
      last_compact_s = static_cast<double>(v.duration_us) / 1e6;
    }
  }
  gauge("last_optimize_step_seconds", "Duration of the last compaction or index update.",
        last_compact_s);
  return out;
}

}  // namespace tessera
