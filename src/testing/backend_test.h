// BackendTest: a gtest fixture parameterized over storage backends (storage_backend.h). Each
// test gets a fresh TestRoot; the S3 backend is skipped where Ceph is not installed, except
// under CI (CI set), where a missing or broken gateway fails the test.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

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

inline auto LocalAndS3() { return ::testing::Values(Backend::kLocal, Backend::kS3); }
inline auto AllBackends() {
  return ::testing::Values(Backend::kMemory, Backend::kLocal, Backend::kS3);
}
inline std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}

}  // namespace tessera::test
