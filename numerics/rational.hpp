// Exact rational numbers: the type in which every input number is held.
//
// A prompt or model is read into Rationals once; each arithmetic then converts
// from these exact values (rounding to nearest, or enclosing), so the same
// instance is evaluated in every arithmetic. See docs/formats.md for the text forms.
#pragma once

#include <boost/multiprecision/gmp.hpp>

#include <string>
#include <string_view>
#include <vector>

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

// The value for a one-line message: to_string when at most `max_chars` long,
// else "about " and 6 significant digits ("about 1e+4000"): a number of
// thousands of digits must not make a message span screens.
std::string describe_rational(const Rational& value, std::size_t max_chars = 40);

// Its size: the bits of the numerator plus those of the denominator.
std::size_t size_in_bits(const Rational& value);

// Exact rationals grow about threefold in size per layer of the recursion, and
// the time of a layer about fivefold: a state whose numbers pass this size is
// refused (docs/formats.md, "Limits"). 2^16 bits is about 20,000 decimal digits:
// a linear model on the default prompt reaches it at layer 6, in about a second,
// where layer 9 would take a minute and layer 12 hours.
inline constexpr std::size_t kMaxRationalBits = std::size_t{1} << 16;

// Throws std::invalid_argument, naming `layer`, when a number of `state` is larger
// than kMaxRationalBits.
void require_bounded_size(const std::vector<Rational>& state, std::size_t layer);

// Makes GMP (and MPFR, which allocates through it) throw std::bad_alloc when
// memory runs out, where GMP's own functions print a line and abort. Installed
// only over GMP's defaults (never over a host's own, as in a Python process).
void install_gmp_allocation();

}  // namespace iclcert
