// Table commands: create, add, count, scan, delete, schema.
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "cli/text_table.h"
#include "ingest/file_readers.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

Result<CreateMode> ParseCreateMode(std::string_view name) {
  if (name == "create") return CreateMode::kCreate;
  if (name == "overwrite") return CreateMode::kOverwrite;
  if (name == "exist_ok") return CreateMode::kExistOk;
  return Status::InvalidArgument("unknown mode '", name, "'");
}

std::vector<std::string> SplitColumns(std::string_view text) {
  std::vector<std::string> names;
  while (true) {
    const size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return names;
}

Status RunCreate(const ParsedArgs& args, const Console& console) {
  const std::string& path = args.positional(0);
  Result<Schema> schema = Schema::Parse(args.Get("schema"));
  if (!schema.ok()) return schema.status().WithContext("bad schema");
  TESSERA_ASSIGN_OR_RETURN(CreateMode mode, ParseCreateMode(args.Get("mode", "create")));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Create(path, *schema, mode));
  TESSERA_ASSIGN_OR_RETURN(uint64_t version, table->version());
  console.Print("created table " + path + " at version " + std::to_string(version) + "\n");
  return Status::OK();
}

Status RunCount(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, OpenTableForRead(args));
  TESSERA_ASSIGN_OR_RETURN(int64_t count, table->CountRows(args.Get("where")));
  console.Print(std::to_string(count) + "\n");
  return Status::OK();
}

Status RunScan(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, OpenTableForRead(args));
  ScanOptions options;
  options.where = args.Get("where");
  if (args.Has("select")) options.columns = SplitColumns(args.Get("select"));
  options.limit = args.GetInt("limit", -1);
  options.with_row_id = args.GetBool("with-row-id");
  const std::string format = args.Get("format", console.out_is_terminal ? "table" : "jsonl");
  if (format == "table") {
    TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, table->Scan(options));
    console.Print(RenderBatchAsTable(batch));
    return Status::OK();
  }
  return table->ScanBatches(options, [&console](const RecordBatch& batch) {
    std::string text;
    for (int64_t row = 0; row < batch.num_rows(); ++row) {
      text += ingest::RowToJson(batch, row);
      text += "\n";
    }
    console.Print(text);
    return Status::OK();
  });
}

Status RunDelete(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(DeleteResult result, table->DeleteRows(args.Get("where")));
  if (result.version == 0) {
    console.Print("no rows matched\n");
  } else {
    console.Print("deleted " + std::to_string(result.num_deleted_rows) + " rows as version " +
                  std::to_string(result.version) + "\n");
  }
  return Status::OK();
}

Status RunSchema(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  console.Print(table->schema().ToString() + "\n");
  return Status::OK();
}

FlagSpec WhereFlag(bool required) {
  return {.name = "where",
          .value_name = "EXPR",
          .help = required ? "filter selecting the rows, e.g. \"id < 10 AND text = 'a'\""
                           : "count/return only rows matching this filter",
          .required = required};
}

FlagSpec VersionFlag() {
  return {.name = "version",
          .kind = FlagKind::kInt,
          .value_name = "V",
          .help = "read version V instead of the latest (time travel)"};
}

}  // namespace

Result<std::unique_ptr<Table>> OpenTableForRead(const ParsedArgs& args) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  if (args.Has("version")) {
    TESSERA_RETURN_IF_ERROR(table->Checkout(static_cast<uint64_t>(args.GetInt("version", 0))));
  }
  return table;
}

std::vector<CommandSpec> TableCommands() {
  const PositionalSpec table{.name = "TABLE"};
  std::vector<CommandSpec> commands;
  commands.push_back(
      {.name = "create",
       .summary = "Create an empty table (version 1) with the given schema.",
       .positionals = {table},
       .flags = {{.name = "schema",
                  .value_name = "SCHEMA",
                  .help = "columns as \"name:type,...\"; types: int32 int64 float32 float64 bool "
                          "utf8 timestamp vector[DIM]; append \" not null\" to forbid nulls",
                  .required = true},
                 {.name = "mode",
                  .kind = FlagKind::kChoice,
                  .help = "create: fail if the table exists (default); overwrite: commit a new "
                          "empty version; exist_ok: open it if the schema matches",
                  .choices = {"create", "overwrite", "exist_ok"}}},
       .details = "Example: tessera create t --schema \"id:int64,vector:vector[768],text:utf8\"",
       .run = RunCreate});
  commands.push_back(AddCommand());
  commands.push_back({.name = "count",
                      .summary = "Print the number of live rows.",
                      .positionals = {table},
                      .flags = {WhereFlag(false), VersionFlag()},
                      .run = RunCount});
  commands.push_back(
      {.name = "scan",
       .summary = "Print rows in row-id order.",
       .positionals = {table},
       .flags = {WhereFlag(false),
                 {.name = "select", .value_name = "COLUMNS", .help = "comma-separated columns"},
                 {.name = "limit",
                  .kind = FlagKind::kInt,
                  .value_name = "N",
                  .help = "print at most N rows"},
                 VersionFlag(),
                 {.name = "with-row-id",
                  .kind = FlagKind::kBool,
                  .help = "add the stable row id as column _rowid"},
                 {.name = "format",
                  .kind = FlagKind::kChoice,
                  .help = "jsonl: one JSON object per row; table: aligned text (default: table "
                          "on a terminal, jsonl otherwise)",
                  .choices = {"jsonl", "table"}}},
       .run = RunScan});
  commands.push_back({.name = "delete",
                      .summary = "Delete the rows matching a filter and commit a new version.",
                      .positionals = {table},
                      .flags = {WhereFlag(true)},
                      .run = RunDelete});
  commands.push_back({.name = "schema",
                      .summary = "Print the table's schema.",
                      .positionals = {table},
                      .run = RunSchema});
  return commands;
}

}  // namespace tessera::cli
