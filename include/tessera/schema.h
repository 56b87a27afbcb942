// Column types, fields and schemas of Tessera tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tessera/result.h"

namespace tessera {

/// The column types a table can hold. Each maps to one Arrow type:
/// int32/int64 -> Int, float32/float64 -> FloatingPoint, bool -> Bool,
/// utf8 -> Utf8, timestamp -> Timestamp(MICROSECOND, no time zone),
/// vector -> FixedSizeList<float32, dim> (child field "item", non-nullable).
enum class TypeId { kInt32, kInt64, kFloat32, kFloat64, kBool, kUtf8, kTimestamp, kVector };

/// A column type; `dim` is the vector length for kVector and 0 otherwise.
struct DataType {
  TypeId id = TypeId::kInt64;
  int32_t dim = 0;

  static DataType Int32() { return {TypeId::kInt32, 0}; }
  static DataType Int64() { return {TypeId::kInt64, 0}; }
  static DataType Float32() { return {TypeId::kFloat32, 0}; }
  static DataType Float64() { return {TypeId::kFloat64, 0}; }
  static DataType Bool() { return {TypeId::kBool, 0}; }
  static DataType Utf8() { return {TypeId::kUtf8, 0}; }
  static DataType Timestamp() { return {TypeId::kTimestamp, 0}; }
  static DataType Vector(int32_t dim) { return {TypeId::kVector, dim}; }

  /// Parse "int32", "int64", "float32"/"float", "float64"/"double", "bool",
  /// "utf8"/"string", "timestamp", "vector[768]". Errors: kInvalidArgument.
  static Result<DataType> Parse(std::string_view text);
  /// Return the canonical name, which Parse() accepts.
  std::string ToString() const;

  bool is_integer() const {
    return id == TypeId::kInt32 || id == TypeId::kInt64 || id == TypeId::kTimestamp;
  }
  bool is_floating() const { return id == TypeId::kFloat32 || id == TypeId::kFloat64; }
  /// Bytes per value for fixed-width types (vector: 4 * dim); 0 for bool and utf8.
  int64_t byte_width() const;

  friend bool operator==(const DataType&, const DataType&) = default;
};

/// A named, typed column. `nullable` is true by default.
struct Field {
  std::string name;
  DataType type;
  bool nullable = true;

  friend bool operator==(const Field&, const Field&) = default;
};

/// An ordered list of uniquely named fields. Immutable value type.
class Schema {
 public:
  Schema() = default;
  /// Build a schema. Errors: kInvalidArgument on an empty or duplicate name or a vector dim < 1.
  static Result<Schema> Make(std::vector<Field> fields);
  /// Parse "id:int64,vector:vector[768],text:utf8". A type may be followed by
  /// " not null". Errors: kInvalidArgument naming the bad entry.
  static Result<Schema> Parse(std::string_view text);

  const std::vector<Field>& fields() const { return fields_; }
  int num_fields() const { return static_cast<int>(fields_.size()); }
  const Field& field(int index) const { return fields_[index]; }
  /// Return the index of the field called `name`, or -1.
  int FieldIndex(std::string_view name) const;
  /// Return the index of the only vector field, -1 if none, -2 if several.
  int VectorFieldIndex() const;
  /// Return the text form accepted by Parse().
  std::string ToString() const;

  friend bool operator==(const Schema&, const Schema&) = default;

 private:
  friend class RecordBatch;  // AddColumn appends reserved result columns (_rowid, _distance).
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}
  std::vector<Field> fields_;
};

/// One cell value, used for literals, statistics and row-wise access.
/// Integers and timestamps (µs since the epoch) are int64, floats are double.
using Value = std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<float>>;

/// Return a display form of `value` ("null", "12", "1.5", "abc", "[1,2]").
std::string ValueToString(const Value& value);

}  // namespace tessera
