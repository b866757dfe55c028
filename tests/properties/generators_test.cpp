// The generators stay in their ranges, produce what their names say, and shrink
// toward simple values.
#include "numerics/sampler.hpp"
#include "properties/generators.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace iclcert::properties {
namespace {

RC_GTEST_PROP(Generators, RangedRationalsAndDyadicsStayInRange, ()) {
  const Rational q = *ranged_rational(Rational(-3, 7), Rational(5, 2));
  RC_ASSERT(q >= Rational(-3, 7));
  RC_ASSERT(q <= Rational(5, 2));
  const Rational p = *ranged_rational(Rational(1, 1000), 2);  // 0 not in range: target the lower end
  RC_ASSERT(p >= Rational(1, 1000));
  const double x = *ranged_dyadic(-1e-8, 3e8);
  RC_ASSERT(x >= -1e-8);
  RC_ASSERT(x <= 3e8);
}

RC_GTEST_PROP(Generators, PermutationsAndPromptsAreValid, ()) {
  const int n = *rc::gen::inRange(1, 9);
  RC_ASSERT(is_permutation(*permutation(n), n));
  const Prompt p = *prompt(PromptSpec{});
  RC_ASSERT(p.X.rows() == static_cast<std::size_t>(p.N));
  RC_ASSERT(static_cast<int>(p.probe.size()) == p.d);
  for (int c : p.labels) RC_ASSERT(c >= 0 && c < p.C);
  PromptSpec balanced;
  balanced.balanced = true;
  const Prompt b = *prompt(balanced);
  for (int n_c : b.class_sizes()) RC_ASSERT(n_c == b.N / b.C);
}

// The value a failing property shrinks to, through the same runner path.
template <class T, class Pred>
T shrunk(const rc::Gen<T>& gen, Pred fails) {
  T last{};
  rc::detail::TestParams params;
  params.seed = 5;
  params.maxSuccess = 500;
  rc::detail::checkProperty(rc::detail::toProperty([&] {
                              const T v = *gen;
                              if (fails(v)) {
                                last = v;
                                RC_FAIL("fails");
                              }
                            }),
                            rc::detail::TestMetadata{}, params);
  return last;
}

TEST(Generators, ShrinkTowardSimpleValues) {
  // Values > 1/3 fail: denominators shrink to 1 first, then the offset, so the
  // shrunk value is the smallest failing integer.
  EXPECT_EQ(shrunk(ranged_rational(-4, 4), [](const Rational& q) { return q > Rational(1, 3); }), 1);
  // A case drawn on a fine grid may not reach an integer (changing the denominator
  // redraws the offset), but shrinks to just past the boundary.
  const Rational below = shrunk(ranged_rational(-4, 4), [](const Rational& q) { return q < -2; });
  EXPECT_LT(below, -2);
  EXPECT_GE(below, Rational(-5, 2));
  EXPECT_EQ(shrunk(ranged_dyadic(-4, 4), [](double x) { return x > 0.3; }), 1.0);
  // 0 out of range: the target is the lower end, 1e-8.
  EXPECT_EQ(shrunk(ranged_dyadic(1e-8, 1e8), [](double x) { return x > 1000; }),
            nearest_double(rational_from_double(1e-8) + 1000));
  // Any non-identity permutation of 4 fails: a transposition of neighbours is minimal.
  const Permutation p = shrunk(permutation(4), [](const Permutation& p) { return !is_identity(p); });
  int moved = 0, first = -1;
  for (int i = 0; i < 4; ++i)
    if (p[i] != i) {
      ++moved;
      if (first < 0) first = i;
    }
  EXPECT_EQ(moved, 2);
  EXPECT_EQ(p[first], first + 1);
}

TEST(Generators, MagnitudesReachBothEnds) {
  // One scale 10^e per prompt, e in -8..8: both ends appear among 400 prompts.
  bool tiny = false, huge = false;
  const auto gen = prompt(PromptSpec{});
  for (int s = 0; s < 400; ++s) {
    const Prompt p = gen(rc::Random(s), 50).value();
    for (const auto& v : p.X.data()) {
      if (v != 0 && abs(v) < Rational(1, 10000000)) tiny = true;
      if (abs(v) > 10000000) huge = true;
    }
  }
  EXPECT_TRUE(tiny);
  EXPECT_TRUE(huge);
}

}  // namespace
}  // namespace iclcert::properties
