// Private to src/index/simd/: the per-instruction-set kernel tables behind distance.h, and the
// pieces of the dispatcher that tests and benchmarks exercise directly.
//
// Each table is defined in its own file (distance_scalar.cc, distance_avx2.cc,
// distance_avx512.cc) and is constant-initialized. Calling a function of the AVX2 or AVX-512
// table on a CPU without that instruction set is undefined (SIGILL): go through KernelsFor().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "index/simd/distance.h"

namespace tessera::index::simd::internal {

extern const DistanceKernels kScalarKernels;
#if defined(__x86_64__) || defined(__i386__)
#define TESSERA_SIMD_HAS_X86_KERNELS 1
extern const DistanceKernels kAvx2Kernels;
extern const DistanceKernels kAvx512Kernels;

// Return the sum of x[0, n) read with the widest loads of the level: a plain memory-read loop,
// the baseline that the batch kernels are measured against. REQUIRES: the CPU has the level.
float SumFloatsAvx2(const float* x, int64_t n);
float SumFloatsAvx512(const float* x, int64_t n);
#endif

// Return the level named by `value` ("scalar", "avx2" or "avx512", case-insensitive), or
// nullopt for any other value.
std::optional<SimdLevel> ParseSimdLevel(std::string_view value);

// Return the level to use given the TESSERA_SIMD value `env_value` (nullptr or empty when unset)
// and the CPU's best level. An unknown value, or one above `cpu_level`, gives `cpu_level` and
// sets `*warning` to a one-line explanation; otherwise `*warning` is cleared.
SimdLevel ResolveSimdLevel(const char* env_value, SimdLevel cpu_level, std::string* warning);

}  // namespace tessera::index::simd::internal
