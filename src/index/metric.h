// Distance metrics of the vector indices. Every distance is "smaller is better":
//   kL2     squared euclidean distance;
//   kCosine 1 - cos(a, b); indexed vectors and queries are normalized first;
//   kDot    negative inner product.
#pragma once

#include <cstdint>
#include <string_view>

#include "tessera/result.h"

namespace tessera::index {

enum class Metric : uint8_t { kL2 = 0, kCosine = 1, kDot = 2 };

// Return the metric named "l2", "cosine" or "dot" (case-insensitive; "euclidean" is an alias of
// "l2"). Errors: kInvalidArgument for any other name.
Result<Metric> ParseMetric(std::string_view name);

// Return "l2", "cosine" or "dot".
std::string_view MetricToString(Metric metric);

// Return true if `value` (e.g. read from a file) is a valid Metric.
bool IsValidMetric(uint32_t value);

// Scale vec[0, dim) to unit length in place; a zero (or non-finite) vector is left unchanged.
void NormalizeVector(float* vec, int32_t dim);

// Return the distance of `metric` between two full-precision vectors. For kCosine, `a` must be
// normalized; `b` need not be (its norm is computed here).
float ExactDistance(Metric metric, const float* a, const float* b, int32_t dim);

}  // namespace tessera::index
