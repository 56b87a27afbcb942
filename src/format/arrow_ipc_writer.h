// Arrow IPC file ("Feather v2") writer for fragment data files.
// Byte layout: docs/format/arrow_ipc.md (flatbuffers schemas arrow_schema.fbs,
// arrow_message.fbs, arrow_file.fbs). Every body buffer starts at a 64-byte
// aligned file offset, so a reader that maps the file gets aligned columns.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_system.h"
#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera::format {

// Alignment (and padding) of every body buffer and every record batch body.
inline constexpr int64_t kArrowIpcAlignment = 64;
// The magic at both ends of the file (the leading one is padded with 2 zero bytes).
inline constexpr std::string_view kArrowIpcMagic = "ARROW1";

// Writes one Arrow IPC file: the leading magic and schema message on Open(), one
// record batch message per WriteBatch(), the footer on Finish(). The writer never
// syncs or closes `out`; the caller does after Finish(). After any error the
// writer is unusable and the file must be discarded.
// Thread-compatible: one thread at a time.
class ArrowIpcFileWriter {
 public:
  // Start a file of `schema` on `out` (borrowed; must outlive the writer) and write
  // its header. Errors: whatever `out` returns (kIOError, kResourceExhausted).
  static Result<std::unique_ptr<ArrowIpcFileWriter>> Open(io::WritableFile* out,
                                                          const Schema& schema);

  ArrowIpcFileWriter(const ArrowIpcFileWriter&) = delete;
  ArrowIpcFileWriter& operator=(const ArrowIpcFileWriter&) = delete;

  // Append `batch` as one record batch message. Array offsets (slices) are honoured.
  // Errors: kInvalidArgument if the batch schema differs from the file schema or the
  // writer is finished or failed before; errors of `out`.
  Status WriteBatch(const RecordBatch& batch);

  // Write the footer. Errors: kInvalidArgument if already finished or failed; errors
  // of `out`.
  Status Finish();

  // Return the number of bytes appended to `out` so far.
  int64_t bytes_written() const { return bytes_written_; }

 private:
  struct BlockInfo {
    int64_t offset = 0;
    int32_t metadata_length = 0;
    int64_t body_length = 0;
  };

  ArrowIpcFileWriter(io::WritableFile* out, Schema schema);
  Status Append(std::string_view bytes);
  Status AppendZeros(int64_t count);
  Status CheckUsable() const;

  io::WritableFile* out_;  // borrowed
  Schema schema_;
  int64_t bytes_written_ = 0;
  std::vector<BlockInfo> blocks_;
  bool finished_ = false;
  bool failed_ = false;
};

// Write `batch` to `out` as a complete Arrow IPC file (one record batch) and return
// the number of bytes written. Does not sync or close `out`. Errors: those of `out`.
Result<int64_t> WriteArrowIpcFile(io::WritableFile* out, const RecordBatch& batch);

// Return `batch` encoded as a complete Arrow IPC file in memory (tests, tools).
std::string EncodeArrowIpcFile(const RecordBatch& batch);

// Return `batches` (each of `schema`) encoded as one Arrow IPC file in memory, one
// record batch message per batch. Errors: kInvalidArgument on a schema mismatch.
Result<std::string> EncodeArrowIpcFile(const Schema& schema, std::span<const RecordBatch> batches);

}  // namespace tessera::format
