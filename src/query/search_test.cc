#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <thread>

#include "io/file_system.h"
#include "tessera/table.h"

namespace tessera {
namespace {

constexpr int kDim = 32;

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,category:int32,vector:vector[32],text:utf8").value();
}

// Clustered data: 20 centers, gaussian noise. Row `id` has category id % 100.
std::vector<float> MakeVectors(int64_t first_id, int64_t n) {
  std::mt19937 centers_rng(7);
  std::normal_distribution<float> unit(0, 1);
  std::vector<float> centers(20 * kDim);
  for (float& c : centers) c = unit(centers_rng) * 4;
  std::vector<float> out(static_cast<size_t>(n) * kDim);
  for (int64_t i = 0; i < n; ++i) {
    std::mt19937 rng(static_cast<unsigned>(first_id + i));
    const int center = static_cast<int>((first_id + i) % 20);
    for (int d = 0; d < kDim; ++d) out[i * kDim + d] = centers[center * kDim + d] + unit(rng);
  }
  return out;
}

RecordBatch MakeBatch(int64_t first_id, int64_t n) {
  const std::vector<float> vectors = MakeVectors(first_id, n);
  RecordBatchBuilder builder(TestSchema());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t id = first_id + i;
    std::vector<float> v(vectors.begin() + i * kDim, vectors.begin() + (i + 1) * kDim);
    EXPECT_TRUE(builder
                    .AppendRow({Value(id), Value(id % 100), Value(std::move(v)),
                                Value("t" + std::to_string(id))})
                    .ok());
  }
  return builder.Finish().value();
}

std::vector<int64_t> Ids(const RecordBatch& batch) {
  std::vector<int64_t> ids;
  const Array column = batch.ColumnByName("id").value();
  for (int64_t row = 0; row < batch.num_rows(); ++row) ids.push_back(column.Int64(row));
  return ids;
}

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = io::NewMemoryFileSystem();
    options_.file_system = fs_.get();
    table_ = Table::Create("/t", TestSchema(), CreateMode::kCreate, options_).value();
    for (int b = 0; b < 6; ++b) ASSERT_TRUE(table_->Add(MakeBatch(b * 1000, 1000)).ok());
  }

  // Exact top-k ids by brute force over rows [0, num_rows) (all live).
  std::vector<int64_t> BruteForce(const std::vector<float>& query, int64_t num_rows, int k) {
    const std::vector<float> all = MakeVectors(0, num_rows);
    std::vector<std::pair<float, int64_t>> scored;
    for (int64_t i = 0; i < num_rows; ++i) {
      float d = 0;
      for (int j = 0; j < kDim; ++j)
        d += (all[i * kDim + j] - query[j]) * (all[i * kDim + j] - query[j]);
      scored.push_back({d, i});
    }
    std::sort(scored.begin(), scored.end());
    std::vector<int64_t> ids;
    for (int i = 0; i < k; ++i) ids.push_back(scored[i].second);
    return ids;
  }

  std::unique_ptr<io::FileSystem> fs_;
  TableOptions options_;
  std::unique_ptr<Table> table_;
};

TEST_F(SearchTest, FlatSearchIsExactAndSorted) {
  const std::vector<float> query = MakeVectors(123456, 1);
  QueryStats stats;
  RecordBatch result = table_->Search(query).Limit(10).WithRowId().Execute(&stats).value();
  ASSERT_EQ(result.num_rows(), 10);
  EXPECT_EQ(Ids(result), BruteForce(query, 6000, 10));
  const Array distance = result.ColumnByName("_distance").value();
  for (int64_t row = 1; row < 10; ++row)
    EXPECT_LE(distance.Float32(row - 1), distance.Float32(row));
  EXPECT_EQ(result.ColumnByName("_rowid").value().Int64(0), Ids(result)[0]);
  EXPECT_EQ(stats.rows_flat_scanned, 6000);
  EXPECT_EQ(stats.segments_searched, 0);
  // Searching for a stored vector finds it at distance 0.
  const std::vector<float> stored = MakeVectors(4321, 1);
  RecordBatch self = table_->Search(stored).Limit(1).Select({"id", "text"}).Execute().value();
  EXPECT_EQ(self.column(0).Int64(0), 4321);
  EXPECT_EQ(self.column(1).String(0), "t4321");
  EXPECT_EQ(self.num_columns(), 3);  // id, text, _distance
  EXPECT_FLOAT_EQ(self.ColumnByName("_distance").value().Float32(0), 0.0f);
}

TEST_F(SearchTest, DotAndCosineRankAsDefined) {
  std::vector<float> query(kDim, 0.0f);
  query[0] = 1;
  for (DistanceType type : {DistanceType::kDot, DistanceType::kCosine}) {
    RecordBatch result = table_->Search(query).Distance(type).Limit(5).Execute().value();
    const std::vector<float> all = MakeVectors(0, 6000);
    std::vector<std::pair<float, int64_t>> scored;
    for (int64_t i = 0; i < 6000; ++i) {
      const float* v = all.data() + i * kDim;
      float norm = 0;
      for (int d = 0; d < kDim; ++d) norm += v[d] * v[d];
      scored.push_back({type == DistanceType::kDot ? -v[0] : 1 - v[0] / std::sqrt(norm), i});
    }
    std::sort(scored.begin(), scored.end());
    EXPECT_EQ(Ids(result)[0], scored[0].second) << DistanceTypeName(type);
    EXPECT_NEAR(result.ColumnByName("_distance").value().Float32(0), scored[0].first, 1e-3);
  }
}

TEST_F(SearchTest, BadQueriesAreRejected) {
  std::vector<float> short_query(kDim - 1, 0.0f);
  Status st = table_->Search(short_query).Execute().status();
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("dimension 31"), std::string::npos) << st;
  std::vector<float> nan_query(kDim, 0.0f);
  nan_query[3] = std::nanf("");
  EXPECT_TRUE(table_->Search(nan_query).Execute().status().IsInvalidArgument());
  std::vector<float> query(kDim, 0.0f);
  EXPECT_TRUE(table_->Search(query).Where("nope = 1").Execute().status().IsInvalidArgument());
  EXPECT_TRUE(table_->Search(query).Where("id >").Execute().status().IsInvalidArgument());
  EXPECT_TRUE(table_->Search(query).Select({"nope"}).Execute().status().IsInvalidArgument());
  EXPECT_TRUE(table_->Search(query).Column("text").Execute().status().IsInvalidArgument());
  EXPECT_TRUE(table_->Search(query).Limit(0).Execute().status().IsInvalidArgument());
  EXPECT_TRUE(table_->CreateIndex("text").IsInvalidArgument());
  IndexConfig pq;
  pq.type = "IVF_PQ";
  pq.num_sub_vectors = 5;  // does not divide the dimension
  const Status bad_pq = table_->CreateIndex("vector", pq);
  EXPECT_TRUE(bad_pq.IsInvalidArgument()) << bad_pq;
  EXPECT_NE(bad_pq.message().find("num_sub_vectors"), std::string::npos) << bad_pq;
  IndexConfig sq_with_pq_option;
  sq_with_pq_option.num_sub_vectors = 4;  // an IVF_PQ parameter on IVF_HNSW_SQ
  EXPECT_TRUE(table_->CreateIndex("vector", sq_with_pq_option).IsInvalidArgument());
  EXPECT_TRUE(table_->ListIndices().value().empty());
  IndexConfig bogus;
  bogus.type = "BTREE";
  EXPECT_TRUE(table_->CreateIndex("vector", bogus).IsInvalidArgument());
}

TEST_F(SearchTest, IndexPlusTailFindsNewRowsAndSkipsDeletedOnes) {
  IndexConfig config;
  config.num_partitions = 4;
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  IndexInfo info = table_->IndexStats("vector_idx").value();
  EXPECT_EQ(info.type, "IVF_HNSW_SQ");
  EXPECT_EQ(info.num_indexed_rows, 6000);
  EXPECT_EQ(info.num_unindexed_rows, 0);
  EXPECT_EQ(info.num_segments, 1);
  EXPECT_GT(info.size_bytes, 0);

  // Rows added after the index was built are found by the next query (flat-scanned tail).
  ASSERT_TRUE(table_->Add(MakeBatch(100000, 500)).ok());
  const std::vector<float> fresh = MakeVectors(100123, 1);
  QueryStats stats;
  RecordBatch result = table_->Search(fresh).Limit(3).Execute(&stats).value();
  EXPECT_EQ(Ids(result)[0], 100123);
  EXPECT_EQ(stats.segments_searched, 1);
  EXPECT_EQ(stats.rows_flat_scanned, 500);
  EXPECT_EQ(table_->IndexStats("vector_idx").value().num_unindexed_rows, 500);
  // fast_search skips the tail; bypass_vector_index scans everything.
  RecordBatch fast = table_->Search(fresh).Limit(3).FastSearch().Execute(&stats).value();
  EXPECT_NE(Ids(fast)[0], 100123);
  EXPECT_EQ(stats.rows_flat_scanned, 0);
  table_->Search(fresh).Limit(3).BypassVectorIndex().Execute(&stats).value();
  EXPECT_EQ(stats.segments_searched, 0);
  EXPECT_EQ(stats.rows_flat_scanned, 6500);

  // Deleted rows never come back, from the index or from the tail.
  const std::vector<float> old_row = MakeVectors(2500, 1);
  ASSERT_TRUE(table_->DeleteRows("id = 2500 OR id = 100123").ok());
  EXPECT_NE(Ids(table_->Search(old_row).Limit(5).Execute().value())[0], 2500);
  std::vector<int64_t> ids = Ids(table_->Search(fresh).Limit(5).Execute().value());
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 100123), 0);

  // optimize_indices turns the tail into a segment without retraining.
  OptimizeIndicesResult optimized = table_->OptimizeIndices().value();
  EXPECT_EQ(optimized.segments_added, 1);
  EXPECT_EQ(optimized.rows_indexed, 499);
  info = table_->IndexStats("vector_idx").value();
  EXPECT_EQ(info.num_segments, 2);
  EXPECT_EQ(info.num_unindexed_rows, 0);
  const std::vector<float> tail_row = MakeVectors(100321, 1);
  result = table_->Search(tail_row).Limit(1).Execute(&stats).value();
  EXPECT_EQ(Ids(result)[0], 100321);
  EXPECT_EQ(stats.segments_searched, 2);
  EXPECT_EQ(stats.rows_flat_scanned, 0);
  EXPECT_EQ(table_->OptimizeIndices().value().segments_added, 0);  // nothing left to index

  EXPECT_EQ(table_->ListIndices().value().size(), 1u);
  ASSERT_TRUE(table_->DropIndex("vector_idx").ok());
  EXPECT_TRUE(table_->DropIndex("vector_idx").IsNotFound());
  EXPECT_TRUE(table_->ListIndices().value().empty());
}

TEST_F(SearchTest, IndexedRecallAgainstExactSearch) {
  IndexConfig config;
  config.num_partitions = 8;
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  int hits = 0;
  constexpr int kQueries = 40;
  for (int q = 0; q < kQueries; ++q) {
    const std::vector<float> query = MakeVectors(500000 + q, 1);
    const std::vector<int64_t> exact = BruteForce(query, 6000, 10);
    const std::vector<int64_t> got =
        Ids(table_->Search(query).Limit(10).Nprobes(4).RefineFactor(4).Execute().value());
    for (int64_t id : got) hits += std::count(exact.begin(), exact.end(), id) ? 1 : 0;
  }
  const double recall = static_cast<double>(hits) / (kQueries * 10);
  EXPECT_GE(recall, 0.9) << recall;
}

TEST_F(SearchTest, IndexBuildKeepsToItsThreadCount) {
  // 8 partitions of ~750 rows: their graphs are built one per thread and each reports its
  // progress from the thread that built it. With one thread, that is always the caller's.
  IndexConfig config;
  config.num_partitions = 8;
  config.num_threads = 1;
  std::set<std::thread::id> reporters;
  config.progress = [&](double) { reporters.insert(std::this_thread::get_id()); };
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  EXPECT_EQ(reporters, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST_F(SearchTest, IvfPqThroughTheTable) {
  IndexConfig config;
  config.type = "IVF_PQ";
  config.num_partitions = 8;
  config.num_sub_vectors = 8;  // 4 floats per byte
  int progress_calls = 0;
  config.progress = [&](double) { ++progress_calls; };
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  EXPECT_GT(progress_calls, 0);
  IndexInfo info = table_->IndexStats("vector_idx").value();
  EXPECT_EQ(info.type, "IVF_PQ");
  EXPECT_EQ(info.num_indexed_rows, 6000);
  EXPECT_NE(info.params_json.find("\"num_sub_vectors\":8"), std::string::npos) << info.params_json;
  // 8 code bytes + an 8-byte row id per row (plus centroids and codebooks): far below the
  // 128 bytes of each float vector.
  EXPECT_LT(info.size_bytes, 6000 * 128 / 2);

  // Recall with an exact re-rank, over index + tail.
  ASSERT_TRUE(table_->Add(MakeBatch(6000, 1000)).ok());
  int hits = 0;
  constexpr int kQueries = 40;
  for (int q = 0; q < kQueries; ++q) {
    const std::vector<float> query = MakeVectors(500000 + q, 1);
    const std::vector<int64_t> exact = BruteForce(query, 7000, 10);
    QueryStats stats;
    const RecordBatch result =
        table_->Search(query).Limit(10).Nprobes(4).RefineFactor(10).Execute(&stats).value();
    EXPECT_EQ(stats.rows_flat_scanned, 1000);
    for (int64_t id : Ids(result)) hits += std::count(exact.begin(), exact.end(), id) ? 1 : 0;
    // Re-ranked distances are exact.
    const std::vector<float> row = MakeVectors(Ids(result)[0], 1);
    float exact_distance = 0;
    for (int d = 0; d < kDim; ++d) exact_distance += (row[d] - query[d]) * (row[d] - query[d]);
    EXPECT_NEAR(result.ColumnByName("_distance").value().Float32(0), exact_distance,
                1e-3 * (1 + exact_distance));
  }
  EXPECT_GE(static_cast<double>(hits) / (kQueries * 10), 0.9);

  // The tail becomes a segment with the same centroids and codebooks; its rows are found.
  OptimizeIndicesResult optimized = table_->OptimizeIndices().value();
  EXPECT_EQ(optimized.segments_added, 1);
  EXPECT_EQ(optimized.rows_indexed, 1000);
  info = table_->IndexStats("vector_idx").value();
  EXPECT_EQ(info.num_segments, 2);
  EXPECT_EQ(info.num_unindexed_rows, 0);
  for (int64_t id : {6001, 6500, 6999}) {
    const std::vector<float> query = MakeVectors(id, 1);
    QueryStats stats;
    const RecordBatch result =
        table_->Search(query).Limit(1).RefineFactor(10).Execute(&stats).value();
    EXPECT_EQ(Ids(result)[0], id);
    EXPECT_EQ(stats.segments_searched, 2);
  }
  // A 1% prefilter still returns k rows.
  const RecordBatch filtered = table_->Search(MakeVectors(123456, 1))
                                   .Where("category = 42")
                                   .Limit(10)
                                   .RefineFactor(4)
                                   .Execute()
                                   .value();
  ASSERT_EQ(filtered.num_rows(), 10);
  for (int64_t id : Ids(filtered)) EXPECT_EQ(id % 100, 42);
}

TEST_F(SearchTest, PrefilterReturnsExactlyKForSelectiveFilters) {
  IndexConfig config;
  config.num_partitions = 4;
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  ASSERT_TRUE(table_->Add(MakeBatch(6000, 1000)).ok());  // a tail too
  const std::vector<float> query = MakeVectors(777777, 1);
  // 1% of rows: category = 42 -> 70 rows; 0.1%: id % 1000 = 7 -> 7 rows.
  for (bool bypass : {false, true}) {
    RecordBatch one_percent = table_->Search(query)
                                  .Where("category = 42")
                                  .Limit(10)
                                  .BypassVectorIndex(bypass)
                                  .Execute()
                                  .value();
    ASSERT_EQ(one_percent.num_rows(), 10);
    for (int64_t id : Ids(one_percent)) EXPECT_EQ(id % 100, 42);
    RecordBatch tenth = table_->Search(query)
                            .Where("id IN (7, 1007, 2007, 3007, 4007, 5007, 6007)")
                            .Limit(10)
                            .BypassVectorIndex(bypass)
                            .Execute()
                            .value();
    EXPECT_EQ(tenth.num_rows(), 7);
  }
  // Postfilter filters the k nearest: fewer (or no) rows may survive.
  RecordBatch post =
      table_->Search(query).Where("category = 42").Prefilter(false).Limit(10).Execute().value();
  EXPECT_LE(post.num_rows(), 10);
  for (int64_t id : Ids(post)) EXPECT_EQ(id % 100, 42);
}

TEST_F(SearchTest, BatchSearchMatchesSingleQueries) {
  const std::vector<float> queries = MakeVectors(900000, 8);
  VectorQuery query = table_->Search({}).Limit(5);
  std::vector<RecordBatch> results = query.ExecuteBatch(queries, 8).value();
  ASSERT_EQ(results.size(), 8u);
  for (int q = 0; q < 8; ++q) {
    std::vector<float> one(queries.begin() + q * kDim, queries.begin() + (q + 1) * kDim);
    EXPECT_EQ(Ids(results[q]), Ids(table_->Search(one).Limit(5).Execute().value())) << q;
  }
  EXPECT_TRUE(query.ExecuteBatch(queries, 7).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tessera
