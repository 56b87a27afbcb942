// Several processes upsert overlapping sets of new and existing keys into one table at the same
// time (the case where LanceDB's merge_insert can insert a new key twice), while another
// process reads. Every version a reader sees holds each key at most once, and the table ends
// with exactly one row per key, holding a value one of the writers wrote. On local disk and on
// the S3 gateway (each process a separate host with its own cache).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>

#include "tessera/table.h"
#include "testing/backend_test.h"

namespace tessera {
namespace {

constexpr int kWriters = 4;
constexpr int kRounds = 25;
constexpr int64_t kKeys = 60;

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,vector:vector[2],writer:utf8").value();
}

// Child: upsert random key sets; exit 0 when every upsert succeeded.
[[noreturn]] void Writer(const test::TestRoot& root, const std::string& dir, int writer) {
  auto table = Table::Open(dir, test::HostOptions(root, "writer" + std::to_string(writer)));
  if (!table.ok()) _exit(3);
  std::mt19937 rng(writer * 7919 + 1);
  UpsertOptions on;
  on.on = {"id"};
  for (int round = 0; round < kRounds; ++round) {
    std::set<int64_t> keys;
    while (keys.size() < 10) keys.insert(static_cast<int64_t>(rng() % kKeys));
    RecordBatchBuilder builder(TestSchema());
    for (int64_t key : keys) {
      if (!builder
               .AppendRow({Value(key), Value(std::vector<float>{static_cast<float>(key), 0}),
                           Value("w" + std::to_string(writer))})
               .ok()) {
        _exit(4);
      }
    }
    auto result = (*table)->Upsert(builder.Finish().value(), on);
    if (!result.ok()) {
      std::fprintf(stderr, "writer %d: %s\n", writer, result.status().ToString().c_str());
      _exit(5);
    }
  }
  _exit(0);
}

// Child: read until the writers are done (signalled by a file); exit 0 if no version it saw
// held a key twice.
[[noreturn]] void Reader(const test::TestRoot& root, const std::string& dir,
                         const std::string& done_file) {
  auto table = Table::Open(dir, test::HostOptions(root, "reader"));
  if (!table.ok()) _exit(3);
  ScanOptions scan;
  scan.columns = {"id"};
  int reads = 0;
  while (!std::filesystem::exists(done_file) || reads < 3) {
    auto rows = (*table)->Scan(scan);
    if (!rows.ok()) _exit(4);
    std::set<int64_t> seen;
    for (int64_t r = 0; r < rows->num_rows(); ++r) {
      if (!seen.insert(rows->column(0).Int64(r)).second) {
        std::fprintf(stderr, "reader: key %lld twice\n",
                     static_cast<long long>(rows->column(0).Int64(r)));
        _exit(6);
      }
    }
    ++reads;
  }
  _exit(0);
}

class UpsertConcurrencyTest : public test::BackendTest {};

TEST_P(UpsertConcurrencyTest, ProcessesUpsertingTheSameKeysEndWithOneRowPerKey) {
  const std::string dir = root().Path("table");
  const std::string done_file = root().local_dir() + "/writers_done";
  {
    // Half the keys exist before, half are new to every writer.
    RecordBatchBuilder builder(TestSchema());
    for (int64_t key = 0; key < kKeys / 2; ++key) {
      ASSERT_TRUE(
          builder.AppendRow({Value(key), Value(std::vector<float>{0, 0}), Value("initial")}).ok());
    }
    ASSERT_TRUE(Table::Create(dir, builder.Finish().value()).ok());
  }
  std::vector<pid_t> writers;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = fork();
    if (pid == 0) Writer(root(), dir, w);
    writers.push_back(pid);
  }
  const pid_t reader = fork();
  if (reader == 0) Reader(root(), dir, done_file);
  for (pid_t pid : writers) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status;
  }
  { std::ofstream(done_file) << "done"; }
  int status = 0;
  waitpid(reader, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader status " << status;

  auto table = Table::Open(dir).value();
  RecordBatch rows = table->Scan().value();
  std::map<int64_t, std::string> by_key;
  for (int64_t r = 0; r < rows.num_rows(); ++r) {
    EXPECT_TRUE(
        by_key.emplace(rows.column(0).Int64(r), std::string(rows.column(2).String(r))).second)
        << "key " << rows.column(0).Int64(r) << " twice";
  }
  EXPECT_LE(by_key.size(), static_cast<size_t>(kKeys));
  EXPECT_GE(by_key.size(), static_cast<size_t>(kKeys / 2));
  for (const auto& [key, writer] : by_key) {
    EXPECT_TRUE(writer == "initial" || (writer.size() == 2 && writer[0] == 'w')) << writer;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, UpsertConcurrencyTest, test::LocalAndS3(),
                         test::BackendParamName);

}  // namespace
}  // namespace tessera
