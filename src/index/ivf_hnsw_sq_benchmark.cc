// Single-thread search throughput of IVF_HNSW_SQ on Fashion-MNIST (60k base, 1k queries) when
// the Debian package is installed, else on clustered random data of the same shape.
// Counters: recall@10 against brute force, bytes of index memory per row.
#include <benchmark/benchmark.h>

#include <memory>

#include "index/index_test_util_internal.h"
#include "index/ivf_hnsw_sq.h"

namespace tessera::index {
namespace {

constexpr int32_t kDim = 784;
constexpr int64_t kQueries = 1000;

struct Fixture {
  std::vector<float> base;
  std::vector<float> queries;
  std::vector<std::vector<uint64_t>> truth;
  std::unique_ptr<IvfHnswSqIndex> index[2];  // 1 and 8 partitions
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    f->base = testing_internal::LoadFashionMnist("train-images-idx3-ubyte.gz", 60000);
    f->queries = testing_internal::LoadFashionMnist("t10k-images-idx3-ubyte.gz", kQueries);
    if (f->base.empty() || f->queries.empty()) {
      const std::vector<float> all =
          testing_internal::ClusteredVectors(60000 + kQueries, kDim, 10, 0.3f, 1);
      f->base.assign(all.begin(), all.begin() + 60000 * kDim);
      f->queries.assign(all.begin() + 60000 * kDim, all.end());
    }
    const int64_t num_rows = static_cast<int64_t>(f->base.size()) / kDim;
    f->truth = testing_internal::BruteForce(f->base, f->queries, kDim, 10, Metric::kL2);
    std::vector<uint64_t> row_ids(num_rows);
    for (int64_t row = 0; row < num_rows; ++row) row_ids[row] = static_cast<uint64_t>(row);
    for (int variant = 0; variant < 2; ++variant) {
      IndexBuildOptions options;
      options.num_partitions = variant == 0 ? 1 : 8;
      options.ef_construction = 150;
      f->index[variant] = IvfHnswSqIndex::Build(options, f->base, kDim, row_ids).value();
    }
    return f;
  }();
  return *fixture;
}

// Args: partitions variant (0: 1, 1: 8), nprobes, ef, refine_factor.
void BM_IvfHnswSqSearch(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const IvfHnswSqIndex& index = *f.index[state.range(0)];
  const VectorLookup lookup = [&f](uint64_t row_id) { return f.base.data() + row_id * kDim; };
  SearchOptions options;
  options.nprobes = static_cast<int32_t>(state.range(1));
  options.ef = static_cast<int32_t>(state.range(2));
  options.refine_factor = static_cast<int32_t>(state.range(3));
  options.vectors = &lookup;
  std::vector<std::vector<uint64_t>> found(kQueries);
  std::vector<Neighbor> results;
  int64_t query = 0;
  for (auto _ : state) {
    const Status status = index.Search({f.queries.data() + query * kDim, kDim}, options, &results);
    benchmark::DoNotOptimize(status.ok());
    found[query].clear();
    for (const Neighbor& n : results) found[query].push_back(n.row_id);
    query = (query + 1) % kQueries;
  }
  state.counters["recall@10"] = testing_internal::Recall(found, f.truth);
  state.counters["bytes_per_row"] =
      static_cast<double>(index.memory_bytes()) / static_cast<double>(index.num_rows());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IvfHnswSqSearch)
    ->ArgNames({"p8", "nprobes", "ef", "refine"})
    ->Args({0, 1, 12, 0})
    ->Args({0, 1, 16, 0})
    ->Args({0, 1, 24, 0})
    ->Args({0, 1, 10, 2})
    ->Args({1, 2, 12, 0})
    ->Args({1, 2, 16, 0})
    ->MinTime(1.0);

}  // namespace
}  // namespace tessera::index

BENCHMARK_MAIN();
