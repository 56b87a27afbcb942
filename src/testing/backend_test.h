// BackendTest: a gtest fixture parameterized over storage backends (storage_backend.h). Each
// test gets a fresh TestRoot; the S3 backend is skipped where Ceph is not installed, except
// under CI (CI set), where a missing or broken gateway fails the test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "tessera/table.h"
#include "testing/storage_backend.h"

namespace tessera::test {

class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    Result<TestRoot> root = TestRoot::Make(GetParam(), info->name());
    if (!root.ok()) {
      if (std::getenv("CI") == nullptr && root.status().IsNotSupported()) {
        GTEST_SKIP() << root.status();
      }
      FAIL() << root.status();
    }
    root_.emplace(std::move(*root));
  }

  const TestRoot& root() const { return *root_; }

 private:
  std::optional<TestRoot> root_;
};

/// For a child process acting as another host: TableOptions with that host's own file system
/// (TestRoot::NewHostFileSystem; kept until the process exits). A child that cannot make one
/// exits with status 90, naming the reason on stderr.
inline TableOptions HostOptions(const TestRoot& root, std::string_view host) {
  static auto* keep = new std::vector<std::unique_ptr<io::FileSystem>>();
  Result<std::unique_ptr<io::FileSystem>> fs = root.NewHostFileSystem(host);
  if (!fs.ok()) {
    std::fprintf(stderr, "host %.*s: %s\n", static_cast<int>(host.size()), host.data(),
                 fs.status().ToString().c_str());
    _exit(90);
  }
  TableOptions options;
  options.file_system = fs->get();
  keep->push_back(std::move(*fs));
  return options;
}

inline auto LocalAndS3() { return ::testing::Values(Backend::kLocal, Backend::kS3); }
inline auto AllBackends() {
  return ::testing::Values(Backend::kMemory, Backend::kLocal, Backend::kS3);
}
inline std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}

}  // namespace tessera::test
