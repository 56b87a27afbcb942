#include "cli/cli.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "cli/commands_internal.h"
#include "cli/demo.h"
#include "cli/text_table.h"

#ifndef TESSERA_VERSION_STRING
#define TESSERA_VERSION_STRING "unknown"
#endif

namespace tessera::cli {
namespace {

// Marks the message of a UsageError; never shown.
constexpr std::string_view kUsageErrorMarker = "\x1fusage\x1f";
// Marks the message of a SilentExit, followed by the exit code; never shown.
constexpr std::string_view kSilentExitMarker =
    "\x1f"
    "exit\x1f";

std::vector<CommandSpec> AllCommands() {
  std::vector<CommandSpec> commands;
  for (auto group : {TableCommands, SearchCommands, IndexCommands, VersionCommands, InspectCommands,
                     MaintenanceCommands}) {
    for (CommandSpec& command : group()) commands.push_back(std::move(command));
  }
  commands.push_back(MaintainCommand());
  commands.push_back(IngestCommand());
  commands.push_back(UpsertCommand());
  commands.push_back(UpdateCommand());
  return commands;
}

const CommandSpec* FindCommand(const std::vector<CommandSpec>& commands, std::string_view name) {
  for (const CommandSpec& command : commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

// Return the subcommands of group `group` ("tag" -> {"create", "delete", "list"}).
std::vector<std::string_view> GroupMembers(const std::vector<CommandSpec>& commands,
                                           std::string_view group) {
  std::vector<std::string_view> members;
  for (const CommandSpec& command : commands) {
    if (command.name.size() > group.size() && command.name.starts_with(group) &&
        command.name[group.size()] == ' ') {
      members.push_back(command.name.substr(group.size() + 1));
    }
  }
  return members;
}

// Print "tessera: <message>" as exactly one line on stderr.
void PrintError(const Console& console, std::string_view message) {
  const std::string line = "tessera: " + OneLine(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), console.err);
}

std::string GlobalHelp(const std::vector<CommandSpec>& commands) {
  size_t width = 0;
  for (const CommandSpec& command : commands) width = std::max(width, command.name.size());
  std::string out =
      "usage: tessera COMMAND ARGS... [--help]\n"
      "       tessera --version\n"
      "\n"
      "Tessera is an embedded vector database; TABLE is the directory of a table.\n"
      "\n"
      "Commands:\n";
  for (const CommandSpec& command : commands) {
    out += "  ";
    out += command.name;
    out += std::string(width - command.name.size() + 2, ' ');
    out += command.summary;
    out += "\n";
  }
  out += "  demo" + std::string(width > 4 ? width - 4 + 2 : 2, ' ') +
         "Stream Fashion-MNIST vectors into a table: versions, deletes, time travel.\n";
  out +=
      "\n"
      "Run 'tessera COMMAND --help' for the arguments of a command.\n"
      "\n"
      "Exit status:\n"
      "  0  success\n"
      "  1  usage error: unknown command or flag, missing or malformed argument\n"
      "  2  the operation failed (no such table, bad schema or filter, bad input file, I/O)\n"
      "  3  health: the table passed a maintenance limit\n"
      "Errors are printed as one line on stderr: \"tessera: <message>\".\n";
  return out;
}

std::string CommandHelp(const CommandSpec& command) {
  std::string out = "usage: " + UsageLine(command.name, command.positionals, command.flags);
  out += "\n\n";
  out += command.summary;
  out += "\n";
  if (!command.flags.empty()) {
    out += "\nFlags:\n";
    out += FlagHelp(command.flags);
  }
  if (!command.details.empty()) {
    out += "\n";
    out += command.details;
    if (!command.details.ends_with('\n')) out += "\n";
  }
  return out;
}

std::string GroupHelp(const std::vector<CommandSpec>& commands, std::string_view group) {
  std::string out = "usage: tessera " + std::string(group) + " SUBCOMMAND ...\n\nSubcommands:\n";
  for (const CommandSpec& command : commands) {
    if (command.name.starts_with(std::string(group) + " ")) {
      out += "  " + UsageLine(command.name, command.positionals, command.flags) + "\n";
      out += "      ";
      out += command.summary;
      out += "\n";
    }
  }
  return out;
}

int RunCommand(const CommandSpec& command, std::span<const std::string> rest,
               const Console& console) {
  auto usage_error = [&](const std::string& message) {
    PrintError(console, std::string(command.name) + ": " + message + " (see 'tessera " +
                            std::string(command.name) + " --help')");
    return kExitUsage;
  };
  Result<ParsedArgs> parsed = ParseArgs(rest, command.positionals, command.flags);
  if (!parsed.ok()) return usage_error(parsed.status().message());
  if (parsed->help()) {
    console.Print(CommandHelp(command));
    return kExitOk;
  }
  Status status = command.run(*parsed, console);
  if (std::fflush(console.out) != 0 || std::ferror(console.out)) {
    int exit_code = 0;
    if (status.ok() || IsSilentExit(status, &exit_code)) {
      status = Status::IOError("error writing to standard output");
    }
  }
  if (std::string message; IsUsageError(status, &message)) return usage_error(message);
  if (int exit_code = 0; IsSilentExit(status, &exit_code)) return exit_code;
  if (!status.ok()) {
    PrintError(console, status.message());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

Status UsageError(std::string_view message) {
  return Status::InvalidArgument(kUsageErrorMarker, message);
}

bool IsUsageError(const Status& status, std::string* message) {
  if (!status.IsInvalidArgument() || !status.message().starts_with(kUsageErrorMarker)) {
    return false;
  }
  *message = status.message().substr(kUsageErrorMarker.size());
  return true;
}

Status SilentExit(int exit_code) { return Status::Internal(kSilentExitMarker, exit_code); }

bool IsSilentExit(const Status& status, int* exit_code) {
  if (status.code() != StatusCode::kInternal || !status.message().starts_with(kSilentExitMarker)) {
    return false;
  }
  const std::string code = status.message().substr(kSilentExitMarker.size());
  *exit_code = static_cast<int>(ParseNonNegativeInt(code).value_or(kExitFailed));
  return true;
}

Result<int32_t> GetInt32Flag(const ParsedArgs& args, std::string_view flag, int32_t fallback) {
  const int64_t value = args.GetInt(flag, fallback);
  if (value > std::numeric_limits<int32_t>::max()) {
    return UsageError("--" + std::string(flag) + " " + std::to_string(value) + " is too large");
  }
  return static_cast<int32_t>(value);
}

void Console::Print(std::string_view text) const {
  if (!text.empty()) std::fwrite(text.data(), 1, text.size(), out);
}

int Main(const std::vector<std::string>& args, const Console& console) {
  const std::vector<CommandSpec> commands = AllCommands();
  if (args.empty()) {
    PrintError(console, "no command given (see 'tessera --help')");
    return kExitUsage;
  }
  const std::string& first = args[0];
  if (first == "--version") {
    console.Print("tessera " TESSERA_VERSION_STRING "\n");
    return kExitOk;
  }
  if (first == "--help" || first == "-h" || first == "help") {
    if (first == "help" && args.size() > 1) {
      std::vector<std::string> rest(args.begin() + 1, args.end());
      rest.push_back("--help");
      return Main(rest, console);
    }
    console.Print(GlobalHelp(commands));
    return kExitOk;
  }
  if (first.starts_with("-")) {
    PrintError(console, "unknown flag " + first + " (see 'tessera --help')");
    return kExitUsage;
  }
  if (first == "demo") {
    // The demo parses its own arguments and prints its own errors.
    return RunDemo(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  const std::vector<std::string_view> members = GroupMembers(commands, first);
  if (!members.empty()) {
    if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
      if (args.size() >= 2) {
        console.Print(GroupHelp(commands, first));
        return kExitOk;
      }
      std::string names;
      for (std::string_view member : members)
        names += (names.empty() ? "" : ", ") + std::string(member);
      PrintError(console, first + ": missing subcommand (" + names + ")");
      return kExitUsage;
    }
    const CommandSpec* command = FindCommand(commands, first + " " + args[1]);
    if (command == nullptr) {
      PrintError(console, first + ": unknown subcommand '" + args[1] + "' (see 'tessera " + first +
                              " --help')");
      return kExitUsage;
    }
    return RunCommand(*command, std::span(args).subspan(2), console);
  }
  const CommandSpec* command = FindCommand(commands, first);
  if (command == nullptr) {
    PrintError(console, "unknown command '" + first + "' (see 'tessera --help')");
    return kExitUsage;
  }
  return RunCommand(*command, std::span(args).subspan(1), console);
}

}  // namespace tessera::cli
