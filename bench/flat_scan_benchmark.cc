// Flat-scan throughput: how close Table::Search(...).BypassVectorIndex() gets to reading the
// vector bytes from memory, and what each unindexed row adds to a query's latency.
//
// Part 1, throughput. A table of Fashion-MNIST vectors (784-d; the 60,000 training images added
// again and again up to --rows, in fragments of --fragment_rows) without an index. Every row of
// the table reads the same bytes, the vector column of the mmapped fragment files:
//   memory read          sum the bytes as 64-bit words (a loop vectorized with -O3
//                        -march=native, memory_read.cc): the reference
//   simd kernel          BestKernels().l2_squared_batch of one query over every row: the kernel
//                        alone, no table, no top-k
//   Table::Search 1 core ExecuteBatch() of one query: the executor scans the tail on the one
//                        thread that runs the query (snapshot, scan, top-k, projection)
//   Table::Search Execute() of one query: above 16,384 rows the executor scans fragments on
//                        every core (here 2)
//   ... flat stage       the same Execute() runs, counting only QueryStats::flat_ms
// GB/s = vector bytes / wall time, best of --repeat runs (median also shown). Targets: >= 85% of
// the one-thread memory read on one core, >= 75% of the two-thread memory read on two.
//
// Part 2, latency per unindexed row. A second table grows in fragments of 1,000 rows (as a
// streaming writer appends them); at each size the p50 latency of Execute() and of the one-core
// ExecuteBatch() over --latency_queries queries, and the least-squares slope: milliseconds added
// per 1,000 unindexed 784-d rows.
//
// Run: build/bench/bench/flat_scan_benchmark [--rows=240000] [--fragment_rows=10000]
//      [--repeat=15] [--latency_queries=50]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "index/simd/distance.h"
#include "memory_read.h"
#include "tessera/table.h"

namespace tessera::bench {
namespace {

constexpr int32_t kK = 10;

// The vector column of every fragment, as mapped by the table (the batches keep the mappings).
struct MappedVectors {
  std::vector<RecordBatch> batches;
  std::vector<std::span<const float>> spans;
  int64_t bytes = 0;
};

Result<MappedVectors> MapVectors(Table* table) {
  MappedVectors out;
  ScanOptions options;
  options.columns = {"vector"};
  TESSERA_RETURN_IF_ERROR(table->ScanBatches(options, [&](const RecordBatch& batch) {
    out.batches.push_back(batch);
    out.spans.push_back(batch.column(0).VectorData());
    out.bytes += static_cast<int64_t>(out.spans.back().size_bytes());
    return Status::OK();
  }));
  return out;
}

// Run `work(thread_idx)` on `num_threads` threads (the caller is thread 0) and wait.
template <class Work>
void RunOnThreads(int num_threads, const Work& work) {
  std::vector<std::thread> threads;
  for (int t = 1; t < num_threads; ++t) threads.emplace_back(work, t);
  work(0);
  for (auto& thread : threads) thread.join();
}

// The reference: read every byte of `spans` as 64-bit words (SumWords, vectorized for this
// machine) on `num_threads` threads; each thread takes every num_threads-th 1 MiB block.
uint64_t MemoryRead(const MappedVectors& mapped, int num_threads) {
  constexpr size_t kBlockWords = (1 << 20) / sizeof(uint64_t);
  std::atomic<uint64_t> total{0};
  RunOnThreads(num_threads, [&](int thread_idx) {
    uint64_t sum = 0;
    size_t block_idx = 0;
    for (const auto& span : mapped.spans) {
      const auto* words = reinterpret_cast<const uint64_t*>(span.data());
      const size_t num_words = span.size_bytes() / sizeof(uint64_t);
      for (size_t begin = 0; begin < num_words; begin += kBlockWords, ++block_idx) {
        if (static_cast<int>(block_idx % num_threads) != thread_idx) continue;
        sum += SumWords(words + begin, std::min(kBlockWords, num_words - begin));
      }
    }
    total += sum;
  });
  return total.load();
}

// The kernel alone: squared L2 from `query` to every row, in chunks of 4,096 rows per call, on
// `num_threads` threads taking fragments in turn.
float KernelScan(const MappedVectors& mapped, const float* query, int32_t dim, int num_threads) {
  const auto& kernels = index::simd::BestKernels();
  std::atomic<size_t> next{0};
  std::vector<float> minima(num_threads, std::numeric_limits<float>::infinity());
  RunOnThreads(num_threads, [&](int thread_idx) {
    constexpr int64_t kChunkRows = 4096;
    std::vector<float> distances(kChunkRows);
    float best = std::numeric_limits<float>::infinity();
    for (size_t f = next++; f < mapped.spans.size(); f = next++) {
      const auto& span = mapped.spans[f];
      const int64_t rows = static_cast<int64_t>(span.size()) / dim;
      for (int64_t first = 0; first < rows; first += kChunkRows) {
        const int64_t n = std::min(kChunkRows, rows - first);
        kernels.l2_squared_batch(query, span.data() + first * dim, n, dim, distances.data());
        for (int64_t row = 0; row < n; ++row) best = std::min(best, distances[row]);
      }
    }
    minima[thread_idx] = best;
  });
  return *std::min_element(minima.begin(), minima.end());
}

struct Throughput {
  double best_gbps = 0;
  double median_gbps = 0;
};

// Time `run()` `repeat` times; return GB/s of `bytes` per run.
template <class Run>
Throughput Measure(int64_t bytes, int repeat, const Run& run) {
  run();  // warm-up: faults in mappings, fills caches of the table layer
  std::vector<double> gbps;
  for (int rep = 0; rep < repeat; ++rep) {
    Stopwatch watch;
    run();
    gbps.push_back(static_cast<double>(bytes) / watch.Seconds() / 1e9);
  }
  return {*std::max_element(gbps.begin(), gbps.end()), Percentile(gbps, 0.5)};
}

VectorQuery BypassQuery(Table* table, const float* query, int32_t dim) {
  return table->Search({query, static_cast<size_t>(dim)})
      .Limit(kK)
      .Select({"id"})
      .BypassVectorIndex();
}

void CheckOk(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// Append Fashion-MNIST vectors (cycling through `base`) to `table` until it holds `target_rows`,
// in fragments of `fragment_rows`.
void GrowTable(Table* table, const Dataset& base, int64_t* num_rows, int64_t target_rows,
               int64_t fragment_rows) {
  std::vector<float> chunk;
  while (*num_rows < target_rows) {
    const int64_t n = std::min(fragment_rows, target_rows - *num_rows);
    chunk.resize(static_cast<size_t>(n) * base.dim);
    for (int64_t row = 0; row < n; ++row) {
      const int64_t source = (*num_rows + row) % base.num_base();
      std::memcpy(chunk.data() + row * base.dim, base.base_row(source), base.dim * sizeof(float));
    }
    auto batch = MakeVectorBatch(base.dim, chunk, *num_rows);
    CheckOk(batch.status(), "batch");
    CheckOk(table->Add(*batch).status(), "Table::Add");
    *num_rows += n;
  }
}

void RunThroughput(const Dataset& data, int64_t rows, int64_t fragment_rows, int repeat) {
  const std::string dir = FreshDir("flat_scan");
  auto created = Table::Create(dir + "/t", VectorSchema(data.dim));
  CheckOk(created.status(), "Table::Create");
  Table* table = created->get();
  int64_t num_rows = 0;
  Stopwatch load;
  GrowTable(table, data, &num_rows, rows, fragment_rows);
  auto mapped = MapVectors(table);
  CheckOk(mapped.status(), "scan");
  const int64_t bytes = mapped->bytes;
  std::printf(
      "Part 1: throughput. Table of %s rows x %d dims (%s fragments of %s rows, %.0f MB of "
      "vectors; loaded in %.1f s), no index.\n",
      Count(num_rows).c_str(), data.dim, Count(static_cast<int64_t>(mapped->spans.size())).c_str(),
      Count(fragment_rows).c_str(), static_cast<double>(bytes) / 1e6, load.Seconds());

  const float* query = data.query_row(0);
  int64_t query_idx = 0;
  const auto next_query = [&] {
    query_idx = (query_idx + 1) % data.num_queries();
    return data.query_row(query_idx);
  };
  uint64_t sink = 0;
  const Throughput read1 = Measure(bytes, repeat, [&] { sink += MemoryRead(*mapped, 1); });
  const Throughput read2 = Measure(bytes, repeat, [&] { sink += MemoryRead(*mapped, 2); });
  float fsink = 0;
  const Throughput kernel1 =
      Measure(bytes, repeat, [&] { fsink += KernelScan(*mapped, query, data.dim, 1); });
  const Throughput kernel2 =
      Measure(bytes, repeat, [&] { fsink += KernelScan(*mapped, query, data.dim, 2); });
  const Throughput table1 = Measure(bytes, repeat, [&] {
    const float* q = next_query();
    auto result =
        BypassQuery(table, q, data.dim).ExecuteBatch({q, static_cast<size_t>(data.dim)}, 1);
    CheckOk(result.status(), "ExecuteBatch");
  });
  std::vector<double> flat_gbps;
  const Throughput table2 = Measure(bytes, repeat, [&] {
    QueryStats stats;
    auto result = BypassQuery(table, next_query(), data.dim).Execute(&stats);
    CheckOk(result.status(), "Execute");
    if (stats.rows_flat_scanned != num_rows) {
      std::fprintf(stderr, "scanned %lld of %lld rows\n",
                   static_cast<long long>(stats.rows_flat_scanned),
                   static_cast<long long>(num_rows));
      std::exit(1);
    }
    flat_gbps.push_back(static_cast<double>(bytes) / (stats.flat_ms * 1e-3) / 1e9);
  });
  flat_gbps.erase(flat_gbps.begin());  // the warm-up run
  const Throughput flat2{*std::max_element(flat_gbps.begin(), flat_gbps.end()),
                         Percentile(flat_gbps, 0.5)};

  TextTable out({"what is measured", "threads", "GB/s best", "GB/s median", "% of memory read",
                 "target", "verdict"});
  const auto row = [&](const char* what, int threads, const Throughput& t,
                       const Throughput& reference, double target) {
    const double percent = 100.0 * t.best_gbps / reference.best_gbps;
    out.AddRow({what, std::to_string(threads), Fixed(t.best_gbps, 2), Fixed(t.median_gbps, 2),
                Fixed(percent, 1), target > 0 ? ">= " + Fixed(target, 0) + "%" : "",
                target > 0 ? (percent >= target ? "meets" : "BELOW") : ""});
  };
  row("memory read (reference), 64-bit words", 1, read1, read1, 0);
  row("simd kernel l2_squared_batch (no table)", 1, kernel1, read1, 0);
  row("Table::Search bypass, ExecuteBatch(1 query)", 1, table1, read1, 85);
  out.AddSeparator();
  row("memory read (reference), 64-bit words", 2, read2, read2, 0);
  row("simd kernel l2_squared_batch (no table)", 2, kernel2, read2, 0);
  row("Table::Search bypass, Execute()", 2, table2, read2, 75);
  row("  ... its flat stage only (QueryStats::flat_ms)", 2, flat2, read2, 0);
  out.Print();
  std::printf(
      "(GB/s of vector bytes per query; best and median of %d runs; %% = best / best of "
      "the memory read on as many threads)\n\n",
      repeat);
  benchmark::DoNotOptimize(sink);
  benchmark::DoNotOptimize(fsink);
  created->reset();
  std::filesystem::remove_all(dir);
}

// Least-squares slope and intercept of y over x.
std::pair<double, double> Fit(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t idx = 0; idx < x.size(); ++idx) {
    sx += x[idx];
    sy += y[idx];
    sxx += x[idx] * x[idx];
    sxy += x[idx] * y[idx];
  }
  const double denominator = n * sxx - sx * sx;
  if (x.size() < 2 || denominator == 0) return {0, sy / std::max(n, 1.0)};
  const double slope = (n * sxy - sx * sy) / denominator;
  return {slope, (sy - slope * sx) / n};
}

void RunLatency(const Dataset& data, const std::vector<int64_t>& sizes, int num_queries) {
  const std::string dir = FreshDir("flat_scan_latency");
  auto created = Table::Create(dir + "/t", VectorSchema(data.dim));
  CheckOk(created.status(), "Table::Create");
  Table* table = created->get();
  std::printf(
      "Part 2: latency added per unindexed row. One table grown in fragments of 1,000 "
      "rows; p50 of %d queries at each size (each query's fastest of 3 runs).\n",
      num_queries);
  TextTable out({"unindexed rows", "fragments", "Execute p50 ms", "us per 1k rows", "1-core p50 ms",
                 "us per 1k rows (1 core)"});
  std::vector<double> xs_all, y_one, xs_par, y_par;
  int64_t num_rows = 0;
  for (int64_t size : sizes) {
    GrowTable(table, data, &num_rows, size, 1000);
    std::vector<double> par_ms, one_ms;
    for (int query = 0; query < num_queries; ++query) {
      const float* q = data.query_row(query % data.num_queries());
      double best_par = 1e300, best_one = 1e300;
      for (int run = 0; run < 3; ++run) {
        Stopwatch watch;
        CheckOk(BypassQuery(table, q, data.dim).Execute().status(), "Execute");
        best_par = std::min(best_par, watch.Millis());
        watch.Restart();
        CheckOk(BypassQuery(table, q, data.dim)
                    .ExecuteBatch({q, static_cast<size_t>(data.dim)}, 1)
                    .status(),
                "ExecuteBatch");
        best_one = std::min(best_one, watch.Millis());
      }
      par_ms.push_back(best_par);
      one_ms.push_back(best_one);
    }
    const double par = Percentile(par_ms, 0.5);
    const double one = Percentile(one_ms, 0.5);
    xs_all.push_back(static_cast<double>(num_rows) / 1000.0);
    y_one.push_back(one);
    if (num_rows >= 16384) {
      xs_par.push_back(static_cast<double>(num_rows) / 1000.0);
      y_par.push_back(par);
    }
    out.AddRow({Count(num_rows), Count((num_rows + 999) / 1000), Fixed(par, 3),
                Fixed(1000.0 * par / (static_cast<double>(num_rows) / 1000.0), 1), Fixed(one, 3),
                Fixed(1000.0 * one / (static_cast<double>(num_rows) / 1000.0), 1)});
  }
  out.Print();
  const auto [slope_one, intercept_one] = Fit(xs_all, y_one);
  const auto [slope_par, intercept_par] = Fit(xs_par, y_par);
  std::printf(
      "Fitted: one core: %.1f us per 1,000 unindexed %d-d rows (+ %.3f ms fixed); "
      "Execute() above 16,384 rows (both cores): %.1f us per 1,000 rows (+ %.3f ms "
      "fixed).\n\n",
      slope_one * 1000.0, data.dim, intercept_one, slope_par * 1000.0, intercept_par);
  created->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  Flags flags(argc, argv);
  const int64_t rows = flags.GetInt("rows", 240000);
  const int64_t fragment_rows = flags.GetInt("fragment_rows", 10000);
  const int repeat = static_cast<int>(flags.GetInt("repeat", 15));
  const int latency_queries = static_cast<int>(flags.GetInt("latency_queries", 50));
  if (!flags.CheckAllUsed()) return 2;
  PrintBanner(
      "flat_scan_benchmark",
      "Flat-scan throughput of Table::Search(...).BypassVectorIndex() on a table without\n"
      "an index, on one core and on both, as a percentage of a plain memory-read loop over\n"
      "the same mmapped bytes in the same run; and the latency each 1,000 unindexed 784-d\n"
      "rows add to a query.",
      "build/bench/bench/flat_scan_benchmark [--rows=240000] [--fragment_rows=10000] "
      "[--repeat=15] [--latency_queries=50]");
  auto data = LoadFashionMnist(60000, 1000);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  RunThroughput(*data, rows, fragment_rows, repeat);
  RunLatency(*data, {1000, 2000, 5000, 10000, 20000, 30000, 50000, 60000}, latency_queries);
  return 0;
}
