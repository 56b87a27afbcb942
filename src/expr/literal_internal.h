// Literal helpers shared by the parser, evaluator and pruner: exact mixed-type
// comparison, timestamp text <-> microseconds, and the normalized text of literals.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/schema.h"

namespace tessera::expr::internal {

// Compare an integer with a double exactly (no rounding of the integer).
// Returns unordered if `d` is NaN.
std::partial_ordering CompareIntDouble(int64_t i, double d);

// Compare two cell values of compatible kinds: int64 with int64 or double (exactly),
// double with double (NaN unordered), string with string (bytewise), bool with bool.
// Returns unordered for null or incompatible kinds.
std::partial_ordering CompareValues(const Value& a, const Value& b);

// Parse "YYYY-MM-DD", optionally followed by ' ' or 'T' and "HH:MM[:SS[.ffffff]]", and an
// optional trailing 'Z'; UTC. Return microseconds since the Unix epoch, or nullopt.
std::optional<int64_t> ParseTimestamp(std::string_view text);

// Return "YYYY-MM-DD HH:MM:SS[.ffffff]" for `micros` since the epoch (UTC).
std::string FormatTimestamp(int64_t micros);

// Return `text` in single quotes with embedded quotes doubled.
std::string QuoteString(std::string_view text);

// Return the shortest text that parses back to `value` as a float literal ("2.0", "1e+20").
std::string FormatDouble(double value);

// Return `name` as an identifier the parser reads back: bare if it is a plain,
// non-reserved identifier, else double-quoted with embedded quotes doubled.
std::string FormatIdentifier(std::string_view name);

// Return whether `word` is a reserved keyword (case-insensitive).
bool IsReservedWord(std::string_view word);

}  // namespace tessera::expr::internal
