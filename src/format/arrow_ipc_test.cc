#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "format/arrow_file_generated.h"
#include "format/arrow_ipc_reader.h"
#include "format/arrow_ipc_writer.h"
#include "format/arrow_message_generated.h"
#include "format/arrow_schema_generated.h"
#include "io/file_system.h"

namespace tessera::format {
namespace {

namespace fb = org::apache::arrow::flatbuf;

Schema AllTypesSchema(bool nullable) {
  std::vector<Field> fields = {
      {"i32", DataType::Int32(), nullable},    {"i64", DataType::Int64(), nullable},
      {"f32", DataType::Float32(), nullable},  {"f64", DataType::Float64(), nullable},
      {"b", DataType::Bool(), nullable},       {"s", DataType::Utf8(), nullable},
      {"ts", DataType::Timestamp(), nullable}, {"v", DataType::Vector(5), nullable},
      {"v1", DataType::Vector(1), nullable},
  };
  return Schema::Make(std::move(fields)).value();
}

Value RandomValue(const DataType& type, std::mt19937_64& rng) {
  switch (type.id) {
    case TypeId::kInt32:
      return static_cast<int64_t>(static_cast<int32_t>(rng()));
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return static_cast<int64_t>(rng());
    case TypeId::kFloat32:
      return static_cast<double>(std::uniform_real_distribution<float>(-1e6f, 1e6f)(rng));
    case TypeId::kFloat64:
      return std::uniform_real_distribution<double>(-1e300, 1e300)(rng);
    case TypeId::kBool:
      return (rng() & 1) != 0;
    case TypeId::kUtf8: {
      static const char* const kPieces[] = {"a", "Z", "0", " ", "é", "雪", "🙂", "\"", "\\"};
      std::string text;
      const int pieces = static_cast<int>(rng() % 12);
      for (int piece = 0; piece < pieces; ++piece) text += kPieces[rng() % 9];
      return text;
    }
    case TypeId::kVector: {
      std::vector<float> vector(static_cast<size_t>(type.dim));
      for (float& element : vector) {
        element = std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng);
      }
      return vector;
    }
  }
  return std::monostate{};
}

RecordBatch RandomBatch(const Schema& schema, int64_t num_rows, uint64_t seed,
                        double null_probability) {
  std::mt19937_64 rng(seed);
  RecordBatchBuilder builder(schema);
  for (int64_t row = 0; row < num_rows; ++row) {
    std::vector<Value> values;
    for (const Field& field : schema.fields()) {
      const bool null =
          field.nullable && std::uniform_real_distribution<double>(0, 1)(rng) < null_probability;
      values.push_back(null ? Value(std::monostate{}) : RandomValue(field.type, rng));
    }
    EXPECT_TRUE(builder.AppendRow(values).ok());
  }
  return builder.Finish().value();
}

void ExpectBatchesEqual(const RecordBatch& expected, const RecordBatch& actual) {
  ASSERT_EQ(expected.schema(), actual.schema());
  ASSERT_EQ(expected.num_rows(), actual.num_rows());
  for (int column = 0; column < expected.num_columns(); ++column) {
    EXPECT_EQ(expected.column(column).null_count(), actual.column(column).null_count())
        << expected.schema().field(column).name;
    for (int64_t row = 0; row < expected.num_rows(); ++row) {
      ASSERT_EQ(expected.column(column).GetValue(row), actual.column(column).GetValue(row))
          << "column " << expected.schema().field(column).name << " row " << row;
    }
  }
}

Result<std::unique_ptr<ArrowIpcFileReader>> OpenBytes(std::string bytes) {
  return ArrowIpcFileReader::Open(io::MappedFileFromString(std::move(bytes)));
}

// Read every batch and every cell; return the first error.
Status ReadEverything(const std::string& bytes) {
  TESSERA_ASSIGN_OR_RETURN(auto reader, OpenBytes(bytes));
  for (int index = 0; index < reader->num_batches(); ++index) {
    TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, reader->ReadBatch(index));
    for (const Array& column : batch.columns()) {
      for (int64_t row = 0; row < batch.num_rows(); ++row) (void)column.GetValue(row);
    }
  }
  (void)ArrowIpcFileToJson(*reader, 5);
  return Status::OK();
}

TEST(ArrowIpcTest, RoundTripsEveryTypeWithAndWithoutNulls) {
  for (const bool nullable : {false, true}) {
    const Schema schema = AllTypesSchema(nullable);
    for (const int64_t num_rows : {0, 1, 7, 8, 9, 63, 64, 65, 300}) {
      for (uint64_t seed = 1; seed <= 3; ++seed) {
        const RecordBatch batch = RandomBatch(schema, num_rows, seed * 1000 + num_rows, 0.3);
        auto reader = OpenBytes(EncodeArrowIpcFile(batch));
        ASSERT_TRUE(reader.ok()) << reader.status();
        EXPECT_EQ((*reader)->schema(), schema);
        EXPECT_EQ((*reader)->num_batches(), 1);
        EXPECT_EQ((*reader)->num_rows(), num_rows);
        auto read = (*reader)->ReadAll();
        ASSERT_TRUE(read.ok()) << read.status();
        ExpectBatchesEqual(batch, *read);
      }
    }
  }
}

TEST(ArrowIpcTest, RoundTripsAllNullColumns) {
  const Schema schema = AllTypesSchema(true);
  const RecordBatch batch = RandomBatch(schema, 37, 5, 1.0);
  auto reader = OpenBytes(EncodeArrowIpcFile(batch));
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto read = (*reader)->ReadAll();
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectBatchesEqual(batch, *read);
  EXPECT_EQ(read->column(0).null_count(), 37);
}

TEST(ArrowIpcTest, RoundTripsSlicedBatches) {
  const Schema schema = AllTypesSchema(true);
  const RecordBatch batch = RandomBatch(schema, 200, 11, 0.25);
  for (int64_t offset : {0, 1, 3, 7, 8, 9, 17, 64, 131}) {
    for (int64_t length : {0, 1, 5, 8, 13, 60}) {
      if (offset + length > batch.num_rows()) continue;
      const RecordBatch slice = batch.Slice(offset, length);
      auto reader = OpenBytes(EncodeArrowIpcFile(slice));
      ASSERT_TRUE(reader.ok()) << reader.status();
      auto read = (*reader)->ReadAll();
      ASSERT_TRUE(read.ok()) << read.status();
      EXPECT_EQ(read->column(0).offset(), 0);
      ExpectBatchesEqual(slice, *read);
    }
  }
}

TEST(ArrowIpcTest, RoundTripsMultiBatchFiles) {
  const Schema schema = AllTypesSchema(true);
  std::vector<RecordBatch> batches = {
      RandomBatch(schema, 10, 1, 0.1), RandomBatch(schema, 0, 2, 0.1),
      RandomBatch(schema, 77, 3, 0.5), RandomBatch(schema, 40, 4, 0.0).Slice(3, 30)};
  auto bytes = EncodeArrowIpcFile(schema, batches);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto reader = OpenBytes(*bytes);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ((*reader)->num_batches(), 4);
  EXPECT_EQ((*reader)->num_rows(), 10 + 0 + 77 + 30);
  for (int index = 0; index < 4; ++index) {
    auto read = (*reader)->ReadBatch(index);
    ASSERT_TRUE(read.ok()) << read.status();
    ExpectBatchesEqual(batches[index], *read);
  }
  auto all = (*reader)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ExpectBatchesEqual(RecordBatch::Concatenate(schema, batches).value(), *all);
  EXPECT_TRUE((*reader)->ReadBatch(4).status().IsInvalidArgument());
  EXPECT_TRUE((*reader)->ReadBatch(-1).status().IsInvalidArgument());
}

TEST(ArrowIpcTest, FileWithoutBatchesReadsAsEmpty) {
  const Schema schema = AllTypesSchema(false);
  auto bytes = EncodeArrowIpcFile(schema, {});
  ASSERT_TRUE(bytes.ok());
  auto reader = OpenBytes(*bytes);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->num_batches(), 0);
  auto all = (*reader)->ReadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->num_rows(), 0);
  EXPECT_EQ(all->schema(), schema);
}

// Walks the file with the flatbuffers schemas alone (not the reader) and checks the
// layout promised in docs/format/arrow_ipc.md.
TEST(ArrowIpcTest, EveryBufferIs64ByteAligned) {
  const Schema schema = AllTypesSchema(true);
  std::vector<RecordBatch> batches = {RandomBatch(schema, 33, 1, 0.2),
                                      RandomBatch(schema, 1, 2, 0.0),
                                      RandomBatch(schema, 100, 3, 0.2).Slice(5, 50)};
  const std::string bytes = EncodeArrowIpcFile(schema, batches).value();
  const auto* base = reinterpret_cast<const uint8_t*>(bytes.data());
  ASSERT_EQ(bytes.substr(0, 8), std::string("ARROW1\0\0", 8));
  ASSERT_EQ(bytes.substr(bytes.size() - 6), "ARROW1");
  int32_t footer_size;
  std::memcpy(&footer_size, base + bytes.size() - 10, 4);
  const std::string footer_bytes = bytes.substr(bytes.size() - 10 - footer_size, footer_size);
  flatbuffers::Verifier footer_verifier(reinterpret_cast<const uint8_t*>(footer_bytes.data()),
                                        footer_bytes.size());
  ASSERT_TRUE(fb::VerifyFooterBuffer(footer_verifier));
  const fb::Footer* footer = fb::GetFooter(footer_bytes.data());
  EXPECT_EQ(footer->version(), fb::MetadataVersion::V5);
  ASSERT_EQ(footer->recordBatches()->size(), 3u);
  for (const fb::Block* block : *footer->recordBatches()) {
    EXPECT_EQ(block->offset() % 8, 0);
    const int64_t body_offset = block->offset() + block->metaDataLength();
    EXPECT_EQ(body_offset % kArrowIpcAlignment, 0);
    EXPECT_EQ(block->bodyLength() % kArrowIpcAlignment, 0);
    uint32_t continuation;
    int32_t metadata_size;
    std::memcpy(&continuation, base + block->offset(), 4);
    std::memcpy(&metadata_size, base + block->offset() + 4, 4);
    EXPECT_EQ(continuation, 0xFFFFFFFFu);
    EXPECT_EQ(metadata_size + 8, block->metaDataLength());
    const std::string metadata = bytes.substr(block->offset() + 8, metadata_size);
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(metadata.data()),
                                   metadata.size());
    ASSERT_TRUE(fb::VerifyMessageBuffer(verifier));
    const fb::Message* message = fb::GetMessage(metadata.data());
    EXPECT_EQ(message->version(), fb::MetadataVersion::V5);
    EXPECT_EQ(message->bodyLength(), block->bodyLength());
    const fb::RecordBatch* batch = message->header_as_RecordBatch();
    ASSERT_NE(batch, nullptr);
    // 9 columns: 7 primitive (1 node) + 2 vectors (2 nodes); buffers: 6 x 2 + utf8 3 + 2 x 3.
    EXPECT_EQ(batch->nodes()->size(), 11u);
    ASSERT_EQ(batch->buffers()->size(), 21u);
    for (const fb::Buffer* buffer : *batch->buffers()) {
      EXPECT_EQ((body_offset + buffer->offset()) % kArrowIpcAlignment, 0);
      EXPECT_LE(buffer->offset() + buffer->length(), block->bodyLength());
    }
  }
  // The schema: types and nullability as documented.
  const fb::Schema* fb_schema = footer->schema();
  ASSERT_EQ(fb_schema->fields()->size(), 9u);
  const fb::Field* vector = fb_schema->fields()->Get(7);
  EXPECT_EQ(vector->type_type(), fb::Type::FixedSizeList);
  EXPECT_EQ(vector->type_as_FixedSizeList()->listSize(), 5);
  EXPECT_TRUE(vector->nullable());
  ASSERT_EQ(vector->children()->size(), 1u);
  EXPECT_EQ(vector->children()->Get(0)->name()->str(), "item");
  EXPECT_FALSE(vector->children()->Get(0)->nullable());
  EXPECT_EQ(vector->children()->Get(0)->type_as_FloatingPoint()->precision(),
            fb::Precision::SINGLE);
  EXPECT_EQ(fb_schema->fields()->Get(6)->type_as_Timestamp()->unit(), fb::TimeUnit::MICROSECOND);
  EXPECT_EQ(fb_schema->fields()->Get(6)->type_as_Timestamp()->timezone(), nullptr);
  EXPECT_EQ(fb_schema->fields()->Get(0)->type_as_Int()->bitWidth(), 32);
  EXPECT_TRUE(fb_schema->fields()->Get(0)->type_as_Int()->is_signed());
}

TEST(ArrowIpcTest, ValidityBufferIsEmptyWithoutNulls) {
  const Schema schema = AllTypesSchema(true);
  const RecordBatch batch = RandomBatch(schema, 20, 9, 0.0);
  auto reader = OpenBytes(EncodeArrowIpcFile(batch));
  ASSERT_TRUE(reader.ok());
  for (const ArrowIpcColumnInfo& column : (*reader)->batch_info(0).columns) {
    EXPECT_EQ(column.null_count, 0);
    EXPECT_EQ(column.validity.length, 0);
  }
}

TEST(ArrowIpcTest, ReadBatchIsZeroCopyAndKeepsTheMappingAlive) {
  const Schema schema = AllTypesSchema(true);
  const RecordBatch batch = RandomBatch(schema, 50, 21, 0.2);
  auto file = io::MappedFileFromString(EncodeArrowIpcFile(batch));
  const uint8_t* begin = file->data();
  const uint8_t* end = begin + file->size();
  auto reader = ArrowIpcFileReader::Open(file);
  ASSERT_TRUE(reader.ok());
  auto read = (*reader)->ReadAll();
  ASSERT_TRUE(read.ok());
  for (const Array& column : read->columns()) {
    const uint8_t* values = column.values().data;
    EXPECT_TRUE(values >= begin && values < end) << column.type().ToString();
  }
  const auto* vectors = reinterpret_cast<const uint8_t*>(read->column(7).VectorData().data());
  EXPECT_TRUE(vectors >= begin && vectors < end);
  // The batch alone keeps the mapping alive.
  file.reset();
  reader->reset();
  ExpectBatchesEqual(batch, *read);
}

TEST(ArrowIpcTest, MappedVectorsAre64ByteAlignedOnDisk) {
  const Schema schema = AllTypesSchema(true);
  const RecordBatch batch = RandomBatch(schema, 70, 4, 0.1);
  io::FileSystem* fs = io::LocalFileSystem();
  const std::string path = io::JoinPath(::testing::TempDir(), "arrow_ipc_aligned.arrow");
  {
    auto out = fs->NewWritableFile(path);
    ASSERT_TRUE(out.ok()) << out.status();
    auto written = WriteArrowIpcFile(out->get(), batch);
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_TRUE((*out)->Close().ok());
    EXPECT_EQ(*written, fs->Stat(path)->size_bytes);
  }
  auto mapped = fs->MapFile(path);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  auto reader = ArrowIpcFileReader::Open(*mapped);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto read = (*reader)->ReadBatch(0);
  ASSERT_TRUE(read.ok());
  for (const Array& column : read->columns()) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(column.values().data) % 64, 0u)
        << column.type().ToString();
  }
  ExpectBatchesEqual(batch, *read);
  EXPECT_TRUE(fs->DeleteFile(path).ok());
}

// A mapping at an odd address, as a file whose buffers are only 8-byte aligned
// would give: the reader must copy instead of reading misaligned memory.
class OddMappedFile : public io::MappedFile {
 public:
  explicit OddMappedFile(const std::string& bytes) : storage_(1, '\0') { storage_ += bytes; }
  const uint8_t* data() const override {
    return reinterpret_cast<const uint8_t*>(storage_.data()) + 1;
  }
  int64_t size() const override { return static_cast<int64_t>(storage_.size()) - 1; }

 private:
  std::string storage_;
};

TEST(ArrowIpcTest, CopiesMisalignedBuffers) {
  const Schema schema = AllTypesSchema(true);
  const RecordBatch batch = RandomBatch(schema, 40, 8, 0.2);
  auto reader =
      ArrowIpcFileReader::Open(std::make_shared<OddMappedFile>(EncodeArrowIpcFile(batch)));
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto read = (*reader)->ReadAll();
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectBatchesEqual(batch, *read);
}

std::string SmallValidFile() {
  const Schema schema = AllTypesSchema(true);
  std::vector<RecordBatch> batches = {RandomBatch(schema, 6, 31, 0.3),
                                      RandomBatch(schema, 3, 32, 0.3)};
  return EncodeArrowIpcFile(schema, batches).value();
}

TEST(ArrowIpcTest, EveryTruncationIsCorruption) {
  const std::string bytes = SmallValidFile();
  ASSERT_TRUE(ReadEverything(bytes).ok());
  for (size_t length = 0; length < bytes.size(); ++length) {
    const Status status = ReadEverything(bytes.substr(0, length));
    EXPECT_TRUE(status.IsCorruption()) << length << ": " << status;
  }
}

TEST(ArrowIpcTest, RandomBitFlipsNeverCrash) {
  const std::string bytes = SmallValidFile();
  std::mt19937_64 rng(77);
  int failures = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string corrupt = bytes;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int flip = 0; flip < flips; ++flip) {
      corrupt[rng() % corrupt.size()] ^= static_cast<char>(1u << (rng() % 8));
    }
    const Status status = ReadEverything(corrupt);
    if (!status.ok()) {
      ++failures;
      EXPECT_TRUE(status.IsCorruption() || status.IsNotSupported()) << status;
    }
  }
  EXPECT_GT(failures, 0);
}

TEST(ArrowIpcTest, RejectsBadNullCountsAndOffsets) {
  const Schema schema = Schema::Make({{"s", DataType::Utf8(), true}}).value();
  RecordBatchBuilder builder(schema);
  for (const char* text : {"alpha", "beta", "", "delta"}) {
    ASSERT_TRUE(builder.AppendRow({std::string(text)}).ok());
  }
  ASSERT_TRUE(builder.AppendRow({std::monostate{}}).ok());
  const std::string bytes = EncodeArrowIpcFile(builder.Finish().value());
  const ArrowIpcBatchInfo info = (*OpenBytes(bytes))->batch_info(0);
  const ArrowIpcColumnInfo& column = info.columns[0];
  ASSERT_EQ(column.null_count, 1);
  {
    std::string corrupt = bytes;
    corrupt[column.validity.offset] = static_cast<char>(0xFF);  // no nulls left
    auto reader = OpenBytes(corrupt);
    ASSERT_TRUE(reader.ok());
    const Status status = (*reader)->ReadBatch(0).status();
    EXPECT_TRUE(status.IsCorruption()) << status;
    EXPECT_NE(status.message().find("null count"), std::string::npos) << status;
  }
  {
    std::string corrupt = bytes;
    const int32_t big = 1000;
    std::memcpy(corrupt.data() + column.values.offset + 8, &big, 4);  // offsets[2]
    const Status status = (*OpenBytes(corrupt))->ReadBatch(0).status();
    EXPECT_TRUE(status.IsCorruption()) << status;
  }
  {
    std::string corrupt = bytes;
    const int32_t small = 2;
    std::memcpy(corrupt.data() + column.values.offset + 8, &small, 4);  // 5 -> 2 < 5
    const Status status = (*OpenBytes(corrupt))->ReadBatch(0).status();
    EXPECT_TRUE(status.IsCorruption()) << status;
    EXPECT_NE(status.message().find("decrease"), std::string::npos) << status;
  }
}

// ---------------------------------------------------------------------------
// Files crafted with the flatbuffers schemas: types and features Tessera rejects.

using FieldFn = std::function<flatbuffers::Offset<fb::Field>(flatbuffers::FlatBufferBuilder&)>;

flatbuffers::Offset<fb::Field> MakeField(flatbuffers::FlatBufferBuilder& fbb, const char* name,
                                         fb::Type type, flatbuffers::Offset<void> type_table,
                                         std::vector<flatbuffers::Offset<fb::Field>> children = {},
                                         flatbuffers::Offset<fb::DictionaryEncoding> dict = 0) {
  return fb::CreateField(fbb, fbb.CreateString(name), true, type, type_table, dict,
                         fbb.CreateVector(children));
}

// One record batch message of a crafted file.
struct CraftedBatch {
  int64_t length = 0;
  std::vector<fb::FieldNode> nodes = {fb::FieldNode(0, 0)};
  std::vector<fb::Buffer> buffers = {fb::Buffer(0, 0), fb::Buffer(0, 0)};
  std::string body;  // padded to 8 bytes by CraftFile
  bool compressed = false;
};

// Options of a crafted file beyond its one field.
struct CraftOptions {
  std::vector<CraftedBatch> batches;
  fb::Endianness endianness = fb::Endianness::Little;
  bool dictionary_block = false;
};

// Return an Arrow IPC file with the one field built by `field_fn`, written without
// Tessera's writer.
std::string CraftFile(const FieldFn& field_fn, const CraftOptions& options = {}) {
  std::string file("ARROW1\0\0", 8);
  std::vector<fb::Block> blocks;
  for (const CraftedBatch& spec : options.batches) {
    std::string body = spec.body;
    body.resize((body.size() + 7) / 8 * 8, '\0');
    flatbuffers::FlatBufferBuilder fbb;
    const auto nodes = fbb.CreateVectorOfStructs(spec.nodes);
    const auto buffers = fbb.CreateVectorOfStructs(spec.buffers);
    flatbuffers::Offset<fb::BodyCompression> codec;
    if (spec.compressed) codec = fb::CreateBodyCompression(fbb);
    const auto batch = fb::CreateRecordBatch(fbb, spec.length, nodes, buffers, codec);
    fbb.Finish(fb::CreateMessage(fbb, fb::MetadataVersion::V5, fb::MessageHeader::RecordBatch,
                                 batch.Union(), static_cast<int64_t>(body.size())));
    std::string metadata(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    metadata.resize((metadata.size() + 7) / 8 * 8, '\0');
    const int64_t offset = static_cast<int64_t>(file.size());
    const uint32_t prefix[2] = {0xFFFFFFFFu, static_cast<uint32_t>(metadata.size())};
    file.append(reinterpret_cast<const char*>(prefix), 8);
    file += metadata;
    file += body;
    blocks.emplace_back(offset, static_cast<int32_t>(8 + metadata.size()),
                        static_cast<int64_t>(body.size()));
  }
  flatbuffers::FlatBufferBuilder fbb;
  const auto field = field_fn(fbb);
  const auto schema =
      fb::CreateSchema(fbb, options.endianness, fbb.CreateVector(std::vector{field}));
  const auto dictionaries = fbb.CreateVectorOfStructs(
      options.dictionary_block ? std::vector<fb::Block>{fb::Block(8, 8, 0)}
                               : std::vector<fb::Block>{});
  const auto batches = fbb.CreateVectorOfStructs(blocks);
  fbb.Finish(fb::CreateFooter(fbb, fb::MetadataVersion::V5, schema, dictionaries, batches));
  file.append(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  const int32_t footer_size = static_cast<int32_t>(fbb.GetSize());
  file.append(reinterpret_cast<const char*>(&footer_size), 4);
  file += "ARROW1";
  return file;
}

Status OpenStatus(const std::string& bytes) { return OpenBytes(bytes).status(); }

TEST(ArrowIpcTest, CraftedFileOfSupportedTypeOpens) {
  const std::string bytes = CraftFile(
      [](auto& fbb) {
        return MakeField(fbb, "x", fb::Type::Int, fb::CreateInt(fbb, 64, true).Union());
      },
      {.batches = {CraftedBatch()}});
  auto reader = OpenBytes(bytes);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->schema().field(0).type, DataType::Int64());
  auto batch = (*reader)->ReadBatch(0);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->num_rows(), 0);
}

TEST(ArrowIpcTest, UnsupportedTypesAreNotSupported) {
  struct Case {
    FieldFn field;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& fbb) {
         return MakeField(fbb, "x", fb::Type::LargeUtf8, fb::CreateLargeUtf8(fbb).Union());
       },
       "unsupported Arrow type LargeUtf8 in column 'x'"},
      {[](auto& fbb) {
         return MakeField(fbb, "x", fb::Type::Int, fb::CreateInt(fbb, 8, true).Union());
       },
       "unsupported Arrow type Int8 in column 'x'"},
      {[](auto& fbb) {
         return MakeField(fbb, "x", fb::Type::Int, fb::CreateInt(fbb, 32, false).Union());
       },
       "unsupported Arrow type UInt32 in column 'x'"},
      {[](auto& fbb) {
         return MakeField(fbb, "x", fb::Type::FloatingPoint,
                          fb::CreateFloatingPoint(fbb, fb::Precision::HALF).Union());
       },
       "unsupported Arrow type Float16 in column 'x'"},
      {[](auto& fbb) {
         return MakeField(fbb, "x", fb::Type::Timestamp,
                          fb::CreateTimestamp(fbb, fb::TimeUnit::NANOSECOND).Union());
       },
       "unsupported Arrow type Timestamp(NANOSECOND) in column 'x'"},
      {[](auto& fbb) {
         const auto child = MakeField(fbb, "item", fb::Type::FloatingPoint,
                                      fb::CreateFloatingPoint(fbb, fb::Precision::DOUBLE).Union());
         return MakeField(fbb, "x", fb::Type::FixedSizeList,
                          fb::CreateFixedSizeList(fbb, 4).Union(), {child});
       },
       "unsupported Arrow type FixedSizeList<DOUBLE>[4] in column 'x'"},
      {[](auto& fbb) {
         const auto child = MakeField(fbb, "item", fb::Type::Utf8, fb::CreateUtf8(fbb).Union());
         return MakeField(fbb, "x", fb::Type::List, fb::CreateList(fbb).Union(), {child});
       },
       "unsupported Arrow type List in column 'x'"},
      {[](auto& fbb) {
         return MakeField(fbb, "x", fb::Type::Utf8View, fb::CreateUtf8View(fbb).Union());
       },
       "unsupported Arrow type Utf8View in column 'x'"},
      {[](auto& fbb) {
         const auto dict = fb::CreateDictionaryEncoding(fbb, 0, fb::CreateInt(fbb, 32, true));
         return MakeField(fbb, "x", fb::Type::Utf8, fb::CreateUtf8(fbb).Union(), {}, dict);
       },
       "dictionary-encoded column 'x'"},
  };
  for (const Case& c : cases) {
    const Status status = OpenStatus(CraftFile(c.field));
    EXPECT_TRUE(status.IsNotSupported()) << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status;
  }
}

FieldFn Int64Field() {
  return [](flatbuffers::FlatBufferBuilder& fbb) {
    return MakeField(fbb, "x", fb::Type::Int, fb::CreateInt(fbb, 64, true).Union());
  };
}

TEST(ArrowIpcTest, UnsupportedFeaturesAreNotSupported) {
  CraftedBatch compressed_batch;
  compressed_batch.compressed = true;
  const Status compressed = OpenStatus(CraftFile(Int64Field(), {.batches = {compressed_batch}}));
  EXPECT_TRUE(compressed.IsNotSupported()) << compressed;
  EXPECT_NE(compressed.message().find("compressed"), std::string::npos);

  CraftOptions with_dictionary;
  with_dictionary.dictionary_block = true;
  const Status dictionaries = OpenStatus(CraftFile(Int64Field(), with_dictionary));
  EXPECT_TRUE(dictionaries.IsNotSupported()) << dictionaries;
  EXPECT_NE(dictionaries.message().find("dictionary"), std::string::npos);

  CraftOptions big;
  big.endianness = fb::Endianness::Big;
  const Status big_endian = OpenStatus(CraftFile(Int64Field(), big));
  EXPECT_TRUE(big_endian.IsNotSupported()) << big_endian;
}

FieldFn VectorField(int32_t dim) {
  return [dim](flatbuffers::FlatBufferBuilder& fbb) {
    const auto child = MakeField(fbb, "item", fb::Type::FloatingPoint,
                                 fb::CreateFloatingPoint(fbb, fb::Precision::SINGLE).Union());
    return MakeField(fbb, "v", fb::Type::FixedSizeList, fb::CreateFixedSizeList(fbb, dim).Union(),
                     {child});
  };
}

// Two vectors of dim 2, the second null, with child validity bits `child_bits`
// (8-byte aligned buffers: parent validity @0, child validity @8, floats @16).
CraftedBatch VectorBatchWithChildNulls(uint8_t child_bits) {
  CraftedBatch batch;
  batch.length = 2;
  const int nulls = 4 - std::popcount(static_cast<unsigned>(child_bits & 0x0F));
  batch.nodes = {fb::FieldNode(2, 1), fb::FieldNode(4, nulls)};
  batch.buffers = {fb::Buffer(0, 1), fb::Buffer(8, 1), fb::Buffer(16, 16)};
  batch.body = std::string(32, '\0');
  batch.body[0] = 0x01;
  batch.body[8] = static_cast<char>(child_bits);
  const float values[4] = {1.5f, -2.0f, 0.0f, 0.0f};
  std::memcpy(batch.body.data() + 16, values, sizeof(values));
  return batch;
}

TEST(ArrowIpcTest, AcceptsChildNullsOnlyInsideNullVectors) {
  // Elements of the null second vector are null, as apache-arrow (JS) writes them.
  auto reader =
      OpenBytes(CraftFile(VectorField(2), {.batches = {VectorBatchWithChildNulls(0x03)}}));
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto batch = (*reader)->ReadBatch(0);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->column(0).GetValue(0), Value(std::vector<float>{1.5f, -2.0f}));
  EXPECT_TRUE(batch->column(0).IsNull(1));

  // A null element in the valid first vector cannot be represented.
  reader = OpenBytes(CraftFile(VectorField(2), {.batches = {VectorBatchWithChildNulls(0x0E)}}));
  ASSERT_TRUE(reader.ok()) << reader.status();
  const Status status = (*reader)->ReadBatch(0).status();
  EXPECT_TRUE(status.IsNotSupported()) << status;
  EXPECT_NE(status.message().find("null element in row 0"), std::string::npos) << status;
}

TEST(ArrowIpcTest, RejectsMalformedStructure) {
  const std::string valid = SmallValidFile();
  std::string bad_magic = valid;
  bad_magic[0] = 'X';
  EXPECT_TRUE(OpenStatus(bad_magic).IsCorruption());
  std::string bad_trailer = valid;
  bad_trailer.back() = 'X';
  EXPECT_TRUE(OpenStatus(bad_trailer).IsCorruption());
  for (const int32_t footer_size : {0, -1, 1, 1 << 30}) {
    std::string bad_footer = valid;
    std::memcpy(bad_footer.data() + bad_footer.size() - 10, &footer_size, 4);
    const Status status = OpenStatus(bad_footer);
    EXPECT_TRUE(status.IsCorruption()) << footer_size << ": " << status;
  }
  EXPECT_TRUE(OpenStatus("").IsCorruption());
  EXPECT_TRUE(OpenStatus(std::string("ARROW1\0\0ARROW1", 14)).IsCorruption());
  EXPECT_TRUE(ArrowIpcFileReader::Open(nullptr).status().IsInvalidArgument());
}

TEST(ArrowIpcTest, WriterRejectsMisuse) {
  const Schema schema = AllTypesSchema(true);
  class NullFile : public io::WritableFile {
   public:
    Status Append(std::string_view) override { return Status::OK(); }
    Status Sync() override { return Status::OK(); }
    Status Close() override { return Status::OK(); }
  } file;
  auto writer = ArrowIpcFileWriter::Open(&file, schema);
  ASSERT_TRUE(writer.ok());
  const RecordBatch other = RandomBatch(AllTypesSchema(false), 3, 1, 0);
  EXPECT_TRUE((*writer)->WriteBatch(other).IsInvalidArgument());
  EXPECT_TRUE((*writer)->Finish().ok());
  EXPECT_TRUE((*writer)->WriteBatch(RandomBatch(schema, 3, 1, 0)).IsInvalidArgument());
  EXPECT_TRUE((*writer)->Finish().IsInvalidArgument());
}

TEST(ArrowIpcTest, WriterReportsOutputErrors) {
  class FailingFile : public io::WritableFile {
   public:
    Status Append(std::string_view) override {
      return fail ? Status::IOError("disk on fire") : Status::OK();
    }
    Status Sync() override { return Status::OK(); }
    Status Close() override { return Status::OK(); }
    bool fail = false;
  } file;
  const Schema schema = AllTypesSchema(true);
  auto writer = ArrowIpcFileWriter::Open(&file, schema);
  ASSERT_TRUE(writer.ok());
  file.fail = true;
  EXPECT_TRUE((*writer)->WriteBatch(RandomBatch(schema, 3, 1, 0)).IsIOError());
  EXPECT_TRUE((*writer)->Finish().IsInvalidArgument());
}

TEST(ArrowIpcTest, JsonShowsSchemaLayoutAndRows) {
  const Schema schema = Schema::Make({{"id", DataType::Int64(), false},
                                      {"name", DataType::Utf8(), true},
                                      {"vec", DataType::Vector(2), true}})
                            .value();
  RecordBatchBuilder builder(schema);
  ASSERT_TRUE(builder.AppendRow({int64_t{1}, std::string("a"), std::vector<float>{0.1f, 2}}).ok());
  ASSERT_TRUE(builder.AppendRow({int64_t{2}, std::monostate{}, std::monostate{}}).ok());
  ASSERT_TRUE(builder.AppendRow({int64_t{3}, std::string("c"), std::vector<float>{3, 4}}).ok());
  auto reader = OpenBytes(EncodeArrowIpcFile(builder.Finish().value()));
  ASSERT_TRUE(reader.ok());
  const nlohmann::json doc = nlohmann::json::parse(ArrowIpcFileToJson(**reader, 2));
  EXPECT_EQ(doc["num_rows"], 3);
  EXPECT_EQ(doc["num_batches"], 1);
  EXPECT_EQ(doc["schema"]["fields"][0]["name"], "id");
  EXPECT_EQ(doc["schema"]["fields"][0]["nullable"], false);
  EXPECT_EQ(doc["schema"]["fields"][2]["type"], "vector[2]");
  EXPECT_EQ(doc["batches"][0]["columns"][1]["null_count"], 1);
  EXPECT_EQ(doc["batches"][0]["body_offset"].get<int64_t>() % 64, 0);
  ASSERT_EQ(doc["rows"].size(), 2u);
  EXPECT_EQ(doc["rows"][0]["vec"][0], 0.1);
  EXPECT_EQ(doc["rows"][1]["name"], nullptr);
  EXPECT_EQ(doc["rows_truncated"], true);
}

}  // namespace
}  // namespace tessera::format
