#include "expr/filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tessera::expr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kBaseMicros = 1704164645000000;  // 2024-01-02 03:04:05 UTC
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Field order of TestSchema(); rows are given in this order.
enum Col { kId, kI32, kF32, kF64, kFlag, kName, kTs, kVec, kNumCols };

Schema TestSchema() {
  return Schema::Parse(
             "id:int64,i32:int32,f32:float32,f64:float64,flag:bool,name:utf8,ts:timestamp,"
             "vec:vector[2]")
      .value();
}

const Value kNull = std::monostate{};

// Build a batch of TestSchema(); each row lists id, i32, f32, f64, flag, name, ts.
RecordBatch MakeBatch(const std::vector<std::vector<Value>>& rows) {
  RecordBatchBuilder builder(TestSchema());
  for (std::vector<Value> row : rows) {
    row.resize(kNumCols);
    row[kVec] = std::vector<float>{1.0f, 2.0f};
    EXPECT_TRUE(builder.AppendRow(row).ok());
  }
  return builder.Finish().value();
}

Filter MustParse(std::string_view text) {
  Result<Filter> filter = Filter::Parse(text, TestSchema());
  EXPECT_TRUE(filter.ok()) << text << ": " << filter.status();
  if (!filter.ok()) return Filter::Parse("TRUE", TestSchema()).value();
  return std::move(filter).value();
}

std::string ParseError(std::string_view text) {
  Result<Filter> filter = Filter::Parse(text, TestSchema());
  if (filter.ok()) return "parsed OK as " + filter->ToString();
  EXPECT_TRUE(filter.status().IsInvalidArgument()) << filter.status();
  return filter.status().message();
}

std::vector<uint8_t> Eval(std::string_view text, const RecordBatch& batch) {
  Result<std::vector<uint8_t>> result = MustParse(text).Evaluate(batch);
  EXPECT_TRUE(result.ok()) << text << ": " << result.status();
  return result.ok() ? result.value() : std::vector<uint8_t>();
}

// Rows 0..4: ids 1..4 and a null row.
RecordBatch SmallBatch() {
  return MakeBatch({
      {int64_t{1}, int64_t{10}, 1.5, 1.5, true, std::string("apple"), kBaseMicros},
      {int64_t{2}, int64_t{20}, 2.5, kNaN, false, std::string("banana"), kBaseMicros + 1000000},
      {int64_t{3}, int64_t{30}, -1.0, -2e3, true, std::string("cherry"), kBaseMicros - 86400000000},
      {int64_t{4}, int64_t{40}, 4.0, 4.0, false, std::string("apricot"), kBaseMicros + 1},
      {kNull, kNull, kNull, kNull, kNull, kNull, kNull},
  });
}

// ---------------------------------------------------------------------------
// Operators and types.

TEST(FilterTest, ComparesIntegers) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("id = 2", batch), ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("id != 2", batch), ElementsAre(1, 0, 1, 1, 0));
  EXPECT_THAT(Eval("id <> 2", batch), ElementsAre(1, 0, 1, 1, 0));
  EXPECT_THAT(Eval("id < 2", batch), ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(Eval("id <= 2", batch), ElementsAre(1, 1, 0, 0, 0));
  EXPECT_THAT(Eval("id > 2", batch), ElementsAre(0, 0, 1, 1, 0));
  EXPECT_THAT(Eval("id >= 2", batch), ElementsAre(0, 1, 1, 1, 0));
  EXPECT_THAT(Eval("i32 >= 30", batch), ElementsAre(0, 0, 1, 1, 0));
  EXPECT_THAT(Eval("id > -1", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("i32 < 9223372036854775807", batch), ElementsAre(1, 1, 1, 1, 0));
}

TEST(FilterTest, LiteralOnTheLeftIsMirrored) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("2 < id", batch), ElementsAre(0, 0, 1, 1, 0));
  EXPECT_THAT(Eval("2 >= id", batch), ElementsAre(1, 1, 0, 0, 0));
  EXPECT_EQ(MustParse("2 < id").ToString(), "id > 2");
}

TEST(FilterTest, ComparesIntegersWithFloatsExactly) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("id < 2.5", batch), ElementsAre(1, 1, 0, 0, 0));
  EXPECT_THAT(Eval("id <= 2.5", batch), ElementsAre(1, 1, 0, 0, 0));
  EXPECT_THAT(Eval("id > 2.5", batch), ElementsAre(0, 0, 1, 1, 0));
  EXPECT_THAT(Eval("id = 2.5", batch), ElementsAre(0, 0, 0, 0, 0));
  EXPECT_THAT(Eval("id != 2.5", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("id = 2.0", batch), ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("id > -0.5", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("id < 1e30", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("id > -1e30", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("f32 > 2", batch), ElementsAre(0, 1, 0, 1, 0));
  EXPECT_THAT(Eval("f64 = -2e3", batch), ElementsAre(0, 0, 1, 0, 0));
  EXPECT_THAT(Eval("f64 = -2000", batch), ElementsAre(0, 0, 1, 0, 0));

  // 2^53 + 1 is not a double: int64 vs int64 stays exact, float vs int does not round.
  const RecordBatch big = MakeBatch({
      {int64_t{9007199254740993}, kNull, kNull, 9007199254740992.0},
      {int64_t{9007199254740992}, kNull, kNull, 9007199254740994.0},
  });
  EXPECT_THAT(Eval("id = 9007199254740993", big), ElementsAre(1, 0));
  EXPECT_THAT(Eval("f64 = 9007199254740993", big), ElementsAre(0, 0));
  EXPECT_THAT(Eval("f64 < 9007199254740993", big), ElementsAre(1, 0));
  EXPECT_THAT(Eval("f64 > 9007199254740993", big), ElementsAre(0, 1));
  EXPECT_THAT(Eval("f64 != 9007199254740993", big), ElementsAre(1, 1));
  EXPECT_THAT(Eval("id = f64", big), ElementsAre(0, 0));
  EXPECT_THAT(Eval("id > f64", big), ElementsAre(1, 0));
  EXPECT_THAT(Eval("f64 >= id", big), ElementsAre(0, 1));
  EXPECT_THAT(Eval("id IN (9007199254740993)", big), ElementsAre(1, 0));
  EXPECT_THAT(Eval("f64 IN (9007199254740993, 9007199254740994)", big), ElementsAre(0, 1));
}

TEST(FilterTest, NaNFailsEveryComparisonButNotEqual) {
  const RecordBatch batch = SmallBatch();  // f64 of row 1 is NaN
  EXPECT_THAT(Eval("f64 < 1e300", batch), ElementsAre(1, 0, 1, 1, 0));
  EXPECT_THAT(Eval("f64 >= -1e300", batch), ElementsAre(1, 0, 1, 1, 0));
  EXPECT_THAT(Eval("f64 != 4", batch), ElementsAre(1, 1, 1, 0, 0));
  EXPECT_THAT(Eval("NOT f64 < 1e300", batch), ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("f64 IN (1.5, 4)", batch), ElementsAre(1, 0, 0, 1, 0));
  EXPECT_THAT(Eval("f64 = f64", batch), ElementsAre(1, 0, 1, 1, 0));
}

TEST(FilterTest, ComparesStringsBytewise) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("name = 'banana'", batch), ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("name < 'b'", batch), ElementsAre(1, 0, 0, 1, 0));
  EXPECT_THAT(Eval("name >= 'banana'", batch), ElementsAre(0, 1, 1, 0, 0));
  EXPECT_THAT(Eval("name != 'apple'", batch), ElementsAre(0, 1, 1, 1, 0));
  EXPECT_THAT(Eval("'b' > name", batch), ElementsAre(1, 0, 0, 1, 0));
  const RecordBatch quotes = MakeBatch({{kNull, kNull, kNull, kNull, kNull, std::string("it's")}});
  EXPECT_THAT(Eval("name = 'it''s'", quotes), ElementsAre(1));
}

TEST(FilterTest, ComparesBooleans) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("flag", batch), ElementsAre(1, 0, 1, 0, 0));
  EXPECT_THAT(Eval("NOT flag", batch), ElementsAre(0, 1, 0, 1, 0));
  EXPECT_THAT(Eval("flag = TRUE", batch), ElementsAre(1, 0, 1, 0, 0));
  EXPECT_THAT(Eval("flag = false", batch), ElementsAre(0, 1, 0, 1, 0));
  EXPECT_THAT(Eval("flag < TRUE", batch), ElementsAre(0, 1, 0, 1, 0));
  EXPECT_THAT(Eval("flag IN (TRUE)", batch), ElementsAre(1, 0, 1, 0, 0));
  EXPECT_THAT(Eval("flag AND id > 1", batch), ElementsAre(0, 0, 1, 0, 0));
}

TEST(FilterTest, ComparesTimestamps) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("ts = timestamp '2024-01-02 03:04:05'", batch), ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(Eval("ts = TIMESTAMP '2024-01-02T03:04:05.000001'", batch),
              ElementsAre(0, 0, 0, 1, 0));
  EXPECT_THAT(Eval("ts > '2024-01-02 03:04:05'", batch), ElementsAre(0, 1, 0, 1, 0));
  EXPECT_THAT(Eval("ts < '2024-01-02'", batch), ElementsAre(0, 0, 1, 0, 0));
  EXPECT_THAT(Eval("ts >= '2024-01-02T03:04:06Z'", batch), ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("ts = 1704164645000000", batch), ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(Eval("ts BETWEEN '2024-01-02' AND '2024-01-03'", batch), ElementsAre(1, 1, 0, 1, 0));
  EXPECT_THAT(Eval("ts IN ('2024-01-01 03:04:05', '2024-01-02 03:04:06')", batch),
              ElementsAre(0, 1, 1, 0, 0));
  EXPECT_THAT(Eval("'2024-01-02 03:04:05' = ts", batch), ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(Eval("ts > id", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("timestamp '1970-01-01' = 0", batch), ElementsAre(1, 1, 1, 1, 1));
  EXPECT_THAT(Eval("timestamp '1969-12-31 23:59:59' = -1000000", batch),
              ElementsAre(1, 1, 1, 1, 1));
  EXPECT_THAT(Eval("timestamp '2000-02-29' = 951782400000000", batch), ElementsAre(1, 1, 1, 1, 1));
}

TEST(FilterTest, ComparesColumnWithColumn) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("i32 > id", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("f32 = f64", batch), ElementsAre(1, 0, 0, 1, 0));
  EXPECT_THAT(Eval("f32 < id", batch), ElementsAre(0, 0, 1, 0, 0));
  EXPECT_THAT(Eval("name = name", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("flag != flag", batch), ElementsAre(0, 0, 0, 0, 0));
}

TEST(FilterTest, InAndNotIn) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("id IN (1, 3, 99)", batch), ElementsAre(1, 0, 1, 0, 0));
  EXPECT_THAT(Eval("id NOT IN (1, 3, 99)", batch), ElementsAre(0, 1, 0, 1, 0));
  EXPECT_THAT(Eval("id in (2.0, 3.5)", batch), ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("name IN ('apple', 'cherry')", batch), ElementsAre(1, 0, 1, 0, 0));
  EXPECT_THAT(Eval("f32 IN (2.5, 4)", batch), ElementsAre(0, 1, 0, 1, 0));
  // Long lists take the binary-search path.
  EXPECT_THAT(Eval("id IN (-5, -4, -3, -2, -1, 0, 2, 4, 6, 8, 10, 12)", batch),
              ElementsAre(0, 1, 0, 1, 0));
  EXPECT_THAT(Eval("name IN ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'banana')", batch),
              ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("f64 IN (-7, -6, -5, -4, -3, -2, -1, 0, 1.5, 2, 3, 4)", batch),
              ElementsAre(1, 0, 0, 1, 0));
}

TEST(FilterTest, BetweenIsInclusive) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("id BETWEEN 2 AND 3", batch), ElementsAre(0, 1, 1, 0, 0));
  EXPECT_THAT(Eval("id NOT BETWEEN 2 AND 3", batch), ElementsAre(1, 0, 0, 1, 0));
  EXPECT_THAT(Eval("id BETWEEN 3 AND 2", batch), ElementsAre(0, 0, 0, 0, 0));
  EXPECT_THAT(Eval("name BETWEEN 'apple' AND 'b'", batch), ElementsAre(1, 0, 0, 1, 0));
  EXPECT_THAT(Eval("id BETWEEN 1 AND i32", batch), ElementsAre(1, 1, 1, 1, 0));
  // BETWEEN binds its AND; the second AND is a conjunction.
  EXPECT_THAT(Eval("id BETWEEN 1 AND 3 AND flag", batch), ElementsAre(1, 0, 1, 0, 0));
}

TEST(FilterTest, IsNullAndIsNotNull) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("id IS NULL", batch), ElementsAre(0, 0, 0, 0, 1));
  EXPECT_THAT(Eval("name IS NOT NULL", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("NOT ts IS NULL", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("flag is not null and not flag", batch), ElementsAre(0, 1, 0, 1, 0));
}

TEST(FilterTest, LikeMatchesGeneralPatterns) {
  const RecordBatch batch = SmallBatch();  // apple banana cherry apricot NULL
  EXPECT_THAT(Eval("name LIKE 'ap%'", batch), ElementsAre(1, 0, 0, 1, 0));
  EXPECT_THAT(Eval("name NOT LIKE 'ap%'", batch), ElementsAre(0, 1, 1, 0, 0));
  EXPECT_THAT(Eval("name LIKE '%y'", batch), ElementsAre(0, 0, 1, 0, 0));
  EXPECT_THAT(Eval("name LIKE '%an%'", batch), ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("name LIKE 'apple'", batch), ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(Eval("name LIKE '%'", batch), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("name LIKE '_pple'", batch), ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(Eval("name LIKE 'a%t'", batch), ElementsAre(0, 0, 0, 1, 0));
  EXPECT_THAT(Eval("name LIKE '%a%a%'", batch), ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(Eval("name LIKE '______'", batch), ElementsAre(0, 1, 1, 0, 0));
  EXPECT_THAT(Eval("name LIKE 'AP%'", batch), ElementsAre(0, 0, 0, 0, 0));  // case-sensitive
  EXPECT_THAT(Eval("name LIKE ''", batch), ElementsAre(0, 0, 0, 0, 0));

  const RecordBatch special = MakeBatch({
      {kNull, kNull, kNull, kNull, kNull, std::string("100%")},
      {kNull, kNull, kNull, kNull, kNull, std::string("1000")},
      {kNull, kNull, kNull, kNull, kNull, std::string("caf\xC3\xA9")},
      {kNull, kNull, kNull, kNull, kNull, std::string("a_b")},
      {kNull, kNull, kNull, kNull, kNull, std::string("")},
  });
  EXPECT_THAT(Eval("name LIKE '100!%' ESCAPE '!'", special), ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(Eval("name LIKE '100%'", special), ElementsAre(1, 1, 0, 0, 0));
  EXPECT_THAT(Eval("name LIKE '%\\_%' escape '\\'", special), ElementsAre(0, 0, 0, 1, 0));
  // `_` is one character, not one byte.
  EXPECT_THAT(Eval("name LIKE 'caf_'", special), ElementsAre(0, 0, 1, 0, 0));
  EXPECT_THAT(Eval("name LIKE '%_'", special), ElementsAre(1, 1, 1, 1, 0));
  EXPECT_THAT(Eval("name LIKE ''", special), ElementsAre(0, 0, 0, 0, 1));
  EXPECT_THAT(Eval("name LIKE '%\xC3\xA9'", special), ElementsAre(0, 0, 1, 0, 0));
}

TEST(FilterTest, KeywordsAreCaseInsensitiveAndColumnsMayBeQuoted) {
  const RecordBatch batch = SmallBatch();
  EXPECT_THAT(Eval("ID In (1) oR Not (FLAG)", batch), ElementsAre(1, 1, 0, 1, 0));
  const Schema schema =
      Schema::Parse("weird name:int64,select:utf8,Mixed:int64,mixed:int64,and:int64").value();
  EXPECT_TRUE(Filter::Parse("\"weird name\" > 1 AND \"and\" = 2", schema).ok());
  EXPECT_TRUE(Filter::Parse("select = 'x'", schema).ok());
  EXPECT_EQ(Filter::Parse("\"weird name\" > 1", schema)->ToString(), "\"weird name\" > 1");
  EXPECT_EQ(Filter::Parse("\"and\" > 1", schema)->ToString(), "\"and\" > 1");
  // Exact match first; case-insensitive only when unambiguous.
  EXPECT_EQ(Filter::Parse("Mixed = 1", schema)->columns(), std::vector<std::string>{"Mixed"});
  EXPECT_THAT(Filter::Parse("MIXED = 1", schema).status().message(), HasSubstr("ambiguous"));
  EXPECT_EQ(MustParse("NAME = 'a'").ToString(), "name = 'a'");
  EXPECT_FALSE(Filter::Parse("\"NAME\" = 'a'", TestSchema()).ok());
}

// ---------------------------------------------------------------------------
// Three-valued logic and precedence.

TEST(FilterTest, NullsFollowThreeValuedLogic) {
  // Row 0: id NULL; row 1: id 1.
  const RecordBatch batch = MakeBatch({
      {kNull, int64_t{1}},
      {int64_t{1}, int64_t{1}},
  });
  EXPECT_THAT(Eval("id = 1", batch), ElementsAre(0, 1));
  EXPECT_THAT(Eval("NOT id = 1", batch), ElementsAre(0, 0));          // NOT unknown = unknown
  EXPECT_THAT(Eval("id = 1 AND i32 = 2", batch), ElementsAre(0, 0));  // unknown AND false
  EXPECT_THAT(Eval("NOT (id = 1 AND i32 = 2)", batch), ElementsAre(1, 1));
  EXPECT_THAT(Eval("id = 1 OR i32 = 1", batch), ElementsAre(1, 1));  // unknown OR true
  EXPECT_THAT(Eval("id = 1 OR i32 = 2", batch), ElementsAre(0, 1));  // unknown OR false
  EXPECT_THAT(Eval("NOT (id = 1 OR i32 = 2)", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("id = NULL", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("id != NULL", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("NOT id = NULL", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("NULL", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("NOT NULL", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("NULL OR TRUE", batch), ElementsAre(1, 1));
  EXPECT_THAT(Eval("id IN (1, NULL)", batch), ElementsAre(0, 1));
  EXPECT_THAT(Eval("i32 IN (2, NULL)", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("NOT i32 IN (2, NULL)", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("i32 NOT IN (2, NULL)", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("i32 NOT IN (2)", batch), ElementsAre(1, 1));
  EXPECT_THAT(Eval("id NOT IN (2)", batch), ElementsAre(0, 1));
  EXPECT_THAT(Eval("i32 BETWEEN NULL AND 0", batch), ElementsAre(0, 0));
  EXPECT_THAT(Eval("i32 NOT BETWEEN NULL AND 0", batch),
              ElementsAre(1, 1));  // NOT (unknown AND false)
  EXPECT_THAT(Eval("name NOT LIKE 'x'", MakeBatch({{kNull}})), ElementsAre(0));
  EXPECT_THAT(Eval("id = i32", batch), ElementsAre(0, 1));
  EXPECT_THAT(Eval("id IS NULL OR id = 5", batch), ElementsAre(1, 0));
}

TEST(FilterTest, NotBindsTighterThanAndTighterThanOr) {
  const RecordBatch batch = MakeBatch({
      {int64_t{1}, int64_t{1}, 1.0},
      {int64_t{1}, int64_t{0}, 0.0},
      {int64_t{0}, int64_t{1}, 0.0},
      {int64_t{0}, int64_t{0}, 1.0},
  });
  // a OR b AND c == a OR (b AND c)
  EXPECT_THAT(Eval("id = 1 OR i32 = 1 AND f32 = 1", batch), ElementsAre(1, 1, 0, 0));
  EXPECT_THAT(Eval("(id = 1 OR i32 = 1) AND f32 = 1", batch), ElementsAre(1, 0, 0, 0));
  // NOT a AND b == (NOT a) AND b
  EXPECT_THAT(Eval("NOT id = 1 AND i32 = 1", batch), ElementsAre(0, 0, 1, 0));
  EXPECT_THAT(Eval("NOT (id = 1 AND i32 = 1)", batch), ElementsAre(0, 1, 1, 1));
  EXPECT_THAT(Eval("NOT NOT id = 1", batch), ElementsAre(1, 1, 0, 0));
  EXPECT_THAT(Eval("id = 0 AND i32 = 0 OR f32 = 1 AND id = 1", batch), ElementsAre(1, 0, 0, 1));
  EXPECT_EQ(MustParse("(id = 1 OR i32 = 1) AND f32 = 1").ToString(),
            "(id = 1 OR i32 = 1) AND f32 = 1");
  EXPECT_EQ(MustParse("id = 1 OR (i32 = 1 AND f32 = 1)").ToString(),
            "id = 1 OR i32 = 1 AND f32 = 1");
  EXPECT_EQ(MustParse("((id = 1)) and (i32 = 1 and (f32 = 1))").ToString(),
            "id = 1 AND i32 = 1 AND f32 = 1");
  EXPECT_EQ(MustParse("not (id = 1 or i32 = 2)").ToString(), "NOT (id = 1 OR i32 = 2)");
}

TEST(FilterTest, LiteralOnlyComparisonsFold) {
  const RecordBatch batch = SmallBatch();
  EXPECT_EQ(MustParse("1 < 2").ToString(), "TRUE");
  EXPECT_EQ(MustParse("1 = 1.5").ToString(), "FALSE");
  EXPECT_EQ(MustParse("NULL = 1").ToString(), "NULL");
  EXPECT_EQ(MustParse("'a' < 'b'").ToString(), "TRUE");
  EXPECT_THAT(Eval("1 = 1 AND id = 1", batch), ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(Eval("FALSE", batch), ElementsAre(0, 0, 0, 0, 0));
}

// ---------------------------------------------------------------------------
// Errors.

TEST(FilterTest, ErrorsNameThePositionAndProblem) {
  EXPECT_EQ(ParseError("prise > 5"), "filter: unknown column 'prise' at position 1");
  EXPECT_EQ(ParseError("id = 'abc'"),
            "filter: cannot compare int64 column 'id' with string 'abc' at position 6");
  EXPECT_EQ(ParseError("'abc' = id"),
            "filter: cannot compare string 'abc' with int64 column 'id' at position 1");
  EXPECT_EQ(ParseError("(id > 5 AND i32 < 3"), "filter: expected ')' at position 20");
  EXPECT_EQ(ParseError("id IN (1, 2"), "filter: expected ',' or ')' in IN list at position 12");
  EXPECT_EQ(ParseError("name = 'abc"), "filter: unterminated string at position 8");
  EXPECT_EQ(ParseError("\"name = 1"), "filter: unterminated quoted identifier at position 1");
  EXPECT_EQ(ParseError("id = 1 id"), "filter: unexpected trailing 'id' at position 8");
  EXPECT_EQ(ParseError("id = 1)"), "filter: unbalanced ')' at position 7");
  EXPECT_EQ(ParseError(""), "filter: empty filter");
  EXPECT_EQ(ParseError("   "), "filter: empty filter");
  EXPECT_EQ(ParseError("vec IS NULL"),
            "filter: cannot filter on vector column 'vec' at position 1");
  EXPECT_EQ(ParseError("ts > 'yesterday'"), "filter: invalid timestamp 'yesterday' at position 6");
  EXPECT_EQ(ParseError("ts > timestamp '2024-02-30'"),
            "filter: invalid timestamp '2024-02-30' at position 16");
  EXPECT_EQ(ParseError("id = 1 AND"), "filter: unexpected end of filter at position 11");
  EXPECT_EQ(ParseError("id = = 1"),
            "filter: expected a column or literal, found '=' at position 6");
  EXPECT_EQ(ParseError("id # 1"), "filter: unexpected character '#' at position 4");
  EXPECT_EQ(ParseError("id = 12abc"), "filter: invalid number '12abc' at position 6");
  EXPECT_EQ(ParseError("id = 99999999999999999999"),
            "filter: integer out of range '99999999999999999999' at position 6");
  EXPECT_EQ(ParseError("f64 = 1e999"), "filter: number out of range '1e999' at position 7");
  EXPECT_EQ(ParseError("id"),
            "filter: expected a comparison after int64 column 'id' but found "
            "end of filter at position 3");
  EXPECT_EQ(ParseError("id LIKE 'a%'"),
            "filter: LIKE needs a utf8 column, not int64 column 'id' at position 1");
  EXPECT_EQ(ParseError("name LIKE 'a' ESCAPE 'ab'"),
            "filter: ESCAPE must be a single character at position 22");
  EXPECT_EQ(ParseError("name LIKE 'a!' ESCAPE '!'"),
            "filter: LIKE pattern ends with the escape character at position 11");
  EXPECT_EQ(ParseError("f32 = flag"),
            "filter: cannot compare float32 column 'f32' with bool column 'flag' at position 7");
  EXPECT_EQ(ParseError("ts = 1.5"),
            "filter: cannot compare timestamp column 'ts' with float 1.5 at position 6");
  EXPECT_EQ(ParseError("id IN (1, 'x')"),
            "filter: cannot compare int64 column 'id' with string 'x' at position 11");
  EXPECT_EQ(ParseError("id IN (i32)"),
            "filter: IN list must hold literals, found column 'i32' at position 8");
  EXPECT_EQ(ParseError("5 IN (1)"),
            "filter: IN needs a column on its left, not integer 5 at position 3");
  EXPECT_EQ(ParseError("id IS 5"), "filter: expected NULL after IS at position 7");
  EXPECT_EQ(ParseError("id NOT 5"), "filter: expected IN, BETWEEN or LIKE after NOT at position 8");
  EXPECT_EQ(ParseError("id BETWEEN 1 OR 2"), "filter: expected AND in BETWEEN at position 14");
  EXPECT_EQ(ParseError("AND id = 1"),
            "filter: expected a column or literal, found 'AND' at position 1");
  // Positions count characters, not bytes.
  EXPECT_EQ(ParseError("name = '\xC3\xA9' AND x = 1"), "filter: unknown column 'x' at position 16");
  EXPECT_THAT(ParseError(std::string(300, '(') + "id = 1" + std::string(300, ')')),
              HasSubstr("nested too deeply"));
  EXPECT_THAT(ParseError(std::string(300, 'N') + ""), HasSubstr("unknown column"));
  std::string nots;
  for (int index = 0; index < 300; ++index) nots += "NOT ";
  EXPECT_THAT(ParseError(nots + "flag"), HasSubstr("nested too deeply"));
}

// ---------------------------------------------------------------------------
// Batches.

TEST(FilterTest, LooksUpColumnsByNameInSubsetsAndReorderings) {
  const RecordBatch batch = SmallBatch();
  const Filter filter = MustParse("name LIKE 'a%' AND id > 1");
  EXPECT_EQ(filter.columns(), (std::vector<std::string>{"name", "id"}));
  const RecordBatch subset = batch.SelectColumns({"ts", "id", "name"}).value();
  EXPECT_THAT(filter.Evaluate(subset).value(), ElementsAre(0, 0, 0, 1, 0));
  const RecordBatch missing = batch.SelectColumns({"id"}).value();
  const Status status = filter.Evaluate(missing).status();
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_THAT(status.message(), HasSubstr("'name'"));

  // Same name, other type.
  const Schema other = Schema::Parse("id:utf8,name:utf8").value();
  RecordBatchBuilder builder(other);
  ASSERT_TRUE(builder.AppendRow({std::string("1"), std::string("a")}).ok());
  EXPECT_TRUE(filter.Evaluate(builder.Finish().value()).status().IsInvalidArgument());

  EXPECT_TRUE(MustParse("TRUE").columns().empty());
  EXPECT_EQ(
      MustParse("id = i32 OR id IS NULL OR ts BETWEEN id AND i32 OR f64 > 0 OR flag").columns(),
      (std::vector<std::string>{"id", "i32", "ts", "f64", "flag"}));
}

TEST(FilterTest, EvaluatesEmptyBatches) {
  const RecordBatch empty = RecordBatch::Empty(TestSchema());
  EXPECT_TRUE(Eval("id = 1 OR name LIKE '%a' OR flag", empty).empty());
}

TEST(FilterTest, EvaluatesSlicedBatches) {
  std::vector<std::vector<Value>> rows;
  for (int64_t row = 0; row < 50; ++row) {
    rows.push_back({row % 7 == 0 ? kNull : Value(row), Value(row % 5), Value(row * 0.5),
                    row % 3 == 0 ? kNull : Value(row * 0.25), Value(row % 2 == 0),
                    row % 4 == 0 ? kNull : Value("n" + std::to_string(row)),
                    Value(kBaseMicros + row)});
  }
  const RecordBatch batch = MakeBatch(rows);
  for (const char* text : {"id > 10 AND i32 IN (1, 2)", "name LIKE 'n1%' OR flag",
                           "f64 IS NULL OR f32 >= f64", "ts BETWEEN 1704164645000010 AND id",
                           "NOT (id < 20) AND name NOT LIKE '%3'", "i32 != 0 AND flag = FALSE"}) {
    const std::vector<uint8_t> full = Eval(text, batch);
    for (const auto& [offset, length] :
         std::vector<std::pair<int64_t, int64_t>>{{0, 50}, {3, 17}, {9, 41}, {13, 1}, {50, 0}}) {
      const std::vector<uint8_t> sliced = Eval(text, batch.Slice(offset, length));
      ASSERT_EQ(sliced.size(), static_cast<size_t>(length));
      for (int64_t row = 0; row < length; ++row) {
        EXPECT_EQ(sliced[row], full[offset + row])
            << text << " offset " << offset << " row " << row;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Printing.

TEST(FilterTest, ToStringIsNormalizedAndReparses) {
  EXPECT_EQ(MustParse("id<>5 and NAME like 'a''b%' escape '!'").ToString(),
            "id != 5 AND name LIKE 'a''b%' ESCAPE '!'");
  EXPECT_EQ(MustParse("ts > '2024-01-02T03:04:05.5'").ToString(),
            "ts > TIMESTAMP '2024-01-02 03:04:05.500000'");
  EXPECT_EQ(MustParse("f64 in (1, 2.0, -2e3, NULL)").ToString(), "f64 IN (1, 2.0, -2000.0, NULL)");
  EXPECT_EQ(MustParse("id not between -1 and 1e20").ToString(), "id NOT BETWEEN -1 AND 1e+20");
  EXPECT_EQ(MustParse("name is not null").ToString(), "name IS NOT NULL");
  EXPECT_EQ(MustParse("not flag").ToString(), "NOT flag");
  EXPECT_EQ(MustParse("id = -9223372036854775808").ToString(), "id = -9223372036854775808");
  for (const char* text : {"id = 1 OR NOT (i32 = 2 AND f32 < .5)", "ts = timestamp '1970-01-01'",
                           "name NOT IN ('x', 'y''z')", "NOT NOT flag", "f32 = -0.0"}) {
    const std::string normalized = MustParse(text).ToString();
    EXPECT_EQ(MustParse(normalized).ToString(), normalized) << text;
  }
}

// ---------------------------------------------------------------------------
// MayMatch.

format::ColumnStats Stats(int field, Value min, Value max, int64_t null_count = 0) {
  return {field, std::move(min), std::move(max), null_count};
}

TEST(FilterTest, MayMatchSkipsObviousFragments) {
  const std::vector<format::ColumnStats> stats = {
      Stats(kId, int64_t{10}, int64_t{20}),
      Stats(kI32, int64_t{5}, int64_t{5}, 3),
      Stats(kF32, -1.0, 1.0),
      Stats(kF64, kNull, kNull, 100),  // all null
      Stats(kFlag, false, false),
      Stats(kName, std::string("apple"), std::string("apricot")),
      Stats(kTs, kBaseMicros, kBaseMicros + 1000000),
  };
  auto may = [&stats](std::string_view text) { return MustParse(text).MayMatch(stats, 100); };
  EXPECT_FALSE(may("id > 20"));
  EXPECT_TRUE(may("id >= 20"));
  EXPECT_FALSE(may("id < 10"));
  EXPECT_TRUE(may("id <= 10"));
  EXPECT_FALSE(may("id = 21"));
  EXPECT_TRUE(may("id = 15"));
  EXPECT_FALSE(may("id = 20.5"));
  EXPECT_FALSE(may("id = 15.5"));
  EXPECT_TRUE(may("id != 15.5"));
  EXPECT_FALSE(may("NOT id != 15.5"));
  EXPECT_TRUE(may("id < 10.5"));
  EXPECT_FALSE(may("9 >= id"));
  EXPECT_FALSE(may("i32 != 5"));
  EXPECT_TRUE(may("id != 15"));
  EXPECT_FALSE(may("id BETWEEN 21 AND 30"));
  EXPECT_TRUE(may("id BETWEEN 0 AND 10"));
  EXPECT_FALSE(may("id IN (1, 2, 30, NULL)"));
  EXPECT_TRUE(may("id IN (1, 12)"));
  EXPECT_FALSE(may("i32 NOT IN (4, 5)"));
  EXPECT_FALSE(may("id NOT IN (4, NULL)"));
  EXPECT_TRUE(may("id NOT IN (4)"));
  EXPECT_FALSE(may("name LIKE 'b%'"));
  EXPECT_FALSE(may("name LIKE 'aa%'"));
  EXPECT_TRUE(may("name LIKE 'ap_le'"));
  EXPECT_TRUE(may("name LIKE '%z'"));
  EXPECT_FALSE(may("name LIKE 'b'"));
  EXPECT_FALSE(may("name = 'banana'"));
  EXPECT_FALSE(may("f64 > 0"));
  EXPECT_FALSE(may("f64 IS NOT NULL"));
  EXPECT_TRUE(may("f64 IS NULL"));
  EXPECT_FALSE(may("id IS NULL"));
  EXPECT_TRUE(may("i32 IS NULL"));
  EXPECT_FALSE(may("flag"));
  EXPECT_TRUE(may("NOT flag"));
  EXPECT_FALSE(may("flag = TRUE"));
  EXPECT_FALSE(may("ts > '2024-01-02 03:04:06'"));
  EXPECT_TRUE(may("ts >= '2024-01-02 03:04:06'"));
  EXPECT_FALSE(may("id > 20 AND i32 = 5"));
  EXPECT_TRUE(may("id > 20 OR i32 = 5"));
  EXPECT_FALSE(may("id > 20 OR i32 = 6"));
  EXPECT_FALSE(may("NOT (id <= 20)"));
  EXPECT_TRUE(may("NOT (id < 20)"));
  EXPECT_FALSE(may("NOT (id > 5 OR name = 'x')"));
  EXPECT_FALSE(may("id NOT BETWEEN 0 AND 100"));
  EXPECT_TRUE(may("id NOT BETWEEN 0 AND 15"));
  EXPECT_TRUE(may("NOT (f32 > 5)"));  // a NaN row would pass; stats may leave NaN out
  EXPECT_TRUE(may("f32 != 0"));
  EXPECT_FALSE(may("id = NULL"));
  EXPECT_FALSE(may("FALSE"));
  EXPECT_FALSE(may("NULL"));
  EXPECT_FALSE(may("id < i32"));
  EXPECT_TRUE(may("id > i32"));
  EXPECT_FALSE(may("f64 = id"));
  // Columns without stats may hold anything.
  EXPECT_TRUE(MustParse("id > 1000").MayMatch({}, 10));
  EXPECT_TRUE(MustParse("id IS NULL").MayMatch({}, 10));
  // An empty fragment has no row to pass.
  EXPECT_FALSE(MustParse("TRUE").MayMatch({}, 0));
}

}  // namespace
}  // namespace tessera::expr
