// The --arith option: which scalar backend a command runs in, and the dispatch
// from that runtime choice to the templated core.
#pragma once

#include "numerics/interval_arb.hpp"
#include "numerics/interval_mpfi.hpp"
#include "numerics/mpfr_real.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"

#include <string>

namespace iclcert::api {

struct Arithmetic {
  enum class Kind { double_, rational, mpfr, interval, interval_mpfi } kind = Kind::double_;
  long bits = 0;  // mpfr and the intervals only
  std::string label() const;  // "double", "rational", "mpfr:256", "interval:128", "interval-mpfi:128"
};

// Parses "double", "rational", "mpfr:BITS", "interval:BITS" (Arb balls) or
// "interval-mpfi:BITS" (MPFI); throws std::invalid_argument.
Arithmetic parse_arithmetic(const std::string& text);

// Calls f.template operator()<T>() with the scalar type of `a`, inside a
// working-precision scope where that applies.
template <class F>
decltype(auto) with_scalar(const Arithmetic& a, F&& f) {
  switch (a.kind) {
    case Arithmetic::Kind::double_: return f.template operator()<double>();
    case Arithmetic::Kind::rational: return f.template operator()<Rational>();
    case Arithmetic::Kind::mpfr:
    case Arithmetic::Kind::interval:
    case Arithmetic::Kind::interval_mpfi: break;
  }
  WorkingPrecision scope(a.bits);
  if (a.kind == Arithmetic::Kind::interval) return f.template operator()<ArbBall>();
  if (a.kind == Arithmetic::Kind::interval_mpfi) return f.template operator()<MpfiInterval>();
  return f.template operator()<MpfrReal>();
}

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
