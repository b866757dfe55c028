// The CPU backend of the batch path equals the templated core (run_recursion<double>)
// on reduced, full and dense layers, softmax and linear kernels, probe overrides,
// probe_is_key and probe_label_init uniform. Tolerance (theory/batch_path.md,
// "Agreement with the core"): both runs are within E_t of the exact values, E_t
// the stated bound of gpu/batch_error_bound.hpp at u = 2^-53, so they differ by at
// most 2 E_t. Seeds are fixed and printed.
#include "batch_test_support.hpp"
#include "gpu/batch_error_bound.hpp"
#include "numerics/recursion.hpp"
#include "numerics/scalar_double.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

namespace iclcert::gpu::testing {
namespace {

constexpr std::uint64_t kSeed = 11;
constexpr double kU = 0x1p-53;

struct Case {
  const char* name;
  Model model;
};

std::vector<Case> cases(int d, int C) {
  std::vector<Case> out;
  out.push_back({"mixed softmax", mixed_model(Kernel::softmax)});
  out.push_back({"mixed linear", mixed_model(Kernel::linear)});
  out.push_back({"dense softmax", dense_model(Kernel::softmax, d, C)});
  out.push_back({"dense linear", dense_model(Kernel::linear, d, C)});
  Case key{"mixed softmax, probe is key", mixed_model(Kernel::softmax)};
  key.model.probe_is_key = true;
  out.push_back(key);
  Case uni{"mixed softmax, uniform probe label", mixed_model(Kernel::softmax)};
  uni.model.probe_label_init = ProbeLabelInit::uniform;
  out.push_back(uni);
  Case both{"dense linear, probe is key, uniform", dense_model(Kernel::linear, d, C)};
  both.model.probe_is_key = true;
  both.model.probe_label_init = ProbeLabelInit::uniform;
  out.push_back(both);
  return out;
}

// Largest |ours - core| / (2 E_t) over every state entry of every prompt: <= 1 means agreement.
double worst_ratio(const Model& model, const std::vector<Prompt>& prompts, const Model& core_model,
                   bool check_metrics) {
  const int d = prompts[0].d, C = prompts[0].C, N = prompts[0].N, D = d + C;
  const BatchModel<double> bm = make_batch_model<double>(model, d, C);
  BlockOutput<double> out;
  run_block_cpu(bm.view(), block_of<double>(prompts), Detail::with_states, 2, out);
  const int L1 = bm.layers() + 1;
  double worst = 0;
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    const Trace<double> trace = run_recursion<double>(prompts[b], core_model);
    std::vector<double> scales(L1, 0.0);
    for (int t = 0; t < L1; ++t)
      for (double v : trace.entries[t].state.Z.data()) scales[t] = std::max(scales[t], std::fabs(v));
    const std::vector<double> E = first_order_error_bound(bm.view(), scales, N, kU, 0.0);
    for (int t = 0; t < L1; ++t) {
      EXPECT_LT(2 * E[t], 1e-6 * std::max(1.0, scales[t])) << "the bound is too loose to mean anything at t = " << t;
      const auto& Z = trace.entries[t].state.Z;
      for (int j = 0; j <= N; ++j)
        for (int k = 0; k < D; ++k) {
          const double ours = out.states[((b * L1 + t) * (N + 1) + j) * D + k];
          worst = std::max(worst, std::fabs(ours - Z(j, k)) / (2 * E[t] + 1e-300));
        }
      if (!check_metrics) continue;
      // Metrics: smooth functions of states that agree to 2 E_t (<= 1e-6 relative,
      // checked above); 1e-6 relative covers the condition of the ratios here.
      const LayerRecord<double>& r = out.records[b * L1 + t];
      const Metrics<double>& m = trace.entries[t].metrics;
      auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b)); };
      EXPECT_EQ(m.fisher.kind, Ratio<double>::Kind::finite);
      EXPECT_TRUE(near(r.fisher, m.fisher.value)) << r.fisher << " vs " << m.fisher.value << " at t = " << t;
      EXPECT_EQ(m.gap_ratio.kind, Ratio<double>::Kind::finite);
      EXPECT_TRUE(near(r.gap_ratio, m.gap_ratio.value)) << "t = " << t;
      EXPECT_TRUE(near(r.min_label_margin, *m.min_label_margin)) << "t = " << t;
      EXPECT_TRUE(near(r.probe_margin, *m.probe_margin)) << "t = " << t;
      EXPECT_TRUE(near(r.probe_alignment, *m.probe_alignment)) << "t = " << t;
      if (t + 1 < L1) {
        EXPECT_TRUE(near(r.probe_attention_same_class, *trace.entries[t].probe_attention_same_class));
      } else {
        EXPECT_TRUE(std::isnan(r.probe_attention_same_class));
      }
      // The prediction: argmax of the probe's labels, wherever the core's top two are apart.
      auto y = trace.entries[t].state.y(N);
      int best = 0;
      for (int c = 1; c < C; ++c)
        if (y[c] > y[best]) best = c;
      bool decided = true;
      for (int c = 0; c < C; ++c)
        if (c != best && y[best] - y[c] <= 4 * E[t]) decided = false;
      if (decided) {
        EXPECT_EQ(r.prediction, best) << "t = " << t;
      }
    }
  }
  return worst;
}

TEST(BatchCoreAgreement, CpuBackendEqualsTheCoreInDoubleWithinTwiceTheStatedBound) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  const std::vector<Prompt> prompts = sampled_prompts(6, 3, 3, 10, kSeed);
  for (const Case& c : cases(3, 3)) {
    const double worst = worst_ratio(c.model, prompts, c.model, true);
    std::printf("%-40s worst |ours - core| / (2 E_t) = %.3g\n", c.name, worst);
    EXPECT_LE(worst, 1.0) << c.name;
  }
}

TEST(BatchCoreAgreement, PromptsWithoutAProbeLabelRunAndReportNaNMargins) {
  std::vector<Prompt> prompts = sampled_prompts(2, 2, 3, 7, kSeed);
  for (Prompt& p : prompts) p.probe_label.reset();
  const Model model = mixed_model(Kernel::softmax);
  const BatchModel<double> bm = make_batch_model<double>(model, 2, 3);
  BlockOutput<double> out;
  run_block_cpu(bm.view(), block_of<double>(prompts), Detail::per_layer, 1, out);
  for (const auto& r : out.records) {
    EXPECT_TRUE(std::isnan(r.probe_margin));
    EXPECT_TRUE(std::isnan(r.probe_attention_same_class));
    EXPECT_TRUE(std::isfinite(r.fisher));
  }
}

// The comparison has teeth: a model that differs by 1e-6 in one coefficient is caught.
TEST(BatchCoreAgreement, APerturbedCoefficientIsDetected) {
  const std::vector<Prompt> prompts = sampled_prompts(2, 3, 3, 10, kSeed);
  const Model model = mixed_model(Kernel::softmax);
  Model perturbed = model;
  std::get<ReducedLayer<Rational>>(perturbed.layers[0]).train.alpha += Rational(1, 1000000);
  EXPECT_GT(worst_ratio(perturbed, prompts, model, false), 1.0);
}

TEST(BatchCoreAgreement, DenseSizeMismatchIsRejected) {
  EXPECT_THROW(make_batch_model<double>(dense_model(Kernel::softmax, 3, 3), 4, 3), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert::gpu::testing
