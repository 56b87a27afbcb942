// Plain-text rendering for the `tessera` tool: aligned columns, cell display forms and
// ISO-8601 timestamps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/record_batch.h"

namespace tessera::cli {

// Return `timestamp_us` (µs since the epoch) as ISO-8601 UTC, e.g. "2024-05-01T12:34:56Z",
// or with `with_micros` "2024-05-01T12:34:56.123456Z".
std::string FormatTimestampUtc(int64_t timestamp_us, bool with_micros);

// Return the display form of one cell for a text table: "null", numbers in their shortest
// exact form, timestamps in ISO-8601, vectors abbreviated ("[0.1, 0.2, … 768 dims]"),
// strings with control characters escaped and cut at `max_width` code points.
std::string CellText(const Array& array, int64_t row, size_t max_width);

// Accumulates rows of text cells and renders them as aligned columns separated by two
// spaces, the header first. Columns marked right-aligned are padded on the left.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::vector<bool> right_align = {});

  // REQUIRES: `cells` has one entry per header column.
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_align_;
  std::vector<std::vector<std::string>> rows_;
};

// Return a text table of every row of `batch` with the column names as header.
std::string RenderBatchAsTable(const RecordBatch& batch);

// Return `text` made safe for one terminal line: line breaks become spaces; other control
// characters and bytes that are not UTF-8 become "\xNN".
std::string OneLine(std::string_view text);

// Return the number of UTF-8 code points in `text` (its display width, roughly).
size_t DisplayWidth(std::string_view text);

}  // namespace tessera::cli
