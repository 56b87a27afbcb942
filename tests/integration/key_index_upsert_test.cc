// Upsert through the key column's scalar index (BTREE): the same results as a scan, found
// without scanning the indexed rows, across tail rows, deletions, compaction, optimize_indices
// and the file round trip (cross-layer: table, query and maintenance). KeyIndex itself:
// src/table/key_index_test.cc.
#include <gtest/gtest.h>

#include <map>

#include "io/file_system.h"
#include "tessera/maintenance.h"
#include "tessera/table.h"

namespace tessera {
namespace {

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,vector:vector[4],text:utf8").value();
}

RecordBatch Rows(int64_t first, int64_t end, const std::string& text) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first; id < end; ++id) {
    const float x = static_cast<float>(id);
    EXPECT_TRUE(
        builder.AppendRow({Value(id), Value(std::vector<float>{x, -x, 1, x / 7}), Value(text)})
            .ok());
  }
  return builder.Finish().value();
}

RecordBatch Ids(const std::vector<int64_t>& ids, const std::string& text) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id : ids) {
    const float x = static_cast<float>(id);
    EXPECT_TRUE(
        builder.AppendRow({Value(id), Value(std::vector<float>{x, -x, 1, x / 7}), Value(text)})
            .ok());
  }
  return builder.Finish().value();
}

// id -> text of every live row; fails on a duplicate id.
std::map<int64_t, std::string> Contents(Table* table) {
  RecordBatch rows = table->Scan().value();
  std::map<int64_t, std::string> out;
  for (int64_t r = 0; r < rows.num_rows(); ++r) {
    EXPECT_TRUE(out.emplace(rows.column(0).Int64(r), std::string(rows.column(2).String(r))).second)
        << "id " << rows.column(0).Int64(r) << " twice";
  }
  return out;
}

class KeyIndexUpsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = io::NewMemoryFileSystem();
    options_.file_system = fs_.get();
    // Two tables fed the same operations: `indexed_` gets a BTREE on id, `plain_` scans.
    indexed_ = Table::Create("/indexed", TestSchema(), CreateMode::kCreate, options_).value();
    plain_ = Table::Create("/plain", TestSchema(), CreateMode::kCreate, options_).value();
    for (int b = 0; b < 4; ++b)
      Both([&](Table* t) { return t->Add(Rows(b * 500, (b + 1) * 500, "v0")).status(); });
    IndexConfig btree;
    btree.type = "BTREE";
    ASSERT_TRUE(indexed_->CreateIndex("id", btree).ok());
  }

  void Both(const std::function<Status(Table*)>& op) {
    ASSERT_TRUE(op(indexed_.get()).ok());
    ASSERT_TRUE(op(plain_.get()).ok());
  }

  // Upsert `source` on id into both tables; expect equal counts and contents. Returns the
  // indexed table's result.
  UpsertResult UpsertBoth(const RecordBatch& source) {
    UpsertOptions on;
    on.on = {"id"};
    UpsertResult with = indexed_->Upsert(source, on).value();
    UpsertResult without = plain_->Upsert(source, on).value();
    EXPECT_TRUE(with.used_key_index);
    EXPECT_FALSE(without.used_key_index);
    EXPECT_EQ(with.rows_inserted, without.rows_inserted);
    EXPECT_EQ(with.rows_updated, without.rows_updated);
    EXPECT_EQ(Contents(indexed_.get()), Contents(plain_.get()));
    return with;
  }

  std::unique_ptr<io::FileSystem> fs_;
  TableOptions options_;
  std::unique_ptr<Table> indexed_;
  std::unique_ptr<Table> plain_;
};

TEST_F(KeyIndexUpsertTest, IndexIsListedAndCoversTheTable) {
  const std::vector<IndexInfo> indices = indexed_->ListIndices().value();
  ASSERT_EQ(indices.size(), 1u);
  EXPECT_EQ(indices[0].name, "id_idx");
  EXPECT_EQ(indices[0].type, "BTREE");
  EXPECT_EQ(indices[0].column, "id");
  EXPECT_EQ(indices[0].num_indexed_rows, 2000);
  EXPECT_EQ(indices[0].num_unindexed_rows, 0);
  EXPECT_GT(indices[0].size_bytes, 0);
  // A key index is not a vector index: the vector tail is still every row, and search works.
  EXPECT_EQ(indexed_->Stats().value().num_unindexed_rows, 2000);
  const std::vector<float> query = {5, -5, 1, 5.0f / 7};
  RecordBatch hit = indexed_->Search(query).Limit(1).Execute().value();
  EXPECT_EQ(hit.ColumnByName("id").value().Int64(0), 5);
}

TEST_F(KeyIndexUpsertTest, UpsertMatchesThroughTheIndexWithoutScanning) {
  UpsertResult result = UpsertBoth(Rows(1990, 2010, "v1"));
  EXPECT_EQ(result.rows_updated, 10);
  EXPECT_EQ(result.rows_inserted, 10);
  EXPECT_EQ(result.rows_scanned, 0);  // every table row is covered by the index

  // Rows added since (the upsert's own 20 and 100 more) are the tail: scanned, and matched.
  Both([](Table* t) { return t->Add(Rows(3000, 3100, "v0")).status(); });
  result = UpsertBoth(Ids({3050, 2005, 1995, 5, 5000}, "v2"));
  EXPECT_EQ(result.rows_updated, 4);
  EXPECT_EQ(result.rows_inserted, 1);
  EXPECT_EQ(result.rows_scanned, 120);

  // optimize_indices indexes the tail: back to no scan.
  const OptimizeIndicesResult optimized = indexed_->OptimizeIndices().value();
  EXPECT_EQ(optimized.segments_added, 1);
  EXPECT_EQ(indexed_->IndexStats("id_idx").value().num_segments, 2);
  EXPECT_EQ(indexed_->IndexStats("id_idx").value().num_unindexed_rows, 0);
  result = UpsertBoth(Ids({3051, 1996, 6, 6000}, "v3"));
  EXPECT_EQ(result.rows_updated, 3);
  EXPECT_EQ(result.rows_inserted, 1);
  EXPECT_EQ(result.rows_scanned, 0);  // everything before this upsert is indexed
  EXPECT_EQ(Contents(indexed_.get()).at(3051), "v3");
}

TEST_F(KeyIndexUpsertTest, DeletedAndCompactedAwayRowsAreNotMatched) {
  Both([](Table* t) { return t->DeleteRows("id >= 100 AND id < 300").status(); });
  UpsertResult result = UpsertBoth(Ids({150, 250, 350}, "v1"));
  EXPECT_EQ(result.rows_inserted, 2);  // 150 and 250 were deleted
  EXPECT_EQ(result.rows_updated, 1);
  // Compaction materializes the deletions (the rows leave the fragments; ids stay stable): the
  // index still names them, and they must still not match.
  Both([](Table* t) { return t->DeleteRows("id >= 400 AND id < 480").status(); });
  Both([](Table* t) { return t->CompactFiles().status(); });
  result = UpsertBoth(Ids({410, 479, 480, 150}, "v2"));
  EXPECT_EQ(result.rows_inserted, 2);
  EXPECT_EQ(result.rows_updated, 2);  // 480 and the re-inserted 150
  const auto contents = Contents(indexed_.get());
  EXPECT_EQ(contents.at(150), "v2");
  EXPECT_EQ(contents.count(420), 0u);
}

TEST_F(KeyIndexUpsertTest, TheIndexIsUsedOnlyWhereItGivesTheSameAnswer) {
  // A composite key, or deleting rows not in the source, scans.
  UpsertOptions composite;
  composite.on = {"id", "text"};
  UpsertResult result = indexed_->Upsert(Ids({1, 2}, "v0"), composite).value();
  EXPECT_FALSE(result.used_key_index);
  EXPECT_EQ(result.rows_updated, 2);
  UpsertOptions sync;
  sync.on = {"id"};
  sync.when_not_matched_by_source_delete = true;
  sync.when_not_matched_by_source_filter = "id < 10";
  result = indexed_->Upsert(Ids({3, 4}, "v1"), sync).value();
  EXPECT_FALSE(result.used_key_index);
  EXPECT_EQ(result.rows_deleted, 8);
  // Reopening the table reads the index from its file.
  auto reopened = Table::Open("/indexed", options_).value();
  UpsertOptions on;
  on.on = {"id"};
  result = reopened->Upsert(Ids({3, 1500}, "v2"), on).value();
  EXPECT_TRUE(result.used_key_index);
  EXPECT_EQ(result.rows_updated, 2);
}

TEST_F(KeyIndexUpsertTest, BadIndexRequestsAreRefused) {
  IndexConfig btree;
  btree.type = "btree";  // any case
  btree.name = "vec_btree";
  const Status on_vector = indexed_->CreateIndex("vector", btree);
  EXPECT_TRUE(on_vector.IsInvalidArgument()) << on_vector;
  EXPECT_NE(on_vector.message().find("BTREE"), std::string::npos) << on_vector;
  EXPECT_TRUE(indexed_->CreateIndex("nope", btree).IsInvalidArgument());
  btree.num_partitions = 4;
  EXPECT_TRUE(indexed_->CreateIndex("text", btree).IsInvalidArgument());
  btree.num_partitions = 0;
  ASSERT_TRUE(indexed_->CreateIndex("text", btree).ok());  // utf8 keys work
  EXPECT_EQ(indexed_->ListIndices().value().size(), 2u);
  ASSERT_TRUE(indexed_->DropIndex("vec_btree").ok());
  EXPECT_EQ(indexed_->ListIndices().value().size(), 1u);
}

}  // namespace
}  // namespace tessera
