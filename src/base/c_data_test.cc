#include "tessera/c_data.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace tessera {
namespace {

Schema AllTypesSchema() {
  return Schema::Parse(
             "id:int64 not null,i32:int32,f32:float32,f64:float64,ok:bool,name:utf8,"
             "ts:timestamp,v:vector[3]")
      .value();
}

// 20 rows of every type; every nullable column holds some nulls.
RecordBatch AllTypesBatch(int64_t num_rows = 20) {
  RecordBatchBuilder builder(AllTypesSchema());
  for (int64_t row = 0; row < num_rows; ++row) {
    std::vector<Value> values;
    values.emplace_back(row);
    values.emplace_back(row % 3 == 0 ? Value() : Value(row - 7));
    values.emplace_back(row % 4 == 1 ? Value() : Value(row * 0.25));
    values.emplace_back(row % 5 == 2 ? Value() : Value(row * 1e100));
    values.emplace_back(row % 6 == 3 ? Value() : Value(row % 2 == 0));
    values.emplace_back(row % 7 == 4 ? Value() : Value(std::string(row % 4, 'x') + "s"));
    values.emplace_back(row % 8 == 5 ? Value() : Value(row * 1'000'000 - 5));
    values.emplace_back(row % 9 == 6 ? Value()
                                     : Value(std::vector<float>{float(row), 0.5f, -float(row)}));
    EXPECT_TRUE(builder.AppendRow(values).ok());
  }
  return builder.Finish().value();
}

void ExpectSameRows(const RecordBatch& actual, const RecordBatch& expected) {
  ASSERT_EQ(actual.schema(), expected.schema());
  ASSERT_EQ(actual.num_rows(), expected.num_rows());
  for (int col = 0; col < expected.num_columns(); ++col) {
    EXPECT_EQ(actual.column(col).null_count(), expected.column(col).null_count()) << col;
    for (int64_t row = 0; row < expected.num_rows(); ++row) {
      EXPECT_EQ(actual.column(col).GetValue(row), expected.column(col).GetValue(row))
          << "column " << col << " row " << row;
    }
  }
}

// Replaces a structure's release callback by one that counts its calls and then
// runs the original one.
template <typename T>
struct CountingRelease {
  void (*release)(T*);
  void* private_data;
  int* count;

  static void Release(T* object) {
    std::unique_ptr<CountingRelease> wrapper(static_cast<CountingRelease*>(object->private_data));
    object->private_data = wrapper->private_data;
    object->release = wrapper->release;
    object->release(object);
    ++*wrapper->count;
  }
};

template <typename T>
void CountReleases(T* object, int* count) {
  auto wrapper = std::make_unique<CountingRelease<T>>();
  wrapper->release = object->release;
  wrapper->private_data = object->private_data;
  wrapper->count = count;
  object->private_data = wrapper.release();
  object->release = &CountingRelease<T>::Release;
}

TEST(CDataTest, RoundTripsEveryTypeWithNulls) {
  const RecordBatch batch = AllTypesBatch();
  ArrowArray array;
  ArrowSchema schema;
  ASSERT_TRUE(ExportRecordBatch(batch, &array, &schema).ok());
  EXPECT_STREQ(schema.format, "+s");
  ASSERT_EQ(schema.n_children, 8);
  const char* formats[] = {"l", "i", "f", "g", "b", "u", "tsu:", "+w:3"};
  for (int col = 0; col < 8; ++col) {
    EXPECT_STREQ(schema.children[col]->format, formats[col]);
    EXPECT_STREQ(schema.children[col]->name, batch.schema().field(col).name.c_str());
    EXPECT_EQ(schema.children[col]->flags, col == 0 ? 0 : ARROW_FLAG_NULLABLE);
  }
  ASSERT_EQ(schema.children[7]->n_children, 1);
  EXPECT_STREQ(schema.children[7]->children[0]->format, "f");
  EXPECT_STREQ(schema.children[7]->children[0]->name, "item");
  EXPECT_EQ(array.length, 20);
  EXPECT_EQ(array.children[7]->n_buffers, 1);
  EXPECT_EQ(array.children[7]->children[0]->length, 60);

  Result<RecordBatch> imported = ImportRecordBatch(&array, &schema);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(array.release, nullptr);
  EXPECT_EQ(schema.release, nullptr);
  ExpectSameRows(*imported, batch);
}

TEST(CDataTest, RoundTripsSlicedBatchWithOffsets) {
  const RecordBatch batch = AllTypesBatch(40).Slice(13, 17);
  ArrowArray array;
  ArrowSchema schema;
  ASSERT_TRUE(ExportRecordBatch(batch, &array, &schema).ok());
  for (int col = 0; col < 8; ++col) EXPECT_EQ(array.children[col]->offset, 13) << col;
  EXPECT_EQ(array.children[7]->children[0]->length, 30 * 3);
  Result<RecordBatch> imported = ImportRecordBatch(&array, &schema);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->column(1).offset(), 13);
  ExpectSameRows(*imported, batch);

  // A slice of an imported batch exports and imports again.
  const RecordBatch twice_sliced = imported->Slice(5, 7);
  ASSERT_TRUE(ExportRecordBatch(twice_sliced, &array, &schema).ok());
  Result<RecordBatch> again = ImportRecordBatch(&array, &schema);
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectSameRows(*again, batch.Slice(5, 7));
}

TEST(CDataTest, RoundTripsEmptyBatch) {
  const RecordBatch batch = RecordBatch::Empty(AllTypesSchema());
  ArrowArray array;
  ArrowSchema schema;
  ASSERT_TRUE(ExportRecordBatch(batch, &array, &schema).ok());
  for (int col = 0; col < 8; ++col) {
    for (int64_t index = 1; index < array.children[col]->n_buffers; ++index) {
      EXPECT_NE(array.children[col]->buffers[index], nullptr) << col;
    }
  }
  Result<RecordBatch> imported = ImportRecordBatch(&array, &schema);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ExpectSameRows(*imported, batch);
}

TEST(CDataTest, ImportIsZeroCopy) {
  const RecordBatch batch = AllTypesBatch().Slice(2, 10);
  ArrowArray array;
  ArrowSchema schema;
  ASSERT_TRUE(ExportRecordBatch(batch, &array, &schema).ok());
  EXPECT_EQ(array.children[7]->children[0]->buffers[1], batch.column(7).values().data);
  Result<RecordBatch> imported = ImportRecordBatch(&array, &schema);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->column(7).VectorData().data(), batch.column(7).VectorData().data());
  for (int col = 0; col < 8; ++col) {
    EXPECT_EQ(imported->column(col).values().data, batch.column(col).values().data) << col;
  }
  EXPECT_EQ(imported->column(5).data().data, batch.column(5).data().data);
  EXPECT_EQ(imported->column(1).validity().data, batch.column(1).validity().data);
}

TEST(CDataTest, ExportKeepsBuffersAliveUntilReleaseRunsOnce) {
  std::weak_ptr<const void> vector_owner;
  std::weak_ptr<const void> string_owner;
  ArrowArray array;
  ArrowSchema schema;
  {
    const RecordBatch batch = AllTypesBatch();
    vector_owner = batch.column(7).values().owner;
    string_owner = batch.column(5).data().owner;
    ASSERT_TRUE(ExportRecordBatch(batch, &array, &schema).ok());
  }
  EXPECT_FALSE(vector_owner.expired());  // the batch is gone, the export pins its buffers
  int array_releases = 0;
  int schema_releases = 0;
  CountReleases(&array, &array_releases);
  CountReleases(&schema, &schema_releases);
  {
    Result<RecordBatch> imported = ImportRecordBatch(&array, &schema);
    ASSERT_TRUE(imported.ok()) << imported.status();
    EXPECT_EQ(schema_releases, 1);
    EXPECT_EQ(array_releases, 0);
    const RecordBatch copy = *imported;  // copies share the holder
    imported = Status::Cancelled("drop");
    EXPECT_EQ(array_releases, 0);
    EXPECT_FALSE(vector_owner.expired());
    EXPECT_EQ(copy.column(7).Vector(19)[0], 19.0f);
  }
  EXPECT_EQ(array_releases, 1);
  EXPECT_EQ(schema_releases, 1);
  EXPECT_TRUE(vector_owner.expired());
  EXPECT_TRUE(string_owner.expired());
}

TEST(CDataTest, ExportedChildCanBeMovedOutAndReleasedAlone) {
  std::weak_ptr<const void> vector_owner;
  ArrowArray array;
  {
    const RecordBatch batch = AllTypesBatch();
    vector_owner = batch.column(7).values().owner;
    ASSERT_TRUE(ExportRecordBatch(batch, &array).ok());
  }
  ArrowArray moved_child = *array.children[7];
  array.children[7]->release = nullptr;
  array.release(&array);
  EXPECT_EQ(array.release, nullptr);
  EXPECT_FALSE(vector_owner.expired());
  EXPECT_EQ(static_cast<const float*>(moved_child.children[0]->buffers[1])[3], 1.0f);
  moved_child.release(&moved_child);
  EXPECT_EQ(moved_child.release, nullptr);
  EXPECT_TRUE(vector_owner.expired());
}

TEST(CDataTest, SchemaRoundTripsAndImportWithKnownSchema) {
  const Schema expected = AllTypesSchema();
  ArrowSchema schema;
  ASSERT_TRUE(ExportSchema(expected, &schema).ok());
  Result<Schema> imported = ImportSchema(&schema);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(*imported, expected);
  EXPECT_EQ(schema.release, nullptr);

  const RecordBatch batch = AllTypesBatch();
  ArrowArray array;
  ASSERT_TRUE(ExportRecordBatch(batch, &array).ok());
  Result<RecordBatch> known = ImportRecordBatch(&array, expected);
  ASSERT_TRUE(known.ok()) << known.status();
  ExpectSameRows(*known, batch);
}

TEST(CDataTest, TimestampWithTimeZoneImportsAsTimestamp) {
  ArrowSchema schema;
  ASSERT_TRUE(ExportSchema(Schema::Parse("ts:timestamp").value(), &schema).ok());
  schema.children[0]->format = "tsu:UTC";  // points at a literal; the release does not free it
  Result<Schema> imported = ImportSchema(&schema);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->field(0).type, DataType::Timestamp());
}

// ---------------------------------------------------------------------------
// A hand-built foreign producer: owns its buffers and nodes, counts its releases.

struct ForeignArray {
  int* release_count = nullptr;
  std::deque<std::vector<int64_t>> storage;  // int64 elements keep buffers 8-byte aligned
  std::deque<std::vector<const void*>> buffer_lists;
  std::deque<std::vector<ArrowArray*>> child_lists;
  std::deque<ArrowArray> nodes;

  const void* AddBuffer(const void* bytes, size_t size_bytes) {
    storage.emplace_back((size_bytes + 7) / 8 + 1, 0);
    std::memcpy(storage.back().data(), bytes, size_bytes);
    return storage.back().data();
  }
  template <typename T>
  const void* Add(const std::vector<T>& values) {
    return AddBuffer(values.data(), values.size() * sizeof(T));
  }
  ArrowArray* AddNode(int64_t length, int64_t null_count, int64_t offset,
                      std::vector<const void*> buffers, std::vector<ArrowArray*> children) {
    buffer_lists.push_back(std::move(buffers));
    child_lists.push_back(std::move(children));
    ArrowArray node{};
    node.length = length;
    node.null_count = null_count;
    node.offset = offset;
    node.n_buffers = static_cast<int64_t>(buffer_lists.back().size());
    node.n_children = static_cast<int64_t>(child_lists.back().size());
    node.buffers = buffer_lists.back().data();
    node.children = child_lists.back().empty() ? nullptr : child_lists.back().data();
    node.release = &ReleaseChild;
    nodes.push_back(node);
    return &nodes.back();
  }

  static void ReleaseChild(ArrowArray* node) { node->release = nullptr; }
  static void ReleaseRoot(ArrowArray* root) {
    std::unique_ptr<ForeignArray> self(static_cast<ForeignArray*>(root->private_data));
    for (int64_t index = 0; index < root->n_children; ++index) {
      ArrowArray* child = root->children[index];
      if (child->release != nullptr) child->release(child);
    }
    ++*self->release_count;
    root->release = nullptr;
  }
  // Move the root node `root` into `*out`, which then owns this producer.
  static void Finish(std::unique_ptr<ForeignArray> self, ArrowArray* root, ArrowArray* out) {
    *out = *root;
    out->release = &ReleaseRoot;
    out->private_data = self.release();
  }
};

struct ForeignSchema {
  int* release_count = nullptr;
  std::deque<std::string> strings;
  std::deque<std::vector<ArrowSchema*>> child_lists;
  std::deque<ArrowSchema> nodes;

  ArrowSchema* AddNode(std::string format, std::string name, int64_t flags,
                       std::vector<ArrowSchema*> children) {
    strings.push_back(std::move(format));
    const char* format_ptr = strings.back().c_str();
    strings.push_back(std::move(name));
    child_lists.push_back(std::move(children));
    ArrowSchema node{};
    node.format = format_ptr;
    node.name = strings.back().c_str();
    node.flags = flags;
    node.n_children = static_cast<int64_t>(child_lists.back().size());
    node.children = child_lists.back().empty() ? nullptr : child_lists.back().data();
    node.release = [](ArrowSchema* child) { child->release = nullptr; };
    nodes.push_back(node);
    return &nodes.back();
  }
  static void Finish(std::unique_ptr<ForeignSchema> self, ArrowSchema* root, ArrowSchema* out) {
    *out = *root;
    out->release = [](ArrowSchema* schema) {
      std::unique_ptr<ForeignSchema> owner(static_cast<ForeignSchema*>(schema->private_data));
      for (int64_t index = 0; index < schema->n_children; ++index) {
        if (schema->children[index]->release != nullptr) {
          schema->children[index]->release(schema->children[index]);
        }
      }
      ++*owner->release_count;
      schema->release = nullptr;
    };
    out->private_data = self.release();
  }
};

// A foreign struct<n: int32, v: fixed_size_list<float, 2>, s: utf8> with offsets at
// every level: struct offset 1 and length 3; n offset 2; v offset 1 whose float child
// starts at offset 3 (not a multiple of the dimension); s offset 0.
void MakeForeignBatch(int* array_releases, int* schema_releases, ArrowArray* out_array,
                      ArrowSchema* out_schema, std::string vector_format = "+w:2",
                      std::string item_format = "f") {
  auto producer = std::make_unique<ForeignArray>();
  producer->release_count = array_releases;
  std::vector<int32_t> ints = {100, 101, 102, 103, 104, 105, 106};
  std::vector<uint8_t> int_validity = {0b1101'1111};  // row 5 (offset 2 + struct 1 + 2) is null
  ArrowArray* n =
      producer->AddNode(5, 1, 2, {producer->Add(int_validity), producer->Add(ints)}, {});
  std::vector<float> floats(20);
  for (size_t index = 0; index < floats.size(); ++index) floats[index] = float(index);
  ArrowArray* item = producer->AddNode(17, 0, 3, {nullptr, producer->Add(floats)}, {});
  ArrowArray* v = producer->AddNode(5, 0, 1, {nullptr}, {item});
  std::vector<int32_t> offsets = {0, 1, 3, 6, 10, 15};
  std::string chars = "abbcccddddeeeee";
  ArrowArray* s = producer->AddNode(
      5, 0, 0, {nullptr, producer->Add(offsets), producer->AddBuffer(chars.data(), chars.size())},
      {});
  ArrowArray* root = producer->AddNode(3, 0, 1, {nullptr}, {n, v, s});
  ForeignArray::Finish(std::move(producer), root, out_array);

  auto types = std::make_unique<ForeignSchema>();
  types->release_count = schema_releases;
  ArrowSchema* n_type = types->AddNode("i", "n", ARROW_FLAG_NULLABLE, {});
  ArrowSchema* item_type = types->AddNode(item_format, "element", 0, {});
  ArrowSchema* v_type = types->AddNode(vector_format, "v", 0, {item_type});
  ArrowSchema* s_type = types->AddNode("u", "s", ARROW_FLAG_NULLABLE, {});
  ArrowSchema* root_type = types->AddNode("+s", "", 0, {n_type, v_type, s_type});
  ForeignSchema::Finish(std::move(types), root_type, out_schema);
}

TEST(CDataTest, ImportsForeignArrayWithOffsetsAtEveryLevel) {
  int array_releases = 0;
  int schema_releases = 0;
  ArrowArray array;
  ArrowSchema schema;
  MakeForeignBatch(&array_releases, &schema_releases, &array, &schema);
  const float* foreign_floats =
      static_cast<const float*>(array.children[1]->children[0]->buffers[1]);
  {
    Result<RecordBatch> imported = ImportRecordBatch(&array, &schema);
    ASSERT_TRUE(imported.ok()) << imported.status();
    EXPECT_EQ(schema_releases, 1);
    EXPECT_EQ(array_releases, 0);
    const RecordBatch& batch = *imported;
    EXPECT_EQ(batch.schema().ToString(), "n:int32,v:vector[2] not null,s:utf8");
    ASSERT_EQ(batch.num_rows(), 3);
    // n: physical rows 3, 4, 5 (5 is null).
    EXPECT_EQ(batch.column(0).GetValue(0), Value(int64_t{103}));
    EXPECT_EQ(batch.column(0).GetValue(1), Value(int64_t{104}));
    EXPECT_TRUE(batch.column(0).IsNull(2));
    EXPECT_EQ(batch.column(0).null_count(), 1);
    // v: list rows 2, 3, 4 -> floats 3 + 2 * row.
    for (int64_t row = 0; row < 3; ++row) {
      const float first = float(3 + 2 * (row + 2));
      EXPECT_EQ(batch.column(1).GetValue(row), Value(std::vector<float>{first, first + 1}));
    }
    EXPECT_EQ(batch.column(1).VectorData().data(), foreign_floats + 3 + 2 * 2);  // zero-copy
    // s: rows 1, 2, 3.
    EXPECT_EQ(batch.column(2).String(0), "bb");
    EXPECT_EQ(batch.column(2).String(2), "dddd");
  }
  EXPECT_EQ(array_releases, 1);
}

TEST(CDataTest, UnsupportedFormatFailsCleanlyAndReleasesBoth) {
  struct Case {
    std::string vector_format;
    std::string item_format;
    std::string expected_text;
  };
  const Case cases[] = {{"tsn:", "f", "'tsn:'"},
                        {"+l", "f", "'+l'"},
                        {"+w:2", "g", "'g'"},
                        {"e", "f", "'e'"},
                        {"+w:0", "f", "'+w:0'"}};
  for (const Case& test_case : cases) {
    int array_releases = 0;
    int schema_releases = 0;
    ArrowArray array;
    ArrowSchema schema;
    MakeForeignBatch(&array_releases, &schema_releases, &array, &schema, test_case.vector_format,
                     test_case.item_format);
    Result<RecordBatch> imported = ImportRecordBatch(&array, &schema);
    ASSERT_FALSE(imported.ok());
    EXPECT_TRUE(imported.status().IsNotSupported()) << imported.status();
    EXPECT_NE(imported.status().message().find("column 'v'"), std::string::npos)
        << imported.status();
    EXPECT_NE(imported.status().message().find(test_case.expected_text), std::string::npos)
        << imported.status();
    EXPECT_EQ(array_releases, 1);
    EXPECT_EQ(schema_releases, 1);
    EXPECT_EQ(array.release, nullptr);
    EXPECT_EQ(schema.release, nullptr);
  }
}

// Import a foreign batch after `mutate` damaged it; return the status and check that
// both structures were released exactly once.
Status ImportDamaged(void (*mutate)(ArrowArray*)) {
  int array_releases = 0;
  int schema_releases = 0;
  ArrowArray array;
  ArrowSchema schema;
  MakeForeignBatch(&array_releases, &schema_releases, &array, &schema);
  mutate(&array);
  Status status = ImportRecordBatch(&array, &schema).status();
  EXPECT_EQ(array_releases, 1);
  EXPECT_EQ(schema_releases, 1);
  return status;
}

TEST(CDataTest, InconsistentArraysFailCleanlyAndRelease) {
  EXPECT_TRUE(
      ImportDamaged([](ArrowArray* a) { a->children[0]->n_buffers = 3; }).IsInvalidArgument());
  EXPECT_TRUE(ImportDamaged([](ArrowArray* a) { a->n_children = 2; }).IsInvalidArgument());
  EXPECT_TRUE(ImportDamaged([](ArrowArray* a) {
                a->children[0]->buffers[1] = nullptr;
              }).IsInvalidArgument());
  EXPECT_TRUE(ImportDamaged([](ArrowArray* a) {
                a->children[0]->buffers[0] = nullptr;
              }).IsInvalidArgument());  // null_count 1 without a bitmap
  EXPECT_TRUE(ImportDamaged([](ArrowArray* a) { a->children[2]->length = 2; }).IsInvalidArgument());
  EXPECT_TRUE(ImportDamaged([](ArrowArray* a) {
                a->children[1]->children[0]->length = 9;
              }).IsInvalidArgument());
  EXPECT_TRUE(
      ImportDamaged([](ArrowArray* a) { a->children[1]->offset = -1; }).IsInvalidArgument());
  EXPECT_TRUE(
      ImportDamaged([](ArrowArray* a) { a->offset = int64_t{1} << 62; }).IsInvalidArgument());
  EXPECT_TRUE(ImportDamaged([](ArrowArray* a) {
                a->children[2]->buffers[1] =
                    static_cast<const char*>(a->children[2]->buffers[1]) + 1;
              }).IsNotSupported());  // misaligned offsets
  // A null row in the top-level struct.
  static const uint8_t kStructValidity = 0b1011;
  EXPECT_TRUE(ImportDamaged([](ArrowArray* a) {
                a->buffers[0] = &kStructValidity;
                a->null_count = -1;
              }).IsNotSupported());
  // A null element inside a vector.
  static const uint8_t kItemValidity[3] = {0xff, 0xef, 0xff};
  EXPECT_TRUE(ImportDamaged([](ArrowArray* a) {
                a->children[1]->children[0]->buffers[0] = kItemValidity;
                a->children[1]->children[0]->null_count = 1;
              }).IsNotSupported());
}

TEST(CDataTest, RejectsReleasedAndNullStructures) {
  ArrowArray array{};
  ArrowSchema schema{};
  EXPECT_TRUE(ImportRecordBatch(&array, &schema).status().IsInvalidArgument());
  EXPECT_TRUE(ImportRecordBatch(nullptr, &schema).status().IsInvalidArgument());
  EXPECT_TRUE(ImportSchema(nullptr).status().IsInvalidArgument());
  EXPECT_TRUE(ExportRecordBatch(AllTypesBatch(), nullptr).IsInvalidArgument());

  // A released schema still releases the array that came with it.
  int array_releases = 0;
  int schema_releases = 0;
  MakeForeignBatch(&array_releases, &schema_releases, &array, &schema);
  schema.release(&schema);
  EXPECT_TRUE(ImportRecordBatch(&array, &schema).status().IsInvalidArgument());
  EXPECT_EQ(array_releases, 1);
}

TEST(CDataTest, ReservedColumnNamesAreRejected) {
  ArrowSchema schema;
  ASSERT_TRUE(ExportSchema(Schema::Parse("x:int64").value(), &schema).ok());
  schema.children[0]->name = "_rowid";
  EXPECT_TRUE(ImportSchema(&schema).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tessera
