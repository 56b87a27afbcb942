// Maintenance commands: compact, cleanup, optimize, stats, health, history, metrics.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "cli/text_table.h"
#include "tessera/maintenance.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

// The longest duration accepted: about 300 years, far beyond any useful retention.
constexpr double kMaxDurationSeconds = 1e10;

// Reports cleanup progress on stderr: on a terminal one line rewritten in place, otherwise a
// new line each time another 10% is done. Thread-safe.
class CleanupProgress {
 public:
  explicit CleanupProgress(const Console& console) : console_(console) {}

  void Report(int64_t done, int64_t total) {
    const int percent =
        total <= 0 ? 100 : static_cast<int>(std::clamp(done, int64_t{0}, total) * 100 / total);
    std::lock_guard<std::mutex> lock(mu_);
    if (console_.err_is_terminal) {
      if (percent == last_percent_) return;
      std::fprintf(console_.err, "\r\033[Kcleaning up: %d%% (%lld/%lld)", percent,
                   static_cast<long long>(done), static_cast<long long>(total));
      line_open_ = true;
    } else {
      if (percent / 10 <= last_percent_ / 10) return;
      std::fprintf(console_.err, "cleaning up: %d%%\n", percent / 10 * 10);
    }
    std::fflush(console_.err);
    last_percent_ = percent;
  }

  // Clear the terminal line, if one was written.
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!line_open_) return;
    std::fputs("\r\033[K", console_.err);
    std::fflush(console_.err);
    line_open_ = false;
  }

 private:
  const Console& console_;
  std::mutex mu_;
  int last_percent_ = -1;   // GUARDED_BY(mu_)
  bool line_open_ = false;  // GUARDED_BY(mu_)
};

std::string Seconds(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f s", seconds);
  return buf;
}

std::string Plural(int64_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

// Return "compacted ..." or "nothing to compact".
std::string CompactionLine(const CompactionResult& result) {
  if (result.version == 0) return "nothing to compact";
  return "compacted " + Plural(result.fragments_removed, "fragment") + " into " +
         std::to_string(result.fragments_added) + " as version " + std::to_string(result.version) +
         ": " + std::to_string(result.rows_rewritten) + " rows rewritten, " +
         std::to_string(result.deleted_rows_materialized) + " deleted rows materialized, " +
         std::to_string(result.bytes_written) + " bytes written in " + Seconds(result.seconds);
}

std::string CleanupLine(const CleanupResult& result) {
  return "removed " + Plural(result.versions_removed, "version") + " and " +
         Plural(result.files_removed, "file") + ", " + std::to_string(result.bytes_freed) +
         " bytes freed, " + Plural(result.files_kept_in_grace, "unreferenced file") +
         " kept in the grace period, in " + Seconds(result.seconds);
}

// Print "tessera: <message>" as one line on stderr.
void PrintErrorLine(const Console& console, std::string_view message) {
  const std::string line = "tessera: " + OneLine(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), console.err);
}

Result<double> GetFraction(const ParsedArgs& args, std::string_view flag, double fallback) {
  if (!args.Has(flag)) return fallback;
  const std::string text = args.Get(flag);
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || ptr != end || !(value >= 0 && value <= 1)) {
    return UsageError("--" + std::string(flag) + ": expected a number from 0 to 1, got '" + text +
                      "'");
  }
  return value;
}

Result<int64_t> GetPositiveInt(const ParsedArgs& args, std::string_view flag, int64_t fallback) {
  const int64_t value = args.GetInt(flag, fallback);
  if (value < 1) return UsageError("--" + std::string(flag) + " must be at least 1");
  return value;
}

// Return the whole seconds of a duration flag, rounded up (cleanup keeps rather than removes).
Result<int64_t> GetDurationFlag(const ParsedArgs& args, std::string_view flag, int64_t fallback) {
  if (!args.Has(flag)) return fallback;
  TESSERA_ASSIGN_OR_RETURN(double seconds, ParseDuration(flag, args.Get(flag)));
  return static_cast<int64_t>(std::ceil(seconds));
}

Result<CompactionOptions> CompactionOptionsFromArgs(const ParsedArgs& args) {
  CompactionOptions options;
  TESSERA_ASSIGN_OR_RETURN(options.target_rows_per_fragment,
                           GetPositiveInt(args, "target-rows", options.target_rows_per_fragment));
  TESSERA_ASSIGN_OR_RETURN(
      options.materialize_deletions_threshold,
      GetFraction(args, "materialize-threshold", options.materialize_deletions_threshold));
  options.max_rows_per_pass = args.GetInt("max-rows-per-pass", options.max_rows_per_pass);
  TESSERA_ASSIGN_OR_RETURN(options.batch_rows,
                           GetPositiveInt(args, "batch-rows", options.batch_rows));
  return options;
}

Result<CleanupOptions> CleanupOptionsFromArgs(const ParsedArgs& args) {
  CleanupOptions options;
  TESSERA_ASSIGN_OR_RETURN(options.older_than_seconds,
                           GetDurationFlag(args, "older-than", options.older_than_seconds));
  TESSERA_ASSIGN_OR_RETURN(options.grace_period_seconds,
                           GetDurationFlag(args, "grace", options.grace_period_seconds));
  options.delete_unverified = args.GetBool("delete-unverified");
  return options;
}

std::vector<FlagSpec> CompactionFlags() {
  return {
      {.name = "target-rows",
       .kind = FlagKind::kInt,
       .value_name = "N",
       .help = "merge fragments up to N live rows (default 1048576)"},
      {.name = "materialize-threshold",
       .value_name = "F",
       .help = "rewrite a fragment whose deleted fraction exceeds F, 0..1 (default 0.1)"},
      {.name = "max-rows-per-pass",
       .kind = FlagKind::kInt,
       .value_name = "N",
       .help = "stop after rewriting about N rows; the next run resumes (default: no limit)"},
      {.name = "batch-rows",
       .kind = FlagKind::kInt,
       .value_name = "N",
       .help = "rows copied per step, bounds memory (default 65536)"},
  };
}

std::vector<FlagSpec> CleanupFlags() {
  return {
      {.name = "older-than",
       .value_name = "DURATION",
       .help = "remove versions committed longer ago (default 7d; never the latest or a tagged "
               "one)"},
      {.name = "grace",
       .value_name = "DURATION",
       .help = "keep unreferenced files younger than this: a writer may be about to commit them "
               "(default 7d)"},
      {.name = "delete-unverified",
       .kind = FlagKind::kBool,
       .help = "remove unreferenced files regardless of their age (only when no writer is "
               "running)"},
  };
}

Status RunCompact(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(CompactionOptions options, CompactionOptionsFromArgs(args));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(CompactionResult result, table->CompactFiles(options));
  console.Print(CompactionLine(result) + "\n");
  return Status::OK();
}

Status RunCleanup(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(CleanupOptions options, CleanupOptionsFromArgs(args));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  CleanupProgress progress(console);
  options.progress = [&progress](int64_t done, int64_t total) { progress.Report(done, total); };
  Result<CleanupResult> result = table->CleanupOldVersions(options);
  progress.Finish();
  TESSERA_RETURN_IF_ERROR(result.status());
  console.Print(CleanupLine(*result) + "\n");
  return Status::OK();
}

Status RunOptimize(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(OptimizeOptions options, OptimizeOptionsFromArgs(args));
  if (args.Has("cleanup-older-than")) {
    if (args.Has("older-than")) {
      return UsageError("--cleanup-older-than and --older-than are the same flag: give one");
    }
    TESSERA_ASSIGN_OR_RETURN(options.cleanup.older_than_seconds,
                             GetDurationFlag(args, "cleanup-older-than", 0));
  }
  const bool compact_only = args.GetBool("compact-only");
  const bool index_only = args.GetBool("index-only");
  const bool cleanup_only = args.GetBool("cleanup-only");
  if (compact_only + index_only + cleanup_only > 1) {
    return UsageError("give at most one of --compact-only, --index-only and --cleanup-only");
  }
  const bool all = !compact_only && !index_only && !cleanup_only;
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  CleanupProgress progress(console);
  options.cleanup.progress = [&progress](int64_t done, int64_t total) {
    progress.Report(done, total);
  };
  OptimizeResult result;
  if (all) {
    result = table->Optimize(options);
  } else {
    // One step, through the same calls Optimize makes.
    const auto start = std::chrono::steady_clock::now();
    if (compact_only) {
      auto compacted = table->CompactFiles(options.compaction);
      result.compaction_status = compacted.status();
      if (compacted.ok()) result.compaction = *compacted;
    } else if (index_only) {
      OptimizeIndicesOptions index_options;
      index_options.num_threads = options.num_threads;
      auto indexed = table->OptimizeIndices(index_options);
      result.indices_status = indexed.status();
      if (indexed.ok()) {
        result.index_segments_added = indexed->segments_added;
        result.rows_indexed = indexed->rows_indexed;
      }
    } else {
      auto cleaned = table->CleanupOldVersions(options.cleanup);
      result.cleanup_status = cleaned.status();
      if (cleaned.ok()) result.cleanup = *cleaned;
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  progress.Finish();
  std::string out;
  std::vector<std::string> failures;
  auto step = [&](std::string_view name, const Status& status, const std::string& line) {
    out += std::string(name) + ": ";
    if (status.ok()) {
      out += line + "\n";
    } else {
      out += "failed\n";
      failures.push_back(std::string(name) + " failed: " + status.message());
    }
  };
  if (all || compact_only) {
    step("compaction", result.compaction_status, CompactionLine(result.compaction));
  }
  if (all || index_only) {
    step("indices", result.indices_status,
         result.index_segments_added == 0
             ? std::string("nothing to index")
             : "indexed " + std::to_string(result.rows_indexed) + " rows as " +
                   Plural(result.index_segments_added, "new segment"));
  }
  if (all || cleanup_only) step("cleanup", result.cleanup_status, CleanupLine(result.cleanup));
  out += "optimize took " + Seconds(result.seconds) + "\n";
  console.Print(out);
  if (failures.empty()) return Status::OK();
  for (const std::string& failure : failures) PrintErrorLine(console, failure);
  return SilentExit(kExitFailed);
}

Result<HealthLimits> HealthLimitsFromArgs(const ParsedArgs& args) {
  HealthLimits limits;
  limits.max_fragments = args.GetInt("max-fragments", limits.max_fragments);
  limits.max_small_fragments = args.GetInt("max-small-fragments", limits.max_small_fragments);
  limits.max_unindexed_rows = args.GetInt("max-unindexed-rows", limits.max_unindexed_rows);
  limits.max_deleted_rows = args.GetInt("max-deleted-rows", limits.max_deleted_rows);
  limits.max_versions = args.GetInt("max-versions", limits.max_versions);
  TESSERA_ASSIGN_OR_RETURN(limits.target_rows_per_fragment,
                           GetPositiveInt(args, "target-rows", limits.target_rows_per_fragment));
  return limits;
}

FlagSpec TargetRowsFlag() {
  return {.name = "target-rows",
          .kind = FlagKind::kInt,
          .value_name = "N",
          .help = "compaction's target: a fragment below N/8 rows is small (default 1048576)"};
}

Status PrintStats(Table* table, const HealthLimits& limits, const std::string& format,
                  const Console& console) {
  if (format == "prometheus") {
    TESSERA_ASSIGN_OR_RETURN(std::string metrics, table->PrometheusMetrics());
    console.Print(metrics);
    return Status::OK();
  }
  TESSERA_ASSIGN_OR_RETURN(TableStats stats, table->Stats(limits));
  if (format == "json") {
    console.Print(stats.ToJson() + "\n");
    return Status::OK();
  }
  TextTable text({"stat", "value"}, {false, true});
  const std::pair<const char*, int64_t> rows[] = {
      {"version", static_cast<int64_t>(stats.version)},
      {"rows", stats.num_rows},
      {"deleted_rows", stats.num_deleted_rows},
      {"fragments", stats.num_fragments},
      {"small_fragments", stats.num_small_fragments},
      {"fragment_rows_p50", stats.fragment_rows_p50},
      {"fragment_rows_p90", stats.fragment_rows_p90},
      {"fragment_rows_max", stats.fragment_rows_max},
      {"unindexed_rows", stats.num_unindexed_rows},
      {"index_segments", stats.num_index_segments},
      {"versions", stats.num_versions},
      {"bytes_on_disk", stats.bytes_on_disk},
  };
  for (const auto& [name, value] : rows) text.AddRow({name, std::to_string(value)});
  console.Print(text.Render());
  return Status::OK();
}

Status RunStats(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(HealthLimits limits, HealthLimitsFromArgs(args));
  int chosen = 0;
  std::string format = console.out_is_terminal ? "table" : "json";
  if (args.Has("format")) {
    format = args.Get("format");
    ++chosen;
  }
  if (args.GetBool("json")) {
    format = "json";
    ++chosen;
  }
  if (args.GetBool("prometheus")) {
    format = "prometheus";
    ++chosen;
  }
  if (chosen > 1) return UsageError("give one of --format, --json and --prometheus");
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  if (!args.Has("watch")) return PrintStats(table.get(), limits, format, console);
  TESSERA_ASSIGN_OR_RETURN(double every, ParseDuration("watch", args.Get("watch")));
  if (every <= 0) return UsageError("--watch needs a positive interval");
  // Until SIGINT/SIGTERM: a JSON object (or a table, or the Prometheus text) per interval.
  StopSignals signals;
  while (StopSignalReceived() == 0) {
    TESSERA_RETURN_IF_ERROR(PrintStats(table.get(), limits, format, console));
    std::fflush(console.out);
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(every * 1000));
    while (StopSignalReceived() == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return Status::OK();
}

Status RunHealth(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(HealthLimits limits, HealthLimitsFromArgs(args));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(HealthReport report, table->Health(limits));
  if (report.healthy()) {
    console.Print("OK\n");
    return Status::OK();
  }
  std::string out = "UNHEALTHY\n";
  for (const std::string& problem : report.problems) out += "  " + OneLine(problem) + "\n";
  console.Print(out);
  return SilentExit(kExitUnhealthy);
}

double DurationMs(int64_t duration_us) {
  return std::round(static_cast<double>(duration_us)) / 1000.0;
}

Status RunHistory(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(std::vector<VersionInfo> history, table->History());
  std::string out;
  if (args.Get("format", "table") == "jsonl") {
    for (const VersionInfo& info : history) {
      nlohmann::ordered_json json;
      json["version"] = info.version;
      json["timestamp"] = FormatTimestampUtc(info.timestamp_us, /*with_micros=*/true);
      json["operation"] = info.operation;
      json["duration_ms"] = DurationMs(info.duration_us);
      json["rows"] = info.num_rows;
      json["fragments"] = info.num_fragments;
      json["unindexed_rows"] = info.num_unindexed_rows;
      out += json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    }
    console.Print(out);
    return Status::OK();
  }
  TextTable text(
      {"version", "timestamp", "operation", "duration_ms", "rows", "fragments", "unindexed_rows"},
      {true, false, false, true, true, true, true});
  for (const VersionInfo& info : history) {
    char duration[32];
    std::snprintf(duration, sizeof(duration), "%.3f", DurationMs(info.duration_us));
    text.AddRow({std::to_string(info.version),
                 FormatTimestampUtc(info.timestamp_us, /*with_micros=*/false), info.operation,
                 duration, std::to_string(info.num_rows), std::to_string(info.num_fragments),
                 std::to_string(info.num_unindexed_rows)});
  }
  console.Print(text.Render());
  return Status::OK();
}

Status RunMetrics(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(std::string metrics, table->PrometheusMetrics());
  if (!metrics.empty() && !metrics.ends_with('\n')) metrics += "\n";
  console.Print(metrics);
  return Status::OK();
}

FlagSpec LimitFlag(std::string_view name, std::string_view help) {
  return {.name = name, .kind = FlagKind::kInt, .value_name = "N", .help = help};
}

}  // namespace

Result<double> ParseDuration(std::string_view flag, std::string_view text) {
  auto bad = [&]() {
    return UsageError("--" + std::string(flag) +
                      ": expected a duration such as 30s, 10m, 2h, 7d or 0, got '" +
                      std::string(text) + "'");
  };
  if (text == "0") return 0.0;
  size_t unit_at = 0;
  while (unit_at < text.size() &&
         ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) {
    ++unit_at;
  }
  if (unit_at == 0) return bad();
  double value = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + unit_at, value, std::chars_format::fixed);
  if (ec != std::errc() || ptr != text.data() + unit_at || !std::isfinite(value)) return bad();
  const std::string_view unit = text.substr(unit_at);
  double scale = 0;
  if (unit == "ms") {
    scale = 0.001;
  } else if (unit == "s") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else if (unit == "d") {
    scale = 86400;
  } else {
    return bad();
  }
  const double seconds = value * scale;
  if (seconds > kMaxDurationSeconds) {
    return UsageError("--" + std::string(flag) + " " + std::string(text) + " is too large");
  }
  return seconds;
}

std::string FormatDuration(double seconds) {
  struct Unit {
    double scale;
    const char* suffix;
  };
  for (const Unit unit : {Unit{86400, "d"}, Unit{3600, "h"}, Unit{60, "m"}}) {
    if (seconds >= unit.scale && std::fmod(seconds, unit.scale) == 0) {
      return std::to_string(static_cast<int64_t>(seconds / unit.scale)) + unit.suffix;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%gs", seconds);
  return buf;
}

std::vector<FlagSpec> OptimizeFlags() {
  std::vector<FlagSpec> flags = CompactionFlags();
  for (FlagSpec& flag : CleanupFlags()) flags.push_back(std::move(flag));
  flags.push_back({.name = "threads",
                   .kind = FlagKind::kInt,
                   .value_name = "N",
                   .help = "threads that build index segments (default: every core)"});
  return flags;
}

// `optimize` alone: the step selectors and the name for the cleanup retention.
std::vector<FlagSpec> OptimizeCommandFlags() {
  std::vector<FlagSpec> flags = OptimizeFlags();
  flags.push_back({.name = "compact-only", .kind = FlagKind::kBool, .help = "compaction only"});
  flags.push_back({.name = "index-only",
                   .kind = FlagKind::kBool,
                   .help = "index update only (tail segment, merges, retrains)"});
  flags.push_back({.name = "cleanup-only", .kind = FlagKind::kBool, .help = "cleanup only"});
  flags.push_back(
      {.name = "cleanup-older-than", .value_name = "DURATION", .help = "the same as --older-than"});
  return flags;
}

Result<OptimizeOptions> OptimizeOptionsFromArgs(const ParsedArgs& args) {
  OptimizeOptions options;
  TESSERA_ASSIGN_OR_RETURN(options.compaction, CompactionOptionsFromArgs(args));
  TESSERA_ASSIGN_OR_RETURN(options.cleanup, CleanupOptionsFromArgs(args));
  TESSERA_ASSIGN_OR_RETURN(options.num_threads, GetInt32Flag(args, "threads", 0));
  if (args.Has("threads") && options.num_threads < 1) {
    return UsageError("--threads must be at least 1");
  }
  return options;
}

std::vector<CommandSpec> MaintenanceCommands() {
  const PositionalSpec table{.name = "TABLE"};
  std::vector<CommandSpec> commands;
  commands.push_back(
      {.name = "compact",
       .summary = "Merge small fragments and rewrite fragments with many deleted rows.",
       .positionals = {table},
       .flags = CompactionFlags(),
       .details = "Row ids are kept; readers and writers are never blocked. Prints:\n"
                  "  compacted F fragments into N as version V: R rows rewritten, D deleted rows\n"
                  "  materialized, B bytes written in S s\n"
                  "or \"nothing to compact\".",
       .run = RunCompact});
  commands.push_back(
      {.name = "cleanup",
       .summary = "Remove old versions and the files no kept version references.",
       .positionals = {table},
       .flags = CleanupFlags(),
       .details = "DURATION is a number with a unit: ms, s, m, h or d (30s, 10m, 1.5h, 7d), or 0.\n"
                  "Progress goes to stderr (a line every 10% when stderr is not a terminal).\n"
                  "Prints versions and files removed, bytes freed and the unreferenced files\n"
                  "kept because they are younger than --grace.",
       .run = RunCleanup});
  commands.push_back(
      {.name = "optimize",
       .summary = "Compact, index the unindexed tail, then clean up old versions.",
       .positionals = {table},
       .flags = OptimizeCommandFlags(),
       .details = "Each step runs even if an earlier one failed. Prints one line per step\n"
                  "(compaction, indices, cleanup: the outcome or \"failed\"); each failure is one\n"
                  "line on stderr and the exit status is then 2.\n"
                  "DURATION is a number with a unit: ms, s, m, h or d (30s, 10m, 1.5h, 7d), or 0.",
       .run = RunOptimize});
  commands.push_back(
      {.name = "stats",
       .summary = "Print the latest version's rows, fragments, unindexed rows, versions, bytes.",
       .positionals = {table},
       .flags = {{.name = "format",
                  .kind = FlagKind::kChoice,
                  .help = "json: one object; table: aligned text (default: table on a terminal, "
                          "json otherwise)",
                  .choices = {"json", "table"}},
                 {.name = "json", .kind = FlagKind::kBool, .help = "the same as --format json"},
                 {.name = "prometheus",
                  .kind = FlagKind::kBool,
                  .help = "the Prometheus text of 'tessera metrics'"},
                 {.name = "watch",
                  .value_name = "DURATION",
                  .help = "print again every DURATION until SIGINT/SIGTERM"},
                 TargetRowsFlag()},
       .details = "Keys: version, rows, deleted_rows, fragments, small_fragments,\n"
                  "fragment_rows_p50, fragment_rows_p90, fragment_rows_max, unindexed_rows,\n"
                  "index_segments, versions, bytes_on_disk and bytes (the same).",
       .run = RunStats});
  commands.push_back(
      {.name = "health",
       .summary = "Check the table's maintenance debt against limits; print OK or the problems.",
       .positionals = {table},
       .flags = {LimitFlag("max-fragments", "default 1000"),
                 LimitFlag("max-small-fragments", "default 100"),
                 LimitFlag("max-unindexed-rows", "default 100000"),
                 LimitFlag("max-deleted-rows", "default 1000000"),
                 LimitFlag("max-versions", "default 10000"), TargetRowsFlag()},
       .details = "Prints \"OK\", or \"UNHEALTHY\" and one indented line per limit passed.\n"
                  "Exit status: 0 healthy, 3 a limit is passed, 1 usage error, 2 failure.",
       .run = RunHealth});
  commands.push_back(
      {.name = "history",
       .summary = "Print the operational history: one entry per version still on disk.",
       .positionals = {table},
       .flags = {{.name = "format",
                  .kind = FlagKind::kChoice,
                  .help = "table: aligned text (default); jsonl: one JSON object per version",
                  .choices = {"table", "jsonl"}}},
       .details = "Per version: version, timestamp, operation, duration_ms, rows, fragments,\n"
                  "unindexed_rows.",
       .run = RunHistory});
  commands.push_back(
      {.name = "metrics",
       .summary = "Print the table's statistics in the Prometheus text format.",
       .positionals = {table},
       .details = "Each series is labelled table=\"TABLE\", e.g. tessera_fragments{table=...}.",
       .run = RunMetrics});
  return commands;
}

}  // namespace tessera::cli
