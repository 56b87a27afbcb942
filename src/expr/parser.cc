#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "expr/lexer_internal.h"
#include "expr/literal_internal.h"
#include "expr/parser_internal.h"

namespace tessera::expr::internal {
namespace {

// Parentheses and NOTs deeper than this are rejected, which bounds every recursion over
// the tree (parser, evaluator, printer).
constexpr int kMaxDepth = 128;

// What a value is compared as; decides which operands are compatible.
enum class Domain : uint8_t { kNull, kIntegral, kFloating, kTimestamp, kString, kBool, kVector };

Domain DomainOf(const Operand& operand) {
  if (operand.is_column) {
    switch (operand.type.id) {
      case TypeId::kInt32:
      case TypeId::kInt64:
        return Domain::kIntegral;
      case TypeId::kFloat32:
      case TypeId::kFloat64:
        return Domain::kFloating;
      case TypeId::kTimestamp:
        return Domain::kTimestamp;
      case TypeId::kUtf8:
        return Domain::kString;
      case TypeId::kBool:
        return Domain::kBool;
      case TypeId::kVector:
        return Domain::kVector;
    }
    return Domain::kVector;
  }
  switch (operand.kind) {
    case LiteralKind::kNull:
      return Domain::kNull;
    case LiteralKind::kBool:
      return Domain::kBool;
    case LiteralKind::kInteger:
      return Domain::kIntegral;
    case LiteralKind::kFloat:
      return Domain::kFloating;
    case LiteralKind::kString:
      return Domain::kString;
    case LiteralKind::kTimestamp:
      return Domain::kTimestamp;
  }
  return Domain::kNull;
}

bool IsNumeric(Domain domain) { return domain == Domain::kIntegral || domain == Domain::kFloating; }

bool Compatible(Domain a, Domain b) {
  if (a == Domain::kNull || b == Domain::kNull) return true;
  if (IsNumeric(a) && IsNumeric(b)) return true;
  if (a == Domain::kTimestamp) return b == Domain::kTimestamp || b == Domain::kIntegral;
  if (b == Domain::kTimestamp) return a == Domain::kIntegral;
  return a == b && a != Domain::kVector;
}

std::string Describe(const Operand& operand) {
  if (operand.is_column) return operand.type.ToString() + " column '" + operand.name + "'";
  switch (operand.kind) {
    case LiteralKind::kNull:
      return "NULL";
    case LiteralKind::kBool:
      return std::string("boolean ") + (std::get<bool>(operand.value) ? "TRUE" : "FALSE");
    case LiteralKind::kInteger:
      return "integer " + std::to_string(std::get<int64_t>(operand.value));
    case LiteralKind::kFloat:
      return "float " + FormatDouble(std::get<double>(operand.value));
    case LiteralKind::kString:
      return "string " + QuoteString(std::get<std::string>(operand.value));
    case LiteralKind::kTimestamp:
      return "timestamp '" + FormatTimestamp(std::get<int64_t>(operand.value)) + "'";
  }
  return "literal";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t pos = 0; pos < a.size(); ++pos) {
    char x = a[pos];
    char y = b[pos];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool ApplyOrdering(CompareOp op, std::partial_ordering ord) {
  switch (op) {
    case CompareOp::kEq:
      return ord == 0;
    case CompareOp::kNe:
      return ord != 0;
    case CompareOp::kLt:
      return ord < 0;
    case CompareOp::kLe:
      return ord <= 0;
    case CompareOp::kGt:
      return ord > 0;
    case CompareOp::kGe:
      return ord >= 0;
  }
  return false;
}

Node MakeConst(uint8_t value) {
  Node node;
  node.kind = NodeKind::kConst;
  node.constant = value;
  return node;
}

void SetConstantPlan(Node* node, bool value) {
  node->plan = LiteralPlan::kConstant;
  node->plan_constant = value;
}

// An integer column compared with a (finite) double literal: rewrite to an exact integer
// comparison, or to a constant when no integer can satisfy / fail it.
void PlanIntegralVersusDouble(Node* node, double literal) {
  const CompareOp op = node->op;
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (literal >= kTwoTo63) {  // every value is smaller
    SetConstantPlan(node, op == CompareOp::kNe || op == CompareOp::kLt || op == CompareOp::kLe);
    return;
  }
  if (literal < -kTwoTo63) {  // every value is greater
    SetConstantPlan(node, op == CompareOp::kNe || op == CompareOp::kGt || op == CompareOp::kGe);
    return;
  }
  const auto truncated = static_cast<int64_t>(literal);
  const double fraction = literal - static_cast<double>(truncated);
  node->plan = LiteralPlan::kInt;
  node->plan_int = truncated;
  node->plan_op = op;
  if (fraction == 0) return;
  if (op == CompareOp::kEq || op == CompareOp::kNe) {
    SetConstantPlan(node, op == CompareOp::kNe);
    return;
  }
  const bool is_less = op == CompareOp::kLt || op == CompareOp::kLe;
  if (fraction > 0) {  // truncated < literal < truncated + 1
    node->plan_op = is_less ? CompareOp::kLe : CompareOp::kGt;
  } else {  // truncated - 1 < literal < truncated
    node->plan_op = is_less ? CompareOp::kLt : CompareOp::kGe;
  }
}

// A floating column compared with an integer literal that a double may not represent.
void PlanFloatingVersusInteger(Node* node, int64_t literal) {
  const CompareOp op = node->op;
  const auto rounded = static_cast<double>(literal);
  const std::partial_ordering ord = CompareIntDouble(literal, rounded);
  node->plan = LiteralPlan::kDouble;
  node->plan_op = op;
  node->plan_double = rounded;
  if (ord == 0) return;
  if (op == CompareOp::kEq || op == CompareOp::kNe) {
    SetConstantPlan(node, op == CompareOp::kNe);
    return;
  }
  // The doubles just below and just above the literal.
  const double below = ord < 0 ? std::nextafter(rounded, -INFINITY) : rounded;
  const double above = ord < 0 ? rounded : std::nextafter(rounded, INFINITY);
  if (op == CompareOp::kLt || op == CompareOp::kLe) {
    node->plan_op = CompareOp::kLe;
    node->plan_double = below;
  } else {
    node->plan_op = CompareOp::kGe;
    node->plan_double = above;
  }
}

void PlanCompare(Node* node) {
  const Operand& right = node->right;
  if (right.is_column) {
    node->plan = LiteralPlan::kColumn;
    return;
  }
  if (right.kind == LiteralKind::kNull) {
    node->plan = LiteralPlan::kNull;
    return;
  }
  node->plan_op = node->op;
  switch (DomainOf(node->column)) {
    case Domain::kIntegral:
    case Domain::kTimestamp:
      if (const auto* value = std::get_if<int64_t>(&right.value)) {
        node->plan = LiteralPlan::kInt;
        node->plan_int = *value;
      } else {
        PlanIntegralVersusDouble(node, std::get<double>(right.value));
      }
      return;
    case Domain::kFloating:
      if (const auto* value = std::get_if<double>(&right.value)) {
        node->plan = LiteralPlan::kDouble;
        node->plan_double = *value;
      } else {
        PlanFloatingVersusInteger(node, std::get<int64_t>(right.value));
      }
      return;
    case Domain::kString:
      node->plan = LiteralPlan::kString;
      return;
    case Domain::kBool:
      node->plan = LiteralPlan::kBool;
      return;
    case Domain::kNull:
    case Domain::kVector:
      break;
  }
  node->plan = LiteralPlan::kNull;
}

void AppendFlattened(Node* parent, Node child) {
  if (child.kind == parent->kind) {
    for (Node& grandchild : child.children) parent->children.push_back(std::move(grandchild));
  } else {
    parent->children.push_back(std::move(child));
  }
}

class Parser {
 public:
  Parser(std::string_view text, const Schema& schema, std::vector<Token> tokens)
      : text_(text), schema_(schema), tokens_(std::move(tokens)) {}

  Result<Node> Run() {
    if (Peek().type == TokenType::kEnd) return Status::InvalidArgument("filter: empty filter");
    TESSERA_ASSIGN_OR_RETURN(Node root, ParseOr(0));
    if (Peek().type != TokenType::kEnd) {
      if (Peek().type == TokenType::kRParen) return Error(Peek().offset, "unbalanced ')'");
      return Error(Peek().offset, "unexpected trailing ", TokenText(Peek()));
    }
    return root;
  }

 private:
  template <typename... Args>
  Status Error(size_t offset, Args&&... args) const {
    return Status::InvalidArgument("filter: ", std::forward<Args>(args)...,
                                   PositionSuffix(text_, offset));
  }

  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  const Token& Advance() {
    const Token& token = tokens_[next_];
    if (next_ + 1 < tokens_.size()) ++next_;
    return token;
  }
  bool IsKeyword(const Token& token, std::string_view keyword) const {
    return token.type == TokenType::kIdentifier && EqualsIgnoreCase(token.text, keyword);
  }
  std::string TokenText(const Token& token) const {
    if (token.type == TokenType::kEnd) return "end of filter";
    constexpr size_t kMaxBytes = 40;
    const size_t length = std::max<size_t>(token.length, 1);
    return "'" + Excerpt(text_, token.offset, std::min(length, kMaxBytes)) +
           (length > kMaxBytes ? "...'" : "'");
  }
  Status Expect(TokenType type, std::string_view what) {
    if (Peek().type != type) return Error(Peek().offset, "expected ", what);
    Advance();
    return Status::OK();
  }

  Result<Node> ParseOr(int depth) {
    if (depth > kMaxDepth) return Error(Peek().offset, "filter nested too deeply");
    TESSERA_ASSIGN_OR_RETURN(Node first, ParseAnd(depth));
    if (!IsKeyword(Peek(), "or")) return first;
    Node node;
    node.kind = NodeKind::kOr;
    AppendFlattened(&node, std::move(first));
    while (IsKeyword(Peek(), "or")) {
      Advance();
      TESSERA_ASSIGN_OR_RETURN(Node next, ParseAnd(depth));
      AppendFlattened(&node, std::move(next));
    }
    return node;
  }

  Result<Node> ParseAnd(int depth) {
    TESSERA_ASSIGN_OR_RETURN(Node first, ParseNot(depth));
    if (!IsKeyword(Peek(), "and")) return first;
    Node node;
    node.kind = NodeKind::kAnd;
    AppendFlattened(&node, std::move(first));
    while (IsKeyword(Peek(), "and")) {
      Advance();
      TESSERA_ASSIGN_OR_RETURN(Node next, ParseNot(depth));
      AppendFlattened(&node, std::move(next));
    }
    return node;
  }

  Result<Node> ParseNot(int depth) {
    if (!IsKeyword(Peek(), "not")) return ParsePredicate(depth);
    if (depth > kMaxDepth) return Error(Peek().offset, "filter nested too deeply");
    Advance();
    TESSERA_ASSIGN_OR_RETURN(Node child, ParseNot(depth + 1));
    Node node;
    node.kind = NodeKind::kNot;
    node.children.push_back(std::move(child));
    return node;
  }

  Result<Node> ParsePredicate(int depth) {
    if (Peek().type == TokenType::kLParen) {
      Advance();
      TESSERA_ASSIGN_OR_RETURN(Node inner, ParseOr(depth + 1));
      TESSERA_RETURN_IF_ERROR(Expect(TokenType::kRParen, "')'"));
      return inner;
    }
    TESSERA_ASSIGN_OR_RETURN(Operand left, ParseOperand());
    const Token& token = Peek();
    if (token.type == TokenType::kOperator) {
      const CompareOp op = ParseOp(Advance().text);
      TESSERA_ASSIGN_OR_RETURN(Operand right, ParseOperand());
      return MakeCompare(std::move(left), op, std::move(right));
    }
    if (IsKeyword(token, "is")) {
      Advance();
      Node node;
      node.kind = NodeKind::kIsNull;
      if (IsKeyword(Peek(), "not")) {
        Advance();
        node.negated = true;
      }
      if (!IsKeyword(Peek(), "null")) return Error(Peek().offset, "expected NULL after IS");
      Advance();
      TESSERA_RETURN_IF_ERROR(RequireColumn(left, token, "IS NULL"));
      node.column = std::move(left);
      return node;
    }
    bool negated = false;
    if (IsKeyword(token, "not")) {
      const Token& after = Peek(1);
      if (!IsKeyword(after, "in") && !IsKeyword(after, "between") && !IsKeyword(after, "like")) {
        return Error(after.offset, "expected IN, BETWEEN or LIKE after NOT");
      }
      negated = true;
      Advance();
    }
    const Token& keyword = Peek();
    if (IsKeyword(keyword, "in")) return ParseIn(std::move(left), negated);
    if (IsKeyword(keyword, "between")) return ParseBetween(std::move(left), negated);
    if (IsKeyword(keyword, "like")) return ParseLike(std::move(left), negated);

    // A bare operand: only a boolean column or a TRUE/FALSE/NULL literal is a condition.
    if (left.is_column && left.type.id == TypeId::kBool) {
      Node node;
      node.kind = NodeKind::kBoolColumn;
      node.column = std::move(left);
      return node;
    }
    if (!left.is_column && left.kind == LiteralKind::kBool) {
      return MakeConst(std::get<bool>(left.value) ? kTrue : kFalse);
    }
    if (!left.is_column && left.kind == LiteralKind::kNull) return MakeConst(kUnknown);
    if (token.type == TokenType::kEnd) {
      return Error(token.offset, "expected a comparison after ", Describe(left),
                   " but found end of filter");
    }
    return Error(token.offset, "expected a comparison after ", Describe(left), ", found ",
                 TokenText(token));
  }

  static CompareOp ParseOp(std::string_view text) {
    if (text == "=") return CompareOp::kEq;
    if (text == "!=") return CompareOp::kNe;
    if (text == "<") return CompareOp::kLt;
    if (text == "<=") return CompareOp::kLe;
    if (text == ">") return CompareOp::kGt;
    return CompareOp::kGe;
  }

  Status RequireColumn(const Operand& operand, const Token& keyword, std::string_view what) const {
    if (operand.is_column) return Status::OK();
    return Error(keyword.offset, what, " needs a column on its left, not ", Describe(operand));
  }

  Result<Operand> ParseOperand() {
    const Token& token = Peek();
    Operand operand;
    operand.offset = token.offset;
    switch (token.type) {
      case TokenType::kIdentifier:
        if (IsKeyword(token, "true") || IsKeyword(token, "false")) {
          operand.kind = LiteralKind::kBool;
          operand.value = IsKeyword(token, "true");
          Advance();
          return operand;
        }
        if (IsKeyword(token, "null")) {
          operand.kind = LiteralKind::kNull;
          Advance();
          return operand;
        }
        if (IsKeyword(token, "timestamp") && Peek(1).type == TokenType::kString) {
          Advance();
          const Token& text = Advance();
          const std::optional<int64_t> micros = ParseTimestamp(text.text);
          if (!micros) return Error(text.offset, "invalid timestamp ", QuoteString(text.text));
          operand.kind = LiteralKind::kTimestamp;
          operand.value = *micros;
          return operand;
        }
        if (IsReservedWord(token.text)) {
          return Error(token.offset, "expected a column or literal, found ", TokenText(token));
        }
        return ResolveColumn(Advance(), /*quoted=*/false);
      case TokenType::kQuotedIdentifier:
        return ResolveColumn(Advance(), /*quoted=*/true);
      case TokenType::kInteger:
        operand.kind = LiteralKind::kInteger;
        operand.value = Advance().int_value;
        return operand;
      case TokenType::kFloat:
        operand.kind = LiteralKind::kFloat;
        operand.value = Advance().float_value;
        return operand;
      case TokenType::kString:
        operand.kind = LiteralKind::kString;
        operand.value = Advance().text;
        return operand;
      case TokenType::kEnd:
        return Error(token.offset, "unexpected end of filter");
      default:
        break;
    }
    return Error(token.offset, "expected a column or literal, found ", TokenText(token));
  }

  Result<Operand> ResolveColumn(const Token& token, bool quoted) {
    int index = schema_.FieldIndex(token.text);
    if (index < 0 && !quoted) {
      // Unquoted names also match case-insensitively when that is unambiguous.
      for (int candidate = 0; candidate < schema_.num_fields(); ++candidate) {
        if (!EqualsIgnoreCase(schema_.field(candidate).name, token.text)) continue;
        if (index >= 0) {
          return Error(token.offset, "ambiguous column '", token.text,
                       "' (several columns differ only in case; use double quotes)");
        }
        index = candidate;
      }
    }
    if (index < 0) return Error(token.offset, "unknown column '", token.text, "'");
    const Field& field = schema_.field(index);
    if (field.type.id == TypeId::kVector) {
      return Error(token.offset, "cannot filter on vector column '", field.name, "'");
    }
    Operand operand;
    operand.is_column = true;
    operand.field_index = index;
    operand.name = field.name;
    operand.type = field.type;
    operand.offset = token.offset;
    return operand;
  }

  // Convert a string literal compared with a timestamp into a timestamp literal.
  Status CoerceLiteral(Operand* literal, const Operand& other) const {
    if (literal->is_column || literal->kind != LiteralKind::kString) return Status::OK();
    if (DomainOf(other) != Domain::kTimestamp) return Status::OK();
    const std::optional<int64_t> micros = ParseTimestamp(std::get<std::string>(literal->value));
    if (!micros) {
      return Error(literal->offset, "invalid timestamp ",
                   QuoteString(std::get<std::string>(literal->value)));
    }
    literal->kind = LiteralKind::kTimestamp;
    literal->value = *micros;
    return Status::OK();
  }

  Status CheckComparable(Operand* left, Operand* right) const {
    TESSERA_RETURN_IF_ERROR(CoerceLiteral(left, *right));
    TESSERA_RETURN_IF_ERROR(CoerceLiteral(right, *left));
    if (Compatible(DomainOf(*left), DomainOf(*right))) return Status::OK();
    const size_t offset = (!left->is_column && right->is_column) ? left->offset : right->offset;
    return Error(offset, "cannot compare ", Describe(*left), " with ", Describe(*right));
  }

  Result<Node> MakeCompare(Operand left, CompareOp op, Operand right) const {
    TESSERA_RETURN_IF_ERROR(CheckComparable(&left, &right));
    if (!left.is_column && !right.is_column) {
      if (left.kind == LiteralKind::kNull || right.kind == LiteralKind::kNull) {
        return MakeConst(kUnknown);
      }
      return MakeConst(ApplyOrdering(op, CompareValues(left.value, right.value)) ? kTrue : kFalse);
    }
    if (!left.is_column) {
      std::swap(left, right);
      op = SwapOperands(op);
    }
    Node node;
    node.kind = NodeKind::kCompare;
    node.column = std::move(left);
    node.op = op;
    node.right = std::move(right);
    PlanCompare(&node);
    return node;
  }

  Result<Node> ParseIn(Operand column, bool negated) {
    const Token& keyword = Advance();
    TESSERA_RETURN_IF_ERROR(RequireColumn(column, keyword, "IN"));
    TESSERA_RETURN_IF_ERROR(Expect(TokenType::kLParen, "'(' after IN"));
    Node node;
    node.kind = NodeKind::kIn;
    node.negated = negated;
    while (true) {
      TESSERA_ASSIGN_OR_RETURN(Operand literal, ParseOperand());
      if (literal.is_column) {
        return Error(literal.offset, "IN list must hold literals, found column '", literal.name,
                     "'");
      }
      TESSERA_RETURN_IF_ERROR(CheckComparable(&column, &literal));
      node.list.push_back(std::move(literal));
      if (Peek().type == TokenType::kComma) {
        Advance();
        continue;
      }
      TESSERA_RETURN_IF_ERROR(Expect(TokenType::kRParen, "',' or ')' in IN list"));
      break;
    }
    const Domain domain = DomainOf(column);
    for (const Operand& literal : node.list) {
      const Value& value = literal.value;
      if (literal.kind == LiteralKind::kNull) {
        node.list_has_null = true;
      } else if (domain == Domain::kIntegral || domain == Domain::kTimestamp) {
        if (const auto* integer = std::get_if<int64_t>(&value)) {
          node.in_ints.push_back(*integer);
        } else {
          const double d = std::get<double>(value);
          if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
              CompareIntDouble(static_cast<int64_t>(d), d) == 0) {
            node.in_ints.push_back(static_cast<int64_t>(d));
          }
        }
      } else if (domain == Domain::kFloating) {
        if (const auto* d = std::get_if<double>(&value)) {
          node.in_doubles.push_back(*d);
        } else {
          const int64_t integer = std::get<int64_t>(value);
          const auto rounded = static_cast<double>(integer);
          if (CompareIntDouble(integer, rounded) == 0) node.in_doubles.push_back(rounded);
        }
      } else if (domain == Domain::kString) {
        node.in_strings.push_back(std::get<std::string>(value));
      } else if (domain == Domain::kBool) {
        (std::get<bool>(value) ? node.in_true : node.in_false) = true;
      }
    }
    auto sort_unique = [](auto& values) {
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
    };
    sort_unique(node.in_ints);
    sort_unique(node.in_doubles);
    sort_unique(node.in_strings);
    node.column = std::move(column);
    return node;
  }

  Result<Node> ParseBetween(Operand column, bool negated) {
    const Token& keyword = Advance();
    TESSERA_RETURN_IF_ERROR(RequireColumn(column, keyword, "BETWEEN"));
    TESSERA_ASSIGN_OR_RETURN(Operand low, ParseOperand());
    if (!IsKeyword(Peek(), "and")) return Error(Peek().offset, "expected AND in BETWEEN");
    Advance();
    TESSERA_ASSIGN_OR_RETURN(Operand high, ParseOperand());
    Node node;
    node.kind = NodeKind::kBetween;
    node.negated = negated;
    TESSERA_ASSIGN_OR_RETURN(Node lower, MakeCompare(column, CompareOp::kGe, std::move(low)));
    TESSERA_ASSIGN_OR_RETURN(Node upper, MakeCompare(column, CompareOp::kLe, std::move(high)));
    node.children.push_back(std::move(lower));
    node.children.push_back(std::move(upper));
    node.column = std::move(column);
    return node;
  }

  Result<Node> ParseLike(Operand column, bool negated) {
    const Token& keyword = Advance();
    TESSERA_RETURN_IF_ERROR(RequireColumn(column, keyword, "LIKE"));
    if (column.type.id != TypeId::kUtf8) {
      return Error(column.offset, "LIKE needs a utf8 column, not ", Describe(column));
    }
    if (Peek().type != TokenType::kString) {
      return Error(Peek().offset, "expected a string pattern after LIKE");
    }
    const Token& pattern = Advance();
    std::string escape;
    size_t escape_offset = pattern.offset;
    if (IsKeyword(Peek(), "escape") && Peek(1).type == TokenType::kString) {
      Advance();
      escape_offset = Peek().offset;
      escape = Advance().text;
    }
    Result<LikePattern> like = CompileLike(pattern.text, escape);
    if (!like.ok()) {
      const size_t offset = escape.size() > 1 ? escape_offset : pattern.offset;
      return Error(offset, like.status().message());
    }
    Node node;
    node.kind = NodeKind::kLike;
    node.negated = negated;
    node.column = std::move(column);
    node.like = std::move(like).value();
    return node;
  }

  std::string_view text_;
  const Schema& schema_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
};

}  // namespace

CompareOp SwapOperands(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return CompareOp::kGt;
    case CompareOp::kLe:
      return CompareOp::kGe;
    case CompareOp::kGt:
      return CompareOp::kLt;
    case CompareOp::kGe:
      return CompareOp::kLe;
    case CompareOp::kEq:
    case CompareOp::kNe:
      break;
  }
  return op;
}

CompareOp Negate(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return CompareOp::kNe;
    case CompareOp::kNe:
      return CompareOp::kEq;
    case CompareOp::kLt:
      return CompareOp::kGe;
    case CompareOp::kLe:
      return CompareOp::kGt;
    case CompareOp::kGt:
      return CompareOp::kLe;
    case CompareOp::kGe:
      return CompareOp::kLt;
  }
  return op;
}

const char* CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

Result<Node> ParseFilter(std::string_view text, const Schema& schema) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  return Parser(text, schema, std::move(tokens)).Run();
}

}  // namespace tessera::expr::internal
