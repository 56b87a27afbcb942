// ParallelFor: split [0, n) into contiguous ranges run on short-lived std::threads. The index
// layer's builds use it until base/ offers a thread pool.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace tessera::index::internal {

// Return `requested` if positive, else the number of hardware threads (at least 1).
inline int ResolveNumThreads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Call fn(begin, end, thread_idx) on disjoint ranges covering [0, n), using at most
// `num_threads` threads (the calling thread is one of them). Returns when all are done.
inline void ParallelFor(int64_t n, int num_threads,
                        const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  const int threads = static_cast<int>(std::min<int64_t>(std::max(1, num_threads), n));
  if (threads == 1) {
    fn(0, n, 0);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  const int64_t per_thread = (n + threads - 1) / threads;
  for (int thread_idx = 1; thread_idx < threads; ++thread_idx) {
    const int64_t begin = std::min(n, per_thread * thread_idx);
    const int64_t end = std::min(n, begin + per_thread);
    workers.emplace_back([&fn, begin, end, thread_idx] { fn(begin, end, thread_idx); });
  }
  fn(0, std::min(n, per_thread), 0);
  for (std::thread& worker : workers) worker.join();
}

}  // namespace tessera::index::internal
