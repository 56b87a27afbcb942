#include "index/pq/product_quantizer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "index/ivf/ivf_model.h"
#include "index/parallel_internal.h"
#include "index/simd/distance.h"

namespace tessera::index {

int32_t ProductQuantizer::DefaultNumSubVectors(int32_t dim) {
  if (dim <= 0) return 1;
  if (dim % 16 == 0) return dim / 16;
  if (dim % 8 == 0) return dim / 8;
  for (int32_t count = std::max(1, (dim + 15) / 16); count < dim; ++count) {
    if (dim % count == 0) return count;
  }
  return dim;
}

namespace {

constexpr int32_t kK = ProductQuantizer::kNumCentroids;

// Write to best[row] the nearest of the `k` centroids (transposed: book_t[d * k + c], squared
// norms in norms[c]) to each of `rows` rows of `sub_dim` floats. Return how many rows changed
// centroid.
int64_t AssignRows(const float* data, int64_t rows, int32_t sub_dim, const float* book_t,
                   const float* norms, int32_t k, int32_t* best) {
  const simd::DistanceKernels& kernels = simd::BestKernels();
  int64_t changed = 0;
  for (int64_t row = 0; row < rows; ++row) {
    const int32_t nearest =
        kernels.nearest_transposed(data + row * sub_dim, book_t, norms, k, sub_dim);
    changed += best[row] != nearest;
    best[row] = nearest;
  }
  return changed;
}

// Transpose `k` centroids of `sub_dim` floats into book_t and their squared norms into norms.
void Transpose(const float* book, int32_t k, int32_t sub_dim, float* book_t, float* norms) {
  for (int32_t c = 0; c < k; ++c) {
    float norm = 0.0f;
    for (int32_t d = 0; d < sub_dim; ++d) {
      const float value = book[c * sub_dim + d];
      book_t[d * k + c] = value;
      norm += value * value;
    }
    norms[c] = norm;
  }
}

// Lloyd's k-means of `rows` rows of `sub_dim` floats into `k` centroids written to `book`.
void TrainSubspace(const float* data, int64_t rows, int32_t sub_dim, int32_t k,
                   int32_t max_iterations, uint64_t seed, float* book) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  for (int32_t c = 0; c < k; ++c) {  // k distinct random rows
    std::swap(order[c], order[std::uniform_int_distribution<int64_t>(c, rows - 1)(rng)]);
    std::copy_n(data + order[c] * sub_dim, sub_dim, book + c * sub_dim);
  }
  std::vector<float> book_t(static_cast<size_t>(k) * sub_dim);
  std::vector<float> norms(k);
  std::vector<int32_t> assignment(rows, -1);
  std::vector<double> sums(static_cast<size_t>(k) * sub_dim);
  std::vector<int64_t> counts(k);
  for (int32_t iteration = 0; iteration < max_iterations; ++iteration) {
    Transpose(book, k, sub_dim, book_t.data(), norms.data());
    const int64_t changed =
        AssignRows(data, rows, sub_dim, book_t.data(), norms.data(), k, assignment.data());
    if (changed == 0) break;
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t row = 0; row < rows; ++row) {
      const int32_t c = assignment[row];
      ++counts[c];
      for (int32_t d = 0; d < sub_dim; ++d) sums[c * sub_dim + d] += data[row * sub_dim + d];
    }
    for (int32_t c = 0; c < k; ++c) {
      if (counts[c] == 0) continue;
      for (int32_t d = 0; d < sub_dim; ++d) {
        book[c * sub_dim + d] = static_cast<float>(sums[c * sub_dim + d] / counts[c]);
      }
    }
    // An empty centroid restarts next to the largest cluster's centroid (it then takes about
    // half of that cluster), as FAISS does.
    for (int32_t c = 0; c < k; ++c) {
      if (counts[c] != 0) continue;
      const int32_t largest =
          static_cast<int32_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
      if (counts[largest] < 2) break;
      for (int32_t d = 0; d < sub_dim; ++d) {
        const float value = book[largest * sub_dim + d];
        const float nudge = (d % 2 == 0 ? 1.0f : -1.0f) * 1e-4f * (std::fabs(value) + 1e-3f);
        book[c * sub_dim + d] = value + nudge;
        book[largest * sub_dim + d] = value - nudge;
      }
      counts[c] = counts[largest] / 2;
      counts[largest] -= counts[c];
    }
  }
}

}  // namespace

Result<ProductQuantizer> ProductQuantizer::Train(std::span<const float> vectors, int32_t dim,
                                                 const ProductQuantizerOptions& options) {
  if (dim <= 0 || vectors.empty() || vectors.size() % static_cast<size_t>(dim) != 0) {
    return Status::InvalidArgument("product quantizer: need a non-empty multiple of dim ", dim,
                                   " values, got ", vectors.size());
  }
  const int32_t num_sub_vectors = options.num_sub_vectors;
  if (num_sub_vectors < 1 || num_sub_vectors > dim || dim % num_sub_vectors != 0) {
    return Status::InvalidArgument("num_sub_vectors ", num_sub_vectors,
                                   " must divide the dimension ", dim);
  }
  ProductQuantizer pq;
  pq.dim_ = dim;
  pq.num_sub_vectors_ = num_sub_vectors;
  pq.sub_dim_ = dim / num_sub_vectors;
  const int32_t sub_dim = pq.sub_dim_;
  const std::vector<float> sample =
      SampleVectors(vectors, dim, std::max<int64_t>(options.max_training_rows, 1), options.seed);
  const int64_t rows = static_cast<int64_t>(sample.size()) / dim;
  const int32_t clusters = static_cast<int32_t>(std::min<int64_t>(kK, rows));
  pq.codebooks_.assign(static_cast<size_t>(num_sub_vectors) * kK * sub_dim, 0.0f);

  // One k-means per subspace, the subspaces spread over the threads (each k-means single
  // threaded, so the result does not depend on the thread count).
  const int threads = internal::ResolveNumThreads(options.num_threads);
  internal::ParallelFor(num_sub_vectors, threads, [&](int64_t begin, int64_t end, int) {
    std::vector<float> sub(static_cast<size_t>(rows) * sub_dim);
    for (int64_t s = begin; s < end; ++s) {
      for (int64_t row = 0; row < rows; ++row) {
        std::copy_n(sample.data() + row * dim + s * sub_dim, sub_dim, sub.data() + row * sub_dim);
      }
      float* book = pq.codebooks_.data() + s * kK * sub_dim;
      TrainSubspace(sub.data(), rows, sub_dim, clusters, options.max_iterations,
                    options.seed + static_cast<uint64_t>(s), book);
      for (int32_t c = clusters; c < kK; ++c) {  // padding, never nearest (ties: lowest index)
        std::copy_n(book, sub_dim, book + static_cast<int64_t>(c) * sub_dim);
      }
    }
  });
  pq.Prepare();
  return pq;
}

Result<ProductQuantizer> ProductQuantizer::FromCodebooks(int32_t dim, int32_t num_sub_vectors,
                                                         std::vector<float> codebooks) {
  if (dim <= 0 || num_sub_vectors < 1 || num_sub_vectors > dim || dim % num_sub_vectors != 0) {
    return Status::Corruption("product quantizer: ", num_sub_vectors,
                              " sub-vectors do not divide dim ", dim);
  }
  if (codebooks.size() != static_cast<size_t>(dim) * kK) {
    return Status::Corruption("product quantizer: codebooks hold ", codebooks.size(),
                              " floats, expected ", static_cast<size_t>(dim) * kK);
  }
  for (float value : codebooks) {
    if (!std::isfinite(value)) return Status::Corruption("product quantizer: non-finite centroid");
  }
  ProductQuantizer pq;
  pq.dim_ = dim;
  pq.num_sub_vectors_ = num_sub_vectors;
  pq.sub_dim_ = dim / num_sub_vectors;
  pq.codebooks_ = std::move(codebooks);
  pq.Prepare();
  return pq;
}

void ProductQuantizer::Prepare() {
  codebooks_t_.resize(codebooks_.size());
  norms_.resize(static_cast<size_t>(num_sub_vectors_) * kK);
  for (int32_t s = 0; s < num_sub_vectors_; ++s) {
    const size_t offset = static_cast<size_t>(s) * kK * sub_dim_;
    Transpose(codebooks_.data() + offset, kK, sub_dim_, codebooks_t_.data() + offset,
              norms_.data() + static_cast<size_t>(s) * kK);
  }
}

void ProductQuantizer::Encode(const float* vector, uint8_t* code) const {
  const simd::DistanceKernels& kernels = simd::BestKernels();
  for (int32_t s = 0; s < num_sub_vectors_; ++s) {
    const size_t offset = static_cast<size_t>(s) * kK * sub_dim_;
    code[s] = static_cast<uint8_t>(kernels.nearest_transposed(
        vector + static_cast<size_t>(s) * sub_dim_, codebooks_t_.data() + offset,
        norms_.data() + static_cast<size_t>(s) * kK, kK, sub_dim_));
  }
}

void ProductQuantizer::Decode(const uint8_t* code, float* vector) const {
  for (int32_t s = 0; s < num_sub_vectors_; ++s) {
    const float* centroid = codebooks_.data() + (static_cast<size_t>(s) * kK + code[s]) * sub_dim_;
    std::copy_n(centroid, sub_dim_, vector + static_cast<size_t>(s) * sub_dim_);
  }
}

void ProductQuantizer::ComputeL2Table(const float* query, float* table) const {
  // ||q - c||^2 = ||q||^2 + ||c||^2 - 2 q.c, clamped at 0 against rounding.
  ComputeDotTable(query, table);
  for (int32_t s = 0; s < num_sub_vectors_; ++s) {
    const float* q = query + static_cast<size_t>(s) * sub_dim_;
    float q_norm = 0.0f;
    for (int32_t d = 0; d < sub_dim_; ++d) q_norm += q[d] * q[d];
    float* row = table + static_cast<size_t>(s) * kK;
    const float* norms = norms_.data() + static_cast<size_t>(s) * kK;
    for (int32_t c = 0; c < kK; ++c) row[c] = std::max(0.0f, q_norm + norms[c] - 2.0f * row[c]);
  }
}

void ProductQuantizer::ComputeDotTable(const float* query, float* table) const {
  const simd::DistanceKernels& kernels = simd::BestKernels();
  for (int32_t s = 0; s < num_sub_vectors_; ++s) {
    const size_t offset = static_cast<size_t>(s) * kK * sub_dim_;
    kernels.dot_transposed_batch(query + static_cast<size_t>(s) * sub_dim_,
                                 codebooks_t_.data() + offset, kK, sub_dim_,
                                 table + static_cast<size_t>(s) * kK);
  }
}

float ProductQuantizer::Lookup(const float* table, const uint8_t* code) const {
  float sum = 0.0f;
  for (int32_t s = 0; s < num_sub_vectors_; ++s) sum += table[s * kNumCentroids + code[s]];
  return sum;
}

void ProductQuantizer::LookupBatch(const float* table, const uint8_t* codes, int64_t n,
                                   float* out) const {
  const int32_t m = num_sub_vectors_;
  int64_t i = 0;
  // Four codes at a time: four independent sums hide the latency of the table loads.
  for (; i + 4 <= n; i += 4) {
    const uint8_t* c0 = codes + i * m;
    const uint8_t* c1 = c0 + m;
    const uint8_t* c2 = c1 + m;
    const uint8_t* c3 = c2 + m;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (int32_t s = 0; s < m; ++s) {
      const float* row = table + s * kNumCentroids;
      s0 += row[c0[s]];
      s1 += row[c1[s]];
      s2 += row[c2[s]];
      s3 += row[c3[s]];
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < n; ++i) out[i] = Lookup(table, codes + i * m);
}

}  // namespace tessera::index
