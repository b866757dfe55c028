// The equivariance check of a user's dense weights: an equivariant model passes,
// a model moved off span{M(theta)} by 1e-3 in one entry is reported with the right
// kind of permutation, and E3 reports the residual.
#include "io/model_io.hpp"
#include "numerics/sampler.hpp"
#include "numerics/scalar_rational.hpp"
#include "properties/catalog.hpp"
#include "properties/user_weights.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace iclcert::properties {
namespace {

const std::string kModels = std::string(ICLCERT_SOURCE_DIR) + "/examples/models/";

UserWeightsReport check(const std::string& file, int cases = 12) {
  UserWeightsOptions o;
  o.d = 3;
  o.C = 2;
  o.N = 6;
  o.seed = 11;
  o.cases = cases;
  std::printf("%s: seed %llu, %d cases\n", file.c_str(), static_cast<unsigned long long>(o.seed), cases);
  return check_user_weights(read_model_file(kModels + file), o);
}

double worst(const UserWeightsReport& r, PermutationKind k) { return r.worst[static_cast<int>(k)].relative; }

TEST(UserWeights, AnEquivariantModelPasses) {
  const auto r = check("equivariant.json");
  EXPECT_TRUE(r.held());
  for (const auto& w : r.worst) EXPECT_LT(w.relative, 1e-30) << to_string(w.kind);
  ASSERT_EQ(r.projections.size(), 6u);  // 3 heads, score and value
  for (const auto& p : r.projections) EXPECT_EQ(p.relative_residual, 0);
}

TEST(UserWeights, AFeatureBlockPerturbationIsReportedAsFeature) {
  const auto r = check("perturbed-feature.json");
  EXPECT_FALSE(r.held());
  EXPECT_EQ(r.largest().kind, PermutationKind::feature);
  EXPECT_GT(worst(r, PermutationKind::feature), 1e-5);
  EXPECT_LT(worst(r, PermutationKind::label), 1e-30);
  EXPECT_LT(worst(r, PermutationKind::token), 1e-30);
  // E3: the perturbed value matrix of layer 0, head 0 alone has a residual.
  for (const auto& p : r.projections) {
    if (p.layer == 0 && p.head == 0 && p.matrix == "value") {
      EXPECT_GT(p.relative_residual, 1e-4);
    } else {
      EXPECT_EQ(p.relative_residual, 0);
    }
  }
}

TEST(UserWeights, ALabelBlockPerturbationIsReportedAsLabel) {
  const auto r = check("perturbed-label.json");
  EXPECT_FALSE(r.held());
  EXPECT_EQ(r.largest().kind, PermutationKind::label);
  EXPECT_GT(worst(r, PermutationKind::label), 1e-8);
  EXPECT_LT(worst(r, PermutationKind::feature), 1e-30);
  EXPECT_LT(worst(r, PermutationKind::token), 1e-30);
}

TEST(UserWeights, TheVerdictFollowsTheTolerance) {
  UserWeightsReport r = check("perturbed-label.json", 4);
  ASSERT_FALSE(r.held());
  r.tolerance = 10 * r.largest().relative;
  EXPECT_TRUE(r.held());
  EXPECT_EQ(kFloat32Tolerance, 1e-3);  // e3nn's tolerances
  EXPECT_EQ(kFloat64Tolerance, 1e-10);
}

TEST(UserWeights, ReplayingTheWorstCaseGivesTheSameViolation) {
  const Model m = read_model_file(kModels + "perturbed-feature.json");
  const auto r = check("perturbed-feature.json", 4);
  const auto& w = r.largest();
  EXPECT_DOUBLE_EQ(measure_case(w.prompt, m, w.g, 128), w.relative);
}

// E1 of the catalogue on the example models, with a feature swap: certified by
// disjoint enclosures in intervals, beyond the rounding bound in double.
TEST(UserWeights, TheCatalogueE1CertifiesTheFeaturePerturbation) {
  SamplerOptions so;
  so.d = 3;
  so.C = 2;
  so.N = 6;
  so.seed = 3;
  FuzzCase c{sample_prompt(so), read_model_file(kModels + "perturbed-feature.json"), GroupElement::identity(3, 2, 6)};
  c.g.features = {1, 0, 2};
  const PropertyInfo& e1 = find_property("E1-feature");
  EXPECT_EQ(e1.check(c, "interval:128").kind, CaseVerdict::Kind::failed);
  EXPECT_EQ(e1.check(c, "double").kind, CaseVerdict::Kind::failed);
  c.model = read_model_file(kModels + "equivariant.json");
  EXPECT_EQ(e1.check(c, "interval:128").kind, CaseVerdict::Kind::held);
  EXPECT_EQ(e1.check(c, "double").kind, CaseVerdict::Kind::held);
}

TEST(UserWeights, DenseSizesMustMatch) {
  UserWeightsOptions o;
  o.d = 2;
  o.C = 2;
  o.N = 4;
  EXPECT_THROW(check_user_weights(read_model_file(kModels + "equivariant.json"), o), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert::properties
