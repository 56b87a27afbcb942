// The POSIX FileSystem: the only code in Tessera that calls open, mmap, fsync,
// link or rename.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "io/file_system.h"
#include "io/local_file_system_internal.h"

namespace tessera::io {
namespace internal {
namespace {

// strerror_r comes in a GNU flavour (returns the message) and an XSI one (fills `buf`).
[[maybe_unused]] const char* StrErrorResult(const char* message, const char* /*buf*/) {
  return message;
}
[[maybe_unused]] const char* StrErrorResult(int rc, const char* buf) {
  return rc == 0 ? buf : "unknown error";
}

std::string ErrnoMessage(int err) {
  char buf[256] = {};
  return StrErrorResult(strerror_r(err, buf, sizeof(buf)), buf);
}

}  // namespace

Status ErrnoToStatus(std::string_view op, std::string_view path, int err) {
  const std::string reason = ErrnoMessage(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(op, " ", path, ": ", reason);
    case EEXIST:
      return Status::AlreadyExists(op, " ", path, ": ", reason);
    case ENOSPC:
    case EDQUOT:
      return Status::ResourceExhausted(op, " ", path, ": disk full (", reason, ")");
    default:
      return Status::IOError(op, " ", path, ": ", reason);
  }
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || path.size() == 1) return std::string(path);
  return std::string(path.substr(slash + 1));
}

std::string TempPathFor(std::string_view path) {
  // Constant-initialized; uniqueness within the process. The clock bits make names
  // from different processes with a recycled pid unlikely to collide, and
  // CreateExclusive retries with O_EXCL if they do.
  static std::atomic<uint64_t> counter{0};
  const uint64_t now_ns =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  uint64_t mixed = (counter.fetch_add(1) + 1) * 0x9E3779B97F4A7C15ULL ^ now_ns;
  mixed ^= mixed >> 29;
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), ".tmp.%ld.%016llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(mixed));
  return JoinPath(DirName(path), "." + BaseName(path) + suffix);
}

}  // namespace internal

namespace {

using internal::ErrnoToStatus;

constexpr size_t kWriteBufferBytes = 64 * 1024;
constexpr int kMaxTempNameAttempts = 100;

int64_t MtimeUs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
}

FileInfo InfoFromStat(std::string name, const struct stat& st) {
  FileInfo info;
  info.name = std::move(name);
  info.is_dir = S_ISDIR(st.st_mode);
  info.size_bytes = info.is_dir ? 0 : static_cast<int64_t>(st.st_size);
  info.mtime_us = MtimeUs(st);
  return info;
}

// Write all of `bytes` to `fd`, retrying short writes and EINTR.
Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus("write", path, errno);
    }
    if (written == 0) return Status::IOError("write ", path, ": wrote 0 bytes");
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return Status::OK();
}

Status Fsync(int fd, const std::string& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return ErrnoToStatus("fsync", path, errno);
  }
  return Status::OK();
}

// Close `fd`. EINTR is not an error: on Linux the descriptor is released anyway.
Status CloseFd(int fd, const std::string& path) {
  if (::close(fd) != 0 && errno != EINTR) return ErrnoToStatus("close", path, errno);
  return Status::OK();
}

Result<int> OpenFd(const std::string& path, int flags, mode_t mode = 0) {
  while (true) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EINTR) return ErrnoToStatus("open", path, errno);
  }
}

// Closes a DIR* on scope exit.
class DirCloser {
 public:
  explicit DirCloser(DIR* dir) : dir_(dir) {}
  ~DirCloser() { ::closedir(dir_); }
  DirCloser(const DirCloser&) = delete;
  DirCloser& operator=(const DirCloser&) = delete;

 private:
  DIR* dir_;
};

// A WritableFile over a file descriptor with a 64 KiB write buffer. Not thread-safe.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) {
      // Best effort for a file dropped without Close(); errors were the caller's to check.
      FlushBuffer().IgnoreError();
      ::close(fd_);
    }
  }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status Append(std::string_view bytes) override {
    TESSERA_RETURN_IF_ERROR(CheckOpen());
    if (buffer_.size() + bytes.size() <= kWriteBufferBytes) {
      buffer_.append(bytes);
      return Status::OK();
    }
    TESSERA_RETURN_IF_ERROR(FlushBuffer());
    if (bytes.size() < kWriteBufferBytes) {
      buffer_.append(bytes);
      return Status::OK();
    }
    return WriteAll(fd_, bytes, path_);
  }

  Status Sync() override {
    TESSERA_RETURN_IF_ERROR(CheckOpen());
    TESSERA_RETURN_IF_ERROR(FlushBuffer());
    return Fsync(fd_, path_);
  }

  Status Close() override {
    TESSERA_RETURN_IF_ERROR(CheckOpen());
    Status status = FlushBuffer();
    Status closed = CloseFd(fd_, path_);
    fd_ = -1;
    if (status.ok()) status = std::move(closed);
    return status;
  }

 private:
  Status CheckOpen() const {
    if (fd_ < 0) return Status::IOError("write ", path_, ": file is closed");
    return Status::OK();
  }

  // Write the buffered bytes. The buffer is emptied even on error: after a failed
  // write the file's contents are unknown and the caller must abandon it.
  Status FlushBuffer() {
    Status status = WriteAll(fd_, buffer_, path_);
    buffer_.clear();
    return status;
  }

  const std::string path_;
  int fd_;
  std::string buffer_;
};

// A read-only shared mapping of a whole file, unmapped on destruction.
class PosixMappedFile final : public MappedFile {
 public:
  PosixMappedFile(void* base, int64_t size) : base_(base), size_(size) {}
  ~PosixMappedFile() override {
    if (base_ != nullptr) ::munmap(base_, static_cast<size_t>(size_));
  }
  PosixMappedFile(const PosixMappedFile&) = delete;
  PosixMappedFile& operator=(const PosixMappedFile&) = delete;

  const uint8_t* data() const override {
    // An empty file has no mapping; hand out a valid pointer anyway so that
    // memcmp/memcpy of zero bytes stay well-defined.
    static constexpr uint8_t kEmpty[1] = {0};
    return base_ != nullptr ? static_cast<const uint8_t*>(base_) : kEmpty;
  }
  int64_t size() const override { return size_; }

 private:
  void* const base_;  // nullptr for an empty file
  const int64_t size_;
};

// Link `tmp` to `path` without replacing an existing `path`.
Status LinkNoReplace(const std::string& tmp, const std::string& path) {
  if (::link(tmp.c_str(), path.c_str()) == 0) return Status::OK();
  int err = errno;
  if (err == EPERM || err == EOPNOTSUPP || err == ENOSYS) {
    // File systems without hard links (vfat, some FUSE mounts).
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
      return Status::OK();
    }
    err = errno;
  }
  if (err == EEXIST) return Status::AlreadyExists(path, " already exists");
  return ErrnoToStatus("link", path, err);
}

// Delete `path` and everything below it, not following symbolic links. Entries
// that vanish concurrently are not errors.
Status RemoveTree(const std::string& path) {
  {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
      if (errno == ENOENT) return Status::OK();
      return ErrnoToStatus("opendir", path, errno);
    }
    DirCloser closer(dir);
    while (true) {
      errno = 0;
      const dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) return ErrnoToStatus("readdir", path, errno);
        break;
      }
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = JoinPath(path, name);
      struct stat st;
      if (::lstat(child.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;
        return ErrnoToStatus("lstat", child, errno);
      }
      if (S_ISDIR(st.st_mode)) {
        TESSERA_RETURN_IF_ERROR(RemoveTree(child));
      } else if (::unlink(child.c_str()) != 0 && errno != ENOENT) {
        return ErrnoToStatus("unlink", child, errno);
      }
    }
  }
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoToStatus("rmdir", path, errno);
  return Status::OK();
}

// The FileSystem over the local disk. Stateless, hence thread-safe.
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    TESSERA_ASSIGN_OR_RETURN(const int fd, OpenFd(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    return std::make_unique<PosixWritableFile>(path, fd);
  }

  Status CreateExclusive(const std::string& path, std::string_view contents) override {
    return CreateExclusiveImpl(path, contents).WithContext("create exclusive ", path);
  }

  Result<std::string> ReadFile(const std::string& path) override {
    TESSERA_ASSIGN_OR_RETURN(const int fd, OpenFd(path, O_RDONLY));
    Result<std::string> contents = ReadAll(fd, path);
    Status closed = CloseFd(fd, path);
    if (contents.ok() && !closed.ok()) return closed;
    return contents;
  }

  Result<std::shared_ptr<const MappedFile>> MapFile(const std::string& path) override {
    TESSERA_ASSIGN_OR_RETURN(const int fd, OpenFd(path, O_RDONLY));
    Result<std::shared_ptr<const MappedFile>> mapped = MapFd(fd, path);
    // The mapping stays valid after its descriptor is closed.
    Status closed = CloseFd(fd, path);
    if (mapped.ok() && !closed.ok()) return closed;
    return mapped;
  }

  Result<std::vector<FileInfo>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoToStatus("list directory", path, errno);
    DirCloser closer(dir);
    std::vector<FileInfo> entries;
    while (true) {
      errno = 0;
      const dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) return ErrnoToStatus("list directory", path, errno);
        break;
      }
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      struct stat st;
      if (::fstatat(::dirfd(dir), name.c_str(), &st, 0) != 0) {
        if (errno == ENOENT) continue;  // deleted since readdir, or a dangling symlink
        return ErrnoToStatus("stat", JoinPath(path, name), errno);
      }
      entries.push_back(InfoFromStat(std::move(name), st));
    }
    std::sort(entries.begin(), entries.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    return entries;
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoToStatus("stat", path, errno);
    return InfoFromStat(internal::BaseName(path), st);
  }

  Result<bool> Exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return ErrnoToStatus("stat", path, errno);
  }

  Status CreateDirs(const std::string& path) override {
    std::string_view trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.remove_suffix(1);
    if (trimmed.empty()) return Status::OK();
    // Create each prefix ending before a '/', then the whole path.
    for (size_t end = trimmed.find('/', 1);; end = trimmed.find('/', end + 1)) {
      const std::string prefix(trimmed.substr(0, end));
      TESSERA_RETURN_IF_ERROR(MakeDir(prefix));
      if (end == std::string_view::npos) break;
    }
    return Status::OK();
  }

  Status DeleteFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoToStatus("delete", path, errno);
    return Status::OK();
  }

  Status DeleteDirRecursive(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::OK();
      return ErrnoToStatus("delete directory", path, errno);
    }
    if (!S_ISDIR(st.st_mode))
      return Status::IOError("delete directory ", path, ": not a directory");
    return RemoveTree(path);
  }

  Status SyncDir(const std::string& path) override {
    TESSERA_ASSIGN_OR_RETURN(const int fd, OpenFd(path, O_RDONLY | O_DIRECTORY));
    Status status = Fsync(fd, path);
    Status closed = CloseFd(fd, path);
    if (status.ok()) status = std::move(closed);
    return status;
  }

 private:
  static Status MakeDir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::OK();
    const int err = errno;
    if (err != EEXIST) return ErrnoToStatus("mkdir", path, err);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoToStatus("stat", path, errno);
    if (!S_ISDIR(st.st_mode)) return Status::IOError("mkdir ", path, ": not a directory");
    return Status::OK();
  }

  static Result<std::string> ReadAll(int fd, const std::string& path) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoToStatus("stat", path, errno);
    if (S_ISDIR(st.st_mode)) return Status::IOError("read ", path, ": is a directory");
    std::string contents;
    contents.reserve(static_cast<size_t>(st.st_size));
    // Read until EOF rather than trusting st_size: the file may still be growing.
    char buf[64 * 1024];
    while (true) {
      const ssize_t got = ::read(fd, buf, sizeof(buf));
      if (got < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus("read", path, errno);
      }
      if (got == 0) break;
      contents.append(buf, static_cast<size_t>(got));
    }
    return contents;
  }

  static Result<std::shared_ptr<const MappedFile>> MapFd(int fd, const std::string& path) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoToStatus("stat", path, errno);
    if (S_ISDIR(st.st_mode)) return Status::IOError("map ", path, ": is a directory");
    const int64_t size = static_cast<int64_t>(st.st_size);
    if (size == 0) return std::make_shared<const PosixMappedFile>(nullptr, 0);
    void* base = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return ErrnoToStatus("mmap", path, errno);
    // Shared because every Buffer sliced out of the mapping keeps it alive.
    return std::make_shared<const PosixMappedFile>(base, size);
  }

  static Status CreateExclusiveImpl(const std::string& path, std::string_view contents) {
    std::string tmp;
    int fd = -1;
    for (int attempt = 1; fd < 0; ++attempt) {
      tmp = internal::TempPathFor(path);
      Result<int> opened = OpenFd(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (opened.ok()) {
        fd = *opened;
      } else if (!opened.status().IsAlreadyExists() || attempt == kMaxTempNameAttempts) {
        return opened.status();
      }
    }
    Status status = WriteAll(fd, contents, tmp);
    if (status.ok()) status = Fsync(fd, tmp);
    Status closed = CloseFd(fd, tmp);
    if (status.ok()) status = std::move(closed);
    if (status.ok()) status = LinkNoReplace(tmp, path);
    // After link() the temp name is a second name of the file; after the renameat2
    // fallback it is gone already. Either way nothing may be left behind.
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT && status.ok()) {
      status = ErrnoToStatus("unlink", tmp, errno);
    }
    TESSERA_RETURN_IF_ERROR(status);
    // Make the new name durable: this is the commit point of a version.
    const std::string dir = internal::DirName(path);
    TESSERA_ASSIGN_OR_RETURN(const int dir_fd, OpenFd(dir, O_RDONLY | O_DIRECTORY));
    status = Fsync(dir_fd, dir);
    closed = CloseFd(dir_fd, dir);
    if (status.ok()) status = std::move(closed);
    return status;
  }
};

}  // namespace

FileSystem* LocalFileSystem() {
  // The one process-wide singleton (STYLE.md); trivially destructible state.
  static PosixFileSystem file_system;
  return &file_system;
}

}  // namespace tessera::io
