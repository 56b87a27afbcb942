// Writers, an optimizer and a reader in separate processes on one table, on local disk and on
// the S3 gateway, where each process is a separate host with its own cache directory (DESIGN.md
// "Commit protocol and concurrency": appends, upserts, compaction, index updates and cleanup
// commute and need no lock). Two appenders add small batches every ~20 ms and log each
// acknowledged add with the row ids it got; an upserter rewrites a small key set, logging each
// acknowledged upsert; the optimizer runs Optimize() (compaction to a small target, index
// update, cleanup of every old version) in a loop; the reader queries all the time. No write
// fails, no acknowledged row is ever missing from a query that starts after its
// acknowledgement, and at the end the rows are exactly the acknowledged ones: appended ids
// with the row ids their add returned (stable through compaction), upserted keys once each
// with their last acknowledged revision; compacted and indexed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tessera/table.h"
#include "testing/backend_test.h"

namespace tessera {
namespace {

constexpr int kDim = 16;
constexpr int32_t kAllPartitions = 1 << 16;  // nprobes: search every partition (exact)
constexpr int64_t kRowsPerAdd = 50;
constexpr int64_t kInitialAdds = 4;  // by the parent, before the index
constexpr int kAppenders = 2;
// Appender a's batches: [kFirstAppendedId + a * kAppenderIdSpan + 50 k, ...).
constexpr int64_t kFirstAppendedId = 1000000;
constexpr int64_t kAppenderIdSpan = 10000000;
// The upserter's keys: [kFirstUpsertKey, kFirstUpsertKey + kUpsertKeys); each upsert writes 5.
constexpr int64_t kFirstUpsertKey = 500000;
constexpr int64_t kUpsertKeys = 40;
constexpr int64_t kKeysPerUpsert = 5;
constexpr auto kAppendFor = std::chrono::milliseconds(3000);
constexpr auto kAppendEvery = std::chrono::milliseconds(20);
constexpr int64_t kTargetRowsPerFragment = 4 * kRowsPerAdd;

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,grp:int32 not null,rev:int64 not null,vector:vector[16]")
      .value();
}

bool IsUpsertKey(int64_t id) { return id >= kFirstUpsertKey && id < kFirstUpsertKey + kUpsertKeys; }

std::vector<float> VectorOf(int64_t id) {
  std::vector<float> v(kDim);
  uint64_t state = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull + 1;
  for (int d = 0; d < kDim; ++d) {
    state ^= state >> 29;
    state *= 0xBF58476D1CE4E5B9ull;
    v[d] = static_cast<float>(state >> 40) / static_cast<float>(1 << 24);
  }
  return v;
}

RecordBatch MakeBatch(int64_t first_id) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first_id; id < first_id + kRowsPerAdd; ++id) {
    Status st =
        builder.AppendRow({Value(id), Value(id % 4), Value(int64_t{0}), Value(VectorOf(id))});
    if (!st.ok()) std::abort();
  }
  return builder.Finish().value();
}

// Upsert number `rev` of the upserter: kKeysPerUpsert keys, each row carrying `rev`.
std::vector<int64_t> UpsertKeys(int64_t rev) {
  std::vector<int64_t> keys;
  for (int64_t k = 0; k < kKeysPerUpsert; ++k) {
    keys.push_back(kFirstUpsertKey + (rev * 7 + k * 3) % kUpsertKeys);
  }
  return keys;
}

RecordBatch MakeUpsert(int64_t rev) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t key : UpsertKeys(rev)) {
    Status st = builder.AppendRow({Value(key), Value(key % 4), Value(rev), Value(VectorOf(key))});
    if (!st.ok()) std::abort();
  }
  return builder.Finish().value();
}

OptimizeOptions TestOptimizeOptions() {
  OptimizeOptions options;
  options.compaction.target_rows_per_fragment = kTargetRowsPerFragment;
  options.cleanup.older_than_seconds = 0;  // every version but the latest goes
  // The default grace period keeps every data file the appender may be about to commit.
  return options;
}

// The acknowledgement logs: one line per acknowledged write, "<first id or rev> <first row id>",
// written with one write after the write returned. Whole lines only (a reader may see a line
// half-written).
std::vector<std::pair<int64_t, int64_t>> ReadAckLines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::pair<int64_t, int64_t>> acks;
  size_t start = 0;
  for (size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    std::istringstream line(text.substr(start, end - start));
    int64_t first = 0, second = 0;
    line >> first >> second;
    acks.emplace_back(first, second);
    start = end + 1;
  }
  return acks;
}

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

// A child's report: "error ..." lines make the parent fail; "key value" lines are statistics.
class Report {
 public:
  explicit Report(const std::string& path) : file_(std::fopen(path.c_str(), "w")) {}
  void Stat(const std::string& key, int64_t value) {
    std::fprintf(file_, "%s %lld\n", key.c_str(), static_cast<long long>(value));
    std::fflush(file_);
  }
  [[noreturn]] void Fail(const std::string& what) {
    std::fprintf(file_, "error %s\n", what.c_str());
    std::fflush(file_);
    _exit(1);
  }

 private:
  FILE* file_;
};

struct Paths {
  std::string root, table, stop;
  std::string Report(const std::string& role) const { return root + "/" + role + ".report"; }
  std::string Acks(int appender) const { return root + "/acks" + std::to_string(appender); }
  std::string UpsertAcks() const { return root + "/upsert_acks"; }
};

// First ids of every acknowledged add, of every appender (initial adds are appender 0's).
std::vector<int64_t> AckedAdds(const Paths& paths) {
  std::vector<int64_t> firsts;
  for (int a = 0; a < kAppenders; ++a) {
    for (const auto& [first, row_id] : ReadAckLines(paths.Acks(a))) firsts.push_back(first);
  }
  return firsts;
}

// Appender a: one add every ~20 ms for a few seconds; each success is acknowledged in its ack
// file with the row ids it got.
[[noreturn]] void AppendLoop(const test::TestRoot& root, const Paths& paths, int a) {
  const std::string role = "appender" + std::to_string(a);
  Report report(paths.Report(role));
  auto table = Table::Open(paths.table, test::HostOptions(root, role));
  if (!table.ok()) report.Fail("open: " + table.status().ToString());
  FILE* acks = std::fopen(paths.Acks(a).c_str(), "a");
  const auto until = std::chrono::steady_clock::now() + kAppendFor;
  int64_t adds = 0, max_add_us = 0;
  for (int64_t first = kFirstAppendedId + a * kAppenderIdSpan;
       std::chrono::steady_clock::now() < until; first += kRowsPerAdd) {
    const auto start = std::chrono::steady_clock::now();
    const auto next = start + kAppendEvery;
    auto added = (*table)->Add(MakeBatch(first));
    max_add_us =
        std::max<int64_t>(max_add_us, std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now() - start)
                                          .count());
    if (!added.ok()) report.Fail("add " + std::to_string(first) + ": " + added.status().ToString());
    std::fprintf(acks, "%lld %llu\n", static_cast<long long>(first),
                 static_cast<unsigned long long>(added->first_row_id));
    std::fflush(acks);
    ++adds;
    std::this_thread::sleep_until(next);
  }
  report.Stat("adds", adds);
  report.Stat("max_add_us", max_add_us);
  _exit(0);
}

// Upserter: upsert revision 1, 2, ... of a few keys every ~20 ms while the appenders run.
[[noreturn]] void UpsertLoop(const test::TestRoot& root, const Paths& paths) {
  Report report(paths.Report("upserter"));
  auto table = Table::Open(paths.table, test::HostOptions(root, "upserter"));
  if (!table.ok()) report.Fail("open: " + table.status().ToString());
  FILE* acks = std::fopen(paths.UpsertAcks().c_str(), "a");
  UpsertOptions on;
  on.on = {"id"};
  const auto until = std::chrono::steady_clock::now() + kAppendFor;
  int64_t rev = 1;
  for (; std::chrono::steady_clock::now() < until; ++rev) {
    const auto next = std::chrono::steady_clock::now() + kAppendEvery;
    auto upserted = (*table)->Upsert(MakeUpsert(rev), on);
    if (!upserted.ok()) {
      report.Fail("upsert " + std::to_string(rev) + ": " + upserted.status().ToString());
    }
    if (upserted->rows_inserted + upserted->rows_updated != kKeysPerUpsert) {
      report.Fail("upsert " + std::to_string(rev) + " wrote " +
                  std::to_string(upserted->rows_inserted + upserted->rows_updated) + " rows");
    }
    std::fprintf(acks, "%lld 0\n", static_cast<long long>(rev));
    std::fflush(acks);
    std::this_thread::sleep_until(next);
  }
  report.Stat("upserts", rev - 1);
  _exit(0);
}

// Optimizer: Optimize() until told to stop; every step of every run must succeed.
[[noreturn]] void OptimizeLoop(const test::TestRoot& root, const Paths& paths) {
  Report report(paths.Report("optimizer"));
  auto table = Table::Open(paths.table, test::HostOptions(root, "optimizer"));
  if (!table.ok()) report.Fail("open: " + table.status().ToString());
  int64_t runs = 0, fragments_removed = 0, rows_indexed = 0, versions_removed = 0;
  // Told to stop (the writers are done), it runs once more: that run starts after the last
  // write, so on a fresh version it leaves everything compacted and indexed.
  for (bool last = false; !last;) {
    last = Exists(paths.stop);
    const OptimizeResult result = (*table)->Optimize(TestOptimizeOptions());
    if (!result.compaction_status.ok()) report.Fail(result.compaction_status.ToString());
    if (!result.indices_status.ok()) report.Fail(result.indices_status.ToString());
    if (!result.cleanup_status.ok()) report.Fail(result.cleanup_status.ToString());
    ++runs;
    fragments_removed += result.compaction.fragments_removed;
    rows_indexed += result.rows_indexed;
    versions_removed += result.cleanup.versions_removed;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  report.Stat("runs", runs);
  report.Stat("fragments_removed", fragments_removed);
  report.Stat("rows_indexed", rows_indexed);
  report.Stat("versions_removed", versions_removed);
  _exit(0);
}

// Reader: before each query, read the acknowledged adds; the query must then see every one of
// them (whole, once), both by a full scan and by a filtered vector search.
[[noreturn]] void QueryLoop(const test::TestRoot& root, const Paths& paths) {
  Report report(paths.Report("reader"));
  auto opened = Table::Open(paths.table, test::HostOptions(root, "reader"));
  if (!opened.ok()) report.Fail("open: " + opened.status().ToString());
  Table* table = opened->get();
  std::mt19937 rng(7);
  int64_t queries = 0, max_acked = -1;
  while (!Exists(paths.stop)) {
    const std::vector<int64_t> acks = AckedAdds(paths);
    const std::set<int64_t> acked(acks.begin(), acks.end());
    if (!acks.empty()) max_acked = std::max(max_acked, *acked.rbegin());
    const std::string when =
        "query " + std::to_string(queries) + " (after " + std::to_string(acks.size()) + " acks): ";

    ScanOptions scan;
    scan.columns = {"id"};
    scan.with_row_id = true;
    auto batch = table->Scan(scan);
    if (!batch.ok()) report.Fail(when + "scan: " + batch.status().ToString());
    std::map<int64_t, int64_t> rows_of_add;  // first id -> rows seen
    std::set<int64_t> ids, row_ids;
    for (int64_t row = 0; row < batch->num_rows(); ++row) {
      const int64_t id = batch->column(0).Int64(row);
      if (!ids.insert(id).second) report.Fail(when + "id " + std::to_string(id) + " twice");
      if (!row_ids.insert(batch->column(1).Int64(row)).second) report.Fail(when + "row id twice");
      if (!IsUpsertKey(id)) ++rows_of_add[id - (id % kRowsPerAdd)];
    }
    for (const auto& [first, rows] : rows_of_add) {
      if (rows != kRowsPerAdd) report.Fail(when + "partial add " + std::to_string(first));
    }
    for (int64_t first : acked) {
      if (!rows_of_add.count(first)) {
        report.Fail(when + "acknowledged add " + std::to_string(first) + " not visible (scan of " +
                    std::to_string(batch->num_rows()) + " rows)");
      }
    }
    auto count = table->CountRows();
    if (!count.ok()) report.Fail(when + "count: " + count.status().ToString());
    if (*count < static_cast<int64_t>(acked.size()) * kRowsPerAdd) {
      report.Fail(when + "count " + std::to_string(*count) + " below the acknowledged rows");
    }

    // A vector search restricted to one acknowledged add returns all of its rows, the probe row
    // first; and a search restricted to a group sees it too.
    if (!acks.empty()) {
      const int64_t first = acks[rng() % acks.size()];
      const int64_t probe = first + static_cast<int64_t>(rng() % kRowsPerAdd);
      auto found = table->Search(VectorOf(probe))
                       .Where("id >= " + std::to_string(first) + " AND id < " +
                              std::to_string(first + kRowsPerAdd))
                       .Limit(kRowsPerAdd + 10)
                       .Nprobes(kAllPartitions)
                       .Select({"id"})
                       .Execute();
      if (!found.ok()) report.Fail(when + "search: " + found.status().ToString());
      if (found->num_rows() != kRowsPerAdd || found->column(0).Int64(0) != probe) {
        report.Fail(when + "search of add " + std::to_string(first) + " returned " +
                    std::to_string(found->num_rows()) + " rows");
      }
      auto grouped = table->Search(VectorOf(probe))
                         .Where("grp = " + std::to_string(probe % 4))
                         .Limit(3)
                         .Nprobes(kAllPartitions)
                         .Select({"id"})
                         .Execute();
      if (!grouped.ok()) report.Fail(when + "group search: " + grouped.status().ToString());
      if (grouped->num_rows() != 3 || grouped->column(0).Int64(0) != probe) {
        report.Fail(when + "group search for " + std::to_string(probe) + " missed it");
      }
    }
    ++queries;
  }
  report.Stat("queries", queries);
  report.Stat("max_acked", max_acked);
  _exit(0);
}

// Parse a child's report; return its statistics and add its errors to `errors`.
std::map<std::string, int64_t> ReadReport(const std::string& path,
                                          std::vector<std::string>* errors) {
  std::map<std::string, int64_t> stats;
  std::ifstream in(path);
  std::string key;
  while (in >> key) {
    std::string rest;
    std::getline(in, rest);
    if (key == "error") {
      errors->push_back(path + ":" + rest);
    } else {
      stats[key] = std::stoll(rest);
    }
  }
  return stats;
}

class OptimizeConcurrencyTest : public test::BackendTest {};

TEST_P(OptimizeConcurrencyTest, WritersOptimizerAndReaderProcessesNeverLoseOrDoubleARow) {
  Paths paths;
  paths.root = root().local_dir();
  paths.table = root().Path("table");
  paths.stop = paths.root + "/stop";
  {
    auto table = Table::Create(paths.table, TestSchema()).value();
    std::ofstream acks(paths.Acks(0));
    for (int64_t add = 0; add < kInitialAdds; ++add) {
      const AddResult added = table->Add(MakeBatch(add * kRowsPerAdd)).value();
      acks << add * kRowsPerAdd << " " << added.first_row_id << "\n";
    }
    IndexConfig config;
    config.type = "IVF_FLAT";
    config.num_partitions = 4;
    ASSERT_TRUE(table->CreateIndex("vector", config).ok());
    // Upserts match through the key index, whose tail the optimizer indexes meanwhile.
    IndexConfig key_index;
    key_index.type = "BTREE";
    ASSERT_TRUE(table->CreateIndex("id", key_index).ok());
  }

  std::vector<std::string> writers;
  for (int a = 0; a < kAppenders; ++a) writers.push_back("appender" + std::to_string(a));
  writers.push_back("upserter");
  std::map<std::string, pid_t> children;
  for (const std::string& role : writers) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (role == "upserter") UpsertLoop(root(), paths);
      AppendLoop(root(), paths, role.back() - '0');
    }
    children[role] = pid;
  }
  for (const std::string role : {"optimizer", "reader"}) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (role == "optimizer") OptimizeLoop(root(), paths);
      QueryLoop(root(), paths);
    }
    children[role] = pid;
  }
  std::map<std::string, int> statuses;
  auto wait = [&](const std::string& role) {
    int wstatus = 0;
    waitpid(children[role], &wstatus, 0);
    statuses[role] = wstatus;
  };
  for (const std::string& role : writers) wait(role);
  std::ofstream(paths.stop) << "stop\n";
  wait("optimizer");
  wait("reader");

  std::vector<std::string> errors;
  std::map<std::string, std::map<std::string, int64_t>> reports;
  for (const auto& [role, pid] : children) {
    reports[role] = ReadReport(paths.Report(role), &errors);
  }
  for (const std::string& error : errors) ADD_FAILURE() << error;
  for (const auto& [role, wstatus] : statuses) {
    EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
        << role << " exited with status " << wstatus;
  }
  auto stat = [&](const std::string& role, const std::string& key) -> int64_t {
    return reports[role].count(key) ? reports[role].at(key) : 0;
  };
  std::printf(
      "slowest add %lld / %lld us\n%s: appenders %lld + %lld adds, upserter %lld upserts; "
      "optimizer: %lld runs, %lld "
      "fragments removed, %lld rows indexed, %lld versions removed; reader: %lld queries\n",
      static_cast<long long>(stat("appender0", "max_add_us")),
      static_cast<long long>(stat("appender1", "max_add_us")),
      test::BackendName(GetParam()).c_str(), static_cast<long long>(stat("appender0", "adds")),
      static_cast<long long>(stat("appender1", "adds")),
      static_cast<long long>(stat("upserter", "upserts")),
      static_cast<long long>(stat("optimizer", "runs")),
      static_cast<long long>(stat("optimizer", "fragments_removed")),
      static_cast<long long>(stat("optimizer", "rows_indexed")),
      static_cast<long long>(stat("optimizer", "versions_removed")),
      static_cast<long long>(stat("reader", "queries")));
  if (!errors.empty()) return;
  EXPECT_GT(stat("optimizer", "fragments_removed"), 0) << "compaction never merged anything";
  EXPECT_GT(stat("optimizer", "rows_indexed"), 0) << "the index was never updated";
  EXPECT_GT(stat("optimizer", "versions_removed"), 0) << "cleanup never removed a version";
  EXPECT_GT(stat("reader", "queries"), 10);
  // Upserts are slower than adds (a key lookup, and a check of every fragment committed since
  // their base against their keys): on the gateway under this load only a few land.
  EXPECT_GE(stat("upserter", "upserts"), 1);

  // What was acknowledged: each appended id with the row id its add returned; each upserted
  // key with its last acknowledged revision.
  std::map<int64_t, int64_t> expected_row_id;  // appended id -> row id
  int64_t acked_adds = 0;
  for (int a = 0; a < kAppenders; ++a) {
    const auto acks = ReadAckLines(paths.Acks(a));
    acked_adds += static_cast<int64_t>(acks.size());
    for (const auto& [first, first_row_id] : acks) {
      for (int64_t k = 0; k < kRowsPerAdd; ++k) expected_row_id[first + k] = first_row_id + k;
    }
  }
  ASSERT_EQ(acked_adds, kInitialAdds + stat("appender0", "adds") + stat("appender1", "adds"));
  std::map<int64_t, int64_t> expected_rev;  // upserted key -> last acknowledged revision
  const auto upsert_acks = ReadAckLines(paths.UpsertAcks());
  ASSERT_EQ(static_cast<int64_t>(upsert_acks.size()), stat("upserter", "upserts"));
  for (const auto& [rev, unused] : upsert_acks) {
    for (int64_t key : UpsertKeys(rev)) expected_rev[key] = rev;
  }

  auto table = Table::Open(paths.table).value();
  auto check_rows = [&](const std::string& when) {
    SCOPED_TRACE(when);
    ScanOptions scan;
    scan.columns = {"id", "rev"};
    scan.with_row_id = true;
    RecordBatch batch = table->Scan(scan).value();
    std::map<int64_t, int> seen;
    std::set<int64_t> row_ids;
    int64_t wrong_row_id = 0, wrong_rev = 0, unexpected = 0;
    for (int64_t row = 0; row < batch.num_rows(); ++row) {
      const int64_t id = batch.column(0).Int64(row);
      const int64_t row_id = batch.column(2).Int64(row);
      ++seen[id];
      EXPECT_TRUE(row_ids.insert(row_id).second) << "row id twice";
      if (IsUpsertKey(id)) {
        if (!expected_rev.count(id)) {
          ++unexpected;
        } else if (batch.column(1).Int64(row) != expected_rev.at(id)) {
          ++wrong_rev;
        }
      } else if (!expected_row_id.count(id)) {
        ++unexpected;
      } else if (expected_row_id.at(id) != row_id) {
        ++wrong_row_id;
      }
    }
    int64_t missing = 0, doubled = 0;
    for (const auto& [id, row_id] : expected_row_id) missing += seen.count(id) ? 0 : 1;
    for (const auto& [key, rev] : expected_rev) missing += seen.count(key) ? 0 : 1;
    for (const auto& [id, count] : seen) doubled += count > 1 ? 1 : 0;
    EXPECT_EQ(missing, 0) << "acknowledged ids or keys missing";
    EXPECT_EQ(doubled, 0) << "ids or keys present twice";
    EXPECT_EQ(unexpected, 0) << "ids or keys never acknowledged";
    EXPECT_EQ(wrong_row_id, 0) << "appended rows whose row id is not the one their add returned";
    EXPECT_EQ(wrong_rev, 0) << "upserted keys not at their last acknowledged revision";
    EXPECT_EQ(table->CountRows().value(),
              static_cast<int64_t>(expected_row_id.size() + expected_rev.size()));
  };
  check_rows("after the concurrent phase");
  // The optimizer's last run started after the last write: if it worked on the latest version
  // (not a stale one), nothing is left unindexed and the fragments are compacted.
  const int64_t total_rows = static_cast<int64_t>(expected_row_id.size() + expected_rev.size());
  const TableStats concurrent = table->Stats().value();
  EXPECT_EQ(concurrent.num_unindexed_rows, 0)
      << "the optimizer worked on a stale version: " << concurrent.ToJson();
  // Adjacent fragments below the target never sum to <= target, so on average they hold more
  // than half of it.
  EXPECT_LE(concurrent.num_fragments, total_rows / (kTargetRowsPerFragment / 2) + 1)
      << "the optimizer worked on a stale version: " << concurrent.ToJson();

  // A final Optimize with nobody else around leaves the table compacted and fully indexed.
  const OptimizeResult result = table->Optimize(TestOptimizeOptions());
  ASSERT_TRUE(result.ok()) << result.compaction_status << result.indices_status
                           << result.cleanup_status;
  check_rows("after the final optimize");
  const TableStats stats = table->Stats().value();
  EXPECT_EQ(stats.num_rows, total_rows);
  EXPECT_EQ(stats.num_unindexed_rows, 0);
  EXPECT_EQ(table->IndexStats("vector_idx").value().num_unindexed_rows, 0);
  EXPECT_LE(stats.num_fragments, total_rows / (kTargetRowsPerFragment / 2) + 1) << stats.ToJson();
  EXPECT_EQ(stats.fragment_rows_max, kTargetRowsPerFragment);
  EXPECT_EQ(stats.num_versions, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, OptimizeConcurrencyTest, test::LocalAndS3(),
                         test::BackendParamName);

}  // namespace
}  // namespace tessera
