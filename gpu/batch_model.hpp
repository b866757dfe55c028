// A model flattened for the batch kernel (batch_kernel.hpp's ModelView): plain
// arrays of one arithmetic, which nvcc-compiled code can take without Boost.
// Full layers become dense heads M(kappa), M(nu) (numerics/model.hpp's
// equivariant_matrix); reduced layers keep their eight coefficients.
#pragma once

#include "gpu/batch_kernel.hpp"
#include "numerics/model.hpp"

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace iclcert::gpu {

template <class T>
struct BatchModel {
  int d = 0, C = 0;
  int softmax = 1, probe_is_key = 0, probe_label_uniform = 0;
  std::vector<int> kind, heads, offset;
  std::vector<T> coeffs;

  int layers() const { return static_cast<int>(kind.size()); }
  ModelView<T> view() const {
    return {d, C, layers(), softmax, probe_is_key, probe_label_uniform, kind.data(), heads.data(), offset.data(),
            coeffs.data(), static_cast<long>(coeffs.size())};
  }
};

// The model flattened with every exact coefficient q stored as convert(q) (a T):
// the one flattening behind make_batch_model and the interval tier's
// make_interval_model. Throws std::invalid_argument when a dense layer's size is
// not d + C.
template <class T, class Convert>
BatchModel<T> flatten_model(const Model& model, int d, int C, Convert&& convert) {
  BatchModel<T> b;
  b.d = d;
  b.C = C;
  b.softmax = model.kernel == Kernel::softmax;
  b.probe_is_key = model.probe_is_key;
  b.probe_label_uniform = model.probe_label_init == ProbeLabelInit::uniform;
  const std::size_t D = static_cast<std::size_t>(d + C);
  auto append = [&](const Matrix<Rational>& m) {
    for (std::size_t r = 0; r < m.rows(); ++r)
      for (std::size_t c = 0; c < m.cols(); ++c) b.coeffs.push_back(convert(m(r, c)));
  };
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    b.offset.push_back(static_cast<int>(b.coeffs.size()));
    const auto& layer = model.layers[l];
    if (const auto* r = std::get_if<ReducedLayer<Rational>>(&layer)) {
      const auto& p = r->probe ? *r->probe : r->train;
      for (const auto* c : {&r->train, &p})
        for (const Rational* v : {&c->beta, &c->gamma, &c->alpha, &c->alpha_label}) b.coeffs.push_back(convert(*v));
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

// Each coefficient rounded to nearest in T (once, from the exact rational).
// Throws std::invalid_argument when a dense layer's size is not d + C.
template <class T>
BatchModel<T> make_batch_model(const Model& model, int d, int C);

// The exact rational rounded to the nearest float (ties to even) in one step.
float nearest_float(const Rational& q);

// q rounded to nearest in the batch path's float type.
template <class T>
T round_to(const Rational& q) {
  if constexpr (sizeof(T) == sizeof(float)) return nearest_float(q);
  else return nearest_double(q);
}

}  // namespace iclcert::gpu
