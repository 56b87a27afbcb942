#include "index/ivf_hnsw_sq.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>

#include "index/parallel_internal.h"
#include "index/payload_codec_internal.h"
#include "index/simd/distance.h"
#include "index/top_k.h"

namespace tessera::index {
namespace {

// Rows sampled to train the scalar quantizer.
constexpr int64_t kQuantizerSampleRows = 1 << 16;
// IVF_HNSW_SQ's default partitioning: one partition (one graph) up to HnswGraph::kMaxNarrowNodes
// rows, above that one partition per kRowsPerGraphPartition rows, so that k-means' uneven
// partitions (up to 2x the mean) still fit 16-bit links (half the graph's memory and of the bytes a
// search reads). Measured (bench/vector_search_benchmark.cc): on Fashion-MNIST (60,000 rows) 3
// partitions probed twice ran at 0.6x hnswlib, one graph at 1.28x; on the 1M x 128 clustered set
// one 1M graph reached recall 0.95 at 0.93x hnswlib and 0.43x its memory, 20 partitions of ~50,000
// (nprobes=2) at 2.0x. Builds stay parallel: a large graph is built by all threads at once.
constexpr int64_t kRowsPerGraphPartition = 32768;
// ...but partitions only pay when a row's nearest neighbours share its partition: on data
// without cluster structure (the 1M x 128 set generated with one cluster) 31 partitions probed 4
// times reached recall 0.88 at 0.5x hnswlib's speed, while one graph reaches 0.95 at about
// hnswlib's. So the default partitioning is kept only if the kDefaultGraphNprobes nearest
// partitions of sampled rows hold at least kMinNeighbourCoverage of their exact 10 nearest
// neighbours (among a strided sample of the rows); else the index is one graph.
constexpr double kMinNeighbourCoverage = 0.97;
constexpr int64_t kCoverageQueries = 200;
constexpr int64_t kCoverageBaseRows = 32768;
// Partitions of at least this many rows are built by all threads together.
constexpr int64_t kConcurrentGraphBuildRows = 4096;
// Rows of a partition on which a search estimates the selectivity of its filter.
constexpr int64_t kFilterSampleRows = 64;

// Serializes progress reports from the build threads, mapping [0, 1] of a phase onto
// [start, end] of the whole build.
class ProgressReporter {
 public:
  explicit ProgressReporter(const ProgressCallback& callback) : callback_(callback) {}
  void Report(double fraction) {
    if (!callback_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    last_ = std::max(last_, std::min(fraction, 1.0));
    callback_(last_);
  }

 private:
  const ProgressCallback& callback_;
  std::mutex mutex_;
  double last_ = 0.0;  // guarded by mutex_
};

// Return true if `filter` is expected to accept fewer than 2 * ef of the partition's `size`
// rows, judged on a spread sample of them. A graph search would then visit most of the
// partition to find ef accepted rows, and a scan with the batch kernels is faster.
bool FilterIsSelective(const RowFilter* filter, const uint64_t* row_ids, int64_t size, int32_t ef) {
  if (filter == nullptr) return false;
  const int64_t sample = std::min<int64_t>(size, kFilterSampleRows);
  int64_t accepted = 0;
  for (int64_t idx = 0; idx < sample; ++idx) accepted += (*filter)(row_ids[idx * size / sample]);
  return accepted * size < 2 * static_cast<int64_t>(ef) * sample;
}

// The default partition count of IVF_HNSW_SQ before the neighbour check.
int64_t DefaultGraphPartitions(int64_t num_rows) {
  if (num_rows <= static_cast<int64_t>(HnswGraph::kMaxNarrowNodes)) return 1;
  return std::min<int64_t>((num_rows + kRowsPerGraphPartition - 1) / kRowsPerGraphPartition, 4096);
}

// Return the fraction of the exact 10 nearest neighbours of sampled rows that lie in the
// `probes` partitions of `model` nearest to the row, neighbours taken among a strided sample of
// kCoverageBaseRows rows (top 10 of a sample is a wider neighbourhood than top 10 of all rows:
// the estimate errs on the low side). REQUIRES: vectors holds > 2 * kCoverageBaseRows rows.
double NeighbourCoverage(const IvfModel& model, std::span<const float> vectors, int32_t dim,
                         Metric metric, int32_t probes, int num_threads) {
  constexpr int32_t kK = 10;
  const int64_t num_rows = static_cast<int64_t>(vectors.size()) / dim;
  const int64_t stride = num_rows / kCoverageBaseRows;  // >= 2
  std::vector<float> base(static_cast<size_t>(kCoverageBaseRows) * dim);
  for (int64_t row = 0; row < kCoverageBaseRows; ++row) {
    std::copy_n(vectors.data() + row * stride * dim, dim, base.data() + row * dim);
  }
  std::vector<int32_t> base_partition(kCoverageBaseRows);
  model.Assign(base, base_partition, num_threads);
  const simd::DistanceKernels& kernels = simd::BestKernels();
  std::vector<int64_t> covered(num_threads, 0);
  internal::ParallelFor(kCoverageQueries, num_threads, [&](int64_t begin, int64_t end, int t) {
    std::vector<float> distances(kCoverageBaseRows);
    std::vector<float> centroid_distances;
    std::vector<int32_t> order;
    for (int64_t query = begin; query < end; ++query) {
      // A row between two sampled ones: never in the base sample itself.
      const int64_t query_row = query * (num_rows / kCoverageQueries) + 1;
      const float* q = vectors.data() + query_row * dim;
      if (metric == Metric::kL2) {
        kernels.l2_squared_batch(q, base.data(), kCoverageBaseRows, dim, distances.data());
      } else {
        kernels.dot_batch(q, base.data(), kCoverageBaseRows, dim, distances.data());
        for (float& d : distances) d = -d;
      }
      TopK top(kK);
      const int64_t self = query_row % stride == 0 ? query_row / stride : -1;
      for (int64_t row = 0; row < kCoverageBaseRows; ++row) {
        if (row != self) top.Push(distances[row], static_cast<uint64_t>(row));
      }
      model.RankPartitions(q, probes, &centroid_distances, &order);
      for (const Neighbor& neighbour : top.Take()) {
        const int32_t partition = base_partition[neighbour.row_id];
        covered[t] +=
            std::find(order.begin(), order.begin() + probes, partition) != order.begin() + probes;
      }
    }
  });
  int64_t total = 0;
  for (int64_t count : covered) total += count;
  return static_cast<double>(total) / static_cast<double>(kCoverageQueries * kK);
}

// Return `model`, or a one-partition model if its partitions do not hold the neighbours of
// rows (see kMinNeighbourCoverage).
Result<IvfModel> KeepPartitionsIfTheyHoldNeighbours(IvfModel model, const IvfBuildInput& input,
                                                    const IndexBuildOptions& options) {
  if (model.num_partitions() <= 1 || input.num_rows <= 2 * kCoverageBaseRows) return model;
  const int32_t probes = std::min(kDefaultGraphNprobes, model.num_partitions());
  const double coverage = NeighbourCoverage(model, input.vectors, input.dim, options.metric, probes,
                                            internal::ResolveNumThreads(options.num_threads));
  if (coverage >= kMinNeighbourCoverage) return model;
  return IvfModel::Train(input.vectors, input.dim, options.metric, 1, options);
}

}  // namespace

Result<int32_t> DefaultIvfHnswSqPartitions(std::span<const float> vectors, int32_t dim,
                                           Metric metric, int num_threads) {
  IndexBuildOptions options;
  options.metric = metric;
  options.num_threads = num_threads;
  const int64_t num_rows = dim > 0 ? static_cast<int64_t>(vectors.size()) / dim : 0;
  std::vector<uint64_t> row_ids(num_rows);
  TESSERA_ASSIGN_OR_RETURN(IvfBuildInput input, PrepareIvfBuild(options, vectors, dim, row_ids,
                                                                DefaultGraphPartitions(num_rows)));
  TESSERA_ASSIGN_OR_RETURN(
      IvfModel model, IvfModel::Train(input.vectors, dim, metric, input.num_partitions, options));
  TESSERA_ASSIGN_OR_RETURN(model,
                           KeepPartitionsIfTheyHoldNeighbours(std::move(model), input, options));
  return model.num_partitions();
}

Result<std::unique_ptr<IvfHnswSqIndex>> IvfHnswSqIndex::Build(const IndexBuildOptions& options,
                                                              std::span<const float> vectors,
                                                              int32_t dim,
                                                              std::span<const uint64_t> row_ids) {
  if (options.type != IndexType::kIvfHnswSq && options.type != IndexType::kIvfSq &&
      options.type != IndexType::kHnsw) {
    return Status::InvalidArgument("IvfHnswSqIndex cannot build ", IndexTypeToString(options.type));
  }
  const int64_t num_rows = static_cast<int64_t>(row_ids.size());
  int64_t default_partitions = DefaultNumPartitions(num_rows, 1);
  if (options.type == IndexType::kIvfHnswSq) default_partitions = DefaultGraphPartitions(num_rows);
  IndexBuildOptions resolved = options;
  if (options.type == IndexType::kHnsw) resolved.num_partitions = 1;
  TESSERA_ASSIGN_OR_RETURN(IvfBuildInput input,
                           PrepareIvfBuild(resolved, vectors, dim, row_ids, default_partitions));
  ProgressReporter progress(options.progress);
  progress.Report(0.0);
  auto index = std::unique_ptr<IvfHnswSqIndex>(new IvfHnswSqIndex());
  index->type_ = options.type;
  index->metric_ = options.metric;
  index->hnsw_params_.m = options.m;
  index->hnsw_params_.ef_construction = options.ef_construction;
  index->hnsw_params_.seed = options.seed;
  TESSERA_ASSIGN_OR_RETURN(index->model_, IvfModel::Train(input.vectors, dim, options.metric,
                                                          input.num_partitions, resolved));
  if (options.type == IndexType::kIvfHnswSq && options.num_partitions == 0) {
    TESSERA_ASSIGN_OR_RETURN(index->model_, KeepPartitionsIfTheyHoldNeighbours(
                                                std::move(index->model_), input, resolved));
  }
  ScalarQuantizerOptions sq_options;
  sq_options.clip_fraction = options.sq_clip_fraction;
  TESSERA_ASSIGN_OR_RETURN(
      index->quantizer_,
      ScalarQuantizer::Train(SampleVectors(input.vectors, dim, kQuantizerSampleRows, options.seed),
                             dim, sq_options));
  progress.Report(0.1);
  TESSERA_RETURN_IF_ERROR(
      index->Populate(input.vectors, row_ids, options.progress, 0.1, options.num_threads));
  return index;
}

Result<std::unique_ptr<IvfHnswSqIndex>> IvfHnswSqIndex::BuildWithSameModel(
    std::span<const float> vectors, std::span<const uint64_t> row_ids,
    const ProgressCallback& progress, int num_threads) const {
  return BuildWithSameModelAs(type_, hnsw_params_, vectors, row_ids, progress, num_threads);
}

Result<std::unique_ptr<IvfHnswSqIndex>> IvfHnswSqIndex::BuildWithSameModelAs(
    IndexType type, const HnswParams& hnsw, std::span<const float> vectors,
    std::span<const uint64_t> row_ids, const ProgressCallback& progress, int num_threads) const {
  const auto partitioned = [](IndexType t) {
    return t == IndexType::kIvfHnswSq || t == IndexType::kIvfSq;
  };
  if (type != type_ && !(partitioned(type) && partitioned(type_))) {
    return Status::InvalidArgument(
        "a segment sharing an index's model must be of its type, or "
        "IVF_SQ / IVF_HNSW_SQ for either");
  }
  IndexBuildOptions options;
  options.type = type;
  options.metric = metric_;
  options.m = hnsw.m;
  options.ef_construction = hnsw.ef_construction;
  TESSERA_ASSIGN_OR_RETURN(IvfBuildInput input,
                           PrepareIvfBuild(options, vectors, dim(), row_ids, 1));
  auto index = std::unique_ptr<IvfHnswSqIndex>(new IvfHnswSqIndex());
  index->type_ = type;
  index->metric_ = metric_;
  index->hnsw_params_ = hnsw;
  index->model_ = model_;
  index->quantizer_ = quantizer_;
  TESSERA_RETURN_IF_ERROR(index->Populate(input.vectors, row_ids, progress, 0.0, num_threads));
  return index;
}

Status IvfHnswSqIndex::Populate(std::span<const float> vectors, std::span<const uint64_t> row_ids,
                                const ProgressCallback& callback, double progress_start,
                                int num_threads) {
  ProgressReporter progress(callback);
  const int threads = internal::ResolveNumThreads(num_threads);
  const int32_t dim = model_.dim();
  const int64_t num_rows = static_cast<int64_t>(row_ids.size());
  const int32_t num_partitions = model_.num_partitions();
  std::vector<int32_t> assignment(num_rows, 0);
  if (num_partitions > 1) model_.Assign(vectors, assignment, threads);
  std::vector<int64_t> slot_rows;
  lists_ = PartitionLists<uint8_t>::Group(assignment, num_partitions, row_ids, dim, &slot_rows);
  internal::ParallelFor(num_rows, threads, [&](int64_t begin, int64_t end, int) {
    for (int64_t slot = begin; slot < end; ++slot) {
      quantizer_.Encode(vectors.data() + slot_rows[slot] * dim, lists_.mutable_slot_code(slot));
    }
  });
  const double graph_start = progress_start + (1.0 - progress_start) * 0.1;
  progress.Report(graph_start);
  if (!has_graphs()) {
    progress.Report(1.0);
    return Status::OK();
  }

  // Build the graphs, largest partitions first. A large partition is built by all threads
  // together (concurrent insertion); the small ones one per thread, so that the threads finish
  // together.
  graphs_.clear();
  graphs_.resize(num_partitions);
  std::vector<int32_t> order(num_partitions);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [this](int32_t a, int32_t b) {
    return lists_.partition_size(a) > lists_.partition_size(b);
  });
  std::atomic<int64_t> rows_done{0};
  const std::vector<uint64_t>& offsets = lists_.offsets();
  auto build_graph = [&](int32_t partition, int graph_threads, std::vector<float>* buffer) {
    const int64_t size = lists_.partition_size(partition);
    buffer->resize(static_cast<size_t>(size) * dim);
    for (int64_t node = 0; node < size; ++node) {
      std::copy_n(vectors.data() + slot_rows[offsets[partition] + node] * dim, dim,
                  buffer->data() + node * dim);
    }
    HnswParams params = hnsw_params_;
    params.seed = hnsw_params_.seed + static_cast<uint64_t>(partition);
    HnswGraph graph(params, static_cast<uint32_t>(size));
    graph.Build(FloatSpace(buffer->data(), dim, metric_), graph_threads);
    graphs_[partition] = std::move(graph);
    const int64_t done = rows_done.fetch_add(size) + size;
    progress.Report(graph_start + (1.0 - graph_start) * static_cast<double>(done) /
                                      static_cast<double>(num_rows));
  };
  int32_t rank = 0;
  std::vector<float> buffer;
  for (; rank < num_partitions && threads > 1 &&
         lists_.partition_size(order[rank]) >= kConcurrentGraphBuildRows;
       ++rank) {
    build_graph(order[rank], threads, &buffer);
  }
  std::atomic<int32_t> next{rank};
  internal::ParallelFor(threads, threads, [&](int64_t, int64_t, int) {
    std::vector<float> partition_vectors;
    for (int32_t r = next.fetch_add(1); r < num_partitions; r = next.fetch_add(1)) {
      build_graph(order[r], 1, &partition_vectors);
    }
  });
  progress.Report(1.0);
  return Status::OK();
}

size_t IvfHnswSqIndex::memory_bytes() const {
  size_t bytes =
      model_.memory_bytes() + lists_.memory_bytes() + 2 * quantizer_.vmin().size() * sizeof(float);
  for (const HnswGraph& graph : graphs_) bytes += graph.memory_bytes();
  return bytes;
}

Status IvfHnswSqIndex::Search(std::span<const float> query, const SearchOptions& options,
                              std::vector<Neighbor>* results) const {
  std::unique_ptr<internal::IvfSearchScratch> scratch = scratch_pool_.Acquire();
  scratch->sq8_prepared_for = nullptr;  // a pooled scratch's query buffer has the same address
  const int32_t dim = model_.dim();
  const auto search_partition = [&](int32_t partition, const float* q, int32_t want, TopK* top) {
    const int64_t size = lists_.partition_size(partition);
    if (size == 0) return;
    const uint64_t* row_ids = lists_.row_ids(partition);
    const uint8_t* codes = lists_.codes(partition);
    const int32_t ef = internal::ResolveEf(options, want);
    if (has_graphs() && !FilterIsSelective(options.filter, row_ids, size, ef)) {
      if (scratch->sq8_prepared_for != q) {  // once per query, not per partition
        scratch->sq8_query.Prepare(quantizer_, metric_, q);
        scratch->sq8_prepared_for = q;
      }
      const Sq8Space space(quantizer_, codes, metric_, scratch->sq8_query);
      const internal::PartitionFilter filter{row_ids, options.filter};
      graphs_[partition].Search(space, ef, filter.AsNodeFilter(), &scratch->hnsw,
                                &scratch->hnsw_results);
      // Fewer than ef results from a search that did not see every node means it ran out of
      // reachable nodes (nodes without in-links, which inner-product graphs can have): scan the
      // partition instead, so that every accepted row can be found.
      if (scratch->hnsw_results.size() >= static_cast<size_t>(std::min<int64_t>(ef, size)) ||
          scratch->hnsw.num_visited() == static_cast<uint32_t>(size)) {
        for (const HnswCandidate& candidate : scratch->hnsw_results) {
          top->Push(candidate.distance, row_ids[candidate.node]);
        }
        return;
      }
    }
    if (options.filter != nullptr) {  // distances of the accepted rows only
      for (int64_t slot = 0; slot < size; ++slot) {
        if (!(*options.filter)(row_ids[slot])) continue;
        top->Push(quantizer_.Distance(metric_, q, codes + slot * dim), row_ids[slot]);
      }
      return;
    }
    std::vector<float>& distances = scratch->distances;
    distances.resize(size);
    const simd::DistanceKernels& kernels = simd::BestKernels();
    const float* vmin = quantizer_.vmin().data();
    const float* vscale = quantizer_.vscale().data();
    if (metric_ == Metric::kL2) {
      kernels.l2_squared_sq8_batch(q, codes, size, vmin, vscale, dim, distances.data());
    } else {
      kernels.dot_sq8_batch(q, codes, size, vmin, vscale, dim, distances.data());
      const float offset = metric_ == Metric::kCosine ? 1.0f : 0.0f;
      for (float& d : distances) d = offset - d;
    }
    for (int64_t slot = 0; slot < size; ++slot) top->Push(distances[slot], row_ids[slot]);
  };
  Status status = internal::IvfSearch(model_, metric_, query, lists_.all_row_ids(), options,
                                      /*exact_distances=*/false,
                                      has_graphs() ? kDefaultGraphNprobes : kDefaultNprobes,
                                      scratch.get(), search_partition, results);
  scratch_pool_.Release(std::move(scratch));
  return status;
}

void IvfHnswSqIndex::AppendPayload(std::string* out) const {
  internal::PayloadWriter writer(out);
  writer.PutU32(static_cast<uint32_t>(hnsw_params_.m));
  writer.PutU32(static_cast<uint32_t>(hnsw_params_.ef_construction));
  writer.PutU64(hnsw_params_.seed);
  writer.PutArray(model_.centroids());
  writer.PutArray(quantizer_.vmin());
  writer.PutArray(quantizer_.vscale());
  writer.PutArray(lists_.offsets());
  writer.PutArray(lists_.all_row_ids());
  writer.PutArray(lists_.all_codes());
  writer.PutU32(static_cast<uint32_t>(graphs_.size()));
  for (const HnswGraph& graph : graphs_) {
    writer.PutU32(graph.entry_point());
    writer.PutArray(graph.levels());
    writer.PutArray(graph.level0());
    writer.PutArray(graph.upper());
  }
}

Result<std::unique_ptr<IvfHnswSqIndex>> IvfHnswSqIndex::FromPayload(IndexType type, Metric metric,
                                                                    int32_t dim,
                                                                    std::string_view payload) {
  if (dim <= 0) return Status::Corruption("index file: bad dim");
  internal::PayloadReader reader(payload);
  auto index = std::unique_ptr<IvfHnswSqIndex>(new IvfHnswSqIndex());
  index->type_ = type;
  index->metric_ = metric;
  uint32_t m = 0;
  uint32_t ef_construction = 0;
  TESSERA_RETURN_IF_ERROR(reader.ReadU32(&m, "m"));
  TESSERA_RETURN_IF_ERROR(reader.ReadU32(&ef_construction, "ef_construction"));
  TESSERA_RETURN_IF_ERROR(reader.ReadU64(&index->hnsw_params_.seed, "seed"));
  if (m < 2 || m > 128 || ef_construction < 1 || ef_construction > (1u << 20)) {
    return Status::Corruption("index file: bad HNSW parameters");
  }
  index->hnsw_params_.m = static_cast<int32_t>(m);
  index->hnsw_params_.ef_construction = static_cast<int32_t>(ef_construction);

  std::vector<float> centroids;
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&centroids, "centroids"));
  TESSERA_ASSIGN_OR_RETURN(index->model_,
                           IvfModel::FromCentroids(metric, dim, std::move(centroids)));
  if (type == IndexType::kHnsw && index->model_.num_partitions() != 1) {
    return Status::Corruption("index file: HNSW with ", index->model_.num_partitions(),
                              " partitions");
  }
  std::vector<float> vmin;
  std::vector<float> vscale;
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&vmin, "sq vmin", dim));
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&vscale, "sq vscale", dim));
  Result<ScalarQuantizer> quantizer =
      ScalarQuantizer::FromParams(std::move(vmin), std::move(vscale));
  if (!quantizer.ok()) return Status::Corruption("index file: ", quantizer.status().message());
  index->quantizer_ = std::move(quantizer).value();

  const int32_t num_partitions = index->model_.num_partitions();
  std::vector<uint64_t> offsets;
  std::vector<uint64_t> row_ids;
  std::vector<uint8_t> codes;
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&offsets, "partition offsets", num_partitions + 1));
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&row_ids, "row ids"));
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&codes, "codes"));
  TESSERA_ASSIGN_OR_RETURN(
      index->lists_, PartitionLists<uint8_t>::FromArrays(dim, std::move(offsets),
                                                         std::move(row_ids), std::move(codes)));
  uint32_t num_graphs = 0;
  TESSERA_RETURN_IF_ERROR(reader.ReadU32(&num_graphs, "graph count"));
  const uint32_t expected_graphs = index->has_graphs() ? static_cast<uint32_t>(num_partitions) : 0;
  if (num_graphs != expected_graphs) {
    return Status::Corruption("index file: ", num_graphs, " graphs for ", num_partitions,
                              " partitions");
  }
  index->graphs_.reserve(num_graphs);
  for (uint32_t partition = 0; partition < num_graphs; ++partition) {
    uint32_t entry_point = 0;
    std::vector<uint8_t> levels;
    std::vector<uint32_t> level0;
    std::vector<uint32_t> upper;
    TESSERA_RETURN_IF_ERROR(reader.ReadU32(&entry_point, "graph entry point"));
    TESSERA_RETURN_IF_ERROR(reader.ReadArray(
        &levels, "graph levels", index->lists_.partition_size(static_cast<int32_t>(partition))));
    TESSERA_RETURN_IF_ERROR(reader.ReadArray(&level0, "graph level 0"));
    TESSERA_RETURN_IF_ERROR(reader.ReadArray(&upper, "graph upper levels"));
    TESSERA_ASSIGN_OR_RETURN(
        HnswGraph graph, HnswGraph::FromArrays(index->hnsw_params_, entry_point, std::move(levels),
                                               std::move(level0), std::move(upper)));
    index->graphs_.push_back(std::move(graph));
  }
  if (reader.remaining() != 0) return Status::Corruption("index file: trailing payload bytes");
  return index;
}

}  // namespace tessera::index
