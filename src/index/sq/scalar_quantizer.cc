#include "index/sq/scalar_quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "index/simd/distance.h"

namespace tessera::index {
namespace {

std::vector<float> InverseScales(const std::vector<float>& vscale) {
  std::vector<float> inv(vscale.size(), 0.0f);
  for (size_t d = 0; d < vscale.size(); ++d) {
    if (vscale[d] > 0.0f) inv[d] = 1.0f / vscale[d];
  }
  return inv;
}

}  // namespace

Result<ScalarQuantizer> ScalarQuantizer::Train(std::span<const float> vectors, int32_t dim,
                                               const ScalarQuantizerOptions& options) {
  if (dim <= 0) return Status::InvalidArgument("scalar quantizer: dim must be positive");
  if (vectors.empty() || vectors.size() % static_cast<size_t>(dim) != 0) {
    return Status::InvalidArgument("scalar quantizer: need a non-empty multiple of dim values");
  }
  if (!(options.clip_fraction >= 0.0 && options.clip_fraction < 0.5)) {
    return Status::InvalidArgument("scalar quantizer: clip_fraction must be in [0, 0.5)");
  }
  const size_t num_rows = vectors.size() / static_cast<size_t>(dim);
  std::vector<float> vmin(dim, 0.0f);
  std::vector<float> vscale(dim, 0.0f);
  std::vector<float> column;
  column.reserve(num_rows);
  for (int32_t d = 0; d < dim; ++d) {
    column.clear();
    for (size_t row = 0; row < num_rows; ++row) {
      const float value = vectors[row * dim + d];
      if (std::isfinite(value)) column.push_back(value);
    }
    if (column.empty()) continue;
    float lo;
    float hi;
    const size_t clip = static_cast<size_t>(options.clip_fraction * column.size());
    if (clip == 0) {
      const auto [min_it, max_it] = std::minmax_element(column.begin(), column.end());
      lo = *min_it;
      hi = *max_it;
    } else {
      std::nth_element(column.begin(), column.begin() + clip, column.end());
      lo = column[clip];
      std::nth_element(column.begin(), column.end() - 1 - clip, column.end());
      hi = column[column.size() - 1 - clip];
    }
    vmin[d] = lo;
    // Guard against a range so wide that (hi - lo) overflows.
    const double range = static_cast<double>(hi) - static_cast<double>(lo);
    vscale[d] =
        static_cast<float>(std::min<double>(range / 255.0, std::numeric_limits<float>::max()));
  }
  return FromParams(std::move(vmin), std::move(vscale));
}

Result<ScalarQuantizer> ScalarQuantizer::FromParams(std::vector<float> vmin,
                                                    std::vector<float> vscale) {
  if (vmin.size() != vscale.size() || vmin.empty()) {
    return Status::InvalidArgument("scalar quantizer: vmin and vscale sizes differ or are zero");
  }
  for (size_t d = 0; d < vmin.size(); ++d) {
    if (!std::isfinite(vmin[d]) || !std::isfinite(vscale[d]) || vscale[d] < 0.0f) {
      return Status::InvalidArgument("scalar quantizer: bad range in dimension ", d);
    }
  }
  ScalarQuantizer sq;
  sq.inv_scale_ = InverseScales(vscale);
  sq.vmin_ = std::move(vmin);
  sq.vscale_ = std::move(vscale);
  return sq;
}

void ScalarQuantizer::Encode(const float* vec, uint8_t* code) const {
  const int32_t n = dim();
  for (int32_t d = 0; d < n; ++d) {
    const float scaled = (vec[d] - vmin_[d]) * inv_scale_[d];
    uint8_t value = 0;
    if (scaled >= 255.0f) {
      value = 255;
    } else if (scaled > 0.0f) {  // false for NaN
      value = static_cast<uint8_t>(scaled + 0.5f);
    }
    code[d] = value;
  }
}

void ScalarQuantizer::EncodeBatch(const float* vectors, int64_t num_rows, uint8_t* codes) const {
  const size_t n = static_cast<size_t>(dim());
  for (int64_t row = 0; row < num_rows; ++row) Encode(vectors + row * n, codes + row * n);
}

void ScalarQuantizer::Decode(const uint8_t* code, float* out) const {
  const int32_t n = dim();
  for (int32_t d = 0; d < n; ++d) out[d] = vmin_[d] + static_cast<float>(code[d]) * vscale_[d];
}

float ScalarQuantizer::Distance(Metric metric, const float* query, const uint8_t* code) const {
  const simd::DistanceKernels& kernels = simd::BestKernels();
  switch (metric) {
    case Metric::kL2:
      return kernels.l2_squared_sq8(query, code, vmin_.data(), vscale_.data(), dim());
    case Metric::kCosine:
      return 1.0f - kernels.dot_sq8(query, code, vmin_.data(), vscale_.data(), dim());
    case Metric::kDot:
      return -kernels.dot_sq8(query, code, vmin_.data(), vscale_.data(), dim());
  }
  return 0.0f;
}

}  // namespace tessera::index
