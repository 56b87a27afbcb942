// Cleanup (Table::CleanupOldVersions). Remove the manifests of versions older than the
// retention (never the latest, never a tagged one), then every file in data/, deletions/ and
// indices/ that no kept version references and that is older than the grace period.
// Manifests go first: a crash midway leaves only unreferenced files, which the next cleanup
// removes; never a kept manifest pointing at a missing file.
//
// Cost. The kept versions are a suffix [k, latest] of the history plus the tagged ones, and
// the files they reference are files(k) united with, for every later version v, the files v
// added to v-1 (a restore adds back old files, so it is covered too). Those per-version
// "added" sets never change (manifests are immutable), so each cleanup records them in a
// reference index, _cleanup/refs-<latest>.json, and the next cleanup reads only the manifests
// committed since, plus manifest k and the tagged ones. Which versions fall out of the
// retention is decided from the listing's modification times (a manifest is written at its
// commit), without reading them. So a cleanup reads O(new versions + tags) manifests, not the
// whole history (bench/cleanup_benchmark.cc measures it on 10,000 versions). The index is a
// cache: missing, stale or corrupt, it is ignored and the manifests are read instead.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "base/uuid.h"
#include "table/table_store.h"
#include "tessera/table.h"

namespace tessera {
namespace {

constexpr char kCleanupDir[] = "_cleanup";

void AddReferences(const format::Manifest& manifest, std::set<std::string>* referenced) {
  for (const auto& fragment : manifest.fragments) referenced->insert(fragment.path);
  for (const auto& file : manifest.deletion_files) referenced->insert(file.path);
  for (const auto& segment : manifest.index_segments) referenced->insert(segment.path);
}

std::set<std::string> References(const format::Manifest& manifest) {
  std::set<std::string> files;
  AddReferences(manifest, &files);
  return files;
}

// The reference index: for every version v in (base, last], the files v references that v-1
// did not.
struct ReferenceIndex {
  uint64_t base = 0;
  uint64_t last = 0;
  std::map<uint64_t, std::vector<std::string>> added;
};

std::string EncodeIndex(const ReferenceIndex& index) {
  nlohmann::json added = nlohmann::json::array();
  for (const auto& [version, files] : index.added) added.push_back({version, files});
  return nlohmann::json{{"format", 1}, {"base", index.base}, {"last", index.last}, {"added", added}}
      .dump();
}

std::optional<ReferenceIndex> DecodeIndex(const std::string& bytes) {
  try {
    const nlohmann::json json = nlohmann::json::parse(bytes);
    if (json.at("format").get<int>() != 1) return std::nullopt;
    ReferenceIndex index;
    index.base = json.at("base").get<uint64_t>();
    index.last = json.at("last").get<uint64_t>();
    for (const auto& entry : json.at("added")) {
      index.added[entry.at(0).get<uint64_t>()] = entry.at(1).get<std::vector<std::string>>();
    }
    if (index.last < index.base) return std::nullopt;
    for (uint64_t v = index.base + 1; v <= index.last; ++v) {
      if (!index.added.count(v)) return std::nullopt;  // a gap: not trustworthy
    }
    return index;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// Return the newest reference index with last <= latest, if any parses.
std::optional<ReferenceIndex> LoadNewestIndex(table::TableStore* store, uint64_t latest,
                                              std::vector<std::string>* all_names) {
  auto listing = store->fs()->ListDir(store->Path(kCleanupDir));
  if (!listing.ok()) return std::nullopt;
  std::map<uint64_t, std::string, std::greater<>> by_last;
  for (const io::FileInfo& info : *listing) {
    std::string_view name = info.name;
    all_names->push_back(info.name);
    if (!name.starts_with("refs-") || !name.ends_with(".json")) continue;
    name.remove_prefix(5);
    name.remove_suffix(5);
    uint64_t last = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), last).ec == std::errc() &&
        last <= latest) {
      by_last[last] = info.name;
    }
  }
  for (const auto& [last, name] : by_last) {
    auto bytes = store->fs()->ReadFile(store->Path(std::string(kCleanupDir) + "/" + name));
    if (!bytes.ok()) continue;
    auto index = DecodeIndex(*bytes);
    if (index && index->last == last) return index;
  }
  return std::nullopt;
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
  CleanupResult result;
  auto read_manifest = [&](uint64_t version) {
    ++result.manifests_read;
    return store->ReadManifest(version);
  };

  // Versions on disk, oldest first, with their commit times.
  std::vector<std::pair<uint64_t, int64_t>> versions;
  TESSERA_ASSIGN_OR_RETURN(auto listing, fs->ListDir(store->Path(table::kVersionsDir)));
  for (const io::FileInfo& info : listing) {
    std::string_view name = info.name;
    if (name.starts_with(".") || !name.ends_with(".manifest")) continue;
    name.remove_suffix(9);
    uint64_t version = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), version).ec == std::errc() &&
        version <= latest) {  // committed after we looked: keep
      versions.emplace_back(version, info.mtime_us);
    }
  }
  std::sort(versions.begin(), versions.end());

  // k = the oldest version inside the retention; every version from k on is kept (a suffix,
  // even if a clock made some later manifest look older), every untagged one before k goes.
  const int64_t cutoff_us = now_us - options.older_than_seconds * 1000000;
  uint64_t oldest_kept = latest;
  for (const auto& [version, mtime_us] : versions) {
    if (mtime_us >= cutoff_us) {
      oldest_kept = version;
      break;
    }
  }
  std::vector<uint64_t> doomed;
  for (const auto& [version, mtime_us] : versions) {
    if (version < oldest_kept && !tagged.count(version)) doomed.push_back(version);
  }

  // The files the kept versions reference: files(k), then what each later version added.
  std::vector<std::string> index_names;
  const std::optional<ReferenceIndex> previous = LoadNewestIndex(store, latest, &index_names);
  std::set<std::string> referenced;
  ReferenceIndex next;
  std::optional<std::set<std::string>> prev_files;  // files(v - 1) when known
  for (uint64_t v = oldest_kept; v <= latest; ++v) {
    if (v > oldest_kept && previous && v > previous->base && v <= previous->last) {
      const std::vector<std::string>& added = previous->added.at(v);
      referenced.insert(added.begin(), added.end());
      next.added[v] = added;
      prev_files.reset();
      continue;
    }
    auto manifest = read_manifest(v);
    if (!manifest.ok()) {
      if (!manifest.status().IsNotFound()) return manifest.status().WithContext("cleanup");
      // Removed by a concurrent cleanup: nothing to protect, and the next version's additions
      // can no longer be told apart from its predecessor's files.
      if (v == oldest_kept) ++oldest_kept;
      prev_files.reset();
      continue;
    }
    std::set<std::string> files = References(*manifest);
    if (v == oldest_kept) {
      referenced.insert(files.begin(), files.end());
    } else {
      if (!prev_files) {
        auto before = read_manifest(v - 1);
        if (before.ok()) prev_files = References(*before);
      }
      std::vector<std::string> added;
      for (const std::string& file : files) {
        if (!prev_files || !prev_files->count(file)) added.push_back(file);
      }
      referenced.insert(added.begin(), added.end());
      next.added[v] = std::move(added);
    }
    prev_files = std::move(files);
  }
  next.base = oldest_kept;
  next.last = latest;
  for (uint64_t version : tagged) {
    if (version >= oldest_kept || version > latest) continue;
    auto manifest = read_manifest(version);
    if (manifest.ok()) {
      AddReferences(*manifest, &referenced);
    } else if (!manifest.status().IsNotFound()) {
      return manifest.status().WithContext("cleanup: tagged version ", version);
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
  // Record the reference index for the next cleanup, then drop the older ones. Best effort:
  // the index is only a cache.
  const bool index_current = previous && previous->base == next.base && previous->last == latest;
  if (!index_current) {
    const std::string name = "refs-" + std::to_string(latest) + ".json";
    if (fs->CreateDirs(store->Path(kCleanupDir)).ok()) {
      Status st = fs->CreateExclusive(store->Path(std::string(kCleanupDir) + "/" + name),
                                      EncodeIndex(next));
      if (st.ok() || st.IsAlreadyExists()) {
        for (const std::string& old_name : index_names) {
          if (old_name != name) {
            fs->DeleteFile(store->Path(std::string(kCleanupDir) + "/" + old_name)).IgnoreError();
          }
        }
      }
    }
  }
  for (const std::string& dir : index_dirs) {  // drop emptied segment directories
    auto files = fs->ListDir(store->Path(dir));
    if (files.ok() && files->empty()) fs->DeleteDirRecursive(store->Path(dir)).IgnoreError();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace tessera
