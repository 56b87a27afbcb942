// Helpers shared by the command files of the `tessera` tool.
#pragma once

#include <signal.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/cli.h"
#include "tessera/maintenance.h"
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
// compact, cleanup, optimize, stats, health, history, metrics (commands_maintenance.cc)
std::vector<CommandSpec> MaintenanceCommands();
CommandSpec MaintainCommand();  // maintain (commands_maintain.cc)

CommandSpec IngestCommand();  // ingest (commands_ingest.cc)
CommandSpec UpsertCommand();  // upsert (commands_upsert.cc)
CommandSpec UpdateCommand();  // update (commands_upsert.cc)

// Installs SIGINT/SIGTERM handlers for its lifetime (restoring the previous ones after) that
// only record the signal; long-running commands poll StopSignalReceived() and stop cleanly.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};
// The signal received since the last StopSignals was installed, or 0.
int StopSignalReceived();

// The flags of `optimize` (compaction then cleanup), shared with `maintain`.
std::vector<FlagSpec> OptimizeFlags();
// Return the optimize options given by OptimizeFlags(). Errors: a UsageError naming the bad flag.
Result<OptimizeOptions> OptimizeOptionsFromArgs(const ParsedArgs& args);
// Parse a duration: a non-negative number with a unit ms, s, m, h or d ("30s", "1.5h"), or "0".
// Return seconds. Errors: a UsageError naming `flag`.
Result<double> ParseDuration(std::string_view flag, std::string_view text);
// Return `seconds` in the shortest form ParseDuration reads back ("90s", "2h", "1.5s").
std::string FormatDuration(double seconds);

// Return an error that the dispatcher reports like a parse error of the command line (with
// the usage hint, exit code kExitUsage): for rules the flag parser cannot check, such as two
// flags that exclude each other or a malformed --vector. Do not add context to it.
Status UsageError(std::string_view message);
// Whether `status` came from UsageError; if so, set `message` to its text.
bool IsUsageError(const Status& status, std::string* message);

// Exit code of `health` when a limit is passed (documented in `tessera --help`).
inline constexpr int kExitUnhealthy = 3;

// Return a status that makes the dispatcher exit with `exit_code` and print nothing: for a
// command whose exit code is its answer (health), or one that printed its own errors.
Status SilentExit(int exit_code);
// Whether `status` came from SilentExit; if so, set `exit_code`.
bool IsSilentExit(const Status& status, int* exit_code);

// Return the kInt flag `flag` as an int32_t, or `fallback` when it was not given.
// Errors: a UsageError when the value does not fit.
Result<int32_t> GetInt32Flag(const ParsedArgs& args, std::string_view flag, int32_t fallback);

}  // namespace tessera::cli
