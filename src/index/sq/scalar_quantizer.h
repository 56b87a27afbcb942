// An 8-bit scalar quantizer: each dimension d is mapped linearly from [vmin[d], vmin[d] +
// 255 * vscale[d]] onto the codes 0..255, the ranges trained per dimension from a sample.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "index/metric.h"
#include "tessera/result.h"

namespace tessera::index {

struct ScalarQuantizerOptions {
  // Fraction of the sample ignored at each end of every dimension's range (0 = exact min/max).
  // E.g. 0.001 clips the 0.1% smallest and largest values, so a few outliers do not stretch the
  // range for everything else.
  double clip_fraction = 0.0;
};

// Immutable after Train()/FromParams(); thread-safe for concurrent use.
class ScalarQuantizer {
 public:
  ScalarQuantizer() = default;

  // Train on `num_rows` row-major vectors of `dim` floats. Non-finite values are ignored.
  // Errors: kInvalidArgument if dim <= 0, vectors.size() != num_rows * dim or num_rows == 0.
  static Result<ScalarQuantizer> Train(std::span<const float> vectors, int32_t dim,
                                       const ScalarQuantizerOptions& options = {});

  // Rebuild a quantizer from its parameters (see vmin()/vscale()).
  // Errors: kInvalidArgument if the sizes differ or a value is not finite or vscale < 0.
  static Result<ScalarQuantizer> FromParams(std::vector<float> vmin, std::vector<float> vscale);

  int32_t dim() const { return static_cast<int32_t>(vmin_.size()); }
  // Bytes per code.
  int32_t code_size() const { return dim(); }
  const std::vector<float>& vmin() const { return vmin_; }
  const std::vector<float>& vscale() const { return vscale_; }

  // Write the dim() byte code of vec[0, dim()) to code. Values outside the trained range are
  // clamped; NaN maps to code 0.
  void Encode(const float* vec, uint8_t* code) const;
  // Encode `num_rows` row-major vectors into num_rows * dim() bytes.
  void EncodeBatch(const float* vectors, int64_t num_rows, uint8_t* codes) const;
  // Write the dim() reconstructed floats of `code` to out.
  void Decode(const uint8_t* code, float* out) const;

  // Return the `metric` distance between a float query and a code (for kCosine, `query` must
  // be normalized and the code must encode a normalized vector: 1 - dot).
  float Distance(Metric metric, const float* query, const uint8_t* code) const;

  // Return the largest reconstruction error of one dimension for values inside the range.
  float MaxError(int32_t d) const { return vscale_[d] * 0.5f; }

 private:
  std::vector<float> vmin_;
  std::vector<float> vscale_;
  std::vector<float> inv_scale_;  // 1 / vscale, 0 where vscale == 0
};

}  // namespace tessera::index
