// The CUDA entry points of a build without nvcc: every call says so.
#include "gpu/batch_backend.hpp"

namespace iclcert::gpu {

template <class T>
std::string run_block_cuda(const ModelView<T>&, const PromptBlock<T>&, Detail, BlockOutput<T>&) {
  return "this iclcert was built without CUDA (no nvcc at configure time)";
}
template std::string run_block_cuda<float>(const ModelView<float>&, const PromptBlock<float>&, Detail,
                                           BlockOutput<float>&);
template std::string run_block_cuda<double>(const ModelView<double>&, const PromptBlock<double>&, Detail,
                                            BlockOutput<double>&);

int cuda_device_count(std::string& why) {
  why = "this iclcert was built without CUDA";
  return 0;
}
bool built_with_cuda() { return false; }

}  // namespace iclcert::gpu
