// Determinism (theory/batch_path.md): the batch path's values depend on neither
// the thread count nor the chunking, and two runs give identical predictions and
// bit-identical per-layer records.
#include "batch_test_support.hpp"
#include "gpu/batch_run.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace iclcert::gpu::testing {
namespace {

constexpr std::uint64_t kSeed = 5;

template <class T>
BlockOutput<T> run(const std::vector<Prompt>& prompts, const Model& model, int threads) {
  const BatchModel<T> bm = make_batch_model<T>(model, prompts[0].d, prompts[0].C);
  BlockOutput<T> out;
  run_block_cpu(bm.view(), block_of<T>(prompts), Detail::with_states, threads, out);
  return out;
}

template <class T>
void expect_identical(const BlockOutput<T>& a, const BlockOutput<T>& b) {
  EXPECT_EQ(a.predictions, b.predictions);
  ASSERT_EQ(a.states.size(), b.states.size());
  EXPECT_EQ(std::memcmp(a.states.data(), b.states.data(), a.states.size() * sizeof(T)), 0);
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].prediction, b.records[i].prediction);
    EXPECT_EQ(std::memcmp(&a.records[i].probe_margin, &b.records[i].probe_margin, sizeof(T)), 0);
    EXPECT_EQ(std::memcmp(&a.records[i].fisher, &b.records[i].fisher, sizeof(T)), 0);
  }
}

TEST(BatchDeterminism, ThreadsDoNotChangeAnyValue) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  const std::vector<Prompt> prompts = sampled_prompts(9, 4, 3, 20, kSeed);
  for (const Model& m : {mixed_model(Kernel::softmax), dense_model(Kernel::softmax, 4, 3)}) {
    expect_identical(run<float>(prompts, m, 1), run<float>(prompts, m, 3));
    expect_identical(run<double>(prompts, m, 1), run<double>(prompts, m, 2));
  }
}

TEST(BatchDeterminism, RunsAndChunkingGiveIdenticalPredictionsAndStatistics) {
  SamplerOptions o;
  o.d = 4;
  o.C = 3;
  o.N = 12;
  o.seed = kSeed;
  auto source = prompts_from_sampler(o, 200, 2);
  BatchConfig c;
  c.device = DeviceChoice::cpu;
  c.progress = false;
  c.chunk = 64;
  const BatchResult a = run_batch(*source, mixed_model(Kernel::softmax), c);
  c.chunk = 37;
  c.threads = 1;
  const BatchResult b = run_batch(*source, mixed_model(Kernel::softmax), c);
  EXPECT_EQ(a.predictions, b.predictions);
  EXPECT_EQ(a.correct, b.correct);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (std::size_t t = 0; t < a.layers.size(); ++t)
    for (std::size_t m = 0; m < a.layers[t].metrics.size(); ++m) {
      EXPECT_EQ(a.layers[t].metrics[m].sum, b.layers[t].metrics[m].sum);
      EXPECT_EQ(a.layers[t].metrics[m].finite, b.layers[t].metrics[m].finite);
    }
  // The predictions are those of the prompts, not of the run: accuracy is sane.
  EXPECT_GT(a.correct, 100);
}

}  // namespace
}  // namespace iclcert::gpu::testing
