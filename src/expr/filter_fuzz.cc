// Fuzz target: parse arbitrary text against a fixed schema; when it parses, evaluate it on
// a small batch and check the invariants every filter must keep (a slice agrees with the
// whole, MayMatch never rejects a fragment with a passing row, the normalized text reparses
// to a filter that means the same). Any violation aborts.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "expr/filter.h"

namespace tessera::expr {
namespace {

const Schema& FuzzSchema() {
  static const auto* schema = new Schema(Schema::Make({
                                                          {"id", DataType::Int64()},
                                                          {"i32", DataType::Int32()},
                                                          {"f32", DataType::Float32()},
                                                          {"f64", DataType::Float64()},
                                                          {"flag", DataType::Bool()},
                                                          {"name", DataType::Utf8()},
                                                          {"ts", DataType::Timestamp()},
                                                          {"vec", DataType::Vector(2)},
                                                          {"weird name", DataType::Int64()},
                                                          {"and", DataType::Utf8()},
                                                          {"timestamp", DataType::Bool()},
                                                      })
                                             .value());
  return *schema;
}

std::vector<std::vector<Value>> FuzzRows() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const Value null = std::monostate{};
  const std::vector<float> vec = {1.0f, 2.0f};
  return {
      {int64_t{1}, int64_t{-1}, 1.5, nan, true, std::string("apple"), int64_t{1704164645000000},
       vec, int64_t{7}, std::string("x"), true},
      {int64_t{-5}, null, -0.0, 2.0, false, std::string(""), int64_t{0}, vec, null, null, false},
      {null, int64_t{2147483647}, inf, -inf, null, std::string("caf\xC3\xA9"), null, vec,
       int64_t{-7}, std::string("it's"), null},
      {std::numeric_limits<int64_t>::max(), int64_t{0}, nan, 9007199254740992.0, true,
       std::string("a%_b"), int64_t{-1}, vec, int64_t{0}, std::string("and"), true},
      {std::numeric_limits<int64_t>::min(), int64_t{3}, 3.0, 3.0, false, null,
       int64_t{1704164645000001}, vec, int64_t{3}, std::string(""), false},
  };
}

const RecordBatch& FuzzBatch() {
  static const auto* batch = [] {
    RecordBatchBuilder builder(FuzzSchema());
    for (const std::vector<Value>& row : FuzzRows()) {
      if (!builder.AppendRow(row).ok()) std::abort();
    }
    return new RecordBatch(builder.Finish().value());
  }();
  return *batch;
}

// Exact statistics of FuzzBatch() (NaN left out of min/max).
const std::vector<format::ColumnStats>& FuzzStats() {
  static const auto* stats = [] {
    auto* out = new std::vector<format::ColumnStats>();
    const std::vector<std::vector<Value>> rows = FuzzRows();
    for (int col = 0; col < FuzzSchema().num_fields(); ++col) {
      if (FuzzSchema().field(col).type.id == TypeId::kVector) continue;
      format::ColumnStats column{col, std::monostate{}, std::monostate{}, 0};
      for (const std::vector<Value>& row : rows) {
        const Value& value = row[col];
        if (std::holds_alternative<std::monostate>(value)) {
          ++column.null_count;
          continue;
        }
        if (const auto* d = std::get_if<double>(&value); d != nullptr && std::isnan(*d)) continue;
        if (std::holds_alternative<std::monostate>(column.min) || value < column.min) {
          column.min = value;
        }
        if (std::holds_alternative<std::monostate>(column.max) || column.max < value) {
          column.max = value;
        }
      }
      out->push_back(std::move(column));
    }
    return out;
  }();
  return *stats;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace
}  // namespace tessera::expr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tessera::expr::Check;
  using tessera::expr::Filter;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tessera::Result<Filter> filter = Filter::Parse(text, tessera::expr::FuzzSchema());
  if (!filter.ok()) {
    Check(filter.status().IsInvalidArgument());
    return 0;
  }
  const tessera::RecordBatch& batch = tessera::expr::FuzzBatch();
  tessera::Result<std::vector<uint8_t>> result = filter->Evaluate(batch);
  Check(result.ok() && static_cast<int64_t>(result->size()) == batch.num_rows());

  tessera::Result<std::vector<uint8_t>> sliced = filter->Evaluate(batch.Slice(1, 3));
  Check(sliced.ok() && sliced->size() == 3);
  for (size_t row = 0; row < 3; ++row) Check((*sliced)[row] == (*result)[row + 1]);

  bool any_passes = false;
  for (const uint8_t pass : *result) {
    Check(pass <= 1);
    any_passes = any_passes || pass == 1;
  }
  if (any_passes) Check(filter->MayMatch(tessera::expr::FuzzStats(), batch.num_rows()));

  const std::string normalized = filter->ToString();
  tessera::Result<Filter> reparsed = Filter::Parse(normalized, tessera::expr::FuzzSchema());
  Check(reparsed.ok());
  Check(reparsed->ToString() == normalized);
  Check(reparsed->Evaluate(batch).value() == *result);
  return 0;
}

std::vector<std::string> TesseraFuzzSeeds() {
  return {
      "id > 5",
      "id = 1 AND (name LIKE 'ap%' OR NOT flag)",
      "f32 BETWEEN -1.5 AND 2e3 OR f64 NOT BETWEEN i32 AND id",
      "ts >= timestamp '2024-01-02 03:04:05.000001' AND ts < '2024-01-03T00:00:00Z'",
      "name IN ('apple', 'it''s', '', NULL) OR name NOT IN ('x')",
      "id IS NULL OR i32 IS NOT NULL",
      "name NOT LIKE '%a\\%b_' ESCAPE '\\'",
      "\"weird name\" <> -9223372036854775808 and \"and\" >= 'a'",
      "timestamp OR NOT timestamp = FALSE",
      "5 < id AND 2.5 >= f32 AND NULL = f64",
      "id IN (1, 2.0, 3.5, 4, 5, 6, 7, 8, 9, 10, 11, 12)",
      "NOT (NOT (id != 3) OR f64 = 9007199254740993)",
      "f32 = f64 OR id < f64 OR i32 >= ts",
      "TRUE AND NOT NULL OR FALSE",
      "name LIKE '_a%_%' AND name > 'b'",
  };
}
