#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "expr/like_internal.h"

namespace tessera::expr::internal {
namespace {

// Return the byte index just past the UTF-8 character that starts at `pos`.
// Invalid UTF-8 degrades gracefully: a stray continuation byte is one character.
size_t NextChar(std::string_view text, size_t pos) {
  ++pos;
  while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

}  // namespace

bool LikePattern::Matches(std::string_view text) const {
  switch (kind) {
    case Kind::kExact:
      return text == literal;
    case Kind::kPrefix:
      return text.starts_with(literal);
    case Kind::kSuffix:
      return text.ends_with(literal);
    case Kind::kContains:
      return text.find(literal) != std::string_view::npos;
    case Kind::kAnyString:
      return true;
    case Kind::kGeneral:
      break;
  }
  // Greedy match with one backtrack point (the last `%`): a later `%` subsumes every
  // choice made by an earlier one, so this is exact and O(len(text) * len(pattern)).
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t token_idx = 0;
  size_t pos = 0;
  size_t star_token = kNone;
  size_t star_pos = 0;
  while (true) {
    bool advanced = false;
    if (token_idx < tokens.size()) {
      const Token& token = tokens[token_idx];
      switch (token.type) {
        case Token::Type::kAny:
          star_token = token_idx;
          star_pos = pos;
          ++token_idx;
          advanced = true;
          break;
        case Token::Type::kOne:
          if (pos < text.size()) {
            pos = NextChar(text, pos);
            ++token_idx;
            advanced = true;
          }
          break;
        case Token::Type::kLiteral:
          if (text.substr(pos).starts_with(token.text)) {
            pos += token.text.size();
            ++token_idx;
            advanced = true;
          }
          break;
      }
    } else if (pos == text.size()) {
      return true;
    }
    if (advanced) continue;
    if (star_token == kNone || star_pos >= text.size()) return false;
    star_pos = NextChar(text, star_pos);
    pos = star_pos;
    token_idx = star_token + 1;
  }
}

Result<LikePattern> CompileLike(std::string_view pattern, std::string_view escape) {
  if (escape.size() > 1) {
    return Status::InvalidArgument("ESCAPE must be a single character");
  }
  LikePattern out;
  out.pattern = std::string(pattern);
  out.escape = std::string(escape);
  std::vector<LikePattern::Token>& tokens = out.tokens;
  auto append_literal = [&tokens](char c) {
    if (tokens.empty() || tokens.back().type != LikePattern::Token::Type::kLiteral) {
      tokens.push_back({LikePattern::Token::Type::kLiteral, std::string()});
    }
    tokens.back().text.push_back(c);
  };
  for (size_t pos = 0; pos < pattern.size(); ++pos) {
    const char c = pattern[pos];
    if (!escape.empty() && c == escape[0]) {
      if (pos + 1 == pattern.size()) {
        return Status::InvalidArgument("LIKE pattern ends with the escape character");
      }
      append_literal(pattern[++pos]);
    } else if (c == '%') {
      if (tokens.empty() || tokens.back().type != LikePattern::Token::Type::kAny) {
        tokens.push_back({LikePattern::Token::Type::kAny, std::string()});
      }
    } else if (c == '_') {
      tokens.push_back({LikePattern::Token::Type::kOne, std::string()});
    } else {
      append_literal(c);
    }
  }

  using Type = LikePattern::Token::Type;
  auto is = [&tokens](size_t index, Type type) {
    return index < tokens.size() && tokens[index].type == type;
  };
  if (is(0, Type::kLiteral)) out.prefix = tokens[0].text;
  if (tokens.empty()) {
    out.kind = LikePattern::Kind::kExact;
  } else if (tokens.size() == 1 && is(0, Type::kLiteral)) {
    out.kind = LikePattern::Kind::kExact;
    out.literal = tokens[0].text;
  } else if (tokens.size() == 1 && is(0, Type::kAny)) {
    out.kind = LikePattern::Kind::kAnyString;
  } else if (tokens.size() == 2 && is(0, Type::kLiteral) && is(1, Type::kAny)) {
    out.kind = LikePattern::Kind::kPrefix;
    out.literal = tokens[0].text;
  } else if (tokens.size() == 2 && is(0, Type::kAny) && is(1, Type::kLiteral)) {
    out.kind = LikePattern::Kind::kSuffix;
    out.literal = tokens[1].text;
  } else if (tokens.size() == 3 && is(0, Type::kAny) && is(1, Type::kLiteral) &&
             is(2, Type::kAny)) {
    out.kind = LikePattern::Kind::kContains;
    out.literal = tokens[1].text;
  } else {
    out.kind = LikePattern::Kind::kGeneral;
  }
  return out;
}

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty() && static_cast<unsigned char>(out.back()) == 0xFF) out.pop_back();
  if (out.empty()) return std::nullopt;
  out.back() = static_cast<char>(static_cast<unsigned char>(out.back()) + 1);
  return out;
}

}  // namespace tessera::expr::internal
