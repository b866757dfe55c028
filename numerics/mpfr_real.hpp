// MpfrReal: an MPFR number at a runtime precision in bits.
//
// Boost.Multiprecision's mpfr_float sets precision in decimal digits, process-wide;
// the harness needs exact bit counts ("mpfr:256"), so this thin RAII wrapper holds
// an mpfr_t and takes the precision of new values from a per-thread working
// precision set with MpfrPrecision. Every operation rounds to nearest at that
// precision: a high-precision reference, not a certified one.
#pragma once

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
  friend class MpfrPrecision;
  mpfr_t value_;
};

// Sets the working precision of the calling thread for its lifetime, restoring
// the previous one after. Default: 256 bits.
class MpfrPrecision {
 public:
  explicit MpfrPrecision(long bits);
  ~MpfrPrecision();
  MpfrPrecision(const MpfrPrecision&) = delete;
  MpfrPrecision& operator=(const MpfrPrecision&) = delete;

 private:
  long previous_;
};

inline constexpr long kMinMpfrBits = 16;
inline constexpr long kMaxMpfrBits = 1 << 20;

}  // namespace iclcert
