// Options structs of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

namespace io {
class FileSystem;
}  // namespace io

/// How CreateTable treats an existing table.
enum class CreateMode {
  kCreate,     ///< fail with kAlreadyExists
  kOverwrite,  ///< commit a new, empty version with the new schema (old versions stay readable)
  kExistOk,    ///< open the existing table (its schema must match)
};

/// Options for opening tables and databases.
struct TableOptions {
  /// Where the files live. Borrowed; must outlive every Table opened with it.
  /// nullptr means the local disk.
  io::FileSystem* file_system = nullptr;
  /// Upper bound on commit attempts when other writers keep winning; then kConflict.
  int max_commit_attempts = 200;
};

/// Exactly-once ingestion: an add tagged with a stream id and a batch id commits the stream's
/// checkpoint in the same manifest as the rows. Re-delivering that batch (or any earlier one)
/// is a no-op reported as `already_committed`.
struct AddOptions {
  std::string stream_id;  ///< empty: an ordinary add
  int64_t batch_id = -1;  ///< REQUIRES: >= 0 when stream_id is set; increasing per stream
};

/// What Scan reads. An empty `where` reads every row; empty `columns` reads every column.
struct ScanOptions {
  std::string where;
  std::vector<std::string> columns;
  int64_t limit = -1;        ///< < 0: no limit
  bool with_row_id = false;  ///< append a uint64 `_rowid` column (stored as int64)
};

}  // namespace tessera
