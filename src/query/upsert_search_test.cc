// Vector search after an upsert: the replaced record's new vector is found, its old one is not,
// with and without an index over the old rows.
#include <gtest/gtest.h>

#include "io/file_system.h"
#include "tessera/table.h"

namespace tessera {
namespace {

Schema TestSchema() { return Schema::Parse("id:int64 not null,vector:vector[2]").value(); }

RecordBatch Row(int64_t id, float x, float y) {
  RecordBatchBuilder builder(TestSchema());
  EXPECT_TRUE(builder.AppendRow({Value(id), Value(std::vector<float>{x, y})}).ok());
  return builder.Finish().value();
}

TEST(UpsertSearchTest, SearchFindsTheNewVectorNotTheOld) {
  auto fs = io::NewMemoryFileSystem();
  TableOptions options;
  options.file_system = fs.get();
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = 0; id < 300; ++id) {
    ASSERT_TRUE(builder
                    .AppendRow({Value(id), Value(std::vector<float>{static_cast<float>(id % 17),
                                                                    static_cast<float>(id / 17)})})
                    .ok());
  }
  auto table = Table::Create("/t", builder.Finish().value(), CreateMode::kCreate, options).value();
  for (bool indexed : {false, true}) {
    if (indexed) {
      IndexConfig config;
      config.type = "IVF_FLAT";
      ASSERT_TRUE(table->CreateIndex("vector", config).ok());
    }
    const float far = indexed ? 90.0f : 50.0f;
    UpsertOptions on;
    on.on = {"id"};
    ASSERT_TRUE(table->Upsert(Row(3, far, far), on).ok());
    const std::vector<float> old_place = {3, 0};
    auto near_old = table->Search(old_place).Limit(1).Execute().value();
    EXPECT_NE(near_old.column(0).Int64(0), 3) << "indexed " << indexed;
    const std::vector<float> new_place = {far, far};
    auto near_new = table->Search(new_place).Limit(1).Execute().value();
    EXPECT_EQ(near_new.column(0).Int64(0), 3) << "indexed " << indexed;
    EXPECT_EQ(table->CountRows("id = 3").value(), 1);
  }
}

}  // namespace
}  // namespace tessera
