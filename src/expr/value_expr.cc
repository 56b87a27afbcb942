#include "expr/value_expr.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <vector>

namespace tessera::expr {

struct ValueExpr::Node {
  enum Kind { kLiteral, kColumn, kNegate, kBinary } kind = kLiteral;
  Value literal;
  int column = -1;
  char op = 0;
  std::shared_ptr<const Node> left, right;
};

namespace {

using Node = ValueExpr::Node;

class Parser {
 public:
  Parser(std::string_view text, const Schema& schema) : text_(text), schema_(schema) {}

  Result<std::shared_ptr<const Node>> ParseAll() {
    TESSERA_ASSIGN_OR_RETURN(auto node, Expr());
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected '" + std::string(1, text_[pos_]) + "'");
    return node;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("value expression: ", what, " at position ", pos_ + 1, " of '",
                                   std::string(text_), "'");
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Accept(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static std::shared_ptr<const Node> Binary(char op, std::shared_ptr<const Node> l,
                                            std::shared_ptr<const Node> r) {
    auto node = std::make_shared<Node>();
    node->kind = Node::kBinary;
    node->op = op;
    node->left = std::move(l);
    node->right = std::move(r);
    return node;
  }
  Result<std::shared_ptr<const Node>> Expr() {
    TESSERA_ASSIGN_OR_RETURN(auto left, Term());
    while (true) {
      if (Accept('+')) {
        TESSERA_ASSIGN_OR_RETURN(auto right, Term());
        left = Binary('+', left, right);
      } else if (Accept('-')) {
        TESSERA_ASSIGN_OR_RETURN(auto right, Term());
        left = Binary('-', left, right);
      } else {
        return left;
      }
    }
  }
  Result<std::shared_ptr<const Node>> Term() {
    TESSERA_ASSIGN_OR_RETURN(auto left, Factor());
    while (true) {
      if (Accept('*')) {
        TESSERA_ASSIGN_OR_RETURN(auto right, Factor());
        left = Binary('*', left, right);
      } else if (Accept('/')) {
        TESSERA_ASSIGN_OR_RETURN(auto right, Factor());
        left = Binary('/', left, right);
      } else {
        return left;
      }
    }
  }
  Result<double> Number(bool* is_int, int64_t* int_value) {
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E' ||
                                   ((text_[pos_] == '-' || text_[pos_] == '+') && pos_ > start &&
                                    (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
      ++pos_;
    }
    const std::string_view digits = text_.substr(start, pos_ - start);
    *is_int = digits.find_first_of(".eE") == std::string_view::npos;
    if (*is_int) {
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *int_value);
      if (ec == std::errc() && ptr == digits.data() + digits.size()) {
        return static_cast<double>(*int_value);
      }
    }
    double value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) {
      pos_ = start;
      return Error("malformed number '" + std::string(digits) + "'");
    }
    *is_int = false;
    return value;
  }
  Result<std::shared_ptr<const Node>> Factor() {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("expected a value");
    auto node = std::make_shared<Node>();
    const char c = text_[pos_];
    if (Accept('(')) {
      TESSERA_ASSIGN_OR_RETURN(auto inner, Expr());
      if (!Accept(')')) return Error("expected ')'");
      return inner;
    }
    if (Accept('-')) {
      TESSERA_ASSIGN_OR_RETURN(auto inner, Factor());
      node->kind = Node::kNegate;
      node->left = inner;
      return std::shared_ptr<const Node>(node);
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      bool is_int = false;
      int64_t int_value = 0;
      TESSERA_ASSIGN_OR_RETURN(double value, Number(&is_int, &int_value));
      node->literal = is_int ? Value(int_value) : Value(value);
      return std::shared_ptr<const Node>(node);
    }
    if (c == '\'') {  // 'it''s'
      std::string out;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) return Error("unterminated string");
        if (text_[pos_] == '\'') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\'') {
            out += '\'';
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        out += text_[pos_++];
      }
      node->literal = Value(std::move(out));
      return std::shared_ptr<const Node>(node);
    }
    if (Accept('[')) {
      std::vector<float> vector;
      if (!Accept(']')) {
        do {
          SkipSpace();
          bool negative = Accept('-');
          SkipSpace();
          bool is_int = false;
          int64_t int_value = 0;
          TESSERA_ASSIGN_OR_RETURN(double value, Number(&is_int, &int_value));
          vector.push_back(static_cast<float>(negative ? -value : value));
        } while (Accept(','));
        if (!Accept(']')) return Error("expected ']'");
      }
      node->literal = Value(std::move(vector));
      return std::shared_ptr<const Node>(node);
    }
    std::string name;
    if (c == '"') {
      const size_t end = text_.find('"', pos_ + 1);
      if (end == std::string_view::npos) return Error("unterminated quoted column name");
      name = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      name = std::string(text_.substr(start, pos_ - start));
      std::string lower = name;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower == "true" || lower == "false") {
        node->literal = Value(lower == "true");
        return std::shared_ptr<const Node>(node);
      }
      if (lower == "null") return std::shared_ptr<const Node>(node);  // monostate
    } else {
      return Error("unexpected '" + std::string(1, c) + "'");
    }
    node->kind = Node::kColumn;
    node->column = schema_.FieldIndex(name);
    if (node->column < 0) return Error("unknown column '" + name + "'");
    return std::shared_ptr<const Node>(node);
  }

  std::string_view text_;
  const Schema& schema_;
  size_t pos_ = 0;
};

Result<Value> Eval(const Node& node, const RecordBatch& batch, int64_t row) {
  switch (node.kind) {
    case Node::kLiteral:
      return node.literal;
    case Node::kColumn:
      return batch.column(node.column).GetValue(row);
    case Node::kNegate: {
      TESSERA_ASSIGN_OR_RETURN(Value v, Eval(*node.left, batch, row));
      if (std::holds_alternative<std::monostate>(v)) return v;
      if (auto* i = std::get_if<int64_t>(&v)) return Value(-*i);
      if (auto* d = std::get_if<double>(&v)) return Value(-*d);
      return Status::InvalidArgument("value expression: '-' needs a number, got ",
                                     ValueToString(v));
    }
    case Node::kBinary: {
      TESSERA_ASSIGN_OR_RETURN(Value l, Eval(*node.left, batch, row));
      TESSERA_ASSIGN_OR_RETURN(Value r, Eval(*node.right, batch, row));
      if (std::holds_alternative<std::monostate>(l) || std::holds_alternative<std::monostate>(r)) {
        return Value();
      }
      const bool numbers =
          (std::holds_alternative<int64_t>(l) || std::holds_alternative<double>(l)) &&
          (std::holds_alternative<int64_t>(r) || std::holds_alternative<double>(r));
      if (!numbers) {
        return Status::InvalidArgument("value expression: '", std::string(1, node.op),
                                       "' needs numbers, got ", ValueToString(l), " and ",
                                       ValueToString(r));
      }
      if (std::holds_alternative<int64_t>(l) && std::holds_alternative<int64_t>(r)) {
        const int64_t a = std::get<int64_t>(l), b = std::get<int64_t>(r);
        int64_t out = 0;
        switch (node.op) {
          case '+':
            if (__builtin_add_overflow(a, b, &out)) break;
            return Value(out);
          case '-':
            if (__builtin_sub_overflow(a, b, &out)) break;
            return Value(out);
          case '*':
            if (__builtin_mul_overflow(a, b, &out)) break;
            return Value(out);
          default:
            if (b == 0) return Status::InvalidArgument("value expression: division by zero");
            if (a == INT64_MIN && b == -1) break;
            return Value(a / b);
        }
        return Status::InvalidArgument("value expression: integer overflow in '",
                                       std::string(1, node.op), "'");
      }
      const double a = std::holds_alternative<int64_t>(l)
                           ? static_cast<double>(std::get<int64_t>(l))
                           : std::get<double>(l);
      const double b = std::holds_alternative<int64_t>(r)
                           ? static_cast<double>(std::get<int64_t>(r))
                           : std::get<double>(r);
      switch (node.op) {
        case '+':
          return Value(a + b);
        case '-':
          return Value(a - b);
        case '*':
          return Value(a * b);
        default:
          if (b == 0) return Status::InvalidArgument("value expression: division by zero");
          return Value(a / b);
      }
    }
  }
  return Status::Internal("value expression: bad node");
}

}  // namespace

Result<ValueExpr> ValueExpr::Parse(std::string_view text, const Schema& schema) {
  Parser parser(text, schema);
  ValueExpr expr;
  TESSERA_ASSIGN_OR_RETURN(expr.root_, parser.ParseAll());
  return expr;
}

Result<Value> ValueExpr::Evaluate(const RecordBatch& batch, int64_t row) const {
  return Eval(*root_, batch, row);
}

}  // namespace tessera::expr
