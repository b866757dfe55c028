// The CPU backend's kernel for x86-64-v3 (AVX2 and FMA); see gpu/batch_cpu_level.hpp.
#define ICLCERT_BATCH_ISA_NS batch_v3
#define ICLCERT_BATCH_RANGE_NAME run_range_v3
#include "gpu/batch_cpu_level.inc"
