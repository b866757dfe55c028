// MpfrReal: an MPFR number at a runtime precision in bits.
//
// Boost.Multiprecision's mpfr_float sets precision in decimal digits, process-wide;
// the harness needs exact bit counts ("mpfr:256"), so this thin RAII wrapper holds
// an mpfr_t and takes the precision of new values from the per-thread working
// precision (WorkingPrecision, numerics/precision.hpp). Every operation rounds to
// nearest at that precision: a high-precision reference, not a certified one.
#pragma once

#include "numerics/precision.hpp"

#include <mpfr.h>

#include <string>

namespace iclcert {

class MpfrReal {
 public:
  MpfrReal();  // +0 at the working precision
  MpfrReal(const MpfrReal& other);
  MpfrReal(MpfrReal&& other) noexcept;
  MpfrReal& operator=(const MpfrReal& other);
  MpfrReal& operator=(MpfrReal&& other) noexcept;
  ~MpfrReal();

  static long working_precision();

  mpfr_srcptr get() const { return value_; }
  mpfr_ptr get() { return value_; }

  MpfrReal& operator+=(const MpfrReal& b);
  MpfrReal& operator-=(const MpfrReal& b);
  MpfrReal& operator*=(const MpfrReal& b);
  MpfrReal& operator/=(const MpfrReal& b);
  friend MpfrReal operator+(MpfrReal a, const MpfrReal& b) { return a += b; }
  friend MpfrReal operator-(MpfrReal a, const MpfrReal& b) { return a -= b; }
  friend MpfrReal operator*(MpfrReal a, const MpfrReal& b) { return a *= b; }
  friend MpfrReal operator/(MpfrReal a, const MpfrReal& b) { return a /= b; }
  friend MpfrReal operator-(const MpfrReal& a);

 private:
  mpfr_t value_;
};

}  // namespace iclcert
