// AVX-512 kernels (AVX512F/BW/VL/DQ + FMA). Compiled with -mavx512*; reached only through
// KernelsFor()/BestKernels() after the CPU check.
//
// Everything here except the exported table and SumFloatsAvx512 has internal linkage, and this
// file must not call inline functions or templates from shared headers (<algorithm>, <vector>,
// ...): the linker may keep this file's AVX-512 copy of such a function for the whole program,
// which then crashes on a CPU without AVX-512.
#include <immintrin.h>

#include <cstdint>
#include <limits>

#include "index/simd/distance.h"
#include "index/simd/distance_internal.h"

namespace tessera::index::simd {
namespace {

constexpr int32_t kLanes = 16;
// Rows processed together by the batch kernels: the query chunk is loaded once per group.
constexpr int64_t kBatchRows = 4;
// The batch kernels prefetch the next group of rows while reading one, but at least this many
// bytes ahead.
constexpr int64_t kMinPrefetchBytes = 4096;

inline __mmask16 TailMask(int32_t remaining) {
  return static_cast<__mmask16>((1u << remaining) - 1u);
}

// Return the sum of the 16 lanes. (Not _mm512_reduce_add_ps or _mm512_castps512_ps256: under
// the sanitizers GCC 12 reports -Wmaybe-uninitialized inside them, on _mm256_undefined_pd.)
inline float ReduceAdd(__m512 v) {
  const __m256 half = _mm256_add_ps(_mm512_extractf32x8_ps(v, 0), _mm512_extractf32x8_ps(v, 1));
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

struct L2Op {
  static __m512 Step(__m512 acc, __m512 a, __m512 b) {
    const __m512 diff = _mm512_sub_ps(a, b);
    return _mm512_fmadd_ps(diff, diff, acc);
  }
};

struct DotOp {
  static __m512 Step(__m512 acc, __m512 a, __m512 b) { return _mm512_fmadd_ps(a, b, acc); }
};

// Sum over [0, dim) of `step(at, acc)` for the full 512-bit steps, on four accumulators so that
// consecutive FMAs do not wait on each other, plus `tail(at, acc)` for the partial last step
// (at < dim); then the horizontal sum. The shape of every pair kernel.
template <class Step, class Tail>
float UnrolledSum(int32_t dim, const Step& step, const Tail& tail) {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps();
  __m512 acc3 = _mm512_setzero_ps();
  int32_t d = 0;
  for (; d + 4 * kLanes <= dim; d += 4 * kLanes) {
    acc0 = step(d, acc0);
    acc1 = step(d + kLanes, acc1);
    acc2 = step(d + 2 * kLanes, acc2);
    acc3 = step(d + 3 * kLanes, acc3);
  }
  if (d + 2 * kLanes <= dim) {
    acc0 = step(d, acc0);
    acc1 = step(d + kLanes, acc1);
    d += 2 * kLanes;
  }
  if (d + kLanes <= dim) {
    acc2 = step(d, acc2);
    d += kLanes;
  }
  if (d < dim) acc3 = tail(d, acc3);
  return ReduceAdd(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

template <class Op>
float PairKernel(const float* a, const float* b, int32_t dim) {
  const auto step = [&](int32_t at, __m512 acc) {
    return Op::Step(acc, _mm512_loadu_ps(a + at), _mm512_loadu_ps(b + at));
  };
  const auto tail = [&](int32_t at, __m512 acc) {
    const __mmask16 mask = TailMask(dim - at);
    return Op::Step(acc, _mm512_maskz_loadu_ps(mask, a + at), _mm512_maskz_loadu_ps(mask, b + at));
  };
  return UnrolledSum(dim, step, tail);
}

// Prefetch the `lines` cache lines starting at `p` into L1.
inline void PrefetchLines(const char* p, int lines) {
  for (int line = 0; line < lines; ++line) _mm_prefetch(p + 64 * line, _MM_HINT_T0);
}

// The batch kernels read kBatchRows consecutive rows at once, 16 floats (one cache line) of each
// per step, and prefetch as many cache lines of the next group, so the contiguous rows are
// prefetched once each, one group (at least kMinPrefetchBytes) ahead of use.
template <class Op>
void BatchKernel(const float* query, const float* base, int64_t n, int32_t dim, float* out) {
  const int64_t stride = dim;
  const int32_t body = dim - dim % kLanes;
  const int32_t tail = dim - body;
  const __mmask16 mask = TailMask(tail);
  const int64_t group_bytes = kBatchRows * stride * static_cast<int64_t>(sizeof(float));
  const int64_t prefetch_ahead = group_bytes > kMinPrefetchBytes ? group_bytes : kMinPrefetchBytes;
  int64_t row = 0;
  for (; row + kBatchRows <= n; row += kBatchRows) {
    const float* r0 = base + row * stride;
    const float* r1 = r0 + stride;
    const float* r2 = r1 + stride;
    const float* r3 = r2 + stride;
    const char* prefetch = reinterpret_cast<const char*>(r0) + prefetch_ahead;
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    for (int32_t d = 0; d < body; d += kLanes) {
      PrefetchLines(prefetch + kBatchRows * sizeof(float) * d, kBatchRows);
      const __m512 q = _mm512_loadu_ps(query + d);
      acc0 = Op::Step(acc0, q, _mm512_loadu_ps(r0 + d));
      acc1 = Op::Step(acc1, q, _mm512_loadu_ps(r1 + d));
      acc2 = Op::Step(acc2, q, _mm512_loadu_ps(r2 + d));
      acc3 = Op::Step(acc3, q, _mm512_loadu_ps(r3 + d));
    }
    if (tail != 0) {
      PrefetchLines(prefetch + kBatchRows * sizeof(float) * body, kBatchRows);
      const __m512 q = _mm512_maskz_loadu_ps(mask, query + body);
      acc0 = Op::Step(acc0, q, _mm512_maskz_loadu_ps(mask, r0 + body));
      acc1 = Op::Step(acc1, q, _mm512_maskz_loadu_ps(mask, r1 + body));
      acc2 = Op::Step(acc2, q, _mm512_maskz_loadu_ps(mask, r2 + body));
      acc3 = Op::Step(acc3, q, _mm512_maskz_loadu_ps(mask, r3 + body));
    }
    out[row] = ReduceAdd(acc0);
    out[row + 1] = ReduceAdd(acc1);
    out[row + 2] = ReduceAdd(acc2);
    out[row + 3] = ReduceAdd(acc3);
  }
  for (; row < n; ++row) out[row] = PairKernel<Op>(query, base + row * stride, dim);
}

float L2Squared(const float* a, const float* b, int32_t dim) { return PairKernel<L2Op>(a, b, dim); }

float Dot(const float* a, const float* b, int32_t dim) { return PairKernel<DotOp>(a, b, dim); }

void L2SquaredBatch(const float* query, const float* base, int64_t n, int32_t dim, float* out) {
  BatchKernel<L2Op>(query, base, n, dim, out);
}

void DotBatch(const float* query, const float* base, int64_t n, int32_t dim, float* out) {
  BatchKernel<DotOp>(query, base, n, dim, out);
}

// SQ8: codes widen uint8 -> int32 -> float and decode as vmin + code * vscale.

// Widen 16 bytes to 16 floats. (The maskz forms with an all-ones mask compile to the plain
// instructions; the plain intrinsics trip GCC 12's -Wmaybe-uninitialized under sanitizers.)
inline __m512 WidenCodes(__m128i bytes) {
  constexpr __mmask16 kAll = 0xffff;
  return _mm512_maskz_cvtepi32_ps(kAll, _mm512_maskz_cvtepu8_epi32(kAll, bytes));
}

inline __m512 LoadCodes(const uint8_t* code) {
  return WidenCodes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(code)));
}

inline __m512 LoadCodesMasked(__mmask16 mask, const uint8_t* code) {
  return WidenCodes(_mm_maskz_loadu_epi8(mask, code));
}

// The query, vmin and vscale of one 16-dimension step.
struct Sq8Params {
  __m512 query;
  __m512 vmin;
  __m512 vscale;
};

inline Sq8Params LoadParams(const float* query, const float* vmin, const float* vscale) {
  return {_mm512_loadu_ps(query), _mm512_loadu_ps(vmin), _mm512_loadu_ps(vscale)};
}

inline Sq8Params LoadParamsMasked(__mmask16 mask, const float* query, const float* vmin,
                                  const float* vscale) {
  return {_mm512_maskz_loadu_ps(mask, query), _mm512_maskz_loadu_ps(mask, vmin),
          _mm512_maskz_loadu_ps(mask, vscale)};
}

struct L2Sq8Op {
  static __m512 Step(__m512 acc, const Sq8Params& p, __m512 codes) {
    const __m512 diff = _mm512_sub_ps(p.query, _mm512_fmadd_ps(codes, p.vscale, p.vmin));
    return _mm512_fmadd_ps(diff, diff, acc);
  }
};

struct DotSq8Op {
  static __m512 Step(__m512 acc, const Sq8Params& p, __m512 codes) {
    return _mm512_fmadd_ps(p.query, _mm512_fmadd_ps(codes, p.vscale, p.vmin), acc);
  }
};

template <class Op>
float Sq8PairKernel(const float* query, const uint8_t* code, const float* vmin, const float* vscale,
                    int32_t dim) {
  // One step of `kLanes` dimensions starting at `at`.
  const auto step = [&](int32_t at, __m512 acc) {
    return Op::Step(acc, LoadParams(query + at, vmin + at, vscale + at), LoadCodes(code + at));
  };
  const auto tail = [&](int32_t at, __m512 acc) {
    const __mmask16 mask = TailMask(dim - at);
    return Op::Step(acc, LoadParamsMasked(mask, query + at, vmin + at, vscale + at),
                    LoadCodesMasked(mask, code + at));
  };
  return UnrolledSum(dim, step, tail);
}

float L2SquaredSq8(const float* query, const uint8_t* code, const float* vmin, const float* vscale,
                   int32_t dim) {
  return Sq8PairKernel<L2Sq8Op>(query, code, vmin, vscale, dim);
}

float DotSq8(const float* query, const uint8_t* code, const float* vmin, const float* vscale,
             int32_t dim) {
  return Sq8PairKernel<DotSq8Op>(query, code, vmin, vscale, dim);
}

// SQ8 with a prepared query (DistanceKernels::l2_squared_sq8_centered, dot_sq8_scaled).
struct L2Sq8CenteredOp {
  static constexpr bool kUsesScale = true;
  static __m512 Step(__m512 acc, __m512 prepared, __m512 vscale, __m512 codes) {
    const __m512 diff = _mm512_fmsub_ps(codes, vscale, prepared);
    return _mm512_fmadd_ps(diff, diff, acc);
  }
};

struct DotSq8ScaledOp {
  static constexpr bool kUsesScale = false;
  static __m512 Step(__m512 acc, __m512 prepared, __m512 /*vscale*/, __m512 codes) {
    return _mm512_fmadd_ps(prepared, codes, acc);
  }
};

template <class Op>
float Sq8PreparedKernel(const float* prepared, const uint8_t* code, const float* vscale,
                        int32_t dim) {
  const auto step = [&](int32_t at, __m512 acc) {
    __m512 scale = _mm512_setzero_ps();
    if constexpr (Op::kUsesScale) scale = _mm512_loadu_ps(vscale + at);
    return Op::Step(acc, _mm512_loadu_ps(prepared + at), scale, LoadCodes(code + at));
  };
  const auto tail = [&](int32_t at, __m512 acc) {
    const __mmask16 mask = TailMask(dim - at);
    __m512 scale = _mm512_setzero_ps();
    if constexpr (Op::kUsesScale) scale = _mm512_maskz_loadu_ps(mask, vscale + at);
    return Op::Step(acc, _mm512_maskz_loadu_ps(mask, prepared + at), scale,
                    LoadCodesMasked(mask, code + at));
  };
  return UnrolledSum(dim, step, tail);
}

float L2SquaredSq8Centered(const float* centered, const uint8_t* code, const float* vscale,
                           int32_t dim) {
  return Sq8PreparedKernel<L2Sq8CenteredOp>(centered, code, vscale, dim);
}

float DotSq8Scaled(const float* scaled, const uint8_t* code, int32_t dim) {
  return Sq8PreparedKernel<DotSq8ScaledOp>(scaled, code, nullptr, dim);
}

// The batch SQ8 kernels share each step's query/vmin/vscale loads between kBatchRows codes, and
// prefetch the next group of codes like BatchKernel. For
// L2 they also share q - vmin, so a row costs widen, convert and two FMAs per 16 dimensions.
struct L2Sq8BatchOp {
  static Sq8Params Prepare(const Sq8Params& p) {
    return {_mm512_sub_ps(p.query, p.vmin), p.vmin, p.vscale};
  }
  static __m512 Step(__m512 acc, const Sq8Params& prepared, __m512 codes) {
    // (q - vmin) - code * vscale
    const __m512 diff = _mm512_fnmadd_ps(codes, prepared.vscale, prepared.query);
    return _mm512_fmadd_ps(diff, diff, acc);
  }
};

struct DotSq8BatchOp {
  static Sq8Params Prepare(const Sq8Params& p) { return p; }
  static __m512 Step(__m512 acc, const Sq8Params& p, __m512 codes) {
    return DotSq8Op::Step(acc, p, codes);
  }
};

template <class BatchOp, class PairOp>
void Sq8BatchKernel(const float* query, const uint8_t* codes, int64_t n, const float* vmin,
                    const float* vscale, int32_t dim, float* out) {
  const int64_t stride = dim;
  const int32_t body = dim - dim % kLanes;
  const int32_t tail = dim - body;
  const __mmask16 mask = TailMask(tail);
  const int64_t group_bytes = kBatchRows * stride;
  const int64_t prefetch_ahead = group_bytes > kMinPrefetchBytes ? group_bytes : kMinPrefetchBytes;
  int64_t row = 0;
  for (; row + kBatchRows <= n; row += kBatchRows) {
    const uint8_t* c0 = codes + row * stride;
    const uint8_t* c1 = c0 + stride;
    const uint8_t* c2 = c1 + stride;
    const uint8_t* c3 = c2 + stride;
    const char* prefetch = reinterpret_cast<const char*>(c0) + prefetch_ahead;
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    for (int32_t d = 0; d < body; d += kLanes) {
      _mm_prefetch(prefetch + kBatchRows * d, _MM_HINT_T0);
      const Sq8Params p = BatchOp::Prepare(LoadParams(query + d, vmin + d, vscale + d));
      acc0 = BatchOp::Step(acc0, p, LoadCodes(c0 + d));
      acc1 = BatchOp::Step(acc1, p, LoadCodes(c1 + d));
      acc2 = BatchOp::Step(acc2, p, LoadCodes(c2 + d));
      acc3 = BatchOp::Step(acc3, p, LoadCodes(c3 + d));
    }
    if (tail != 0) {
      _mm_prefetch(prefetch + kBatchRows * body, _MM_HINT_T0);
      const Sq8Params p =
          BatchOp::Prepare(LoadParamsMasked(mask, query + body, vmin + body, vscale + body));
      acc0 = BatchOp::Step(acc0, p, LoadCodesMasked(mask, c0 + body));
      acc1 = BatchOp::Step(acc1, p, LoadCodesMasked(mask, c1 + body));
      acc2 = BatchOp::Step(acc2, p, LoadCodesMasked(mask, c2 + body));
      acc3 = BatchOp::Step(acc3, p, LoadCodesMasked(mask, c3 + body));
    }
    out[row] = ReduceAdd(acc0);
    out[row + 1] = ReduceAdd(acc1);
    out[row + 2] = ReduceAdd(acc2);
    out[row + 3] = ReduceAdd(acc3);
  }
  for (; row < n; ++row) {
    out[row] = Sq8PairKernel<PairOp>(query, codes + row * stride, vmin, vscale, dim);
  }
}

void L2SquaredSq8Batch(const float* query, const uint8_t* codes, int64_t n, const float* vmin,
                       const float* vscale, int32_t dim, float* out) {
  Sq8BatchKernel<L2Sq8BatchOp, L2Sq8Op>(query, codes, n, vmin, vscale, dim, out);
}

void DotSq8Batch(const float* query, const uint8_t* codes, int64_t n, const float* vmin,
                 const float* vscale, int32_t dim, float* out) {
  Sq8BatchKernel<DotSq8BatchOp, DotSq8Op>(query, codes, n, vmin, vscale, dim, out);
}

void DotTransposedBatch(const float* query, const float* base_t, int64_t n, int32_t dim,
                        float* out) {
  // Four vectors of lanes at a time: four independent FMA chains per dimension.
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    for (int32_t d = 0; d < dim; ++d) {
      const __m512 q = _mm512_set1_ps(query[d]);
      const float* row = base_t + d * n + i;
      acc0 = _mm512_fmadd_ps(q, _mm512_loadu_ps(row), acc0);
      acc1 = _mm512_fmadd_ps(q, _mm512_loadu_ps(row + kLanes), acc1);
      acc2 = _mm512_fmadd_ps(q, _mm512_loadu_ps(row + 2 * kLanes), acc2);
      acc3 = _mm512_fmadd_ps(q, _mm512_loadu_ps(row + 3 * kLanes), acc3);
    }
    _mm512_storeu_ps(out + i, acc0);
    _mm512_storeu_ps(out + i + kLanes, acc1);
    _mm512_storeu_ps(out + i + 2 * kLanes, acc2);
    _mm512_storeu_ps(out + i + 3 * kLanes, acc3);
  }
  for (; i + kLanes <= n; i += kLanes) {
    __m512 acc = _mm512_setzero_ps();
    for (int32_t d = 0; d < dim; ++d) {
      acc = _mm512_fmadd_ps(_mm512_set1_ps(query[d]), _mm512_loadu_ps(base_t + d * n + i), acc);
    }
    _mm512_storeu_ps(out + i, acc);
  }
  for (; i < n; ++i) {
    float sum = 0.0f;
    for (int32_t d = 0; d < dim; ++d) sum += query[d] * base_t[d * n + i];
    out[i] = sum;
  }
}

int32_t NearestTransposed(const float* query, const float* base_t, const float* norms, int32_t n,
                          int32_t dim) {
  const __m512 minus_two = _mm512_set1_ps(-2.0f);
  __m512 best = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  __m512i best_idx = _mm512_setzero_si512();
  __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(kLanes);
  const auto keep = [&](__m512 dot, int32_t i) {
    const __m512 score = _mm512_fmadd_ps(minus_two, dot, _mm512_loadu_ps(norms + i));
    const __mmask16 less = _mm512_cmp_ps_mask(score, best, _CMP_LT_OQ);
    best = _mm512_mask_mov_ps(best, less, score);
    best_idx = _mm512_mask_mov_epi32(best_idx, less, idx);
    idx = _mm512_add_epi32(idx, step);
  };
  int32_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {  // four independent FMA chains
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    for (int32_t d = 0; d < dim; ++d) {
      const __m512 q = _mm512_set1_ps(query[d]);
      const float* row = base_t + int64_t{d} * n + i;
      acc0 = _mm512_fmadd_ps(q, _mm512_loadu_ps(row), acc0);
      acc1 = _mm512_fmadd_ps(q, _mm512_loadu_ps(row + kLanes), acc1);
      acc2 = _mm512_fmadd_ps(q, _mm512_loadu_ps(row + 2 * kLanes), acc2);
      acc3 = _mm512_fmadd_ps(q, _mm512_loadu_ps(row + 3 * kLanes), acc3);
    }
    keep(acc0, i);
    keep(acc1, i + kLanes);
    keep(acc2, i + 2 * kLanes);
    keep(acc3, i + 3 * kLanes);
  }
  for (; i + kLanes <= n; i += kLanes) {
    __m512 acc = _mm512_setzero_ps();
    for (int32_t d = 0; d < dim; ++d) {
      acc = _mm512_fmadd_ps(_mm512_set1_ps(query[d]), _mm512_loadu_ps(base_t + int64_t{d} * n + i),
                            acc);
    }
    keep(acc, i);
  }
  // The lowest index among the lanes holding the minimum. (Lane by lane: GCC 12's
  // _mm512_reduce_min_ps trips -Wmaybe-uninitialized inside its own header.)
  alignas(64) float scores[kLanes];
  alignas(64) int32_t indices[kLanes];
  _mm512_store_ps(scores, best);
  _mm512_store_si512(indices, best_idx);
  float best_score = std::numeric_limits<float>::infinity();
  int32_t best_i = 0;
  for (int32_t lane = 0; lane < kLanes; ++lane) {
    if (scores[lane] < best_score || (scores[lane] == best_score && indices[lane] < best_i)) {
      best_score = scores[lane];
      best_i = indices[lane];
    }
  }
  for (; i < n; ++i) {
    float dot = 0.0f;
    for (int32_t d = 0; d < dim; ++d) dot += query[d] * base_t[int64_t{d} * n + i];
    const float score = norms[i] - 2.0f * dot;
    if (score < best_score) {
      best_score = score;
      best_i = i;
    }
  }
  return best_i;
}

}  // namespace

namespace internal {

const DistanceKernels kAvx512Kernels = {
    .level = SimdLevel::kAvx512,
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

float SumFloatsAvx512(const float* x, int64_t n) {
  __m512 acc[8];
  for (__m512& a : acc) a = _mm512_setzero_ps();
  int64_t idx = 0;
  for (; idx + 8 * kLanes <= n; idx += 8 * kLanes) {
    for (int part = 0; part < 8; ++part) {
      acc[part] = _mm512_add_ps(acc[part], _mm512_loadu_ps(x + idx + part * kLanes));
    }
  }
  for (; idx + kLanes <= n; idx += kLanes) acc[0] = _mm512_add_ps(acc[0], _mm512_loadu_ps(x + idx));
  if (idx < n) {
    acc[1] = _mm512_add_ps(acc[1],
                           _mm512_maskz_loadu_ps(TailMask(static_cast<int32_t>(n - idx)), x + idx));
  }
  for (int part = 1; part < 8; ++part) acc[0] = _mm512_add_ps(acc[0], acc[part]);
  return ReduceAdd(acc[0]);
}

}  // namespace internal
}  // namespace tessera::index::simd
