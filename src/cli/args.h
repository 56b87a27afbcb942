// A small command-line parser for the `tessera` tool: positional arguments and
// `--name VALUE` / `--name=VALUE` / `--flag` options, validated against a spec.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"

namespace tessera::cli {

enum class FlagKind {
  kString,  // any value
  kInt,     // a non-negative integer
  kChoice,  // one of FlagSpec::choices
  kBool,    // present or absent; takes no value
};

struct FlagSpec {
  std::string_view name = {};  // without the leading "--"
  FlagKind kind = FlagKind::kString;
  std::string_view value_name = {};  // shown in the usage line, e.g. "EXPR"
  std::string_view help = {};
  bool required = false;
  std::vector<std::string_view> choices = {};  // kChoice only
};

enum class PositionalKind {
  kString,
  kInt,  // a non-negative integer
};

struct PositionalSpec {
  std::string_view name = {};  // e.g. "TABLE"
  PositionalKind kind = PositionalKind::kString;
  bool repeated = false;  // one or more; only the last positional may repeat
};

// The validated arguments of one command invocation. Every flag value was checked
// against its kind when parsing, so the typed accessors cannot fail.
class ParsedArgs {
 public:
  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& positional(size_t index) const { return positional_[index]; }
  // Return the positional at `index` as an integer. REQUIRES: it was declared kInt.
  int64_t PositionalInt(size_t index) const;

  bool Has(std::string_view flag) const { return flags_.find(flag) != flags_.end(); }
  // Return the flag's value, or `fallback` when it was not given.
  std::string Get(std::string_view flag, std::string_view fallback = {}) const;
  // Return a kInt flag's value, or `fallback` when it was not given.
  int64_t GetInt(std::string_view flag, int64_t fallback) const;
  bool GetBool(std::string_view flag) const { return Has(flag); }
  // Whether --help (or -h) was given; the other arguments were then not validated.
  bool help() const { return help_; }

 private:
  friend Result<ParsedArgs> ParseArgs(std::span<const std::string> args,
                                      std::span<const PositionalSpec> positionals,
                                      std::span<const FlagSpec> flags);
  std::vector<std::string> positional_;
  std::map<std::string, std::string, std::less<>> flags_;
  bool help_ = false;
};

// Parse `args` (the words after the command name). "--" ends the flags; a repeated flag
// keeps its last value. Errors: kInvalidArgument naming the unknown flag, the missing or
// unexpected argument, or the malformed value.
Result<ParsedArgs> ParseArgs(std::span<const std::string> args,
                             std::span<const PositionalSpec> positionals,
                             std::span<const FlagSpec> flags);

// Return the usage line, e.g. "tessera scan TABLE [--where EXPR] [--limit N]".
std::string UsageLine(std::string_view command, std::span<const PositionalSpec> positionals,
                      std::span<const FlagSpec> flags);
// Return one indented line per flag with its help text.
std::string FlagHelp(std::span<const FlagSpec> flags);

// Parse a whole string as a non-negative integer. Errors: kInvalidArgument.
Result<int64_t> ParseNonNegativeInt(std::string_view text);

}  // namespace tessera::cli
