// S3FileSystem against a real S3 server: Ceph's RADOS Gateway, started by the test itself
// (scripts/rgw.sh via test::RgwServer). Skipped where Ceph is not installed, except under CI,
// where that is a failure.
#include "io/s3_file_system.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "testing/rgw_server.h"

namespace tessera::io {
namespace {

class S3FileSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<test::RgwEndpoint> server = test::RgwServer::Get();
    if (!server.ok()) {
      skip_reason_ = new std::string(server.status().ToString());
      return;
    }
    S3Options options;
    options.endpoint = server->endpoint;
    options.access_key_id = server->access_key_id;
    options.secret_access_key = server->secret_access_key;
    options.region = server->region;
    options.multipart_threshold = 5 << 20;  // the S3 minimum part size
    options.ranged_get_bytes = 1 << 20;
    fs_ = S3FileSystem::Create(options).value().release();
    const Status bucket = fs_->CreateBucket("s3://fs-test");
    ASSERT_TRUE(bucket.ok()) << bucket;
  }

  void SetUp() override {
    if (skip_reason_ != nullptr) {
      if (std::getenv("CI") != nullptr && test::RgwServer::Installed()) {
        FAIL() << *skip_reason_;
      }
      if (std::getenv("CI") != nullptr)
        FAIL() << "Ceph is not installed under CI: " << *skip_reason_;
      GTEST_SKIP() << *skip_reason_;
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::string("s3://fs-test/") + info->name();
  }

  std::string Path(const std::string& relative) const { return JoinPath(root_, relative); }

  static inline S3FileSystem* fs_ = nullptr;
  static inline std::string* skip_reason_ = nullptr;
  std::string root_;
};

TEST_F(S3FileSystemTest, WriteReadStatListDelete) {
  auto file = fs_->NewWritableFile(Path("dir/a.txt")).value();
  ASSERT_TRUE(file->Append("hello ").ok());
  ASSERT_TRUE(file->Append("world").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(fs_->ReadFile(Path("dir/a.txt")).value(), "hello world");
  auto mapped = fs_->MapFile(Path("dir/a.txt")).value();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(mapped->data()), mapped->size()),
            "hello world");
  const FileInfo info = fs_->Stat(Path("dir/a.txt")).value();
  EXPECT_EQ(info.size_bytes, 11);
  EXPECT_FALSE(info.is_dir);
  EXPECT_GT(info.mtime_us, 0);
  ASSERT_TRUE(fs_->NewWritableFile(Path("dir/sub/b")).value()->Close().ok());  // empty object
  EXPECT_EQ(fs_->ReadFile(Path("dir/sub/b")).value(), "");
  EXPECT_TRUE(fs_->Stat(Path("dir/sub")).value().is_dir);
  EXPECT_TRUE(fs_->Exists(Path("dir")).value());
  EXPECT_FALSE(fs_->Exists(Path("nope")).value());
  EXPECT_TRUE(fs_->ReadFile(Path("nope")).status().IsNotFound());
  EXPECT_TRUE(fs_->ListDir(Path("nope")).status().IsNotFound());

  const std::vector<FileInfo> listing = fs_->ListDir(Path("dir")).value();
  ASSERT_EQ(listing.size(), 2u);
  EXPECT_EQ(listing[0].name, "a.txt");
  EXPECT_EQ(listing[0].size_bytes, 11);
  EXPECT_EQ(listing[1].name, "sub");
  EXPECT_TRUE(listing[1].is_dir);

  ASSERT_TRUE(fs_->DeleteFile(Path("dir/a.txt")).ok());
  EXPECT_FALSE(fs_->Exists(Path("dir/a.txt")).value());
  ASSERT_TRUE(fs_->DeleteDirRecursive(Path("dir")).ok());
  EXPECT_FALSE(fs_->Exists(Path("dir")).value());
}

TEST_F(S3FileSystemTest, ListingPagesThroughManyKeysAndEscapesNames) {
  // More than one page (1,000 keys) and names that need URI encoding.
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < 1100; i += 8) {
        const std::string name = "many/" + std::to_string(i) + (i % 50 == 0 ? " +%&=.x" : "");
        ASSERT_TRUE(fs_->PutObject(Path(name), std::to_string(i)).ok());
      }
    });
  }
  for (auto& w : writers) w.join();
  const std::vector<FileInfo> listing = fs_->ListDir(Path("many")).value();
  EXPECT_EQ(listing.size(), 1100u);
  EXPECT_EQ(fs_->ReadFile(Path("many/50 +%&=.x")).value(), "50");
}

TEST_F(S3FileSystemTest, CreateExclusiveIsTheCommitPoint) {
  ASSERT_TRUE(fs_->CreateExclusive(Path("_versions/1.manifest"), "one").ok());
  const Status again = fs_->CreateExclusive(Path("_versions/1.manifest"), "other");
  EXPECT_TRUE(again.IsAlreadyExists()) << again;
  EXPECT_EQ(fs_->ReadFile(Path("_versions/1.manifest")).value(), "one");

  // 16 racing writers of the same new version: exactly one wins.
  std::atomic<int> won{0};
  std::atomic<int> lost{0};
  std::vector<std::thread> racers;
  for (int t = 0; t < 16; ++t) {
    racers.emplace_back([&, t] {
      const Status st =
          fs_->CreateExclusive(Path("_versions/2.manifest"), "writer " + std::to_string(t));
      if (st.ok()) {
        ++won;
      } else if (st.IsAlreadyExists()) {
        ++lost;
      } else {
        ADD_FAILURE() << st;
      }
    });
  }
  for (auto& r : racers) r.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 15);
}

TEST_F(S3FileSystemTest, LargeObjectsGoMultipartAndComeBackByRanges) {
  std::string big(12 << 20, '\0');  // 12 MiB: three parts of 5 MiB, read as 12 ranged GETs
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) >> 7);
  const S3Counters before = fs_->counters();
  ASSERT_TRUE(fs_->PutObject(Path("big.bin"), big).ok());
  const S3Counters after_put = fs_->counters();
  EXPECT_EQ(after_put.put - before.put, 5);  // initiate, 3 parts, complete
  EXPECT_EQ(fs_->ReadFile(Path("big.bin")).value(), big);
  EXPECT_EQ(fs_->counters().get - after_put.get, 12);
  EXPECT_EQ(fs_->Stat(Path("big.bin")).value().size_bytes, static_cast<int64_t>(big.size()));
}

TEST_F(S3FileSystemTest, WrongCredentialsAreAClearError) {
  S3Options options = fs_->options();
  options.secret_access_key = "wrong";
  options.max_attempts = 1;
  auto bad = S3FileSystem::Create(options).value();
  const Status st = bad->PutObject(Path("x"), "y");
  EXPECT_TRUE(st.IsIOError()) << st;
  EXPECT_NE(st.ToString().find("403"), std::string::npos) << st;
  options.access_key_id.clear();
  EXPECT_TRUE(S3FileSystem::Create(options).status().IsInvalidArgument());
}

TEST_F(S3FileSystemTest, CacheServesImmutableObjectsWithoutRequests) {
  const std::string cache_dir =
      (std::filesystem::temp_directory_path() / ("tessera-s3-cache-" + std::to_string(getpid())))
          .string();
  S3Options options = fs_->options();
  options.cache_dir = cache_dir;
  options.cache_bytes = 1 << 20;
  auto cached = S3FileSystem::Create(options).value();
  ASSERT_TRUE(cached->PutObject(Path("t/data/frag.arrow"), "fragment bytes").ok());
  ASSERT_TRUE(cached->PutObject(Path("t/_maintenance/lease"), "v1").ok());
  // A table whose root lies under a prefix named "data": its lease is still mutable.
  ASSERT_TRUE(cached->PutObject(Path("data/t2/_maintenance/lease"), "v1").ok());
  EXPECT_EQ(cached->ReadFile(Path("data/t2/_maintenance/lease")).value(), "v1");
  ASSERT_TRUE(cached->PutObject(Path("data/t2/_maintenance/lease"), "v2").ok());
  EXPECT_EQ(cached->ReadFile(Path("data/t2/_maintenance/lease")).value(), "v2");
  EXPECT_EQ(cached->ReadFile(Path("t/data/frag.arrow")).value(), "fragment bytes");
  const S3Counters warm = cached->counters();
  EXPECT_EQ(cached->ReadFile(Path("t/data/frag.arrow")).value(), "fragment bytes");
  EXPECT_EQ(cached->counters().get, warm.get);  // served from the cache
  EXPECT_EQ(cached->counters().cache_hits, warm.cache_hits + 1);
  // A mutable object is never cached.
  EXPECT_EQ(cached->ReadFile(Path("t/_maintenance/lease")).value(), "v1");
  ASSERT_TRUE(cached->PutObject(Path("t/_maintenance/lease"), "v2").ok());
  EXPECT_EQ(cached->ReadFile(Path("t/_maintenance/lease")).value(), "v2");
  // The cache stays within its size: 40 objects of 100 KB into 1 MB.
  for (int i = 0; i < 40; ++i) {
    const std::string path = Path("t/data/f" + std::to_string(i));
    ASSERT_TRUE(cached->PutObject(path, std::string(100000, 'x')).ok());
    ASSERT_TRUE(cached->ReadFile(path).ok());
  }
  int64_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cache_dir)) {
    bytes += static_cast<int64_t>(entry.file_size());
  }
  EXPECT_LE(bytes, 1 << 20);
  std::filesystem::remove_all(cache_dir);
}

}  // namespace
}  // namespace tessera::io
