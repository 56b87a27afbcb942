// IVF_HNSW_SQ, the production default index: k-means partitions (IvfModel), the rows of each
// partition stored as SQ8 codes with their stable row ids (PartitionLists), one HNSW graph per
// partition over those codes, and an optional exact re-rank through the caller's vectors.
//
// The same class also serves two siblings that differ only in what is built:
//   IVF_SQ: no graphs; a probed partition is scanned in full;
//   HNSW:   one partition (no coarse search): a single graph over the SQ8 codes of every row.
//
// Immutable after Build()/FromPayload(); any number of threads may Search() at once.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "index/hnsw/hnsw_graph.h"
#include "index/ivf/ivf_model.h"
#include "index/ivf/ivf_search_internal.h"
#include "index/ivf/partition_lists.h"
#include "index/sq/scalar_quantizer.h"
#include "index/vector_index.h"

namespace tessera::index {

// The partition count a default IVF_HNSW_SQ build over `vectors` chooses (k-means and the
// neighbour check of ivf_hnsw_sq.cc, no graphs): for tests and tools. Errors: as Build().
Result<int32_t> DefaultIvfHnswSqPartitions(std::span<const float> vectors, int32_t dim,
                                           Metric metric, int num_threads);

class IvfHnswSqIndex final : public VectorIndex {
 public:
  // Build an index of options.type (kIvfHnswSq, kIvfSq or kHnsw). Partition graphs are built
  // in parallel on options.num_threads threads. Errors: see BuildIndex().
  static Result<std::unique_ptr<IvfHnswSqIndex>> Build(const IndexBuildOptions& options,
                                                       std::span<const float> vectors, int32_t dim,
                                                       std::span<const uint64_t> row_ids);

  // Build a new index over other rows that reuses this index's partitions and quantizer
  // (no training): an index segment for the tail. Errors: as Build().
  Result<std::unique_ptr<IvfHnswSqIndex>> BuildWithSameModel(std::span<const float> vectors,
                                                             std::span<const uint64_t> row_ids,
                                                             const ProgressCallback& progress,
                                                             int num_threads) const;

  // As BuildWithSameModel, but of `type`: kIvfHnswSq (graphs with parameters `hnsw`) or kIvfSq
  // (no graphs); HNSW only as HNSW. optimize_indices indexes a small tail as a graph-less segment
  // (a probed partition is scanned in full; ~100x cheaper to build) and later merges such segments
  // into one with graphs. Errors: kInvalidArgument for another type; as Build().
  Result<std::unique_ptr<IvfHnswSqIndex>> BuildWithSameModelAs(
      IndexType type, const HnswParams& hnsw, std::span<const float> vectors,
      std::span<const uint64_t> row_ids, const ProgressCallback& progress, int num_threads) const;

  // Decode a payload written by AppendPayload(). Errors: kCorruption.
  static Result<std::unique_ptr<IvfHnswSqIndex>> FromPayload(IndexType type, Metric metric,
                                                             int32_t dim, std::string_view payload);

  IndexType type() const override { return type_; }
  Metric metric() const override { return metric_; }
  int32_t dim() const override { return model_.dim(); }
  int64_t num_rows() const override { return lists_.num_rows(); }
  int32_t num_partitions() const override { return model_.num_partitions(); }
  std::vector<int64_t> partition_sizes() const override {
    std::vector<int64_t> sizes;
    for (int32_t p = 0; p < lists_.num_partitions(); ++p) sizes.push_back(lists_.partition_size(p));
    return sizes;
  }
  size_t memory_bytes() const override;
  Status Search(std::span<const float> query, const SearchOptions& options,
                std::vector<Neighbor>* results) const override;
  void AppendPayload(std::string* out) const override;

  const IvfModel& model() const { return model_; }
  // Graph parameters (stored in every payload, with graphs or not).
  const HnswParams& hnsw_params() const { return hnsw_params_; }
  const ScalarQuantizer& quantizer() const { return quantizer_; }
  const PartitionLists<uint8_t>& lists() const { return lists_; }
  // Empty for IVF_SQ.
  const std::vector<HnswGraph>& graphs() const { return graphs_; }

 private:
  IvfHnswSqIndex() = default;
  bool has_graphs() const { return type_ != IndexType::kIvfSq; }
  // Encode the rows and build the graphs; model_, quantizer_ and params are set.
  Status Populate(std::span<const float> vectors, std::span<const uint64_t> row_ids,
                  const ProgressCallback& progress, double progress_start, int num_threads);

  IndexType type_ = IndexType::kIvfHnswSq;
  Metric metric_ = Metric::kL2;
  HnswParams hnsw_params_;
  IvfModel model_;
  ScalarQuantizer quantizer_;
  PartitionLists<uint8_t> lists_;
  std::vector<HnswGraph> graphs_;  // one per partition
  mutable internal::ScratchPool<internal::IvfSearchScratch> scratch_pool_;
};

}  // namespace tessera::index
