// Numbers in the human-readable account of a check: enclosures as [lo, hi] with
// the endpoints rounded outward to 8 significant digits (so what is printed still
// encloses the value), exact rationals as p/q when short.
#pragma once

#include "io/trace_io.hpp"
#include "numerics/metrics.hpp"
#include "numerics/rigorous.hpp"

#include <string>

namespace iclcert::claims {

// `value` rounded down (or up) to a double, then printed with 8 digits in the
// same direction.
std::string directed_decimal(const Rational& value, bool upward);

template <RigorousScalar T>
std::string show(const T& x) {
  using Tr = ScalarTraits<T>;
  if constexpr (ScalarTraits<T>::exact) {
    std::string s = Tr::to_string(x);
    return s.size() <= 24 ? s : directed_decimal(Tr::lower(x), false) + " (exact, rounded)";
  } else {
    return "[" + directed_decimal(Tr::lower(x), false) + ", " + directed_decimal(Tr::upper(x), true) + "]";
  }
}

template <RigorousScalar T>
std::string show(const Ratio<T>& r) {
  using K = typename Ratio<T>::Kind;
  switch (r.kind) {
    case K::finite: return show(r.value);
    case K::pos_inf: return "+inf";
    case K::undefined: return "undefined";
    case K::unknown: return "unknown (denominator may be 0)";
  }
  return "?";
}

// JSON: the trace file's forms (io/trace_io.hpp): exact rationals as strings,
// enclosures as ["lo", "hi"] rounded outward, +inf, or null.
template <RigorousScalar T>
Json enclosure_json(const T& x) {
  return scalar_json(x);
}
template <RigorousScalar T>
Json enclosure_json(const Ratio<T>& r) {
  return ratio_json(r);
}

}  // namespace iclcert::claims
