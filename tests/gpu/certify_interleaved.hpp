// certify_prompt in the device's interleaved workspace layout, run on the CPU
// (tests/gpu/certify_interleaved.cpp; gpu/interval_workspace.hpp).
#pragma once

#include "gpu/batch_kernel.hpp"
#include "gpu/interval_certify.hpp"

#include <cstdint>

namespace iclcert::gpu::testing {

// Prompts per interleaved group: the device's (a warp).
int interleaved_group_size();

// Certifies prompts b < count (count <= interleaved_group_size(); prompt b is
// X + b N d, labels + b N, probe + b d, probe_label[b]) as one group sharing one
// buffer in the device's layout, prompt b in lane b, one after the other, with
// the device's lanes (doubles: no host vectors) and rounding to nearest plus an
// outward step, as the host's baseline; verdicts[b] and outs[b] (outs may be
// null) are prompt b's. The buffer starts as NaN. Returns the number of elements
// of other lanes that some prompt's run changed: 0 when every run keeps to its
// own lane.
long certify_interleaved_group(const ModelView<Iv>& m, int N, int count, const double* X, const std::int32_t* labels,
                               const double* probe, const std::int32_t* probe_label, IntervalVerdict* verdicts,
                               const IntervalOutputs* outs);

}  // namespace iclcert::gpu::testing
