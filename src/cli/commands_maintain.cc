// The `maintain` command: the maintenance daemon in the foreground, until stopped.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "cli/text_table.h"
#include "maintenance/daemon.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

// The signal that asked a long-running command to stop, or 0. Written by the signal handler,
// read by watcher threads: a lock-free atomic is async-signal-safe.
std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void OnStopSignal(int signal) { stop_signal.store(signal); }

}  // namespace

int StopSignalReceived() { return stop_signal.load(); }

StopSignals::StopSignals() {
  stop_signal.store(0);
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

namespace {

Result<double> GetDuration(const ParsedArgs& args, std::string_view flag, double fallback) {
  if (!args.Has(flag)) return fallback;
  return ParseDuration(flag, args.Get(flag));
}

Result<double> GetPositiveNumber(const ParsedArgs& args, std::string_view flag, double fallback) {
  if (!args.Has(flag)) return fallback;
  const std::string text = args.Get(flag);
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || ptr != end || !(value > 0) || !std::isfinite(value)) {
    return UsageError("--" + std::string(flag) + ": expected a positive number, got '" + text +
                      "'");
  }
  return value;
}

// Default --nice: maintenance is background work; on a machine shared with queries and writers
// it should use idle cores, not take them from a query (bench/streaming_benchmark.cc measured
// the reader's p99 while the maintainer's graph builds held both cores).
constexpr int kDefaultNiceness = 10;

// Raise the niceness of the calling thread by `increment` (Linux: niceness is per thread, and
// threads it starts inherit it). The rest of the process keeps its priority.
Status RaiseThreadNiceness(int increment) {
  if (increment == 0) return Status::OK();
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return Status::IOError("getpriority: ", std::strerror(errno));
  if (setpriority(PRIO_PROCESS, tid, std::min(current + increment, 19)) != 0) {
    return Status::IOError("setpriority: ", std::strerror(errno));
  }
  return Status::OK();
}

Result<maintenance::DaemonOptions> DaemonOptionsFromArgs(const ParsedArgs& args) {
  maintenance::DaemonOptions options;
  const bool once = args.GetBool("once");
  const bool adaptive = args.GetBool("adaptive");
  const bool interval = args.Has("interval");
  if (once && (adaptive || interval || args.Has("max-runs"))) {
    return UsageError("--once excludes --interval, --adaptive and --max-runs");
  }
  if (!once && adaptive == interval) {
    return UsageError(adaptive ? "--interval and --adaptive exclude each other"
                               : "give --interval DURATION, --adaptive or --once");
  }
  if (!adaptive) {
    for (std::string_view flag :
         {"tail-budget-ms", "target-tail-ms", "min-interval", "max-interval"}) {
      if (args.Has(flag)) return UsageError("--" + std::string(flag) + " needs --adaptive");
    }
  }
  TESSERA_ASSIGN_OR_RETURN(options.optimize, OptimizeOptionsFromArgs(args));
  TESSERA_ASSIGN_OR_RETURN(options.lease_seconds,
                           GetDuration(args, "lease", options.lease_seconds));
  if (once) {
    options.interval_seconds = 0;
    options.max_runs = 1;
    return options;
  }
  options.adaptive = adaptive;
  TESSERA_ASSIGN_OR_RETURN(options.interval_seconds,
                           GetDuration(args, "interval", options.interval_seconds));
  if (args.Has("tail-budget-ms") && args.Has("target-tail-ms")) {
    return UsageError("--tail-budget-ms and --target-tail-ms are the same flag: give one");
  }
  const char* budget_flag = args.Has("target-tail-ms") ? "target-tail-ms" : "tail-budget-ms";
  TESSERA_ASSIGN_OR_RETURN(options.target_tail_ms,
                           GetPositiveNumber(args, budget_flag, options.target_tail_ms));
  TESSERA_ASSIGN_OR_RETURN(options.min_interval_seconds,
                           GetDuration(args, "min-interval", options.min_interval_seconds));
  TESSERA_ASSIGN_OR_RETURN(options.max_interval_seconds,
                           GetDuration(args, "max-interval", options.max_interval_seconds));
  if (options.min_interval_seconds > options.max_interval_seconds) {
    return UsageError("--min-interval is above --max-interval");
  }
  if (args.Has("max-runs")) {
    options.max_runs = args.GetInt("max-runs", -1);
    if (options.max_runs < 1) return UsageError("--max-runs must be at least 1");
  }
  return options;
}

// Return the step failures of one run, e.g. {"compaction failed: ..."}.
std::vector<std::string> Failures(const OptimizeResult& result) {
  std::vector<std::string> failures;
  if (!result.compaction_status.ok()) {
    failures.push_back("compaction failed: " + result.compaction_status.message());
  }
  if (!result.indices_status.ok()) {
    failures.push_back("index update failed: " + result.indices_status.message());
  }
  if (!result.cleanup_status.ok()) {
    failures.push_back("cleanup failed: " + result.cleanup_status.message());
  }
  return failures;
}

// Return the stdout line of one run (without the newline).
std::string EventLine(const maintenance::DaemonEvent& event, int64_t started_us, bool last) {
  const auto at_us = started_us + static_cast<int64_t>(event.started_at_s * 1e6);
  std::string line = "run " + std::to_string(event.run) + " at " +
                     FormatTimestampUtc(at_us, /*with_micros=*/false) + ": ";
  if (event.skipped_for_lease) {
    line += "skipped: lease held by another maintainer";
  } else {
    const OptimizeResult& result = event.result;
    const int64_t fragments_after = event.fragments_before - result.compaction.fragments_removed +
                                    result.compaction.fragments_added;
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.3f", result.seconds);
    line += "fragments " + std::to_string(event.fragments_before) + " -> " +
            std::to_string(fragments_after) + ", unindexed rows before " +
            std::to_string(event.unindexed_rows_before) + ", optimize " + seconds + " s";
    if (!result.ok()) line += " (failed, see stderr)";
  }
  if (!last) line += ", next run in " + FormatDuration(std::round(event.next_in_seconds * 10) / 10);
  return line;
}

Status RunMaintain(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(maintenance::DaemonOptions options, DaemonOptionsFromArgs(args));
  const int64_t niceness = args.GetInt("nice", kDefaultNiceness);
  if (niceness < 0 || niceness > 19) {
    return UsageError("--nice must be in [0, 19], got " + std::to_string(niceness));
  }
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  const int64_t max_runs = options.max_runs;
  maintenance::MaintenanceDaemon daemon(table.get(), std::move(options));

  StopSignals signals;
  std::atomic<bool> finished{false};
  // The handler only sets a lock-free flag; this thread turns the flag into a Stop() call, so
  // the handler never touches the daemon.
  std::thread watcher([&daemon, &finished] {
    while (!finished.load()) {
      if (StopSignalReceived() != 0) {
        daemon.Stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const int64_t started_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  // The daemon runs on its own thread so that only it (and the threads optimize starts) is
  // niced, not the caller's thread.
  Status status;
  std::thread runner([&] {
    status = RaiseThreadNiceness(static_cast<int>(niceness));
    if (!status.ok()) return;
    status = daemon.Run([&](const maintenance::DaemonEvent& event) {
      const bool last = (max_runs >= 0 && event.run >= max_runs) || StopSignalReceived() != 0;
      console.Print(EventLine(event, started_us, last) + "\n");
      std::fflush(console.out);
      for (const std::string& failure : Failures(event.result)) {
        const std::string line =
            "tessera: run " + std::to_string(event.run) + ": " + OneLine(failure) + "\n";
        std::fwrite(line.data(), 1, line.size(), console.err);
      }
    });
  });
  runner.join();
  finished.store(true);
  watcher.join();
  return status;
}

}  // namespace

CommandSpec MaintainCommand() {
  std::vector<FlagSpec> flags = {
      {.name = "interval",
       .value_name = "DURATION",
       .help = "fixed cadence: time between the starts of two runs"},
      {.name = "adaptive",
       .kind = FlagKind::kBool,
       .help = "run when the unindexed tail's predicted flat-scan cost reaches --tail-budget-ms"},
      {.name = "tail-budget-ms",
       .value_name = "F",
       .help = "adaptive: query latency the unindexed tail may add, in milliseconds (default 5)"},
      {.name = "target-tail-ms", .value_name = "F", .help = "the same as --tail-budget-ms"},
      {.name = "min-interval", .value_name = "DURATION", .help = "adaptive: (default 1s)"},
      {.name = "max-interval", .value_name = "DURATION", .help = "adaptive: (default 10m)"},
      {.name = "max-runs",
       .kind = FlagKind::kInt,
       .value_name = "N",
       .help = "stop after N runs (default: until SIGINT or SIGTERM)"},
      {.name = "once", .kind = FlagKind::kBool, .help = "one run now, then exit"},
      {.name = "lease",
       .value_name = "DURATION",
       .help = "advisory lease so two maintainers do not duplicate work (default 5m)"},
      {.name = "nice",
       .kind = FlagKind::kInt,
       .value_name = "N",
       .help = "lower optimize's CPU priority by N (0-19, default 10): queries first"},
  };
  for (FlagSpec& flag : OptimizeFlags()) flags.push_back(std::move(flag));
  return {.name = "maintain",
          .summary = "Run optimize on a schedule in the foreground, beside the writers.",
          .positionals = {{.name = "TABLE"}},
          .flags = std::move(flags),
          .details =
              "Give one of --interval, --adaptive or --once (= --max-runs 1 --interval 0).\n"
              "Compaction and cleanup flags are those of 'tessera optimize'. DURATION is a\n"
              "number with a unit: ms, s, m, h or d (30s, 10m, 1.5h, 7d), or 0.\n"
              "Prints one line per run:\n"
              "  run N at TIME: fragments B -> A, unindexed rows before U, optimize S s,\n"
              "  next run in D\n"
              "or \"run N at TIME: skipped: lease held by another maintainer\". A failed step is\n"
              "one line on stderr and is retried at the next run. SIGINT or SIGTERM stops the\n"
              "daemon after the current run (exit 0). Optimize runs on a thread --nice steps\n"
              "nicer than the rest (default 10), so that queries and writers sharing the\n"
              "machine get a core first; --threads bounds the cores an index build takes.",
          .run = RunMaintain};
}

}  // namespace tessera::cli
