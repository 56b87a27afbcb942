#include "tessera/record_batch.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace tessera {
namespace {

bool GetBit(const uint8_t* bits, int64_t index) { return (bits[index >> 3] >> (index & 7)) & 1; }

void SetBit(std::vector<uint8_t>* bits, int64_t index, bool value) {
  if (static_cast<int64_t>(bits->size()) <= (index >> 3)) bits->resize((index >> 3) + 1, 0);
  if (value) (*bits)[index >> 3] |= static_cast<uint8_t>(1u << (index & 7));
}

int64_t BitmapBytes(int64_t bits) { return (bits + 7) / 8; }

}  // namespace

Buffer Buffer::FromVector(std::vector<uint8_t> bytes) {
  auto owner = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  Buffer buffer;
  buffer.data = owner->data();
  buffer.size = static_cast<int64_t>(owner->size());
  buffer.owner = std::move(owner);
  return buffer;
}

Buffer Buffer::Copy(const void* data, int64_t size) {
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0) std::memcpy(bytes.data(), data, static_cast<size_t>(size));
  return FromVector(std::move(bytes));
}

Result<Array> Array::Make(DataType type, int64_t length, Buffer validity, Buffer values,
                          Buffer data, int64_t null_count, int64_t offset) {
  if (length < 0 || offset < 0) return Status::InvalidArgument("array: negative length or offset");
  const int64_t end = length + offset;
  if (!validity.empty() && validity.size < BitmapBytes(end)) {
    return Status::InvalidArgument("array: validity bitmap too small for ", length, " rows");
  }
  switch (type.id) {
    case TypeId::kBool:
      if (values.size < BitmapBytes(end))
        return Status::InvalidArgument("array: bool values too small");
      break;
    case TypeId::kUtf8: {
      if (values.size < (end + 1) * 4)
        return Status::InvalidArgument("array: utf8 offsets too small");
      const auto* offsets = reinterpret_cast<const int32_t*>(values.data);
      if (length > 0) {
        if (offsets[offset] < 0 || offsets[end] < offsets[offset] || offsets[end] > data.size) {
          return Status::InvalidArgument("array: utf8 offsets out of range");
        }
        for (int64_t row = offset; row < end; ++row) {
          if (offsets[row + 1] < offsets[row]) {
            return Status::InvalidArgument("array: utf8 offsets not monotone");
          }
        }
      }
      break;
    }
    default:
      if (values.size < end * type.byte_width()) {
        return Status::InvalidArgument("array: values buffer too small for ", length, " rows of ",
                                       type.ToString());
      }
  }
  Array array;
  array.type_ = type;
  array.length_ = length;
  array.offset_ = offset;
  array.validity_ = std::move(validity);
  array.values_ = std::move(values);
  array.data_ = std::move(data);
  if (array.validity_.empty()) {
    array.null_count_ = 0;
  } else if (null_count >= 0) {
    array.null_count_ = null_count;
  } else {
    int64_t nulls = 0;
    for (int64_t row = 0; row < length; ++row) nulls += array.IsValid(row) ? 0 : 1;
    array.null_count_ = nulls;
  }
  return array;
}

bool Array::IsValid(int64_t row) const {
  if (validity_.empty()) return true;
  return GetBit(validity_.data, offset_ + row);
}

bool Array::Bool(int64_t row) const { return GetBit(values_.data, offset_ + row); }

std::string_view Array::String(int64_t row) const {
  const auto* offsets = reinterpret_cast<const int32_t*>(values_.data);
  const int32_t begin = offsets[offset_ + row];
  const int32_t end = offsets[offset_ + row + 1];
  return {reinterpret_cast<const char*>(data_.data) + begin, static_cast<size_t>(end - begin)};
}

int64_t Array::IntegerAt(int64_t row) const {
  return type_.id == TypeId::kInt32 ? Int32(row) : Int64(row);
}

double Array::NumberAt(int64_t row) const {
  switch (type_.id) {
    case TypeId::kInt32:
      return Int32(row);
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return static_cast<double>(Int64(row));
    case TypeId::kFloat32:
      return Float32(row);
    case TypeId::kFloat64:
      return Float64(row);
    case TypeId::kBool:
      return Bool(row) ? 1 : 0;
    default:
      return 0;
  }
}

Value Array::GetValue(int64_t row) const {
  if (!IsValid(row)) return std::monostate{};
  switch (type_.id) {
    case TypeId::kInt32:
      return static_cast<int64_t>(Int32(row));
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return Int64(row);
    case TypeId::kFloat32:
      return static_cast<double>(Float32(row));
    case TypeId::kFloat64:
      return Float64(row);
    case TypeId::kBool:
      return Bool(row);
    case TypeId::kUtf8:
      return std::string(String(row));
    case TypeId::kVector: {
      auto span = Vector(row);
      return std::vector<float>(span.begin(), span.end());
    }
  }
  return std::monostate{};
}

Array Array::Slice(int64_t offset, int64_t length) const {
  Array out = *this;
  out.offset_ = offset_ + offset;
  out.length_ = length;
  if (validity_.empty()) {
    out.null_count_ = 0;
  } else {
    int64_t nulls = 0;
    for (int64_t row = 0; row < length; ++row) nulls += out.IsValid(row) ? 0 : 1;
    out.null_count_ = nulls;
  }
  return out;
}

// ---------------------------------------------------------------------------

Result<RecordBatch> RecordBatch::Make(Schema schema, std::vector<Array> columns) {
  if (static_cast<int>(columns.size()) != schema.num_fields()) {
    return Status::InvalidArgument("batch has ", columns.size(), " columns, schema has ",
                                   schema.num_fields());
  }
  const int64_t num_rows = columns.empty() ? 0 : columns[0].length();
  for (size_t i = 0; i < columns.size(); ++i) {
    const Field& field = schema.field(static_cast<int>(i));
    if (!(columns[i].type() == field.type)) {
      return Status::InvalidArgument("column '", field.name, "' has type ",
                                     columns[i].type().ToString(), ", expected ",
                                     field.type.ToString());
    }
    if (columns[i].length() != num_rows) {
      return Status::InvalidArgument("column '", field.name, "' has ", columns[i].length(),
                                     " rows, expected ", num_rows);
    }
    if (!field.nullable && columns[i].null_count() > 0) {
      return Status::InvalidArgument("column '", field.name, "' is not nullable but has ",
                                     columns[i].null_count(), " nulls");
    }
  }
  RecordBatch batch;
  batch.schema_ = std::move(schema);
  batch.columns_ = std::move(columns);
  batch.num_rows_ = num_rows;
  return batch;
}

RecordBatch RecordBatch::Empty(Schema schema) {
  RecordBatchBuilder builder(std::move(schema));
  return std::move(builder.Finish()).value();
}

Result<Array> RecordBatch::ColumnByName(std::string_view name) const {
  const int index = schema_.FieldIndex(name);
  if (index < 0) return Status::InvalidArgument("unknown column '", name, "'");
  return columns_[index];
}

RecordBatch RecordBatch::Slice(int64_t offset, int64_t length) const {
  RecordBatch out;
  out.schema_ = schema_;
  out.num_rows_ = length;
  out.columns_.reserve(columns_.size());
  for (const Array& column : columns_) out.columns_.push_back(column.Slice(offset, length));
  return out;
}

Result<RecordBatch> RecordBatch::SelectColumns(const std::vector<std::string>& names) const {
  std::vector<Field> fields;
  std::vector<Array> columns;
  for (const std::string& name : names) {
    const int index = schema_.FieldIndex(name);
    if (index < 0) return Status::InvalidArgument("unknown column '", name, "'");
    fields.push_back(schema_.field(index));
    columns.push_back(columns_[index]);
  }
  TESSERA_ASSIGN_OR_RETURN(Schema schema, Schema::Make(std::move(fields)));
  RecordBatch out;
  out.schema_ = std::move(schema);
  out.columns_ = std::move(columns);
  out.num_rows_ = num_rows_;
  return out;
}

RecordBatch RecordBatch::Take(std::span<const int64_t> rows) const {
  RecordBatch out;
  out.schema_ = schema_;
  out.num_rows_ = static_cast<int64_t>(rows.size());
  for (const Array& column : columns_) {
    ArrayBuilder builder(column.type());
    for (int64_t row : rows) builder.AppendFrom(column, row);
    out.columns_.push_back(builder.Finish());
  }
  return out;
}

Result<RecordBatch> RecordBatch::Concatenate(const Schema& schema,
                                             std::span<const RecordBatch> batches) {
  RecordBatchBuilder builder(schema);
  for (const RecordBatch& batch : batches) {
    if (!(batch.schema().fields().size() == schema.fields().size())) {
      return Status::InvalidArgument("concatenate: schema mismatch");
    }
    for (int col = 0; col < schema.num_fields(); ++col) {
      if (!(batch.column(col).type() == schema.field(col).type)) {
        return Status::InvalidArgument("concatenate: column '", schema.field(col).name,
                                       "' type mismatch");
      }
      const Array& array = batch.column(col);
      for (int64_t row = 0; row < batch.num_rows(); ++row)
        builder.column(col).AppendFrom(array, row);
    }
  }
  return builder.Finish();
}

Result<RecordBatch> RecordBatch::AddColumn(Field field, Array array) const {
  std::vector<Field> fields = schema_.fields();
  fields.push_back(std::move(field));
  // Reserved names such as _rowid are allowed for result columns: bypass Schema::Make's check.
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    if (fields[i].name == fields.back().name) {
      return Status::InvalidArgument("column '", fields.back().name, "' already exists");
    }
  }
  if (array.length() != num_rows_ && !columns_.empty()) {
    return Status::InvalidArgument("column '", fields.back().name, "' has wrong length");
  }
  RecordBatch out;
  out.schema_ = schema_;
  out.schema_.fields_ = std::move(fields);
  out.columns_ = columns_;
  out.columns_.push_back(std::move(array));
  out.num_rows_ = columns_.empty() ? out.columns_.back().length() : num_rows_;
  return out;
}

// ---------------------------------------------------------------------------

ArrayBuilder::ArrayBuilder(DataType type) : type_(type) {
  if (type_.id == TypeId::kUtf8) values_.resize(4, 0);  // offsets start with 0
}

void ArrayBuilder::AppendValidity(bool valid) {
  if (!valid) {
    if (null_count_ == 0) {
      validity_.assign(static_cast<size_t>(BitmapBytes(length_ + 1)), 0);
      for (int64_t row = 0; row < length_; ++row) SetBit(&validity_, row, true);
    }
    ++null_count_;
    SetBit(&validity_, length_, false);
  } else if (null_count_ > 0) {
    SetBit(&validity_, length_, true);
  }
  ++length_;
}

void ArrayBuilder::AppendNull() {
  switch (type_.id) {
    case TypeId::kBool:
      SetBit(&values_, length_, false);
      break;
    case TypeId::kUtf8: {
      const size_t n = values_.size();
      values_.resize(n + 4);
      std::memcpy(values_.data() + n, values_.data() + n - 4, 4);
      break;
    }
    default:
      values_.resize(values_.size() + static_cast<size_t>(type_.byte_width()), 0);
  }
  AppendValidity(false);
}

Status ArrayBuilder::AppendInt(int64_t value) {
  switch (type_.id) {
    case TypeId::kInt32: {
      if (value < std::numeric_limits<int32_t>::min() ||
          value > std::numeric_limits<int32_t>::max()) {
        return Status::InvalidArgument("value ", value, " out of range for int32");
      }
      const int32_t v = static_cast<int32_t>(value);
      values_.insert(values_.end(), reinterpret_cast<const uint8_t*>(&v),
                     reinterpret_cast<const uint8_t*>(&v) + 4);
      break;
    }
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      values_.insert(values_.end(), reinterpret_cast<const uint8_t*>(&value),
                     reinterpret_cast<const uint8_t*>(&value) + 8);
      break;
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return AppendDouble(static_cast<double>(value));
    default:
      return Status::InvalidArgument("expected ", type_.ToString(), ", got an integer");
  }
  AppendValidity(true);
  return Status::OK();
}

Status ArrayBuilder::AppendDouble(double value) {
  if (type_.id == TypeId::kFloat32) {
    const float v = static_cast<float>(value);
    values_.insert(values_.end(), reinterpret_cast<const uint8_t*>(&v),
                   reinterpret_cast<const uint8_t*>(&v) + 4);
  } else if (type_.id == TypeId::kFloat64) {
    values_.insert(values_.end(), reinterpret_cast<const uint8_t*>(&value),
                   reinterpret_cast<const uint8_t*>(&value) + 8);
  } else {
    return Status::InvalidArgument("expected ", type_.ToString(), ", got a floating-point number");
  }
  AppendValidity(true);
  return Status::OK();
}

Status ArrayBuilder::AppendBool(bool value) {
  if (type_.id != TypeId::kBool) {
    return Status::InvalidArgument("expected ", type_.ToString(), ", got a boolean");
  }
  SetBit(&values_, length_, value);
  AppendValidity(true);
  return Status::OK();
}

Status ArrayBuilder::AppendString(std::string_view value) {
  if (type_.id != TypeId::kUtf8) {
    return Status::InvalidArgument("expected ", type_.ToString(), ", got a string");
  }
  if (data_.size() + value.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument("utf8 column exceeds 2 GiB in one batch");
  }
  data_.insert(data_.end(), value.begin(), value.end());
  const int32_t end = static_cast<int32_t>(data_.size());
  values_.insert(values_.end(), reinterpret_cast<const uint8_t*>(&end),
                 reinterpret_cast<const uint8_t*>(&end) + 4);
  AppendValidity(true);
  return Status::OK();
}

Status ArrayBuilder::AppendVector(std::span<const float> value) {
  if (type_.id != TypeId::kVector) {
    return Status::InvalidArgument("expected ", type_.ToString(), ", got a vector");
  }
  if (static_cast<int64_t>(value.size()) != type_.dim) {
    return Status::InvalidArgument("vector has dimension ", value.size(), ", expected ", type_.dim);
  }
  values_.insert(values_.end(), reinterpret_cast<const uint8_t*>(value.data()),
                 reinterpret_cast<const uint8_t*>(value.data() + value.size()));
  AppendValidity(true);
  return Status::OK();
}

Status ArrayBuilder::AppendValue(const Value& value) {
  struct Visitor {
    ArrayBuilder* self;
    Status operator()(std::monostate) const {
      self->AppendNull();
      return Status::OK();
    }
    Status operator()(bool v) const { return self->AppendBool(v); }
    Status operator()(int64_t v) const { return self->AppendInt(v); }
    Status operator()(double v) const { return self->AppendDouble(v); }
    Status operator()(const std::string& v) const { return self->AppendString(v); }
    Status operator()(const std::vector<float>& v) const { return self->AppendVector(v); }
  };
  return std::visit(Visitor{this}, value);
}

void ArrayBuilder::AppendFrom(const Array& array, int64_t row) {
  if (array.IsNull(row)) {
    AppendNull();
    return;
  }
  switch (type_.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      AppendInt(array.IntegerAt(row)).IgnoreError();
      break;
    case TypeId::kFloat32:
      AppendDouble(array.Float32(row)).IgnoreError();
      break;
    case TypeId::kFloat64:
      AppendDouble(array.Float64(row)).IgnoreError();
      break;
    case TypeId::kBool:
      AppendBool(array.Bool(row)).IgnoreError();
      break;
    case TypeId::kUtf8:
      AppendString(array.String(row)).IgnoreError();
      break;
    case TypeId::kVector:
      AppendVector(array.Vector(row)).IgnoreError();
      break;
  }
}

Array ArrayBuilder::Finish() {
  if (type_.id == TypeId::kBool) values_.resize(static_cast<size_t>(BitmapBytes(length_)), 0);
  if (null_count_ > 0) validity_.resize(static_cast<size_t>(BitmapBytes(length_)), 0);
  Buffer validity = null_count_ > 0 ? Buffer::FromVector(std::move(validity_)) : Buffer{};
  Buffer values = Buffer::FromVector(std::move(values_));
  Buffer data = type_.id == TypeId::kUtf8 ? Buffer::FromVector(std::move(data_)) : Buffer{};
  auto array = Array::Make(type_, length_, std::move(validity), std::move(values), std::move(data),
                           null_count_);
  *this = ArrayBuilder(type_);
  return std::move(array).value();
}

// ---------------------------------------------------------------------------

RecordBatchBuilder::RecordBatchBuilder(Schema schema) : schema_(std::move(schema)) {
  builders_.reserve(schema_.fields().size());
  for (const Field& field : schema_.fields()) builders_.emplace_back(field.type);
}

ArrayBuilder& RecordBatchBuilder::column(std::string_view name) {
  return builders_[schema_.FieldIndex(name)];
}

Status RecordBatchBuilder::AppendRow(const std::vector<Value>& row) {
  if (static_cast<int>(row.size()) != schema_.num_fields()) {
    return Status::InvalidArgument("row has ", row.size(), " values, schema has ",
                                   schema_.num_fields(), " columns");
  }
  // Validate first so that a bad row leaves every column unchanged.
  for (int col = 0; col < schema_.num_fields(); ++col) {
    ArrayBuilder probe(schema_.field(col).type);
    Status st = probe.AppendValue(row[col]);
    if (!st.ok()) return st.WithContext("column '", schema_.field(col).name, "'");
    if (!schema_.field(col).nullable && std::holds_alternative<std::monostate>(row[col])) {
      return Status::InvalidArgument("column '", schema_.field(col).name, "' is not nullable");
    }
  }
  for (int col = 0; col < schema_.num_fields(); ++col) {
    builders_[col].AppendValue(row[col]).IgnoreError();
  }
  return Status::OK();
}

Result<RecordBatch> RecordBatchBuilder::Finish() {
  std::vector<Array> columns;
  columns.reserve(builders_.size());
  for (ArrayBuilder& builder : builders_) columns.push_back(builder.Finish());
  return RecordBatch::Make(schema_, std::move(columns));
}

}  // namespace tessera
