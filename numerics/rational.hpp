// Exact rational numbers: the type in which every input number is held.
//
// A prompt or model is read into Rationals once; each arithmetic then converts
// from these exact values (rounding to nearest, or enclosing), so the same
// instance is evaluated in every arithmetic. See docs/formats.md for the text forms.
#pragma once

#include <boost/multiprecision/gmp.hpp>

#include <string>
#include <string_view>

namespace iclcert {

// GMP's mpq through Boost.Multiprecision; expression templates off so that
// generic code may bind results to `auto` safely.
using Rational = boost::multiprecision::number<boost::multiprecision::gmp_rational,
                                               boost::multiprecision::et_off>;

// Parses a decimal ("-0.125", "1e-3", "+2", ".5") or a fraction ("1/3", "-7/2")
// exactly. Throws std::invalid_argument with a reason on anything else, on a zero
// denominator, on an exponent beyond +-kMaxDecimalExponent and on a text longer
// than kMaxNumberChars (refused before any digit is converted).
Rational parse_rational(std::string_view text);
inline constexpr int kMaxDecimalExponent = 4000;
inline constexpr std::size_t kMaxNumberChars = 10000;

// The exact value of a finite double (every double is a dyadic rational).
// Throws std::invalid_argument on NaN or infinity.
Rational rational_from_double(double value);

// "p/q" in lowest terms, or "p" when q = 1.
std::string to_string(const Rational& value);

// Nearest double (ties to even), as GMP's mpq_get_d truncates instead.
double nearest_double(const Rational& value);

}  // namespace iclcert
