// Vector-index commands: index create|list|stats|drop and optimize-indices.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "cli/text_table.h"
#include "tessera/query.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& json, int indent = -1) {
  return json.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// Reports an index build's progress on stderr: on a terminal one line rewritten in place,
// otherwise a new line each time another 10% is done. Report() may be called from the
// building thread; everything else from the calling thread.
class BuildProgress {
 public:
  BuildProgress(const Console& console, std::string label)
      : console_(console), label_(std::move(label)) {}

  void Report(double fraction) {
    const int percent = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100.0);
    std::lock_guard<std::mutex> lock(mu_);
    if (console_.err_is_terminal) {
      if (percent == last_percent_) return;
      std::fprintf(console_.err, "\r\033[K%s: %d%%", label_.c_str(), percent);
      line_open_ = true;
    } else {
      if (percent / 10 <= last_percent_ / 10) return;
      std::fprintf(console_.err, "%s: %d%%\n", label_.c_str(), percent / 10 * 10);
    }
    std::fflush(console_.err);
    last_percent_ = percent;
  }

  // Clear the terminal line, if one was written.
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!line_open_) return;
    std::fputs("\r\033[K", console_.err);
    std::fflush(console_.err);
    line_open_ = false;
  }

 private:
  const Console& console_;
  const std::string label_;
  std::mutex mu_;
  int last_percent_ = -1;   // GUARDED_BY(mu_)
  bool line_open_ = false;  // GUARDED_BY(mu_)
};

// Return --column, else the table's only vector column. Errors: kInvalidArgument.
Result<std::string> IndexColumn(const ParsedArgs& args, const Schema& schema) {
  if (args.Has("column")) return args.Get("column");
  const int index = schema.VectorFieldIndex();
  if (index == -1) return Status::InvalidArgument("the table has no vector column");
  if (index == -2) {
    return Status::InvalidArgument("the table has several vector columns; name one with --column");
  }
  return schema.field(index).name;
}

Status RunIndexCreate(const ParsedArgs& args, const Console& console) {
  IndexConfig config;
  config.type = args.Get("type", config.type);
  if (args.Has("metric")) {
    TESSERA_ASSIGN_OR_RETURN(config.metric, ParseDistanceType(args.Get("metric")));
  }
  TESSERA_ASSIGN_OR_RETURN(config.num_partitions,
                           GetInt32Flag(args, "num-partitions", config.num_partitions));
  TESSERA_ASSIGN_OR_RETURN(config.m, GetInt32Flag(args, "m", config.m));
  TESSERA_ASSIGN_OR_RETURN(config.ef_construction,
                           GetInt32Flag(args, "ef-construction", config.ef_construction));
  TESSERA_ASSIGN_OR_RETURN(config.sample_rate,
                           GetInt32Flag(args, "sample-rate", config.sample_rate));
  TESSERA_ASSIGN_OR_RETURN(config.num_sub_vectors,
                           GetInt32Flag(args, "num-sub-vectors", config.num_sub_vectors));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(std::string column, IndexColumn(args, table->schema()));
  // The library's default name (query.h: "<column>_idx"), spelled out to report on it.
  config.name = args.Get("name", column + "_idx");
  BuildProgress progress(console, "building index " + config.name);
  config.progress = [&progress](double fraction) { progress.Report(fraction); };
  const Status created = table->CreateIndex(column, config);
  progress.Finish();
  TESSERA_RETURN_IF_ERROR(created);
  TESSERA_ASSIGN_OR_RETURN(IndexInfo info, table->IndexStats(config.name));
  TESSERA_ASSIGN_OR_RETURN(uint64_t version, table->version());
  const std::string kind = info.metric.empty() ? info.type : info.type + ", " + info.metric;
  console.Print("created index " + info.name + " (" + kind + ") on " + info.column + " (" +
                std::to_string(info.num_indexed_rows) + " rows) as version " +
                std::to_string(version) + "\n");
  return Status::OK();
}

Json IndexToJson(const IndexInfo& info, bool with_params) {
  Json json;
  json["name"] = info.name;
  json["column"] = info.column;
  json["type"] = info.type;
  json["metric"] = info.metric;
  if (with_params) {
    Json params = Json::parse(info.params_json, nullptr, /*allow_exceptions=*/false);
    json["params"] = params.is_discarded() ? Json(info.params_json) : std::move(params);
  }
  json["num_indexed_rows"] = info.num_indexed_rows;
  json["num_unindexed_rows"] = info.num_unindexed_rows;
  json["segments"] = info.num_segments;
  json["bytes"] = info.size_bytes;
  return json;
}

Status RunIndexList(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(std::vector<IndexInfo> indices, table->ListIndices());
  if (args.Get("format", console.out_is_terminal ? "table" : "jsonl") == "jsonl") {
    std::string out;
    for (const IndexInfo& info : indices) out += Dump(IndexToJson(info, false)) + "\n";
    console.Print(out);
    return Status::OK();
  }
  if (indices.empty()) {
    console.Print("no indices\n");
    return Status::OK();
  }
  TextTable text({"name", "column", "type", "metric", "indexed", "unindexed", "segments", "bytes"},
                 {false, false, false, false, true, true, true, true});
  for (const IndexInfo& info : indices) {
    text.AddRow({info.name, info.column, info.type, info.metric,
                 std::to_string(info.num_indexed_rows), std::to_string(info.num_unindexed_rows),
                 std::to_string(info.num_segments), std::to_string(info.size_bytes)});
  }
  console.Print(text.Render());
  return Status::OK();
}

Status RunIndexStats(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(IndexInfo info, table->IndexStats(args.positional(1)));
  console.Print(Dump(IndexToJson(info, true), console.out_is_terminal ? 2 : -1) + "\n");
  return Status::OK();
}

Status RunIndexDrop(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_RETURN_IF_ERROR(table->DropIndex(args.positional(1)));
  TESSERA_ASSIGN_OR_RETURN(uint64_t version, table->version());
  console.Print("dropped index " + args.positional(1) + " as version " + std::to_string(version) +
                "\n");
  return Status::OK();
}

Status RunOptimizeIndices(const ParsedArgs& args, const Console& console) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  TESSERA_ASSIGN_OR_RETURN(OptimizeIndicesResult result, table->OptimizeIndices());
  if (result.version == 0) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<IndexInfo> indices, table->ListIndices());
    console.Print(indices.empty() ? "no indices to optimize\n"
                                  : "nothing to do: every index covers every row\n");
    return Status::OK();
  }
  console.Print("indexed " + std::to_string(result.rows_indexed) + " rows as " +
                std::to_string(result.segments_added) + " new segment" +
                (result.segments_added == 1 ? "" : "s") + " as version " +
                std::to_string(result.version) + "\n");
  return Status::OK();
}

FlagSpec Int32Flag(std::string_view name, std::string_view help) {
  return {.name = name, .kind = FlagKind::kInt, .value_name = "N", .help = help};
}

}  // namespace

std::vector<CommandSpec> IndexCommands() {
  const PositionalSpec table{.name = "TABLE"};
  const PositionalSpec name{.name = "NAME"};
  std::vector<CommandSpec> commands;
  commands.push_back(
      {.name = "index create",
       .summary = "Build a vector index over every live row and commit it as one segment.",
       .positionals = {table},
       .flags = {{.name = "column",
                  .value_name = "NAME",
                  .help = "the vector column (default: the table's only one)"},
                 {.name = "type",
                  .value_name = "TYPE",
                  .help = "IVF_HNSW_SQ (default), IVF_FLAT, IVF_SQ, IVF_PQ, HNSW; BTREE: scalar "
                          "key index for upsert"},
                 {.name = "metric",
                  .kind = FlagKind::kChoice,
                  .help = "distance the index serves (default l2)",
                  .choices = {"l2", "cosine", "dot"}},
                 Int32Flag("num-partitions", "IVF partitions (default: from rows and dimension)"),
                 Int32Flag("m", "HNSW links per node (default 16)"),
                 Int32Flag("ef-construction", "HNSW build breadth (default 150)"),
                 Int32Flag("sample-rate", "k-means training rows per partition (default 256)"),
                 Int32Flag("num-sub-vectors",
                           "IVF_PQ: bytes per row; divides the dimension (default dim/16)"),
                 {.name = "name",
                  .value_name = "NAME",
                  .help = "index name (default COLUMN_idx); an index of that name is replaced"}},
       .details = "Progress goes to stderr while the index builds (a line every 10% when stderr\n"
                  "is not a terminal). Then prints:\n"
                  "  created index NAME (TYPE, METRIC) on COLUMN (N rows) as version V\n"
                  "Rows added later form the unindexed tail: searches scan it exactly, and\n"
                  "'tessera optimize-indices' indexes it as a new segment.",
       .run = RunIndexCreate});
  commands.push_back(
      {.name = "index list",
       .summary = "List the table's vector indices.",
       .positionals = {table},
       .flags = {{.name = "format",
                  .kind = FlagKind::kChoice,
                  .help = "jsonl: one JSON object per index; table: aligned text (default: table "
                          "on a terminal, jsonl otherwise)",
                  .choices = {"jsonl", "table"}}},
       .details = "Per index: name, column, type, metric, indexed and unindexed (tail) live rows,\n"
                  "segments and bytes on disk.",
       .run = RunIndexList});
  commands.push_back(
      {.name = "index stats",
       .summary = "Print one index's type, parameters, row counts, segments and size as JSON.",
       .positionals = {table, name},
       .run = RunIndexStats});
  commands.push_back({.name = "index drop",
                      .summary = "Drop a vector index and commit a new version.",
                      .positionals = {table, name},
                      .run = RunIndexDrop});
  commands.push_back(
      {.name = "optimize-indices",
       .summary = "Index the unindexed tail of every index as a new segment (no retraining).",
       .positionals = {table},
       .details = "Prints: indexed N rows as S new segments as version V",
       .run = RunOptimizeIndices});
  return commands;
}

}  // namespace tessera::cli
