// src/index/simd/distance.h: the only SIMD header other code includes.
// Kernels for L2, dot and cosine, on float vectors and on 8-bit scalar-quantized codes, with
// runtime dispatch (AVX-512, AVX2+FMA, scalar). The CPU is detected once; the environment
// variable TESSERA_SIMD=scalar|avx2|avx512 forces a level (never above what the CPU has).
#pragma once

#include <cstdint>

namespace tessera::index::simd {

enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

/// Return "scalar", "avx2" or "avx512".
const char* SimdLevelName(SimdLevel level);

/// A table of kernels of one instruction set. All pointers are non-null. Inputs need no
/// particular alignment. `dim` >= 0, `n` >= 0. Levels differ only in rounding (summation order);
/// a NaN in an input gives a NaN result at every level.
struct DistanceKernels {
  SimdLevel level;
  /// Sum over d of (a[d] - b[d])^2.
  float (*l2_squared)(const float* a, const float* b, int32_t dim);
  /// Sum over d of a[d] * b[d].
  float (*dot)(const float* a, const float* b, int32_t dim);
  /// One query against `n` contiguous row-major vectors: out[i] = l2_squared(q, base + i*dim).
  void (*l2_squared_batch)(const float* query, const float* base, int64_t n, int32_t dim,
                           float* out);
  /// out[i] = dot(q, base + i*dim).
  void (*dot_batch)(const float* query, const float* base, int64_t n, int32_t dim, float* out);
  /// Distance between a float query and an SQ8 code, decoded per dimension d as
  /// vmin[d] + code[d] * vscale[d]: sum of (q[d] - decoded[d])^2.
  float (*l2_squared_sq8)(const float* query, const uint8_t* code, const float* vmin,
                          const float* vscale, int32_t dim);
  /// Sum of q[d] * decoded[d].
  float (*dot_sq8)(const float* query, const uint8_t* code, const float* vmin, const float* vscale,
                   int32_t dim);
  /// The SQ8 pair kernels with the query prepared once per query instead of per code (graph
  /// searches compute one query against many single codes), one load and one FMA fewer per
  /// step. l2: `centered` = query - vmin; sum of (code[d] * vscale[d] - centered[d])^2, which
  /// is l2_squared_sq8 up to rounding.
  float (*l2_squared_sq8_centered)(const float* centered, const uint8_t* code, const float* vscale,
                                   int32_t dim);
  /// dot: `scaled` = query * vscale; sum of scaled[d] * code[d], which is dot_sq8 minus the
  /// sum of query[d] * vmin[d], up to rounding.
  float (*dot_sq8_scaled)(const float* scaled, const uint8_t* code, int32_t dim);
  /// One query against `n` contiguous SQ8 codes of `dim` bytes each:
  /// out[i] = l2_squared_sq8(query, codes + i*dim, vmin, vscale, dim), up to rounding.
  void (*l2_squared_sq8_batch)(const float* query, const uint8_t* codes, int64_t n,
                               const float* vmin, const float* vscale, int32_t dim, float* out);
  /// out[i] = dot_sq8(query, codes + i*dim, vmin, vscale, dim), up to rounding.
  void (*dot_sq8_batch)(const float* query, const uint8_t* codes, int64_t n, const float* vmin,
                        const float* vscale, int32_t dim, float* out);
  /// One query against `n` vectors stored dimension-major (base_t[d * n + i] is dimension d of
  /// vector i): out[i] = sum over d of query[d] * base_t[d * n + i]. For many short vectors
  /// (product-quantization codebooks: 256 centroids of a few floats), where it runs one FMA
  /// per lane per dimension and needs no horizontal sums.
  void (*dot_transposed_batch)(const float* query, const float* base_t, int64_t n, int32_t dim,
                               float* out);
  /// The nearest by L2 of `n` vectors stored as for dot_transposed_batch, given their squared
  /// norms: the i minimizing norms[i] - 2 * dot(query, vector i) (ties: the lowest i; rows whose
  /// score is NaN are never chosen; 0 if every score is NaN). REQUIRES n >= 1. The encoder of
  /// product quantization and its k-means.
  int32_t (*nearest_transposed)(const float* query, const float* base_t, const float* norms,
                                int32_t n, int32_t dim);
};

/// The best kernels for this CPU, honouring TESSERA_SIMD. Thread-safe.
const DistanceKernels& BestKernels();
/// The kernels of `level`, or nullptr if not compiled in or not supported by this CPU.
const DistanceKernels* KernelsFor(SimdLevel level);
/// The highest level this CPU supports.
SimdLevel DetectCpuLevel();

}  // namespace tessera::index::simd
