// Backend `double`: fast, uncertified. Inputs are rounded to nearest.
#pragma once

#include "numerics/scalar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace iclcert {

template <>
struct ScalarTraits<double> {
  static constexpr const char* name = "double";
  static constexpr bool exact = false;
  static constexpr bool rigorous = false;
  static constexpr bool has_exp = true;
  static double from_rational(const Rational& q) { return nearest_double(q); }
  static double exp(double x) { return std::exp(x); }
  static Sign sign(double x) {
    if (std::isnan(x)) return Sign::unknown;
    return x < 0 ? Sign::negative : (x > 0 ? Sign::positive : Sign::zero);
  }
  static double max(double a, double b) { return std::max(a, b); }
  static double min(double a, double b) { return std::min(a, b); }
  static double shift_point(double x) { return x; }
  static double to_double(double x) { return x; }
  // 17 significant digits round-trip every double.
  static std::string to_string(double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
  }
};

}  // namespace iclcert
