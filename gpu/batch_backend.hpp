// The two backends of the batched recursion over blocks of prompts of one shape.
// Both run the functions of batch_kernel.hpp, one prompt per thread: the CPU
// backend on std::threads (batch_cpu.cpp), the CUDA backend on the GPU
// (batch_cuda.cu; a stub that reports "built without CUDA" otherwise).
// Boost-free, so that nvcc can compile what includes it.
#pragma once

#include "gpu/batch_kernel.hpp"
#include "gpu/interval_certify.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace iclcert::gpu {

// `count` prompts of the same sizes, stored contiguously.
template <class T>
struct PromptBlock {
  int count = 0, d = 0, C = 0, N = 0;
  std::vector<T> X;                        // count x N x d
  std::vector<std::int32_t> labels;        // count x N
  std::vector<T> probe;                    // count x d
  std::vector<std::int32_t> probe_label;   // count; -1 when the prompt has none

  void resize(int n) {
    count = n;
    X.resize(static_cast<std::size_t>(n) * N * d);
    labels.resize(static_cast<std::size_t>(n) * N);
    probe.resize(static_cast<std::size_t>(n) * d);
    probe_label.resize(n);
  }
};

// How much each prompt reports.
enum class Detail {
  final_only,   // prediction and final probe margin: the throughput configuration
  per_layer,    // + a LayerRecord per depth (the batch statistics)
  with_states,  // + every state (validation against the reference)
};

template <class T>
struct BlockOutput {
  std::vector<std::int32_t> predictions;  // count
  std::vector<T> probe_margins;           // count (final_only; NaN without a label)
  std::vector<LayerRecord<T>> records;    // count x (L + 1) (per_layer, with_states)
  std::vector<T> states;                  // count x (L + 1) x (N + 1) x (d + C) (with_states)

  // Sizes (and zeroes) the vectors that `detail` fills for `block` under `layers`
  // layers: the same on every backend.
  void prepare(const PromptBlock<T>& block, std::size_t layers, Detail detail) {
    const std::size_t n = block.count, L1 = layers + 1, D = block.d + block.C;
    predictions.assign(n, 0);
    probe_margins.assign(detail == Detail::final_only ? n : 0, T(0));
    records.assign(detail == Detail::final_only ? 0 : n * L1, LayerRecord<T>{});
    states.assign(detail == Detail::with_states ? n * L1 * (block.N + 1) * D : 0, T(0));
  }
};

// Runs a block on `threads` CPU threads (each prompt on one thread: the results
// do not depend on `threads`), at selected_cpu_level().
template <class T>
void run_block_cpu(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail, int threads,
                   BlockOutput<T>& out);

// The x86-64 levels the CPU backend's kernel is compiled for (gpu/batch_cpu_level.hpp):
// the baseline, x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512). v3 and v4 give the
// same values bit for bit (and the CUDA backend's); the baseline on x86-64, without
// FMA, does not fuse (theory/batch_path.md, "Determinism"). Off x86-64 only base.
enum class CpuLevel { base, v3, v4 };
const char* cpu_level_name(CpuLevel level);  // "base", "v3", "v4"
bool cpu_level_supported(CpuLevel level);    // built, and this CPU has its instructions
CpuLevel best_cpu_level();
// The environment's ICLCERT_CPU_LEVEL (base, v3 or v4) when set and not empty, else
// best_cpu_level(); std::invalid_argument for another value or a level the CPU lacks.
CpuLevel selected_cpu_level();
// The instructions of the level run_block_cpu runs: cpu_level_name(selected_cpu_level()),
// but the base level of a build with ICLCERT_CPU_LEVELS=native is named by its -march.
const char* float_kernel_level();
// run_block_cpu at a given level (std::invalid_argument when not supported).
template <class T>
void run_block_cpu_at(CpuLevel level, const ModelView<T>& model, const PromptBlock<T>& block, Detail detail,
                      int threads, BlockOutput<T>& out);

// Runs a block on the first CUDA device; returns "" on success, else why not.
template <class T>
std::string run_block_cuda(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail,
                           BlockOutput<T>& out);

// A chunk of sampled prompts: those of seeds seed + first .. seed + first + count - 1
// (SamplerOptions{d, C, N, seed + k}, margin 0, not balanced: the fast sampler's case).
struct SampledChunk {
  std::uint64_t seed = 1;
  long first = 0;
  int count = 0;
  bool probe_label = true;
};

// Writes prompt k of the sampler, as sample_prompt_doubles draws it, into one
// prompt's X (N x d), labels (N), probe (d) and probe label (-1 without one).
template <class T>
using HostRedraw = std::function<void(long k, T* X, std::int32_t* labels, T* probe, std::int32_t* probe_label)>;

// The CUDA backend as a pipeline of two chunk slots. The model and the slots' buffers
// stay on the device; each slot has its own stream and pinned host staging, so
// launch() queues a chunk (upload, kernel, download) and returns at once, and the
// host fills the next chunk, or folds the last one, while the device works.
// collect() waits for a slot and copies its results into `out` (and the prompts'
// probe labels, when asked). launch_sampled() draws the chunk on the device
// (gpu/sample_kernel.hpp, the CPU's fast sampler bit for bit) and hands the rare
// prompt it cannot decide to `redraw`; it returns how many it handed over.
// Throws std::runtime_error for CUDA errors (and in a build without CUDA).
template <class T>
class CudaPipeline {
 public:
  CudaPipeline(const ModelView<T>& model, int d, int C, int N, int max_chunk, bool keep_states);
  ~CudaPipeline();
  CudaPipeline(const CudaPipeline&) = delete;
  CudaPipeline& operator=(const CudaPipeline&) = delete;
  void launch(int slot, const PromptBlock<T>& block, Detail detail);
  long launch_sampled(int slot, const SampledChunk& chunk, Detail detail, const HostRedraw<T>& redraw);
  void collect(int slot, BlockOutput<T>& out, std::vector<std::int32_t>* probe_labels);
  // Prompts per block of the column kernel (0: the per-prompt kernel runs).
  int team_prompts() const;
  // A chunk size from the device's free memory: two slots in a quarter of it,
  // between 4096 and 2^18 prompts.
  static int auto_chunk(int d, int C, int N, int layers, Detail detail);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The CUDA kernel's arrangement (batch_columns.hpp: one thread per token column,
// team_prompts prompts per team) emulated on the CPU, one column after another:
// for tests, which check it equals run_block_cpu bit for bit. Needs d + C <= 32.
template <class T>
void run_block_columns_emulated(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail,
                                int team_prompts, BlockOutput<T>& out);

bool model_has_dense_layer(const int* kind, int layers);

// The float64 interval tier (interval_certify.hpp) on the GPU: certify_prompt for
// every prompt of the block, one thread per prompt, with the device's directed
// rounding. verdicts: one per prompt; depth_margins (when not null): L + 1 per
// prompt. Returns "" on success, else why not (no CUDA, no device, a CUDA error).
std::string certify_block_cuda(const ModelView<Iv>& model, const PromptBlock<double>& block,
                               std::vector<IntervalVerdict>& verdicts, std::vector<Iv>* depth_margins);
// Prompts per certify_block_cuda call when --chunk is not given: as many as a
// quarter of the device's free memory holds (each prompt's interval workspace is
// about 200 KB at d 16, C 4, N 64), between 4096 and 65536, a multiple of 128 (the
// kernel's block). A chunk of 4096 would fill an eighth of an H100's threads, and
// every chunk allocates its workspace anew. Throws std::runtime_error on a CUDA
// error; 4096 without CUDA.
int certify_chunk_cuda(int d, int C, int N, int layers);

// The CUDA device of this process: device `cuda_device_preference()` modulo the
// device count, made current (cudaSetDevice) at each entry point of the CUDA
// backend, on the calling thread. 0 by default; under mpiexec the cli sets the
// rank, so that the ranks of one machine spread over its GPUs.
inline int& cuda_device_preference() {
  static int index = 0;
  return index;
}

// Number of CUDA devices; 0 with the reason in `why` when there is none (no
// driver, no GPU, or a build without CUDA).
int cuda_device_count(std::string& why);
bool built_with_cuda();

}  // namespace iclcert::gpu
