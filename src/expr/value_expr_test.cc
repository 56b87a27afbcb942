#include "expr/value_expr.h"

#include <gtest/gtest.h>

namespace tessera::expr {
namespace {

RecordBatch Batch() {
  const Schema schema = Schema::Parse("n:int64,x:float64,s:utf8,v:vector[2]").value();
  RecordBatchBuilder builder(schema);
  EXPECT_TRUE(
      builder
          .AppendRow({Value(int64_t{7}), Value(2.5), Value("a"), Value(std::vector<float>{1, 2})})
          .ok());
  EXPECT_TRUE(builder.AppendRow({Value(), Value(), Value(), Value()}).ok());
  return builder.Finish().value();
}

Value Eval(const std::string& text, int64_t row = 0) {
  const RecordBatch batch = Batch();
  auto expr = ValueExpr::Parse(text, batch.schema());
  EXPECT_TRUE(expr.ok()) << text << ": " << expr.status().ToString();
  auto value = expr->Evaluate(batch, row);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status().ToString();
  return value.ok() ? *value : Value();
}

TEST(ValueExprTest, LiteralsColumnsAndArithmetic) {
  EXPECT_EQ(Eval("42"), Value(int64_t{42}));
  EXPECT_EQ(Eval("1.5e1"), Value(15.0));
  EXPECT_EQ(Eval("'it''s'"), Value(std::string("it's")));
  EXPECT_EQ(Eval("TRUE"), Value(true));
  EXPECT_EQ(Eval("null"), Value());
  EXPECT_EQ(Eval("[1, -2.5]"), Value(std::vector<float>{1, -2.5f}));
  EXPECT_EQ(Eval("n"), Value(int64_t{7}));
  EXPECT_EQ(Eval("\"s\""), Value(std::string("a")));
  EXPECT_EQ(Eval("n * 2 + 1"), Value(int64_t{15}));
  EXPECT_EQ(Eval("n * (2 + 1)"), Value(int64_t{21}));
  EXPECT_EQ(Eval("n / 2"), Value(int64_t{3}));  // integer division truncates
  EXPECT_EQ(Eval("n / 2.0"), Value(3.5));
  EXPECT_EQ(Eval("x * 2 - -1"), Value(6.0));
  EXPECT_EQ(Eval("n + 1", 1), Value());  // null in, null out
}

TEST(ValueExprTest, ErrorsNameTheProblem) {
  const RecordBatch batch = Batch();
  auto unknown = ValueExpr::Parse("price * 2", batch.schema());
  EXPECT_TRUE(unknown.status().IsInvalidArgument());
  EXPECT_NE(unknown.status().ToString().find("unknown column 'price'"), std::string::npos);
  auto syntax = ValueExpr::Parse("n + * 2", batch.schema());
  EXPECT_NE(syntax.status().ToString().find("at position 5"), std::string::npos)
      << syntax.status().ToString();
  EXPECT_TRUE(ValueExpr::Parse("(n + 1", batch.schema()).status().IsInvalidArgument());
  EXPECT_TRUE(ValueExpr::Parse("'open", batch.schema()).status().IsInvalidArgument());
  EXPECT_TRUE(ValueExpr::Parse("n 1", batch.schema()).status().IsInvalidArgument());
  auto text_math = ValueExpr::Parse("s + 1", batch.schema()).value().Evaluate(batch, 0);
  EXPECT_NE(text_math.status().ToString().find("needs numbers"), std::string::npos);
  auto by_zero = ValueExpr::Parse("n / 0", batch.schema()).value().Evaluate(batch, 0);
  EXPECT_NE(by_zero.status().ToString().find("division by zero"), std::string::npos);
  auto overflow =
      ValueExpr::Parse("9223372036854775807 + n", batch.schema()).value().Evaluate(batch, 0);
  EXPECT_NE(overflow.status().ToString().find("overflow"), std::string::npos);
}

}  // namespace
}  // namespace tessera::expr
