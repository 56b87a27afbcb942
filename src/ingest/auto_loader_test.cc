#include "ingest/auto_loader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "io/file_system.h"
#include "testing/fault_injection_file_system.h"

namespace tessera::ingest {
namespace {

namespace fs = std::filesystem;

Schema TestSchema() { return Schema::Parse("id:int64 not null,vector:vector[3]").value(); }

std::string Rows(int64_t first, int64_t n) {
  std::string out;
  for (int64_t id = first; id < first + n; ++id) {
    out += "{\"id\": " + std::to_string(id) + ", \"vector\": [1, 2, " + std::to_string(id) + "]}\n";
  }
  return out;
}

class AutoLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tessera_loader_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    watch_ = root_ / "in";
    fs::create_directories(watch_);
    table_ = Table::Create((root_ / "table").string(), TestSchema()).value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void Write(const std::string& name, const std::string& contents) {
    std::ofstream(watch_ / name, std::ios::trunc) << contents;
  }
  AutoLoaderOptions Once(int64_t max_rows = 100000) {
    AutoLoaderOptions options;
    options.watch_dir = watch_.string();
    options.once = true;
    options.stream_id = "s";
    options.max_rows_per_batch = max_rows;
    return options;
  }
  // Run a loader to completion; return its batch reports.
  std::vector<IngestBatchReport> RunOnce(const AutoLoaderOptions& options, Table* table = nullptr,
                                         std::vector<QuarantineReport>* quarantined = nullptr) {
    AutoLoader loader(table ? table : table_.get(), options);
    std::vector<IngestBatchReport> reports;
    Status st = loader.Run([&](const IngestBatchReport& r) { reports.push_back(r); },
                           [&](const QuarantineReport& q) {
                             if (quarantined) quarantined->push_back(q);
                           });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return reports;
  }
  // id -> how many rows hold it.
  std::map<int64_t, int> IdCounts() {
    auto opened = Table::Open((root_ / "table").string()).value();
    ScanOptions scan;
    scan.columns = {"id"};
    std::map<int64_t, int> counts;
    EXPECT_TRUE(opened
                    ->ScanBatches(scan,
                                  [&](const RecordBatch& b) {
                                    for (int64_t r = 0; r < b.num_rows(); ++r)
                                      ++counts[b.column(0).Int64(r)];
                                    return Status::OK();
                                  })
                    .ok());
    return counts;
  }
  void ExpectExactlyOnce(int64_t first, int64_t n) {
    const auto counts = IdCounts();
    EXPECT_EQ(counts.size(), static_cast<size_t>(n));
    for (int64_t id = first; id < first + n; ++id) {
      auto it = counts.find(id);
      ASSERT_NE(it, counts.end()) << "id " << id << " missing";
      EXPECT_EQ(it->second, 1) << "id " << id;
    }
  }

  fs::path root_, watch_;
  std::unique_ptr<Table> table_;
};

TEST_F(AutoLoaderTest, IngestsEveryFileOnceAndARestartAddsNothing) {
  Write("a.jsonl", Rows(0, 10));
  Write("b.csv", "id,vector\n10,\"[1,2,3]\"\n11,\"[4,5,6]\"\n");
  Write("c.jsonl", Rows(12, 8));
  const auto reports = RunOnce(Once());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].batch_id, 0);
  EXPECT_EQ(reports[0].files, (std::vector<std::string>{"a.jsonl", "b.csv", "c.jsonl"}));
  EXPECT_EQ(reports[0].rows, 20);
  EXPECT_EQ(table_->StreamCheckpoint("s").value(), 0);
  EXPECT_TRUE(RunOnce(Once()).empty());  // a new run knows every file from the ledger
  Write("d.jsonl", Rows(20, 5));
  const auto more = RunOnce(Once());
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].batch_id, 1);
  EXPECT_EQ(more[0].files, std::vector<std::string>{"d.jsonl"});
  ExpectExactlyOnce(0, 25);
}

TEST_F(AutoLoaderTest, BatchesHoldWholeFilesUpToMaxRows) {
  for (int f = 0; f < 5; ++f) Write("f" + std::to_string(f) + ".jsonl", Rows(f * 10, 10));
  Write("big.jsonl", Rows(100, 40));  // larger than a batch: a batch of its own
  const auto reports = RunOnce(Once(25));
  std::vector<int64_t> rows;
  for (const auto& r : reports) rows.push_back(r.rows);
  EXPECT_EQ(rows, (std::vector<int64_t>{40, 20, 20, 10}));  // big.jsonl sorts first
  const auto counts = IdCounts();
  EXPECT_EQ(counts.size(), 90u);
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
}

TEST_F(AutoLoaderTest, HiddenTemporaryAndUnderscoreNamesWaitForTheirRename) {
  Write(".a.jsonl", Rows(0, 3));
  Write("b.jsonl.tmp", Rows(3, 3));
  Write("c.partial", Rows(6, 3));
  Write("_d.jsonl", Rows(9, 3));
  EXPECT_TRUE(RunOnce(Once()).empty());
  fs::rename(watch_ / ".a.jsonl", watch_ / "a.jsonl");
  fs::rename(watch_ / "b.jsonl.tmp", watch_ / "b.jsonl");
  const auto reports = RunOnce(Once());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].files, (std::vector<std::string>{"a.jsonl", "b.jsonl"}));
  ExpectExactlyOnce(0, 6);
}

TEST_F(AutoLoaderTest, ABadFileIsQuarantinedWithItsReasonAndNoneOfItsRows) {
  Write("a.jsonl", Rows(0, 5));
  Write("b.jsonl", Rows(5, 5) + "{\"id\": 10, \"vector\": [1, 2]}\n");  // wrong dimension
  Write("c.jsonl", Rows(11, 5));
  Write("d.arrow", "not an arrow file");
  std::vector<QuarantineReport> quarantined;
  const auto reports = RunOnce(Once(), nullptr, &quarantined);
  ASSERT_EQ(quarantined.size(), 2u);
  EXPECT_EQ(quarantined[0].file, "b.jsonl");
  EXPECT_NE(quarantined[0].reason.find("line 6"), std::string::npos) << quarantined[0].reason;
  EXPECT_EQ(quarantined[1].file, "d.arrow");
  EXPECT_FALSE(fs::exists(watch_ / "b.jsonl"));
  EXPECT_TRUE(fs::exists(watch_ / "_quarantine" / "b.jsonl"));
  std::ifstream reason(watch_ / "_quarantine" / "b.jsonl.reason");
  std::string text((std::istreambuf_iterator<char>(reason)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("expected 3 numbers"), std::string::npos) << text;
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].files, (std::vector<std::string>{"a.jsonl", "c.jsonl"}));
  const auto counts = IdCounts();
  EXPECT_EQ(counts.size(), 10u);
  EXPECT_EQ(counts.count(5), 0u);  // nothing of the bad file
}

TEST_F(AutoLoaderTest, AGrowingFileIsTakenOnlyOnceComplete) {
  AutoLoaderOptions options;
  options.watch_dir = watch_.string();
  options.stream_id = "s";
  options.trigger_seconds = 0.15;
  AutoLoader loader(table_.get(), options);
  std::atomic<int> batches{0};
  std::thread run([&] {
    Status st = loader.Run([&](const IngestBatchReport&) { ++batches; }, nullptr);
    EXPECT_TRUE(st.ok()) << st.ToString();
  });
  {
    std::ofstream out(watch_ / "growing.jsonl");
    for (int64_t id = 0; id < 40; ++id) {  // one row every 25 ms: ~1 s, many triggers
      out << Rows(id, 1) << std::flush;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  for (int i = 0; i < 200 && batches.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  loader.Stop();
  run.join();
  EXPECT_EQ(batches.load(), 1);
  ExpectExactlyOnce(0, 40);  // all 40 rows in one batch: never a prefix of the file
}

TEST_F(AutoLoaderTest, ABatchPlannedButNotCommittedIsCommittedByTheNextRun) {
  Write("a.jsonl", Rows(0, 5));
  Write("b.jsonl", Rows(5, 5));
  // A run whose commit fails after its plan was written (as if killed at that moment).
  test::FaultInjectionFileSystem faulty(io::LocalFileSystem());
  TableOptions options;
  options.file_system = &faulty;
  auto failing = Table::Open((root_ / "table").string(), options).value();
  {
    AutoLoader loader(failing.get(), Once());
    // Mutations of a batch: the plan (CreateDirs, CreateExclusive), then the commit's fragment
    // write: fail the first step after the plan.
    faulty.FailNthMutation(3);
    Status st = loader.Run(nullptr, nullptr);
    EXPECT_FALSE(st.ok());
  }
  EXPECT_EQ(table_->CountRows().value(), 0);
  EXPECT_EQ(table_->StreamCheckpoint("s").value(), -1);
  Write("c.jsonl", Rows(10, 5));  // arrived meanwhile: goes into a later batch
  const auto reports = RunOnce(Once());
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_TRUE(reports[0].recovered);
  EXPECT_EQ(reports[0].batch_id, 0);
  EXPECT_EQ(reports[0].files, (std::vector<std::string>{"a.jsonl", "b.jsonl"}));
  EXPECT_EQ(reports[1].files, std::vector<std::string>{"c.jsonl"});
  ExpectExactlyOnce(0, 15);
}

TEST_F(AutoLoaderTest, APlannedFileThatChangedIsAnErrorNotASilentReread) {
  Write("a.jsonl", Rows(0, 5));
  test::FaultInjectionFileSystem faulty(io::LocalFileSystem());
  TableOptions options;
  options.file_system = &faulty;
  auto failing = Table::Open((root_ / "table").string(), options).value();
  {
    AutoLoader loader(failing.get(), Once());
    faulty.FailNthMutation(3);
    EXPECT_FALSE(loader.Run(nullptr, nullptr).ok());
  }
  Write("a.jsonl", Rows(0, 7));
  AutoLoader loader(table_.get(), Once());
  Status st = loader.Run(nullptr, nullptr);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.ToString().find("a.jsonl"), std::string::npos) << st.ToString();
  EXPECT_EQ(table_->CountRows().value(), 0);
}

TEST_F(AutoLoaderTest, TwoStreamsIntoOneTableAtOnce) {
  const fs::path other = root_ / "in2";
  fs::create_directories(other);
  for (int f = 0; f < 20; ++f) {
    Write("a" + std::to_string(f) + ".jsonl", Rows(f * 10, 10));
    std::ofstream(other / ("b" + std::to_string(f) + ".jsonl")) << Rows(1000 + f * 10, 10);
  }
  auto second = Table::Open((root_ / "table").string()).value();
  AutoLoaderOptions a = Once(10);
  AutoLoaderOptions b = Once(10);
  b.watch_dir = other.string();
  b.stream_id = "t";
  std::thread first([&] { RunOnce(a); });
  RunOnce(b, second.get());
  first.join();
  EXPECT_EQ(table_->StreamCheckpoint("s").value(), 19);
  EXPECT_EQ(table_->StreamCheckpoint("t").value(), 19);
  const auto counts = IdCounts();
  EXPECT_EQ(counts.size(), 400u);
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
}

TEST_F(AutoLoaderTest, TheLedgerIsCompactedAndStillKnowsEveryFile) {
  for (int f = 0; f < 300; ++f) {
    char name[32];
    std::snprintf(name, sizeof(name), "f%04d.jsonl", f);
    Write(name, Rows(f, 1));
  }
  EXPECT_EQ(RunOnce(Once(1)).size(), 300u);  // one file per batch
  EXPECT_TRUE(RunOnce(Once(1)).empty());     // reads the compacted ledger
  size_t plans = 0, done = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "table" / "_ingest")) {
    const std::string name = entry.path().filename().string();
    plans += name.ends_with(".plan");
    done += name.starts_with("done-");
  }
  EXPECT_EQ(done, 1u);
  EXPECT_LT(plans, 300u);
  ExpectExactlyOnce(0, 300);
}

TEST_F(AutoLoaderTest, BadArgumentsAreClearErrors) {
  AutoLoaderOptions options = Once();
  options.watch_dir = (root_ / "missing").string();
  AutoLoader missing(table_.get(), options);
  Status st = missing.Run(nullptr, nullptr);
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
  options = Once(0);
  AutoLoader zero(table_.get(), options);
  EXPECT_TRUE(zero.Run(nullptr, nullptr).IsInvalidArgument());
}

TEST_F(AutoLoaderTest, StdinCommitsOnSizeAndAtEnd) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string input = Rows(0, 25) + "\n" + Rows(25, 5);
  ASSERT_EQ(write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  close(fds[1]);
  StdinIngestOptions options;
  options.max_rows_per_batch = 10;
  std::atomic<bool> stop{false};
  std::vector<int64_t> rows;
  Status st = IngestJsonLines(table_.get(), fds[0], options, stop,
                              [&](const IngestBatchReport& r) { rows.push_back(r.rows); });
  close(fds[0]);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(rows, (std::vector<int64_t>{10, 10, 10}));
  ExpectExactlyOnce(0, 30);
}

TEST_F(AutoLoaderTest, StdinCommitsOnTimeAndReportsABadLine) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  StdinIngestOptions options;
  options.trigger_seconds = 0.1;
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  Status st;
  std::thread reader([&] {
    st = IngestJsonLines(table_.get(), fds[0], options, stop,
                         [&](const IngestBatchReport&) { ++batches; });
  });
  const std::string first = Rows(0, 3);
  ASSERT_EQ(write(fds[1], first.data(), first.size()), static_cast<ssize_t>(first.size()));
  for (int i = 0; i < 200 && batches.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(batches.load(), 1);  // committed by time, the pipe still open
  const std::string bad = "{\"id\": 3, \"vector\": [1]}\n";
  ASSERT_EQ(write(fds[1], bad.data(), bad.size()), static_cast<ssize_t>(bad.size()));
  close(fds[1]);
  reader.join();
  close(fds[0]);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_EQ(table_->CountRows().value(), 3);
}

}  // namespace
}  // namespace tessera::ingest
