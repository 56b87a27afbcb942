#include "io/s3_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace tessera::io {
namespace {

namespace fs = std::filesystem;

uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

int64_t MeasureBytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code size_ec;
    if (entry.is_regular_file(size_ec)) total += static_cast<int64_t>(entry.file_size(size_ec));
  }
  return total;
}

}  // namespace

ObjectCache::ObjectCache(std::string dir, int64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(std::max<int64_t>(max_bytes, 1)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
}

std::string ObjectCache::FileFor(std::string_view uri) const {
  std::string_view base = uri.substr(uri.find_last_of('/') + 1);
  if (base.size() > 80) base = base.substr(base.size() - 80);
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(Fnv1a64(uri)));
  return dir_ + "/" + hash + "-" + std::string(base);
}

std::optional<std::string> ObjectCache::Get(std::string_view uri) {
  const std::string path = FileFor(uri);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return std::nullopt;
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // now: most recently used
  return bytes;
}

void ObjectCache::Put(std::string_view uri, std::string_view bytes) {
  if (static_cast<int64_t>(bytes.size()) > max_bytes_ / 4) return;  // would crowd out the rest
  static std::atomic<uint64_t> counter{0};
  const std::string path = FileFor(uri);
  const std::string temp =
      dir_ + "/.tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::remove(temp.c_str());
      return;
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return;
  }
  int64_t current = approx_bytes_.load();
  if (current < 0) {
    current = MeasureBytes(dir_);
    approx_bytes_.store(current);
  } else {
    current = approx_bytes_.fetch_add(static_cast<int64_t>(bytes.size())) +
              static_cast<int64_t>(bytes.size());
  }
  if (current > max_bytes_) EvictTo(max_bytes_ * 9 / 10);
}

void ObjectCache::EvictTo(int64_t target) {
  std::lock_guard<std::mutex> lock(evict_mu_);
  struct Entry {
    fs::file_time_type mtime;
    int64_t size;
    fs::path path;
  };
  std::vector<Entry> entries;
  int64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::error_code item_ec;
    if (!entry.is_regular_file(item_ec)) continue;
    const std::string name = entry.path().filename().string();
    const int64_t size = static_cast<int64_t>(entry.file_size(item_ec));
    if (item_ec) continue;
    const auto mtime = entry.last_write_time(item_ec);
    if (item_ec) continue;
    total += size;
    if (name.starts_with(".tmp-")) continue;  // another writer's, about to be renamed
    entries.push_back({mtime, size, entry.path()});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.mtime < b.mtime; });
  for (const Entry& entry : entries) {
    if (total <= target) break;
    std::error_code remove_ec;
    if (fs::remove(entry.path, remove_ec)) total -= entry.size;
  }
  approx_bytes_.store(total);
}

}  // namespace tessera::io
