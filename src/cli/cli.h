// The `tessera` command-line tool: command registry, dispatch and exit codes.
// Front end only: every command calls the public API in include/tessera/ (plus the
// ingest readers and, for `inspect`, the format codecs) and has no logic of its own.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "tessera/status.h"

namespace tessera::cli {

// Exit codes, documented in `tessera --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;   // the command line could not be understood
inline constexpr int kExitFailed = 2;  // the operation was tried and failed

// Where a command writes. Borrowed streams; not owned.
struct Console {
  FILE* out = stdout;
  FILE* err = stderr;
  bool out_is_terminal = false;
  bool err_is_terminal = false;

  // Write `text` to `out` as is.
  void Print(std::string_view text) const;
};

// One subcommand: its arguments, its help and the function that runs it. `run` is called
// with validated arguments; an error it returns is printed as one line and exits with
// kExitFailed.
struct CommandSpec {
  std::string_view name = {};  // "scan", or "tag create" for a command of a group
  std::string_view summary = {};
  std::vector<PositionalSpec> positionals = {};
  std::vector<FlagSpec> flags = {};
  std::string_view details = {};  // extra help paragraphs, may be empty
  Status (*run)(const ParsedArgs& args, const Console& console) = nullptr;
};

// Run the tool on `args` (argv without the program name) and return the exit code.
int Main(const std::vector<std::string>& args, const Console& console);

// Command groups; each lives in its own commands_*.cc file.
std::vector<CommandSpec> TableCommands();    // create, add, count, scan, delete, schema
std::vector<CommandSpec> VersionCommands();  // versions, restore, tag create|delete|list
std::vector<CommandSpec> InspectCommands();  // inspect

}  // namespace tessera::cli
