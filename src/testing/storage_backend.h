// Storage backends for tests that must hold on every place a table can live (DESIGN.md: the
// io/ FileSystem is the seam): the in-memory file system (single-process unit tests), a local
// directory, and an S3 bucket on the Ceph RADOS Gateway started for the tests (rgw_server.h).
// Storage-core, concurrency and crash tests are parameterized over these, not copied:
//
//   class MyTest : public test::BackendTest {};
//   TEST_P(MyTest, Something) { auto t = Table::Create(root().Path("t"), schema, ...); }
//   INSTANTIATE_TEST_SUITE_P(Backends, MyTest, test::LocalAndS3(), test::BackendParamName);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "tessera/result.h"

namespace tessera::test {

enum class Backend { kMemory, kLocal, kS3 };

/// "Memory", "Local", "S3".
std::string BackendName(Backend backend);

/// A fresh place for one test's tables: a new local temporary directory, a new prefix in the
/// test gateway's bucket (named after the test and the process, so that concurrent test
/// processes sharing one gateway never meet), or a directory of a new memory file system.
/// Everything below it is removed when it is destroyed.
class TestRoot {
 public:
  /// Errors: kNotSupported for kS3 when Ceph is not installed, kIOError when the gateway did
  /// not start (the message says why).
  static Result<TestRoot> Make(Backend backend, std::string_view name);

  TestRoot(TestRoot&& other) noexcept;
  TestRoot& operator=(TestRoot&&) = delete;
  ~TestRoot();

  Backend backend() const { return backend_; }
  /// "/tmp/.../x" or "s3://tessera/x" or "/memory/x".
  const std::string& uri() const { return uri_; }
  /// uri() + "/" + name.
  std::string Path(std::string_view name) const;
  /// A local directory for the test's own files (acknowledgement logs, reports, cache
  /// directories), whatever the backend; removed with the root.
  const std::string& local_dir() const { return local_dir_; }
  /// The file system to put into TableOptions::file_system: the memory file system for
  /// kMemory, nullptr (route by the URI) otherwise.
  io::FileSystem* file_system() const { return memory_.get(); }
  /// The file system a separate host would use, for a child process: for kS3 a new
  /// S3FileSystem configured from the environment with its own cache directory (local_dir()/
  /// "cache-" + host), so that hosts share nothing but the bucket; nullptr for kLocal (the
  /// local file system). Not for kMemory (a memory file system does not cross processes).
  Result<std::unique_ptr<io::FileSystem>> NewHostFileSystem(std::string_view host) const;

 private:
  TestRoot() = default;
  Backend backend_ = Backend::kLocal;
  std::string uri_;
  std::string local_dir_;
  std::unique_ptr<io::FileSystem> memory_;
};

}  // namespace tessera::test
