// FileSystem: the one seam between Tessera and storage (LevelDB's Env).
// Every byte Tessera reads or writes goes through it, which is what lets the
// tests inject faults and lets a table live on local disk, in memory or
// (later) in an object store. Paths are '/'-separated strings; for the local
// implementation they are ordinary OS paths.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"

namespace tessera::io {

/// An immutable, fully readable region of a file (an mmap on local disk).
/// Shared because every Buffer sliced out of it keeps it alive.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual const uint8_t* data() const = 0;
  virtual int64_t size() const = 0;
};

/// A file being written. Not thread-safe. Bytes are durable only after Sync().
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view bytes) = 0;
  /// Flush and fsync the bytes written so far.
  virtual Status Sync() = 0;
  /// Close the file; later calls fail. Does not sync.
  virtual Status Close() = 0;
};

struct FileInfo {
  std::string name;  // base name, not the full path
  bool is_dir = false;
  int64_t size_bytes = 0;
  int64_t mtime_us = 0;  // last modification, µs since the epoch
};

/// Thread-safe: every method may be called from any thread.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  /// Create (or truncate) `path` for writing. Errors: kIOError, kResourceExhausted (disk full).
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  /// Atomically create `path` with `contents` only if it does not exist yet, durably
  /// (temp file, fsync, link without replace, fsync of the directory). This is the commit
  /// point of a version. Errors: kAlreadyExists if `path` exists (nothing written), kIOError,
  /// kResourceExhausted.
  virtual Status CreateExclusive(const std::string& path, std::string_view contents) = 0;
  /// Return the whole file. Errors: kNotFound, kIOError.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  /// Map the whole file read-only. Errors: kNotFound, kIOError.
  virtual Result<std::shared_ptr<const MappedFile>> MapFile(const std::string& path) = 0;
  /// List the entries of directory `path`, sorted by name. Errors: kNotFound.
  virtual Result<std::vector<FileInfo>> ListDir(const std::string& path) = 0;
  /// Errors: kNotFound.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  /// Return whether `path` exists (file or directory).
  virtual Result<bool> Exists(const std::string& path) = 0;
  /// Create `path` and its missing parents; OK if it exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  /// Delete a file. Errors: kNotFound — except on object stores, where deleting a missing key
  /// succeeds (S3 cannot tell without another request); callers that must know, ask Exists().
  virtual Status DeleteFile(const std::string& path) = 0;
  /// Delete a directory and everything below it. OK if it does not exist.
  virtual Status DeleteDirRecursive(const std::string& path) = 0;
  /// Make the entries of directory `path` (creations, deletions) durable.
  virtual Status SyncDir(const std::string& path) = 0;
};

/// Return a MappedFile over an owned copy of `bytes` (tests, in-memory files).
std::shared_ptr<const MappedFile> MappedFileFromString(std::string bytes);

/// Write `contents` to `path` and fsync it (not its directory).
Status WriteFileDurably(FileSystem* fs, const std::string& path, std::string_view contents);

/// Join path components with '/'.
std::string JoinPath(std::string_view a, std::string_view b);

/// Return the process-wide local-disk FileSystem. Never null.
FileSystem* LocalFileSystem();
/// Return the FileSystem for a table at `uri`: `configured` if not null, else the process-wide
/// S3 FileSystem (configured from the environment) for "s3://" URIs, else the local disk.
/// Errors: those of DefaultS3FileSystem() (no credentials).
Result<FileSystem*> FileSystemFor(std::string_view uri, FileSystem* configured);
/// Return a new, empty in-memory FileSystem (for tests and ephemeral tables).
std::unique_ptr<FileSystem> NewMemoryFileSystem();

}  // namespace tessera::io
