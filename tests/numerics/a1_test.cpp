// Claim A1 (theory/claims.md) on 50 sampled balanced instances in MPFR:
// with beta = 0, gamma > 0, alpha > 0, alpha' >= 0 at every layer the Fisher ratio
// strictly increases at every layer, and the mechanism is the one derived:
// every mu_c - mu is multiplied by k_t = 1 + alpha_t (E_t - 1)/(E_t + C - 1),
// E_t = exp(gamma_t a_t^2), with a_{t+1} = a_t (1 + alpha'_t (E_t - 1)/(E_t + C - 1)).
#include "numerics/recursion.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

namespace iclcert {
namespace {

using Tr = ScalarTraits<MpfrReal>;

MpfrReal class_mean_offset(const State<MpfrReal>& s, const Prompt& p, int c, int k) {
  MpfrReal mu_c = from_int<MpfrReal>(0), mu = from_int<MpfrReal>(0);
  for (int i = 0; i < p.N; ++i) {
    mu = mu + s.Z(i, k);
    if (p.labels[i] == c) mu_c = mu_c + s.Z(i, k);
  }
  return mu_c / from_int<MpfrReal>(p.N / p.C) - mu / from_int<MpfrReal>(p.N);
}

TEST(A1, FisherStrictlyIncreasesOnBalancedInstances) {
  MpfrPrecision scope(256);
  const int instances = testing::scaled(50);
  for (int n = 0; n < instances; ++n) {
    const int C = 2 + n % 3, d = 2 + n % 3, N = C * (2 + n % 4);
    // A task can leave a class with an empty or tiny region (its w_c inside the hull
    // of the others), so that no balanced prompt exists: move on to the next seed.
    std::uint64_t seed = 1000 + n;
    Prompt p;
    for (;; seed += 100000) {
      try {
        p = testing::sampled(d, C, N, seed, /*balanced=*/true);
        break;
      } catch (const std::invalid_argument&) {
      }
    }
    Xoshiro256 rng(seed);
    Model m;
    m.kernel = Kernel::softmax;
    std::vector<ReducedCoefficients<Rational>> coeffs;
    for (int l = 0; l < 6; ++l) {
      coeffs.push_back({0, testing::draw(rng, 0.1, 2), testing::draw(rng, 0.05, 1), testing::draw(rng, 0, 1)});
      m.layers.push_back(ReducedLayer<Rational>{coeffs.back(), std::nullopt});
    }
    Trace<MpfrReal> trace = run_recursion<MpfrReal>(p, m);

    MpfrReal a = from_int<MpfrReal>(1);  // label scale a_0 (one-hot labels)
    for (int t = 0; t + 1 < static_cast<int>(trace.entries.size()); ++t) {
      const auto& before = trace.entries[t];
      const auto& after = trace.entries[t + 1];
      ASSERT_EQ(before.metrics.fisher.kind, Ratio<MpfrReal>::Kind::finite) << "seed " << seed;
      ASSERT_EQ(after.metrics.fisher.kind, Ratio<MpfrReal>::Kind::finite) << "seed " << seed;
      const MpfrReal growth = after.metrics.fisher.value - before.metrics.fisher.value;
      // Strict increase, by far more than the rounding of 256-bit arithmetic.
      ASSERT_GT(Tr::to_double(growth / before.metrics.fisher.value), 1e-40)
          << "seed " << seed << " layer " << t + 1 << ": F " << Tr::to_string(before.metrics.fisher.value) << " -> "
          << Tr::to_string(after.metrics.fisher.value);

      // The predicted scaling of every class-mean offset.
      const MpfrReal E = Tr::exp(from_rational<MpfrReal>(coeffs[t].gamma) * a * a);
      const MpfrReal share = (E - from_int<MpfrReal>(1)) / (E + from_int<MpfrReal>(C - 1));
      const MpfrReal k = from_int<MpfrReal>(1) + from_rational<MpfrReal>(coeffs[t].alpha) * share;
      for (int c = 0; c < C; ++c)
        for (int f = 0; f < d; ++f) {
          const MpfrReal predicted = class_mean_offset(before.state, p, c, f) * k;
          const MpfrReal actual = class_mean_offset(after.state, p, c, f);
          ASSERT_LT(std::abs(Tr::to_double(predicted - actual)), 1e-60) << "seed " << seed << " class " << c;
        }
      a = a * (from_int<MpfrReal>(1) + from_rational<MpfrReal>(coeffs[t].alpha_label) * share);
      // The label state keeps the form a e_c + b 1: check a against a training row.
      const auto y = after.state.y(0);
      const int c0 = p.labels[0];
      const MpfrReal measured_a = y[c0] - y[(c0 + 1) % C];
      ASSERT_LT(std::abs(Tr::to_double(measured_a - a)), 1e-60) << "seed " << seed;
    }
  }
}

// The hypotheses matter: with a beta-dominated layer and unbalanced classes the
// Fisher ratio can fall, so the test above is not passing vacuously.
TEST(A1, FisherCanFallOutsideTheHypotheses) {
  MpfrPrecision scope(256);
  int falls = 0;
  for (std::uint64_t seed = 1; seed <= 40 && falls == 0; ++seed) {
    Prompt p = testing::sampled(2, 3, 9, seed);
    Model m = testing::model_of(Kernel::softmax, {testing::reduced("4", "0", "-1/2", "0")});
    Trace<MpfrReal> t = run_recursion<MpfrReal>(p, m);
    if (t.entries[1].metrics.fisher.kind == Ratio<MpfrReal>::Kind::finite &&
        Tr::to_double(t.entries[1].metrics.fisher.value - t.entries[0].metrics.fisher.value) < 0)
      ++falls;
  }
  EXPECT_GT(falls, 0);
}

}  // namespace
}  // namespace iclcert
