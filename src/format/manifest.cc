#include "format/manifest.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <variant>

#include "base/coding.h"
#include "format/file_frame_internal.h"
#include "format/manifest_generated.h"

namespace tessera::format {
namespace {

// Framing constants; layout in docs/format/manifest.md.
constexpr std::string_view kManifestMagic = "TSMF";
constexpr uint32_t kManifestFormatVersion = 1;

using FbOffsetString = flatbuffers::Offset<flatbuffers::String>;

// ---------------------------------------------------------------------------------------
// Encoding

fb::TypeId ToFb(TypeId id) {
  switch (id) {
    case TypeId::kInt32:
      return fb::TypeId::Int32;
    case TypeId::kInt64:
      return fb::TypeId::Int64;
    case TypeId::kFloat32:
      return fb::TypeId::Float32;
    case TypeId::kFloat64:
      return fb::TypeId::Float64;
    case TypeId::kBool:
      return fb::TypeId::Bool;
    case TypeId::kUtf8:
      return fb::TypeId::Utf8;
    case TypeId::kTimestamp:
      return fb::TypeId::Timestamp;
    case TypeId::kVector:
      return fb::TypeId::Vector;
  }
  // Unreachable for a valid TypeId; a value outside the enum is stored as an id the
  // decoder rejects rather than silently changing the column type.
  return static_cast<fb::TypeId>(0xff);
}

// A union value: its type tag and its table offset (0 for null).
struct FbStatValue {
  fb::StatValue type = fb::StatValue::NONE;
  flatbuffers::Offset<void> value;
};

FbStatValue ToFb(flatbuffers::FlatBufferBuilder& fbb, const Value& value) {
  struct Visitor {
    flatbuffers::FlatBufferBuilder& fbb;
    FbStatValue operator()(std::monostate) const { return {}; }
    FbStatValue operator()(bool v) const {
      return {fb::StatValue::BoolValue, fb::CreateBoolValue(fbb, v).Union()};
    }
    FbStatValue operator()(int64_t v) const {
      return {fb::StatValue::Int64Value, fb::CreateInt64Value(fbb, v).Union()};
    }
    FbStatValue operator()(double v) const {
      return {fb::StatValue::DoubleValue, fb::CreateDoubleValue(fbb, v).Union()};
    }
    FbStatValue operator()(const std::string& v) const {
      const FbOffsetString str = fbb.CreateString(v);
      return {fb::StatValue::StringValue, fb::CreateStringValue(fbb, str).Union()};
    }
    FbStatValue operator()(const std::vector<float>& v) const {
      const auto values = fbb.CreateVector(v);
      return {fb::StatValue::FloatVectorValue, fb::CreateFloatVectorValue(fbb, values).Union()};
    }
  };
  return std::visit(Visitor{fbb}, value);
}

flatbuffers::Offset<flatbuffers::Vector<const fb::RowIdRange*>> ToFb(
    flatbuffers::FlatBufferBuilder& fbb, const std::vector<RowIdRange>& ranges) {
  std::vector<fb::RowIdRange> out;
  out.reserve(ranges.size());
  for (const RowIdRange& range : ranges) out.emplace_back(range.start, range.end);
  return fbb.CreateVectorOfStructs(out);
}

flatbuffers::Offset<fb::Fragment> ToFb(flatbuffers::FlatBufferBuilder& fbb,
                                       const FragmentMeta& fragment) {
  const FbOffsetString path = fbb.CreateString(fragment.path);
  const auto row_ids = ToFb(fbb, fragment.row_ids);
  std::vector<flatbuffers::Offset<fb::ColumnStats>> stats;
  stats.reserve(fragment.stats.size());
  for (const ColumnStats& column : fragment.stats) {
    const FbStatValue min = ToFb(fbb, column.min);
    const FbStatValue max = ToFb(fbb, column.max);
    stats.push_back(fb::CreateColumnStats(fbb, column.field_index, min.type, min.value, max.type,
                                          max.value, column.null_count));
  }
  const auto stats_vector = fbb.CreateVector(stats);
  return fb::CreateFragment(fbb, fragment.id, path, fragment.num_rows, fragment.size_bytes, row_ids,
                            stats_vector);
}

flatbuffers::Offset<fb::IndexSegment> ToFb(flatbuffers::FlatBufferBuilder& fbb,
                                           const IndexSegmentMeta& segment) {
  const FbOffsetString index_name = fbb.CreateString(segment.index_name);
  const FbOffsetString column = fbb.CreateString(segment.column);
  const FbOffsetString index_type = fbb.CreateString(segment.index_type);
  const FbOffsetString path = fbb.CreateString(segment.path);
  const FbOffsetString params_json = fbb.CreateString(segment.params_json);
  const auto covered = ToFb(fbb, segment.covered);
  return fb::CreateIndexSegment(fbb, index_name, column, index_type, path, params_json,
                                segment.num_rows, covered);
}

flatbuffers::Offset<fb::Transaction> ToFb(flatbuffers::FlatBufferBuilder& fbb,
                                          const TransactionMeta& txn) {
  const FbOffsetString uuid = fbb.CreateString(txn.uuid);
  const FbOffsetString operation = fbb.CreateString(txn.operation);
  const FbOffsetString detail = fbb.CreateString(txn.detail);
  return fb::CreateTransaction(fbb, uuid, operation, txn.base_version, txn.timestamp_us,
                               txn.duration_us, txn.rows_added, txn.rows_deleted, detail);
}

// ---------------------------------------------------------------------------------------
// Decoding. Every check names what is wrong; nothing here may crash on any input that
// passed the flatbuffers verifier.

Result<TypeId> FromFb(fb::TypeId id) {
  switch (id) {
    case fb::TypeId::Int32:
      return TypeId::kInt32;
    case fb::TypeId::Int64:
      return TypeId::kInt64;
    case fb::TypeId::Float32:
      return TypeId::kFloat32;
    case fb::TypeId::Float64:
      return TypeId::kFloat64;
    case fb::TypeId::Bool:
      return TypeId::kBool;
    case fb::TypeId::Utf8:
      return TypeId::kUtf8;
    case fb::TypeId::Timestamp:
      return TypeId::kTimestamp;
    case fb::TypeId::Vector:
      return TypeId::kVector;
  }
  return Status::Corruption("unknown type id ", static_cast<int>(id));
}

// Return the string or kCorruption naming `what` if it is absent.
template <typename... Args>
Result<std::string> GetString(const flatbuffers::String* str, const Args&... what) {
  if (str == nullptr) return Status::Corruption(what..., " is missing");
  return str->str();
}

// Return the string or kCorruption naming `what` if it is absent or empty.
template <typename... Args>
Result<std::string> GetNonEmptyString(const flatbuffers::String* str, const Args&... what) {
  if (str == nullptr) return Status::Corruption(what..., " is missing");
  if (str->size() == 0) return Status::Corruption(what..., " is empty");
  return str->str();
}

Result<Value> FromFb(fb::StatValue type, const void* obj) {
  if (type == fb::StatValue::NONE) {
    if (obj != nullptr) return Status::Corruption("value has data but no type");
    return Value();
  }
  if (obj == nullptr) {
    return Status::Corruption("value of type ", static_cast<int>(type), " has no data");
  }
  switch (type) {
    case fb::StatValue::BoolValue:
      return Value(static_cast<const fb::BoolValue*>(obj)->value());
    case fb::StatValue::Int64Value:
      return Value(int64_t{static_cast<const fb::Int64Value*>(obj)->value()});
    case fb::StatValue::DoubleValue:
      return Value(static_cast<const fb::DoubleValue*>(obj)->value());
    case fb::StatValue::StringValue: {
      const flatbuffers::String* str = static_cast<const fb::StringValue*>(obj)->value();
      if (str == nullptr) return Status::Corruption("string value is missing");
      return Value(str->str());
    }
    case fb::StatValue::FloatVectorValue: {
      const auto* values = static_cast<const fb::FloatVectorValue*>(obj)->values();
      if (values == nullptr) return Status::Corruption("float vector value is missing");
      return Value(std::vector<float>(values->begin(), values->end()));
    }
    default:
      break;
  }
  return Status::Corruption("unknown value type ", static_cast<int>(type));
}

// Return true if a statistics value of this kind may describe a column of `type`: null
// always; otherwise the Value alternative the column type maps to (see tessera::Value).
bool StatMatchesType(const Value& value, const DataType& type) {
  if (std::holds_alternative<std::monostate>(value)) return true;
  switch (type.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return std::holds_alternative<int64_t>(value);
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return std::holds_alternative<double>(value);
    case TypeId::kBool:
      return std::holds_alternative<bool>(value);
    case TypeId::kUtf8:
      return std::holds_alternative<std::string>(value);
    case TypeId::kVector: {
      const auto* vec = std::get_if<std::vector<float>>(&value);
      return vec != nullptr && vec->size() == static_cast<size_t>(type.dim);
    }
  }
  return false;
}

Result<Schema> SchemaFromFb(const fb::Schema* schema) {
  if (schema == nullptr) return Status::Corruption("schema is missing");
  std::vector<Field> fields;
  if (schema->fields() != nullptr) {
    fields.reserve(schema->fields()->size());
    for (flatbuffers::uoffset_t idx = 0; idx < schema->fields()->size(); ++idx) {
      const fb::Field* fb_field = schema->fields()->Get(idx);
      Field field;
      TESSERA_ASSIGN_OR_RETURN(field.name,
                               GetString(fb_field->name(), "schema field ", idx, " name"));
      Result<TypeId> type_id = FromFb(fb_field->type());
      if (!type_id.ok()) return type_id.status().WithContext("schema field '", field.name, "'");
      field.type.id = *type_id;
      field.type.dim = fb_field->dim();
      if (field.type.id == TypeId::kVector ? field.type.dim <= 0 : field.type.dim != 0) {
        return Status::Corruption("schema field '", field.name, "' of type ",
                                  fb::EnumNameTypeId(fb_field->type()), " has dim ",
                                  field.type.dim);
      }
      field.nullable = fb_field->nullable();
      fields.push_back(std::move(field));
    }
  }
  Result<Schema> made = Schema::Make(std::move(fields));
  if (!made.ok()) return Status::Corruption("invalid schema: ", made.status().message());
  return std::move(made).value();
}

// Append the ranges to *out, checking start <= end <= next_row_id.
template <typename... Args>
Status RangesFromFb(const flatbuffers::Vector<const fb::RowIdRange*>* ranges, uint64_t next_row_id,
                    std::vector<RowIdRange>* out, const Args&... what) {
  if (ranges == nullptr) return Status::OK();
  out->reserve(ranges->size());
  // The verifier does not check the 8-byte alignment of struct vectors, so the structs are
  // read bytewise rather than through (possibly misaligned) fb::RowIdRange pointers.
  static_assert(sizeof(fb::RowIdRange) == 2 * sizeof(uint64_t));
  const char* data = reinterpret_cast<const char*>(ranges->Data());
  for (flatbuffers::uoffset_t idx = 0; idx < ranges->size(); ++idx) {
    const RowIdRange range{base::DecodeFixed64(data + 16 * size_t{idx}),
                           base::DecodeFixed64(data + 16 * size_t{idx} + 8)};
    if (range.start > range.end) {
      return Status::Corruption(what..., " row id range ", idx, " [", range.start, ", ", range.end,
                                ") has start > end");
    }
    if (range.end > next_row_id) {
      return Status::Corruption(what..., " row id range ", idx, " [", range.start, ", ", range.end,
                                ") reaches past next_row_id ", next_row_id);
    }
    out->push_back(range);
  }
  return Status::OK();
}

Result<FragmentMeta> FragmentFromFb(const fb::Fragment& fb_fragment, const Manifest& manifest,
                                    flatbuffers::uoffset_t idx) {
  FragmentMeta fragment;
  fragment.id = fb_fragment.id();
  TESSERA_ASSIGN_OR_RETURN(
      fragment.path, GetNonEmptyString(fb_fragment.path(), "fragment ", fragment.id, " path"));
  fragment.num_rows = fb_fragment.num_rows();
  fragment.size_bytes = fb_fragment.size_bytes();
  if (fragment.id >= manifest.next_fragment_id) {
    return Status::Corruption("fragment ", idx, " has id ", fragment.id,
                              ", not below next_fragment_id ", manifest.next_fragment_id);
  }
  if (fragment.num_rows < 0 || fragment.size_bytes < 0) {
    return Status::Corruption("fragment ", fragment.id, " has negative num_rows or size_bytes");
  }
  TESSERA_RETURN_IF_ERROR(RangesFromFb(fb_fragment.row_ids(), manifest.next_row_id,
                                       &fragment.row_ids, "fragment ", fragment.id));
  uint64_t remaining = static_cast<uint64_t>(fragment.num_rows);
  for (const RowIdRange& range : fragment.row_ids) {
    const uint64_t length = range.end - range.start;
    if (length > remaining) {
      return Status::Corruption("fragment ", fragment.id, " row id ranges hold more than its ",
                                fragment.num_rows, " rows");
    }
    remaining -= length;
  }
  if (remaining != 0) {
    return Status::Corruption("fragment ", fragment.id, " row id ranges hold fewer than its ",
                              fragment.num_rows, " rows");
  }
  if (fb_fragment.stats() != nullptr) {
    const int num_fields = manifest.schema.num_fields();
    std::vector<bool> seen(num_fields, false);
    fragment.stats.reserve(fb_fragment.stats()->size());
    for (const fb::ColumnStats* fb_stats : *fb_fragment.stats()) {
      ColumnStats stats;
      stats.field_index = fb_stats->field_index();
      if (stats.field_index < 0 || stats.field_index >= num_fields) {
        return Status::Corruption("fragment ", fragment.id, " has statistics for field index ",
                                  stats.field_index, " but the schema has ", num_fields, " fields");
      }
      if (seen[stats.field_index]) {
        return Status::Corruption("fragment ", fragment.id, " has two statistics for field ",
                                  stats.field_index);
      }
      seen[stats.field_index] = true;
      const Field& field = manifest.schema.field(stats.field_index);
      Result<Value> min = FromFb(fb_stats->min_type(), fb_stats->min());
      if (!min.ok()) {
        return min.status().WithContext("fragment ", fragment.id, " min of '", field.name, "'");
      }
      Result<Value> max = FromFb(fb_stats->max_type(), fb_stats->max());
      if (!max.ok()) {
        return max.status().WithContext("fragment ", fragment.id, " max of '", field.name, "'");
      }
      stats.min = std::move(min).value();
      stats.max = std::move(max).value();
      if (!StatMatchesType(stats.min, field.type) || !StatMatchesType(stats.max, field.type)) {
        return Status::Corruption("fragment ", fragment.id, " statistics of '", field.name,
                                  "' do not match its type ", field.type.ToString());
      }
      stats.null_count = fb_stats->null_count();
      if (stats.null_count < 0 || stats.null_count > fragment.num_rows) {
        return Status::Corruption("fragment ", fragment.id, " null count ", stats.null_count,
                                  " of '", field.name, "' is not within [0, ", fragment.num_rows,
                                  "]");
      }
      fragment.stats.push_back(std::move(stats));
    }
  }
  return fragment;
}

// Check that no row id belongs to two fragments (row ids are stable and unique).
Status CheckFragmentsDisjoint(const std::vector<FragmentMeta>& fragments) {
  struct Span {
    uint64_t start, end, fragment_id;
  };
  std::vector<Span> spans;
  std::set<uint64_t> ids;
  for (const FragmentMeta& fragment : fragments) {
    if (!ids.insert(fragment.id).second) {
      return Status::Corruption("two fragments have id ", fragment.id);
    }
    for (const RowIdRange& range : fragment.row_ids) {
      if (range.start < range.end) spans.push_back({range.start, range.end, fragment.id});
    }
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& lhs, const Span& rhs) { return lhs.start < rhs.start; });
  for (size_t idx = 1; idx < spans.size(); ++idx) {
    if (spans[idx].start < spans[idx - 1].end) {
      return Status::Corruption("row id ", spans[idx].start, " is in fragment ",
                                spans[idx - 1].fragment_id, " and in fragment ",
                                spans[idx].fragment_id);
    }
  }
  return Status::OK();
}

Result<IndexSegmentMeta> IndexSegmentFromFb(const fb::IndexSegment& fb_segment,
                                            const Manifest& manifest, flatbuffers::uoffset_t idx) {
  IndexSegmentMeta segment;
  TESSERA_ASSIGN_OR_RETURN(segment.index_name, GetNonEmptyString(fb_segment.index_name(),
                                                                 "index segment ", idx, " name"));
  TESSERA_ASSIGN_OR_RETURN(
      segment.column, GetNonEmptyString(fb_segment.column(), "index segment ", idx, " column"));
  TESSERA_ASSIGN_OR_RETURN(segment.index_type, GetNonEmptyString(fb_segment.index_type(),
                                                                 "index segment ", idx, " type"));
  TESSERA_ASSIGN_OR_RETURN(segment.path,
                           GetNonEmptyString(fb_segment.path(), "index segment ", idx, " path"));
  TESSERA_ASSIGN_OR_RETURN(segment.params_json,
                           GetString(fb_segment.params_json(), "index segment ", idx, " params"));
  if (manifest.schema.FieldIndex(segment.column) < 0) {
    return Status::Corruption("index segment ", idx, " indexes column '", segment.column,
                              "', which is not in the schema");
  }
  segment.num_rows = fb_segment.num_rows();
  if (segment.num_rows < 0) {
    return Status::Corruption("index segment ", idx, " has negative num_rows");
  }
  TESSERA_RETURN_IF_ERROR(RangesFromFb(fb_segment.covered(), manifest.next_row_id, &segment.covered,
                                       "index segment ", idx));
  return segment;
}

Result<TransactionMeta> TransactionFromFb(const fb::Transaction* fb_txn) {
  if (fb_txn == nullptr) return Status::Corruption("transaction is missing");
  TransactionMeta txn;
  TESSERA_ASSIGN_OR_RETURN(txn.uuid, GetString(fb_txn->uuid(), "transaction uuid"));
  TESSERA_ASSIGN_OR_RETURN(txn.operation, GetString(fb_txn->operation(), "transaction operation"));
  TESSERA_ASSIGN_OR_RETURN(txn.detail, GetString(fb_txn->detail(), "transaction detail"));
  txn.base_version = fb_txn->base_version();
  txn.timestamp_us = fb_txn->timestamp_us();
  txn.duration_us = fb_txn->duration_us();
  txn.rows_added = fb_txn->rows_added();
  txn.rows_deleted = fb_txn->rows_deleted();
  if (txn.duration_us < 0 || txn.rows_added < 0 || txn.rows_deleted < 0) {
    return Status::Corruption("transaction has a negative duration or row count");
  }
  return txn;
}

// Fill *out from a key-sorted vector of key/value tables, requiring strictly increasing keys.
template <typename Entry, typename Map, typename GetValue>
Status SortedMapFromFb(const flatbuffers::Vector<flatbuffers::Offset<Entry>>* entries,
                       std::string_view what, GetValue get_value, Map* out) {
  if (entries == nullptr) return Status::OK();
  const std::string* prev_key = nullptr;
  for (flatbuffers::uoffset_t idx = 0; idx < entries->size(); ++idx) {
    const Entry* entry = entries->Get(idx);
    TESSERA_ASSIGN_OR_RETURN(std::string key, GetString(entry->key(), what, " ", idx, " key"));
    if (prev_key != nullptr && !(*prev_key < key)) {
      return Status::Corruption(what, " keys are not sorted and unique at '", key, "'");
    }
    TESSERA_ASSIGN_OR_RETURN(auto value, get_value(*entry, key));
    auto inserted = out->emplace_hint(out->end(), std::move(key), std::move(value));
    prev_key = &inserted->first;
  }
  return Status::OK();
}

Result<Manifest> ManifestFromFb(const fb::Manifest& root) {
  Manifest manifest;
  manifest.version = root.version();
  manifest.next_row_id = root.next_row_id();
  manifest.next_fragment_id = root.next_fragment_id();
  TESSERA_ASSIGN_OR_RETURN(manifest.schema, SchemaFromFb(root.schema()));

  if (root.fragments() != nullptr) {
    manifest.fragments.reserve(root.fragments()->size());
    for (flatbuffers::uoffset_t idx = 0; idx < root.fragments()->size(); ++idx) {
      TESSERA_ASSIGN_OR_RETURN(FragmentMeta fragment,
                               FragmentFromFb(*root.fragments()->Get(idx), manifest, idx));
      manifest.fragments.push_back(std::move(fragment));
    }
  }
  TESSERA_RETURN_IF_ERROR(CheckFragmentsDisjoint(manifest.fragments));

  if (root.deletion_files() != nullptr) {
    manifest.deletion_files.reserve(root.deletion_files()->size());
    for (flatbuffers::uoffset_t idx = 0; idx < root.deletion_files()->size(); ++idx) {
      const fb::DeletionFile* fb_file = root.deletion_files()->Get(idx);
      DeletionFileMeta file;
      TESSERA_ASSIGN_OR_RETURN(file.path,
                               GetNonEmptyString(fb_file->path(), "deletion file ", idx, " path"));
      file.num_rows = fb_file->num_rows();
      if (file.num_rows < 0) {
        return Status::Corruption("deletion file ", idx, " has negative num_rows");
      }
      manifest.deletion_files.push_back(std::move(file));
    }
  }

  if (root.index_segments() != nullptr) {
    manifest.index_segments.reserve(root.index_segments()->size());
    for (flatbuffers::uoffset_t idx = 0; idx < root.index_segments()->size(); ++idx) {
      TESSERA_ASSIGN_OR_RETURN(IndexSegmentMeta segment,
                               IndexSegmentFromFb(*root.index_segments()->Get(idx), manifest, idx));
      manifest.index_segments.push_back(std::move(segment));
    }
  }

  TESSERA_RETURN_IF_ERROR(SortedMapFromFb(
      root.stream_checkpoints(), "stream checkpoint",
      [](const fb::StreamCheckpoint& entry, const std::string&) -> Result<int64_t> {
        return entry.value();
      },
      &manifest.stream_checkpoints));
  TESSERA_RETURN_IF_ERROR(SortedMapFromFb(
      root.config(), "config",
      [](const fb::ConfigEntry& entry, const std::string& key) -> Result<std::string> {
        return GetString(entry.value(), "config '", key, "' value");
      },
      &manifest.config));

  TESSERA_ASSIGN_OR_RETURN(manifest.transaction, TransactionFromFb(root.transaction()));
  if (root.lineage() != nullptr) {
    if (root.lineage()->size() > kMaxLineage) return Status::Corruption("lineage is too long");
    for (const flatbuffers::String* uuid : *root.lineage()) {
      TESSERA_ASSIGN_OR_RETURN(std::string value, GetString(uuid, "lineage uuid"));
      manifest.lineage.push_back(std::move(value));
    }
  }
  return manifest;
}

// ---------------------------------------------------------------------------------------
// JSON

using Json = nlohmann::ordered_json;

Json ValueToJson(const Value& value) {
  struct Visitor {
    Json operator()(std::monostate) const { return nullptr; }
    Json operator()(bool v) const { return v; }
    Json operator()(int64_t v) const { return v; }
    Json operator()(double v) const { return v; }  // NaN and infinities render as null
    Json operator()(const std::string& v) const { return v; }
    Json operator()(const std::vector<float>& v) const { return v; }
  };
  return std::visit(Visitor{}, value);
}

Json RangesToJson(const std::vector<RowIdRange>& ranges) {
  Json out = Json::array();
  for (const RowIdRange& range : ranges) out.push_back(Json::array({range.start, range.end}));
  return out;
}

// Return `text` parsed if it is a JSON document of modest nesting (so free-form JSON
// fields render as JSON), else `text` as a string.
Json EmbeddedJson(const std::string& text) {
  constexpr int kMaxDepth = 32;
  int max_depth = 0;
  Json parsed = Json::parse(
      text,
      [&max_depth](int depth, Json::parse_event_t, Json&) {
        max_depth = std::max(max_depth, depth);
        return true;
      },
      /*allow_exceptions=*/false);
  if (parsed.is_discarded() || max_depth > kMaxDepth) return text;
  return parsed;
}

}  // namespace

std::string EncodeManifest(const Manifest& manifest) {
  flatbuffers::FlatBufferBuilder fbb(4096);

  std::vector<flatbuffers::Offset<fb::Field>> fields;
  fields.reserve(manifest.schema.fields().size());
  for (const Field& field : manifest.schema.fields()) {
    const FbOffsetString name = fbb.CreateString(field.name);
    fields.push_back(
        fb::CreateField(fbb, name, ToFb(field.type.id), field.type.dim, field.nullable));
  }
  const auto fields_vector = fbb.CreateVector(fields);
  const auto schema = fb::CreateSchema(fbb, fields_vector);

  std::vector<flatbuffers::Offset<fb::Fragment>> fragments;
  fragments.reserve(manifest.fragments.size());
  for (const FragmentMeta& fragment : manifest.fragments) fragments.push_back(ToFb(fbb, fragment));
  const auto fragments_vector = fbb.CreateVector(fragments);

  std::vector<flatbuffers::Offset<fb::DeletionFile>> deletion_files;
  deletion_files.reserve(manifest.deletion_files.size());
  for (const DeletionFileMeta& file : manifest.deletion_files) {
    const FbOffsetString path = fbb.CreateString(file.path);
    deletion_files.push_back(fb::CreateDeletionFile(fbb, path, file.num_rows));
  }
  const auto deletion_files_vector = fbb.CreateVector(deletion_files);

  std::vector<flatbuffers::Offset<fb::IndexSegment>> segments;
  segments.reserve(manifest.index_segments.size());
  for (const IndexSegmentMeta& segment : manifest.index_segments) {
    segments.push_back(ToFb(fbb, segment));
  }
  const auto segments_vector = fbb.CreateVector(segments);

  // std::map iterates in byte-wise key order, the order flatbuffers' (key) lookup expects.
  std::vector<flatbuffers::Offset<fb::StreamCheckpoint>> checkpoints;
  checkpoints.reserve(manifest.stream_checkpoints.size());
  for (const auto& [key, value] : manifest.stream_checkpoints) {
    const FbOffsetString key_offset = fbb.CreateString(key);
    checkpoints.push_back(fb::CreateStreamCheckpoint(fbb, key_offset, value));
  }
  const auto checkpoints_vector = fbb.CreateVector(checkpoints);

  std::vector<flatbuffers::Offset<fb::ConfigEntry>> config;
  config.reserve(manifest.config.size());
  for (const auto& [key, value] : manifest.config) {
    const FbOffsetString key_offset = fbb.CreateString(key);
    const FbOffsetString value_offset = fbb.CreateString(value);
    config.push_back(fb::CreateConfigEntry(fbb, key_offset, value_offset));
  }
  const auto config_vector = fbb.CreateVector(config);

  const auto transaction = ToFb(fbb, manifest.transaction);
  std::vector<FbOffsetString> lineage;
  lineage.reserve(manifest.lineage.size());
  for (const std::string& uuid : manifest.lineage) lineage.push_back(fbb.CreateString(uuid));
  const auto lineage_vector = fbb.CreateVector(lineage);
  const auto root =
      fb::CreateManifest(fbb, manifest.version, schema, fragments_vector, deletion_files_vector,
                         segments_vector, manifest.next_row_id, manifest.next_fragment_id,
                         checkpoints_vector, config_vector, transaction, lineage_vector);
  fbb.Finish(root);
  return internal::FramePayload(
      kManifestMagic, kManifestFormatVersion,
      std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
}

Result<Manifest> DecodeManifest(std::string_view bytes) {
  TESSERA_ASSIGN_OR_RETURN(
      std::string_view payload,
      internal::UnframePayload(bytes, kManifestMagic, kManifestFormatVersion, "manifest"));
  if (payload.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return Status::Corruption("manifest: payload of ", payload.size(), " bytes is too large");
  }
  // Flatbuffers reads scalars in place, so the payload (at offset 20 of an arbitrary
  // buffer) is copied to 8-byte aligned memory first.
  std::vector<uint64_t> aligned((payload.size() + 7) / 8);
  if (!payload.empty()) std::memcpy(aligned.data(), payload.data(), payload.size());
  const auto* buf = reinterpret_cast<const uint8_t*>(aligned.data());
  // Every table needs at least 4 bytes, so this table limit never rejects a valid payload.
  const auto max_tables = static_cast<flatbuffers::uoffset_t>(payload.size() / 4 + 1);
  flatbuffers::Verifier verifier(buf, payload.size(), /*_max_depth=*/64, max_tables);
  if (!fb::VerifyManifestBuffer(verifier)) {
    return Status::Corruption("manifest: payload is not a valid flatbuffer");
  }
  Result<Manifest> manifest = ManifestFromFb(*fb::GetManifest(buf));
  if (!manifest.ok()) return manifest.status().WithContext("manifest");
  return manifest;
}

std::string ManifestToJson(const Manifest& manifest) {
  Json out;
  out["version"] = manifest.version;
  Json schema = Json::array();
  for (const Field& field : manifest.schema.fields()) {
    schema.push_back(
        {{"name", field.name}, {"type", field.type.ToString()}, {"nullable", field.nullable}});
  }
  out["schema"] = std::move(schema);
  out["next_row_id"] = manifest.next_row_id;
  out["next_fragment_id"] = manifest.next_fragment_id;

  Json fragments = Json::array();
  for (const FragmentMeta& fragment : manifest.fragments) {
    Json stats = Json::array();
    for (const ColumnStats& column : fragment.stats) {
      Json entry;
      entry["field_index"] = column.field_index;
      if (column.field_index >= 0 && column.field_index < manifest.schema.num_fields()) {
        entry["field"] = manifest.schema.field(column.field_index).name;
      }
      entry["min"] = ValueToJson(column.min);
      entry["max"] = ValueToJson(column.max);
      entry["null_count"] = column.null_count;
      stats.push_back(std::move(entry));
    }
    Json entry;
    entry["id"] = fragment.id;
    entry["path"] = fragment.path;
    entry["num_rows"] = fragment.num_rows;
    entry["size_bytes"] = fragment.size_bytes;
    entry["row_ids"] = RangesToJson(fragment.row_ids);
    entry["stats"] = std::move(stats);
    fragments.push_back(std::move(entry));
  }
  out["fragments"] = std::move(fragments);

  Json deletion_files = Json::array();
  for (const DeletionFileMeta& file : manifest.deletion_files) {
    deletion_files.push_back({{"path", file.path}, {"num_rows", file.num_rows}});
  }
  out["deletion_files"] = std::move(deletion_files);

  Json segments = Json::array();
  for (const IndexSegmentMeta& segment : manifest.index_segments) {
    Json entry;
    entry["index_name"] = segment.index_name;
    entry["column"] = segment.column;
    entry["index_type"] = segment.index_type;
    entry["path"] = segment.path;
    entry["params"] = EmbeddedJson(segment.params_json);
    entry["num_rows"] = segment.num_rows;
    entry["covered"] = RangesToJson(segment.covered);
    segments.push_back(std::move(entry));
  }
  out["index_segments"] = std::move(segments);

  Json checkpoints = Json::object();
  for (const auto& [key, value] : manifest.stream_checkpoints) checkpoints[key] = value;
  out["stream_checkpoints"] = std::move(checkpoints);
  Json config = Json::object();
  for (const auto& [key, value] : manifest.config) config[key] = value;
  out["config"] = std::move(config);

  const TransactionMeta& txn = manifest.transaction;
  Json transaction;
  transaction["uuid"] = txn.uuid;
  transaction["operation"] = txn.operation;
  transaction["base_version"] = txn.base_version;
  transaction["timestamp_us"] = txn.timestamp_us;
  transaction["duration_us"] = txn.duration_us;
  transaction["rows_added"] = txn.rows_added;
  transaction["rows_deleted"] = txn.rows_deleted;
  transaction["detail"] = EmbeddedJson(txn.detail);
  out["transaction"] = std::move(transaction);
  out["lineage"] = manifest.lineage;
  // Strings are arbitrary bytes; invalid UTF-8 is replaced rather than thrown on.
  return out.dump(2, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

}  // namespace tessera::format
