// Host side of the interval kernel: the model's exact rationals as float64
// enclosures, flattened by batch_model.hpp's flatten_model (full layers become the dense
// matrices M(kappa), M(nu), whose entries th1 + th2 etc. are rationals enclosed
// once). Host only (MPFR, Boost); header-only so that no build file changes.
//
// Trusted: MPFR's correct directed rounding (mpfr_set_q, mpfr_get_d).
#pragma once

#include "gpu/batch_model.hpp"
#include "gpu/interval_kernel.hpp"
#include "numerics/model.hpp"

#include <mpfr.h>

namespace iclcert::gpu {

// [lo, hi] with lo the largest double <= q and hi the smallest double >= q (lo = hi
// when q is a double); beyond the doubles' range the outer end is infinite and the
// inner one +-DBL_MAX.
inline Iv enclose(const Rational& q) {
  mpfr_t x;
  mpfr_init2(x, 53);
  // Rounding twice in the same direction (to 53 bits with MPFR's wide exponent,
  // then to a double with its subnormals and overflow) stays on the same side of q.
  mpfr_set_q(x, q.backend().data(), MPFR_RNDD);
  const double lo = mpfr_get_d(x, MPFR_RNDD);
  mpfr_set_q(x, q.backend().data(), MPFR_RNDU);
  const double hi = mpfr_get_d(x, MPFR_RNDU);
  mpfr_clear(x);
  return {lo, hi};
}

// The model with every coefficient enclosed (ModelView<Iv> through view()).
// Throws std::invalid_argument when a dense layer's size is not d + C.
inline BatchModel<Iv> make_interval_model(const Model& model, int d, int C) {
  return flatten_model<Iv>(model, d, C, [](const Rational& q) { return enclose(q); });
}

}  // namespace iclcert::gpu
