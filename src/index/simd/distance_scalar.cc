// The reference kernels: plain loops over d = 0, 1, ..., dim - 1 that accumulate in double and
// round once at the end, so they are deterministic and at least as accurate as any SIMD level.
// Every other level is tested against these.
#include <cstdint>

#include "index/simd/distance.h"
#include "index/simd/distance_internal.h"

namespace tessera::index::simd {
namespace {

float L2Squared(const float* a, const float* b, int32_t dim) {
  double sum = 0.0;
  for (int32_t d = 0; d < dim; ++d) {
    const double diff = static_cast<double>(a[d]) - static_cast<double>(b[d]);
    sum += diff * diff;
  }
  return static_cast<float>(sum);
}

float Dot(const float* a, const float* b, int32_t dim) {
  double sum = 0.0;
  for (int32_t d = 0; d < dim; ++d) sum += static_cast<double>(a[d]) * static_cast<double>(b[d]);
  return static_cast<float>(sum);
}

void L2SquaredBatch(const float* query, const float* base, int64_t n, int32_t dim, float* out) {
  for (int64_t row = 0; row < n; ++row) out[row] = L2Squared(query, base + row * dim, dim);
}

void DotBatch(const float* query, const float* base, int64_t n, int32_t dim, float* out) {
  for (int64_t row = 0; row < n; ++row) out[row] = Dot(query, base + row * dim, dim);
}

// The decoded value of dimension d, rounded to float as ScalarQuantizer::Decode does.
float Decode(const uint8_t* code, const float* vmin, const float* vscale, int32_t d) {
  return vmin[d] + static_cast<float>(code[d]) * vscale[d];
}

float L2SquaredSq8(const float* query, const uint8_t* code, const float* vmin, const float* vscale,
                   int32_t dim) {
  double sum = 0.0;
  for (int32_t d = 0; d < dim; ++d) {
    const double diff =
        static_cast<double>(query[d]) - static_cast<double>(Decode(code, vmin, vscale, d));
    sum += diff * diff;
  }
  return static_cast<float>(sum);
}

float DotSq8(const float* query, const uint8_t* code, const float* vmin, const float* vscale,
             int32_t dim) {
  double sum = 0.0;
  for (int32_t d = 0; d < dim; ++d) {
    sum += static_cast<double>(query[d]) * static_cast<double>(Decode(code, vmin, vscale, d));
  }
  return static_cast<float>(sum);
}

float L2SquaredSq8Centered(const float* centered, const uint8_t* code, const float* vscale,
                           int32_t dim) {
  double sum = 0.0;
  for (int32_t d = 0; d < dim; ++d) {
    const double diff = static_cast<double>(static_cast<float>(code[d]) * vscale[d]) -
                        static_cast<double>(centered[d]);
    sum += diff * diff;
  }
  return static_cast<float>(sum);
}

float DotSq8Scaled(const float* scaled, const uint8_t* code, int32_t dim) {
  double sum = 0.0;
  for (int32_t d = 0; d < dim; ++d) {
    sum += static_cast<double>(scaled[d]) * static_cast<double>(code[d]);
  }
  return static_cast<float>(sum);
}

void L2SquaredSq8Batch(const float* query, const uint8_t* codes, int64_t n, const float* vmin,
                       const float* vscale, int32_t dim, float* out) {
  for (int64_t row = 0; row < n; ++row) {
    out[row] = L2SquaredSq8(query, codes + row * dim, vmin, vscale, dim);
  }
}

void DotSq8Batch(const float* query, const uint8_t* codes, int64_t n, const float* vmin,
                 const float* vscale, int32_t dim, float* out) {
  for (int64_t row = 0; row < n; ++row) {
    out[row] = DotSq8(query, codes + row * dim, vmin, vscale, dim);
  }
}

void DotTransposedBatch(const float* query, const float* base_t, int64_t n, int32_t dim,
                        float* out) {
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0.0;
    for (int32_t d = 0; d < dim; ++d) {
      sum += static_cast<double>(query[d]) * static_cast<double>(base_t[d * n + i]);
    }
    out[i] = static_cast<float>(sum);
  }
}

int32_t NearestTransposed(const float* query, const float* base_t, const float* norms, int32_t n,
                          int32_t dim) {
  int32_t best = 0;
  double best_score = 0.0;
  bool found = false;
  for (int32_t i = 0; i < n; ++i) {
    double dot = 0.0;
    for (int32_t d = 0; d < dim; ++d) {
      dot += static_cast<double>(query[d]) * static_cast<double>(base_t[int64_t{d} * n + i]);
    }
    const double score = static_cast<double>(norms[i]) - 2.0 * dot;
    if (!found ? score == score : score < best_score) {  // score == score: not NaN
      best = i;
      best_score = score;
      found = true;
    }
  }
  return best;
}

}  // namespace

namespace internal {

const DistanceKernels kScalarKernels = {
    .level = SimdLevel::kScalar,
    .l2_squared = &L2Squared,
    .dot = &Dot,
    .l2_squared_batch = &L2SquaredBatch,
    .dot_batch = &DotBatch,
    .l2_squared_sq8 = &L2SquaredSq8,
    .dot_sq8 = &DotSq8,
    .l2_squared_sq8_centered = &L2SquaredSq8Centered,
    .dot_sq8_scaled = &DotSq8Scaled,
    .l2_squared_sq8_batch = &L2SquaredSq8Batch,
    .dot_sq8_batch = &DotSq8Batch,
    .dot_transposed_batch = &DotTransposedBatch,
    .nearest_transposed = &NearestTransposed,
};

}  // namespace internal
}  // namespace tessera::index::simd
