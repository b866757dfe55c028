// Affine forms and second-order Taylor models over a box (numerics/affine.hpp)
// enclose what they compute. Random expressions (+ - * /, exp, max, min, softmax)
// and a softmax attention row through attend(), whose Taylor-form enclosure is
// its own (ScalarTraits<TaylorForm>::softmax_attend), in 1 or 2 box coordinates
// are evaluated twice: once as a TaylorForm over the
// whole box (Arb at 128 bits), once at sampled points of the box in MPFR at 512
// bits (no enclosure). At every point the form, read at that point
// (c + sum a_m e^m + R, in Arb), and its range contain the MPFR value, taken as an
// exact rational (its error, about 2^-500 relative, is far below Arb's outward
// rounding at 128 bits). The checker fails on a planted fault: the same forms with
// their remainders dropped.
#include "numerics/affine.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <random>

namespace iclcert {
namespace {

static_assert(Scalar<Affine<ArbBall>>);
static_assert(Scalar<Taylor2<ArbBall>>);
static_assert(Scalar<Taylor3<ArbBall>>);

constexpr std::uint64_t kSeed = 20261207;
constexpr int kExpressions = 150, kPoints = 12;

using Tr = ScalarTraits<ArbBall>;

Rational exact_value(const MpfrReal& x) {
  Rational r;
  mpfr_get_q(r.backend().data(), x.get());
  return r;
}

// A random expression over the box coordinates x_0..x_{n-1}.
struct Node {
  enum Op { var, constant, add, sub, mul, div, exp, max, min, softmax, attention } op;
  int k = 0;     // var: the coordinate; softmax: which weight; attention: the output (0) or a weight (1, 2, 3)
  Rational c;    // constant
  std::vector<std::unique_ptr<Node>> kids;
};

std::unique_ptr<Node> random_node(std::mt19937_64& rng, int n, int depth) {
  auto node = std::make_unique<Node>();
  const int choice = depth == 0 ? static_cast<int>(rng() % 2) : static_cast<int>(rng() % 11);
  node->op = static_cast<Node::Op>(choice);
  if (node->op == Node::var) node->k = static_cast<int>(rng() % static_cast<unsigned>(n));
  if (node->op == Node::constant) node->c = Rational(static_cast<long>(rng() % 41) - 20, 8);
  const int kids = node->op <= Node::constant ? 0
                   : node->op == Node::exp     ? 1
                   : node->op == Node::softmax ? 3
                   : node->op == Node::attention ? 4
                                                 : 2;
  for (int i = 0; i < kids; ++i) node->kids.push_back(random_node(rng, n, depth - 1));
  if (node->op == Node::softmax) node->k = static_cast<int>(rng() % 3);
  if (node->op == Node::attention) node->k = static_cast<int>(rng() % 4);
  return node;
}

// The expression in S at x. Division is by 1 + b^2 (never 0), exp of a / 4.
template <class S>
S eval(const Node& e, const std::vector<S>& x) {
  using ST = ScalarTraits<S>;
  auto kid = [&](int i) { return eval<S>(*e.kids[static_cast<std::size_t>(i)], x); };
  switch (e.op) {
    case Node::var: return x[static_cast<std::size_t>(e.k)];
    case Node::constant: return from_rational<S>(e.c);
    case Node::add: return kid(0) + kid(1);
    case Node::sub: return kid(0) - kid(1);
    case Node::mul: return kid(0) * kid(1);
    case Node::div: {
      const S b = kid(1);
      return kid(0) / (from_int<S>(1) + b * b);
    }
    case Node::exp: return ST::exp(kid(0) / from_int<S>(4));
    case Node::max: return ST::max(kid(0), kid(1));
    case Node::min: return ST::min(kid(0), kid(1));
    case Node::softmax: {
      const std::vector<S> s{kid(0), kid(1), kid(2)};
      return softmax_weights<S>(std::span<const S>(s))[static_cast<std::size_t>(e.k)];
    }
    case Node::attention: {
      // One query (1) against three keys with scores kid 0, kid 1 and 0 and values
      // kid 2, kid 3 and 1/2: the output or one weight of the row.
      Matrix<S> Q(1, 1, from_int<S>(1)), K(3, 1, from_int<S>(0)), V(3, 1, from_rational<S>(Rational(1, 2))), A;
      K(0, 0) = kid(0), K(1, 0) = kid(1), V(0, 0) = kid(2), V(1, 0) = kid(3);
      const Matrix<S> out = attend<S>(Q, K, V, Kernel::softmax, A);
      return e.k == 0 ? out(0, 0) : A(0, static_cast<std::size_t>(e.k - 1));
    }
  }
  return from_int<S>(0);
}

// The form read at e (each e_k in [-1, 1]): c + sum a_m e^m + R, in Arb.
template <int Order>
ArbBall at_point(const TaylorForm<ArbBall, Order>& f, const std::vector<Rational>& e) {
  const auto& table = affine_detail::monomials();
  ArbBall v = f.centre();
  for (int m : affine_detail::active(f.dims, Order)) {
    if (m == 0) continue;
    ArbBall term = f.coef[static_cast<std::size_t>(m)];
    for (int k = 0; k < f.dims; ++k)
      for (int p = 0; p < table[static_cast<std::size_t>(m)][static_cast<std::size_t>(k)]; ++p)
        term *= from_rational<ArbBall>(e[static_cast<std::size_t>(k)]);
    v += term;
  }
  if (!f.exact_rem) v += f.rem;
  return v;
}

struct Outcome {
  int points = 0, misses = 0;
  int sharper = 0;  // forms whose monotone_range() is narrower than range()
  double width = 0;  // the sum of the forms' range widths (finite ones)
};

// Every expression's form contains the MPFR value at every sampled point; with
// `drop_remainder`, the forms are checked without their remainders (the fault).
template <int Order>
Outcome check_expressions(int n, bool drop_remainder) {
  std::mt19937_64 rng(kSeed + static_cast<std::uint64_t>(n * 10 + Order));
  Outcome out;
  for (int i = 0; i < kExpressions; ++i) {
    const auto e = random_node(rng, n, 4);
    std::vector<Rational> lo, hi;
    std::vector<TaylorForm<ArbBall, Order>> x;
    for (int k = 0; k < n; ++k) {
      lo.push_back(Rational(static_cast<long>(rng() % 33) - 16, 8));
      hi.push_back(lo.back() + Rational(static_cast<long>(rng() % 8) + 1, 16));
      x.push_back(TaylorForm<ArbBall, Order>::variable(from_rational<ArbBall>((lo[k] + hi[k]) / 2),
                                                       from_rational<ArbBall>((hi[k] - lo[k]) / 2), k));
    }
    TaylorForm<ArbBall, Order> f;
    {
      WorkingPrecision bits(128);
      f = eval(*e, x);
    }
    if (drop_remainder) f.exact_rem = true;
    const ArbBall range = f.range(), monotone = f.monotone_range();
    if (Tr::width(range) < INFINITY) out.width += Tr::width(range);
    out.sharper += Tr::width(monotone) < Tr::width(range);
    for (int p = 0; p < kPoints; ++p) {
      std::vector<Rational> eps, point;
      for (int k = 0; k < n; ++k) {
        eps.push_back(Rational(static_cast<long>(rng() % 2049) - 1024, 1024));
        point.push_back((lo[k] + hi[k]) / 2 + eps.back() * (hi[k] - lo[k]) / 2);
      }
      Rational truth;
      {
        WorkingPrecision bits(512);
        std::vector<MpfrReal> xs;
        for (const Rational& q : point) xs.push_back(from_rational<MpfrReal>(q));
        truth = exact_value(eval(*e, xs));
      }
      ArbBall here;
      {
        WorkingPrecision bits(128);
        here = at_point(f, eps);
      }
      ++out.points;
      if (!Tr::contains(here, truth) || !Tr::contains(range, truth) || !Tr::contains(monotone, truth)) ++out.misses;
    }
  }
  return out;
}

template <int Order>
void expect_enclosures(int n) {
  const Outcome ok = check_expressions<Order>(n, false);
  std::printf("seed %llu, order %d, %d coordinates: %d points, %d misses; monotone_range sharper on %d forms\n",
              static_cast<unsigned long long>(kSeed), Order, n, ok.points, ok.misses, ok.sharper);
  EXPECT_EQ(ok.points, kExpressions * kPoints);
  EXPECT_EQ(ok.misses, 0);
  EXPECT_GT(ok.sharper, 0);
  // The planted fault: without remainders some value escapes its form.
  const Outcome fault = check_expressions<Order>(n, true);
  std::printf("  remainders dropped: %d misses\n", fault.misses);
  EXPECT_GT(fault.misses, 0);
}

TEST(AffineEnclosure, AffineFormsOfRandomExpressionsContainTheMpfrValuesInOneCoordinate) { expect_enclosures<1>(1); }
TEST(AffineEnclosure, AffineFormsOfRandomExpressionsContainTheMpfrValuesInTwoCoordinates) { expect_enclosures<1>(2); }
TEST(AffineEnclosure, SecondOrderFormsOfRandomExpressionsContainTheMpfrValuesInOneCoordinate) { expect_enclosures<2>(1); }
TEST(AffineEnclosure, SecondOrderFormsOfRandomExpressionsContainTheMpfrValuesInTwoCoordinates) { expect_enclosures<2>(2); }
TEST(AffineEnclosure, ThirdOrderFormsOfRandomExpressionsContainTheMpfrValuesInOneCoordinate) { expect_enclosures<3>(1); }
TEST(AffineEnclosure, ThirdOrderFormsOfRandomExpressionsContainTheMpfrValuesInTwoCoordinates) { expect_enclosures<3>(2); }
TEST(AffineEnclosure, ThirdOrderFormsOfRandomExpressionsContainTheMpfrValuesInThreeCoordinates) { expect_enclosures<3>(3); }

// What the forms keep: x - x is exactly 0; (x + 1)^2 - x^2 - 2x is 1 to rounding in
// the second-order form (its quadratic parts cancel) and within h^2 in the affine one.
TEST(AffineEnclosure, CorrelationsCancel) {
  WorkingPrecision bits(128);
  const ArbBall mid = from_rational<ArbBall>(Rational(3, 2)), half = from_rational<ArbBall>(Rational(1, 4));
  const Affine<ArbBall> a = Affine<ArbBall>::variable(mid, half, 0);
  EXPECT_TRUE(Tr::certainly_zero((a - a).range()));
  const Taylor2<ArbBall> x = Taylor2<ArbBall>::variable(mid, half, 0);
  const Taylor2<ArbBall> one = from_int<Taylor2<ArbBall>>(1), two = from_int<Taylor2<ArbBall>>(2);
  const ArbBall q2 = ((x + one) * (x + one) - x * x - two * x).range();
  EXPECT_TRUE(Tr::contains(q2, Rational(1)));
  EXPECT_LT(Tr::width(q2), 1e-30);
  const Affine<ArbBall> one1 = from_int<Affine<ArbBall>>(1), two1 = from_int<Affine<ArbBall>>(2);
  const ArbBall q1 = ((a + one1) * (a + one1) - a * a - two1 * a).range();
  EXPECT_TRUE(Tr::contains(q1, Rational(1)));
  EXPECT_LT(Tr::width(q1), 0.13);  // x^2 - x^2: two remainders of h^2 = 1/16 each (and rounding)
  // Plain intervals lose all of it: [5/4, 7/4] gives width 3 for the same expression.
  const ArbBall X = Tr::hull(from_rational<ArbBall>(Rational(5, 4)), from_rational<ArbBall>(Rational(7, 4)));
  EXPECT_GT(Tr::width((X + from_int<ArbBall>(1)) * (X + from_int<ArbBall>(1)) - X * X - from_int<ArbBall>(2) * X), 2.9);
}

// The monotonicity test on the polynomial part: (x - 1)^2 over x in [3/2, 2] grows,
// so its range is P's values at the ends, [1/4, 1]; range() alone gives [3/16, 1].
// In two coordinates, y (x - 1)^2 over y in [-1, 1] is monotone in x only where
// y's sign is known, so only the x-face can be fixed there: no tighter than range().
TEST(AffineEnclosure, MonotoneRangeTakesTheEndsWhereTheSlopeHasOneSign) {
  WorkingPrecision bits(128);
  const Taylor2<ArbBall> x =
      Taylor2<ArbBall>::variable(from_rational<ArbBall>(Rational(7, 4)), from_rational<ArbBall>(Rational(1, 4)), 0);
  const Taylor2<ArbBall> one = from_int<Taylor2<ArbBall>>(1);
  const Taylor2<ArbBall> f = (x - one) * (x - one);
  EXPECT_TRUE(Tr::contains(f.range(), Rational(3, 16)));
  const ArbBall m = f.monotone_range();
  EXPECT_TRUE(Tr::contains(m, Rational(1, 4)));
  EXPECT_TRUE(Tr::contains(m, Rational(1)));
  EXPECT_GT(Tr::lower(m), Rational(1, 4) - Rational(1, 1000000));  // range(): 3/16
  EXPECT_TRUE(Tr::certainly_positive(f.slope(0)));
  // x^2 - x over x in [0, 1] (e in [-1, 1]): not monotone, the range() alone.
  const Taylor2<ArbBall> u =
      Taylor2<ArbBall>::variable(from_rational<ArbBall>(Rational(1, 2)), from_rational<ArbBall>(Rational(1, 2)), 0);
  const Taylor2<ArbBall> g = u * u - u;
  EXPECT_FALSE(certainly_nonnegative(g.slope(0)) || certainly_nonpositive(g.slope(0)));
  EXPECT_EQ(Tr::lower(g.monotone_range()), Tr::lower(g.range()));
  // Two coordinates, f + y with y in [-1, 1]: monotone in both, fixed on both.
  const Taylor2<ArbBall> y = Taylor2<ArbBall>::variable(from_int<ArbBall>(0), from_int<ArbBall>(1), 1);
  const ArbBall both = (f + y).monotone_range();
  EXPECT_TRUE(Tr::contains(both, Rational(-3, 4)));
  EXPECT_TRUE(Tr::contains(both, Rational(2)));
  EXPECT_GT(Tr::lower(both), Rational(-3, 4) - Rational(1, 1000000));  // range(): -13/16
}

// exp and 1/u: the form over [1, 2] is within the Taylor remainder of the true range.
TEST(AffineEnclosure, ExpAndReciprocalAreTight) {
  WorkingPrecision bits(128);
  const Taylor2<ArbBall> x =
      Taylor2<ArbBall>::variable(from_rational<ArbBall>(Rational(3, 2)), from_rational<ArbBall>(Rational(1, 2)), 0);
  const ArbBall e = Taylor2<ArbBall>::exp(x).range();
  EXPECT_TRUE(Tr::contains(e, Rational(2718, 1000)));
  EXPECT_TRUE(Tr::contains(e, Rational(7389, 1000)));
  EXPECT_LT(Tr::width(e), 5.4);  // [2.09, 7.43]: e^1.5 (1 + d + d^2/2) and the cubic remainder
  const ArbBall r = (from_int<Taylor2<ArbBall>>(1) / x).range();
  EXPECT_TRUE(Tr::contains(r, Rational(1, 2)));
  EXPECT_TRUE(Tr::contains(r, Rational(1)));
  EXPECT_LT(Tr::width(r), 0.5 + 0.1);
  // A denominator that may vanish: not finite, never a wrong finite enclosure.
  const Taylor2<ArbBall> y = x - from_int<Taylor2<ArbBall>>(1);
  EXPECT_EQ(ScalarTraits<Taylor2<ArbBall>>::sign(y), Sign::unknown);
  EXPECT_FALSE(Tr::width((from_int<Taylor2<ArbBall>>(1) / y).range()) < INFINITY);
}

// What softmax_attend buys: values that share a large offset (100 + small) under
// weights with remainders. The plain combination sum_i w_i v_i meets every weight's
// remainder with |v_i| ~ 100; the row's own enclosure, c + (sum_i e_i (v_i - c)) / S,
// with the values' spread around c. Both contain the values at sampled points (the
// random test above); here the widths.
TEST(AffineEnclosure, AttentionRowsMeetRemaindersWithTheValuesSpread) {
  WorkingPrecision bits(128);
  using F = Taylor2<ArbBall>;
  const F x = F::variable(from_rational<ArbBall>(Rational(1)), from_rational<ArbBall>(Rational(1, 4)), 0);
  Matrix<F> Q(1, 1, from_int<F>(1)), K(4, 1), V(4, 1), A;
  for (int i = 0; i < 4; ++i) {
    K(i, 0) = F::exp(x * from_rational<F>(Rational(i, 4)));  // scores with remainders
    V(i, 0) = from_int<F>(100) + x * from_rational<F>(Rational(i, 8));
  }
  const ArbBall row = attend<F>(Q, K, V, Kernel::softmax, A)(0, 0).range();
  std::vector<F> scores;
  for (int i = 0; i < 4; ++i) scores.push_back(K(i, 0));
  const std::vector<F> w = ScalarTraits<F>::softmax(std::span<const F>(scores));
  F plain = from_int<F>(0);
  for (int i = 0; i < 4; ++i) plain += w[static_cast<std::size_t>(i)] * V(i, 0);
  std::printf("attention row width %.3g, plain combination %.3g\n", Tr::width(row), Tr::width(plain.range()));
  EXPECT_GT(Tr::lower(row), Rational(99));  // a convex combination of values in [100, 100.47]
  EXPECT_LT(Tr::upper(row), Rational(102));
  EXPECT_LT(Tr::width(row) * 20, Tr::width(plain.range()));
  // The weights it reports sum to 1 (to their remainders).
  F sum = from_int<F>(0);
  for (int i = 0; i < 4; ++i) sum += A(0, static_cast<std::size_t>(i));
  EXPECT_TRUE(Tr::contains(sum.range(), Rational(1)));
  EXPECT_LT(Tr::width(sum.range()), 0.1);
}

}  // namespace
}  // namespace iclcert
