// The CUDA kernel's arrangement (gpu/batch_columns.hpp: one thread per token column,
// teams of prompts sharing their states) emulated on the CPU, against the CPU
// backend: every prediction, probe margin, per-layer record and state must be equal
// bit for bit, on reduced, full and dense layers, softmax and linear kernels, probe
// overrides, probe_is_key and a uniform probe label, float and double, several team
// sizes, and key counts that are and are not multiples of the 4-key loads. The CUDA
// test (batch_cuda_test) then checks that the device runs this program as emulated.
#include "batch_test_support.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace iclcert::gpu::testing {
namespace {

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

template <class T>
void expect_same(const BlockOutput<T>& cpu, const BlockOutput<T>& col, const std::string& what) {
  EXPECT_EQ(cpu.predictions, col.predictions) << what;
  ASSERT_EQ(cpu.probe_margins.size(), col.probe_margins.size()) << what;
  long differ = 0;
  for (std::size_t i = 0; i < cpu.probe_margins.size(); ++i) differ += !same_bits(cpu.probe_margins[i], col.probe_margins[i]);
  ASSERT_EQ(cpu.records.size(), col.records.size()) << what;
  for (std::size_t i = 0; i < cpu.records.size(); ++i) {
    const LayerRecord<T>& a = cpu.records[i];
    const LayerRecord<T>& b = col.records[i];
    differ += !same_bits(a.fisher, b.fisher) + !same_bits(a.gap_ratio, b.gap_ratio) +
              !same_bits(a.min_label_margin, b.min_label_margin) + !same_bits(a.probe_margin, b.probe_margin) +
              !same_bits(a.probe_alignment, b.probe_alignment) +
              !same_bits(a.probe_attention_same_class, b.probe_attention_same_class) + (a.prediction != b.prediction);
  }
  ASSERT_EQ(cpu.states.size(), col.states.size()) << what;
  for (std::size_t i = 0; i < cpu.states.size(); ++i) differ += !same_bits(cpu.states[i], col.states[i]);
  EXPECT_EQ(differ, 0) << what << ": values that differ in some bit";
}

template <class T>
void check(const Model& model, const std::vector<Prompt>& prompts, const std::string& name) {
  const BatchModel<T> bm = make_batch_model<T>(model, prompts[0].d, prompts[0].C);
  const PromptBlock<T> block = block_of<T>(prompts);
  for (Detail detail : {Detail::final_only, Detail::per_layer, Detail::with_states}) {
    BlockOutput<T> cpu;
    run_block_cpu(bm.view(), block, detail, 2, cpu);
    for (int team : {1, 3}) {
      BlockOutput<T> col;
      run_block_columns_emulated(bm.view(), block, detail, team, col);
      expect_same(cpu, col, name + (sizeof(T) == 4 ? " float" : " double") + ", detail " +
                                std::to_string(static_cast<int>(detail)) + ", team of " + std::to_string(team));
    }
  }
}

TEST(BatchColumns, EqualsTheCpuBackendBitForBit) {
  // N = 20: 20 keys (a multiple of 4); probe_is_key below makes 21.
  const std::vector<Prompt> small = sampled_prompts(7, 4, 3, 20, 11);
  for (Kernel kernel : {Kernel::softmax, Kernel::linear}) {
    const std::string k = kernel == Kernel::softmax ? "softmax" : "linear";
    Model mixed = mixed_model(kernel);
    check<float>(mixed, small, "mixed " + k);
    check<double>(mixed, small, "mixed " + k);
    mixed.probe_is_key = true;
    mixed.probe_label_init = ProbeLabelInit::uniform;
    check<float>(mixed, small, "mixed probe_is_key uniform " + k);
    check<double>(mixed, small, "mixed probe_is_key uniform " + k);
    check<float>(dense_model(kernel, 4, 3), small, "dense " + k);
    check<double>(dense_model(kernel, 4, 3), small, "dense " + k);
  }
  // N = 13 (a tail of one key after the 4-key loads), D = 18 (the 24-register kernel).
  const std::vector<Prompt> wide = sampled_prompts(5, 14, 4, 13, 70);
  check<float>(dense_model(Kernel::softmax, 14, 4), wide, "dense wide");
  check<double>(dense_model(Kernel::softmax, 14, 4), wide, "dense wide");
}

TEST(BatchColumns, PromptsWithoutAProbeLabel) {
  std::vector<Prompt> prompts = sampled_prompts(5, 4, 3, 9, 5);
  for (Prompt& p : prompts) p.probe_label.reset();
  check<float>(mixed_model(Kernel::softmax), prompts, "no probe label");
}

// The comparison can fail: a model that differs in one coefficient by one ulp
// changes some bit.
TEST(BatchColumns, AOneUlpChangeIsSeen) {
  const std::vector<Prompt> prompts = sampled_prompts(3, 4, 3, 20, 11);
  const Model model = mixed_model(Kernel::softmax);
  BatchModel<float> a = make_batch_model<float>(model, 4, 3), b = a;
  b.coeffs[0] = std::nextafter(b.coeffs[0], 1.0f);
  const PromptBlock<float> block = block_of<float>(prompts);
  BlockOutput<float> cpu, col;
  run_block_cpu(a.view(), block, Detail::with_states, 1, cpu);
  run_block_columns_emulated(b.view(), block, Detail::with_states, 2, col);
  long differ = 0;
  for (std::size_t i = 0; i < cpu.states.size(); ++i) differ += !same_bits(cpu.states[i], col.states[i]);
  EXPECT_GT(differ, 0);
}

}  // namespace
}  // namespace iclcert::gpu::testing
