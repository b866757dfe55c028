// Backend `rational`: exact. No exp: the softmax kernel is refused up front
// (see recursion.hpp), the linear kernel and every exp-free stage are exact.
#pragma once

#include "numerics/scalar.hpp"

#include <stdexcept>

namespace iclcert {

template <>
struct ScalarTraits<Rational> {
  static constexpr const char* name = "rational";
  static constexpr bool exact = true;
  static constexpr bool rigorous = true;
  static constexpr bool has_exp = false;
  static Rational from_rational(const Rational& q) { return q; }
  static Sign sign(const Rational& x) {
    int s = x.sign();
    return s < 0 ? Sign::negative : (s > 0 ? Sign::positive : Sign::zero);
  }
  static Rational max(const Rational& a, const Rational& b) { return a < b ? b : a; }
  static Rational min(const Rational& a, const Rational& b) { return b < a ? b : a; }
  static Rational shift_point(const Rational& x) { return x; }
  static double to_double(const Rational& x) { return nearest_double(x); }
  static std::string to_string(const Rational& x) { return iclcert::to_string(x); }

  // The rigorous extension (numerics/rigorous.hpp): x is the enclosure {x}.
  static bool contains(const Rational& x, const Rational& q) { return x == q; }
  static bool certainly_positive(const Rational& x) { return x.sign() > 0; }
  static bool certainly_negative(const Rational& x) { return x.sign() < 0; }
  static bool certainly_zero(const Rational& x) { return x.sign() == 0; }
  static bool certainly_nonnegative(const Rational& x) { return x.sign() >= 0; }
  static bool certainly_nonpositive(const Rational& x) { return x.sign() <= 0; }
  // A single rational encloses only itself: the hull of two different values has
  // no Rational form, and two different values do not overlap.
  static Rational hull(const Rational& a, const Rational& b) {
    if (a != b) throw std::logic_error("hull of two different exact rationals is not a rational");
    return a;
  }
  static Rational intersect(const Rational& a, const Rational& b) {
    if (a != b) throw std::logic_error("intersect: two different exact values do not overlap");
    return a;
  }
  static Rational lower(const Rational& x) { return x; }
  static Rational upper(const Rational& x) { return x; }
  static std::string lower_string(const Rational& x) { return iclcert::to_string(x); }
  static std::string upper_string(const Rational& x) { return iclcert::to_string(x); }
  static double width(const Rational&) { return 0; }
};

}  // namespace iclcert
