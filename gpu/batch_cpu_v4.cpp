// The CPU backend's kernel for x86-64-v4 (AVX-512); see gpu/batch_cpu_level.hpp.
#define ICLCERT_BATCH_ISA_NS batch_v4
#define ICLCERT_BATCH_RANGE_NAME run_range_v4
#include "gpu/batch_cpu_level.inc"
