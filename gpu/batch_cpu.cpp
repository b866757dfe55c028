// CPU backend: the kernel's per-prompt functions over the prompts of a block.
//
// run_range is compiled three times (x86-64-v4 with AVX-512, v3 with AVX2, and the
// baseline) and the loader picks the best the machine supports; `flatten` inlines
// the kernel into each clone so that its fixed-width lane loops use that ISA.
// Contraction into FMA is off for the whole project (-std=c++20 implies
// -ffp-contract=off), and the kernel fixes the order of every sum, so all clones
// compute the same values bit for bit (theory/batch_path.md, "Determinism").
#include "gpu/batch_backend.hpp"

#include <algorithm>
#include <thread>

namespace iclcert::gpu {
namespace {

template <class T>
struct RangeJob {
  const ModelView<T>* model;
  const PromptBlock<T>* block;
  Detail detail;
  BlockOutput<T>* out;
};

template <class T>
inline void run_one(const RangeJob<T>& job, int b, T* workspace) {
  const PromptBlock<T>& in = *job.block;
  const ModelView<T>& m = *job.model;
  const long L1 = m.layers + 1, N = in.N, d = in.d, D = in.d + in.C;
  const T* X = in.X.data() + b * N * d;
  const std::int32_t* labels = in.labels.data() + b * N;
  const T* probe = in.probe.data() + b * d;
  const int cq = in.probe_label[b];
  BlockOutput<T>& out = *job.out;
  if (job.detail == Detail::final_only) {
    out.predictions[b] = run_prompt_final(m, in.N, X, labels, probe, cq, workspace, &out.probe_margins[b]);
  } else {
    T* states = job.detail == Detail::with_states ? out.states.data() + b * L1 * (N + 1) * D : nullptr;
    out.predictions[b] = run_prompt(m, in.N, X, labels, probe, cq, workspace, out.records.data() + b * L1, states);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ICLCERT_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define ICLCERT_CPU_CLONES
#endif

ICLCERT_CPU_CLONES void run_range_float(const RangeJob<float>& job, int begin, int end, float* workspace) {
  for (int b = begin; b < end; ++b) run_one(job, b, workspace);
}
ICLCERT_CPU_CLONES void run_range_double(const RangeJob<double>& job, int begin, int end, double* workspace) {
  for (int b = begin; b < end; ++b) run_one(job, b, workspace);
}

template <class T>
void run_range(const RangeJob<T>& job, int begin, int end) {
  std::vector<T> workspace(workspace_size(job.block->d, job.block->C, job.block->N));
  if constexpr (sizeof(T) == sizeof(float)) run_range_float(job, begin, end, workspace.data());
  else run_range_double(job, begin, end, workspace.data());
}

}  // namespace

template <class T>
void run_block_cpu(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail, int threads,
                   BlockOutput<T>& out) {
  out.prepare(block, model.layers, detail);
  const RangeJob<T> job{&model, &block, detail, &out};
  threads = std::max(1, std::min(threads, block.count));
  if (threads == 1) {
    run_range(job, 0, block.count);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const int begin = static_cast<int>(static_cast<long>(block.count) * t / threads);
    const int end = static_cast<int>(static_cast<long>(block.count) * (t + 1) / threads);
    pool.emplace_back([&job, begin, end] { run_range(job, begin, end); });
  }
  for (auto& th : pool) th.join();
}

template void run_block_cpu<float>(const ModelView<float>&, const PromptBlock<float>&, Detail, int,
                                   BlockOutput<float>&);
template void run_block_cpu<double>(const ModelView<double>&, const PromptBlock<double>&, Detail, int,
                                    BlockOutput<double>&);

}  // namespace iclcert::gpu
