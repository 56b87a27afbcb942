// Recall@10 against queries per second: Tessera's vector indices against hnswlib and FAISS.
//
// For each data set (Fashion-MNIST: 60,000 x 784 base, 1,000 test queries; a generated clustered
// set, 200,000 x 128 by default) it computes the exact top 10 by brute force, then:
//  1. builds every Tessera index type through the index layer (BuildIndex, 2 threads) and sweeps
//     its query knobs, answering the queries one after another on one thread (raw index QPS);
//  2. builds hnswlib (M=16, ef_construction=200, 2 threads) and sweeps ef; FAISS IndexHNSWFlat
//     and IndexIVFScalarQuantizer (QT_8bit) likewise, when the package is installed, and
//     IndexIVFPQ (same lists and sub-vectors as Tessera's IVF_PQ) when IVF_PQ is measured;
//  3. prints build time and memory against hnswlib's, and the ratio of the best QPS at
//     recall@10 >= 0.95 (Tessera / hnswlib), re-measured head to head in interleaved rounds;
//  4. builds a Table with the same rows and an IVF_HNSW_SQ index (Table::CreateIndex) and times
//     Table::Search(...).Execute() end to end at the raw sweep's best points.
//
// Run (build with the bench preset first: cmake --preset bench && cmake --build --preset bench):
//   build/bench/bench/vector_search_benchmark                      # both data sets, ~40 min
//   build/bench/bench/vector_search_benchmark --dataset=fashion
//   build/bench/bench/vector_search_benchmark --dataset=clustered --clustered_rows=1000000
//       (the 1,000,000 x 128 target; about an hour on 2 cores)
// Flags: --queries=N --threads=N (build threads) --types=IVF_HNSW_SQ,HNSW,IVF_SQ,IVF_PQ,IVF_FLAT
//        --clustered_dim=N --clustered_clusters=N --num_partitions=N (raw IVF indices; 0 = default)
//        --repeat=N (passes per point) --h2h_rounds=N --no_faiss --no_table --quick
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "index/ivf_flat.h"
#include "index/ivf_hnsw_sq.h"
#include "index/pq/product_quantizer.h"
#include "index/vector_index.h"
#include "reference_index.h"
#include "tessera/table.h"

namespace tessera::bench {
namespace {

constexpr int32_t kK = 10;
constexpr int32_t kM = 16;
constexpr int32_t kEfConstruction = 200;
constexpr int64_t kWarmupQueries = 100;
constexpr double kRecallTargets[] = {0.90, 0.95, 0.99};
constexpr double kHeadlineRecall = 0.95;

using Truth = std::vector<std::vector<uint64_t>>;

struct Options {
  std::string dataset = "all";
  int64_t queries = 1000;
  int64_t clustered_rows = 200000;
  int32_t clustered_dim = 128;
  int32_t clustered_clusters = 256;
  int threads = 2;
  int repeat = 2;
  int32_t num_partitions = 0;  // 0: each type's default
  int h2h_rounds = 5;
  std::vector<std::string> types = {"IVF_HNSW_SQ", "HNSW", "IVF_SQ", "IVF_PQ", "IVF_FLAT"};
  bool faiss = true;
  bool table = true;
  bool quick = false;
};

// One operating point of one method.
struct Point {
  std::string params;
  double recall = 0;
  double qps = 0;       // per process CPU second
  double wall_qps = 0;  // per wall-clock second
  double mean_us = 0;
  double p50_us = 0;
  double p99_us = 0;
  // Tessera: the knobs (also to replay the point through Table::Search). References: `param`.
  int32_t nprobes = 0, ef = 0, refine_factor = 0;
  int32_t param = 0;
};

// Answers one query: writes the ids of the k nearest rows to *ids.
using SearchFn = std::function<void(const float* query, std::vector<uint64_t>* ids)>;

// One built index and its sweep.
struct Method {
  std::string name;
  bool is_reference = false;  // hnswlib / FAISS
  std::string structure;      // e.g. "3 partitions"
  int threads = 0;
  double build_s = 0;
  size_t memory_bytes = 0;
  std::vector<Point> points;
  // Return a search function at `point`'s knobs; it keeps the built index alive.
  std::function<SearchFn(const Point& point)> searcher;
};

// Run every query `repeat` times (after kWarmupQueries untimed ones) through
// `search(query, ids)`, one at a time on this thread. QPS is queries / process CPU seconds of the
// fastest pass, so that other processes on a shared machine do not count; wall QPS is also
// kept. A query's latency is its fastest run (wall clock), which removes most preemptions.
template <class SearchFn>
Point Measure(const Dataset& data, const Truth& truth, int repeat, SearchFn&& search) {
  std::vector<uint64_t> ids;
  for (int64_t query = 0; query < std::min(kWarmupQueries, data.num_queries()); ++query) {
    search(data.query_row(query), &ids);
  }
  std::vector<std::vector<uint64_t>> found(data.num_queries());
  std::vector<double> latency_us(data.num_queries(), std::numeric_limits<double>::infinity());
  double best_cpu_s = std::numeric_limits<double>::infinity();
  double best_wall_s = std::numeric_limits<double>::infinity();
  for (int pass = 0; pass < std::max(1, repeat); ++pass) {
    CpuStopwatch cpu;
    Stopwatch wall;
    for (int64_t query = 0; query < data.num_queries(); ++query) {
      Stopwatch one;
      search(data.query_row(query), &found[query]);
      latency_us[query] = std::min(latency_us[query], one.Micros());
    }
    best_wall_s = std::min(best_wall_s, wall.Seconds());
    best_cpu_s = std::min(best_cpu_s, cpu.Seconds());
  }
  const double num_queries = static_cast<double>(data.num_queries());
  Point point;
  point.recall = Recall(found, truth);
  point.qps = num_queries / best_cpu_s;
  point.wall_qps = num_queries / best_wall_s;
  point.mean_us = Mean(latency_us);
  point.p50_us = Percentile(latency_us, 0.50);
  point.p99_us = Percentile(latency_us, 0.99);
  return point;
}

// Return the point with the most QPS among those with recall >= `target`, if any.
std::optional<Point> BestAtRecall(const Method& method, double target) {
  std::optional<Point> best;
  for (const Point& point : method.points) {
    if (point.recall >= target && (!best || point.qps > best->qps)) best = point;
  }
  return best;
}

// Return true if no other point of `method` has both more recall and more QPS.
bool IsParetoOptimal(const Method& method, const Point& point) {
  for (const Point& other : method.points) {
    if (other.recall > point.recall && other.qps > point.qps) return false;
  }
  return true;
}

void PrintSweep(const Method& method) {
  std::printf("%s  (%s; built in %.1f s on %d threads)\n", method.name.c_str(),
              method.structure.c_str(), method.build_s, method.threads);
  TextTable table({"params", "recall@10", "QPS", "wall QPS", "p50 us", "p99 us", "pareto"});
  for (const Point& point : method.points) {
    table.AddRow({point.params, Fixed(point.recall, 4), Fixed(point.qps, 0),
                  Fixed(point.wall_qps, 0), Fixed(point.p50_us, 1), Fixed(point.p99_us, 1),
                  IsParetoOptimal(method, point) ? "*" : ""});
  }
  table.Print();
  std::printf("\n");
}

std::string Knobs(int32_t nprobes, int32_t ef, int32_t refine_factor) {
  std::string out;
  if (nprobes > 0) out += "nprobes=" + std::to_string(nprobes) + " ";
  if (ef > 0) out += "ef=" + std::to_string(ef) + " ";
  if (refine_factor > 0) out += "refine=" + std::to_string(refine_factor);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

int32_t NumPartitions(const index::VectorIndex& index) { return index.num_partitions(); }

// The knob grid swept for one Tessera index type: {nprobes, ef, refine_factor}. nprobes values
// above the partition count become the partition count (once).
std::vector<std::array<int32_t, 3>> TesseraGrid(index::IndexType type, int32_t num_partitions,
                                                bool quick) {
  std::vector<int32_t> nprobes_list;
  std::vector<int32_t> ef_list = {0};
  std::vector<int32_t> refine_list = {0};
  switch (type) {
    case index::IndexType::kIvfHnswSq:
      nprobes_list = {1, 2, 4};
      ef_list = quick ? std::vector<int32_t>{16, 64, 256}
                      : std::vector<int32_t>{10, 16, 24, 32, 48, 64, 128, 256};
      refine_list = {0, 2, 4};
      break;
    case index::IndexType::kHnsw:
      nprobes_list = {1};
      ef_list = quick ? std::vector<int32_t>{16, 64, 256}
                      : std::vector<int32_t>{10, 16, 24, 32, 48, 64, 128, 256};
      refine_list = {0, 2, 4};
      break;
    case index::IndexType::kIvfSq:
      nprobes_list =
          quick ? std::vector<int32_t>{2, 8, 32} : std::vector<int32_t>{1, 2, 4, 8, 16, 32, 64};
      refine_list = {0, 2, 4};
      break;
    case index::IndexType::kIvfPq:
      nprobes_list =
          quick ? std::vector<int32_t>{2, 8, 32} : std::vector<int32_t>{1, 2, 4, 8, 16, 32, 64};
      refine_list = {0, 4, 10};
      break;
    case index::IndexType::kIvfFlat:
      nprobes_list =
          quick ? std::vector<int32_t>{2, 8, 32} : std::vector<int32_t>{1, 2, 4, 8, 16, 32, 64};
      break;
  }
  std::vector<std::array<int32_t, 3>> grid;
  std::vector<int32_t> seen;
  for (int32_t wanted : nprobes_list) {
    const int32_t nprobes = std::min(wanted, num_partitions);
    if (std::find(seen.begin(), seen.end(), nprobes) != seen.end()) continue;
    seen.push_back(nprobes);
    for (int32_t refine : refine_list) {
      for (int32_t ef : ef_list) grid.push_back({nprobes, ef, refine});
    }
  }
  return grid;
}

// Build one Tessera index type through the index layer and sweep its knobs.
std::optional<Method> RunTessera(const Dataset& data, const Truth& truth, const std::string& type,
                                 const Options& options) {
  index::IndexBuildOptions build;
  auto parsed = index::ParseIndexType(type);
  if (!parsed.ok()) {
    std::printf("Tessera %s: not built (%s)\n\n", type.c_str(), parsed.status().ToString().c_str());
    return std::nullopt;
  }
  build.type = *parsed;
  build.m = kM;
  build.ef_construction = kEfConstruction;
  build.num_threads = options.threads;
  build.num_partitions = options.num_partitions;
  std::vector<uint64_t> row_ids(data.num_base());
  for (int64_t row = 0; row < data.num_base(); ++row) row_ids[row] = static_cast<uint64_t>(row);
  Stopwatch build_time;
  auto built = index::BuildIndex(build, data.base, data.dim, row_ids);
  if (!built.ok()) {
    std::printf("Tessera %s: build failed: %s\n\n", type.c_str(),
                built.status().ToString().c_str());
    return std::nullopt;
  }
  Method method;
  method.name = "Tessera " + type;
  method.threads = options.threads;
  method.build_s = build_time.Seconds();
  // Shared because every search function made by method.searcher keeps it alive.
  std::shared_ptr<const index::VectorIndex> idx = std::move(built).value();
  method.memory_bytes = idx->memory_bytes();
  const int32_t num_partitions = NumPartitions(*idx);
  method.structure = Count(num_partitions) + (num_partitions == 1 ? " partition" : " partitions");
  if (build.type == index::IndexType::kHnsw) {
    method.structure += "; one graph";
  }
  const int32_t dim = data.dim;
  const index::VectorLookup lookup = [&data](uint64_t row_id) {
    return data.base_row(static_cast<int64_t>(row_id));
  };
  method.searcher = [idx, lookup, dim](const Point& point) -> SearchFn {
    index::SearchOptions search;
    search.k = kK;
    search.nprobes = point.nprobes;
    search.ef = point.ef;
    search.refine_factor = point.refine_factor;
    auto neighbors = std::make_shared<std::vector<index::Neighbor>>();
    return [idx, lookup, search, neighbors, dim](const float* query,
                                                 std::vector<uint64_t>* ids) mutable {
      search.vectors = &lookup;
      const Status status = idx->Search({query, static_cast<size_t>(dim)}, search, neighbors.get());
      if (!status.ok()) {
        std::fprintf(stderr, "search failed: %s\n", status.ToString().c_str());
        std::exit(1);
      }
      ids->clear();
      for (const index::Neighbor& neighbor : *neighbors) ids->push_back(neighbor.row_id);
    };
  };
  for (const auto& [nprobes, ef, refine] : TesseraGrid(build.type, num_partitions, options.quick)) {
    Point knobs;
    knobs.nprobes = nprobes;
    knobs.ef = ef;
    knobs.refine_factor = refine;
    Point point = Measure(data, truth, options.repeat, method.searcher(knobs));
    point.params = Knobs(build.type == index::IndexType::kHnsw ? 0 : nprobes, ef, refine);
    point.nprobes = nprobes;
    point.ef = ef;
    point.refine_factor = refine;
    method.points.push_back(point);
  }
  PrintSweep(method);
  return method;
}

// Build a reference index and sweep its knob (ef or nprobe) over `values`.
std::optional<Method> RunReference(
    const Dataset& data, const Truth& truth, std::string name, std::string knob,
    const std::vector<int32_t>& values, int threads, int repeat, std::string structure,
    const std::function<Result<std::unique_ptr<ReferenceIndex>>()>& build) {
  Stopwatch build_time;
  auto built = build();
  if (!built.ok()) {
    std::printf("%s: not run (%s)\n\n", name.c_str(), built.status().ToString().c_str());
    return std::nullopt;
  }
  Method method;
  method.name = std::move(name);
  method.is_reference = true;
  method.structure = std::move(structure);
  method.threads = threads;
  method.build_s = build_time.Seconds();
  // Shared because every search function made by method.searcher keeps it alive.
  std::shared_ptr<ReferenceIndex> index = std::move(built).value();
  method.memory_bytes = index->memory_bytes();
  method.searcher = [index](const Point& point) -> SearchFn {
    index->SetSearchParam(point.param);
    return
        [index](const float* query, std::vector<uint64_t>* ids) { index->Search(query, kK, ids); };
  };
  for (int32_t value : values) {
    Point knobs;
    knobs.param = value;
    Point point = Measure(data, truth, repeat, method.searcher(knobs));
    point.params = knob + "=" + std::to_string(value);
    point.param = value;
    method.points.push_back(point);
  }
  PrintSweep(method);
  return method;
}

std::string BestCell(const std::optional<Point>& point) {
  if (!point) return "-";
  return Fixed(point->qps, 0) + " (" + point->params + ")";
}

void PrintSummary(const Dataset& data, const std::vector<Method>& methods) {
  const Method* hnswlib = nullptr;
  for (const Method& method : methods) {
    if (method.name.rfind("hnswlib", 0) == 0) hnswlib = &method;
  }
  std::printf(
      "Summary, %s: build, memory and best QPS at a recall@10 target "
      "(single-thread sequential queries)\n",
      data.name.c_str());
  std::vector<std::string> header = {"method",    "build s", "x hnswlib",
                                     "memory MB", "B/row",   "x hnswlib"};
  for (double target : kRecallTargets) header.push_back("QPS @R>=" + Fixed(target, 2));
  header.push_back("QPS / hnswlib @0.95");
  TextTable table(header);
  const std::optional<Point> reference =
      hnswlib ? BestAtRecall(*hnswlib, kHeadlineRecall) : std::nullopt;
  for (const Method& method : methods) {
    std::vector<std::string> row = {method.name + " (" + std::to_string(method.threads) + "t)",
                                    Fixed(method.build_s, 1)};
    row.push_back(hnswlib ? Fixed(method.build_s / hnswlib->build_s, 2) : "-");
    row.push_back(Fixed(static_cast<double>(method.memory_bytes) / 1e6, 1));
    row.push_back(
        Fixed(static_cast<double>(method.memory_bytes) / static_cast<double>(data.num_base()), 0));
    row.push_back(hnswlib ? Fixed(static_cast<double>(method.memory_bytes) /
                                      static_cast<double>(hnswlib->memory_bytes),
                                  2)
                          : "-");
    for (double target : kRecallTargets) row.push_back(BestCell(BestAtRecall(method, target)));
    const std::optional<Point> best = BestAtRecall(method, kHeadlineRecall);
    row.push_back(best && reference ? Fixed(best->qps / reference->qps, 2) : "-");
    table.AddRow(row);
  }
  table.Print();
  std::printf(
      "memory: Tessera = VectorIndex::memory_bytes() (centroids, SQ8 codes or float lists, row "
      "ids, graphs; refine reads the full vectors from the table and is not counted); hnswlib = "
      "rows x size_data_per_element (float vector + level-0 links + label) + upper-level link "
      "lists; FAISS: vectors/codes + graph or ids.\n\n");
}

// Re-measure each method's fastest point at recall@10 >= kHeadlineRecall in `rounds` rounds. In
// a round every method answers the same block of 50 queries, one method after another, block by
// block, so that a slow phase of a shared machine hits all of them alike. QPS = queries / process
// CPU seconds. The ratio to hnswlib is the median over rounds of the ratio within a round (a
// paired comparison); min and max show the spread.
void PrintHeadToHead(const Dataset& data, const std::vector<Method>& methods, int rounds) {
  const Method* hnswlib = nullptr;
  for (const Method& method : methods) {
    if (method.name.rfind("hnswlib", 0) == 0) hnswlib = &method;
  }
  if (hnswlib == nullptr || rounds < 1) return;
  struct Entry {
    const Method* method;
    Point point;
    SearchFn search;
    std::vector<double> qps;
  };
  std::vector<Entry> entries;
  for (const Method& method : methods) {
    const std::optional<Point> best = BestAtRecall(method, kHeadlineRecall);
    if (best) entries.push_back({&method, *best, method.searcher(*best), {}});
  }
  if (entries.empty() || entries.front().method != hnswlib) return;
  constexpr int64_t kBlockQueries = 50;
  std::vector<uint64_t> ids;
  for (Entry& entry : entries) {  // warm-up
    for (int64_t query = 0; query < std::min(kWarmupQueries, data.num_queries()); ++query) {
      entry.search(data.query_row(query), &ids);
    }
  }
  for (int round = 0; round < rounds; ++round) {
    std::vector<double> cpu_s(entries.size(), 0.0);
    for (int64_t first = 0; first < data.num_queries(); first += kBlockQueries) {
      const int64_t end = std::min(data.num_queries(), first + kBlockQueries);
      for (size_t idx = 0; idx < entries.size(); ++idx) {
        CpuStopwatch cpu;
        for (int64_t query = first; query < end; ++query) {
          entries[idx].search(data.query_row(query), &ids);
        }
        cpu_s[idx] += cpu.Seconds();
      }
    }
    for (size_t idx = 0; idx < entries.size(); ++idx) {
      entries[idx].qps.push_back(static_cast<double>(data.num_queries()) / cpu_s[idx]);
    }
  }
  std::printf(
      "Head to head, %s: each method's fastest point at recall@10 >= %.2f, re-measured "
      "in %d rounds interleaved by blocks of 50 queries\n",
      data.name.c_str(), kHeadlineRecall, rounds);
  TextTable table({"method", "point", "recall@10", "QPS best", "QPS median",
                   "x hnswlib (median of rounds)", "min", "max"});
  for (const Entry& entry : entries) {
    std::vector<double> ratios;
    for (int round = 0; round < rounds; ++round) {
      ratios.push_back(entry.qps[round] / entries.front().qps[round]);
    }
    table.AddRow({entry.method->name, entry.point.params, Fixed(entry.point.recall, 4),
                  Fixed(*std::max_element(entry.qps.begin(), entry.qps.end()), 0),
                  Fixed(Percentile(entry.qps, 0.5), 0), Fixed(Percentile(ratios, 0.5), 2),
                  Fixed(*std::min_element(ratios.begin(), ratios.end()), 2),
                  Fixed(*std::max_element(ratios.begin(), ratios.end()), 2)});
  }
  table.Print();
  std::printf("\n");
}

// Build a Table with the base rows and an IVF_HNSW_SQ index, then time Table::Search at the
// given raw-index points (and at the library's default knobs).
void RunTable(const Dataset& data, const Truth& truth, int repeat, const Method* raw) {
  const std::string dir = FreshDir("vector_search_" + data.name);
  Stopwatch load_time;
  auto table = CreateVectorTable(dir + "/t", data.dim, data.base, 100000);
  if (!table.ok()) {
    std::printf("Table: not run (%s)\n\n", table.status().ToString().c_str());
    return;
  }
  const double load_s = load_time.Seconds();
  IndexConfig config;
  config.type = "IVF_HNSW_SQ";
  config.m = kM;
  config.ef_construction = kEfConstruction;
  Stopwatch index_time;
  const Status created = (*table)->CreateIndex("vector", config);
  if (!created.ok()) {
    std::printf("Table::CreateIndex failed: %s\n\n", created.ToString().c_str());
    return;
  }
  const double index_s = index_time.Seconds();
  std::printf(
      "End to end, %s: Table::Search(v).Limit(10).Select({\"id\"}).WithRowId()"
      ".Nprobes().Ef().RefineFactor().Execute() on a table of %s rows with an IVF_HNSW_SQ "
      "index (no tail)\n",
      data.name.c_str(), Count(data.num_base()).c_str());
  std::printf(
      "Table::Add of the rows: %.1f s; Table::CreateIndex(IVF_HNSW_SQ, m=%d, "
      "ef_construction=%d): %.1f s (all hardware threads)\n",
      load_s, kM, kEfConstruction, index_s);
  struct Knob {
    int32_t nprobes, ef, refine_factor;
    double raw_p50_us;
  };
  std::vector<Knob> knobs = {{20, 0, 0, 0}};  // VectorQuery's defaults
  if (raw != nullptr) {
    std::vector<Point> pareto;
    for (const Point& point : raw->points) {
      if (IsParetoOptimal(*raw, point) && point.recall >= 0.8) pareto.push_back(point);
    }
    std::sort(pareto.begin(), pareto.end(),
              [](const Point& a, const Point& b) { return a.recall < b.recall; });
    // At most 6, spread over the recall range.
    const size_t step = std::max<size_t>(1, (pareto.size() + 5) / 6);
    for (size_t idx = 0; idx < pareto.size(); idx += step) {
      knobs.push_back(
          {pareto[idx].nprobes, pareto[idx].ef, pareto[idx].refine_factor, pareto[idx].p50_us});
    }
  }
  TextTable out({"knobs", "recall@10", "QPS", "wall QPS", "p50 us", "p99 us", "raw index p50 us",
                 "table overhead us", "x raw"});
  for (const Knob& knob : knobs) {
    const auto run = [&](const float* query, std::vector<uint64_t>* ids) {
      auto result = (*table)
                        ->Search({query, static_cast<size_t>(data.dim)})
                        .Limit(kK)
                        .Select({"id"})
                        .WithRowId()
                        .Nprobes(knob.nprobes)
                        .Ef(knob.ef)
                        .RefineFactor(knob.refine_factor)
                        .Execute();
      if (!result.ok()) {
        std::fprintf(stderr, "search failed: %s\n", result.status().ToString().c_str());
        std::exit(1);
      }
      *ids = RowIdsOf(*result).value();
    };
    const Point point = Measure(data, truth, repeat, run);
    std::string label = Knobs(knob.nprobes, knob.ef, knob.refine_factor);
    if (knob.raw_p50_us == 0) label += " (defaults)";
    const bool has_raw = knob.raw_p50_us > 0;
    out.AddRow({label, Fixed(point.recall, 4), Fixed(point.qps, 0), Fixed(point.wall_qps, 0),
                Fixed(point.p50_us, 1), Fixed(point.p99_us, 1),
                has_raw ? Fixed(knob.raw_p50_us, 1) : "-",
                has_raw ? Fixed(point.p50_us - knob.raw_p50_us, 1) : "-",
                has_raw ? Fixed(point.p50_us / knob.raw_p50_us, 2) : "-"});
  }
  out.Print();
  std::printf("\n");
  (*table).reset();
  std::filesystem::remove_all(dir);
}

void RunDataset(const Dataset& data, const Options& options) {
  std::printf("##### %s: %s base rows x %d dims, %s queries, k=%d\n", data.name.c_str(),
              Count(data.num_base()).c_str(), data.dim, Count(data.num_queries()).c_str(), kK);
  Stopwatch truth_time;
  const Truth truth = ExactNeighbors(data.base, data.queries, data.dim, kK, options.threads);
  std::printf("ground truth: exact brute force (squared L2), %.1f s on %d threads\n\n",
              truth_time.Seconds(), options.threads);
  std::fflush(stdout);

  std::vector<Method> methods;
  const std::vector<int32_t> ef_values =
      options.quick ? std::vector<int32_t>{10, 32, 128}
                    : std::vector<int32_t>{10, 16, 24, 32, 48, 64, 96, 128, 192, 256};
  const std::string hnsw_structure =
      "M=" + std::to_string(kM) + ", ef_construction=" + std::to_string(kEfConstruction);
  if (auto method = RunReference(data, truth, "hnswlib HNSW", "ef", ef_values, options.threads,
                                 options.repeat, hnsw_structure + ", -march=native", [&] {
                                   return BuildHnswlib(data.base, data.dim, kM, kEfConstruction,
                                                       options.threads);
                                 })) {
    methods.push_back(std::move(*method));
  }

  const Method* ivf_hnsw_sq = nullptr;
  size_t ivf_hnsw_sq_slot = 0;
  for (const std::string& type : options.types) {
    if (auto method = RunTessera(data, truth, type, options)) {
      if (type == "IVF_HNSW_SQ") ivf_hnsw_sq_slot = methods.size() + 1;
      methods.push_back(std::move(*method));
    }
  }

  if (options.faiss) {
    const std::vector<int32_t> faiss_ef =
        options.quick ? std::vector<int32_t>{16, 64, 256}
                      : std::vector<int32_t>{16, 24, 32, 48, 64, 96, 128, 256};
    if (auto method = RunReference(
            data, truth, "FAISS IndexHNSWFlat", "efSearch", faiss_ef, options.threads,
            options.repeat, hnsw_structure + ", Debian build (no AVX2)", [&] {
              return BuildFaissHnswFlat(data.base, data.dim, kM, kEfConstruction, options.threads);
            })) {
      methods.push_back(std::move(*method));
    }
    const int32_t num_lists = static_cast<int32_t>(
        std::max(1.0, std::round(std::sqrt(static_cast<double>(data.num_base())))));
    const std::vector<int32_t> nprobe_values = options.quick
                                                   ? std::vector<int32_t>{2, 8, 32}
                                                   : std::vector<int32_t>{1, 2, 4, 8, 16, 32, 64};
    if (auto method = RunReference(
            data, truth, "FAISS IVFScalarQuantizer", "nprobe", nprobe_values, options.threads,
            options.repeat, Count(num_lists) + " lists, QT_8bit, residual, Debian build (no AVX2)",
            [&] { return BuildFaissIvfSq8(data.base, data.dim, num_lists, options.threads); })) {
      methods.push_back(std::move(*method));
    }
    if (std::find(options.types.begin(), options.types.end(), "IVF_PQ") != options.types.end()) {
      const int32_t sub_vectors = index::ProductQuantizer::DefaultNumSubVectors(data.dim);
      if (auto method =
              RunReference(data, truth, "FAISS IndexIVFPQ", "nprobe", nprobe_values,
                           options.threads, options.repeat,
                           Count(num_lists) + " lists, " + std::to_string(sub_vectors) +
                               " x 8-bit sub-vectors, residual, no re-rank, Debian build (no AVX2)",
                           [&] {
                             return BuildFaissIvfPq(data.base, data.dim, num_lists, sub_vectors,
                                                    options.threads);
                           })) {
        methods.push_back(std::move(*method));
      }
    }
  }
  if (ivf_hnsw_sq_slot > 0) ivf_hnsw_sq = &methods[ivf_hnsw_sq_slot - 1];

  PrintSummary(data, methods);
  PrintHeadToHead(data, methods, options.h2h_rounds);
  if (options.table) RunTable(data, truth, options.repeat, ivf_hnsw_sq);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  Flags flags(argc, argv);
  Options options;
  options.dataset = flags.GetString("dataset", options.dataset);
  options.queries = flags.GetInt("queries", options.queries);
  options.clustered_rows = flags.GetInt("clustered_rows", options.clustered_rows);
  options.clustered_dim =
      static_cast<int32_t>(flags.GetInt("clustered_dim", options.clustered_dim));
  options.clustered_clusters =
      static_cast<int32_t>(flags.GetInt("clustered_clusters", options.clustered_clusters));
  options.threads = static_cast<int>(flags.GetInt("threads", options.threads));
  options.repeat = static_cast<int>(flags.GetInt("repeat", options.repeat));
  options.h2h_rounds = static_cast<int>(flags.GetInt("h2h_rounds", options.h2h_rounds));
  options.num_partitions =
      static_cast<int32_t>(flags.GetInt("num_partitions", options.num_partitions));
  options.types = SplitList(flags.GetString("types", "IVF_HNSW_SQ,HNSW,IVF_SQ,IVF_PQ,IVF_FLAT"));
  options.faiss = !flags.GetBool("no_faiss");
  options.table = !flags.GetBool("no_table");
  options.quick = flags.GetBool("quick");
  if (!flags.CheckAllUsed()) return 2;

  PrintBanner(
      "vector_search_benchmark",
      "Recall@10 vs queries/s (one thread, sequential queries) of Tessera's index types, raw\n"
      "(index layer) and end to end (Table::Search), against hnswlib (M=16, ef_construction=200)\n"
      "and FAISS; build time and memory against hnswlib. Judge Tessera against hnswlib: Debian's\n"
      "FAISS is built without AVX2 and understates FAISS by 2-6x.",
      "build/bench/bench/vector_search_benchmark [--dataset=all|fashion|clustered]\n"
      "         [--clustered_rows=200000 (1000000 = the full-size target)] [--queries=1000]\n"
      "         [--types=IVF_HNSW_SQ,HNSW,IVF_SQ,IVF_PQ,IVF_FLAT] [--no_faiss] [--no_table] "
      "[--quick]");
  std::printf("references: hnswlib %s, FAISS %s\n\n", HaveHnswlib() ? "yes" : "NOT BUILT",
              HaveFaiss() ? "yes (Debian build, no AVX2)" : "NOT BUILT");

  if (options.dataset == "all" || options.dataset == "fashion") {
    auto fashion = LoadFashionMnist(60000, options.queries);
    if (fashion.ok()) {
      RunDataset(*fashion, options);
    } else {
      std::printf("Fashion-MNIST skipped: %s\n\n", fashion.status().ToString().c_str());
    }
  }
  if (options.dataset == "all" || options.dataset == "clustered") {
    Stopwatch generate;
    const Dataset clustered =
        MakeClustered(options.clustered_rows, options.queries, options.clustered_dim,
                      options.clustered_clusters, /*seed=*/7);
    std::printf("(generated %s: %d clusters, 16-d latent subspace, in %.1f s)\n",
                clustered.name.c_str(), options.clustered_clusters, generate.Seconds());
    RunDataset(clustered, options);
  }
  return 0;
}
