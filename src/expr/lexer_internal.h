// Tokenizer of the filter language.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"

namespace tessera::expr::internal {

enum class TokenType : uint8_t {
  kEnd,               // end of input
  kIdentifier,        // [A-Za-z_][A-Za-z0-9_]*: a keyword or a column name
  kQuotedIdentifier,  // "weird name" (text unescaped)
  kInteger,           // -12 (int_value)
  kFloat,             // 1.5, -2e3 (float_value)
  kString,            // 'it''s' (text unescaped)
  kLParen,
  kRParen,
  kComma,
  kOperator,  // = != <> < <= > >= (text)
};

struct Token {
  TokenType type = TokenType::kEnd;
  size_t offset = 0;  // byte offset in the filter text
  size_t length = 0;  // bytes of the filter text it spans
  std::string text;   // identifier, unescaped string, operator, or the number as written
  int64_t int_value = 0;
  double float_value = 0;
};

// Split `text` into tokens, ending with one kEnd token. Errors: kInvalidArgument
// "filter: <problem> at position N" for an unexpected character, an unterminated string
// or quoted identifier, or a malformed or out-of-range number.
Result<std::vector<Token>> Tokenize(std::string_view text);

// Return " at position N", N being the 1-based character (UTF-8 code point) position of
// byte `offset` in `text`.
std::string PositionSuffix(std::string_view text, size_t offset);

// Return up to `max_bytes` of `text` from `offset`, control and non-ASCII bytes
// escaped as \xNN, for error messages.
std::string Excerpt(std::string_view text, size_t offset, size_t max_bytes);

}  // namespace tessera::expr::internal
