// ObjectCache: a bounded local cache of immutable objects, shared safely by processes on one
// host. Each object is one file in the cache directory, named by a hash of its URI (plus its
// base name, for people looking). Writers create a uniquely named temporary file and rename it
// into place (atomic: a reader sees the whole object or none); a hit touches the file's mtime;
// when the directory grows past its limit, the least recently touched files are deleted until
// it is at 90% of the limit. A reader that opened a file before another process evicted it
// keeps reading it (POSIX unlink semantics). Only immutable objects may be cached: a cached
// object is never revalidated.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::io {

class ObjectCache {
 public:
  // `dir` is created if missing. max_bytes > 0.
  ObjectCache(std::string dir, int64_t max_bytes);

  // Return the cached bytes of `uri`, or nullopt.
  std::optional<std::string> Get(std::string_view uri);
  // Cache `bytes` as `uri` (best effort: errors leave the cache without it).
  void Put(std::string_view uri, std::string_view bytes);

  int64_t max_bytes() const { return max_bytes_; }
  const std::string& dir() const { return dir_; }
  // Delete least recently used files until the directory holds at most `target` bytes.
  void EvictTo(int64_t target);

 private:
  std::string FileFor(std::string_view uri) const;

  std::string dir_;
  int64_t max_bytes_;
  std::mutex evict_mu_;  // one eviction at a time in this process
  // Bytes this process believes the directory holds (re-measured at each eviction).
  std::atomic<int64_t> approx_bytes_{-1};
};

}  // namespace tessera::io
