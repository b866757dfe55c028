// The CUDA target is part of the normal build wherever nvcc was found at configure
// time (ICLCERT_EXPECT_CUDA, from tests/gpu/CMakeLists.txt); without a device,
// the CUDA entry points say why instead of failing.
#include "gpu/batch_backend.hpp"

#include <gtest/gtest.h>

namespace iclcert::gpu {
namespace {

TEST(BatchBuild, TheCudaBackendIsBuiltExactlyWhenNvccWasFound) {
  EXPECT_EQ(built_with_cuda(), ICLCERT_EXPECT_CUDA != 0);
}

TEST(BatchBuild, WithoutADeviceTheCudaBackendSaysWhy) {
  std::string why;
  if (cuda_device_count(why) > 0) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_FALSE(why.empty());
  PromptBlock<float> block;
  block.d = 1;
  block.C = 2;
  block.N = 1;
  block.resize(1);
  BlockOutput<float> out;
  const int kind[1] = {kReducedLayer}, heads[1] = {1}, offset[1] = {0};
  const float coeffs[8] = {0.25f, 1, 0.5f, 0.5f, 0.25f, 1, 0.5f, 0.5f};
  const ModelView<float> m{1, 2, 1, 1, 0, 0, kind, heads, offset, coeffs, 8};
  EXPECT_NE(run_block_cuda(m, block, Detail::final_only, out), "");
}

}  // namespace
}  // namespace iclcert::gpu
