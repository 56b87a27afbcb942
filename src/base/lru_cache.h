// LruCache: a thread-safe, byte-bounded cache of values keyed by string; the least recently
// used entries are dropped once the total passes the capacity (the newest entry always stays).
// Backs the process-wide caches of immutable files: assembled fragments (table/), vector
// index segments (query/) and key index segments (table/).
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace tessera::base {

template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  size_t capacity_bytes() const { return capacity_bytes_; }

  // Return the value cached as `key` (now the most recently used), or nullopt.
  std::optional<V> Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
    return it->second.value;
  }

  // Cache `value` as `key`, counting `bytes` against the capacity. A key already cached is
  // kept as is.
  void Put(const std::string& key, V value, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.count(key)) return;
    lru_.push_front(key);
    entries_.emplace(key, Entry{std::move(value), lru_.begin(), bytes});
    total_bytes_ += bytes;
    while (total_bytes_ > capacity_bytes_ && lru_.size() > 1) {
      auto victim = entries_.find(lru_.back());
      total_bytes_ -= victim->second.bytes;
      entries_.erase(victim);
      lru_.pop_back();
    }
  }

 private:
  struct Entry {
    V value;
    std::list<std::string>::iterator lru_pos;
    size_t bytes = 0;
  };
  const size_t capacity_bytes_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::list<std::string> lru_;                      // guarded by mu_; most recent first
  size_t total_bytes_ = 0;                          // guarded by mu_
};

}  // namespace tessera::base
