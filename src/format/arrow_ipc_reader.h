// Zero-copy reader of Arrow IPC files ("Feather v2"), Tessera's fragment data files.
// Byte layout and what is accepted: docs/format/arrow_ipc.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/file_system.h"
#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera::format {

// Where one buffer lies in the file: absolute byte offset and length.
struct ArrowIpcBufferInfo {
  int64_t offset = 0;
  int64_t length = 0;
};

// One column of one record batch as the file lays it out. For a vector column
// `values` is the child's float buffer and `child_validity` / `child_null_count`
// describe the child's nulls (accepted only under null vectors); for utf8 `values`
// holds the offsets and `data` the bytes.
struct ArrowIpcColumnInfo {
  int64_t length = 0;
  int64_t null_count = 0;
  ArrowIpcBufferInfo validity;
  ArrowIpcBufferInfo values;
  ArrowIpcBufferInfo data;
  ArrowIpcBufferInfo child_validity;
  int64_t child_null_count = 0;
};

// One record batch message: its block in the footer and its validated layout.
struct ArrowIpcBatchInfo {
  int64_t offset = 0;           // file offset of the message
  int64_t metadata_length = 0;  // prefix + flatbuffer + padding
  int64_t body_offset = 0;      // file offset of the body
  int64_t body_length = 0;
  int64_t num_rows = 0;
  std::vector<ArrowIpcColumnInfo> columns;
};

// An opened Arrow IPC file. Open() validates the whole file structure (magic,
// footer, every message's metadata and buffer layout); ReadBatch() validates the
// data it depends on (bitmaps, utf8 offsets) and returns arrays whose buffers
// point into the mapping. Immutable after Open(); thread-safe for concurrent reads.
class ArrowIpcFileReader {
 public:
  // Open the Arrow IPC file mapped by `file` (shared because every batch read from it
  // keeps the mapping alive). Errors: kCorruption naming what is malformed;
  // kNotSupported for valid Arrow files Tessera cannot represent (other types,
  // dictionaries, compression, big-endian data); kInvalidArgument if `file` is null.
  static Result<std::unique_ptr<ArrowIpcFileReader>> Open(
      std::shared_ptr<const io::MappedFile> file);

  const Schema& schema() const { return schema_; }
  int num_batches() const { return static_cast<int>(batches_.size()); }
  // Return the total number of rows of all batches.
  int64_t num_rows() const { return num_rows_; }
  // Return the layout of batch `index`. REQUIRES: 0 <= index < num_batches().
  const ArrowIpcBatchInfo& batch_info(int index) const { return batches_[index]; }

  // Return batch `index` without copying: its buffers point into the mapping and
  // keep it alive (a buffer too misaligned for its type is copied instead).
  // Errors: kInvalidArgument for a bad index; kCorruption for malformed data.
  Result<RecordBatch> ReadBatch(int index) const;
  // Return all rows as one batch: zero-copy for a file of one batch, else copied.
  // Errors: as ReadBatch().
  Result<RecordBatch> ReadAll() const;

 private:
  ArrowIpcFileReader() = default;

  std::shared_ptr<const io::MappedFile> file_;
  Schema schema_;
  std::vector<ArrowIpcBatchInfo> batches_;
  int64_t num_rows_ = 0;
};

// Return a JSON document describing `reader`'s file: the schema (fields, types,
// nullability), every batch (rows, message and buffer layout) and the first
// `max_rows` rows. Errors met while reading rows are reported inside the JSON.
std::string ArrowIpcFileToJson(const ArrowIpcFileReader& reader, int64_t max_rows);

}  // namespace tessera::format
