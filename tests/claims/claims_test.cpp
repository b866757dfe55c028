// Soundness of the claim checks: a true claim is proved, a false one is never
// proved and is refuted with a certified counterexample, escalation decides what
// needs more bits, and an exact tie stays undecided.
#include "claims/alignment.hpp"
#include "claims/equivariance.hpp"
#include "claims/robustness.hpp"
#include "claims/escalation.hpp"
#include "claims/separation.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/interval_mpfi.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

namespace iclcert::claims {
namespace {

Model a1_model(int layers) {
  Model m;
  for (int l = 0; l < layers; ++l) m.layers.push_back(testing::reduced("0", "1", "1/2", "1/2"));
  return m;
}

SeparationOptions strict_fisher() {
  SeparationOptions o;
  o.strict = true;
  return o;
}

TEST(Claims, A1IsProvedOnBalancedInstancesInBothIntervalBackends) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Prompt p = testing::sampled(3, 3, 12, seed, true);
    require_a1_hypotheses(p, a1_model(6));
    WorkingPrecision bits(128);
    EXPECT_EQ(check_separation<ArbBall>("A1", p, a1_model(6), strict_fisher()).verdict, Verdict::proved) << seed;
    EXPECT_EQ(check_separation<MpfiInterval>("A1", p, a1_model(6), strict_fisher()).verdict, Verdict::proved) << seed;
  }
}

// A deliberately false claim: "the Fisher ratio decreases" on A1 instances, judged by
// the same machinery on the trace read backwards. It must never come out proved.
TEST(Claims, AFalseClaimIsNeverProved) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Prompt p = testing::sampled(2, 3, 9, seed, true);
    WorkingPrecision bits(128);
    Trace<ArbBall> t = run_recursion<ArbBall>(p, a1_model(4));
    std::reverse(t.entries.begin(), t.entries.end());
    ClaimReport r = assess_separation<ArbBall>("decreasing", t, strict_fisher());
    EXPECT_EQ(r.verdict, Verdict::refuted) << seed;
    EXPECT_EQ(r.counterexample["layer"], 1) << seed;
  }
}

TEST(Claims, AKnownCounterexampleIsRefutedAndReplays) {
  // beta-dominated, negative alpha: the Fisher ratio falls on some sampled prompt.
  Model m = testing::model_of(Kernel::softmax, {testing::reduced("4", "0", "-1/2", "0")});
  WorkingPrecision bits(128);
  int refuted = 0;
  for (std::uint64_t seed = 1; seed <= 20 && refuted == 0; ++seed) {
    Prompt p = testing::sampled(2, 3, 9, seed);
    ClaimReport r = check_separation<ArbBall>("A2", p, m, {});
    if (r.verdict != Verdict::refuted) continue;
    ++refuted;
    // The counterexample alone refutes again, in the other backend too.
    Prompt again = parse_prompts(r.counterexample["prompt"], "counterexample").at(0);
    Model model_again = parse_model(r.counterexample["model"], "counterexample");
    EXPECT_EQ(check_separation<MpfiInterval>("A2", again, model_again, {}).verdict, Verdict::refuted);
    // And the failure is real: MPFR at 512 bits agrees that F fell.
    WorkingPrecision more(512);
    auto trace = run_recursion<MpfrReal>(again, model_again);
    const int layer = r.counterexample["layer"];
    EXPECT_LT(ScalarTraits<MpfrReal>::to_double(trace.entries[layer].metrics.fisher.value -
                                                trace.entries[layer - 1].metrics.fisher.value),
              0.0);
  }
  EXPECT_EQ(refuted, 1);
}

TEST(Claims, EscalationDecidesWhatTheStartPrecisionCannot) {
  Prompt p = testing::sampled(3, 3, 12, 4, true);
  ClaimReport low;
  {
    WorkingPrecision bits(16);
    low = check_separation<ArbBall>("A1", p, a1_model(8), strict_fisher());
  }
  EXPECT_EQ(low.verdict, Verdict::undecided);
  EXPECT_TRUE(low.more_precision_may_help);
  ClaimReport r = with_escalation(16, 1024, [&] { return check_separation<ArbBall>("A1", p, a1_model(8), strict_fisher()); });
  EXPECT_EQ(r.verdict, Verdict::proved);
  EXPECT_GT(r.precision_bits, 16);
  EXPECT_GE(r.evidence["precision_escalation"].size(), 2u);
}

TEST(Claims, AnExactTieStaysUndecidedInIntervalsAndIsDecidedInRationals) {
  // alpha = alpha' = 0: every layer is the identity, so F^{t+1} = F^t exactly.
  Model still = testing::model_of(Kernel::softmax, {testing::reduced("1", "1", "0", "0")});
  Prompt p = testing::sampled(2, 3, 9, 5);
  ClaimReport r = with_escalation(64, 512, [&] { return check_separation<ArbBall>("A2", p, still, {}); });
  // The identity layer leaves the state exactly as it was, so intervals see equal
  // enclosures: >= is not certifiable from enclosures of equal values of positive width.
  EXPECT_EQ(r.verdict, Verdict::undecided);
  EXPECT_EQ(r.precision_bits, 512);
  // In exact rationals (linear kernel) the tie is decided: F^{t+1} >= F^t holds.
  Model still_linear = testing::model_of(Kernel::linear, {testing::reduced("1", "1", "0", "0")});
  EXPECT_EQ(check_separation<Rational>("A2", p, still_linear, {}).verdict, Verdict::proved);
  SeparationOptions strict = strict_fisher();
  EXPECT_EQ(check_separation<Rational>("strict", p, still_linear, strict).verdict, Verdict::refuted);
}

TEST(Claims, EquivarianceProvedForStructuredModelsAndRefutedForABrokenDenseOne) {
  Prompt p = testing::sampled(3, 3, 6, 2);
  WorkingPrecision bits(128);
  Model m = testing::model_of(Kernel::softmax, {testing::reduced("1/2", "1", "1/2", "1/2")});
  EXPECT_EQ(check_equivariance<ArbBall>(p, m, 1).verdict, Verdict::proved);
  // A dense layer equal to M(theta) but for one entry: breaks feature symmetry.
  FullLayer<Rational> f{{{{testing::q("1"), 0, 0, 0, testing::q("1"), 0}, {testing::q("1/2"), 0, 0, 0, testing::q("1/2"), 0}}}};
  DenseLayer<Rational> dense = testing::dense_from_full(f, 3, 3);
  dense.heads[0].value(0, 1) = testing::q("3/4");
  Model broken = testing::model_of(Kernel::linear, {dense});
  ClaimReport exact = check_equivariance<Rational>(p, broken, 1);
  EXPECT_EQ(exact.verdict, Verdict::refuted);
  EXPECT_NE(exact.evidence["structural"].get<std::string>().find("does not commute"), std::string::npos);
  broken.kernel = Kernel::softmax;
  EXPECT_EQ(check_equivariance<ArbBall>(p, broken, 1).verdict, Verdict::refuted);
}

TEST(Claims, ReductionIsProvedExactlyAndWithEnclosures) {
  Prompt p = testing::sampled(2, 3, 8, 3);
  Model lin = testing::model_of(Kernel::linear, {testing::reduced("1/2", "1", "1/3", "1"), testing::reduced("1", "2", "1/2", "1/2")});
  EXPECT_EQ(check_reduction<Rational>(p, lin).verdict, Verdict::proved);
  Model soft = lin;
  soft.kernel = Kernel::softmax;
  WorkingPrecision bits(128);
  EXPECT_EQ(check_reduction<ArbBall>(p, soft).verdict, Verdict::proved);
  soft.layers[0] = ReducedLayer<Rational>{{1, 1, 1, 1}, ReducedCoefficients<Rational>{0, 0, 0, 0}};
  EXPECT_THROW(check_reduction<ArbBall>(p, soft), ClaimInputError);
}

// R1 over a coefficient box where A1 holds everywhere: proved, volume fraction 1.
TEST(Claims, RobustnessProvesABoxWhereTheClaimHoldsEverywhere) {
  Prompt p = testing::sampled(3, 3, 12, 1, true);
  WorkingPrecision bits(128);
  RobustnessOptions o;
  o.box = {parse_box("alpha=0.4:0.6")};
  o.separation = strict_fisher();
  o.form = EnclosureForm::plain;  // the bisection is what is tested (the centred form needs less)
  ClaimReport r = check_robustness<ArbBall>(p, a1_model(4), o);
  EXPECT_EQ(r.verdict, Verdict::proved);
  EXPECT_EQ(r.evidence["proved_volume_fraction"], "1");
  EXPECT_GT(r.evidence["sub_boxes_evaluated"].get<int>(), 1);  // it had to bisect
  o.form = EnclosureForm::centred;
  const ClaimReport centred = check_robustness<ArbBall>(p, a1_model(4), o);
  EXPECT_EQ(centred.verdict, Verdict::proved);
  EXPECT_LE(centred.evidence["sub_boxes_evaluated"].get<int>(), r.evidence["sub_boxes_evaluated"].get<int>());
  // An l_inf ball around the prompt, enclosed whole.
  RobustnessOptions ball;
  ball.ball = testing::q("1/1000");
  ball.separation = strict_fisher();
  EXPECT_EQ(check_robustness<ArbBall>(p, a1_model(4), ball).verdict, Verdict::proved);
}

// R1 over a box that contains refuting coefficients finds one, and it refutes alone.
TEST(Claims, RobustnessFindsARefutingPointInABadBox) {
  Prompt p = testing::sampled(3, 3, 12, 1, true);
  WorkingPrecision bits(128);
  RobustnessOptions o;
  o.box = {parse_box("alpha=-1:-1/2")};  // alpha < 0 pulls classes together
  o.separation = strict_fisher();
  ClaimReport r = check_robustness<ArbBall>(p, a1_model(3), o);
  ASSERT_EQ(r.verdict, Verdict::refuted);
  Model point = parse_model(r.counterexample["model"], "counterexample");
  EXPECT_EQ(check_separation<MpfiInterval>("A1", p, point, strict_fisher()).verdict, Verdict::refuted);
  EXPECT_THROW(parse_box("delta=0:1"), ClaimInputError);
  EXPECT_THROW(parse_box("alpha=1:0"), ClaimInputError);
}

// The audit's reproduction (issue 16): on the A2 counterexample prompt of seed 5001
// (d = 1, C = 2, N = 3, one layer with beta = 1/8) F falls for every gamma below
// about 0.00377. Boxing gamma twice once kept only the second range while the report
// listed both, and so "proved" the false claim over [0, 0.001]; a repeated name is
// now refused.
TEST(Claims, RobustnessRefusesACoefficientBoxedTwice) {
  const Prompt p = testing::sampled(1, 2, 3, 5001);
  const Model m = testing::model_of(Kernel::softmax, {testing::reduced("1/8", "0", "1/2", "1/2")});
  WorkingPrecision bits(128);
  RobustnessOptions o;
  o.box = {parse_box("gamma=0:0.001")};
  const ClaimReport alone = check_robustness<ArbBall>(p, m, o);
  ASSERT_EQ(alone.verdict, Verdict::refuted);
  EXPECT_EQ(alone.counterexample["coefficients"]["gamma"], "1/2000");
  o.box.push_back(parse_box("gamma=1:2"));
  try {
    check_robustness<ArbBall>(p, m, o);
    ADD_FAILURE() << "a coefficient boxed twice was accepted";
  } catch (const ClaimInputError& e) {
    EXPECT_NE(std::string(e.what()).find("gamma is given twice"), std::string::npos) << e.what();
  }
  // Distinct names are fine, in any order.
  o.box = {parse_box("alpha=1/4:1/2"), parse_box("gamma=0:0.001")};
  EXPECT_EQ(check_robustness<ArbBall>(p, m, o).verdict, Verdict::refuted);
}

// With probe overrides the box ranges over the training rows' coefficient only (the
// probe's own coefficients are other coefficients, theory/claims.md R1), and the
// report says so. When the probe is not a key the claim does not depend on them:
// the same verdict whatever the override.
TEST(Claims, RobustnessStatesWhatTheBoxCoversUnderProbeOverrides) {
  const Prompt p = testing::sampled(3, 3, 12, 1, true);
  WorkingPrecision bits(128);
  RobustnessOptions o;
  o.box = {parse_box("alpha=0.4:0.6")};
  o.separation = strict_fisher();
  Model m = a1_model(2);
  EXPECT_TRUE(check_robustness<ArbBall>(p, m, o).evidence["box_scope"].is_null());
  std::get<ReducedLayer<Rational>>(m.layers[1]).probe = ReducedCoefficients<Rational>{2, 0, -1, 3};
  const ClaimReport r = check_robustness<ArbBall>(p, m, o);
  EXPECT_EQ(r.verdict, Verdict::proved);
  const std::string scope = r.evidence["box_scope"];
  EXPECT_NE(scope.find("(layer 2)"), std::string::npos) << scope;
  EXPECT_NE(scope.find("holds for any probe coefficients"), std::string::npos) << scope;
  EXPECT_NE(std::find(r.lines.begin(), r.lines.end(), scope), r.lines.end());
  EXPECT_EQ(check_robustness<ArbBall>(p, a1_model(2), o).evidence["proved_volume_fraction"],
            r.evidence["proved_volume_fraction"]);
  m.probe_is_key = true;
  const std::string keyed = check_robustness<ArbBall>(p, m, o).evidence["box_scope"];
  EXPECT_NE(keyed.find("the probe is a key, so the claim depends on them"), std::string::npos) << keyed;
}

// C1 on the label-driven model: enough samples make the Hoeffding bound positive;
// the bound is below the sample mean by exactly range * radius.
TEST(Claims, AlignmentIsProvedStatisticallyWithAValidRange) {
  WorkingPrecision bits(64);
  AlignmentOptions o;
  o.sampler.d = 2;
  o.sampler.C = 2;
  o.sampler.N = 8;
  o.sampler.seed = 100;
  o.samples = 2000;
  o.delta = testing::q("1/20");
  // Training rows: label-driven; the probe attends by features (beta_q = 2) and reads
  // the labels out (alpha'_q = 1): a kernel classifier, so E[g] > 0.
  Model m;
  for (int l = 0; l < 2; ++l)
    m.layers.push_back(ReducedLayer<Rational>{{0, 1, testing::q("1/2"), testing::q("1/2")},
                                              ReducedCoefficients<Rational>{2, 0, 0, 1}});
  EXPECT_EQ(label_growth_bound(m), testing::q("4"));  // (1 + max(1/2, 1))^2
  ClaimReport r = check_alignment<ArbBall>(m, o);
  EXPECT_EQ(r.verdict, Verdict::proved) << r.lines[1];
  EXPECT_GT(r.evidence["certified_correct"].get<int>(), 1200) << r.lines[2];
  // Every sampled alignment lies in the certified range [-2B, 2B] = [-8, 8].
  for (std::uint64_t k = 0; k < 50; ++k) {
    SamplerOptions s = o.sampler;
    s.seed += k;
    auto t = run_recursion<ArbBall>(sample_prompt(s), m);
    const auto& g = *t.entries.back().metrics.probe_alignment;
    EXPECT_TRUE(certainly_less(g, from_rational<ArbBall>(testing::q("8"))));
    EXPECT_TRUE(certainly_greater(g, from_rational<ArbBall>(testing::q("-8"))));
  }
  Model linear = m;
  linear.kernel = Kernel::linear;
  EXPECT_THROW(label_growth_bound(linear), ClaimInputError);
}

}  // namespace
}  // namespace iclcert::claims
