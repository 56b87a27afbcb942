// Randomized tests of Filter: evaluation against a brute-force per-row oracle on seeded
// random data and random filters, and soundness of MayMatch on random fragments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "expr/filter.h"

namespace tessera::expr {
namespace {

constexpr int64_t kBaseMicros = 1704164645000000;  // 2024-01-02 03:04:05 UTC
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

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

// ---------------------------------------------------------------------------
// Random filters against a brute-force per-row oracle.

static_assert(std::numeric_limits<long double>::digits >= 64,
              "the oracle compares int64 and double exactly as long double");

using Row = std::vector<Value>;
// Three-valued oracle result: 0 false, 1 unknown, 2 true.
using Oracle = std::function<int(const Row&)>;

// Sorted, so that a window of indexes is a lexicographic range.
const std::vector<std::string>& TestStrings() {
  static const auto* strings = new std::vector<std::string>{
      "", "a", "a%b", "a_b", "ab", "abc", "a\xC3\xA9", "b", "ba", "it's", "zz", "\xC3\xA9"};
  return *strings;
}

std::string Quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  return out + "'";
}

bool IsNull(const Value& value) { return std::holds_alternative<std::monostate>(value); }

long double AsNumber(const Value& value) {
  if (const auto* integer = std::get_if<int64_t>(&value)) return static_cast<long double>(*integer);
  return static_cast<long double>(std::get<double>(value));
}

int OracleCompare(const Value& a, const Value& b, std::string_view op) {
  if (IsNull(a) || IsNull(b)) return 1;
  int ord = 0;
  if (std::holds_alternative<std::string>(a)) {
    const int cmp = std::get<std::string>(a).compare(std::get<std::string>(b));
    ord = cmp < 0 ? -1 : cmp > 0 ? 1 : 0;
  } else if (std::holds_alternative<bool>(a)) {
    ord = static_cast<int>(std::get<bool>(a)) - static_cast<int>(std::get<bool>(b));
  } else {
    const long double x = AsNumber(a);
    const long double y = AsNumber(b);
    if (std::isnan(x) || std::isnan(y)) return op == "!=" || op == "<>" ? 2 : 0;
    ord = x < y ? -1 : x > y ? 1 : 0;
  }
  bool result = false;
  if (op == "=") result = ord == 0;
  if (op == "!=" || op == "<>") result = ord != 0;
  if (op == "<") result = ord < 0;
  if (op == "<=") result = ord <= 0;
  if (op == ">") result = ord > 0;
  if (op == ">=") result = ord >= 0;
  return result ? 2 : 0;
}

std::vector<std::string> CodePoints(std::string_view text) {
  std::vector<std::string> out;
  for (const char c : text) {
    if (out.empty() || (static_cast<unsigned char>(c) & 0xC0) != 0x80) out.emplace_back();
    out.back().push_back(c);
  }
  return out;
}

bool OracleLike(std::string_view text, std::string_view pattern) {
  const std::vector<std::string> chars = CodePoints(text);
  const std::vector<std::string> pat = CodePoints(pattern);
  std::vector<std::vector<char>> match(chars.size() + 1, std::vector<char>(pat.size() + 1, 0));
  match[0][0] = 1;
  for (size_t p = 1; p <= pat.size(); ++p) match[0][p] = pat[p - 1] == "%" && match[0][p - 1];
  for (size_t t = 1; t <= chars.size(); ++t) {
    for (size_t p = 1; p <= pat.size(); ++p) {
      if (pat[p - 1] == "%") {
        match[t][p] = match[t - 1][p] || match[t][p - 1];
      } else if (pat[p - 1] == "_" || pat[p - 1] == chars[t - 1]) {
        match[t][p] = match[t - 1][p - 1];
      }
    }
  }
  return match[chars.size()][pat.size()];
}

// The value ranges of random data: per column [lo, hi] (meaning per column below), the
// probability of a null, and of a special value (NaN, infinities, int64 extremes).
struct DataShape {
  int64_t lo[kNumCols] = {};
  int64_t hi[kNumCols] = {};
  double null_probability[kNumCols] = {};
  double special_probability = 0;
};

class RandomSource {
 public:
  explicit RandomSource(uint64_t seed) : rng_(seed) {}

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double probability) {
    return std::uniform_real_distribution<double>()(rng_) < probability;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& values) {
    return values[static_cast<size_t>(Uniform(0, static_cast<int64_t>(values.size()) - 1))];
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

DataShape WideShape() {
  DataShape shape;
  for (int col = 0; col < kNumCols; ++col) {
    shape.lo[col] = -6;
    shape.hi[col] = 6;
    shape.null_probability[col] = 0.15;
  }
  shape.lo[kFlag] = 0;
  shape.hi[kFlag] = 1;
  shape.lo[kName] = 0;
  shape.hi[kName] = static_cast<int64_t>(TestStrings().size()) - 1;
  shape.lo[kTs] = -3;
  shape.hi[kTs] = 3;
  shape.special_probability = 0.05;
  return shape;
}

// Narrow ranges, so that statistics can exclude many filters.
DataShape NarrowShape(RandomSource& random) {
  DataShape shape = WideShape();
  for (int col = 0; col < kNumCols; ++col) {
    const int64_t width = random.Uniform(0, 2);
    shape.lo[col] = random.Uniform(shape.lo[col], std::max(shape.lo[col], shape.hi[col] - width));
    shape.hi[col] = std::min(shape.hi[col], shape.lo[col] + width);
    shape.null_probability[col] = random.Pick(std::vector<double>{0.0, 0.0, 0.2, 1.0});
  }
  shape.special_probability = random.Chance(0.3) ? 0.1 : 0.0;
  return shape;
}

Row RandomRow(RandomSource& random, const DataShape& shape) {
  Row row(kNumCols);
  for (int col = 0; col < kVec; ++col) {
    if (random.Chance(shape.null_probability[col])) continue;
    const int64_t k = random.Uniform(shape.lo[col], shape.hi[col]);
    const bool special = random.Chance(shape.special_probability);
    switch (col) {
      case kId:
        row[col] =
            special ? random.Pick(std::vector<int64_t>{kInt64Min, kInt64Max, 9007199254740993}) : k;
        break;
      case kI32:
        row[col] = k;
        break;
      case kF32:
      case kF64:
        row[col] =
            special ? random.Pick(std::vector<double>{kNaN, kInf, -kInf, -0.0, 9007199254740992.0})
                    : static_cast<double>(2 * k + random.Uniform(0, 1)) / 2;
        break;
      case kFlag:
        row[col] = k != 0;
        break;
      case kName:
        row[col] = TestStrings()[static_cast<size_t>(k)];
        break;
      case kTs:
        row[col] = kBaseMicros + k * 1000000 + (special ? 1 : 0);
        break;
      default:
        break;
    }
  }
  return row;
}

struct RandomFilter {
  std::string text;
  Oracle oracle;
  int precedence = 2;  // 0: OR, 1: AND, 2: NOT or a predicate
};

// Generates filter text together with an independent oracle of its meaning.
class FilterGenerator {
 public:
  explicit FilterGenerator(RandomSource& random) : random_(random) {}

  RandomFilter Make(int depth) {
    if (depth == 0 || random_.Chance(0.3)) return Leaf();
    switch (random_.Uniform(0, 2)) {
      case 0: {
        RandomFilter child = Make(depth - 1);
        Oracle oracle = [inner = child.oracle](const Row& row) { return 2 - inner(row); };
        return {Keyword("NOT") + " " + Wrap(child, 2), oracle, 2};
      }
      case 1:
      default: {
        const bool is_and = random_.Chance(0.5);
        const int count = static_cast<int>(random_.Uniform(2, 3));
        std::vector<Oracle> children;
        std::string text;
        for (int index = 0; index < count; ++index) {
          RandomFilter child = Make(depth - 1);
          if (index > 0) text += " " + Keyword(is_and ? "AND" : "OR") + " ";
          text += Wrap(child, is_and ? 1 : 0);
          children.push_back(child.oracle);
        }
        Oracle oracle = [children, is_and](const Row& row) {
          int result = is_and ? 2 : 0;
          for (const Oracle& child : children) {
            result = is_and ? std::min(result, child(row)) : std::max(result, child(row));
          }
          return result;
        };
        return {text, oracle, is_and ? 1 : 0};
      }
    }
  }

 private:
  struct Literal {
    std::string text;
    Value value;
  };

  std::string Keyword(std::string_view keyword) {
    std::string out(keyword);
    if (random_.Chance(0.3)) {
      for (char& c : out) {
        if (random_.Chance(0.5)) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    return out;
  }

  // Parenthesize `child` if its precedence is below `needed`, sometimes anyway.
  std::string Wrap(const RandomFilter& child, int needed) {
    if (child.precedence < needed || random_.Chance(0.15)) return "(" + child.text + ")";
    return child.text;
  }

  Literal NumberLiteral() {
    switch (random_.Uniform(0, 5)) {
      case 0:
      case 1: {
        const int64_t value = random_.Uniform(-7, 7);
        return {std::to_string(value), value};
      }
      case 2:
      case 3: {
        const double value = static_cast<double>(random_.Uniform(-14, 14)) / 2;
        char buffer[32];
        std::snprintf(buffer, sizeof(buffer), "%.1f", value);
        return {buffer, value};
      }
      case 4: {
        const int64_t value = random_.Pick(
            std::vector<int64_t>{kInt64Min, kInt64Max, 9007199254740993, 9007199254740992});
        return {std::to_string(value), value};
      }
      default: {
        const double value =
            random_.Pick(std::vector<double>{1e19, -1e19, 9007199254740992.0, -0.0});
        const std::string text = value == 1e19    ? "1e19"
                                 : value == -1e19 ? "-1E+19"
                                 : value == 0     ? "-0.0"
                                                  : "9007199254740992.0";
        return {text, value};
      }
    }
  }

  Literal TimestampLiteral() {
    const int64_t seconds = random_.Uniform(-3, 3);
    const int64_t micros = kBaseMicros + seconds * 1000000;
    const std::string digits = "2024-01-02 03:04:0" + std::to_string(5 + seconds);
    switch (random_.Uniform(0, 4)) {
      case 0:
        return {std::to_string(micros), micros};
      case 1:
        return {Keyword("TIMESTAMP") + " " + Quote(digits), micros};
      case 2:
        return {Quote("2024-01-02T03:04:0" + std::to_string(5 + seconds) + ".000001"), micros + 1};
      case 3:
        return {Quote("2024-01-02"), kBaseMicros - (3 * 3600 + 4 * 60 + 5) * int64_t{1000000}};
      default:
        return {Quote(digits), micros};
    }
  }

  Literal LiteralFor(int col, bool allow_null = true) {
    if (allow_null && random_.Chance(0.05)) return {Keyword("NULL"), kNull};
    switch (col) {
      case kFlag: {
        const bool value = random_.Chance(0.5);
        return {Keyword(value ? "TRUE" : "FALSE"), value};
      }
      case kName: {
        const std::string& value = random_.Pick(TestStrings());
        return {Quote(value), value};
      }
      case kTs:
        return TimestampLiteral();
      default:
        return NumberLiteral();
    }
  }

  // A column comparable with `col` (possibly itself).
  int CompatibleColumn(int col) {
    switch (col) {
      case kFlag:
      case kName:
        return col;
      case kTs:
        return random_.Pick(std::vector<int>{kTs, kId, kI32});
      case kId:
      case kI32:
        if (random_.Chance(0.2)) return kTs;
        [[fallthrough]];
      default:
        return random_.Pick(std::vector<int>{kId, kI32, kF32, kF64});
    }
  }

  RandomFilter Leaf() {
    static const std::vector<std::string> kNames = {"id",   "i32",  "f32", "f64",
                                                    "flag", "name", "ts"};
    static const std::vector<std::string> kOps = {"=", "!=", "<>", "<", "<=", ">", ">="};
    const int col = static_cast<int>(random_.Uniform(0, kVec - 1));
    const std::string& name = kNames[col];
    switch (random_.Uniform(0, 9)) {
      case 0:
      case 1:
      case 2: {  // column op literal, either way round
        const std::string op = random_.Pick(kOps);
        const Literal literal = LiteralFor(col);
        if (random_.Chance(0.3)) {
          return {literal.text + " " + op + " " + name,
                  [col, op, value = literal.value](const Row& row) {
                    return OracleCompare(value, row[col], op);
                  }};
        }
        return {name + " " + op + " " + literal.text,
                [col, op, value = literal.value](const Row& row) {
                  return OracleCompare(row[col], value, op);
                }};
      }
      case 3: {  // column op column
        const std::string op = random_.Pick(kOps);
        const int other = CompatibleColumn(col);
        return {name + op + kNames[other], [col, other, op](const Row& row) {
                  return OracleCompare(row[col], row[other], op);
                }};
      }
      case 4: {  // [NOT] IN
        const bool negated = random_.Chance(0.4);
        const int count =
            static_cast<int>(random_.Chance(0.2) ? random_.Uniform(9, 14) : random_.Uniform(1, 4));
        std::vector<Value> values;
        std::string text =
            name + " " + (negated ? Keyword("NOT") + " " : "") + Keyword("IN") + " (";
        for (int index = 0; index < count; ++index) {
          const Literal literal = LiteralFor(col);
          text += (index > 0 ? ", " : "") + literal.text;
          values.push_back(literal.value);
        }
        return {text + ")", [col, values, negated](const Row& row) {
                  int result = 0;
                  for (const Value& value : values)
                    result = std::max(result, OracleCompare(row[col], value, "="));
                  return negated ? 2 - result : result;
                }};
      }
      case 5: {  // [NOT] BETWEEN
        const bool negated = random_.Chance(0.4);
        const Literal low = LiteralFor(col);
        const Literal high = LiteralFor(col);
        return {name + " " + (negated ? Keyword("NOT") + " " : "") + Keyword("BETWEEN") + " " +
                    low.text + " " + Keyword("AND") + " " + high.text,
                [col, low = low.value, high = high.value, negated](const Row& row) {
                  const int result = std::min(OracleCompare(row[col], low, ">="),
                                              OracleCompare(row[col], high, "<="));
                  return negated ? 2 - result : result;
                }};
      }
      case 6: {  // IS [NOT] NULL
        const bool negated = random_.Chance(0.5);
        return {name + " " + Keyword("IS") + (negated ? " " + Keyword("NOT") : "") + " " +
                    Keyword("NULL"),
                [col, negated](const Row& row) { return IsNull(row[col]) != negated ? 2 : 0; }};
      }
      case 7: {  // [NOT] LIKE
        static const std::vector<std::string> kPatterns = {
            "a%",  "%b",   "%a%",  "a_",    "_",   "%",   "a_c",       "%\xC3\xA9%", "",   "ab",
            "_b%", "a%c%", "%_%_", "it's%", "%'%", "a%b", "_\xC3\xA9", "%%",         "a__"};
        const bool negated = random_.Chance(0.4);
        const std::string pattern = random_.Pick(kPatterns);
        return {"name " + (negated ? Keyword("NOT") + " " : "") + Keyword("LIKE") + " " +
                    Quote(pattern),
                [pattern, negated](const Row& row) {
                  if (IsNull(row[kName])) return 1;
                  const bool match = OracleLike(std::get<std::string>(row[kName]), pattern);
                  return match != negated ? 2 : 0;
                }};
      }
      case 8:  // a bare boolean column
        return {"flag", [](const Row& row) {
                  if (IsNull(row[kFlag])) return 1;
                  return std::get<bool>(row[kFlag]) ? 2 : 0;
                }};
      default: {  // a constant
        const int value = static_cast<int>(random_.Uniform(0, 2));
        return {value == 0   ? Keyword("FALSE")
                : value == 1 ? Keyword("NULL")
                             : Keyword("TRUE"),
                [value](const Row&) { return value; }};
      }
    }
  }

  RandomSource& random_;
};

TEST(FilterPropertyTest, MatchesPerRowOracleOnRandomData) {
  RandomSource random(20240102);
  FilterGenerator generator(random);
  const Schema schema = TestSchema();
  int64_t rows_passed = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Row> rows(static_cast<size_t>(random.Uniform(0, 70)));
    for (Row& row : rows) row = RandomRow(random, WideShape());
    const RecordBatch batch = MakeBatch(rows);
    for (int round = 0; round < 15; ++round) {
      const RandomFilter expected = generator.Make(3);
      Result<Filter> filter = Filter::Parse(expected.text, schema);
      ASSERT_TRUE(filter.ok()) << expected.text << ": " << filter.status();
      const std::vector<uint8_t> result = filter->Evaluate(batch).value();
      ASSERT_EQ(result.size(), rows.size());
      for (size_t row = 0; row < rows.size(); ++row) {
        const int truth = expected.oracle(rows[row]);
        ASSERT_EQ(result[row], truth == 2 ? 1 : 0)
            << expected.text << " row " << row << " normalized " << filter->ToString();
        rows_passed += result[row];
      }
      // A slice gives the same answers for its rows.
      const int64_t offset = random.Uniform(0, static_cast<int64_t>(rows.size()));
      const int64_t length = random.Uniform(0, static_cast<int64_t>(rows.size()) - offset);
      const std::vector<uint8_t> sliced = filter->Evaluate(batch.Slice(offset, length)).value();
      ASSERT_EQ(sliced.size(), static_cast<size_t>(length));
      for (int64_t row = 0; row < length; ++row) {
        ASSERT_EQ(sliced[row], result[offset + row]) << expected.text << " slice row " << row;
      }
      // The normalized text is a fixpoint and means the same.
      const std::string normalized = filter->ToString();
      Result<Filter> reparsed = Filter::Parse(normalized, schema);
      ASSERT_TRUE(reparsed.ok()) << expected.text << " -> " << normalized << ": "
                                 << reparsed.status();
      EXPECT_EQ(reparsed->ToString(), normalized) << expected.text;
      EXPECT_EQ(reparsed->Evaluate(batch).value(), result) << expected.text << " -> " << normalized;
    }
  }
  EXPECT_GT(rows_passed, 10000);
}

std::vector<format::ColumnStats> ComputeStats(const std::vector<Row>& rows) {
  std::vector<format::ColumnStats> stats;
  for (int col = 0; col < kVec; ++col) {
    format::ColumnStats column{col, kNull, kNull, 0};
    for (const Row& row : rows) {
      const Value& value = row[col];
      if (IsNull(value)) {
        ++column.null_count;
        continue;
      }
      if (const auto* d = std::get_if<double>(&value); d != nullptr && std::isnan(*d)) continue;
      if (IsNull(column.min) || value < column.min) column.min = value;
      if (IsNull(column.max) || column.max < value) column.max = value;
    }
    stats.push_back(std::move(column));
  }
  return stats;
}

TEST(FilterPropertyTest, MayMatchNeverSkipsAFragmentWithAMatchingRow) {
  RandomSource random(7);
  FilterGenerator generator(random);
  const Schema schema = TestSchema();
  int skipped = 0;
  int could_skip = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const DataShape shape = NarrowShape(random);
    std::vector<Row> rows(static_cast<size_t>(random.Uniform(1, 8)));
    for (Row& row : rows) row = RandomRow(random, shape);
    const RecordBatch batch = MakeBatch(rows);
    std::vector<format::ColumnStats> stats = ComputeStats(rows);
    if (random.Chance(0.3))
      stats.erase(stats.begin() + random.Uniform(0, static_cast<int64_t>(stats.size()) - 1));
    if (random.Chance(0.3)) std::shuffle(stats.begin(), stats.end(), random.rng());
    for (int round = 0; round < 10; ++round) {
      const RandomFilter expected = generator.Make(2);
      const Filter filter = Filter::Parse(expected.text, schema).value();
      const std::vector<uint8_t> result = filter.Evaluate(batch).value();
      const bool any_passes = std::find(result.begin(), result.end(), 1) != result.end();
      const bool may_match = filter.MayMatch(stats, static_cast<int64_t>(rows.size()));
      if (any_passes) {
        ASSERT_TRUE(may_match) << expected.text << " on " << rows.size() << " rows";
      } else {
        ++could_skip;
        skipped += may_match ? 0 : 1;
      }
    }
  }
  // Pruning is conservative but not useless.
  EXPECT_GT(skipped, could_skip / 4) << skipped << " of " << could_skip;
}

}  // namespace
}  // namespace tessera::expr
