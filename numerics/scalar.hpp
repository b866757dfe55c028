// The scalar concept: what the templated core asks of an arithmetic.
//
// The core (layer.hpp, metrics.hpp, recursion.hpp) never compares two scalars with
// `<` and never calls std::max: an interval cannot answer "is a < b" when a and b
// overlap. Every decision goes through ScalarTraits<T>:
//
//   name                      "double", "rational", "mpfr", ...
//   exact                     values are the true values (rational)
//   rigorous                  values enclose the true values (rational, intervals)
//   has_exp                   exp is available (false for rational)
//   from_rational(q)          q rounded (point types) or enclosed (rigorous types)
//   exp(x)                    e^x (only when has_exp)
//   sign(x)                   Sign of x; Sign::unknown only when x may be either
//   max(a, b), min(a, b)      for intervals: an enclosure of the max / min of any
//                             points of a and b; for point types the usual max / min
//   shift_point(x)            a point value near x, used to shift softmax scores;
//                             any value is mathematically exact (it cancels), so a
//                             rigorous type may return its midpoint
//   to_double(x)              nearest double (midpoint for intervals), for display
//   to_string(x)              the text form of docs/formats.md
//
// Each backend specialises ScalarTraits in its own header (scalar_double.hpp,
// scalar_rational.hpp, scalar_mpfr.hpp).
#pragma once

#include "numerics/rational.hpp"

#include <concepts>
#include <string>

namespace iclcert {

enum class Sign { negative, zero, positive, unknown };

// Declared, never defined: a type without a backend fails the Scalar concept (a
// soft failure, so overloads constrained on Scalar can be tried and rejected),
// and a template constrained on Scalar then names the unmet requirement.
template <class T>
struct ScalarTraits;

template <class T>
concept Scalar = requires(const T& a, const T& b, const Rational& q) {
  { ScalarTraits<T>::name } -> std::convertible_to<const char*>;
  { ScalarTraits<T>::exact } -> std::convertible_to<bool>;
  { ScalarTraits<T>::rigorous } -> std::convertible_to<bool>;
  { ScalarTraits<T>::has_exp } -> std::convertible_to<bool>;
  { ScalarTraits<T>::from_rational(q) } -> std::same_as<T>;
  { ScalarTraits<T>::sign(a) } -> std::same_as<Sign>;
  { ScalarTraits<T>::max(a, b) } -> std::same_as<T>;
  { ScalarTraits<T>::min(a, b) } -> std::same_as<T>;
  { ScalarTraits<T>::shift_point(a) } -> std::same_as<T>;
  { ScalarTraits<T>::to_double(a) } -> std::same_as<double>;
  { ScalarTraits<T>::to_string(a) } -> std::same_as<std::string>;
  { a + b } -> std::same_as<T>;
  { a - b } -> std::same_as<T>;
  { a * b } -> std::same_as<T>;
  { a / b } -> std::same_as<T>;
  { -a } -> std::same_as<T>;
  requires requires(T x) { x += a; x -= a; x *= a; x /= a; };
};

template <Scalar T>
T from_rational(const Rational& q) {
  return ScalarTraits<T>::from_rational(q);
}
template <Scalar T>
T from_int(long v) {
  return ScalarTraits<T>::from_rational(Rational(v));
}
template <Scalar T>
Sign sign_of(const T& x) {
  return ScalarTraits<T>::sign(x);
}

}  // namespace iclcert
