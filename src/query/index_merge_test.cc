// optimize_indices merges an index's segments once there would be more than 16 (size-tiered:
// the lowest tier of similar-sized segments): the segment count stays bounded, a merge never
// re-indexes the whole index, every row stays covered exactly once, and results do not change.
// An IVF_HNSW_SQ tail is indexed first without graphs, and such segments are merged into one
// with graphs once they hold enough rows.
#include <gtest/gtest.h>

#include <random>

#include "index/ivf_hnsw_sq.h"
#include "io/file_system.h"
#include "query/query_internal.h"
#include "table/snapshot.h"
#include "tessera/table.h"

namespace tessera {
namespace {

Schema TestSchema() { return Schema::Parse("id:int64 not null,vector:vector[8]").value(); }

RecordBatch Rows(int64_t first, int64_t n) {
  std::mt19937 rng(static_cast<uint32_t>(first));
  std::normal_distribution<float> noise(0, 1);
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first; id < first + n; ++id) {
    std::vector<float> v(8);
    for (float& x : v) x = noise(rng) + static_cast<float>(id % 5);
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(std::move(v))}).ok());
  }
  return builder.Finish().value();
}

std::vector<int64_t> Ids(const RecordBatch& batch) {
  std::vector<int64_t> ids;
  for (int64_t r = 0; r < batch.num_rows(); ++r) ids.push_back(batch.column(0).Int64(r));
  return ids;
}

TEST(IndexMergeTest, SegmentsStayBoundedAndRowsCoveredOnce) {
  auto fs = io::NewMemoryFileSystem();
  TableOptions options;
  options.file_system = fs.get();
  auto table = Table::Create("/t", Rows(0, 500), CreateMode::kCreate, options).value();
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 4;
  ASSERT_TRUE(table->CreateIndex("vector", config).ok());
  int64_t merged = 0;
  int64_t next_id = 500;
  for (int round = 0; round < 24; ++round) {
    ASSERT_TRUE(table->Add(Rows(next_id, 50)).ok());
    next_id += 50;
    if (round % 4 == 3) {
      ASSERT_TRUE(table->DeleteRows("id = " + std::to_string(next_id - 7)).ok());
    }
    auto optimized = table->OptimizeIndices();
    ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
    merged += optimized->segments_merged;
    if (optimized->segments_merged > 0) {
      // The small tail segments merge among themselves; the 500-row first segment stays.
      EXPECT_LE(optimized->rows_indexed, table->CountRows().value() - 450) << "round " << round;
    }
    const IndexInfo info = table->IndexStats("vector_idx").value();
    EXPECT_LE(info.num_segments, 16) << "round " << round;
    EXPECT_EQ(info.num_unindexed_rows, 0) << "round " << round;
    EXPECT_EQ(info.num_indexed_rows, table->CountRows().value()) << "round " << round;
  }
  EXPECT_GT(merged, 0);
  // IVF_FLAT probing every partition of every segment is exact: it answers as the flat scan.
  for (int64_t q = 0; q < 20; ++q) {
    const RecordBatch query_row = Rows(10000 + q, 1);
    const std::vector<float> query(query_row.column(1).Vector(0).begin(),
                                   query_row.column(1).Vector(0).end());
    auto indexed = table->Search(query).Limit(10).Nprobes(1000).Execute().value();
    auto exact = table->Search(query).Limit(10).BypassVectorIndex().Execute().value();
    EXPECT_EQ(Ids(indexed), Ids(exact)) << "query " << q;
  }
}

// The segments of the table's one index, loaded: (rows, has graphs) each, in manifest order.
std::vector<std::pair<int64_t, bool>> Segments(Table* table) {
  auto snapshot = table->CurrentSnapshot().value();
  std::vector<std::pair<int64_t, bool>> out;
  for (const auto& meta : snapshot->manifest().index_segments) {
    auto loaded = query::LoadSegment(table->internal_store(), meta).value();
    const auto* ivf = dynamic_cast<const index::IvfHnswSqIndex*>(loaded.get());
    EXPECT_NE(ivf, nullptr);
    if (ivf == nullptr) continue;
    const bool graphs = !ivf->graphs().empty();
    EXPECT_EQ(graphs, ivf->type() == index::IndexType::kIvfHnswSq);
    EXPECT_EQ(meta.params_json.find("\"graphs\":false") == std::string::npos, graphs)
        << meta.params_json;
    out.emplace_back(ivf->num_rows(), graphs);
  }
  return out;
}

TEST(IndexMergeTest, IvfHnswSqTailsAreGraphlessUntilMergedIntoGraphs) {
  auto fs = io::NewMemoryFileSystem();
  TableOptions options;
  options.file_system = fs.get();
  auto table = Table::Create("/t", Rows(0, 2000), CreateMode::kCreate, options).value();
  IndexConfig config;
  config.type = "IVF_HNSW_SQ";
  config.num_partitions = 4;
  ASSERT_TRUE(table->CreateIndex("vector", config).ok());
  using Segs = std::vector<std::pair<int64_t, bool>>;
  EXPECT_EQ(Segments(table.get()), (Segs{{2000, true}}));
  int64_t next_id = 2000;
  Segs expected = {{2000, true}};
  // Tails of 7,000 rows: each indexed without graphs (below 32,768 rows), until together they
  // pass 32,768 rows; then the same run's second commit merges them into one with graphs.
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_TRUE(table->Add(Rows(next_id, 7000)).ok());
    next_id += 7000;
    const uint64_t before = table->version().value();
    auto optimized = table->OptimizeIndices();
    ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
    if (round < 4) {
      expected.emplace_back(7000, false);
      EXPECT_EQ(optimized->segments_merged, 0);
      EXPECT_EQ(optimized->rows_indexed, 7000);
      EXPECT_EQ(optimized->version, before + 1);
    } else {
      expected = {{2000, true}, {35000, true}};
      EXPECT_EQ(optimized->segments_merged, 5);  // 4 graph-less + the tail's, just committed
      EXPECT_EQ(optimized->rows_indexed, 7000 + 35000);
      EXPECT_EQ(optimized->version, before + 2);  // the tail's commit, then the merge's
    }
    EXPECT_EQ(Segments(table.get()), expected);
    const IndexInfo info = table->IndexStats("vector_idx").value();
    EXPECT_EQ(info.num_unindexed_rows, 0);
    EXPECT_EQ(info.num_indexed_rows, next_id);
  }
  // Rows are found through graph-less and graph segments alike (a query is its own nearest).
  for (int64_t q = 0; q < 10; ++q) {
    const int64_t id = (q * 3917) % next_id;
    ScanOptions scan;
    scan.columns = {"vector"};
    scan.where = "id = " + std::to_string(id);
    RecordBatch rows = table->Scan(scan).value();
    const std::vector<float> query(rows.column(0).Vector(0).begin(),
                                   rows.column(0).Vector(0).end());
    auto found = table->Search(query).Limit(1).Nprobes(4).Execute().value();
    ASSERT_EQ(found.num_rows(), 1);
    EXPECT_EQ(found.column(0).Int64(0), id);
  }
}

// Rows near the unit axis `cluster` (scaled by 10): 8 well separated clusters in 8-d.
RecordBatch ClusterRows(int64_t first, int64_t n, int cluster_or_all) {
  std::mt19937 rng(static_cast<uint32_t>(first));
  std::normal_distribution<float> noise(0, 0.1f);
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first; id < first + n; ++id) {
    const int cluster = cluster_or_all < 0 ? static_cast<int>(id % 8) : cluster_or_all;
    std::vector<float> v(8);
    for (int d = 0; d < 8; ++d) v[d] = noise(rng) + (d == cluster ? 10.0f : 0.0f);
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(std::move(v))}).ok());
  }
  return builder.Finish().value();
}

TEST(IndexMergeTest, AnIndexWhosePartitionsGrewUnbalancedIsRetrained) {
  auto fs = io::NewMemoryFileSystem();
  TableOptions options;
  options.file_system = fs.get();
  auto table = Table::Create("/t", ClusterRows(0, 1000, -1), CreateMode::kCreate, options).value();
  IndexConfig config;
  config.type = "IVF_SQ";  // tail segments join the trained partitions
  config.num_partitions = 8;
  ASSERT_TRUE(table->CreateIndex("vector", config).ok());
  // Balanced growth: no retrain.
  ASSERT_TRUE(table->Add(ClusterRows(1000, 800, -1)).ok());
  auto optimized = table->OptimizeIndices();
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->indices_retrained, 0);
  EXPECT_EQ(optimized->segments_added, 1);
  // Everything new lands in one partition: 1 of 8 partitions holds > 4x the mean.
  ASSERT_TRUE(table->Add(ClusterRows(1800, 6000, 3)).ok());
  optimized = table->OptimizeIndices();
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->segments_added, 1);  // the tail first
  optimized = table->OptimizeIndices();     // then the imbalance is seen
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->indices_retrained, 1);
  const IndexInfo info = table->IndexStats("vector_idx").value();
  EXPECT_EQ(info.num_segments, 1);
  EXPECT_EQ(info.num_indexed_rows, 7800);
}

TEST(IndexMergeTest, AnIndexWhoseRowsAreMostlyDeletedIsRetrained) {
  auto fs = io::NewMemoryFileSystem();
  TableOptions options;
  options.file_system = fs.get();
  auto table = Table::Create("/t", Rows(0, 1000), CreateMode::kCreate, options).value();
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 8;
  config.metric = DistanceType::kCosine;
  ASSERT_TRUE(table->CreateIndex("vector", config).ok());
  // 10% deleted: below the threshold, only the (empty) tail would be indexed.
  ASSERT_TRUE(table->DeleteRows("id < 100").ok());
  auto optimized = table->OptimizeIndices();
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->indices_retrained, 0);
  // 40% deleted: rebuilt from scratch on the live rows.
  ASSERT_TRUE(table->DeleteRows("id < 400").ok());
  ASSERT_TRUE(table->Add(Rows(1000, 50)).ok());
  optimized = table->OptimizeIndices();
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->indices_retrained, 1);
  EXPECT_GT(optimized->version, 0u);
  const IndexInfo info = table->IndexStats("vector_idx").value();
  EXPECT_EQ(info.num_segments, 1);
  EXPECT_EQ(info.num_indexed_rows, 650);
  EXPECT_EQ(info.num_unindexed_rows, 0);
  EXPECT_EQ(info.type, "IVF_FLAT");
  EXPECT_EQ(info.metric, "cosine");  // the rebuilt index keeps its parameters
  EXPECT_NE(info.params_json.find("\"num_partitions\":8"), std::string::npos) << info.params_json;
  EXPECT_NE(info.params_json.find("\"num_partitions_requested\":8"), std::string::npos);
  EXPECT_EQ(table->OptimizeIndices().value().indices_retrained, 0);
}

}  // namespace
}  // namespace tessera
