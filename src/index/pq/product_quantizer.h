// ProductQuantizer: 8-bit product quantization (Jégou, Douze, Schmid, "Product quantization for
// nearest neighbor search", TPAMI 2011). A vector of `dim` floats is cut into num_sub_vectors
// contiguous sub-vectors of sub_dim = dim / num_sub_vectors floats; each sub-vector is replaced
// by the index (one byte) of its nearest of 256 centroids trained by k-means for that subspace.
// A code is num_sub_vectors bytes.
//
// Distances are computed asymmetrically (ADC): the query stays in floats, a lookup table of the
// query's distance to every centroid of every subspace is filled once (ComputeL2Table /
// ComputeDotTable), and the distance to a code is the sum of num_sub_vectors table entries.
//
// Immutable after Train()/FromCodebooks(); thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/result.h"

namespace tessera::index {

struct ProductQuantizerOptions {
  int32_t num_sub_vectors = 0;  // REQUIRED: divides dim
  // Training rows at most (a random sample of the input beyond that): 64 per centroid gives
  // codebooks within noise of larger samples and keeps training to seconds on 2 cores.
  int64_t max_training_rows = 256 * 64;
  int32_t max_iterations = 25;  // Lloyd iterations at most (fewer once no row changes)
  uint64_t seed = 42;
  int num_threads = 0;  // <= 0: all hardware threads (subspaces train in parallel)
};

class ProductQuantizer {
 public:
  static constexpr int32_t kNumCentroids = 256;  // 8-bit codes

  ProductQuantizer() = default;

  // The default number of sub-vectors for `dim` (LanceDB's rule, extended): dim / 16 when 16
  // divides dim, else dim / 8 when 8 does, else the smallest divisor of dim that is at least
  // dim / 16 (sub-vectors of at most 16 floats).
  static int32_t DefaultNumSubVectors(int32_t dim);

  // Train the codebooks on `vectors` (row-major, dim floats each) by k-means per subspace
  // (Lloyd's algorithm from distinct random rows; an emptied centroid restarts from a row of the
  // largest cluster). With fewer than 256 training rows a subspace gets as many centroids as
  // rows (the rest of its codebook repeats the first centroid and is never chosen). Errors:
  // kInvalidArgument if dim <= 0, the input is empty or not a multiple of dim, or num_sub_vectors
  // is not a divisor of dim in [1, dim].
  static Result<ProductQuantizer> Train(std::span<const float> vectors, int32_t dim,
                                        const ProductQuantizerOptions& options);
  // Rebuild from codebooks (num_sub_vectors * 256 * sub_dim floats, subspace-major), read from a
  // file. Errors: kCorruption on bad sizes or non-finite values.
  static Result<ProductQuantizer> FromCodebooks(int32_t dim, int32_t num_sub_vectors,
                                                std::vector<float> codebooks);

  int32_t dim() const { return dim_; }
  int32_t num_sub_vectors() const { return num_sub_vectors_; }
  int32_t sub_dim() const { return sub_dim_; }
  // Bytes per code.
  size_t code_size() const { return static_cast<size_t>(num_sub_vectors_); }
  // Floats per lookup table.
  size_t table_size() const { return static_cast<size_t>(num_sub_vectors_) * kNumCentroids; }
  const std::vector<float>& codebooks() const { return codebooks_; }
  size_t memory_bytes() const { return (2 * codebooks_.size() + norms_.size()) * sizeof(float); }

  // Write the code (code_size() bytes) of `vector` (dim floats).
  void Encode(const float* vector, uint8_t* code) const;
  // Write the reconstruction (dim floats) of `code`.
  void Decode(const uint8_t* code, float* vector) const;

  // table[s * 256 + c] = squared L2 distance between sub-vector s of `query` and centroid c of
  // subspace s. Sum over a code's entries = squared L2 distance to its reconstruction.
  void ComputeL2Table(const float* query, float* table) const;
  // table[s * 256 + c] = dot product of sub-vector s of `query` with centroid c of subspace s.
  void ComputeDotTable(const float* query, float* table) const;
  // Return the sum of table entries selected by `code`.
  float Lookup(const float* table, const uint8_t* code) const;
  // out[i] = Lookup(table, codes + i * code_size()) for i in [0, n).
  void LookupBatch(const float* table, const uint8_t* codes, int64_t n, float* out) const;

 private:
  // Fill codebooks_t_ and norms_ from codebooks_.
  void Prepare();

  int32_t dim_ = 0;
  int32_t num_sub_vectors_ = 0;
  int32_t sub_dim_ = 0;
  std::vector<float> codebooks_;    // [subspace][centroid][sub_dim]: the file layout
  std::vector<float> codebooks_t_;  // [subspace][sub_dim][centroid]: for the SIMD kernels
  std::vector<float> norms_;        // [subspace][centroid]: squared norms of the centroids
};

}  // namespace tessera::index
