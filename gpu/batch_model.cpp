#include "gpu/batch_model.hpp"

#include <mpfr.h>

#include <stdexcept>
#include <string>

namespace iclcert::gpu {

float nearest_float(const Rational& q) {
  mpfr_t x;
  mpfr_init2(x, 24);
  mpfr_set_q(x, q.backend().data(), MPFR_RNDN);
  const float f = mpfr_get_flt(x, MPFR_RNDN);
  mpfr_clear(x);
  return f;
}

namespace {

template <class T>
void append_matrix(std::vector<T>& out, const Matrix<Rational>& m) {
  for (std::size_t r = 0; r < m.rows(); ++r)
    for (std::size_t c = 0; c < m.cols(); ++c) out.push_back(round_to<T>(m(r, c)));
}

}  // namespace

template <class T>
BatchModel<T> make_batch_model(const Model& model, int d, int C) {
  BatchModel<T> b;
  b.d = d;
  b.C = C;
  b.softmax = model.kernel == Kernel::softmax;
  b.probe_is_key = model.probe_is_key;
  b.probe_label_uniform = model.probe_label_init == ProbeLabelInit::uniform;
  const std::size_t D = static_cast<std::size_t>(d + C);
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    b.offset.push_back(static_cast<int>(b.coeffs.size()));
    const auto& layer = model.layers[l];
    if (const auto* r = std::get_if<ReducedLayer<Rational>>(&layer)) {
      const auto& p = r->probe ? *r->probe : r->train;
      for (const auto* c : {&r->train, &p})
        for (const Rational* v : {&c->beta, &c->gamma, &c->alpha, &c->alpha_label}) b.coeffs.push_back(round_to<T>(*v));
      b.kind.push_back(kReducedLayer);
      b.heads.push_back(1);
    } else if (const auto* f = std::get_if<FullLayer<Rational>>(&layer)) {
      for (const auto& h : f->heads) {
        append_matrix(b.coeffs, equivariant_matrix(h.score, d, C));
        append_matrix(b.coeffs, equivariant_matrix(h.value, d, C));
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
        append_matrix(b.coeffs, h.score);
        append_matrix(b.coeffs, h.value);
      }
      b.kind.push_back(kDenseLayer);
      b.heads.push_back(static_cast<int>(dl.heads.size()));
    }
  }
  return b;
}

template BatchModel<float> make_batch_model<float>(const Model&, int, int);
template BatchModel<double> make_batch_model<double>(const Model&, int, int);

}  // namespace iclcert::gpu
