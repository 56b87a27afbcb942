// The `inspect` command: print a manifest, data file or deletion file as JSON.
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/cli.h"
#include "format/arrow_ipc_reader.h"
#include "format/deletion_file.h"
#include "format/manifest.h"
#include "io/file_system.h"

namespace tessera::cli {
namespace {

using Json = nlohmann::ordered_json;

enum class FileKind { kManifest, kDataFile, kDeletionFile, kUnknown };

constexpr std::string_view kArrowMagic = "ARROW1";
constexpr std::string_view kManifestMagic = "TSMF";
constexpr std::string_view kDeletionMagic = "TSDL";
constexpr int64_t kDefaultMaxRows = 10;

FileKind KindOf(std::string_view path, std::string_view bytes) {
  if (path.ends_with(".manifest")) return FileKind::kManifest;
  if (path.ends_with(".arrow")) return FileKind::kDataFile;
  if (path.ends_with(".del")) return FileKind::kDeletionFile;
  if (bytes.starts_with(kArrowMagic)) return FileKind::kDataFile;
  if (bytes.starts_with(kManifestMagic)) return FileKind::kManifest;
  if (bytes.starts_with(kDeletionMagic)) return FileKind::kDeletionFile;
  return FileKind::kUnknown;
}

std::string DeletionFileToJson(const format::RowIdSet& row_ids) {
  Json json;
  json["kind"] = "deletion_file";
  json["num_rows"] = row_ids.cardinality();
  // Deleted row ids as half-open [start, end) ranges, like a manifest's row id ranges.
  Json ranges = Json::array();
  bool open = false;
  uint64_t start = 0;
  uint64_t end = 0;
  for (uint64_t row_id : row_ids) {
    if (open && row_id == end) {
      ++end;
      continue;
    }
    if (open) ranges.push_back(Json::array({start, end}));
    start = row_id;
    end = row_id + 1;
    open = true;
  }
  if (open) ranges.push_back(Json::array({start, end}));
  json["row_ids"] = std::move(ranges);
  return json.dump();
}

std::string Compact(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsScalarArray(const Json& json) {
  if (!json.is_array()) return false;
  for (const Json& element : json) {
    if (element.is_structured()) return false;
  }
  return true;
}

// Append `json` indented by two spaces per level. An array of scalars (a vector, a row id
// range) stays on one line, and so does a short array of such arrays.
void AppendPretty(const Json& json, int indent, std::string* out) {
  constexpr size_t kMaxInlineChars = 80;
  if (json.is_object() && !json.empty()) {
    *out += "{\n";
    size_t idx = 0;
    for (auto it = json.begin(); it != json.end(); ++it, ++idx) {
      out->append(static_cast<size_t>(indent + 2), ' ');
      *out += Compact(Json(it.key())) + ": ";
      AppendPretty(it.value(), indent + 2, out);
      *out += idx + 1 < json.size() ? ",\n" : "\n";
    }
    out->append(static_cast<size_t>(indent), ' ');
    *out += "}";
    return;
  }
  if (json.is_array() && !json.empty() && !IsScalarArray(json)) {
    const bool nested_scalars =
        std::all_of(json.begin(), json.end(), [](const Json& e) { return IsScalarArray(e); });
    if (nested_scalars) {
      std::string inline_text = Compact(json);
      if (inline_text.size() <= kMaxInlineChars) {
        *out += inline_text;
        return;
      }
    }
    *out += "[\n";
    size_t idx = 0;
    for (const Json& element : json) {
      out->append(static_cast<size_t>(indent + 2), ' ');
      AppendPretty(element, indent + 2, out);
      *out += ++idx < json.size() ? ",\n" : "\n";
    }
    out->append(static_cast<size_t>(indent), ' ');
    *out += "]";
    return;
  }
  *out += Compact(json);
}

// Re-indent a compact JSON document produced by a codec.
Result<std::string> PrettyJson(const std::string& compact) {
  Json json = Json::parse(compact, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::Internal("inspect produced invalid JSON");
  std::string out;
  AppendPretty(json, 0, &out);
  return out + "\n";
}

Status RunInspect(const ParsedArgs& args, const Console& console) {
  const std::string& path = args.positional(0);
  // A file of a table on local disk or on the object store (s3://BUCKET/TABLE/_versions/...).
  TESSERA_ASSIGN_OR_RETURN(io::FileSystem * fs, io::FileSystemFor(path, nullptr));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const io::MappedFile> file, fs->MapFile(path));
  const std::string_view bytes(reinterpret_cast<const char*>(file->data()),
                               static_cast<size_t>(file->size()));
  std::string compact;
  switch (KindOf(path, bytes)) {
    case FileKind::kManifest: {
      Result<format::Manifest> manifest = format::DecodeManifest(bytes);
      if (!manifest.ok()) return manifest.status().WithContext(path);
      compact = format::ManifestToJson(*manifest);
      break;
    }
    case FileKind::kDataFile: {
      Result<std::unique_ptr<format::ArrowIpcFileReader>> reader =
          format::ArrowIpcFileReader::Open(file);
      if (!reader.ok()) return reader.status().WithContext(path);
      const int64_t max_rows = args.GetInt("max-rows", kDefaultMaxRows);
      compact = format::ArrowIpcFileToJson(**reader, max_rows);
      break;
    }
    case FileKind::kDeletionFile: {
      Result<format::RowIdSet> row_ids = format::DecodeDeletionFile(bytes);
      if (!row_ids.ok()) return row_ids.status().WithContext(path);
      compact = DeletionFileToJson(*row_ids);
      break;
    }
    case FileKind::kUnknown:
      return Status::InvalidArgument(
          path,
          ": not a manifest, data file or deletion file (expected *.manifest, *.arrow or "
          "*.del, or magic bytes ARROW1, TSMF or TSDL)");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string pretty, PrettyJson(compact));
  console.Print(pretty);
  return Status::OK();
}

}  // namespace

std::vector<CommandSpec> InspectCommands() {
  std::vector<CommandSpec> commands;
  commands.push_back(
      {.name = "inspect",
       .summary = "Print a manifest, data file or deletion file as JSON.",
       .positionals = {{.name = "PATH"}},
       .flags = {{.name = "max-rows",
                  .kind = FlagKind::kInt,
                  .value_name = "N",
                  .help = "rows of a data file to include (default 10)"}},
       .details = "The kind is taken from the extension (.manifest, .arrow, .del), else from the\n"
                  "file's magic bytes (TSMF, ARROW1, TSDL). Files live in a table directory under\n"
                  "_versions/, data/ and deletions/.",
       .run = RunInspect});
  return commands;
}

}  // namespace tessera::cli
