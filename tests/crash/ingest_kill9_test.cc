// `tessera ingest --watch` is killed with SIGKILL at random moments, many times, while a
// producer keeps dropping files; each time it is restarted. At the end every file's rows are in
// the table exactly once: none skipped, none doubled, nothing of a file half-ingested.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tessera/table.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

constexpr int kFiles = 80;
constexpr int kRowsPerFile = 20;

std::string CliPath() {
  if (const char* cli = std::getenv("TESSERA_CLI")) return cli;
  return TESSERA_CLI;
}

pid_t SpawnIngest(const std::vector<std::string>& args, const std::string& log) {
  const std::string cli = CliPath();
  std::vector<char*> argv = {const_cast<char*>(cli.c_str())};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::fopen(log.c_str(), "a");
    if (out != nullptr) {
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
    }
    execv(cli.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

TEST(IngestKill9Test, EveryFileExactlyOnceAcrossRandomKills) {
  ASSERT_TRUE(fs::exists(CliPath())) << CliPath();
  const fs::path root =
      fs::path(::testing::TempDir()) / ("tessera_ingest_kill9_" + std::to_string(getpid()));
  fs::remove_all(root);
  const fs::path watch = root / "in";
  fs::create_directories(watch);
  const std::string table_dir = (root / "table").string();
  ASSERT_TRUE(
      Table::Create(table_dir, Schema::Parse("id:int64 not null,vector:vector[4]").value()).ok());

  // Producer: files written under a dot-name and renamed when complete.
  std::atomic<bool> produced{false};
  std::thread producer([&] {
    for (int file = 0; file < kFiles; ++file) {
      std::string rows;
      for (int r = 0; r < kRowsPerFile; ++r) {
        const int id = file * kRowsPerFile + r;
        rows += "{\"id\": " + std::to_string(id) + ", \"vector\": [1, 2, 3, " + std::to_string(id) +
                "]}\n";
      }
      char name[32];
      std::snprintf(name, sizeof(name), "f%04d.jsonl", file);
      const fs::path temp = watch / (std::string(".") + name);
      std::ofstream(temp) << rows;
      fs::rename(temp, watch / name);
      std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
    produced = true;
  });

  const std::string log = (root / "ingest.log").string();
  const std::vector<std::string> args = {
      "ingest", table_dir,     "--watch", watch.string(),         "--trigger",
      "50ms",   "--stream-id", "k",       "--max-rows-per-batch", "60"};
  std::mt19937 rng(20261128);
  int kills = 0;
  while (!produced.load() || kills < 20) {
    const pid_t pid = SpawnIngest(args, log);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 400));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "ingest exited on its own; log: " << log;
    ++kills;
  }
  producer.join();
  // A last run takes whatever is left.
  std::vector<std::string> once = args;
  once.push_back("--once");
  const pid_t pid = SpawnIngest(once, log);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "see " << log;

  auto table = Table::Open(table_dir).value();
  ScanOptions scan;
  scan.columns = {"id"};
  std::map<int64_t, int> counts;
  ASSERT_TRUE(table
                  ->ScanBatches(scan,
                                [&](const RecordBatch& batch) {
                                  for (int64_t r = 0; r < batch.num_rows(); ++r)
                                    ++counts[batch.column(0).Int64(r)];
                                  return Status::OK();
                                })
                  .ok());
  EXPECT_EQ(counts.size(), static_cast<size_t>(kFiles * kRowsPerFile)) << kills << " kills";
  for (int64_t id = 0; id < kFiles * kRowsPerFile; ++id) {
    ASSERT_EQ(counts[id], 1) << "id " << id << " after " << kills << " kills; log: " << log;
  }
  EXPECT_FALSE(fs::exists(watch / "_quarantine"));
  int recovered = 0;
  {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      recovered += line.find("planned before a restart") != std::string::npos;
    }
  }
  std::printf("%d kills, %d batches recovered from their plan; %lld versions; checkpoint %lld\n",
              kills, recovered, static_cast<long long>(table->version().value()),
              static_cast<long long>(table->StreamCheckpoint("k").value()));
  fs::remove_all(root);
}

}  // namespace
}  // namespace tessera
