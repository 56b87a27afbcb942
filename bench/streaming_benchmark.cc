// The streaming scenario, end to end (issue 4's benchmark): a writer appends 1,000-row batches of
// 768-d vectors to a table that grows to --rows rows, while a reader queries continuously. Run
// three ways — no maintenance, `tessera maintain --interval`, `tessera maintain --adaptive` (each
// maintainer a separate process, as in production) — and print over time: fragments, unindexed
// rows, optimize runs and runtimes, query latency P50/P95/P99. The summary compares the P99 of
// the last quarter of the stream across modes (the no-maintenance run degrades as its tail
// grows; the adaptive run should stay flat). Writes the time series as CSV and an SVG chart.
//
// Run (bench preset):
//   build/bench/bench/streaming_benchmark                      # 500,000 rows, ~30 min
//   build/bench/bench/streaming_benchmark --rows=100000 --out=/tmp/streaming
// Flags: --rows (500000) --batch_rows (1000) --dim (768) --batch_interval_ms (100: ten times
// faster than the scenario's one batch per second) --initial_rows (20000, indexed before the
// stream starts) --interval (maintain --interval, default 20s) --tail_budget_ms (adaptive, 5)
// --modes (none,interval,adaptive) --out (directory for CSV/SVG, default
// ./streaming_benchmark_out) --maintain_nice (maintain --nice; default the CLI's, 10)
// --maintain_threads (maintain --threads; default every core).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/subprocess.h"
#include "bench_util.h"
#include "maintenance/timeline.h"
#include "tessera/table.h"

namespace tessera::bench {
namespace {

struct Config {
  int64_t rows = 500000;
  int64_t batch_rows = 1000;
  int32_t dim = 768;
  int64_t batch_interval_ms = 100;
  int64_t initial_rows = 20000;
  std::string interval = "20s";
  double tail_budget_ms = 5;
  int64_t maintain_nice = -1;    // < 0: the CLI's default (10)
  int64_t maintain_threads = 0;  // 0: the CLI's default (every core)
  std::vector<std::string> modes;
  std::string out;
};

struct ModeResult {
  maintenance::Timeline timeline;
  std::vector<double> last_quarter_latencies_ms;
  std::vector<double> optimize_seconds;
  double stream_seconds = 0;
  int64_t final_rows = 0;
};

// Optimize runs and their runtimes from a `tessera maintain` log ("..., optimize S s, ...").
void ReadMaintainLog(const std::string& path, std::vector<double>* seconds) {
  seconds->clear();
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t at = line.find(", optimize ");
    if (!line.starts_with("run ") || at == std::string::npos) continue;
    seconds->push_back(std::atof(line.c_str() + at + 11));
  }
}

Result<ModeResult> RunMode(const Config& config, const std::string& mode, const Dataset& data) {
  ModeResult result;
  result.timeline.label = mode;
  const std::string dir = FreshDir("tessera_streaming_" + mode);
  const std::string table_dir = dir + "/table";
  // Same start in every mode: the first rows, indexed.
  TESSERA_ASSIGN_OR_RETURN(
      auto table, CreateVectorTable(
                      table_dir, config.dim,
                      std::span<const float>(data.base.data(),
                                             static_cast<size_t>(config.initial_rows * config.dim)),
                      config.initial_rows));
  TESSERA_RETURN_IF_ERROR(table->CreateIndex("vector"));

  base::Subprocess maintainer;
  const std::string log = dir + "/maintain.log";
  if (mode != "none") {
    std::vector<std::string> args = {"maintain", table_dir};
    if (mode == "interval") {
      args.insert(args.end(), {"--interval", config.interval});
    } else {
      char budget[32];
      std::snprintf(budget, sizeof(budget), "%g", config.tail_budget_ms);
      args.insert(args.end(), {"--adaptive", "--tail-budget-ms", budget, "--min-interval", "1s"});
    }
    args.insert(args.end(), {"--older-than", "1m"});
    if (config.maintain_nice >= 0) {
      args.insert(args.end(), {"--nice", std::to_string(config.maintain_nice)});
    }
    if (config.maintain_threads > 0) {
      args.insert(args.end(), {"--threads", std::to_string(config.maintain_threads)});
    }
    TESSERA_ASSIGN_OR_RETURN(maintainer, base::Spawn(TESSERA_CLI_PATH, args, log));
  }

  std::atomic<bool> stop{false};
  std::atomic<int64_t> written{config.initial_rows};
  std::mutex mu;
  std::vector<double> window_ms;
  Status writer_status, reader_status;
  const Stopwatch clock;
  std::thread writer([&] {
    auto handle = Table::Open(table_dir);
    if (!handle.ok()) {
      writer_status = handle.status();
      return;
    }
    int64_t batch = 0;
    for (int64_t first = config.initial_rows; first < config.rows;
         first += config.batch_rows, ++batch) {
      const double due_ms = static_cast<double>(batch * config.batch_interval_ms);
      while (clock.Millis() < due_ms) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const int64_t n = std::min(config.batch_rows, config.rows - first);
      auto rows = MakeVectorBatch(
          config.dim,
          std::span<const float>(data.base_row(first), static_cast<size_t>(n * config.dim)), first);
      if (!rows.ok()) {
        writer_status = rows.status();
        return;
      }
      auto added = (*handle)->Add(*rows);
      if (!added.ok()) {
        writer_status = added.status();
        return;
      }
      written += n;
    }
  });
  std::thread reader([&] {
    auto handle = Table::Open(table_dir);
    if (!handle.ok()) {
      reader_status = handle.status();
      return;
    }
    for (int64_t q = 0; !stop; ++q) {
      const Stopwatch latency;
      auto found = (*handle)
                       ->Search(std::span<const float>(data.query_row(q % data.num_queries()),
                                                       static_cast<size_t>(config.dim)))
                       .Limit(10)
                       .Select({"id"})
                       .Execute();
      const double ms = latency.Millis();
      if (!found.ok()) {
        reader_status = found.status();
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      window_ms.push_back(ms);
      if (written.load() >= config.initial_rows + (config.rows - config.initial_rows) * 3 / 4) {
        result.last_quarter_latencies_ms.push_back(ms);
      }
    }
  });

  std::printf("\nmode %s (maintainer log: %s)\n", mode.c_str(), mode == "none" ? "-" : log.c_str());
  TextTable progress({"t_s", "rows", "fragments", "unindexed", "segments", "optimize runs",
                      "last optimize s", "queries", "p50 ms", "p95 ms", "p99 ms"});
  int64_t next_print = config.initial_rows;
  bool writing = true;
  while (writing) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    writing = written.load() < config.rows && writer_status.ok() && reader_status.ok();
    TESSERA_ASSIGN_OR_RETURN(TableStats stats, table->Stats());
    maintenance::TimelinePoint point;
    point.t_s = clock.Seconds();
    point.rows = stats.num_rows;
    point.fragments = stats.num_fragments;
    point.unindexed_rows = stats.num_unindexed_rows;
    point.index_segments = stats.num_index_segments;
    ReadMaintainLog(log, &result.optimize_seconds);
    point.optimize_runs = static_cast<int64_t>(result.optimize_seconds.size());
    point.last_optimize_s = result.optimize_seconds.empty() ? 0 : result.optimize_seconds.back();
    {
      std::lock_guard<std::mutex> lock(mu);
      point.queries = static_cast<int64_t>(window_ms.size());
      point.p50_ms = maintenance::Quantile(window_ms, 0.50);
      point.p95_ms = maintenance::Quantile(window_ms, 0.95);
      point.p99_ms = maintenance::Quantile(window_ms, 0.99);
      window_ms.clear();
    }
    result.timeline.points.push_back(point);
    if (point.rows >= next_print || !writing) {
      progress.AddRow({Fixed(point.t_s, 0), Count(point.rows), Count(point.fragments),
                       Count(point.unindexed_rows), Count(point.index_segments),
                       Count(point.optimize_runs), Fixed(point.last_optimize_s, 2),
                       Count(point.queries), Fixed(point.p50_ms, 2), Fixed(point.p95_ms, 2),
                       Fixed(point.p99_ms, 2)});
      next_print = point.rows + (config.rows - config.initial_rows) / 10;
    }
    std::string how;
    if (mode != "none" && !base::StillRunning(&maintainer, &how)) {
      stop = true;
      writer.join();
      reader.join();
      return Status::Internal("maintainer ", how, ": ", base::LastLineOf(log));
    }
  }
  result.stream_seconds = clock.Seconds();
  stop = true;
  writer.join();
  reader.join();
  base::Terminate(&maintainer, 120);
  progress.Print();
  TESSERA_RETURN_IF_ERROR(writer_status.WithContext("writer"));
  TESSERA_RETURN_IF_ERROR(reader_status.WithContext("reader"));
  ReadMaintainLog(log, &result.optimize_seconds);
  TESSERA_ASSIGN_OR_RETURN(result.final_rows, table->CountRows());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return result;
}

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  Config config;
  config.rows = flags.GetInt("rows", config.rows);
  config.batch_rows = flags.GetInt("batch_rows", config.batch_rows);
  config.dim = static_cast<int32_t>(flags.GetInt("dim", config.dim));
  config.batch_interval_ms = flags.GetInt("batch_interval_ms", config.batch_interval_ms);
  config.initial_rows = flags.GetInt("initial_rows", config.initial_rows);
  config.interval = flags.GetString("interval", config.interval);
  config.tail_budget_ms = flags.GetDouble("tail_budget_ms", config.tail_budget_ms);
  config.maintain_nice = flags.GetInt("maintain_nice", config.maintain_nice);
  config.maintain_threads = flags.GetInt("maintain_threads", config.maintain_threads);
  std::stringstream modes(flags.GetString("modes", "none,interval,adaptive"));
  for (std::string mode; std::getline(modes, mode, ',');) {
    if (mode != "none" && mode != "interval" && mode != "adaptive") {
      std::fprintf(stderr, "unknown mode '%s' (none, interval, adaptive)\n", mode.c_str());
      return 1;
    }
    config.modes.push_back(mode);
  }
  config.out = flags.GetString("out", "streaming_benchmark_out");
  if (!flags.CheckAllUsed()) return 1;
  if (config.initial_rows < 1 || config.initial_rows >= config.rows || config.batch_rows < 1) {
    std::fprintf(stderr, "need 1 <= --initial_rows < --rows and --batch_rows >= 1\n");
    return 1;
  }

  PrintBanner("streaming benchmark",
              "a writer appends " + Count(config.batch_rows) + "-row batches of " +
                  std::to_string(config.dim) + "-d vectors every " +
                  std::to_string(config.batch_interval_ms) + " ms up to " + Count(config.rows) +
                  " rows while a reader queries continuously; maintenance: " +
                  flags.GetString("modes", "none,interval,adaptive"),
              "build/bench/bench/streaming_benchmark [--rows=N] [--modes=none,interval,adaptive]");
  const Stopwatch generate;
  const Dataset data = MakeClustered(config.rows, 200, config.dim, 256, 42);
  std::printf("generated %s clustered vectors in %.1f s\n", Count(config.rows).c_str(),
              generate.Seconds());

  std::vector<ModeResult> results;
  for (const std::string& mode : config.modes) {
    auto result = RunMode(config, mode, data);
    if (!result.ok()) {
      std::fprintf(stderr, "mode %s: %s\n", mode.c_str(), result.status().ToString().c_str());
      return 2;
    }
    results.push_back(std::move(*result));
  }

  std::printf("\nsummary: query latency over the last quarter of the stream\n");
  TextTable summary({"mode", "rows", "stream s", "optimize runs", "optimize p50 s",
                     "optimize max s", "peak unindexed", "peak fragments", "p50 ms", "p95 ms",
                     "p99 ms", "p99 vs adaptive"});
  double adaptive_p99 = 0;
  for (const ModeResult& r : results) {
    if (r.timeline.label == "adaptive") {
      adaptive_p99 = Percentile(r.last_quarter_latencies_ms, 0.99);
    }
  }
  std::vector<maintenance::Timeline> timelines;
  for (const ModeResult& r : results) {
    int64_t peak_unindexed = 0, peak_fragments = 0;
    for (const auto& p : r.timeline.points) {
      peak_unindexed = std::max(peak_unindexed, p.unindexed_rows);
      peak_fragments = std::max(peak_fragments, p.fragments);
    }
    const double p99 = Percentile(r.last_quarter_latencies_ms, 0.99);
    double max_optimize = 0;
    for (double s : r.optimize_seconds) max_optimize = std::max(max_optimize, s);
    summary.AddRow({r.timeline.label, Count(r.final_rows), Fixed(r.stream_seconds, 0),
                    Count(static_cast<int64_t>(r.optimize_seconds.size())),
                    Fixed(Percentile(r.optimize_seconds, 0.5), 2), Fixed(max_optimize, 2),
                    Count(peak_unindexed), Count(peak_fragments),
                    Fixed(Percentile(r.last_quarter_latencies_ms, 0.50), 2),
                    Fixed(Percentile(r.last_quarter_latencies_ms, 0.95), 2), Fixed(p99, 2),
                    adaptive_p99 > 0 ? Fixed(p99 / adaptive_p99, 2) + "x" : "-"});
    timelines.push_back(r.timeline);
  }
  summary.Print();

  std::error_code ec;
  std::filesystem::create_directories(config.out, ec);
  const std::string csv = config.out + "/streaming.csv";
  const std::string svg = config.out + "/streaming.svg";
  Status written = maintenance::WriteTextFile(csv, maintenance::TimelinesToCsv(timelines));
  if (written.ok()) {
    written = maintenance::WriteTextFile(
        svg, maintenance::TimelinesToSvg(timelines, "streaming: " + Count(config.rows) +
                                                        " rows x " + std::to_string(config.dim) +
                                                        "-d, per maintenance mode"));
  }
  if (!written.ok()) {
    std::fprintf(stderr, "%s\n", written.ToString().c_str());
    return 2;
  }
  std::printf("\ntime series: %s\nchart:       %s\n", csv.c_str(), svg.c_str());
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) { return tessera::bench::Main(argc, argv); }
