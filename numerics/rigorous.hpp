// The rigorous extension of the scalar concept: what certified verdicts ask of an
// arithmetic whose values are enclosures of the true values (spec section 7).
// Satisfied by ArbBall (interval_arb.hpp), MpfiInterval (interval_mpfi.hpp) and
// Rational (scalar_rational.hpp: exact values are degenerate enclosures).
//
// ScalarTraits<T>, besides the Scalar members:
//   contains(x, q)           the exact rational q lies in x
//   certainly_positive(x)    every point of x is > 0; certainly_negative likewise
//   certainly_zero(x)        x is exactly {0}
//   hull(a, b)               an enclosure of a union b
//   intersect(a, b)          an enclosure of a intersect b; precondition: a and b
//                            overlap (both enclose one true value); throws
//                            std::logic_error when they do not
//   lower(x), upper(x)       exact rational endpoints (interval_endpoints.hpp says
//                            how the extremes are rounded outward instead)
//   lower_string, upper_string   decimal endpoints rounded outward, with about the
//                            working precision's digits (trace files, evidence)
//   width(x)                 upper - lower as a double, rounded up
//
// The decisions below are certain: `true` is a proof about every point of the
// enclosures; `false` means "not certified" (the points may or may not satisfy it).
#pragma once

#include "numerics/scalar.hpp"

#include <span>

#include <string>

namespace iclcert {

template <class T>
concept RigorousScalar = Scalar<T> && ScalarTraits<T>::rigorous &&
    requires(const T& a, const T& b, const Rational& q) {
      { ScalarTraits<T>::contains(a, q) } -> std::same_as<bool>;
      { ScalarTraits<T>::certainly_positive(a) } -> std::same_as<bool>;
      { ScalarTraits<T>::certainly_negative(a) } -> std::same_as<bool>;
      { ScalarTraits<T>::certainly_zero(a) } -> std::same_as<bool>;
      { ScalarTraits<T>::hull(a, b) } -> std::same_as<T>;
      { ScalarTraits<T>::intersect(a, b) } -> std::same_as<T>;
      { ScalarTraits<T>::lower(a) } -> std::same_as<Rational>;
      { ScalarTraits<T>::upper(a) } -> std::same_as<Rational>;
      { ScalarTraits<T>::lower_string(a) } -> std::same_as<std::string>;
      { ScalarTraits<T>::upper_string(a) } -> std::same_as<std::string>;
      { ScalarTraits<T>::width(a) } -> std::same_as<double>;
    };

// Every point of x is >= 0 (<= 0).
template <RigorousScalar T>
bool certainly_nonnegative(const T& x) {
  using Tr = ScalarTraits<T>;
  if constexpr (requires { Tr::certainly_nonnegative(x); }) return Tr::certainly_nonnegative(x);
  else return Tr::certainly_positive(x) || Tr::certainly_zero(x);
}
template <RigorousScalar T>
bool certainly_nonpositive(const T& x) {
  using Tr = ScalarTraits<T>;
  if constexpr (requires { Tr::certainly_nonpositive(x); }) return Tr::certainly_nonpositive(x);
  else return Tr::certainly_negative(x) || Tr::certainly_zero(x);
}

// Every point of a is < (>, >=) every point of b. Decided on an enclosure of
// a - b, so a margin far below the working precision stays undecided.
template <RigorousScalar T>
bool certainly_less(const T& a, const T& b) {
  return ScalarTraits<T>::certainly_negative(a - b);
}
template <RigorousScalar T>
bool certainly_greater(const T& a, const T& b) {
  return ScalarTraits<T>::certainly_positive(a - b);
}
template <RigorousScalar T>
bool certainly_greater_or_equal(const T& a, const T& b) {
  return certainly_nonnegative(a - b);
}
// Some point of a may be < some point of b (not certainly a >= b).
template <RigorousScalar T>
bool possibly_less(const T& a, const T& b) {
  return !certainly_greater_or_equal(a, b);
}

// The certified prediction of a logit vector y: c* = argmax of the midpoints when
// y[c*] - y[c] is certainly > 0 for every c != c* (for a non-rigorous Ref, such as
// MPFR, when it is > 0 as computed), else -1. Ties are never certified.
template <class Ref>
int certified_prediction(std::span<const Ref> y) {
  using Tr = ScalarTraits<Ref>;
  int best = 0;
  for (int c = 1; c < static_cast<int>(y.size()); ++c)
    if (Tr::to_double(y[c]) > Tr::to_double(y[best])) best = c;
  for (int c = 0; c < static_cast<int>(y.size()); ++c) {
    if (c == best) continue;
    const Ref gap = y[best] - y[c];
    bool positive;
    if constexpr (RigorousScalar<Ref>) positive = Tr::certainly_positive(gap);
    else positive = Tr::sign(gap) == Sign::positive;
    if (!positive) return -1;
  }
  return best;
}

}  // namespace iclcert
