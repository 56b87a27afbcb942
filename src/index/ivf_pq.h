// IVF_PQ: k-means partitions (IvfModel) whose rows are stored as 8-bit product-quantization
// codes of their residual to the partition centroid (ProductQuantizer), with their stable row
// ids (PartitionLists<uint8_t>). A probed partition is scanned with a lookup table of the
// query's distances to the PQ centroids (asymmetric distance computation); `refine_factor`
// re-ranks the k * refine_factor best candidates by exact distance through the caller's
// vectors. The most compact index: num_sub_vectors bytes per row (dim / 16 by default, 64x
// smaller than the float vectors), at the price of approximate distances.
//
// Distances per metric (vectors and query normalized for kCosine, as in every IVF index):
//   kL2     ||q - c - r||^2 from a table of (q - c) per probed partition;
//   kCosine half of that on unit vectors, which is 1 - cos;
//   kDot    -(q.c + q.r), the q.r table computed once per query.
//
// Immutable after Build()/FromPayload(); any number of threads may Search() at once.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "index/ivf/ivf_model.h"
#include "index/ivf/ivf_search_internal.h"
#include "index/ivf/partition_lists.h"
#include "index/pq/product_quantizer.h"
#include "index/vector_index.h"

namespace tessera::index {

class IvfPqIndex final : public VectorIndex {
 public:
  // Build over `vectors`; options.type must be kIvfPq. options.num_sub_vectors 0 picks
  // ProductQuantizer::DefaultNumSubVectors(dim). Errors: see BuildIndex().
  static Result<std::unique_ptr<IvfPqIndex>> Build(const IndexBuildOptions& options,
                                                   std::span<const float> vectors, int32_t dim,
                                                   std::span<const uint64_t> row_ids);

  // Build a new index over other rows that reuses this index's partitions and codebooks
  // (no training): an index segment for the tail. Errors: as Build().
  Result<std::unique_ptr<IvfPqIndex>> BuildWithSameModel(std::span<const float> vectors,
                                                         std::span<const uint64_t> row_ids,
                                                         const ProgressCallback& progress,
                                                         int num_threads) const;

  // Decode a payload written by AppendPayload(). Errors: kCorruption.
  static Result<std::unique_ptr<IvfPqIndex>> FromPayload(Metric metric, int32_t dim,
                                                         std::string_view payload);

  IndexType type() const override { return IndexType::kIvfPq; }
  Metric metric() const override { return metric_; }
  int32_t dim() const override { return model_.dim(); }
  int64_t num_rows() const override { return lists_.num_rows(); }
  int32_t num_partitions() const override { return model_.num_partitions(); }
  std::vector<int64_t> partition_sizes() const override {
    std::vector<int64_t> sizes;
    for (int32_t p = 0; p < lists_.num_partitions(); ++p) sizes.push_back(lists_.partition_size(p));
    return sizes;
  }
  size_t memory_bytes() const override {
    return model_.memory_bytes() + quantizer_.memory_bytes() + lists_.memory_bytes();
  }
  Status Search(std::span<const float> query, const SearchOptions& options,
                std::vector<Neighbor>* results) const override;
  void AppendPayload(std::string* out) const override;

  const IvfModel& model() const { return model_; }
  const ProductQuantizer& quantizer() const { return quantizer_; }
  const PartitionLists<uint8_t>& lists() const { return lists_; }

 private:
  struct Scratch {
    internal::IvfSearchScratch ivf;
    std::vector<float> residual;  // query - centroid
    std::vector<float> table;     // ADC lookup table
  };

  IvfPqIndex() = default;
  // Assign and encode the rows; model_ and quantizer_ are set.
  void Populate(std::span<const float> vectors, std::span<const uint64_t> row_ids, int num_threads);

  Metric metric_ = Metric::kL2;
  IvfModel model_;
  ProductQuantizer quantizer_;
  PartitionLists<uint8_t> lists_;
  mutable internal::ScratchPool<Scratch> scratch_pool_;
};

}  // namespace tessera::index
