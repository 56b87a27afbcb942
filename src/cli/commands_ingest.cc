// The `ingest` command: the directory auto-loader (--watch) and JSON lines from stdin (--stdin),
// in the foreground until stopped (or, with --once / at EOF, until done).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "cli/text_table.h"
#include "ingest/auto_loader.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

std::string BatchLine(const ingest::IngestBatchReport& report, int64_t table_rows) {
  char line[256];
  std::snprintf(
      line, sizeof(line),
      "batch %lld: %zu file%s, %lld rows, commit %.1f ms, version %llu, %lld rows in table%s",
      static_cast<long long>(report.batch_id), report.files.size(),
      report.files.size() == 1 ? "" : "s", static_cast<long long>(report.rows), report.commit_ms,
      static_cast<unsigned long long>(report.version), static_cast<long long>(table_rows),
      report.recovered ? " (planned before a restart, committed now)" : "");
  return line;
}

Status RunIngest(const ParsedArgs& args, const Console& console) {
  const bool watch = args.Has("watch");
  const bool from_stdin = args.GetBool("stdin");
  if (watch == from_stdin) return UsageError("give --watch DIR or --stdin");
  if (from_stdin && (args.Has("format") || args.GetBool("once") || args.Has("quarantine"))) {
    return UsageError("--format, --once and --quarantine apply to --watch only");
  }
  double trigger = 5;
  if (args.Has("trigger")) {
    TESSERA_ASSIGN_OR_RETURN(trigger, ParseDuration("trigger", args.Get("trigger")));
    if (trigger <= 0) return UsageError("--trigger must be positive");
  }
  const int64_t max_rows = args.GetInt("max-rows-per-batch", 100000);
  if (max_rows < 1) return UsageError("--max-rows-per-batch must be at least 1");
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));

  StopSignals signals;
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  ingest::AutoLoader* loader = nullptr;
  std::thread watcher([&] {
    while (!finished.load()) {
      if (StopSignalReceived() != 0) {
        stop = true;
        if (loader != nullptr) loader->Stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  int64_t total_rows = 0;
  auto on_batch = [&](const ingest::IngestBatchReport& report) {
    total_rows += report.rows;
    auto rows = table->CountRows();
    console.Print(BatchLine(report, rows.ok() ? *rows : -1) + "\n");
    std::fflush(console.out);
  };
  Status status;
  if (from_stdin) {
    ingest::StdinIngestOptions options;
    options.trigger_seconds = trigger;
    options.max_rows_per_batch = max_rows;
    status = ingest::IngestJsonLines(table.get(), STDIN_FILENO, options, stop, on_batch);
  } else {
    ingest::AutoLoaderOptions options;
    options.watch_dir = args.Get("watch");
    if (args.Has("format")) {
      TESSERA_ASSIGN_OR_RETURN(options.format, ingest::ParseInputFormat(args.Get("format")));
    }
    options.trigger_seconds = trigger;
    options.max_rows_per_batch = max_rows;
    options.stream_id = args.Get("stream-id");
    options.quarantine_dir = args.Get("quarantine");
    options.once = args.GetBool("once");
    ingest::AutoLoader auto_loader(table.get(), options);
    loader = &auto_loader;
    if (stop.load()) auto_loader.Stop();
    std::fprintf(console.err, "ingest: watching %s as stream '%s'\n", options.watch_dir.c_str(),
                 auto_loader.stream_id().c_str());
    status = auto_loader.Run(on_batch, [&](const ingest::QuarantineReport& q) {
      console.Print("quarantined " + q.file + ": " + OneLine(q.reason) + "\n");
      std::fflush(console.out);
    });
    finished = true;
    watcher.join();
    loader = nullptr;
    return status;
  }
  finished = true;
  watcher.join();
  return status;
}

}  // namespace

CommandSpec IngestCommand() {
  return {
      .name = "ingest",
      .summary = "Stream files from a directory (or JSON lines from stdin) into the table.",
      .positionals = {{.name = "TABLE"}},
      .flags = {{.name = "watch",
                 .value_name = "DIR",
                 .help = "ingest every file that appears in DIR, exactly once"},
                {.name = "stdin", .kind = FlagKind::kBool, .help = "read JSON lines from stdin"},
                {.name = "format",
                 .kind = FlagKind::kChoice,
                 .help = "input format of the files (default: from each extension)",
                 .choices = {"jsonl", "csv", "arrow", "fvecs"}},
                {.name = "trigger",
                 .value_name = "DURATION",
                 .help = "time between directory scans / longest buffering (default 5s)"},
                {.name = "max-rows-per-batch",
                 .kind = FlagKind::kInt,
                 .value_name = "N",
                 .help = "rows per commit at most (whole files; default 100000)"},
                {.name = "stream-id",
                 .value_name = "ID",
                 .help = "checkpoint name (default: ingest:<absolute DIR>)"},
                {.name = "quarantine",
                 .value_name = "DIR",
                 .help = "where unparseable files go (default DIR/_quarantine)"},
                {.name = "once",
                 .kind = FlagKind::kBool,
                 .help = "ingest the files present now, then exit"}},
      .details =
          "--watch: a file is taken once its size and modification time did not change over\n"
          "one trigger interval; names starting with '.' or '_' or ending in .tmp or .partial\n"
          "are ignored (write under such a name, then rename). Each micro-batch commits with\n"
          "the stream's checkpoint; a restarted ingest continues exactly where the last one\n"
          "stopped, even after kill -9 (docs/ingest.md). A file that does not parse is moved\n"
          "to the quarantine with FILE.reason; no row of it is ingested. Prints per batch:\n"
          "  batch B: F files, R rows, commit MS ms, version V, T rows in table\n"
          "  quarantined FILE: REASON\n"
          "--stdin: commits every --max-rows-per-batch rows, --trigger after the first\n"
          "buffered row, and at end of input; at-least-once (stdin has no offsets).\n"
          "SIGINT or SIGTERM stops after the current batch (exit 0).",
      .run = RunIngest};
}

}  // namespace tessera::cli
