#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "io/file_system.h"
#include "tessera/table.h"

namespace tessera {
namespace {

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,vector:vector[8],text:utf8").value();
}

RecordBatch MakeBatch(int64_t first_id, int64_t n) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first_id; id < first_id + n; ++id) {
    std::vector<float> v(8);
    for (int d = 0; d < 8; ++d)
      v[d] = static_cast<float>((id * (d + 3)) % 1009) + 0.001f * static_cast<float>(id);
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(v), Value("t" + std::to_string(id))}).ok());
  }
  return builder.Finish().value();
}

// id -> row id of every live row.
std::map<int64_t, int64_t> RowIds(Table* table) {
  ScanOptions options;
  options.columns = {"id"};
  options.with_row_id = true;
  RecordBatch batch = table->Scan(options).value();
  std::map<int64_t, int64_t> out;
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    EXPECT_TRUE(out.emplace(batch.column(0).Int64(row), batch.column(1).Int64(row)).second);
  }
  return out;
}

class MaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = io::NewMemoryFileSystem();
    options_.file_system = fs_.get();
    table_ = Table::Create("/t", TestSchema(), CreateMode::kCreate, options_).value();
  }
  int64_t Fragments() { return table_->ListVersions().value().back().num_fragments; }

  std::unique_ptr<io::FileSystem> fs_;
  TableOptions options_;
  std::unique_ptr<Table> table_;
};

TEST_F(MaintenanceTest, CompactionMergesSmallFragmentsAndKeepsRowIds) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 100, 100)).ok());
  ASSERT_TRUE(table_->DeleteRows("text LIKE '%3'").ok());
  const auto before = RowIds(table_.get());
  ASSERT_EQ(before.size(), 900u);
  CompactionOptions options;
  options.target_rows_per_fragment = 450;
  options.batch_rows = 64;  // several batches per output file
  CompactionResult result = table_->CompactFiles(options).value();
  EXPECT_EQ(result.fragments_removed, 10);
  EXPECT_EQ(result.fragments_added, 2);  // 5 + 5 fragments of 90 live rows
  EXPECT_EQ(result.rows_rewritten, 900);
  EXPECT_EQ(result.deleted_rows_materialized, 100);
  EXPECT_EQ(Fragments(), 2);
  EXPECT_EQ(RowIds(table_.get()), before);
  EXPECT_EQ(table_->CountRows().value(), 900);
  EXPECT_EQ(table_->CountRows("text LIKE '%3'").value(), 0);
  EXPECT_EQ(table_->ListVersions().value().back().num_rows, 900);
  EXPECT_EQ(table_->ListVersions().value().back().operation, "compact");
  // Fragments at their target are never rewritten again.
  EXPECT_EQ(table_->CompactFiles(options).value().version, 0u);
  // Old versions still read their own fragments.
  ASSERT_TRUE(table_->Checkout(11).ok());
  EXPECT_EQ(table_->CountRows().value(), 1000);
  ASSERT_TRUE(table_->CheckoutLatest().ok());
  // New rows keep getting fresh row ids after compaction.
  EXPECT_EQ(table_->Add(MakeBatch(5000, 5)).value().first_row_id, 1000u);
}

TEST_F(MaintenanceTest, StreamCompactionCopiesEachRowLogarithmicallyOften) {
  // A stream compacted after every add: merging the growing fragment with each new one would
  // copy the table every run (~128 * 129 / 2 * 100 = 825,600 rows); a fragment that only joins
  // rewrites with at least as many rows as it holds is copied once per doubling.
  constexpr int kAdds = 128;
  constexpr int64_t kRows = 100;
  int64_t rewritten = 0;
  int64_t max_fragments = 0;
  for (int i = 0; i < kAdds; ++i) {
    ASSERT_TRUE(table_->Add(MakeBatch(i * kRows, kRows)).ok());
    rewritten += table_->CompactFiles().value().rows_rewritten;
    max_fragments = std::max(max_fragments, Fragments());
  }
  EXPECT_LE(rewritten, kAdds * kRows * 7);  // log2(128) = 7 doublings per row at most
  EXPECT_LE(max_fragments, 8);              // one per power of two, like a binary counter
  EXPECT_EQ(Fragments(), 1);                // 128 = 2^7: one fragment in the end
  EXPECT_EQ(table_->CountRows().value(), kAdds * kRows);
  std::printf("stream of %d adds: %lld rows copied for %lld stored\n", kAdds,
              static_cast<long long>(rewritten), static_cast<long long>(kAdds * kRows));
}

TEST_F(MaintenanceTest, CompactionMaterializesDeletionsAboveThreshold) {
  ASSERT_TRUE(table_->Add(MakeBatch(0, 1000)).ok());
  ASSERT_TRUE(table_->Add(MakeBatch(1000, 1000)).ok());
  ASSERT_TRUE(table_->DeleteRows("id < 50").ok());                   // 5% of fragment 1
  ASSERT_TRUE(table_->DeleteRows("id >= 1000 AND id < 1300").ok());  // 30% of fragment 2
  CompactionOptions options;
  options.target_rows_per_fragment = 500;  // both fragments are "big"
  CompactionResult result = table_->CompactFiles(options).value();
  EXPECT_EQ(result.fragments_removed, 1);
  EXPECT_EQ(result.deleted_rows_materialized, 300);
  EXPECT_EQ(table_->CountRows().value(), 1650);
  EXPECT_EQ(table_->ListVersions().value().back().num_rows, 1650);
  // Deleting after compaction still works on the rewritten fragment.
  ASSERT_TRUE(table_->DeleteRows("id = 1500").ok());
  EXPECT_EQ(table_->CountRows().value(), 1649);
}

TEST_F(MaintenanceTest, MaxRowsPerPassMakesCompactionIncremental) {
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 50, 50)).ok());
  CompactionOptions options;
  options.target_rows_per_fragment = 100;
  options.max_rows_per_pass = 150;
  EXPECT_EQ(table_->CompactFiles(options).value().fragments_added, 2);
  EXPECT_EQ(Fragments(), 6);
  EXPECT_EQ(table_->CompactFiles(options).value().fragments_added, 2);
  EXPECT_EQ(Fragments(), 4);
  EXPECT_EQ(table_->CountRows().value(), 400);
}

TEST_F(MaintenanceTest, IndexStaysValidAcrossCompaction) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 200, 200)).ok());
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 4;
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  ASSERT_TRUE(table_->DeleteRows("id = 5").ok());
  CompactionOptions options;
  options.target_rows_per_fragment = 10000;
  ASSERT_EQ(table_->CompactFiles(options).value().fragments_added, 1);
  ScanOptions scan;
  scan.where = "id = 777";
  RecordBatch probe = table_->Scan(scan).value();
  const std::span<const float> v = probe.ColumnByName("vector").value().Vector(0);
  RecordBatch result = table_->Search(v).Limit(1).Execute().value();
  EXPECT_EQ(result.ColumnByName("id").value().Int64(0), 777);
  EXPECT_EQ(table_->IndexStats("vector_idx").value().num_unindexed_rows, 0);
}

std::set<std::string> FilesUnder(io::FileSystem* fs, const std::string& dir) {
  std::set<std::string> out;
  auto entries = fs->ListDir(dir);
  if (!entries.ok()) return out;
  for (const auto& entry : *entries) {
    if (entry.is_dir) {
      for (const auto& inner : FilesUnder(fs, dir + "/" + entry.name))
        out.insert(entry.name + "/" + inner);
    } else {
      out.insert(entry.name);
    }
  }
  return out;
}

TEST_F(MaintenanceTest, CleanupRemovesOldVersionsAndExactlyTheUnreferencedFiles) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 10, 10)).ok());  // v2..v7
  ASSERT_TRUE(table_->DeleteRows("id < 5").ok());                                    // v8
  ASSERT_TRUE(table_->CreateTag("keep", 3).ok());
  CompactionOptions compaction;
  compaction.target_rows_per_fragment = 1000;
  ASSERT_TRUE(table_->CompactFiles(compaction).ok());  // v9
  // An orphan from an add that never committed.
  ASSERT_TRUE(io::WriteFileDurably(fs_.get(), "/t/data/orphan.arrow", "x").ok());

  // Within the grace period nothing unreferenced is deleted.
  CleanupOptions keep_files;
  keep_files.older_than_seconds = 0;
  CleanupResult first = table_->CleanupOldVersions(keep_files).value();
  EXPECT_EQ(first.versions_removed, 7);  // all but v3 (tagged) and v9 (latest)
  EXPECT_EQ(first.files_removed, 0);
  EXPECT_GT(first.files_kept_in_grace, 0);

  int64_t progress_calls = 0;
  CleanupOptions all;
  all.older_than_seconds = 0;
  all.delete_unverified = true;
  all.progress = [&](int64_t done, int64_t total) {
    ++progress_calls;
    EXPECT_LE(done, total);
  };
  CleanupResult second = table_->CleanupOldVersions(all).value();
  EXPECT_GT(second.files_removed, 0);
  EXPECT_GT(second.bytes_freed, 0);
  EXPECT_EQ(progress_calls, second.files_removed + second.versions_removed);

  // Exactly the files of v3 (tagged) and v9 (latest) remain.
  std::set<std::string> expected = {"3.manifest", "9.manifest"};
  std::set<std::string> data_expected;
  for (uint64_t version : {3u, 9u}) {
    ASSERT_TRUE(table_->Checkout(version).ok());
    EXPECT_GE(table_->CountRows().value(), 0);
  }
  ASSERT_TRUE(table_->CheckoutLatest().ok());
  EXPECT_EQ(FilesUnder(fs_.get(), "/t/_versions"), expected);
  EXPECT_EQ(FilesUnder(fs_.get(), "/t/data").size(), 3u);  // v3's two fragments + the compacted one
  EXPECT_EQ(FilesUnder(fs_.get(), "/t/deletions").size(), 0u);  // compaction materialized them
  EXPECT_TRUE(table_->Checkout(5).IsNotFound());
  ASSERT_TRUE(table_->CheckoutTag("keep").ok());
  EXPECT_EQ(table_->CountRows().value(), 20);
  ASSERT_TRUE(table_->CheckoutLatest().ok());
  EXPECT_EQ(table_->CountRows().value(), 55);
  EXPECT_EQ(table_->ListVersions().value().size(), 2u);
  ASSERT_TRUE(table_->Add(MakeBatch(1000, 1)).ok());
}

TEST_F(MaintenanceTest, OptimizeStatsHealthAndHistoryTellTheOperatorWhatHappened) {
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 100, 100)).ok());
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 2;
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  for (int i = 12; i < 15; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 100, 100)).ok());
  ASSERT_TRUE(table_->DeleteRows("id < 10").ok());
  AddOptions stream_batch;
  stream_batch.stream_id = "orders";
  stream_batch.batch_id = 41;
  ASSERT_TRUE(table_->Add(MakeBatch(20000, 1), stream_batch).ok());
  ASSERT_TRUE(table_->DeleteRows("id = 20000").ok());
  HealthLimits limits;
  limits.max_fragments = 10;
  limits.max_unindexed_rows = 100;
  limits.target_rows_per_fragment = 10000;
  TableStats stats = table_->Stats(limits).value();
  EXPECT_EQ(stats.num_rows, 1490);
  EXPECT_EQ(stats.num_deleted_rows, 11);
  EXPECT_EQ(stats.num_fragments, 16);
  EXPECT_EQ(stats.num_small_fragments, 16);
  EXPECT_EQ(stats.num_unindexed_rows, 301);
  EXPECT_EQ(stats.num_index_segments, 1);
  EXPECT_EQ(stats.num_versions, 20);
  EXPECT_GT(stats.bytes_on_disk, 0);
  EXPECT_NE(stats.ToJson().find("\"unindexed_rows\":301"), std::string::npos);
  HealthReport health = table_->Health(limits).value();
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.problems.size(), 2u);  // fragments, unindexed rows

  OptimizeOptions options;
  options.compaction.target_rows_per_fragment = 10000;
  options.cleanup.older_than_seconds = 0;
  options.cleanup.delete_unverified = true;
  OptimizeResult result = table_->Optimize(options);
  ASSERT_TRUE(result.ok()) << result.compaction_status << result.indices_status
                           << result.cleanup_status;
  EXPECT_EQ(result.compaction.fragments_removed, 16);
  EXPECT_EQ(result.index_segments_added, 1);
  EXPECT_EQ(result.rows_indexed, 300);
  EXPECT_GT(result.cleanup.versions_removed, 0);
  stats = table_->Stats(limits).value();
  EXPECT_EQ(stats.num_fragments, 1);
  EXPECT_EQ(stats.num_unindexed_rows, 0);
  EXPECT_EQ(stats.num_deleted_rows, 0);
  EXPECT_EQ(stats.num_versions, 1);
  EXPECT_TRUE(table_->Health(limits).value().healthy());
  EXPECT_EQ(table_->CountRows().value(), 1490);
  // Only the latest version is left, and it still carries the stream checkpoint: a replayed
  // batch is a no-op.
  EXPECT_EQ(table_->StreamCheckpoint("orders").value(), 41);
  EXPECT_TRUE(table_->Add(MakeBatch(20000, 1), stream_batch).value().already_committed);

  ASSERT_TRUE(table_->Add(MakeBatch(9000, 7)).ok());
  std::vector<VersionInfo> history = table_->History().value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].operation, "optimize_indices");
  EXPECT_EQ(history[1].operation, "add");
  EXPECT_EQ(history[1].num_unindexed_rows, 7);
  EXPECT_EQ(history[1].num_fragments, 2);

  std::vector<float> probe(8, 1.0f);
  auto searched = table_->Search(probe).Limit(3).Execute();
  ASSERT_TRUE(searched.ok()) << searched.status();
  const std::string metrics = table_->PrometheusMetrics().value();
  EXPECT_NE(metrics.find("# TYPE tessera_fragments gauge"), std::string::npos);
  EXPECT_NE(metrics.find("tessera_fragments{table=\"/t\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tessera_unindexed_rows{table=\"/t\"} 7"), std::string::npos);
  EXPECT_NE(metrics.find("tessera_query_latency_seconds_count{table=\"/t\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE tessera_query_latency_seconds histogram"), std::string::npos);
  EXPECT_NE(metrics.find("tessera_query_latency_seconds_bucket{table=\"/t\",le=\"+Inf\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("tessera_add_latency_seconds_p99{table=\"/t\"}"), std::string::npos);
  // Process-wide counters: this process has committed and searched at least this much.
  auto counter = [&](const std::string& name) {
    const size_t at = metrics.find("\n" + name + " ");
    EXPECT_NE(at, std::string::npos) << name;
    return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + name.size() + 2));
  };
  EXPECT_GE(counter("tessera_queries_total"), 1);
  EXPECT_GE(counter("tessera_commits_total"), 3);
  EXPECT_GE(counter("tessera_rows_flat_scanned_total"), 7);
  EXPECT_GE(counter("tessera_commit_conflicts_total"), 0);
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

class BackpressureTest : public MaintenanceTest {
 protected:
  std::unique_ptr<Table> OpenWith(BackpressureMode mode, int64_t max_wait_ms) {
    TableOptions options = options_;
    options.backpressure.mode = mode;
    options.backpressure.limits.max_fragments = 3;
    options.backpressure.limits.max_small_fragments = -1;
    options.backpressure.limits.max_unindexed_rows = -1;
    options.backpressure.max_wait_ms = max_wait_ms;
    options.backpressure.poll_interval_ms = 5;
    return Table::Open("/t", options).value();
  }
};

TEST_F(BackpressureTest, NoneNeverWarns) {
  auto table = OpenWith(BackpressureMode::kNone, 0);
  for (int i = 0; i < 6; ++i) {
    auto added = table->Add(MakeBatch(i * 10, 10));
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    EXPECT_TRUE(added->warnings.empty());
  }
}

TEST_F(BackpressureTest, WarnNamesTheLimitPassedAndStillCommits) {
  auto table = OpenWith(BackpressureMode::kWarn, 0);
  for (int i = 0; i < 4; ++i) {
    auto added = table->Add(MakeBatch(i * 10, 10));
    ASSERT_TRUE(added.ok());
    EXPECT_TRUE(added->warnings.empty()) << "add " << i << ": " << added->warnings.front();
  }
  // 4 fragments > 3: the fifth add is told, and its rows are committed anyway.
  auto added = table->Add(MakeBatch(40, 10));
  ASSERT_TRUE(added.ok());
  ASSERT_EQ(added->warnings.size(), 1u);
  EXPECT_EQ(added->warnings[0], "fragments: 4 > limit 3 (run compaction)");
  EXPECT_EQ(added->backpressure_wait_ms, 0);
  EXPECT_EQ(table->CountRows().value(), 50);
}

TEST_F(BackpressureTest, WaitIsBoundedAndThenCommitsWithAWarning) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 10, 10)).ok());
  auto table = OpenWith(BackpressureMode::kWait, 50);
  auto added = table->Add(MakeBatch(40, 10));
  ASSERT_TRUE(added.ok());
  EXPECT_GE(added->backpressure_wait_ms, 50);
  ASSERT_EQ(added->warnings.size(), 2u);
  EXPECT_NE(added->warnings[0].find("still past 1 limit"), std::string::npos) << added->warnings[0];
  EXPECT_EQ(table->CountRows().value(), 50);
}

TEST_F(BackpressureTest, WaitEndsWhenMaintenanceCatchesUp) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 10, 10)).ok());
  auto table = OpenWith(BackpressureMode::kWait, 60000);
  std::thread maintenance([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    auto compacted = table_->CompactFiles();  // another handle, as another process would
    EXPECT_TRUE(compacted.ok()) << compacted.status().ToString();
  });
  auto added = table->Add(MakeBatch(40, 10));
  maintenance.join();
  ASSERT_TRUE(added.ok());
  EXPECT_TRUE(added->warnings.empty()) << added->warnings.front();
  EXPECT_LT(added->backpressure_wait_ms, 60000);
  EXPECT_EQ(table->CountRows().value(), 50);
  EXPECT_EQ(table->ListVersions().value().back().num_fragments, 2);
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

TEST_F(MaintenanceTest, RetrainCountsDeletedRowsOnceAcrossCompaction) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 100, 100)).ok());
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 4;
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  ASSERT_TRUE(table_->DeleteRows("id < 150").ok());  // 15%: below the 20% threshold
  CompactionOptions compaction;
  compaction.materialize_deletions_threshold = 0.05;
  auto compacted = table_->CompactFiles(compaction);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_GT(compacted->deleted_rows_materialized, 0);
  auto optimized = table_->OptimizeIndices();
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->indices_retrained, 0);
  ASSERT_TRUE(table_->DeleteRows("id < 300").ok());  // 30%
  optimized = table_->OptimizeIndices();
  ASSERT_TRUE(optimized.ok());
  EXPECT_EQ(optimized->indices_retrained, 1);
  EXPECT_EQ(table_->IndexStats("vector_idx").value().num_indexed_rows, 700);
}

}  // namespace
}  // namespace tessera
