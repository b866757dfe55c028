// The two backends of the batched recursion over blocks of prompts of one shape.
// Both run the functions of batch_kernel.hpp, one prompt per thread: the CPU
// backend on std::threads (batch_cpu.cpp), the CUDA backend on the GPU
// (batch_cuda.cu; a stub that reports "built without CUDA" otherwise).
// Boost-free, so that nvcc can compile what includes it.
#pragma once

#include "gpu/batch_kernel.hpp"

#include <cstdint>
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
// do not depend on `threads`).
template <class T>
void run_block_cpu(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail, int threads,
                   BlockOutput<T>& out);

// Runs a block on the first CUDA device; returns "" on success, else why not.
template <class T>
std::string run_block_cuda(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail,
                           BlockOutput<T>& out);

// Number of CUDA devices; 0 with the reason in `why` when there is none (no
// driver, no GPU, or a build without CUDA).
int cuda_device_count(std::string& why);
bool built_with_cuda();

}  // namespace iclcert::gpu
