#include "ingest/file_readers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace tessera::ingest {
namespace {

Schema AllTypesSchema() {
  return Schema::Parse(
             "id:int64 not null,i32:int32,f32:float32,f64:float64,ok:bool,name:utf8,"
             "ts:timestamp,v:vector[3]")
      .value();
}

// Every type, with nulls in every nullable column and awkward values.
RecordBatch AllTypesBatch() {
  RecordBatchBuilder builder(AllTypesSchema());
  const std::vector<std::string> names = {"plain", "with \"quotes\", commas\nand newline",
                                          "ünïcødé ✓", "", "tab\there\\"};
  for (int64_t row = 0; row < 25; ++row) {
    std::vector<Value> values;
    values.emplace_back(row * 1'000'000'007 - 3);
    values.emplace_back(row % 3 == 0 ? Value() : Value(int64_t{-2147483648} + row));
    values.emplace_back(row % 4 == 1 ? Value() : Value(double(0.1f * float(row) - 1.0f)));
    values.emplace_back(row % 5 == 2 ? Value() : Value(row * 1e300 / 7 + 0.1));
    values.emplace_back(row % 6 == 3 ? Value() : Value(row % 2 == 0));
    values.emplace_back(row % 7 == 4 ? Value() : Value(names[row % names.size()]));
    values.emplace_back(row % 8 == 5 ? Value()
                                     : Value(int64_t{1'704'164'645'000'006} * (row - 12) / 7));
    values.emplace_back(row % 9 == 6 ? Value()
                                     : Value(std::vector<float>{float(row) / 3, 1e-30f, -3e38f}));
    EXPECT_TRUE(builder.AppendRow(values).ok());
  }
  return builder.Finish().value();
}

void ExpectSameRows(const RecordBatch& actual, const RecordBatch& expected) {
  ASSERT_EQ(actual.schema(), expected.schema());
  ASSERT_EQ(actual.num_rows(), expected.num_rows());
  for (int col = 0; col < expected.num_columns(); ++col) {
    for (int64_t row = 0; row < expected.num_rows(); ++row) {
      EXPECT_EQ(actual.column(col).GetValue(row), expected.column(col).GetValue(row))
          << "column " << expected.schema().field(col).name << " row " << row;
    }
  }
}

// Expect `status` to be kInvalidArgument whose message contains each of `parts`.
void ExpectError(const Status& status, std::initializer_list<std::string_view> parts) {
  ASSERT_TRUE(status.IsInvalidArgument()) << status;
  for (std::string_view part : parts) {
    EXPECT_NE(status.message().find(part), std::string::npos) << status << " lacks " << part;
  }
}

// ---------------------------------------------------------------------------

TEST(InputFormatTest, GuessesFromExtensionAndParsesNames) {
  EXPECT_EQ(FormatFromPath("a/b.jsonl").value(), InputFormat::kJsonLines);
  EXPECT_EQ(FormatFromPath("b.NDJSON").value(), InputFormat::kJsonLines);
  EXPECT_EQ(FormatFromPath("b.json").value(), InputFormat::kJsonLines);
  EXPECT_EQ(FormatFromPath("x.y/b.csv").value(), InputFormat::kCsv);
  EXPECT_EQ(FormatFromPath("b.arrow").value(), InputFormat::kArrow);
  EXPECT_EQ(FormatFromPath("b.feather").value(), InputFormat::kArrow);
  EXPECT_EQ(FormatFromPath("b.ipc").value(), InputFormat::kArrow);
  EXPECT_EQ(FormatFromPath("sift_base.fvecs").value(), InputFormat::kFvecs);
  ExpectError(FormatFromPath("data.txt").status(), {"data.txt"});
  ExpectError(FormatFromPath("x.csv/noext").status(), {"x.csv/noext"});

  EXPECT_EQ(ParseInputFormat("jsonl").value(), InputFormat::kJsonLines);
  EXPECT_EQ(ParseInputFormat("CSV").value(), InputFormat::kCsv);
  EXPECT_EQ(ParseInputFormat("arrow").value(), InputFormat::kArrow);
  EXPECT_EQ(ParseInputFormat("fvecs").value(), InputFormat::kFvecs);
  ExpectError(ParseInputFormat("parquet").status(), {"parquet", "jsonl"});
  for (InputFormat format :
       {InputFormat::kJsonLines, InputFormat::kCsv, InputFormat::kArrow, InputFormat::kFvecs}) {
    EXPECT_EQ(ParseInputFormat(InputFormatName(format)).value(), format);
  }
}

// ---------------------------------------------------------------------------

TEST(RowToJsonTest, WritesEveryType) {
  const Schema schema =
      Schema::Parse("id:int64,f:float32,d:float64,ok:bool,s:utf8,ts:timestamp,v:vector[2],n:int32")
          .value();
  RecordBatchBuilder builder(schema);
  ASSERT_TRUE(builder
                  .AppendRow({Value(int64_t{-7}), Value(0.1), Value(0.1), Value(true),
                              Value(std::string("a\"b\\c\n\x01")), Value(int64_t{1704164645000006}),
                              Value(std::vector<float>{1.5f, 1e-7f}), Value()})
                  .ok());
  ASSERT_TRUE(builder
                  .AppendRow({Value(), Value(std::nan("")), Value(INFINITY), Value(false),
                              Value(std::string("\xff")), Value(int64_t{-1}), Value(), Value()})
                  .ok());
  const RecordBatch batch = builder.Finish().value();
  EXPECT_EQ(RowToJson(batch, 0), R"({"id":-7,"f":0.1,"d":0.1,"ok":true,"s":"a\"b\\c\n\u0001",)"
                                 R"("ts":"2024-01-02T03:04:05.000006Z","v":[1.5,1e-07],"n":null})");
  // Invalid UTF-8 becomes U+FFFD.
  EXPECT_EQ(RowToJson(batch, 1),
            "{\"id\":null,\"f\":null,\"d\":null,\"ok\":false,\"s\":\"\xEF\xBF\xBD\","
            "\"ts\":\"1969-12-31T23:59:59.999999Z\",\"v\":null,\"n\":null}");
}

TEST(TimestampTest, ParsesIso8601AndFormatsBack) {
  EXPECT_EQ(ParseTimestamp("1970-01-01").value(), 0);
  EXPECT_EQ(ParseTimestamp("2024-01-02T03:04:05.000006Z").value(), 1704164645000006);
  EXPECT_EQ(ParseTimestamp("2024-01-02 03:04:05.000006").value(), 1704164645000006);
  EXPECT_EQ(ParseTimestamp("2024-01-02T05:04:05.000006+02:00").value(), 1704164645000006);
  EXPECT_EQ(ParseTimestamp("2024-01-01T22:04:05.000006-0500").value(), 1704164645000006);
  EXPECT_EQ(ParseTimestamp("2024-01-02T03:04Z").value(), 1704164640000000);
  EXPECT_EQ(ParseTimestamp("2024-01-02T03:04:05.1234567Z").value(), 1704164645123456);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999999Z").value(), -1);
  EXPECT_EQ(ParseTimestamp("2000-02-29T00:00:00Z").value(), 951782400000000);
  for (std::string_view bad : {"2023-02-29", "2024-13-01", "2024-01-02T24:00:00", "2024-1-2",
                               "yesterday", "2024-01-02T03:04:05Zjunk", "2024-01-02T03:04:05."}) {
    EXPECT_TRUE(ParseTimestamp(bad).status().IsInvalidArgument()) << bad;
  }
  for (int64_t micros :
       {int64_t{0}, int64_t{-1}, int64_t{951782400000000}, int64_t{-62135596800000000},
        std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
        int64_t{253402300799999999}, int64_t{253402300800000000}}) {
    const std::string text = FormatTimestamp(micros);
    EXPECT_EQ(ParseTimestamp(text).value(), micros) << text;
  }
  EXPECT_EQ(FormatTimestamp(253402300800000000), "+010000-01-01T00:00:00.000000Z");
}

// ---------------------------------------------------------------------------

TEST(JsonLinesTest, RoundTripsEveryTypeThroughRowToJson) {
  const RecordBatch batch = AllTypesBatch();
  std::string text;
  for (int64_t row = 0; row < batch.num_rows(); ++row) text += RowToJson(batch, row) + "\n";
  Result<RecordBatch> read = ReadJsonLines(text, batch.schema());
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameRows(*read, batch);
}

TEST(JsonLinesTest, MissingKeysAreNullAndBlankLinesAreSkipped) {
  const Schema schema =
      Schema::Parse("id:int64 not null,name:utf8,ts:timestamp,v:vector[2]").value();
  const std::string text =
      "\n"
      "{\"id\": 1}\r\n"
      "   \n"
      "{\"v\": [1, 2.5e0], \"id\": 2, \"ts\": 1000, \"name\": \"a\\u00e9\\n\"}\n"
      "{\"id\": 3.0, \"ts\": \"2024-01-02T03:04:05Z\", \"name\": null, \"v\": null}";
  Result<RecordBatch> read = ReadJsonLines(text, schema);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->num_rows(), 3);
  EXPECT_EQ(read->column(0).Int64(2), 3);
  EXPECT_TRUE(read->column(1).IsNull(0));
  EXPECT_EQ(read->column(1).String(1), "a\xc3\xa9\n");
  EXPECT_TRUE(read->column(1).IsNull(2));
  EXPECT_EQ(read->column(2).Int64(1), 1000);
  EXPECT_EQ(read->column(2).Int64(2), 1704164645000000);
  EXPECT_EQ(read->column(3).GetValue(1), Value(std::vector<float>{1, 2.5f}));
  EXPECT_EQ(read->column(3).null_count(), 2);

  Result<RecordBatch> empty = ReadJsonLines("\n \n", schema);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->num_rows(), 0);
}

TEST(JsonLinesTest, ErrorsNameLineAndColumn) {
  const Schema schema =
      Schema::Parse(
          "id:int64 not null,n:int32,f:float32,d:float64,ok:bool,s:utf8,ts:timestamp,"
          "v:vector[2]")
          .value();
  auto read = [&](std::string third_line) {
    return ReadJsonLines("{\"id\": 1}\n\n" + third_line + "\n{\"id\": 4}", schema).status();
  };
  EXPECT_EQ(read(R"({"id": 3, "foo": 1})").message(), "line 3: unknown column 'foo'");
  ExpectError(read(R"({"id": 3, "id": 4})"), {"line 3", "duplicate column 'id'"});
  ExpectError(read(R"({"n": 3})"), {"line 3", "column 'id'", "not nullable"});
  ExpectError(read(R"({"id": null})"), {"line 3", "column 'id'", "not nullable"});
  ExpectError(read(R"({"id": "7"})"), {"line 3", "column 'id'", "expected int64, got a string"});
  ExpectError(read(R"({"id": 1.5})"), {"line 3", "column 'id'", "1.5"});
  ExpectError(read(R"({"id": 99999999999999999999})"), {"line 3", "column 'id'", "out of range"});
  ExpectError(read(R"({"id": 1, "n": 2147483648})"), {"line 3", "column 'n'", "int32"});
  ExpectError(read(R"({"id": 1, "f": 1e39})"), {"line 3", "column 'f'", "overflows float32"});
  ExpectError(read(R"({"id": 1, "d": 1e400})"), {"line 3", "column 'd'", "overflows float64"});
  ExpectError(read(R"({"id": 1, "ok": 1})"), {"line 3", "column 'ok'", "got a number"});
  ExpectError(read(R"({"id": 1, "s": true})"), {"line 3", "column 's'", "got a boolean"});
  ExpectError(read(R"({"id": 1, "ts": "noon"})"), {"line 3", "column 'ts'", "noon"});
  ExpectError(read(R"({"id": 1, "v": [1, 2, 3]})"),
              {"line 3", "column 'v'", "expected 2", "got 3"});
  ExpectError(read(R"({"id": 1, "v": [1, "2"]})"), {"line 3", "column 'v'", "element 1"});
  ExpectError(read(R"({"id": 1, "v": [1, 1e39]})"),
              {"line 3", "column 'v'", "element 1", "float32"});
  ExpectError(read(R"({"id": 1, "v": {"a": 1}})"), {"line 3", "column 'v'", "object"});
  ExpectError(read(R"({"id": 1, "n": [1]})"), {"line 3", "column 'n'", "array"});
  ExpectError(read(R"({"id": 1, "d": NaN})"), {"line 3", "invalid JSON"});
  ExpectError(read(R"({"id": 1, "d": -Infinity})"), {"line 3", "invalid JSON"});
  ExpectError(read(R"({"id": 1)"), {"line 3", "invalid JSON"});
  ExpectError(read(R"({"id": 1} x)"), {"line 3", "invalid JSON"});
  ExpectError(read(R"([1, 2])"), {"line 3", "invalid JSON", "object"});
  ExpectError(read(R"({"id": 1, "s": "bad \q escape"})"), {"line 3", "invalid JSON"});
  ExpectError(read("{\"id\": 1, \"s\": \"\xff\"}"), {"line 3", "UTF-8"});
  ExpectError(read(R"({"id": 01})"), {"line 3"});
}

TEST(JsonLinesTest, ParsesManyLargeVectors) {
  const int32_t dim = 768;
  const Schema schema = Schema::Parse("id:int64,v:vector[768]").value();
  std::string text;
  for (int row = 0; row < 200; ++row) {
    text += "{\"id\": " + std::to_string(row) + ", \"v\": [";
    for (int element = 0; element < dim; ++element) {
      if (element > 0) text += ", ";
      text += std::to_string(row * 0.001 - element * 1.5e-3);
    }
    text += "]}\n";
  }
  Result<RecordBatch> read = ReadJsonLines(text, schema);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->num_rows(), 200);
  EXPECT_FLOAT_EQ(read->column(1).Vector(199)[767], float(0.199 - 767 * 1.5e-3));
}

// ---------------------------------------------------------------------------

TEST(CsvTest, ReadsEveryTypeWithQuotingAndNulls) {
  const Schema schema = AllTypesSchema();
  const std::string text =
      "\xEF\xBB\xBF"
      "v,name, id ,ts,ok,f32,f64,i32\r\n"
      "\"[1, 2.5, -3]\",plain,1,2024-01-02T03:04:05.000006Z,true,0.1,1e300,-5\r\n"
      "1 2 3,\"with \"\"quotes\"\", commas\nand newline\",2,1000,F,,,\n"
      "\n"
      "4;5;6,\"\",3,,yes,  7 ,-0.5,+12\n"
      ",,4,,,,,\n"
      "\"\",ünïcødé,5,\"\",0,1e-50,,\n";
  Result<RecordBatch> read = ReadCsv(text, schema);
  ASSERT_TRUE(read.ok()) << read.status();
  const RecordBatch& batch = *read;
  ASSERT_EQ(batch.num_rows(), 5);
  EXPECT_EQ(batch.column(0).GetValue(1), Value(int64_t{2}));
  EXPECT_EQ(batch.column(1).GetValue(0), Value(int64_t{-5}));
  EXPECT_EQ(batch.column(1).GetValue(2), Value(int64_t{12}));
  EXPECT_EQ(batch.column(2).Float32(0), 0.1f);
  EXPECT_TRUE(batch.column(2).IsNull(1));
  EXPECT_EQ(batch.column(2).Float32(2), 7.0f);
  EXPECT_EQ(batch.column(2).Float32(4), 0.0f);  // underflow rounds to zero
  EXPECT_EQ(batch.column(3).Float64(0), 1e300);
  EXPECT_EQ(batch.column(4).GetValue(0), Value(true));
  EXPECT_EQ(batch.column(4).GetValue(1), Value(false));
  EXPECT_EQ(batch.column(4).GetValue(4), Value(false));
  EXPECT_EQ(batch.column(5).String(0), "plain");
  EXPECT_EQ(batch.column(5).String(1), "with \"quotes\", commas\nand newline");
  EXPECT_EQ(batch.column(5).GetValue(2), Value(std::string()));  // quoted empty string
  EXPECT_TRUE(batch.column(5).IsNull(3));                        // empty field
  EXPECT_EQ(batch.column(5).String(4), "ünïcødé");
  EXPECT_EQ(batch.column(6).Int64(0), 1704164645000006);
  EXPECT_EQ(batch.column(6).Int64(1), 1000);
  EXPECT_TRUE(batch.column(6).IsNull(2));
  EXPECT_TRUE(batch.column(6).IsNull(4));  // quoted empty is null for non-strings
  EXPECT_EQ(batch.column(7).GetValue(0), Value(std::vector<float>{1, 2.5f, -3}));
  EXPECT_EQ(batch.column(7).GetValue(1), Value(std::vector<float>{1, 2, 3}));
  EXPECT_EQ(batch.column(7).GetValue(2), Value(std::vector<float>{4, 5, 6}));
  EXPECT_TRUE(batch.column(7).IsNull(3));
  EXPECT_TRUE(batch.column(7).IsNull(4));
}

TEST(CsvTest, SubsetOfColumnsFillsNulls) {
  const Schema schema = Schema::Parse("id:int64 not null,name:utf8,v:vector[2]").value();
  Result<RecordBatch> read = ReadCsv("id\n1\n2", schema);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->num_rows(), 2);
  EXPECT_EQ(read->column(1).null_count(), 2);
  EXPECT_EQ(read->column(2).null_count(), 2);
  EXPECT_EQ(ReadCsv("", schema).value().num_rows(), 0);
  EXPECT_EQ(ReadCsv("id,name\n", schema).value().num_rows(), 0);
}

TEST(CsvTest, ErrorsNameLineAndColumn) {
  const Schema schema = Schema::Parse("id:int64 not null,name:utf8,v:vector[2],ok:bool").value();
  EXPECT_EQ(ReadCsv("id,foo\n1,2\n", schema).status().message(), "line 1: unknown column 'foo'");
  ExpectError(ReadCsv("name\nx\n", schema).status(), {"line 1", "'id'", "not nullable"});
  ExpectError(ReadCsv("id,id\n1,2\n", schema).status(), {"line 1", "duplicate column 'id'"});
  // The quoted newline makes the third record start on line 4.
  ExpectError(ReadCsv("id,name\n1,\"a\nb\"\nx,c\n", schema).status(),
              {"line 4", "column 'id'", "'x'"});
  ExpectError(ReadCsv("id,name\n1,a\n2\n", schema).status(),
              {"line 3", "expected 2 fields, got 1"});
  ExpectError(ReadCsv("id,name\n1,\"abc\n", schema).status(), {"line 2", "unterminated"});
  ExpectError(ReadCsv("id,name\n1,\"abc\"d\n", schema).status(), {"line 2", "closing quote"});
  ExpectError(ReadCsv("id,v\n1,\"[1,2,3]\"\n", schema).status(),
              {"line 2", "column 'v'", "expected 2", "got 3"});
  ExpectError(ReadCsv("id,v\n1,1 x\n", schema).status(), {"line 2", "column 'v'", "'x'"});
  ExpectError(ReadCsv("id,v\n1,\"[1,2]x\"\n", schema).status(), {"line 2", "column 'v'"});
  ExpectError(ReadCsv("id,ok\n1,maybe\n", schema).status(), {"line 2", "column 'ok'", "maybe"});
  ExpectError(ReadCsv("id,ok\n,true\n", schema).status(),
              {"line 2", "column 'id'", "not nullable"});
  ExpectError(ReadCsv("id\n1\n2\nnan\n", schema).status(), {"line 4", "column 'id'"});
}

TEST(CsvTest, RoundTripsRowsWrittenAsCsv) {
  // CSV written by hand from the batch: vectors as "[..]", strings quoted.
  const RecordBatch batch = AllTypesBatch();
  std::string text = "id,i32,f32,f64,ok,name,ts,v\n";
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    for (int col = 0; col < batch.num_columns(); ++col) {
      if (col > 0) text += ",";
      const Array& array = batch.column(col);
      if (array.IsNull(row)) continue;
      switch (array.type().id) {
        case TypeId::kUtf8: {
          text += "\"";
          for (char c : array.String(row))
            text += c == '"' ? std::string("\"\"") : std::string(1, c);
          text += "\"";
          break;
        }
        case TypeId::kTimestamp:
          text += FormatTimestamp(array.Int64(row));
          break;
        case TypeId::kVector: {
          std::string json = RowToJson(batch.SelectColumns({"v"}).value(), row);
          text += "\"" + json.substr(5, json.size() - 6) + "\"";
          break;
        }
        case TypeId::kFloat32:
        case TypeId::kFloat64: {
          std::string json =
              RowToJson(batch.SelectColumns({batch.schema().field(col).name}).value(), row);
          text += json.substr(json.find(':') + 1, json.size() - json.find(':') - 2);
          break;
        }
        default:
          text += ValueToString(array.GetValue(row));
      }
    }
    text += "\r\n";
  }
  Result<RecordBatch> read = ReadCsv(text, batch.schema());
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameRows(*read, batch);
}

// ---------------------------------------------------------------------------

std::string Fvecs(const std::vector<std::vector<float>>& vectors) {
  std::string bytes;
  for (const std::vector<float>& vector : vectors) {
    const auto dim = static_cast<int32_t>(vector.size());
    bytes.append(reinterpret_cast<const char*>(&dim), 4);
    bytes.append(reinterpret_cast<const char*>(vector.data()), vector.size() * 4);
  }
  return bytes;
}

TEST(FvecsTest, FillsVectorsAndContinuesIds) {
  const Schema schema = Schema::Parse("id:int64 not null,v:vector[3],note:utf8").value();
  const std::string first = Fvecs({{1, 2, 3}, {4, 5, 6}});
  const std::string second = Fvecs({{7, 8, 9}});
  Result<RecordBatch> a = ReadFvecs(first, schema, 0);
  ASSERT_TRUE(a.ok()) << a.status();
  Result<RecordBatch> b = ReadFvecs(second, schema, a->num_rows());
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(a->num_rows(), 2);
  EXPECT_EQ(a->column(0).Int64(1), 1);
  EXPECT_EQ(a->column(1).GetValue(1), Value(std::vector<float>{4, 5, 6}));
  EXPECT_EQ(a->column(2).null_count(), 2);
  ASSERT_EQ(b->num_rows(), 1);
  EXPECT_EQ(b->column(0).Int64(0), 2);
  EXPECT_EQ(b->column(1).GetValue(0), Value(std::vector<float>{7, 8, 9}));
  EXPECT_EQ(ReadFvecs("", schema, 0).value().num_rows(), 0);

  // Without an id column, and with a nullable id of another type (left null).
  const Schema bare = Schema::Parse("v:vector[3]").value();
  EXPECT_EQ(ReadFvecs(first, bare, 0).value().num_rows(), 2);
  const Schema int32_id = Schema::Parse("id:int32,v:vector[3]").value();
  EXPECT_EQ(ReadFvecs(first, int32_id, 0).value().column(0).null_count(), 2);
}

TEST(FvecsTest, RejectsBadDimsTruncationAndSchemas) {
  const Schema schema = Schema::Parse("id:int64 not null,v:vector[3]").value();
  ExpectError(ReadFvecs(Fvecs({{1, 2, 3}, {1, 2, 3}, {1, 2}}), schema, 0).status(),
              {"record 2", "dimension 2", "dimension 3"});
  const std::string good = Fvecs({{1, 2, 3}, {4, 5, 6}});
  ExpectError(ReadFvecs(std::string_view(good).substr(0, good.size() - 1), schema, 0).status(),
              {"truncated", "record 1"});
  ExpectError(ReadFvecs(std::string_view(good).substr(0, 18), schema, 0).status(),
              {"truncated", "record 1", "2 of 4 header bytes"});
  ExpectError(ReadFvecs(Fvecs({{1, NAN, 3}}), schema, 0).status(), {"record 0", "element 1"});
  ExpectError(ReadFvecs(good, Schema::Parse("id:int64").value(), 0).status(), {"vector column"});
  ExpectError(ReadFvecs(good, Schema::Parse("a:vector[3],b:vector[3]").value(), 0).status(),
              {"vector column"});
  ExpectError(ReadFvecs(good, Schema::Parse("v:vector[3],label:utf8 not null").value(), 0).status(),
              {"'label'", "not nullable"});
}

}  // namespace
}  // namespace tessera::ingest
