#include "index/ivf_flat.h"

#include <algorithm>

#include "index/parallel_internal.h"
#include "index/payload_codec_internal.h"
#include "index/simd/distance.h"

namespace tessera::index {

Result<std::unique_ptr<IvfFlatIndex>> IvfFlatIndex::Build(const IndexBuildOptions& options,
                                                          std::span<const float> vectors,
                                                          int32_t dim,
                                                          std::span<const uint64_t> row_ids) {
  if (options.type != IndexType::kIvfFlat) {
    return Status::InvalidArgument("IvfFlatIndex cannot build ", IndexTypeToString(options.type));
  }
  TESSERA_ASSIGN_OR_RETURN(
      IvfBuildInput input,
      PrepareIvfBuild(options, vectors, dim, row_ids,
                      DefaultNumPartitions(static_cast<int64_t>(row_ids.size()), 1)));
  if (options.progress) options.progress(0.0);
  auto index = std::unique_ptr<IvfFlatIndex>(new IvfFlatIndex());
  index->metric_ = options.metric;
  TESSERA_ASSIGN_OR_RETURN(index->model_, IvfModel::Train(input.vectors, dim, options.metric,
                                                          input.num_partitions, options));
  if (options.progress) options.progress(0.5);
  const int threads = internal::ResolveNumThreads(options.num_threads);
  std::vector<int32_t> assignment(input.num_rows);
  index->model_.Assign(input.vectors, assignment, threads);
  std::vector<int64_t> slot_rows;
  index->lists_ =
      PartitionLists<float>::Group(assignment, input.num_partitions, row_ids, dim, &slot_rows);
  for (int64_t slot = 0; slot < input.num_rows; ++slot) {
    std::copy_n(input.vectors.data() + slot_rows[slot] * dim, dim,
                index->lists_.mutable_slot_code(slot));
  }
  if (options.progress) options.progress(1.0);
  return index;
}

Status IvfFlatIndex::Search(std::span<const float> query, const SearchOptions& options,
                            std::vector<Neighbor>* results) const {
  std::unique_ptr<internal::IvfSearchScratch> scratch = scratch_pool_.Acquire();
  const simd::DistanceKernels& kernels = simd::BestKernels();
  const int32_t dim = model_.dim();
  const auto search_partition = [&](int32_t partition, const float* q, int32_t, TopK* top) {
    const int64_t size = lists_.partition_size(partition);
    if (size == 0) return;
    const uint64_t* row_ids = lists_.row_ids(partition);
    const float* vectors = lists_.codes(partition);
    if (options.filter != nullptr) {  // distances of the accepted rows only
      for (int64_t slot = 0; slot < size; ++slot) {
        if (!(*options.filter)(row_ids[slot])) continue;
        top->Push(ExactDistance(metric_, q, vectors + slot * dim, dim), row_ids[slot]);
      }
      return;
    }
    std::vector<float>& distances = scratch->distances;
    distances.resize(size);
    if (metric_ == Metric::kL2) {
      kernels.l2_squared_batch(q, vectors, size, dim, distances.data());
    } else {
      kernels.dot_batch(q, vectors, size, dim, distances.data());
      const float offset = metric_ == Metric::kCosine ? 1.0f : 0.0f;
      for (float& d : distances) d = offset - d;
    }
    for (int64_t slot = 0; slot < size; ++slot) top->Push(distances[slot], row_ids[slot]);
  };
  Status status = internal::IvfSearch(model_, metric_, query, lists_.all_row_ids(), options,
                                      /*exact_distances=*/true, kDefaultNprobes, scratch.get(),
                                      search_partition, results);
  scratch_pool_.Release(std::move(scratch));
  return status;
}

void IvfFlatIndex::AppendPayload(std::string* out) const {
  internal::PayloadWriter writer(out);
  writer.PutArray(model_.centroids());
  writer.PutArray(lists_.offsets());
  writer.PutArray(lists_.all_row_ids());
  writer.PutArray(lists_.all_codes());
}

Result<std::unique_ptr<IvfFlatIndex>> IvfFlatIndex::FromPayload(Metric metric, int32_t dim,
                                                                std::string_view payload) {
  if (dim <= 0) return Status::Corruption("index file: bad dim");
  internal::PayloadReader reader(payload);
  auto index = std::unique_ptr<IvfFlatIndex>(new IvfFlatIndex());
  index->metric_ = metric;
  std::vector<float> centroids;
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&centroids, "centroids"));
  TESSERA_ASSIGN_OR_RETURN(index->model_,
                           IvfModel::FromCentroids(metric, dim, std::move(centroids)));
  std::vector<uint64_t> offsets;
  std::vector<uint64_t> row_ids;
  std::vector<float> vectors;
  TESSERA_RETURN_IF_ERROR(
      reader.ReadArray(&offsets, "partition offsets", index->model_.num_partitions() + 1));
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&row_ids, "row ids"));
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&vectors, "vectors"));
  TESSERA_ASSIGN_OR_RETURN(
      index->lists_, PartitionLists<float>::FromArrays(dim, std::move(offsets), std::move(row_ids),
                                                       std::move(vectors)));
  if (reader.remaining() != 0) return Status::Corruption("index file: trailing payload bytes");
  return index;
}

}  // namespace tessera::index
