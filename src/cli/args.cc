#include "cli/args.h"

#include <algorithm>
#include <charconv>

namespace tessera::cli {
namespace {

const FlagSpec* FindFlag(std::span<const FlagSpec> flags, std::string_view name) {
  for (const FlagSpec& flag : flags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

std::string JoinChoices(const std::vector<std::string_view>& choices, std::string_view sep) {
  std::string out;
  for (size_t index = 0; index < choices.size(); ++index) {
    if (index > 0) out += sep;
    out += choices[index];
  }
  return out;
}

Status ValidateFlagValue(const FlagSpec& flag, std::string_view value) {
  switch (flag.kind) {
    case FlagKind::kString:
    case FlagKind::kBool:
      return Status::OK();
    case FlagKind::kInt:
      return ParseNonNegativeInt(value).status().WithContext("--", flag.name);
    case FlagKind::kChoice:
      if (std::find(flag.choices.begin(), flag.choices.end(), value) != flag.choices.end()) {
        return Status::OK();
      }
      return Status::InvalidArgument("--", flag.name, ": expected one of ",
                                     JoinChoices(flag.choices, ", "), ", got '", value, "'");
  }
  return Status::OK();
}

}  // namespace

Result<int64_t> ParseNonNegativeInt(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) {
    return Status::InvalidArgument("expected a non-negative integer, got '", text, "'");
  }
  return value;
}

int64_t ParsedArgs::PositionalInt(size_t index) const {
  return ParseNonNegativeInt(positional_[index]).value_or(0);
}

std::string ParsedArgs::Get(std::string_view flag, std::string_view fallback) const {
  auto it = flags_.find(flag);
  return it == flags_.end() ? std::string(fallback) : it->second;
}

int64_t ParsedArgs::GetInt(std::string_view flag, int64_t fallback) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return fallback;
  return ParseNonNegativeInt(it->second).value_or(fallback);
}

Result<ParsedArgs> ParseArgs(std::span<const std::string> args,
                             std::span<const PositionalSpec> positionals,
                             std::span<const FlagSpec> flags) {
  ParsedArgs parsed;
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") {
      parsed.help_ = true;
      return parsed;
    }
  }
  bool flags_done = false;
  for (size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
    const std::string& arg = args[arg_idx];
    if (flags_done || arg == "-" || !arg.starts_with("-")) {
      parsed.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (!arg.starts_with("--")) return Status::InvalidArgument("unknown flag ", arg);
    std::string_view body = std::string_view(arg).substr(2);
    std::string_view name = body;
    std::string value;
    bool has_inline_value = false;
    if (size_t eq = body.find('='); eq != std::string_view::npos) {
      name = body.substr(0, eq);
      value = std::string(body.substr(eq + 1));
      has_inline_value = true;
    }
    const FlagSpec* flag = FindFlag(flags, name);
    if (flag == nullptr) return Status::InvalidArgument("unknown flag --", name);
    if (flag->kind == FlagKind::kBool) {
      if (has_inline_value) return Status::InvalidArgument("flag --", name, " takes no value");
    } else if (!has_inline_value) {
      if (arg_idx + 1 >= args.size()) {
        return Status::InvalidArgument("flag --", name, " needs a value (", flag->value_name, ")");
      }
      value = args[++arg_idx];
    }
    TESSERA_RETURN_IF_ERROR(ValidateFlagValue(*flag, value));
    parsed.flags_[std::string(name)] = std::move(value);
  }
  for (const FlagSpec& flag : flags) {
    if (flag.required && !parsed.Has(flag.name)) {
      return Status::InvalidArgument("missing required flag --", flag.name);
    }
  }
  const size_t given = parsed.positional_.size();
  for (size_t pos_idx = 0; pos_idx < positionals.size(); ++pos_idx) {
    if (pos_idx >= given) return Status::InvalidArgument("missing ", positionals[pos_idx].name);
  }
  const bool repeats = !positionals.empty() && positionals.back().repeated;
  if (given > positionals.size() && !repeats) {
    return Status::InvalidArgument("unexpected argument '", parsed.positional_[positionals.size()],
                                   "'");
  }
  for (size_t pos_idx = 0; pos_idx < given; ++pos_idx) {
    const PositionalSpec& spec = positionals[std::min(pos_idx, positionals.size() - 1)];
    if (spec.kind == PositionalKind::kInt) {
      TESSERA_RETURN_IF_ERROR(
          ParseNonNegativeInt(parsed.positional_[pos_idx]).status().WithContext(spec.name));
    }
  }
  return parsed;
}

std::string UsageLine(std::string_view command, std::span<const PositionalSpec> positionals,
                      std::span<const FlagSpec> flags) {
  std::string out = "tessera ";
  out += command;
  for (const PositionalSpec& positional : positionals) {
    out += " ";
    out += positional.name;
    if (positional.repeated) out += "...";
  }
  for (const FlagSpec& flag : flags) {
    out += flag.required ? " --" : " [--";
    out += flag.name;
    if (flag.kind == FlagKind::kChoice) {
      out += " " + JoinChoices(flag.choices, "|");
    } else if (flag.kind != FlagKind::kBool) {
      out += " ";
      out += flag.value_name;
    }
    if (!flag.required) out += "]";
  }
  return out;
}

std::string FlagHelp(std::span<const FlagSpec> flags) {
  size_t width = 0;
  for (const FlagSpec& flag : flags) width = std::max(width, flag.name.size());
  std::string out;
  for (const FlagSpec& flag : flags) {
    out += "  --";
    out += flag.name;
    out += std::string(width - flag.name.size() + 2, ' ');
    out += flag.help;
    out += "\n";
  }
  return out;
}

}  // namespace tessera::cli
