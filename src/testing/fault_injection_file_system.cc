#include "testing/fault_injection_file_system.h"

#include <utility>

namespace tessera::test {
namespace {

// Return `path` with repeated and trailing '/' removed, the key of tracked_.
std::string TrackingKey(std::string_view path) {
  std::string key;
  key.reserve(path.size());
  for (const char c : path) {
    if (c == '/' && !key.empty() && key.back() == '/') continue;
    key.push_back(c);
  }
  while (key.size() > 1 && key.back() == '/') key.pop_back();
  return key;
}

}  // namespace

// Forwards to the base file and reports appends and syncs to the FileSystem.
class FaultInjectionWritableFile final : public io::WritableFile {
 public:
  FaultInjectionWritableFile(FaultInjectionFileSystem* fs, std::string path, int64_t generation,
                             int64_t epoch, std::unique_ptr<io::WritableFile> base)
      : fs_(fs),
        path_(std::move(path)),
        key_(TrackingKey(path_)),
        generation_(generation),
        epoch_(epoch),
        base_(std::move(base)) {}

  Status Append(std::string_view bytes) override {
    TESSERA_RETURN_IF_ERROR(fs_->BeforeMutation("Append", path_, /*writes_bytes=*/true));
    TESSERA_RETURN_IF_ERROR(fs_->CheckEpoch(epoch_, path_));
    TESSERA_RETURN_IF_ERROR(base_->Append(bytes));
    fs_->OnAppend(key_, generation_, static_cast<int64_t>(bytes.size()));
    return Status::OK();
  }

  Status Sync() override {
    TESSERA_RETURN_IF_ERROR(fs_->BeforeMutation("Sync", path_, /*writes_bytes=*/false));
    TESSERA_RETURN_IF_ERROR(fs_->CheckEpoch(epoch_, path_));
    TESSERA_RETURN_IF_ERROR(base_->Sync());
    fs_->OnSync(key_, generation_);
    return Status::OK();
  }

  Status Close() override {
    TESSERA_RETURN_IF_ERROR(fs_->BeforeMutation("Close", path_, /*writes_bytes=*/false));
    TESSERA_RETURN_IF_ERROR(fs_->CheckEpoch(epoch_, path_));
    return base_->Close();
  }

 private:
  FaultInjectionFileSystem* const fs_;
  const std::string path_;
  const std::string key_;
  const int64_t generation_;
  const int64_t epoch_;
  const std::unique_ptr<io::WritableFile> base_;
};

FaultInjectionFileSystem::FaultInjectionFileSystem(io::FileSystem* base) : base_(base) {}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::FailNthMutation(int64_t n, StatusCode code) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_mutation_ = mutation_count_ + n;
  fail_code_ = code;
}

void FaultInjectionFileSystem::SetDiskFull(bool disk_full) {
  std::lock_guard<std::mutex> lock(mu_);
  disk_full_ = disk_full;
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_mutation_ = 0;
  fail_code_ = StatusCode::kOk;
  disk_full_ = false;
}

int64_t FaultInjectionFileSystem::mutation_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mutation_count_;
}

Status FaultInjectionFileSystem::BeforeMutation(std::string_view op, std::string_view path,
                                                bool writes_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  ++mutation_count_;
  if (mutation_count_ == fail_at_mutation_) {
    fail_at_mutation_ = 0;
    return Status(fail_code_, internal::StrCat("injected fault in mutation #", mutation_count_,
                                               ": ", op, " ", path));
  }
  if (writes_bytes && disk_full_) {
    return Status::ResourceExhausted(op, " ", path, ": disk full (injected)");
  }
  return Status::OK();
}

Status FaultInjectionFileSystem::CheckEpoch(int64_t epoch, std::string_view path) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch != epoch_) {
    return Status::IOError("write ", path, ": file was opened before a simulated crash");
  }
  return Status::OK();
}

void FaultInjectionFileSystem::OnAppend(const std::string& key, int64_t generation,
                                        int64_t num_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tracked_.find(key);
  if (it != tracked_.end() && it->second.generation == generation) {
    it->second.written_bytes += num_bytes;
  }
}

void FaultInjectionFileSystem::OnSync(const std::string& key, int64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tracked_.find(key);
  if (it != tracked_.end() && it->second.generation == generation) {
    it->second.synced_bytes = it->second.written_bytes;
    it->second.ever_synced = true;
  }
}

void FaultInjectionFileSystem::UntrackLocked(const std::string& key, bool recursive) {
  tracked_.erase(key);
  if (!recursive) return;
  const std::string prefix = key == "/" ? key : key + "/";
  auto it = tracked_.lower_bound(prefix);
  while (it != tracked_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    it = tracked_.erase(it);
  }
}

Status FaultInjectionFileSystem::SimulateCrash() {
  std::map<std::string, TrackedFile> tracked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tracked.swap(tracked_);
    ++epoch_;
  }
  Status first_error;
  auto note = [&first_error](Status status, const std::string& path) {
    if (!status.ok() && !status.IsNotFound() && first_error.ok()) {
      first_error = status.WithContext("simulated crash of ", path);
    }
  };
  for (const auto& [path, file] : tracked) {
    if (!file.ever_synced) {
      note(base_->DeleteFile(path), path);
      continue;
    }
    Result<std::string> contents = base_->ReadFile(path);
    if (!contents.ok()) {
      note(contents.status(), path);
      continue;
    }
    if (static_cast<int64_t>(contents->size()) <= file.synced_bytes) continue;
    contents->resize(static_cast<size_t>(file.synced_bytes));
    note(io::WriteFileDurably(base_, path, *contents), path);
  }
  return first_error;
}

Result<std::unique_ptr<io::WritableFile>> FaultInjectionFileSystem::NewWritableFile(
    const std::string& path) {
  TESSERA_RETURN_IF_ERROR(BeforeMutation("NewWritableFile", path, /*writes_bytes=*/false));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> base_file,
                           base_->NewWritableFile(path));
  int64_t generation = 0;
  int64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation = ++next_generation_;
    epoch = epoch_;
    TrackedFile& file = tracked_[TrackingKey(path)];
    file = TrackedFile();
    file.generation = generation;
  }
  return std::make_unique<FaultInjectionWritableFile>(this, path, generation, epoch,
                                                      std::move(base_file));
}

Status FaultInjectionFileSystem::CreateExclusive(const std::string& path,
                                                 std::string_view contents) {
  TESSERA_RETURN_IF_ERROR(BeforeMutation("CreateExclusive", path, /*writes_bytes=*/true));
  TESSERA_RETURN_IF_ERROR(base_->CreateExclusive(path, contents));
  // Durable by contract: nothing to drop on a crash.
  std::lock_guard<std::mutex> lock(mu_);
  UntrackLocked(TrackingKey(path), /*recursive=*/false);
  return Status::OK();
}

Result<std::string> FaultInjectionFileSystem::ReadFile(const std::string& path) {
  return base_->ReadFile(path);
}

Result<std::shared_ptr<const io::MappedFile>> FaultInjectionFileSystem::MapFile(
    const std::string& path) {
  return base_->MapFile(path);
}

Result<std::vector<io::FileInfo>> FaultInjectionFileSystem::ListDir(const std::string& path) {
  return base_->ListDir(path);
}

Result<io::FileInfo> FaultInjectionFileSystem::Stat(const std::string& path) {
  return base_->Stat(path);
}

Result<bool> FaultInjectionFileSystem::Exists(const std::string& path) {
  return base_->Exists(path);
}

Status FaultInjectionFileSystem::CreateDirs(const std::string& path) {
  TESSERA_RETURN_IF_ERROR(BeforeMutation("CreateDirs", path, /*writes_bytes=*/false));
  return base_->CreateDirs(path);
}

Status FaultInjectionFileSystem::DeleteFile(const std::string& path) {
  TESSERA_RETURN_IF_ERROR(BeforeMutation("DeleteFile", path, /*writes_bytes=*/false));
  TESSERA_RETURN_IF_ERROR(base_->DeleteFile(path));
  std::lock_guard<std::mutex> lock(mu_);
  UntrackLocked(TrackingKey(path), /*recursive=*/false);
  return Status::OK();
}

Status FaultInjectionFileSystem::DeleteDirRecursive(const std::string& path) {
  TESSERA_RETURN_IF_ERROR(BeforeMutation("DeleteDirRecursive", path, /*writes_bytes=*/false));
  TESSERA_RETURN_IF_ERROR(base_->DeleteDirRecursive(path));
  std::lock_guard<std::mutex> lock(mu_);
  UntrackLocked(TrackingKey(path), /*recursive=*/true);
  return Status::OK();
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  TESSERA_RETURN_IF_ERROR(BeforeMutation("SyncDir", path, /*writes_bytes=*/false));
  return base_->SyncDir(path);
}

}  // namespace tessera::test
