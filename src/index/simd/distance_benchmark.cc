// Distance kernel benchmarks, per SIMD level the CPU supports:
//   pair/<kernel>/<level>/<dim>    one l2_squared or dot call at dim 128, 768, 784;
//   scan/<kernel>/<level>          a batch kernel over 50,000 x 784 floats (157 MB, far bigger
//                                  than the caches): the flat scan of the tail;
//   scan/read_loop/<level>         a plain sum of the same floats, the memory-bandwidth ceiling.
// After the run it prints each scan's GB/s as a fraction of the read loop's (target >= 85%).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "index/simd/distance.h"
#include "index/simd/distance_internal.h"

namespace tessera::index::simd {
namespace {

constexpr int64_t kScanRows = 50000;
constexpr int32_t kScanDim = 784;
constexpr int64_t kScanFloats = kScanRows * kScanDim;
constexpr double kScanBytes = static_cast<double>(kScanFloats) * sizeof(float);

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A cache-line-aligned buffer of `count` values in [-1, 1) from a fixed-seed xorshift.
template <class T>
std::unique_ptr<T[], FreeDeleter> RandomBuffer(int64_t count, uint64_t seed) {
  const size_t bytes = (static_cast<size_t>(count) * sizeof(T) + 63) / 64 * 64;
  std::unique_ptr<T[], FreeDeleter> buffer(static_cast<T*>(std::aligned_alloc(64, bytes)));
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
  for (int64_t idx = 0; idx < count; ++idx) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    if constexpr (sizeof(T) == 1) {
      buffer[idx] = static_cast<T>(state >> 56);
    } else {
      buffer[idx] = static_cast<T>(static_cast<double>(state >> 11) * 0x1p-52 - 1.0);
    }
  }
  return buffer;
}

const float* ScanData() {
  static const auto data = RandomBuffer<float>(kScanFloats, 1);
  return data.get();
}

const uint8_t* ScanCodes() {
  static const auto codes = RandomBuffer<uint8_t>(kScanFloats, 2);
  return codes.get();
}

const float* SmallData(uint64_t seed) {
  static const auto a = RandomBuffer<float>(kScanDim, 3);
  static const auto b = RandomBuffer<float>(kScanDim, 4);
  return seed == 0 ? a.get() : b.get();
}

std::vector<SimdLevel> SupportedLevels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (KernelsFor(level) != nullptr) levels.push_back(level);
  }
  return levels;
}

void BM_Pair(benchmark::State& state, float (*kernel)(const float*, const float*, int32_t)) {
  const int32_t dim = static_cast<int32_t>(state.range(0));
  const float* a = SmallData(0);
  const float* b = SmallData(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(kernel(a, b, dim));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 2 * dim * static_cast<int64_t>(sizeof(float)));
}

void BM_ScanFloat(benchmark::State& state,
                  void (*kernel)(const float*, const float*, int64_t, int32_t, float*)) {
  const float* base = ScanData();
  const float* query = SmallData(0);
  std::vector<float> out(kScanRows);
  for (auto _ : state) {
    kernel(query, base, kScanRows, kScanDim, out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kScanBytes));
}

void BM_ScanSq8(benchmark::State& state,
                void (*kernel)(const float*, const uint8_t*, int64_t, const float*, const float*,
                               int32_t, float*)) {
  const uint8_t* codes = ScanCodes();
  const float* query = SmallData(0);
  std::vector<float> vmin(kScanDim, -1.0f);
  std::vector<float> vscale(kScanDim, 2.0f / 255.0f);
  std::vector<float> out(kScanRows);
  for (auto _ : state) {
    kernel(query, codes, kScanRows, vmin.data(), vscale.data(), kScanDim, out.data());
    benchmark::ClobberMemory();
  }
  // Bytes of codes read: SQ8 scans are usually compute-bound, so compare rows/s too.
  state.SetBytesProcessed(state.iterations() * kScanFloats);
  state.SetItemsProcessed(state.iterations() * kScanRows);
}

#ifdef TESSERA_SIMD_HAS_X86_KERNELS
void BM_ReadLoop(benchmark::State& state, float (*sum)(const float*, int64_t)) {
  const float* base = ScanData();
  for (auto _ : state) benchmark::DoNotOptimize(sum(base, kScanFloats));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kScanBytes));
}
#endif

// Register the read loop of the widest level; return false if there is none.
bool RegisterReadLoop(const char* suffix) {
#ifdef TESSERA_SIMD_HAS_X86_KERNELS
  if (KernelsFor(SimdLevel::kAvx512) != nullptr) {
    benchmark::RegisterBenchmark((std::string("scan/read_loop/avx512") + suffix).c_str(),
                                 BM_ReadLoop, &internal::SumFloatsAvx512)
        ->Unit(benchmark::kMillisecond);
    return true;
  }
  if (KernelsFor(SimdLevel::kAvx2) != nullptr) {
    benchmark::RegisterBenchmark((std::string("scan/read_loop/avx2") + suffix).c_str(), BM_ReadLoop,
                                 &internal::SumFloatsAvx2)
        ->Unit(benchmark::kMillisecond);
    return true;
  }
#endif
  (void)suffix;
  return false;
}

void RegisterAll() {
  for (SimdLevel level : SupportedLevels()) {
    const DistanceKernels& k = *KernelsFor(level);
    const std::string name = SimdLevelName(level);
    for (int dim : {128, 768, 784}) {
      benchmark::RegisterBenchmark(("pair/l2_squared/" + name).c_str(), BM_Pair, k.l2_squared)
          ->Arg(dim);
      benchmark::RegisterBenchmark(("pair/dot/" + name).c_str(), BM_Pair, k.dot)->Arg(dim);
    }
  }
  // The read loop runs before and after the scans; the ratio uses the mean of both.
  RegisterReadLoop("");
  for (SimdLevel level : SupportedLevels()) {
    const DistanceKernels& k = *KernelsFor(level);
    const std::string name = SimdLevelName(level);
    benchmark::RegisterBenchmark(("scan/l2_squared_batch/" + name).c_str(), BM_ScanFloat,
                                 k.l2_squared_batch)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("scan/dot_batch/" + name).c_str(), BM_ScanFloat, k.dot_batch)
        ->Unit(benchmark::kMillisecond);
  }
  RegisterReadLoop("/again");
  for (SimdLevel level : SupportedLevels()) {
    const DistanceKernels& k = *KernelsFor(level);
    const std::string name = SimdLevelName(level);
    benchmark::RegisterBenchmark(("sq8/l2_squared_sq8_batch/" + name).c_str(), BM_ScanSq8,
                                 k.l2_squared_sq8_batch)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("sq8/dot_sq8_batch/" + name).c_str(), BM_ScanSq8, k.dot_sq8_batch)
        ->Unit(benchmark::kMillisecond);
  }
}

// Prints the usual console output and remembers each scan's bytes per second (the median when
// the run has repetitions).
class ScanReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      const std::string name = run.run_name.str();
      if (name.rfind("scan/", 0) != 0) continue;
      const auto counter = run.counters.find("bytes_per_second");
      if (counter != run.counters.end()) gb_per_s_[name] = counter->second.value / 1e9;
    }
  }

  // Print every scan's GB/s against the mean of the read loops.
  void PrintSummary() const {
    double read_sum = 0.0;
    int read_count = 0;
    for (const auto& [name, gb_per_s] : gb_per_s_) {
      if (name.find("/read_loop/") != std::string::npos) {
        read_sum += gb_per_s;
        ++read_count;
      }
    }
    if (read_count == 0) return;
    const double read = read_sum / read_count;
    std::printf("\nFlat scan of %lld x %d floats (%.1f MB), one core; read loop %.2f GB/s\n",
                static_cast<long long>(kScanRows), kScanDim, kScanBytes / 1e6, read);
    for (const auto& [name, gb_per_s] : gb_per_s_) {
      std::printf("  %-34s %6.2f GB/s  %5.1f%% of the read loop\n", name.c_str(), gb_per_s,
                  100.0 * gb_per_s / read);
    }
  }

 private:
  std::map<std::string, double> gb_per_s_;
};

}  // namespace
}  // namespace tessera::index::simd

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  tessera::index::simd::RegisterAll();
  tessera::index::simd::ScanReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  return 0;
}
