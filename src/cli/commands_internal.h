// Helpers shared by the command files of the `tessera` tool.
#pragma once

#include <memory>

#include "cli/args.h"
#include "cli/cli.h"
#include "tessera/table.h"

namespace tessera::cli {

// Open the table named by the first positional argument; with --version V, check out
// version V (read-only). Errors: as Table::Open and Table::Checkout.
Result<std::unique_ptr<Table>> OpenTableForRead(const ParsedArgs& args);

// The `add` command (commands_add.cc).
CommandSpec AddCommand();

}  // namespace tessera::cli
