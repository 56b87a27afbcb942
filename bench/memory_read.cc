// Compiled with -O3 -march=native (bench/CMakeLists.txt): the loop is vectorized to the widest
// registers of this machine, so that it is limited by the memory system, not by instructions.
#include "memory_read.h"

namespace tessera::bench {

uint64_t SumWords(const uint64_t* words, size_t num_words) {
  uint64_t acc[16] = {};
  size_t word = 0;
  for (; word + 16 <= num_words; word += 16) {
    for (int lane = 0; lane < 16; ++lane) acc[lane] += words[word + lane];
  }
  for (; word < num_words; ++word) acc[0] += words[word];
  uint64_t sum = 0;
  for (uint64_t value : acc) sum += value;
  return sum;
}

}  // namespace tessera::bench
