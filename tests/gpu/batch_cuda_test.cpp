// The CUDA backend against the CPU backend. Needs a GPU: exits 77 (ctest: skipped)
// when cudaGetDeviceCount finds none, as on the project's CI; the same program is
// checked without a GPU by batch_columns_test (the column kernel emulated) and
// sampler_hd_test (the device sampler's source on the host).
//
// Everything must be equal bit for bit: predictions, probe margins, per-layer
// records and states, for the column kernel (reduced, full and dense layers,
// softmax and linear, float and double, several team sizes), the per-prompt kernel
// that takes models wider than 32, and prompts sampled on the device (their states
// at depth 0 are the prompts themselves), and whole runs of run_batch.
#include "batch_test_support.hpp"

#include "gpu/batch_run.hpp"
#include "gpu/interval_model.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace iclcert::gpu::testing {
namespace {

void require_gpu() {
  std::string why;
  if (cuda_device_count(why) == 0) {
    std::printf("skipped: %s\n", why.c_str());
    std::exit(77);
  }
}

template <class T>
long bits_differ(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return -1;
  long n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(T)) != 0;
  return n;
}

template <class T>
long records_differ(const std::vector<LayerRecord<T>>& a, const std::vector<LayerRecord<T>>& b) {
  if (a.size() != b.size()) return -1;
  long n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const T x[6] = {a[i].fisher, a[i].gap_ratio, a[i].min_label_margin, a[i].probe_margin, a[i].probe_alignment,
                    a[i].probe_attention_same_class};
    const T y[6] = {b[i].fisher, b[i].gap_ratio, b[i].min_label_margin, b[i].probe_margin, b[i].probe_alignment,
                    b[i].probe_attention_same_class};
    n += std::memcmp(x, y, sizeof x) != 0 || a[i].prediction != b[i].prediction;
  }
  return n;
}

template <class T>
void expect_equal(const BlockOutput<T>& cpu, const BlockOutput<T>& gpu, const std::string& what) {
  EXPECT_EQ(cpu.predictions, gpu.predictions) << what;
  EXPECT_EQ(bits_differ(cpu.probe_margins, gpu.probe_margins), 0) << what;
  EXPECT_EQ(records_differ(cpu.records, gpu.records), 0) << what;
  EXPECT_EQ(bits_differ(cpu.states, gpu.states), 0) << what;
}

template <class T>
void compare(const Model& model, int count, int d, int C, int N, const std::string& name) {
  const std::vector<Prompt> prompts = sampled_prompts(count, d, C, N, 3);
  const BatchModel<T> bm = make_batch_model<T>(model, d, C);
  const PromptBlock<T> block = block_of<T>(prompts);
  for (Detail detail : {Detail::final_only, Detail::per_layer, Detail::with_states})
    for (const char* team : {"", "1", "3"}) {
      if (*team) setenv("ICLCERT_CUDA_TEAM", team, 1);
      else unsetenv("ICLCERT_CUDA_TEAM");
      BlockOutput<T> cpu, gpu;
      run_block_cpu(bm.view(), block, detail, 2, cpu);
      const std::string error = run_block_cuda(bm.view(), block, detail, gpu);
      ASSERT_EQ(error, "") << name;
      expect_equal(cpu, gpu, name + (sizeof(T) == 4 ? " float" : " double") + " detail " +
                                 std::to_string(static_cast<int>(detail)) + " team " + (*team ? team : "auto"));
    }
  unsetenv("ICLCERT_CUDA_TEAM");
}

TEST(BatchCuda, ColumnKernelEqualsTheCpuBackend) {
  require_gpu();
  for (Kernel kernel : {Kernel::softmax, Kernel::linear}) {
    Model mixed = mixed_model(kernel);
    compare<float>(mixed, 300, 4, 3, 20, "mixed");
    compare<double>(mixed, 300, 4, 3, 20, "mixed");
    mixed.probe_is_key = true;
    mixed.probe_label_init = ProbeLabelInit::uniform;
    compare<float>(mixed, 200, 4, 3, 13, "mixed probe_is_key uniform");
    compare<double>(dense_model(kernel, 4, 3), 300, 4, 3, 20, "dense");
    compare<float>(dense_model(kernel, 14, 4), 100, 14, 4, 37, "dense wide");
  }
}

TEST(BatchCuda, PerPromptKernelEqualsTheCpuBackend) {
  require_gpu();  // d + C = 34: wider than the column kernel's registers
  compare<float>(dense_model(Kernel::softmax, 30, 4), 40, 30, 4, 9, "dense 34");
  compare<double>(dense_model(Kernel::softmax, 30, 4), 40, 30, 4, 9, "dense 34");
}

// Prompts drawn on the device: their depth-0 states are the prompts, and every
// state must equal the CPU's on the CPU sampler's prompts.
template <class T>
void compare_sampled(int d, int C, int N, bool probe_label, int count) {
  const Model model = mixed_model(Kernel::softmax);
  const BatchModel<T> bm = make_batch_model<T>(model, d, C);
  PromptBlock<T> block;
  block.d = d;
  block.C = C;
  block.N = N;
  block.resize(count);
  SamplerOptions o;
  o.d = d;
  o.C = C;
  o.N = N;
  o.probe_label = probe_label;
  const std::uint64_t seed = 1000;
  for (int i = 0; i < count; ++i) {
    o.seed = seed + 7 + i;
    const DoublePrompt p = sample_prompt_doubles(o);
    for (std::size_t e = 0; e < p.X.size(); ++e) block.X[static_cast<std::size_t>(i) * N * d + e] = static_cast<T>(p.X[e]);
    for (int r = 0; r < N; ++r) block.labels[static_cast<std::size_t>(i) * N + r] = p.labels[r];
    for (int k = 0; k < d; ++k) block.probe[static_cast<std::size_t>(i) * d + k] = static_cast<T>(p.probe[k]);
    block.probe_label[i] = p.probe_label ? *p.probe_label : -1;
  }
  BlockOutput<T> cpu, gpu;
  run_block_cpu(bm.view(), block, Detail::with_states, 2, cpu);
  CudaPipeline<T> pipe(bm.view(), d, C, N, count, true);
  long asked = 0;
  const HostRedraw<T> redraw = [&](long, T*, std::int32_t*, T*, std::int32_t*) { ++asked; };
  const long redrawn = pipe.launch_sampled(0, SampledChunk{seed, 7, count, probe_label}, Detail::with_states, redraw);
  std::vector<std::int32_t> labels;
  pipe.collect(0, gpu, &labels);
  std::printf("device sampler: %d prompts (d %d, C %d, N %d), %ld left to the host\n", count, d, C, N, redrawn);
  EXPECT_EQ(redrawn, asked);
  EXPECT_LE(redrawn, count / 100);
  if (redrawn == 0) expect_equal(cpu, gpu, "sampled on the device");
  EXPECT_EQ(labels, block.probe_label);
}

TEST(BatchCuda, DeviceSamplerDrawsTheCpuPrompts) {
  require_gpu();
  compare_sampled<float>(4, 3, 20, true, 3000);
  compare_sampled<double>(4, 3, 20, false, 1000);
}

// Whole runs: run_batch on CUDA (device sampling, pipelined chunks) and on the CPU.
TEST(BatchCuda, RunBatchEqualsTheCpuRun) {
  require_gpu();
  SamplerOptions o;
  o.d = 8;
  o.C = 3;
  o.N = 30;
  const auto source = prompts_from_sampler(o, 5000, 2);
  const Model model = mixed_model(Kernel::softmax);
  for (Detail detail : {Detail::final_only, Detail::per_layer}) {
    BatchConfig config;
    config.progress = false;
    config.detail = detail;
    config.chunk = 1500;  // several chunks, two in flight
    config.chunk_given = true;
    config.device = DeviceChoice::cpu;
    const BatchResult cpu = run_batch(*source, model, config);
    config.device = DeviceChoice::cuda;
    const BatchResult gpu = run_batch(*source, model, config);
    EXPECT_EQ(cpu.predictions, gpu.predictions);
    EXPECT_EQ(cpu.correct, gpu.correct);
    EXPECT_EQ(gpu.device_sampled, 5000);
    ASSERT_EQ(cpu.layers.size(), gpu.layers.size());
    for (std::size_t t = 0; t < cpu.layers.size(); ++t)
      for (int m = 0; m < 6; ++m) {
        EXPECT_EQ(cpu.layers[t].metrics[m].sum, gpu.layers[t].metrics[m].sum) << t << " " << m;
        EXPECT_EQ(cpu.layers[t].metrics[m].finite, gpu.layers[t].metrics[m].finite) << t << " " << m;
      }
  }
}

// The float64 interval tier on the device (directed rounding) against the CPU's
// (round to nearest plus an outward step): both enclose the same true margins, so
// the enclosures overlap, and a prediction certified by both is the same class.
TEST(BatchCuda, IntervalTierAgreesWithTheCpus) {
  require_gpu();
  for (const Model& model : {mixed_model(Kernel::softmax), dense_model(Kernel::linear, 4, 3)}) {
    const std::vector<Prompt> prompts = sampled_prompts(300, 4, 3, 20, 5);
    const PromptBlock<double> block = block_of<double>(prompts);
    const BatchModel<Iv> im = make_interval_model(model, 4, 3);
    std::vector<IntervalVerdict> gpu;
    std::vector<Iv> margins;
    ASSERT_EQ(certify_block_cuda(im.view(), block, gpu, &margins), "");
    std::vector<Iv> ws(interval_workspace_size(4, 3, 20));
    long both = 0, gpu_certified = 0, cpu_certified = 0;
    for (int i = 0; i < block.count; ++i) {
      const IntervalVerdict cpu = certify_prompt(im.view(), 20, block.X.data() + i * 20 * 4, block.labels.data() + i * 20,
                                                 block.probe.data() + i * 4, block.probe_label[i], ws.data());
      EXPECT_LE(gpu[i].margin.lo, cpu.margin.hi) << i;
      EXPECT_LE(cpu.margin.lo, gpu[i].margin.hi) << i;
      gpu_certified += gpu[i].certified;
      cpu_certified += cpu.certified;
      if (gpu[i].certified && cpu.certified) {
        ++both;
        EXPECT_EQ(gpu[i].prediction, cpu.prediction) << i;
      }
    }
    std::printf("interval tier: %ld certified on the GPU, %ld on the CPU, %ld by both\n", gpu_certified,
                cpu_certified, both);
    EXPECT_GE(both, cpu_certified - 3);
  }
}

}  // namespace
}  // namespace iclcert::gpu::testing
