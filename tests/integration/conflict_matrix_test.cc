// The conflict matrix (DESIGN.md "Commit protocol and concurrency"): for every ordered pair
// (A, B) of add, delete, compaction, index update, cleanup and restore, operation A loses the
// race for its commit to operation B, deterministically: A runs on a handle whose FileSystem
// stops at A's commit point (the put-if-absent of the next manifest; for cleanup, which commits
// nothing, the listing of data/) and runs B to completion on a second handle first. A therefore
// writes its files from a base version that B has already moved past, finds its version taken
// and must rebase onto B's transaction or fail with kConflict, leaving the table as B left it.
//
// After every pair the table must hold exactly the rows of "B, then A" (or of B alone when A
// lost), each once, with consistent counts, every live row findable by vector search (flat and
// through the index), no row covered by two segments of an index, and every file the latest
// version references on storage.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "io/file_system.h"
#include "table/snapshot.h"
#include "table/table_store.h"
#include "tessera/table.h"

namespace tessera {
namespace {

constexpr char kUri[] = "/t";
constexpr int kDim = 8;
constexpr int32_t kAllPartitions = 1 << 16;  // nprobes: search every partition (exact)

Schema TestSchema() { return Schema::Parse("id:int64 not null,vector:vector[8]").value(); }

// Distinct for every id (component 0 is id / 64, exact in float for these ids).
std::vector<float> VectorOf(int64_t id) {
  std::vector<float> v(kDim);
  v[0] = static_cast<float>(id) / 64.0f;
  for (int d = 1; d < kDim; ++d) {
    v[d] =
        static_cast<float>((static_cast<uint64_t>(id) * 2654435761u + d * 40503u) % 1009) / 100.0f;
  }
  return v;
}

RecordBatch MakeBatch(int64_t first_id, int64_t n) {
  RecordBatchBuilder builder(TestSchema());
  for (int64_t id = first_id; id < first_id + n; ++id) {
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(VectorOf(id))}).ok());
  }
  return builder.Finish().value();
}

// Forwards every call to a borrowed base FileSystem. Armed with a predicate on (operation,
// path), it runs an action once, just before forwarding the first matching call: a sync point
// at the io seam, so one handle's operation can be stopped at a chosen step while another
// handle (on the base FileSystem) runs. Thread-safe; the action runs without any lock held.
class HookFileSystem : public io::FileSystem {
 public:
  using Match = std::function<bool(std::string_view op, const std::string& path)>;
  explicit HookFileSystem(io::FileSystem* base) : base_(base) {}

  void ArmOnce(Match match, std::function<void()> action) {
    std::lock_guard<std::mutex> lock(mu_);
    match_ = std::move(match);
    action_ = std::move(action);
    fired_ = false;
  }
  // Disarm, and return whether the action ran.
  bool Disarm() {
    std::lock_guard<std::mutex> lock(mu_);
    match_ = nullptr;
    action_ = nullptr;
    return fired_;
  }

  Result<std::unique_ptr<io::WritableFile>> NewWritableFile(const std::string& path) override {
    Maybe("NewWritableFile", path);
    return base_->NewWritableFile(path);
  }
  Status CreateExclusive(const std::string& path, std::string_view contents) override {
    Maybe("CreateExclusive", path);
    return base_->CreateExclusive(path, contents);
  }
  Result<std::string> ReadFile(const std::string& path) override {
    Maybe("ReadFile", path);
    return base_->ReadFile(path);
  }
  Result<std::shared_ptr<const io::MappedFile>> MapFile(const std::string& path) override {
    Maybe("MapFile", path);
    return base_->MapFile(path);
  }
  Result<std::vector<io::FileInfo>> ListDir(const std::string& path) override {
    Maybe("ListDir", path);
    return base_->ListDir(path);
  }
  Result<io::FileInfo> Stat(const std::string& path) override {
    Maybe("Stat", path);
    return base_->Stat(path);
  }
  Result<bool> Exists(const std::string& path) override {
    Maybe("Exists", path);
    return base_->Exists(path);
  }
  Status CreateDirs(const std::string& path) override {
    Maybe("CreateDirs", path);
    return base_->CreateDirs(path);
  }
  Status DeleteFile(const std::string& path) override {
    Maybe("DeleteFile", path);
    return base_->DeleteFile(path);
  }
  Status DeleteDirRecursive(const std::string& path) override {
    Maybe("DeleteDirRecursive", path);
    return base_->DeleteDirRecursive(path);
  }
  Status SyncDir(const std::string& path) override {
    Maybe("SyncDir", path);
    return base_->SyncDir(path);
  }

 private:
  void Maybe(std::string_view op, const std::string& path) {
    std::function<void()> action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (fired_ || !match_ || !match_(op, path)) return;
      fired_ = true;
      action = action_;
    }
    action();
  }

  io::FileSystem* const base_;
  std::mutex mu_;
  Match match_;                   // GUARDED_BY(mu_)
  std::function<void()> action_;  // GUARDED_BY(mu_)
  bool fired_ = false;            // GUARDED_BY(mu_)
};

bool IsManifestCommit(std::string_view op, const std::string& path) {
  return op == "CreateExclusive" && path.find("/_versions/") != std::string::npos;
}

bool IsDataListing(std::string_view op, const std::string& path) {
  return op == "ListDir" && path.ends_with("/data");
}

std::set<int64_t> Range(int64_t begin, int64_t end) {
  std::set<int64_t> ids;
  for (int64_t id = begin; id < end; ++id) ids.insert(id);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// The table every pair starts from (memory FileSystem):
//   v1 create   v2..v5 add ids [0,40) [40,80) [80,120) [120,160), one fragment each
//   v6 compact (target 80: two fragments; the four old data files are referenced only by v2..v5)
//   v7 create IVF_FLAT index (covers [0,160))   v8 add [160,200)   v9 add [200,240) (the tail)
//   v10 delete id % 10 = 3
constexpr uint64_t kVersionBeforeCompaction = 5;  // ids [0,160), old data files, no index
constexpr uint64_t kVersionBeforeDelete = 9;      // ids [0,240), the same fragments as v10
constexpr uint64_t kSetupVersion = 10;

std::set<int64_t> SetupIds() {
  std::set<int64_t> ids;
  for (int64_t id = 0; id < 240; ++id) {
    if (id % 10 != 3) ids.insert(id);
  }
  return ids;
}

void BuildSetup(const TableOptions& options) {
  auto table = Table::Create(kUri, TestSchema(), CreateMode::kCreate, options).value();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(table->Add(MakeBatch(i * 40, 40)).ok());
  CompactionOptions compaction;
  compaction.target_rows_per_fragment = 80;
  ASSERT_EQ(table->CompactFiles(compaction).value().fragments_added, 2);
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 4;
  ASSERT_TRUE(table->CreateIndex("vector", config).ok());
  ASSERT_TRUE(table->Add(MakeBatch(160, 40)).ok());
  ASSERT_TRUE(table->Add(MakeBatch(200, 40)).ok());
  std::string every_tenth;  // id % 10 = 3
  for (int64_t id = 3; id < 240; id += 10) {
    every_tenth += (every_tenth.empty() ? "" : ",") + std::to_string(id);
  }
  ASSERT_EQ(table->DeleteRows("id IN (" + every_tenth + ")").value().num_deleted_rows, 24);
  ASSERT_EQ(table->version().value(), kSetupVersion);
}

// ---------------------------------------------------------------------------------------------
// The operations. Each handle runs its own instance: B (handle 1, the winner) and A (handle 2,
// the loser of the race) add different ids and delete overlapping ranges. Restore comes in two
// flavours: to a version with other fragments and no index, and to the version just before the
// last delete (the same fragments, rows deleted since brought back).

enum class Op {
  kAdd,
  kDelete,
  kUpsert,
  kCompact,
  kIndexUpdate,
  kCleanup,
  kRestoreOld,
  kRestoreRecent
};

constexpr Op kAllOps[] = {Op::kAdd,         Op::kDelete,  Op::kUpsert,     Op::kCompact,
                          Op::kIndexUpdate, Op::kCleanup, Op::kRestoreOld, Op::kRestoreRecent};

std::string OpName(Op op) {
  switch (op) {
    case Op::kAdd:
      return "Add";
    case Op::kDelete:
      return "Delete";
    case Op::kUpsert:
      return "Upsert";
    case Op::kCompact:
      return "Compaction";
    case Op::kIndexUpdate:
      return "IndexUpdate";
    case Op::kCleanup:
      return "Cleanup";
    case Op::kRestoreOld:
      return "RestoreBeforeCompaction";
    case Op::kRestoreRecent:
      return "RestoreBeforeDelete";
  }
  return "?";
}

void PrintTo(Op op, std::ostream* os) { *os << OpName(op); }

enum class Role { kWinner, kLoser };  // B on handle 1, A on handle 2

int64_t AddedFirstId(Role role) { return role == Role::kWinner ? 1000 : 2000; }
constexpr int64_t kAddedRows = 20;
std::pair<int64_t, int64_t> DeletedRange(Role role) {
  return role == Role::kWinner ? std::pair<int64_t, int64_t>{10, 20}
                               : std::pair<int64_t, int64_t>{15, 25};
}
// Upserted keys: existing ones overlapping the other role's and the deleted ranges, and new
// ones overlapping the other role's upsert and the winner's add.
std::vector<int64_t> UpsertedIds(Role role) {
  const int64_t existing = role == Role::kWinner ? 12 : 14;
  const int64_t fresh = role == Role::kWinner ? 1000 : 1002;
  std::vector<int64_t> ids;
  for (int64_t id = existing; id < existing + 6; ++id) ids.push_back(id);
  for (int64_t id = fresh; id < fresh + 5; ++id) ids.push_back(id);
  return ids;
}

Status RunOp(Op op, Role role, Table* table) {
  switch (op) {
    case Op::kAdd:
      return table->Add(MakeBatch(AddedFirstId(role), kAddedRows)).status();
    case Op::kDelete: {
      const auto [lo, hi] = DeletedRange(role);
      return table->DeleteRows("id >= " + std::to_string(lo) + " AND id < " + std::to_string(hi))
          .status();
    }
    case Op::kUpsert: {
      const std::vector<int64_t> ids = UpsertedIds(role);
      const std::vector<RecordBatch> parts = {MakeBatch(ids[0], 6), MakeBatch(ids[6], 5)};
      TESSERA_ASSIGN_OR_RETURN(RecordBatch rows, RecordBatch::Concatenate(TestSchema(), parts));
      UpsertOptions on;
      on.on = {"id"};
      return table->Upsert(rows, on).status();
    }
    case Op::kCompact: {
      CompactionOptions options;
      options.target_rows_per_fragment = 1000;  // everything is small: one bin
      return table->CompactFiles(options).status();
    }
    case Op::kIndexUpdate:
      return table->OptimizeIndices().status();
    case Op::kCleanup: {
      CleanupOptions options;
      options.older_than_seconds = 0;
      // The winner cleans up like a maintenance job next to writers (files keep their grace
      // period). The loser deletes unreferenced files at once: sound here because every
      // concurrent operation (B) has committed before the loser lists data/.
      if (role == Role::kLoser) options.grace_period_seconds = 0;
      return table->CleanupOldVersions(options).status();
    }
    case Op::kRestoreOld:
      return table->Restore(kVersionBeforeCompaction).status();
    case Op::kRestoreRecent:
      return table->Restore(kVersionBeforeDelete).status();
  }
  return Status::Internal("unknown op");
}

// The live ids after `op` (by `role`) ran on a table holding `ids`.
std::set<int64_t> Apply(Op op, Role role, std::set<int64_t> ids) {
  switch (op) {
    case Op::kAdd:
      for (int64_t id : Range(AddedFirstId(role), AddedFirstId(role) + kAddedRows)) ids.insert(id);
      return ids;
    case Op::kDelete: {
      const auto [lo, hi] = DeletedRange(role);
      for (int64_t id = lo; id < hi; ++id) ids.erase(id);
      return ids;
    }
    case Op::kUpsert:
      for (int64_t id : UpsertedIds(role)) ids.insert(id);
      return ids;
    case Op::kCompact:
    case Op::kIndexUpdate:
    case Op::kCleanup:
      return ids;
    case Op::kRestoreOld:
      return Range(0, 160);
    case Op::kRestoreRecent:
      return Range(0, 240);
  }
  return ids;
}

// What the design promises when A's commit races with B's (A = row, B = column).
enum class Promise {
  kBothSucceed,  // A rebases onto B
  kAConflicts,   // A fails with kConflict and changes nothing; retrying A succeeds
  kEither,       // A may rebase or conflict; the invariants decide
};

// Stable row ids make almost everything commute. The promised conflicts:
//  - compaction vs compaction of the same fragments (A's fragments are gone);
//  - index update vs index update (two segments must never cover a row);
//  - compaction vs a restore that brings back other fragments (A's fragments are gone).
// Compaction vs a restore to a version with the same fragments, and index update vs any restore,
// may rebase or conflict, but must not drop the rows the restore brought back nor hide them from
// the index (a segment's range also covers the rows deleted when it was built).
// Restore is last-writer-wins: A = restore always succeeds and its target's rows replace
// whatever B committed (B's rows are gone, by the user's request); A = add/delete/index update
// after a winning restore applies on top of the restored rows (delete re-evaluates its filter).
// Cleanup commits nothing and never conflicts; files B commits while A cleans up are protected.
Promise Promised(Op a, Op b) {
  if (a == Op::kCompact && b == Op::kCompact) return Promise::kAConflicts;
  if (a == Op::kIndexUpdate && b == Op::kIndexUpdate) return Promise::kAConflicts;
  if (a == Op::kCompact && b == Op::kRestoreOld) return Promise::kAConflicts;
  if (a == Op::kCompact && b == Op::kRestoreRecent) return Promise::kEither;
  if (a == Op::kIndexUpdate && (b == Op::kRestoreOld || b == Op::kRestoreRecent)) {
    return Promise::kEither;
  }
  return Promise::kBothSucceed;
}

// ---------------------------------------------------------------------------------------------
// Invariants, checked on a fresh handle.

// Row id -> number of segments of one index covering it, for the ids covered more than once.
std::map<uint64_t, int> DoublyCoveredRowIds(const format::Manifest& manifest) {
  std::map<std::string, std::map<uint64_t, int>> coverage;
  for (const auto& segment : manifest.index_segments) {
    for (const auto& range : segment.covered) {
      for (uint64_t id = range.start; id < range.end; ++id) ++coverage[segment.index_name][id];
    }
  }
  std::map<uint64_t, int> doubled;
  for (const auto& [name, counts] : coverage) {
    for (const auto& [id, count] : counts) {
      if (count > 1) doubled[id] = count;
    }
  }
  return doubled;
}

void CheckTable(io::FileSystem* fs, const std::set<int64_t>& expected, const std::string& what) {
  SCOPED_TRACE(what);
  TableOptions options;
  options.file_system = fs;
  auto opened = Table::Open(kUri, options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Table* table = opened->get();

  ScanOptions scan;
  scan.columns = {"id"};
  scan.with_row_id = true;
  auto batch = table->Scan(scan);
  ASSERT_TRUE(batch.ok()) << batch.status();
  std::map<int64_t, int> ids;
  std::set<int64_t> row_ids;
  for (int64_t row = 0; row < batch->num_rows(); ++row) {
    ++ids[batch->column(0).Int64(row)];
    EXPECT_TRUE(row_ids.insert(batch->column(1).Int64(row)).second)
        << "row id " << batch->column(1).Int64(row) << " twice";
  }
  for (const auto& [id, count] : ids) EXPECT_EQ(count, 1) << "id " << id << " seen " << count;
  std::set<int64_t> seen;
  for (const auto& [id, count] : ids) seen.insert(id);
  std::vector<int64_t> missing, unexpected;
  std::set_difference(expected.begin(), expected.end(), seen.begin(), seen.end(),
                      std::back_inserter(missing));
  std::set_difference(seen.begin(), seen.end(), expected.begin(), expected.end(),
                      std::back_inserter(unexpected));
  EXPECT_TRUE(missing.empty()) << missing.size() << " ids missing, first " << missing.front();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " ids unexpected, first "
                                  << unexpected.front();

  const int64_t live = static_cast<int64_t>(expected.size());
  EXPECT_EQ(batch->num_rows(), live);
  EXPECT_EQ(table->CountRows().value(), live);
  auto versions = table->ListVersions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_EQ(versions->back().num_rows, live);
  auto stats = table->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->num_rows, live);

  // The latest manifest: every referenced file exists, no row is covered twice, and the
  // unindexed count matches the coverage.
  auto snapshot = table->CurrentSnapshot().value();
  const format::Manifest& manifest = snapshot->manifest();
  table::TableStore* store = table->internal_store();
  std::vector<std::string> paths;
  for (const auto& fragment : manifest.fragments) paths.push_back(fragment.path);
  for (const auto& file : manifest.deletion_files) paths.push_back(file.path);
  for (const auto& segment : manifest.index_segments) paths.push_back(segment.path);
  for (const std::string& path : paths) {
    EXPECT_TRUE(fs->Exists(store->Path(path)).value()) << "referenced file missing: " << path;
  }
  const auto doubled = DoublyCoveredRowIds(manifest);
  EXPECT_TRUE(doubled.empty()) << doubled.size() << " row ids covered by several segments, first "
                               << doubled.begin()->first;
  std::set<uint64_t> covered;
  for (const auto& segment : manifest.index_segments) {
    for (const auto& range : segment.covered) {
      for (uint64_t id = range.start; id < range.end; ++id) covered.insert(id);
    }
  }
  int64_t unindexed_live = 0;
  for (int64_t row_id : row_ids) unindexed_live += covered.count(row_id) ? 0 : 1;
  if (!manifest.index_segments.empty()) {
    auto index = table->IndexStats("vector_idx");
    ASSERT_TRUE(index.ok()) << index.status();
    EXPECT_EQ(index->num_unindexed_rows, unindexed_live);
    EXPECT_EQ(index->num_indexed_rows, live - unindexed_live);
  }

  // Every live row is its own nearest neighbour, flat and through the index; and a search for
  // k rows returns k distinct rows. (Skipped when rows are already known to be missing.)
  if (!missing.empty()) return;
  for (bool bypass : {true, false}) {
    std::vector<int64_t> not_found;
    for (int64_t id : expected) {
      auto found = table->Search(VectorOf(id))
                       .Limit(5)
                       .Nprobes(kAllPartitions)
                       .BypassVectorIndex(bypass)
                       .Select({"id"})
                       .Execute();
      ASSERT_TRUE(found.ok()) << "search for id " << id << " bypass=" << bypass << ": "
                              << found.status();
      ASSERT_EQ(found->num_rows(), std::min<int64_t>(5, live)) << "id " << id;
      std::set<int64_t> distinct;
      for (int64_t row = 0; row < found->num_rows(); ++row) {
        distinct.insert(found->column(0).Int64(row));
      }
      ASSERT_EQ(static_cast<int64_t>(distinct.size()), found->num_rows()) << "id " << id;
      if (found->column(0).Int64(0) != id) not_found.push_back(id);
    }
    EXPECT_TRUE(not_found.empty())
        << not_found.size() << " live rows are not their own nearest "
        << "neighbour (bypass_vector_index=" << bypass << "), first id " << not_found.front();
  }
}

// ---------------------------------------------------------------------------------------------

class ConflictMatrixTest : public ::testing::TestWithParam<std::tuple<Op, Op>> {};

TEST_P(ConflictMatrixTest, LoserRebasesOrFailsWithConflictAndNoRowIsLostOrDoubled) {
  const auto [a, b] = GetParam();
  auto memory = io::NewMemoryFileSystem();
  HookFileSystem hooked(memory.get());
  TableOptions winner_options;
  winner_options.file_system = memory.get();
  TableOptions loser_options;
  loser_options.file_system = &hooked;
  BuildSetup(winner_options);
  if (HasFatalFailure()) return;
  auto winner = Table::Open(kUri, winner_options).value();
  auto loser = Table::Open(kUri, loser_options).value();

  std::set<int64_t> expected = SetupIds();
  Status b_status = Status::Internal("B did not run");
  uint64_t version_after_b = 0;
  hooked.ArmOnce(a == Op::kCleanup ? HookFileSystem::Match(IsDataListing)
                                   : HookFileSystem::Match(IsManifestCommit),
                 [&] {
                   b_status = RunOp(b, Role::kWinner, winner.get());
                   version_after_b = winner->version().value();
                 });
  const Status a_status = RunOp(a, Role::kLoser, loser.get());
  ASSERT_TRUE(hooked.Disarm()) << "A never reached its commit point";
  ASSERT_TRUE(b_status.ok()) << "B failed: " << b_status;
  expected = Apply(b, Role::kWinner, expected);
  const uint64_t latest = loser->internal_store()->LatestVersion().value();

  const Promise promise = Promised(a, b);
  if (a_status.ok()) {
    EXPECT_NE(promise, Promise::kAConflicts) << "A should have failed with kConflict";
    if (a != Op::kCleanup) {
      EXPECT_EQ(latest, version_after_b + 1) << "A did not commit";
    }
    expected = Apply(a, Role::kLoser, expected);
    CheckTable(memory.get(), expected, "after B, then A");
    return;
  }
  ASSERT_NE(promise, Promise::kBothSucceed) << "A failed: " << a_status;
  ASSERT_TRUE(a_status.IsConflict()) << "A failed without kConflict: " << a_status;
  EXPECT_EQ(latest, version_after_b) << "the failed A changed the table";
  CheckTable(memory.get(), expected, "after B (A lost)");
  // kConflict is retryable: A succeeds (or finds nothing left to do) on the new version.
  const Status retried = RunOp(a, Role::kLoser, loser.get());
  ASSERT_TRUE(retried.ok()) << "retry of A: " << retried;
  expected = Apply(a, Role::kLoser, expected);
  CheckTable(memory.get(), expected, "after B, then A retried");
}

std::string PairName(const ::testing::TestParamInfo<std::tuple<Op, Op>>& pair) {
  return OpName(std::get<0>(pair.param)) + "_vs_" + OpName(std::get<1>(pair.param));
}

INSTANTIATE_TEST_SUITE_P(AllPairs, ConflictMatrixTest,
                         ::testing::Combine(::testing::ValuesIn(kAllOps),
                                            ::testing::ValuesIn(kAllOps)),
                         PairName);

// ---------------------------------------------------------------------------------------------
// Minimal reproductions of the matrix's failures, one behaviour each.

TEST(ConflictMatrixRegressionTest, CompactionRebasedOverRestoreKeepsTheRestoredRows) {
  auto memory = io::NewMemoryFileSystem();
  HookFileSystem hooked(memory.get());
  TableOptions winner_options;
  winner_options.file_system = memory.get();
  TableOptions loser_options;
  loser_options.file_system = &hooked;
  auto winner = Table::Create(kUri, TestSchema(), CreateMode::kCreate, winner_options).value();
  ASSERT_TRUE(winner->Add(MakeBatch(0, 10)).ok());   // v2
  ASSERT_TRUE(winner->Add(MakeBatch(10, 10)).ok());  // v3
  ASSERT_TRUE(winner->DeleteRows("id < 5").ok());    // v4
  auto loser = Table::Open(kUri, loser_options).value();
  // The compaction merges both fragments, dropping the 5 deleted rows; before it commits, a
  // restore of v3 (same fragments, nothing deleted) wins.
  hooked.ArmOnce(IsManifestCommit, [&] { ASSERT_TRUE(winner->Restore(3).ok()); });
  CompactionOptions options;
  options.target_rows_per_fragment = 100;
  auto compacted = loser->CompactFiles(options);
  ASSERT_TRUE(hooked.Disarm());
  ASSERT_TRUE(compacted.ok() || compacted.status().IsConflict()) << compacted.status();
  auto fresh = Table::Open(kUri, winner_options).value();
  EXPECT_EQ(fresh->CountRows().value(), 20) << "rows restored by v5 were dropped by compaction";
  EXPECT_EQ(fresh->Scan().value().num_rows(), 20);
}

TEST(ConflictMatrixRegressionTest, IndexUpdateRebasedOverRestoreNeverCoversARowTwice) {
  auto memory = io::NewMemoryFileSystem();
  HookFileSystem hooked(memory.get());
  TableOptions winner_options;
  winner_options.file_system = memory.get();
  TableOptions loser_options;
  loser_options.file_system = &hooked;
  auto winner = Table::Create(kUri, TestSchema(), CreateMode::kCreate, winner_options).value();
  ASSERT_TRUE(winner->Add(MakeBatch(0, 40)).ok());  // v2
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 2;
  ASSERT_TRUE(winner->CreateIndex("vector", config).ok());         // v3: covers [0, 40)
  ASSERT_TRUE(winner->Add(MakeBatch(40, 20)).ok());                // v4: tail [40, 60)
  ASSERT_EQ(winner->OptimizeIndices().value().segments_added, 1);  // v5: covers [40, 60)
  ASSERT_TRUE(winner->Restore(4).ok());                            // v6: tail [40, 60) again
  auto loser = Table::Open(kUri, loser_options).value();
  // The loser indexes the tail [40, 60); before it commits, a restore of v5 (which already
  // covers that tail) wins.
  hooked.ArmOnce(IsManifestCommit, [&] { ASSERT_TRUE(winner->Restore(5).ok()); });
  auto updated = loser->OptimizeIndices();
  ASSERT_TRUE(hooked.Disarm());
  ASSERT_TRUE(updated.ok() || updated.status().IsConflict()) << updated.status();
  auto fresh = Table::Open(kUri, winner_options).value();
  const auto doubled = DoublyCoveredRowIds(fresh->CurrentSnapshot().value()->manifest());
  EXPECT_TRUE(doubled.empty()) << doubled.size() << " row ids covered by two segments";
  EXPECT_EQ(fresh->Stats().value().num_unindexed_rows, 0);
  auto found = fresh->Search(VectorOf(50)).Limit(10).Nprobes(kAllPartitions).Execute();
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->num_rows(), 10) << "duplicates from overlapping segments took top-k slots";
}

TEST(ConflictMatrixRegressionTest, IndexUpdateRebasedOverRestoreStillFindsUndeletedRows) {
  auto memory = io::NewMemoryFileSystem();
  HookFileSystem hooked(memory.get());
  TableOptions winner_options;
  winner_options.file_system = memory.get();
  TableOptions loser_options;
  loser_options.file_system = &hooked;
  auto winner = Table::Create(kUri, TestSchema(), CreateMode::kCreate, winner_options).value();
  ASSERT_TRUE(winner->Add(MakeBatch(0, 40)).ok());  // v2
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 2;
  ASSERT_TRUE(winner->CreateIndex("vector", config).ok());  // v3: covers [0, 40)
  ASSERT_TRUE(winner->Add(MakeBatch(40, 20)).ok());         // v4: tail [40, 60)
  ASSERT_TRUE(winner->DeleteRows("id = 45").ok());          // v5
  auto loser = Table::Open(kUri, loser_options).value();
  // The loser indexes the live tail rows (45 is deleted, so not in the segment, though inside
  // the range it covers); before it commits, a restore of v4 (45 live again) wins.
  hooked.ArmOnce(IsManifestCommit, [&] { ASSERT_TRUE(winner->Restore(4).ok()); });
  auto updated = loser->OptimizeIndices();
  ASSERT_TRUE(hooked.Disarm());
  ASSERT_TRUE(updated.ok() || updated.status().IsConflict()) << updated.status();
  auto fresh = Table::Open(kUri, winner_options).value();
  ASSERT_EQ(fresh->CountRows("id = 45").value(), 1);
  auto found =
      fresh->Search(VectorOf(45)).Limit(1).Nprobes(kAllPartitions).Select({"id"}).Execute();
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->num_rows(), 1);
  EXPECT_EQ(found->column(0).Int64(0), 45) << "a live row is invisible to indexed search";
}

// A handle remembers the version it last read and looks for newer ones from there. Cleanup
// removes old manifests, so the version after the remembered one may be gone while newer ones
// exist.
class CleanupRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    memory_ = io::NewMemoryFileSystem();
    options_.file_system = memory_.get();
    first_ = Table::Create(kUri, TestSchema(), CreateMode::kCreate, options_).value();
    ASSERT_TRUE(first_->Add(MakeBatch(0, 10)).ok());   // v2
    second_ = Table::Open(kUri, options_).value();     // reads v2
    ASSERT_TRUE(first_->Add(MakeBatch(10, 10)).ok());  // v3
    ASSERT_TRUE(first_->Add(MakeBatch(20, 10)).ok());  // v4
    CleanupOptions cleanup;
    cleanup.older_than_seconds = 0;  // removes v1..v3; data files stay (grace period)
    ASSERT_EQ(first_->CleanupOldVersions(cleanup).value().versions_removed, 3);
  }

  std::unique_ptr<io::FileSystem> memory_;
  TableOptions options_;
  std::unique_ptr<Table> first_;
  std::unique_ptr<Table> second_;
};

TEST_F(CleanupRaceTest, HandleSeesVersionsCommittedBeforeCleanupRemovedTheirPredecessors) {
  EXPECT_EQ(second_->version().value(), 4u);
  EXPECT_EQ(second_->CountRows().value(), 30);
}

TEST_F(CleanupRaceTest, AddFromAHandleThatMissedCleanedUpVersionsIsNotLost) {
  auto added = second_->Add(MakeBatch(30, 10));
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_GT(added->version, 4u) << "committed below the latest version";
  auto fresh = Table::Open(kUri, options_).value();
  EXPECT_EQ(fresh->CountRows().value(), 40) << "the acknowledged add is not in the latest version";
}

// The same at the commit point: while an add is between writing its data file and creating
// `_versions/<V+1>.manifest`, other writers commit V+1 and V+2 and a cleanup removes V+1. The
// put-if-absent of V+1 then succeeds although V+1 is no longer the next version; the committer
// sees that V+2 does not descend from its commit (manifest lineage), takes its manifest back
// and rebases.
TEST(CommitPointCleanupRaceTest, CommitWhoseVersionWasCommittedAndCleanedUpMeanwhileIsNotLost) {
  auto memory = io::NewMemoryFileSystem();
  HookFileSystem hooked(memory.get());
  TableOptions winner_options;
  winner_options.file_system = memory.get();
  TableOptions loser_options;
  loser_options.file_system = &hooked;
  auto winner = Table::Create(kUri, TestSchema(), CreateMode::kCreate, winner_options).value();
  ASSERT_TRUE(winner->Add(MakeBatch(0, 10)).ok());  // v2
  auto loser = Table::Open(kUri, loser_options).value();
  hooked.ArmOnce(IsManifestCommit, [&] {
    ASSERT_TRUE(winner->Add(MakeBatch(10, 10)).ok());  // v3
    ASSERT_TRUE(winner->Add(MakeBatch(20, 10)).ok());  // v4
    CleanupOptions cleanup;
    cleanup.older_than_seconds = 0;  // removes v1..v3
    ASSERT_TRUE(winner->CleanupOldVersions(cleanup).ok());
  });
  auto added = loser->Add(MakeBatch(30, 10));  // read v2, commits "v3"
  ASSERT_TRUE(hooked.Disarm());
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_GT(added->version, 4u) << "committed below the latest version";
  auto fresh = Table::Open(kUri, winner_options).value();
  EXPECT_EQ(fresh->CountRows().value(), 40) << "the acknowledged add is not in the latest version";
}

}  // namespace
}  // namespace tessera
