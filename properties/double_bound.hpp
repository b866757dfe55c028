// The rounding bound of one layer in double (theory/equivariance.md, section
// "A tolerance for double"). Given the exact input state s (a double state is a
// set of exact dyadic values), it bounds entrywise |fl(layer(s)) - layer(s)|,
// to first order in the unit roundoff u = 2^-53, from the quantities of the run:
//
//   sigma_ji = |z_j|^T |S_j| |z_i|     (score magnitudes; |S| entrywise, for M(theta)
//                                       with |th1| + |th2| on the diagonal)
//   nu_jik   = (|V_j| |z_i|)_k         (value magnitudes)
//   score error   |ds_ji| <= g(2D+6) sigma_ji
//   softmax       |dA_ji| <= A_ji (expm1(2 Delta_j) + g(n+4)),
//                 Delta_j = g(2D+6) max_i sigma_ji + 2u max_i sigma_ji   (shift s - m rounded)
//   linear        |dA_ji| <= g(2D+6) sigma_ji / n + u |A_ji|
//   output        E_jk = sum_h sum_i (|dA_hji| + g(n+D+4) |A_hji|) nu_hjik
//                        + g(H+1) (|z_jk| + sum_h sum_i |A_hji| nu_hjik)
// with g(m) = m u / (1 - m u), n the number of keys, D = d + C, H the heads. The
// bound grows with the state's magnitude (sigma is quadratic in it, and enters the
// softmax through an exponential): at |x| ~ 1e8 a softmax row may legitimately
// differ by O(1) between two summation orders, and the bound says so.
#pragma once

#include "numerics/layer.hpp"
#include "numerics/scalar_double.hpp"

#include <cmath>
#include <limits>

namespace iclcert::properties {

inline double gamma_n(double m) {
  const double u = std::ldexp(1.0, -53);
  return m * u / (1 - m * u);
}

namespace detail {

// |M(theta)| bounded entrywise by the components, as apply_theta computes them.
inline Matrix<double> abs_theta_matrix(const Theta<double>& th, int d, int C) {
  Theta<double> a;
  for (int k = 0; k < 6; ++k) a[k] = std::abs(th[k]);
  return equivariant_matrix(a, d, C);
}

inline Matrix<double> abs_matrix(const Matrix<double>& m) {
  return m.map([](double v) { return std::abs(v); });
}

inline Matrix<double> diag_blocks(double x, double y, int d, int C) {
  Matrix<double> m(d + C, d + C, 0.0);
  for (int k = 0; k < d + C; ++k) m(k, k) = std::abs(k < d ? x : y);
  return m;
}

struct AbsHead {
  Matrix<double> score_train, score_probe, value_train, value_probe;
};

inline std::vector<AbsHead> abs_heads(const Layer<double>& layer, int d, int C) {
  std::vector<AbsHead> out;
  if (const auto* r = std::get_if<ReducedLayer<double>>(&layer)) {
    const auto& t = r->train;
    const auto& p = r->probe ? *r->probe : r->train;
    out.push_back({diag_blocks(t.beta, t.gamma, d, C), diag_blocks(p.beta, p.gamma, d, C),
                   diag_blocks(t.alpha, t.alpha_label, d, C), diag_blocks(p.alpha, p.alpha_label, d, C)});
  } else if (const auto* f = std::get_if<FullLayer<double>>(&layer)) {
    for (const auto& h : f->heads) {
      auto s = abs_theta_matrix(h.score, d, C), v = abs_theta_matrix(h.value, d, C);
      out.push_back({s, s, v, v});
    }
  } else {
    for (const auto& h : std::get<DenseLayer<double>>(layer).heads) {
      auto s = abs_matrix(h.score), v = abs_matrix(h.value);
      out.push_back({s, s, v, v});
    }
  }
  return out;
}

inline std::vector<double> times_abs(const Matrix<double>& m, std::span<const double> z) {
  std::vector<double> out(m.rows(), 0.0);
  for (std::size_t r = 0; r < m.rows(); ++r)
    for (std::size_t c = 0; c < m.cols(); ++c) out[r] += m(r, c) * std::abs(z[c]);
  return out;
}

}  // namespace detail

// Entrywise bound on |fl(layer(s)) - layer(s)| ((N+1) x (d+C)); `attention` is the
// per-head attention of the double run on s.
inline Matrix<double> layer_rounding_bound(const State<double>& s, const Layer<double>& layer,
                                           const LayerOptions& o, const std::vector<Matrix<double>>& attention) {
  const int D = s.d + s.C, rows = s.rows(), n = key_count(s, o);
  const double u = std::ldexp(1.0, -53);
  const auto heads = detail::abs_heads(layer, s.d, s.C);
  const double g_score = gamma_n(2.0 * D + 6), g_agg = gamma_n(n + D + 4.0), g_norm = gamma_n(n + 4.0);
  const double g_out = gamma_n(static_cast<double>(heads.size()) + 1);
  Matrix<double> E(rows, D, 0.0), mass(rows, D, 0.0);
  for (std::size_t h = 0; h < heads.size(); ++h) {
    const auto& A = attention[h];
    for (int j = 0; j < rows; ++j) {
      const bool probe = j == s.probe_row();
      const auto& S = probe ? heads[h].score_probe : heads[h].score_train;
      const auto& V = probe ? heads[h].value_probe : heads[h].value_train;
      std::vector<double> sigma(n);
      double sigma_max = 0;
      for (int i = 0; i < n; ++i) {
        // sigma_ji = sum_{a,b} |z_j a| |S_ab| |z_i b|
        const auto Szi = detail::times_abs(S, s.Z.row(i));
        double v = 0;
        for (int a = 0; a < D; ++a) v += std::abs(s.Z(j, a)) * Szi[a];
        sigma[i] = v;
        sigma_max = std::max(sigma_max, v);
      }
      const double delta = g_score * sigma_max + 2 * u * sigma_max;
      for (int i = 0; i < n; ++i) {
        const double a = std::abs(A(j, i));
        const double dA = o.kernel == Kernel::softmax ? a * (std::expm1(2 * delta) + g_norm)
                                                      : g_score * sigma[i] / n + u * a;
        const auto nu = detail::times_abs(V, s.Z.row(i));
        for (int k = 0; k < D; ++k) {
          if (nu[k] == 0) continue;  // an infinite dA times 0 would be NaN
          E(j, k) += (dA + g_agg * a) * nu[k];
          mass(j, k) += a * nu[k];
        }
      }
    }
  }
  for (int j = 0; j < rows; ++j)
    for (int k = 0; k < D; ++k) E(j, k) += g_out * (std::abs(s.Z(j, k)) + mass(j, k));
  return E;
}

}  // namespace iclcert::properties
