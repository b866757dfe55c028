// The --arith option: which scalar backend a command runs in, and the dispatch
// from that runtime choice to the templated core.
#pragma once

#include "numerics/mpfr_real.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"

#include <string>

namespace iclcert::cli {

struct Arithmetic {
  enum class Kind { double_, rational, mpfr } kind = Kind::double_;
  long bits = 0;  // mpfr only
  std::string label() const;  // "double", "rational", "mpfr:256"
};

// Parses "double", "rational" or "mpfr:BITS"; throws std::invalid_argument.
Arithmetic parse_arithmetic(const std::string& text);

// Calls f.template operator()<T>() with the scalar type of `a`, inside an MPFR
// precision scope where that applies.
template <class F>
decltype(auto) with_scalar(const Arithmetic& a, F&& f) {
  switch (a.kind) {
    case Arithmetic::Kind::double_: return f.template operator()<double>();
    case Arithmetic::Kind::rational: return f.template operator()<Rational>();
    case Arithmetic::Kind::mpfr: break;
  }
  MpfrPrecision scope(a.bits);
  return f.template operator()<MpfrReal>();
}

}  // namespace iclcert::cli
