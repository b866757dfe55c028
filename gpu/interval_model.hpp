// Host side of the interval kernel: the model's exact rationals as float64
// enclosures, flattened like batch_model.hpp (full layers become the dense
// matrices M(kappa), M(nu), whose entries th1 + th2 etc. are rationals enclosed
// once). Host only (MPFR, Boost); header-only so that no build file changes.
//
// Trusted: MPFR's correct directed rounding (mpfr_set_q, mpfr_get_d).
#pragma once

#include "gpu/batch_model.hpp"
#include "gpu/interval_kernel.hpp"
#include "numerics/model.hpp"

#include <mpfr.h>

#include <stdexcept>
#include <string>
#include <variant>

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
  BatchModel<Iv> b;
  b.d = d;
  b.C = C;
  b.softmax = model.kernel == Kernel::softmax;
  b.probe_is_key = model.probe_is_key;
  b.probe_label_uniform = model.probe_label_init == ProbeLabelInit::uniform;
  const std::size_t D = static_cast<std::size_t>(d + C);
  auto append = [&](const Matrix<Rational>& m) {
    for (std::size_t r = 0; r < m.rows(); ++r)
      for (std::size_t c = 0; c < m.cols(); ++c) b.coeffs.push_back(enclose(m(r, c)));
  };
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    b.offset.push_back(static_cast<int>(b.coeffs.size()));
    const auto& layer = model.layers[l];
    if (const auto* r = std::get_if<ReducedLayer<Rational>>(&layer)) {
      const auto& p = r->probe ? *r->probe : r->train;
      for (const auto* c : {&r->train, &p})
        for (const Rational* v : {&c->beta, &c->gamma, &c->alpha, &c->alpha_label}) b.coeffs.push_back(enclose(*v));
      b.kind.push_back(kReducedLayer);
      b.heads.push_back(1);
    } else if (const auto* f = std::get_if<FullLayer<Rational>>(&layer)) {
      for (const auto& h : f->heads) {
        append(equivariant_matrix(h.score, d, C));
        append(equivariant_matrix(h.value, d, C));
      }
      b.kind.push_back(kDenseLayer);
      b.heads.push_back(static_cast<int>(f->heads.size()));
    } else {
      const auto& dl = std::get<DenseLayer<Rational>>(layer);
      for (const auto& h : dl.heads) {
        if (h.score.rows() != D || h.score.cols() != D || h.value.rows() != D || h.value.cols() != D)
          throw std::invalid_argument("layer " + std::to_string(l) + " is dense with matrices of size " +
                                      std::to_string(h.score.rows()) + " but the prompts have d + C = " +
                                      std::to_string(D));
        append(h.score);
        append(h.value);
      }
      b.kind.push_back(kDenseLayer);
      b.heads.push_back(static_cast<int>(dl.heads.size()));
    }
  }
  return b;
}

}  // namespace iclcert::gpu
