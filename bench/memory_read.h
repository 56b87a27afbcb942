// The reference loop the flat-scan benchmarks compare with: read bytes as fast as the memory
// system delivers them. Benchmarks only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::bench {

// Return the sum of the `num_words` 64-bit words at `words` (a vectorized read of every byte).
uint64_t SumWords(const uint64_t* words, size_t num_words);

}  // namespace tessera::bench
