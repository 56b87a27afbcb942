// LIKE patterns: compiled once at parse time, matched per row by the evaluator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"

namespace tessera::expr::internal {

// A compiled LIKE pattern. `%` matches any sequence of characters, `_` exactly one
// character (one UTF-8 code point); everything else matches itself, byte for byte
// (case-sensitive). An optional escape character makes the next character literal.
// Immutable after CompileLike(); thread-safe.
struct LikePattern {
  // The shape of the pattern, so that common cases avoid the general matcher.
  enum class Kind : uint8_t {
    kExact,      // 'abc'   -> s == literal
    kPrefix,     // 'abc%'  -> s starts with literal
    kSuffix,     // '%abc'  -> s ends with literal
    kContains,   // '%abc%' -> s contains literal
    kAnyString,  // '%'     -> every string
    kGeneral,    // anything else
  };
  struct Token {
    enum class Type : uint8_t { kLiteral, kOne, kAny };
    Type type = Type::kLiteral;
    std::string text;  // kLiteral only
  };

  Kind kind = Kind::kExact;
  std::string literal;        // kExact, kPrefix, kSuffix, kContains
  std::string prefix;         // the fixed bytes every matching string starts with
  std::vector<Token> tokens;  // all kinds; used by kGeneral
  std::string pattern;        // as written
  std::string escape;         // as written; empty if none

  // Return whether `text` matches the pattern.
  bool Matches(std::string_view text) const;
};

// Compile `pattern`. `escape` is empty or one character. Errors: kInvalidArgument
// (message without position) if `escape` is longer than one byte or the pattern ends
// with the escape character.
Result<LikePattern> CompileLike(std::string_view pattern, std::string_view escape);

// Return the smallest string greater than every string that starts with `prefix`, or
// nullopt if there is none (empty prefix or all bytes 0xFF).
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

}  // namespace tessera::expr::internal
