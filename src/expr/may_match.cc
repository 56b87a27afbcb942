// Fragment pruning from per-column statistics. Every rule here must be sound: it may
// answer "may match" for a fragment with no matching row, never the reverse.
//
// Assumptions about ColumnStats: min <= every non-null, non-NaN value <= max (NaN may be
// left out of min/max), and null_count is exact. Floating columns get no rule that a NaN
// row could break: NaN fails =, <, <=, >, >= but passes != and every negated comparison.
#include <span>
#include <string>

#include "expr/literal_internal.h"
#include "expr/node_internal.h"

namespace tessera::expr::internal {
namespace {

using format::ColumnStats;

const ColumnStats* FindStats(std::span<const ColumnStats> stats, int field_index) {
  if (field_index >= 0 && static_cast<size_t>(field_index) < stats.size() &&
      stats[field_index].field_index == field_index) {
    return &stats[field_index];
  }
  for (const ColumnStats& column : stats) {
    if (column.field_index == field_index) return &column;
  }
  return nullptr;
}

bool AllNull(const ColumnStats* stats, int64_t num_rows) {
  return stats != nullptr && stats->null_count >= num_rows;
}

// Whether some value v in [min, max] may satisfy `v op literal`.
bool RangeMaySatisfy(CompareOp op, const Value& min, const Value& max, const Value& literal,
                     bool floating) {
  switch (op) {
    case CompareOp::kEq:
      return !(CompareValues(literal, min) < 0 || CompareValues(literal, max) > 0);
    case CompareOp::kNe:
      return floating || !(CompareValues(min, literal) == 0 && CompareValues(max, literal) == 0);
    case CompareOp::kLt:
      return !(CompareValues(min, literal) >= 0);
    case CompareOp::kLe:
      return !(CompareValues(min, literal) > 0);
    case CompareOp::kGt:
      return !(CompareValues(max, literal) <= 0);
    case CompareOp::kGe:
      return !(CompareValues(max, literal) < 0);
  }
  return true;
}

// Whether some a in [a_min, a_max] and b in [b_min, b_max] may satisfy `a op b`.
bool RangesMaySatisfy(CompareOp op, const ColumnStats& a, const ColumnStats& b, bool floating) {
  switch (op) {
    case CompareOp::kEq:
      return !(CompareValues(a.max, b.min) < 0 || CompareValues(a.min, b.max) > 0);
    case CompareOp::kNe:
      return floating || !(CompareValues(a.min, a.max) == 0 && CompareValues(b.min, b.max) == 0 &&
                           CompareValues(a.min, b.min) == 0);
    case CompareOp::kLt:
      return !(CompareValues(a.min, b.max) >= 0);
    case CompareOp::kLe:
      return !(CompareValues(a.min, b.max) > 0);
    case CompareOp::kGt:
      return !(CompareValues(a.max, b.min) <= 0);
    case CompareOp::kGe:
      return !(CompareValues(a.max, b.min) < 0);
  }
  return true;
}

bool CompareMayMatch(const Node& node, std::span<const ColumnStats> stats, int64_t num_rows,
                     bool negated) {
  const ColumnStats* left = FindStats(stats, node.column.field_index);
  if (AllNull(left, num_rows)) return false;
  if (!node.right.is_column && node.right.kind == LiteralKind::kNull) return false;
  // E.g. `int_column = 2.5`: the same answer for every non-null row.
  if (node.plan == LiteralPlan::kConstant) return node.plan_constant != negated;
  bool floating = node.column.type.is_floating();
  const ColumnStats* right = nullptr;
  if (node.right.is_column) {
    right = FindStats(stats, node.right.field_index);
    if (AllNull(right, num_rows)) return false;
    floating = floating || node.right.type.is_floating();
  }
  if (left == nullptr || (node.right.is_column && right == nullptr)) return true;
  if (negated && floating) return true;
  const CompareOp op = negated ? Negate(node.op) : node.op;
  if (right != nullptr) return RangesMaySatisfy(op, *left, *right, floating);
  return RangeMaySatisfy(op, left->min, left->max, node.right.value, floating);
}

bool InMayMatch(const Node& node, const ColumnStats* stats, bool negated) {
  if (!negated) {
    for (const Operand& literal : node.list) {
      if (literal.kind == LiteralKind::kNull) continue;
      if (RangeMaySatisfy(CompareOp::kEq, stats->min, stats->max, literal.value, false)) {
        return true;
      }
    }
    return false;
  }
  // NOT IN is never TRUE when the list holds NULL; otherwise it fails only if every
  // value is one constant that is in the list.
  if (node.list_has_null) return false;
  if (node.column.type.is_floating()) return true;
  if (!(CompareValues(stats->min, stats->max) == 0)) return true;
  for (const Operand& literal : node.list) {
    if (CompareValues(stats->min, literal.value) == 0) return false;
  }
  return true;
}

bool LikeMayMatch(const Node& node, const ColumnStats* stats, bool negated) {
  const LikePattern& like = node.like;
  if (negated) {
    if (like.kind == LikePattern::Kind::kAnyString) return false;
    if (like.kind == LikePattern::Kind::kExact) {
      return RangeMaySatisfy(CompareOp::kNe, stats->min, stats->max, Value(like.literal), false);
    }
    return true;
  }
  if (like.kind == LikePattern::Kind::kExact) {
    return RangeMaySatisfy(CompareOp::kEq, stats->min, stats->max, Value(like.literal), false);
  }
  if (like.prefix.empty()) return true;
  // Every match lies in [prefix, successor(prefix)).
  if (CompareValues(stats->max, Value(like.prefix)) < 0) return false;
  const std::optional<std::string> successor = PrefixSuccessor(like.prefix);
  if (successor && CompareValues(stats->min, Value(*successor)) >= 0) return false;
  return true;
}

}  // namespace

bool NodeMayMatch(const Node& node, std::span<const ColumnStats> stats, int64_t num_rows,
                  bool negated) {
  if (num_rows <= 0) return false;
  switch (node.kind) {
    case NodeKind::kConst:
      return (negated ? kTrue - node.constant : node.constant) == kTrue;
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      // De Morgan holds in three-valued logic: NOT (a AND b) = NOT a OR NOT b.
      const bool all_must_match = (node.kind == NodeKind::kAnd) != negated;
      for (const Node& child : node.children) {
        const bool child_may = NodeMayMatch(child, stats, num_rows, negated);
        if (all_must_match && !child_may) return false;
        if (!all_must_match && child_may) return true;
      }
      return all_must_match;
    }
    case NodeKind::kBetween: {
      const bool effective = negated != node.negated;
      const bool lower = NodeMayMatch(node.children[0], stats, num_rows, effective);
      const bool upper = NodeMayMatch(node.children[1], stats, num_rows, effective);
      return effective ? (lower || upper) : (lower && upper);
    }
    case NodeKind::kNot:
      return NodeMayMatch(node.children[0], stats, num_rows, !negated);
    case NodeKind::kCompare:
      return CompareMayMatch(node, stats, num_rows, negated);
    case NodeKind::kIsNull: {
      const ColumnStats* column = FindStats(stats, node.column.field_index);
      if (column == nullptr) return true;
      const bool wants_null = negated == node.negated;
      return wants_null ? column->null_count > 0 : column->null_count < num_rows;
    }
    case NodeKind::kIn:
    case NodeKind::kLike:
    case NodeKind::kBoolColumn: {
      const ColumnStats* column = FindStats(stats, node.column.field_index);
      if (AllNull(column, num_rows)) return false;
      if (column == nullptr) return true;
      if (node.kind == NodeKind::kIn) return InMayMatch(node, column, negated != node.negated);
      if (node.kind == NodeKind::kLike) return LikeMayMatch(node, column, negated != node.negated);
      // A bare boolean column passes when TRUE (when FALSE under NOT).
      return negated ? !(CompareValues(column->min, Value(true)) == 0)
                     : !(CompareValues(column->max, Value(false)) == 0);
    }
  }
  return true;
}

}  // namespace tessera::expr::internal
