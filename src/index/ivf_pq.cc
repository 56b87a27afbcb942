#include "index/ivf_pq.h"

#include <algorithm>

#include "index/parallel_internal.h"
#include "index/payload_codec_internal.h"
#include "index/simd/distance.h"

namespace tessera::index {
namespace {

// Rows sampled to train the codebooks (ProductQuantizerOptions::max_training_rows).
constexpr int64_t kCodebookSampleRows = 256 * 64;

// out = a - b over dim floats.
void Subtract(const float* a, const float* b, int32_t dim, float* out) {
  for (int32_t i = 0; i < dim; ++i) out[i] = a[i] - b[i];
}

}  // namespace

Result<std::unique_ptr<IvfPqIndex>> IvfPqIndex::Build(const IndexBuildOptions& options,
                                                      std::span<const float> vectors, int32_t dim,
                                                      std::span<const uint64_t> row_ids) {
  if (options.type != IndexType::kIvfPq) {
    return Status::InvalidArgument("IvfPqIndex cannot build ", IndexTypeToString(options.type));
  }
  const int32_t num_sub_vectors = options.num_sub_vectors > 0
                                      ? options.num_sub_vectors
                                      : ProductQuantizer::DefaultNumSubVectors(dim);
  if (dim > 0 && (num_sub_vectors > dim || dim % num_sub_vectors != 0)) {
    return Status::InvalidArgument("num_sub_vectors ", num_sub_vectors,
                                   " must divide the vector dimension ", dim);
  }
  TESSERA_ASSIGN_OR_RETURN(
      IvfBuildInput input,
      PrepareIvfBuild(options, vectors, dim, row_ids,
                      DefaultNumPartitions(static_cast<int64_t>(row_ids.size()), 1)));
  if (options.progress) options.progress(0.0);
  const int threads = internal::ResolveNumThreads(options.num_threads);
  auto index = std::unique_ptr<IvfPqIndex>(new IvfPqIndex());
  index->metric_ = options.metric;
  TESSERA_ASSIGN_OR_RETURN(index->model_, IvfModel::Train(input.vectors, dim, options.metric,
                                                          input.num_partitions, options));
  if (options.progress) options.progress(0.3);
  // The codebooks quantize residuals (row - its centroid): they are centered and spread far
  // less than the rows, so the same 256 centroids per subspace resolve them more finely.
  std::vector<float> sample = SampleVectors(input.vectors, dim, kCodebookSampleRows, options.seed);
  const int64_t sample_rows = static_cast<int64_t>(sample.size()) / dim;
  std::vector<int32_t> assignment(sample_rows);
  index->model_.Assign(sample, assignment, threads);
  const std::vector<float>& centroids = index->model_.centroids();
  for (int64_t row = 0; row < sample_rows; ++row) {
    float* vec = sample.data() + row * dim;
    Subtract(vec, centroids.data() + static_cast<int64_t>(assignment[row]) * dim, dim, vec);
  }
  ProductQuantizerOptions pq_options;
  pq_options.num_sub_vectors = num_sub_vectors;
  pq_options.max_training_rows = kCodebookSampleRows;
  pq_options.seed = options.seed;
  pq_options.num_threads = threads;
  TESSERA_ASSIGN_OR_RETURN(index->quantizer_, ProductQuantizer::Train(sample, dim, pq_options));
  if (options.progress) options.progress(0.6);
  index->Populate(input.vectors, row_ids, threads);
  if (options.progress) options.progress(1.0);
  return index;
}

Result<std::unique_ptr<IvfPqIndex>> IvfPqIndex::BuildWithSameModel(
    std::span<const float> vectors, std::span<const uint64_t> row_ids,
    const ProgressCallback& progress, int num_threads) const {
  IndexBuildOptions options;
  options.type = IndexType::kIvfPq;
  options.metric = metric_;
  TESSERA_ASSIGN_OR_RETURN(IvfBuildInput input,
                           PrepareIvfBuild(options, vectors, dim(), row_ids, 1));
  if (progress) progress(0.0);
  auto index = std::unique_ptr<IvfPqIndex>(new IvfPqIndex());
  index->metric_ = metric_;
  index->model_ = model_;
  index->quantizer_ = quantizer_;
  index->Populate(input.vectors, row_ids, internal::ResolveNumThreads(num_threads));
  if (progress) progress(1.0);
  return index;
}

void IvfPqIndex::Populate(std::span<const float> vectors, std::span<const uint64_t> row_ids,
                          int num_threads) {
  const int32_t dim = model_.dim();
  const int64_t num_rows = static_cast<int64_t>(row_ids.size());
  std::vector<int32_t> assignment(num_rows, 0);
  if (model_.num_partitions() > 1) model_.Assign(vectors, assignment, num_threads);
  std::vector<int64_t> slot_rows;
  lists_ = PartitionLists<uint8_t>::Group(assignment, model_.num_partitions(), row_ids,
                                          quantizer_.code_size(), &slot_rows);
  const std::vector<float>& centroids = model_.centroids();
  internal::ParallelFor(num_rows, num_threads, [&](int64_t begin, int64_t end, int) {
    std::vector<float> residual(dim);
    for (int64_t slot = begin; slot < end; ++slot) {
      const int64_t row = slot_rows[slot];
      Subtract(vectors.data() + row * dim,
               centroids.data() + static_cast<int64_t>(assignment[row]) * dim, dim,
               residual.data());
      quantizer_.Encode(residual.data(), lists_.mutable_slot_code(slot));
    }
  });
}

Status IvfPqIndex::Search(std::span<const float> query, const SearchOptions& options,
                          std::vector<Neighbor>* results) const {
  std::unique_ptr<Scratch> scratch = scratch_pool_.Acquire();
  const int32_t dim = model_.dim();
  const size_t code_size = quantizer_.code_size();
  const float* centroids = model_.centroids().data();
  scratch->table.resize(quantizer_.table_size());
  scratch->residual.resize(dim);
  bool dot_table_ready = false;
  const simd::DistanceKernels& kernels = simd::BestKernels();
  const auto search_partition = [&](int32_t partition, const float* q, int32_t, TopK* top) {
    const int64_t size = lists_.partition_size(partition);
    if (size == 0) return;
    const uint64_t* row_ids = lists_.row_ids(partition);
    const uint8_t* codes = lists_.codes(partition);
    const float* centroid = centroids + static_cast<int64_t>(partition) * dim;
    float* table = scratch->table.data();
    // distance = scale * (lookup sum) + offset
    float scale = 1.0f;
    float offset = 0.0f;
    if (metric_ == Metric::kDot) {
      if (!dot_table_ready) {  // q.r does not depend on the partition
        quantizer_.ComputeDotTable(q, table);
        dot_table_ready = true;
      }
      scale = -1.0f;
      offset = -kernels.dot(q, centroid, dim);
    } else {
      Subtract(q, centroid, dim, scratch->residual.data());
      quantizer_.ComputeL2Table(scratch->residual.data(), table);
      if (metric_ == Metric::kCosine) scale = 0.5f;  // unit vectors: ||a - b||^2 / 2 = 1 - cos
    }
    if (options.filter != nullptr) {  // distances of the accepted rows only
      for (int64_t slot = 0; slot < size; ++slot) {
        if (!(*options.filter)(row_ids[slot])) continue;
        top->Push(scale * quantizer_.Lookup(table, codes + slot * code_size) + offset,
                  row_ids[slot]);
      }
      return;
    }
    std::vector<float>& distances = scratch->ivf.distances;
    distances.resize(size);
    quantizer_.LookupBatch(table, codes, size, distances.data());
    for (int64_t slot = 0; slot < size; ++slot) {
      top->Push(scale * distances[slot] + offset, row_ids[slot]);
    }
  };
  Status status = internal::IvfSearch(model_, metric_, query, lists_.all_row_ids(), options,
                                      /*exact_distances=*/false, kDefaultNprobes, &scratch->ivf,
                                      search_partition, results);
  scratch_pool_.Release(std::move(scratch));
  return status;
}

void IvfPqIndex::AppendPayload(std::string* out) const {
  internal::PayloadWriter writer(out);
  writer.PutU32(static_cast<uint32_t>(quantizer_.num_sub_vectors()));
  writer.PutArray(model_.centroids());
  writer.PutArray(quantizer_.codebooks());
  writer.PutArray(lists_.offsets());
  writer.PutArray(lists_.all_row_ids());
  writer.PutArray(lists_.all_codes());
}

Result<std::unique_ptr<IvfPqIndex>> IvfPqIndex::FromPayload(Metric metric, int32_t dim,
                                                            std::string_view payload) {
  if (dim <= 0) return Status::Corruption("index file: bad dim");
  internal::PayloadReader reader(payload);
  auto index = std::unique_ptr<IvfPqIndex>(new IvfPqIndex());
  index->metric_ = metric;
  uint32_t num_sub_vectors = 0;
  TESSERA_RETURN_IF_ERROR(reader.ReadU32(&num_sub_vectors, "num_sub_vectors"));
  if (num_sub_vectors == 0 || num_sub_vectors > static_cast<uint32_t>(dim)) {
    return Status::Corruption("index file: bad num_sub_vectors ", num_sub_vectors);
  }
  std::vector<float> centroids;
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&centroids, "centroids"));
  TESSERA_ASSIGN_OR_RETURN(index->model_,
                           IvfModel::FromCentroids(metric, dim, std::move(centroids)));
  std::vector<float> codebooks;
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(
      &codebooks, "pq codebooks", static_cast<int64_t>(dim) * ProductQuantizer::kNumCentroids));
  Result<ProductQuantizer> quantizer = ProductQuantizer::FromCodebooks(
      dim, static_cast<int32_t>(num_sub_vectors), std::move(codebooks));
  if (!quantizer.ok()) return Status::Corruption("index file: ", quantizer.status().message());
  index->quantizer_ = std::move(quantizer).value();
  std::vector<uint64_t> offsets;
  std::vector<uint64_t> row_ids;
  std::vector<uint8_t> codes;
  TESSERA_RETURN_IF_ERROR(
      reader.ReadArray(&offsets, "partition offsets", index->model_.num_partitions() + 1));
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&row_ids, "row ids"));
  TESSERA_RETURN_IF_ERROR(reader.ReadArray(&codes, "codes"));
  TESSERA_ASSIGN_OR_RETURN(index->lists_, PartitionLists<uint8_t>::FromArrays(
                                              index->quantizer_.code_size(), std::move(offsets),
                                              std::move(row_ids), std::move(codes)));
  if (reader.remaining() != 0) return Status::Corruption("index file: trailing payload bytes");
  return index;
}

}  // namespace tessera::index
