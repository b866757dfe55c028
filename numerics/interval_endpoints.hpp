// Endpoints of an enclosure as exact Rationals and as outward-rounded decimals,
// shared by the interval backends (interval_arb.hpp, interval_mpfi.hpp).
//
// An endpoint is a binary floating-point value (MPFR or Arb) and is returned
// exactly, except at the extremes, where an exact Rational would be absurdly large
// (the bound 2^-(1.4e11) of a softmax weight with a score gap of 1e11):
//   |e| < 2^-kEndpointExponentLimit   rounded outward to 0 or +-2^-kEndpointExponentLimit
//   |e| > 2^kEndpointExponentLimit    a lower bound of a positive e becomes
//                                     2^kEndpointExponentLimit (outward), an upper
//                                     bound of a negative e likewise; the other two
//                                     cases, and infinite endpoints, are unbounded:
//                                     the Rational functions throw std::domain_error,
//                                     the strings are "-inf" / "+inf".
// Every result is therefore a sound bound: lower results are <= the endpoint, upper
// results are >= it.
#pragma once

#include "numerics/rational.hpp"

#include <mpfr.h>

#include <string>

namespace iclcert::detail {

inline constexpr long kEndpointExponentLimit = 1 << 16;

// `e` is the exact endpoint (NaN: throws std::domain_error).
Rational lower_endpoint_rational(mpfr_srcptr e);
Rational upper_endpoint_rational(mpfr_srcptr e);

// Decimal with `digits` significant digits, rounded down (lower) or up (upper);
// "0" for zero.
std::string lower_endpoint_string(mpfr_srcptr e, long digits);
std::string upper_endpoint_string(mpfr_srcptr e, long digits);

// Significant decimal digits for a value at `bits` of precision: 1 + ceil(bits log10 2).
long decimal_digits_for_bits(long bits);

// "[lo, hi]", the display form of both interval backends. Appended piecewise: g++ 12
// warns falsely (-Wrestrict) on "[" + a + ", " + b.
inline std::string bracketed(const std::string& lo, const std::string& hi) {
  std::string out = "[";
  out += lo;
  out += ", ";
  out += hi;
  out += "]";
  return out;
}

}  // namespace iclcert::detail
