// The double run agrees with MPFR at 512 bits within the documented bound
// (theory/arithmetic.md): |x_double - x_ref| <= kRelBound * max(1, max_j |z_j|) on every
// state entry, over 50 sampled prompts and 8 layers.
#include "numerics/recursion.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

namespace iclcert {
namespace {

// u = 2^-53; an entry after 8 layers depends on ~ L (N+1)(d+C) = 8 * 25 * 7 operations,
// each adding <= u relative error, amplified by at most ~ 1e3 (the layer Jacobians'
// norms with these coefficients): 1.1e-16 * 1400 * 1e3 ~ 1.6e-10.
constexpr double kRelBound = 1.6e-10;

TEST(DoubleVsMpfr, AgreeWithinTheDocumentedBound) {
  MpfrPrecision scope(512);
  double worst = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Xoshiro256 rng(seed * 65537);
    Model m;
    m.kernel = Kernel::softmax;
    for (int l = 0; l < 8; ++l)
      m.layers.push_back(ReducedLayer<Rational>{
          {testing::draw(rng, 0, 0.5), testing::draw(rng, 0, 2), testing::draw(rng, 0, 1), testing::draw(rng, 0, 1)},
          std::nullopt});
    Prompt p = testing::sampled(4, 3, 24, seed);
    Trace<double> fast = run_recursion<double>(p, m);
    Trace<MpfrReal> ref = run_recursion<MpfrReal>(p, m);
    for (std::size_t t = 0; t < fast.entries.size(); ++t) {
      const auto& a = fast.entries[t].state.Z.data();
      const auto& b = ref.entries[t].state.Z.data();
      double scale = 1;
      for (double v : a) scale = std::max(scale, std::abs(v));
      for (std::size_t k = 0; k < a.size(); ++k) {
        const double err = std::abs(a[k] - ScalarTraits<MpfrReal>::to_double(b[k])) / scale;
        worst = std::max(worst, err);
        ASSERT_LE(err, kRelBound) << "seed " << seed << " t " << t << " entry " << k;
      }
    }
  }
  std::printf("largest relative error of double against mpfr:512: %.3g (bound %.3g)\n", worst, kRelBound);
  // A bound far above what happens would be a bound that tests nothing.
  EXPECT_GT(worst, 0.0);
}

}  // namespace
}  // namespace iclcert
