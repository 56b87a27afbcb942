// The dispatcher: detects the CPU once and picks the kernel table of the best level it supports,
// or the level forced by TESSERA_SIMD.
#include "index/simd/distance.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "index/simd/distance_internal.h"

#ifdef TESSERA_SIMD_HAS_X86_KERNELS
#include <cpuid.h>
#endif

namespace tessera::index::simd {
namespace {

#ifdef TESSERA_SIMD_HAS_X86_KERNELS
// Return the OS-enabled register state (XCR0). REQUIRES: CPUID reports OSXSAVE.
uint64_t ReadXcr0() {
  uint32_t eax = 0;
  uint32_t edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// The CPU must have the instructions the level's file is compiled with (see
// src/index/CMakeLists.txt) and the OS must save the registers they use.
SimdLevel DetectUncached() {
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return SimdLevel::kScalar;
  const bool has_fma = (ecx & bit_FMA) != 0;
  const bool has_f16c = (ecx & bit_F16C) != 0;
  const bool has_avx = (ecx & bit_AVX) != 0;
  if ((ecx & bit_OSXSAVE) == 0 || !has_avx) return SimdLevel::kScalar;
  const uint64_t xcr0 = ReadXcr0();
  constexpr uint64_t kYmmState = 0x6;   // SSE and AVX registers
  constexpr uint64_t kZmmState = 0xe6;  // plus opmask, upper ZMM0-15, ZMM16-31
  if ((xcr0 & kYmmState) != kYmmState) return SimdLevel::kScalar;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return SimdLevel::kScalar;
  if ((ebx & bit_AVX2) == 0 || !has_fma || !has_f16c) return SimdLevel::kScalar;
  constexpr unsigned kAvx512Bits = bit_AVX512F | bit_AVX512DQ | bit_AVX512BW | bit_AVX512VL;
  if ((ebx & kAvx512Bits) != kAvx512Bits || (xcr0 & kZmmState) != kZmmState) {
    return SimdLevel::kAvx2;
  }
  return SimdLevel::kAvx512;
}
#else
SimdLevel DetectUncached() { return SimdLevel::kScalar; }
#endif

const DistanceKernels* ChooseKernels() {
  std::string warning;
  const SimdLevel level =
      internal::ResolveSimdLevel(std::getenv("TESSERA_SIMD"), DetectCpuLevel(), &warning);
  if (!warning.empty()) std::fprintf(stderr, "tessera: %s\n", warning.c_str());
  return KernelsFor(level);
}

}  // namespace

const char* SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar:
      return "scalar";
    case SimdLevel::kAvx2:
      return "avx2";
    case SimdLevel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

SimdLevel DetectCpuLevel() {
  static const SimdLevel level = DetectUncached();
  return level;
}

const DistanceKernels* KernelsFor(SimdLevel level) {
  if (static_cast<int>(level) > static_cast<int>(DetectCpuLevel())) return nullptr;
  switch (level) {
    case SimdLevel::kScalar:
      return &internal::kScalarKernels;
#ifdef TESSERA_SIMD_HAS_X86_KERNELS
    case SimdLevel::kAvx2:
      return &internal::kAvx2Kernels;
    case SimdLevel::kAvx512:
      return &internal::kAvx512Kernels;
#endif
    default:
      return nullptr;
  }
}

const DistanceKernels& BestKernels() {
  static const DistanceKernels* const kernels = ChooseKernels();
  return *kernels;
}

namespace internal {

std::optional<SimdLevel> ParseSimdLevel(std::string_view value) {
  std::string lower(value);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (lower == SimdLevelName(level)) return level;
  }
  return std::nullopt;
}

SimdLevel ResolveSimdLevel(const char* env_value, SimdLevel cpu_level, std::string* warning) {
  warning->clear();
  if (env_value == nullptr || *env_value == '\0') return cpu_level;
  const std::optional<SimdLevel> forced = ParseSimdLevel(env_value);
  if (!forced.has_value()) {
    *warning = std::string("TESSERA_SIMD='") + env_value +
               "' is not scalar, avx2 or avx512; using " + SimdLevelName(cpu_level);
    return cpu_level;
  }
  if (static_cast<int>(*forced) > static_cast<int>(cpu_level)) {
    *warning = std::string("TESSERA_SIMD=") + SimdLevelName(*forced) +
               " is not supported by this CPU; using " + SimdLevelName(cpu_level);
    return cpu_level;
  }
  return *forced;
}

}  // namespace internal
}  // namespace tessera::index::simd
