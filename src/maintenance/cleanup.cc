// Cleanup (Table::CleanupOldVersions). Remove the manifests of versions older than the
// retention (never the latest, never a tagged one), then every file in data/, deletions/ and
// indices/ that no kept version references and that is older than the grace period.
// Manifests go first: a crash midway leaves only unreferenced files, which the next cleanup
// removes; never a kept manifest pointing at a missing file.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>

#include "base/uuid.h"
#include "table/table_store.h"
#include "tessera/table.h"

namespace tessera {
namespace {

void AddReferences(const format::Manifest& manifest, std::set<std::string>* referenced) {
  for (const auto& fragment : manifest.fragments) referenced->insert(fragment.path);
  for (const auto& file : manifest.deletion_files) referenced->insert(file.path);
  for (const auto& segment : manifest.index_segments) referenced->insert(segment.path);
}

}  // namespace

Result<CleanupResult> Table::CleanupOldVersions(const CleanupOptions& options) {
  if (options.older_than_seconds < 0 || options.grace_period_seconds < 0) {
    return Status::InvalidArgument("cleanup: durations must not be negative");
  }
  const auto start = std::chrono::steady_clock::now();
  table::TableStore* store = internal_store();
  io::FileSystem* fs = store->fs();
  const int64_t now_us = ::tessera::base::NowMicros();
  TESSERA_ASSIGN_OR_RETURN(uint64_t latest, store->LatestVersion());
  if (latest == 0) return Status::NotFound("no table at '", uri(), "'");
  TESSERA_ASSIGN_OR_RETURN(auto tags, store->ListTags());
  std::set<uint64_t> tagged;
  for (const auto& [name, version] : tags) tagged.insert(version);

  // Versions on disk, oldest first.
  std::vector<uint64_t> versions;
  TESSERA_ASSIGN_OR_RETURN(auto listing, fs->ListDir(store->Path(table::kVersionsDir)));
  for (const io::FileInfo& info : listing) {
    std::string_view name = info.name;
    if (name.starts_with(".") || !name.ends_with(".manifest")) continue;
    name.remove_suffix(9);
    uint64_t version = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), version).ec == std::errc()) {
      versions.push_back(version);
    }
  }
  std::sort(versions.begin(), versions.end());

  // Decide which versions go, reading each manifest once; keep the references of the rest.
  const int64_t cutoff_us = now_us - options.older_than_seconds * 1000000;
  std::set<std::string> referenced;
  std::vector<uint64_t> doomed;
  for (uint64_t version : versions) {
    if (version > latest) continue;  // committed after we looked: keep
    auto manifest = store->ReadManifest(version);
    if (!manifest.ok()) {
      if (manifest.status().IsNotFound()) continue;  // removed by a concurrent cleanup
      return manifest.status().WithContext("cleanup");
    }
    const bool keep = version == latest || tagged.count(version) > 0 ||
                      manifest->transaction.timestamp_us >= cutoff_us;
    if (keep) {
      AddReferences(*manifest, &referenced);
    } else {
      doomed.push_back(version);
    }
  }
  // A version committed while we worked references only files written after our listing
  // began or files the latest we saw already references; both are protected (grace period /
  // `referenced`). With delete_unverified the caller asserts there is no such writer.

  // Unreferenced files, by directory.
  struct Candidate {
    std::string path;
    int64_t size_bytes;
  };
  std::vector<Candidate> candidates;
  CleanupResult result;
  const int64_t grace_cutoff_us = now_us - options.grace_period_seconds * 1000000;
  auto consider = [&](const std::string& relative, const io::FileInfo& info) {
    if (referenced.count(relative)) return;
    if (!options.delete_unverified && info.mtime_us > grace_cutoff_us) {
      ++result.files_kept_in_grace;
      return;
    }
    candidates.push_back({relative, info.size_bytes});
  };
  // Temporary files of commits or tags a killed process never finished: in _versions anything
  // not named <N>.manifest, in _tags names starting with '.'.
  for (const char* dir : {table::kVersionsDir, table::kTagsDir}) {
    auto entries = fs->ListDir(store->Path(dir));
    if (!entries.ok()) continue;
    const bool versions_dir = std::string_view(dir) == table::kVersionsDir;
    for (const io::FileInfo& entry : *entries) {
      const bool temporary =
          entry.name.starts_with(".") || (versions_dir && !entry.name.ends_with(".manifest"));
      if (!entry.is_dir && temporary) consider(std::string(dir) + "/" + entry.name, entry);
    }
  }
  for (const char* dir : {table::kDataDir, table::kDeletionsDir}) {
    auto files = fs->ListDir(store->Path(dir));
    if (!files.ok()) {
      if (files.status().IsNotFound()) continue;
      return files.status();
    }
    for (const io::FileInfo& info : *files) {
      if (!info.is_dir) consider(std::string(dir) + "/" + info.name, info);
    }
  }
  std::vector<std::string> index_dirs;
  if (auto dirs = fs->ListDir(store->Path("indices")); dirs.ok()) {
    for (const io::FileInfo& dir : *dirs) {
      if (!dir.is_dir) continue;
      const std::string relative_dir = "indices/" + dir.name;
      TESSERA_ASSIGN_OR_RETURN(auto files, fs->ListDir(store->Path(relative_dir)));
      for (const io::FileInfo& info : files) consider(relative_dir + "/" + info.name, info);
      index_dirs.push_back(relative_dir);
    }
  }

  const int64_t total = static_cast<int64_t>(doomed.size() + candidates.size());
  int64_t done = 0;
  for (uint64_t version : doomed) {
    const std::string path = store->ManifestPath(version);
    auto info = fs->Stat(path);
    Status st = fs->DeleteFile(path);
    if (!st.ok() && !st.IsNotFound()) return st.WithContext("cleanup");
    if (st.ok()) {
      ++result.versions_removed;
      if (info.ok()) result.bytes_freed += info->size_bytes;
    }
    if (options.progress) options.progress(++done, total);
  }
  if (!doomed.empty()) TESSERA_RETURN_IF_ERROR(fs->SyncDir(store->Path(table::kVersionsDir)));
  // Versions committed while we worked (e.g. a restore re-referencing old files) protect
  // their files too.
  TESSERA_ASSIGN_OR_RETURN(uint64_t newest, store->LatestVersion());
  for (uint64_t version = latest + 1; version <= newest; ++version) {
    auto manifest = store->ReadManifest(version);
    if (manifest.ok()) AddReferences(*manifest, &referenced);
  }
  std::erase_if(candidates, [&](const Candidate& c) { return referenced.count(c.path) > 0; });
  for (const Candidate& candidate : candidates) {
    Status st = fs->DeleteFile(store->Path(candidate.path));
    if (!st.ok() && !st.IsNotFound()) return st.WithContext("cleanup");
    if (st.ok()) {
      ++result.files_removed;
      result.bytes_freed += candidate.size_bytes;
    }
    if (options.progress) options.progress(++done, total);
  }
  for (const std::string& dir : index_dirs) {  // drop emptied segment directories
    auto files = fs->ListDir(store->Path(dir));
    if (files.ok() && files->empty()) fs->DeleteDirRecursive(store->Path(dir)).IgnoreError();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace tessera
