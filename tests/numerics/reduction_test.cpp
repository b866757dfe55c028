// E2 and the dense form: the three layer forms are one map.
//  - reduced recursion == full form with kappa = (beta,0,0,0,gamma,0), nu = (alpha,0,0,0,alpha',0):
//    exactly in rationals (linear kernel), to rounding in MPFR (softmax);
//  - dense layer built from M(theta) == full layer, for arbitrary theta and several heads.
#include "numerics/recursion.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

namespace iclcert {
namespace {

using testing::draw;

std::vector<ReducedCoefficients<Rational>> schedule(Xoshiro256& rng, int layers) {
  std::vector<ReducedCoefficients<Rational>> out;
  for (int l = 0; l < layers; ++l)
    out.push_back({draw(rng, -0.5, 0.5), draw(rng, 0, 2), draw(rng, -1, 1), draw(rng, 0, 1)});
  return out;
}

std::pair<Model, Model> reduced_and_full(Kernel k, const std::vector<ReducedCoefficients<Rational>>& s) {
  Model reduced, full;
  reduced.kernel = full.kernel = k;
  for (const auto& c : s) {
    reduced.layers.push_back(ReducedLayer<Rational>{c, std::nullopt});
    full.layers.push_back(testing::full_from_reduced(c));
  }
  return {reduced, full};
}

TEST(Reduction, ReducedEqualsFullExactlyInRationals) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Xoshiro256 rng(seed * 7919);
    auto [reduced, full] = reduced_and_full(Kernel::linear, schedule(rng, 3));
    for (bool probe_is_key : {false, true}) {
      reduced.probe_is_key = full.probe_is_key = probe_is_key;
      Prompt p = testing::sampled(3, 3, 7, seed);
      Trace<Rational> a = run_recursion<Rational>(p, reduced), b = run_recursion<Rational>(p, full);
      for (std::size_t t = 0; t < a.entries.size(); ++t)
        ASSERT_EQ(a.entries[t].state.Z, b.entries[t].state.Z) << "seed " << seed << " t " << t;
    }
  }
}

TEST(Reduction, ReducedEqualsFullToRoundingInMpfr) {
  MpfrPrecision scope(256);
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Xoshiro256 rng(seed * 104729);
    auto [reduced, full] = reduced_and_full(Kernel::softmax, schedule(rng, 4));
    Prompt p = testing::sampled(4, 3, 12, seed);
    Trace<MpfrReal> a = run_recursion<MpfrReal>(p, reduced), b = run_recursion<MpfrReal>(p, full);
    for (std::size_t t = 0; t < a.entries.size(); ++t)
      for (std::size_t k = 0; k < a.entries[t].state.Z.data().size(); ++k) {
        const double diff = ScalarTraits<MpfrReal>::to_double(a.entries[t].state.Z.data()[k] - b.entries[t].state.Z.data()[k]);
        ASSERT_LT(std::abs(diff), 1e-60) << "seed " << seed << " t " << t << " entry " << k;
      }
  }
}

// Probe overrides change the probe row only, and a layer whose overrides equal the
// training coefficients is the plain layer.
TEST(Reduction, ProbeOverridesActOnTheProbeRowOnly) {
  Prompt p = testing::sampled(2, 3, 6, 3);
  ReducedCoefficients<Rational> c{testing::q("1/2"), testing::q("2"), testing::q("1/2"), testing::q("1/2")};
  ReducedCoefficients<Rational> other{testing::q("1"), testing::q("0"), testing::q("1"), testing::q("1")};
  Model same = testing::model_of(Kernel::linear, {ReducedLayer<Rational>{c, c}});
  Model plain = testing::model_of(Kernel::linear, {ReducedLayer<Rational>{c, std::nullopt}});
  Model over = testing::model_of(Kernel::linear, {ReducedLayer<Rational>{c, other}});
  auto a = run_recursion<Rational>(p, same).entries[1].state;
  auto b = run_recursion<Rational>(p, plain).entries[1].state;
  auto o = run_recursion<Rational>(p, over).entries[1].state;
  EXPECT_EQ(a.Z, b.Z);
  for (int j = 0; j < p.N; ++j)
    for (int k = 0; k < p.d + p.C; ++k) EXPECT_EQ(o.Z(j, k), b.Z(j, k));
  bool probe_differs = false;
  for (int k = 0; k < p.d + p.C; ++k) probe_differs = probe_differs || o.Z(p.N, k) != b.Z(p.N, k);
  EXPECT_TRUE(probe_differs);
}

FullLayer<Rational> random_full(Xoshiro256& rng, int heads) {
  FullLayer<Rational> f;
  for (int h = 0; h < heads; ++h) {
    FullHead<Rational> head;
    for (int k = 0; k < 6; ++k) {
      head.score[k] = draw(rng, -0.5, 0.5);
      head.value[k] = draw(rng, -0.5, 0.5);
    }
    f.heads.push_back(head);
  }
  return f;
}

TEST(Reduction, DenseFromMThetaEqualsFullExactly) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    Xoshiro256 rng(seed * 31337);
    const int d = 1 + static_cast<int>(seed % 3), C = 2 + static_cast<int>(seed % 2);
    Prompt p = testing::sampled(d, C, 6, seed);
    FullLayer<Rational> l1 = random_full(rng, 1 + static_cast<int>(seed % 3)), l2 = random_full(rng, 2);
    Model full = testing::model_of(Kernel::linear, {l1, l2});
    Model dense = testing::model_of(Kernel::linear, {testing::dense_from_full(l1, d, C), testing::dense_from_full(l2, d, C)});
    for (auto init : {ProbeLabelInit::zero, ProbeLabelInit::uniform}) {
      full.probe_label_init = dense.probe_label_init = init;
      auto a = run_recursion<Rational>(p, full), b = run_recursion<Rational>(p, dense);
      for (std::size_t t = 0; t < a.entries.size(); ++t) ASSERT_EQ(a.entries[t].state.Z, b.entries[t].state.Z);
    }
  }
}

// The matrix M(theta) itself: its action equals apply_theta on every basis vector.
TEST(Reduction, EquivariantMatrixMatchesStructuredApply) {
  Theta<Rational> th{testing::q("2"), testing::q("-1/3"), testing::q("5"), testing::q("7/2"), testing::q("-1"), testing::q("1/7")};
  const int d = 3, C = 2;
  Matrix<Rational> M = equivariant_matrix(th, d, C);
  for (int e = 0; e < d + C; ++e) {
    std::vector<Rational> z(d + C, 0), out(d + C), dense_out(d + C);
    z[e] = 1;
    apply_theta<Rational>(th, d, C, z, out);
    apply_dense<Rational>(M, z, dense_out);
    EXPECT_EQ(out, dense_out) << "basis vector " << e;
  }
}

}  // namespace
}  // namespace iclcert
