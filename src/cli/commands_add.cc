// The `add` command: import files (JSON Lines, CSV, Arrow IPC, fvecs), one commit each.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "format/arrow_ipc_reader.h"
#include "ingest/file_readers.h"
#include "io/file_system.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

// Return the index of an int64 column named "id", or -1.
int IdColumnIndex(const Schema& schema) {
  const int index = schema.FieldIndex("id");
  if (index < 0 || schema.field(index).type.id != TypeId::kInt64) return -1;
  return index;
}

// Return the largest non-null value of `column` (int64), or nullopt if there is none.
std::optional<int64_t> MaxValue(const Array& column) {
  std::optional<int64_t> max;
  for (int64_t row = 0; row < column.length(); ++row) {
    if (column.IsNull(row)) continue;
    const int64_t value = column.Int64(row);
    if (!max.has_value() || value > *max) max = value;
  }
  return max;
}

// Return the first id for new rows: the largest `id` in the table plus one, 0 if none.
Result<int64_t> NextIdFromTable(Table& table) {
  std::optional<int64_t> max;
  ScanOptions options;
  options.columns = {"id"};
  TESSERA_RETURN_IF_ERROR(table.ScanBatches(options, [&max](const RecordBatch& batch) {
    std::optional<int64_t> batch_max = MaxValue(batch.column(0));
    if (batch_max.has_value() && (!max.has_value() || *batch_max > *max)) max = batch_max;
    return Status::OK();
  }));
  return max.has_value() ? *max + 1 : 0;
}

// Imports files into one table; remembers the next fvecs id across files.
class Importer {
 public:
  Importer(Table* table, const Console& console) : table_(table), console_(console) {}

  // Read `path` in `format`, add it as one commit and print the outcome.
  Status AddFile(const std::string& path, ingest::InputFormat format) {
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const io::MappedFile> file,
                             io::LocalFileSystem()->MapFile(path));
    const std::string_view bytes(reinterpret_cast<const char*>(file->data()),
                                 static_cast<size_t>(file->size()));
    const Schema schema = table_->schema();
    const int id_index = IdColumnIndex(schema);
    Result<RecordBatch> batch = Status::Internal("unreachable");
    switch (format) {
      case ingest::InputFormat::kJsonLines:
        batch = ingest::ReadJsonLines(bytes, schema);
        break;
      case ingest::InputFormat::kCsv:
        batch = ingest::ReadCsv(bytes, schema);
        break;
      case ingest::InputFormat::kFvecs: {
        if (id_index >= 0 && !next_id_.has_value()) {
          TESSERA_ASSIGN_OR_RETURN(next_id_, NextIdFromTable(*table_));
        }
        batch = ingest::ReadFvecs(bytes, schema, next_id_.value_or(0));
        break;
      }
      case ingest::InputFormat::kArrow: {
        Result<std::unique_ptr<format::ArrowIpcFileReader>> reader =
            format::ArrowIpcFileReader::Open(file);
        batch = reader.ok() ? (*reader)->ReadAll() : Result<RecordBatch>(reader.status());
        break;
      }
    }
    if (!batch.ok()) return batch.status().WithContext(path);
    Result<AddResult> added = table_->Add(*batch);
    if (!added.ok()) return added.status().WithContext(path);
    // Ids written by any format move the next fvecs id on, once it is being tracked.
    if (next_id_.has_value()) {
      Result<Array> ids = batch->ColumnByName("id");
      if (ids.ok() && ids->type().id == TypeId::kInt64) {
        std::optional<int64_t> max = MaxValue(*ids);
        if (max.has_value()) next_id_ = std::max(*next_id_, *max + 1);
      }
    }
    ClearProgress();
    console_.Print("added " + std::to_string(added->num_rows) + " rows from " + path +
                   " as version " + std::to_string(added->version) + "\n");
    for (const std::string& warning : added->warnings) {
      std::fprintf(console_.err, "warning: %s\n", warning.c_str());
    }
    std::fflush(console_.out);
    return Status::OK();
  }

  void set_show_progress(bool show) { show_progress_ = show; }

  void ShowProgress(size_t file_idx, size_t num_files, const std::string& path) {
    if (!show_progress_) return;
    std::fprintf(console_.err, "\r\033[K[%zu/%zu] adding %s", file_idx + 1, num_files,
                 path.c_str());
    std::fflush(console_.err);
    progress_shown_ = true;
  }

  void ClearProgress() {
    if (!progress_shown_) return;
    std::fputs("\r\033[K", console_.err);
    std::fflush(console_.err);
    progress_shown_ = false;
  }

 private:
  Table* table_;
  const Console& console_;
  std::optional<int64_t> next_id_;
  bool show_progress_ = false;
  bool progress_shown_ = false;
};

Status RunAdd(const ParsedArgs& args, const Console& console) {
  std::optional<ingest::InputFormat> forced_format;
  if (args.Has("format")) {
    TESSERA_ASSIGN_OR_RETURN(forced_format, ingest::ParseInputFormat(args.Get("format")));
  }
  TableOptions table_options;
  if (args.Has("backpressure")) {
    const std::string mode = args.Get("backpressure");
    table_options.backpressure.mode = mode == "wait"   ? BackpressureMode::kWait
                                      : mode == "warn" ? BackpressureMode::kWarn
                                                       : BackpressureMode::kNone;
  }
  if (args.Has("max-wait")) {
    TESSERA_ASSIGN_OR_RETURN(double seconds, ParseDuration("max-wait", args.Get("max-wait")));
    table_options.backpressure.max_wait_ms = static_cast<int64_t>(seconds * 1000);
  }
  HealthLimits& limits = table_options.backpressure.limits;
  limits.max_fragments = args.GetInt("max-fragments", limits.max_fragments);
  limits.max_unindexed_rows = args.GetInt("max-unindexed-rows", limits.max_unindexed_rows);
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table,
                           Table::Open(args.positional(0), table_options));
  const std::vector<std::string> files(args.positional().begin() + 1, args.positional().end());
  Importer importer(table.get(), console);
  importer.set_show_progress(console.err_is_terminal && files.size() > 1);
  for (size_t file_idx = 0; file_idx < files.size(); ++file_idx) {
    const std::string& path = files[file_idx];
    importer.ShowProgress(file_idx, files.size(), path);
    Status status;
    if (forced_format.has_value()) {
      status = importer.AddFile(path, *forced_format);
    } else {
      Result<ingest::InputFormat> format = ingest::FormatFromPath(path);
      status = format.ok() ? importer.AddFile(path, *format) : format.status();
    }
    importer.ClearProgress();
    TESSERA_RETURN_IF_ERROR(status);
  }
  return Status::OK();
}

}  // namespace

CommandSpec AddCommand() {
  return {.name = "add",
          .summary = "Add the rows of each file to the table, one commit (version) per file.",
          .positionals = {{.name = "TABLE"}, {.name = "FILE", .repeated = true}},
          .flags = {{.name = "format",
                     .kind = FlagKind::kChoice,
                     .help = "input format of every FILE (default: from each file's extension: "
                             ".jsonl/.ndjson/.json, .csv, .arrow/.feather/.ipc, .fvecs)",
                     .choices = {"jsonl", "csv", "arrow", "fvecs"}},
                    {.name = "backpressure",
                     .kind = FlagKind::kChoice,
                     .help = "when maintenance is behind (see --max-*): none (default), warn on "
                             "stderr, or wait up to --max-wait for it, then add and warn",
                     .choices = {"none", "warn", "wait"}},
                    {.name = "max-wait", .help = "longest backpressure wait (default 30s)"},
                    {.name = "max-fragments",
                     .kind = FlagKind::kInt,
                     .help = "backpressure limit on fragments (default 1000)"},
                    {.name = "max-unindexed-rows",
                     .kind = FlagKind::kInt,
                     .help = "backpressure limit on unindexed rows (default 100000)"}},
          .details =
              "Columns are matched by name. An fvecs file fills the table's only vector column;\n"
              "if the table has an int64 column 'id', the new rows get ids continuing after the\n"
              "largest id present (0 for an empty table). Prints per file:\n"
              "  added N rows from FILE as version V\n"
              "A file that fails stops the command; files before it stay committed.",
          .run = RunAdd};
}

}  // namespace tessera::cli
