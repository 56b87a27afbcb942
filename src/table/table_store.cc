#include "table/table_store.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <list>
#include <random>
#include <thread>

#include "base/lru_cache.h"
#include "base/uuid.h"
#include "format/arrow_ipc_writer.h"
#include "format/deletion_file.h"
#include "io/s3_file_system.h"
#include "tessera/process_metrics.h"

namespace tessera::table {
namespace {

bool ValidTagName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

Result<uint64_t> ParseUint(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return Status::Corruption("not a number: '", text, "'");
  }
  return value;
}

// Jittered pause before a commit's next attempt. Short and capped low: a writer that lost the
// race has just read the newest versions and knows the free slot, and every millisecond it
// sleeps is a window for the writers that did not lose (long pauses starved a loser for
// seconds on the object store, where each attempt also costs requests).
void Backoff(int attempt) {
  thread_local std::mt19937 rng(std::random_device{}());
  const int cap_us = std::min(20000, 250 << std::min(attempt, 7));
  std::uniform_int_distribution<int> dist(0, cap_us);
  std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
}

}  // namespace

TableStore::TableStore(io::FileSystem* fs, std::string root, int max_commit_attempts)
    : fs_(fs), root_(std::move(root)), max_commit_attempts_(std::max(1, max_commit_attempts)) {}

std::string TableStore::ManifestPath(uint64_t version) const {
  return Path(std::string(kVersionsDir) + "/" + std::to_string(version) + ".manifest");
}

Result<uint64_t> TableStore::LatestVersion() {
  uint64_t latest = 0;
  // On an object store a listing of _versions/ pages through the whole history: start from
  // the hint the last commits wrote and probe forward instead (a hint may lag, never lead).
  if (io::IsS3Uri(root_)) {
    auto hint = fs_->ReadFile(Path(kLatestHint));
    if (hint.ok()) {
      auto version = ParseUint(*hint);
      if (version.ok() && *version > 0) {
        TESSERA_ASSIGN_OR_RETURN(bool hinted_exists, fs_->Exists(ManifestPath(*version)));
        if (hinted_exists) return ProbeForward(*version);
      }
    } else if (!hint.status().IsNotFound()) {
      return hint.status().WithContext("reading the latest-version hint");
    }
  }
  auto listing = fs_->ListDir(Path(kVersionsDir));
  if (!listing.ok()) {
    if (listing.status().IsNotFound()) return uint64_t{0};
    return listing.status();
  }
  for (const io::FileInfo& info : *listing) {
    std::string_view name = info.name;
    if (!name.ends_with(".manifest") || name.starts_with(".")) continue;
    name.remove_suffix(9);
    auto version = ParseUint(name);
    if (version.ok()) latest = std::max(latest, *version);
  }
  // A listing may lag behind a commit that raced with it: probe forward.
  return ProbeForward(latest);
}

Result<uint64_t> TableStore::ProbeForward(uint64_t version) {
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(bool next_exists, fs_->Exists(ManifestPath(version + 1)));
    if (!next_exists) return version;
    ++version;
  }
}

void TableStore::WriteLatestHint(uint64_t version) {
  if (!io::IsS3Uri(root_)) return;  // a local listing is cheap
  auto file = fs_->NewWritableFile(Path(kLatestHint));
  if (!file.ok()) return;
  if ((*file)->Append(std::to_string(version)).ok()) (*file)->Close().IgnoreError();
}

Result<format::Manifest> TableStore::ReadManifest(uint64_t version) {
  auto bytes = fs_->ReadFile(ManifestPath(version));
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound())
      return Status::NotFound("version ", version, " does not exist");
    return bytes.status().WithContext("reading manifest of version ", version);
  }
  auto manifest = format::DecodeManifest(*bytes);
  if (!manifest.ok()) return manifest.status().WithContext("manifest of version ", version);
  if (manifest->version != version) {
    return Status::Corruption("manifest file of version ", version, " holds version ",
                              manifest->version);
  }
  return manifest;
}

Result<std::shared_ptr<const format::RowIdSet>> TableStore::ReadDeletionFile(
    const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = deletions_.find(path);
    if (it != deletions_.end()) return it->second;
  }
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, fs_->ReadFile(Path(path)));
  auto decoded = format::DecodeDeletionFile(bytes);
  if (!decoded.ok()) return decoded.status().WithContext("deletion file ", path);
  auto shared = std::make_shared<const format::RowIdSet>(std::move(decoded).value());
  std::lock_guard<std::mutex> lock(cache_mu_);
  deletions_.emplace(path, shared);
  return shared;
}

Result<std::shared_ptr<const Snapshot>> TableStore::LoadSnapshot(format::Manifest manifest) {
  format::RowIdSet deleted;
  for (const format::DeletionFileMeta& file : manifest.deletion_files) {
    TESSERA_ASSIGN_OR_RETURN(auto ids, ReadDeletionFile(file.path));
    deleted |= *ids;
  }
  return std::make_shared<const Snapshot>(std::move(manifest), std::move(deleted));
}

Result<std::shared_ptr<const Snapshot>> TableStore::LoadSnapshot(uint64_t version) {
  TESSERA_ASSIGN_OR_RETURN(format::Manifest manifest, ReadManifest(version));
  return LoadSnapshot(std::move(manifest));
}

Result<std::shared_ptr<const Snapshot>> TableStore::Refresh(
    std::shared_ptr<const Snapshot> current) {
  uint64_t version = current->version();
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(bool next_exists, fs_->Exists(ManifestPath(version + 1)));
    if (!next_exists) break;
    ++version;
  }
  if (version == current->version()) {
    // Cleanup may have removed this version and its successors (keeping newer ones): a handle
    // must then jump to the latest by listing, never stay behind.
    TESSERA_ASSIGN_OR_RETURN(bool still_there, fs_->Exists(ManifestPath(version)));
    if (still_there) return current;
    TESSERA_ASSIGN_OR_RETURN(version, LatestVersion());
    if (version == current->version()) return current;
  }
  return LoadSnapshot(version);
}

Result<format::FragmentMeta> TableStore::WriteFragment(const RecordBatch& batch) {
  bool done = false;
  return WriteFragmentBatches(batch.schema(), [&]() -> Result<std::optional<RecordBatch>> {
    if (done) return std::optional<RecordBatch>();
    done = true;
    return std::optional<RecordBatch>(batch);
  });
}

Result<format::FragmentMeta> TableStore::WriteFragmentBatches(const Schema& schema,
                                                              const BatchProducer& next) {
  format::FragmentMeta meta;
  meta.path = std::string(kDataDir) + "/" + base::NewUuid() + ".arrow";
  const std::string path = Path(meta.path);
  TESSERA_RETURN_IF_ERROR(fs_->CreateDirs(Path(kDataDir)));
  TESSERA_ASSIGN_OR_RETURN(auto file, fs_->NewWritableFile(path));
  auto write_all = [&]() -> Status {
    TESSERA_ASSIGN_OR_RETURN(auto writer, format::ArrowIpcFileWriter::Open(file.get(), schema));
    while (true) {
      TESSERA_ASSIGN_OR_RETURN(std::optional<RecordBatch> batch, next());
      if (!batch) break;
      if (batch->num_rows() == 0) continue;
      MergeColumnStats(&meta.stats, meta.num_rows, ComputeColumnStats(*batch), batch->num_rows());
      meta.num_rows += batch->num_rows();
      TESSERA_RETURN_IF_ERROR(writer->WriteBatch(*batch));
    }
    TESSERA_RETURN_IF_ERROR(writer->Finish());
    meta.size_bytes = writer->bytes_written();
    return file->Sync();
  };
  Status st = write_all();
  Status closed = file->Close();
  if (st.ok()) st = closed;
  if (st.ok()) st = fs_->SyncDir(Path(kDataDir));
  if (!st.ok()) {
    fs_->DeleteFile(path).IgnoreError();  // best effort: an orphan is harmless
    return st.WithContext("writing data file ", meta.path);
  }
  return meta;
}

Result<format::DeletionFileMeta> TableStore::WriteDeletionFile(const format::RowIdSet& row_ids) {
  format::DeletionFileMeta meta;
  meta.path = std::string(kDeletionsDir) + "/" + base::NewUuid() + ".del";
  meta.num_rows = static_cast<int64_t>(row_ids.cardinality());
  TESSERA_RETURN_IF_ERROR(fs_->CreateDirs(Path(kDeletionsDir)));
  Status st = io::WriteFileDurably(fs_, Path(meta.path), format::EncodeDeletionFile(row_ids));
  if (st.ok()) st = fs_->SyncDir(Path(kDeletionsDir));
  if (!st.ok()) {
    fs_->DeleteFile(Path(meta.path)).IgnoreError();
    return st.WithContext("writing deletion file ", meta.path);
  }
  return meta;
}

Result<std::shared_ptr<const format::ArrowIpcFileReader>> TableStore::OpenFragment(
    const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = fragments_.find(path);
    if (it != fragments_.end()) return it->second;
  }
  TESSERA_ASSIGN_OR_RETURN(auto mapped, fs_->MapFile(Path(path)));
  auto reader = format::ArrowIpcFileReader::Open(std::move(mapped));
  if (!reader.ok()) return reader.status().WithContext("data file ", path);
  std::shared_ptr<const format::ArrowIpcFileReader> shared = std::move(reader).value();
  std::lock_guard<std::mutex> lock(cache_mu_);
  fragments_.emplace(path, shared);
  return shared;
}

namespace {

// Fragments written as several Arrow record batches (compaction writes batch by batch to bound
// its memory) cannot be presented as one zero-copy batch: ReadAll() concatenates them. The
// concatenation is kept, process-wide, in a byte-bounded LRU, so that queries and scans over a
// compacted fragment do not copy it every time (measured: a query over a 100k-row compacted
// 768-d fragment took 2 s instead of 20 ms). Keyed by the file's full path: files are immutable.
base::LruCache<RecordBatch>& AssembledFragmentCache() {
  static auto* cache = new base::LruCache<RecordBatch>(size_t{4} << 30);  // used at exit
  return *cache;
}

size_t BatchBytes(const RecordBatch& batch) {
  size_t bytes = 0;
  for (const Array& column : batch.columns()) {
    bytes += column.validity().size + column.values().size + column.data().size;
  }
  return bytes;
}

}  // namespace

Result<RecordBatch> TableStore::ReadFragment(const format::FragmentMeta& fragment) {
  TESSERA_ASSIGN_OR_RETURN(auto reader, OpenFragment(fragment.path));
  const std::string key = Path(fragment.path);
  if (reader->num_batches() > 1) {
    if (auto cached = AssembledFragmentCache().Get(key)) return *cached;
  }
  auto batch = reader->ReadAll();
  if (batch.ok() && reader->num_batches() > 1 && batch->num_rows() == fragment.num_rows) {
    const size_t bytes = BatchBytes(*batch);
    // A batch larger than the whole cache is not kept (it would evict everything else).
    if (bytes <= AssembledFragmentCache().capacity_bytes()) {
      AssembledFragmentCache().Put(key, *batch, bytes);
    }
  }
  if (!batch.ok()) return batch.status().WithContext("data file ", fragment.path);
  if (batch->num_rows() != fragment.num_rows) {
    return Status::Corruption("data file ", fragment.path, " has ", batch->num_rows(),
                              " rows, manifest says ", fragment.num_rows);
  }
  return batch;
}

Result<TableStore::Committed> TableStore::Commit(std::shared_ptr<const Snapshot> base,
                                                 format::TransactionMeta txn,
                                                 const BuildManifestFn& build) {
  const int64_t start_us = base::NowMicros();
  txn.uuid = base::NewUuid();
  txn.base_version = base ? base->version() : 0;
  std::shared_ptr<const Snapshot> latest = std::move(base);
  std::vector<format::TransactionMeta> winners;
  TESSERA_RETURN_IF_ERROR(fs_->CreateDirs(Path(kVersionsDir)));
  // Whether `latest` was read from the store just now (a rebase): then it exists, and the
  // check below (a request on an object store) is skipped; IsShadowed still covers the race.
  bool latest_just_read = false;
  for (int attempt = 0; attempt < max_commit_attempts_; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(format::Manifest next, build(latest.get(), winners));
    next.version = (latest ? latest->version() : 0) + 1;
    next.transaction = txn;
    next.lineage.clear();
    if (latest) {
      next.lineage.push_back(latest->manifest().transaction.uuid);
      for (const std::string& uuid : latest->manifest().lineage) {
        if (next.lineage.size() >= format::kMaxLineage) break;
        next.lineage.push_back(uuid);
      }
    }
    next.transaction.timestamp_us = base::NowMicros();
    next.transaction.duration_us = next.transaction.timestamp_us - start_us + txn.duration_us;
    // If cleanup removed our base (and its successors), a put-if-absent of base+1 could
    // succeed below the latest version and be shadowed: rebase onto the latest instead.
    if (latest && !latest_just_read) {
      TESSERA_ASSIGN_OR_RETURN(bool base_exists, fs_->Exists(ManifestPath(latest->version())));
      if (!base_exists) {
        TESSERA_ASSIGN_OR_RETURN(uint64_t newest_version, LatestVersion());
        TESSERA_ASSIGN_OR_RETURN(latest, LoadSnapshot(newest_version));
        winners.push_back(latest->manifest().transaction);
        latest_just_read = true;
        continue;
      }
    }
    Status created = fs_->CreateExclusive(ManifestPath(next.version), format::EncodeManifest(next));
    if (created.ok()) {
      ++ProcessMetrics::Get().commits;
      // A cleanup between the base check above and the put can free the slot of a version
      // that another writer had already committed on top of our base (and built more on):
      // then the put succeeds below the latest version and nobody would ever read it. The
      // version above ours tells: a descendant lists our transaction in its lineage.
      TESSERA_ASSIGN_OR_RETURN(bool shadowed, IsShadowed(next.version, txn.uuid));
      if (shadowed) {
        // Nobody builds on a version below the latest: take it back and rebase.
        fs_->DeleteFile(ManifestPath(next.version)).IgnoreError();
        TESSERA_ASSIGN_OR_RETURN(uint64_t newest_version, LatestVersion());
        TESSERA_ASSIGN_OR_RETURN(latest, LoadSnapshot(newest_version));
        winners.push_back(latest->manifest().transaction);
        latest_just_read = true;
        continue;
      }
      WriteLatestHint(next.version);  // best effort: readers fall back to listing
      Committed committed;
      committed.version = next.version;
      committed.manifest = next;
      auto snapshot = LoadSnapshot(std::move(next));
      // Committed: a failure to read it back is not an error of the commit.
      if (snapshot.ok()) committed.snapshot = std::move(snapshot).value();
      return committed;
    }
    if (!created.ok() && !created.IsAlreadyExists()) {
      // The outcome is unknown (e.g. the directory fsync failed after the link): resolve it by
      // reading the manifest back, never by guessing.
      auto written = ReadManifest(next.version);
      if (written.ok() && written->transaction.uuid == txn.uuid) {
        Committed committed;
        committed.version = next.version;
        committed.manifest = std::move(written).value();
        return committed;
      }
      return created.WithContext("committing version ", next.version);
    }
    // Another writer won this version: read what it (and any later winner) did, and rebase.
    ++ProcessMetrics::Get().commit_conflicts;
    uint64_t version = latest ? latest->version() : 0;
    format::Manifest newest;
    bool found = false;
    while (true) {
      auto manifest = ReadManifest(version + 1);
      if (!manifest.ok()) {
        if (manifest.status().IsNotFound()) break;
        return manifest.status();
      }
      ++version;
      winners.push_back(manifest->transaction);
      newest = std::move(manifest).value();
      found = true;
    }
    if (found) {
      TESSERA_ASSIGN_OR_RETURN(latest, LoadSnapshot(std::move(newest)));
    } else {
      // The version we lost to is gone already: cleanup removed it (and maybe more after it).
      // Rebase onto the very latest; a version cleaned up between is not known here, and the
      // rebased commit is checked against the latest state by `build`.
      TESSERA_ASSIGN_OR_RETURN(uint64_t newest_version, LatestVersion());
      TESSERA_ASSIGN_OR_RETURN(latest, LoadSnapshot(newest_version));
      winners.push_back(latest->manifest().transaction);
    }
    latest_just_read = true;
    Backoff(attempt);
  }
  return Status::Conflict("commit of '", txn.operation, "' gave up after ", max_commit_attempts_,
                          " attempts: other writers kept winning");
}

Result<bool> TableStore::IsShadowed(uint64_t version, const std::string& uuid) {
  auto above = ReadManifest(version + 1);
  if (!above.ok()) {
    // Nothing above: ours is the latest (a shadowing version would still be there, since
    // cleanup never removes the latest). Residual case, documented in table/README.md: the
    // version above was itself cleaned up in the same instant.
    if (above.status().IsNotFound()) return false;
    return above.status().WithContext("checking commit ", version);
  }
  // A manifest from before lineages existed cannot tell: trust it, as before.
  if (above->lineage.empty()) return false;
  return above->lineage.front() != uuid;
}

Status TableStore::CreateTag(std::string_view name, uint64_t version) {
  if (!ValidTagName(name)) {
    return Status::InvalidArgument("invalid tag name '", name, "' (use letters, digits, . _ -)");
  }
  TESSERA_ASSIGN_OR_RETURN(bool exists, fs_->Exists(ManifestPath(version)));
  if (!exists) return Status::NotFound("version ", version, " does not exist");
  TESSERA_RETURN_IF_ERROR(fs_->CreateDirs(Path(kTagsDir)));
  Status st = fs_->CreateExclusive(Path(std::string(kTagsDir) + "/" + std::string(name)),
                                   std::to_string(version) + "\n");
  if (st.IsAlreadyExists()) return Status::AlreadyExists("tag '", name, "' already exists");
  return st;
}

Status TableStore::DeleteTag(std::string_view name) {
  if (!ValidTagName(name)) return Status::InvalidArgument("invalid tag name '", name, "'");
  const std::string path = Path(std::string(kTagsDir) + "/" + std::string(name));
  // An object store deletes a missing key without complaint (FileSystem::DeleteFile): ask first
  // so that deleting an unknown tag is kNotFound everywhere.
  TESSERA_ASSIGN_OR_RETURN(const bool exists, fs_->Exists(path));
  if (!exists) return Status::NotFound("tag '", name, "' does not exist");
  Status st = fs_->DeleteFile(path);
  if (st.IsNotFound()) return Status::NotFound("tag '", name, "' does not exist");
  if (st.ok()) st = fs_->SyncDir(Path(kTagsDir));
  return st;
}

Result<uint64_t> TableStore::ReadTag(std::string_view name) {
  if (!ValidTagName(name)) return Status::InvalidArgument("invalid tag name '", name, "'");
  auto bytes = fs_->ReadFile(Path(std::string(kTagsDir) + "/" + std::string(name)));
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) return Status::NotFound("tag '", name, "' does not exist");
    return bytes.status();
  }
  auto version = ParseUint(*bytes);
  if (!version.ok()) return version.status().WithContext("tag '", name, "'");
  return version;
}

Result<std::map<std::string, uint64_t>> TableStore::ListTags() {
  std::map<std::string, uint64_t> tags;
  auto listing = fs_->ListDir(Path(kTagsDir));
  if (!listing.ok()) {
    if (listing.status().IsNotFound()) return tags;
    return listing.status();
  }
  for (const io::FileInfo& info : *listing) {
    if (info.is_dir || !ValidTagName(info.name)) continue;  // skips temp files
    TESSERA_ASSIGN_OR_RETURN(uint64_t version, ReadTag(info.name));
    tags.emplace(info.name, version);
  }
  return tags;
}

void MergeColumnStats(std::vector<format::ColumnStats>* into, int64_t into_rows,
                      const std::vector<format::ColumnStats>& more, int64_t more_rows) {
  if (into_rows == 0) {
    *into = more;
    return;
  }
  for (format::ColumnStats& stats : *into) {
    auto it = std::find_if(more.begin(), more.end(), [&](const format::ColumnStats& m) {
      return m.field_index == stats.field_index;
    });
    if (it == more.end()) continue;
    // monostate bounds mean "no usable bounds" unless every row is null.
    const bool into_all_null = stats.null_count == into_rows;
    const bool more_all_null = it->null_count == more_rows;
    const bool into_unusable = std::holds_alternative<std::monostate>(stats.min) && !into_all_null;
    const bool more_unusable = std::holds_alternative<std::monostate>(it->min) && !more_all_null;
    if (into_unusable || more_unusable) {
      stats.min = stats.max = std::monostate{};
    } else if (into_all_null) {
      stats.min = it->min;
      stats.max = it->max;
    } else if (!more_all_null) {
      if (it->min < stats.min) stats.min = it->min;
      if (stats.max < it->max) stats.max = it->max;
    }
    stats.null_count += it->null_count;
  }
}

std::vector<format::ColumnStats> ComputeColumnStats(const RecordBatch& batch) {
  constexpr size_t kMaxStatStringBytes = 64;
  std::vector<format::ColumnStats> all;
  for (int col = 0; col < batch.num_columns(); ++col) {
    const Array& array = batch.column(col);
    format::ColumnStats stats;
    stats.field_index = col;
    stats.null_count = array.null_count();
    const TypeId type = array.type().id;
    if (type == TypeId::kVector) continue;
    bool have = false;
    bool usable = true;
    for (int64_t row = 0; row < array.length() && usable; ++row) {
      if (array.IsNull(row)) continue;
      Value value;
      switch (type) {
        case TypeId::kInt32:
        case TypeId::kInt64:
        case TypeId::kTimestamp:
          value = array.IntegerAt(row);
          break;
        case TypeId::kFloat32:
        case TypeId::kFloat64: {
          const double v = array.NumberAt(row);
          if (std::isnan(v)) continue;
          value = v;
          break;
        }
        case TypeId::kBool:
          value = array.Bool(row);
          break;
        case TypeId::kUtf8: {
          const std::string_view s = array.String(row);
          if (s.size() > kMaxStatStringBytes) {
            usable = false;
            continue;
          }
          value = std::string(s);
          break;
        }
        case TypeId::kVector:
          break;
      }
      if (!have) {
        stats.min = value;
        stats.max = value;
        have = true;
      } else {
        if (value < stats.min) stats.min = value;
        if (stats.max < value) stats.max = std::move(value);
      }
    }
    if (!usable) stats.min = stats.max = std::monostate{};
    all.push_back(std::move(stats));
  }
  return all;
}

}  // namespace tessera::table
