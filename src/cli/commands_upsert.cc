// The `upsert` command: merge the rows of each file into the table on key columns, one commit
// per file.
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "ingest/auto_loader.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

Status RunUpsert(const ParsedArgs& args, const Console& console) {
  UpsertOptions options;
  std::stringstream keys(args.Get("on"));
  for (std::string key; std::getline(keys, key, ',');) {
    if (key.empty()) return UsageError("--on: empty column name in '" + args.Get("on") + "'");
    options.on.push_back(key);
  }
  options.when_matched_update_all = !args.GetBool("insert-only");
  options.when_not_matched_by_source_delete = args.GetBool("delete-not-matched");
  if (args.Has("delete-filter")) {
    if (!options.when_not_matched_by_source_delete) {
      return UsageError("--delete-filter needs --delete-not-matched");
    }
    options.when_not_matched_by_source_filter = args.Get("delete-filter");
  }
  std::optional<ingest::InputFormat> forced;
  if (args.Has("format")) {
    TESSERA_ASSIGN_OR_RETURN(forced, ingest::ParseInputFormat(args.Get("format")));
  }
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  for (size_t i = 1; i < args.positional().size(); ++i) {
    const std::string& path = args.positional()[i];
    ingest::InputFormat format = ingest::InputFormat::kJsonLines;
    if (forced) {
      format = *forced;
    } else {
      TESSERA_ASSIGN_OR_RETURN(format, ingest::FormatFromPath(path));
    }
    if (format == ingest::InputFormat::kFvecs) {
      return Status::InvalidArgument(path,
                                     ": an fvecs file has no key column: use jsonl, csv or arrow");
    }
    Result<RecordBatch> rows = ingest::ReadInputFile(path, format, table->schema(), 0);
    if (!rows.ok()) return rows.status().WithContext(path);
    Result<UpsertResult> result = table->Upsert(*rows, options);
    if (!result.ok()) return result.status().WithContext(path);
    if (result->version == 0) {
      console.Print("upserted " + path + ": nothing changed\n");
    } else {
      console.Print("upserted " + path + " as version " + std::to_string(result->version) + ": " +
                    std::to_string(result->rows_inserted) + " inserted, " +
                    std::to_string(result->rows_updated) + " updated, " +
                    std::to_string(result->rows_deleted) + " deleted (" +
                    (result->used_key_index ? "key index; " : "") +
                    std::to_string(result->rows_scanned) + " table rows scanned)\n");
    }
    std::fflush(console.out);
  }
  return Status::OK();
}

// Split "a = 1; b = 'x;y'" into {a: "1", b: "'x;y'"}, ignoring ';' inside quotes.
Result<std::map<std::string, std::string>> ParseAssignments(const std::string& text) {
  std::vector<std::string> parts(1);
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ';') {
      parts.emplace_back();
      continue;
    }
    parts.back() += c;
  }
  std::map<std::string, std::string> set;
  for (const std::string& part : parts) {
    if (part.find_first_not_of(" \t") == std::string::npos) continue;
    const size_t eq = part.find('=');
    auto trim = [](std::string v) {
      v.erase(0, v.find_first_not_of(" \t"));
      v.erase(v.find_last_not_of(" \t") + 1);
      return v;
    };
    std::string column = eq == std::string::npos ? "" : trim(part.substr(0, eq));
    if (column.size() >= 2 && column.front() == '"' && column.back() == '"') {
      column = column.substr(1, column.size() - 2);
    }
    if (column.empty()) {
      return UsageError("--set: expected COLUMN = EXPRESSION, got '" + trim(part) + "'");
    }
    if (!set.emplace(column, trim(part.substr(eq + 1))).second) {
      return UsageError("--set: column '" + column + "' is set twice");
    }
  }
  if (set.empty()) return UsageError("--set: no assignment");
  return set;
}

Status RunUpdate(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(auto set, ParseAssignments(args.Get("set")));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(UpdateResult result, table->Update(args.Get("where"), set));
  if (result.version == 0) {
    console.Print("updated 0 rows\n");
  } else {
    console.Print("updated " + std::to_string(result.rows_updated) + " rows as version " +
                  std::to_string(result.version) + "\n");
  }
  return Status::OK();
}

}  // namespace

CommandSpec UpdateCommand() {
  return {.name = "update",
          .summary = "Set columns of the rows matching a filter, in one commit.",
          .positionals = {{.name = "TABLE"}},
          .flags = {{.name = "set",
                     .value_name = "ASSIGNMENTS",
                     .help = "\"col = expr; col2 = expr\": literals, columns, + - * /",
                     .required = true},
                    {.name = "where",
                     .value_name = "EXPR",
                     .help = "rows to update (default: every row)"}},
          .details =
              "Prints \"updated N rows as version V\" (or \"updated 0 rows\": nothing "
              "committed).",
          .run = RunUpdate};
}

CommandSpec UpsertCommand() {
  return {
      .name = "upsert",
      .summary = "Merge the rows of each file into the table on key columns (one commit each).",
      .positionals = {{.name = "TABLE"}, {.name = "FILE", .repeated = true}},
      .flags = {{.name = "on",
                 .value_name = "COLUMNS",
                 .help = "key column(s), comma-separated",
                 .required = true},
                {.name = "format",
                 .kind = FlagKind::kChoice,
                 .help = "input format (default: from each file's extension)",
                 .choices = {"jsonl", "csv", "arrow"}},
                {.name = "insert-only",
                 .kind = FlagKind::kBool,
                 .help = "keep rows whose key exists; insert only new keys"},
                {.name = "delete-not-matched",
                 .kind = FlagKind::kBool,
                 .help = "delete the table's rows whose key is not in the file"},
                {.name = "delete-filter",
                 .value_name = "EXPR",
                 .help = "with --delete-not-matched: only rows matching EXPR"}},
      .details =
          "Rows whose key matches a live row replace it, others are inserted; a reader sees\n"
          "each record before or after, never missing or twice. Duplicate keys in a file are\n"
          "an error naming them. With a BTREE index on the key column (tessera index create\n"
          "TABLE --column KEY --type BTREE) matching reads only the rows it does not cover yet.\n"
          "Prints per file:\n"
          "  upserted FILE as version V: I inserted, U updated, D deleted (N table rows scanned)",
      .run = RunUpsert};
}

}  // namespace tessera::cli
