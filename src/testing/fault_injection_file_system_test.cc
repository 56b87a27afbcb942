#include "testing/fault_injection_file_system.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tessera::test {
namespace {

class FaultInjectionFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(base_->CreateDirs("/t/data").ok()); }

  // Write `synced` and sync, then append `unsynced` and close without syncing.
  void WritePartlySynced(const std::string& path, std::string_view synced,
                         std::string_view unsynced) {
    auto file = fs_.NewWritableFile(path);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE((*file)->Append(synced).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE((*file)->Append(unsynced).ok());
    ASSERT_TRUE((*file)->Close().ok());
  }

  // The operations of a miniature commit: a data file, then the manifest.
  Status WriteDataAndCommit(FaultInjectionFileSystem* fs) {
    TESSERA_RETURN_IF_ERROR(fs->CreateDirs("/t/_versions"));
    TESSERA_RETURN_IF_ERROR(io::WriteFileDurably(fs, "/t/data/1.arrow", "rows"));
    TESSERA_RETURN_IF_ERROR(fs->SyncDir("/t/data"));
    return fs->CreateExclusive("/t/_versions/1.manifest", "manifest");
  }

  std::unique_ptr<io::FileSystem> base_ = io::NewMemoryFileSystem();
  FaultInjectionFileSystem fs_{base_.get()};
};

TEST_F(FaultInjectionFileSystemTest, ForwardsCallsToTheBase) {
  ASSERT_TRUE(io::WriteFileDurably(&fs_, "/t/data/f", "abc").ok());
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "abc");
  EXPECT_EQ(*fs_.ReadFile("/t/data/f"), "abc");
  EXPECT_EQ((*fs_.MapFile("/t/data/f"))->size(), 3);
  EXPECT_EQ(fs_.Stat("/t/data/f")->size_bytes, 3);
  EXPECT_TRUE(*fs_.Exists("/t/data/f"));
  EXPECT_EQ(fs_.ListDir("/t/data")->size(), 1u);
  ASSERT_TRUE(fs_.DeleteFile("/t/data/f").ok());
  EXPECT_FALSE(*base_->Exists("/t/data/f"));
  EXPECT_TRUE(fs_.ReadFile("/t/data/f").status().IsNotFound());
}

TEST_F(FaultInjectionFileSystemTest, CountsEveryMutatingCallAndNoRead) {
  EXPECT_EQ(fs_.mutation_count(), 0);
  // CreateDirs, NewWritableFile, Append, Sync, Close, SyncDir, CreateExclusive.
  ASSERT_TRUE(WriteDataAndCommit(&fs_).ok());
  EXPECT_EQ(fs_.mutation_count(), 7);
  ASSERT_TRUE(fs_.ReadFile("/t/data/1.arrow").ok());
  ASSERT_TRUE(fs_.ListDir("/t").ok());
  ASSERT_TRUE(fs_.Stat("/t").ok());
  ASSERT_TRUE(fs_.Exists("/t").ok());
  ASSERT_TRUE(fs_.MapFile("/t/data/1.arrow").ok());
  EXPECT_EQ(fs_.mutation_count(), 7);
  ASSERT_TRUE(fs_.DeleteFile("/t/data/1.arrow").ok());
  ASSERT_TRUE(fs_.DeleteDirRecursive("/t/_versions").ok());
  EXPECT_EQ(fs_.mutation_count(), 9);
}

TEST_F(FaultInjectionFileSystemTest, FailNthMutationFailsOnlyThatCallAndDoesNothing) {
  auto file = fs_.NewWritableFile("/t/data/f");
  ASSERT_TRUE(file.ok());
  fs_.FailNthMutation(2);
  ASSERT_TRUE((*file)->Append("a").ok());
  const Status failed = (*file)->Append("b");
  EXPECT_TRUE(failed.IsIOError()) << failed;
  EXPECT_NE(failed.message().find("injected fault"), std::string::npos) << failed;
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "a");
  ASSERT_TRUE((*file)->Append("c").ok()) << "only one call fails";
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "ac");
  ASSERT_TRUE((*file)->Close().ok());
}

TEST_F(FaultInjectionFileSystemTest, FailNthMutationUsesTheGivenCode) {
  fs_.FailNthMutation(1, StatusCode::kResourceExhausted);
  EXPECT_TRUE(fs_.CreateDirs("/t/x").IsResourceExhausted());
  EXPECT_FALSE(*base_->Exists("/t/x"));
}

TEST_F(FaultInjectionFileSystemTest, FailedCallsHaveNoEffectOnTheBase) {
  ASSERT_TRUE(io::WriteFileDurably(base_.get(), "/t/data/keep", "k").ok());
  fs_.FailNthMutation(1);
  EXPECT_FALSE(fs_.NewWritableFile("/t/data/new").ok());
  EXPECT_FALSE(*base_->Exists("/t/data/new"));
  fs_.FailNthMutation(1);
  EXPECT_FALSE(fs_.CreateExclusive("/t/data/excl", "x").ok());
  EXPECT_FALSE(*base_->Exists("/t/data/excl"));
  fs_.FailNthMutation(1);
  EXPECT_FALSE(fs_.DeleteFile("/t/data/keep").ok());
  fs_.FailNthMutation(1);
  EXPECT_FALSE(fs_.DeleteDirRecursive("/t/data").ok());
  EXPECT_EQ(*base_->ReadFile("/t/data/keep"), "k");
  fs_.FailNthMutation(1);
  EXPECT_FALSE(fs_.SyncDir("/t/data").ok());
}

TEST_F(FaultInjectionFileSystemTest, EachMutationOfAnOperationCanBeFailedInTurn) {
  // Count the operation's mutations on a scratch copy, then fail each one.
  int64_t num_mutations = 0;
  {
    auto scratch_base = io::NewMemoryFileSystem();
    ASSERT_TRUE(scratch_base->CreateDirs("/t/data").ok());
    FaultInjectionFileSystem scratch(scratch_base.get());
    ASSERT_TRUE(WriteDataAndCommit(&scratch).ok());
    num_mutations = scratch.mutation_count();
  }
  ASSERT_EQ(num_mutations, 7);
  for (int64_t n = 1; n <= num_mutations; ++n) {
    auto run_base = io::NewMemoryFileSystem();
    ASSERT_TRUE(run_base->CreateDirs("/t/data").ok());
    FaultInjectionFileSystem run(run_base.get());
    run.FailNthMutation(n);
    const Status status = WriteDataAndCommit(&run);
    EXPECT_TRUE(status.IsIOError()) << "mutation " << n << ": " << status;
    EXPECT_FALSE(*run_base->Exists("/t/_versions/1.manifest")) << "mutation " << n;
    ASSERT_TRUE(run.SimulateCrash().ok());
    // After the crash the operation either left nothing or only a durable orphan.
    auto data = run_base->ReadFile("/t/data/1.arrow");
    if (data.ok()) {
      EXPECT_EQ(*data, "rows") << "mutation " << n;
    }
  }
}

TEST_F(FaultInjectionFileSystemTest, ClearFaultsCancelsPendingFaults) {
  fs_.FailNthMutation(1);
  fs_.SetDiskFull(true);
  fs_.ClearFaults();
  EXPECT_TRUE(io::WriteFileDurably(&fs_, "/t/data/f", "abc").ok());
  EXPECT_TRUE(fs_.CreateExclusive("/t/data/g", "abc").ok());
}

TEST_F(FaultInjectionFileSystemTest, DiskFullFailsWritesAndWritesNothing) {
  auto file = fs_.NewWritableFile("/t/data/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("a").ok());
  fs_.SetDiskFull(true);
  const Status append = (*file)->Append("b");
  EXPECT_TRUE(append.IsResourceExhausted()) << append;
  EXPECT_NE(append.message().find("disk full (injected)"), std::string::npos) << append;
  const Status create = fs_.CreateExclusive("/t/data/m", "x");
  EXPECT_TRUE(create.IsResourceExhausted()) << create;
  EXPECT_FALSE(*base_->Exists("/t/data/m"));
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "a");
  // Calls that need no space still work.
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_TRUE(fs_.CreateDirs("/t/other").ok());
  fs_.SetDiskFull(false);
  EXPECT_TRUE((*file)->Append("c").ok());
  EXPECT_TRUE((*file)->Close().ok());
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "ac");
}

TEST_F(FaultInjectionFileSystemTest, CrashDropsUnsyncedBytes) {
  WritePartlySynced("/t/data/f", "durable", " lost");
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "durable lost");
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "durable");
}

TEST_F(FaultInjectionFileSystemTest, CrashDeletesFilesNeverSynced) {
  auto file = fs_.NewWritableFile("/t/data/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("never synced").ok());
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_FALSE(*base_->Exists("/t/data/f"));
}

TEST_F(FaultInjectionFileSystemTest, CrashKeepsSyncedAndExclusiveFiles) {
  ASSERT_TRUE(io::WriteFileDurably(&fs_, "/t/data/synced", "s").ok());
  ASSERT_TRUE(fs_.CreateExclusive("/t/data/manifest", "m").ok());
  ASSERT_TRUE(io::WriteFileDurably(base_.get(), "/t/data/untracked", "u").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(*base_->ReadFile("/t/data/synced"), "s");
  EXPECT_EQ(*base_->ReadFile("/t/data/manifest"), "m");
  EXPECT_EQ(*base_->ReadFile("/t/data/untracked"), "u");
}

TEST_F(FaultInjectionFileSystemTest, RewrittenFileLosesItsOldSyncedState) {
  ASSERT_TRUE(io::WriteFileDurably(&fs_, "/t/data/f", "old").ok());
  auto file = fs_.NewWritableFile("/t/data/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("new, unsynced").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_FALSE(*base_->Exists("/t/data/f"));
}

TEST_F(FaultInjectionFileSystemTest, CrashResetsTracking) {
  WritePartlySynced("/t/data/f", "abc", "def");
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  // Bytes written to the base directly after the crash are not dropped by the next one.
  ASSERT_TRUE(io::WriteFileDurably(base_.get(), "/t/data/f", "abcdef").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "abcdef");
}

TEST_F(FaultInjectionFileSystemTest, DeletedFilesAreForgotten) {
  WritePartlySynced("/t/data/f", "abc", "def");
  ASSERT_TRUE(fs_.CreateDirs("/t/idx/seg").ok());
  WritePartlySynced("/t/idx/seg/s", "abc", "def");
  ASSERT_TRUE(fs_.DeleteFile("/t/data/f").ok());
  ASSERT_TRUE(fs_.DeleteDirRecursive("/t/idx").ok());
  // Same names, written behind the wrapper's back, must survive the crash.
  ASSERT_TRUE(io::WriteFileDurably(base_.get(), "/t/data/f", "other").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "other");
}

TEST_F(FaultInjectionFileSystemTest, HandlesOpenedBeforeACrashFail) {
  auto file = fs_.NewWritableFile("/t/data/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_TRUE((*file)->Append("def").IsIOError());
  EXPECT_TRUE((*file)->Sync().IsIOError());
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "abc");
}

TEST_F(FaultInjectionFileSystemTest, PathsDifferingInSlashesAreTheSameFile) {
  WritePartlySynced("/t/data//f", "abc", "def");
  ASSERT_TRUE(fs_.DeleteFile("/t/data/f").ok());
  ASSERT_TRUE(io::WriteFileDurably(base_.get(), "/t/data/f", "other").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(*base_->ReadFile("/t/data/f"), "other");
}

TEST_F(FaultInjectionFileSystemTest, CountsMutationsFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 100;
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    threads.emplace_back([this, thread_idx] {
      for (int call_idx = 0; call_idx < kCallsPerThread; ++call_idx) {
        EXPECT_TRUE(fs_.CreateDirs("/t/d" + std::to_string(thread_idx)).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(fs_.mutation_count(), kThreads * kCallsPerThread);
}

}  // namespace
}  // namespace tessera::test
