// Cleanup cost against the length of a table's history (issue 4: "its cost grows with what it
// removes, not with the table's whole history; measure it on a table with 10,000 versions").
//
// Builds a table with --versions versions (small adds, compacted every --compact_every versions,
// as a streaming table under maintenance looks), then times cleanup_old_versions:
//   nothing to remove   retention keeps every version (the common case for a frequent job)
//   remove 1%           the oldest 1% of versions fall out of the retention
//   remove all but latest
// and, as the reference measured in the same run, the time to read and decode every manifest
// once (what a cleanup that re-reads the whole history pays every time). It also prints the
// manifests each cleanup read (counted by a FileSystem wrapper).
//
// Run (bench preset): build/bench/bench/cleanup_benchmark [--versions=10000]
#include <atomic>
#include <cstdio>
#include <filesystem>

#include "bench_util.h"
#include "io/file_system.h"
#include "table/table_store.h"
#include "tessera/table.h"

namespace tessera::bench {
namespace {

// Counts ReadFile calls on manifests; forwards everything to the local disk.
class CountingFileSystem : public io::FileSystem {
 public:
  std::atomic<int64_t> manifest_reads{0};

  Result<std::unique_ptr<io::WritableFile>> NewWritableFile(const std::string& path) override {
    return base_->NewWritableFile(path);
  }
  Status CreateExclusive(const std::string& path, std::string_view contents) override {
    return base_->CreateExclusive(path, contents);
  }
  Result<std::string> ReadFile(const std::string& path) override {
    if (path.ends_with(".manifest")) ++manifest_reads;
    return base_->ReadFile(path);
  }
  Result<std::shared_ptr<const io::MappedFile>> MapFile(const std::string& path) override {
    return base_->MapFile(path);
  }
  Result<std::vector<io::FileInfo>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Result<io::FileInfo> Stat(const std::string& path) override { return base_->Stat(path); }
  Result<bool> Exists(const std::string& path) override { return base_->Exists(path); }
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  Status DeleteFile(const std::string& path) override { return base_->DeleteFile(path); }
  Status DeleteDirRecursive(const std::string& path) override {
    return base_->DeleteDirRecursive(path);
  }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }

 private:
  io::FileSystem* base_ = io::LocalFileSystem();
};

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  const int64_t num_versions = flags.GetInt("versions", 10000);
  const int64_t compact_every = flags.GetInt("compact_every", 200);
  if (!flags.CheckAllUsed()) return 1;
  PrintBanner("cleanup benchmark",
              "cleanup_old_versions on a table with " + Count(num_versions) +
                  " versions vs. reading every manifest once",
              "build/bench/bench/cleanup_benchmark [--versions=N] [--compact_every=N]");

  CountingFileSystem counting;
  TableOptions options;
  options.file_system = &counting;
  const std::string dir = FreshDir("tessera_cleanup_bench") + "/table";
  auto created = Table::Create(dir, VectorSchema(8), CreateMode::kCreate, options);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 2;
  }
  Table* table = created->get();
  const Stopwatch build;
  std::vector<float> vectors(10 * 8, 0.5f);
  int64_t id = 0;
  CompactionOptions compaction;
  compaction.target_rows_per_fragment = 1 << 20;
  uint64_t version = 1;
  while (version < static_cast<uint64_t>(num_versions)) {
    auto batch = MakeVectorBatch(8, vectors, id);
    id += 10;
    auto added = table->Add(*batch);
    if (!added.ok()) {
      std::fprintf(stderr, "%s\n", added.status().ToString().c_str());
      return 2;
    }
    version = added->version;
    if (version % static_cast<uint64_t>(compact_every) == 0) {
      auto compacted = table->CompactFiles(compaction);
      if (!compacted.ok()) {
        std::fprintf(stderr, "%s\n", compacted.status().ToString().c_str());
        return 2;
      }
      if (compacted->version > 0) version = compacted->version;
    }
    if (version % 1000 == 0) {
      std::fprintf(stderr, "\rbuilding: %llu versions", static_cast<unsigned long long>(version));
    }
  }
  std::fprintf(stderr, "\r\033[K");
  std::printf("built %s versions in %.1f s\n\n", Count(static_cast<int64_t>(version)).c_str(),
              build.Seconds());

  // Reference: read and decode every manifest once.
  const Stopwatch reference;
  int64_t read = 0;
  for (uint64_t v = 1; v <= version; ++v) {
    if (table->internal_store()->ReadManifest(v).ok()) ++read;
  }
  const double reference_s = reference.Seconds();

  TextTable results({"cleanup", "versions removed", "files removed", "manifests read", "ms",
                     "vs reading every manifest"});
  auto run = [&](const std::string& name, int64_t older_than_seconds) -> bool {
    CleanupOptions cleanup;
    cleanup.older_than_seconds = older_than_seconds;
    cleanup.delete_unverified = true;
    counting.manifest_reads = 0;
    const Stopwatch timer;
    auto result = table->CleanupOldVersions(cleanup);
    const double seconds = timer.Seconds();
    if (!result.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), result.status().ToString().c_str());
      return false;
    }
    results.AddRow({name, Count(result->versions_removed), Count(result->files_removed),
                    Count(counting.manifest_reads.load()), Fixed(seconds * 1e3, 1),
                    Fixed(seconds / reference_s, 3) + "x"});
    return true;
  };
  if (!run("nothing to remove (first run)", 7 * 24 * 3600)) return 2;
  if (!run("nothing to remove (again)", 7 * 24 * 3600)) return 2;
  // The oldest 1%: back-date their manifests so that they fall out of a one-hour retention.
  for (uint64_t v = 1; v <= version; ++v) {
    const auto path = std::filesystem::path(table->internal_store()->ManifestPath(v));
    const bool old = v <= version / 100;
    const auto age = std::chrono::seconds(old ? 2 * 3600 : 0);
    std::error_code ec;
    std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() - age, ec);
  }
  if (!run("remove the oldest 1%", 3600)) return 2;
  if (!run("remove all but the latest", 0)) return 2;
  std::printf("reference: read + decode all %s manifests: %.1f ms\n\n", Count(read).c_str(),
              reference_s * 1e3);
  results.Print();
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path(), ec);
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) { return tessera::bench::Main(argc, argv); }
