// In-memory columnar batches in the Arrow layout, with builders.
//
// Memory layout is Arrow's: a validity bitmap (LSB first, absent when there
// are no nulls), a values buffer (int32/int64/float/double/timestamp little
// endian; bool bit-packed; utf8 int32 offsets), a data buffer for utf8 bytes.
// Vectors are row-major `float[num_rows * dim]` (Arrow FixedSizeList<float32>).
// Buffers may borrow memory owned by someone else (an mmapped fragment, a
// foreign Arrow producer); `Buffer::owner` keeps that memory alive.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera {

/// An immutable byte range. Shared because one mapped file or one imported
/// Arrow array backs many buffers, and each must keep it alive.
struct Buffer {
  const uint8_t* data = nullptr;
  int64_t size = 0;
  std::shared_ptr<const void> owner;

  /// Take ownership of `bytes`.
  static Buffer FromVector(std::vector<uint8_t> bytes);
  /// Copy `size` bytes.
  static Buffer Copy(const void* data, int64_t size);
  bool empty() const { return size == 0; }
};

/// One column of a batch. A cheap-to-copy immutable view over Buffers.
/// `offset` (in elements) applies to every buffer, as in Arrow.
class Array {
 public:
  Array() = default;
  /// Build from raw buffers. Errors: kInvalidArgument if the buffers are too small for
  /// `length` + `offset`. `null_count` < 0 means "compute it".
  static Result<Array> Make(DataType type, int64_t length, Buffer validity, Buffer values,
                            Buffer data = {}, int64_t null_count = -1, int64_t offset = 0);

  const DataType& type() const { return type_; }
  int64_t length() const { return length_; }
  int64_t offset() const { return offset_; }
  int64_t null_count() const { return null_count_; }
  const Buffer& validity() const { return validity_; }
  const Buffer& values() const { return values_; }
  const Buffer& data() const { return data_; }

  bool IsValid(int64_t row) const;
  bool IsNull(int64_t row) const { return !IsValid(row); }
  /// Typed access. REQUIRES: the type matches and the row is valid.
  int32_t Int32(int64_t row) const {
    return reinterpret_cast<const int32_t*>(values_.data)[offset_ + row];
  }
  int64_t Int64(int64_t row) const {
    return reinterpret_cast<const int64_t*>(values_.data)[offset_ + row];
  }
  float Float32(int64_t row) const {
    return reinterpret_cast<const float*>(values_.data)[offset_ + row];
  }
  double Float64(int64_t row) const {
    return reinterpret_cast<const double*>(values_.data)[offset_ + row];
  }
  bool Bool(int64_t row) const;
  std::string_view String(int64_t row) const;
  /// The `dim` floats of row `row`. REQUIRES: type is kVector.
  std::span<const float> Vector(int64_t row) const {
    return {reinterpret_cast<const float*>(values_.data) + (offset_ + row) * type_.dim,
            static_cast<size_t>(type_.dim)};
  }
  /// All vectors of the array, row-major, starting at row 0. REQUIRES: type is kVector.
  std::span<const float> VectorData() const {
    return {reinterpret_cast<const float*>(values_.data) + offset_ * type_.dim,
            static_cast<size_t>(length_ * type_.dim)};
  }
  /// Any integer-like value (int32, int64, timestamp) widened to int64.
  int64_t IntegerAt(int64_t row) const;
  /// Any numeric value widened to double.
  double NumberAt(int64_t row) const;
  /// Return the cell as a Value (monostate for null).
  Value GetValue(int64_t row) const;

  /// Return rows [offset, offset + length) without copying.
  Array Slice(int64_t offset, int64_t length) const;

 private:
  DataType type_;
  int64_t length_ = 0;
  int64_t offset_ = 0;
  int64_t null_count_ = 0;
  Buffer validity_;
  Buffer values_;
  Buffer data_;
};

/// A schema plus equally long columns. Immutable; cheap to copy (buffers are shared).
class RecordBatch {
 public:
  RecordBatch() = default;
  /// Errors: kInvalidArgument if the column count, a type or a length does not match,
  /// or a non-nullable column has nulls.
  static Result<RecordBatch> Make(Schema schema, std::vector<Array> columns);
  /// An empty batch of `schema`.
  static RecordBatch Empty(Schema schema);

  const Schema& schema() const { return schema_; }
  int64_t num_rows() const { return num_rows_; }
  int num_columns() const { return static_cast<int>(columns_.size()); }
  const Array& column(int index) const { return columns_[index]; }
  const std::vector<Array>& columns() const { return columns_; }
  /// Errors: kInvalidArgument naming the unknown column.
  Result<Array> ColumnByName(std::string_view name) const;

  /// Return rows [offset, offset + length) without copying.
  RecordBatch Slice(int64_t offset, int64_t length) const;
  /// Return the named columns in the given order. Errors: kInvalidArgument on an unknown column.
  Result<RecordBatch> SelectColumns(const std::vector<std::string>& names) const;
  /// Return a batch holding the given rows, copied, in the given order.
  RecordBatch Take(std::span<const int64_t> rows) const;
  /// Concatenate batches of equal schemas into one (copies). Errors: kInvalidArgument.
  static Result<RecordBatch> Concatenate(const Schema& schema,
                                         std::span<const RecordBatch> batches);
  /// Return a new batch with `array` appended as a column named `name`.
  Result<RecordBatch> AddColumn(Field field, Array array) const;

 private:
  Schema schema_;
  std::vector<Array> columns_;
  int64_t num_rows_ = 0;
};

/// Builds one Array of a fixed type. Thread-compatible.
class ArrayBuilder {
 public:
  explicit ArrayBuilder(DataType type);

  const DataType& type() const { return type_; }
  int64_t length() const { return length_; }

  void AppendNull();
  /// Each Append checks the type. Errors: kInvalidArgument naming the expected type
  /// (or the expected vector dimension).
  Status AppendInt(int64_t value);
  Status AppendDouble(double value);
  Status AppendBool(bool value);
  Status AppendString(std::string_view value);
  Status AppendVector(std::span<const float> value);
  /// Append a Value, converting ints to floats where the column is floating and
  /// checking integer ranges. monostate appends null.
  Status AppendValue(const Value& value);
  /// Append row `row` of `array`, which must have the same type.
  void AppendFrom(const Array& array, int64_t row);

  /// Return the array and reset the builder.
  Array Finish();

 private:
  void AppendValidity(bool valid);

  DataType type_;
  int64_t length_ = 0;
  int64_t null_count_ = 0;
  std::vector<uint8_t> validity_;
  std::vector<uint8_t> values_;
  std::vector<uint8_t> data_;
};

/// Builds a RecordBatch column by column or row by row.
class RecordBatchBuilder {
 public:
  explicit RecordBatchBuilder(Schema schema);

  const Schema& schema() const { return schema_; }
  ArrayBuilder& column(int index) { return builders_[index]; }
  /// REQUIRES: `name` is a field of the schema.
  ArrayBuilder& column(std::string_view name);
  /// Append one row given as values in schema order. Errors: kInvalidArgument; on error
  /// the builder is left unchanged.
  Status AppendRow(const std::vector<Value>& row);

  /// Errors: kInvalidArgument if the columns have different lengths or a
  /// non-nullable column holds a null.
  Result<RecordBatch> Finish();

 private:
  Schema schema_;
  std::vector<ArrayBuilder> builders_;
};

}  // namespace tessera
