// CPU backend: the kernel's per-prompt functions over the prompts of a block.
// On the host, run_prompt's attention is batch_kernel.hpp's register-blocked
// panels (host_attention: the same operations per query column, in the same
// order, tiled for the vector registers and the L1 cache), and a final-only
// run's last layer computes only the probe's columns.
//
// run_range is compiled three times (x86-64-v4 with AVX-512, v3 with AVX2, and the
// baseline) and the loader picks the best the machine supports; `flatten` inlines
// the kernel into each clone so that its fixed-width lane loops use that ISA.
// Implicit contraction into FMA is off (-ffp-contract=off, gpu/CMakeLists.txt);
// the kernel fuses only where it calls fmadd (__builtin_fma: one vfmadd per
// register in the v4 and v3 clones, libm's correctly rounded fma in the baseline
// one) and fixes the order of every sum, so all clones compute the same values
// bit for bit (theory/batch_path.md, "Determinism").
#include "gpu/batch_backend.hpp"
#include "gpu/parallel.hpp"

#include <algorithm>
#include <atomic>

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

// Prompts are handed out in chunks of kChunk from a shared counter, so a thread
// slowed by other load on the machine takes fewer: each prompt is still computed
// by one thread alone, so the values do not depend on who takes what.
inline constexpr int kChunk = 32;

template <class T>
void run_chunks(const RangeJob<T>& job, std::atomic<int>& next) {
  std::vector<T> workspace(workspace_size(job.block->d, job.block->C, job.block->N));
  const int count = job.block->count;
  for (int begin = next.fetch_add(kChunk); begin < count; begin = next.fetch_add(kChunk)) {
    const int end = std::min(count, begin + kChunk);
    if constexpr (sizeof(T) == sizeof(float)) run_range_float(job, begin, end, workspace.data());
    else run_range_double(job, begin, end, workspace.data());
  }
}

}  // namespace

template <class T>
void run_block_cpu(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail, int threads,
                   BlockOutput<T>& out) {
  out.prepare(block, model.layers, detail);
  const RangeJob<T> job{&model, &block, detail, &out};
  threads = std::max(1, std::min(threads, (block.count + kChunk - 1) / kChunk));
  std::atomic<int> next{0};
  if (threads == 1) {
    run_chunks(job, next);
    return;
  }
  run_workers(threads, [&job, &next](int) { run_chunks(job, next); }, false);
}

template void run_block_cpu<float>(const ModelView<float>&, const PromptBlock<float>&, Detail, int,
                                   BlockOutput<float>&);
template void run_block_cpu<double>(const ModelView<double>&, const PromptBlock<double>&, Detail, int,
                                    BlockOutput<double>&);

}  // namespace iclcert::gpu
