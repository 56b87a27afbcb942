#include "tessera/schema.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

namespace tessera {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<DataType> DataType::Parse(std::string_view text) {
  const std::string name = Lower(Trim(text));
  if (name == "int32" || name == "int") return Int32();
  if (name == "int64" || name == "bigint") return Int64();
  if (name == "float32" || name == "float") return Float32();
  if (name == "float64" || name == "double") return Float64();
  if (name == "bool" || name == "boolean") return Bool();
  if (name == "utf8" || name == "string") return Utf8();
  if (name == "timestamp" || name == "timestamp[us]") return Timestamp();
  if (name.starts_with("vector[") && name.ends_with("]")) {
    const std::string_view digits = std::string_view(name).substr(7, name.size() - 8);
    int32_t dim = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), dim);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || dim < 1 || dim > 65536) {
      return Status::InvalidArgument("invalid vector dimension in type '", text,
                                     "' (expected vector[N] with 1 <= N <= 65536)");
    }
    return Vector(dim);
  }
  return Status::InvalidArgument("unknown type '", text,
                                 "' (expected int32, int64, float32, float64, bool, utf8, "
                                 "timestamp or vector[N])");
}

std::string DataType::ToString() const {
  switch (id) {
    case TypeId::kInt32:
      return "int32";
    case TypeId::kInt64:
      return "int64";
    case TypeId::kFloat32:
      return "float32";
    case TypeId::kFloat64:
      return "float64";
    case TypeId::kBool:
      return "bool";
    case TypeId::kUtf8:
      return "utf8";
    case TypeId::kTimestamp:
      return "timestamp";
    case TypeId::kVector:
      return "vector[" + std::to_string(dim) + "]";
  }
  return "unknown";
}

int64_t DataType::byte_width() const {
  switch (id) {
    case TypeId::kInt32:
    case TypeId::kFloat32:
      return 4;
    case TypeId::kInt64:
    case TypeId::kFloat64:
    case TypeId::kTimestamp:
      return 8;
    case TypeId::kVector:
      return 4 * static_cast<int64_t>(dim);
    case TypeId::kBool:
    case TypeId::kUtf8:
      return 0;
  }
  return 0;
}

Result<Schema> Schema::Make(std::vector<Field> fields) {
  std::set<std::string, std::less<>> names;
  for (const Field& field : fields) {
    if (field.name.empty()) return Status::InvalidArgument("schema: empty column name");
    if (!names.insert(field.name).second) {
      return Status::InvalidArgument("schema: duplicate column name '", field.name, "'");
    }
    if (field.type.id == TypeId::kVector && field.type.dim < 1) {
      return Status::InvalidArgument("schema: column '", field.name, "' has vector dimension ",
                                     field.type.dim);
    }
    if (field.name.starts_with("_")) {
      return Status::InvalidArgument("schema: column name '", field.name,
                                     "' is reserved (names starting with '_' are Tessera's)");
    }
  }
  if (fields.empty()) return Status::InvalidArgument("schema: no columns");
  return Schema(std::move(fields));
}

Result<Schema> Schema::Parse(std::string_view text) {
  std::vector<Field> fields;
  size_t start = 0;
  // Split on commas that are not inside brackets.
  int depth = 0;
  for (size_t pos = 0; pos <= text.size(); ++pos) {
    if (pos < text.size()) {
      if (text[pos] == '[') ++depth;
      if (text[pos] == ']') --depth;
      if (text[pos] != ',' || depth != 0) continue;
    }
    std::string_view entry = Trim(text.substr(start, pos - start));
    start = pos + 1;
    const size_t colon = entry.find(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("schema: entry '", entry, "' is not name:type");
    }
    Field field;
    field.name = std::string(Trim(entry.substr(0, colon)));
    std::string_view type_text = Trim(entry.substr(colon + 1));
    const std::string lowered = Lower(type_text);
    if (lowered.ends_with(" not null")) {
      field.nullable = false;
      type_text = Trim(type_text.substr(0, type_text.size() - 9));
    }
    auto type = DataType::Parse(type_text);
    if (!type.ok()) return type.status().WithContext("schema: column '", field.name, "'");
    field.type = *type;
    fields.push_back(std::move(field));
  }
  return Make(std::move(fields));
}

int Schema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Schema::VectorFieldIndex() const {
  int found = -1;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].type.id != TypeId::kVector) continue;
    if (found >= 0) return -2;
    found = static_cast<int>(i);
  }
  return found;
}

std::string Schema::ToString() const {
  std::string out;
  for (const Field& field : fields_) {
    if (!out.empty()) out += ",";
    out += field.name + ":" + field.type.ToString();
    if (!field.nullable) out += " not null";
  }
  return out;
}

std::string ValueToString(const Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", v);
      return buf;
    }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const std::vector<float>& v) const {
      std::string out = "[";
      char buf[32];
      for (size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v[i]));
        if (i > 0) out += ",";
        out += buf;
      }
      return out + "]";
    }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace tessera
