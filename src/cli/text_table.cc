#include "cli/text_table.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace tessera::cli {
namespace {

constexpr int kVectorValuesShown = 2;

template <typename T>
std::string ShortestNumber(T value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "?";
  return std::string(buf, end);
}

std::string VectorText(std::span<const float> values) {
  std::string out = "[";
  const size_t shown =
      values.size() <= kVectorValuesShown + 1 ? values.size() : size_t{kVectorValuesShown};
  for (size_t idx = 0; idx < shown; ++idx) {
    if (idx > 0) out += ", ";
    out += ShortestNumber(values[idx]);
  }
  if (shown < values.size()) out += ", … " + std::to_string(values.size()) + " dims";
  return out + "]";
}

// Escape control characters so that a cell stays on one line.
std::string EscapeControl(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", byte);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Cut `text` to at most `max_width` code points, ending in "…" when cut.
std::string Truncate(std::string text, size_t max_width) {
  if (max_width == 0 || DisplayWidth(text) <= max_width) return text;
  size_t points = 0;
  size_t byte_idx = 0;
  for (; byte_idx < text.size(); ++byte_idx) {
    if (IsContinuationByte(text[byte_idx])) continue;
    if (points == max_width - 1) break;
    ++points;
  }
  text.resize(byte_idx);
  return text + "…";
}

bool IsNumeric(const DataType& type) {
  return type.id == TypeId::kInt32 || type.id == TypeId::kInt64 || type.is_floating();
}

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) width += IsContinuationByte(c) ? 0 : 1;
  return width;
}

std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (byte == '\n' || byte == '\r') {
      out += ' ';
      ++pos;
      continue;
    }
    size_t length = 0;  // of a valid UTF-8 sequence starting here, 0 if none
    if (byte >= 0x20 && byte < 0x7f) {
      length = 1;
    } else if (byte >= 0xC2 && byte <= 0xF4) {
      length = byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4;
      for (size_t idx = 1; idx < length; ++idx) {
        if (pos + idx >= text.size() || !IsContinuationByte(text[pos + idx])) length = 0;
      }
    }
    if (length == 0) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", byte);
      out += buf;
      ++pos;
    } else {
      out.append(text.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

std::string FormatTimestampUtc(int64_t timestamp_us, bool with_micros) {
  using std::chrono::days;
  using std::chrono::microseconds;
  const std::chrono::sys_time<microseconds> time{microseconds{timestamp_us}};
  const std::chrono::sys_days day = std::chrono::floor<days>(time);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<microseconds> hms{time - day};
  char buf[64];
  int len =
      std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                    static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                    static_cast<int>(hms.seconds().count()));
  std::string out(buf, static_cast<size_t>(std::max(len, 0)));
  if (with_micros) {
    std::snprintf(buf, sizeof(buf), ".%06lld",
                  static_cast<long long>(hms.subseconds().count()));  // NOLINT(runtime/int)
    out += buf;
  }
  return out + "Z";
}

std::string CellText(const Array& array, int64_t row, size_t max_width) {
  if (array.IsNull(row)) return "null";
  switch (array.type().id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
      return std::to_string(array.IntegerAt(row));
    case TypeId::kFloat32:
      return ShortestNumber(array.Float32(row));
    case TypeId::kFloat64:
      return ShortestNumber(array.Float64(row));
    case TypeId::kBool:
      return array.Bool(row) ? "true" : "false";
    case TypeId::kUtf8:
      return Truncate(EscapeControl(array.String(row)), max_width);
    case TypeId::kTimestamp: {
      const int64_t micros = array.IntegerAt(row);
      return FormatTimestampUtc(micros, micros % 1000000 != 0);
    }
    case TypeId::kVector:
      return VectorText(array.Vector(row));
  }
  return "?";
}

TextTable::TextTable(std::vector<std::string> header, std::vector<bool> right_align)
    : header_(std::move(header)), right_align_(std::move(right_align)) {
  right_align_.resize(header_.size(), false);
}

std::string TextTable::Render() const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& cells) {
    for (size_t col = 0; col < cells.size() && col < widths.size(); ++col) {
      widths[col] = std::max(widths[col], DisplayWidth(cells[col]));
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);

  std::string out;
  auto render_row = [&](const std::vector<std::string>& cells) {
    for (size_t col = 0; col < cells.size() && col < widths.size(); ++col) {
      const bool last = col + 1 == cells.size();
      const size_t pad = widths[col] - DisplayWidth(cells[col]);
      if (col > 0) out += "  ";
      if (right_align_[col]) out.append(pad, ' ');
      out += cells[col];
      if (!right_align_[col] && !last) out.append(pad, ' ');
    }
    out += "\n";
  };
  render_row(header_);
  for (const auto& row : rows_) render_row(row);
  return out;
}

std::string RenderBatchAsTable(const RecordBatch& batch) {
  constexpr size_t kMaxCellWidth = 48;
  std::vector<std::string> header;
  std::vector<bool> right_align;
  for (const Field& field : batch.schema().fields()) {
    header.push_back(field.name);
    right_align.push_back(IsNumeric(field.type));
  }
  TextTable table(std::move(header), std::move(right_align));
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    std::vector<std::string> cells;
    cells.reserve(batch.num_columns());
    for (const Array& column : batch.columns())
      cells.push_back(CellText(column, row, kMaxCellWidth));
    table.AddRow(std::move(cells));
  }
  return table.Render();
}

}  // namespace tessera::cli
