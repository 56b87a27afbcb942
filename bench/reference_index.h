// The reference ANN libraries the vector-search benchmark compares Tessera with: hnswlib (the
// bar Tessera's IVF_HNSW_SQ is judged against) and FAISS. Each lives in its own .cc so that its
// compile flags stay there (hnswlib_reference.cc is built with -march=native for its AVX-512
// distance; faiss_reference.cc links the FAISS package). Benchmarks only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/result.h"

namespace tessera::bench {

// A built reference index searched one query at a time on the calling thread.
// Not thread-safe.
class ReferenceIndex {
 public:
  virtual ~ReferenceIndex() = default;
  // Set the search-time knob: ef (HNSW) or nprobe (IVF).
  virtual void SetSearchParam(int32_t value) = 0;
  // Write the ids (row indices of the base set) of the `k` nearest rows to `query`, nearest
  // first, to *ids.
  virtual void Search(const float* query, int32_t k, std::vector<uint64_t>* ids) = 0;
  // Approximate bytes held by the index structures (data + graph or codes + lists).
  virtual size_t memory_bytes() const = 0;
  // One line on how memory_bytes() is counted.
  virtual std::string memory_note() const = 0;
};

// Return true if the reference was compiled in (the Debian package was found by CMake).
bool HaveHnswlib();
bool HaveFaiss();

// Build an hnswlib HierarchicalNSW<float> (L2) over `base` (row-major, dim floats per row) with
// `num_threads` threads calling addPoint concurrently. Errors: kNotSupported without hnswlib.
Result<std::unique_ptr<ReferenceIndex>> BuildHnswlib(std::span<const float> base, int32_t dim,
                                                     int32_t m, int32_t ef_construction,
                                                     int num_threads);

// Build a faiss::IndexHNSWFlat (L2) with `num_threads` OpenMP threads. Searches then run on one
// OpenMP thread. Errors: kNotSupported without FAISS.
Result<std::unique_ptr<ReferenceIndex>> BuildFaissHnswFlat(std::span<const float> base, int32_t dim,
                                                           int32_t m, int32_t ef_construction,
                                                           int num_threads);

// Build a faiss::IndexIVFScalarQuantizer (QT_8bit, residual encoding, IndexFlatL2 coarse
// quantizer with `num_lists` lists, trained on at most 256 rows per list).
// Errors: kNotSupported without FAISS.
Result<std::unique_ptr<ReferenceIndex>> BuildFaissIvfSq8(std::span<const float> base, int32_t dim,
                                                         int32_t num_lists, int num_threads);

// Build a faiss::IndexIVFPQ (8-bit codes of `sub_vectors` sub-vectors, residual encoding,
// IndexFlatL2 coarse quantizer with `num_lists` lists, trained on at most 256 rows per list).
// Errors: kNotSupported without FAISS.
Result<std::unique_ptr<ReferenceIndex>> BuildFaissIvfPq(std::span<const float> base, int32_t dim,
                                                        int32_t num_lists, int32_t sub_vectors,
                                                        int num_threads);

}  // namespace tessera::bench
