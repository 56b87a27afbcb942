// A child process appending in a loop is killed with SIGKILL at random moments, many times.
// After each kill the table opens, every add that returned success is present exactly once,
// and nothing half-written is visible. On local disk and on the S3 gateway (there the child is
// another host with its own cache, killed mid-request).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "tessera/table.h"
#include "testing/backend_test.h"

namespace tessera {
namespace {

constexpr int64_t kRowsPerAdd = 25;

Schema TestSchema() { return Schema::Parse("id:int64 not null,vector:vector[16]").value(); }

RecordBatch MakeBatch(int64_t first_id) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first_id; id < first_id + kRowsPerAdd; ++id) {
    EXPECT_TRUE(
        builder.AppendRow({Value(id), Value(std::vector<float>(16, static_cast<float>(id)))}).ok());
  }
  return builder.Finish().value();
}

// Child: append forever; after each successful add, record its first id in the ack log.
[[noreturn]] void AppendLoop(const test::TestRoot& root, const std::string& dir,
                             const std::string& ack_path, int64_t first) {
  auto table = Table::Open(dir, test::HostOptions(root, "appender"));
  if (!table.ok()) _exit(3);
  FILE* ack = std::fopen(ack_path.c_str(), "a");
  for (int64_t next = first;; next += kRowsPerAdd) {
    if (!(*table)->Add(MakeBatch(next)).ok()) _exit(4);
    std::fprintf(ack, "%lld\n", static_cast<long long>(next));
    std::fflush(ack);  // the kernel keeps it across SIGKILL
  }
}

class Kill9Test : public test::BackendTest {};

TEST_P(Kill9Test, AcknowledgedAddsSurviveRandomKills) {
  const std::string dir = root().Path("table");
  const std::string ack_path = root().local_dir() + "/acks";
  ASSERT_TRUE(Table::Create(dir, TestSchema()).ok());
  // An add on the gateway takes several times longer than on local disk: kill later there.
  const int window_ms = GetParam() == test::Backend::kS3 ? 250 : 60;
  std::mt19937 rng(1234);
  int64_t next_first = 0;
  constexpr int kRounds = 25;
  for (int round = 0; round < kRounds; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) AppendLoop(root(), dir, ack_path, next_first);
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % window_ms));
    kill(child, SIGKILL);
    int wstatus = 0;
    waitpid(child, &wstatus, 0);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited on its own with " << WEXITSTATUS(wstatus);
    next_first += 1000000;

    auto table = Table::Open(dir);
    ASSERT_TRUE(table.ok()) << "round " << round << ": " << table.status();
    ScanOptions options;
    options.columns = {"id"};
    auto batch = (*table)->Scan(options);
    ASSERT_TRUE(batch.ok()) << batch.status();
    std::map<int64_t, int> seen;
    for (int64_t row = 0; row < batch->num_rows(); ++row) ++seen[batch->column(0).Int64(row)];
    for (const auto& [id, count] : seen) ASSERT_EQ(count, 1) << "id " << id << " duplicated";
    // Every add is whole: ids come in complete runs of kRowsPerAdd.
    for (const auto& [id, count] : seen) {
      const int64_t first = id - (id % 1000000) + ((id % 1000000) / kRowsPerAdd) * kRowsPerAdd;
      ASSERT_TRUE(seen.count(first)) << "partial add visible at id " << id;
    }
    std::ifstream acks(ack_path);
    long long first = 0;
    int64_t acked = 0;
    while (acks >> first) {
      ++acked;
      for (int64_t id = first; id < first + kRowsPerAdd; ++id) {
        ASSERT_EQ(seen.count(id), 1u) << "acknowledged id " << id << " lost in round " << round;
      }
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()) % kRowsPerAdd, 0);
    EXPECT_GE(static_cast<int64_t>(seen.size()), acked * kRowsPerAdd);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Kill9Test, test::LocalAndS3(), test::BackendParamName);

}  // namespace
}  // namespace tessera
