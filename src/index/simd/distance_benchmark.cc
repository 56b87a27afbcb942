// Distance kernel benchmarks, per SIMD level the CPU supports:
//   pair/<kernel>/<level>/<dim>       one l2_squared or dot call at dim 128, 768, 784;
//   scan/<kernel>/<level>/<rows>      a batch kernel over rows x 784 floats: the flat scan of the
//                                     tail. 50,000 rows are 157 MB; 200,000 rows (627 MB) stay
//                                     bigger than the cache on CPUs with a very large L3;
//   scan/read_loop/<level>/<rows>     a plain sum of the same floats, the bandwidth ceiling.
// Each scan iteration also times the read loop right after the kernel (same clock: thread CPU
// time), so the "vs_read" ratio compares the two under the same conditions even on a busy
// machine; a summary of the ratios (target >= 85%) is printed at the end.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "index/simd/distance.h"
#include "index/simd/distance_internal.h"

namespace tessera::index::simd {
namespace {

constexpr int32_t kScanDim = 784;
constexpr int64_t kScanRowCounts[] = {50000, 200000};
constexpr int64_t kMaxScanRows = 200000;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A cache-line-aligned buffer of `count` values (floats in [-1, 1), or any byte) from a
// fixed-seed xorshift.
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
  static const auto data = RandomBuffer<float>(kMaxScanRows * kScanDim, 1);
  return data.get();
}

const uint8_t* ScanCodes() {
  static const auto codes = RandomBuffer<uint8_t>(kMaxScanRows * kScanDim, 2);
  return codes.get();
}

const float* SmallData(uint64_t seed) {
  static const auto a = RandomBuffer<float>(kScanDim, 3);
  static const auto b = RandomBuffer<float>(kScanDim, 4);
  return seed == 0 ? a.get() : b.get();
}

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

std::vector<SimdLevel> SupportedLevels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (KernelsFor(level) != nullptr) levels.push_back(level);
  }
  return levels;
}

using SumFn = float (*)(const float*, int64_t);

// The widest read loop the CPU supports, and its level's name; nullptr if none.
SumFn ReadLoop(const char** name) {
#ifdef TESSERA_SIMD_HAS_X86_KERNELS
  if (KernelsFor(SimdLevel::kAvx512) != nullptr) {
    *name = "avx512";
    return &internal::SumFloatsAvx512;
  }
  if (KernelsFor(SimdLevel::kAvx2) != nullptr) {
    *name = "avx2";
    return &internal::SumFloatsAvx2;
  }
#endif
  *name = "none";
  return nullptr;
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

// One query against single SQ8 codes, as a graph search computes them: the unprepared kernel
// (decodes with vmin and vscale per step) against the prepared one (query - vmin once).
void BM_PairSq8(benchmark::State& state, const DistanceKernels* k, bool prepared) {
  const int32_t dim = static_cast<int32_t>(state.range(0));
  const float* query = SmallData(0);
  const uint8_t* code = ScanCodes();
  std::vector<float> vmin(dim, -1.0f);
  std::vector<float> vscale(dim, 2.0f / 255.0f);
  std::vector<float> centered(dim);
  for (int32_t d = 0; d < dim; ++d) centered[d] = query[d] - vmin[d];
  for (auto _ : state) {
    benchmark::DoNotOptimize(query);
    if (prepared) {
      benchmark::DoNotOptimize(
          k->l2_squared_sq8_centered(centered.data(), code, vscale.data(), dim));
    } else {
      benchmark::DoNotOptimize(k->l2_squared_sq8(query, code, vmin.data(), vscale.data(), dim));
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ReadLoop(benchmark::State& state, SumFn sum) {
  const int64_t num_floats = state.range(0) * kScanDim;
  const float* base = ScanData();
  for (auto _ : state) benchmark::DoNotOptimize(sum(base, num_floats));
  state.SetBytesProcessed(state.iterations() * num_floats * static_cast<int64_t>(sizeof(float)));
}

// Time `scan` (manual time) and, after each run of it, the read loop over `bytes`; report both
// bandwidths and their ratio.
template <class Scan>
void RunPairedWithReadLoop(benchmark::State& state, double bytes, const Scan& scan) {
  const char* read_name = nullptr;
  const SumFn read = ReadLoop(&read_name);
  const float* floats = ScanData();
  const int64_t read_floats = static_cast<int64_t>(bytes / sizeof(float));
  double scan_seconds = 0.0;
  double read_seconds = 0.0;
  for (auto _ : state) {
    const double start = ThreadCpuSeconds();
    scan();
    benchmark::ClobberMemory();
    const double scanned = ThreadCpuSeconds();
    state.SetIterationTime(scanned - start);
    scan_seconds += scanned - start;
    if (read != nullptr) benchmark::DoNotOptimize(read(floats, read_floats));
    read_seconds += ThreadCpuSeconds() - scanned;
  }
  const double total_bytes = bytes * static_cast<double>(state.iterations());
  state.counters["GB/s"] = total_bytes / scan_seconds / 1e9;
  if (read != nullptr && read_seconds > 0.0) {
    state.counters["read_GB/s"] = total_bytes / read_seconds / 1e9;
    state.counters["vs_read"] = read_seconds / scan_seconds;
  }
}

void BM_ScanFloat(benchmark::State& state,
                  void (*kernel)(const float*, const float*, int64_t, int32_t, float*)) {
  const int64_t rows = state.range(0);
  const float* base = ScanData();
  const float* query = SmallData(0);
  std::vector<float> out(rows);
  const double bytes = static_cast<double>(rows) * kScanDim * sizeof(float);
  RunPairedWithReadLoop(state, bytes, [&] { kernel(query, base, rows, kScanDim, out.data()); });
}

// SQ8 scans read a quarter of the bytes per row; their read loop reads the same bytes.
void BM_ScanSq8(benchmark::State& state,
                void (*kernel)(const float*, const uint8_t*, int64_t, const float*, const float*,
                               int32_t, float*)) {
  const int64_t rows = state.range(0);
  const uint8_t* codes = ScanCodes();
  const float* query = SmallData(0);
  std::vector<float> vmin(kScanDim, -1.0f);
  std::vector<float> vscale(kScanDim, 2.0f / 255.0f);
  std::vector<float> out(rows);
  const double bytes = static_cast<double>(rows) * kScanDim;
  RunPairedWithReadLoop(state, bytes, [&] {
    kernel(query, codes, rows, vmin.data(), vscale.data(), kScanDim, out.data());
  });
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows * state.iterations()),
                                                benchmark::Counter::kIsRate);
}

void RegisterAll() {
  for (SimdLevel level : SupportedLevels()) {
    const DistanceKernels& k = *KernelsFor(level);
    const std::string name = SimdLevelName(level);
    for (int dim : {128, 768, 784}) {
      benchmark::RegisterBenchmark(("pair/l2_squared/" + name).c_str(), BM_Pair, k.l2_squared)
          ->Arg(dim);
      benchmark::RegisterBenchmark(("pair/dot/" + name).c_str(), BM_Pair, k.dot)->Arg(dim);
      benchmark::RegisterBenchmark(("pair/l2_squared_sq8/" + name).c_str(), BM_PairSq8, &k, false)
          ->Arg(dim);
      benchmark::RegisterBenchmark(("pair/l2_squared_sq8_centered/" + name).c_str(), BM_PairSq8, &k,
                                   true)
          ->Arg(dim);
    }
  }
  const char* read_name = nullptr;
  if (const SumFn read = ReadLoop(&read_name); read != nullptr) {
    for (int64_t rows : kScanRowCounts) {
      benchmark::RegisterBenchmark((std::string("scan/read_loop/") + read_name).c_str(),
                                   BM_ReadLoop, read)
          ->Arg(rows)
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (int64_t rows : kScanRowCounts) {
    for (SimdLevel level : SupportedLevels()) {
      const DistanceKernels& k = *KernelsFor(level);
      const std::string name = SimdLevelName(level);
      benchmark::RegisterBenchmark(("scan/l2_squared_batch/" + name).c_str(), BM_ScanFloat,
                                   k.l2_squared_batch)
          ->Arg(rows)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("scan/dot_batch/" + name).c_str(), BM_ScanFloat, k.dot_batch)
          ->Arg(rows)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (SimdLevel level : SupportedLevels()) {
    const DistanceKernels& k = *KernelsFor(level);
    const std::string name = SimdLevelName(level);
    benchmark::RegisterBenchmark(("sq8/l2_squared_sq8_batch/" + name).c_str(), BM_ScanSq8,
                                 k.l2_squared_sq8_batch)
        ->Arg(kScanRowCounts[0])
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("sq8/dot_sq8_batch/" + name).c_str(), BM_ScanSq8, k.dot_sq8_batch)
        ->Arg(kScanRowCounts[0])
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

// Prints the usual console output and remembers each paired scan's numbers (the median when
// the run has repetitions), for PrintSummary().
class ScanReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      const auto ratio = run.counters.find("vs_read");
      if (ratio == run.counters.end()) continue;
      std::string name = run.run_name.str();
      const std::string suffix = "/manual_time";
      if (name.ends_with(suffix)) name.resize(name.size() - suffix.size());
      results_[name] = {run.counters.at("GB/s").value, run.counters.at("read_GB/s").value,
                        ratio->second.value};
    }
  }

  void PrintSummary() const {
    if (results_.empty()) return;
    const char* read_name = nullptr;
    ReadLoop(&read_name);
    std::printf("\nScans vs a plain %s read loop over the same bytes, one core (%d floats/row):\n",
                read_name, kScanDim);
    for (const auto& [name, result] : results_) {
      std::printf("  %-36s %6.2f GB/s  read loop %6.2f GB/s  %5.1f%%\n", name.c_str(),
                  result.gb_per_s, result.read_gb_per_s, 100.0 * result.ratio);
    }
  }

 private:
  struct Result {
    double gb_per_s;
    double read_gb_per_s;
    double ratio;
  };
  std::map<std::string, Result> results_;
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
