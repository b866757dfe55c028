#include "numerics/rational.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace iclcert {
namespace {

TEST(Rational, ParsesDecimalsAndFractionsExactly) {
  EXPECT_EQ(parse_rational("-0.125"), Rational(-1, 8));
  EXPECT_EQ(parse_rational("1e-3"), Rational(1, 1000));
  EXPECT_EQ(parse_rational("2.5E2"), Rational(250));
  EXPECT_EQ(parse_rational("1/3"), Rational(1, 3));
  EXPECT_EQ(parse_rational("-6/4"), Rational(-3, 2));
  EXPECT_EQ(parse_rational(".5"), Rational(1, 2));
  EXPECT_EQ(parse_rational("+7"), Rational(7));
  EXPECT_EQ(parse_rational("0.1"), Rational(1, 10));  // not the double 0.1
}

TEST(Rational, RejectsWhatIsNotANumber) {
  for (const char* bad : {"", "1/0", "abc", "1/", "/2", "1.2.3", "--1", "1e", "nan", "inf", "1/-2", "1e99999999", " 1"})
    EXPECT_THROW(parse_rational(bad), std::invalid_argument) << bad;
}

TEST(Rational, DoublesAreReadExactly) {
  EXPECT_EQ(rational_from_double(0.1), Rational(3602879701896397, 36028797018963968LL));
  EXPECT_EQ(nearest_double(rational_from_double(0.1)), 0.1);
  EXPECT_THROW(rational_from_double(std::numeric_limits<double>::infinity()), std::invalid_argument);
  EXPECT_THROW(rational_from_double(std::nan("")), std::invalid_argument);
}

TEST(Rational, NearestDoubleRoundsToNearest) {
  // 1/3 lies between two doubles; the nearest is 0.333...3 (as the literal 1.0/3).
  EXPECT_EQ(nearest_double(Rational(1, 3)), 1.0 / 3);
  EXPECT_EQ(nearest_double(Rational(-2, 3)), -2.0 / 3);
}

TEST(Rational, TextForm) {
  EXPECT_EQ(to_string(Rational(-3, 2)), "-3/2");
  EXPECT_EQ(to_string(Rational(4)), "4");
  EXPECT_EQ(parse_rational(to_string(Rational(-22, 7))), Rational(-22, 7));
}

}  // namespace
}  // namespace iclcert
