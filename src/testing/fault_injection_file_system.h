// FaultInjectionFileSystem: a FileSystem for crash and error-path tests.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_system.h"
#include "tessera/status.h"

namespace tessera::test {

class FaultInjectionWritableFile;

// Wraps a borrowed base FileSystem, forwarding every call, and can
//  - fail the N-th mutating call from now (FailNthMutation) or every write
//    (SetDiskFull); a failed call does nothing to the base;
//  - simulate a power loss (SimulateCrash): every file written through it since the
//    last crash loses the bytes it had not synced, and a file never synced vanishes.
// Mutating calls are NewWritableFile, WritableFile::{Append,Sync,Close},
// CreateExclusive, CreateDirs, DeleteFile, DeleteDirRecursive and SyncDir; reads
// are never failed or counted. Files made by CreateExclusive are durable at once.
// Paths are tracked as given, with repeated and trailing '/' ignored.
// Thread-safe. REQUIRES: `base` outlives this object, which outlives every
// WritableFile it returns.
class FaultInjectionFileSystem : public io::FileSystem {
 public:
  explicit FaultInjectionFileSystem(io::FileSystem* base);
  ~FaultInjectionFileSystem() override;
  FaultInjectionFileSystem(const FaultInjectionFileSystem&) = delete;
  FaultInjectionFileSystem& operator=(const FaultInjectionFileSystem&) = delete;

  // Make the `n`-th (1-based) mutating call from now fail with `code` and the message
  // "injected fault ...", doing nothing. Replaces an earlier pending FailNthMutation.
  // REQUIRES: n >= 1, code != kOk.
  void FailNthMutation(int64_t n, StatusCode code = StatusCode::kIOError);
  // While `disk_full`, fail every Append and CreateExclusive with kResourceExhausted
  // "disk full (injected)", writing nothing. Other calls still succeed.
  void SetDiskFull(bool disk_full);
  // Cancel a pending FailNthMutation and the disk-full state.
  void ClearFaults();
  // Return the number of mutating calls so far, failed ones included.
  int64_t mutation_count() const;

  // Drop the unsynced bytes of every file written through this object since the
  // last crash: truncate each to its last synced length and delete those never
  // synced. WritableFiles opened before the crash fail every later call with
  // kIOError. Returns the first error of the base FileSystem; tracking is reset
  // either way.
  Status SimulateCrash();

  Result<std::unique_ptr<io::WritableFile>> NewWritableFile(const std::string& path) override;
  Status CreateExclusive(const std::string& path, std::string_view contents) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<std::shared_ptr<const io::MappedFile>> MapFile(const std::string& path) override;
  Result<std::vector<io::FileInfo>> ListDir(const std::string& path) override;
  Result<io::FileInfo> Stat(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Status DeleteFile(const std::string& path) override;
  Status DeleteDirRecursive(const std::string& path) override;
  Status SyncDir(const std::string& path) override;

 private:
  friend class FaultInjectionWritableFile;

  // What a crash would leave of one file opened by NewWritableFile.
  struct TrackedFile {
    int64_t generation = 0;  // tells apart successive NewWritableFile calls on a path
    int64_t written_bytes = 0;
    int64_t synced_bytes = 0;
    bool ever_synced = false;
  };

  // Count one mutating call named `op` on `path`, and return the fault it must
  // fail with, if any. `writes_bytes` marks calls that fail while the disk is full.
  Status BeforeMutation(std::string_view op, std::string_view path, bool writes_bytes);
  // Return kIOError if `epoch` is older than the last SimulateCrash.
  Status CheckEpoch(int64_t epoch, std::string_view path) const;
  void OnAppend(const std::string& key, int64_t generation, int64_t num_bytes);
  void OnSync(const std::string& key, int64_t generation);
  // Stop tracking `key` and, if `recursive`, everything below it. REQUIRES: mu_ held.
  void UntrackLocked(const std::string& key, bool recursive);

  io::FileSystem* const base_;

  mutable std::mutex mu_;
  int64_t mutation_count_ = 0;                  // GUARDED_BY(mu_)
  int64_t fail_at_mutation_ = 0;                // GUARDED_BY(mu_); 0 = none pending
  StatusCode fail_code_ = StatusCode::kOk;      // GUARDED_BY(mu_)
  bool disk_full_ = false;                      // GUARDED_BY(mu_)
  int64_t epoch_ = 0;                           // GUARDED_BY(mu_); bumped by SimulateCrash
  int64_t next_generation_ = 0;                 // GUARDED_BY(mu_)
  std::map<std::string, TrackedFile> tracked_;  // GUARDED_BY(mu_); by normalized path
};

}  // namespace tessera::test
