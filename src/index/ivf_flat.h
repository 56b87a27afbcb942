// IVF_FLAT: k-means partitions (IvfModel) whose rows are stored as full-precision vectors
// (normalized for kCosine) with their row ids (PartitionLists<float>); a probed partition is
// scanned exactly, so distances are exact and refine_factor is ignored.
// Immutable after Build()/FromPayload(); any number of threads may Search() at once.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "index/ivf/ivf_model.h"
#include "index/ivf/ivf_search_internal.h"
#include "index/ivf/partition_lists.h"
#include "index/vector_index.h"

namespace tessera::index {

class IvfFlatIndex final : public VectorIndex {
 public:
  // Build over `vectors`; options.type must be kIvfFlat. Errors: see BuildIndex().
  static Result<std::unique_ptr<IvfFlatIndex>> Build(const IndexBuildOptions& options,
                                                     std::span<const float> vectors, int32_t dim,
                                                     std::span<const uint64_t> row_ids);
  // Decode a payload written by AppendPayload(). Errors: kCorruption.
  static Result<std::unique_ptr<IvfFlatIndex>> FromPayload(Metric metric, int32_t dim,
                                                           std::string_view payload);

  IndexType type() const override { return IndexType::kIvfFlat; }
  Metric metric() const override { return metric_; }
  int32_t dim() const override { return model_.dim(); }
  int64_t num_rows() const override { return lists_.num_rows(); }
  int32_t num_partitions() const override { return model_.num_partitions(); }
  std::vector<int64_t> partition_sizes() const override {
    std::vector<int64_t> sizes;
    for (int32_t p = 0; p < lists_.num_partitions(); ++p) sizes.push_back(lists_.partition_size(p));
    return sizes;
  }
  size_t memory_bytes() const override { return model_.memory_bytes() + lists_.memory_bytes(); }
  Status Search(std::span<const float> query, const SearchOptions& options,
                std::vector<Neighbor>* results) const override;
  void AppendPayload(std::string* out) const override;

  const IvfModel& model() const { return model_; }

 private:
  IvfFlatIndex() = default;

  Metric metric_ = Metric::kL2;
  IvfModel model_;
  PartitionLists<float> lists_;
  mutable internal::ScratchPool<internal::IvfSearchScratch> scratch_pool_;
};

}  // namespace tessera::index
