// The device's interleaved workspace (gpu/interval_workspace.hpp) on the CPU: this
// file compiles the interval tier as gpu/batch_cuda.cu does for the device
// (ICLCERT_IV_INTERLEAVE = 32: Strided pointers, double lanes), in a namespace of
// its own, so that tests can run the device's addressing without a GPU
// (issue 28). Built with -ffp-contract=off and no -march, like the baseline.
#define ICLCERT_IV_ISA_NS isa_interleaved
#define ICLCERT_IV_INTERLEAVE 32
#include "tests/gpu/certify_interleaved.hpp"

#include <cstring>
#include <limits>
#include <vector>

namespace iclcert::gpu::testing {

int interleaved_group_size() { return kIvInterleave; }

long certify_interleaved_group(const ModelView<Iv>& m, int N, int count, const double* X, const std::int32_t* labels,
                               const double* probe, const std::int32_t* probe_label, IntervalVerdict* verdicts,
                               const IntervalOutputs* outs) {
  const long size = interval_workspace_size(m.d, m.C, N), enclosures = interval_workspace_enclosures(m.d, m.C, N);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Iv> group(static_cast<std::size_t>(size) * kIvInterleave, Iv{nan, nan}), before;
  // Lane ownership: enclosure e of the first part is lane e % S's; double e of the
  // second part (from enclosure S * enclosures on) is lane e % S's.
  const double* doubles = reinterpret_cast<const double*>(group.data() + enclosures * kIvInterleave);
  const long n_doubles = 2 * (size - enclosures) * kIvInterleave;
  long trampled = 0;
  for (int b = 0; b < count; ++b) {
    before = group;
    const double* was = reinterpret_cast<const double*>(before.data() + enclosures * kIvInterleave);
    verdicts[b] = certify_prompt(m, N, X + static_cast<long>(b) * N * m.d, labels + static_cast<long>(b) * N,
                                 probe + static_cast<long>(b) * m.d, probe_label[b],
                                 interleaved_scratch(group.data(), b, enclosures), outs ? outs[b] : IntervalOutputs{});
    for (long e = 0; e < enclosures * kIvInterleave; ++e)
      if (e % kIvInterleave != b && std::memcmp(&group[e], &before[e], sizeof(Iv)) != 0) ++trampled;
    for (long e = 0; e < n_doubles; ++e)
      if (e % kIvInterleave != b && std::memcmp(doubles + e, was + e, sizeof(double)) != 0) ++trampled;
  }
  return trampled;
}

}  // namespace iclcert::gpu::testing
