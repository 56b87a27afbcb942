// Cross-implementation check of Tessera's Arrow IPC files against apache-arrow
// (JS), an independent implementation: Tessera -> JS and JS -> Tessera, every
// value compared. Needs node and `npm ci --prefix tests/compat/arrow_js`.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "format/arrow_ipc_reader.h"
#include "format/arrow_ipc_writer.h"
#include "io/file_system.h"
#include "tessera/record_batch.h"

namespace tessera {
namespace {

// The scripts' folder in this source tree.
std::string ScriptDir() { return std::string(TESSERA_SOURCE_DIR) + "/tests/compat/arrow_js"; }

// Fail the test unless apache-arrow is installed beside the scripts.
::testing::AssertionResult ArrowJsInstalled() {
  const std::string module = ScriptDir() + "/node_modules/apache-arrow/package.json";
  if (!std::filesystem::exists(module)) {
    return ::testing::AssertionFailure()
           << "apache-arrow (JS) is not installed at " << module
           << "; run `npm ci --prefix tests/compat/arrow_js` from the source root first";
  }
  return ::testing::AssertionSuccess();
}

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Run `node script file`; return its stdout, or fail with its output.
::testing::AssertionResult RunNode(const std::string& script, const std::string& file,
                                   std::string* output) {
  const std::string command =
      "node " + Quote(ScriptDir() + "/" + script) + " " + Quote(file) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return ::testing::AssertionFailure() << "cannot run " << command;
  output->clear();
  char chunk[4096];
  size_t read;
  while ((read = fread(chunk, 1, sizeof(chunk), pipe)) > 0) output->append(chunk, read);
  const int status = pclose(pipe);
  if (status != 0) {
    return ::testing::AssertionFailure() << command << " exited with " << status << ":\n"
                                         << *output;
  }
  return ::testing::AssertionSuccess();
}

std::vector<nlohmann::json> ParseLines(const std::string& text) {
  std::vector<nlohmann::json> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

// Compare one cell of `array` with its JSON form (as printed by rows_json.mjs).
void ExpectCell(const Array& array, int64_t row, const nlohmann::json& expected,
                const std::string& where) {
  if (expected.is_null()) {
    EXPECT_TRUE(array.IsNull(row)) << where;
    return;
  }
  ASSERT_TRUE(array.IsValid(row)) << where << " expected " << expected.dump();
  switch (array.type().id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      EXPECT_EQ(array.IntegerAt(row), expected.get<int64_t>()) << where;
      break;
    case TypeId::kFloat32:
      EXPECT_EQ(static_cast<double>(array.Float32(row)), expected.get<double>()) << where;
      break;
    case TypeId::kFloat64:
      EXPECT_EQ(array.Float64(row), expected.get<double>()) << where;
      break;
    case TypeId::kBool:
      EXPECT_EQ(array.Bool(row), expected.get<bool>()) << where;
      break;
    case TypeId::kUtf8:
      EXPECT_EQ(std::string(array.String(row)), expected.get<std::string>()) << where;
      break;
    case TypeId::kVector: {
      const std::span<const float> vector = array.Vector(row);
      ASSERT_EQ(vector.size(), expected.size()) << where;
      for (size_t index = 0; index < vector.size(); ++index) {
        EXPECT_EQ(static_cast<double>(vector[index]), expected[index].get<double>()) << where;
      }
      break;
    }
  }
}

void ExpectRows(const RecordBatch& batch, const std::vector<nlohmann::json>& rows) {
  ASSERT_EQ(batch.num_rows(), static_cast<int64_t>(rows.size()));
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    const nlohmann::json& expected = rows[static_cast<size_t>(row)];
    ASSERT_EQ(expected.size(), static_cast<size_t>(batch.num_columns())) << expected.dump();
    for (int column = 0; column < batch.num_columns(); ++column) {
      const std::string& name = batch.schema().field(column).name;
      ASSERT_TRUE(expected.contains(name)) << name << " missing in " << expected.dump();
      ExpectCell(batch.column(column), row, expected[name],
                 "row " + std::to_string(row) + " column " + name);
    }
  }
}

RecordBatch TesseraBatch(uint64_t seed, int64_t num_rows) {
  const Schema schema =
      Schema::Parse(
          "i32:int32,i64:int64,f32:float32,f64:float64,b:bool,s:utf8,ts:timestamp,"
          "v:vector[4],id:int64 not null")
          .value();
  std::mt19937_64 rng(seed);
  RecordBatchBuilder builder(schema);
  static const char* const kTexts[] = {"", "plain", "héllo wörld", "雪", "quote \" and \\", "🙂"};
  for (int64_t row = 0; row < num_rows; ++row) {
    auto maybe_null = [&](Value value) { return rng() % 5 == 0 ? Value() : value; };
    const float x = std::uniform_real_distribution<float>(-100, 100)(rng);
    std::vector<Value> values = {
        maybe_null(static_cast<int64_t>(static_cast<int32_t>(rng()))),
        maybe_null(static_cast<int64_t>(rng())),
        maybe_null(static_cast<double>(x)),
        maybe_null(std::uniform_real_distribution<double>(-1e12, 1e12)(rng)),
        maybe_null(rng() % 2 == 0),
        maybe_null(std::string(kTexts[rng() % 6]) + std::to_string(row)),
        maybe_null(
            static_cast<int64_t>(1700000000000000 + static_cast<int64_t>(rng() % 1000000000000))),
        maybe_null(std::vector<float>{x, x / 3, -x, 0.1f}),
        row,
    };
    EXPECT_TRUE(builder.AppendRow(values).ok());
  }
  return builder.Finish().value();
}

std::string TempPath(const std::string& name) { return io::JoinPath(::testing::TempDir(), name); }

TEST(ArrowJsInteropTest, ApacheArrowJsReadsTesseraFiles) {
  ASSERT_TRUE(ArrowJsInstalled());
  const RecordBatch first = TesseraBatch(1, 40);
  const RecordBatch second = TesseraBatch(2, 50);
  // Three record batches, one of them a slice (non-zero array offsets before writing).
  const std::vector<RecordBatch> batches = {first, second.Slice(7, 31), TesseraBatch(3, 1)};
  auto bytes = format::EncodeArrowIpcFile(first.schema(), batches);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::string path = TempPath("tessera_for_js.arrow");
  ASSERT_TRUE(io::WriteFileDurably(io::LocalFileSystem(), path, *bytes).ok());

  std::string output;
  ASSERT_TRUE(RunNode("read_fragment.mjs", path, &output));
  const RecordBatch expected = RecordBatch::Concatenate(first.schema(), batches).value();
  ExpectRows(expected, ParseLines(output));
}

TEST(ArrowJsInteropTest, TesseraReadsApacheArrowJsFiles) {
  ASSERT_TRUE(ArrowJsInstalled());
  const std::string path = TempPath("js_for_tessera.arrow");
  std::string output;
  ASSERT_TRUE(RunNode("write_fragment.mjs", path, &output));
  const std::vector<nlohmann::json> rows = ParseLines(output);
  ASSERT_EQ(rows.size(), 19u);

  auto file = io::LocalFileSystem()->MapFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto reader = format::ArrowIpcFileReader::Open(*file);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const Schema expected_schema =
      Schema::Parse(
          "i32:int32,i64:int64,f32:float32,f64:float64,b:bool,s:utf8,ts:timestamp,"
          "v:vector[4]")
          .value();
  ASSERT_EQ((*reader)->schema().num_fields(), expected_schema.num_fields());
  for (int column = 0; column < expected_schema.num_fields(); ++column) {
    EXPECT_EQ((*reader)->schema().field(column).name, expected_schema.field(column).name);
    EXPECT_EQ((*reader)->schema().field(column).type, expected_schema.field(column).type);
  }
  EXPECT_EQ((*reader)->num_batches(), 2);
  EXPECT_EQ((*reader)->num_rows(), 19);
  auto all = (*reader)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ExpectRows(*all, rows);
  // Batch by batch as well: the zero-copy path.
  int64_t row_base = 0;
  for (int index = 0; index < (*reader)->num_batches(); ++index) {
    auto batch = (*reader)->ReadBatch(index);
    ASSERT_TRUE(batch.ok()) << batch.status();
    ExpectRows(*batch, std::vector<nlohmann::json>(rows.begin() + row_base,
                                                   rows.begin() + row_base + batch->num_rows()));
    row_base += batch->num_rows();
  }
}

}  // namespace
}  // namespace tessera
