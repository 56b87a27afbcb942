// Random identifiers for file names and transactions.
#pragma once

#include <cstdint>
#include <string>

namespace tessera::base {

/// Return a random 128-bit identifier as 32 lowercase hex characters. Thread-safe.
std::string NewUuid();

/// Return the current wall time in µs since the epoch.
int64_t NowMicros();

}  // namespace tessera::base
