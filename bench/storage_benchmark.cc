// Add throughput/latency and scan throughput, each against a baseline measured in the same run:
//  - add of a 1,000 x 768 batch vs. writing the same bytes to a file + fsync + directory fsync;
//  - scanning the vector column of mmapped fragments vs. a plain read loop over the same bytes.
// Run: build/bench/bench/storage_benchmark  (cmake --preset bench && cmake --build --preset bench)
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include "tessera/table.h"

namespace tessera {
namespace {

constexpr int kDim = 768;
constexpr int kRows = 1000;

std::string BenchDir(const std::string& name) {
  const std::string dir = std::filesystem::temp_directory_path() / ("tessera_bench_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

RecordBatch MakeBatch(int64_t first_id) {
  Schema schema = Schema::Parse("id:int64 not null,vector:vector[768]").value();
  std::mt19937 rng(static_cast<unsigned>(first_id));
  std::uniform_real_distribution<float> dist(-1, 1);
  ArrayBuilder ids(DataType::Int64());
  ArrayBuilder vectors(DataType::Vector(kDim));
  std::vector<float> v(kDim);
  for (int64_t row = 0; row < kRows; ++row) {
    (void)ids.AppendInt(first_id + row);
    for (float& x : v) x = dist(rng);
    (void)vectors.AppendVector(v);
  }
  return RecordBatch::Make(schema, {ids.Finish(), vectors.Finish()}).value();
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

void ReportLatencies(benchmark::State& state, const std::vector<double>& ms) {
  state.counters["p50_ms"] = Percentile(ms, 0.50);
  state.counters["p99_ms"] = Percentile(ms, 0.99);
}

double g_fsync_p50_ms = 0;

// Baseline: write 3 MB (the vector bytes of one batch) to a new file, fsync it and its directory.
void BM_BaselineFileWriteFsync(benchmark::State& state) {
  const std::string dir = BenchDir("fsync");
  std::vector<char> bytes(static_cast<size_t>(kRows) * kDim * 4, 7);
  std::vector<double> ms;
  int64_t n = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const std::string path = dir + "/f" + std::to_string(n++);
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) std::abort();
    fsync(fd);
    close(fd);
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    fsync(dfd);
    close(dfd);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
  ReportLatencies(state, ms);
  g_fsync_p50_ms = Percentile(ms, 0.5);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_BaselineFileWriteFsync)->Unit(benchmark::kMillisecond)->Iterations(60);

// Table::Add of one 1,000 x 768 batch: one fragment file plus one committed version.
void BM_Add(benchmark::State& state) {
  const std::string dir = BenchDir("add");
  auto table =
      Table::Create(dir + "/t", Schema::Parse("id:int64 not null,vector:vector[768]").value())
          .value();
  std::vector<RecordBatch> batches;
  for (int i = 0; i < 8; ++i) batches.push_back(MakeBatch(i * kRows));
  std::vector<double> ms;
  size_t n = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto result = table->Add(batches[n++ % batches.size()]);
    if (!result.ok()) state.SkipWithError(result.status().ToString().c_str());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(state.iterations() * kRows * kDim * 4);
  ReportLatencies(state, ms);
  if (g_fsync_p50_ms > 0)
    state.counters["p50_vs_fsync_baseline"] = Percentile(ms, 0.5) / g_fsync_p50_ms;
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Add)->Unit(benchmark::kMillisecond)->Iterations(60);

struct ScanFixture {
  std::string dir;
  std::unique_ptr<Table> table;
  ScanFixture() {
    dir = BenchDir("scan");
    table = Table::Create(dir + "/t", Schema::Parse("id:int64 not null,vector:vector[768]").value())
                .value();
    for (int i = 0; i < 50; ++i) (void)table->Add(MakeBatch(i * kRows));  // 50k rows, 154 MB
  }
  ~ScanFixture() { std::filesystem::remove_all(dir); }
};

ScanFixture& Fixture() {
  static ScanFixture* fixture = new ScanFixture();  // lives for the whole run
  return *fixture;
}

double g_memread_gbps = 0;

// Baseline: sum the same number of floats from one in-memory buffer.
void BM_BaselineMemoryRead(benchmark::State& state) {
  std::vector<float> data(static_cast<size_t>(50) * kRows * kDim, 1.0f);
  for (auto _ : state) {
    float sum = 0;
    for (size_t i = 0; i < data.size(); i += 16) {
      float block = 0;
      for (int k = 0; k < 16; ++k) block += data[i + k];
      sum += block;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size() * 4));
}
BENCHMARK(BM_BaselineMemoryRead)->Unit(benchmark::kMillisecond);

// Scan the vector column straight over the mmapped fragments (no copy) and read every float.
void BM_ScanVectors(benchmark::State& state) {
  Table* table = Fixture().table.get();
  ScanOptions options;
  options.columns = {"vector"};
  int64_t bytes = 0;
  for (auto _ : state) {
    float sum = 0;
    Status st = table->ScanBatches(options, [&](const RecordBatch& batch) {
      std::span<const float> values = batch.column(0).VectorData();
      for (size_t i = 0; i + 16 <= values.size(); i += 16) {
        float block = 0;
        for (int k = 0; k < 16; ++k) block += values[i + k];
        sum += block;
      }
      bytes += static_cast<int64_t>(values.size() * 4);
      return Status::OK();
    });
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ScanVectors)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera

BENCHMARK_MAIN();
