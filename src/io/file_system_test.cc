#include "io/file_system.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "io/local_file_system_internal.h"

namespace tessera::io {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> Names(const std::vector<FileInfo>& entries) {
  std::vector<std::string> names;
  for (const FileInfo& entry : entries) names.push_back(entry.name);
  return names;
}

// Return a fresh directory under the test temp dir. Aborts the test on failure.
std::string MakeLocalTempDir() {
  std::string pattern = ::testing::TempDir();
  pattern = JoinPath(pattern, "tessera_io_test_XXXXXX");
  char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << pattern;
  return pattern;
}

enum class FsKind { kLocal, kMemory };

// Runs every test against the local disk (in a fresh temp dir) and the memory FS.
class FileSystemTest : public ::testing::TestWithParam<FsKind> {
 protected:
  void SetUp() override {
    if (GetParam() == FsKind::kLocal) {
      fs_ = LocalFileSystem();
      root_ = MakeLocalTempDir();
    } else {
      memory_fs_ = NewMemoryFileSystem();
      fs_ = memory_fs_.get();
      root_ = "/test_root";
      ASSERT_TRUE(fs_->CreateDirs(root_).ok());
    }
  }

  void TearDown() override {
    EXPECT_TRUE(fs_->DeleteDirRecursive(root_).ok());
    EXPECT_FALSE(*fs_->Exists(root_));
  }

  std::string Path(std::string_view name) const { return JoinPath(root_, name); }

  std::unique_ptr<FileSystem> memory_fs_;
  FileSystem* fs_ = nullptr;
  std::string root_;
};

TEST_P(FileSystemTest, WrittenBytesReadBack) {
  std::string binary("a\0b\xff", 4);
  auto file = fs_->NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append(binary).ok());
  ASSERT_TRUE((*file)->Append("").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  auto contents = fs_->ReadFile(Path("f"));
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(*contents, "hello " + binary);
}

TEST_P(FileSystemTest, ManyAppendsOfMixedSizesReadBackInOrder) {
  std::string expected;
  auto file = fs_->NewWritableFile(Path("big"));
  ASSERT_TRUE(file.ok()) << file.status();
  for (int piece_idx = 0; piece_idx < 200; ++piece_idx) {
    // Sizes straddle the local write buffer: small, near 64 KiB and above.
    const size_t size_bytes = (piece_idx % 7 == 0) ? 70000 + piece_idx : 1 + piece_idx * 37;
    std::string piece(size_bytes, static_cast<char>('a' + piece_idx % 26));
    expected += piece;
    ASSERT_TRUE((*file)->Append(piece).ok());
  }
  ASSERT_TRUE((*file)->Close().ok());
  auto contents = fs_->ReadFile(Path("big"));
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(contents->size(), expected.size());
  EXPECT_TRUE(*contents == expected);
  auto info = fs_->Stat(Path("big"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size_bytes, static_cast<int64_t>(expected.size()));
}

TEST_P(FileSystemTest, NewWritableFileTruncatesAnExistingFile) {
  ASSERT_TRUE(WriteFileDurably(fs_, Path("f"), "long old contents").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, Path("f"), "new").ok());
  EXPECT_EQ(*fs_->ReadFile(Path("f")), "new");
}

TEST_P(FileSystemTest, CallsAfterCloseFail) {
  auto file = fs_->NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("x").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_FALSE((*file)->Append("y").ok());
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_FALSE((*file)->Close().ok());
  EXPECT_EQ(*fs_->ReadFile(Path("f")), "x");
}

TEST_P(FileSystemTest, NewWritableFileInMissingDirectoryIsNotFound) {
  auto file = fs_->NewWritableFile(Path("missing/f"));
  EXPECT_TRUE(file.status().IsNotFound()) << file.status();
}

TEST_P(FileSystemTest, CreateExclusiveCreatesTheFile) {
  ASSERT_TRUE(fs_->CreateExclusive(Path("v1"), "manifest").ok());
  EXPECT_EQ(*fs_->ReadFile(Path("v1")), "manifest");
  ASSERT_TRUE(fs_->CreateExclusive(Path("empty"), "").ok());
  EXPECT_EQ(*fs_->ReadFile(Path("empty")), "");
}

TEST_P(FileSystemTest, CreateExclusiveOnExistingPathIsAlreadyExistsAndLeavesNothingBehind) {
  ASSERT_TRUE(fs_->CreateExclusive(Path("v1"), "first").ok());
  const Status second = fs_->CreateExclusive(Path("v1"), "second");
  EXPECT_TRUE(second.IsAlreadyExists()) << second;
  EXPECT_NE(second.message().find(Path("v1")), std::string::npos) << second;
  EXPECT_EQ(*fs_->ReadFile(Path("v1")), "first");
  ASSERT_TRUE(fs_->CreateDirs(Path("dir")).ok());
  EXPECT_TRUE(fs_->CreateExclusive(Path("dir"), "x").IsAlreadyExists());
  auto entries = fs_->ListDir(root_);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(Names(*entries), (std::vector<std::string>{"dir", "v1"}));
}

TEST_P(FileSystemTest, CreateExclusiveInMissingDirectoryIsNotFound) {
  const Status status = fs_->CreateExclusive(Path("missing/v1"), "x");
  EXPECT_TRUE(status.IsNotFound()) << status;
  EXPECT_FALSE(*fs_->Exists(Path("missing")));
}

TEST_P(FileSystemTest, CreateExclusiveRaceHasExactlyOneWinner) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = Path("race_" + std::to_string(round));
    std::vector<Status> results(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
      threads.emplace_back([&, thread_idx] {
        start.arrive_and_wait();
        results[thread_idx] = fs_->CreateExclusive(path, "writer " + std::to_string(thread_idx));
      });
    }
    for (std::thread& thread : threads) thread.join();
    int winner = -1;
    for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
      if (results[thread_idx].ok()) {
        EXPECT_EQ(winner, -1) << "two winners in round " << round;
        winner = thread_idx;
      } else {
        EXPECT_TRUE(results[thread_idx].IsAlreadyExists()) << results[thread_idx];
      }
    }
    ASSERT_NE(winner, -1) << "no winner in round " << round;
    EXPECT_EQ(*fs_->ReadFile(path), "writer " + std::to_string(winner));
  }
  auto entries = fs_->ListDir(root_);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), static_cast<size_t>(kRounds)) << "temp files left behind";
}

TEST_P(FileSystemTest, ListDirIsSortedWithSizesKindsAndTimes) {
  const int64_t before_us = NowUs() - 5'000'000;  // file systems round mtimes
  ASSERT_TRUE(WriteFileDurably(fs_, Path("b"), "12345").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, Path("a"), "").ok());
  ASSERT_TRUE(fs_->CreateDirs(Path("c/nested")).ok());
  ASSERT_TRUE(WriteFileDurably(fs_, Path("c/nested/deep"), "x").ok());
  ASSERT_TRUE(fs_->CreateExclusive(Path("c/file"), "xyz").ok());
  const int64_t after_us = NowUs() + 5'000'000;

  auto entries = fs_->ListDir(root_);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(Names(*entries), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE((*entries)[0].is_dir);
  EXPECT_EQ((*entries)[0].size_bytes, 0);
  EXPECT_EQ((*entries)[1].size_bytes, 5);
  EXPECT_TRUE((*entries)[2].is_dir);
  for (const FileInfo& entry : *entries) {
    EXPECT_GE(entry.mtime_us, before_us) << entry.name;
    EXPECT_LE(entry.mtime_us, after_us) << entry.name;
  }
  auto sub = fs_->ListDir(Path("c"));
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(Names(*sub), (std::vector<std::string>{"file", "nested"}));
  EXPECT_EQ((*sub)[0].size_bytes, 3);
  EXPECT_TRUE((*sub)[1].is_dir);
  // A trailing '/' names the same directory.
  auto slashed = fs_->ListDir(Path("c") + "/");
  ASSERT_TRUE(slashed.ok());
  EXPECT_EQ(Names(*slashed), Names(*sub));
}

TEST_P(FileSystemTest, ListDirOfEmptyDirectoryIsEmpty) {
  ASSERT_TRUE(fs_->CreateDirs(Path("empty")).ok());
  auto entries = fs_->ListDir(Path("empty"));
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST_P(FileSystemTest, MissingPathsAreNotFound) {
  const std::string missing = Path("missing");
  const Status read = fs_->ReadFile(missing).status();
  EXPECT_TRUE(read.IsNotFound()) << read;
  EXPECT_NE(read.message().find(missing), std::string::npos) << read;
  EXPECT_TRUE(fs_->MapFile(missing).status().IsNotFound());
  EXPECT_TRUE(fs_->ListDir(missing).status().IsNotFound());
  EXPECT_TRUE(fs_->Stat(missing).status().IsNotFound());
  EXPECT_TRUE(fs_->DeleteFile(missing).IsNotFound());
  EXPECT_TRUE(fs_->SyncDir(missing).IsNotFound());
  EXPECT_TRUE(fs_->ReadFile(Path("missing/deeper")).status().IsNotFound());
  auto exists = fs_->Exists(missing);
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_P(FileSystemTest, DirectoriesAreNotReadAsFiles) {
  ASSERT_TRUE(fs_->CreateDirs(Path("dir")).ok());
  EXPECT_FALSE(fs_->ReadFile(Path("dir")).ok());
  EXPECT_FALSE(fs_->MapFile(Path("dir")).ok());
  EXPECT_FALSE(fs_->DeleteFile(Path("dir")).ok());
  EXPECT_TRUE(*fs_->Exists(Path("dir")));
}

TEST_P(FileSystemTest, StatReportsKindSizeAndName) {
  ASSERT_TRUE(WriteFileDurably(fs_, Path("f"), "abc").ok());
  auto file = fs_->Stat(Path("f"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->name, "f");
  EXPECT_FALSE(file->is_dir);
  EXPECT_EQ(file->size_bytes, 3);
  EXPECT_GT(file->mtime_us, 0);
  auto dir = fs_->Stat(root_);
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(dir->is_dir);
}

TEST_P(FileSystemTest, ExistsSeesFilesAndDirectories) {
  ASSERT_TRUE(WriteFileDurably(fs_, Path("f"), "abc").ok());
  EXPECT_TRUE(*fs_->Exists(Path("f")));
  EXPECT_TRUE(*fs_->Exists(root_));
  EXPECT_FALSE(*fs_->Exists(Path("f/below_a_file")));
}

TEST_P(FileSystemTest, CreateDirsMakesParentsAndIsIdempotent) {
  ASSERT_TRUE(fs_->CreateDirs(Path("a/b/c")).ok());
  ASSERT_TRUE(fs_->CreateDirs(Path("a/b/c")).ok());
  ASSERT_TRUE(fs_->CreateDirs(Path("a/b")).ok());
  EXPECT_TRUE(fs_->Stat(Path("a/b"))->is_dir);
  EXPECT_TRUE(fs_->Stat(Path("a/b/c"))->is_dir);
  ASSERT_TRUE(WriteFileDurably(fs_, Path("a/file"), "x").ok());
  EXPECT_FALSE(fs_->CreateDirs(Path("a/file")).ok());
  EXPECT_FALSE(fs_->CreateDirs(Path("a/file/sub")).ok());
  EXPECT_EQ(*fs_->ReadFile(Path("a/file")), "x");
}

TEST_P(FileSystemTest, DeleteFileRemovesOnlyThatFile) {
  ASSERT_TRUE(WriteFileDurably(fs_, Path("f"), "abc").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, Path("g"), "abc").ok());
  ASSERT_TRUE(fs_->DeleteFile(Path("f")).ok());
  EXPECT_FALSE(*fs_->Exists(Path("f")));
  EXPECT_TRUE(*fs_->Exists(Path("g")));
  EXPECT_TRUE(fs_->DeleteFile(Path("f")).IsNotFound());
}

TEST_P(FileSystemTest, DeleteDirRecursiveRemovesEverythingBelow) {
  ASSERT_TRUE(fs_->CreateDirs(Path("t/data")).ok());
  ASSERT_TRUE(fs_->CreateDirs(Path("t/_versions")).ok());
  ASSERT_TRUE(WriteFileDurably(fs_, Path("t/data/1.arrow"), "x").ok());
  ASSERT_TRUE(fs_->CreateExclusive(Path("t/_versions/1.manifest"), "m").ok());
  ASSERT_TRUE(fs_->CreateDirs(Path("t2")).ok());  // a sibling sharing the name prefix
  ASSERT_TRUE(WriteFileDurably(fs_, Path("t2/keep"), "k").ok());

  ASSERT_TRUE(fs_->DeleteDirRecursive(Path("t")).ok());
  EXPECT_FALSE(*fs_->Exists(Path("t")));
  EXPECT_FALSE(*fs_->Exists(Path("t/data/1.arrow")));
  EXPECT_EQ(*fs_->ReadFile(Path("t2/keep")), "k");
  EXPECT_TRUE(fs_->DeleteDirRecursive(Path("t")).ok()) << "missing directory is OK";
  EXPECT_FALSE(fs_->DeleteDirRecursive(Path("t2/keep")).ok()) << "a file is not a directory";
}

TEST_P(FileSystemTest, MapFileSeesTheContents) {
  std::string contents(100'000, '\0');
  for (size_t byte_idx = 0; byte_idx < contents.size(); ++byte_idx) {
    contents[byte_idx] = static_cast<char>(byte_idx * 31);
  }
  ASSERT_TRUE(WriteFileDurably(fs_, Path("f"), contents).ok());
  auto mapped = fs_->MapFile(Path("f"));
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  ASSERT_EQ((*mapped)->size(), static_cast<int64_t>(contents.size()));
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>((*mapped)->data()), contents.size()),
            contents);
  // The mapping outlives the file's name.
  ASSERT_TRUE(fs_->DeleteFile(Path("f")).ok());
  EXPECT_EQ((*mapped)->data()[1], static_cast<uint8_t>(31));
}

TEST_P(FileSystemTest, MapFileOfEmptyFileIsEmpty) {
  ASSERT_TRUE(WriteFileDurably(fs_, Path("empty"), "").ok());
  auto mapped = fs_->MapFile(Path("empty"));
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ((*mapped)->size(), 0);
  EXPECT_NE((*mapped)->data(), nullptr);
}

TEST_P(FileSystemTest, SyncDirSucceedsOnADirectory) {
  ASSERT_TRUE(fs_->CreateDirs(Path("d")).ok());
  EXPECT_TRUE(fs_->SyncDir(Path("d")).ok());
  EXPECT_TRUE(fs_->SyncDir(root_).ok());
}

INSTANTIATE_TEST_SUITE_P(AllFileSystems, FileSystemTest,
                         ::testing::Values(FsKind::kLocal, FsKind::kMemory),
                         [](const ::testing::TestParamInfo<FsKind>& param_info) {
                           return param_info.param == FsKind::kLocal ? "Local" : "Memory";
                         });

// ---- Local disk only. ----

class LocalFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = MakeLocalTempDir(); }
  void TearDown() override { EXPECT_TRUE(fs_->DeleteDirRecursive(root_).ok()); }

  FileSystem* const fs_ = LocalFileSystem();
  std::string root_;
};

TEST_F(LocalFileSystemTest, CreateExclusiveFromForkedProcessesHasExactlyOneWinner) {
  constexpr int kChildren = 4;
  constexpr int kExitWon = 0;
  constexpr int kExitLost = 1;
  constexpr int kExitError = 2;
  for (int round = 0; round < 5; ++round) {
    const std::string path = JoinPath(root_, "v" + std::to_string(round));
    // Children block reading `go` until the parent closes its write end.
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    std::vector<pid_t> children;
    for (int child_idx = 0; child_idx < kChildren; ++child_idx) {
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::close(go[1]);
        char byte;
        while (::read(go[0], &byte, 1) < 0) {
        }
        const Status status = fs_->CreateExclusive(path, "child " + std::to_string(child_idx));
        ::_exit(status.ok() ? kExitWon : status.IsAlreadyExists() ? kExitLost : kExitError);
      }
      children.push_back(pid);
    }
    ::close(go[0]);
    ::close(go[1]);
    int winners = 0;
    int winner_idx = -1;
    for (int child_idx = 0; child_idx < kChildren; ++child_idx) {
      int wstatus = 0;
      ASSERT_EQ(::waitpid(children[child_idx], &wstatus, 0), children[child_idx]);
      ASSERT_TRUE(WIFEXITED(wstatus));
      const int code = WEXITSTATUS(wstatus);
      EXPECT_NE(code, kExitError) << "child " << child_idx;
      if (code == kExitWon) {
        ++winners;
        winner_idx = child_idx;
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    EXPECT_EQ(*fs_->ReadFile(path), "child " + std::to_string(winner_idx));
  }
  auto entries = fs_->ListDir(root_);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 5u) << "temp files left behind";
}

TEST_F(LocalFileSystemTest, FullDiskIsResourceExhausted) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  auto file = fs_->NewWritableFile("/dev/full");
  ASSERT_TRUE(file.ok()) << file.status();
  Status status = (*file)->Append("x");
  if (status.ok()) status = (*file)->Sync();
  EXPECT_TRUE(status.IsResourceExhausted()) << status;
  EXPECT_NE(status.message().find("disk full"), std::string::npos) << status;
  EXPECT_NE(status.message().find("/dev/full"), std::string::npos) << status;
  (*file)->Close().IgnoreError();
}

TEST_F(LocalFileSystemTest, ErrnoMapsToCodesAndNamesPathAndReason) {
  const Status not_found = internal::ErrnoToStatus("open", "/x/y", ENOENT);
  EXPECT_TRUE(not_found.IsNotFound());
  EXPECT_NE(not_found.message().find("/x/y"), std::string::npos);
  EXPECT_NE(not_found.message().find("No such file"), std::string::npos) << not_found;
  EXPECT_TRUE(internal::ErrnoToStatus("link", "p", EEXIST).IsAlreadyExists());
  const Status full = internal::ErrnoToStatus("write", "p", ENOSPC);
  EXPECT_TRUE(full.IsResourceExhausted());
  EXPECT_NE(full.message().find("disk full"), std::string::npos);
  EXPECT_TRUE(internal::ErrnoToStatus("write", "p", EDQUOT).IsResourceExhausted());
  EXPECT_TRUE(internal::ErrnoToStatus("read", "p", EIO).IsIOError());
}

TEST_F(LocalFileSystemTest, TempPathsAreHiddenSiblingsAndUnique) {
  const std::string first = internal::TempPathFor("/a/b/v1.manifest");
  const std::string second = internal::TempPathFor("/a/b/v1.manifest");
  EXPECT_NE(first, second);
  EXPECT_EQ(internal::DirName(first), "/a/b");
  EXPECT_EQ(internal::BaseName(first).rfind(".v1.manifest.tmp." + std::to_string(::getpid()), 0),
            0u)
      << first;
  EXPECT_EQ(internal::DirName(internal::TempPathFor("v1")), ".");
}

TEST(PathTest, JoinPathInsertsExactlyOneSeparator) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("a//", "/b"), "a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("a", ""), "a");
  EXPECT_EQ(JoinPath("a/b", "c/d"), "a/b/c/d");
}

TEST(PathTest, DirNameAndBaseNameSplitTheLastComponent) {
  EXPECT_EQ(internal::DirName("a/b/c"), "a/b");
  EXPECT_EQ(internal::DirName("c"), ".");
  EXPECT_EQ(internal::DirName("/c"), "/");
  EXPECT_EQ(internal::DirName("a/b/"), "a");
  EXPECT_EQ(internal::BaseName("a/b/c"), "c");
  EXPECT_EQ(internal::BaseName("a/b/"), "b");
  EXPECT_EQ(internal::BaseName("c"), "c");
  EXPECT_EQ(internal::BaseName("/"), "/");
}

TEST(MappedFileFromStringTest, OwnsACopyOfTheBytes) {
  std::string bytes = "abc";
  auto mapped = MappedFileFromString(bytes);
  bytes[0] = 'z';
  ASSERT_EQ(mapped->size(), 3);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(mapped->data()), 3), "abc");
  EXPECT_EQ(MappedFileFromString("")->size(), 0);
}

}  // namespace
}  // namespace tessera::io
