#include "index/metric.h"

#include <cctype>
#include <cmath>
#include <string>

#include "index/simd/distance.h"

namespace tessera::index {

Result<Metric> ParseMetric(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "l2" || lower == "euclidean") return Metric::kL2;
  if (lower == "cosine") return Metric::kCosine;
  if (lower == "dot") return Metric::kDot;
  return Status::InvalidArgument("unknown metric '", name, "' (expected l2, cosine or dot)");
}

std::string_view MetricToString(Metric metric) {
  switch (metric) {
    case Metric::kL2:
      return "l2";
    case Metric::kCosine:
      return "cosine";
    case Metric::kDot:
      return "dot";
  }
  return "unknown";
}

bool IsValidMetric(uint32_t value) { return value <= static_cast<uint32_t>(Metric::kDot); }

void NormalizeVector(float* vec, int32_t dim) {
  const float norm_sq = simd::BestKernels().dot(vec, vec, dim);
  if (!(norm_sq > 0.0f) || !std::isfinite(norm_sq)) return;
  const float inv = 1.0f / std::sqrt(norm_sq);
  for (int32_t d = 0; d < dim; ++d) vec[d] *= inv;
}

float ExactDistance(Metric metric, const float* a, const float* b, int32_t dim) {
  const simd::DistanceKernels& kernels = simd::BestKernels();
  switch (metric) {
    case Metric::kL2:
      return kernels.l2_squared(a, b, dim);
    case Metric::kCosine: {
      const float norm_sq = kernels.dot(b, b, dim);
      if (!(norm_sq > 0.0f)) return 1.0f;
      return 1.0f - kernels.dot(a, b, dim) / std::sqrt(norm_sq);
    }
    case Metric::kDot:
      return -kernels.dot(a, b, dim);
  }
  return 0.0f;
}

}  // namespace tessera::index
