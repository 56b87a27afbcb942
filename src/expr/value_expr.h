// Value expressions of `Table::Update(where, {column: expression})`: literals, column
// references and arithmetic, evaluated per row.
//
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/') factor)*
//   factor := NUMBER | 'string' | true | false | null | [n, n, ...] | column | "column"
//           | '(' expr ')' | '-' factor
//
// Arithmetic is on numbers: int op int is an int (division truncates; by zero is an error),
// anything with a float is a float; null in, null out. Strings, bools and vectors can only be
// given or copied, not computed.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera::expr {

class ValueExpr {
 public:
  /// Errors: kInvalidArgument naming the position of a syntax error or an unknown column.
  static Result<ValueExpr> Parse(std::string_view text, const Schema& schema);

  /// The value for row `row` of `batch` (whose schema is the one parsed against).
  /// Errors: kInvalidArgument (arithmetic on a non-number, division by zero).
  Result<Value> Evaluate(const RecordBatch& batch, int64_t row) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

}  // namespace tessera::expr
