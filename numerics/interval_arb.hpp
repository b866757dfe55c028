// Backend `interval:BITS` (the default interval arithmetic): Arb balls
// [mid +- rad], every operation at the working precision (WorkingPrecision).
//
// Trusted: Arb's documented containment guarantee, that the ball computed by
// arb_add/sub/mul/div/exp/union/min/max contains the exact result for every choice
// of points of the input balls (Arb 2.23, "Ball arithmetic" in its manual). Every
// other step here (endpoints, the softmax enclosure of theory/softmax_enclosure.md)
// rounds outward explicitly.
#pragma once

#include "numerics/precision.hpp"
#include "numerics/rational.hpp"
#include "numerics/scalar.hpp"

#include <arb.h>

#include <span>
#include <string>
#include <vector>

namespace iclcert {

class ArbBall {
 public:
  // Inline: the Taylor forms (numerics/affine.hpp) make and drop balls by the
  // million, and a call into the library for each showed as 15% of their time.
  ArbBall() { arb_init(value_); }  // exactly 0
  ArbBall(const ArbBall& other) {
    arb_init(value_);
    arb_set(value_, other.value_);
  }
  // A moved-from ball is 0, still valid for assignment and destruction.
  ArbBall(ArbBall&& other) noexcept {
    arb_init(value_);
    arb_swap(value_, other.value_);
  }
  ArbBall& operator=(const ArbBall& other) {
    if (this != &other) arb_set(value_, other.value_);
    return *this;
  }
  ArbBall& operator=(ArbBall&& other) noexcept {
    arb_swap(value_, other.value_);
    return *this;
  }
  // arb_clear frees a midpoint of more than two limbs and exponents too large for
  // a word (fmpz_clear of each, ARF_DEMOTE); most balls have none of them.
  ~ArbBall() {
    if (ARF_HAS_PTR(arb_midref(value_)) || COEFF_IS_MPZ(*ARF_EXPREF(arb_midref(value_))) ||
        COEFF_IS_MPZ(*MAG_EXPREF(arb_radref(value_))))
      arb_clear(value_);
  }

  arb_srcptr get() const { return value_; }
  arb_ptr get() { return value_; }

  ArbBall& operator+=(const ArbBall& b);
  ArbBall& operator-=(const ArbBall& b);
  ArbBall& operator*=(const ArbBall& b);
  ArbBall& operator/=(const ArbBall& b);  // b containing 0: an unbounded ball
  // Into a new ball (no copy of a first): the same ball as a op= b.
  friend ArbBall operator+(const ArbBall& a, const ArbBall& b);
  friend ArbBall operator-(const ArbBall& a, const ArbBall& b);
  friend ArbBall operator*(const ArbBall& a, const ArbBall& b);
  friend ArbBall operator/(const ArbBall& a, const ArbBall& b);
  friend ArbBall operator-(const ArbBall& a);

 private:
  arb_t value_;
};

template <>
struct ScalarTraits<ArbBall> {
  static constexpr const char* name = "interval";
  static constexpr bool exact = false;
  static constexpr bool rigorous = true;
  static constexpr bool has_exp = true;
  static ArbBall from_rational(const Rational& q);  // a ball containing q
  static ArbBall exp(const ArbBall& x);
  static Sign sign(const ArbBall& x);  // unknown when the ball meets 0 and is not {0}
  static ArbBall max(const ArbBall& a, const ArbBall& b);
  static ArbBall min(const ArbBall& a, const ArbBall& b);
  static ArbBall shift_point(const ArbBall& x);  // the midpoint, radius 0
  static double to_double(const ArbBall& x);     // the midpoint, to nearest
  static std::string to_string(const ArbBall& x);  // "[lo, hi]", for display

  // The rigorous extension (numerics/rigorous.hpp).
  static bool contains(const ArbBall& x, const Rational& q);
  static bool certainly_positive(const ArbBall& x);
  static bool certainly_negative(const ArbBall& x);
  static bool certainly_zero(const ArbBall& x);
  static bool certainly_nonnegative(const ArbBall& x);
  static bool certainly_nonpositive(const ArbBall& x);
  static ArbBall hull(const ArbBall& a, const ArbBall& b);
  static ArbBall intersect(const ArbBall& a, const ArbBall& b);  // throws std::logic_error when disjoint
  // mid -+ rad, exactly (see numerics/interval_endpoints.hpp for the extremes).
  static Rational lower(const ArbBall& x);
  static Rational upper(const ArbBall& x);
  static std::string lower_string(const ArbBall& x);
  static std::string upper_string(const ArbBall& x);
  static double width(const ArbBall& x);  // 2 rad, rounded up

  // Row softmax enclosure of theory/softmax_enclosure.md: each weight lies in
  // [0, 1], is finite, and the row is consistent with summing to one.
  static std::vector<ArbBall> softmax(std::span<const ArbBall> scores);
};

}  // namespace iclcert
