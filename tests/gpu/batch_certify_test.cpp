// batch --certify's driver (gpu/batch_certify.hpp): the float64 interval tier, the
// escalation to Arb and the summary, each checked against a second computation.
#include "batch_test_support.hpp"

#include "gpu/batch_certify.hpp"
#include "gpu/certify_host.hpp"
#include "gpu/interval_certify.hpp"
#include "gpu/interval_model.hpp"
#include "tests/gpu/certify_interleaved.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/precision.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"
#include "numerics/scalar_rational.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <optional>

namespace iclcert::gpu::testing {
namespace {

Model reduced(const char* beta, const char* gamma, const char* alpha, const char* alpha_label, int layers,
              Kernel kernel) {
  Model m;
  m.kernel = kernel;
  for (int l = 0; l < layers; ++l)
    m.layers.push_back(ReducedLayer<Rational>{coeffs(beta, gamma, alpha, alpha_label), std::nullopt});
  return m;
}

CertifyConfig quiet(int threads) {
  CertifyConfig c;
  c.threads = threads;
  c.progress = false;
  c.chunk = 7;  // several chunks
  return c;
}

// Every certified prediction is Arb's certified prediction (256 bits, computed
// here on its own), and the reported enclosure contains Arb's margin midpoint.
TEST(BatchCertify, CertifiedPredictionsAreArbs) {
  SamplerOptions o;
  o.d = 4;
  o.C = 3;
  o.N = 12;
  const auto source = prompts_from_sampler(o, 40, 2);
  for (const Model& model : {mixed_model(Kernel::softmax), dense_model(Kernel::linear, 4, 3)}) {
    const CertifyReport r = run_certify(*source, model, quiet(2));
    ASSERT_EQ(r.prompts.size(), 40u);
    EXPECT_EQ(r.certified + r.escalated + r.undecided, 40);
    EXPECT_GT(r.certified, 30);
    WorkingPrecision precision(256);
    for (long k = 0; k < 40; ++k) {
      const PromptCertificate& c = r.prompts[k];
      if (c.status == CertStatus::undecided) continue;
      const Trace<ArbBall> t = run_recursion<ArbBall>(source->exact(k), model);
      const State<ArbBall>& s = t.entries.back().state;
      const auto y = s.y(s.probe_row());
      EXPECT_EQ(certified_prediction<ArbBall>(y), c.prediction) << k;
      double margin = 1e300;
      for (int cl = 0; cl < 3; ++cl)
        if (cl != c.prediction)
          margin = std::min(margin, ScalarTraits<ArbBall>::to_double(y[c.prediction] - y[cl]));
      EXPECT_LE(c.lo, margin * (1 + 1e-12)) << k;
      EXPECT_GE(c.hi, margin * (1 - 1e-12)) << k;
      EXPECT_GT(c.lo, 0) << k;
    }
  }
}

// The escalation tier's margin ends (certify_with_arb) enclose the exact margin,
// computed a second way in rational arithmetic (a linear-kernel model is exact in
// Rationals), compared exactly: an end rounded to nearest instead of outward
// (outward_doubles) lies on the wrong side of a margin that is not a double for
// about half of these prompts.
TEST(BatchCertify, ArbMarginEndsEncloseTheExactMargin) {
  SamplerOptions o;
  o.d = 4;
  o.C = 3;
  o.N = 12;
  const auto source = prompts_from_sampler(o, 40, 2);
  const Model model = mixed_model(Kernel::linear);
  int inexact = 0;
  for (long k = 0; k < 40; ++k) {
    const Prompt p = source->exact(k);
    const ArbMargin a = certify_with_arb(p, model, 64, 256);
    ASSERT_TRUE(a.certified) << k;
    const Trace<Rational> t = run_recursion<Rational>(p, model);
    const State<Rational>& s = t.entries.back().state;
    const auto y = s.y(s.probe_row());
    std::optional<Rational> margin;
    for (int c = 0; c < 3; ++c)
      if (c != a.prediction) {
        const Rational gap = y[a.prediction] - y[c];
        if (!margin || gap < *margin) margin = gap;
      }
    ASSERT_TRUE(margin);
    EXPECT_LE(rational_from_double(a.lo), *margin) << k;
    EXPECT_GE(rational_from_double(a.hi), *margin) << k;
    inexact += rational_from_double(nearest_double(*margin)) != *margin;
  }
  EXPECT_GT(inexact, 20);  // the test can see a wrong rounding direction
}

// alpha' = 0: the probe's label block stays 0, every class ties, and no tier may
// certify; escalation tries Arb on every prompt (up to --max-prec) and still says
// undecided; without escalation Arb never runs.
TEST(BatchCertify, TiesStayUndecided) {
  SamplerOptions o;
  o.d = 3;
  o.C = 3;
  o.N = 8;
  const auto source = prompts_from_sampler(o, 10, 1);
  const Model model = reduced("1/2", "1", "1/2", "0", 2, Kernel::softmax);
  CertifyConfig c = quiet(2);
  c.max_bits = 256;
  const CertifyReport r = run_certify(*source, model, c);
  EXPECT_EQ(r.undecided, 10);
  EXPECT_EQ(r.arb_runs, 10);
  for (const PromptCertificate& p : r.prompts) {
    EXPECT_TRUE(p.tried_arb);
    EXPECT_EQ(p.bits, 256);
    EXPECT_LE(p.lo, 0);
    EXPECT_GE(p.hi, 0);
    EXPECT_FALSE(p.flipped());
  }
  c.escalate = false;
  const CertifyReport n = run_certify(*source, model, c);
  EXPECT_EQ(n.undecided, 10);
  EXPECT_EQ(n.arb_runs, 0);
}

// A linear model whose values outgrow float64 (beta = 4, 8 layers): float64
// intervals leave some prompts undecided and Arb certifies some of those; the
// counts add up, and the per-depth fractions never exceed the prompts.
TEST(BatchCertify, EscalationDecidesWhatFloat64Cannot) {
  SamplerOptions o;
  o.d = 4;
  o.C = 3;
  o.N = 16;
  const auto source = prompts_from_sampler(o, 20, 2);
  const Model model = reduced("4", "4", "1", "1", 8, Kernel::linear);
  CertifyConfig c = quiet(2);
  c.max_bits = 1024;
  const CertifyReport r = run_certify(*source, model, c);
  EXPECT_GT(r.arb_runs, 0);
  EXPECT_GT(r.escalated, 0);
  EXPECT_EQ(r.certified + r.escalated + r.undecided, 20);
  EXPECT_EQ(r.arb_runs, r.escalated + r.undecided);
  for (long v : r.decided_float64_by_depth) EXPECT_LE(v, 20);
  WorkingPrecision precision(1024);
  for (long k = 0; k < 20; ++k)
    if (r.prompts[k].status == CertStatus::escalated) {
      const Trace<ArbBall> t = run_recursion<ArbBall>(source->exact(k), model);
      const State<ArbBall>& s = t.entries.back().state;
      EXPECT_EQ(certified_prediction<ArbBall>(s.y(s.probe_row())), r.prompts[k].prediction) << k;
    }
}

// Prompts whose inputs are not doubles (decimals) skip the float64 tier.
TEST(BatchCertify, DecimalInputsGoToArb) {
  std::vector<Prompt> prompts = sampled_prompts(3, 2, 2, 5, 9);
  for (Prompt& p : prompts) p.X(0, 0) = q("1/10");
  const auto source = prompts_from_list(prompts, "test");
  const CertifyReport r = run_certify(*source, reduced("1/4", "1", "1/2", "1/2", 2, Kernel::softmax), quiet(1));
  EXPECT_EQ(r.inputs_not_doubles, 3);
  EXPECT_EQ(r.arb_runs, 3);
  EXPECT_EQ(r.certified, 0);
}

// gpu/certify_host.hpp: certify_prompt is built once per x86-64 level (lane
// vectors of 2, 4 and 8 doubles), and certify_on_host runs only the best one the
// CPU has. The baseline and v3 round to nearest and step outward: they must give
// the same enclosures, bit for bit (every state entry at every depth, every
// depth's margin, the verdict), on full panels, a five-lane panel and the
// one-lane panel of the last column. v4 rounds in the instruction (AVX-512's
// embedded rounding), so its bits differ; both contain the exact value (checked
// against Arb in gpu_interval_kernel), so every v4 enclosure must overlap the
// baseline's, and the verdicts must agree here (none of these is near a tie).
// The device's interleaved layout (gpu/interval_workspace.hpp, run on the CPU by
// certify_interleaved.cpp: the 6 prompts in one group buffer) steps like the
// baseline: bit for bit too, and no run may touch another lane's elements.
TEST(BatchCertify, TheX86LevelsAgree) {
  using Host = IntervalVerdict (*)(const ModelView<Iv>&, int, const double*, const std::int32_t*, const double*, int,
                                   Iv*, const IntervalOutputs&);
  std::vector<std::pair<const char*, Host>> levels{{"base", &certify_host_base}};
  Host v4 = nullptr;
#ifdef ICLCERT_CERTIFY_X86_LEVELS
  if (__builtin_cpu_supports("x86-64-v3")) levels.emplace_back("x86-64-v3", &certify_host_v3);
  if (__builtin_cpu_supports("x86-64-v4")) v4 = &certify_host_v4;
#endif
  long compared = 0, v4_compared = 0, v4_narrower = 0, v4_wider = 0, interleaved_compared = 0;
  struct Case {
    Model model;
    int d, C, N;
  };
  const std::vector<Case> cases{{mixed_model(Kernel::softmax), 4, 3, 12},
                                {dense_model(Kernel::linear, 4, 3), 4, 3, 12},
                                {reduced("4/5", "3/2", "1/2", "1/2", 3, Kernel::softmax), 16, 4, 64}};
  for (const Case& c : cases) {
    SamplerOptions o;
    o.d = c.d;
    o.C = c.C;
    o.N = c.N;
    const auto source = prompts_from_sampler(o, 6, 3);
    PromptBlock<double> block;
    source->fill(0, 6, block);
    const BatchModel<Iv> im = make_interval_model(c.model, c.d, c.C);
    const ModelView<Iv> view = im.view();
    const int L1 = view.layers + 1, D = c.d + c.C;
    const long state_size = static_cast<long>(L1) * (c.N + 1) * D;
    std::vector<Iv> ws(interval_workspace_size(c.d, c.C, c.N));
    std::vector<std::vector<Iv>> group_states(6, std::vector<Iv>(state_size)), group_margins(6, std::vector<Iv>(L1));
    std::vector<IntervalOutputs> group_outs(6);
    for (int b = 0; b < 6; ++b) {
      group_outs[b].states = group_states[b].data();
      group_outs[b].depth_margins = group_margins[b].data();
    }
    std::vector<IntervalVerdict> group_verdicts(6);
    EXPECT_EQ(certify_interleaved_group(view, c.N, 6, block.X.data(), block.labels.data(), block.probe.data(),
                                        block.probe_label.data(), group_verdicts.data(), group_outs.data()),
              0)
        << "elements of other lanes changed";
    for (int b = 0; b < 6; ++b) {
      std::vector<std::vector<Iv>> states, margins;
      std::vector<IntervalVerdict> verdicts;
      auto run = [&](Host host) {
        states.emplace_back(state_size);
        margins.emplace_back(L1);
        IntervalOutputs out;
        out.states = states.back().data();
        out.depth_margins = margins.back().data();
        verdicts.push_back(host(view, c.N, block.X.data() + static_cast<long>(b) * c.N * c.d,
                                block.labels.data() + static_cast<long>(b) * c.N,
                                block.probe.data() + static_cast<long>(b) * c.d, block.probe_label[b], ws.data(), out));
      };
      for (const auto& level : levels) run(level.second);
      for (std::size_t k = 1; k < levels.size(); ++k) {
        EXPECT_EQ(std::memcmp(states[k].data(), states[0].data(), sizeof(Iv) * state_size), 0) << levels[k].first;
        EXPECT_EQ(std::memcmp(margins[k].data(), margins[0].data(), sizeof(Iv) * L1), 0) << levels[k].first;
        EXPECT_EQ(verdicts[k].certified, verdicts[0].certified) << levels[k].first;
        EXPECT_EQ(verdicts[k].prediction, verdicts[0].prediction) << levels[k].first;
        EXPECT_EQ(std::memcmp(&verdicts[k].margin, &verdicts[0].margin, sizeof(Iv)), 0) << levels[k].first;
        compared += state_size + L1;
      }
      EXPECT_EQ(std::memcmp(group_states[b].data(), states[0].data(), sizeof(Iv) * state_size), 0) << "interleaved " << b;
      EXPECT_EQ(std::memcmp(group_margins[b].data(), margins[0].data(), sizeof(Iv) * L1), 0) << "interleaved " << b;
      EXPECT_EQ(group_verdicts[b].certified, verdicts[0].certified) << "interleaved " << b;
      EXPECT_EQ(group_verdicts[b].prediction, verdicts[0].prediction) << "interleaved " << b;
      EXPECT_EQ(std::memcmp(&group_verdicts[b].margin, &verdicts[0].margin, sizeof(Iv)), 0) << "interleaved " << b;
      EXPECT_EQ(std::memcmp(&group_verdicts[b].label_margin, &verdicts[0].label_margin, sizeof(Iv)), 0)
          << "interleaved " << b;
      interleaved_compared += state_size + L1;
      if (!v4) continue;
      run(v4);
      const std::vector<Iv>& s4 = states.back();
      for (long e = 0; e < state_size; ++e) {
        const Iv a = s4[e], z = states[0][e];
        EXPECT_TRUE(a.lo <= z.hi && z.lo <= a.hi) << e;  // overlap
        v4_narrower += a.hi - a.lo < z.hi - z.lo;
        v4_wider += a.hi - a.lo > z.hi - z.lo;
        ++v4_compared;
      }
      EXPECT_EQ(verdicts.back().certified, verdicts[0].certified);
      EXPECT_EQ(verdicts.back().prediction, verdicts[0].prediction);
      EXPECT_TRUE(verdicts.back().margin.lo <= verdicts[0].margin.hi && verdicts[0].margin.lo <= verdicts.back().margin.hi);
    }
  }
  std::printf("x86-64 levels run here: %zu stepping, %s; %ld enclosures compared bit for bit with the baseline; "
              "v4: %ld overlap the baseline's, %ld narrower, %ld wider; the device's interleaved layout (groups of %d): "
              "%ld compared bit for bit\n",
              levels.size(), v4 ? "and v4" : "no v4", compared, v4_compared, v4_narrower, v4_wider,
              interleaved_group_size(), interleaved_compared);
}

}  // namespace
}  // namespace iclcert::gpu::testing
