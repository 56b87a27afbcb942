// A child process running Optimize() (compaction, index update, cleanup) in a loop is killed
// with SIGKILL at random moments, many times, on a table with many small fragments, deleted rows
// and a growing unindexed tail. Optimize never changes what a table holds, so after every kill
// the table opens with exactly the expected rows, each once, and vector search works. At the
// end a cleanup with delete_unverified removes every leftover: the files on disk are exactly
// those the kept (latest and tagged) versions reference. On local disk and on the S3 gateway
// (there the optimizer is another host with its own cache, killed mid-request).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "format/manifest.h"
#include "io/file_system.h"
#include "table/table_store.h"
#include "tessera/table.h"
#include "testing/backend_test.h"

namespace tessera {
namespace {

constexpr int kDim = 16;
constexpr int32_t kAllPartitions = 1 << 16;  // nprobes: search every partition (exact)
constexpr int64_t kRowsPerAdd = 20;
constexpr int kRounds = 40;

Schema TestSchema() { return Schema::Parse("id:int64 not null,vector:vector[16]").value(); }

std::vector<float> VectorOf(int64_t id) {
  std::vector<float> v(kDim);
  uint64_t state = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull + 1;
  for (int d = 0; d < kDim; ++d) {
    state ^= state >> 29;
    state *= 0xBF58476D1CE4E5B9ull;
    v[d] = static_cast<float>(state >> 40) / static_cast<float>(1 << 24);
  }
  return v;
}

RecordBatch MakeBatch(int64_t first_id) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first_id; id < first_id + kRowsPerAdd; ++id) {
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(VectorOf(id))}).ok());
  }
  return builder.Finish().value();
}

OptimizeOptions ChildOptions(int round) {
  OptimizeOptions options;
  options.compaction.target_rows_per_fragment = 5 * kRowsPerAdd;
  options.compaction.batch_rows = 32;  // several batches per rewritten fragment
  options.cleanup.older_than_seconds = 0;
  options.cleanup.delete_unverified = false;
  // Odd rounds also delete unreferenced files (the child is the only writer, so a zero grace
  // period is sound); even rounds keep them, as next to a live writer.
  if (round % 2 == 1) options.cleanup.grace_period_seconds = 0;
  return options;
}

// Child: Optimize() forever, logging "start <run>" and "done <run> <µs since start>" around each
// run so that the parent knows where it was killed. Only run 0 has work to do. An error is reported
// and ends the child with exit code 1.
[[noreturn]] void OptimizeLoop(const test::TestRoot& root, const std::string& dir,
                               const std::string& log_path, int round) {
  FILE* log = std::fopen(log_path.c_str(), "w");
  const auto started = std::chrono::steady_clock::now();
  auto table = Table::Open(dir, test::HostOptions(root, "optimizer" + std::to_string(round)));
  if (!table.ok()) {
    std::fprintf(log, "error open %s\n", table.status().ToString().c_str());
    std::fflush(log);
    _exit(1);
  }
  for (int run = 0;; ++run) {
    std::fprintf(log, "start %d\n", run);
    std::fflush(log);
    const OptimizeResult result = (*table)->Optimize(ChildOptions(round));
    if (!result.ok()) {
      std::fprintf(log, "error %s | %s | %s\n", result.compaction_status.ToString().c_str(),
                   result.indices_status.ToString().c_str(),
                   result.cleanup_status.ToString().c_str());
      std::fflush(log);
      _exit(1);
    }
    const auto elapsed = std::chrono::steady_clock::now() - started;
    std::fprintf(log, "done %d %lld\n", run,
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
    std::fflush(log);
  }
}

// Relative paths of the files below `root`/`dir`, through the table's file system (local disk or
// the object store).
std::set<std::string> FilesUnder(const std::string& root, const std::string& dir) {
  std::set<std::string> files;
  io::FileSystem* fs = io::FileSystemFor(root, nullptr).value();
  std::vector<std::string> pending = {dir};
  while (!pending.empty()) {
    const std::string relative = pending.back();
    pending.pop_back();
    auto entries = fs->ListDir(root + "/" + relative);
    if (!entries.ok()) {
      EXPECT_TRUE(entries.status().IsNotFound()) << entries.status();
      continue;
    }
    for (const io::FileInfo& entry : *entries) {
      if (entry.is_dir) {
        pending.push_back(relative + "/" + entry.name);
      } else {
        files.insert(relative + "/" + entry.name);
      }
    }
  }
  return files;
}

// Check everything a reader relies on, on a freshly opened handle.
void CheckTable(const std::string& dir, const std::set<int64_t>& expected, std::mt19937* rng) {
  auto opened = Table::Open(dir);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Table* table = opened->get();
  const int64_t live = static_cast<int64_t>(expected.size());
  auto count = table->CountRows();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, live);
  EXPECT_EQ(table->ListVersions().value().back().num_rows, live);

  ScanOptions scan;
  scan.columns = {"id"};
  scan.with_row_id = true;
  auto batch = table->Scan(scan);
  ASSERT_TRUE(batch.ok()) << batch.status();
  std::map<int64_t, int> ids;
  std::set<int64_t> row_ids;
  for (int64_t row = 0; row < batch->num_rows(); ++row) {
    ++ids[batch->column(0).Int64(row)];
    EXPECT_TRUE(row_ids.insert(batch->column(1).Int64(row)).second) << "row id twice";
  }
  int64_t missing = 0, doubled = 0, unexpected = 0;
  for (int64_t id : expected) missing += ids.count(id) ? 0 : 1;
  for (const auto& [id, n] : ids) {
    doubled += n > 1 ? 1 : 0;
    unexpected += expected.count(id) ? 0 : 1;
  }
  EXPECT_EQ(missing, 0) << "rows lost";
  EXPECT_EQ(doubled, 0) << "rows duplicated";
  EXPECT_EQ(unexpected, 0) << "deleted or unknown rows visible";

  // Every file the latest version references is on disk.
  auto snapshot = table->CurrentSnapshot().value();
  const format::Manifest& manifest = snapshot->manifest();
  std::vector<std::string> referenced;
  for (const auto& fragment : manifest.fragments) referenced.push_back(fragment.path);
  for (const auto& file : manifest.deletion_files) referenced.push_back(file.path);
  for (const auto& segment : manifest.index_segments) referenced.push_back(segment.path);
  io::FileSystem* fs = io::FileSystemFor(dir, nullptr).value();
  for (const std::string& path : referenced) {
    EXPECT_TRUE(fs->Exists(dir + "/" + path).value()) << "referenced file gone: " << path;
  }

  // Search through the index and flat finds a sample of the live rows as their own nearest.
  std::vector<int64_t> sample(expected.begin(), expected.end());
  std::shuffle(sample.begin(), sample.end(), *rng);
  sample.resize(std::min<size_t>(sample.size(), 8));
  for (int64_t id : sample) {
    for (bool bypass : {false, true}) {
      auto found = table->Search(VectorOf(id))
                       .Limit(5)
                       .Nprobes(kAllPartitions)
                       .BypassVectorIndex(bypass)
                       .Select({"id"})
                       .Execute();
      ASSERT_TRUE(found.ok()) << "search " << id << ": " << found.status();
      ASSERT_EQ(found->num_rows(), 5);
      EXPECT_EQ(found->column(0).Int64(0), id) << "bypass_vector_index=" << bypass;
    }
  }
  auto index = table->IndexStats("vector_idx");
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->num_indexed_rows + index->num_unindexed_rows, live);
}

// Removes a test's temporary directory when the test ends, however it ends.
struct RemoveOnExit {
  ~RemoveOnExit() { std::filesystem::remove_all(path); }
  std::string path;
};

class OptimizeKill9Test : public test::BackendTest {};

TEST_P(OptimizeKill9Test, KilledOptimizeNeverLosesOrDuplicatesARow) {
  const std::string dir = root().Path("table");
  const std::string log_path = root().local_dir() + "/child.log";
  // Requests to the gateway make every step slower: fewer rounds there.
  const int rounds = GetParam() == test::Backend::kS3 ? kRounds / 2 : kRounds;

  // Many small fragments, an index over the first half, some deleted rows, a tagged version.
  std::set<int64_t> expected;
  int64_t next_id = 0;
  {
    auto table = Table::Create(dir, TestSchema()).value();
    for (int add = 0; add < 30; ++add, next_id += kRowsPerAdd) {
      ASSERT_TRUE(table->Add(MakeBatch(next_id)).ok());
      for (int64_t id = next_id; id < next_id + kRowsPerAdd; ++id) expected.insert(id);
      if (add == 14) {
        IndexConfig config;
        config.type = "IVF_FLAT";
        config.num_partitions = 4;
        ASSERT_TRUE(table->CreateIndex("vector", config).ok());
      }
    }
    ASSERT_TRUE(table->DeleteRows("id >= 100 AND id < 118").ok());  // most of one fragment
    ASSERT_TRUE(table->DeleteRows("id IN (3, 250, 251, 433, 590)").ok());
    for (int64_t id : {3, 250, 251, 433, 590}) expected.erase(id);
    for (int64_t id = 100; id < 118; ++id) expected.erase(id);
    ASSERT_TRUE(table->CreateTag("prepared", table->version().value()).ok());
  }

  std::mt19937 rng(4242);
  // Where the kills landed: in the busy first run's compaction, index update or cleanup, or
  // later (idle runs).
  std::map<std::string, int> killed_in;
  // Kill within [1 ms, 1 ms + 1.1 x] how long the child's busy first run took last time it finished
  // (grown when the child never finished it).
  int64_t busy_run_us = 60000;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    {
      // New work for the child: a few more small fragments and deletes (fresh handle: another
      // process cleaned up since).
      auto table = Table::Open(dir).value();
      for (int add = 0; add < 3; ++add, next_id += kRowsPerAdd) {
        ASSERT_TRUE(table->Add(MakeBatch(next_id)).ok());
        for (int64_t id = next_id; id < next_id + kRowsPerAdd; ++id) expected.insert(id);
      }
      std::vector<int64_t> live(expected.begin(), expected.end());
      const int64_t victim = live[rng() % live.size()];
      ASSERT_EQ(table->DeleteRows("id = " + std::to_string(victim)).value().num_deleted_rows, 1);
      expected.erase(victim);
    }
    const uint64_t version_before = Table::Open(dir).value()->version().value();
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) OptimizeLoop(root(), dir, log_path, round);
    std::this_thread::sleep_for(
        std::chrono::microseconds(1000 + static_cast<int64_t>(rng() % (busy_run_us * 11 / 10))));
    kill(child, SIGKILL);
    int wstatus = 0;
    waitpid(child, &wstatus, 0);
    std::ifstream log(log_path);
    std::string line, last;
    bool finished_busy_run = false;
    while (std::getline(log, line)) {
      ASSERT_NE(line.rfind("error", 0), 0u) << line;
      if (line.rfind("done 0 ", 0) == 0) {
        busy_run_us = std::max<int64_t>(5000, std::stoll(line.substr(7)));
        finished_busy_run = true;
      }
      last = line;
    }
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited on its own with " << WEXITSTATUS(wstatus);
    if (!finished_busy_run) busy_run_us = std::min<int64_t>(busy_run_us * 3 / 2, 2000000);
    CheckTable(dir, expected, &rng);
    if (HasFatalFailure()) return;
    if (last != "start 0") {
      ++killed_in["idle runs"];
    } else {
      // The child's commits in this round tell how far its busy run got.
      auto table = Table::Open(dir).value();
      const VersionInfo latest = table->ListVersions().value().back();
      if (latest.version == version_before) {
        ++killed_in["compaction"];
      } else if (latest.operation == "compact") {
        ++killed_in["index update"];
      } else {
        ++killed_in["cleanup"];
      }
    }
  }
  std::printf(
      "kills: %d in compaction, %d in index update, %d in cleanup, %d in idle runs "
      "(busy run: %lld us)\n",
      killed_in["compaction"], killed_in["index update"], killed_in["cleanup"],
      killed_in["idle runs"], static_cast<long long>(busy_run_us));
  EXPECT_GE(rounds - killed_in["idle runs"], rounds / 3)
      << "kills mostly missed the optimizer at work";

  // Remove every leftover; then the files on disk are exactly the referenced ones.
  auto table = Table::Open(dir).value();
  CleanupOptions cleanup;
  cleanup.older_than_seconds = 0;
  cleanup.delete_unverified = true;
  ASSERT_TRUE(table->CleanupOldVersions(cleanup).ok());
  CheckTable(dir, expected, &rng);
  const uint64_t latest = table->version().value();
  std::set<uint64_t> kept = {latest};
  auto tags = table->ListTags();
  ASSERT_TRUE(tags.ok()) << tags.status();
  for (const auto& [name, version] : *tags) kept.insert(version);
  auto versions = table->ListVersions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  std::set<uint64_t> on_disk;
  for (const VersionInfo& info : *versions) on_disk.insert(info.version);
  EXPECT_EQ(on_disk, kept);
  std::set<std::string> referenced;
  for (uint64_t version : kept) {
    const format::Manifest manifest = table->internal_store()->ReadManifest(version).value();
    for (const auto& fragment : manifest.fragments) referenced.insert(fragment.path);
    for (const auto& file : manifest.deletion_files) referenced.insert(file.path);
    for (const auto& segment : manifest.index_segments) referenced.insert(segment.path);
  }
  std::set<std::string> files;
  for (const char* sub : {"data", "deletions", "indices"}) files.merge(FilesUnder(dir, sub));
  std::vector<std::string> unreferenced, missing;
  std::set_difference(files.begin(), files.end(), referenced.begin(), referenced.end(),
                      std::back_inserter(unreferenced));
  std::set_difference(referenced.begin(), referenced.end(), files.begin(), files.end(),
                      std::back_inserter(missing));
  EXPECT_TRUE(unreferenced.empty())
      << unreferenced.size() << " leftover files, first " << unreferenced.front();
  EXPECT_TRUE(missing.empty()) << missing.size() << " referenced files missing, first "
                               << missing.front();
  // No empty index directory is left behind (on an object store none can exist).
  io::FileSystem* fs = io::FileSystemFor(dir, nullptr).value();
  const std::vector<io::FileInfo> index_dirs = fs->ListDir(dir + "/indices").value();
  for (const io::FileInfo& entry : index_dirs) {
    EXPECT_FALSE(fs->ListDir(dir + "/indices/" + entry.name).value().empty())
        << "empty " << entry.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, OptimizeKill9Test, test::LocalAndS3(), test::BackendParamName);

// A commit killed between writing its temporary manifest and linking it leaves
// `_versions/<N>.manifest.tmp.<pid>.<hex>`; like every orphan, cleanup removes it.
TEST(OptimizeKill9Test, CleanupRemovesTheTemporaryManifestOfAKilledCommit) {
  const std::string root = ::testing::TempDir() + "tessera_tmpmanifest_" + std::to_string(getpid());
  std::filesystem::remove_all(root);
  const RemoveOnExit remove_on_exit{root};
  auto table = Table::Create(root, TestSchema()).value();
  ASSERT_TRUE(table->Add(MakeBatch(0)).ok());
  const std::string orphan = root + "/_versions/3.manifest.tmp.999999.00000000deadbeef";
  std::ofstream(orphan) << "half-written manifest";
  CleanupOptions cleanup;
  cleanup.older_than_seconds = 0;
  cleanup.delete_unverified = true;
  ASSERT_TRUE(table->CleanupOldVersions(cleanup).ok());
  EXPECT_FALSE(std::filesystem::exists(orphan)) << "cleanup leaves temporary manifests forever";
  EXPECT_EQ(table->CountRows().value(), kRowsPerAdd);
}

}  // namespace
}  // namespace tessera
