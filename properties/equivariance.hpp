// Claim E1 (spec section 6) on a state: for g = (pi, sigma, tau),
//   layer(g.s) == g.layer(s)   at every layer of a model,
// the probe row (which tau leaves in place) included, so the probe's output is
// invariant under token permutations. Three ways to compare:
//   e1_exact      exact equality (Rational, linear kernel): any difference is a bug;
//   e1_bounded    double: |difference| <= E(g.s) + g.E(s), E the rounding bound of
//                 double_bound.hpp, times a safety factor 2 for the first-order terms;
//   e1_measure    any arithmetic: the largest difference relative to the size of
//                 the layer's update, for a user's weights (user_weights.hpp).
// Each layer is checked on the state the model itself reaches at that depth.
#pragma once

#include "properties/double_bound.hpp"
#include "properties/group_action.hpp"

#include <cmath>
#include <functional>
#include <optional>
#include <string>

namespace iclcert::properties {

// Layer number `l` applied to a state.
template <Scalar T>
using LayerFunction = std::function<State<T>(const State<T>&, std::size_t)>;

template <Scalar T>
LayerFunction<T> model_layers(const BasicModel<T>& m) {
  return [m](const State<T>& s, std::size_t l) {
    return apply_layer(s, m.layers[l], LayerOptions{m.kernel, m.probe_is_key}).next;
  };
}

struct Violation {
  std::size_t layer = 0;
  int row = 0, col = 0;            // in g.s coordinates
  std::string lhs, rhs;            // layer(g.s) and g.layer(s) at that entry
  double difference = 0;           // |lhs - rhs|
  double tolerance = 0;            // 0 for exact comparisons
  std::string describe() const;
};

inline std::string Violation::describe() const {
  std::string s = "layer " + std::to_string(layer + 1) + ", row " + std::to_string(row) + ", column " +
                  std::to_string(col) + ": layer(g.state) = " + lhs + " but g.layer(state) = " + rhs;
  if (tolerance > 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " (difference %.3g > tolerance %.3g)", difference, tolerance);
    s += buf;
  }
  return s;
}

template <Scalar T>
std::optional<Violation> e1_exact(const LayerFunction<T>& layer, std::size_t layers, State<T> s,
                                  const GroupElement& g) {
  for (std::size_t l = 0; l < layers; ++l) {
    const State<T> next = layer(s, l);
    const Matrix<T> lhs = layer(act(g, s), l).Z;
    const Matrix<T> rhs = act(g, next).Z;
    for (std::size_t j = 0; j < lhs.rows(); ++j)
      for (std::size_t k = 0; k < lhs.cols(); ++k)
        if (sign_of(T(lhs(j, k) - rhs(j, k))) != Sign::zero)
          return Violation{l,
                           static_cast<int>(j),
                           static_cast<int>(k),
                           ScalarTraits<T>::to_string(lhs(j, k)),
                           ScalarTraits<T>::to_string(rhs(j, k)),
                           std::abs(ScalarTraits<T>::to_double(lhs(j, k) - rhs(j, k))),
                           0};
    s = next;
  }
  return std::nullopt;
}

// Whether every entry of every state is finite (double runs at extreme
// magnitudes may overflow; such cases are discarded, not judged).
inline bool all_finite(const Matrix<double>& m) {
  for (double v : m.data())
    if (!std::isfinite(v)) return false;
  return true;
}

inline constexpr double kBoundSafety = 2.0;

// nullopt: held; a Violation otherwise. Throws std::domain_error on non-finite
// values, and when the bound itself is infinite (scores so large that double
// cannot resolve the softmax at all): such cases are out of double's reach.
inline std::optional<Violation> e1_bounded(const BasicModel<double>& m, State<double> s, const GroupElement& g) {
  const LayerOptions o{m.kernel, m.probe_is_key};
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const State<double> gs = act(g, s);
    const LayerResult<double> plain = apply_layer(s, m.layers[l], o);
    const LayerResult<double> moved = apply_layer(gs, m.layers[l], o);
    if (!all_finite(plain.next.Z) || !all_finite(moved.next.Z)) throw std::domain_error("non-finite state");
    const Matrix<double> bound_moved = layer_rounding_bound(gs, m.layers[l], o, moved.attention);
    const Matrix<double> bound_plain = act_on_tokens(g, layer_rounding_bound(s, m.layers[l], o, plain.attention), s.d);
    const Matrix<double> rhs = act(g, plain.next).Z;
    for (std::size_t j = 0; j < rhs.rows(); ++j)
      for (std::size_t k = 0; k < rhs.cols(); ++k) {
        const double diff = std::abs(moved.next.Z(j, k) - rhs(j, k));
        const double tol = kBoundSafety * (bound_moved(j, k) + bound_plain(j, k)) + 1e-290;
        if (!std::isfinite(tol)) throw std::domain_error("the rounding bound is infinite");
        if (!(diff <= tol))
          return Violation{l,
                           static_cast<int>(j),
                           static_cast<int>(k),
                           ScalarTraits<double>::to_string(moved.next.Z(j, k)),
                           ScalarTraits<double>::to_string(rhs(j, k)),
                           diff,
                           tol};
      }
    s = plain.next;
  }
  return std::nullopt;
}

// The largest |layer(g.s) - g.layer(s)| over every layer and entry, divided by the
// largest |layer(s) - s| of that layer (the size of the update; 1 when it is 0).
struct Measure {
  double relative = 0;
  std::size_t layer = 0;
  int row = 0, col = 0;
};

template <Scalar T>
Measure e1_measure(const LayerFunction<T>& layer, std::size_t layers, State<T> s, const GroupElement& g) {
  using Tr = ScalarTraits<T>;
  Measure worst;
  for (std::size_t l = 0; l < layers; ++l) {
    const State<T> next = layer(s, l);
    const Matrix<T> lhs = layer(act(g, s), l).Z;
    const Matrix<T> rhs = act(g, next).Z;
    double update = 0;
    for (std::size_t j = 0; j < s.Z.rows(); ++j)
      for (std::size_t k = 0; k < s.Z.cols(); ++k)
        update = std::max(update, std::abs(Tr::to_double(T(next.Z(j, k) - s.Z(j, k)))));
    if (update == 0) update = 1;
    for (std::size_t j = 0; j < lhs.rows(); ++j)
      for (std::size_t k = 0; k < lhs.cols(); ++k) {
        const double rel = std::abs(Tr::to_double(T(lhs(j, k) - rhs(j, k)))) / update;
        if (rel > worst.relative || !std::isfinite(rel))
          worst = {rel, l, static_cast<int>(j), static_cast<int>(k)};
      }
    s = next;
  }
  return worst;
}

}  // namespace iclcert::properties
