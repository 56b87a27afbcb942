// Query latency against the size of the unindexed tail: the curve operators use to choose how
// often to run optimize().
//
// A table holds Fashion-MNIST's 60,000 training images (784-d) with an IVF_HNSW_SQ index
// (Table::CreateIndex with the library defaults). A streaming writer then appends tail rows in
// fragments of --fragment_rows (default 1,000): the training images again, each value plus
// gaussian noise (std --noise), so that they are new rows near the indexed ones. At tail sizes
// 0, 1k, 10k, 50k (and 200k with --large) the 1,000 test images are queried one after another
// with Table::Search(v).Limit(10).Select({"id"}).Execute(&stats) at the query defaults
// (nprobes=20, ef and refine_factor automatic; --nprobes/--ef/--refine_factor change them).
// Each query runs --repeat times and its fastest run counts, which removes most preemptions on a
// shared machine (--repeat=1 gives the raw distribution). Recall@10 is against the exact top 10
// of base + tail. Finally OptimizeIndices() indexes the largest tail (timed) and the queries run
// once more.
//
// Run: build/bench/bench/tail_latency_benchmark [--large] [--repeat=3] [--fragment_rows=1000]
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "tessera/table.h"

namespace tessera::bench {
namespace {

constexpr int32_t kK = 10;

struct Options {
  bool large = false;
  int repeat = 3;
  int64_t fragment_rows = 1000;
  double noise = 0.02;
  int32_t nprobes = 20;
  int32_t ef = 0;
  int32_t refine_factor = 0;
  int64_t queries = 1000;
};

void CheckOk(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

struct Measurement {
  std::vector<double> latency_ms;
  double mean_index_ms = 0;
  double mean_flat_ms = 0;
  double recall = 0;
};

// Run every query `options.repeat` times; keep each query's fastest run and its stats.
Measurement RunQueries(Table* table, const Dataset& data, const std::vector<float>& all_vectors,
                       const Options& options) {
  const int64_t num_rows = static_cast<int64_t>(all_vectors.size()) / data.dim;
  const auto truth = ExactNeighbors(all_vectors, data.queries, data.dim, kK, 2);
  const auto query_of = [&](int64_t query) {
    return table->Search({data.query_row(query), static_cast<size_t>(data.dim)})
        .Limit(kK)
        .Select({"id"})
        .WithRowId()
        .Nprobes(options.nprobes)
        .Ef(options.ef)
        .RefineFactor(options.refine_factor);
  };
  for (int64_t query = 0; query < std::min<int64_t>(50, data.num_queries()); ++query) {
    CheckOk(query_of(query).Execute().status(), "warm-up");
  }
  Measurement out;
  std::vector<std::vector<uint64_t>> found(data.num_queries());
  for (int64_t query = 0; query < data.num_queries(); ++query) {
    double best_ms = 1e300;
    QueryStats best_stats;
    for (int run = 0; run < std::max(1, options.repeat); ++run) {
      QueryStats stats;
      Stopwatch watch;
      auto result = query_of(query).Execute(&stats);
      const double ms = watch.Millis();
      CheckOk(result.status(), "Execute");
      if (ms < best_ms) {
        best_ms = ms;
        best_stats = stats;
        found[query] = RowIdsOf(*result).value();
      }
    }
    if (best_stats.rows_flat_scanned + best_stats.rows_via_index == 0 && num_rows > 0) {
      std::fprintf(stderr, "query %lld searched nothing\n", static_cast<long long>(query));
      std::exit(1);
    }
    out.latency_ms.push_back(best_ms);
    out.mean_index_ms += best_stats.index_ms;
    out.mean_flat_ms += best_stats.flat_ms;
  }
  out.mean_index_ms /= static_cast<double>(data.num_queries());
  out.mean_flat_ms /= static_cast<double>(data.num_queries());
  out.recall = Recall(found, truth);
  return out;
}

int Run(const Options& options) {
  auto loaded = LoadFashionMnist(60000, options.queries);
  CheckOk(loaded.status(), "Fashion-MNIST");
  const Dataset& data = *loaded;
  const std::string dir = FreshDir("tail_latency");
  Stopwatch load;
  auto created = CreateVectorTable(dir + "/t", data.dim, data.base, 60000);
  CheckOk(created.status(), "create table");
  Table* table = created->get();
  const double load_s = load.Seconds();
  Stopwatch build;
  IndexConfig config;  // IVF_HNSW_SQ, L2, m=16, ef_construction=150, partitions automatic
  CheckOk(table->CreateIndex("vector", config), "CreateIndex");
  const double build_s = build.Seconds();
  std::printf(
      "Table: %s base rows x %d dims (loaded in %.1f s); CreateIndex(%s, m=%d, "
      "ef_construction=%d, partitions automatic) in %.1f s on all cores.\n",
      Count(data.num_base()).c_str(), data.dim, load_s, config.type.c_str(), config.m,
      config.ef_construction, build_s);
  std::printf(
      "Queries: %s test images, k=%d, nprobes=%d ef=%d refine_factor=%d (0 = automatic), "
      "fastest of %d runs each; tail fragments of %s rows, noise std %.3f.\n\n",
      Count(data.num_queries()).c_str(), kK, options.nprobes, options.ef, options.refine_factor,
      options.repeat, Count(options.fragment_rows).c_str(), options.noise);
  std::fflush(stdout);

  std::vector<int64_t> tail_sizes = {0, 1000, 10000, 50000};
  if (options.large) tail_sizes.push_back(200000);
  std::vector<float> all_vectors = data.base;  // base + tail, in row-id order
  std::mt19937_64 rng(11);
  std::normal_distribution<float> noise(0.0f, static_cast<float>(options.noise));
  int64_t tail_rows = 0;
  int64_t num_fragments = 1;
  double base_p50 = 0;
  TextTable out({"tail rows", "fragments", "p50 ms", "p95 ms", "p99 ms", "mean ms", "index ms",
                 "flat ms", "recall@10", "p50 - p50(0) ms", "us per 1k tail rows"});
  const auto add_row = [&](const std::string& label, int64_t tail, const Measurement& m) {
    const double p50 = Percentile(m.latency_ms, 0.50);
    out.AddRow({label, Count(num_fragments), Fixed(p50, 3),
                Fixed(Percentile(m.latency_ms, 0.95), 3), Fixed(Percentile(m.latency_ms, 0.99), 3),
                Fixed(Mean(m.latency_ms), 3), Fixed(m.mean_index_ms, 3), Fixed(m.mean_flat_ms, 3),
                Fixed(m.recall, 4), tail > 0 ? Fixed(p50 - base_p50, 3) : "-",
                tail > 0
                    ? Fixed(1000.0 * (p50 - base_p50) / (static_cast<double>(tail) / 1000.0), 1)
                    : "-"});
  };
  for (int64_t target : tail_sizes) {
    std::vector<float> chunk;
    while (tail_rows < target) {
      const int64_t n = std::min(options.fragment_rows, target - tail_rows);
      chunk.resize(static_cast<size_t>(n) * data.dim);
      for (int64_t row = 0; row < n; ++row) {
        const float* source = data.base_row((tail_rows + row) % data.num_base());
        for (int32_t d = 0; d < data.dim; ++d) chunk[row * data.dim + d] = source[d] + noise(rng);
      }
      const int64_t first_id = data.num_base() + tail_rows;
      auto batch = MakeVectorBatch(data.dim, chunk, first_id);
      CheckOk(batch.status(), "batch");
      auto added = table->Add(*batch);
      CheckOk(added.status(), "Add");
      if (added->first_row_id != static_cast<uint64_t>(first_id)) {
        std::fprintf(stderr, "unexpected row id %llu\n",
                     static_cast<unsigned long long>(added->first_row_id));
        return 1;
      }
      all_vectors.insert(all_vectors.end(), chunk.begin(), chunk.end());
      tail_rows += n;
      ++num_fragments;
    }
    const Measurement m = RunQueries(table, data, all_vectors, options);
    if (target == 0) base_p50 = Percentile(m.latency_ms, 0.50);
    add_row(Count(target), target, m);
    std::printf("  measured tail %s\n", Count(target).c_str());
    std::fflush(stdout);
  }
  Stopwatch optimize;
  auto optimized = table->OptimizeIndices();
  CheckOk(optimized.status(), "OptimizeIndices");
  const double optimize_s = optimize.Seconds();
  const Measurement after = RunQueries(table, data, all_vectors, options);
  out.AddSeparator();
  add_row("0 (after optimize)", 0, after);
  std::printf("\n");
  out.Print();
  std::printf(
      "OptimizeIndices() indexed the %s-row tail as %lld new segment(s) in %.1f s "
      "(assigning rows to the existing partitions, no retraining).\n",
      Count(tail_rows).c_str(), static_cast<long long>(optimized->segments_added), optimize_s);
  std::printf(
      "index ms / flat ms: mean QueryStats of the counted runs (time in index segments / "
      "in the flat scan of the tail; the scan uses both cores above 16,384 rows).\n\n");
  created->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  Flags flags(argc, argv);
  Options options;
  options.large = flags.GetBool("large");
  options.repeat = static_cast<int>(flags.GetInt("repeat", options.repeat));
  options.fragment_rows = flags.GetInt("fragment_rows", options.fragment_rows);
  options.noise = flags.GetDouble("noise", options.noise);
  options.nprobes = static_cast<int32_t>(flags.GetInt("nprobes", options.nprobes));
  options.ef = static_cast<int32_t>(flags.GetInt("ef", options.ef));
  options.refine_factor =
      static_cast<int32_t>(flags.GetInt("refine_factor", options.refine_factor));
  options.queries = flags.GetInt("queries", options.queries);
  if (!flags.CheckAllUsed()) return 2;
  PrintBanner(
      "tail_latency_benchmark",
      "Query latency p50/p95/p99 of Table::Search over an IVF_HNSW_SQ-indexed Fashion-MNIST\n"
      "table (60,000 x 784) as the unindexed tail grows: 0, 1k, 10k, 50k rows (200k with\n"
      "--large); then after OptimizeIndices(). The curve to set the optimize cadence by.",
      "build/bench/bench/tail_latency_benchmark [--large] [--repeat=3] "
      "[--fragment_rows=1000] [--noise=0.02] [--nprobes=20 --ef=0 --refine_factor=0]");
  return Run(options);
}
