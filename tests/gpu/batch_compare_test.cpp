// compare_models (gpu/batch_compare.hpp): a model against itself, against a copy
// that differs only in the inert components (theory/extraction.md), and against a
// genuinely different model; the float statistics and the certified ones agree.
#include "batch_test_support.hpp"
#include "gpu/batch_compare.hpp"
#include "numerics/extraction.hpp"
#include "numerics/scalar_rational.hpp"

#include <gtest/gtest.h>

namespace iclcert::gpu {
namespace {

using testing::coeffs;

std::vector<Prompt> prompts(int count, int d, int C, int N) { return testing::sampled_prompts(count, d, C, N, 900); }

Model reduced_model() {
  Model m;
  m.layers.push_back(ReducedLayer<Rational>{coeffs("1/4", "1", "1/2", "1/2"), std::nullopt});
  m.layers.push_back(ReducedLayer<Rational>{coeffs("0", "2", "1", "1"), std::nullopt});
  return m;
}

// The same model in full form with inert components added (kappa th3, th6, nu th6).
Model with_inert_components(const Model& reduced) {
  Model m = reduced;
  m.layers.clear();
  for (const auto& layer : reduced.layers) {
    const auto& c = std::get<ReducedLayer<Rational>>(layer).train;
    m.layers.push_back(FullLayer<Rational>{{{{c.beta, 0, Rational(3, 10), 0, c.gamma, Rational(-7, 10)},
                                             {c.alpha, 0, 0, 0, c.alpha_label, Rational(9, 10)}}}});
  }
  return m;
}

BatchConfig config(long validate) {
  BatchConfig c;
  c.device = DeviceChoice::cpu;
  c.threads = 2;
  c.chunk = 7;  // several chunks, one of them partial
  c.validate = validate;
  c.progress = false;
  return c;
}

TEST(BatchCompare, AModelAgainstItselfAgreesEverywhereWithZeroDeviation) {
  const auto source = prompts_from_list(prompts(20, 3, 3, 8), "test");
  const Model m = reduced_model();
  const CompareResult r = compare_models(*source, m, m, config(5));
  ASSERT_EQ(r.layers.size(), 3u);
  for (const auto& l : r.layers) {
    EXPECT_EQ(l.agree, 20);
    EXPECT_EQ(l.correct_a, l.correct_b);
    EXPECT_EQ(l.max_logit_dev, 0.0);
    EXPECT_EQ(l.max_feature_dev, 0.0);
  }
  EXPECT_EQ(r.predictions_a, r.predictions_b);
  ASSERT_EQ(r.certified.size(), 3u);
  const auto& c = r.certified.back();
  EXPECT_EQ(c.certified_disagree, 0);
  EXPECT_EQ(c.certified_agree, c.both_certified);
  EXPECT_GT(c.both_certified, 3);
  EXPECT_LE(c.deviation_lo, 0.0);  // the enclosure of a zero deviation contains 0
  EXPECT_LT(c.deviation_hi, 1e-60);
}

TEST(BatchCompare, InertComponentsLeaveOnlyRoundingDeviation) {
  const auto source = prompts_from_list(prompts(30, 3, 3, 8), "test");
  const Model a = with_inert_components(reduced_model());
  const Model b = extract_model(a, 3, 3).reduced;  // drops them again
  const CompareResult r = compare_models(*source, a, b, config(6));
  for (const auto& l : r.layers) {
    EXPECT_LT(l.max_logit_dev, 1e-4);
    EXPECT_LT(l.max_feature_dev, 1e-5);
  }
  EXPECT_GE(r.layers.back().agree, 29);  // float32 may split a near-tie; see the certified check
  const auto& c = r.certified.back();
  EXPECT_EQ(c.certified_disagree, 0);
  EXPECT_LE(c.deviation_lo, 0.0);
  EXPECT_LT(c.deviation_hi, 1e-60);
}

TEST(BatchCompare, DifferentModelsShowCertifiedDeviation) {
  const auto source = prompts_from_list(prompts(30, 3, 3, 8), "test");
  Model b = reduced_model();
  std::get<ReducedLayer<Rational>>(b.layers[1]).train.alpha_label = -1;  // labels pushed the other way
  const CompareResult r = compare_models(*source, reduced_model(), b, config(4));
  EXPECT_LT(r.layers.back().agree, 15);
  EXPECT_GT(r.layers.back().max_logit_dev, 0.1);
  EXPECT_GT(r.certified.back().deviation_lo, 0.0);  // certainly apart
  EXPECT_GT(r.certified.back().certified_disagree, 0);
}

TEST(BatchCompare, RefusesModelsOfDifferentDepth) {
  const auto source = prompts_from_list(prompts(2, 3, 3, 8), "test");
  Model b = reduced_model();
  b.layers.pop_back();
  EXPECT_THROW(compare_models(*source, reduced_model(), b, config(0)), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert::gpu
