// The CPU backend's kernel for the baseline (SSE2 on x86-64, and every other
// architecture); see gpu/batch_cpu_level.hpp. Without FMA in the ISA (x86-64
// below v3), and with the v3 and v4 levels built beside it (g++), its fmadd is a
// product and a sum (gpu/batch_kernel.hpp, fmadd); the only level of a build
// without them keeps libm's fma, and so every bit.
#if defined(__x86_64__) && !defined(__FMA__) && defined(ICLCERT_BATCH_X86_LEVELS)
#define ICLCERT_BATCH_UNFUSED 1
#endif
#define ICLCERT_BATCH_ISA_NS batch_base
#define ICLCERT_BATCH_RANGE_NAME run_range_base
#include "gpu/batch_cpu_level.inc"

namespace iclcert::gpu {

const char* base_file_level() {
#if defined(__AVX512F__)
  return "v4";
#elif defined(__AVX2__) && defined(__FMA__)
  return "v3";
#else
  return "base";
#endif
}

}  // namespace iclcert::gpu
