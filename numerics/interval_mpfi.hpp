// Backend `interval-mpfi:BITS`: MPFI intervals [left, right] with MPFR endpoints,
// every operation at the working precision (WorkingPrecision).
//
// MPFI is used directly, not through Boost.Multiprecision: Boost 1.74's mpfi_float
// terminates the process when it compares overlapping intervals (docs/toolchain.md).
// Trusted: MPFI's documented guarantee that mpfi_add/sub/mul/div/exp/union/intersect
// return an interval containing every exact result for points of the inputs, with
// endpoints rounded outward (MPFI 1.5 manual). Every other step here rounds outward
// explicitly. Endpoints live in MPFR's exponent range (|e| < 2^(2^30)): an exp that
// overflows gives +inf as upper endpoint, one that underflows gives 0 as lower
// endpoint, both sound.
#pragma once

#include "numerics/precision.hpp"
#include "numerics/rational.hpp"
#include "numerics/scalar.hpp"

#include <mpfi.h>

#include <span>
#include <string>
#include <vector>

namespace iclcert {

class MpfiInterval {
 public:
  MpfiInterval();  // exactly [0, 0] at the working precision
  MpfiInterval(const MpfiInterval& other);
  MpfiInterval(MpfiInterval&& other) noexcept;
  MpfiInterval& operator=(const MpfiInterval& other);
  MpfiInterval& operator=(MpfiInterval&& other) noexcept;
  ~MpfiInterval();

  mpfi_srcptr get() const { return value_; }
  mpfi_ptr get() { return value_; }

  MpfiInterval& operator+=(const MpfiInterval& b);
  MpfiInterval& operator-=(const MpfiInterval& b);
  MpfiInterval& operator*=(const MpfiInterval& b);
  MpfiInterval& operator/=(const MpfiInterval& b);  // b containing 0: unbounded
  friend MpfiInterval operator+(MpfiInterval a, const MpfiInterval& b) { return a += b; }
  friend MpfiInterval operator-(MpfiInterval a, const MpfiInterval& b) { return a -= b; }
  friend MpfiInterval operator*(MpfiInterval a, const MpfiInterval& b) { return a *= b; }
  friend MpfiInterval operator/(MpfiInterval a, const MpfiInterval& b) { return a /= b; }
  friend MpfiInterval operator-(const MpfiInterval& a);

 private:
  mpfi_t value_;
};

template <>
struct ScalarTraits<MpfiInterval> {
  static constexpr const char* name = "interval-mpfi";
  static constexpr bool exact = false;
  static constexpr bool rigorous = true;
  static constexpr bool has_exp = true;
  static MpfiInterval from_rational(const Rational& q);  // an interval containing q
  static MpfiInterval exp(const MpfiInterval& x);
  static Sign sign(const MpfiInterval& x);  // unknown when x meets 0 and is not {0}
  static MpfiInterval max(const MpfiInterval& a, const MpfiInterval& b);
  static MpfiInterval min(const MpfiInterval& a, const MpfiInterval& b);
  // A point of x near its middle (the midpoint rounded to the working precision),
  // as a zero-width interval.
  static MpfiInterval shift_point(const MpfiInterval& x);
  static double to_double(const MpfiInterval& x);         // the midpoint, to nearest
  static std::string to_string(const MpfiInterval& x);    // "[lo, hi]", for display

  // The rigorous extension (numerics/rigorous.hpp).
  static bool contains(const MpfiInterval& x, const Rational& q);
  static bool certainly_positive(const MpfiInterval& x);
  static bool certainly_negative(const MpfiInterval& x);
  static bool certainly_zero(const MpfiInterval& x);
  static bool certainly_nonnegative(const MpfiInterval& x);
  static bool certainly_nonpositive(const MpfiInterval& x);
  static MpfiInterval hull(const MpfiInterval& a, const MpfiInterval& b);
  static MpfiInterval intersect(const MpfiInterval& a, const MpfiInterval& b);  // throws std::logic_error when disjoint
  // The endpoints, exactly (see numerics/interval_endpoints.hpp for the extremes).
  static Rational lower(const MpfiInterval& x);
  static Rational upper(const MpfiInterval& x);
  static std::string lower_string(const MpfiInterval& x);
  static std::string upper_string(const MpfiInterval& x);
  static double width(const MpfiInterval& x);  // right - left, rounded up

  // Row softmax enclosure of theory/softmax_enclosure.md.
  static std::vector<MpfiInterval> softmax(std::span<const MpfiInterval> scores);
};

}  // namespace iclcert
