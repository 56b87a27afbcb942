#include "format/arrow_ipc_reader.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <variant>

#include "flatbuffers/flatbuffers.h"
#include "format/arrow_file_generated.h"
#include "format/arrow_ipc_writer.h"
#include "format/arrow_message_generated.h"
#include "format/arrow_schema_generated.h"

namespace tessera::format {
namespace {

namespace fb = org::apache::arrow::flatbuf;

static_assert(std::endian::native == std::endian::little,
              "the Arrow IPC reader maps little-endian data as is");
static_assert(sizeof(fb::Block) == 24 && sizeof(fb::FieldNode) == 16 && sizeof(fb::Buffer) == 16,
              "Arrow IPC struct sizes are fixed by the format");

constexpr uint32_t kContinuation = 0xFFFFFFFFu;
constexpr int64_t kMagicSize = 6;
// Leading magic + padding, then at least the footer size and the trailing magic.
constexpr int64_t kHeaderSize = 8;
constexpr int64_t kTrailerSize = 4 + kMagicSize;

template <typename T>
T LoadLittleEndian(const uint8_t* data) {
  T value;
  std::memcpy(&value, data, sizeof(T));
  return value;
}

// Return whether [offset, offset + length) lies within [0, limit), without overflow.
bool InRange(int64_t offset, int64_t length, int64_t limit) {
  return offset >= 0 && length >= 0 && offset <= limit && length <= limit - offset;
}

int64_t BitmapBytes(int64_t bits) { return bits / 8 + (bits % 8 != 0 ? 1 : 0); }

bool GetBit(const uint8_t* bits, int64_t index) { return (bits[index >> 3] >> (index & 7)) & 1; }

int64_t CountNulls(const uint8_t* bits, int64_t length) {
  int64_t set = 0;
  const int64_t full_bytes = length / 8;
  for (int64_t index = 0; index < full_bytes; ++index) set += std::popcount(bits[index]);
  for (int64_t row = full_bytes * 8; row < length; ++row) set += (bits[row >> 3] >> (row & 7)) & 1;
  return length - set;
}

// A flatbuffer's bytes at an 8-byte aligned address, as flatbuffers' accessors need:
// in place when the mapping already is aligned, else copied.
class AlignedFlatbuffer {
 public:
  AlignedFlatbuffer(const uint8_t* data, int64_t size) : data_(data), size_(size) {
    if (reinterpret_cast<uintptr_t>(data) % 8 != 0) {
      storage_.resize(static_cast<size_t>(size + 7) / 8);
      std::memcpy(storage_.data(), data, static_cast<size_t>(size));
      data_ = reinterpret_cast<const uint8_t*>(storage_.data());
    }
  }
  AlignedFlatbuffer(const AlignedFlatbuffer&) = delete;
  AlignedFlatbuffer& operator=(const AlignedFlatbuffer&) = delete;

  const uint8_t* data() const { return data_; }

  // Run the flatbuffers verifier with the root type checked by `verify`.
  template <typename VerifyFn>
  bool Verify(VerifyFn verify) const {
    if (size_ <= 0 || size_ >= static_cast<int64_t>(FLATBUFFERS_MAX_BUFFER_SIZE)) return false;
    flatbuffers::Verifier::Options options;
    options.max_depth = 64;
    options.max_tables = 100000;
    flatbuffers::Verifier verifier(data_, static_cast<size_t>(size_), options);
    return verify(verifier);
  }

 private:
  const uint8_t* data_;
  int64_t size_;
  std::vector<uint64_t> storage_;
};

// Copy struct `index` of a verified struct vector: copying avoids reading through a
// pointer that a crafted file may have misaligned.
template <typename T>
T StructAt(const flatbuffers::Vector<const T*>* vector, flatbuffers::uoffset_t index) {
  T value;
  std::memcpy(&value, reinterpret_cast<const uint8_t*>(vector->Data()) + index * sizeof(T),
              sizeof(T));
  return value;
}

std::string TypeName(fb::Type type) {
  const char* name = fb::EnumNameType(type);
  if (name == nullptr || *name == '\0') return "id " + std::to_string(static_cast<int>(type));
  return name;
}

Status Unsupported(std::string_view type, std::string_view column) {
  return Status::NotSupported("unsupported Arrow type ", type, " in column '", column, "'");
}

std::string TimeUnitName(fb::TimeUnit unit) {
  const char* name = fb::EnumNameTimeUnit(unit);
  if (name == nullptr || *name == '\0') return "unit " + std::to_string(static_cast<int>(unit));
  return name;
}

// Map the float type of a vector's child field; kNotSupported names what it is.
Status CheckVectorChild(const fb::Field* child, std::string_view column, int32_t dim) {
  if (child == nullptr) return Status::Corruption("column '", column, "' has a null child field");
  if (child->dictionary() != nullptr) {
    return Status::NotSupported("dictionary-encoded child of column '", column, "'");
  }
  const auto* floating = child->type_as_FloatingPoint();
  if (floating == nullptr || floating->precision() != fb::Precision::SINGLE) {
    std::string child_type = TypeName(child->type_type());
    if (floating != nullptr) child_type = fb::EnumNamePrecision(floating->precision());
    return Unsupported("FixedSizeList<" + child_type + ">[" + std::to_string(dim) + "]", column);
  }
  return Status::OK();
}

Result<Field> ParseField(const fb::Field* field) {
  if (field == nullptr) return Status::Corruption("schema holds a null field");
  Field out;
  out.name = field->name() != nullptr ? field->name()->str() : std::string();
  out.nullable = field->nullable();
  const std::string& name = out.name;
  if (field->dictionary() != nullptr) {
    return Status::NotSupported("dictionary-encoded column '", name, "'");
  }
  const fb::Type type = field->type_type();
  if (type == fb::Type::NONE) return Status::Corruption("column '", name, "' has no type");
  if (field->type() == nullptr) {
    return Status::Corruption("column '", name, "' lacks its ", TypeName(type), " type table");
  }
  const size_t num_children = field->children() != nullptr ? field->children()->size() : 0;
  const bool primitive = type == fb::Type::Int || type == fb::Type::FloatingPoint ||
                         type == fb::Type::Bool || type == fb::Type::Utf8 ||
                         type == fb::Type::Timestamp;
  if (primitive && num_children != 0) {
    return Status::Corruption("primitive column '", name, "' has ", num_children, " children");
  }
  switch (type) {
    case fb::Type::Int: {
      const auto* int_type = field->type_as_Int();
      const int32_t bits = int_type->bitWidth();
      if (int_type->is_signed() && bits == 32) {
        out.type = DataType::Int32();
      } else if (int_type->is_signed() && bits == 64) {
        out.type = DataType::Int64();
      } else {
        return Unsupported((int_type->is_signed() ? "Int" : "UInt") + std::to_string(bits), name);
      }
      return out;
    }
    case fb::Type::FloatingPoint: {
      const fb::Precision precision = field->type_as_FloatingPoint()->precision();
      if (precision == fb::Precision::SINGLE) {
        out.type = DataType::Float32();
      } else if (precision == fb::Precision::DOUBLE) {
        out.type = DataType::Float64();
      } else if (precision == fb::Precision::HALF) {
        return Unsupported("Float16", name);
      } else {
        return Status::Corruption("column '", name, "' has unknown float precision ",
                                  static_cast<int>(precision));
      }
      return out;
    }
    case fb::Type::Bool:
      out.type = DataType::Bool();
      return out;
    case fb::Type::Utf8:
      out.type = DataType::Utf8();
      return out;
    case fb::Type::Timestamp: {
      // A time zone does not change the stored UTC microseconds; it is dropped.
      const fb::TimeUnit unit = field->type_as_Timestamp()->unit();
      if (unit != fb::TimeUnit::MICROSECOND) {
        return Unsupported("Timestamp(" + TimeUnitName(unit) + ")", name);
      }
      out.type = DataType::Timestamp();
      return out;
    }
    case fb::Type::FixedSizeList: {
      const int32_t dim = field->type_as_FixedSizeList()->listSize();
      if (dim <= 0) return Status::Corruption("column '", name, "' has list size ", dim);
      if (num_children != 1) {
        return Status::Corruption("FixedSizeList column '", name, "' has ", num_children,
                                  " child fields, expected 1");
      }
      TESSERA_RETURN_IF_ERROR(CheckVectorChild(field->children()->Get(0), name, dim));
      out.type = DataType::Vector(dim);
      return out;
    }
    default:
      return Unsupported(TypeName(type), name);
  }
}

Result<Schema> ParseSchema(const fb::Schema* schema) {
  if (schema == nullptr) return Status::Corruption("footer has no schema");
  if (schema->endianness() != fb::Endianness::Little) {
    return Status::NotSupported("big-endian Arrow files are not supported");
  }
  std::vector<Field> fields;
  if (schema->fields() != nullptr) {
    for (flatbuffers::uoffset_t index = 0; index < schema->fields()->size(); ++index) {
      TESSERA_ASSIGN_OR_RETURN(Field field, ParseField(schema->fields()->Get(index)));
      fields.push_back(std::move(field));
    }
  }
  Result<Schema> parsed = Schema::Make(std::move(fields));
  if (!parsed.ok()) {
    return Status::NotSupported("Arrow schema not representable in Tessera: ",
                                parsed.status().message());
  }
  return parsed;
}

Status CheckVersion(fb::MetadataVersion version, std::string_view what) {
  if (version != fb::MetadataVersion::V4 && version != fb::MetadataVersion::V5) {
    return Status::NotSupported(what, " has Arrow metadata version ", static_cast<int>(version) + 1,
                                ", expected V4 or V5");
  }
  return Status::OK();
}

// Walks the field nodes and buffers of one record batch in schema order, checking
// each against the message body.
class LayoutWalker {
 public:
  LayoutWalker(const fb::RecordBatch* batch, int64_t body_offset, int64_t body_length)
      : nodes_(batch->nodes()),
        buffers_(batch->buffers()),
        body_offset_(body_offset),
        body_length_(body_length) {}

  Result<fb::FieldNode> NextNode(std::string_view column) {
    if (nodes_ == nullptr || node_index_ >= nodes_->size()) {
      return Status::Corruption("too few field nodes for column '", column, "'");
    }
    const fb::FieldNode node = StructAt(nodes_, node_index_++);
    if (node.length() < 0 || node.null_count() < 0 || node.null_count() > node.length()) {
      return Status::Corruption("column '", column, "' has field node length ", node.length(),
                                " with null count ", node.null_count());
    }
    return node;
  }

  Result<ArrowIpcBufferInfo> NextBuffer(std::string_view column, std::string_view role) {
    if (buffers_ == nullptr || buffer_index_ >= buffers_->size()) {
      return Status::Corruption("too few buffers for the ", role, " of column '", column, "'");
    }
    const fb::Buffer buffer = StructAt(buffers_, buffer_index_++);
    if (!InRange(buffer.offset(), buffer.length(), body_length_)) {
      return Status::Corruption(role, " buffer of column '", column, "' at body offset ",
                                buffer.offset(), " with length ", buffer.length(),
                                " lies outside the body of ", body_length_, " bytes");
    }
    return ArrowIpcBufferInfo{body_offset_ + buffer.offset(), buffer.length()};
  }

  Result<ArrowIpcColumnInfo> Column(const Field& field, int64_t num_rows) {
    const std::string& name = field.name;
    TESSERA_ASSIGN_OR_RETURN(const fb::FieldNode node, NextNode(name));
    if (node.length() != num_rows) {
      return Status::Corruption("column '", name, "' has ", node.length(),
                                " rows, record batch has ", num_rows);
    }
    ArrowIpcColumnInfo info;
    info.length = node.length();
    info.null_count = node.null_count();
    if (info.null_count > 0 && !field.nullable) {
      return Status::Corruption("non-nullable column '", name, "' has ", info.null_count, " nulls");
    }
    TESSERA_ASSIGN_OR_RETURN(info.validity, NextBuffer(name, "validity"));
    if (info.null_count > 0 && info.validity.length < BitmapBytes(info.length)) {
      return Status::Corruption("validity bitmap of column '", name, "' has ", info.validity.length,
                                " bytes, ", info.length, " rows need ", BitmapBytes(info.length));
    }
    const int64_t length = info.length;
    switch (field.type.id) {
      case TypeId::kBool: {
        TESSERA_ASSIGN_OR_RETURN(info.values, NextBuffer(name, "values"));
        TESSERA_RETURN_IF_ERROR(CheckSize(name, "values", info.values, BitmapBytes(length)));
        break;
      }
      case TypeId::kUtf8: {
        TESSERA_ASSIGN_OR_RETURN(info.values, NextBuffer(name, "offsets"));
        TESSERA_ASSIGN_OR_RETURN(info.data, NextBuffer(name, "data"));
        // A writer may omit the offsets of an empty array.
        if (length > 0 || info.values.length > 0) {
          if (length >= info.values.length / 4) {
            return Status::Corruption("offsets buffer of column '", name, "' has ",
                                      info.values.length, " bytes, too small for ", length,
                                      " rows");
          }
        }
        break;
      }
      case TypeId::kVector: {
        const int64_t dim = field.type.dim;
        TESSERA_ASSIGN_OR_RETURN(const fb::FieldNode child, NextNode(name));
        if (child.length() / dim < length) {
          return Status::Corruption("vector column '", name, "' has ", child.length(),
                                    " child values, fewer than ", length, " rows of dim ", dim,
                                    " need");
        }
        // Writers such as apache-arrow (JS) mark the elements of null vectors null too;
        // ReadBatch() accepts child nulls only there.
        info.child_null_count = child.null_count();
        TESSERA_ASSIGN_OR_RETURN(info.child_validity, NextBuffer(name, "child validity"));
        if (info.child_null_count > 0 && info.child_validity.length < BitmapBytes(length * dim)) {
          return Status::Corruption("child validity bitmap of column '", name, "' has ",
                                    info.child_validity.length, " bytes, too small for ",
                                    length * dim, " values");
        }
        TESSERA_ASSIGN_OR_RETURN(info.values, NextBuffer(name, "child values"));
        TESSERA_RETURN_IF_ERROR(CheckElements(name, info.values, length * dim, 4));
        break;
      }
      default: {
        TESSERA_ASSIGN_OR_RETURN(info.values, NextBuffer(name, "values"));
        TESSERA_RETURN_IF_ERROR(CheckElements(name, info.values, length, field.type.byte_width()));
      }
    }
    return info;
  }

  Status CheckAllConsumed() const {
    const size_t num_nodes = nodes_ != nullptr ? nodes_->size() : 0;
    const size_t num_buffers = buffers_ != nullptr ? buffers_->size() : 0;
    if (node_index_ != num_nodes || buffer_index_ != num_buffers) {
      return Status::Corruption("record batch has ", num_nodes, " field nodes and ", num_buffers,
                                " buffers, the schema needs ", node_index_, " and ", buffer_index_);
    }
    return Status::OK();
  }

 private:
  static Status CheckSize(std::string_view column, std::string_view role,
                          const ArrowIpcBufferInfo& buffer, int64_t needed) {
    if (buffer.length < needed) {
      return Status::Corruption(role, " buffer of column '", column, "' has ", buffer.length,
                                " bytes, needs ", needed);
    }
    return Status::OK();
  }
  static Status CheckElements(std::string_view column, const ArrowIpcBufferInfo& buffer,
                              int64_t count, int64_t width) {
    if (buffer.length / width < count) {
      return Status::Corruption("values buffer of column '", column, "' has ", buffer.length,
                                " bytes, too small for ", count, " values of ", width, " bytes");
    }
    return Status::OK();
  }

  const flatbuffers::Vector<const fb::FieldNode*>* nodes_;
  const flatbuffers::Vector<const fb::Buffer*>* buffers_;
  int64_t body_offset_;
  int64_t body_length_;
  flatbuffers::uoffset_t node_index_ = 0;
  flatbuffers::uoffset_t buffer_index_ = 0;
};

// Check that the child of vector column `column` has nulls only inside null vectors
// (`validity` is the column's bitmap, empty when it has no nulls).
Status CheckVectorElementsValid(const uint8_t* base, const ArrowIpcColumnInfo& column,
                                const Buffer& validity, const Field& field) {
  const uint8_t* child_bits = base + column.child_validity.offset;
  const int64_t dim = field.type.dim;
  for (int64_t row = 0; row < column.length; ++row) {
    if (!validity.empty() && !GetBit(validity.data, row)) continue;
    for (int64_t element = row * dim; element < (row + 1) * dim; ++element) {
      if (!GetBit(child_bits, element)) {
        return Status::NotSupported("vector column '", field.name, "' has a null element in row ",
                                    row);
      }
    }
  }
  return Status::OK();
}

// Validate the record batch message of `block` and return its layout.
Result<ArrowIpcBatchInfo> ParseBatch(const uint8_t* base, int64_t limit, const fb::Block& block,
                                     const Schema& schema) {
  ArrowIpcBatchInfo info;
  info.offset = block.offset();
  info.metadata_length = block.metaDataLength();
  info.body_length = block.bodyLength();
  if (info.offset < kHeaderSize || info.offset % 8 != 0) {
    return Status::Corruption("message offset ", info.offset, " is not an aligned file offset");
  }
  if (info.metadata_length < 8 || !InRange(info.offset, info.metadata_length, limit)) {
    return Status::Corruption("message metadata at ", info.offset, " with length ",
                              info.metadata_length, " lies outside the file");
  }
  info.body_offset = info.offset + info.metadata_length;
  if (!InRange(info.body_offset, info.body_length, limit)) {
    return Status::Corruption("message body at ", info.body_offset, " with length ",
                              info.body_length, " lies outside the file");
  }
  // Prefix: continuation marker + int32 length, or (before Arrow 0.15) the length alone.
  const uint8_t* message = base + info.offset;
  int64_t prefix = 8;
  int64_t flatbuffer_length = LoadLittleEndian<int32_t>(message + 4);
  if (LoadLittleEndian<uint32_t>(message) != kContinuation) {
    prefix = 4;
    flatbuffer_length = LoadLittleEndian<int32_t>(message);
  }
  if (flatbuffer_length <= 0 || flatbuffer_length > info.metadata_length - prefix) {
    return Status::Corruption("message flatbuffer length ", flatbuffer_length,
                              " does not fit the block's metadata length ", info.metadata_length);
  }
  const AlignedFlatbuffer bytes(message + prefix, flatbuffer_length);
  if (!bytes.Verify([](flatbuffers::Verifier& v) { return fb::VerifyMessageBuffer(v); })) {
    return Status::Corruption("message flatbuffer fails verification");
  }
  const fb::Message* parsed = fb::GetMessage(bytes.data());
  TESSERA_RETURN_IF_ERROR(CheckVersion(parsed->version(), "message"));
  if (parsed->header_type() == fb::MessageHeader::DictionaryBatch) {
    return Status::NotSupported("dictionary batches are not supported");
  }
  if (parsed->header_type() != fb::MessageHeader::RecordBatch) {
    return Status::Corruption("block holds a message of header type ",
                              static_cast<int>(parsed->header_type()), ", expected RecordBatch");
  }
  const fb::RecordBatch* batch = parsed->header_as_RecordBatch();
  if (batch == nullptr) return Status::Corruption("RecordBatch message without its header");
  if (parsed->bodyLength() != info.body_length) {
    return Status::Corruption("message body length ", parsed->bodyLength(), " differs from ",
                              info.body_length, " in the footer");
  }
  if (batch->compression() != nullptr) {
    return Status::NotSupported("compressed record batches are not supported");
  }
  info.num_rows = batch->length();
  if (info.num_rows < 0) return Status::Corruption("record batch length ", info.num_rows);
  if (schema.num_fields() == 0 && info.num_rows > 0) {
    return Status::NotSupported("record batch of ", info.num_rows, " rows without columns");
  }
  LayoutWalker walker(batch, info.body_offset, info.body_length);
  for (const Field& field : schema.fields()) {
    TESSERA_ASSIGN_OR_RETURN(ArrowIpcColumnInfo column, walker.Column(field, info.num_rows));
    info.columns.push_back(column);
  }
  TESSERA_RETURN_IF_ERROR(walker.CheckAllConsumed());
  return info;
}

}  // namespace

Result<std::unique_ptr<ArrowIpcFileReader>> ArrowIpcFileReader::Open(
    std::shared_ptr<const io::MappedFile> file) {
  if (file == nullptr) return Status::InvalidArgument("arrow ipc reader: null file");
  const uint8_t* base = file->data();
  const int64_t size = file->size();
  if (size < kHeaderSize + kTrailerSize) {
    return Status::Corruption("file of ", size, " bytes is too small for an Arrow IPC file");
  }
  if (std::memcmp(base, kArrowIpcMagic.data(), kMagicSize) != 0) {
    return Status::Corruption("leading ARROW1 magic missing");
  }
  if (std::memcmp(base + size - kMagicSize, kArrowIpcMagic.data(), kMagicSize) != 0) {
    return Status::Corruption("trailing ARROW1 magic missing");
  }
  const int64_t footer_length = LoadLittleEndian<int32_t>(base + size - kTrailerSize);
  if (footer_length <= 0 || footer_length > size - kHeaderSize - kTrailerSize) {
    return Status::Corruption("footer length ", footer_length, " does not fit a file of ", size,
                              " bytes");
  }
  const int64_t footer_offset = size - kTrailerSize - footer_length;
  const AlignedFlatbuffer footer_bytes(base + footer_offset, footer_length);
  if (!footer_bytes.Verify([](flatbuffers::Verifier& v) { return fb::VerifyFooterBuffer(v); })) {
    return Status::Corruption("footer flatbuffer fails verification");
  }
  const fb::Footer* footer = fb::GetFooter(footer_bytes.data());
  TESSERA_RETURN_IF_ERROR(CheckVersion(footer->version(), "footer"));

  std::unique_ptr<ArrowIpcFileReader> reader(new ArrowIpcFileReader());
  TESSERA_ASSIGN_OR_RETURN(reader->schema_, ParseSchema(footer->schema()));
  if (footer->dictionaries() != nullptr && footer->dictionaries()->size() > 0) {
    return Status::NotSupported("dictionary batches are not supported");
  }
  if (const auto* blocks = footer->recordBatches(); blocks != nullptr) {
    for (flatbuffers::uoffset_t index = 0; index < blocks->size(); ++index) {
      Result<ArrowIpcBatchInfo> batch =
          ParseBatch(base, footer_offset, StructAt(blocks, index), reader->schema_);
      if (!batch.ok()) return batch.status().WithContext("record batch ", index);
      reader->num_rows_ += batch->num_rows;
      reader->batches_.push_back(std::move(batch).value());
    }
  }
  reader->file_ = std::move(file);
  return reader;
}

Result<RecordBatch> ArrowIpcFileReader::ReadBatch(int index) const {
  if (index < 0 || index >= num_batches()) {
    return Status::InvalidArgument("record batch ", index, " out of range [0, ", num_batches(),
                                   ")");
  }
  const ArrowIpcBatchInfo& info = batches_[index];
  const uint8_t* base = file_->data();
  // Borrow the bytes when aligned enough for their type, else copy them.
  auto slice = [&](const ArrowIpcBufferInfo& buffer, int64_t alignment) {
    const uint8_t* data = base + buffer.offset;
    if (reinterpret_cast<uintptr_t>(data) % static_cast<uintptr_t>(alignment) != 0) {
      return Buffer::Copy(data, buffer.length);
    }
    return Buffer{data, buffer.length, file_};
  };
  std::vector<Array> columns;
  columns.reserve(info.columns.size());
  for (size_t column_index = 0; column_index < info.columns.size(); ++column_index) {
    const ArrowIpcColumnInfo& column = info.columns[column_index];
    const Field& field = schema_.field(static_cast<int>(column_index));
    const std::string& name = field.name;
    Buffer validity;
    if (column.null_count > 0) {
      validity = slice(column.validity, 1);
      const int64_t nulls = CountNulls(validity.data, column.length);
      if (nulls != column.null_count) {
        return Status::Corruption("record batch ", index, ": column '", name, "' has ", nulls,
                                  " nulls in its bitmap but a null count of ", column.null_count);
      }
    }
    Buffer values;
    Buffer data;
    switch (field.type.id) {
      case TypeId::kBool:
        values = slice(column.values, 1);
        break;
      case TypeId::kUtf8: {
        if (column.length == 0 && column.values.length == 0) {
          values = Buffer::Copy("\0\0\0\0", 4);
        } else {
          values = slice(column.values, 4);
        }
        data = slice(column.data, 1);
        const auto* offsets = reinterpret_cast<const int32_t*>(values.data);
        if (offsets[0] < 0 || offsets[column.length] > column.data.length) {
          return Status::Corruption("record batch ", index, ": offsets of column '", name,
                                    "' span [", offsets[0], ", ", offsets[column.length],
                                    ") outside the data buffer of ", column.data.length, " bytes");
        }
        for (int64_t row = 0; row < column.length; ++row) {
          if (offsets[row + 1] < offsets[row]) {
            return Status::Corruption("record batch ", index, ": offsets of column '", name,
                                      "' decrease at row ", row);
          }
        }
        break;
      }
      case TypeId::kVector:
        values = slice(column.values, 4);
        if (column.child_null_count > 0) {
          TESSERA_RETURN_IF_ERROR(CheckVectorElementsValid(base, column, validity, field)
                                      .WithContext("record batch ", index));
        }
        break;
      default:
        values = slice(column.values, field.type.byte_width());
    }
    Result<Array> array = Array::Make(field.type, column.length, std::move(validity),
                                      std::move(values), std::move(data), column.null_count);
    if (!array.ok()) {
      return Status::Corruption("record batch ", index, ": column '", name,
                                "': ", array.status().message());
    }
    columns.push_back(std::move(array).value());
  }
  Result<RecordBatch> batch = RecordBatch::Make(schema_, std::move(columns));
  if (!batch.ok()) {
    return Status::Corruption("record batch ", index, ": ", batch.status().message());
  }
  return batch;
}

Result<RecordBatch> ArrowIpcFileReader::ReadAll() const {
  if (batches_.empty()) return RecordBatch::Empty(schema_);
  if (batches_.size() == 1) return ReadBatch(0);
  std::vector<RecordBatch> batches;
  batches.reserve(batches_.size());
  for (int index = 0; index < num_batches(); ++index) {
    TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, ReadBatch(index));
    batches.push_back(std::move(batch));
  }
  return RecordBatch::Concatenate(schema_, batches);
}

// ---------------------------------------------------------------------------
// JSON rendering for `tessera inspect`.

namespace {

std::string ArrowTypeName(const DataType& type) {
  switch (type.id) {
    case TypeId::kInt32:
      return "Int(32, signed)";
    case TypeId::kInt64:
      return "Int(64, signed)";
    case TypeId::kFloat32:
      return "FloatingPoint(SINGLE)";
    case TypeId::kFloat64:
      return "FloatingPoint(DOUBLE)";
    case TypeId::kBool:
      return "Bool";
    case TypeId::kUtf8:
      return "Utf8";
    case TypeId::kTimestamp:
      return "Timestamp(MICROSECOND)";
    case TypeId::kVector:
      return "FixedSizeList<FloatingPoint(SINGLE)>(" + std::to_string(type.dim) + ")";
  }
  return "?";
}

nlohmann::json BufferJson(const ArrowIpcBufferInfo& buffer) {
  return {{"offset", buffer.offset}, {"length", buffer.length}};
}

nlohmann::json ValueJson(const Value& value) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(bool v) const { return v; }
    nlohmann::json operator()(int64_t v) const { return v; }
    nlohmann::json operator()(double v) const { return v; }
    nlohmann::json operator()(const std::string& v) const { return v; }
    nlohmann::json operator()(const std::vector<float>& v) const {
      // Print each float in its shortest form ("0.1", not "0.10000000149011612").
      nlohmann::json out = nlohmann::json::array();
      for (float element : v) {
        char text[32];
        *std::to_chars(text, text + sizeof(text) - 1, element).ptr = '\0';
        out.push_back(std::isfinite(element) ? nlohmann::json(std::strtod(text, nullptr))
                                             : nlohmann::json(nullptr));
      }
      return out;
    }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace

std::string ArrowIpcFileToJson(const ArrowIpcFileReader& reader, int64_t max_rows) {
  nlohmann::json doc;
  doc["format"] = "arrow_ipc_file";
  const Schema& schema = reader.schema();
  nlohmann::json fields = nlohmann::json::array();
  for (const Field& field : schema.fields()) {
    fields.push_back({{"name", field.name},
                      {"type", field.type.ToString()},
                      {"arrow_type", ArrowTypeName(field.type)},
                      {"nullable", field.nullable}});
  }
  doc["schema"] = {{"fields", fields}};
  doc["num_batches"] = reader.num_batches();
  doc["num_rows"] = reader.num_rows();
  nlohmann::json batches = nlohmann::json::array();
  for (int index = 0; index < reader.num_batches(); ++index) {
    const ArrowIpcBatchInfo& info = reader.batch_info(index);
    nlohmann::json columns = nlohmann::json::array();
    for (size_t column = 0; column < info.columns.size(); ++column) {
      const ArrowIpcColumnInfo& layout = info.columns[column];
      nlohmann::json entry = {{"name", schema.field(static_cast<int>(column)).name},
                              {"length", layout.length},
                              {"null_count", layout.null_count},
                              {"validity", BufferJson(layout.validity)},
                              {"values", BufferJson(layout.values)}};
      if (schema.field(static_cast<int>(column)).type.id == TypeId::kUtf8) {
        entry["data"] = BufferJson(layout.data);
      }
      columns.push_back(std::move(entry));
    }
    batches.push_back({{"index", index},
                       {"num_rows", info.num_rows},
                       {"offset", info.offset},
                       {"metadata_length", info.metadata_length},
                       {"body_offset", info.body_offset},
                       {"body_length", info.body_length},
                       {"columns", std::move(columns)}});
  }
  doc["batches"] = std::move(batches);
  nlohmann::json rows = nlohmann::json::array();
  int64_t remaining = max_rows;
  for (int index = 0; index < reader.num_batches() && remaining > 0; ++index) {
    Result<RecordBatch> batch = reader.ReadBatch(index);
    if (!batch.ok()) {
      doc["error"] = batch.status().ToString();
      break;
    }
    for (int64_t row = 0; row < batch->num_rows() && remaining > 0; ++row, --remaining) {
      nlohmann::json record = nlohmann::json::object();
      for (int column = 0; column < batch->num_columns(); ++column) {
        record[schema.field(column).name] = ValueJson(batch->column(column).GetValue(row));
      }
      rows.push_back(std::move(record));
    }
  }
  doc["rows"] = std::move(rows);
  doc["rows_truncated"] = max_rows < reader.num_rows();
  // Replace invalid UTF-8 in names or strings instead of throwing.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tessera::format
