// One layer of the model, in its three forms (spec sections 3 and 4,
// docs/formats.md). All three reduce to attend() with their own queries, keys and
// values; all queries are updated from the depth-t state simultaneously.
//
//   reduced : q_j = (beta_j x_j, gamma_j y_j), k_i = v_i = z_i,
//             x_j += alpha_j (A X)_j,  y_j += alpha'_j (A Y)_j
//             (coefficients of row j: the probe overrides for the probe row)
//   full    : per head, q_j = z_j, k_i = M(kappa) z_i, v_i = M(nu) z_i; z_j += sum_h (A_h V_h)_j
//   dense   : per head, q_j = z_j, k_i = S z_i,        v_i = V z_i
//
// The reduced form equals the full form with kappa = (beta,0,0,0,gamma,0),
// nu = (alpha,0,0,0,alpha',0) when there are no probe overrides (tested), since
// z_j^T M(kappa) z_i = beta <x_j,x_i> + gamma <y_j,y_i>.
#pragma once

#include "numerics/attention.hpp"
#include "numerics/model.hpp"
#include "numerics/state.hpp"

#include <variant>
#include <vector>

namespace iclcert {

struct LayerOptions {
  Kernel kernel = Kernel::softmax;
  bool probe_is_key = false;  // keys are the training tokens, and the probe too when set
};

template <Scalar T>
struct LayerResult {
  State<T> next;
  std::vector<Matrix<T>> attention;  // per head: (N+1) x n_keys, key i is token i
};

// M(theta) z in O(d + C), using M = [th1 I + th2 J, th3 1 1^T; th4 1 1^T, th5 I + th6 J]:
// x-part th1 x + (th2 sum(x) + th3 sum(y)) 1,  y-part th5 y + (th4 sum(x) + th6 sum(y)) 1.
template <Scalar T>
void apply_theta(const Theta<T>& th, int d, int C, std::span<const T> z, std::span<T> out) {
  T sx = from_int<T>(0), sy = from_int<T>(0);
  for (int k = 0; k < d; ++k) sx += z[k];
  for (int c = 0; c < C; ++c) sy += z[d + c];
  const T shift_x = th[1] * sx + th[2] * sy;
  const T shift_y = th[3] * sx + th[5] * sy;
  for (int k = 0; k < d; ++k) out[k] = th[0] * z[k] + shift_x;
  for (int c = 0; c < C; ++c) out[d + c] = th[4] * z[d + c] + shift_y;
}

template <Scalar T>
void apply_dense(const Matrix<T>& m, std::span<const T> z, std::span<T> out) {
  for (std::size_t r = 0; r < m.rows(); ++r) out[r] = dot<T>(m.row(r), z);
}

// Rows of the state that act as keys.
template <Scalar T>
int key_count(const State<T>& s, const LayerOptions& o) {
  return o.probe_is_key ? s.rows() : s.rows() - 1;
}

// Applies `f(z_i, out_i)` to every key token.
template <Scalar T, class F>
Matrix<T> map_keys(const State<T>& s, const LayerOptions& o, F&& f) {
  const int n = key_count(s, o);
  Matrix<T> out(n, s.d + s.C);
  for (int i = 0; i < n; ++i) f(s.Z.row(i), out.row(i));
  return out;
}

template <Scalar T>
LayerResult<T> apply_reduced(const State<T>& s, const ReducedLayer<T>& layer, const LayerOptions& o) {
  const auto coeffs = [&](int j) -> const ReducedCoefficients<T>& {
    return (j == s.probe_row() && layer.probe) ? *layer.probe : layer.train;
  };
  Matrix<T> Q(s.rows(), s.d + s.C);
  for (int j = 0; j < s.rows(); ++j) {
    const auto& c = coeffs(j);
    for (int k = 0; k < s.d; ++k) Q(j, k) = c.beta * s.Z(j, k);
    for (int k = s.d; k < s.d + s.C; ++k) Q(j, k) = c.gamma * s.Z(j, k);
  }
  Matrix<T> keys = map_keys(s, o, [](auto z, auto out) { std::copy(z.begin(), z.end(), out.begin()); });
  LayerResult<T> r{s, std::vector<Matrix<T>>(1)};
  const Matrix<T> agg = attend(Q, keys, keys, o.kernel, r.attention[0]);
  for (int j = 0; j < s.rows(); ++j) {
    const auto& c = coeffs(j);
    for (int k = 0; k < s.d; ++k) r.next.Z(j, k) += c.alpha * agg(j, k);
    for (int k = s.d; k < s.d + s.C; ++k) r.next.Z(j, k) += c.alpha_label * agg(j, k);
  }
  return r;
}

// Sums the heads' outputs onto the depth-t state; `keys_of(h)` / `values_of(h)`
// give head h's key and value maps as callables z -> out.
template <Scalar T, class KeyMap, class ValueMap>
LayerResult<T> apply_heads(const State<T>& s, std::size_t heads, const LayerOptions& o, KeyMap&& key_map,
                           ValueMap&& value_map) {
  LayerResult<T> r{s, std::vector<Matrix<T>>(heads)};
  for (std::size_t h = 0; h < heads; ++h) {
    Matrix<T> K = map_keys(s, o, [&](auto z, auto out) { key_map(h, z, out); });
    Matrix<T> V = map_keys(s, o, [&](auto z, auto out) { value_map(h, z, out); });
    const Matrix<T> agg = attend(s.Z, K, V, o.kernel, r.attention[h]);
    for (int j = 0; j < s.rows(); ++j)
      for (int k = 0; k < s.d + s.C; ++k) r.next.Z(j, k) += agg(j, k);
  }
  return r;
}

template <Scalar T>
LayerResult<T> apply_full(const State<T>& s, const FullLayer<T>& layer, const LayerOptions& o) {
  return apply_heads(
      s, layer.heads.size(), o,
      [&](std::size_t h, auto z, auto out) { apply_theta<T>(layer.heads[h].score, s.d, s.C, z, out); },
      [&](std::size_t h, auto z, auto out) { apply_theta<T>(layer.heads[h].value, s.d, s.C, z, out); });
}

template <Scalar T>
LayerResult<T> apply_dense_layer(const State<T>& s, const DenseLayer<T>& layer, const LayerOptions& o) {
  return apply_heads(
      s, layer.heads.size(), o,
      [&](std::size_t h, auto z, auto out) { apply_dense<T>(layer.heads[h].score, z, out); },
      [&](std::size_t h, auto z, auto out) { apply_dense<T>(layer.heads[h].value, z, out); });
}

template <Scalar T>
LayerResult<T> apply_layer(const State<T>& s, const Layer<T>& layer, const LayerOptions& o) {
  return std::visit(
      [&](const auto& l) -> LayerResult<T> {
        using L = std::decay_t<decltype(l)>;
        if constexpr (std::is_same_v<L, ReducedLayer<T>>) return apply_reduced(s, l, o);
        else if constexpr (std::is_same_v<L, FullLayer<T>>) return apply_full(s, l, o);
        else return apply_dense_layer(s, l, o);
      },
      layer);
}

}  // namespace iclcert
