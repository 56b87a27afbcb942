#include "testing/storage_backend.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "io/s3_file_system.h"
#include "testing/rgw_server.h"

namespace tessera::test {
namespace {

// Keep the characters S3 keys and file names both take without escaping.
std::string Sanitize(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.';
    out.push_back(plain ? c : '_');
  }
  return out;
}

}  // namespace

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kMemory:
      return "Memory";
    case Backend::kLocal:
      return "Local";
    case Backend::kS3:
      return "S3";
  }
  return "?";
}

Result<TestRoot> TestRoot::Make(Backend backend, std::string_view name) {
  static std::atomic<int> counter{0};
  const std::string unique =
      Sanitize(name) + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  TestRoot root;
  root.backend_ = backend;
  std::error_code error;
  std::string pattern =
      (std::filesystem::temp_directory_path(error) / ("tessera-" + unique + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::IOError("mkdtemp ", pattern, " failed");
  root.local_dir_ = pattern;
  switch (backend) {
    case Backend::kMemory:
      root.memory_ = io::NewMemoryFileSystem();
      root.uri_ = "/memory/" + unique;
      TESSERA_RETURN_IF_ERROR(root.memory_->CreateDirs(root.uri_));
      break;
    case Backend::kLocal:
      root.uri_ = root.local_dir_ + "/store";
      std::filesystem::create_directory(root.uri_, error);
      if (error) return Status::IOError("creating ", root.uri_, ": ", error.message());
      break;
    case Backend::kS3: {
      Result<RgwEndpoint> endpoint = RgwServer::Get();  // exports AWS_*
      if (!endpoint.ok()) return endpoint.status();
      root.uri_ = "s3://tessera/tests/" + unique;
      break;
    }
  }
  return root;
}

TestRoot::TestRoot(TestRoot&& other) noexcept
    : backend_(other.backend_),
      uri_(std::move(other.uri_)),
      local_dir_(std::move(other.local_dir_)),
      memory_(std::move(other.memory_)) {
  other.uri_.clear();
  other.local_dir_.clear();
}

TestRoot::~TestRoot() {
  if (backend_ == Backend::kS3 && !uri_.empty()) {
    // Best effort: the gateway is thrown away after the run anyway.
    Result<io::FileSystem*> s3 = io::DefaultS3FileSystem();
    if (s3.ok()) (void)(*s3)->DeleteDirRecursive(uri_);
  }
  if (!local_dir_.empty()) {
    std::error_code error;
    std::filesystem::remove_all(local_dir_, error);
  }
}

std::string TestRoot::Path(std::string_view name) const { return io::JoinPath(uri_, name); }

Result<std::unique_ptr<io::FileSystem>> TestRoot::NewHostFileSystem(std::string_view host) const {
  switch (backend_) {
    case Backend::kMemory:
      return Status::InvalidArgument("a memory file system cannot be shared with another host");
    case Backend::kLocal:
      return std::unique_ptr<io::FileSystem>();
    case Backend::kS3: {
      const std::string cache_dir = local_dir_ + "/cache-" + std::string(host);
      io::S3Options options = io::S3Options::FromEnvironment();
      options.cache_dir = cache_dir;
      std::error_code error;
      std::filesystem::create_directories(cache_dir, error);
      if (error) return Status::IOError("creating ", cache_dir, ": ", error.message());
      TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<io::S3FileSystem> fs,
                               io::S3FileSystem::Create(std::move(options)));
      return std::unique_ptr<io::FileSystem>(std::move(fs));
    }
  }
  return Status::InvalidArgument("unknown backend");
}

}  // namespace tessera::test
