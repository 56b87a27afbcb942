#include "tessera/table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "io/file_system.h"
#include "tessera/database.h"
#include "testing/backend_test.h"

namespace tessera {
namespace {

constexpr int kDim = 4;

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,vector:vector[4],text:utf8,score:float64").value();
}

// Rows [first_id, first_id + n): vector = (id, id+1, id+2, id+3), text "t<id>", score id/2.
RecordBatch MakeBatch(int64_t first_id, int64_t n) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first_id; id < first_id + n; ++id) {
    std::vector<float> v(kDim);
    for (int d = 0; d < kDim; ++d) v[d] = static_cast<float>(id + d);
    EXPECT_TRUE(builder
                    .AppendRow({Value(id), Value(v), Value("t" + std::to_string(id)),
                                Value(static_cast<double>(id) / 2)})
                    .ok());
  }
  return builder.Finish().value();
}

std::multiset<int64_t> Ids(Table* table, const std::string& where = "") {
  ScanOptions options;
  options.where = where;
  options.columns = {"id"};
  RecordBatch batch = table->Scan(options).value();
  std::multiset<int64_t> ids;
  for (int64_t row = 0; row < batch.num_rows(); ++row) ids.insert(batch.column(0).Int64(row));
  return ids;
}

// The storage core's contract, on every backend a table can live on: memory, local disk and
// S3 (the test gateway).
class TableTest : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    options_.file_system = root().file_system();
    path_ = root().Path("t");
    table_ = Table::Create(path_, TestSchema(), CreateMode::kCreate, options_).value();
  }

  TableOptions options_;
  std::string path_;
  std::unique_ptr<Table> table_;
};

TEST_P(TableTest, EachAddCommitsOneVersionWithStableRowIds) {
  EXPECT_EQ(table_->version().value(), 1u);
  AddResult first = table_->Add(MakeBatch(0, 10)).value();
  AddResult second = table_->Add(MakeBatch(10, 5)).value();
  EXPECT_EQ(first.version, 2u);
  EXPECT_EQ(first.first_row_id, 0u);
  EXPECT_EQ(second.version, 3u);
  EXPECT_EQ(second.first_row_id, 10u);
  EXPECT_EQ(table_->CountRows().value(), 15);
  ScanOptions options;
  options.with_row_id = true;
  RecordBatch all = table_->Scan(options).value();
  ASSERT_EQ(all.num_rows(), 15);
  const Array rowid = all.ColumnByName("_rowid").value();
  for (int64_t row = 0; row < 15; ++row) {
    EXPECT_EQ(rowid.Int64(row), row);
    EXPECT_EQ(all.column(0).Int64(row), row);
    EXPECT_EQ(all.column(2).String(row), "t" + std::to_string(row));
    EXPECT_EQ(all.column(1).Vector(row)[3], static_cast<float>(row + 3));
  }
  std::vector<VersionInfo> versions = table_->ListVersions().value();
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[0].operation, "create");
  EXPECT_EQ(versions[1].operation, "add");
  EXPECT_EQ(versions[2].num_rows, 15);
  EXPECT_EQ(versions[2].num_fragments, 2);
  EXPECT_EQ(versions[2].base_version, 2u);
}

TEST_P(TableTest, RowsAreVisibleToAnotherHandleAsSoonAsAddReturns) {
  auto reader = Table::Open(path_, options_).value();
  EXPECT_EQ(reader->CountRows().value(), 0);
  ASSERT_TRUE(table_->Add(MakeBatch(0, 7)).ok());
  EXPECT_EQ(reader->CountRows().value(), 7);
  EXPECT_EQ(reader->version().value(), 2u);
}

TEST_P(TableTest, ReadConsistencyIntervalBoundsStalenessAndOwnWritesShowAtOnce) {
  TableOptions never = options_;
  never.read_consistency_interval_ms = -1;
  auto frozen = Table::Open(path_, never).value();
  TableOptions bounded = options_;
  bounded.read_consistency_interval_ms = 200;
  auto lagging = Table::Open(path_, bounded).value();
  ASSERT_TRUE(table_->Add(MakeBatch(0, 7)).ok());
  EXPECT_EQ(frozen->CountRows().value(), 0);   // never refreshes by itself
  EXPECT_EQ(lagging->CountRows().value(), 0);  // within its interval
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(lagging->CountRows().value(), 7);  // the interval passed
  EXPECT_EQ(frozen->CountRows().value(), 0);
  // Its own commits show at once; CheckoutLatest moves it explicitly.
  ASSERT_TRUE(frozen->Add(MakeBatch(100, 2)).ok());
  EXPECT_EQ(frozen->CountRows().value(), 9);
  ASSERT_TRUE(table_->Add(MakeBatch(200, 1)).ok());
  EXPECT_EQ(frozen->CountRows().value(), 9);
  ASSERT_TRUE(frozen->CheckoutLatest().ok());
  EXPECT_EQ(frozen->CountRows().value(), 10);
}

TEST_P(TableTest, DeleteFiltersAndCountsAndKeepsOtherRows) {
  ASSERT_TRUE(table_->Add(MakeBatch(0, 100)).ok());
  ASSERT_TRUE(table_->Add(MakeBatch(100, 100)).ok());
  DeleteResult deleted = table_->DeleteRows("id >= 50 AND id < 150").value();
  EXPECT_EQ(deleted.num_deleted_rows, 100);
  EXPECT_EQ(deleted.version, 4u);
  EXPECT_EQ(table_->CountRows().value(), 100);
  EXPECT_EQ(table_->CountRows("id < 100").value(), 50);
  std::multiset<int64_t> ids = Ids(table_.get());
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(ids.count(49), 1u);
  EXPECT_EQ(ids.count(50), 0u);
  EXPECT_EQ(ids.count(150), 1u);
  // Deleting again matches nothing and commits nothing.
  DeleteResult again = table_->DeleteRows("id = 60").value();
  EXPECT_EQ(again.num_deleted_rows, 0);
  EXPECT_EQ(table_->version().value(), 4u);
  EXPECT_EQ(table_->ListVersions().value().back().num_rows, 100);
  std::vector<uint64_t> wanted = {49, 150};
  RecordBatch taken = table_->Take(wanted).value();
  EXPECT_EQ(taken.column(0).Int64(0), 49);
  EXPECT_EQ(taken.column(0).Int64(1), 150);
  std::vector<uint64_t> gone = {60};
  EXPECT_TRUE(table_->Take(gone).status().IsNotFound());
  std::vector<uint64_t> missing = {1000};
  EXPECT_TRUE(table_->Take(missing).status().IsNotFound());
}

TEST_P(TableTest, ScanProjectsLimitsAndFilters) {
  ASSERT_TRUE(table_->Add(MakeBatch(0, 30)).ok());
  ASSERT_TRUE(table_->Add(MakeBatch(30, 30)).ok());
  ScanOptions options;
  options.where = "text LIKE 't1%' OR id > 55";
  options.columns = {"text", "id"};
  options.limit = 5;
  RecordBatch batch = table_->Scan(options).value();
  ASSERT_EQ(batch.num_rows(), 5);
  EXPECT_EQ(batch.schema().field(0).name, "text");
  EXPECT_EQ(batch.column(1).Int64(0), 1);
  EXPECT_EQ(batch.column(1).Int64(1), 10);
  options.limit = -1;
  EXPECT_EQ(table_->Scan(options).value().num_rows(), 11 + 4);
  options.columns = {"nope"};
  Status st = table_->Scan(options).status();
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("nope"), std::string::npos);
  ScanOptions bad;
  bad.where = "id >";
  EXPECT_TRUE(table_->Scan(bad).status().IsInvalidArgument());
  bad.where = "nosuch = 1";
  st = table_->CountRows(bad.where).status();
  EXPECT_NE(st.message().find("nosuch"), std::string::npos) << st;
  ScanOptions none;
  none.where = "id > 1000";
  EXPECT_EQ(table_->Scan(none).value().num_rows(), 0);
}

TEST_P(TableTest, BadInputIsRejectedAndChangesNothing) {
  ASSERT_TRUE(table_->Add(MakeBatch(0, 3)).ok());
  const uint64_t version = table_->version().value();
  // Wrong dimension.
  Schema wrong_dim = Schema::Parse("id:int64,vector:vector[3]").value();
  RecordBatchBuilder b1(wrong_dim);
  ASSERT_TRUE(b1.AppendRow({Value(int64_t{1}), Value(std::vector<float>{1, 2, 3})}).ok());
  Status st = table_->Add(b1.Finish().value()).status();
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("dimension 3"), std::string::npos) << st;
  // NaN and Inf.
  for (float bad : {std::nanf(""), INFINITY}) {
    RecordBatchBuilder b2(TestSchema());
    ASSERT_TRUE(
        b2.AppendRow({Value(int64_t{1}), Value(std::vector<float>{1, bad, 3, 4}), Value(), Value()})
            .ok());
    st = table_->Add(b2.Finish().value()).status();
    EXPECT_TRUE(st.IsInvalidArgument());
    EXPECT_NE(st.message().find("row 0"), std::string::npos) << st;
  }
  // Unknown column, type mismatch, missing non-nullable column.
  RecordBatchBuilder b3(Schema::Parse("id:int64,extra:int32").value());
  ASSERT_TRUE(b3.AppendRow({Value(int64_t{1}), Value(int64_t{2})}).ok());
  st = table_->Add(b3.Finish().value()).status();
  EXPECT_NE(st.message().find("unknown column 'extra'"), std::string::npos) << st;
  RecordBatchBuilder b4(Schema::Parse("id:utf8").value());
  ASSERT_TRUE(b4.AppendRow({Value("x")}).ok());
  st = table_->Add(b4.Finish().value()).status();
  EXPECT_NE(st.message().find("type utf8"), std::string::npos) << st;
  RecordBatchBuilder b5(Schema::Parse("text:utf8").value());
  ASSERT_TRUE(b5.AppendRow({Value("x")}).ok());
  st = table_->Add(b5.Finish().value()).status();
  EXPECT_NE(st.message().find("missing column 'id'"), std::string::npos) << st;
  EXPECT_TRUE(table_->DeleteRows("id = ").status().IsInvalidArgument());
  EXPECT_EQ(table_->version().value(), version);
  EXPECT_EQ(table_->CountRows().value(), 3);
}

TEST_P(TableTest, ColumnsAreMatchedByNameAndAbsentNullableOnesAreNull) {
  RecordBatchBuilder builder(Schema::Parse("vector:vector[4],id:int64").value());
  ASSERT_TRUE(builder.AppendRow({Value(std::vector<float>{1, 2, 3, 4}), Value(int64_t{9})}).ok());
  ASSERT_TRUE(table_->Add(builder.Finish().value()).ok());
  RecordBatch all = table_->Scan().value();
  EXPECT_EQ(all.column(0).Int64(0), 9);
  EXPECT_TRUE(all.column(2).IsNull(0));
}

TEST_P(TableTest, CheckoutIsReadOnlyTimeTravelAndRestoreCommitsOldState) {
  ASSERT_TRUE(table_->Add(MakeBatch(0, 10)).ok());   // v2
  ASSERT_TRUE(table_->Add(MakeBatch(10, 10)).ok());  // v3
  ASSERT_TRUE(table_->DeleteRows("id < 5").ok());    // v4
  ASSERT_TRUE(table_->Checkout(2).ok());
  EXPECT_TRUE(table_->read_only());
  EXPECT_EQ(table_->CountRows().value(), 10);
  EXPECT_EQ(table_->version().value(), 2u);
  EXPECT_TRUE(table_->Add(MakeBatch(100, 1)).status().IsInvalidArgument());
  EXPECT_TRUE(table_->Checkout(99).IsNotFound());
  ASSERT_TRUE(table_->CheckoutLatest().ok());
  EXPECT_EQ(table_->CountRows().value(), 15);
  EXPECT_EQ(table_->Restore(2).value(), 5u);
  EXPECT_EQ(table_->CountRows().value(), 10);
  EXPECT_EQ(Ids(table_.get()).count(0), 1u);
  // Row ids continue after the highest ever assigned: never reused.
  AddResult added = table_->Add(MakeBatch(200, 2)).value();
  EXPECT_EQ(added.first_row_id, 20u);
  EXPECT_EQ(table_->ListVersions().value().at(4).operation, "restore");
  EXPECT_TRUE(table_->Restore(77).status().IsNotFound());
}

TEST_P(TableTest, TagsPinVersionsAndCanBeCheckedOut) {
  ASSERT_TRUE(table_->Add(MakeBatch(0, 4)).ok());
  ASSERT_TRUE(table_->CreateTag("golden", 2).ok());
  EXPECT_TRUE(table_->CreateTag("golden", 1).IsAlreadyExists());
  EXPECT_TRUE(table_->CreateTag("bad/name", 1).IsInvalidArgument());
  EXPECT_TRUE(table_->CreateTag("future", 42).IsNotFound());
  ASSERT_TRUE(table_->Add(MakeBatch(4, 4)).ok());
  auto tags = table_->ListTags().value();
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags["golden"], 2u);
  ASSERT_TRUE(table_->CheckoutTag("golden").ok());
  EXPECT_EQ(table_->CountRows().value(), 4);
  EXPECT_TRUE(table_->CheckoutTag("missing").IsNotFound());
  ASSERT_TRUE(table_->CheckoutLatest().ok());
  EXPECT_EQ(table_->CountRows().value(), 8);
  ASSERT_TRUE(table_->DeleteTag("golden").ok());
  EXPECT_TRUE(table_->DeleteTag("golden").IsNotFound());
  EXPECT_TRUE(table_->ListTags().value().empty());
}

TEST_P(TableTest, ConcurrentWritersNeverLoseOrDuplicateRows) {
  constexpr int kThreads = 4;
  constexpr int kAddsPerThread = 15;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread has its own handle, as separate processes would.
      auto handle = Table::Open(path_, options_).value();
      for (int i = 0; i < kAddsPerThread; ++i) {
        const int64_t first = (t * kAddsPerThread + i) * 10;
        EXPECT_TRUE(handle->Add(MakeBatch(first, 10)).ok());
        if (i % 5 == 4) {
          EXPECT_TRUE(handle->DeleteRows("id = " + std::to_string(first)).ok());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const std::multiset<int64_t> ids = Ids(table_.get());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kAddsPerThread * 10 - kThreads * 3));
  for (int64_t id : ids) EXPECT_EQ(ids.count(id), 1u) << id;
  EXPECT_EQ(table_->version().value(), 1u + kThreads * (kAddsPerThread + 3));
  ScanOptions options;
  options.with_row_id = true;
  options.columns = {"id"};
  RecordBatch batch = table_->Scan(options).value();
  std::set<int64_t> row_ids;
  for (int64_t row = 0; row < batch.num_rows(); ++row) row_ids.insert(batch.column(1).Int64(row));
  EXPECT_EQ(row_ids.size(), static_cast<size_t>(batch.num_rows()));
}

TEST_P(TableTest, CreateModes) {
  EXPECT_TRUE(
      Table::Create(path_, TestSchema(), CreateMode::kCreate, options_).status().IsAlreadyExists());
  ASSERT_TRUE(table_->Add(MakeBatch(0, 3)).ok());
  auto same = Table::Create(path_, TestSchema(), CreateMode::kExistOk, options_).value();
  EXPECT_EQ(same->CountRows().value(), 3);
  Schema other = Schema::Parse("a:int32").value();
  EXPECT_TRUE(
      Table::Create(path_, other, CreateMode::kExistOk, options_).status().IsInvalidArgument());
  auto replaced = Table::Create(path_, other, CreateMode::kOverwrite, options_).value();
  EXPECT_EQ(replaced->CountRows().value(), 0);
  EXPECT_EQ(replaced->schema(), other);
  EXPECT_EQ(replaced->version().value(), 3u);
  ASSERT_TRUE(replaced->Checkout(2).ok());
  EXPECT_EQ(replaced->CountRows().value(), 3);  // old versions stay readable
  EXPECT_TRUE(Table::Open(root().Path("none"), options_).status().IsNotFound());
}

TEST_P(TableTest, StreamBatchesLandExactlyOnce) {
  AddOptions batch7{.stream_id = "orders", .batch_id = 7};
  EXPECT_EQ(table_->StreamCheckpoint("orders").value(), -1);
  AddResult first = table_->Add(MakeBatch(0, 5), batch7).value();
  EXPECT_FALSE(first.already_committed);
  EXPECT_EQ(table_->StreamCheckpoint("orders").value(), 7);
  // Re-delivery of batch 7, or of an earlier one, from any handle is a no-op.
  auto other = Table::Open(path_, options_).value();
  EXPECT_TRUE(other->Add(MakeBatch(0, 5), batch7).value().already_committed);
  EXPECT_TRUE(other->Add(MakeBatch(0, 5), {.stream_id = "orders", .batch_id = 3})
                  .value()
                  .already_committed);
  EXPECT_EQ(table_->CountRows().value(), 5);
  // Other streams and plain adds carry the checkpoint forward in every manifest.
  ASSERT_TRUE(table_->Add(MakeBatch(5, 1), {.stream_id = "clicks", .batch_id = 0}).ok());
  ASSERT_TRUE(table_->Add(MakeBatch(6, 1)).ok());
  ASSERT_TRUE(table_->DeleteRows("id = 6").ok());
  EXPECT_EQ(other->StreamCheckpoint("orders").value(), 7);
  EXPECT_EQ(other->StreamCheckpoint("clicks").value(), 0);
  EXPECT_FALSE(table_->Add(MakeBatch(10, 2), {.stream_id = "orders", .batch_id = 8})
                   .value()
                   .already_committed);
  EXPECT_EQ(table_->CountRows().value(), 8);
  EXPECT_TRUE(table_->Add(MakeBatch(0, 1), {.stream_id = "x", .batch_id = -1})
                  .status()
                  .IsInvalidArgument());
  // A restore keeps the newest checkpoints: replayed batches stay no-ops.
  ASSERT_TRUE(table_->Restore(1).ok());
  EXPECT_EQ(table_->StreamCheckpoint("orders").value(), 8);
}

TEST_P(TableTest, ConcurrentRedeliveryOfOneStreamBatchCommitsItOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> committed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto handle = Table::Open(path_, options_).value();
      auto result = handle->Add(MakeBatch(0, 3), {.stream_id = "s", .batch_id = 1});
      ASSERT_TRUE(result.ok()) << result.status();
      if (!result->already_committed) ++committed;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(committed.load(), 1);
  EXPECT_EQ(table_->CountRows().value(), 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, TableTest, test::AllBackends(), test::BackendParamName);

class DatabaseTest : public test::BackendTest {};

TEST_P(DatabaseTest, CreatesListsOpensAndDropsTables) {
  TableOptions options;
  options.file_system = root().file_system();
  auto db = Database::Connect(root().Path("data"), options).value();
  ASSERT_TRUE(db->CreateTable("b", TestSchema()).ok());
  auto a = db->CreateTable("a", MakeBatch(0, 5)).value();
  EXPECT_EQ(a->CountRows().value(), 5);
  EXPECT_EQ(a->version().value(), 1u);  // the first batch is part of version 1
  EXPECT_EQ(db->TableNames().value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(db->OpenTable("a").value()->CountRows().value(), 5);
  EXPECT_TRUE(db->CreateTable("../x", TestSchema()).status().IsInvalidArgument());
  EXPECT_TRUE(db->CreateTable("a", TestSchema()).status().IsAlreadyExists());
  ASSERT_TRUE(db->DropTable("a").ok());
  EXPECT_TRUE(db->DropTable("a").IsNotFound());
  EXPECT_TRUE(db->OpenTable("a").status().IsNotFound());
  EXPECT_EQ(db->TableNames().value(), (std::vector<std::string>{"b"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, test::AllBackends(), test::BackendParamName);

}  // namespace
}  // namespace tessera
