#include "base/uuid.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>

namespace tessera::base {

std::string NewUuid() {
  // One generator per thread, seeded from the OS, the pid and the clock so that forked
  // children never repeat their parent's sequence.
  thread_local std::mt19937_64 rng = [] {
    std::random_device device;
    std::seed_seq seq{
        device(), device(), static_cast<unsigned>(getpid()),
        static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count())};
    return std::mt19937_64(seq);
  }();
  thread_local pid_t owner = getpid();
  if (owner != getpid()) {  // forked: reseed
    owner = getpid();
    rng.seed(std::random_device{}() ^ (static_cast<uint64_t>(owner) << 32));
  }
  const uint64_t hi = rng();
  const uint64_t lo = rng();
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return buf;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tessera::base
