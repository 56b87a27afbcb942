#include "tessera/record_batch.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tessera {
namespace {

Schema TestSchema() {
  return Schema::Parse("id:int64 not null,score:float32,ok:bool,name:utf8,ts:timestamp,v:vector[3]")
      .value();
}

TEST(SchemaTest, ParsesAndPrintsRoundTrip) {
  Schema schema = TestSchema();
  EXPECT_EQ(schema.num_fields(), 6);
  EXPECT_FALSE(schema.field(0).nullable);
  EXPECT_EQ(schema.field(5).type, DataType::Vector(3));
  EXPECT_EQ(Schema::Parse(schema.ToString()).value(), schema);
  EXPECT_EQ(schema.VectorFieldIndex(), 5);
}

TEST(SchemaTest, RejectsBadInput) {
  EXPECT_TRUE(Schema::Parse("id:int64,id:int32").status().IsInvalidArgument());
  EXPECT_TRUE(Schema::Parse("id:int99").status().IsInvalidArgument());
  EXPECT_TRUE(Schema::Parse("v:vector[0]").status().IsInvalidArgument());
  EXPECT_TRUE(Schema::Parse("novalue").status().IsInvalidArgument());
  EXPECT_TRUE(Schema::Parse("_rowid:int64").status().IsInvalidArgument());
  EXPECT_NE(Schema::Parse("id:int99").status().message().find("int99"), std::string::npos);
}

TEST(RecordBatchBuilderTest, BuildsEveryTypeWithNulls) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t row = 0; row < 20; ++row) {
    std::vector<Value> values;
    values.emplace_back(row);
    values.emplace_back(row % 3 == 0 ? Value() : Value(row * 0.5));
    values.emplace_back(row % 4 == 0 ? Value() : Value(row % 2 == 0));
    values.emplace_back(row % 5 == 0 ? Value() : Value("s" + std::to_string(row)));
    values.emplace_back(Value(row * 1000));
    values.emplace_back(std::vector<float>{float(row), 1, 2});
    ASSERT_TRUE(builder.AppendRow(values).ok());
  }
  RecordBatch batch = builder.Finish().value();
  ASSERT_EQ(batch.num_rows(), 20);
  EXPECT_EQ(batch.column(1).null_count(), 7);
  EXPECT_TRUE(batch.column(3).IsNull(10));
  EXPECT_EQ(batch.column(3).String(11), "s11");
  EXPECT_EQ(batch.column(2).Bool(6), true);
  EXPECT_EQ(batch.column(5).Vector(7)[0], 7.0f);
  RecordBatch slice = batch.Slice(5, 10);
  EXPECT_EQ(slice.num_rows(), 10);
  EXPECT_EQ(slice.column(0).Int64(0), 5);
  EXPECT_EQ(slice.column(3).String(1), "s6");
  EXPECT_EQ(slice.column(1).null_count(), 3);  // rows 6, 9, 12
  std::vector<int64_t> rows = {3, 1};
  RecordBatch taken = slice.Take(rows);
  EXPECT_EQ(taken.column(0).Int64(0), 8);
  EXPECT_EQ(taken.column(3).String(1), "s6");
  std::vector<RecordBatch> parts = {batch.Slice(0, 7), batch.Slice(7, 13)};
  RecordBatch whole = RecordBatch::Concatenate(batch.schema(), parts).value();
  for (int64_t row = 0; row < 20; ++row) {
    for (int col = 0; col < 6; ++col)
      EXPECT_EQ(whole.column(col).GetValue(row), batch.column(col).GetValue(row));
  }
}

TEST(RecordBatchBuilderTest, BadRowLeavesBuilderUnchanged) {
  RecordBatchBuilder builder(TestSchema());
  std::vector<Value> bad = {Value(int64_t{1}), Value(), Value(),
                            Value(),           Value(), Value(std::vector<float>{1, 2})};
  Status st = builder.AppendRow(bad);
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("dimension 2, expected 3"), std::string::npos) << st;
  std::vector<Value> null_id = {Value(), Value(), Value(),
                                Value(), Value(), Value(std::vector<float>{1, 2, 3})};
  EXPECT_TRUE(builder.AppendRow(null_id).IsInvalidArgument());
  RecordBatch batch = builder.Finish().value();
  EXPECT_EQ(batch.num_rows(), 0);
}

TEST(RecordBatchTest, MakeRejectsMismatchedColumns) {
  Schema schema = Schema::Parse("a:int64,b:int32").value();
  ArrayBuilder a(DataType::Int64());
  ASSERT_TRUE(a.AppendInt(1).ok());
  ArrayBuilder b(DataType::Int64());
  ASSERT_TRUE(b.AppendInt(1).ok());
  auto result = RecordBatch::Make(schema, {a.Finish(), b.Finish()});
  EXPECT_TRUE(result.status().IsInvalidArgument());
  EXPECT_TRUE(ArrayBuilder(DataType::Int32()).AppendInt(int64_t{1} << 40).IsInvalidArgument());
  EXPECT_TRUE(ArrayBuilder(DataType::Utf8()).AppendInt(1).IsInvalidArgument());
}

}  // namespace
}  // namespace tessera
