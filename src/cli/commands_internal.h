// Helpers shared by the command files of the `tessera` tool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/cli.h"
#include "tessera/table.h"

namespace tessera::cli {

// Open the table named by the first positional argument; with --version V, check out
// version V (read-only). Errors: as Table::Open and Table::Checkout.
Result<std::unique_ptr<Table>> OpenTableForRead(const ParsedArgs& args);

// The `add` command (commands_add.cc).
CommandSpec AddCommand();

// Command groups beside those declared in cli.h.
std::vector<CommandSpec> SearchCommands();  // search (commands_search.cc)
std::vector<CommandSpec> IndexCommands();   // index create|list|stats|drop, optimize-indices

// Return an error that the dispatcher reports like a parse error of the command line (with
// the usage hint, exit code kExitUsage): for rules the flag parser cannot check, such as two
// flags that exclude each other or a malformed --vector. Do not add context to it.
Status UsageError(std::string_view message);
// Whether `status` came from UsageError; if so, set `message` to its text.
bool IsUsageError(const Status& status, std::string* message);

// Return the kInt flag `flag` as an int32_t, or `fallback` when it was not given.
// Errors: a UsageError when the value does not fit.
Result<int32_t> GetInt32Flag(const ParsedArgs& args, std::string_view flag, int32_t fallback);

}  // namespace tessera::cli
