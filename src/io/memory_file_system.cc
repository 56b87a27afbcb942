// The in-memory FileSystem. Directories are explicit, as on disk: a file can only
// be created in an existing directory, so tests on memory catch a forgotten
// CreateDirs that would fail on disk.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "io/file_system.h"

namespace tessera::io {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Return `path` without empty or "." components and with ".." resolved, joined by
// '/' with no leading or trailing '/'. The root is "". "/a//b/" and "a/b" are the same.
std::string Normalize(std::string_view path) {
  std::string out;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      const size_t last = out.rfind('/');
      out.resize(last == std::string::npos ? 0 : last);
      continue;
    }
    if (!out.empty()) out.push_back('/');
    out.append(part);
  }
  return out;
}

// Return the parent of a normalized path ("" for a top-level entry).
std::string Parent(const std::string& normalized) {
  const size_t slash = normalized.rfind('/');
  return slash == std::string::npos ? std::string() : normalized.substr(0, slash);
}

// Return the last component of a normalized path.
std::string Leaf(const std::string& normalized) {
  const size_t slash = normalized.rfind('/');
  return slash == std::string::npos ? normalized : normalized.substr(slash + 1);
}

// Return the key prefix shared by every entry below directory `normalized`.
std::string ChildPrefix(const std::string& normalized) {
  return normalized.empty() ? std::string() : normalized + "/";
}

// The bytes of one file. Thread-safe.
class MemoryFile {
 public:
  MemoryFile() : mtime_us_(NowUs()) {}
  explicit MemoryFile(std::string_view contents) : data_(contents), mtime_us_(NowUs()) {}

  void Append(std::string_view bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    data_.append(bytes);
    mtime_us_ = NowUs();
  }
  void Truncate() {
    std::lock_guard<std::mutex> lock(mu_);
    data_.clear();
    mtime_us_ = NowUs();
  }
  std::string Contents() const {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }
  FileInfo Info(std::string name) const {
    std::lock_guard<std::mutex> lock(mu_);
    FileInfo info;
    info.name = std::move(name);
    info.size_bytes = static_cast<int64_t>(data_.size());
    info.mtime_us = mtime_us_;
    return info;
  }

 private:
  mutable std::mutex mu_;
  std::string data_;  // GUARDED_BY(mu_)
  int64_t mtime_us_;  // GUARDED_BY(mu_)
};

// A handle appending to a MemoryFile. Not thread-safe (as every WritableFile).
class MemoryWritableFile final : public WritableFile {
 public:
  MemoryWritableFile(std::string path, std::shared_ptr<MemoryFile> file)
      : path_(std::move(path)), file_(std::move(file)) {}

  Status Append(std::string_view bytes) override {
    TESSERA_RETURN_IF_ERROR(CheckOpen());
    file_->Append(bytes);
    return Status::OK();
  }
  Status Sync() override { return CheckOpen(); }
  Status Close() override {
    TESSERA_RETURN_IF_ERROR(CheckOpen());
    file_.reset();
    return Status::OK();
  }

 private:
  Status CheckOpen() const {
    if (file_ == nullptr) return Status::IOError("write ", path_, ": file is closed");
    return Status::OK();
  }

  const std::string path_;
  // Shared because, as with a POSIX inode, an open handle keeps writing to the
  // file's bytes even after the file was deleted from the FileSystem.
  std::shared_ptr<MemoryFile> file_;
};

// Thread-safe: one mutex guards the namespace; each file guards its own bytes.
class MemoryFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    TESSERA_RETURN_IF_ERROR(CheckCanCreate("open", path, key));
    auto it = files_.find(key);
    if (it != files_.end()) {
      // Truncate in place, like O_TRUNC: other open handles see the same file.
      it->second->Truncate();
    } else {
      it = files_.emplace(key, std::make_shared<MemoryFile>()).first;
    }
    return std::make_unique<MemoryWritableFile>(path, it->second);
  }

  Status CreateExclusive(const std::string& path, std::string_view contents) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    if (key.empty() || files_.count(key) != 0 || dirs_.count(key) != 0) {
      return Status::AlreadyExists("create exclusive ", path, ": already exists");
    }
    TESSERA_RETURN_IF_ERROR(CheckCanCreate("create exclusive", path, key));
    files_.emplace(key, std::make_shared<MemoryFile>(contents));
    return Status::OK();
  }

  Result<std::string> ReadFile(const std::string& path) override {
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<MemoryFile> file, FindFile("read", path));
    return file->Contents();
  }

  Result<std::shared_ptr<const MappedFile>> MapFile(const std::string& path) override {
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<MemoryFile> file, FindFile("map", path));
    return MappedFileFromString(file->Contents());
  }

  Result<std::vector<FileInfo>> ListDir(const std::string& path) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    TESSERA_RETURN_IF_ERROR(CheckIsDir("list directory", path, key));
    const std::string prefix = ChildPrefix(key);
    // Keys below `key` are contiguous; only direct children have no further '/'.
    std::map<std::string, FileInfo> children;
    for (auto it = dirs_.lower_bound(prefix);
         it != dirs_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      std::string name = it->first.substr(prefix.size());
      if (name.find('/') != std::string::npos) continue;
      children.emplace(name, DirInfo(name, it->second));
    }
    for (auto it = files_.lower_bound(prefix);
         it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      std::string name = it->first.substr(prefix.size());
      if (name.find('/') != std::string::npos) continue;
      children.emplace(name, it->second->Info(name));
    }
    std::vector<FileInfo> entries;
    entries.reserve(children.size());
    for (auto& [name, info] : children) entries.push_back(std::move(info));
    return entries;
  }

  Result<FileInfo> Stat(const std::string& path) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    if (key.empty()) return DirInfo("", root_mtime_us_);
    if (auto dir = dirs_.find(key); dir != dirs_.end()) return DirInfo(Leaf(key), dir->second);
    if (auto file = files_.find(key); file != files_.end()) return file->second->Info(Leaf(key));
    return Status::NotFound("stat ", path, ": no such file or directory");
  }

  Result<bool> Exists(const std::string& path) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    return key.empty() || dirs_.count(key) != 0 || files_.count(key) != 0;
  }

  Status CreateDirs(const std::string& path) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    // Check every prefix first so that a failure creates nothing.
    for (size_t end = key.find('/');; end = key.find('/', end + 1)) {
      const std::string prefix = key.substr(0, end);
      if (files_.count(prefix) != 0) {
        return Status::IOError("mkdir ", path, ": ", prefix, " is not a directory");
      }
      if (end == std::string::npos) break;
    }
    if (key.empty()) return Status::OK();
    const int64_t now_us = NowUs();
    for (size_t end = key.find('/');; end = key.find('/', end + 1)) {
      dirs_.emplace(key.substr(0, end), now_us);
      if (end == std::string::npos) break;
    }
    return Status::OK();
  }

  Status DeleteFile(const std::string& path) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    if (key.empty() || dirs_.count(key) != 0) {
      return Status::IOError("delete ", path, ": is a directory");
    }
    if (files_.erase(key) == 0) return Status::NotFound("delete ", path, ": no such file");
    return Status::OK();
  }

  Status DeleteDirRecursive(const std::string& path) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.count(key) != 0) {
      return Status::IOError("delete directory ", path, ": not a directory");
    }
    if (!key.empty() && dirs_.erase(key) == 0) return Status::OK();
    const std::string prefix = ChildPrefix(key);
    EraseWithPrefix(prefix, &dirs_);
    EraseWithPrefix(prefix, &files_);
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    return CheckIsDir("sync directory", path, key);
  }

 private:
  static FileInfo DirInfo(std::string name, int64_t mtime_us) {
    FileInfo info;
    info.name = std::move(name);
    info.is_dir = true;
    info.mtime_us = mtime_us;
    return info;
  }

  template <typename Map>
  static void EraseWithPrefix(const std::string& prefix, Map* map) {
    auto first = map->lower_bound(prefix);
    auto last = first;
    while (last != map->end() && last->first.compare(0, prefix.size(), prefix) == 0) ++last;
    map->erase(first, last);
  }

  // REQUIRES: mu_ held.
  Status CheckIsDir(std::string_view op, const std::string& path, const std::string& key) const {
    if (key.empty() || dirs_.count(key) != 0) return Status::OK();
    if (files_.count(key) != 0) return Status::IOError(op, " ", path, ": not a directory");
    return Status::NotFound(op, " ", path, ": no such directory");
  }

  // Check that a file may be created or truncated at `key`. REQUIRES: mu_ held.
  Status CheckCanCreate(std::string_view op, const std::string& path,
                        const std::string& key) const {
    if (key.empty() || dirs_.count(key) != 0) {
      return Status::IOError(op, " ", path, ": is a directory");
    }
    const std::string parent = Parent(key);
    if (!parent.empty() && dirs_.count(parent) == 0) {
      if (files_.count(parent) != 0) {
        return Status::NotFound(op, " ", path, ": ", parent, " is not a directory");
      }
      return Status::NotFound(op, " ", path, ": no such directory ", parent);
    }
    return Status::OK();
  }

  Result<std::shared_ptr<MemoryFile>> FindFile(std::string_view op, const std::string& path) {
    const std::string key = Normalize(path);
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = files_.find(key); it != files_.end()) return it->second;
    if (key.empty() || dirs_.count(key) != 0) {
      return Status::IOError(op, " ", path, ": is a directory");
    }
    return Status::NotFound(op, " ", path, ": no such file");
  }

  std::mutex mu_;
  const int64_t root_mtime_us_ = NowUs();
  std::map<std::string, int64_t> dirs_;                       // GUARDED_BY(mu_); -> mtime_us
  std::map<std::string, std::shared_ptr<MemoryFile>> files_;  // GUARDED_BY(mu_)
};

}  // namespace

std::unique_ptr<FileSystem> NewMemoryFileSystem() { return std::make_unique<MemoryFileSystem>(); }

}  // namespace tessera::io
