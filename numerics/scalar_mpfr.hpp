// Backend `mpfr:BITS`: every operation correctly rounded to nearest at the working
// precision (MpfrPrecision). A reference, not a certificate.
#pragma once

#include "numerics/mpfr_real.hpp"
#include "numerics/scalar.hpp"

namespace iclcert {

template <>
struct ScalarTraits<MpfrReal> {
  static constexpr const char* name = "mpfr";
  static constexpr bool exact = false;
  static constexpr bool rigorous = false;
  static constexpr bool has_exp = true;
  static MpfrReal from_rational(const Rational& q);
  static MpfrReal exp(const MpfrReal& x);
  static Sign sign(const MpfrReal& x);
  static MpfrReal max(const MpfrReal& a, const MpfrReal& b);
  static MpfrReal min(const MpfrReal& a, const MpfrReal& b);
  static MpfrReal shift_point(const MpfrReal& x) { return x; }
  static double to_double(const MpfrReal& x);
  // Enough decimal digits to round-trip at the value's precision.
  static std::string to_string(const MpfrReal& x);
};

}  // namespace iclcert
