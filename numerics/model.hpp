// The model of spec section 3 (full equivariant layer), section 4 (reduced
// recursion) and docs/formats.md (dense layers), generic over the number type.
//
// Files are read into BasicModel<Rational> (exact); a run converts it once to
// BasicModel<T> of its arithmetic with convert_model.
#pragma once

#include "numerics/matrix.hpp"
#include "numerics/rational.hpp"

#include <array>
#include <optional>
#include <variant>
#include <vector>

namespace iclcert {

enum class Kernel { softmax, linear };
enum class ProbeLabelInit { zero, uniform };

// Coefficients of the reduced recursion for one row kind (training or probe).
template <class Num>
struct ReducedCoefficients {
  Num beta, gamma, alpha, alpha_label;
};

template <class Num>
struct ReducedLayer {
  ReducedCoefficients<Num> train;
  std::optional<ReducedCoefficients<Num>> probe;  // defaults to `train`
};

// theta = (th1..th6) of M(theta), in the order of spec section 3.
template <class Num>
using Theta = std::array<Num, 6>;

template <class Num>
struct FullHead {
  Theta<Num> score, value;
};
template <class Num>
struct FullLayer {
  std::vector<FullHead<Num>> heads;
};

template <class Num>
struct DenseHead {
  Matrix<Num> score, value;  // (d+C) x (d+C)
};
template <class Num>
struct DenseLayer {
  std::vector<DenseHead<Num>> heads;
};

template <class Num>
using Layer = std::variant<ReducedLayer<Num>, FullLayer<Num>, DenseLayer<Num>>;

template <class Num>
struct BasicModel {
  Kernel kernel = Kernel::softmax;
  ProbeLabelInit probe_label_init = ProbeLabelInit::zero;
  bool probe_is_key = false;
  std::vector<Layer<Num>> layers;
  // The split of dense matrices' size into d features and C classes, as the
  // model file records it (docs/formats.md); 0 when the file does not say.
  int d = 0, C = 0;
};

using Model = BasicModel<Rational>;

// Applies `f` to every number of the model.
template <class F>
auto convert_model(const Model& model, F&& f) {
  using T = decltype(f(std::declval<const Rational&>()));
  auto coeffs = [&](const ReducedCoefficients<Rational>& c) {
    return ReducedCoefficients<T>{f(c.beta), f(c.gamma), f(c.alpha), f(c.alpha_label)};
  };
  auto theta = [&](const Theta<Rational>& t) {
    Theta<T> out;
    for (std::size_t k = 0; k < 6; ++k) out[k] = f(t[k]);
    return out;
  };
  BasicModel<T> out{model.kernel, model.probe_label_init, model.probe_is_key, {}, model.d, model.C};
  for (const auto& layer : model.layers) {
    if (const auto* r = std::get_if<ReducedLayer<Rational>>(&layer)) {
      ReducedLayer<T> o{coeffs(r->train), std::nullopt};
      if (r->probe) o.probe = coeffs(*r->probe);
      out.layers.push_back(o);
    } else if (const auto* fl = std::get_if<FullLayer<Rational>>(&layer)) {
      FullLayer<T> o;
      for (const auto& h : fl->heads) o.heads.push_back({theta(h.score), theta(h.value)});
      out.layers.push_back(o);
    } else {
      const auto& dl = std::get<DenseLayer<Rational>>(layer);
      DenseLayer<T> o;
      for (const auto& h : dl.heads) o.heads.push_back({h.score.map(f), h.value.map(f)});
      out.layers.push_back(o);
    }
  }
  return out;
}

// The (d+C) x (d+C) matrix M(theta) of spec section 3, for building dense layers.
template <class Num>
Matrix<Num> equivariant_matrix(const Theta<Num>& th, int d, int C) {
  const int D = d + C;
  Matrix<Num> m(D, D, Num(0));
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) {
      bool rx = r < d, cx = c < d;
      if (rx && cx) m(r, c) = (r == c ? th[0] + th[1] : th[1]);
      else if (rx && !cx) m(r, c) = th[2];
      else if (!rx && cx) m(r, c) = th[3];
      else m(r, c) = (r == c ? th[4] + th[5] : th[5]);
    }
  return m;
}

}  // namespace iclcert
