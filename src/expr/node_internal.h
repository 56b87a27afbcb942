// The typed AST of a parsed filter, shared by the parser (which builds and type-checks
// it), the vectorized evaluator, the statistics pruner and the printer. A Node tree is
// immutable after parsing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "expr/like_internal.h"
#include "format/manifest.h"
#include "tessera/record_batch.h"
#include "tessera/schema.h"

namespace tessera::expr::internal {

// Three-valued truth, encoded so that AND = min, OR = max and NOT = 2 - x.
inline constexpr uint8_t kFalse = 0;
inline constexpr uint8_t kUnknown = 1;
inline constexpr uint8_t kTrue = 2;

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// Return the operator that gives the same result with the operands swapped (a < b == b > a).
CompareOp SwapOperands(CompareOp op);
// Return the operator that is true exactly when `op` is false, on totally ordered values.
CompareOp Negate(CompareOp op);
// Return "=", "!=", "<", "<=", ">", ">=".
const char* CompareOpText(CompareOp op);

// The kind of a literal as written (a Value cannot tell an integer from a timestamp).
enum class LiteralKind : uint8_t { kNull, kBool, kInteger, kFloat, kString, kTimestamp };

// A column reference or a literal.
struct Operand {
  bool is_column = false;
  int field_index = -1;                   // column: index in the schema
  std::string name;                       // column: name as in the schema
  DataType type;                          // column: its type
  LiteralKind kind = LiteralKind::kNull;  // literal
  Value value;  // literal: monostate, bool, int64 (integer or timestamp µs), double or string
  size_t offset = 0;  // byte offset in the filter text, for error messages
};

enum class NodeKind : uint8_t {
  kConst,       // TRUE, FALSE or NULL
  kAnd,         // children (at least two)
  kOr,          // children (at least two)
  kNot,         // children[0]
  kCompare,     // column op right
  kBetween,     // children = {column >= low, column <= high}
  kIn,          // column [NOT] IN (list)
  kIsNull,      // column IS [NOT] NULL
  kLike,        // column [NOT] LIKE pattern
  kBoolColumn,  // a bare boolean column
};

// How a column-vs-literal comparison is evaluated, after the literal was converted to
// the column's representation.
enum class LiteralPlan : uint8_t {
  kColumn,    // the right side is a column
  kNull,      // literal NULL: every row is unknown
  kConstant,  // every non-null row gives `plan_constant` (e.g. int column = 2.5)
  kInt,       // compare the column as int64 with `plan_int` using `plan_op`
  kDouble,    // compare the column as double with `plan_double` using `plan_op`
  kString,    // compare with std::get<std::string>(right.value) using `plan_op`
  kBool,      // compare with std::get<bool>(right.value) using `plan_op`
};

struct Node {
  NodeKind kind = NodeKind::kConst;
  uint8_t constant = kUnknown;  // kConst
  bool negated = false;         // kBetween, kIn, kIsNull, kLike: the NOT form
  std::vector<Node> children;   // kAnd, kOr, kNot, kBetween
  Operand column;  // kCompare (left side), kIn, kIsNull, kLike, kBoolColumn: always a column

  // kCompare.
  CompareOp op = CompareOp::kEq;
  Operand right;
  LiteralPlan plan = LiteralPlan::kColumn;
  CompareOp plan_op = CompareOp::kEq;
  bool plan_constant = false;
  int64_t plan_int = 0;
  double plan_double = 0;

  // kIn: the literals as written, and the non-null ones converted to the column's
  // representation (sorted, deduplicated; values that can never be equal are dropped).
  std::vector<Operand> list;
  bool list_has_null = false;
  std::vector<int64_t> in_ints;
  std::vector<double> in_doubles;
  std::vector<std::string> in_strings;
  bool in_false = false;
  bool in_true = false;

  // kLike.
  LikePattern like;
};

// Columns of the batch being evaluated, indexed by schema field index (nullptr for
// columns the filter does not read).
struct EvalContext {
  std::vector<const Array*> columns;
  int64_t num_rows = 0;
};

// Write the three-valued result of `node` for every row to `out[0, num_rows)`.
// REQUIRES: context.num_rows > 0; every column `node` reads is set, with its schema type
// and num_rows rows.
void EvaluateNode(const Node& node, const EvalContext& context, uint8_t* out);

// Return false only if no row of a fragment with these statistics can make `node`
// (or NOT `node`, if `negated`) TRUE.
bool NodeMayMatch(const Node& node, std::span<const format::ColumnStats> stats, int64_t num_rows,
                  bool negated);

// Return the normalized text of `node`.
std::string NodeToString(const Node& node);

}  // namespace tessera::expr::internal
