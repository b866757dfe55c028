// The softmax enclosure of theory/softmax_enclosure.md and the endpoint/decision
// API of numerics/rigorous.hpp, for both interval backends.
#include "io/trace_io.hpp"
#include "numerics/attention.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/interval_mpfi.hpp"
#include "numerics/rigorous.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace iclcert {
namespace {

Rational q(const char* text) { return parse_rational(text); }
Rational pow2(long k) { return k >= 0 ? Rational(boost::multiprecision::mpz_int(1) << k)
                                      : Rational(1, boost::multiprecision::mpz_int(1) << -k); }

template <class I>
std::vector<I> enclose(const std::vector<Rational>& values) {
  std::vector<I> out;
  for (const Rational& v : values) out.push_back(ScalarTraits<I>::from_rational(v));
  return out;
}

// softmax(scores) at `bits`, with the reference 1 / sum_k exp(s_k - s_i) computed
// in MPFR at 4 * bits from the exact differences.
template <class I>
void expect_softmax_encloses(const std::vector<Rational>& scores, long bits) {
  using Tr = ScalarTraits<I>;
  WorkingPrecision scope(bits);
  const std::vector<I> in = enclose<I>(scores);
  const std::vector<I> w = softmax_weights<I>(std::span<const I>(in));
  ASSERT_EQ(w.size(), scores.size());
  I sum = from_int<I>(0);
  for (std::size_t i = 0; i < w.size(); ++i) {
    WorkingPrecision ref_scope(4 * bits);
    MpfrReal denom = from_int<MpfrReal>(0);
    for (const Rational& s : scores) denom += ScalarTraits<MpfrReal>::exp(from_rational<MpfrReal>(s - scores[i]));
    const MpfrReal ref = from_int<MpfrReal>(1) / denom;
    Rational ref_q;
    mpfr_get_q(ref_q.backend().data(), ref.get());
    EXPECT_TRUE(std::isfinite(Tr::width(w[i]))) << Tr::name << " weight " << i;
    EXPECT_GE(Tr::lower(w[i]), 0);
    EXPECT_LE(Tr::upper(w[i]), 1);
    // A reference that underflowed to 0 is not a value to test against (the true
    // weight is positive); the true weight is then below 2^-100.
    if (ref_q != 0) EXPECT_TRUE(Tr::contains(w[i], ref_q)) << Tr::name << " weight " << i << " " << Tr::to_string(w[i]);
    else EXPECT_LE(Tr::upper(w[i]), pow2(-100)) << Tr::name << " weight " << i;
    sum += w[i];
  }
  EXPECT_TRUE(Tr::contains(sum, 1)) << Tr::name << " row sum " << Tr::to_string(sum);
}

template <class I>
void softmax_suite() {
  using Tr = ScalarTraits<I>;
  // Moderate scores: tight, and equal scores give 1/n.
  expect_softmax_encloses<I>({q("0"), q("1"), q("-3"), q("5/2")}, 64);
  expect_softmax_encloses<I>({q("0"), q("1"), q("-3"), q("5/2")}, 128);
  {
    WorkingPrecision scope(128);
    const std::vector<I> s = enclose<I>({q("7/3"), q("7/3"), q("7/3")});
    const std::vector<I> w = softmax_weights<I>(std::span<const I>(s));
    for (const I& v : w) {
      EXPECT_TRUE(Tr::contains(v, Rational(1, 3)));
      EXPECT_LT(Tr::width(v), 1e-30);
    }
  }
  // Exactly equal scores: every term is exp(0) = 1 exactly, so the sums are exact
  // and only the rounding of 1/n keeps 1/n inside. At an even precision, 1/3 to
  // nearest rounds up: the lower bound must be rounded down (docs/mutation.md).
  for (long bits : {64L, 65L, 128L, 129L})
    for (std::size_t n : {3u, 5u, 7u}) {
      WorkingPrecision scope(bits);
      const std::vector<I> s = enclose<I>(std::vector<Rational>(n, Rational(0)));
      const std::vector<I> w = softmax_weights<I>(std::span<const I>(s));
      for (const I& v : w)
        EXPECT_TRUE(Tr::contains(v, Rational(1, static_cast<long>(n)))) << Tr::name << " " << bits << " bits, n = " << n
                                                                       << ": " << Tr::to_string(v);
    }
  // Gaps of 1e11 and 1e300: finite enclosures of weights ~1 and ~0.
  for (const char* big : {"1e11", "1e300"}) {
    expect_softmax_encloses<I>({q(big), q("0"), -q(big), q(big) - 5}, 128);
    WorkingPrecision scope(128);
    const std::vector<I> s = enclose<I>({q(big), q("0"), -q(big)});
    const std::vector<I> w = softmax_weights<I>(std::span<const I>(s));
    // The top weight is 1 - (something below 2^-1000): in [1 - 2^-100, 1), never claimed = 1.
    EXPECT_GE(Tr::lower(w[0]), 1 - pow2(-100)) << big << " " << Tr::to_string(w[0]);
    EXPECT_LT(Tr::lower(w[0]), 1) << big;
    for (int i : {1, 2}) {
      EXPECT_GE(Tr::lower(w[i]), 0) << big;
      EXPECT_GT(Tr::upper(w[i]), 0) << big << ": the true weight is positive";
      EXPECT_LE(Tr::upper(w[i]), pow2(-100)) << big << " " << i << " " << Tr::to_string(w[i]);
      EXPECT_FALSE(Tr::certainly_zero(w[i]));
    }
    std::printf("%s, gap %s: w = %s, %s, %s\n", Tr::name, big, Tr::to_string(w[0]).c_str(),
                Tr::to_string(w[1]).c_str(), Tr::to_string(w[2]).c_str());
  }
}

TEST(IntervalSoftmax, ArbEnclosesIncludingHugeGaps) { softmax_suite<ArbBall>(); }
TEST(IntervalSoftmax, MpfiEnclosesIncludingHugeGaps) { softmax_suite<MpfiInterval>(); }

// Endpoints are exact: the endpoint itself is in, anything beyond it is out; the
// decimal strings are outward; decisions are certain.
template <class I>
void endpoint_suite() {
  using Tr = ScalarTraits<I>;
  WorkingPrecision scope(64);
  const I third = Tr::from_rational(Rational(1, 3));
  const Rational lo = Tr::lower(third), hi = Tr::upper(third);
  EXPECT_LT(lo, Rational(1, 3));
  EXPECT_GT(hi, Rational(1, 3));
  EXPECT_TRUE(Tr::contains(third, lo));
  EXPECT_TRUE(Tr::contains(third, hi));
  EXPECT_FALSE(Tr::contains(third, lo - pow2(-400)));
  EXPECT_FALSE(Tr::contains(third, hi + pow2(-400)));
  EXPECT_LE(parse_rational(Tr::lower_string(third)), lo);
  EXPECT_GE(parse_rational(Tr::upper_string(third)), hi);
  EXPECT_GE(Tr::width(third), std::ldexp(1.0, -70));
  EXPECT_LE(Tr::width(third), std::ldexp(1.0, -60));
  EXPECT_GE(Tr::lower_string(third).size(), 20u);  // ~ 64 bits of digits

  const I minus_one = Tr::from_rational(-1), one = Tr::from_rational(1);
  const I straddle = Tr::hull(minus_one, one);
  EXPECT_EQ(Tr::sign(straddle), Sign::unknown);
  // An enclosure with a positive midpoint that reaches below 0 is not certainly
  // positive (nor nonnegative): the lower end decides, never the midpoint.
  const I mostly_positive = Tr::hull(minus_one, Tr::from_rational(3));
  EXPECT_FALSE(Tr::certainly_positive(mostly_positive));
  EXPECT_FALSE(certainly_nonnegative(mostly_positive));
  EXPECT_FALSE(Tr::certainly_negative(-mostly_positive));
  // Endpoints with more bits than the digits printed (an Arb ball 1 +- 2^-200 at
  // 64 bits): the decimal text still rounds outward, never to the nearest decimal.
  const I near_one = one + Tr::hull(Tr::from_rational(-pow2(-200)), Tr::from_rational(pow2(-200)));
  EXPECT_LE(parse_rational(Tr::lower_string(near_one)), Tr::lower(near_one)) << Tr::lower_string(near_one);
  EXPECT_GE(parse_rational(Tr::upper_string(near_one)), Tr::upper(near_one)) << Tr::upper_string(near_one);
  EXPECT_EQ(Tr::sign(third), Sign::positive);
  EXPECT_EQ(Tr::sign(-third), Sign::negative);
  EXPECT_EQ(Tr::sign(from_int<I>(0)), Sign::zero);
  EXPECT_TRUE(Tr::certainly_zero(from_int<I>(0)));
  EXPECT_TRUE(certainly_less(minus_one, third));
  EXPECT_TRUE(certainly_greater(one, third));
  EXPECT_FALSE(certainly_less(straddle, third));
  EXPECT_TRUE(possibly_less(straddle, third));
  EXPECT_FALSE(possibly_less(one, minus_one));
  EXPECT_TRUE(certainly_greater_or_equal(one, one));
  // max/min enclose max/min over all points: [-1, 1] vs 1/3 gives [1/3, 1] and [-1, 1/3].
  const I mx = Tr::max(straddle, third), mn = Tr::min(straddle, third);
  EXPECT_TRUE(Tr::contains(mx, 1) && Tr::contains(mx, Rational(1, 3)) && !Tr::contains(mx, 0));
  EXPECT_TRUE(Tr::contains(mn, -1) && Tr::contains(mn, Rational(1, 3)) && !Tr::contains(mn, Rational(1, 2)));
  // shift_point is one point of x, of width 0.
  const I mid = Tr::shift_point(straddle);
  EXPECT_EQ(Tr::width(mid), 0.0);
  EXPECT_TRUE(Tr::contains(straddle, Tr::lower(mid)));
  // intersect of enclosures of one value; disjoint ones are an error.
  EXPECT_TRUE(Tr::contains(Tr::intersect(straddle, third), Rational(1, 3)));
  EXPECT_THROW(Tr::intersect(one, minus_one), std::logic_error);
  // Division by an enclosure of 0 gives an unbounded enclosure, never a wrong one.
  const I unbounded = one / straddle;
  EXPECT_EQ(Tr::sign(unbounded), Sign::unknown);
  EXPECT_EQ(Tr::upper_string(unbounded), "+inf");
  EXPECT_THROW(Tr::upper(unbounded), std::domain_error);
  // Trace JSON: ["lo", "hi"].
  const Json j = scalar_json(third);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j[0], Tr::lower_string(third));
  EXPECT_EQ(j[1], Tr::upper_string(third));
}

TEST(IntervalApi, ArbEndpointsAndDecisions) { endpoint_suite<ArbBall>(); }
TEST(IntervalApi, MpfiEndpointsAndDecisions) { endpoint_suite<MpfiInterval>(); }

TEST(IntervalApi, RationalIsADegenerateEnclosure) {
  using Tr = ScalarTraits<Rational>;
  const Rational x(1, 3);
  EXPECT_TRUE(Tr::contains(x, x));
  EXPECT_FALSE(Tr::contains(x, Rational(1, 2)));
  EXPECT_EQ(Tr::lower(x), x);
  EXPECT_EQ(Tr::upper_string(x), "1/3");
  EXPECT_EQ(Tr::width(x), 0.0);
  EXPECT_TRUE(certainly_less(Rational(1, 3), Rational(1, 2)));
  EXPECT_THROW(Tr::hull(Rational(0), Rational(1)), std::logic_error);
  EXPECT_EQ(scalar_json(x), Json("1/3"));  // exact values stay "p/q"
}

// Tiny and huge endpoints: weights far below 2^-65536 are rounded outward.
TEST(IntervalApi, ExtremeEndpointsRoundOutward) {
  WorkingPrecision scope(64);
  const ArbBall tiny = ScalarTraits<ArbBall>::exp(from_rational<ArbBall>(q("-1e11")));
  EXPECT_TRUE(ScalarTraits<ArbBall>::certainly_positive(tiny));
  EXPECT_EQ(ScalarTraits<ArbBall>::lower(tiny), 0);
  EXPECT_EQ(ScalarTraits<ArbBall>::upper(tiny), pow2(-65536));
  EXPECT_EQ(ScalarTraits<ArbBall>::lower_string(tiny), "0");
  EXPECT_LE(ScalarTraits<ArbBall>::width(tiny), 1e-300);
  const ArbBall huge = ScalarTraits<ArbBall>::exp(from_rational<ArbBall>(q("1e11")));
  EXPECT_EQ(ScalarTraits<ArbBall>::lower(huge), pow2(65536));
  EXPECT_EQ(ScalarTraits<ArbBall>::upper_string(huge), "+inf");
  const MpfiInterval m = ScalarTraits<MpfiInterval>::exp(from_rational<MpfiInterval>(q("-1e11")));
  EXPECT_TRUE(ScalarTraits<MpfiInterval>::certainly_nonnegative(m));
  EXPECT_EQ(ScalarTraits<MpfiInterval>::lower(m), 0);
  EXPECT_EQ(ScalarTraits<MpfiInterval>::upper(m), pow2(-65536));
}

}  // namespace
}  // namespace iclcert
