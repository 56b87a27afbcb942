// Cleanup against an oracle, on local disk (manifest ages are set through file times): after
// every cleanup the files on disk are exactly those the remaining manifests reference, every
// remaining version reads, and a cleanup reads only the manifests committed since the last one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "table/table_store.h"
#include "tessera/table.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

RecordBatch MakeBatch(int64_t first_id, int64_t n) {
  RecordBatchBuilder builder(Schema::Parse("id:int64 not null,vector:vector[4]").value());
  for (int64_t id = first_id; id < first_id + n; ++id) {
    const float x = static_cast<float>(id);
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(std::vector<float>{x, 1, 2, 3})}).ok());
  }
  return builder.Finish().value();
}

class CleanupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tessera_cleanup_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    table_ = Table::Create(dir_.string(), MakeBatch(0, 10)).value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Make the manifests of versions <= `version` look two hours old.
  void Age(uint64_t version) {
    for (const auto& entry : fs::directory_iterator(dir_ / "_versions")) {
      const std::string name = entry.path().filename().string();
      if (!name.ends_with(".manifest")) continue;
      if (std::stoull(name) <= version) {
        fs::last_write_time(entry.path(), fs::file_time_type::clock::now() - std::chrono::hours(2));
      }
    }
  }

  std::set<std::string> FilesOnDisk() {
    std::set<std::string> files;
    for (const char* dir : {"data", "deletions", "indices"}) {
      if (!fs::exists(dir_ / dir)) continue;
      for (const auto& entry : fs::recursive_directory_iterator(dir_ / dir)) {
        if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), dir_).string());
      }
    }
    return files;
  }

  // The union of what every manifest on disk references; checks each version reads.
  std::set<std::string> ReferencedByKeptVersions() {
    std::set<std::string> files;
    auto reader = Table::Open(dir_.string()).value();
    for (const auto& entry : fs::directory_iterator(dir_ / "_versions")) {
      const std::string name = entry.path().filename().string();
      if (!name.ends_with(".manifest")) continue;
      const uint64_t version = std::stoull(name);
      auto manifest = table_->internal_store()->ReadManifest(version).value();
      for (const auto& f : manifest.fragments) files.insert(f.path);
      for (const auto& f : manifest.deletion_files) files.insert(f.path);
      for (const auto& f : manifest.index_segments) files.insert(f.path);
      EXPECT_TRUE(reader->Checkout(version).ok()) << version;
      auto count = reader->CountRows();
      EXPECT_TRUE(count.ok()) << "version " << version << ": " << count.status().ToString();
    }
    return files;
  }

  fs::path dir_;
  std::unique_ptr<Table> table_;
};

TEST_F(CleanupTest, RandomHistoryNeverStrandsOrLosesAFile) {
  std::mt19937 rng(7);
  int64_t next_id = 10;
  int cleanups = 0;
  for (int step = 0; step < 120; ++step) {
    const int op = static_cast<int>(rng() % 10);
    const uint64_t latest = table_->version().value();
    if (op < 5) {
      ASSERT_TRUE(table_->Add(MakeBatch(next_id, 5)).ok());
      next_id += 5;
    } else if (op == 5) {
      const int64_t from = static_cast<int64_t>(rng() % static_cast<uint64_t>(next_id));
      auto deleted = table_->DeleteRows("id >= " + std::to_string(from) + " AND id < " +
                                        std::to_string(from + 4));
      ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    } else if (op == 6) {
      CompactionOptions compaction;
      compaction.target_rows_per_fragment = 40;
      ASSERT_TRUE(table_->CompactFiles(compaction).ok());
    } else if (op == 7) {
      // Restore a version that is still on disk: it may bring back files only doomed versions
      // referenced, which the reference index must see as added by the restore.
      std::vector<uint64_t> on_disk;
      const std::vector<VersionInfo> versions = table_->ListVersions().value();
      for (const VersionInfo& v : versions) on_disk.push_back(v.version);
      auto restored = table_->Restore(on_disk[rng() % on_disk.size()]);
      ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    } else {
      Age(latest - rng() % (latest > 3 ? latest / 3 : 1));
      CleanupOptions cleanup;
      cleanup.older_than_seconds = 3600;
      cleanup.delete_unverified = true;
      auto cleaned = table_->CleanupOldVersions(cleanup);
      ASSERT_TRUE(cleaned.ok()) << cleaned.status().ToString();
      ++cleanups;
      EXPECT_EQ(FilesOnDisk(), ReferencedByKeptVersions()) << "step " << step;
    }
  }
  EXPECT_GE(cleanups, 8);
}

TEST_F(CleanupTest, ACleanupReadsOnlyTheManifestsCommittedSinceTheLastOne) {
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(table_->Add(MakeBatch(100 + i * 5, 5)).ok());
  CleanupOptions keep_all;  // a week's retention: nothing to remove
  auto first = table_->CleanupOldVersions(keep_all);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->versions_removed, 0);
  EXPECT_EQ(first->manifests_read, 61);  // the whole history, once
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(table_->Add(MakeBatch(1000 + i * 5, 5)).ok());
  auto second = table_->CleanupOldVersions(keep_all);
  ASSERT_TRUE(second.ok());
  // Version 1 (the oldest kept), the last one the previous cleanup saw, and the 5 new ones.
  EXPECT_EQ(second->manifests_read, 7);
  auto third = table_->CleanupOldVersions(keep_all);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->manifests_read, 1);

  // Half the history falls out of the retention: files(k) plus nothing new.
  Age(33);
  CleanupOptions hour;
  hour.older_than_seconds = 3600;
  hour.delete_unverified = true;
  auto partial = table_->CleanupOldVersions(hour);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->versions_removed, 33);
  EXPECT_EQ(partial->manifests_read, 1);
  EXPECT_EQ(FilesOnDisk(), ReferencedByKeptVersions());
  EXPECT_EQ(table_->CountRows().value(), 10 + 60 * 5 + 5 * 5);
}

TEST_F(CleanupTest, ACorruptReferenceIndexIsIgnored) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(table_->Add(MakeBatch(100 + i * 5, 5)).ok());
  ASSERT_TRUE(table_->CleanupOldVersions({}).ok());
  std::vector<fs::path> indexes;
  for (const auto& entry : fs::directory_iterator(dir_ / "_cleanup")) indexes.push_back(entry);
  ASSERT_EQ(indexes.size(), 1u);
  { std::ofstream(indexes[0], std::ios::trunc) << "{\"format\": 1, \"base\": "; }
  ASSERT_TRUE(table_->Add(MakeBatch(500, 5)).ok());
  auto cleaned = table_->CleanupOldVersions({});
  ASSERT_TRUE(cleaned.ok()) << cleaned.status().ToString();
  EXPECT_EQ(cleaned->manifests_read, 7);  // fell back to reading every manifest
  Age(7);
  CleanupOptions all;
  all.older_than_seconds = 3600;
  all.delete_unverified = true;
  ASSERT_TRUE(table_->CleanupOldVersions(all).ok());
  EXPECT_EQ(FilesOnDisk(), ReferencedByKeptVersions());
  EXPECT_EQ(table_->CountRows().value(), 40);
}

}  // namespace
}  // namespace tessera
