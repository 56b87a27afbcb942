// The vector storages an HnswGraph is built and searched over ("spaces"). A space answers the
// distance from its current query to a node, and prefetches a node's data. HnswGraph's
// templates are instantiated for exactly these two.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/metric.h"
#include "index/simd/distance.h"
#include "index/sq/scalar_quantizer.h"

namespace tessera::index {

// Full-precision vectors: node i is base[i * dim, (i + 1) * dim). For kCosine the vectors and
// the query must be normalized. Borrows every pointer.
class FloatSpace {
 public:
  FloatSpace(const float* base, int32_t dim, Metric metric, const float* query = nullptr)
      : base_(base), query_(query), dim_(dim), metric_(metric) {
    const simd::DistanceKernels& kernels = simd::BestKernels();
    l2_ = kernels.l2_squared;
    dot_ = kernels.dot;
  }

  // Return a copy of this space whose query is `query` (dim floats, borrowed).
  FloatSpace WithQuery(const float* query) const {
    FloatSpace copy = *this;
    copy.query_ = query;
    return copy;
  }

  const float* Vector(uint32_t node) const { return base_ + static_cast<size_t>(node) * dim_; }
  int32_t dim() const { return dim_; }

  // Return the distance from the query to `node`. REQUIRES: a query is set.
  float Distance(uint32_t node) const { return DistanceBetween(query_, Vector(node)); }

  // Return the distance between nodes a and b.
  float NodeDistance(uint32_t a, uint32_t b) const { return DistanceBetween(Vector(a), Vector(b)); }

  void Prefetch(uint32_t node) const { __builtin_prefetch(Vector(node)); }

 private:
  float DistanceBetween(const float* a, const float* b) const {
    switch (metric_) {
      case Metric::kL2:
        return l2_(a, b, dim_);
      case Metric::kCosine:
        return 1.0f - dot_(a, b, dim_);
      case Metric::kDot:
        return -dot_(a, b, dim_);
    }
    return 0.0f;
  }

  const float* base_;
  const float* query_;
  int32_t dim_;
  Metric metric_;
  float (*l2_)(const float*, const float*, int32_t);
  float (*dot_)(const float*, const float*, int32_t);
};

// A query prepared for SQ8 distances (simd::DistanceKernels::l2_squared_sq8_centered,
// dot_sq8_scaled): once per query, not once per code. A search over many partitions prepares
// it once and shares it.
struct PreparedSq8Query {
  std::vector<float> values;  // kL2: query - vmin; kDot, kCosine: query * vscale
  float dot_base = 0.0f;      // kDot, kCosine: sum of query * vmin

  void Prepare(const ScalarQuantizer& quantizer, Metric metric, const float* query) {
    const int32_t dim = quantizer.dim();
    const float* vmin = quantizer.vmin().data();
    const float* vscale = quantizer.vscale().data();
    values.resize(static_cast<size_t>(dim));
    double base = 0.0;
    for (int32_t d = 0; d < dim; ++d) {
      if (metric == Metric::kL2) {
        values[d] = query[d] - vmin[d];
      } else {
        values[d] = query[d] * vscale[d];
        base += static_cast<double>(query[d]) * static_cast<double>(vmin[d]);
      }
    }
    dot_base = static_cast<float>(base);
  }
};

// SQ8 codes: node i is codes[i * dim, (i + 1) * dim), decoded by `quantizer`. For kCosine the
// encoded vectors and the query must be normalized. Borrows every pointer and the quantizer
// (and `prepared`, which must have been prepared for this quantizer and metric).
class Sq8Space {
 public:
  Sq8Space(const ScalarQuantizer& quantizer, const uint8_t* codes, Metric metric,
           const PreparedSq8Query& prepared)
      : codes_(codes),
        prepared_(prepared.values.data()),
        vscale_(quantizer.vscale().data()),
        dim_(quantizer.dim()),
        is_l2_(metric == Metric::kL2),
        // kCosine: 1 - dot; kDot: -dot; dot = dot_base + the kernel's sum.
        offset_(metric == Metric::kCosine ? 1.0f - prepared.dot_base : -prepared.dot_base) {
    const simd::DistanceKernels& kernels = simd::BestKernels();
    l2_ = kernels.l2_squared_sq8_centered;
    dot_ = kernels.dot_sq8_scaled;
    prefetch_lines_ = std::min((dim_ + 63) / 64, 16);  // the whole code, up to 1 KiB
  }
  Sq8Space(const Sq8Space&) = delete;
  Sq8Space& operator=(const Sq8Space&) = delete;

  const uint8_t* Code(uint32_t node) const { return codes_ + static_cast<size_t>(node) * dim_; }

  float Distance(uint32_t node) const {
    const uint8_t* code = Code(node);
    if (is_l2_) return l2_(prepared_, code, vscale_, dim_);
    return offset_ - dot_(prepared_, code, dim_);
  }

  void Prefetch(uint32_t node) const {
    const char* code = reinterpret_cast<const char*>(Code(node));
    for (int line = 0; line < prefetch_lines_; ++line) __builtin_prefetch(code + 64 * line);
  }

 private:
  const uint8_t* codes_;
  const float* prepared_;
  const float* vscale_;
  int32_t dim_;
  bool is_l2_;
  float offset_;
  int prefetch_lines_;
  float (*l2_)(const float*, const uint8_t*, const float*, int32_t);
  float (*dot_)(const float*, const uint8_t*, int32_t);
};

}  // namespace tessera::index
