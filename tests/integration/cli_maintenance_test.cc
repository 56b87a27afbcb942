// End-to-end tests of the maintenance commands of the `tessera` tool (compact, cleanup,
// optimize, stats, health, history, metrics, maintain): each test drives the real binary
// (path in $TESSERA_CLI) on a table in a fresh temporary directory and on the S3 gateway
// (s3://..., the AWS_* environment the test exports reaches the binary).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io/file_system.h"
#include "testing/backend_test.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Return the path of the `tessera` binary: $TESSERA_CLI, else the one built with this test.
std::string CliPath() {
  if (const char* cli = std::getenv("TESSERA_CLI")) return cli;
  return TESSERA_CLI;
}

// A running `tessera` process whose stdout and stderr are pipes.
struct CliProcess {
  pid_t pid = -1;
  int out_fd = -1;
  int err_fd = -1;
};

CliProcess Spawn(const std::vector<std::string>& args) {
  CliProcess process;
  const std::string cli_path = CliPath();
  int out_pipe[2];
  int err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return process;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    close(out_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[0]);
    close(err_pipe[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(cli_path.c_str()));
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(cli_path.c_str(), argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  process.pid = pid;
  process.out_fd = out_pipe[0];
  process.err_fd = err_pipe[0];
  return process;
}

// Read stdout and stderr of `process` until both close, or until `until` returns true for the
// stdout read so far; then (in the first case) reap it.
CliRun Collect(CliProcess& process, CliRun run = {},
               const std::function<bool(const std::string&)>& until = nullptr) {
  pollfd fds[2] = {{process.out_fd, POLLIN, 0}, {process.err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  int open_fds = (process.out_fd >= 0) + (process.err_fd >= 0);
  while (open_fds > 0) {
    if (until && until(run.out)) return run;
    if (poll(fds, 2, 100) < 0) break;
    for (int idx = 0; idx < 2; ++idx) {
      if (fds[idx].fd < 0 || fds[idx].revents == 0) continue;
      char buf[65536];
      const ssize_t n = read(fds[idx].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[idx]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[idx].fd);
        fds[idx].fd = -1;
        --open_fds;
      }
    }
  }
  process.out_fd = process.err_fd = -1;
  int status = 0;
  waitpid(process.pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

CliRun RunCli(const std::vector<std::string>& args) {
  CliProcess process = Spawn(args);
  if (process.pid < 0) return {};
  return Collect(process);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> rows;
  for (const std::string& line : Lines(text)) {
    Json row = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(row.is_discarded()) << line;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Describe(const CliRun& run) {
  return "exit " + std::to_string(run.exit_code) + "\nstdout: " + run.out + "\nstderr: " + run.err;
}

// A failure prints exactly one line "tessera: ..." on stderr, mentioning `needle`.
void ExpectError(const CliRun& run, int exit_code, const std::string& needle) {
  EXPECT_EQ(run.exit_code, exit_code) << Describe(run);
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << Describe(run);
  EXPECT_TRUE(run.err.starts_with("tessera: ")) << Describe(run);
  EXPECT_NE(run.err.find(needle), std::string::npos) << Describe(run);
  EXPECT_EQ(run.out, "") << Describe(run);
}

void WriteFile(const fs::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

// The number of files in directory `dir` of a table, on local disk or the object store.
size_t CountFiles(const std::string& dir) {
  auto fs = io::FileSystemFor(dir, nullptr);
  if (!fs.ok()) return 0;
  auto entries = (*fs)->ListDir(dir);
  return entries.ok() ? entries->size() : 0;
}

class CliMaintenanceTest : public test::BackendTest {
 protected:
  static constexpr int kRowsPerFile = 20;

  void SetUp() override {
    ASSERT_TRUE(fs::exists(CliPath())) << "no tessera binary at " << CliPath();
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    dir_ = root().local_dir();
    table_ = root().Path("table");
  }

  CliRun Ok(const std::vector<std::string>& args) {
    CliRun run = RunCli(args);
    EXPECT_EQ(run.exit_code, 0) << Describe(run);
    EXPECT_EQ(run.err, "") << Describe(run);
    return run;
  }

  // Add `num_files` JSON-lines files of kRowsPerFile rows each: one version and one fragment
  // per file. Ids continue from `next_id_`.
  void AddFiles(int num_files) {
    std::vector<std::string> args = {"add", table_};
    for (int file = 0; file < num_files; ++file) {
      std::string rows;
      for (int row = 0; row < kRowsPerFile; ++row, ++next_id_) {
        const double x = next_id_ % 17;
        const double y = next_id_ % 5;
        rows += "{\"id\": " + std::to_string(next_id_) + ", \"vector\": [" + std::to_string(x) +
                ", " + std::to_string(y) + ", 1, " + std::to_string(next_id_ * 0.01) + "]}\n";
      }
      const fs::path path = dir_ / ("rows" + std::to_string(next_id_) + ".jsonl");
      WriteFile(path, rows);
      args.push_back(path.string());
    }
    Ok(args);
  }

  void CreateWithFiles(int num_files) {
    Ok({"create", table_, "--schema", "id:int64,vector:vector[4]"});
    AddFiles(num_files);
  }

  Json Stats() { return Json::parse(Ok({"stats", table_, "--format", "json"}).out); }

  fs::path dir_;
  std::string table_;
  int64_t next_id_ = 0;
};

TEST_P(CliMaintenanceTest, CompactMergesFragmentsAndKeepsRowIds) {
  CreateWithFiles(12);
  EXPECT_EQ(Stats()["fragments"], 12);
  const std::string count = Ok({"count", table_}).out;
  const std::string scan = Ok({"scan", table_, "--with-row-id", "--select", "id"}).out;
  EXPECT_EQ(count, "240\n");

  const CliRun run = Ok({"compact", table_, "--target-rows", "1000"});
  EXPECT_TRUE(
      run.out.starts_with("compacted 12 fragments into 1 as version 14: 240 rows "
                          "rewritten, 0 deleted rows materialized, "))
      << run.out;
  EXPECT_EQ(Lines(run.out).size(), 1u);
  EXPECT_EQ(Stats()["fragments"], 1);
  EXPECT_EQ(Ok({"count", table_}).out, count);
  EXPECT_EQ(Ok({"scan", table_, "--with-row-id", "--select", "id"}).out, scan);

  EXPECT_EQ(Ok({"compact", table_, "--target-rows", "1000"}).out, "nothing to compact\n");
}

TEST_P(CliMaintenanceTest, AddBackpressureWarnsWhenMaintenanceIsBehind) {
  CreateWithFiles(2);
  const fs::path path = dir_ / "more.jsonl";
  WriteFile(path, "{\"id\": 1000, \"vector\": [1, 2, 3, 4]}\n");
  CliRun run =
      RunCli({"add", table_, path.string(), "--backpressure", "warn", "--max-fragments", "1"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.err, "warning: fragments: 2 > limit 1 (run compaction)\n") << Describe(run);
  EXPECT_EQ(Ok({"count", table_}).out, "41\n");
  Ok({"compact", table_, "--target-rows", "1000"});
  // Compaction brought the table back under the limit: the waiting add goes straight in.
  run = RunCli({"add", table_, path.string(), "--backpressure", "wait", "--max-fragments", "1",
                "--max-wait", "60s"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.err, "") << Describe(run);
  EXPECT_EQ(Ok({"count", table_}).out, "42\n");
}

TEST_P(CliMaintenanceTest, CompactMaterializesDeletedRows) {
  CreateWithFiles(2);
  Ok({"delete", table_, "--where", "id < 10"});
  const CliRun run = Ok({"compact", table_, "--target-rows", "10", "--materialize-threshold", "0.2",
                         "--batch-rows", "7", "--max-rows-per-pass", "1000"});
  EXPECT_NE(run.out.find(" 10 deleted rows materialized"), std::string::npos) << run.out;
  EXPECT_EQ(Stats()["deleted_rows"], 0);
  EXPECT_EQ(Ok({"count", table_}).out, "30\n");
}

TEST_P(CliMaintenanceTest, CleanupRemovesOldVersionsAndFiles) {
  CreateWithFiles(12);
  Ok({"compact", table_, "--target-rows", "1000"});
  const std::string data = table_ + "/data";
  EXPECT_EQ(CountFiles(data), 13u);
  EXPECT_EQ(Lines(Ok({"versions", table_}).out).size(), 15u);  // header + 14

  // The default keeps everything younger than 7 days.
  CliRun run = RunCli({"cleanup", table_});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_TRUE(run.out.starts_with("removed 0 versions and 0 files, 0 bytes freed")) << run.out;

  run = RunCli({"cleanup", table_, "--older-than", "0", "--grace", "0s", "--delete-unverified"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_TRUE(run.out.starts_with("removed 13 versions and ")) << run.out;
  EXPECT_NE(run.out.find(" bytes freed, 0 unreferenced files kept in the grace period"),
            std::string::npos)
      << run.out;
  // Progress on stderr (not a terminal): a line per 10% step, ending at 100%.
  const std::vector<std::string> progress = Lines(run.err);
  ASSERT_FALSE(progress.empty()) << run.err;
  EXPECT_EQ(progress.back(), "cleaning up: 100%");
  for (const std::string& line : progress) EXPECT_TRUE(line.starts_with("cleaning up: ")) << line;

  EXPECT_EQ(Lines(Ok({"versions", table_, "--format", "jsonl"}).out).size(), 1u);
  EXPECT_EQ(CountFiles(data), 1u);
  EXPECT_EQ(Stats()["versions"], 1);
  EXPECT_EQ(Ok({"count", table_}).out, "240\n");
}

TEST_P(CliMaintenanceTest, OptimizeCompactsIndexesAndCleansUp) {
  CreateWithFiles(12);
  CliRun run = RunCli({"index", "create", table_, "--type", "IVF_FLAT", "--num-partitions", "2"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  AddFiles(3);
  EXPECT_EQ(Stats()["unindexed_rows"], 3 * kRowsPerFile);

  run = RunCli(
      {"optimize", table_, "--target-rows", "1000", "--older-than", "0", "--delete-unverified"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 4u) << run.out;
  EXPECT_TRUE(lines[0].starts_with("compaction: compacted 15 fragments into 1 as version "))
      << lines[0];
  EXPECT_EQ(lines[1], "indices: indexed 60 rows as 1 new segment");
  EXPECT_TRUE(lines[2].starts_with("cleanup: removed ")) << lines[2];
  EXPECT_TRUE(lines[3].starts_with("optimize took ")) << lines[3];

  const Json stats = Stats();
  EXPECT_EQ(stats["unindexed_rows"], 0);
  EXPECT_EQ(stats["fragments"], 1);
  EXPECT_EQ(stats["versions"], 1);
  EXPECT_EQ(stats["rows"], 15 * kRowsPerFile);

  // Nothing left to do: every step still reports.
  run = Ok({"optimize", table_, "--target-rows", "1000"});
  EXPECT_TRUE(run.out.starts_with("compaction: nothing to compact\nindices: nothing to index\n"))
      << run.out;
}

TEST_P(CliMaintenanceTest, StatsHealthHistoryAndMetrics) {
  CreateWithFiles(4);
  const Json stats = Stats();
  for (const char* key : {"version", "rows", "deleted_rows", "fragments", "small_fragments",
                          "fragment_rows_p50", "unindexed_rows", "versions", "bytes_on_disk"}) {
    EXPECT_TRUE(stats.contains(key)) << key << " in " << stats.dump();
  }
  EXPECT_EQ(stats["rows"], 4 * kRowsPerFile);
  EXPECT_EQ(stats["fragments"], 4);
  EXPECT_EQ(stats["versions"], 5);
  const std::string table_text = Ok({"stats", table_, "--format", "table"}).out;
  EXPECT_TRUE(table_text.starts_with("stat")) << table_text;
  EXPECT_NE(table_text.find("unindexed_rows"), std::string::npos) << table_text;
  // The interface: --json with these keys, --prometheus, --watch.
  const Json json = Json::parse(Ok({"stats", table_, "--json"}).out);
  for (const char* key : {"rows", "deleted_rows", "fragments", "small_fragments", "unindexed_rows",
                          "index_segments", "versions", "bytes"}) {
    EXPECT_TRUE(json.contains(key)) << key << " in " << json.dump();
  }
  EXPECT_EQ(json["bytes"], json["bytes_on_disk"]);
  const std::string prometheus = Ok({"stats", table_, "--prometheus"}).out;
  EXPECT_NE(prometheus.find("# TYPE tessera_commit_conflicts_total counter"), std::string::npos)
      << prometheus;
  EXPECT_EQ(RunCli({"stats", table_, "--json", "--prometheus"}).exit_code, 1);

  EXPECT_EQ(Ok({"health", table_}).out, "OK\n");
  EXPECT_EQ(Ok({"health", table_, "--max-fragments", "100000", "--max-versions", "100000"}).out,
            "OK\n");
  CliRun run =
      RunCli({"health", table_, "--max-fragments", "1", "--max-small-fragments", "1",
              "--max-unindexed-rows", "1", "--max-deleted-rows", "1", "--max-versions", "1"});
  EXPECT_EQ(run.exit_code, 3) << Describe(run);
  EXPECT_EQ(run.err, "");
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_GE(lines.size(), 4u) << run.out;  // fragments, small fragments, unindexed rows, versions
  EXPECT_EQ(lines[0], "UNHEALTHY");
  for (size_t idx = 1; idx < lines.size(); ++idx) EXPECT_TRUE(lines[idx].starts_with("  "));

  const std::vector<Json> history = JsonLines(Ok({"history", table_, "--format", "jsonl"}).out);
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history[0]["operation"], "create");
  for (size_t idx = 0; idx < history.size(); ++idx) {
    EXPECT_EQ(history[idx]["version"], idx + 1);
    for (const char* key :
         {"timestamp", "operation", "duration_ms", "rows", "fragments", "unindexed_rows"}) {
      EXPECT_TRUE(history[idx].contains(key)) << key;
    }
  }
  EXPECT_EQ(history[4]["operation"], "add");
  EXPECT_EQ(history[4]["rows"], 4 * kRowsPerFile);
  EXPECT_EQ(history[4]["fragments"], 4);
  const std::vector<std::string> history_table = Lines(Ok({"history", table_}).out);
  ASSERT_EQ(history_table.size(), 6u);
  EXPECT_NE(history_table[0].find("duration_ms"), std::string::npos);

  const std::string metrics = Ok({"metrics", table_}).out;
  EXPECT_NE(metrics.find("tessera_fragments{table="), std::string::npos) << metrics;
}

// The Prometheus exposition is checked by Prometheus' own linter (Debian's prometheus package).
TEST_P(CliMaintenanceTest, MetricsPassPromtool) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "promtool (package prometheus) is not installed";
    GTEST_SKIP() << "promtool not installed";
  }
  CreateWithFiles(3);
  Ok({"search", table_, "--vector", "[1, 2, 3, 4]", "--k", "2"});
  const std::string metrics = Ok({"metrics", table_}).out;
  for (const char* name : {"# TYPE tessera_fragments gauge", "tessera_unindexed_rows{",
                           "tessera_versions{", "# HELP "}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name << "\n" << metrics;
  }
  WriteFile(dir_ / "metrics.txt", metrics);
  const std::string command = "promtool check metrics < '" + (dir_ / "metrics.txt").string() +
                              "' > '" + (dir_ / "promtool.txt").string() + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream report(dir_ / "promtool.txt");
  const std::string text((std::istreambuf_iterator<char>(report)),
                         std::istreambuf_iterator<char>());
  EXPECT_EQ(status, 0) << text << "\n" << metrics;
}

TEST_P(CliMaintenanceTest, MaintainOnceAndMaxRuns) {
  CreateWithFiles(6);
  CliRun run = Ok({"maintain", table_, "--once", "--target-rows", "1000", "--older-than", "0",
                   "--delete-unverified"});
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 1u) << run.out;
  EXPECT_TRUE(lines[0].starts_with("run 1 at ")) << lines[0];
  EXPECT_NE(lines[0].find(": fragments 6 -> 1, unindexed rows before 120, optimize "),
            std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[0].find("next run"), std::string::npos) << lines[0];
  EXPECT_EQ(Stats()["fragments"], 1);
  EXPECT_EQ(Stats()["versions"], 1);

  AddFiles(2);
  run = Ok({"maintain", table_, "--max-runs", "2", "--interval", "0s", "--target-rows", "1000"});
  lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 2u) << run.out;
  // The 120-row fragment is larger than the two new ones together: only they are merged
  // (a fragment is rewritten only with at least as many rows as it holds).
  EXPECT_NE(lines[0].find(": fragments 3 -> 2, "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(", next run in 0s"), std::string::npos) << lines[0];
  EXPECT_TRUE(lines[1].starts_with("run 2 at ")) << lines[1];
  EXPECT_NE(lines[1].find(": fragments 2 -> 2, "), std::string::npos) << lines[1];
  EXPECT_EQ(Ok({"count", table_}).out, std::to_string(8 * kRowsPerFile) + "\n");
}

TEST_P(CliMaintenanceTest, OptimizeRunsOneStepWhenAsked) {
  CreateWithFiles(4);
  CliRun run = Ok({"optimize", table_, "--compact-only", "--target-rows", "1000"});
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 2u) << run.out;
  EXPECT_TRUE(lines[0].starts_with("compaction: compacted 4 fragments into 1")) << run.out;
  EXPECT_TRUE(lines[1].starts_with("optimize took ")) << run.out;
  run = Ok({"optimize", table_, "--index-only", "--threads", "1"});
  EXPECT_TRUE(run.out.starts_with("indices: nothing to index\n")) << run.out;
  run = RunCli(
      {"optimize", table_, "--cleanup-only", "--cleanup-older-than", "0", "--delete-unverified"});
  EXPECT_EQ(run.exit_code, 0) << Describe(run);  // (progress lines go to stderr)
  lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 2u) << run.out;
  EXPECT_TRUE(lines[0].starts_with("cleanup: removed 5 versions")) << run.out;
  EXPECT_EQ(Stats()["versions"], 1);
  EXPECT_EQ(RunCli({"optimize", table_, "--compact-only", "--index-only"}).exit_code, 1);
  EXPECT_EQ(
      RunCli({"optimize", table_, "--older-than", "1d", "--cleanup-older-than", "1d"}).exit_code,
      1);
  EXPECT_EQ(Ok({"count", table_}).out, "80\n");
}

TEST_P(CliMaintenanceTest, StatsWatchPrintsUntilSigterm) {
  CreateWithFiles(2);
  CliProcess process = Spawn({"stats", table_, "--json", "--watch", "50ms"});
  ASSERT_GT(process.pid, 0);
  // Two objects, then SIGTERM: a clean exit.
  CliRun run = Collect(process, {}, [](const std::string& out) {
    return std::count(out.begin(), out.end(), '\n') >= 2;
  });
  kill(process.pid, SIGTERM);
  run = Collect(process, run);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(Json::parse(lines[0])["rows"], 2 * kRowsPerFile);
}

// The nice values of the threads of process `pid` (field 19 of /proc/PID/task/TID/stat).
std::vector<int> ThreadNiceness(pid_t pid) {
  std::vector<int> values;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    for (int index = 3; index <= 19 && fields >> field; ++index) {
      if (index == 19) values.push_back(std::stoi(field));
    }
  }
  return values;
}

TEST_P(CliMaintenanceTest, MaintainStopsOnSigterm) {
  CreateWithFiles(3);
  CliProcess process = Spawn({"maintain", table_, "--interval", "1h", "--nice", "7"});
  ASSERT_GT(process.pid, 0);
  // Wait for the first run (it starts at once), so the signal handlers are installed.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  CliRun run = Collect(process, {}, [&](const std::string& out) {
    return out.find('\n') != std::string::npos || Clock::now() > deadline;
  });
  ASSERT_NE(run.out.find("next run in 1h"), std::string::npos) << Describe(run);
  // Only the thread running optimize is niced (by 7 over the process's own priority).
  const std::vector<int> niceness = ThreadNiceness(process.pid);
  const int base = getpriority(PRIO_PROCESS, 0);
  EXPECT_EQ(std::count(niceness.begin(), niceness.end(), std::min(base + 7, 19)), 1)
      << ::testing::PrintToString(niceness);
  EXPECT_GE(std::count(niceness.begin(), niceness.end(), base), 1)
      << ::testing::PrintToString(niceness);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto signalled = Clock::now();
  ASSERT_EQ(kill(process.pid, SIGTERM), 0);
  run = Collect(process, run);
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_LT(Clock::now() - signalled, std::chrono::seconds(5));
  EXPECT_EQ(Lines(run.out).size(), 1u) << run.out;
  EXPECT_EQ(run.err, "");
}

TEST_P(CliMaintenanceTest, BadArgumentsAreUsageErrors) {
  CreateWithFiles(1);
  ExpectError(RunCli({"cleanup", table_, "--older-than", "5x"}), 1, "--older-than");
  ExpectError(RunCli({"cleanup", table_, "--older-than", "10"}), 1, "--older-than");
  ExpectError(RunCli({"cleanup", table_, "--grace", "s"}), 1, "--grace");
  ExpectError(RunCli({"cleanup", table_, "--older-than", "99999999999d"}), 1, "too large");
  ExpectError(RunCli({"cleanup", table_, "--bogus"}), 1, "--bogus");
  ExpectError(RunCli({"compact", table_, "--target-rows", "0"}), 1, "--target-rows");
  ExpectError(RunCli({"compact", table_, "--materialize-threshold", "1.5"}), 1,
              "--materialize-threshold");
  ExpectError(RunCli({"compact", table_, "--frobnicate", "3"}), 1, "--frobnicate");
  ExpectError(RunCli({"optimize", table_, "--grace", "7 days"}), 1, "--grace");
  ExpectError(RunCli({"health", table_, "--max-fragments", "many"}), 1, "--max-fragments");
  ExpectError(RunCli({"stats", table_, "--format", "xml"}), 1, "--format");
  ExpectError(RunCli({"history", table_, "--format", "csv"}), 1, "--format");
  ExpectError(RunCli({"maintain", table_}), 1, "--interval");
  ExpectError(RunCli({"maintain", table_, "--interval", "10q"}), 1, "--interval");
  ExpectError(RunCli({"maintain", table_, "--interval", "1s", "--adaptive"}), 1, "exclude");
  ExpectError(RunCli({"maintain", table_, "--once", "--max-runs", "3"}), 1, "--once");
  ExpectError(RunCli({"maintain", table_, "--interval", "1s", "--target-tail-ms", "3"}), 1,
              "--adaptive");
  ExpectError(RunCli({"maintain", table_, "--adaptive", "--target-tail-ms", "-3"}), 1,
              "--target-tail-ms");
  ExpectError(RunCli({"maintain", table_, "--adaptive", "--tail-budget-ms", "0"}), 1,
              "--tail-budget-ms");
  ExpectError(RunCli({"maintain", table_, "--interval", "1s", "--tail-budget-ms", "3"}), 1,
              "--adaptive");
  ExpectError(
      RunCli({"maintain", table_, "--adaptive", "--tail-budget-ms", "3", "--target-tail-ms", "3"}),
      1, "same flag");
  ExpectError(RunCli({"maintain", table_, "--interval", "1s", "--max-runs", "0"}), 1, "--max-runs");
  ExpectError(RunCli({"maintain", table_, "--once", "--nice", "20"}), 1, "--nice");
  ExpectError(RunCli({"maintain", table_, "--once", "--nice", "-1"}), 1, "--nice");
  ExpectError(RunCli({"maintain", table_, "--once", "--threads", "0"}), 1, "--threads");
  ExpectError(RunCli({"optimize", table_, "--threads", "-2"}), 1, "--threads");
  // A failed operation is exit 2.
  ExpectError(RunCli({"compact", root().Path("missing")}), 2, "");
  ExpectError(RunCli({"maintain", root().Path("missing"), "--once"}), 2, "");
}

TEST_P(CliMaintenanceTest, HelpListsCommandsAndExitCodes) {
  const std::string help = Ok({"--help"}).out;
  for (const char* command :
       {"compact", "cleanup", "optimize", "stats", "health", "history", "metrics", "maintain"}) {
    EXPECT_NE(help.find(std::string("\n  ") + command + " "), std::string::npos) << command;
  }
  EXPECT_NE(help.find("  3  "), std::string::npos) << help;
  const std::string health = Ok({"health", "--help"}).out;
  EXPECT_NE(health.find("3 a limit is passed"), std::string::npos) << health;
  const std::string maintain = Ok({"maintain", "--help"}).out;
  EXPECT_NE(maintain.find("--once"), std::string::npos) << maintain;
  EXPECT_NE(maintain.find("--older-than"), std::string::npos) << maintain;
}

INSTANTIATE_TEST_SUITE_P(Backends, CliMaintenanceTest, test::LocalAndS3(), test::BackendParamName);

}  // namespace
}  // namespace tessera
