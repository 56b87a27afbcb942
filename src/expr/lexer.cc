#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "expr/lexer_internal.h"

namespace tessera::expr::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || IsDigit(c); }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
      if (pos_ == text_.size()) break;
      TESSERA_ASSIGN_OR_RETURN(Token token, Next());
      token.length = pos_ - token.offset;
      tokens.push_back(std::move(token));
    }
    Token end;
    end.type = TokenType::kEnd;
    end.offset = text_.size();
    tokens.push_back(std::move(end));
    return tokens;
  }

 private:
  template <typename... Args>
  Status Error(size_t offset, Args&&... args) const {
    return Status::InvalidArgument("filter: ", std::forward<Args>(args)...,
                                   PositionSuffix(text_, offset));
  }

  char At(size_t pos) const { return pos < text_.size() ? text_[pos] : '\0'; }

  // Return text_[start, end) for a message, shortened if long.
  std::string Quote(size_t start, size_t end) const {
    constexpr size_t kMaxBytes = 40;
    const size_t length = end - start;
    return "'" + Excerpt(text_, start, std::min(length, kMaxBytes)) +
           (length > kMaxBytes ? "...'" : "'");
  }

  Result<Token> Next() {
    Token token;
    token.offset = pos_;
    const char c = text_[pos_];
    const char next = At(pos_ + 1);
    if (IsIdentifierStart(c)) {
      const size_t start = pos_;
      while (pos_ < text_.size() && IsIdentifierChar(text_[pos_])) ++pos_;
      token.type = TokenType::kIdentifier;
      token.text = std::string(text_.substr(start, pos_ - start));
      return token;
    }
    if (IsDigit(c) || (c == '.' && IsDigit(next)) ||
        ((c == '-' || c == '+') && (IsDigit(next) || (next == '.' && IsDigit(At(pos_ + 2)))))) {
      return Number();
    }
    if (c == '\'' || c == '"') return Quoted(c);
    ++pos_;
    switch (c) {
      case '(':
        token.type = TokenType::kLParen;
        return token;
      case ')':
        token.type = TokenType::kRParen;
        return token;
      case ',':
        token.type = TokenType::kComma;
        return token;
      case '=':
        token.type = TokenType::kOperator;
        token.text = "=";
        return token;
      case '!':
        if (next == '=') {
          ++pos_;
          token.type = TokenType::kOperator;
          token.text = "!=";
          return token;
        }
        break;
      case '<':
        token.type = TokenType::kOperator;
        if (next == '=' || next == '>') {
          ++pos_;
          token.text = next == '=' ? "<=" : "!=";
        } else {
          token.text = "<";
        }
        return token;
      case '>':
        token.type = TokenType::kOperator;
        if (next == '=') {
          ++pos_;
          token.text = ">=";
        } else {
          token.text = ">";
        }
        return token;
      default:
        break;
    }
    return Error(token.offset, "unexpected character '", Excerpt(text_, token.offset, 1), "'");
  }

  Result<Token> Number() {
    Token token;
    token.offset = pos_;
    const size_t start = pos_;
    if (text_[pos_] == '-' || text_[pos_] == '+') ++pos_;
    bool is_float = false;
    while (IsDigit(At(pos_))) ++pos_;
    if (At(pos_) == '.') {
      is_float = true;
      ++pos_;
      while (IsDigit(At(pos_))) ++pos_;
    }
    if ((At(pos_) == 'e' || At(pos_) == 'E') &&
        (IsDigit(At(pos_ + 1)) ||
         ((At(pos_ + 1) == '+' || At(pos_ + 1) == '-') && IsDigit(At(pos_ + 2))))) {
      is_float = true;
      pos_ += 2;
      while (IsDigit(At(pos_))) ++pos_;
    }
    if (IsIdentifierChar(At(pos_)) || At(pos_) == '.') {
      while (IsIdentifierChar(At(pos_)) || At(pos_) == '.') ++pos_;
      return Error(start, "invalid number ", Quote(start, pos_));
    }
    token.text = std::string(text_.substr(start, pos_ - start));
    std::string_view digits = token.text;
    if (digits.front() == '+') digits.remove_prefix(1);
    const char* first = digits.data();
    const char* last = digits.data() + digits.size();
    if (is_float) {
      token.type = TokenType::kFloat;
      const auto [ptr, ec] = std::from_chars(first, last, token.float_value);
      if (ec != std::errc() || ptr != last || !std::isfinite(token.float_value)) {
        return Error(start, "number out of range ", Quote(start, pos_));
      }
    } else {
      token.type = TokenType::kInteger;
      const auto [ptr, ec] = std::from_chars(first, last, token.int_value);
      if (ec != std::errc() || ptr != last) {
        return Error(start, "integer out of range ", Quote(start, pos_));
      }
    }
    return token;
  }

  // A single-quoted string or a double-quoted identifier; the quote is doubled to escape it.
  Result<Token> Quoted(char quote) {
    Token token;
    token.offset = pos_;
    token.type = quote == '\'' ? TokenType::kString : TokenType::kQuotedIdentifier;
    ++pos_;
    while (true) {
      if (pos_ >= text_.size()) {
        return Error(token.offset,
                     quote == '\'' ? "unterminated string" : "unterminated quoted identifier");
      }
      const char c = text_[pos_++];
      if (c == quote) {
        if (At(pos_) != quote) break;
        ++pos_;
      }
      token.text.push_back(c);
    }
    return token;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view text) { return Lexer(text).Run(); }

std::string PositionSuffix(std::string_view text, size_t offset) {
  int64_t position = 1;
  for (size_t pos = 0; pos < offset && pos < text.size(); ++pos) {
    if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) ++position;
  }
  return " at position " + std::to_string(position);
}

std::string Excerpt(std::string_view text, size_t offset, size_t max_bytes) {
  std::string out;
  for (size_t pos = offset; pos < text.size() && pos < offset + max_bytes; ++pos) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (byte < 0x20 || byte >= 0x7F) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02X", byte);
      out += buffer;
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  return out;
}

}  // namespace tessera::expr::internal
