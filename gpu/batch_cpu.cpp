// CPU backend: the kernel's per-prompt functions over the prompts of a block.
// On the host, run_prompt's attention is batch_kernel.hpp's register-blocked
// panels (host_attention: the same operations per query column, in the same
// order, tiled for the vector registers and the L1 cache), and a final-only
// run's last layer computes only the probe's columns.
//
// The per-prompt loop is compiled once per x86-64 level, in its own file
// (gpu/batch_cpu_level.hpp); this file picks the level, hands out the prompts to
// the threads and owns the workspaces. Implicit contraction into FMA is off
// (-ffp-contract=off, gpu/CMakeLists.txt); the kernel fuses only where it calls
// fmadd (one vfmadd per register on v3 and v4) and fixes the order of every sum,
// so v3, v4 and the CUDA backend compute the same values bit for bit; the x86-64
// baseline, without FMA, rounds the product and the sum apart
// (theory/batch_path.md, "Determinism").
#include "gpu/batch_backend.hpp"
#include "gpu/batch_cpu_level.hpp"
#include "gpu/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace iclcert::gpu {

const char* cpu_level_name(CpuLevel level) {
  switch (level) {
    case CpuLevel::v4: return "v4";
    case CpuLevel::v3: return "v3";
    default: return "base";
  }
}

bool cpu_level_supported(CpuLevel level) {
  if (level == CpuLevel::base) return true;
#ifdef ICLCERT_BATCH_X86_LEVELS
  __builtin_cpu_init();
  return level == CpuLevel::v4 ? __builtin_cpu_supports("x86-64-v4") : __builtin_cpu_supports("x86-64-v3");
#else
  return false;
#endif
}

CpuLevel best_cpu_level() {
  for (CpuLevel l : {CpuLevel::v4, CpuLevel::v3})
    if (cpu_level_supported(l)) return l;
  return CpuLevel::base;
}

CpuLevel selected_cpu_level() {
  const char* env = std::getenv("ICLCERT_CPU_LEVEL");
  if (!env || !*env) return best_cpu_level();
  const std::string want = env;
  for (CpuLevel l : {CpuLevel::base, CpuLevel::v3, CpuLevel::v4}) {
    if (want != cpu_level_name(l)) continue;
#ifndef ICLCERT_BATCH_X86_LEVELS
    if (l != CpuLevel::base)
      throw std::invalid_argument("ICLCERT_CPU_LEVEL=" + want + ": this build has one level, " + base_file_level() +
                                  " (ICLCERT_CPU_LEVELS=native, or not x86-64 with g++)");
#endif
    if (!cpu_level_supported(l))
      throw std::invalid_argument("ICLCERT_CPU_LEVEL=" + want + ": this CPU lacks x86-64-" + want +
                                  " (the best it supports is " + cpu_level_name(best_cpu_level()) + ")");
    return l;
  }
  throw std::invalid_argument("ICLCERT_CPU_LEVEL=" + want + ": expected base, v3 or v4");
}

const char* float_kernel_level() {
  const CpuLevel l = selected_cpu_level();
  return l == CpuLevel::base ? base_file_level() : cpu_level_name(l);
}

namespace {

template <class T>
using RangeFn = void (*)(const RangeJob<T>&, int, int, T*);

template <class T>
RangeFn<T> range_function(CpuLevel level) {
  if (!cpu_level_supported(level))
    throw std::invalid_argument(std::string("CPU level ") + cpu_level_name(level) + ": not supported by this CPU");
#ifdef ICLCERT_BATCH_X86_LEVELS
  if (level == CpuLevel::v4) return static_cast<RangeFn<T>>(&run_range_v4);
  if (level == CpuLevel::v3) return static_cast<RangeFn<T>>(&run_range_v3);
#endif
  return static_cast<RangeFn<T>>(&run_range_base);
}

// Prompts are handed out in chunks of kChunk from a shared counter, so a thread
// slowed by other load on the machine takes fewer: each prompt is still computed
// by one thread alone, so the values do not depend on who takes what.
inline constexpr int kChunk = 32;

template <class T>
void run_chunks(RangeFn<T> run, const RangeJob<T>& job, int count, std::atomic<int>& next) {
  std::vector<T> workspace(workspace_size(job.d, job.C, job.N));
  for (int begin = next.fetch_add(kChunk); begin < count; begin = next.fetch_add(kChunk))
    run(job, begin, std::min(count, begin + kChunk), workspace.data());
}

static_assert(static_cast<int>(Detail::final_only) == 0 && static_cast<int>(Detail::per_layer) == 1 &&
              static_cast<int>(Detail::with_states) == 2);  // RangeJob::detail

}  // namespace

template <class T>
void run_block_cpu_at(CpuLevel level, const ModelView<T>& model, const PromptBlock<T>& block, Detail detail,
                      int threads, BlockOutput<T>& out) {
  const RangeFn<T> run = range_function<T>(level);
  out.prepare(block, model.layers, detail);
  const RangeJob<T> job{&model,
                        block.N,
                        block.d,
                        block.C,
                        block.X.data(),
                        block.labels.data(),
                        block.probe.data(),
                        block.probe_label.data(),
                        static_cast<int>(detail),
                        out.predictions.data(),
                        out.probe_margins.data(),
                        out.records.data(),
                        out.states.data()};
  threads = std::max(1, std::min(threads, (block.count + kChunk - 1) / kChunk));
  std::atomic<int> next{0};
  if (threads == 1) {
    run_chunks(run, job, block.count, next);
    return;
  }
  run_workers(threads, [&](int) { run_chunks(run, job, block.count, next); }, false);
}

template <class T>
void run_block_cpu(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail, int threads,
                   BlockOutput<T>& out) {
  run_block_cpu_at(selected_cpu_level(), model, block, detail, threads, out);
}

template void run_block_cpu<float>(const ModelView<float>&, const PromptBlock<float>&, Detail, int,
                                   BlockOutput<float>&);
template void run_block_cpu<double>(const ModelView<double>&, const PromptBlock<double>&, Detail, int,
                                    BlockOutput<double>&);
template void run_block_cpu_at<float>(CpuLevel, const ModelView<float>&, const PromptBlock<float>&, Detail, int,
                                      BlockOutput<float>&);
template void run_block_cpu_at<double>(CpuLevel, const ModelView<double>&, const PromptBlock<double>&, Detail, int,
                                       BlockOutput<double>&);

}  // namespace iclcert::gpu
