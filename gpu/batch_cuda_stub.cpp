// The CUDA entry points of a build without nvcc: every call says so.
#include "gpu/batch_backend.hpp"

#include <stdexcept>

namespace iclcert::gpu {

namespace {
const char* const kNoCuda = "this iclcert was built without CUDA (no nvcc at configure time)";
}

template <class T>
std::string run_block_cuda(const ModelView<T>&, const PromptBlock<T>&, Detail, BlockOutput<T>&) {
  return kNoCuda;
}
template std::string run_block_cuda<float>(const ModelView<float>&, const PromptBlock<float>&, Detail,
                                           BlockOutput<float>&);
template std::string run_block_cuda<double>(const ModelView<double>&, const PromptBlock<double>&, Detail,
                                            BlockOutput<double>&);

template <class T>
struct CudaPipeline<T>::Impl {};
template <class T>
CudaPipeline<T>::CudaPipeline(const ModelView<T>&, int, int, int, int, bool) {
  throw std::runtime_error(kNoCuda);
}
template <class T>
CudaPipeline<T>::~CudaPipeline() = default;
template <class T>
void CudaPipeline<T>::launch(int, const PromptBlock<T>&, Detail) {
  throw std::runtime_error(kNoCuda);
}
template <class T>
long CudaPipeline<T>::launch_sampled(int, const SampledChunk&, Detail, const HostRedraw<T>&) {
  throw std::runtime_error(kNoCuda);
}
template <class T>
void CudaPipeline<T>::collect(int, BlockOutput<T>&, std::vector<std::int32_t>*) {
  throw std::runtime_error(kNoCuda);
}
template <class T>
int CudaPipeline<T>::team_prompts() const {
  return 0;
}
template <class T>
int CudaPipeline<T>::auto_chunk(int, int, int, int, Detail) {
  throw std::runtime_error(kNoCuda);
}
template class CudaPipeline<float>;
template class CudaPipeline<double>;

std::string certify_block_cuda(const ModelView<Iv>&, const PromptBlock<double>&, std::vector<IntervalVerdict>&,
                               std::vector<Iv>*) {
  return kNoCuda;
}
int certify_chunk_cuda(int, int, int, int) { return 4096; }

int cuda_device_count(std::string& why) {
  why = "this iclcert was built without CUDA";
  return 0;
}
bool built_with_cuda() { return false; }

}  // namespace iclcert::gpu
