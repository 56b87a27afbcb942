// Readers that turn input files (JSON lines, CSV, fvecs) into RecordBatches of a
// given schema for `tessera add` / `ingest`, and the row-to-JSON writer of `scan`
// and search output. Arrow IPC input is read by format::ArrowIpcFileReader.
//
// All readers are pure functions over bytes the caller owns; they copy what they
// keep. Thread-safe. Each validates its whole input before returning: on any error
// the result is only the error (kInvalidArgument, naming the line or record, and the
// column), never a partial batch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera::ingest {

enum class InputFormat { kJsonLines, kCsv, kArrow, kFvecs };

// Guess the format from the extension: .jsonl/.ndjson/.json, .csv,
// .arrow/.feather/.ipc, .fvecs (case-insensitive).
// Errors: kInvalidArgument naming the file.
Result<InputFormat> FormatFromPath(std::string_view path);

// Parse a format name: "jsonl" (or "ndjson", "json"), "csv", "arrow" (or "feather",
// "ipc"), "fvecs". Errors: kInvalidArgument listing the accepted names.
Result<InputFormat> ParseInputFormat(std::string_view name);

// Return the canonical name of `format` ("jsonl", "csv", "arrow", "fvecs").
std::string_view InputFormatName(InputFormat format);

// Parse JSON lines: one object per line keyed by column name. Vectors are arrays of
// numbers; timestamps are integer microseconds since the epoch or ISO-8601 strings
// (no zone means UTC); integer columns also take integral floats such as 3.0; a
// missing key or null is a null. Blank lines are skipped.
// Errors: kInvalidArgument "line 3: unknown column 'foo'", and likewise for invalid
// JSON, duplicate keys, type mismatches, wrong vector dimensions, values out of range
// (including float32 overflow) and nulls in non-nullable columns.
Result<RecordBatch> ReadJsonLines(std::string_view text, const Schema& schema);

// Parse RFC 4180 CSV whose first record names the columns (any order; columns of the
// schema that are absent are null and must be nullable). An empty unquoted field is
// null; a quoted empty field is the empty string for utf8 columns and null otherwise.
// Vectors are a JSON array "[1,2,3]" or numbers separated by spaces or semicolons.
// Bools are true/false, t/f, yes/no or 1/0. Blank lines are skipped; a leading
// UTF-8 byte order mark is ignored.
// Errors: kInvalidArgument naming the line (of the record's first character) and
// column.
Result<RecordBatch> ReadCsv(std::string_view text, const Schema& schema);

// Parse fvecs: repeated [int32 dim][dim x float32], little endian. Fills the schema's
// only vector column; an int64 column named "id" gets first_id, first_id + 1, ...;
// every other column must be nullable and is null.
// Errors: kInvalidArgument if the schema does not fit, on a record whose dim differs
// from the schema's (naming both and the record index), on a non-finite element, or on
// a truncated file.
Result<RecordBatch> ReadFvecs(std::string_view bytes, const Schema& schema, int64_t first_id);

// Return row `row` of `batch` as one JSON object {"col": value, ...} in column order:
// vectors as arrays, timestamps as ISO-8601 UTC strings with microseconds
// ("2024-01-02T03:04:05.000006Z"), floats in their shortest round-trip form, null,
// NaN and infinities as null. REQUIRES: 0 <= row < batch.num_rows().
std::string RowToJson(const RecordBatch& batch, int64_t row);

// Parse an ISO-8601 date-time ("2024-01-02", "2024-01-02T03:04:05.123456Z",
// "2024-01-02 03:04:05+02:00") as microseconds since the epoch; no zone means UTC.
// Errors: kInvalidArgument.
Result<int64_t> ParseTimestamp(std::string_view text);

// Return `micros` since the epoch as "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::string FormatTimestamp(int64_t micros);

}  // namespace tessera::ingest
