// Version commands: versions, restore, tag create|delete|list.
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "cli/text_table.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

std::string VersionToJsonLine(const VersionInfo& info) {
  nlohmann::ordered_json json;
  json["version"] = info.version;
  json["timestamp"] = FormatTimestampUtc(info.timestamp_us, /*with_micros=*/true);
  json["operation"] = info.operation;
  json["rows"] = info.num_rows;
  json["fragments"] = info.num_fragments;
  json["base_version"] = info.base_version;
  // Milliseconds with microsecond resolution, e.g. 12.345.
  json["duration_ms"] = std::round(static_cast<double>(info.duration_us)) / 1000.0;
  json["rows_added"] = info.rows_added;
  json["rows_deleted"] = info.rows_deleted;
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Status RunVersions(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(std::vector<VersionInfo> versions, table->ListVersions());
  if (args.Get("format", "table") == "jsonl") {
    std::string out;
    for (const VersionInfo& info : versions) out += VersionToJsonLine(info);
    console.Print(out);
    return Status::OK();
  }
  TextTable text({"version", "timestamp", "operation", "rows", "fragments"},
                 {true, false, false, true, true});
  for (const VersionInfo& info : versions) {
    text.AddRow({std::to_string(info.version),
                 FormatTimestampUtc(info.timestamp_us, /*with_micros=*/false), info.operation,
                 std::to_string(info.num_rows), std::to_string(info.num_fragments)});
  }
  console.Print(text.Render());
  return Status::OK();
}

Status RunRestore(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  const auto version = static_cast<uint64_t>(args.PositionalInt(1));
  TESSERA_ASSIGN_OR_RETURN(uint64_t new_version, table->Restore(version));
  console.Print("restored version " + std::to_string(version) + " as version " +
                std::to_string(new_version) + "\n");
  return Status::OK();
}

Status RunTagCreate(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  const std::string& name = args.positional(1);
  const auto version = static_cast<uint64_t>(args.PositionalInt(2));
  TESSERA_RETURN_IF_ERROR(table->CreateTag(name, version));
  console.Print("tagged version " + std::to_string(version) + " as " + name + "\n");
  return Status::OK();
}

Status RunTagDelete(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_RETURN_IF_ERROR(table->DeleteTag(args.positional(1)));
  console.Print("deleted tag " + args.positional(1) + "\n");
  return Status::OK();
}

Status RunTagList(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(auto tags, table->ListTags());
  std::string out;
  for (const auto& [name, version] : tags) out += name + " " + std::to_string(version) + "\n";
  console.Print(out);
  return Status::OK();
}

}  // namespace

std::vector<CommandSpec> VersionCommands() {
  const PositionalSpec table{.name = "TABLE"};
  const PositionalSpec version{.name = "VERSION", .kind = PositionalKind::kInt};
  const PositionalSpec name{.name = "NAME"};
  std::vector<CommandSpec> commands;
  commands.push_back(
      {.name = "versions",
       .summary = "List the versions still on disk, oldest first.",
       .positionals = {table},
       .flags = {{.name = "format",
                  .kind = FlagKind::kChoice,
                  .help = "table: aligned text (default); jsonl: one JSON object per version",
                  .choices = {"table", "jsonl"}}},
       .details = "table columns: version, timestamp (ISO-8601 UTC), operation, rows, fragments.\n"
                  "jsonl keys: version, timestamp, operation, rows, fragments, base_version,\n"
                  "duration_ms, rows_added, rows_deleted.",
       .run = RunVersions});
  commands.push_back({.name = "restore",
                      .summary = "Commit the state of VERSION as the new latest version.",
                      .positionals = {table, version},
                      .run = RunRestore});
  commands.push_back({.name = "tag create",
                      .summary = "Tag VERSION as NAME; a tagged version is never cleaned up.",
                      .positionals = {table, name, version},
                      .run = RunTagCreate});
  commands.push_back({.name = "tag delete",
                      .summary = "Delete the tag NAME.",
                      .positionals = {table, name},
                      .run = RunTagDelete});
  commands.push_back({.name = "tag list",
                      .summary = "Print \"NAME VERSION\" for every tag.",
                      .positionals = {table},
                      .run = RunTagList});
  return commands;
}

}  // namespace tessera::cli
