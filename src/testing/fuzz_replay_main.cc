// Without libFuzzer, a *_fuzz.cc target is linked with this driver and run as a
// test: it feeds the fuzzer its seeds (TesseraFuzzSeeds, if the target defines
// one), then seeded random truncations, bit flips and byte splices of them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Optional: defined by a fuzz target to provide well-formed inputs to mutate.
std::vector<std::string> TesseraFuzzSeeds() __attribute__((weak));

int main() {
  std::vector<std::string> seeds;
  if (TesseraFuzzSeeds) seeds = TesseraFuzzSeeds();
  seeds.push_back(std::string());
  std::mt19937_64 rng(42);
  int64_t runs = 0;
  for (const std::string& seed : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
    ++runs;
    for (int iter = 0; iter < 3000; ++iter) {
      std::string input = seed;
      const int kind = static_cast<int>(rng() % 4);
      if (kind == 0 && !input.empty()) {
        input.resize(rng() % input.size());
      } else if (kind == 1 && !input.empty()) {
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f)
          input[rng() % input.size()] ^= static_cast<char>(1u << (rng() % 8));
      } else if (kind == 2 && !input.empty()) {
        const size_t pos = rng() % input.size();
        input[pos] = static_cast<char>(rng());
      } else {
        input.resize(rng() % 256);
        for (char& c : input) c = static_cast<char>(rng());
      }
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      ++runs;
    }
  }
  std::printf("replayed %lld inputs\n", static_cast<long long>(runs));
  return 0;
}
