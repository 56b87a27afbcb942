// TableStore: the files of one table and the commit protocol over them.
// Layout (DESIGN.md "On-disk layout"):
//   data/<uuid>.arrow  deletions/<uuid>.del  _versions/<N>.manifest  _tags/<name>
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "format/arrow_ipc_reader.h"
#include "format/deletion_file.h"
#include "format/manifest.h"
#include "io/file_system.h"
#include "table/snapshot.h"
#include "tessera/record_batch.h"

namespace tessera::table {

inline constexpr char kDataDir[] = "data";
inline constexpr char kDeletionsDir[] = "deletions";
inline constexpr char kVersionsDir[] = "_versions";
inline constexpr char kTagsDir[] = "_tags";
// On an object store: the last committed version as decimal text, written after each commit
// (best effort; it may lag behind but never leads), so opening needs no listing of _versions/.
inline constexpr char kLatestHint[] = "_latest_version";

/// Builds the next manifest of a commit from the latest committed snapshot (nullptr when the
/// table has no version yet) and the transactions committed since the writer's base version.
/// Returns kConflict when the operation cannot be rebased onto them.
using BuildManifestFn = std::function<Result<format::Manifest>(
    const Snapshot* latest, std::span<const format::TransactionMeta> winners)>;

/// Owns no table state beyond caches of immutable files; every method reads or writes the
/// store. Thread-safe.
class TableStore {
 public:
  /// `fs` is borrowed and must outlive the store.
  TableStore(io::FileSystem* fs, std::string root, int max_commit_attempts);

  io::FileSystem* fs() const { return fs_; }
  const std::string& root() const { return root_; }
  std::string Path(std::string_view relative) const { return io::JoinPath(root_, relative); }
  std::string ManifestPath(uint64_t version) const;

  /// Return the highest committed version, 0 if the table has none.
  Result<uint64_t> LatestVersion();
  /// Errors: kNotFound if the version does not exist (or was cleaned up), kCorruption.
  Result<format::Manifest> ReadManifest(uint64_t version);
  Result<std::shared_ptr<const Snapshot>> LoadSnapshot(uint64_t version);
  Result<std::shared_ptr<const Snapshot>> LoadSnapshot(format::Manifest manifest);
  /// Return the latest snapshot: `current` itself when nothing newer was committed.
  Result<std::shared_ptr<const Snapshot>> Refresh(std::shared_ptr<const Snapshot> current);

  /// Write `batch` (already conformed to the table schema) as a new durable data file.
  /// Row ids are left empty: they are assigned at commit.
  Result<format::FragmentMeta> WriteFragment(const RecordBatch& batch);
  /// Write a new durable data file from the batches `next` yields (nullopt ends), each already
  /// conformed to `schema`; memory use is bounded by one batch. Row ids are left empty.
  using BatchProducer = std::function<Result<std::optional<RecordBatch>>()>;
  Result<format::FragmentMeta> WriteFragmentBatches(const Schema& schema,
                                                    const BatchProducer& next);
  /// Write a durable deletion file holding `row_ids`.
  Result<format::DeletionFileMeta> WriteDeletionFile(const format::RowIdSet& row_ids);
  /// Return the rows of a fragment's file, zero-copy over its mapping.
  Result<RecordBatch> ReadFragment(const format::FragmentMeta& fragment);

  /// Commit one transaction with optimistic concurrency: build the next manifest on top of
  /// `base`, create `_versions/<V+1>.manifest` only if absent, and on losing the race rebase
  /// onto the winners and retry with jittered backoff. Returns the committed snapshot.
  /// Errors: whatever `build` returns; kConflict after max_commit_attempts; kIOError /
  /// kResourceExhausted from storage (nothing committed). After the commit point nothing
  /// fails: if the new version cannot be read back, `snapshot` is null.
  struct Committed {
    uint64_t version = 0;
    format::Manifest manifest;
    std::shared_ptr<const Snapshot> snapshot;  // null if reading the new version back failed
  };
  Result<Committed> Commit(std::shared_ptr<const Snapshot> base, format::TransactionMeta txn,
                           const BuildManifestFn& build);

  Status CreateTag(std::string_view name, uint64_t version);
  Status DeleteTag(std::string_view name);
  Result<uint64_t> ReadTag(std::string_view name);
  Result<std::map<std::string, uint64_t>> ListTags();

 private:
  // Return the highest version >= `version` reachable by probing `version`+1, +2, ...
  Result<uint64_t> ProbeForward(uint64_t version);
  // On an object store, record `version` as the latest (best effort).
  void WriteLatestHint(uint64_t version);
  // Return true if the version above `version` exists and does not descend from the commit
  // `uuid` we just put at `version`: our put landed in a slot cleanup had freed.
  Result<bool> IsShadowed(uint64_t version, const std::string& uuid);
  Result<std::shared_ptr<const format::RowIdSet>> ReadDeletionFile(const std::string& path);
  Result<std::shared_ptr<const format::ArrowIpcFileReader>> OpenFragment(const std::string& path);

  io::FileSystem* const fs_;
  const std::string root_;
  const int max_commit_attempts_;

  std::mutex cache_mu_;
  // Immutable files, decoded once. Shared because scans hold readers while the cache moves on.
  std::map<std::string, std::shared_ptr<const format::ArrowIpcFileReader>>
      fragments_;  // GUARDED_BY(cache_mu_)
  std::map<std::string, std::shared_ptr<const format::RowIdSet>>
      deletions_;  // GUARDED_BY(cache_mu_)
};

/// Compute per-column min/max/null counts of `batch` (vectors and long strings get none).
std::vector<format::ColumnStats> ComputeColumnStats(const RecordBatch& batch);
/// Fold the stats of a further `rows`-row batch into `into` (stats of `into_rows` rows).
void MergeColumnStats(std::vector<format::ColumnStats>* into, int64_t into_rows,
                      const std::vector<format::ColumnStats>& more, int64_t more_rows);

}  // namespace tessera::table
