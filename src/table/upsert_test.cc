#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "io/file_system.h"
#include "tessera/table.h"

namespace tessera {
namespace {

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,vector:vector[2],text:utf8,group:int32").value();
}

RecordBatch Rows(const std::vector<int64_t>& ids, const std::string& text) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id : ids) {
    EXPECT_TRUE(builder
                    .AppendRow({Value(id), Value(std::vector<float>{static_cast<float>(id), 1}),
                                Value(text), Value(id % 3)})
                    .ok());
  }
  return builder.Finish().value();
}

std::vector<int64_t> Range(int64_t first, int64_t end) {
  std::vector<int64_t> ids;
  for (int64_t id = first; id < end; ++id) ids.push_back(id);
  return ids;
}

class UpsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = io::NewMemoryFileSystem();
    options_.file_system = fs_.get();
    table_ = Table::Create("/t", Rows(Range(0, 10), "old"), CreateMode::kCreate, options_).value();
  }
  // id -> text of every live row; fails on a duplicate id.
  std::map<int64_t, std::string> Contents(Table* table = nullptr) {
    RecordBatch rows = (table ? table : table_.get())->Scan().value();
    std::map<int64_t, std::string> out;
    for (int64_t r = 0; r < rows.num_rows(); ++r) {
      EXPECT_TRUE(
          out.emplace(rows.column(0).Int64(r), std::string(rows.column(2).String(r))).second)
          << "id " << rows.column(0).Int64(r) << " twice";
    }
    return out;
  }
  UpsertOptions On(const std::string& key = "id") {
    UpsertOptions options;
    options.on = {key};
    return options;
  }

  std::unique_ptr<io::FileSystem> fs_;
  TableOptions options_;
  std::unique_ptr<Table> table_;
};

TEST_F(UpsertTest, ReplacesMatchesAndInsertsTheRestInOneCommit) {
  const uint64_t before = table_->version().value();
  auto result = table_->Upsert(Rows(Range(5, 15), "new"), On());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->version, before + 1);
  EXPECT_EQ(result->rows_inserted, 5);
  EXPECT_EQ(result->rows_updated, 5);
  EXPECT_EQ(result->rows_deleted, 0);
  const auto contents = Contents();
  ASSERT_EQ(contents.size(), 15u);
  for (int64_t id = 0; id < 15; ++id) EXPECT_EQ(contents.at(id), id < 5 ? "old" : "new") << id;
  // Time travel: the version before still has the old records, once each.
  ASSERT_TRUE(table_->Checkout(before).ok());
  const auto old = Contents();
  EXPECT_EQ(old.size(), 10u);
  EXPECT_EQ(old.at(7), "old");
  ASSERT_TRUE(table_->CheckoutLatest().ok());
  EXPECT_EQ(table_->ListVersions().value().back().operation, "upsert");
}

TEST_F(UpsertTest, InsertOnlyKeepsExistingRows) {
  UpsertOptions options = On();
  options.when_matched_update_all = false;
  auto result = table_->Upsert(Rows(Range(8, 12), "new"), options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->rows_inserted, 2);
  EXPECT_EQ(result->rows_updated, 0);
  const auto contents = Contents();
  EXPECT_EQ(contents.at(9), "old");
  EXPECT_EQ(contents.at(11), "new");
  // Nothing new: no commit.
  auto again = table_->Upsert(Rows(Range(8, 12), "newer"), options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version, 0u);
}

TEST_F(UpsertTest, DeletesRowsNotInTheSourceOptionallyFiltered) {
  UpsertOptions options = On();
  options.when_not_matched_by_source_delete = true;
  options.when_not_matched_by_source_filter = "\"group\" = 0";  // ids 0, 3, 6, 9
  auto result = table_->Upsert(Rows({1, 2, 20}, "new"), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows_deleted, 4);
  auto contents = Contents();
  EXPECT_EQ(contents.size(), 10u - 4 + 1);
  EXPECT_EQ(contents.count(3), 0u);
  EXPECT_EQ(contents.at(4), "old");
  options.when_not_matched_by_source_filter.clear();
  result = table_->Upsert(Rows({1, 2}, "last"), options);
  ASSERT_TRUE(result.ok());
  contents = Contents();
  EXPECT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents.at(1), "last");
}

TEST_F(UpsertTest, CompositeAndStringKeys) {
  UpsertOptions options;
  options.on = {"group", "text"};
  RecordBatchBuilder builder(TestSchema());
  ASSERT_TRUE(builder
                  .AppendRow({Value(int64_t{100}), Value(std::vector<float>{1, 1}), Value("old"),
                              Value(int64_t{1})})
                  .ok());
  auto result = table_->Upsert(builder.Finish().value(), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  // (group=1, text='old') matched ids 1, 4, 7: all three replaced by the one source row.
  EXPECT_EQ(result->rows_updated, 1);
  const auto contents = Contents();
  EXPECT_EQ(contents.count(4), 0u);
  EXPECT_EQ(contents.count(100), 1u);
  EXPECT_EQ(contents.size(), 10u - 3 + 1);
}

TEST_F(UpsertTest, BadInputIsAClearErrorAndChangesNothing) {
  const uint64_t before = table_->version().value();
  auto dup = table_->Upsert(Rows({1, 2, 1, 3, 3}, "x"), On());
  EXPECT_TRUE(dup.status().IsInvalidArgument());
  EXPECT_NE(dup.status().ToString().find("duplicate keys in the source: id=1; id=3"),
            std::string::npos)
      << dup.status().ToString();
  EXPECT_TRUE(table_->Upsert(Rows({1}, "x"), On("nope")).status().IsInvalidArgument());
  auto vector_key = table_->Upsert(Rows({1}, "x"), On("vector"));
  EXPECT_TRUE(vector_key.status().IsInvalidArgument());
  EXPECT_NE(vector_key.status().ToString().find("not supported"), std::string::npos);
  UpsertOptions none;
  EXPECT_TRUE(table_->Upsert(Rows({1}, "x"), none).status().IsInvalidArgument());
  RecordBatchBuilder null_key(TestSchema());
  ASSERT_TRUE(null_key
                  .AppendRow({Value(int64_t{1}), Value(std::vector<float>{1, 1}), Value(),
                              Value(int64_t{1})})
                  .ok());
  auto null_result = table_->Upsert(null_key.Finish().value(), On("text"));
  EXPECT_TRUE(null_result.status().IsInvalidArgument());
  EXPECT_NE(null_result.status().ToString().find("null key"), std::string::npos);
  UpsertOptions bad_filter = On();
  bad_filter.when_not_matched_by_source_delete = true;
  bad_filter.when_not_matched_by_source_filter = "nope = 1";
  EXPECT_TRUE(table_->Upsert(Rows({1}, "x"), bad_filter).status().IsInvalidArgument());
  EXPECT_EQ(table_->version().value(), before);
  EXPECT_EQ(Contents().at(1), "old");
}

// Forwards to a memory FileSystem; runs a hook once, just before the next manifest commit.
class HookFileSystem : public io::FileSystem {
 public:
  explicit HookFileSystem(io::FileSystem* base) : base_(base) {}
  std::function<void()> hook;

  Result<std::unique_ptr<io::WritableFile>> NewWritableFile(const std::string& path) override {
    return base_->NewWritableFile(path);
  }
  Status CreateExclusive(const std::string& path, std::string_view contents) override {
    if (hook && path.ends_with(".manifest")) {
      auto run = std::move(hook);
      hook = nullptr;
      run();
    }
    return base_->CreateExclusive(path, contents);
  }
  Result<std::string> ReadFile(const std::string& path) override { return base_->ReadFile(path); }
  Result<std::shared_ptr<const io::MappedFile>> MapFile(const std::string& path) override {
    return base_->MapFile(path);
  }
  Result<std::vector<io::FileInfo>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Result<io::FileInfo> Stat(const std::string& path) override { return base_->Stat(path); }
  Result<bool> Exists(const std::string& path) override { return base_->Exists(path); }
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  Status DeleteFile(const std::string& path) override { return base_->DeleteFile(path); }
  Status DeleteDirRecursive(const std::string& path) override {
    return base_->DeleteDirRecursive(path);
  }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }

 private:
  io::FileSystem* base_;
};

// The race of the issue, forced: while one upsert of a new key is between its scan and its
// commit, another process commits the same new key (by upsert, or by a plain add). The first
// must notice, re-run, and replace instead of inserting a second row.
TEST_F(UpsertTest, AConcurrentWriteOfTheSameNewKeyIsDetectedAtCommit) {
  HookFileSystem hooked(fs_.get());
  TableOptions hooked_options;
  hooked_options.file_system = &hooked;
  auto loser = Table::Open("/t", hooked_options).value();
  for (bool by_add : {false, true}) {
    const int64_t key = by_add ? 101 : 100;
    hooked.hook = [&] {
      if (by_add) {
        ASSERT_TRUE(table_->Add(Rows({key}, "winner")).ok());
      } else {
        ASSERT_TRUE(table_->Upsert(Rows({key}, "winner"), On()).ok());
      }
    };
    auto result = loser->Upsert(Rows({key}, "loser"), On());
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->rows_inserted, 0) << key;
    EXPECT_EQ(result->rows_updated, 1) << key;
    const auto contents = Contents();  // fails on a doubled id
    EXPECT_EQ(contents.at(key), "loser");
  }
}

// Threads upserting overlapping sets of new and existing keys at once: every key once.
TEST_F(UpsertTest, ConcurrentUpsertsOfTheSameKeysNeverDoubleAKey) {
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto table = Table::Open("/t", options_).value();
      std::mt19937 rng(t);
      for (int round = 0; round < 15; ++round) {
        std::set<int64_t> keys;
        while (keys.size() < 8) keys.insert(static_cast<int64_t>(rng() % 40));  // 10..39 new
        auto result =
            table->Upsert(Rows({keys.begin(), keys.end()}, "t" + std::to_string(t)), On());
        if (!result.ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const auto contents = Contents();  // fails on a doubled id
  for (const auto& [id, text] : contents) EXPECT_LT(id, 40);
}

// A reader never sees a record missing or twice while upserts replace records.
TEST_F(UpsertTest, ReadersSeeEveryRecordExactlyOnceAtEveryVersion) {
  std::atomic<bool> done{false};
  std::thread writer([&] {
    auto table = Table::Open("/t", options_).value();
    std::mt19937 rng(1);
    for (int round = 0; round < 40; ++round) {
      std::set<int64_t> keys;
      while (keys.size() < 4) keys.insert(static_cast<int64_t>(rng() % 10));
      EXPECT_TRUE(table->Upsert(Rows({keys.begin(), keys.end()}, "r"), On()).ok());
    }
    done = true;
  });
  auto reader = Table::Open("/t", options_).value();
  int reads = 0;
  while (!done.load() || reads < 5) {
    const auto contents = Contents(reader.get());
    ASSERT_EQ(contents.size(), 10u) << "at version " << reader->version().value();
    ++reads;
  }
  writer.join();
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

TEST_F(UpsertTest, UpdateSetsColumnsFromExpressionsInOneCommit) {
  const uint64_t before = table_->version().value();
  auto updated = table_->Update("id >= 7", {{"text", "'upd'"}, {"group", "\"group\" * 10 + 1"}});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->rows_updated, 3);
  EXPECT_EQ(updated->version, before + 1);
  const auto contents = Contents();
  ASSERT_EQ(contents.size(), 10u);
  EXPECT_EQ(contents.at(8), "upd");
  EXPECT_EQ(contents.at(6), "old");
  EXPECT_EQ(table_->CountRows("\"group\" = 21").value(), 1);  // id 8: group 2 -> 21
  EXPECT_EQ(table_->ListVersions().value().back().operation, "update");
  // No match: nothing committed.
  EXPECT_EQ(table_->Update("id > 100", {{"text", "'x'"}}).value().version, 0u);
  // Errors change nothing.
  EXPECT_TRUE(table_->Update("id = 1", {{"nope", "1"}}).status().IsInvalidArgument());
  EXPECT_TRUE(table_->Update("id = 1", {{"text", "text +"}}).status().IsInvalidArgument());
  EXPECT_TRUE(table_->Update("id = 1", {{"id", "null"}}).status().IsInvalidArgument());
  EXPECT_TRUE(table_->Update("id = 1", {{"vector", "[1]"}}).status().IsInvalidArgument());
  EXPECT_TRUE(table_->Update("bad ==", {{"text", "'x'"}}).status().IsInvalidArgument());
  EXPECT_EQ(table_->version().value(), before + 1);
}

}  // namespace
}  // namespace tessera
