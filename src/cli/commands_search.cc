// The `search` command: nearest-neighbour queries over a table's vector column.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli.h"
#include "cli/commands_internal.h"
#include "cli/text_table.h"
#include "ingest/file_readers.h"
#include "io/file_system.h"
#include "tessera/query.h"
#include "tessera/table.h"

namespace tessera::cli {
namespace {

constexpr int64_t kDefaultK = 10;
constexpr size_t kMaxCellWidth = 48;

// The query vectors of one invocation, row-major: num_queries * dim floats.
struct QueryVectors {
  std::vector<float> values;
  int64_t num_queries = 0;
  bool from_file = false;  // whether each result row carries its query number
};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Parse one element of a JSON array of numbers. Errors: kInvalidArgument naming the 1-based
// element `position` and what is wrong with it (not a number, NaN, infinite, out of range).
Result<float> ParseElement(std::string_view token, size_t position) {
  if (token.empty()) {
    return Status::InvalidArgument("element ", position, " is missing (stray comma?)");
  }
  const std::string lower = Lower(token);
  const std::string_view unsigned_part =
      lower.starts_with('-') || lower.starts_with('+') ? std::string_view(lower).substr(1) : lower;
  if (unsigned_part == "nan") {
    return Status::InvalidArgument("element ", position, " is NaN; vectors must be finite");
  }
  if (unsigned_part == "inf" || unsigned_part == "infinity") {
    return Status::InvalidArgument("element ", position, " is infinite; vectors must be finite");
  }
  double value = 0;
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc() && ptr == end && std::abs(value) > std::numeric_limits<float>::max())) {
    return Status::InvalidArgument("element ", position, " (", token, ") is out of float32 range");
  }
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return Status::InvalidArgument("element ", position, " ('", OneLine(token),
                                   "') is not a number");
  }
  return static_cast<float>(value);
}

// Parse a JSON array of numbers such as "[0.1, -2, 3e-4]". Errors: kInvalidArgument saying
// what is malformed: no brackets, an empty array, an element that is not a finite number.
Result<std::vector<float>> ParseVectorJson(std::string_view text) {
  const std::string_view trimmed = Trim(text);
  if (!trimmed.starts_with('[')) {
    return Status::InvalidArgument("expected a JSON array of numbers such as [0.5, 1, -2], got '",
                                   OneLine(trimmed.substr(0, 40)), "'");
  }
  if (!trimmed.ends_with(']') || trimmed.size() < 2) {
    return Status::InvalidArgument("malformed JSON array: missing the closing ']'");
  }
  std::string_view body = Trim(trimmed.substr(1, trimmed.size() - 2));
  if (body.empty()) return Status::InvalidArgument("the vector is empty");
  if (body.find_first_of("[]{}") != std::string_view::npos) {
    return Status::InvalidArgument("expected one flat JSON array of numbers, got a nested value");
  }
  std::vector<float> values;
  while (true) {
    const size_t comma = body.find(',');
    TESSERA_ASSIGN_OR_RETURN(float value,
                             ParseElement(Trim(body.substr(0, comma)), values.size() + 1));
    values.push_back(value);
    if (comma == std::string_view::npos) break;
    body.remove_prefix(comma + 1);
  }
  return values;
}

// Return the vector column a query searches: --column, else the table's only vector column.
// Errors: kInvalidArgument (unknown column, not a vector, no or several vector columns).
Result<Field> ResolveVectorColumn(const Schema& schema, const ParsedArgs& args) {
  if (args.Has("column")) {
    const std::string name = args.Get("column");
    const int index = schema.FieldIndex(name);
    if (index < 0) return Status::InvalidArgument("unknown column '", name, "'");
    if (schema.field(index).type.id != TypeId::kVector) {
      return Status::InvalidArgument("column '", name, "' is ", schema.field(index).type.ToString(),
                                     ", not a vector column");
    }
    return schema.field(index);
  }
  const int index = schema.VectorFieldIndex();
  if (index == -1) return Status::InvalidArgument("the table has no vector column");
  if (index == -2) {
    return Status::InvalidArgument("the table has several vector columns; name one with --column");
  }
  return schema.field(index);
}

Status CheckDimension(size_t dim, const Field& column) {
  if (static_cast<int64_t>(dim) == column.type.dim) return Status::OK();
  return Status::InvalidArgument("query vector has dimension ", dim, ", column '", column.name,
                                 "' has dimension ", column.type.dim);
}

// Read a query file: one JSON array per line (blank lines skipped) or, for *.fvecs, fvecs
// records. Errors: kInvalidArgument naming the file and the line or record.
Result<QueryVectors> ReadQueryFile(const std::string& path, const Field& column) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const io::MappedFile> file,
                           io::LocalFileSystem()->MapFile(path));
  const std::string_view bytes(reinterpret_cast<const char*>(file->data()),
                               static_cast<size_t>(file->size()));
  QueryVectors queries;
  queries.from_file = true;
  if (Lower(path).ends_with(".fvecs")) {
    TESSERA_ASSIGN_OR_RETURN(Schema schema, Schema::Make({{column.name, column.type, false}}));
    Result<RecordBatch> batch = ingest::ReadFvecs(bytes, schema, /*first_id=*/0);
    if (!batch.ok()) return batch.status().WithContext(path);
    const std::span<const float> values = batch->column(0).VectorData();
    queries.values.assign(values.begin(), values.end());
    queries.num_queries = batch->num_rows();
  } else {
    std::string_view rest = bytes;
    for (int64_t line_number = 1; !rest.empty(); ++line_number) {
      const size_t newline = rest.find('\n');
      const std::string_view line = Trim(rest.substr(0, newline));
      rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
      if (line.empty()) continue;
      Result<std::vector<float>> vector = ParseVectorJson(line);
      Status status = vector.ok() ? CheckDimension(vector->size(), column) : vector.status();
      if (!status.ok()) return status.WithContext(path, " line ", line_number);
      queries.values.insert(queries.values.end(), vector->begin(), vector->end());
      ++queries.num_queries;
    }
  }
  if (queries.num_queries == 0) {
    return Status::InvalidArgument(path, ": the query file holds no vectors");
  }
  return queries;
}

std::vector<std::string> SplitColumnList(std::string_view text) {
  std::vector<std::string> names;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view name = Trim(text.substr(0, comma));
    if (!name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return names;
}

// Apply every query option of the command line to `query` and set `output` to the columns to
// print, in order. Errors: usage errors.
Status Configure(const ParsedArgs& args, const Schema& schema, const Field& column,
                 VectorQuery* query, std::vector<std::string>* output) {
  const int64_t k = args.GetInt("k", kDefaultK);
  if (k < 1) return UsageError("--k must be at least 1");
  query->Limit(k).Column(column.name);
  if (args.Has("where")) query->Where(args.Get("where"));
  if (args.Has("prefilter")) query->Prefilter(args.Get("prefilter") == "true");
  if (args.Has("metric")) {
    TESSERA_ASSIGN_OR_RETURN(DistanceType metric, ParseDistanceType(args.Get("metric")));
    query->Distance(metric);
  }
  if (args.Has("nprobes")) {
    TESSERA_ASSIGN_OR_RETURN(int32_t nprobes, GetInt32Flag(args, "nprobes", 0));
    if (nprobes < 1) return UsageError("--nprobes must be at least 1");
    query->Nprobes(nprobes);
  }
  if (args.Has("ef")) {
    TESSERA_ASSIGN_OR_RETURN(int32_t ef, GetInt32Flag(args, "ef", 0));
    query->Ef(ef);
  }
  if (args.Has("refine-factor")) {
    TESSERA_ASSIGN_OR_RETURN(int32_t factor, GetInt32Flag(args, "refine-factor", 0));
    query->RefineFactor(factor);
  }
  query->FastSearch(args.GetBool("fast-search")).BypassVectorIndex(args.GetBool("bypass-index"));

  // Table columns to fetch; _distance and _rowid are result columns the query adds itself.
  std::vector<std::string> fetched;
  if (args.Has("select")) {
    *output = SplitColumnList(args.Get("select"));
    if (output->empty()) return UsageError("--select names no column");
    for (const std::string& name : *output) {
      if (name != "_distance" && name != "_rowid") fetched.push_back(name);
    }
  } else {
    // Vectors are long and rarely wanted in results: default to every other column.
    output->clear();
    for (const Field& field : schema.fields()) {
      if (field.type.id != TypeId::kVector) output->push_back(field.name);
    }
    fetched = *output;
  }
  const bool with_row_id = args.GetBool("with-row-id") ||
                           std::find(output->begin(), output->end(), "_rowid") != output->end();
  if (std::find(output->begin(), output->end(), "_distance") == output->end()) {
    output->push_back("_distance");
  }
  if (with_row_id && std::find(output->begin(), output->end(), "_rowid") == output->end()) {
    output->push_back("_rowid");
  }
  // An empty selection would fetch every column: fetch one, not a vector if there is another.
  if (fetched.empty()) {
    const auto it =
        std::find_if(schema.fields().begin(), schema.fields().end(),
                     [](const Field& field) { return field.type.id != TypeId::kVector; });
    fetched.push_back(it != schema.fields().end() ? it->name : schema.field(0).name);
  }
  query->Select(std::move(fetched)).WithRowId(with_row_id);
  return Status::OK();
}

// Return the columns `names` of `batch`, in that order. Errors: kInvalidArgument naming an
// unknown column. (RecordBatch::SelectColumns rejects the result columns _distance and _rowid.)
Result<RecordBatch> KeepColumns(const RecordBatch& batch, const std::vector<std::string>& names) {
  RecordBatch out;
  for (const std::string& name : names) {
    const int index = batch.schema().FieldIndex(name);
    if (index < 0) return Status::InvalidArgument("unknown column '", name, "'");
    TESSERA_ASSIGN_OR_RETURN(out, out.AddColumn(batch.schema().field(index), batch.column(index)));
  }
  return out;
}

// Writes result rows as JSON lines or as one aligned text table. JSON lines are printed as
// each query's results arrive; the text table is printed by Finish().
class ResultPrinter {
 public:
  ResultPrinter(const Console& console, bool as_table, bool with_query)
      : console_(console), as_table_(as_table), with_query_(with_query) {}

  void Add(const RecordBatch& batch, int64_t query_idx) {
    if (as_table_) {
      AddToTable(batch, query_idx);
      return;
    }
    std::string text;
    const std::string prefix = with_query_ ? "{\"query\":" + std::to_string(query_idx) : "";
    for (int64_t row = 0; row < batch.num_rows(); ++row) {
      const std::string json = ingest::RowToJson(batch, row);
      if (prefix.empty()) {
        text += json;
      } else {
        // RowToJson returns "{...}": put the query number first.
        text += prefix;
        text += json == "{}" ? "}" : "," + json.substr(1);
      }
      text += "\n";
    }
    console_.Print(text);
  }

  void Finish() {
    if (table_.has_value()) console_.Print(table_->Render());
  }

 private:
  void AddToTable(const RecordBatch& batch, int64_t query_idx) {
    if (!table_.has_value()) {
      std::vector<std::string> header;
      std::vector<bool> right_align;
      if (with_query_) {
        header.emplace_back("query");
        right_align.push_back(true);
      }
      for (const Field& field : batch.schema().fields()) {
        header.push_back(field.name);
        right_align.push_back(field.type.id == TypeId::kInt32 || field.type.id == TypeId::kInt64 ||
                              field.type.is_floating());
      }
      table_.emplace(std::move(header), std::move(right_align));
    }
    for (int64_t row = 0; row < batch.num_rows(); ++row) {
      std::vector<std::string> cells;
      if (with_query_) cells.push_back(std::to_string(query_idx));
      for (const Array& column : batch.columns()) {
        cells.push_back(CellText(column, row, kMaxCellWidth));
      }
      table_->AddRow(std::move(cells));
    }
  }

  const Console& console_;
  const bool as_table_;
  const bool with_query_;
  std::optional<TextTable> table_;
};

Status RunSearch(const ParsedArgs& args, const Console& console) {
  if (args.Has("vector") == args.Has("query-file")) {
    return UsageError("give exactly one of --vector and --query-file");
  }
  QueryVectors queries;
  if (args.Has("vector")) {
    Result<std::vector<float>> vector = ParseVectorJson(args.Get("vector"));
    if (!vector.ok()) return UsageError("--vector: " + vector.status().message());
    queries.values = std::move(vector).value();
    queries.num_queries = 1;
  }
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Open(args.positional(0)));
  const Schema schema = table->schema();
  TESSERA_ASSIGN_OR_RETURN(Field column, ResolveVectorColumn(schema, args));
  if (args.Has("query-file")) {
    TESSERA_ASSIGN_OR_RETURN(queries, ReadQueryFile(args.Get("query-file"), column));
  } else {
    TESSERA_RETURN_IF_ERROR(CheckDimension(queries.values.size(), column).WithContext("--vector"));
  }
  const auto dim = static_cast<size_t>(column.type.dim);
  const std::span<const float> all(queries.values);
  VectorQuery query = table->Search(all.first(dim));
  std::vector<std::string> output;
  TESSERA_RETURN_IF_ERROR(Configure(args, schema, column, &query, &output));

  const std::string format = args.Get("format", console.out_is_terminal ? "table" : "jsonl");
  ResultPrinter printer(console, format == "table", queries.from_file);
  auto emit = [&](RecordBatch batch, int64_t query_idx) -> Status {
    TESSERA_ASSIGN_OR_RETURN(batch, KeepColumns(batch, output));
    printer.Add(batch, query_idx);
    return Status::OK();
  };
  if (args.GetBool("explain") || queries.num_queries == 1) {
    // QueryStats come only from Execute, so --explain runs the queries one at a time.
    for (int64_t query_idx = 0; query_idx < queries.num_queries; ++query_idx) {
      VectorQuery one = query;
      if (query_idx > 0) {
        one = table->Search(all.subspan(static_cast<size_t>(query_idx) * dim, dim));
        TESSERA_RETURN_IF_ERROR(Configure(args, schema, column, &one, &output));
      }
      QueryStats stats;
      Result<RecordBatch> batch = one.Execute(&stats);
      if (!batch.ok() && queries.from_file) return batch.status().WithContext("query ", query_idx);
      TESSERA_RETURN_IF_ERROR(batch.status());
      TESSERA_RETURN_IF_ERROR(emit(std::move(batch).value(), query_idx));
      if (args.GetBool("explain")) {
        std::fflush(console.out);
        const std::string line = stats.ToJson() + "\n";
        std::fwrite(line.data(), 1, line.size(), console.err);
      }
    }
  } else {
    TESSERA_ASSIGN_OR_RETURN(std::vector<RecordBatch> batches,
                             query.ExecuteBatch(all, queries.num_queries));
    for (size_t query_idx = 0; query_idx < batches.size(); ++query_idx) {
      TESSERA_RETURN_IF_ERROR(emit(std::move(batches[query_idx]), static_cast<int64_t>(query_idx)));
    }
  }
  printer.Finish();
  return Status::OK();
}

}  // namespace

std::vector<CommandSpec> SearchCommands() {
  std::vector<CommandSpec> commands;
  commands.push_back(
      {.name = "search",
       .summary = "Print the rows nearest to a query vector (or to each vector of a file).",
       .positionals = {{.name = "TABLE"}},
       .flags = {{.name = "vector",
                  .value_name = "JSON",
                  .help = "the query vector as a JSON array, e.g. \"[0.1, 0.2, 0.3, 0.4]\""},
                 {.name = "query-file",
                  .value_name = "FILE",
                  .help = "query vectors: one JSON array per line, or an .fvecs file"},
                 {.name = "k",
                  .kind = FlagKind::kInt,
                  .value_name = "N",
                  .help = "rows to return per query (default 10)"},
                 {.name = "where",
                  .value_name = "EXPR",
                  .help = "return only rows matching this filter (see docs/filter.md)"},
                 {.name = "prefilter",
                  .kind = FlagKind::kChoice,
                  .help = "true (default): filter before the search, so k matching rows come back "
                          "when k exist; false: filter the k nearest afterwards",
                  .choices = {"true", "false"}},
                 {.name = "metric",
                  .kind = FlagKind::kChoice,
                  .help = "distance (default: the index's metric, else l2 = squared euclidean)",
                  .choices = {"l2", "cosine", "dot"}},
                 {.name = "nprobes",
                  .kind = FlagKind::kInt,
                  .value_name = "N",
                  .help = "IVF partitions to search per index segment (default 20; IVF_HNSW_SQ 3)"},
                 {.name = "ef",
                  .kind = FlagKind::kInt,
                  .value_name = "N",
                  .help = "HNSW search breadth (default: derived from k)"},
                 {.name = "refine-factor",
                  .kind = FlagKind::kInt,
                  .value_name = "N",
                  .help = "re-rank k * N index candidates with exact distances"},
                 {.name = "fast-search",
                  .kind = FlagKind::kBool,
                  .help = "search only indexed rows; skip the unindexed tail"},
                 {.name = "bypass-index",
                  .kind = FlagKind::kBool,
                  .help = "exact flat scan of every row, ignoring indices"},
                 {.name = "select",
                  .value_name = "COLUMNS",
                  .help =
                      "comma-separated columns, may include _distance and _rowid (default: every "
                      "non-vector column)"},
                 {.name = "with-row-id",
                  .kind = FlagKind::kBool,
                  .help = "add the stable row id as column _rowid"},
                 {.name = "column",
                  .value_name = "NAME",
                  .help = "the vector column to search (default: the only one)"},
                 {.name = "format",
                  .kind = FlagKind::kChoice,
                  .help =
                      "jsonl: one JSON object per row; table: aligned text (default: table on a "
                      "terminal, jsonl otherwise)",
                  .choices = {"jsonl", "table"}},
                 {.name = "explain",
                  .kind = FlagKind::kBool,
                  .help = "print each query's statistics as one JSON line on stderr"}},
       .details =
           "Give exactly one of --vector and --query-file. Rows come best first, each with the\n"
           "selected columns, _distance (smaller is nearer) and, with --with-row-id, _rowid.\n"
           "With --query-file each row also has \"query\": the 0-based number of its vector in\n"
           "the file (blank lines are not counted). The queries of a file run in parallel, or\n"
           "one after another with --explain.\n"
           "--explain writes one JSON line per query, in query order, to stderr (stdout stays\n"
           "parseable): segments_searched, rows_via_index (results from index segments),\n"
           "rows_flat_scanned (tail rows compared), rows_filtered_out, deleted_rows_dropped and\n"
           "the milliseconds per stage (filter_ms index_ms flat_ms merge_ms project_ms total_ms).\n"
           "Distances from an IVF_*_SQ index are approximate unless --refine-factor is given.\n"
           "Example: tessera search items --vector \"[1, 0, 0, 0]\" --k 5 --where \"id > 10\"",
       .run = RunSearch});
  return commands;
}

}  // namespace tessera::cli
