// CUDA backend: one thread per prompt, each running batch_kernel.hpp's functions
// (the same source the CPU backend runs) on its own workspace in global memory.
// Compiled with --fmad=false so that, like the host build, no mul+add is fused:
// with the kernel's fixed summation order the device is meant to reproduce the
// CPU backend's values bit for bit (untested here: no GPU; theory/batch_path.md).
#include "gpu/batch_backend.hpp"

#include <cuda_runtime.h>

namespace iclcert::gpu {
namespace {

template <class T>
__global__ void batch_kernel(ModelView<T> m, int count, int N, int d, const T* X, const std::int32_t* labels,
                             const T* probe, const std::int32_t* probe_label, T* workspace, long ws_size,
                             int detail, std::int32_t* predictions, T* margins, LayerRecord<T>* records,
                             T* states) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= count) return;
  const long L1 = m.layers + 1, D = m.d + m.C;
  const T* x = X + static_cast<long>(b) * N * d;
  const std::int32_t* lab = labels + static_cast<long>(b) * N;
  const T* pr = probe + static_cast<long>(b) * d;
  T* ws = workspace + b * ws_size;
  if (detail == 0) {
    predictions[b] = run_prompt_final(m, N, x, lab, pr, probe_label[b], ws, margins + b);
  } else {
    T* st = detail == 2 ? states + b * L1 * (N + 1) * D : nullptr;
    predictions[b] = run_prompt(m, N, x, lab, pr, probe_label[b], ws, records + b * L1, st);
  }
}

// Device buffers freed on every exit path.
struct DeviceBuffers {
  std::vector<void*> ptrs;
  ~DeviceBuffers() {
    for (void* p : ptrs) cudaFree(p);
  }
  template <class U>
  cudaError_t alloc(U*& out, std::size_t n) {
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, (n ? n : 1) * sizeof(U));
    if (e == cudaSuccess) ptrs.push_back(p);
    out = static_cast<U*>(p);
    return e;
  }
};

std::string describe(const char* what, cudaError_t e) {
  return std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

#define ICLCERT_CUDA_TRY(what, call)                 \
  do {                                               \
    const cudaError_t e_ = (call);                   \
    if (e_ != cudaSuccess) return describe(what, e_); \
  } while (0)

template <class U>
cudaError_t upload(DeviceBuffers& buffers, U*& device, const U* host, std::size_t n) {
  cudaError_t e = buffers.alloc(device, n);
  if (e != cudaSuccess || n == 0) return e;
  return cudaMemcpy(device, host, n * sizeof(U), cudaMemcpyHostToDevice);
}

}  // namespace

template <class T>
std::string run_block_cuda(const ModelView<T>& host, const PromptBlock<T>& block, Detail detail,
                           BlockOutput<T>& out) {
  out.prepare(block, host.layers, detail);
  const std::size_t n = block.count;
  if (n == 0) return "";
  DeviceBuffers buf;
  ModelView<T> m = host;
  int *kind, *heads, *offset;
  T* coeffs;
  ICLCERT_CUDA_TRY("model", upload(buf, kind, host.kind, host.layers));
  ICLCERT_CUDA_TRY("model", upload(buf, heads, host.heads, host.layers));
  ICLCERT_CUDA_TRY("model", upload(buf, offset, host.offset, host.layers));
  ICLCERT_CUDA_TRY("model", upload(buf, coeffs, host.coeffs, host.coeff_count));
  m.kind = kind;
  m.heads = heads;
  m.offset = offset;
  m.coeffs = coeffs;
  T *X, *probe, *workspace, *margins, *states;
  std::int32_t *labels, *probe_label, *predictions;
  LayerRecord<T>* records;
  ICLCERT_CUDA_TRY("prompts", upload(buf, X, block.X.data(), block.X.size()));
  ICLCERT_CUDA_TRY("prompts", upload(buf, labels, block.labels.data(), block.labels.size()));
  ICLCERT_CUDA_TRY("prompts", upload(buf, probe, block.probe.data(), block.probe.size()));
  ICLCERT_CUDA_TRY("prompts", upload(buf, probe_label, block.probe_label.data(), block.probe_label.size()));
  const long ws_size = workspace_size(block.d, block.C, block.N);
  ICLCERT_CUDA_TRY("workspace", buf.alloc(workspace, n * ws_size));
  ICLCERT_CUDA_TRY("results", buf.alloc(predictions, n));
  ICLCERT_CUDA_TRY("results", buf.alloc(margins, out.probe_margins.size()));
  ICLCERT_CUDA_TRY("results", buf.alloc(records, out.records.size()));
  ICLCERT_CUDA_TRY("results", buf.alloc(states, out.states.size()));
  const int threads = 128, blocks = static_cast<int>((n + threads - 1) / threads);
  batch_kernel<T><<<blocks, threads>>>(m, block.count, block.N, block.d, X, labels, probe, probe_label, workspace,
                                       ws_size, static_cast<int>(detail), predictions, margins, records, states);
  ICLCERT_CUDA_TRY("launch", cudaGetLastError());
  ICLCERT_CUDA_TRY("kernel", cudaDeviceSynchronize());
  auto down = [](auto& vec, const auto* device) {
    using U = typename std::decay_t<decltype(vec)>::value_type;
    return vec.empty() ? cudaSuccess
                       : cudaMemcpy(vec.data(), device, vec.size() * sizeof(U), cudaMemcpyDeviceToHost);
  };
  ICLCERT_CUDA_TRY("results", down(out.predictions, predictions));
  ICLCERT_CUDA_TRY("results", down(out.probe_margins, margins));
  ICLCERT_CUDA_TRY("results", down(out.records, records));
  ICLCERT_CUDA_TRY("results", down(out.states, states));
  return "";
}

template std::string run_block_cuda<float>(const ModelView<float>&, const PromptBlock<float>&, Detail,
                                           BlockOutput<float>&);
template std::string run_block_cuda<double>(const ModelView<double>&, const PromptBlock<double>&, Detail,
                                            BlockOutput<double>&);

int cuda_device_count(std::string& why) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    why = describe("cudaGetDeviceCount", e);
    return 0;
  }
  if (count == 0) why = "no CUDA device";
  return count;
}
bool built_with_cuda() { return true; }

}  // namespace iclcert::gpu
