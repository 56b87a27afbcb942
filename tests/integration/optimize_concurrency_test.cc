// A streaming writer, an optimizer and a reader in three processes on one local table
// (DESIGN.md "Commit protocol and concurrency": appends, compaction, index updates and cleanup
// commute and need no lock). The writer appends small batches every ~20 ms; the optimizer runs
// Optimize() (compaction to a small target, index update, cleanup of every old version) in a
// loop; the reader queries all the time. No add fails, no acknowledged row is ever missing from
// a query that starts after its acknowledgement, and at the end every acknowledged row is there
// exactly once, compacted and indexed.
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

namespace tessera {
namespace {

constexpr int kDim = 16;
constexpr int32_t kAllPartitions = 1 << 16;  // nprobes: search every partition (exact)
constexpr int64_t kRowsPerAdd = 50;
constexpr int64_t kInitialAdds = 4;            // by the parent, before the index
constexpr int64_t kFirstAppendedId = 1000000;  // appended batches: [kFirstAppendedId + 50 k, ...)
constexpr auto kAppendFor = std::chrono::milliseconds(3000);
constexpr auto kAppendEvery = std::chrono::milliseconds(20);
constexpr int64_t kTargetRowsPerFragment = 4 * kRowsPerAdd;

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,grp:int32 not null,vector:vector[16]").value();
}

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
    Status st = builder.AppendRow({Value(id), Value(id % 4), Value(VectorOf(id))});
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

// First ids of the acknowledged adds: whole lines of the ack file only (a line is written with
// one write after its add returned; a reader may see the file mid-line).
std::vector<int64_t> ReadAcks(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<int64_t> acks;
  size_t start = 0;
  for (size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    acks.push_back(std::stoll(text.substr(start, end - start)));
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
  std::string root, table, acks, stop;
  std::string Report(const std::string& role) const { return root + "/" + role + ".report"; }
};

// Appender: one add every ~20 ms for a few seconds; each success is acknowledged in the ack file.
[[noreturn]] void AppendLoop(const Paths& paths) {
  Report report(paths.Report("appender"));
  auto table = Table::Open(paths.table);
  if (!table.ok()) report.Fail("open: " + table.status().ToString());
  FILE* acks = std::fopen(paths.acks.c_str(), "a");
  const auto until = std::chrono::steady_clock::now() + kAppendFor;
  int64_t adds = 0;
  for (int64_t first = kFirstAppendedId; std::chrono::steady_clock::now() < until;
       first += kRowsPerAdd) {
    const auto next = std::chrono::steady_clock::now() + kAppendEvery;
    auto added = (*table)->Add(MakeBatch(first));
    if (!added.ok()) report.Fail("add " + std::to_string(first) + ": " + added.status().ToString());
    std::fprintf(acks, "%lld\n", static_cast<long long>(first));
    std::fflush(acks);
    ++adds;
    std::this_thread::sleep_until(next);
  }
  report.Stat("adds", adds);
  _exit(0);
}

// Optimizer: Optimize() until told to stop; every step of every run must succeed.
[[noreturn]] void OptimizeLoop(const Paths& paths) {
  Report report(paths.Report("optimizer"));
  auto table = Table::Open(paths.table);
  if (!table.ok()) report.Fail("open: " + table.status().ToString());
  int64_t runs = 0, fragments_removed = 0, rows_indexed = 0, versions_removed = 0;
  while (!Exists(paths.stop)) {
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
[[noreturn]] void QueryLoop(const Paths& paths) {
  Report report(paths.Report("reader"));
  auto opened = Table::Open(paths.table);
  if (!opened.ok()) report.Fail("open: " + opened.status().ToString());
  Table* table = opened->get();
  std::mt19937 rng(7);
  int64_t queries = 0, max_acked = -1;
  while (!Exists(paths.stop)) {
    const std::vector<int64_t> acks = ReadAcks(paths.acks);
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
      ++rows_of_add[id - (id % kRowsPerAdd)];
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

// Removes a test's temporary directory when the test ends, however it ends.
struct RemoveOnExit {
  ~RemoveOnExit() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(OptimizeConcurrencyTest, WriterOptimizerAndReaderProcessesNeverLoseOrDoubleARow) {
  Paths paths;
  paths.root = ::testing::TempDir() + "tessera_optconc_" + std::to_string(getpid());
  paths.table = paths.root + "/table";
  paths.acks = paths.root + "/acks";
  paths.stop = paths.root + "/stop";
  std::filesystem::remove_all(paths.root);
  std::filesystem::create_directories(paths.root);
  const RemoveOnExit remove_on_exit{paths.root};
  {
    auto table = Table::Create(paths.table, TestSchema()).value();
    std::ofstream acks(paths.acks);
    for (int64_t add = 0; add < kInitialAdds; ++add) {
      ASSERT_TRUE(table->Add(MakeBatch(add * kRowsPerAdd)).ok());
      acks << add * kRowsPerAdd << "\n";
    }
    IndexConfig config;
    config.type = "IVF_FLAT";
    config.num_partitions = 4;
    ASSERT_TRUE(table->CreateIndex("vector", config).ok());
  }

  std::map<std::string, pid_t> children;
  for (const std::string& role : std::vector<std::string>{"appender", "optimizer", "reader"}) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (role == "appender") AppendLoop(paths);
      if (role == "optimizer") OptimizeLoop(paths);
      QueryLoop(paths);
    }
    children[role] = pid;
  }
  auto wait = [](pid_t pid) {
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    return wstatus;
  };
  const int appender_status = wait(children["appender"]);
  std::ofstream(paths.stop) << "stop\n";
  const int optimizer_status = wait(children["optimizer"]);
  const int reader_status = wait(children["reader"]);

  std::vector<std::string> errors;
  const auto appender = ReadReport(paths.Report("appender"), &errors);
  const auto optimizer = ReadReport(paths.Report("optimizer"), &errors);
  const auto reader = ReadReport(paths.Report("reader"), &errors);
  for (const std::string& error : errors) ADD_FAILURE() << error;
  for (const auto& [role, wstatus] : std::map<std::string, int>{{"appender", appender_status},
                                                                {"optimizer", optimizer_status},
                                                                {"reader", reader_status}}) {
    EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
        << role << " exited with status " << wstatus;
  }
  std::printf(
      "appender: %lld adds; optimizer: %lld runs, %lld fragments removed, %lld rows "
      "indexed, %lld versions removed; reader: %lld queries\n",
      static_cast<long long>(appender.count("adds") ? appender.at("adds") : 0),
      static_cast<long long>(optimizer.count("runs") ? optimizer.at("runs") : 0),
      static_cast<long long>(
          optimizer.count("fragments_removed") ? optimizer.at("fragments_removed") : 0),
      static_cast<long long>(optimizer.count("rows_indexed") ? optimizer.at("rows_indexed") : 0),
      static_cast<long long>(optimizer.count("versions_removed") ? optimizer.at("versions_removed")
                                                                 : 0),
      static_cast<long long>(reader.count("queries") ? reader.at("queries") : 0));
  if (!errors.empty()) return;
  EXPECT_GT(optimizer.at("fragments_removed"), 0) << "compaction never merged anything";
  EXPECT_GT(optimizer.at("rows_indexed"), 0) << "the index was never updated";
  EXPECT_GT(optimizer.at("versions_removed"), 0) << "cleanup never removed a version";
  EXPECT_GT(reader.at("queries"), 10);

  // Every acknowledged add is there exactly once, and nothing else.
  const std::vector<int64_t> acks = ReadAcks(paths.acks);
  ASSERT_EQ(static_cast<int64_t>(acks.size()), kInitialAdds + appender.at("adds"));
  auto table = Table::Open(paths.table).value();
  auto check_rows = [&](const std::string& when) {
    SCOPED_TRACE(when);
    ScanOptions scan;
    scan.columns = {"id"};
    scan.with_row_id = true;
    RecordBatch batch = table->Scan(scan).value();
    std::map<int64_t, int> ids;
    std::set<int64_t> row_ids;
    for (int64_t row = 0; row < batch.num_rows(); ++row) {
      ++ids[batch.column(0).Int64(row)];
      EXPECT_TRUE(row_ids.insert(batch.column(1).Int64(row)).second) << "row id twice";
    }
    std::set<int64_t> expected;
    for (int64_t first : acks) {
      for (int64_t id = first; id < first + kRowsPerAdd; ++id) expected.insert(id);
    }
    int64_t missing = 0, doubled = 0, unexpected = 0;
    for (int64_t id : expected) missing += ids.count(id) ? 0 : 1;
    for (const auto& [id, count] : ids) {
      doubled += count > 1 ? 1 : 0;
      unexpected += expected.count(id) ? 0 : 1;
    }
    EXPECT_EQ(missing, 0) << "acknowledged ids missing";
    EXPECT_EQ(doubled, 0) << "ids present twice";
    EXPECT_EQ(unexpected, 0) << "ids never acknowledged";
    EXPECT_EQ(table->CountRows().value(), static_cast<int64_t>(expected.size()));
  };
  check_rows("after the concurrent phase");
  // The optimizer kept up: each run compacts and indexes everything pending, so what is left
  // is at most what arrived since its last run.
  const TableStats concurrent = table->Stats().value();
  EXPECT_LE(concurrent.num_fragments, static_cast<int64_t>(acks.size()) / 2)
      << "the optimizer fell behind or worked on a stale version: " << concurrent.ToJson();
  EXPECT_LE(concurrent.num_unindexed_rows, static_cast<int64_t>(acks.size()) * kRowsPerAdd / 2)
      << "the optimizer fell behind or worked on a stale version: " << concurrent.ToJson();

  // A final Optimize with nobody else around leaves the table compacted and fully indexed.
  const OptimizeResult result = table->Optimize(TestOptimizeOptions());
  ASSERT_TRUE(result.ok()) << result.compaction_status << result.indices_status
                           << result.cleanup_status;
  check_rows("after the final optimize");
  const TableStats stats = table->Stats().value();
  const int64_t total_rows = static_cast<int64_t>(acks.size()) * kRowsPerAdd;
  EXPECT_EQ(stats.num_rows, total_rows);
  EXPECT_EQ(stats.num_unindexed_rows, 0);
  EXPECT_EQ(table->IndexStats("vector_idx").value().num_unindexed_rows, 0);
  // Adjacent fragments below the target never sum to <= target, so on average they hold more
  // than half of it.
  EXPECT_LE(stats.num_fragments, total_rows / (kTargetRowsPerFragment / 2) + 1) << stats.ToJson();
  EXPECT_LT(stats.num_fragments, static_cast<int64_t>(acks.size()) / 2) << stats.ToJson();
  EXPECT_EQ(stats.fragment_rows_max, kTargetRowsPerFragment);
  EXPECT_EQ(stats.num_versions, 1);
}

}  // namespace
}  // namespace tessera
