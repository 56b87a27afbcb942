#include "format/arrow_ipc_writer.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <deque>
#include <utility>

#include "flatbuffers/flatbuffers.h"
#include "format/arrow_file_generated.h"
#include "format/arrow_message_generated.h"
#include "format/arrow_schema_generated.h"

namespace tessera::format {
namespace {

namespace fb = org::apache::arrow::flatbuf;

static_assert(std::endian::native == std::endian::little,
              "the Arrow IPC writer copies little-endian memory as is");

constexpr uint32_t kContinuation = 0xFFFFFFFFu;

int64_t PaddedSize(int64_t size, int64_t alignment) {
  return (size + alignment - 1) / alignment * alignment;
}

int64_t BitmapBytes(int64_t bits) { return (bits + 7) / 8; }

// Return bits [offset, offset + length) of `bits` re-based to bit 0, trailing bits zero.
std::vector<uint8_t> CopyBits(const uint8_t* bits, int64_t offset, int64_t length) {
  std::vector<uint8_t> out(static_cast<size_t>(BitmapBytes(length)), 0);
  if (length == 0) return out;
  if (offset % 8 == 0) {
    std::memcpy(out.data(), bits + offset / 8, out.size());
    if (length % 8 != 0) out.back() &= static_cast<uint8_t>((1u << (length % 8)) - 1);
    return out;
  }
  for (int64_t row = 0; row < length; ++row) {
    const int64_t src = offset + row;
    if ((bits[src >> 3] >> (src & 7)) & 1) out[row >> 3] |= static_cast<uint8_t>(1u << (row & 7));
  }
  return out;
}

// Appends `field` (and, for vectors, its child) to a Field vector under construction.
flatbuffers::Offset<fb::Field> BuildField(flatbuffers::FlatBufferBuilder& fbb, const Field& field) {
  const auto no_children = fbb.CreateVector(std::vector<flatbuffers::Offset<fb::Field>>{});
  flatbuffers::Offset<void> type;
  fb::Type type_type = fb::Type::NONE;
  std::vector<flatbuffers::Offset<fb::Field>> children;
  switch (field.type.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
      type_type = fb::Type::Int;
      type =
          fb::CreateInt(fbb, field.type.id == TypeId::kInt32 ? 32 : 64, /*is_signed=*/true).Union();
      break;
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      type_type = fb::Type::FloatingPoint;
      type = fb::CreateFloatingPoint(fbb, field.type.id == TypeId::kFloat32 ? fb::Precision::SINGLE
                                                                            : fb::Precision::DOUBLE)
                 .Union();
      break;
    case TypeId::kBool:
      type_type = fb::Type::Bool;
      type = fb::CreateBool(fbb).Union();
      break;
    case TypeId::kUtf8:
      type_type = fb::Type::Utf8;
      type = fb::CreateUtf8(fbb).Union();
      break;
    case TypeId::kTimestamp:
      type_type = fb::Type::Timestamp;
      type = fb::CreateTimestamp(fbb, fb::TimeUnit::MICROSECOND).Union();
      break;
    case TypeId::kVector: {
      const auto item_type = fb::CreateFloatingPoint(fbb, fb::Precision::SINGLE).Union();
      children.push_back(fb::CreateField(fbb, fbb.CreateString("item"), /*nullable=*/false,
                                         fb::Type::FloatingPoint, item_type, 0, no_children));
      type_type = fb::Type::FixedSizeList;
      type = fb::CreateFixedSizeList(fbb, field.type.dim).Union();
      break;
    }
  }
  const auto name = fbb.CreateString(field.name);
  const auto child_vector = children.empty() ? no_children : fbb.CreateVector(children);
  return fb::CreateField(fbb, name, field.nullable, type_type, type, 0, child_vector);
}

flatbuffers::Offset<fb::Schema> BuildSchema(flatbuffers::FlatBufferBuilder& fbb,
                                            const Schema& schema) {
  std::vector<flatbuffers::Offset<fb::Field>> fields;
  fields.reserve(schema.fields().size());
  for (const Field& field : schema.fields()) fields.push_back(BuildField(fbb, field));
  return fb::CreateSchema(fbb, fb::Endianness::Little, fbb.CreateVector(fields));
}

// The body of one record batch message: the buffers in Arrow's pre-order, each
// placed at a 64-byte aligned body offset and padded to 64 bytes.
class BodyBuilder {
 public:
  void AddNode(int64_t length, int64_t null_count) { nodes_.emplace_back(length, null_count); }

  // Add a buffer that borrows `data` (which must outlive the write).
  void AddBorrowed(const uint8_t* data, int64_t size) {
    buffers_.emplace_back(body_length_, size);
    pieces_.push_back({data, size});
    body_length_ += PaddedSize(size, kArrowIpcAlignment);
  }
  void AddOwned(std::vector<uint8_t> bytes) {
    owned_.push_back(std::move(bytes));
    AddBorrowed(owned_.back().data(), static_cast<int64_t>(owned_.back().size()));
  }
  void AddEmpty() { AddBorrowed(nullptr, 0); }

  void AddValidity(const Array& array) {
    if (array.null_count() == 0 || array.validity().empty()) {
      AddEmpty();
    } else {
      AddOwned(CopyBits(array.validity().data, array.offset(), array.length()));
    }
  }

  void AddColumn(const Array& array) {
    const int64_t length = array.length();
    const int64_t offset = array.offset();
    AddNode(length, array.validity().empty() ? 0 : array.null_count());
    AddValidity(array);
    const DataType& type = array.type();
    switch (type.id) {
      case TypeId::kBool:
        AddOwned(CopyBits(array.values().data, offset, length));
        break;
      case TypeId::kUtf8:
        AddUtf8(array);
        break;
      case TypeId::kVector: {
        // The child "item": length * dim floats, never null.
        AddNode(length * type.dim, 0);
        AddEmpty();
        const int64_t width = type.byte_width();
        AddBorrowed(array.values().data + offset * width, length * width);
        break;
      }
      default: {
        const int64_t width = type.byte_width();
        AddBorrowed(array.values().data + offset * width, length * width);
      }
    }
  }

  const std::vector<fb::FieldNode>& nodes() const { return nodes_; }
  const std::vector<fb::Buffer>& buffers() const { return buffers_; }
  int64_t body_length() const { return body_length_; }

  // Append the body to `out` via `append` / `append_zeros`.
  template <typename AppendFn, typename ZerosFn>
  Status Write(AppendFn append, ZerosFn append_zeros) const {
    for (const Piece& piece : pieces_) {
      if (piece.size > 0) {
        TESSERA_RETURN_IF_ERROR(append(std::string_view(reinterpret_cast<const char*>(piece.data),
                                                        static_cast<size_t>(piece.size))));
      }
      TESSERA_RETURN_IF_ERROR(
          append_zeros(PaddedSize(piece.size, kArrowIpcAlignment) - piece.size));
    }
    return Status::OK();
  }

 private:
  struct Piece {
    const uint8_t* data;
    int64_t size;
  };

  void AddUtf8(const Array& array) {
    const int64_t length = array.length();
    if (length == 0 || array.values().data == nullptr) {
      AddOwned(std::vector<uint8_t>(4, 0));  // a single offset 0
      AddEmpty();
      return;
    }
    const auto* offsets = reinterpret_cast<const int32_t*>(array.values().data) + array.offset();
    const int32_t first = offsets[0];
    const int32_t last = offsets[length];
    if (first == 0) {
      AddBorrowed(reinterpret_cast<const uint8_t*>(offsets), (length + 1) * 4);
    } else {
      std::vector<uint8_t> rebased(static_cast<size_t>(length + 1) * 4);
      for (int64_t row = 0; row <= length; ++row) {
        const int32_t value = offsets[row] - first;
        std::memcpy(rebased.data() + row * 4, &value, 4);
      }
      AddOwned(std::move(rebased));
    }
    AddBorrowed(array.data().data + first, last - first);
  }

  std::vector<fb::FieldNode> nodes_;
  std::vector<fb::Buffer> buffers_;
  std::vector<Piece> pieces_;
  std::deque<std::vector<uint8_t>> owned_;  // deque: element addresses stay put
  int64_t body_length_ = 0;
};

// A WritableFile appending to a string.
class StringFile final : public io::WritableFile {
 public:
  Status Append(std::string_view bytes) override {
    contents.append(bytes);
    return Status::OK();
  }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }

  std::string contents;
};

}  // namespace

ArrowIpcFileWriter::ArrowIpcFileWriter(io::WritableFile* out, Schema schema)
    : out_(out), schema_(std::move(schema)) {}

Result<std::unique_ptr<ArrowIpcFileWriter>> ArrowIpcFileWriter::Open(io::WritableFile* out,
                                                                     const Schema& schema) {
  if (out == nullptr) return Status::InvalidArgument("arrow ipc writer: null output file");
  std::unique_ptr<ArrowIpcFileWriter> writer(new ArrowIpcFileWriter(out, schema));
  // Leading magic, padded to 8 bytes.
  TESSERA_RETURN_IF_ERROR(writer->Append(kArrowIpcMagic));
  TESSERA_RETURN_IF_ERROR(writer->AppendZeros(2));
  // The schema message (no body).
  flatbuffers::FlatBufferBuilder fbb(1024);
  const auto header = BuildSchema(fbb, schema).Union();
  fbb.Finish(fb::CreateMessage(fbb, fb::MetadataVersion::V5, fb::MessageHeader::Schema, header,
                               /*bodyLength=*/0));
  const int64_t size = fbb.GetSize();
  const int64_t padded = PaddedSize(8 + size, 8) - 8;
  const uint32_t prefix[2] = {kContinuation, static_cast<uint32_t>(padded)};
  TESSERA_RETURN_IF_ERROR(
      writer->Append(std::string_view(reinterpret_cast<const char*>(prefix), 8)));
  TESSERA_RETURN_IF_ERROR(writer->Append(
      std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), size)));
  TESSERA_RETURN_IF_ERROR(writer->AppendZeros(padded - size));
  return writer;
}

Status ArrowIpcFileWriter::CheckUsable() const {
  if (failed_) return Status::InvalidArgument("arrow ipc writer: an earlier write failed");
  if (finished_) return Status::InvalidArgument("arrow ipc writer: already finished");
  return Status::OK();
}

Status ArrowIpcFileWriter::Append(std::string_view bytes) {
  Status status = out_->Append(bytes);
  if (!status.ok()) {
    failed_ = true;
    return status;
  }
  bytes_written_ += static_cast<int64_t>(bytes.size());
  return Status::OK();
}

Status ArrowIpcFileWriter::AppendZeros(int64_t count) {
  static constexpr char kZeros[kArrowIpcAlignment] = {};
  while (count > 0) {
    const int64_t chunk = std::min<int64_t>(count, kArrowIpcAlignment);
    TESSERA_RETURN_IF_ERROR(Append(std::string_view(kZeros, static_cast<size_t>(chunk))));
    count -= chunk;
  }
  return Status::OK();
}

Status ArrowIpcFileWriter::WriteBatch(const RecordBatch& batch) {
  TESSERA_RETURN_IF_ERROR(CheckUsable());
  if (!(batch.schema() == schema_)) {
    return Status::InvalidArgument("arrow ipc writer: batch schema '", batch.schema().ToString(),
                                   "' differs from file schema '", schema_.ToString(), "'");
  }
  BodyBuilder body;
  for (const Array& column : batch.columns()) body.AddColumn(column);

  flatbuffers::FlatBufferBuilder fbb(1024);
  const auto nodes = fbb.CreateVectorOfStructs(body.nodes());
  const auto buffers = fbb.CreateVectorOfStructs(body.buffers());
  const auto header = fb::CreateRecordBatch(fbb, batch.num_rows(), nodes, buffers).Union();
  fbb.Finish(fb::CreateMessage(fbb, fb::MetadataVersion::V5, fb::MessageHeader::RecordBatch, header,
                               body.body_length()));
  const int64_t size = fbb.GetSize();

  // Pad the metadata so that the body starts at a 64-byte aligned file offset.
  const int64_t message_offset = bytes_written_;
  const int64_t body_offset = PaddedSize(message_offset + 8 + size, kArrowIpcAlignment);
  const int64_t metadata_length = body_offset - message_offset;
  const uint32_t prefix[2] = {kContinuation, static_cast<uint32_t>(metadata_length - 8)};
  TESSERA_RETURN_IF_ERROR(Append(std::string_view(reinterpret_cast<const char*>(prefix), 8)));
  TESSERA_RETURN_IF_ERROR(
      Append(std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), size)));
  TESSERA_RETURN_IF_ERROR(AppendZeros(metadata_length - 8 - size));
  TESSERA_RETURN_IF_ERROR(body.Write([this](std::string_view bytes) { return Append(bytes); },
                                     [this](int64_t count) { return AppendZeros(count); }));
  blocks_.push_back({message_offset, static_cast<int32_t>(metadata_length), body.body_length()});
  return Status::OK();
}

Status ArrowIpcFileWriter::Finish() {
  TESSERA_RETURN_IF_ERROR(CheckUsable());
  // End-of-stream marker, for readers that read the file sequentially as a stream.
  const uint32_t eos[2] = {kContinuation, 0};
  TESSERA_RETURN_IF_ERROR(Append(std::string_view(reinterpret_cast<const char*>(eos), 8)));

  flatbuffers::FlatBufferBuilder fbb(1024);
  const auto schema = BuildSchema(fbb, schema_);
  std::vector<fb::Block> blocks;
  blocks.reserve(blocks_.size());
  for (const BlockInfo& block : blocks_) {
    blocks.emplace_back(block.offset, block.metadata_length, block.body_length);
  }
  const auto dictionaries = fbb.CreateVectorOfStructs(std::vector<fb::Block>{});
  const auto record_batches = fbb.CreateVectorOfStructs(blocks);
  fbb.Finish(fb::CreateFooter(fbb, fb::MetadataVersion::V5, schema, dictionaries, record_batches));
  const int64_t size = fbb.GetSize();
  TESSERA_RETURN_IF_ERROR(
      Append(std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), size)));
  const int32_t footer_size = static_cast<int32_t>(size);
  TESSERA_RETURN_IF_ERROR(Append(std::string_view(reinterpret_cast<const char*>(&footer_size), 4)));
  TESSERA_RETURN_IF_ERROR(Append(kArrowIpcMagic));
  finished_ = true;
  return Status::OK();
}

Result<int64_t> WriteArrowIpcFile(io::WritableFile* out, const RecordBatch& batch) {
  TESSERA_ASSIGN_OR_RETURN(auto writer, ArrowIpcFileWriter::Open(out, batch.schema()));
  TESSERA_RETURN_IF_ERROR(writer->WriteBatch(batch));
  TESSERA_RETURN_IF_ERROR(writer->Finish());
  return writer->bytes_written();
}

Result<std::string> EncodeArrowIpcFile(const Schema& schema, std::span<const RecordBatch> batches) {
  StringFile file;
  TESSERA_ASSIGN_OR_RETURN(auto writer, ArrowIpcFileWriter::Open(&file, schema));
  for (const RecordBatch& batch : batches) TESSERA_RETURN_IF_ERROR(writer->WriteBatch(batch));
  TESSERA_RETURN_IF_ERROR(writer->Finish());
  return std::move(file.contents);
}

std::string EncodeArrowIpcFile(const RecordBatch& batch) {
  // Cannot fail: the string file never errors and the batch matches its own schema.
  Result<std::string> bytes = EncodeArrowIpcFile(batch.schema(), std::span(&batch, 1));
  return bytes.ok() ? std::move(bytes).value() : std::string();
}

}  // namespace tessera::format
