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
};

}  // namespace iclcert
