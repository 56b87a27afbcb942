#include "ingest/file_readers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

namespace tessera::ingest {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---------------------------------------------------------------------------
// Numbers and timestamps

// Return the end of the JSON number starting at `pos`
// (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), or npos if there is none.
size_t ScanJsonNumber(std::string_view text, size_t pos) {
  const size_t size = text.size();
  if (pos < size && text[pos] == '-') ++pos;
  if (pos >= size || !IsDigit(text[pos])) return std::string_view::npos;
  if (text[pos] == '0') {
    ++pos;
  } else {
    while (pos < size && IsDigit(text[pos])) ++pos;
  }
  if (pos < size && text[pos] == '.') {
    ++pos;
    if (pos >= size || !IsDigit(text[pos])) return std::string_view::npos;
    while (pos < size && IsDigit(text[pos])) ++pos;
  }
  if (pos < size && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < size && (text[pos] == '+' || text[pos] == '-')) ++pos;
    if (pos >= size || !IsDigit(text[pos])) return std::string_view::npos;
    while (pos < size && IsDigit(text[pos])) ++pos;
  }
  return pos;
}

// For a decimal `token` that from_chars found out of range: return true if its
// magnitude is too large (rather than too small).
bool IsOverflow(std::string_view token) {
  size_t pos = (!token.empty() && (token[0] == '-' || token[0] == '+')) ? 1 : 0;
  bool after_point = false;
  bool significant = false;
  int64_t integer_digits = 0;  // significant digits before the point
  int64_t leading_zeros = 0;   // zeros between the point and the first significant digit
  for (; pos < token.size(); ++pos) {
    const char c = token[pos];
    if (c == '.') {
      after_point = true;
    } else if (!IsDigit(c)) {
      break;
    } else if (!significant && c == '0') {
      leading_zeros += after_point ? 1 : 0;
    } else {
      significant = true;
      integer_digits += after_point ? 0 : 1;
    }
  }
  if (!significant) return false;
  int64_t magnitude = integer_digits > 0 ? integer_digits : -leading_zeros;
  if (pos < token.size()) {  // at 'e' or 'E'
    std::string_view exponent_text = token.substr(pos + 1);
    if (!exponent_text.empty() && exponent_text.front() == '+') exponent_text.remove_prefix(1);
    int64_t exponent = 0;
    auto [end, error] = std::from_chars(exponent_text.data(),
                                        exponent_text.data() + exponent_text.size(), exponent);
    if (error != std::errc()) return !exponent_text.starts_with('-');
    if (__builtin_add_overflow(magnitude, exponent, &magnitude)) return exponent > 0;
  }
  return magnitude > 0;
}

// Parse all of `token` as a finite double. Errors: kInvalidArgument.
Status ParseFloat64(std::string_view token, double* out) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  const char* end = token.data() + token.size();
  auto [ptr, error] = std::from_chars(token.data(), end, *out);
  if (ptr != end || (error != std::errc() && error != std::errc::result_out_of_range)) {
    return Status::InvalidArgument("expected a number, got '", token, "'");
  }
  if (error == std::errc::result_out_of_range) {
    // Underflow rounds to zero; overflow is an error.
    if (IsOverflow(token)) return Status::InvalidArgument("value ", token, " overflows float64");
    *out = 0;
  }
  if (!std::isfinite(*out)) return Status::InvalidArgument("value ", token, " is not finite");
  return Status::OK();
}

// Parse all of `token` as a finite float32, correctly rounded. Errors: kInvalidArgument.
Status ParseFloat32(std::string_view token, float* out) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  const char* end = token.data() + token.size();
  auto [ptr, error] = std::from_chars(token.data(), end, *out);
  if (ptr == end && error == std::errc() && std::isfinite(*out)) return Status::OK();
  if (ptr != end || (error != std::errc() && error != std::errc::result_out_of_range)) {
    return Status::InvalidArgument("expected a number, got '", token, "'");
  }
  double wide = 0;
  TESSERA_RETURN_IF_ERROR(ParseFloat64(token, &wide));
  if (std::fabs(wide) > static_cast<double>(std::numeric_limits<float>::max())) {
    return Status::InvalidArgument("value ", token, " overflows float32");
  }
  *out = static_cast<float>(wide);  // an underflow: zero or subnormal
  return Status::OK();
}

// Parse all of `token` as an int64; integral floats ("3.0", "1e6") are accepted.
// Errors: kInvalidArgument.
Status ParseInteger(std::string_view token, int64_t* out) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  const char* end = token.data() + token.size();
  auto [ptr, error] = std::from_chars(token.data(), end, *out);
  if (ptr == end && error == std::errc()) return Status::OK();
  double value = 0;
  if (!ParseFloat64(token, &value).ok()) {
    return Status::InvalidArgument("expected an integer, got '", token, "'");
  }
  if (value != std::trunc(value)) {
    return Status::InvalidArgument("expected an integer, got '", token, "'");
  }
  if (value < -9.2233720368547758e18 || value >= 9.2233720368547758e18) {
    return Status::InvalidArgument("value ", token, " out of range for int64");
  }
  *out = static_cast<int64_t>(value);
  return Status::OK();
}

int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

void CivilFromDays(int64_t days, int64_t* year, int64_t* month, int64_t* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t shifted_month = (5 * day_of_year + 2) / 153;
  *day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  *month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

int64_t DaysInMonth(int64_t year, int64_t month) {
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Reads fixed-width decimal fields from a timestamp string.
class DigitReader {
 public:
  explicit DigitReader(std::string_view text) : text_(text) {}
  bool Read(int width, int64_t* out) {
    if (pos_ + width > text_.size()) return false;
    int64_t value = 0;
    for (int index = 0; index < width; ++index) {
      const char c = text_[pos_ + index];
      if (!IsDigit(c)) return false;
      value = value * 10 + (c - '0');
    }
    pos_ += width;
    *out = value;
    return true;
  }
  bool Consume(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  void skip() { ++pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// JSON output

void AppendJsonString(std::string* out, std::string_view text) {
  bool plain = true;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x80 || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out->push_back('"');
    out->append(text);
    out->push_back('"');
    return;
  }
  // Escaping, and replacing invalid UTF-8 by U+FFFD.
  *out += nlohmann::json(std::string(text))
              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <typename T>
void AppendNumber(std::string* out, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) {
      *out += "null";
      return;
    }
  }
  char buffer[40];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, error == std::errc() ? end : buffer);
}

void AppendJsonValue(std::string* out, const Array& array, int64_t row) {
  if (array.IsNull(row)) {
    *out += "null";
    return;
  }
  switch (array.type().id) {
    case TypeId::kInt32:
      AppendNumber(out, array.Int32(row));
      break;
    case TypeId::kInt64:
      AppendNumber(out, array.Int64(row));
      break;
    case TypeId::kFloat32:
      AppendNumber(out, array.Float32(row));
      break;
    case TypeId::kFloat64:
      AppendNumber(out, array.Float64(row));
      break;
    case TypeId::kBool:
      *out += array.Bool(row) ? "true" : "false";
      break;
    case TypeId::kUtf8:
      AppendJsonString(out, array.String(row));
      break;
    case TypeId::kTimestamp:
      out->push_back('"');
      *out += FormatTimestamp(array.Int64(row));
      out->push_back('"');
      break;
    case TypeId::kVector: {
      out->push_back('[');
      bool first = true;
      for (float value : array.Vector(row)) {
        if (!first) out->push_back(',');
        first = false;
        AppendNumber(out, value);
      }
      out->push_back(']');
      break;
    }
  }
}

// ---------------------------------------------------------------------------
// Cell conversion shared by JSON lines and CSV. Errors name the column; the
// callers add the line.

Status ColumnError(const Field& field, const Status& status) {
  return status.WithContext("column '", field.name, "'");
}

Status AppendNull(const Field& field, ArrayBuilder* builder) {
  if (!field.nullable) return Status::InvalidArgument("column '", field.name, "' is not nullable");
  builder->AppendNull();
  return Status::OK();
}

// Append the number `token` to a numeric or timestamp column.
Status AppendNumberToken(const Field& field, ArrayBuilder* builder, std::string_view token) {
  Status status;
  switch (field.type.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kTimestamp: {
      int64_t value = 0;
      status = ParseInteger(token, &value);
      if (status.ok()) status = builder->AppendInt(value);
      break;
    }
    case TypeId::kFloat32: {
      float value = 0;
      status = ParseFloat32(token, &value);
      if (status.ok()) status = builder->AppendDouble(value);
      break;
    }
    case TypeId::kFloat64: {
      double value = 0;
      status = ParseFloat64(token, &value);
      if (status.ok()) status = builder->AppendDouble(value);
      break;
    }
    default:
      status = Status::InvalidArgument("expected ", field.type.ToString(), ", got a number");
  }
  return status.ok() ? status : ColumnError(field, status);
}

// Parse a JSON array of numbers starting at text[*pos] == '[' into `out`; on
// success *pos is just past the ']'. Errors: kInvalidArgument.
Status ParseNumberArray(std::string_view text, size_t* pos, std::vector<float>* out) {
  out->clear();
  size_t at = *pos + 1;
  auto skip_space = [&] {
    while (at < text.size() && IsSpace(text[at])) ++at;
  };
  skip_space();
  if (at < text.size() && text[at] == ']') {
    *pos = at + 1;
    return Status::OK();
  }
  while (true) {
    const size_t end = ScanJsonNumber(text, at);
    if (end == std::string_view::npos) {
      return Status::InvalidArgument("element ", out->size(), " of the array is not a number");
    }
    float value = 0;
    Status status = ParseFloat32(text.substr(at, end - at), &value);
    if (!status.ok()) return status.WithContext("element ", out->size());
    out->push_back(value);
    at = end;
    skip_space();
    if (at < text.size() && text[at] == ',') {
      ++at;
      skip_space();
      continue;
    }
    if (at < text.size() && text[at] == ']') break;
    return Status::InvalidArgument("expected ',' or ']' after element ", out->size() - 1,
                                   " of the array");
  }
  *pos = at + 1;
  return Status::OK();
}

Status AppendVector(const Field& field, ArrayBuilder* builder, const std::vector<float>& values) {
  if (static_cast<int64_t>(values.size()) != field.type.dim) {
    return Status::InvalidArgument("column '", field.name, "': expected ", field.type.dim,
                                   " numbers, got ", values.size());
  }
  return builder->AppendVector(values);
}

// ---------------------------------------------------------------------------
// JSON lines

class JsonLinesReader {
 public:
  explicit JsonLinesReader(const Schema& schema)
      : builder_(schema), seen_(static_cast<size_t>(schema.num_fields()), -1) {}

  Status ParseLine(std::string_view line, int64_t row) {
    line_ = line;
    pos_ = 0;
    SkipSpace();
    if (!Consume('{')) return SyntaxError("expected a JSON object");
    SkipSpace();
    if (!Consume('}')) {
      while (true) {
        if (Peek() != '"') return SyntaxError("expected a column name in double quotes");
        std::string_view key;
        TESSERA_RETURN_IF_ERROR(ParseString(&key_storage_, &key));
        SkipSpace();
        if (!Consume(':')) return SyntaxError("expected ':'");
        SkipSpace();
        const int col = builder_.schema().FieldIndex(key);
        if (col < 0) return Status::InvalidArgument("unknown column '", key, "'");
        if (seen_[col] == row) return Status::InvalidArgument("duplicate column '", key, "'");
        seen_[col] = row;
        TESSERA_RETURN_IF_ERROR(ParseValue(col));
        SkipSpace();
        if (Consume(',')) {
          SkipSpace();
          continue;
        }
        if (Consume('}')) break;
        return SyntaxError("expected ',' or '}'");
      }
    }
    SkipSpace();
    if (pos_ != line_.size()) return SyntaxError("unexpected text after the object");
    for (int col = 0; col < builder_.schema().num_fields(); ++col) {
      if (seen_[col] == row) continue;
      const Field& field = builder_.schema().field(col);
      if (!field.nullable) {
        return Status::InvalidArgument("column '", field.name, "' is not nullable but missing");
      }
      builder_.column(col).AppendNull();
    }
    return Status::OK();
  }

  Result<RecordBatch> Finish() { return builder_.Finish(); }

 private:
  char Peek() const { return pos_ < line_.size() ? line_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c || pos_ >= line_.size()) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (pos_ < line_.size() && IsSpace(line_[pos_])) ++pos_;
  }
  Status SyntaxError(std::string_view what) const {
    return Status::InvalidArgument("invalid JSON at character ", pos_ + 1, ": ", what);
  }

  // Parse the string at line_[pos_] == '"' into `*out`, which may point into
  // `storage` (for escaped or non-ASCII text) or into the line.
  Status ParseString(std::string* storage, std::string_view* out) {
    const size_t start = pos_;
    bool simple = true;
    size_t at = pos_ + 1;
    for (; at < line_.size() && line_[at] != '"'; ++at) {
      const auto byte = static_cast<unsigned char>(line_[at]);
      if (byte == '\\') {
        ++at;
        simple = false;
      } else if (byte < 0x20 || byte >= 0x80) {
        simple = false;
      }
    }
    if (at >= line_.size()) return SyntaxError("unterminated string");
    pos_ = at + 1;
    const std::string_view token = line_.substr(start, pos_ - start);
    if (simple) {
      *out = token.substr(1, token.size() - 2);
      return Status::OK();
    }
    // Escapes and UTF-8 validation are nlohmann's.
    nlohmann::json decoded = nlohmann::json::parse(token, nullptr, /*allow_exceptions=*/false);
    if (decoded.is_discarded() || !decoded.is_string()) {
      pos_ = start;
      return SyntaxError("invalid string (bad escape, control character or UTF-8)");
    }
    *storage = decoded.get_ref<const std::string&>();
    *out = *storage;
    return Status::OK();
  }

  bool ConsumeLiteral(std::string_view literal) {
    if (line_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  Status ParseValue(int col) {
    const Field& field = builder_.schema().field(col);
    ArrayBuilder& builder = builder_.column(col);
    const TypeId type = field.type.id;
    auto type_error = [&](std::string_view got) {
      return Status::InvalidArgument("column '", field.name, "': expected ", field.type.ToString(),
                                     ", got ", got);
    };
    const char c = Peek();
    if (c == 'n') {
      if (!ConsumeLiteral("null")) return SyntaxError("invalid literal");
      return AppendNull(field, &builder);
    }
    if (c == 't' || c == 'f') {
      const bool value = c == 't';
      if (!ConsumeLiteral(value ? "true" : "false")) return SyntaxError("invalid literal");
      if (type != TypeId::kBool) return type_error("a boolean");
      return builder.AppendBool(value);
    }
    if (c == '"') {
      std::string_view text;
      TESSERA_RETURN_IF_ERROR(ParseString(&value_storage_, &text));
      if (type == TypeId::kUtf8) return ColumnError(field, builder.AppendString(text));
      if (type != TypeId::kTimestamp) return type_error("a string");
      Result<int64_t> micros = ParseTimestamp(text);
      if (!micros.ok()) return ColumnError(field, micros.status());
      return builder.AppendInt(*micros);
    }
    if (c == '[') {
      if (type != TypeId::kVector) return type_error("an array");
      Status status = ParseNumberArray(line_, &pos_, &floats_);
      if (!status.ok()) return ColumnError(field, status);
      return AppendVector(field, &builder, floats_);
    }
    if (c == '{') return type_error("an object");
    const size_t end = ScanJsonNumber(line_, pos_);
    if (end == std::string_view::npos) return SyntaxError("invalid value");
    const std::string_view token = line_.substr(pos_, end - pos_);
    pos_ = end;
    return AppendNumberToken(field, &builder, token);
  }

  RecordBatchBuilder builder_;
  std::vector<int64_t> seen_;  // per column, the last row that had a value for it
  std::string_view line_;
  size_t pos_ = 0;
  std::string key_storage_;
  std::string value_storage_;
  std::vector<float> floats_;
};

// ---------------------------------------------------------------------------
// CSV

struct CsvField {
  std::string_view raw;  // the field without its quotes, when it has no "" escapes
  bool quoted = false;
  bool escaped = false;
  std::string unescaped;  // the field when it has "" escapes

  std::string_view text() const { return escaped ? std::string_view(unescaped) : raw; }
};

// Splits RFC 4180 text into records, counting physical lines.
class CsvParser {
 public:
  explicit CsvParser(std::string_view text) : text_(text) {
    if (text_.starts_with("\xEF\xBB\xBF")) text_.remove_prefix(3);
  }

  // Read the next non-blank record into `fields` and its first line into `line`.
  // Return false at the end of the input. Errors: kInvalidArgument naming the line.
  Result<bool> Next(std::vector<CsvField>* fields, int64_t* line) {
    while (true) {
      if (pos_ >= text_.size()) return false;
      // Skip blank lines.
      if (text_[pos_] == '\n') {
        ++pos_;
        ++line_;
        continue;
      }
      if (text_.substr(pos_, 2) == "\r\n") {
        pos_ += 2;
        ++line_;
        continue;
      }
      break;
    }
    *line = line_;
    size_t count = 0;
    while (true) {
      if (fields->size() <= count) fields->emplace_back();
      CsvField& field = (*fields)[count++];
      TESSERA_RETURN_IF_ERROR(ReadField(&field));
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size()) {  // at '\n'
        ++pos_;
        ++line_;
      }
      break;
    }
    fields->resize(count);
    return true;
  }

 private:
  Status ReadField(CsvField* field) {
    field->quoted = false;
    field->escaped = false;
    field->unescaped.clear();
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      const size_t end = std::min(text_.find_first_of(",\n", pos_), text_.size());
      field->raw = text_.substr(pos_, end - pos_);
      if (end < text_.size() && text_[end] == '\n' && field->raw.ends_with('\r')) {
        field->raw.remove_suffix(1);
      }
      pos_ = end;
      return Status::OK();
    }
    field->quoted = true;
    const int64_t start_line = line_;
    size_t start = ++pos_;
    while (true) {
      const size_t quote = text_.find('"', pos_);
      if (quote == std::string_view::npos) {
        return Status::InvalidArgument("line ", start_line, ": unterminated quoted field");
      }
      for (size_t at = pos_; at < quote; ++at) line_ += text_[at] == '\n' ? 1 : 0;
      if (quote + 1 < text_.size() && text_[quote + 1] == '"') {  // "" is one quote
        field->unescaped.append(text_.substr(start, quote + 1 - start));
        field->escaped = true;
        pos_ = start = quote + 2;
        continue;
      }
      if (field->escaped) field->unescaped.append(text_.substr(start, quote - start));
      field->raw = text_.substr(start, quote - start);
      pos_ = quote + 1;
      break;
    }
    if (text_.substr(pos_, 2) == "\r\n") ++pos_;
    if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n') {
      return Status::InvalidArgument("line ", line_, ": unexpected character '", text_[pos_],
                                     "' after a closing quote");
    }
    return Status::OK();
  }

  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

bool ParseBool(std::string_view text, bool* out) {
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "t" || lower == "yes" || lower == "y" || lower == "1") {
    *out = true;
    return true;
  }
  if (lower == "false" || lower == "f" || lower == "no" || lower == "n" || lower == "0") {
    *out = false;
    return true;
  }
  return false;
}

bool IsInteger(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

Status AppendCsvCell(const Field& field, ArrayBuilder* builder, const CsvField& cell,
                     std::vector<float>* floats) {
  if (!cell.quoted && cell.raw.empty()) return AppendNull(field, builder);
  if (field.type.id == TypeId::kUtf8) return ColumnError(field, builder->AppendString(cell.text()));
  const std::string_view text = Trim(cell.text());
  if (text.empty()) return AppendNull(field, builder);
  switch (field.type.id) {
    case TypeId::kBool: {
      bool value = false;
      if (!ParseBool(text, &value)) {
        return Status::InvalidArgument("column '", field.name, "': expected bool, got '", text,
                                       "'");
      }
      return builder->AppendBool(value);
    }
    case TypeId::kTimestamp: {
      if (IsInteger(text)) return AppendNumberToken(field, builder, text);
      Result<int64_t> micros = ParseTimestamp(text);
      if (!micros.ok()) return ColumnError(field, micros.status());
      return builder->AppendInt(*micros);
    }
    case TypeId::kVector: {
      if (text.front() == '[') {
        size_t pos = 0;
        Status status = ParseNumberArray(text, &pos, floats);
        if (status.ok() && pos != text.size()) {
          status = Status::InvalidArgument("unexpected text after the array");
        }
        if (!status.ok()) return ColumnError(field, status);
      } else {
        floats->clear();
        size_t pos = 0;
        while (pos < text.size()) {
          const size_t end = std::min(text.find_first_of(" \t;,", pos), text.size());
          if (end > pos) {
            float value = 0;
            Status status = ParseFloat32(text.substr(pos, end - pos), &value);
            if (!status.ok())
              return ColumnError(field, status.WithContext("element ", floats->size()));
            floats->push_back(value);
          }
          pos = end + 1;
        }
      }
      return AppendVector(field, builder, *floats);
    }
    default:
      return AppendNumberToken(field, builder, text);
  }
}

}  // namespace

Result<InputFormat> FormatFromPath(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  const std::string_view file = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = file.find_last_of('.');
  const std::string extension = dot == std::string_view::npos ? "" : Lower(file.substr(dot + 1));
  if (extension == "jsonl" || extension == "ndjson" || extension == "json") {
    return InputFormat::kJsonLines;
  }
  if (extension == "csv") return InputFormat::kCsv;
  if (extension == "arrow" || extension == "feather" || extension == "ipc")
    return InputFormat::kArrow;
  if (extension == "fvecs") return InputFormat::kFvecs;
  return Status::InvalidArgument("cannot tell the format of '", path,
                                 "' from its extension (expected .jsonl, .ndjson, .json, .csv, "
                                 ".arrow, .feather, .ipc or .fvecs); name the format explicitly");
}

Result<InputFormat> ParseInputFormat(std::string_view name) {
  const std::string lower = Lower(Trim(name));
  if (lower == "jsonl" || lower == "ndjson" || lower == "json") return InputFormat::kJsonLines;
  if (lower == "csv") return InputFormat::kCsv;
  if (lower == "arrow" || lower == "feather" || lower == "ipc") return InputFormat::kArrow;
  if (lower == "fvecs") return InputFormat::kFvecs;
  return Status::InvalidArgument("unknown input format '", name,
                                 "' (expected jsonl, csv, arrow or fvecs)");
}

std::string_view InputFormatName(InputFormat format) {
  switch (format) {
    case InputFormat::kJsonLines:
      return "jsonl";
    case InputFormat::kCsv:
      return "csv";
    case InputFormat::kArrow:
      return "arrow";
    case InputFormat::kFvecs:
      return "fvecs";
  }
  return "unknown";
}

Result<RecordBatch> ReadJsonLines(std::string_view text, const Schema& schema) {
  JsonLinesReader reader(schema);
  int64_t line_number = 0;
  int64_t row = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t newline = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, newline - start);
    start = newline + 1;
    ++line_number;
    if (Trim(line).empty()) continue;
    Status status = reader.ParseLine(line, row++);
    if (!status.ok()) return status.WithContext("line ", line_number);
  }
  return reader.Finish();
}

Result<RecordBatch> ReadCsv(std::string_view text, const Schema& schema) {
  CsvParser parser(text);
  std::vector<CsvField> fields;
  int64_t line = 0;
  TESSERA_ASSIGN_OR_RETURN(bool has_header, parser.Next(&fields, &line));
  if (!has_header) return RecordBatch::Empty(schema);

  std::vector<int> columns;  // header position -> schema column
  std::vector<bool> present(static_cast<size_t>(schema.num_fields()), false);
  for (const CsvField& field : fields) {
    const std::string_view name = Trim(field.text());
    const int col = schema.FieldIndex(name);
    if (col < 0) return Status::InvalidArgument("line ", line, ": unknown column '", name, "'");
    if (present[col])
      return Status::InvalidArgument("line ", line, ": duplicate column '", name, "'");
    present[col] = true;
    columns.push_back(col);
  }
  std::vector<int> absent;
  for (int col = 0; col < schema.num_fields(); ++col) {
    if (present[col]) continue;
    if (!schema.field(col).nullable) {
      return Status::InvalidArgument("line ", line, ": column '", schema.field(col).name,
                                     "' is not nullable but missing from the header");
    }
    absent.push_back(col);
  }

  RecordBatchBuilder builder(schema);
  std::vector<float> floats;
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(bool more, parser.Next(&fields, &line));
    if (!more) break;
    if (fields.size() != columns.size()) {
      return Status::InvalidArgument("line ", line, ": expected ", columns.size(), " fields, got ",
                                     fields.size());
    }
    for (size_t index = 0; index < fields.size(); ++index) {
      const int col = columns[index];
      Status status =
          AppendCsvCell(schema.field(col), &builder.column(col), fields[index], &floats);
      if (!status.ok()) return status.WithContext("line ", line);
    }
    for (int col : absent) builder.column(col).AppendNull();
  }
  return builder.Finish();
}

Result<RecordBatch> ReadFvecs(std::string_view bytes, const Schema& schema, int64_t first_id) {
  const int vector_col = schema.VectorFieldIndex();
  if (vector_col < 0) {
    return Status::InvalidArgument("fvecs input needs exactly one vector column, the schema has ",
                                   vector_col == -1 ? "none" : "several");
  }
  const Field& vector_field = schema.field(vector_col);
  const int32_t dim = vector_field.type.dim;
  int id_col = schema.FieldIndex("id");
  if (id_col >= 0 && schema.field(id_col).type.id != TypeId::kInt64) id_col = -1;
  for (int col = 0; col < schema.num_fields(); ++col) {
    if (col != vector_col && col != id_col && !schema.field(col).nullable) {
      return Status::InvalidArgument("fvecs input cannot fill column '", schema.field(col).name,
                                     "', which is not nullable");
    }
  }

  const int64_t record_bytes = 4 + 4 * static_cast<int64_t>(dim);
  const auto size = static_cast<int64_t>(bytes.size());
  int64_t num_rows = 0;
  for (int64_t pos = 0; pos < size; pos += record_bytes, ++num_rows) {
    if (size - pos < 4) {
      return Status::InvalidArgument("truncated fvecs input: record ", num_rows, " has ",
                                     size - pos, " of 4 header bytes");
    }
    int32_t record_dim = 0;
    std::memcpy(&record_dim, bytes.data() + pos, 4);
    if (record_dim != dim) {
      return Status::InvalidArgument("fvecs record ", num_rows, " has dimension ", record_dim,
                                     ", column '", vector_field.name, "' has dimension ", dim);
    }
    if (size - pos < record_bytes) {
      return Status::InvalidArgument("truncated fvecs input: record ", num_rows, " has ",
                                     size - pos - 4, " of ", record_bytes - 4, " bytes of floats");
    }
  }

  std::vector<uint8_t> values(static_cast<size_t>(num_rows * dim * 4));
  for (int64_t row = 0; row < num_rows; ++row) {
    const char* source = bytes.data() + row * record_bytes + 4;
    std::memcpy(values.data() + row * dim * 4, source, static_cast<size_t>(dim) * 4);
    for (int32_t element = 0; element < dim; ++element) {
      float value = 0;
      std::memcpy(&value, source + element * 4, 4);
      if (!std::isfinite(value)) {
        return Status::InvalidArgument("fvecs record ", row, ": element ", element,
                                       " is not finite");
      }
    }
  }

  std::vector<Array> columns;
  for (int col = 0; col < schema.num_fields(); ++col) {
    const DataType& type = schema.field(col).type;
    if (col == vector_col) {
      TESSERA_ASSIGN_OR_RETURN(
          Array array, Array::Make(type, num_rows, {}, Buffer::FromVector(std::move(values))));
      columns.push_back(std::move(array));
      continue;
    }
    ArrayBuilder builder(type);
    for (int64_t row = 0; row < num_rows; ++row) {
      if (col == id_col) {
        TESSERA_RETURN_IF_ERROR(builder.AppendInt(first_id + row));
      } else {
        builder.AppendNull();
      }
    }
    columns.push_back(builder.Finish());
  }
  return RecordBatch::Make(schema, std::move(columns));
}

std::string RowToJson(const RecordBatch& batch, int64_t row) {
  std::string out = "{";
  for (int col = 0; col < batch.num_columns(); ++col) {
    if (col > 0) out.push_back(',');
    AppendJsonString(&out, batch.schema().field(col).name);
    out.push_back(':');
    AppendJsonValue(&out, batch.column(col), row);
  }
  out.push_back('}');
  return out;
}

Result<int64_t> ParseTimestamp(std::string_view text) {
  const std::string_view trimmed = Trim(text);
  auto invalid = [&] {
    return Status::InvalidArgument("invalid timestamp '", trimmed,
                                   "' (expected ISO-8601 such as 2024-01-02T03:04:05.123456Z "
                                   "or integer microseconds)");
  };
  DigitReader reader(trimmed);
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  if (reader.peek() == '+' || reader.peek() == '-') {  // expanded year: +YYYYYY
    const bool negative = reader.peek() == '-';
    reader.skip();
    if (!reader.Read(6, &year)) return invalid();
    if (negative) year = -year;
  } else if (!reader.Read(4, &year)) {
    return invalid();
  }
  if (!reader.Consume('-') || !reader.Read(2, &month) || !reader.Consume('-') ||
      !reader.Read(2, &day)) {
    return invalid();
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return invalid();
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t micros = 0;
  int64_t zone_minutes = 0;
  if (!reader.done()) {
    if (!reader.Consume('T') && !reader.Consume('t') && !reader.Consume(' ')) return invalid();
    if (!reader.Read(2, &hour) || !reader.Consume(':') || !reader.Read(2, &minute)) {
      return invalid();
    }
    if (reader.Consume(':')) {
      if (!reader.Read(2, &second)) return invalid();
      if (reader.Consume('.') || reader.Consume(',')) {
        int digits = 0;
        int64_t digit = 0;
        while (reader.Read(1, &digit)) {
          if (digits < 6) micros = micros * 10 + digit;  // finer digits are truncated
          ++digits;
        }
        if (digits == 0) return invalid();
        for (; digits < 6; ++digits) micros *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return invalid();
    if (reader.Consume('Z') || reader.Consume('z')) {
      // UTC
    } else if (reader.peek() == '+' || reader.peek() == '-') {
      const int64_t sign = reader.peek() == '-' ? -1 : 1;
      reader.skip();
      int64_t zone_hour = 0;
      int64_t zone_minute = 0;
      if (!reader.Read(2, &zone_hour)) return invalid();
      if (!reader.done()) {
        reader.Consume(':');
        if (!reader.Read(2, &zone_minute)) return invalid();
      }
      if (zone_hour > 23 || zone_minute > 59) return invalid();
      zone_minutes = sign * (zone_hour * 60 + zone_minute);
    }
    if (!reader.done()) return invalid();
  }
  const int64_t seconds = DaysFromCivil(year, month, day) * 86'400 + hour * 3600 +
                          (minute - zone_minutes) * 60 + second;
  // 128 bits: the extreme int64 values need seconds * 10^6 beyond int64 before adding micros.
  const __int128 result = static_cast<__int128>(seconds) * kMicrosPerSecond + micros;
  if (result < std::numeric_limits<int64_t>::min() ||
      result > std::numeric_limits<int64_t>::max()) {
    return Status::InvalidArgument("timestamp '", trimmed, "' is out of range");
  }
  return static_cast<int64_t>(result);
}

std::string FormatTimestamp(int64_t micros) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  CivilFromDays(days, &year, &month, &day);
  const int64_t seconds = rest / kMicrosPerSecond;
  char buffer[48];
  int length = 0;
  if (year >= 0 && year <= 9999) {
    length = std::snprintf(buffer, sizeof(buffer), "%04lld", static_cast<long long>(year));
  } else {  // ISO-8601 expanded year
    length = std::snprintf(buffer, sizeof(buffer), "%c%06lld", year < 0 ? '-' : '+',
                           static_cast<long long>(year < 0 ? -year : year));
  }
  std::snprintf(buffer + length, sizeof(buffer) - static_cast<size_t>(length),
                "-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ", static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60),
                static_cast<long long>(rest % kMicrosPerSecond));
  return buffer;
}

}  // namespace tessera::ingest
