// certify_prompt (interval_certify.hpp) compiled for the host once per x86-64
// level: gpu/certify_host_v4.cpp (AVX-512), _v3.cpp (AVX2 and FMA) and
// _base.cpp (the baseline, and the only one off x86-64), each with its own -march
// and its own ICLCERT_IV_ISA_NS (gpu/CMakeLists.txt). certify_on_host
// (batch_certify.cpp) calls the best one the CPU supports.
//
// Why not target_clones: a clone's callees that are not inlined are compiled for
// the baseline, so the clone had to be `flatten`ed, and flattening the whole
// recursion three times cost minutes of compile time; a whole file per level
// also lets the lane width follow the level (interval_attention.hpp, LaneVec).
// The baseline and v3 compute the same values: the lanes are independent, and
// the fused multiply-adds are written out (the baseline's are libm's fma, slow
// but correctly rounded). v4 rounds its outward operations down or up in the
// instruction (AVX-512's embedded rounding) where the others round to nearest
// and step one ulp outward, so its enclosures differ in the last bits (and are
// mostly narrower). Every level is checked against Arb on its own
// (tests/gpu/interval_kernel_test.cpp), and against the baseline
// (tests/gpu/batch_certify_test.cpp).
#pragma once

#include "gpu/batch_kernel.hpp"
#include "gpu/interval_kernel.hpp"

#include <cstdint>

namespace iclcert::gpu {

struct IntervalVerdict;
struct IntervalOutputs;

#define ICLCERT_CERTIFY_HOST_SIGNATURE(name)                                                                   \
  IntervalVerdict name(const ModelView<Iv>& m, int N, const double* X, const std::int32_t* labels,             \
                       const double* probe, int probe_label, Iv* workspace, const IntervalOutputs& out)

ICLCERT_CERTIFY_HOST_SIGNATURE(certify_host_base);
#ifdef ICLCERT_CERTIFY_X86_LEVELS
ICLCERT_CERTIFY_HOST_SIGNATURE(certify_host_v3);
ICLCERT_CERTIFY_HOST_SIGNATURE(certify_host_v4);
#endif

}  // namespace iclcert::gpu
