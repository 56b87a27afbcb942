#include "expr/filter.h"

#include <string>
#include <utility>
#include <vector>

#include "expr/literal_internal.h"
#include "expr/node_internal.h"
#include "expr/parser_internal.h"

namespace tessera::expr {

using internal::Node;
using internal::NodeKind;
using internal::Operand;

struct Filter::State {
  Node root;
  int num_fields = 0;                  // of the schema parsed against
  std::vector<std::string> columns;    // distinct, in order of first appearance
  std::vector<int> column_fields;      // schema field index of each entry of `columns`
  std::vector<DataType> column_types;  // schema type of each entry of `columns`
};

namespace {

void CollectColumns(const Node& node, std::vector<std::string>* names, std::vector<int>* fields,
                    std::vector<DataType>* types) {
  auto add = [&](const Operand& operand) {
    if (!operand.is_column) return;
    for (const int field : *fields) {
      if (field == operand.field_index) return;
    }
    names->push_back(operand.name);
    fields->push_back(operand.field_index);
    types->push_back(operand.type);
  };
  switch (node.kind) {
    case NodeKind::kCompare:
    case NodeKind::kIn:
    case NodeKind::kIsNull:
    case NodeKind::kLike:
    case NodeKind::kBoolColumn:
    case NodeKind::kBetween:
      add(node.column);
      add(node.right);
      break;
    case NodeKind::kConst:
    case NodeKind::kAnd:
    case NodeKind::kOr:
    case NodeKind::kNot:
      break;
  }
  for (const Node& child : node.children) CollectColumns(child, names, fields, types);
}

std::string OperandToString(const Operand& operand) {
  if (operand.is_column) return internal::FormatIdentifier(operand.name);
  switch (operand.kind) {
    case internal::LiteralKind::kNull:
      return "NULL";
    case internal::LiteralKind::kBool:
      return std::get<bool>(operand.value) ? "TRUE" : "FALSE";
    case internal::LiteralKind::kInteger:
      return std::to_string(std::get<int64_t>(operand.value));
    case internal::LiteralKind::kFloat:
      return internal::FormatDouble(std::get<double>(operand.value));
    case internal::LiteralKind::kString:
      return internal::QuoteString(std::get<std::string>(operand.value));
    case internal::LiteralKind::kTimestamp:
      return "TIMESTAMP " +
             internal::QuoteString(internal::FormatTimestamp(std::get<int64_t>(operand.value)));
  }
  return "NULL";
}

std::string Negation(bool negated) { return negated ? "NOT " : ""; }

}  // namespace

namespace internal {

std::string NodeToString(const Node& node) {
  switch (node.kind) {
    case NodeKind::kConst:
      return node.constant == kTrue ? "TRUE" : node.constant == kFalse ? "FALSE" : "NULL";
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      const bool is_and = node.kind == NodeKind::kAnd;
      std::string out;
      for (const Node& child : node.children) {
        if (!out.empty()) out += is_and ? " AND " : " OR ";
        const bool parenthesize = is_and && child.kind == NodeKind::kOr;
        out += parenthesize ? "(" + NodeToString(child) + ")" : NodeToString(child);
      }
      return out;
    }
    case NodeKind::kNot: {
      const Node& child = node.children[0];
      const bool parenthesize = child.kind == NodeKind::kAnd || child.kind == NodeKind::kOr;
      return parenthesize ? "NOT (" + NodeToString(child) + ")" : "NOT " + NodeToString(child);
    }
    case NodeKind::kCompare:
      return OperandToString(node.column) + " " + CompareOpText(node.op) + " " +
             OperandToString(node.right);
    case NodeKind::kBetween:
      return OperandToString(node.column) + " " + Negation(node.negated) + "BETWEEN " +
             OperandToString(node.children[0].right) + " AND " +
             OperandToString(node.children[1].right);
    case NodeKind::kIn: {
      std::string out = OperandToString(node.column) + " " + Negation(node.negated) + "IN (";
      for (size_t index = 0; index < node.list.size(); ++index) {
        if (index > 0) out += ", ";
        out += OperandToString(node.list[index]);
      }
      return out + ")";
    }
    case NodeKind::kIsNull:
      return OperandToString(node.column) + " IS " + Negation(node.negated) + "NULL";
    case NodeKind::kLike: {
      std::string out = OperandToString(node.column) + " " + Negation(node.negated) + "LIKE " +
                        QuoteString(node.like.pattern);
      if (!node.like.escape.empty()) out += " ESCAPE " + QuoteString(node.like.escape);
      return out;
    }
    case NodeKind::kBoolColumn:
      return OperandToString(node.column);
  }
  return "NULL";
}

}  // namespace internal

Result<Filter> Filter::Parse(std::string_view text, const Schema& schema) {
  TESSERA_ASSIGN_OR_RETURN(Node root, internal::ParseFilter(text, schema));
  auto state = std::make_shared<State>();
  state->root = std::move(root);
  state->num_fields = schema.num_fields();
  CollectColumns(state->root, &state->columns, &state->column_fields, &state->column_types);
  return Filter(std::move(state));
}

Result<std::vector<uint8_t>> Filter::Evaluate(const RecordBatch& batch) const {
  const State& state = *state_;
  const int64_t num_rows = batch.num_rows();
  internal::EvalContext context;
  context.num_rows = num_rows;
  context.columns.assign(static_cast<size_t>(state.num_fields), nullptr);
  for (size_t index = 0; index < state.columns.size(); ++index) {
    const std::string& name = state.columns[index];
    const int batch_index = batch.schema().FieldIndex(name);
    if (batch_index < 0) {
      return Status::InvalidArgument("filter: column '", name, "' is missing from the batch");
    }
    const Array& array = batch.column(batch_index);
    if (!(array.type() == state.column_types[index])) {
      return Status::InvalidArgument("filter: column '", name, "' is ", array.type().ToString(),
                                     " in the batch but ", state.column_types[index].ToString(),
                                     " in the filter's schema");
    }
    if (array.length() != num_rows) {
      return Status::InvalidArgument("filter: column '", name, "' has ", array.length(),
                                     " rows, the batch ", num_rows);
    }
    context.columns[static_cast<size_t>(state.column_fields[index])] = &array;
  }
  std::vector<uint8_t> result(static_cast<size_t>(num_rows));
  if (num_rows == 0) return result;
  internal::EvaluateNode(state.root, context, result.data());
  for (uint8_t& value : result) value = value == internal::kTrue ? 1 : 0;
  return result;
}

bool Filter::MayMatch(std::span<const format::ColumnStats> stats, int64_t num_rows) const {
  return internal::NodeMayMatch(state_->root, stats, num_rows, /*negated=*/false);
}

const std::vector<std::string>& Filter::columns() const { return state_->columns; }

std::string Filter::ToString() const { return internal::NodeToString(state_->root); }

}  // namespace tessera::expr
