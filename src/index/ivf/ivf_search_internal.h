// The search skeleton shared by the IVF indices: validate the options, normalize the query,
// rank partitions, search the nearest ones (more while fewer than k rows were found), then
// optionally re-rank by exact distance. Private to the index layer.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "index/hnsw/hnsw_graph.h"
#include "index/ivf/ivf_model.h"
#include "index/top_k.h"
#include "index/vector_index.h"

namespace tessera::index::internal {

// Per-search state, reused across searches through a ScratchPool so a search does not allocate
// once the buffers have grown.
struct IvfSearchScratch {
  std::vector<float> query;  // the query, normalized for kCosine
  std::vector<float> centroid_distances;
  std::vector<int32_t> partition_order;
  std::vector<float> distances;  // per-partition distances
  HnswScratch hnsw;
  std::vector<HnswCandidate> hnsw_results;
  PreparedSq8Query sq8_query;               // IVF_HNSW_SQ: the query prepared for SQ8 distances
  const float* sq8_prepared_for = nullptr;  // the query it was prepared from
};

// A free list of scratch objects. Thread-safe.
template <class T>
class ScratchPool {
 public:
  // Return a free scratch object, or a new one.
  std::unique_ptr<T> Acquire() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.empty()) return std::make_unique<T>();
    std::unique_ptr<T> scratch = std::move(free_.back());
    free_.pop_back();
    return scratch;
  }
  // Give `scratch` back (dropped if the pool already holds many).
  void Release(std::unique_ptr<T> scratch) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.size() < 64) free_.push_back(std::move(scratch));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> free_;  // guarded by mutex_
};

// Return the ef to use for `want` candidates.
inline int32_t ResolveEf(const SearchOptions& options, int32_t want) {
  return options.ef > 0 ? std::max(options.ef, want) : std::max(40, 2 * want);
}

// Check the options common to every index. Errors: kInvalidArgument.
inline Status ValidateSearch(std::span<const float> query, int32_t dim,
                             const SearchOptions& options, bool uses_refine) {
  if (query.size() != static_cast<size_t>(dim)) {
    return Status::InvalidArgument("search: query has ", query.size(), " values, index dim ", dim);
  }
  for (float value : query) {
    if (!std::isfinite(value)) return Status::InvalidArgument("search: non-finite query value");
  }
  if (options.k < 0 || options.nprobes < 0) {
    return Status::InvalidArgument("search: need k >= 0 and nprobes >= 1 (or 0: the default)");
  }
  if (uses_refine && options.refine_factor >= 1 && options.vectors == nullptr) {
    return Status::InvalidArgument("search: refine_factor needs a vector lookup");
  }
  return Status::OK();
}

// Return the fraction of `row_ids` that `filter` accepts, estimated on a spread sample (at
// least 1 / (2 * sample size) so that it can divide), or 1 without a filter.
inline double EstimateSelectivity(const RowFilter* filter, std::span<const uint64_t> row_ids) {
  constexpr int64_t kSampleRows = 256;
  if (filter == nullptr || row_ids.empty()) return 1.0;
  const int64_t size = static_cast<int64_t>(row_ids.size());
  const int64_t sample = std::min<int64_t>(size, kSampleRows);
  int64_t accepted = 0;
  for (int64_t idx = 0; idx < sample; ++idx) accepted += (*filter)(row_ids[idx * size / sample]);
  return std::max(static_cast<double>(accepted), 0.5) / static_cast<double>(sample);
}

// Run the IVF search over an index whose rows have `row_ids` (any order).
// `search_partition(partition, query, want, top)` pushes the partition's candidates (passing
// options.filter) into `top` (a TopK of `want`). Under a filter that accepts a fraction s of
// the rows, nprobes / sqrt(s) partitions are searched: the k nearest accepted rows are spread
// over about as many partitions as the k / s nearest rows.
template <class SearchPartition>
Status IvfSearch(const IvfModel& model, Metric metric, std::span<const float> query,
                 std::span<const uint64_t> row_ids, const SearchOptions& options,
                 bool exact_distances, int32_t default_nprobes, IvfSearchScratch* scratch,
                 const SearchPartition& search_partition, std::vector<Neighbor>* results) {
  results->clear();
  const int32_t dim = model.dim();
  TESSERA_RETURN_IF_ERROR(ValidateSearch(query, dim, options, !exact_distances));
  if (options.k == 0) return Status::OK();
  scratch->query.assign(query.begin(), query.end());
  if (metric == Metric::kCosine) NormalizeVector(scratch->query.data(), dim);
  const float* q = scratch->query.data();
  const int32_t num_partitions = model.num_partitions();
  const double selectivity = EstimateSelectivity(options.filter, row_ids);
  const int32_t requested = options.nprobes > 0 ? options.nprobes : default_nprobes;
  const int32_t nprobes = static_cast<int32_t>(std::min<double>(
      std::ceil(static_cast<double>(requested) / std::sqrt(selectivity)), num_partitions));
  model.RankPartitions(q, nprobes, &scratch->centroid_distances, &scratch->partition_order);

  const bool refine = !exact_distances && options.refine_factor >= 1;
  const int64_t want64 = static_cast<int64_t>(options.k) * (refine ? options.refine_factor : 1);
  const int32_t want = static_cast<int32_t>(std::min<int64_t>(want64, 1 << 20));
  TopK top(want);
  for (int32_t rank = 0; rank < num_partitions; ++rank) {
    if (rank >= nprobes && top.size() >= static_cast<size_t>(options.k)) break;
    if (rank == nprobes) {  // too few rows so far: search further partitions, nearest first
      FlatIndex::SortRest(scratch->centroid_distances, nprobes, &scratch->partition_order);
    }
    search_partition(scratch->partition_order[rank], q, want, &top);
  }
  std::vector<Neighbor> candidates = top.Take();
  if (!refine) {
    if (candidates.size() > static_cast<size_t>(options.k)) candidates.resize(options.k);
    *results = std::move(candidates);
    return Status::OK();
  }
  TopK best(options.k);
  for (const Neighbor& candidate : candidates) {
    const float* vec = (*options.vectors)(candidate.row_id);
    if (vec == nullptr) continue;
    best.Push(ExactDistance(metric, q, vec, dim), candidate.row_id);
  }
  *results = best.Take();
  return Status::OK();
}

// Adapts a RowFilter to the HNSW graph's NodeFilter over one partition's slots.
struct PartitionFilter {
  const uint64_t* row_ids;
  const RowFilter* filter;
  static bool Accepts(const void* context, uint32_t node) {
    const auto* self = static_cast<const PartitionFilter*>(context);
    return (*self->filter)(self->row_ids[node]);
  }
  NodeFilter AsNodeFilter() const {
    return filter == nullptr ? NodeFilter() : NodeFilter{&PartitionFilter::Accepts, this};
  }
};

}  // namespace tessera::index::internal
