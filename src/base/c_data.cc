#include "tessera/c_data.h"

#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tessera {
namespace {

// Exported in place of a null buffer pointer whose buffer is empty: some consumers
// reject null pointers although the specification allows them. Zeroed, so it is also
// a valid one-entry offsets buffer.
alignas(64) constexpr uint8_t kEmptyBuffer[64] = {};

constexpr int32_t kMaxVectorDim = 65536;  // as DataType::Parse

// ---------------------------------------------------------------------------
// Export

// The private_data of one exported ArrowArray node. Each node owns its own data so
// that a consumer may move a child out and release it apart from its parent.
struct ExportedArray {
  std::vector<Buffer> keep_alive;  // holds the Buffers' shared owners
  std::vector<const void*> buffers;
  std::vector<ArrowArray> children;
  std::vector<ArrowArray*> child_pointers;
};

void ReleaseExportedArray(ArrowArray* array) {
  if (array == nullptr || array->release == nullptr) return;
  for (int64_t index = 0; index < array->n_children; ++index) {
    ArrowArray* child = array->children[index];
    if (child->release != nullptr) child->release(child);
  }
  std::unique_ptr<ExportedArray> data(static_cast<ExportedArray*>(array->private_data));
  array->private_data = nullptr;
  array->release = nullptr;
}

// Fill `*out` from `data` and hand `data` over to it.
void FinishExportedArray(std::unique_ptr<ExportedArray> data, int64_t length, int64_t null_count,
                         int64_t offset, ArrowArray* out) {
  data->child_pointers.clear();
  for (ArrowArray& child : data->children) data->child_pointers.push_back(&child);
  out->length = length;
  out->null_count = null_count;
  out->offset = offset;
  out->n_buffers = static_cast<int64_t>(data->buffers.size());
  out->n_children = static_cast<int64_t>(data->children.size());
  out->buffers = data->buffers.data();
  out->children = data->children.empty() ? nullptr : data->child_pointers.data();
  out->dictionary = nullptr;
  out->release = &ReleaseExportedArray;
  out->private_data = data.release();
}

const void* DataPointer(const Buffer& buffer) {
  return buffer.data != nullptr ? buffer.data : kEmptyBuffer;
}

void ExportColumn(const Array& array, ArrowArray* out) {
  auto data = std::make_unique<ExportedArray>();
  const bool has_validity = array.null_count() > 0 && !array.validity().empty();
  data->buffers.push_back(has_validity ? array.validity().data : nullptr);
  if (has_validity) data->keep_alive.push_back(array.validity());
  if (array.type().id == TypeId::kVector) {
    // FixedSizeList: the parent holds validity and offset (in rows); the child
    // "item" holds every float from row 0, so its offset is 0.
    auto child = std::make_unique<ExportedArray>();
    child->buffers = {nullptr, DataPointer(array.values())};
    child->keep_alive.push_back(array.values());
    data->children.resize(1);
    FinishExportedArray(std::move(child), (array.offset() + array.length()) * array.type().dim,
                        /*null_count=*/0, /*offset=*/0, &data->children[0]);
  } else {
    data->buffers.push_back(DataPointer(array.values()));
    data->keep_alive.push_back(array.values());
    if (array.type().id == TypeId::kUtf8) {
      data->buffers.push_back(DataPointer(array.data()));
      data->keep_alive.push_back(array.data());
    }
  }
  const int64_t null_count = has_validity ? array.null_count() : 0;
  FinishExportedArray(std::move(data), array.length(), null_count, array.offset(), out);
}

// The private_data of one exported ArrowSchema node.
struct ExportedSchema {
  std::string format;
  std::string name;
  std::vector<ArrowSchema> children;
  std::vector<ArrowSchema*> child_pointers;
};

void ReleaseExportedSchema(ArrowSchema* schema) {
  if (schema == nullptr || schema->release == nullptr) return;
  for (int64_t index = 0; index < schema->n_children; ++index) {
    ArrowSchema* child = schema->children[index];
    if (child->release != nullptr) child->release(child);
  }
  std::unique_ptr<ExportedSchema> data(static_cast<ExportedSchema*>(schema->private_data));
  schema->private_data = nullptr;
  schema->release = nullptr;
}

void FinishExportedSchema(std::unique_ptr<ExportedSchema> data, int64_t flags, ArrowSchema* out) {
  data->child_pointers.clear();
  for (ArrowSchema& child : data->children) data->child_pointers.push_back(&child);
  out->format = data->format.c_str();
  out->name = data->name.c_str();
  out->metadata = nullptr;
  out->flags = flags;
  out->n_children = static_cast<int64_t>(data->children.size());
  out->children = data->children.empty() ? nullptr : data->child_pointers.data();
  out->dictionary = nullptr;
  out->release = &ReleaseExportedSchema;
  out->private_data = data.release();
}

std::string FormatOf(const DataType& type) {
  switch (type.id) {
    case TypeId::kInt32:
      return "i";
    case TypeId::kInt64:
      return "l";
    case TypeId::kFloat32:
      return "f";
    case TypeId::kFloat64:
      return "g";
    case TypeId::kBool:
      return "b";
    case TypeId::kUtf8:
      return "u";
    case TypeId::kTimestamp:
      return "tsu:";
    case TypeId::kVector:
      return "+w:" + std::to_string(type.dim);
  }
  return "n";
}

void ExportField(const Field& field, ArrowSchema* out) {
  auto data = std::make_unique<ExportedSchema>();
  data->format = FormatOf(field.type);
  data->name = field.name;
  if (field.type.id == TypeId::kVector) {
    auto item = std::make_unique<ExportedSchema>();
    item->format = "f";
    item->name = "item";
    data->children.resize(1);
    FinishExportedSchema(std::move(item), /*flags=*/0, &data->children[0]);
  }
  FinishExportedSchema(std::move(data), field.nullable ? ARROW_FLAG_NULLABLE : 0, out);
}

// ---------------------------------------------------------------------------
// Import

// Owns a foreign ArrowArray moved out of the caller's structure and runs its release
// callback when destroyed. Imported Buffers share it ("shared because every Buffer of
// every column must keep the producer's memory alive").
class ImportedArray {
 public:
  explicit ImportedArray(ArrowArray* source) : array_(*source) { source->release = nullptr; }
  ~ImportedArray() {
    if (array_.release != nullptr) array_.release(&array_);
  }
  ImportedArray(const ImportedArray&) = delete;
  ImportedArray& operator=(const ImportedArray&) = delete;

  const ArrowArray& array() const { return array_; }

 private:
  ArrowArray array_;
};

// Releases a foreign ArrowSchema at scope exit.
class SchemaReleaser {
 public:
  explicit SchemaReleaser(ArrowSchema* schema) : schema_(schema) {}
  ~SchemaReleaser() {
    if (schema_ != nullptr && schema_->release != nullptr) schema_->release(schema_);
  }
  SchemaReleaser(const SchemaReleaser&) = delete;
  SchemaReleaser& operator=(const SchemaReleaser&) = delete;

 private:
  ArrowSchema* schema_;
};

// Return `a * b + c`, or -1 on overflow. REQUIRES: all >= 0.
int64_t MulAdd(int64_t a, int64_t b, int64_t c) {
  int64_t product = 0;
  int64_t sum = 0;
  if (__builtin_mul_overflow(a, b, &product) || __builtin_add_overflow(product, c, &sum)) return -1;
  return sum;
}

int64_t BitmapBytes(int64_t bits) { return bits / 8 + (bits % 8 != 0 ? 1 : 0); }

bool AnyBitClear(const void* bitmap, int64_t begin, int64_t count) {
  const auto* bytes = static_cast<const uint8_t*>(bitmap);
  for (int64_t bit = begin; bit < begin + count; ++bit) {
    if (((bytes[bit >> 3] >> (bit & 7)) & 1) == 0) return true;
  }
  return false;
}

Result<DataType> ParseFormat(const ArrowSchema& schema, std::string_view column) {
  if (schema.format == nullptr) {
    return Status::InvalidArgument("column '", column, "': missing Arrow format string");
  }
  const std::string_view format = schema.format;
  auto unsupported = [&](std::string_view why = {}) {
    return Status::NotSupported("column '", column, "': unsupported Arrow format '", format, "'",
                                why.empty() ? "" : " (", why, why.empty() ? "" : ")");
  };
  if (schema.dictionary != nullptr) return unsupported("dictionary-encoded");
  std::optional<DataType> type;
  if (format == "i") type = DataType::Int32();
  if (format == "l") type = DataType::Int64();
  if (format == "f") type = DataType::Float32();
  if (format == "g") type = DataType::Float64();
  if (format == "b") type = DataType::Bool();
  if (format == "u") type = DataType::Utf8();
  if (format.starts_with("tsu:")) type = DataType::Timestamp();
  if (type.has_value()) {
    if (schema.n_children != 0) {
      return Status::InvalidArgument("column '", column, "': format '", format, "' with ",
                                     schema.n_children, " children");
    }
    return *type;
  }
  if (!format.starts_with("+w:")) {
    return unsupported(
        "Tessera holds int32 'i', int64 'l', float32 'f', float64 'g', bool 'b', utf8 'u', "
        "timestamp 'tsu:' and vectors '+w:<dim>' of 'f'");
  }
  const std::string_view digits = format.substr(3);
  int32_t dim = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), dim);
  if (error != std::errc() || end != digits.data() + digits.size() || dim < 1 ||
      dim > kMaxVectorDim) {
    return unsupported("vector dimension must be 1..65536");
  }
  if (schema.n_children != 1 || schema.children == nullptr || schema.children[0] == nullptr) {
    return Status::InvalidArgument("column '", column, "': fixed-size list without its child");
  }
  const ArrowSchema& item = *schema.children[0];
  if (item.format == nullptr || std::string_view(item.format) != "f" ||
      item.dictionary != nullptr) {
    return Status::NotSupported("column '", column, "': unsupported Arrow format '", format,
                                "' of '", item.format == nullptr ? "" : item.format,
                                "' (vector elements must be float32 'f')");
  }
  return DataType::Vector(dim);
}

Result<Schema> ParseSchema(const ArrowSchema& schema) {
  if (schema.format == nullptr || std::string_view(schema.format) != "+s") {
    return Status::NotSupported("top-level Arrow format must be a struct '+s', got '",
                                schema.format == nullptr ? "" : schema.format, "'");
  }
  if (schema.dictionary != nullptr) {
    return Status::NotSupported("top-level Arrow struct is dictionary-encoded");
  }
  if (schema.n_children < 0 || (schema.n_children > 0 && schema.children == nullptr)) {
    return Status::InvalidArgument("Arrow schema has ", schema.n_children,
                                   " children but no children array");
  }
  std::vector<Field> fields;
  for (int64_t index = 0; index < schema.n_children; ++index) {
    const ArrowSchema* child = schema.children[index];
    if (child == nullptr) return Status::InvalidArgument("Arrow schema child ", index, " is null");
    Field field;
    field.name = child->name == nullptr ? "" : child->name;
    TESSERA_ASSIGN_OR_RETURN(field.type, ParseFormat(*child, field.name));
    field.nullable = (child->flags & ARROW_FLAG_NULLABLE) != 0;
    fields.push_back(std::move(field));
  }
  return Schema::Make(std::move(fields));
}

// Check the shape every ArrowArray node shares; `what` names the node in errors.
Status CheckNode(const ArrowArray& node, std::string_view what, int64_t n_buffers,
                 int64_t n_children) {
  if (node.length < 0 || node.offset < 0 || node.null_count < -1) {
    return Status::InvalidArgument(what, ": negative length, offset or null count");
  }
  if (node.n_buffers != n_buffers || (n_buffers > 0 && node.buffers == nullptr)) {
    return Status::InvalidArgument(what, ": expected ", n_buffers, " buffers, got ",
                                   node.n_buffers);
  }
  if (node.n_children != n_children || (n_children > 0 && node.children == nullptr)) {
    return Status::InvalidArgument(what, ": expected ", n_children, " children, got ",
                                   node.n_children);
  }
  for (int64_t index = 0; index < n_children; ++index) {
    if (node.children[index] == nullptr) {
      return Status::InvalidArgument(what, ": child ", index, " is null");
    }
  }
  if (node.dictionary != nullptr) {
    return Status::NotSupported(what, ": dictionary-encoded arrays");
  }
  return Status::OK();
}

// Wrap `size_bytes` at `data` as a Buffer kept alive by `holder`. Errors: kInvalidArgument
// if a non-empty buffer is null or the size overflowed (< 0); kNotSupported if `data` is
// not aligned to `alignment` bytes (the specification lets consumers refuse that, and
// Tessera reads values in place).
Result<Buffer> WrapBuffer(const void* data, int64_t size_bytes, int64_t alignment,
                          const std::shared_ptr<const ImportedArray>& holder,
                          std::string_view column, std::string_view what) {
  if (size_bytes < 0) return Status::InvalidArgument("column '", column, "': ", what, " too large");
  if (data == nullptr) {
    if (size_bytes > 0) {
      return Status::InvalidArgument("column '", column, "': null ", what, " buffer");
    }
    data = kEmptyBuffer;
  }
  if (reinterpret_cast<uintptr_t>(data) % static_cast<uintptr_t>(alignment) != 0) {
    return Status::NotSupported("column '", column, "': ", what, " buffer is not aligned to ",
                                alignment, " bytes");
  }
  Buffer buffer;
  buffer.data = static_cast<const uint8_t*>(data);
  buffer.size = size_bytes;
  buffer.owner = holder;
  return buffer;
}

// Import child `node` of the top-level struct as column `field`: rows
// [base_offset, base_offset + length) of `node` (relative to its own offset).
Result<Array> ImportColumn(const ArrowArray& node, const Field& field, int64_t base_offset,
                           int64_t length, const std::shared_ptr<const ImportedArray>& holder) {
  const std::string_view column = field.name;
  const DataType& type = field.type;
  const bool is_vector = type.id == TypeId::kVector;
  const int64_t n_buffers = is_vector ? 1 : (type.id == TypeId::kUtf8 ? 3 : 2);
  const std::string what = internal::StrCat("column '", column, "'");
  TESSERA_RETURN_IF_ERROR(CheckNode(node, what, n_buffers, is_vector ? 1 : 0));
  const int64_t offset = MulAdd(node.offset, 1, base_offset);
  const int64_t end = MulAdd(offset, 1, length);
  const int64_t needed_rows = MulAdd(base_offset, 1, length);
  if (offset < 0 || end < 0 || needed_rows < 0) {
    return Status::InvalidArgument("column '", column, "': offset too large");
  }
  if (node.length < needed_rows) {
    return Status::InvalidArgument("column '", column, "' has ", node.length,
                                   " rows, the struct needs ", needed_rows);
  }

  Buffer validity;
  if (node.null_count != 0 && node.buffers[0] != nullptr) {
    TESSERA_ASSIGN_OR_RETURN(
        validity, WrapBuffer(node.buffers[0], BitmapBytes(end), 1, holder, column, "validity"));
  } else if (node.null_count > 0) {
    return Status::InvalidArgument("column '", column, "': ", node.null_count,
                                   " nulls but no validity bitmap");
  }

  Buffer values;
  Buffer data;
  if (type.id == TypeId::kBool) {
    TESSERA_ASSIGN_OR_RETURN(
        values, WrapBuffer(node.buffers[1], BitmapBytes(end), 1, holder, column, "values"));
  } else if (type.id == TypeId::kUtf8) {
    if (node.buffers[1] == nullptr && end == 0) return ArrayBuilder(type).Finish();
    TESSERA_ASSIGN_OR_RETURN(
        values, WrapBuffer(node.buffers[1], MulAdd(end, 4, 4), 4, holder, column, "offsets"));
    int32_t last = 0;
    std::memcpy(&last, values.data + end * 4, 4);
    if (last < 0) return Status::InvalidArgument("column '", column, "': negative utf8 offset");
    TESSERA_ASSIGN_OR_RETURN(data, WrapBuffer(node.buffers[2], last, 1, holder, column, "data"));
  } else if (type.id == TypeId::kVector) {
    // Row r of the list is floats [(offset + r) * dim, +dim) of the child, which
    // starts at its own offset (counted in floats).
    const ArrowArray& item = *node.children[0];
    TESSERA_RETURN_IF_ERROR(CheckNode(item, what + " vector child", 2, 0));
    const int64_t floats = MulAdd(end, type.dim, 0);
    const int64_t first_float = MulAdd(offset, type.dim, item.offset);
    if (floats < 0 || first_float < 0) {
      return Status::InvalidArgument("column '", column, "': offset too large");
    }
    if (item.length < floats) {
      return Status::InvalidArgument("column '", column, "': vector child has ", item.length,
                                     " floats, ", end, " rows of dimension ", type.dim, " need ",
                                     floats);
    }
    if (item.null_count > 0 && item.buffers[0] == nullptr) {
      return Status::InvalidArgument("column '", column, "': vector child has ", item.null_count,
                                     " nulls but no validity bitmap");
    }
    if (item.null_count != 0 && item.buffers[0] != nullptr &&
        AnyBitClear(item.buffers[0], first_float, length * type.dim)) {
      return Status::NotSupported("column '", column, "': vectors with null elements");
    }
    const auto* base = static_cast<const float*>(item.buffers[1]);
    if (base == nullptr && floats > 0) {
      return Status::InvalidArgument("column '", column, "': null vector data buffer");
    }
    TESSERA_ASSIGN_OR_RETURN(values, WrapBuffer(base == nullptr ? nullptr : base + item.offset,
                                                MulAdd(floats, 4, 0), 4, holder, column, "values"));
  } else {
    TESSERA_ASSIGN_OR_RETURN(values, WrapBuffer(node.buffers[1], MulAdd(end, type.byte_width(), 0),
                                                type.byte_width(), holder, column, "values"));
  }
  auto array = Array::Make(type, length, std::move(validity), std::move(values), std::move(data),
                           /*null_count=*/-1, offset);
  if (!array.ok()) return array.status().WithContext("column '", column, "'");
  return array;
}

Result<RecordBatch> ImportFromHolder(std::shared_ptr<const ImportedArray> holder,
                                     const Schema& schema) {
  const ArrowArray& top = holder->array();
  TESSERA_RETURN_IF_ERROR(CheckNode(top, "top-level struct", 1, schema.num_fields()));
  if (top.null_count != 0 && top.buffers[0] != nullptr &&
      (top.null_count > 0 || AnyBitClear(top.buffers[0], top.offset, top.length))) {
    return Status::NotSupported("a top-level Arrow struct with null rows");
  }
  std::vector<Array> columns;
  columns.reserve(static_cast<size_t>(schema.num_fields()));
  for (int col = 0; col < schema.num_fields(); ++col) {
    TESSERA_ASSIGN_OR_RETURN(Array column, ImportColumn(*top.children[col], schema.field(col),
                                                        top.offset, top.length, holder));
    columns.push_back(std::move(column));
  }
  if (columns.empty()) return Status::InvalidArgument("Arrow struct has no columns");
  return RecordBatch::Make(schema, std::move(columns));
}

// Move `*array` into a holder. Errors: kInvalidArgument if it is null or released.
Result<std::shared_ptr<const ImportedArray>> TakeArray(ArrowArray* array) {
  if (array == nullptr) return Status::InvalidArgument("null ArrowArray");
  if (array->release == nullptr) return Status::InvalidArgument("ArrowArray already released");
  return std::shared_ptr<const ImportedArray>(std::make_shared<ImportedArray>(array));
}

}  // namespace

Status ExportSchema(const Schema& schema, ArrowSchema* out) {
  if (out == nullptr) return Status::InvalidArgument("ExportSchema: null output");
  auto data = std::make_unique<ExportedSchema>();
  data->format = "+s";
  data->children.resize(static_cast<size_t>(schema.num_fields()));
  for (int col = 0; col < schema.num_fields(); ++col) {
    ExportField(schema.field(col), &data->children[col]);
  }
  FinishExportedSchema(std::move(data), /*flags=*/0, out);
  return Status::OK();
}

Status ExportRecordBatch(const RecordBatch& batch, ArrowArray* out_array, ArrowSchema* out_schema) {
  if (out_array == nullptr) return Status::InvalidArgument("ExportRecordBatch: null output array");
  // The schema first: it cannot fail after the array's children hold private data.
  if (out_schema != nullptr) TESSERA_RETURN_IF_ERROR(ExportSchema(batch.schema(), out_schema));
  auto data = std::make_unique<ExportedArray>();
  data->buffers.push_back(nullptr);  // the struct itself has no nulls
  data->children.resize(static_cast<size_t>(batch.num_columns()));
  for (int col = 0; col < batch.num_columns(); ++col) {
    ExportColumn(batch.column(col), &data->children[col]);
  }
  FinishExportedArray(std::move(data), batch.num_rows(), /*null_count=*/0, /*offset=*/0, out_array);
  return Status::OK();
}

Result<Schema> ImportSchema(ArrowSchema* schema) {
  if (schema == nullptr) return Status::InvalidArgument("null ArrowSchema");
  if (schema->release == nullptr) return Status::InvalidArgument("ArrowSchema already released");
  SchemaReleaser releaser(schema);
  return ParseSchema(*schema);
}

Result<RecordBatch> ImportRecordBatch(ArrowArray* array, const Schema& schema) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const ImportedArray> holder, TakeArray(array));
  return ImportFromHolder(std::move(holder), schema);
}

Result<RecordBatch> ImportRecordBatch(ArrowArray* array, ArrowSchema* schema) {
  // Take both structures before anything can fail, so that every error releases both.
  Result<std::shared_ptr<const ImportedArray>> holder = TakeArray(array);
  Result<Schema> imported = ImportSchema(schema);
  TESSERA_RETURN_IF_ERROR(holder);
  TESSERA_RETURN_IF_ERROR(imported);
  return ImportFromHolder(std::move(holder).value(), *imported);
}

}  // namespace tessera
