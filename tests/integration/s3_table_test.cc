// Tables on s3:// against a real S3 server (Ceph RADOS Gateway started by the test, scripts/
// rgw.sh): every table operation through the public API, two handles (as two hosts) committing
// concurrently, and the request cost of opening the latest version. Skipped where Ceph is not
// installed, except under CI.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "io/s3_file_system.h"
#include "tessera/maintenance.h"
#include "tessera/table.h"
#include "testing/rgw_server.h"

namespace tessera {
namespace {

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,vector:vector[8],text:utf8").value();
}

RecordBatch Rows(int64_t first, int64_t end, const std::string& text) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first; id < end; ++id) {
    std::vector<float> v(8);
    for (int d = 0; d < 8; ++d) v[d] = static_cast<float>((id * (d + 3)) % 17) - 8.0f;
    v[0] = static_cast<float>(id);  // unique
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(std::move(v)), Value(text)}).ok());
  }
  return builder.Finish().value();
}

std::set<int64_t> Ids(Table* table) {
  RecordBatch rows = table->Scan().value();
  std::set<int64_t> ids;
  for (int64_t r = 0; r < rows.num_rows(); ++r) {
    EXPECT_TRUE(ids.insert(rows.column(0).Int64(r)).second) << "id twice";
  }
  return ids;
}

class S3TableTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<test::RgwEndpoint> server = test::RgwServer::Get();  // exports AWS_* for s3://
    if (!server.ok()) {
      skip_reason_ = new std::string(server.status().ToString());
      return;
    }
    auto fs = io::DefaultS3FileSystem();
    ASSERT_TRUE(fs.ok()) << fs.status();
    ASSERT_TRUE(static_cast<io::S3FileSystem*>(*fs)->CreateBucket("s3://tables").ok());
  }
  void SetUp() override {
    if (skip_reason_ != nullptr) {
      if (std::getenv("CI") != nullptr) FAIL() << *skip_reason_;
      GTEST_SKIP() << *skip_reason_;
    }
    uri_ = std::string("s3://tables/") +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  static io::S3FileSystem* S3() {
    return static_cast<io::S3FileSystem*>(io::DefaultS3FileSystem().value());
  }

  static inline std::string* skip_reason_ = nullptr;
  std::string uri_;
};

TEST_F(S3TableTest, EveryOperationWorksOnTheObjectStore) {
  auto table = Table::Create(uri_, TestSchema()).value();
  for (int b = 0; b < 5; ++b) ASSERT_TRUE(table->Add(Rows(b * 200, (b + 1) * 200, "a")).ok());
  EXPECT_EQ(table->CountRows().value(), 1000);
  ASSERT_TRUE(table->DeleteRows("id < 10").ok());
  UpsertOptions on;
  on.on = {"id"};
  const UpsertResult upserted = table->Upsert(Rows(995, 1005, "b"), on).value();
  EXPECT_EQ(upserted.rows_updated, 5);
  EXPECT_EQ(upserted.rows_inserted, 5);
  const uint64_t before_index = table->version().value();
  ASSERT_TRUE(table->CreateTag("before-index", before_index).ok());

  IndexConfig config;
  config.num_partitions = 2;
  ASSERT_TRUE(table->CreateIndex("vector", config).ok());
  ASSERT_TRUE(table->Add(Rows(2000, 2100, "tail")).ok());
  const RecordBatch probe = Rows(2050, 2051, "");
  const std::span<const float> query = probe.column(1).Vector(0);
  RecordBatch hit = table->Search(query).Limit(1).Execute().value();
  EXPECT_EQ(hit.ColumnByName("id").value().Int64(0), 2050);

  OptimizeOptions optimize;
  optimize.cleanup.older_than_seconds = 0;
  optimize.cleanup.delete_unverified = true;
  const OptimizeResult optimized = table->Optimize(optimize);
  ASSERT_TRUE(optimized.ok()) << optimized.compaction_status << optimized.indices_status
                              << optimized.cleanup_status;
  std::set<int64_t> want;
  for (int64_t id = 10; id < 1005; ++id) want.insert(id);
  for (int64_t id = 2000; id < 2100; ++id) want.insert(id);
  EXPECT_EQ(Ids(table.get()), want);

  // Time travel to the tagged version (kept by cleanup), then a fresh handle (another host).
  ASSERT_TRUE(table->CheckoutTag("before-index").ok());
  EXPECT_EQ(table->CountRows().value(), 995);
  auto reopened = Table::Open(uri_).value();
  EXPECT_EQ(Ids(reopened.get()), want);
  EXPECT_EQ(reopened->ListIndices().value().size(), 1u);
}

TEST_F(S3TableTest, TwoHandlesCommitConcurrentlyWithoutLosingRows) {
  auto first = Table::Create(uri_, TestSchema()).value();
  auto second = Table::Open(uri_).value();
  std::thread a([&] {
    for (int i = 0; i < 15; ++i) ASSERT_TRUE(first->Add(Rows(i * 10, i * 10 + 10, "a")).ok());
  });
  std::thread b([&] {
    for (int i = 0; i < 15; ++i) {
      ASSERT_TRUE(second->Add(Rows(10000 + i * 10, 10000 + i * 10 + 10, "b")).ok());
    }
  });
  a.join();
  b.join();
  auto reader = Table::Open(uri_).value();
  const std::set<int64_t> ids = Ids(reader.get());
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_EQ(reader->version().value(), 31u);  // create + 30 adds, each exactly once
}

TEST_F(S3TableTest, OpeningTheLatestVersionCostsFewRequests) {
  auto table = Table::Create(uri_, TestSchema()).value();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(table->Add(Rows(i, i + 1, "x")).ok());
  const io::S3Counters before = S3()->counters();
  auto opened = Table::Open(uri_).value();
  const io::S3Counters after = S3()->counters();
  const int64_t requests =
      (after.get - before.get) + (after.head - before.head) + (after.list - before.list);
  std::printf("open of the latest of 31 versions: %lld requests (%lld list, %lld head, %lld get)\n",
              static_cast<long long>(requests), static_cast<long long>(after.list - before.list),
              static_cast<long long>(after.head - before.head),
              static_cast<long long>(after.get - before.get));
  EXPECT_EQ(opened->version().value(), 31u);
  EXPECT_LE(requests, 6);
}

// Cleanup on the object store judges age by the objects' LastModified times: versions and
// unreferenced files older than the limits go, a younger orphan (a slow writer's file about to
// be committed) stays.
TEST_F(S3TableTest, CleanupJudgesAgeByObjectTimestamps) {
  auto table = Table::Create(uri_, TestSchema()).value();
  ASSERT_TRUE(table->Add(Rows(0, 10, "a")).ok());  // version 2
  const std::string old_orphan = uri_ + "/data/orphan-old.arrow";
  const std::string young_orphan = uri_ + "/data/orphan-young.arrow";
  ASSERT_TRUE(S3()->PutObject(old_orphan, "left by a writer that died").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  ASSERT_TRUE(table->Add(Rows(10, 20, "b")).ok());  // version 3
  ASSERT_TRUE(S3()->PutObject(young_orphan, "a slow writer's file").ok());

  CleanupOptions cleanup;
  cleanup.older_than_seconds = 2;
  cleanup.grace_period_seconds = 2;
  const CleanupResult result = table->CleanupOldVersions(cleanup).value();
  EXPECT_EQ(result.versions_removed, 2);  // 1 and 2: older than 2 s and not the latest
  EXPECT_EQ(result.files_kept_in_grace, 1);
  EXPECT_FALSE(S3()->Exists(old_orphan).value());
  EXPECT_TRUE(S3()->Exists(young_orphan).value());
  std::vector<uint64_t> kept;
  const std::vector<VersionInfo> versions = table->ListVersions().value();
  for (const VersionInfo& info : versions) kept.push_back(info.version);
  EXPECT_EQ(kept, std::vector<uint64_t>{3});
  EXPECT_EQ(Ids(Table::Open(uri_).value().get()).size(), 20u);
}

// The cache's rule of what never changes (s3_file_system.cc) must match the table's layout:
// every data file, deletion file, index segment and manifest of a real table is served from
// the cache the second time, and nothing else (hints, tags) ever is.
TEST_F(S3TableTest, EveryImmutableFileOfATableIsCachedAndNothingElse) {
  auto table = Table::Create(uri_, TestSchema()).value();
  ASSERT_TRUE(table->Add(Rows(0, 300, "a")).ok());
  ASSERT_TRUE(table->DeleteRows("id < 10").ok());
  IndexConfig config;
  config.num_partitions = 2;
  ASSERT_TRUE(table->CreateIndex("vector", config).ok());
  IndexConfig btree;
  btree.type = "BTREE";
  ASSERT_TRUE(table->CreateIndex("id", btree).ok());
  ASSERT_TRUE(table->Add(Rows(300, 350, "b")).ok());
  ASSERT_TRUE(table->CreateTag("t", 2).ok());

  const std::string cache_dir = ::testing::TempDir() + "tessera-s3-layout-cache";
  std::filesystem::remove_all(cache_dir);
  io::S3Options options = S3()->options();
  options.cache_dir = cache_dir;
  auto cached = io::S3FileSystem::Create(options).value();
  std::vector<std::string> pending = {uri_};
  int immutable = 0, mutable_files = 0;
  std::set<std::string> kinds;
  while (!pending.empty()) {
    const std::string dir = pending.back();
    pending.pop_back();
    Result<std::vector<io::FileInfo>> entries = cached->ListDir(dir);
    ASSERT_TRUE(entries.ok()) << entries.status();
    for (const io::FileInfo& entry : *entries) {
      const std::string path = dir + "/" + entry.name;
      if (entry.is_dir) {
        pending.push_back(path);
        continue;
      }
      const std::string relative = path.substr(uri_.size() + 1);
      const std::string top = relative.substr(0, relative.find('/'));
      const bool should_cache = top == "data" || top == "deletions" || top == "indices" ||
                                (top == "_versions" && relative.ends_with(".manifest"));
      ASSERT_TRUE(cached->ReadFile(path).ok()) << path;
      const io::S3Counters before = cached->counters();
      ASSERT_TRUE(cached->ReadFile(path).ok()) << path;
      const bool was_cached = cached->counters().get == before.get;
      EXPECT_EQ(was_cached, should_cache) << relative;
      (should_cache ? immutable : mutable_files) += 1;
      kinds.insert(top);
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"_latest_version", "_versions", "data", "deletions",
                                          "indices", "_tags"}));
  std::printf("%d immutable files cached, %d mutable ones not\n", immutable, mutable_files);
  std::filesystem::remove_all(cache_dir);
}

}  // namespace
}  // namespace tessera
