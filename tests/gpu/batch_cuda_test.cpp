// The CUDA backend against the CPU backend on the same blocks. Needs a GPU: exits
// 77 (ctest: skipped) when cudaGetDeviceCount finds none, as on the project's CI.
// Both run batch_kernel.hpp's functions with no fused mul+add, so the values are
// expected to agree bit for bit; the test allows 4 ulps at float32 in case a
// device math detail differs, and requires identical predictions.
#include "batch_test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace iclcert::gpu::testing {
namespace {

template <class T>
void compare(const Model& model) {
  const std::vector<Prompt> prompts = sampled_prompts(300, 4, 3, 20, 3);
  const BatchModel<T> bm = make_batch_model<T>(model, 4, 3);
  const PromptBlock<T> block = block_of<T>(prompts);
  BlockOutput<T> cpu, gpu;
  run_block_cpu(bm.view(), block, Detail::with_states, 2, cpu);
  const std::string error = run_block_cuda(bm.view(), block, Detail::with_states, gpu);
  ASSERT_EQ(error, "");
  EXPECT_EQ(cpu.predictions, gpu.predictions);
  ASSERT_EQ(cpu.states.size(), gpu.states.size());
  for (std::size_t i = 0; i < cpu.states.size(); ++i)
    EXPECT_LE(std::fabs(cpu.states[i] - gpu.states[i]), 4 * std::numeric_limits<T>::epsilon() *
                                                             std::max(T(1), std::fabs(cpu.states[i])))
        << i;
}

TEST(BatchCuda, CudaBackendMatchesTheCpuBackend) {
  std::string why;
  if (cuda_device_count(why) == 0) {
    std::printf("skipped: %s\n", why.c_str());
    std::exit(77);
  }
  compare<float>(mixed_model(Kernel::softmax));
  compare<double>(dense_model(Kernel::linear, 4, 3));
}

}  // namespace
}  // namespace iclcert::gpu::testing
