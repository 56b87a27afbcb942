#include "base/lru_cache.h"

#include <gtest/gtest.h>

namespace tessera::base {
namespace {

TEST(LruCacheTest, EvictsLeastRecentlyUsedPastTheCapacity) {
  LruCache<int> cache(100);
  cache.Put("a", 1, 40);
  cache.Put("b", 2, 40);
  EXPECT_EQ(cache.Get("a"), 1);  // a is now the most recent
  cache.Put("c", 3, 40);         // 120 > 100: b, the least recent, goes
  EXPECT_EQ(cache.Get("b"), std::nullopt);
  EXPECT_EQ(cache.Get("a"), 1);
  EXPECT_EQ(cache.Get("c"), 3);
  cache.Put("a", 9, 1);  // an existing key is kept as is
  EXPECT_EQ(cache.Get("a"), 1);
  cache.Put("big", 4, 500);  // larger than the capacity: everything else goes, it stays
  EXPECT_EQ(cache.Get("big"), 4);
  EXPECT_EQ(cache.Get("a"), std::nullopt);
  EXPECT_EQ(cache.Get("c"), std::nullopt);
  EXPECT_EQ(cache.capacity_bytes(), 100u);
}

}  // namespace
}  // namespace tessera::base
