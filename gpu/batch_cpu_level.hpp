// The CPU backend's kernel compiled once per x86-64 level, as the interval
// certifier is (gpu/certify_host.hpp): gpu/batch_cpu_v4.cpp (AVX-512: packs of 16
// floats or 8 doubles), _v3.cpp (AVX2 and FMA: 8 floats, 4 doubles) and _base.cpp
// (the baseline: 4 floats, 2 doubles; the only one off x86-64), each with its own
// -march and its own ICLCERT_BATCH_ISA_NS (gpu/CMakeLists.txt), so that everything
// the hot loop calls is compiled for its level. batch_cpu.cpp picks one
// (select_cpu_level: the best the CPU supports, or ICLCERT_CPU_LEVEL).
//
// Why not target_clones, as before: a clone's callees that g++ did not inline were
// compiled for the baseline (and there called libm's fma), and the packs were
// 64 bytes on every level, split by g++ on AVX2.
#pragma once

#include "gpu/batch_kernel.hpp"

#include <cstdint>

namespace iclcert::gpu {

// One block's prompts and outputs, as plain pointers: nothing of the standard
// library crosses into a level's file, whose instantiations of it the linker could
// merge with another level's.
template <class T>
struct RangeJob {
  const ModelView<T>* model = nullptr;
  int N = 0, d = 0, C = 0;
  const T* X = nullptr;                        // count x N x d
  const std::int32_t* labels = nullptr;        // count x N
  const T* probe = nullptr;                    // count x d
  const std::int32_t* probe_label = nullptr;   // count
  int detail = 0;                              // Detail (batch_backend.hpp) as int
  std::int32_t* predictions = nullptr;
  T* probe_margins = nullptr;
  LayerRecord<T>* records = nullptr;
  T* states = nullptr;
};

// Prompts [begin, end) of the job; workspace: workspace_size(d, C, N) elements.
#define ICLCERT_BATCH_RANGE_DECLARE(name)                                                   \
  void name(const RangeJob<float>& job, int begin, int end, float* workspace);             \
  void name(const RangeJob<double>& job, int begin, int end, double* workspace)

ICLCERT_BATCH_RANGE_DECLARE(run_range_base);
// The instructions batch_cpu_base.cpp was compiled for: "base", or under
// ICLCERT_CPU_LEVELS=native (cmake/CpuLevels.cmake) this CPU's "v3" or "v4".
const char* base_file_level();
#ifdef ICLCERT_BATCH_X86_LEVELS
ICLCERT_BATCH_RANGE_DECLARE(run_range_v3);
ICLCERT_BATCH_RANGE_DECLARE(run_range_v4);
#endif

}  // namespace iclcert::gpu
