#include "numerics/mpfr_real.hpp"

#include <stdexcept>
#include <utility>

namespace iclcert {

long MpfrReal::working_precision() { return working_precision_bits(); }

MpfrReal::MpfrReal() { mpfr_init2(value_, working_precision_bits()), mpfr_set_zero(value_, 1); }

MpfrReal::MpfrReal(const MpfrReal& other) {
  mpfr_init2(value_, mpfr_get_prec(other.value_));
  mpfr_set(value_, other.value_, MPFR_RNDN);
}

// A moved-from value keeps a valid (tiny) mpfr_t so that its destructor and any
// assignment to it stay well defined.
MpfrReal::MpfrReal(MpfrReal&& other) noexcept {
  mpfr_init2(value_, MPFR_PREC_MIN);
  mpfr_swap(value_, other.value_);
}

MpfrReal& MpfrReal::operator=(const MpfrReal& other) {
  if (this != &other) {
    mpfr_set_prec(value_, mpfr_get_prec(other.value_));
    mpfr_set(value_, other.value_, MPFR_RNDN);
  }
  return *this;
}

MpfrReal& MpfrReal::operator=(MpfrReal&& other) noexcept {
  mpfr_swap(value_, other.value_);
  return *this;
}

MpfrReal::~MpfrReal() { mpfr_clear(value_); }

// Results are rounded at the working precision, whatever the operands' precisions.
#define ICLCERT_MPFR_COMPOUND(op, fn)                       \
  MpfrReal& MpfrReal::operator op(const MpfrReal & b) {      \
    if (mpfr_get_prec(value_) != working_precision_bits()) {           \
      MpfrReal r;                                            \
      fn(r.value_, value_, b.value_, MPFR_RNDN);             \
      mpfr_swap(value_, r.value_);                           \
    } else {                                                 \
      fn(value_, value_, b.value_, MPFR_RNDN);               \
    }                                                        \
    return *this;                                            \
  }
ICLCERT_MPFR_COMPOUND(+=, mpfr_add)
ICLCERT_MPFR_COMPOUND(-=, mpfr_sub)
ICLCERT_MPFR_COMPOUND(*=, mpfr_mul)
ICLCERT_MPFR_COMPOUND(/=, mpfr_div)
#undef ICLCERT_MPFR_COMPOUND

MpfrReal operator-(const MpfrReal& a) {
  MpfrReal r;
  mpfr_neg(r.value_, a.value_, MPFR_RNDN);
  return r;
}

}  // namespace iclcert
